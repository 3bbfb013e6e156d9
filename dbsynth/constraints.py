"""User-declared constraints with SDV's names and parameters (issue 17), turned into typed rule records.

SDV's users bring their constraints as they wrote them: the classes (``Inequality(table_name='orders',
low_column_name='ordered', high_column_name='shipped')``) or the dict form (``{'constraint_class':
'Inequality', 'table_name': 'orders', 'constraint_parameters': {...}}``), given to a synthesizer's
``add_constraints`` or under ``tables: {orders: {constraints: [...]}}`` in the YAML config
(:func:`from_config`). Each constraint is checked against the metadata at once (:meth:`Constraint.resolve`:
the table, the columns and their types) and becomes one or more records of :mod:`dbsynth.rules.records`
(origin ``user``, :meth:`Constraint.rules`): the sampler keeps them as it keeps discovered rules.

=====================  ==========================================================================
constraint             rule records
=====================  ==========================================================================
Inequality             :class:`~dbsynth.rules.records.Order`
Range                  two :class:`~dbsynth.rules.records.Order` (low <= middle, middle <= high)
ScalarInequality,      :class:`~dbsynth.rules.records.Bound`
ScalarRange, Positive,
Negative
FixedCombinations      :class:`~dbsynth.rules.records.Combination` (its combinations learned at fit,
                       :func:`learn_combinations`: those seen at least k times)
FixedIncrements        :class:`~dbsynth.rules.records.Increment`
OneHotEncoding         :class:`~dbsynth.rules.records.OneHot`
Unique                 :class:`~dbsynth.rules.records.Unique`
ChildAggregate         :class:`~dbsynth.rules.records.Aggregate` (a parent column = sum or count over
                       its children, along the foreign key between the tables)
CustomConstraint       :class:`~dbsynth.rules.records.Custom` (a user's class, by import path)
=====================  ==========================================================================

Every refusal is one :class:`ConstraintError` line naming the constraint, the table and the column or
parameter, and saying what to do; :func:`check_consistent` refuses constraints that contradict each other
(an order cycle, Positive and Negative on one column, bounds that leave no value).
"""

from __future__ import annotations

import copy
import datetime
import difflib
import inspect
import json
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .errors import BadInputError, ConfigError
from .metadata import Metadata, Table
from .metadata import sdtypes as st
from .rules.records import (
    Aggregate,
    Bound,
    Combination,
    Custom,
    Increment,
    OneHot,
    Order,
    Rule,
    RuleKind,
    RuleOrigin,
)
from .rules.records import (
    Unique as UniqueRule,
)

__all__ = [
    "CONSTRAINT_CLASSES",
    "ChildAggregate",
    "Constraint",
    "ConstraintError",
    "CustomConstraint",
    "FixedCombinations",
    "FixedIncrements",
    "Inequality",
    "Negative",
    "OneHotEncoding",
    "Positive",
    "Range",
    "ScalarInequality",
    "ScalarRange",
    "Unique",
    "check_consistent",
    "check_off",
    "constraint_from_dict",
    "constraints_from",
    "from_config",
    "learn_combinations",
]

_NUMBER_TYPES = frozenset({st.INTEGER, st.FLOAT, st.DECIMAL})
_DATETIME_TYPES = frozenset({st.DATE, st.TIMESTAMP, st.TIME})
_RELATIONS = (">", ">=", "<", "<=")


class ConstraintError(BadInputError):
    """A user constraint is wrong: an unknown name, a missing, unknown or mistyped parameter, a table or
    column that does not exist or cannot hold it, or constraints that contradict each other (exit code 2)."""


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1)
    return f"did you mean '{close[0]}'? " if close else ""


def _family(col) -> str:
    if col.type in _NUMBER_TYPES:
        return "numerical"
    if col.type in _DATETIME_TYPES:
        return "datetime"
    if col.type == st.BOOL:
        return "boolean"
    return str(col.type)


