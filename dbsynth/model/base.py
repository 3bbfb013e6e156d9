"""What every fit procedure shares: settings, the fitted models, progress, random streams and model files.

A fit (:class:`FittedModel`) learns per-table models and hands out a
:class:`~dbsynth.model.strategy.TableStrategy` (its :meth:`FittedModel.strategy`) saying how its tables are
drawn. It never samples: the sampling engine (``sample/engine.py``) does, and the public synthesizers
(``dbsynth/synthesizers.py``) compose the two, so this package never depends on the sampling stage.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from .. import progress
from ..errors import NotFittedError
from ..metadata import Metadata
from .fold import stable_seed
from .records import TableModel
from .strategy import TableStrategy

__all__ = ["FittedModel"]

S = TypeVar("S", bound="FittedModel")


def _fresh_seed() -> int:
    entropy = np.random.SeedSequence().entropy  # an int: no entropy was passed in
    assert isinstance(entropy, int)
    return entropy % (2**63)


class FittedModel:
    """Base of the fit procedures (:class:`~dbsynth.model.hma.HMAFit` and the segment-based ones).

    Args:
        metadata: the tables (validated on fit).
        locales: Faker locales for PII columns.
        verbose: report progress through :mod:`dbsynth.progress`.
        seed: seed of every random draw (None: fresh entropy, fixed at construction).
        min_category_count: categorical labels seen fewer times are never stored (generated labels take their
            place).
    """

    #: Whether ``fit`` takes streamed :class:`~dbsynth.sources.TableSource` records and stays within a memory
    #: budget (``fit(sources, sample_rows=...)``); False: it wants every table as an in-memory frame.
    fits_from_sources: ClassVar[bool] = False

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
        self._models: dict[str, TableModel] | None = None

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
        cls: type[S], metadata: Metadata, parameters: dict[str, Any], models: Mapping[str, TableModel] | None = None
    ) -> S:
        """An instance with the settings of :meth:`get_parameters` and, when given, fitted ``models`` (what
        :meth:`fitted_models` returned; model files are read this way, through
        :meth:`~dbsynth.model.records.TableModel.from_dict`)."""
        accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "metadata"}
        syn = cls(metadata, **{k: v for k, v in parameters.items() if k in accepted})
        syn._table_parameters = copy.deepcopy(parameters["tables"])
        syn._models = None if models is None else dict(models)
        return syn

    # ---- fitted state -------------------------------------------------------------------------------
    def fitted_models(self) -> dict[str, TableModel]:
        """The per-table models learned by ``fit`` (what a model file stores, through their ``to_dict``).

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
        """The random stream named by ``parts`` under this model's seed (the same in every process)."""
        return np.random.default_rng(stable_seed(self.seed, *parts))

    # ---- sampling inputs ------------------------------------------------------------------------------
    def strategy(self) -> TableStrategy:
        """How this fit's tables are drawn (see :mod:`dbsynth.model.strategy`).

        Raises:
            NotFittedError: before fit.
        """
        raise NotImplementedError

    def unlinked_tables(self, num_rows: Mapping[str, int]) -> set[str]:
        """Tables sized by ``num_rows`` that are drawn without their driving parent: none here (a child's size
        follows its parents)."""
        return set()

    # ---- persistence ----------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the fitted model to ``path`` (zip of JSON + npz; no source rows).

        Raises:
            NotFittedError: before fit.
        """
        from .store import save

        return save(self, path)
