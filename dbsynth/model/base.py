"""What every multi-table synthesizer shares: settings, the fitted models, progress, random streams, the
checks of ``sample`` / ``iter_sample`` and model files.

A synthesizer is a fit procedure (its ``fit``) plus a :class:`~dbsynth.model.strategy.TableStrategy` (its
:meth:`Synthesizer.strategy`); sampling is the engine's (``sample/engine.py``), the same for all.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from .. import progress
from ..batch import Batch
from ..errors import BadInputError, ModelFileError, NotFittedError
from ..metadata import Metadata
from .fold import stable_seed
from .strategy import TableStrategy

__all__ = ["DEFAULT_BATCH_ROWS", "Synthesizer"]

#: Rows per batch of ``iter_sample`` when not told otherwise.
DEFAULT_BATCH_ROWS = 50_000

S = TypeVar("S", bound="Synthesizer")


def _fresh_seed() -> int:
    entropy = np.random.SeedSequence().entropy  # an int: no entropy was passed in
    assert isinstance(entropy, int)
    return entropy % (2**63)


class Synthesizer:
    """Base of :class:`~dbsynth.model.hma.HMASynthesizer` and the segment-based synthesizers.

    Args:
        metadata: the tables (validated on fit).
        locales: Faker locales for PII columns.
        verbose: report progress through :mod:`dbsynth.progress`.
        seed: seed of every random draw (None: fresh entropy, fixed at construction).
        min_category_count: categorical labels seen fewer times are never stored (generated labels take their
            place).
    """

    def __init__(
        self,
        metadata: Metadata,
        locales: list[str] | None = None,
        verbose: bool = True,
        seed: int | None = None,
        min_category_count: int = 5,
    ) -> None:
        self.metadata = metadata.copy()
        self.locales = list(locales or ["en_US"])
        self.verbose = verbose
        self.seed = int(seed) if seed is not None else _fresh_seed()
        self.min_category_count = int(min_category_count)
        self._table_parameters: dict[str, dict[str, Any]] = {
            t: self.default_table_parameters() for t in self.metadata.tables
        }
        self._models: dict[str, dict] | None = None

    # ---- settings -----------------------------------------------------------------------------------
    def default_table_parameters(self) -> dict[str, Any]:
        """The settings of a table nobody set (a fresh copy)."""
        return {}

    def get_metadata(self) -> Metadata:
        """A copy of the metadata."""
        return self.metadata.copy()

    def table_settings(self, table_name: str) -> dict[str, Any]:
        """The stored settings of one table, as set (the fit reads them; a copy)."""
        return copy.deepcopy(self._table_parameters[table_name])

    def get_parameters(self) -> dict[str, Any]:
        """Constructor settings and per-table settings."""
        return {**self._settings(), "tables": copy.deepcopy(self._table_parameters)}

    def _settings(self) -> dict[str, Any]:
        """The constructor's settings (what :meth:`from_parameters` passes back)."""
        return {
            "locales": list(self.locales),
            "verbose": self.verbose,
            "seed": self.seed,
            "min_category_count": self.min_category_count,
        }

    @classmethod
    def from_parameters(
        cls: type[S], metadata: Metadata, parameters: dict[str, Any], models: dict[str, dict] | None = None
    ) -> S:
        """A synthesizer with the settings of :meth:`get_parameters` and, when given, fitted ``models`` (what
        :meth:`fitted_models` returned; model files are read this way)."""
        accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "metadata"}
        syn = cls(metadata, **{k: v for k, v in parameters.items() if k in accepted})
        syn._table_parameters = copy.deepcopy(parameters["tables"])
        syn._models = models
        return syn

    # ---- fitted state -------------------------------------------------------------------------------
    def fitted_models(self) -> dict[str, dict]:
        """The per-table models learned by ``fit`` (JSON values and arrays; what a model file stores).

        Raises:
            NotFittedError: before fit.
        """
        if self._models is None:
            raise NotFittedError("the synthesizer is not fitted", hint="Call fit(data) first.")
        return self._models

    @property
    def is_fitted(self) -> bool:
        """Whether ``fit`` (or a model file) gave the synthesizer its models."""
        return self._models is not None

    def progress_task(self, stage: str, table: str, total: int | None) -> AbstractContextManager[progress.Task]:
        """Progress of one stage of one table (silent when ``verbose`` is False)."""
        if self.verbose:
            return progress.task(stage, table=table, total=total)
        return contextlib.nullcontext(progress.Task(stage, table, total))

    def rng(self, *parts: object) -> np.random.Generator:
        """The random stream named by ``parts`` under this synthesizer's seed (the same in every process)."""
        return np.random.default_rng(stable_seed(self.seed, *parts))

    # ---- sample -------------------------------------------------------------------------------------
    def strategy(self) -> TableStrategy:
        """How this synthesizer draws each table (see :mod:`dbsynth.model.strategy`).

        Raises:
            NotFittedError: before fit.
        """
        raise NotImplementedError

    def _unlinked(self, num_rows: dict[str, int]) -> set[str]:
        """Tables drawn without their driving parent: none (a child's size follows its parents)."""
        return set()

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

    def _engine(self):
        # The facade composes the fit (this package) with the sampling stage: this is the one place the model
        # package reaches it, at call time, so that importing a model never loads the engine.
        from importlib import import_module

        engine = import_module("dbsynth.sample.engine").Engine
        return engine(self.metadata, self.strategy(), self.seed, self.progress_task)

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
        return self._engine().sample(scale, rows, unlinked=self._unlinked(rows))

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
        return self._engine().batches(scale, rows, int(batch_rows), unlinked=self._unlinked(rows))

    # ---- persistence ----------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the fitted model to ``path`` (zip of JSON + npz; no source rows).

        Raises:
            NotFittedError: before fit.
        """
        from .store import save_synthesizer

        return save_synthesizer(self, path)

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
        from .store import load_synthesizer

        syn = load_synthesizer(path)
        if isinstance(syn, cls):
            return syn
        if isinstance(syn, cls.family()):
            return cls.from_parameters(syn.metadata, syn.get_parameters(), syn.fitted_models())
        raise ModelFileError(f"'{Path(path).name}' holds a {type(syn).__name__}, not a {cls.__name__}")