# ---- the constraint classes -----------------------------------------------------------------------------------
class Constraint:
    """Base of the SDV-named constraints: the parameters as given, checked for type at construction.

    Subclasses declare :attr:`constraint_class` (SDV's name) and :attr:`_kinds` (each parameter's kind); the
    dict form's parameter names are those of the subclass's constructor.
    """

    constraint_class: ClassVar[str] = ""
    """SDV's name of the constraint (``Inequality``)."""
    _kinds: ClassVar[dict[str, str]] = {}
    """Kind of each parameter: ``column``, ``columns``, ``bool``, ``number``, ``relation``, ``string``,
    ``table``, ``function``, ``any``."""
    _min_columns: ClassVar[int] = 1
    """Fewest columns a ``columns`` parameter takes."""
    _column_families: ClassVar[frozenset[str] | None] = None
    """Column families the constraint's columns may have (None: any)."""

    def __init__(self, table_name: str | None, **parameters: Any) -> None:
        if table_name is not None and (not isinstance(table_name, str) or not table_name):
            raise self._error("parameter 'table_name' must be a table name (a non-empty string)",
                              hint="Give the table the constraint applies to.")
        self.table_name = table_name
        self.parameters: dict[str, Any] = {}
        for name, value in parameters.items():
            self.parameters[name] = self._typed(name, value, self._kinds.get(name, "any"))

    # ---- what it is ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """SDV's dict form: ``{'constraint_class', 'table_name', 'constraint_parameters'}`` (plain JSON)."""
        return {"constraint_class": self.constraint_class, "table_name": self.table_name,
                "constraint_parameters": _plain(self.parameters)}

    def __repr__(self) -> str:
        args = [f"table_name={self.table_name!r}"] if self.table_name else []
        args += [f"{k}={v!r}" for k, v in self.parameters.items()]
        return f"{self.constraint_class}({', '.join(args)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Constraint) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True, default=str))

    # ---- checks ----------------------------------------------------------------------------------------
    def _error(self, message: str, *, column: str | None = None, hint: str | None = None,
               table: str | None = None) -> ConstraintError:
        return ConstraintError(message, table=table or getattr(self, "table_name", None), column=column,
                               constraint=self.constraint_class, hint=hint)

    def _typed(self, name: str, value: Any, kind: str) -> Any:
        """``value`` checked for the kind of parameter ``name`` (lists become tuples)."""
        if kind in ("column", "table", "string"):
            if not isinstance(value, str) or not value:
                what = {"column": "a column name", "table": "a table name", "string": "a non-empty string"}[kind]
                raise self._error(f"parameter '{name}' must be {what} (got {type(value).__name__})",
                                  hint=f"Give {name} as text.")
            return value
        if kind == "columns":
            if isinstance(value, str) or not isinstance(value, Sequence):
                raise self._error(f"parameter '{name}' must be a list of column names (got {type(value).__name__})",
                                  hint=f"Write {name}=['a', 'b'].")
            cols = tuple(value)
            bad = [c for c in cols if not isinstance(c, str) or not c]
            if bad:
                raise self._error(f"parameter '{name}' must hold column names only (got {type(bad[0]).__name__})",
                                  hint=f"Write {name}=['a', 'b'].")
            least = self._min_columns if name == "column_names" else 0
            if len(cols) < least:
                raise self._error(f"parameter '{name}' needs at least {least} column(s) (got {len(cols)})",
                                  hint=f"Name at least {least} columns.")
            dup = sorted({c for c in cols if cols.count(c) > 1})
            if dup:
                raise self._error(f"parameter '{name}' names a column twice", column=dup[0],
                                  hint="Name each column once.")
            return cols
        if kind == "bool":
            if not isinstance(value, bool | np.bool_):
                raise self._error(f"parameter '{name}' must be true or false (got {type(value).__name__})",
                                  hint=f"Write {name}=True or {name}=False.")
            return bool(value)
        if kind == "number":
            if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise self._error(f"parameter '{name}' must be a finite number (got {type(value).__name__})",
                                  hint=f"Give {name} as a number.")
            return value.item() if isinstance(value, np.generic) else value
        if kind == "bound":  # a number, or a date/time for a datetime column (checked against it on resolve)
            if isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_):
                return self._typed(name, value, "number")
            if isinstance(value, str | datetime.date | np.datetime64):
                try:
                    ts = pd.Timestamp(value)
                except (ValueError, TypeError):
                    ts = pd.NaT
                if ts is not pd.NaT:
                    return value if isinstance(value, str) else ts.isoformat()
            got = repr(value) if isinstance(value, str) else type(value).__name__
            raise self._error(f"parameter '{name}' must be a number, or a date or time for a datetime column "
                              f"(got {got})", hint=f"Give {name} as a number, or as '2020-01-31' (ISO 8601).")
        if kind == "relation":
            if value not in _RELATIONS:
                raise self._error(f"parameter '{name}' must be one of {', '.join(_RELATIONS)} (got {value!r})",
                                  hint="Write relation='>=' for column >= value.")
            return value
        if kind == "function":
            if value not in ("sum", "count"):
                raise self._error(f"parameter '{name}' must be 'sum' or 'count' (got {value!r})",
                                  hint="Write function='sum' (of the child columns multiplied) or 'count'.")
            return value
        return value

    def _table(self, metadata: Metadata, name: str | None = None, param: str = "table_name") -> Table:
        name = name if name is not None else self.table_name
        if name is None:
            raise self._error("parameter 'table_name' is missing",
                              hint=f"Say which table it applies to (one of {', '.join(metadata.tables)}).")
        if name not in metadata.tables:
            known = ", ".join(metadata.tables) or "none"
            raise self._error(f"{param} '{name}' is not a table of the metadata "
                              f"({_did_you_mean(name, metadata.tables)}known: {known})",
                              table=name, hint="Name a table of the metadata.")
        return metadata.tables[name]

    def _column(self, table: Table, name: str, param: str, families: frozenset[str] | None = None,
                keys: bool = False):
        """The column ``name`` of ``table`` (parameter ``param``), refused when missing, computed, a key
        (unless ``keys``) or of a family not in ``families``."""
        if not table.has_column(name):
            raise self._error(f"{param} '{name}' is not a column of the table "
                              f"({_did_you_mean(name, table.column_names)}columns: {', '.join(table.column_names)})",
                              table=table.name, column=name, hint="Name a column of the table.")
        col = table.column(name)
        if col.computed:
            raise self._error(f"{param} '{name}' is a generated (computed) column, never written",
                              table=table.name, column=name, hint="Constrain the columns it is computed from.")
        key_cols = set(table.primary_key) | {c for fk in table.foreign_keys for c in fk.columns}
        if not keys and name in key_cols:
            raise self._error(f"{param} '{name}' is a key (primary or foreign): its values are generated, so "
                              f"{self.constraint_class} cannot constrain it", table=table.name, column=name,
                              hint="Constrain a column that is not a key.")
        if families is not None and _family(col) not in families:
            raise self._error(f"{param} '{name}' is a {_family(col)} column; {self.constraint_class} takes "
                              f"{' or '.join(sorted(families))} columns", table=table.name, column=name,
                              hint="Name a column of a type it takes.")
        return col

    def resolve(self, metadata: Metadata) -> Constraint:
        """This constraint checked against ``metadata``, with its table named (a metadata of one table
        needs no ``table_name``).

        Raises:
            ConstraintError: an unknown table or column, a column of a type the constraint does not take.
        """
        out = self
        if self.table_name is None and len(metadata.tables) == 1:
            out = copy.copy(self)
            out.table_name = next(iter(metadata.tables))
        out._check(out._table(metadata), metadata)
        return out

    def _check(self, table: Table, metadata: Metadata) -> None:
        for name, kind in self._kinds.items():
            value = self.parameters.get(name)
            if kind == "column" and value is not None:
                self._column(table, value, name, self._column_families)
            elif kind == "columns" and name == "column_names":
                for c in value or ():
                    self._column(table, c, name, self._column_families)

    def rules(self, metadata: Metadata) -> list[Rule]:
        """The rule records the constraint stands for (call :meth:`resolve` first)."""
        raise NotImplementedError

    @property
    def _t(self) -> str:
        assert self.table_name is not None  # resolved
        return self.table_name


