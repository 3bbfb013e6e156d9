"""What every fit procedure shares: settings, the fitted models, the rules of the data, progress, random streams
and model files.

A fit (:class:`FittedModel`) learns per-table models and hands out a
:class:`~dbsynth.model.strategy.TableStrategy` (its :meth:`FittedModel.strategy`) saying how its tables are
drawn. It never samples: the sampling engine (``sample/engine.py``) does, and the public synthesizers
(``dbsynth/synthesizers.py``) compose the two, so this package never depends on the sampling stage.

Every fit also keeps the rules of the data (issue 17): the user's constraints (:meth:`FittedModel.add_constraints`,
SDV's names, :mod:`dbsynth.constraints`), the rules discovered in the real rows at fit time
(:func:`dbsynth.rules.discover.discover`, on the rows the fit reads anyway) and the declared CHECKs;
:meth:`FittedModel.rules` is what the sampler keeps, minus the rules switched off (:meth:`FittedModel.set_rules`).
They travel in model files as a :class:`RuleState`.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import inspect
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import pandas as pd

from .. import progress
from ..constraints import (
    Constraint,
    ConstraintError,
    CustomConstraint,
    FixedCombinations,
    check_consistent,
    check_off,
    constraint_from_dict,
    constraints_from,
    learn_combinations,
)
from ..errors import ModelFileError, NotFittedError
from ..metadata import Metadata
from ..rules.discover import DiscoverySettings, declared, discover
from ..rules.records import Bound, Combination, Order, Rule, RuleOrigin, RuleSet
from .fold import stable_seed
from .records import TableModel
from .strategy import TableStrategy

__all__ = ["RULE_STATE_VERSION", "FittedModel", "RuleState"]

log = logging.getLogger("dbsynth")

#: Version of the dict layout of :class:`RuleState` (a model file's ``rules.json``).
RULE_STATE_VERSION = 1


@dataclass(frozen=True)
class RuleState:
    """The rules of a fit besides its declared CHECKs (which the metadata gives): what a model file stores.

    Custom constraints are code, never stored: :meth:`to_dict` keeps only their names (:attr:`dropped` after a
    load), so that loading can say they must be given again.
    """

    discover: bool = True
    """Whether the fit discovers rules in the real rows."""
    off: tuple[str, ...] = ()
    """Rules switched off (names, kinds, ``table:<t>``, ``<kind>:<t>``; see :meth:`RuleSet.without`)."""
    constraints: tuple[Constraint, ...] = ()
    """The user's constraints, resolved against the metadata."""
    learned: RuleSet = field(default_factory=RuleSet)
    """What the fit learned: the discovered rules and the user's combinations (FixedCombinations)."""
    dropped: tuple[str, ...] = ()
    """Custom constraints a model file had (their rule names), which must be added again."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (custom constraints by name only)."""
        custom = [c for c in self.constraints if isinstance(c, CustomConstraint)]
        return {
            "version": RULE_STATE_VERSION,
            "discover": self.discover,
            "off": list(self.off),
            "constraints": [c.to_dict() for c in self.constraints if not isinstance(c, CustomConstraint)],
            "custom": sorted({*self.dropped, *(c.rule().name for c in custom)}),
            "rules": self.learned.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Any, metadata: Metadata) -> RuleState:
        """The state of :meth:`to_dict`, checked against ``metadata``, strictly.

        Raises:
            ModelFileError: another version, an unknown or missing key, a malformed rule or constraint.
        """
        hint = "Re-create the model with fit() and save() of this dbsynth version."
        keys = {"version", "discover", "off", "constraints", "custom", "rules"}
        if not isinstance(d, Mapping) or d.get("version") != RULE_STATE_VERSION:
            raise ModelFileError("rules: not a rule state of this format version", hint=hint)
        if set(d) != keys:
            wrong = sorted(set(d) ^ keys)
            raise ModelFileError(f"rules: unknown or missing key(s) {', '.join(map(str, wrong))}", hint=hint)
        if not isinstance(d["discover"], bool):
            raise ModelFileError("rules: 'discover' is not true or false", hint=hint)
        for k in ("off", "constraints", "custom"):
            if not isinstance(d[k], list) or (k != "constraints" and not all(isinstance(x, str) for x in d[k])):
                raise ModelFileError(f"rules: '{k}' is not a list of the right items", hint=hint)
        try:
            constraints = tuple(constraint_from_dict(c).resolve(metadata) for c in d["constraints"])
        except ConstraintError as exc:
            raise ModelFileError(f"rules: a stored constraint does not fit the model's tables ({exc})",
                                 hint=hint) from None
        return cls(discover=d["discover"], off=tuple(d["off"]), constraints=constraints,
                   learned=RuleSet.from_dict(d["rules"]), dropped=tuple(d["custom"]))

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
        self._rule_state = RuleState()
        self._declared: RuleSet | None = None  # the metadata's CHECKs, parsed once
        self.discovery_seconds = 0.0
        """Seconds the last fit spent on rules (discovery and the user's combinations)."""

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
        cls: type[S], metadata: Metadata, parameters: dict[str, Any], models: Mapping[str, TableModel] | None = None,
        rules: RuleState | None = None,
    ) -> S:
        """An instance with the settings of :meth:`get_parameters` and, when given, fitted ``models`` (what
        :meth:`fitted_models` returned; model files are read this way, through
        :meth:`~dbsynth.model.records.TableModel.from_dict`) and the rules of :meth:`rule_state`."""
        accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "metadata"}
        syn = cls(metadata, **{k: v for k, v in parameters.items() if k in accepted})
        syn._table_parameters = copy.deepcopy(parameters["tables"])
        syn._models = None if models is None else dict(models)
        if rules is not None:
            syn._rule_state = rules
        return syn

    # ---- rules of the data ----------------------------------------------------------------------------
    def add_constraints(self, constraints: Iterable[Constraint | Mapping[str, Any]] | Constraint) -> None:
        """Add user constraints (SDV's classes of :mod:`dbsynth.constraints` or SDV's dict form
        ``{'constraint_class': ..., 'table_name': ..., 'constraint_parameters': {...}}``), checked against the
        metadata and the constraints already added, all or none. A constraint equal to one already held is
        left as is. Before or after fit, except ``FixedCombinations``, whose combinations the fit learns.

        Raises:
            ConstraintError: an unknown name, a wrong parameter, table or column, constraints that
                contradict each other, a FixedCombinations added after fit (one line naming it).
        """
        held = list(self._rule_state.constraints)
        new = [c for c in dict.fromkeys(constraints_from(constraints, self.metadata)) if c not in held]
        if self.is_fitted:
            late = next((c for c in new if isinstance(c, FixedCombinations)), None)
            if late is not None:
                raise ConstraintError("FixedCombinations learns its combinations from the real rows at fit",
                                      table=late.table_name, constraint=late.constraint_class,
                                      hint="Add it before fit(), then fit again.")
        check_consistent([*held, *new], self.metadata)
        for c in new:
            if isinstance(c, CustomConstraint):
                _load_custom(c)
        dropped = set(self._rule_state.dropped) - {c.rule().name for c in new if isinstance(c, CustomConstraint)}
        self._rule_state = _replace(self._rule_state, constraints=(*held, *new), dropped=tuple(sorted(dropped)))

    def get_constraints(self) -> list[Constraint]:
        """The user's constraints, in the order added (each with its table named)."""
        return list(self._rule_state.constraints)

    def set_rules(self, *, discover: bool | None = None, off: Iterable[str] | None = None) -> None:
        """Switch rule discovery on or off and say which rules are off.

        Args:
            discover: whether ``fit`` discovers rules in the real rows (None: unchanged). Off, the rules a fit
                discovered are left out of :meth:`rules` at once and the next fit discovers none; on, a fit
                that discovered nothing needs fitting again.
            off: the rules switched off, replacing the previous list (None: unchanged): names (as
                :meth:`rules` lists them), kinds (``order``), tables (``table:rental``) or kinds in a table
                (``order:rental``).

        Raises:
            ConstraintError: an entry of an unknown kind or table.
        """
        state = self._rule_state
        if discover is not None:
            state = _replace(state, discover=bool(discover))
        if off is not None:
            state = _replace(state, off=tuple(check_off([off] if isinstance(off, str) else off, self.metadata)))
        self._rule_state = state

    def rule_state(self) -> RuleState:
        """The rules of this fit besides the declared ones (what a model file stores)."""
        return self._rule_state

    def declared_rules(self) -> RuleSet:
        """The CHECK constraints the metadata declares, as rule records."""
        if self._declared is None:
            self._declared = declared(self.metadata)
        return self._declared

    def rules(self) -> RuleSet:
        """Every rule the sampler keeps: the declared CHECKs, the rules discovered at fit (when discovery is
        on), the user's constraints, minus the rules switched off. A user rule replaces a discovered one of
        the same name; a discovered order or bound contradicting a user rule is left out (the user's word
        wins)."""
        state = self._rule_state
        learned = {r.name: r for r in state.learned if r.origin is RuleOrigin.USER}
        user: list[Rule] = []
        for c in state.constraints:
            user += [learned.get(r.name, r) for r in c.rules(self.metadata)]
        found = [r for r in state.learned if r.origin is not RuleOrigin.USER] if state.discover else []
        found = _without_contradictions(found, user)
        return self.declared_rules().plus(found).plus(user).without(state.off)

    def _fit_rules(self, frames: Mapping[str, pd.DataFrame], complete: frozenset[str] | None) -> None:
        """Learn the rules of the real rows: discovery (when on) and the user's combinations.

        Args:
            frames: per table, its rows: all of them or the uniform sample the fit already took.
            complete: the tables given whole (None: all).
        """
        started = time.perf_counter()
        state = self._rule_state
        settings = DiscoverySettings(min_category_count=self.min_category_count)
        found: list[Rule] = list(discover(self.metadata, frames, settings, complete)) if state.discover else []
        combos: list[Rule] = [learn_combinations(r, frames[r.table], self.min_category_count)
                  for c in state.constraints if isinstance(c, FixedCombinations)
                  for r in c.rules(self.metadata) if isinstance(r, Combination) and r.table in frames]
        self._rule_state = _replace(state, learned=RuleSet(tuple(found + combos)))
        self.discovery_seconds = time.perf_counter() - started
        if self.verbose:
            log.info("rules: %d discovered, %d user constraint(s) in %.2fs", len(found), len(state.constraints),
                     self.discovery_seconds)

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


