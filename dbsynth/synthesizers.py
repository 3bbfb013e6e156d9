"""The public synthesizers: a fit procedure (``dbsynth.model``) composed with the sampling engine
(``dbsynth.sample``).

The model package learns and stores models and never samples; the sample package draws rows through a
fitted model's :class:`~dbsynth.model.strategy.TableStrategy` and never fits. This module is the one place
that joins them (besides the pipeline), so each public class is :class:`Synthesizer` (the checks of
``sample`` / ``iter_sample``, the engine, model files) plus its fit class:

- :class:`HMASynthesizer` = :class:`~dbsynth.model.hma.HMAFit`; :class:`HMA1` its legacy SDV interface;
- :class:`HSASynthesizer` = :class:`~dbsynth.model.hsa.HSAFit`;
- :class:`IndependentSynthesizer` = :class:`~dbsynth.model.independent.IndependentFit`.

Model files record the public class name (:func:`dbsynth.model.store.save`); :func:`load_synthesizer` hands
the store the classes those names stand for.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from .batch import Batch
from .errors import BadInputError, ModelFileError
from .model import store
from .model.base import FittedModel
from .model.hma import HMAFit
from .model.hsa import HSAFit
from .model.independent import IndependentFit
from .model.records import TableModel
from .sample.engine import DEFAULT_BATCH_ROWS, Engine

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "HMA1",
    "HMASynthesizer",
    "HSASynthesizer",
    "IndependentSynthesizer",
    "Synthesizer",
    "load_synthesizer",
]

S = TypeVar("S", bound="Synthesizer")


class Synthesizer(FittedModel):
    """What every public synthesizer adds to its fit: ``sample``, ``iter_sample`` (the parent-first engine,
    the same for all) and :meth:`load`. A public class is this plus a fit class (``class X(Synthesizer,
    XFit)``); the fit supplies the models, the :meth:`~dbsynth.model.base.FittedModel.strategy` and the
    tables drawn without their parent (:meth:`~dbsynth.model.base.FittedModel.unlinked_tables`).
    """

    def _sample_args(self, scale: float, num_rows: dict[str, int] | int | None) -> dict[str, int]:
        self.fitted_models()
        if scale < 0:
            raise BadInputError("scale must be >= 0")
        if isinstance(num_rows, (int, np.integer)):
            num_rows = {r: int(num_rows) for r in self.metadata.graph().roots()}
        out = dict(num_rows or {})
        for t in out:
            self.metadata.table(t)
        return out

    def _engine(self) -> Engine:
        return Engine(self.metadata, self.strategy(), self.seed, self.progress_task, rules=self.rules())

    def sample(self, scale: float = 1.0, num_rows: dict[str, int] | int | None = None) -> dict[str, pd.DataFrame]:
        """Synthetic rows for every table, parent-first, following the frame contract.

        Args:
            scale: size of each root table relative to the source, at least one row at any positive scale when
                the source has rows (children follow their parents; a child of an empty table gets no rows, or
                NULL where its key allows).
            num_rows: rows per root table (``{table: n}``, or one int for every root), overriding ``scale``.

        Returns:
            One frame per table, in parent-first order.

        Raises:
            NotFittedError: before fit.
            BadInputError: for a negative scale.
        """
        rows = self._sample_args(scale, num_rows)
        return self._engine().sample(scale, rows, unlinked=self.unlinked_tables(rows))

    def iter_sample(
        self, scale: float = 1.0, num_rows: dict[str, int] | int | None = None, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[Batch]:
        """Synthetic rows as :class:`~dbsynth.batch.Batch` records of about ``batch_rows`` rows, parent-first.

        Every batch of a parent comes before any batch of its children, so the batches can be written (see
        :func:`dbsynth.write`) and freed as they come: memory holds one batch plus, per parent table, its keys
        and the few figures per row its children are drawn from. Keys and unique constraints stay unique and
        references valid across batches (a unique column that is neither a key nor generated distinct costs
        8 bytes per row sent, the hashes later batches are checked against). A batch of a child holds the
        children of whole parents, so one parent with more children than ``batch_rows`` makes a larger batch.

        Foreign keys deferred to break a cycle whose parent table comes later are sent at the end as batches
        of kind :attr:`~dbsynth.batch.BatchKind.UPDATE` (the child's primary key plus those columns): the
        writer fills them after every row exists. A batch unpacks as ``(table, frame)``.

        Args:
            scale: size of each root table relative to the source.
            num_rows: rows per root table, overriding ``scale``.
            batch_rows: rows per batch (at least 1).

        Yields:
            Batches following the frame contract.

        Raises:
            NotFittedError: before fit.
            BadInputError: for a negative scale or ``batch_rows`` below 1.
        """
        rows = self._sample_args(scale, num_rows)
        if batch_rows < 1:
            raise BadInputError("batch_rows must be at least 1")
        return self._engine().batches(scale, rows, int(batch_rows), unlinked=self.unlinked_tables(rows))

    @classmethod
    def family(cls) -> type[Synthesizer]:
        """The class whose model files :meth:`load` turns into this class (itself unless a subclass only
        changes the interface, as HMA1 does)."""
        return cls

    @classmethod
    def load(cls: type[S], path: str | Path) -> S:
        """Read a model written by :meth:`save`.

        Raises:
            ModelFileError: for a corrupted, foreign or newer file, or a model of another kind.
        """
        syn = load_synthesizer(path)
        if isinstance(syn, cls):
            return syn
        if isinstance(syn, cls.family()):
            return cls.from_parameters(syn.metadata, syn.get_parameters(), syn.fitted_models(),
                                       rules=syn.rule_state())
        raise ModelFileError(f"'{Path(path).name}' holds a {type(syn).__name__}, not a {cls.__name__}")


class HMASynthesizer(Synthesizer, HMAFit):
    """Multi-table synthesizer: a Gaussian copula per table, children folded into parents (see
    :mod:`dbsynth.model.hma`). ``fit`` takes frames or streamed table sources.

    The constructor is the fit's (:class:`~dbsynth.model.hma.HMAFit`: its arguments and defaults).
    """

    @classmethod
    def family(cls) -> type[Synthesizer]:
        """HMA model files load as HMASynthesizer or HMA1 alike (HMA1 only changes the interface)."""
        return HMASynthesizer


class HMA1(HMASynthesizer):
    """The legacy interface of SDV's HMA1 guide.

    ``fit(tables)``; ``sample()`` every table at original size; ``sample(num_rows=5)`` sizes root tables;
    ``sample('sessions', num_rows=5)`` that table and its descendants; ``sample_children=False`` one frame.
    """

    def sample(  # type: ignore[override]
        self,
        table_name: str | None = None,
        num_rows: int | None = None,
        sample_children: bool = True,
        scale: float = 1.0,
    ):
        """Sample (see the class docstring).

        Args:
            table_name: a table to sample (with its descendants), or None for the whole database.
            num_rows: rows of ``table_name`` (or of each root table when None).
            sample_children: False returns only ``table_name``'s frame.
            scale: size relative to the source when ``num_rows`` is None.

        Returns:
            A dict of frames, or one frame with ``sample_children=False``.

        Raises:
            NotFittedError: before fit.
        """
        models = self.fitted_models()
        if table_name is None:
            return super().sample(scale, num_rows)
        self.metadata.table(table_name)
        graph = self.metadata.graph()
        n = num_rows if num_rows is not None else round(models[table_name].n_rows * scale)
        only = [table_name] + (graph.descendants(table_name) if sample_children else [])
        # references to tables outside the sample get keys of their parents' generated key range
        out = self._engine().sample(scale, {table_name: int(n)}, only=only, forced_roots={table_name})
        self._fill_outside_refs(models, out, only)
        return out if sample_children else out[table_name]

    def _fill_outside_refs(self, models: Mapping[str, TableModel], out: dict[str, pd.DataFrame],
                           only: list[str]) -> None:
        for t in only:
            table = self.metadata.tables[t]
            frame = out[t]
            rng = self.rng("outside", t)
            for fk in table.foreign_keys:
                if fk.ref_table in only:
                    continue
                pn = max(models[fk.ref_table].n_rows, 1)
                for c in fk.columns:
                    frame[c] = pd.Series(rng.integers(1, pn + 1, len(frame)), dtype="int64")


class HSASynthesizer(Synthesizer, HSAFit):
    """Multi-table synthesizer: segments per table, parent-child relations learned segment to segment (see
    :mod:`dbsynth.model.segmented`). ``fit`` takes in-memory frames.

    The constructor is the fit's (:class:`~dbsynth.model.hsa.HSAFit`: its arguments and defaults).
    """


class IndependentSynthesizer(Synthesizer, IndependentFit):
    """Multi-table synthesizer that models each table on its own: within-table statistics plus the learned
    children-per-parent law, nothing of a parent's values reaches its children (see
    :mod:`dbsynth.model.independent`). ``fit`` takes in-memory frames.

    The constructor is the fit's (:class:`~dbsynth.model.independent.IndependentFit`: its arguments and defaults).
    """


#: The class each class name recorded in a model file stands for (what :func:`dbsynth.model.store.save`
#: writes: the public class's name, unchanged since the first format version).
CLASSES: dict[str, type[Synthesizer]] = {
    cls.__name__: cls for cls in (HMASynthesizer, HMA1, HSASynthesizer, IndependentSynthesizer)
}


def load_synthesizer(path: str | Path, seed: int | None = None, max_bytes: int | None = None) -> Synthesizer:
    """Read a synthesizer written by ``synthesizer.save``.

    Args:
        path: the model file.
        seed: the seed of the loaded synthesizer's draws; None keeps the one it was saved with (so the same
            file gives the same sample), an integer makes another sample from the same model.
        max_bytes: most bytes the file may inflate to (None: :data:`dbsynth.model.store.MAX_MODEL_BYTES`).

    Returns:
        The fitted synthesizer, of the class it was saved as (HMASynthesizer, HMA1, HSASynthesizer or
        IndependentSynthesizer).

    Raises:
        ModelFileError: when the file is missing, corrupted, not a dbsynth model, of an invalid or newer
            format, or larger than ``max_bytes`` once inflated.
    """
    return store.load(path, classes=CLASSES, seed=seed, max_bytes=max_bytes)