class Inequality(Constraint):
    """``low_column_name <= high_column_name`` in every row (``<`` with ``strict_boundaries``); numerical or
    datetime columns."""

    constraint_class = "Inequality"
    _kinds = {"low_column_name": "column", "high_column_name": "column", "strict_boundaries": "bool"}
    _column_families = frozenset({"numerical", "datetime"})

    def __init__(self, low_column_name: str, high_column_name: str, strict_boundaries: bool = False, *,
                 table_name: str | None = None) -> None:
        super().__init__(table_name, low_column_name=low_column_name, high_column_name=high_column_name,
                         strict_boundaries=strict_boundaries)
        if low_column_name == high_column_name:
            raise self._error("low_column_name and high_column_name name the same column", column=low_column_name,
                              hint="Name two different columns.")

    def _check(self, table: Table, metadata: Metadata) -> None:
        super()._check(table, metadata)
        _same_family(self, table, ("low_column_name", "high_column_name"))

    def rules(self, metadata: Metadata) -> list[Rule]:
        p = self.parameters
        return [Order(table=self._t, origin=RuleOrigin.USER, low=p["low_column_name"], high=p["high_column_name"],
                      strict=p["strict_boundaries"])]


class Range(Constraint):
    """``low_column_name <= middle_column_name <= high_column_name`` (``<`` with ``strict_boundaries``,
    the default): two orders."""

    constraint_class = "Range"
    _kinds = {"low_column_name": "column", "middle_column_name": "column", "high_column_name": "column",
              "strict_boundaries": "bool"}
    _column_families = frozenset({"numerical", "datetime"})

    def __init__(self, low_column_name: str, middle_column_name: str, high_column_name: str,
                 strict_boundaries: bool = True, *, table_name: str | None = None) -> None:
        super().__init__(table_name, low_column_name=low_column_name, middle_column_name=middle_column_name,
                         high_column_name=high_column_name, strict_boundaries=strict_boundaries)
        cols = [low_column_name, middle_column_name, high_column_name]
        if len(set(cols)) < 3:
            raise self._error("low_column_name, middle_column_name and high_column_name must be three different "
                              "columns", column=next(c for c in cols if cols.count(c) > 1),
                              hint="Name three different columns.")

    def _check(self, table: Table, metadata: Metadata) -> None:
        super()._check(table, metadata)
        _same_family(self, table, ("low_column_name", "middle_column_name", "high_column_name"))

    def rules(self, metadata: Metadata) -> list[Rule]:
        p = self.parameters
        strict = p["strict_boundaries"]
        return [Order(table=self._t, origin=RuleOrigin.USER, low=p["low_column_name"],
                      high=p["middle_column_name"], strict=strict),
                Order(table=self._t, origin=RuleOrigin.USER, low=p["middle_column_name"],
                      high=p["high_column_name"], strict=strict)]


def _same_family(c: Constraint, table: Table, params: tuple[str, ...]) -> None:
    fams = {_family(table.column(c.parameters[p])) for p in params}
    if len(fams) > 1:
        raise c._error(f"{', '.join(params)} mix {' and '.join(sorted(fams))} columns",
                       table=table.name, column=c.parameters[params[-1]],
                       hint="Compare numbers with numbers, dates with dates.")


