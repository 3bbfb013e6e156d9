"""CHECK constraints as rules the sampler keeps (issue 17): parsed, evaluated on frames, satisfied.

Each :class:`~dbsynth.metadata.records.CheckConstraint` of a table is parsed with sqlglot (in the source's
dialect, or each dialect in turn) into a predicate over the table's columns, evaluated vectorised on a
sampled frame with SQL's three-valued logic (a CHECK passes when its expression is NULL). A
:class:`CheckRule` records how the rule was found, what shape it has and how the sampler keeps it:

* ``construct``: the shape is known and failing rows are changed to satisfy it, touching only the columns it
  names, never a foreign key nor a primary key (except the pattern of a string key that no foreign key
  holds, whose values are then drawn anew, distinct): comparisons with constants (clipped into the range,
  strict ones one step inside: 1 for integers, 10^-scale for decimals, a day for dates, a microsecond or
  the declared fractional-second precision for timestamps), ``BETWEEN``, ``IN`` lists (values of the rows
  that pass, else of the list), comparisons between two columns (the movable one goes to the other plus a
  gap drawn from the rows that pass), a column against an expression of others (clipped), ``IS NULL``
  combinations, ``AND`` (each part), ``OR`` (one part), ``LIKE``/``GLOB``/regex patterns (values made from
  the pattern), ``length(x)`` bounds;
* ``redraw``: parsed but of no known shape: failing rows take the rule's columns from rows that pass;
* ``opaque``: not parsed or not evaluable: kept (listed, logged once) but not enforced.

:func:`satisfy` applies the rules to a frame; :func:`first_failure` is the final verification
:func:`dbsynth.sample.repair.repair` raises :class:`CheckError` from.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..dialects import MYSQL, POSTGRESQL, SQLITE, Dialect, capabilities
from ..errors import DbsynthError
from ..frames import utc_microseconds
from ..metadata import sdtypes as st
from ..metadata.records import CheckConstraint, Column, Table
from .patterns import PatternError, StringPattern

__all__ = [
    "CheckError",
    "CheckRule",
    "CheckState",
    "compile_check",
    "compile_checks",
    "declared_rules",
    "domain_checks",
    "failure_error",
    "first_failure",
    "pattern_of",
    "satisfy",
]

log = logging.getLogger("dbsynth")

CONSTRUCT, REDRAW, OPAQUE = "construct", "redraw", "opaque"

#: Rounds of :func:`satisfy` over all rules (fixing one rule can break another naming the same column).
_ROUNDS = 4
#: Rounds of redrawing failing rows from rows that pass.
_REDRAW_ROUNDS = 8
#: Rows that pass a redrawn rule kept between batches (a batch where none passes draws from them).
_POOL_ROWS = 256

# The writable range of dates and timestamps: years 1 to 9999, in microseconds since 1970 (the frame
# contract's unit). The marker stamps (infinity, zero date) lie outside: values are never moved onto them.
_MIN_US = -62135596800_000000
_MAX_US = 253402300799_999999
_DAY_US = 86_400_000_000



class CheckError(DbsynthError):
    """Sampled rows break a CHECK constraint that the sampler could not satisfy."""


class _Unsupported(Exception):
    """A part of a CHECK this module cannot evaluate (the rule becomes opaque)."""


# ---- the rule record ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckRule:
    """One rule the synthetic rows must keep, and how the sampler keeps it.

    Attributes:
        table: the table it is on.
        name: the constraint's name (``<table>_check<i>`` when the CHECK has none).
        sqltext: the expression as the source spells it.
        origin: how it was found: ``declared`` (a CHECK constraint of the source).
        shape: what it says, e.g. ``range``, ``in``, ``order``, ``pattern``, ``length``, ``null``, ``and``,
            ``or``, ``expression`` (``opaque`` when not parsed).
        columns: the columns it names.
        enforcement: ``construct`` (satisfied by construction), ``redraw`` (failing rows redrawn from rows
            that pass) or ``opaque`` (not enforced).
        reason: why it is opaque (None otherwise).
    """

    table: str
    name: str
    sqltext: str
    origin: str
    shape: str
    columns: tuple[str, ...]
    enforcement: str
    reason: str | None = None
    predicate: Any = field(default=None, repr=False, compare=False)
    column_info: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def enforced(self) -> bool:
        """Whether the sampler makes every row keep this rule."""
        return self.enforcement != OPAQUE

    def evaluable(self, frame: pd.DataFrame) -> bool:
        """Whether ``frame`` holds every column the rule names (computed columns are absent from frames)."""
        return self.enforced and all(c in frame.columns for c in self.columns)

    def is_valid(self, frame: pd.DataFrame) -> np.ndarray:
        """Whether each row of ``frame`` keeps the rule (SQL semantics: NULL passes).

        Rows are all valid for an opaque rule or a frame without the rule's columns.
        """
        if not self.evaluable(frame):
            return np.ones(len(frame), dtype=bool)
        return ~self.predicate.fails(_Ctx(frame, self.column_info))


@dataclass
class CheckState:
    """What :func:`satisfy` keeps between the batches of one table.

    Attributes:
        pool: per rule redrawn, rows that passed it in earlier batches (its columns only).
        seen: per column whose values are drawn from a pattern and must be distinct (a string key, a unique
            column), the hashes of the values earlier batches kept.
    """

    pool: dict[str, pd.DataFrame] = field(default_factory=dict)
    seen: dict[str, Any] = field(default_factory=dict)


# ---- compiling ------------------------------------------------------------------------------------------
_CACHE: dict[tuple, list[CheckRule]] = {}
_LOGGED: set[tuple[str, str]] = set()


def _signature(table: Table, dialect: str | None) -> tuple:
    cols = tuple((c.name, c.type, c.length, c.scale, c.precision, c.bits, c.native_type, c.nullable, c.timezone,
                  c.computed is not None, tuple(c.enum_values or ())) for c in table.columns)
    keys = (tuple(table.primary_key), tuple(tuple(fk.columns) for fk in table.foreign_keys),
            tuple(tuple(u.columns) for u in table.unique_constraints))
    checks = tuple((c.name, c.sqltext) for c in table.check_constraints)
    return table.name, dialect, cols, keys, checks


def compile_checks(table: Table, dialect: str | None = None, domains: Iterable | None = None) -> list[CheckRule]:
    """The rules of ``table``'s CHECK constraints (cached: cheap to call on every batch).

    Args:
        table: the table.
        dialect: the source's dialect (``Metadata.dialect``: postgresql, mysql, sqlite); None: each is tried.
        domains: ``Metadata.native_objects`` (or any iterable holding them): the CHECKs of the PostgreSQL
            domains typing columns of ``table`` become rules on those columns too (see :func:`domain_checks`).

    Returns:
        One :class:`CheckRule` per CHECK constraint, in declaration order (domain CHECKs after the table's);
        opaque ones are logged once.
    """
    checks = list(table.check_constraints) + domain_checks(table, domains)
    if not checks:
        return []
    key = (_signature(table, dialect), tuple((c.name, c.sqltext) for c in checks))
    rules = _CACHE.get(key)
    if rules is None:
        rules = [compile_check(table, c.sqltext, c.name or f"{table.name}_check{i + 1}", dialect)
                 for i, c in enumerate(checks)]
        if len(_CACHE) > 4096:
            _CACHE.clear()
        _CACHE[key] = rules
        for r in rules:
            if r.enforcement == OPAQUE and (r.table, r.name) not in _LOGGED:
                _LOGGED.add((r.table, r.name))
                log.warning("table '%s', constraint '%s': CHECK not enforced by the sampler (%s); rows breaking "
                            "it will be refused by the target", r.table, r.name, r.reason)
    return rules


def declared_rules(metadata) -> dict[str, list[CheckRule]]:
    """``{table: rules}`` of every table of ``metadata`` with CHECK constraints, its own or its columns'
    domains' (for reports: a rule whose ``enforcement`` is ``opaque`` is not kept by the sampler)."""
    domains = getattr(metadata, "native_objects", None)
    out = {}
    for name, t in metadata.tables.items():
        rules = compile_checks(t, getattr(metadata, "dialect", None), domains)
        if rules:
            out[name] = rules
    return out


def domain_checks(table: Table, domains: Iterable | None) -> list[CheckConstraint]:
    """The CHECKs of the PostgreSQL domains typing columns of ``table``, as CHECKs on those columns
    (``VALUE`` replaced by the column; named ``<constraint> on <column>``).

    A same-dialect clone creates the domains (their statements are in ``Metadata.native_objects``), so the
    target enforces them as it enforces the table's own CHECKs.
    """
    found: dict[str, list[tuple[str, str]]] = {}
    for o in domains or ():
        if getattr(o, "kind", None) != "domain":
            continue
        for stmt in o.statements:
            for cname, expr in _domain_constraints(stmt):
                found.setdefault(o.name.lower(), []).append((cname, expr))
                found.setdefault(o.name.split(".")[-1].lower(), []).append((cname, expr))
    if not found:
        return []
    out = []
    for c in table.columns:
        native = (c.native_type or "").strip('"').lower()
        for cname, expr in found.get(native, []):
            out.append(CheckConstraint(_replace_value(expr, c.name), name=f"{cname} on {c.name}"))
    return out


def _domain_constraints(stmt: str) -> list[tuple[str, str]]:
    """(name, expression) of each ``CONSTRAINT name CHECK (expr)`` of a CREATE DOMAIN statement."""
    out = []
    for m in re.finditer(r"CONSTRAINT\s+(\"[^\"]+\"|\S+)\s+CHECK\s*\(", stmt):
        start = i = m.end()
        depth, quoted = 1, False
        while i < len(stmt) and depth:
            ch = stmt[i]
            if ch == "'":
                quoted = not quoted
            elif not quoted and ch == "(":
                depth += 1
            elif not quoted and ch == ")":
                depth -= 1
            i += 1
        if depth == 0:
            out.append((m.group(1).strip('"'), stmt[start: i - 1]))
    return out


def _replace_value(expr: str, column: str) -> str:
    """``expr`` with the keyword VALUE (outside string literals) replaced by the quoted column name."""
    quoted = '"' + column.replace('"', '""') + '"'
    parts = re.split(r"('(?:[^']|'')*')", expr)
    return "".join(p if i % 2 else re.sub(r"\bVALUE\b", quoted, p, flags=re.IGNORECASE)
                   for i, p in enumerate(parts))


def compile_check(table: Table, sqltext: str, name: str, dialect: str | None = None) -> CheckRule:
    """One CHECK of ``table`` as a :class:`CheckRule` (opaque, with the reason, when it cannot be parsed or
    evaluated)."""
    import sqlglot  # imported here: only tables with CHECKs pay for it

    info = {c.name: _ColInfo.of(c, table) for c in table.columns}
    reasons = []
    for d in _dialect_order(sqltext, dialect):
        try:
            tree = sqlglot.parse_one(sqltext, read=d)
        except Exception as e:
            reasons.append(f"{d}: {type(e).__name__}")
            continue
        try:
            pred = _Builder(table, info, d).pred(tree)
        except (_Unsupported, PatternError) as e:
            reasons.append(str(e))
            continue
        cols = tuple(sorted(pred.cols))
        static = _Ctx(None, info)
        enforcement = CONSTRUCT if pred.fixable(static) else REDRAW
        if enforcement == REDRAW and not any(static.can_change(c) for c in cols):
            enforcement = OPAQUE
            reasons.append("it names no column the sampler may change (only keys)")
            return CheckRule(table.name, name, sqltext, "declared", pred.shape, cols, enforcement, reasons[-1], pred,
                             info)
        return CheckRule(table.name, name, sqltext, "declared", pred.shape, cols, enforcement, None, pred, info)
    reason = reasons[0] if reasons else "empty"
    return CheckRule(table.name, name, sqltext, "declared", "opaque", (), OPAQUE, f"not understood: {reason}")


def _sqlglot(dialect: Dialect) -> str:
    return dialect.sqlglot or dialect.name


def _dialect_order(sqltext: str, dialect: str | None) -> list[str]:
    order = []
    if dialect:
        order.append(capabilities(dialect).sqlglot or dialect)
    # a guess from the spelling: backquotes are MySQL's, '::' casts and '~' matches PostgreSQL's
    if "`" in sqltext:
        order.append(_sqlglot(MYSQL))
    if "::" in sqltext or "~" in sqltext:
        order.append(_sqlglot(POSTGRESQL))
    order += [_sqlglot(d) for d in (POSTGRESQL, SQLITE, MYSQL)]
    return list(dict.fromkeys(order))


@dataclass(frozen=True)
class _ColInfo:
    """What evaluating and changing one column needs."""

    name: str
    kind: str  # num, bool, time, str, other
    family: str
    nullable: bool
    length: int | None
    scale: int | None
    precision: int | None
    bits: int | None
    tz: bool
    grid: float  # the step between values: 1 for integers, 10^-scale, a day / the fsp in microseconds, 0: continuous
    changeable: bool  # not a key, not computed, of a type the sampler can write
    pattern_key: bool  # a string primary-key column no foreign key holds: its values may be drawn from a pattern
    distinct: bool  # values must be distinct (a one-column primary key or unique constraint)
    enum_values: tuple | None

    @staticmethod
    def of(c: Column, table: Table) -> _ColInfo:
        fk_cols = {x for fk in table.foreign_keys for x in fk.columns}
        kind = _kind_of(c)
        if c.type == st.INTEGER:
            grid = 1.0
        elif c.type == st.DECIMAL and c.scale is not None:
            grid = 10.0 ** -c.scale
        elif c.type == st.DATE:
            grid = float(_DAY_US)
        elif c.type == st.TIMESTAMP:
            m = re.search(r"\((\d)\)", c.native_type or "")
            grid = float(10 ** (6 - int(m.group(1)))) if m and int(m.group(1)) <= 6 else 1.0
        else:
            grid = 0.0
        keyed = c.name in table.primary_key or c.name in fk_cols
        single_pk = list(table.primary_key) == [c.name]
        unique = single_pk or any(list(u.columns) == [c.name] for u in table.unique_constraints)
        return _ColInfo(
            c.name, kind, c.type, c.nullable, c.length, c.scale, c.precision, c.bits, c.timezone, grid,
            changeable=not keyed and c.computed is None and kind in ("num", "bool", "time", "str"),
            pattern_key=c.name in table.primary_key and c.name not in fk_cols and kind == "str" and c.computed is None,
            distinct=unique and c.name not in fk_cols,
            enum_values=tuple(c.enum_values) if c.enum_values else None,
        )


def _kind_of(c: Column) -> str:
    if c.type in (st.INTEGER, st.FLOAT, st.DECIMAL):
        return "num"
    if c.type == st.BOOL:
        return "bool"
    if c.type in (st.DATE, st.TIMESTAMP):
        return "time"
    if c.type in (st.STRING, st.ENUM, st.UUID):
        return "str"
    return "other"


# ---- values -------------------------------------------------------------------------------------------------
@dataclass
class _V:
    """Values of an expression over the rows: ``v`` (numbers float64, times int64 microseconds, strings
    objects with '' for NULL, booleans bool) and ``null``."""

    kind: str
    v: np.ndarray
    null: np.ndarray


class _Ctx:
    """A frame being evaluated (and changed, for :func:`satisfy`): column values are cached until written."""

    def __init__(self, frame: pd.DataFrame | None, info: dict[str, _ColInfo], rng: np.random.Generator | None = None,
                 state: CheckState | None = None) -> None:
        # a context that only asks what a fix may change (compile time) has no rows and never draws
        self.frame: pd.DataFrame = frame if frame is not None else pd.DataFrame()
        self.info = info
        self.rng: np.random.Generator = rng if rng is not None else np.random.default_rng(0)
        self.state = state
        self.n = len(self.frame)
        self._cache: dict[str, _V] = {}

    # what a fix may change
    def can_change(self, name: str, pattern: bool = False) -> bool:
        i = self.info.get(name)
        if i is None:
            return False
        return i.changeable or (pattern and i.pattern_key)

    def kind(self, name: str) -> str:
        return self.info[name].kind

    def val(self, name: str) -> _V:
        got = self._cache.get(name)
        if got is None:
            got = self._cache[name] = _column_values(self.frame[name], self.info[name])
        return got

    def put(self, name: str, rows: np.ndarray, values) -> None:
        """Write ``values`` (in the column's frame dtype or kind units) into the rows ``rows`` (bool mask)."""
        if not rows.any():
            return
        self.frame[name] = _assign(self.frame[name], self.info[name], rows, values)
        self._cache.pop(name, None)

    def take(self, name: str, rows: np.ndarray, source_rows: np.ndarray) -> None:
        """Copy the values of ``source_rows`` (positions) into ``rows`` (bool mask) of column ``name``."""
        s = self.frame[name]
        arr = s.to_numpy(dtype=object) if not isinstance(s.dtype, np.dtype) else s.to_numpy()
        self._put_raw(name, rows, arr[source_rows])

    def _put_raw(self, name: str, rows: np.ndarray, raw: np.ndarray) -> None:
        s = self.frame[name]
        if isinstance(s.dtype, np.dtype):
            arr = s.to_numpy(copy=True)
            arr[rows] = raw
            self.frame[name] = pd.Series(arr, index=s.index, name=s.name)
        else:
            new = s.copy()
            new.iloc[np.flatnonzero(rows)] = raw
            self.frame[name] = new
        self._cache.pop(name, None)


def _column_values(s: pd.Series, info: _ColInfo) -> _V:
    n = len(s)
    if info.kind == "num":
        if pd.api.types.is_bool_dtype(s.dtype):
            v = s.astype("float64").to_numpy()
        elif s.dtype == np.float64:
            v = s.to_numpy()
        else:
            v = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        return _V("num", v, np.isnan(v))
    if info.kind == "bool":
        null = s.isna().to_numpy()
        v = s.fillna(False).astype(bool).to_numpy() if null.any() else s.astype(bool).to_numpy()
        return _V("bool", v, null)
    if info.kind == "time":
        v, null = utc_microseconds(s)
        if info.grid > 1:  # what a target of that precision stores
            g = int(info.grid)
            v = (v // g) * g
        return _V("time", v, null)
    arr = s.to_numpy(dtype=object)
    null = pd.isna(arr) if n else np.zeros(0, dtype=bool)
    null = np.asarray(null, dtype=bool)
    if info.kind == "str":
        v = arr.copy()
        v[null] = ""
        if n and not all(isinstance(x, str) for x in v[~null][:50]):
            v = np.array([x if isinstance(x, str) else str(x) for x in v], dtype=object)
        return _V("str", v, null)
    return _V("other", arr, null)


def _assign(s: pd.Series, info: _ColInfo, rows: np.ndarray, values) -> pd.Series:
    """``s`` with ``values`` (kind units: float numbers, int64 microseconds, str, bool) in ``rows``."""
    values = np.asarray(values)
    if info.kind == "num":
        x = values.astype("float64")
        if info.family == st.INTEGER:
            x = np.round(x)
        elif info.scale is not None:
            x = np.round(x, info.scale)
        if isinstance(s.dtype, np.dtype) and s.dtype.kind in "iu":
            arr = s.to_numpy(copy=True)
            arr[rows] = x.astype(s.dtype)
            return pd.Series(arr, index=s.index, name=s.name)
        if s.dtype == np.float64:
            arr = s.to_numpy(copy=True)
            arr[rows] = x
            return pd.Series(arr, index=s.index, name=s.name)
        new = s.copy()
        if str(s.dtype) == "Int64":
            new.iloc[np.flatnonzero(rows)] = x.astype("int64")
        elif s.dtype == object:
            new = new.astype(object)
            new.iloc[np.flatnonzero(rows)] = list(x.astype("int64") if info.family == st.INTEGER else x)
        else:
            new.iloc[np.flatnonzero(rows)] = x
        return new
    if info.kind == "time":
        us = values.astype("int64")
        if info.grid >= _DAY_US:
            us = (us // _DAY_US) * _DAY_US
        stamps = us.astype("datetime64[us]")
        if getattr(getattr(s, "dt", None), "tz", None) is not None:
            new = s.copy()
            new.iloc[np.flatnonzero(rows)] = pd.DatetimeIndex(stamps).tz_localize("UTC").tz_convert(s.dt.tz)
            return new
        if isinstance(s.dtype, np.dtype) and s.dtype.kind == "M":
            arr = s.to_numpy(copy=True)
            arr[rows] = stamps.astype(s.dtype)
            return pd.Series(arr, index=s.index, name=s.name)
        new = s.astype(object).copy()
        new.iloc[np.flatnonzero(rows)] = list(pd.DatetimeIndex(stamps))
        return new
    if info.kind == "bool":
        if isinstance(s.dtype, np.dtype) and s.dtype == bool:
            arr = s.to_numpy(copy=True)
            arr[rows] = values.astype(bool)
            return pd.Series(arr, index=s.index, name=s.name)
        new = s.copy()
        new.iloc[np.flatnonzero(rows)] = values.astype(bool)
        return new
    new = s.astype(object).copy() if s.dtype != object else s.copy()
    new.iloc[np.flatnonzero(rows)] = list(values)
    return new


def _fits(info: _ColInfo, x: np.ndarray) -> np.ndarray:
    """Whether each new value (kind units) can be written to the column."""
    if info.kind == "num":
        ok = np.isfinite(x)
        if info.family == st.INTEGER:
            bits = info.bits or 64
            ok &= (x >= -(2.0 ** (bits - 1))) & (x <= 2.0 ** (bits - 1) - 1)
        elif info.family == st.DECIMAL and info.precision is not None:
            scale = info.scale or 0
            ok &= np.abs(x) <= 10.0 ** (info.precision - scale) - 10.0**-scale + 1e-12
        return ok
    if info.kind == "time":
        return (x >= _MIN_US) & (x <= _MAX_US)
    if info.kind == "str" and info.length is not None:
        return np.fromiter((len(v) <= info.length for v in x), dtype=bool, count=len(x))
    return np.ones(len(x), dtype=bool)


# ---- expressions ----------------------------------------------------------------------------------------------
class _Expr:
    kind: str = "other"
    cols: frozenset = frozenset()
    is_int: bool = False

    def eval(self, ctx: _Ctx) -> _V:  # pragma: no cover - abstract
        raise NotImplementedError


class _Col(_Expr):
    def __init__(self, name: str, info: _ColInfo) -> None:
        self.name, self.kind, self.cols = name, info.kind, frozenset([name])
        self.is_int = info.family == st.INTEGER

    def eval(self, ctx):
        return ctx.val(self.name)


class _Const(_Expr):
    def __init__(self, value, kind: str) -> None:
        self.value, self.kind = value, kind
        self.is_int = kind == "num" and isinstance(value, int)

    def eval(self, ctx):
        n = ctx.n
        if self.value is None:
            fill = {"num": np.nan, "time": 0, "span": 0, "bool": False}.get(self.kind, "")
            dtype = {"num": "float64", "time": "int64", "span": "int64", "bool": bool}.get(self.kind, object)
            return _V(self.kind, np.full(n, fill, dtype=dtype), np.ones(n, dtype=bool))
        dtype = {"num": "float64", "time": "int64", "span": "int64", "bool": bool}.get(self.kind, object)
        return _V(self.kind, np.full(n, self.value, dtype=dtype), np.zeros(n, dtype=bool))


class _Arith(_Expr):
    def __init__(self, op: str, left: _Expr, right: _Expr, int_division: bool) -> None:
        self.op, self.left, self.right = op, left, right
        self.cols = left.cols | right.cols
        kinds = (left.kind, right.kind)
        self.day_scale = 1
        if kinds == ("num", "num"):
            self.kind = "num"
        elif op in "+-" and kinds[0] == "time" and kinds[1] in ("num", "span"):
            # date + integer (PostgreSQL: days), time + interval
            self.kind, self.day_scale = "time", (_DAY_US if kinds[1] == "num" else 1)
        elif op == "+" and kinds == ("span", "time"):
            self.left, self.right, self.kind = right, left, "time"
        elif op == "-" and kinds == ("time", "time"):
            self.kind = "num"
            self.day_scale = _DAY_US
        else:
            raise _Unsupported(f"arithmetic '{op}' on {kinds[0]} and {kinds[1]}")
        self.is_int = left.is_int and right.is_int and op in "+-*%"
        self.int_division = int_division and op == "/" and left.is_int and right.is_int

    def eval(self, ctx):
        a, b = self.left.eval(ctx), self.right.eval(ctx)
        null = a.null | b.null
        if self.kind == "time":
            step = b.v * self.day_scale if self.right.kind == "num" else b.v
            x = a.v.astype("float64") + (step if self.op == "+" else -step)
            x = np.where(null | (np.abs(x) > 9.2e18), 0, x)
            return _V("time", x.astype("int64"), null | (np.abs(a.v.astype("float64")) > 9.2e18))
        if self.left.kind == "time":  # time - time: days
            x = (a.v.astype("float64") - b.v.astype("float64")) / self.day_scale
            return _V("num", x, null)
        with np.errstate(all="ignore"):
            x, y = a.v, b.v
            if self.op == "+":
                r = x + y
            elif self.op == "-":
                r = x - y
            elif self.op == "*":
                r = x * y
            elif self.op == "/":
                r = np.trunc(x / y) if self.int_division else x / y
                null = null | (y == 0)
            else:
                r = np.fmod(x, y)
                null = null | (y == 0)
        r = np.where(null, np.nan, r)
        return _V("num", r, null | np.isnan(r))


class _Neg(_Expr):
    def __init__(self, inner: _Expr) -> None:
        if inner.kind != "num":
            raise _Unsupported("minus of a non-number")
        self.inner, self.kind, self.cols, self.is_int = inner, "num", inner.cols, inner.is_int

    def eval(self, ctx):
        a = self.inner.eval(ctx)
        return _V("num", -a.v, a.null)


class _Cast(_Expr):
    def __init__(self, inner: _Expr, kind: str, to_date: bool, is_int: bool, truncate: bool = False) -> None:
        ok = {("str", "str"), ("num", "str"), ("num", "num"), ("str", "num"), ("bool", "num"), ("time", "time"),
              ("str", "time"), ("bool", "bool"), ("num", "bool")}
        if (inner.kind, kind) not in ok:
            raise _Unsupported(f"cast of {inner.kind} to {kind}")
        self.inner, self.kind, self.cols = inner, kind, inner.cols
        self.to_date = to_date and kind == "time"
        self.to_int = is_int and kind == "num"
        self.truncate = truncate
        self.is_int = is_int or (inner.is_int and kind == "num")

    def eval(self, ctx):
        a = self.inner.eval(ctx)
        src = self.inner.kind
        if src == self.kind:
            if self.to_date:
                return _V("time", (a.v // _DAY_US) * _DAY_US, a.null)
            if self.to_int:  # CAST(x AS integer): SQLite truncates, the others round half away from zero
                v = np.trunc(a.v) if self.truncate else np.sign(a.v) * np.floor(np.abs(a.v) + 0.5)
                return _V("num", v, a.null)
            return a
        if self.kind == "str":  # from numbers
            v = np.array([_num_text(x) for x in a.v], dtype=object)
            v[a.null] = ""
            return _V("str", v, a.null)
        if self.kind == "num":
            v = a.v.astype("float64") if src == "bool" else pd.to_numeric(pd.Series(a.v), errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan)
            return _V("num", v, a.null | np.isnan(v))
        if self.kind == "bool":
            return _V("bool", a.v != 0, a.null)
        t = pd.to_datetime(pd.Series(a.v), errors="coerce", utc=True).dt.tz_localize(None)
        arr = t.to_numpy(dtype="datetime64[us]")
        null = a.null | np.isnat(arr)
        v = arr.view("int64").copy()
        v[null] = 0
        if self.to_date:
            v = (v // _DAY_US) * _DAY_US
        return _V("time", v, null)


def _num_text(x: float) -> str:
    return str(int(x)) if np.isfinite(x) and float(x).is_integer() else repr(float(x))


class _Func(_Expr):
    """length, lower, upper, trim, abs, coalesce, concatenation."""

    def __init__(self, name: str, args: list[_Expr], byte_length: bool = False) -> None:
        self.name, self.args = name, args
        self.cols = frozenset().union(*(a.cols for a in args))
        self.byte_length = byte_length
        kinds = {a.kind for a in args}
        if name == "length" and kinds <= {"str"}:
            self.kind, self.is_int = "num", True
        elif name in ("lower", "upper", "trim", "concat") and kinds <= {"str"}:
            self.kind = "str"
        elif name == "abs" and kinds == {"num"}:
            self.kind, self.is_int = "num", args[0].is_int
        elif name == "coalesce" and len(kinds - {"null"}) == 1:
            self.kind = next(iter(kinds - {"null"}))
        else:
            raise _Unsupported(f"function {name} of {sorted(kinds)}")

    def eval(self, ctx):
        vals = [a.eval(ctx) for a in self.args]
        a = vals[0]
        if self.name == "length":
            if self.byte_length:
                v = np.fromiter((len(x.encode("utf-8")) for x in a.v), dtype="float64", count=len(a.v))
            else:
                v = np.fromiter((len(x) for x in a.v), dtype="float64", count=len(a.v))
            return _V("num", v, a.null)
        if self.name in ("lower", "upper", "trim"):
            s = pd.Series(a.v, dtype=object)
            s = s.str.lower() if self.name == "lower" else s.str.upper() if self.name == "upper" else s.str.strip(" ")
            return _V("str", s.to_numpy(dtype=object), a.null)
        if self.name == "abs":
            return _V("num", np.abs(a.v), a.null)
        if self.name == "concat":
            v = vals[0].v.copy()
            null = vals[0].null.copy()
            for b in vals[1:]:
                v = v + b.v
                null |= b.null
            return _V("str", v, null)
        out_v, out_null = a.v.copy(), a.null.copy()
        for b in vals[1:]:
            take = out_null & ~b.null
            out_v[take] = b.v[take]
            out_null &= b.null
        return _V(a.kind, out_v, out_null)


class _Part(_Expr):
    """EXTRACT(part FROM x), date_part('part', x), YEAR(x): a number."""

    _PARTS = ("year", "month", "day", "hour", "minute", "second", "dow", "doy", "quarter", "week")

    def __init__(self, part: str, inner: _Expr) -> None:
        part = part.strip("'").lower()
        if inner.kind != "time" or part not in self._PARTS:
            raise _Unsupported(f"EXTRACT({part}) of a {inner.kind}")
        self.part, self.inner, self.kind, self.cols, self.is_int = part, inner, "num", inner.cols, part != "second"

    def eval(self, ctx):
        a = self.inner.eval(ctx)
        t = pd.Series(a.v.astype("datetime64[us]"))
        if self.part == "dow":  # PostgreSQL: Sunday is 0
            v = (t.dt.dayofweek.to_numpy() + 1) % 7
        elif self.part == "doy":
            v = t.dt.dayofyear.to_numpy()
        elif self.part == "week":
            v = t.dt.isocalendar().week.to_numpy(dtype="int64")
        elif self.part == "second":
            v = t.dt.second.to_numpy() + t.dt.microsecond.to_numpy() / 1e6
        else:
            v = getattr(t.dt, self.part).to_numpy()
        return _V("num", np.asarray(v, dtype="float64"), a.null)


def _under(e: _Expr) -> str | None:
    """The column under ``upper``/``lower``/``trim`` (or a cast to its kind): a value of a row where the
    expression passes can be copied to one where it fails."""
    if isinstance(e, _Func) and e.name in ("upper", "lower", "trim") and len(e.args) == 1:
        return _under(e.args[0])
    if isinstance(e, _Cast) and e.kind == "str":
        return _under(e.inner)
    return _lone(e)


def _lone(e: _Expr) -> str | None:
    """The column ``e`` is, when it is one (possibly cast to its own kind)."""
    if isinstance(e, _Col):
        return e.name
    if isinstance(e, _Cast) and isinstance(e.inner, _Col) and e.inner.kind == e.kind and not e.to_date:
        return e.inner.name
    return None


# ---- predicates ----------------------------------------------------------------------------------------------
class _Pred:
    cols: frozenset = frozenset()
    shape = "expression"

    def truth(self, ctx: _Ctx) -> tuple[np.ndarray, np.ndarray]:
        """(true, known) per row."""
        raise NotImplementedError  # pragma: no cover

    def fails(self, ctx: _Ctx) -> np.ndarray:
        t, k = self.truth(ctx)
        return k & ~t

    def negate(self) -> _Pred:
        raise _Unsupported("NOT of this expression")

    def fixable(self, ctx: _Ctx) -> bool:
        return False

    def fix(self, ctx: _Ctx, rows: np.ndarray) -> None:
        pass


class _Bool(_Pred):
    shape = "constant"

    def __init__(self, value: bool) -> None:
        self.value = value

    def truth(self, ctx):
        return np.full(ctx.n, self.value), np.ones(ctx.n, dtype=bool)

    def negate(self):
        return _Bool(not self.value)


_FLIP = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_INVERSE = {"=": "<>", "<>": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}


def _compare(op: str, a: _V, b: _V) -> tuple[np.ndarray, np.ndarray]:
    known = ~a.null & ~b.null
    x, y = a.v, b.v
    if a.kind == "bool" or b.kind == "bool":
        x, y = x.astype("float64"), y.astype("float64")
    with np.errstate(invalid="ignore"):
        if op == "=":
            t = x == y
        elif op == "<>":
            t = x != y
        elif op == "<":
            t = x < y
        elif op == "<=":
            t = x <= y
        elif op == ">":
            t = x > y
        else:
            t = x >= y
    t = np.asarray(t, dtype=bool)
    return t & known, known


class _Cmp(_Pred):
    def __init__(self, op: str, left: _Expr, right: _Expr) -> None:
        self.op, self.left, self.right = op, left, right
        self.cols = left.cols | right.cols
        la, lb = _lone(left), _lone(right)
        if la and lb:
            self.shape = "order"
        elif (la or lb) and not (left.cols and right.cols):
            self.shape = "range"
        elif isinstance(left, _Func) and left.name == "length" or isinstance(right, _Func) and right.name == "length":
            self.shape = "length"

    def truth(self, ctx):
        return _compare(self.op, self.left.eval(ctx), self.right.eval(ctx))

    def negate(self):
        return _Cmp(_INVERSE[self.op], self.left, self.right)

    def _plan(self, ctx):
        la, lb = _lone(self.left), _lone(self.right)
        if (la and lb and la != lb and self.left.kind == self.right.kind and self.left.kind in ("num", "time")
                and (ctx.can_change(la) or ctx.can_change(lb))):
            return ("order", la, self.op, lb)
        if la and la not in self.right.cols and ctx.can_change(la) and self._settable(ctx, la):
            return ("clip", la, self.op, self.right)
        if lb and lb not in self.left.cols and ctx.can_change(lb) and self._settable(ctx, lb):
            return ("clip", lb, _FLIP[self.op], self.left)
        for side, other, op in ((self.left, self.right, self.op), (self.right, self.left, _FLIP[self.op])):
            if (isinstance(side, _Func) and side.name == "length" and len(side.args) == 1
                    and isinstance(side.args[0], _Col) and ctx.can_change(side.args[0].name)
                    and side.args[0].name not in other.cols and other.kind == "num"):
                return ("length", side.args[0].name, op, other, side.byte_length)
        return None

    def _settable(self, ctx, name) -> bool:
        kind = ctx.kind(name)
        return kind in ("num", "time") or self.op in ("=", "<=", ">=")

    def fixable(self, ctx):
        return self._plan(ctx) is not None

    def fix(self, ctx, rows):
        plan = self._plan(ctx)
        if plan is None:
            return
        if plan[0] == "clip":
            _clip(ctx, plan[1], plan[2], plan[3], rows)
        elif plan[0] == "order":
            _order(ctx, plan[1], plan[2], plan[3], rows)
        else:
            _fix_length(ctx, plan[1], plan[2], plan[3], rows, plan[4])


def _snap(op: str, v: np.ndarray, grid: float, kind: str) -> np.ndarray:
    """The value nearest ``v`` on the column's grid that keeps ``column op v``."""
    if kind == "time":
        g = max(int(grid), 1)
        v = v.astype("int64")
        if op == "<=":
            return (v // g) * g
        if op == "<":
            return ((v - 1) // g) * g
        if op == ">=":
            return -((-v) // g) * g
        if op == ">":
            return (v // g + 1) * g
        if op == "=":
            return v
        return (v // g + 1) * g  # <>: one step up
    if grid <= 0:
        if op in ("<=", ">=", "="):
            return v
        return np.nextafter(v, -np.inf if op == "<" else np.inf)
    q = v / grid
    tol = 4 * np.finfo(float).eps * np.abs(q) + 1e-9
    if op == "<=":
        k = np.floor(q + tol)
    elif op == "<":
        k = np.ceil(q - tol) - 1
    elif op == ">=":
        k = np.ceil(q - tol)
    elif op == ">":
        k = np.floor(q + tol) + 1
    elif op == "=":
        k = np.round(q)
    else:
        k = np.floor(q + tol) + 1
    return k * grid


def _clip(ctx: _Ctx, name: str, op: str, other: _Expr, rows: np.ndarray) -> None:
    """Failing rows of ``name op other`` get the nearest value that keeps it."""
    o = other.eval(ctx)
    rows = rows & ~o.null
    if not rows.any():
        return
    info = ctx.info[name]
    if info.kind in ("num", "time"):
        target = o.v[rows]
        if o.kind == "bool":
            target = target.astype("float64")
        new = _snap(op, target, info.grid, info.kind)
        ok = _fits(info, new)
        if op == "<>" and not ok.all():
            new = np.where(ok, new, _snap("<", target, info.grid, info.kind))
            ok = _fits(info, new)
    else:  # strings and booleans: only = and the non-strict bounds, which the other side's value keeps
        new = o.v[rows].astype(bool) if info.kind == "bool" else o.v[rows]
        ok = _fits(info, new)
    sel = rows.copy()
    sel[rows] = ok
    ctx.put(name, sel, new[ok])


def _order(ctx: _Ctx, a: str, op: str, b: str, rows: np.ndarray) -> None:
    """Failing rows of ``a op b`` (two columns): the movable one goes to the other plus a gap drawn from the
    gaps of the rows that pass (or the smallest step)."""
    if op in ("=", "<>"):
        target, other = (a, b) if ctx.can_change(a) else (b, a)
        _clip(ctx, target, op, _Col(other, ctx.info[other]), rows)
        return
    hi, lo = (a, b) if op in (">", ">=") else (b, a)
    strict = op in (">", "<")
    hv, lv = ctx.val(hi), ctx.val(lo)
    pair = ~hv.null & ~lv.null
    gap_all = hv.v.astype("float64") - lv.v.astype("float64")
    valid = pair & ((gap_all > 0) if strict else (gap_all >= 0))
    if hv.kind == "time":  # gaps between writable dates only (not from or to a marker stamp)
        valid &= (hv.v >= _MIN_US) & (hv.v <= _MAX_US) & (lv.v >= _MIN_US) & (lv.v <= _MAX_US)
    gaps = gap_all[valid]
    order = [hi, lo] if ctx.can_change(hi) else [lo]
    if ctx.can_change(lo) and lo not in order:
        order.append(lo)
    for target in order:
        hv, lv = ctx.val(hi), ctx.val(lo)
        bad = rows & pair & ~((hv.v > lv.v) if strict else (hv.v >= lv.v))
        if not bad.any():
            return
        k = int(bad.sum())
        g = gaps[ctx.rng.integers(len(gaps), size=k)] if len(gaps) else np.zeros(k)
        info = ctx.info[target]
        if target == hi:
            base = lv.v[bad]
            new = _move(base, g, +1, ">" if strict else ">=", info)
        else:
            base = hv.v[bad]
            new = _move(base, g, -1, "<" if strict else "<=", info)
        ok = _fits(info, new)
        if not ok.all():  # the drawn gap leaves the type's range: the smallest step instead
            small = _move(base, np.zeros(k), +1 if target == hi else -1,
                          (">" if strict else ">=") if target == hi else ("<" if strict else "<="), info)
            new = np.where(ok, new, small)
            ok = _fits(info, new)
        sel = bad.copy()
        sel[bad] = ok
        ctx.put(target, sel, new[ok])


def _move(base: np.ndarray, gap: np.ndarray, sign: int, op: str, info: _ColInfo) -> np.ndarray:
    """``base + sign*gap`` on the column's grid, kept on the right side of ``base`` (``op`` is how the moved
    column must compare with ``base``)."""
    if info.kind == "time":
        b = base.astype("float64")
        cand = b + sign * gap
        cand = np.clip(cand, -9.2e18, 9.2e18).astype("int64")
        near = _snap(op, base.astype("int64"), info.grid, "time")
        far = _snap(">=" if sign > 0 else "<=", cand, info.grid, "time")
        return np.maximum(far, near) if sign > 0 else np.minimum(far, near)
    cand = base + sign * gap
    near = _snap(op, base, info.grid, "num")
    far = _snap(">=" if sign > 0 else "<=", cand, info.grid, "num")
    return np.maximum(far, near) if sign > 0 else np.minimum(far, near)


def _fix_length(ctx: _Ctx, name: str, op: str, other: _Expr, rows: np.ndarray, byte_length: bool) -> None:
    o = other.eval(ctx)
    rows = rows & ~o.null & ~ctx.val(name).null
    if not rows.any():
        return
    bound = o.v[rows]
    if op == "<=":
        lo, hi = np.zeros_like(bound), np.floor(bound)
    elif op == "<":
        lo, hi = np.zeros_like(bound), np.ceil(bound) - 1
    elif op == ">=":
        lo, hi = np.ceil(bound), np.full_like(bound, np.inf)
    elif op == ">":
        lo, hi = np.floor(bound) + 1, np.full_like(bound, np.inf)
    elif op == "=":
        lo = hi = bound
    else:
        return
    info = ctx.info[name]
    old = ctx.val(name).v[rows]
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    out = []
    for value, a, b in zip(old, lo, hi):
        v = value
        size = (lambda s: len(s.encode("utf-8"))) if byte_length else len
        while size(v) > b and v:
            v = v[:-1] if byte_length else v[: int(max(b, 0))]
        if size(v) < a and np.isfinite(a):
            v = v + "".join(ctx.rng.choice(letters, size=int(a) - size(v)))
        out.append(v)
    new = np.array(out, dtype=object)
    ok = _fits(info, new)
    sel = rows.copy()
    sel[rows] = ok
    ctx.put(name, sel, new[ok])


class _In(_Pred):
    shape = "in"

    def __init__(self, expr: _Expr, values: list, has_null: bool, negate: bool = False) -> None:
        self.expr, self.values, self.has_null, self.negated = expr, values, has_null, negate
        self.cols = expr.cols

    def truth(self, ctx):
        a = self.expr.eval(ctx)
        if a.kind == "str":
            hit = pd.Series(a.v, dtype=object).isin(self.values).to_numpy()
        else:
            x = a.v.astype("float64") if a.kind == "bool" else a.v
            hit = np.isin(x, np.asarray(self.values, dtype=x.dtype if a.kind != "bool" else "float64"))
        known = ~a.null & (hit | (not self.has_null))
        t = hit if not self.negated else ~hit
        return t & known, known

    def negate(self):
        return _In(self.expr, self.values, self.has_null, not self.negated)

    def fixable(self, ctx):
        name = _under(self.expr)
        return name is not None and ctx.can_change(name)

    def fix(self, ctx, rows):
        name = _under(self.expr)
        if name is None or not ctx.can_change(name):
            return
        t, _ = self.truth(ctx)
        k = int(rows.sum())
        pool = np.flatnonzero(t)
        if len(pool):  # values of rows that pass: the sampled frequencies
            ctx.take(name, rows, pool[ctx.rng.integers(len(pool), size=k)])
            return
        if self.negated:
            return
        info = ctx.info[name]
        allowed = list(self.values)
        if info.enum_values:
            allowed = [v for v in allowed if v in info.enum_values]
        arr = np.asarray(allowed, dtype=object if info.kind == "str" else None)
        if info.kind == "bool":
            arr = arr.astype(bool)
        arr = arr[_fits(info, arr)] if len(arr) else arr
        if not len(arr):
            return
        ctx.put(name, rows, arr[ctx.rng.integers(len(arr), size=k)])


class _IsNull(_Pred):
    shape = "null"

    def __init__(self, expr: _Expr, negate: bool = False) -> None:
        self.expr, self.negated, self.cols = expr, negate, expr.cols

    def truth(self, ctx):
        a = self.expr.eval(ctx)
        t = ~a.null if self.negated else a.null.copy()
        return t, np.ones(ctx.n, dtype=bool)

    def negate(self):
        return _IsNull(self.expr, not self.negated)

    def fixable(self, ctx):
        name = _lone(self.expr)
        return name is not None and ctx.can_change(name) and (self.negated or ctx.info[name].nullable)

    def fix(self, ctx, rows):
        if not self.fixable(ctx):
            return
        name = _lone(self.expr)
        if not self.negated:
            s = ctx.frame[name]
            # the frame contract's NULL-holding dtypes: Int64 for integers, boolean for booleans
            if isinstance(s.dtype, np.dtype) and s.dtype.kind in "iu":
                new = s.astype("Int64")
            elif isinstance(s.dtype, np.dtype) and s.dtype.kind == "b":
                new = s.astype("boolean")
            else:
                new = s.copy()
            new.iloc[np.flatnonzero(rows)] = None
            ctx.frame[name] = new
            ctx._cache.pop(name, None)
            return
        pool = np.flatnonzero(~ctx.val(name).null)
        if len(pool):
            ctx.take(name, rows, pool[ctx.rng.integers(len(pool), size=int(rows.sum()))])


class _Match(_Pred):
    shape = "pattern"

    def __init__(self, expr: _Expr, pattern: StringPattern, negate: bool = False) -> None:
        if expr.kind != "str":
            raise _Unsupported("pattern match on a non-string")
        self.expr, self.pattern, self.negated, self.cols = expr, pattern, negate, expr.cols

    def truth(self, ctx):
        a = self.expr.eval(ctx)
        hit = self.pattern.matches(a.v)
        t = ~hit if self.negated else hit
        return t & ~a.null, ~a.null

    def negate(self):
        return _Match(self.expr, self.pattern, not self.negated)

    def fixable(self, ctx):
        name = _lone(self.expr)
        if name is None:
            return False
        if self.negated:
            return ctx.can_change(name)
        return ctx.can_change(name, pattern=True)

    def fix(self, ctx, rows):
        name = _lone(self.expr)
        if name is None:
            return
        if self.negated:
            t, _ = self.truth(ctx)
            pool = np.flatnonzero(t)
            if len(pool) and ctx.can_change(name):
                ctx.take(name, rows, pool[ctx.rng.integers(len(pool), size=int(rows.sum()))])
            return
        if not ctx.can_change(name, pattern=True):
            return
        info = ctx.info[name]
        new = self.pattern.conform(ctx.val(name).v[rows], ctx.rng, info.length)
        ok = _fits(info, new) & self.pattern.matches(new)
        sel = rows.copy()
        sel[rows] = ok
        ctx.put(name, sel, new[ok])


class _And(_Pred):
    shape = "and"

    def __init__(self, parts: list[_Pred]) -> None:
        self.parts = parts
        self.cols = frozenset().union(*(p.cols for p in parts))
        shapes = {p.shape for p in parts}
        if len(shapes) == 1:
            self.shape = shapes.pop()  # x >= 0 AND x < 100: a range

    def truth(self, ctx):
        true_all = np.ones(ctx.n, dtype=bool)
        false_any = np.zeros(ctx.n, dtype=bool)
        for p in self.parts:
            t, k = p.truth(ctx)
            true_all &= t
            false_any |= k & ~t
        return true_all, true_all | false_any

    def negate(self):
        return _Or([p.negate() for p in self.parts])

    def fixable(self, ctx):
        return any(p.fixable(ctx) for p in self.parts)

    def fix(self, ctx, rows):
        for _ in range(3):
            for p in self.parts:
                bad = rows & p.fails(ctx)
                if bad.any():
                    p.fix(ctx, bad)
            if not (rows & self.fails(ctx)).any():
                return


class _Or(_Pred):
    shape = "or"

    def __init__(self, parts: list[_Pred]) -> None:
        self.parts = parts
        self.cols = frozenset().union(*(p.cols for p in parts))

    def truth(self, ctx):
        true_any = np.zeros(ctx.n, dtype=bool)
        false_all = np.ones(ctx.n, dtype=bool)
        for p in self.parts:
            t, k = p.truth(ctx)
            true_any |= t
            false_all &= k & ~t
        return true_any, true_any | false_all

    def negate(self):
        return _And([p.negate() for p in self.parts])

    def fixable(self, ctx):
        return any(p.fixable(ctx) for p in self.parts)

    def fix(self, ctx, rows):
        # keep the data where possible: a part that changes values before one that blanks them (x IS NULL)
        parts = sorted(self.parts, key=lambda p: isinstance(p, _IsNull) and not p.negated)
        for p in parts:
            bad = rows & self.fails(ctx)
            if not bad.any():
                return
            if p.fixable(ctx):
                p.fix(ctx, bad)


# ---- sqlglot tree -> predicate ----------------------------------------------------------------------------------
class _Builder:
    def __init__(self, table: Table, info: dict[str, _ColInfo], dialect: str) -> None:
        self.table, self.info, self.dialect = table, info, dialect
        self.lower = {n.lower(): n for n in info}

    def pred(self, node) -> _Pred:
        from sqlglot import exp

        negate = bool(node.args.get("negate")) if hasattr(node, "args") else False
        p = self._pred(node, exp)
        return p.negate() if negate and not isinstance(node, (exp.And, exp.Or, exp.Not)) else p

    def _pred(self, node, exp) -> _Pred:
        if isinstance(node, exp.Paren):
            return self.pred(node.this)
        if isinstance(node, exp.And):
            return _And(self._flatten(node, exp.And))
        if isinstance(node, exp.Or):
            return _Or(self._flatten(node, exp.Or))
        if isinstance(node, exp.Not):
            return self.pred(node.this).negate()
        if isinstance(node, exp.Boolean):
            return _Bool(bool(node.this))
        ops = {exp.EQ: "=", exp.NEQ: "<>", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">="}
        for cls, op in ops.items():
            if type(node) is cls:
                return self._comparison(op, node.this, node.expression, exp)
        if isinstance(node, exp.Between):
            x = self.expr(node.this)
            lo, hi = self.expr(node.args["low"]), self.expr(node.args["high"])
            x, lo = _unify(x, lo)
            x, hi = _unify(x, hi)
            p = _And([_Cmp(">=", x, lo), _Cmp("<=", x, hi)])
            p.shape = "range"
            return p
        if isinstance(node, exp.In):
            if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
                raise _Unsupported("IN over a query")
            return self._in(node.this, node.expressions, exp)
        if isinstance(node, exp.Is):
            if isinstance(node.expression, exp.Null):
                return _IsNull(self.expr(node.this))
            raise _Unsupported("IS TRUE/FALSE")
        if isinstance(node, exp.Escape):
            inner = node.this
            esc = self._string(node.expression, exp)
            if isinstance(inner, (exp.Like, exp.ILike)):
                return self._like(inner, esc, exp)
            raise _Unsupported("ESCAPE")
        if isinstance(node, (exp.Like, exp.ILike)):
            return self._like(node, capabilities(self.dialect).like_escape, exp)
        if isinstance(node, (exp.RegexpLike, exp.RegexpILike)):
            x = self.expr(node.this)
            pattern = StringPattern.regexp(self._string(node.expression, exp),
                                           ignore_case=isinstance(node, exp.RegexpILike))
            return _Match(x, pattern)
        if isinstance(node, exp.Glob):
            return _Match(self.expr(node.this), StringPattern.glob(self._string(node.expression, exp)))
        raise _Unsupported(f"{type(node).__name__} expression")

    def _flatten(self, node, cls) -> list[_Pred]:
        out = []
        for side in (node.this, node.expression):
            if isinstance(side, cls):
                out += self._flatten(side, cls)
            else:
                out.append(self.pred(side))
        return out

    def _like(self, node, escape, exp) -> _Pred:
        x = self.expr(node.this)
        pattern = StringPattern.like(self._string(node.expression, exp), escape,
                                     ignore_case=isinstance(node, exp.ILike))
        p = _Match(x, pattern)
        return p.negate() if node.args.get("negate") else p

    def _comparison(self, op, left, right, exp) -> _Pred:
        # x = ANY (ARRAY[...]) is PostgreSQL's spelling of IN; x <> ALL (ARRAY[...]) of NOT IN
        for a, b, o in ((left, right, op), (right, left, _FLIP[op])):
            quant = _strip(b, exp)
            if isinstance(quant, exp.Any) and o == "=":
                return self._in(a, _array_items(quant.this, exp), exp)
            if (isinstance(quant, exp.All) or isinstance(quant, exp.Anonymous) and str(quant.this).upper() == "ALL") \
                    and o == "<>":
                inner = quant.this if isinstance(quant, exp.All) else quant.expressions[0]
                return self._in(a, _array_items(inner, exp), exp).negate()
            if isinstance(quant, (exp.Any, exp.All)):
                raise _Unsupported("ANY/ALL with an operator other than = and <>")
        x, y = _unify(self.expr(left), self.expr(right))
        if "other" in (x.kind, y.kind) or "span" in (x.kind, y.kind):
            raise _Unsupported(f"comparison of {x.kind} and {y.kind}")
        if x.kind != y.kind and not {x.kind, y.kind} <= {"num", "bool"}:
            raise _Unsupported(f"comparison of {x.kind} and {y.kind}")
        return _Cmp(op, x, y)

    def _in(self, this, items, exp) -> _Pred:
        x = self.expr(this)
        if x.kind not in ("num", "str", "time", "bool"):
            raise _Unsupported(f"IN on a {x.kind}")
        values, has_null = [], False
        for item in items:
            c = self.expr(item)
            if not isinstance(c, _Const):
                raise _Unsupported("IN list with non-constant items")
            if c.value is None:
                has_null = True
                continue
            _, unified = _unify(x, c)
            c = unified if isinstance(unified, _Const) else c  # _unify turns a constant into a constant
            if c.kind != x.kind and not {c.kind, x.kind} <= {"num", "bool"}:
                raise _Unsupported(f"IN list of {c.kind} values for a {x.kind}")
            values.append(float(c.value) if x.kind in ("num", "bool") else c.value)
        return _In(x, values, has_null)

    def _string(self, node, exp) -> str:
        node = _strip(node, exp)
        if isinstance(node, exp.Literal) and node.is_string:
            return node.this
        raise _Unsupported("a pattern that is not a string constant")

    # ---- scalar expressions ----
    def expr(self, node) -> _Expr:
        from sqlglot import exp

        if isinstance(node, exp.Paren):
            return self.expr(node.this)
        if isinstance(node, exp.Column):
            if node.table:
                pass  # a qualified column is still one of this table's
            name = node.name
            real = name if name in self.info else self.lower.get(name.lower())
            if real is None:
                raise _Unsupported(f"unknown column '{name}'")
            return _Col(real, self.info[real])
        if isinstance(node, exp.Literal):
            if node.is_string:
                return _Const(node.this, "str")
            text = node.this
            value: int | float
            try:
                value = int(text)
            except ValueError:
                value = float(text)
            return _Const(value, "num")
        if isinstance(node, exp.Null):
            return _Const(None, "null")
        if isinstance(node, exp.Boolean):
            return _Const(bool(node.this), "bool")
        if isinstance(node, exp.Neg):
            inner = self.expr(node.this)
            if isinstance(inner, _Const) and inner.kind == "num":
                return _Const(-inner.value, "num")
            return _Neg(inner)
        arith = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.Mod: "%"}
        for cls, op in arith.items():
            if type(node) is cls:
                left, right = self.expr(node.this), self.expr(node.expression)
                return _Arith(op, left, right, int_division=capabilities(self.dialect).integer_division)
        if isinstance(node, exp.Interval):
            return _Const(_interval_us(node, exp), "span")
        if isinstance(node, (exp.Cast, exp.TryCast)):
            return self._cast(node, exp)
        if isinstance(node, exp.Length):
            return _Func("length", [self.expr(node.this)], byte_length=bool(node.args.get("binary")))
        if isinstance(node, exp.Lower):
            return _Func("lower", [self.expr(node.this)])
        if isinstance(node, exp.Upper):
            return _Func("upper", [self.expr(node.this)])
        if isinstance(node, exp.Trim):
            if node.args.get("expression") is not None:
                raise _Unsupported("TRIM of other characters")
            return _Func("trim", [self.expr(node.this)])
        if isinstance(node, exp.Abs):
            return _Func("abs", [self.expr(node.this)])
        if isinstance(node, exp.Coalesce):
            return _Func("coalesce", [self.expr(node.this)] + [self.expr(e) for e in node.expressions])
        if isinstance(node, exp.DPipe):
            return _Func("concat", [self.expr(node.this), self.expr(node.expression)])
        if isinstance(node, exp.Concat):
            return _Func("concat", [self.expr(e) for e in node.expressions])
        if isinstance(node, exp.Extract):
            return _Part(str(node.this.name if hasattr(node.this, "name") else node.this), self.expr(node.expression))
        for class_name, part in (("Year", "year"), ("Month", "month"), ("Day", "day")):
            if type(node).__name__ == class_name:
                inner = node.this
                if type(inner).__name__ in ("TsOrDsToDate", "TsOrDsToTimestamp"):
                    inner = inner.this
                return _Part(part, self.expr(inner))
        if isinstance(node, (exp.CurrentTimestamp, exp.CurrentDate)) or (
                isinstance(node, exp.Anonymous) and str(node.this).lower() in ("now", "sysdate")):
            # a CHECK against the current time holds at insert time: the time of sampling
            now = pd.Timestamp.now(tz="UTC").tz_localize(None)
            us = int(now.value // 1000)
            return _Const((us // _DAY_US) * _DAY_US if isinstance(node, exp.CurrentDate) else us, "time")
        if isinstance(node, exp.Anonymous) and str(node.this).lower() in ("char_length", "character_length", "len"):
            return _Func("length", [self.expr(node.expressions[0])])
        if isinstance(node, exp.Anonymous) and str(node.this).lower() == "date_part" and len(node.expressions) == 2:
            return _Part(self._string(node.expressions[0], exp), self.expr(node.expressions[1]))
        raise _Unsupported(f"{type(node).__name__} expression")

    def _cast(self, node, exp) -> _Expr:
        inner = self.expr(node.this)
        to = node.to
        is_int = False
        to_date = False
        if to.is_type(*exp.DataType.TEXT_TYPES):
            kind = "str"
        elif to.is_type(*exp.DataType.NUMERIC_TYPES):
            kind = "num"
            is_int = to.is_type(*exp.DataType.INTEGER_TYPES) if hasattr(exp.DataType, "INTEGER_TYPES") else False
        elif to.is_type(exp.DataType.Type.DATE, exp.DataType.Type.DATE32):
            kind, to_date = "time", True
        elif to.is_type(*exp.DataType.TEMPORAL_TYPES) and not to.is_type(exp.DataType.Type.TIME,
                                                                          exp.DataType.Type.TIMETZ):
            kind = "time"
        elif to.is_type(exp.DataType.Type.BOOLEAN):
            kind = "bool"
        elif to.is_type(exp.DataType.Type.USERDEFINED) and inner.kind == "str":
            return inner  # a cast to an enum or domain type of the column: the value as it is
        else:
            raise _Unsupported(f"cast to {to.sql()}")
        if isinstance(inner, _Const):
            return _const_as(inner, kind, to_date)
        return _Cast(inner, kind, to_date, is_int, truncate=capabilities(self.dialect).cast_truncates)


def _strip(node, exp):
    """``node`` without parentheses and casts (what a quantifier or a pattern is, under PostgreSQL's
    decoration)."""
    while isinstance(node, (exp.Paren, exp.Cast)):
        node = node.this
    return node


def _array_items(node, exp) -> list:
    node = _strip(node, exp)
    if isinstance(node, exp.Array):
        return list(node.expressions)
    raise _Unsupported("ANY over something other than an array constant")


def _interval_us(node, exp) -> int:
    units = {"MICROSECOND": 1, "MILLISECOND": 1000, "SECOND": 10**6, "MINUTE": 60 * 10**6, "HOUR": 3600 * 10**6,
             "DAY": _DAY_US, "WEEK": 7 * _DAY_US}
    text = str(node.this.this if isinstance(node.this, exp.Literal) else node.this)
    unit = node.args.get("unit")
    unit_name = (unit.name if unit is not None else "").upper().rstrip("S")
    if not unit_name:
        parts = text.split()
        if len(parts) != 2:
            raise _Unsupported("interval")
        text, unit_name = parts[0], parts[1].upper().rstrip("S")
    if unit_name not in units:
        raise _Unsupported(f"interval in {unit_name.lower()}s")
    try:
        return round(float(text) * units[unit_name])
    except ValueError:
        raise _Unsupported("interval") from None


def _const_as(c: _Const, kind: str, to_date: bool = False) -> _Const:
    """A constant in another kind (the casts PostgreSQL writes around literals: ``0::numeric``,
    ``'2020-01-01'::date``)."""
    if c.value is None or c.kind == kind and not to_date:
        return _Const(c.value, kind if c.value is None else c.kind)
    if kind == "str":
        if c.kind == "num":
            return _Const(_num_text(float(c.value)) if isinstance(c.value, float) else str(c.value), "str")
        if c.kind == "str":
            return c
    if kind == "num":
        if c.kind == "bool":
            return _Const(int(c.value), "num")
        if c.kind == "str":
            try:
                return _Const(int(c.value) if re.fullmatch(r"[+-]?\d+", c.value.strip()) else float(c.value), "num")
            except ValueError:
                raise _Unsupported("a string constant that is not a number") from None
    if kind == "time":
        if c.kind == "str":
            try:
                ts = pd.Timestamp(c.value)
            except (ValueError, TypeError):
                raise _Unsupported("a string constant that is not a date") from None
            if ts.tzinfo is not None:
                ts = ts.tz_convert("UTC").tz_localize(None)
            us = int(ts.value // 1000)
            if to_date:
                us = (us // _DAY_US) * _DAY_US
            return _Const(us, "time")
        if c.kind == "time":
            return _Const((c.value // _DAY_US) * _DAY_US if to_date else c.value, "time")
    if kind == "bool" and c.kind == "num":
        return _Const(bool(c.value), "bool")
    raise _Unsupported(f"a {c.kind} constant as {kind}")


def _unify(x: _Expr, y: _Expr) -> tuple[_Expr, _Expr]:
    """Bring a constant to the kind of the other side (strings compared with dates or numbers)."""
    if isinstance(y, _Const) and y.kind != x.kind and x.kind in ("time", "num", "str", "bool"):
        if y.kind == "null":
            return x, _Const(None, x.kind)
        if not (x.kind == "str" and y.kind == "num"):  # '5' = 5 compares as numbers in MySQL: not guessed
            try:
                return x, _const_as(y, x.kind)
            except _Unsupported:
                return x, y
    if isinstance(x, _Const) and x.kind != y.kind:
        b, a = _unify(y, x)
        return a, b
    return x, y


# ---- applying the rules --------------------------------------------------------------------------------------------
def satisfy(frame: pd.DataFrame, table: Table, rules: list[CheckRule], rng: np.random.Generator,
            state: CheckState | None = None) -> pd.DataFrame:
    """Change the failing rows of ``frame`` so that they keep every enforced rule of ``rules``.

    Rules whose shape is known are satisfied by construction; the rows still failing take the rule's columns
    from rows that pass (of this frame, and of earlier batches through ``state``), for a bounded number of
    rounds. Rows that still fail are left as they are (see :func:`first_failure`).

    Args:
        frame: a sampled frame (frame contract); its columns are replaced, never written in place.
        table: the table it is for.
        rules: from :func:`compile_checks`.
        rng: random source (the result is deterministic given it).
        state: for a table sampled in batches, kept between them.

    Returns:
        The frame (the same object, with changed columns replaced).
    """
    active = [r for r in rules if r.evaluable(frame)]
    _log_missing(rules, frame)
    if not active or not len(frame):
        return frame
    ctx = _Ctx(frame, active[0].column_info, rng, state)
    ctx.n = len(frame)
    for _ in range(_ROUNDS):
        clean = True
        for r in active:
            bad = r.predicate.fails(ctx)
            if not bad.any():
                continue
            clean = False
            if r.enforcement == CONSTRUCT:
                r.predicate.fix(ctx, bad)
                bad = r.predicate.fails(ctx)
            if bad.any():
                _redraw(ctx, r, bad)
        if clean:
            break
    if state is not None:
        for r in active:
            if r.enforcement == REDRAW:
                ok = ~r.predicate.fails(ctx)
                cols = [c for c in r.columns if ctx.can_change(c)]
                if ok.any() and cols:
                    state.pool[r.name] = ctx.frame.loc[ok, cols].iloc[:_POOL_ROWS].reset_index(drop=True)
    return ctx.frame


def _redraw(ctx: _Ctx, rule: CheckRule, bad: np.ndarray) -> None:
    """Failing rows take the rule's changeable columns, together, from a row that passes."""
    cols = [c for c in rule.columns if ctx.can_change(c)]
    if not cols:
        return
    extra: pd.DataFrame | None = ctx.state.pool.get(rule.name) if ctx.state is not None else None
    for _ in range(_REDRAW_ROUNDS):
        ok = np.flatnonzero(~rule.predicate.fails(ctx))
        n_extra = 0 if extra is None else len(extra)
        if not len(ok) and not n_extra:
            return
        k = int(bad.sum())
        pick = ctx.rng.integers(len(ok) + n_extra, size=k)
        local = pick < len(ok)
        for c in cols:
            if local.all() or extra is None:  # a pick past the passing rows is one of the pool's (extra)
                ctx.take(c, bad, ok[pick])
            else:
                s = ctx.frame[c]
                here = s.to_numpy(dtype=object)
                vals = np.empty(k, dtype=object)
                vals[local] = here[ok[pick[local]]]
                vals[~local] = extra[c].to_numpy(dtype=object)[pick[~local] - len(ok)]
                ctx._put_raw(c, bad, vals)
                ctx.frame[c] = _restore_dtype(ctx.frame[c], s.dtype)
        bad = bad & rule.predicate.fails(ctx)
        if not bad.any():
            return


def _restore_dtype(s: pd.Series, dtype) -> pd.Series:
    try:
        return s.astype(dtype)
    except (TypeError, ValueError):
        return s


def _log_missing(rules: list[CheckRule], frame: pd.DataFrame) -> None:
    for r in rules:
        if r.enforced and not r.evaluable(frame) and (r.table, r.name) not in _LOGGED:
            _LOGGED.add((r.table, r.name))
            log.warning("table '%s', constraint '%s': CHECK not enforced by the sampler (it names a computed or "
                        "unsampled column)", r.table, r.name)


def first_failure(frame: pd.DataFrame, rules: list[CheckRule]) -> tuple[CheckRule, int] | None:
    """The first enforced rule some row of ``frame`` breaks, and how many rows break it (None: all kept)."""
    for r in rules:
        if r.evaluable(frame):
            bad = int((~r.is_valid(frame)).sum())
            if bad:
                return r, bad
    return None


def failure_error(table: Table, rule: CheckRule, rows: int) -> CheckError:
    """The error for rows that still break ``rule`` after every repair (no row values)."""
    return CheckError(
        f"{rows} sampled row(s) still break the CHECK constraint after repair",
        table=table.name, constraint=rule.name,
        hint=f"Set the table to 'mode: copy' in the config, or report the constraint ({rule.shape}) so that its "
             "shape can be kept by construction",
    )


def pattern_of(rules: Iterable[CheckRule], column: str) -> tuple[StringPattern, CheckRule] | None:
    """The string pattern every non-NULL value of ``column`` must match (a rule that is a positive pattern on
    that column, alone or as a part of an AND), with its rule; None when there is none."""
    for r in rules:
        if not r.enforced:
            continue
        parts = r.predicate.parts if isinstance(r.predicate, _And) else [r.predicate]
        for p in parts:
            if isinstance(p, _Match) and not p.negated and _lone(p.expr) == column:
                return p.pattern, r
    return None