def _replace(state: RuleState, **changes: Any) -> RuleState:
    return dataclasses.replace(state, **changes)


def _load_custom(c: CustomConstraint) -> None:
    """Import the custom class now, so a wrong path fails when it is added rather than when sampling."""
    from ..rules.custom import load_custom

    load_custom(c.rule())


def _without_contradictions(found: Sequence[Rule], user: Sequence[Rule]) -> list[Rule]:
    """``found`` without the discovered orders a user order reverses and the discovered bounds of a column a
    user bound leaves no value in (both cannot be kept; the user said what the data must do)."""
    user_orders = {(r.table, r.high, r.low) for r in user if isinstance(r, Order)}
    user_bounds: dict[tuple[str, str], list[Bound]] = {}
    for r in user:
        if isinstance(r, Bound):
            user_bounds.setdefault((r.table, r.column), []).append(r)
    out = []
    for r in found:
        if isinstance(r, Order) and (r.table, r.low, r.high) in user_orders:
            log.info("rules: %s left out: a user constraint orders the columns the other way", r.name)
            continue
        if isinstance(r, Bound) and any(_disjoint(r, u) for u in user_bounds.get((r.table, r.column), [])):
            log.info("rules: %s left out: a user constraint bounds the column elsewhere", r.name)
            continue
        out.append(r)
    return out


def _disjoint(a: Bound, b: Bound) -> bool:
    lo = max((x.low for x in (a, b) if x.low is not None), default=None)
    hi = min((x.high for x in (a, b) if x.high is not None), default=None)
    return lo is not None and hi is not None and lo > hi