def _bound_value(v: Any) -> float:
    """A bound as :class:`~dbsynth.rules.records.Bound` holds it: a number, or a date/time as microseconds since
    the epoch (UTC; how the sampler and the scorer read datetime columns)."""
    if isinstance(v, str):
        ts = pd.Timestamp(v)
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        return float(ts.value // 1000)  # value: nanoseconds since the epoch
    return float(v)


class _Bounded(Constraint):
    """A numerical column within constants."""

    _column_families = frozenset({"numerical"})

    def bound(self) -> Bound:
        raise NotImplementedError

    def rules(self, metadata: Metadata) -> list[Rule]:
        return [self.bound()]


class _Scalar(_Bounded):
    """A numerical, date or timestamp column within constants (dates and times given as ISO text)."""

    _column_families = frozenset({"numerical", "datetime"})
    _values: ClassVar[tuple[str, ...]] = ()

    def _check(self, table: Table, metadata: Metadata) -> None:
        super()._check(table, metadata)
        name = self.parameters["column_name"]
        col = table.column(name)
        if col.type == st.TIME:
            raise self._error(f"column_name '{name}' is a time-of-day column; {self.constraint_class} takes "
                              "numbers, dates and timestamps", table=table.name, column=name,
                              hint="Constrain a number, date or timestamp column.")
        dated = _family(col) == "datetime"
        for p in self._values:
            if isinstance(self.parameters[p], str) != dated:
                want = "a date or time ('2020-01-31')" if dated else "a number"
                raise self._error(f"{p} must be {want} for the {_family(col)} column '{name}'", table=table.name,
                                  column=name, hint=f"Give {p} as {want}.")


class ScalarInequality(_Scalar):
    """``column_name <relation> value`` with ``relation`` one of ``>``, ``>=``, ``<``, ``<=``; ``value`` a
    number, or a date/time (ISO text) for a date or timestamp column."""

    constraint_class = "ScalarInequality"
    _kinds = {"column_name": "column", "relation": "relation", "value": "bound"}
    _values = ("value",)

    def __init__(self, column_name: str, relation: str, value: float | str, *,
                 table_name: str | None = None) -> None:
        super().__init__(table_name, column_name=column_name, relation=relation, value=value)

    def bound(self) -> Bound:
        p = self.parameters
        rel, v = p["relation"], _bound_value(p["value"])
        if rel.startswith(">"):
            return Bound(table=self._t, origin=RuleOrigin.USER, column=p["column_name"], low=v,
                         strict_low=rel == ">")
        return Bound(table=self._t, origin=RuleOrigin.USER, column=p["column_name"], high=v, strict_high=rel == "<")


class ScalarRange(_Scalar):
    """``low_value < column_name < high_value`` (``<=`` without ``strict_boundaries``); numbers, or dates/times
    (ISO text) for a date or timestamp column."""

    constraint_class = "ScalarRange"
    _kinds = {"column_name": "column", "low_value": "bound", "high_value": "bound", "strict_boundaries": "bool"}
    _values = ("low_value", "high_value")

    def __init__(self, column_name: str, low_value: float | str, high_value: float | str,
                 strict_boundaries: bool = True, *, table_name: str | None = None) -> None:
        super().__init__(table_name, column_name=column_name, low_value=low_value, high_value=high_value,
                         strict_boundaries=strict_boundaries)
        lo, hi = self.parameters["low_value"], self.parameters["high_value"]
        if isinstance(lo, str) != isinstance(hi, str):
            raise self._error("low_value and high_value must both be numbers or both dates/times",
                              column=column_name, hint="Give the two bounds of one kind.")
        if _bound_value(lo) >= _bound_value(hi):
            raise self._error(f"low_value ({lo}) must be below high_value ({hi})",
                              column=column_name, hint="Give the smaller bound as low_value.")

    def bound(self) -> Bound:
        p = self.parameters
        s = p["strict_boundaries"]
        return Bound(table=self._t, origin=RuleOrigin.USER, column=p["column_name"],
                     low=_bound_value(p["low_value"]), high=_bound_value(p["high_value"]), strict_low=s,
                     strict_high=s)


class _Signed(_Bounded):
    _kinds = {"column_name": "column", "strict": "bool"}

    def __init__(self, column_name: str, strict: bool | None = None, *, strict_boundaries: bool | None = None,
                 table_name: str | None = None) -> None:
        # SDV spells it strict_boundaries (and strict in older examples): either is taken, not both
        if strict is not None and strict_boundaries is not None and strict != strict_boundaries:
            raise ConstraintError("parameters 'strict' and 'strict_boundaries' disagree", table=table_name,
                                  column=column_name, constraint=self.constraint_class,
                                  hint="Give one of the two.")
        given = strict if strict is not None else strict_boundaries
        super().__init__(table_name, column_name=column_name, strict=False if given is None else given)


class Positive(_Signed):
    """``column_name >= 0`` (``> 0`` when ``strict``; SDV's ``strict_boundaries`` is taken too)."""

    constraint_class = "Positive"

    def bound(self) -> Bound:
        return Bound(table=self._t, origin=RuleOrigin.USER, column=self.parameters["column_name"], low=0.0,
                     strict_low=self.parameters["strict"])


class Negative(_Signed):
    """``column_name <= 0`` (``< 0`` when ``strict``; SDV's ``strict_boundaries`` is taken too)."""

    constraint_class = "Negative"

    def bound(self) -> Bound:
        return Bound(table=self._t, origin=RuleOrigin.USER, column=self.parameters["column_name"], high=0.0,
                     strict_high=self.parameters["strict"])


class FixedCombinations(Constraint):
    """The columns take only the combinations of values the real rows have (learned at fit: those seen at
    least ``min_category_count`` times)."""

    constraint_class = "FixedCombinations"
    _kinds = {"column_names": "columns"}
    _min_columns = 2

    def __init__(self, column_names: Sequence[str], *, table_name: str | None = None) -> None:
        super().__init__(table_name, column_names=column_names)

    def rules(self, metadata: Metadata) -> list[Rule]:
        return [Combination(table=self._t, origin=RuleOrigin.USER, names=self.parameters["column_names"])]


class FixedIncrements(Constraint):
    """``column_name`` is a multiple of ``increment_value`` (greater than 0)."""

    constraint_class = "FixedIncrements"
    _kinds = {"column_name": "column", "increment_value": "number"}
    _column_families = frozenset({"numerical"})

    def __init__(self, column_name: str, increment_value: float, *, table_name: str | None = None) -> None:
        super().__init__(table_name, column_name=column_name, increment_value=increment_value)
        if self.parameters["increment_value"] <= 0:
            raise self._error(f"increment_value must be greater than 0 (got {increment_value})", column=column_name,
                              hint="Give the step the values move by, e.g. increment_value=5.")

    def rules(self, metadata: Metadata) -> list[Rule]:
        p = self.parameters
        return [Increment(table=self._t, origin=RuleOrigin.USER, column=p["column_name"],
                          step=float(p["increment_value"]))]


class OneHotEncoding(Constraint):
    """Exactly one of the columns is 1 and the others 0 in every row (numerical or boolean columns)."""

    constraint_class = "OneHotEncoding"
    _kinds = {"column_names": "columns"}
    _min_columns = 2
    _column_families = frozenset({"numerical", "boolean"})

    def __init__(self, column_names: Sequence[str], *, table_name: str | None = None) -> None:
        super().__init__(table_name, column_names=column_names)

    def rules(self, metadata: Metadata) -> list[Rule]:
        return [OneHot(table=self._t, origin=RuleOrigin.USER, names=self.parameters["column_names"])]


class Unique(Constraint):
    """The columns are unique together (where all are set)."""

    constraint_class = "Unique"
    _kinds = {"column_names": "columns"}

    def __init__(self, column_names: Sequence[str], *, table_name: str | None = None) -> None:
        super().__init__(table_name, column_names=column_names)

    def _check(self, table: Table, metadata: Metadata) -> None:
        for c in self.parameters["column_names"]:
            self._column(table, c, "column_names", keys=True)  # a key column may well be unique

    def rules(self, metadata: Metadata) -> list[Rule]:
        return [UniqueRule(table=self._t, origin=RuleOrigin.USER, names=self.parameters["column_names"])]


class ChildAggregate(Constraint):
    """A column of ``table_name`` (the parent) equal to an aggregate of its children in
    ``child_table_name``: the sum over the children of ``child_column_names`` multiplied
    (``invoice.total = sum(invoice_line.unit_price * quantity)``), or their number when
    ``child_column_names`` is empty (``function='count'``). Parents without children hold 0.

    The children are those whose foreign key references the parent; when the child has several foreign
    keys to the parent, ``child_foreign_key`` (its columns) says which.
    """

    constraint_class = "ChildAggregate"
    _kinds = {"column_name": "column", "child_table_name": "table", "child_column_names": "columns",
              "function": "function", "child_foreign_key": "columns"}

    def __init__(self, column_name: str, child_table_name: str, child_column_names: Sequence[str] = (),
                 function: str | None = None, child_foreign_key: Sequence[str] | None = None, *,
                 table_name: str | None = None) -> None:
        terms = tuple(child_column_names) if isinstance(child_column_names, list | tuple) else child_column_names
        if function is None:
            function = "sum" if terms else "count"
        params: dict[str, Any] = {"column_name": column_name, "child_table_name": child_table_name,
                                  "child_column_names": terms, "function": function}
        if child_foreign_key is not None:
            params["child_foreign_key"] = child_foreign_key
        super().__init__(table_name, **params)
        p = self.parameters
        if p["function"] == "sum" and not p["child_column_names"]:
            raise self._error("function 'sum' needs child_column_names (the child columns multiplied and summed)",
                              column=column_name, hint="Name the child columns, or write function='count'.")
        if p["function"] == "count" and p["child_column_names"]:
            raise self._error("function 'count' takes no child_column_names", column=column_name,
                              hint="Leave child_column_names empty, or write function='sum'.")

    def _fk(self, table: Table, metadata: Metadata):
        p = self.parameters
        child = self._table(metadata, p["child_table_name"], "child_table_name")
        fks = [fk for fk in child.foreign_keys if fk.ref_table == table.name]
        if "child_foreign_key" in p:
            fks = [fk for fk in fks if tuple(fk.columns) == p["child_foreign_key"]]
            if not fks:
                raise self._error(f"child_foreign_key {list(p['child_foreign_key'])} is not a foreign key of "
                                  f"'{child.name}' to '{table.name}'", hint="Give the columns of one of its "
                                  "foreign keys to the parent.")
        if not fks:
            raise self._error(f"child_table_name '{child.name}' has no foreign key to '{table.name}'",
                              hint="Name a child table of this table.")
        if len(fks) > 1:
            options = "; ".join(str(list(fk.columns)) for fk in fks)
            raise self._error(f"child_table_name '{child.name}' has {len(fks)} foreign keys to '{table.name}' "
                              f"({options})", hint="Say which with child_foreign_key=[...].")
        return child, fks[0]

    def _check(self, table: Table, metadata: Metadata) -> None:
        p = self.parameters
        self._column(table, p["column_name"], "column_name", frozenset({"numerical"}))
        child, _fk = self._fk(table, metadata)
        for c in p["child_column_names"]:
            self._column(child, c, "child_column_names", frozenset({"numerical"}))

    def rules(self, metadata: Metadata) -> list[Rule]:
        p = self.parameters
        _child, fk = self._fk(metadata.tables[self._t], metadata)
        return [Aggregate(table=self._t, origin=RuleOrigin.USER, column=p["column_name"],
                          child=p["child_table_name"], by=tuple(fk.columns), key=tuple(fk.ref_columns),
                          terms=p["child_column_names"], function=p["function"],
                          empty=0.0)]


class CustomConstraint(Constraint):
    """A user's class (``is_valid(frame) -> bool mask``, optionally ``reverse_transform(frame)``), by import
    path (``package.module:Class`` or ``package.module.Class``), built with ``params``; ``column_names`` are
    the columns it constrains (redrawn where a row fails). Custom constraints are code: a model file never
    holds them, they are given again at each run."""

    constraint_class = "CustomConstraint"
    _kinds = {"class_path": "string", "column_names": "columns"}

    def __init__(self, class_path: str, column_names: Sequence[str], *, table_name: str | None = None,
                 **params: Any) -> None:
        super().__init__(table_name, class_path=class_path, column_names=column_names, **params)
        path = self.parameters["class_path"]
        module, _, name = path.replace(":", ".").rpartition(".")
        if not module or not name or not all(part.isidentifier() for part in [*module.split("."), name]):
            raise self._error(f"class_path '{path}' is not an import path", hint="Write package.module:Class.")

    def _check(self, table: Table, metadata: Metadata) -> None:
        for c in self.parameters["column_names"]:
            self._column(table, c, "column_names", keys=True)

    def rule(self) -> Custom:
        """The :class:`~dbsynth.rules.records.Custom` record (call :meth:`resolve` first)."""
        p = self.parameters
        params = tuple(sorted((k, v) for k, v in p.items() if k not in ("class_path", "column_names")))
        return Custom(table=self._t, origin=RuleOrigin.USER, path=p["class_path"], names=p["column_names"],
                      params=params)

    def rules(self, metadata: Metadata) -> list[Rule]:
        return [self.rule()]


#: SDV's constraint names (and ours), each with its class.
CONSTRAINT_CLASSES: dict[str, type[Constraint]] = {
    c.constraint_class: c
    for c in (Inequality, ScalarInequality, ScalarRange, Range, FixedCombinations, FixedIncrements, Positive,
              Negative, OneHotEncoding, Unique, ChildAggregate, CustomConstraint)
}


def _plain(v: Any) -> Any:
    if isinstance(v, tuple | list):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


# ---- the dict form ------------------------------------------------------------------------------------------
def constraint_from_dict(d: Any, *, table_name: str | None = None) -> Constraint:
    """A constraint from SDV's dict form ``{'constraint_class': 'Inequality', 'table_name': 'orders',
    'constraint_parameters': {...}}`` (``table_name`` may also sit among the parameters).

    A ``constraint_class`` that is an import path (``package.module:Class``) is a custom constraint: its
    parameters are ``column_names`` and the class's own.

    Args:
        d: the dict.
        table_name: the table when the dict does not say (a config's table); a dict naming another is refused.

    Raises:
        ConstraintError: an unknown constraint name, an unknown, missing or mistyped parameter.
    """
    if isinstance(d, Constraint):
        return d
    if not isinstance(d, Mapping):
        raise ConstraintError(f"a constraint must be a constraint object or a dict (got {type(d).__name__})",
                              table=table_name, hint="Write {'constraint_class': 'Inequality', "
                              "'constraint_parameters': {...}} or Inequality(...).")
    extra = sorted(set(d) - {"constraint_class", "table_name", "constraint_parameters"})
    name = d.get("constraint_class")
    if extra:
        said = d.get("table_name") if isinstance(d.get("table_name"), str) else table_name
        raise ConstraintError(f"unknown key(s) {', '.join(map(str, extra))} in a constraint dict",
                              table=said, constraint=name if isinstance(name, str) else None,
                              hint="A constraint dict has constraint_class, table_name and constraint_parameters.")
    if not isinstance(name, str) or not name:
        raise ConstraintError("a constraint dict needs 'constraint_class' (the constraint's name)",
                              table=table_name, hint=f"Use one of {', '.join(CONSTRAINT_CLASSES)}.")
    params = d.get("constraint_parameters", {})
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise ConstraintError(f"'constraint_parameters' must be a mapping of parameter names to values "
                              f"(got {type(params).__name__})", table=table_name, constraint=name,
                              hint="Write constraint_parameters: {column_name: ...}.")
    params = dict(params)
    tables = [t for t in (d.get("table_name"), params.pop("table_name", None)) if t is not None]
    if table_name is not None:
        tables.append(table_name)
    if len(set(tables)) > 1:
        raise ConstraintError(f"the constraint names the table both as '{tables[0]}' and '{tables[-1]}'",
                              table=tables[-1], constraint=name, hint="Name one table (or leave table_name out).")
    table = tables[0] if tables else None
    if name not in CONSTRAINT_CLASSES and ("." in name or ":" in name):
        params = {"class_path": name, **params}
        name = "CustomConstraint"
    cls = CONSTRAINT_CLASSES.get(name)
    if cls is None:
        raise ConstraintError(f"unknown constraint '{name}' ({_did_you_mean(name, CONSTRAINT_CLASSES)}known: "
                              f"{', '.join(CONSTRAINT_CLASSES)})", table=table,
                              hint="Use one of the known names, or a custom class as package.module:Class.")
    sig = inspect.signature(cls.__init__)
    accepted = {n for n, p in sig.parameters.items()
                if n not in ("self", "table_name") and p.kind is not inspect.Parameter.VAR_KEYWORD}
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())
    unknown = sorted(set(params) - accepted)
    if unknown and not takes_any:
        raise ConstraintError(f"unknown parameter '{unknown[0]}' ({_did_you_mean(unknown[0], accepted)}"
                              f"{name} takes: {', '.join(sorted(accepted))})", table=table, constraint=name,
                              hint="Use SDV's parameter names.")
    needed = [n for n, p in sig.parameters.items() if n in accepted and p.default is inspect.Parameter.empty]
    missing = [n for n in needed if n not in params]
    if missing:
        raise ConstraintError(f"parameter '{missing[0]}' is missing ({name} needs: {', '.join(needed)})",
                              table=table, constraint=name, hint=f"Give {missing[0]}.")
    return cls(table_name=table, **params)


def constraints_from(items: Iterable[Any] | Constraint | Mapping[str, Any], metadata: Metadata) -> list[Constraint]:
    """Constraints (objects or dicts) checked against ``metadata``, each with its table named.

    Raises:
        ConstraintError: see :func:`constraint_from_dict` and :meth:`Constraint.resolve`.
    """
    if isinstance(items, Constraint | Mapping):
        items = [items]
    return [constraint_from_dict(c).resolve(metadata) for c in items]


# ---- contradictions -----------------------------------------------------------------------------------------
def check_consistent(constraints: Sequence[Constraint], metadata: Metadata) -> None:
    """Refuse constraints that contradict each other: a cycle of orders (``a < b`` and ``b < a``),
    ``Positive`` and ``Negative`` on one column, bounds of one column that leave no value, a column a
    ``ChildAggregate`` derives that another constraint also moves (or two deriving it).

    Args:
        constraints: resolved constraints (:func:`constraints_from`).
        metadata: the tables.

    Raises:
        ConstraintError: naming the constraints and the table, one line.
    """
    orders: dict[str, list[tuple[Order, Constraint]]] = {}
    bounds: dict[tuple[str, str], list[tuple[Bound, Constraint]]] = {}
    derived: dict[tuple[str, str], Constraint] = {}
    named: list[tuple[str, str, Constraint]] = []
    for c in constraints:
        if isinstance(c, CustomConstraint):
            continue
        for r in c.rules(metadata):
            if isinstance(r, Aggregate):
                if (r.table, r.column) in derived:
                    raise ConstraintError("two ChildAggregate constraints derive the same column", table=r.table,
                                          column=r.column, constraint="ChildAggregate", hint="Keep one of the two.")
                derived[(r.table, r.column)] = c
                continue
            named += [(r.table, col, c) for col in r.columns]
            if isinstance(r, Order):
                orders.setdefault(r.table, []).append((r, c))
            elif isinstance(r, Bound):
                bounds.setdefault((r.table, r.column), []).append((r, c))
    for table, column, c in named:
        # the aggregate is computed from the children once they are drawn: nothing else can move it
        if (table, column) in derived and not isinstance(c, Unique):
            raise ConstraintError(f"{c.constraint_class} constrains a column ChildAggregate derives from the child "
                                  "rows, which the sampler cannot also keep", table=table, column=column,
                                  constraint=f"ChildAggregate, {c.constraint_class}",
                                  hint="Constrain the child columns it is computed from, or drop one of the two.")
    for table, edges in orders.items():
        _check_order_cycles(table, edges)
    for (table, column), found in bounds.items():
        signs = {type(c) for _, c in found}
        if Positive in signs and Negative in signs:
            raise ConstraintError("Positive and Negative constrain the same column", table=table, column=column,
                                  constraint="Positive, Negative", hint="Keep one of the two.")
        integer = metadata.tables[table].column(column).type == st.INTEGER
        _check_bounds(table, column, found, integer)


def _check_order_cycles(table: str, edges: list[tuple[Order, Constraint]]) -> None:
    succ: dict[str, list[tuple[str, Order, Constraint]]] = {}
    for r, c in edges:
        succ.setdefault(r.low, []).append((r.high, r, c))
    # depth-first search from each column (a loop per rule, bounded by the user's constraints)
    for start in list(succ):
        stack: list[tuple[str, list[tuple[Order, Constraint]]]] = [(start, [])]
        seen: set[str] = set()
        while stack:
            node, path = stack.pop()
            for nxt, r, c in succ.get(node, []):
                here = [*path, (r, c)]
                if nxt == start:
                    chain = start + "".join(f" {'<' if o.strict else '<='} {o.high}" for o, _ in here)
                    names = ", ".join(dict.fromkeys(k.constraint_class for _, k in here))
                    effect = ("no row keeps them all" if any(o.strict for o, _ in here)
                              else "they force the columns equal")
                    raise ConstraintError(f"constraints contradict each other: {chain} ({effect})",
                                          table=table, constraint=names,
                                          hint="Remove or reverse one of them.")
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, here))


def _check_bounds(table: str, column: str, found: list[tuple[Bound, Constraint]], integer: bool) -> None:
    lo, lo_strict, hi, hi_strict = -math.inf, False, math.inf, False
    for i, (b, _c) in enumerate(found):
        if b.low is not None and (b.low > lo or (b.low == lo and b.strict_low)):
            lo, lo_strict = b.low, b.strict_low
        if b.high is not None and (b.high < hi or (b.high == hi and b.strict_high)):
            hi, hi_strict = b.high, b.strict_high
        if integer:  # strict bounds of an integer column: the next whole number inside
            lo_i = math.floor(lo) + 1 if lo_strict and math.isfinite(lo) else math.ceil(lo) if math.isfinite(lo) else lo
            hi_i = math.ceil(hi) - 1 if hi_strict and math.isfinite(hi) else math.floor(hi) if math.isfinite(hi) else hi
            empty = lo_i > hi_i
        else:
            empty = lo > hi or (lo == hi and (lo_strict or hi_strict))
        if empty:
            names = ", ".join(dict.fromkeys(k.constraint_class for _, k in found[: i + 1]))
            shown = " and ".join(b.describe() for b, _ in found[: i + 1])
            raise ConstraintError(f"bounds contradict each other: {shown} leave no value", table=table,
                                  column=column, constraint=names, hint="Widen or remove one of them.")


# ---- switching rules off ------------------------------------------------------------------------------------
def check_off(off: Iterable[str], metadata: Metadata) -> list[str]:
    """The entries of a ``rules.off`` list, checked: each is a rule name (``order:rental:a,b``), a kind
    (``order``), a table (``table:rental``) or a kind in a table (``order:rental``).

    Returns:
        The entries, as a list.

    Raises:
        ConstraintError: an entry of an unknown kind or naming an unknown table.
    """
    kinds = [str(k) for k in RuleKind]
    out = []
    for entry in off:
        if not isinstance(entry, str) or not entry:
            raise ConstraintError(f"a rule to switch off must be a name (got {type(entry).__name__})",
                                  hint="Write a rule name, a kind (order), table:<table> or <kind>:<table>.")
        head, _, rest = entry.partition(":")
        if head != "table" and head not in kinds:
            raise ConstraintError(f"'{entry}' names no kind of rule ({_did_you_mean(head, [*kinds, 'table'])}"
                                  f"kinds: {', '.join(kinds)})",
                                  hint="Write a rule name, a kind (order), table:<table> or <kind>:<table>.")
        table = rest.partition(":")[0] if head != "table" else rest
        if (head == "table" or rest) and table not in metadata.tables:
            raise ConstraintError(f"'{entry}' names table '{table}', not a table of the metadata "
                                  f"({_did_you_mean(table, metadata.tables)}known: {', '.join(metadata.tables)})",
                                  table=table, hint="Name a table of the metadata.")
        out.append(entry)
    return out


# ---- learning at fit ----------------------------------------------------------------------------------------
def _scalar(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, np.generic):
        v = v.item()
        if isinstance(v, float) and math.isnan(v):
            return None
    if isinstance(v, str | bool | int | float):
        return v
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return str(v)


def learn_combinations(rule: Combination, frame: pd.DataFrame, min_count: int) -> Combination:
    """``rule`` with the combinations of its columns that at least ``min_count`` rows of ``frame`` hold
    (the model's k rule: every label stored was seen at least k times), most frequent first; NULL is a value.

    Args:
        rule: a user's :class:`~dbsynth.rules.records.Combination` (no combinations yet).
        frame: the table's real rows (all, or a uniform sample).
        min_count: the model's ``min_category_count``.
    """
    cols = list(rule.names)
    if frame.empty or any(c not in frame for c in cols):
        return rule
    counts = frame[cols].value_counts(dropna=False)
    counts = counts[counts >= max(int(min_count), 1)]
    combos = [(tuple(_scalar(v) for v in (key if isinstance(key, tuple) else (key,))), int(n))
              for key, n in counts.items()]
    combos.sort(key=lambda kv: (-kv[1], repr(kv[0])))  # stable across runs: count, then value
    return Combination(table=rule.table, origin=rule.origin, names=rule.names, combos=tuple(k for k, _ in combos),
                       support=int(counts.sum()))


# ---- the config -----------------------------------------------------------------------------------------------
def from_config(config: Any, metadata: Metadata) -> list[Constraint]:
    """The constraints of a config's ``tables: {t: {constraints: [...]}}``, checked against ``metadata``
    (and with each other), and its ``rules.off`` entries checked.

    Each item is SDV's dict form (``{constraint_class: Inequality, constraint_parameters: {...}}``) or the
    short form (``{Inequality: {low_column_name: a, high_column_name: b}}``, normalised to the first by
    :class:`dbsynth.config.ConstraintConfig`); the table is the one it is listed under.

    Args:
        config: a :class:`dbsynth.config.Config`.
        metadata: the tables the synthesizer models.

    Returns:
        The constraints, for ``synthesizer.add_constraints``.

    Raises:
        ConfigError: one line naming the file and the key path (``tables.orders.constraints[0]``).
    """
    from .config import table_key

    where = str(config.path) if getattr(config, "path", None) else "config"
    out: list[Constraint] = []
    for name, tcfg in config.tables.items():
        table = table_key(name, metadata, key=f"{where}: tables") or name
        for i, item in enumerate(tcfg.constraints):
            key = f"{where}: tables.{name}.constraints[{i}]"
            try:
                c = constraint_from_dict({"constraint_class": item.constraint_class,
                                          "constraint_parameters": item.constraint_parameters,
                                          **({"table_name": item.table_name} if item.table_name else {})},
                                         table_name=table)
                out.append(c.resolve(metadata))
            except ConstraintError as exc:
                raise ConfigError(f"{key}: {exc}") from None
    try:
        check_consistent(out, metadata)
    except ConstraintError as exc:
        raise ConfigError(f"{where}: tables: {exc}") from None
    rules_cfg = getattr(config, "rules", None)
    for i, entry in enumerate(getattr(rules_cfg, "off", None) or []):
        try:
            check_off([entry], metadata)
        except ConstraintError as exc:
            raise ConfigError(f"{where}: rules.off[{i}]: {exc}") from None
    return out
