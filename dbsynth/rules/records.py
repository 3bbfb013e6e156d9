"""Typed records of the rules a clone keeps (issue 17): what discovery finds, users declare, the sampler keeps
and the report scores.

One class per kind of rule, all frozen dataclasses under :class:`Rule`. A rule names its table (for
cross-table kinds, the table whose rows it constrains and the related table in its fields), where it came from
(:class:`RuleOrigin`) and how many real rows supported it when discovered. :attr:`Rule.name` is a stable,
typeable id (``order:rental:rental_date,return_date``): the config switches a rule off by it, the report and
``dbsynth inspect --rules`` list it. Records turn into plain JSON dicts (:meth:`Rule.to_dict`) and back
(:func:`rule_from_dict`), strictly: an unknown kind or key is a :class:`~dbsynth.errors.ModelFileError`.

Values held by a rule (a domain, the pairs of a dependency, the combinations of columns) are labels the model
already stores under the same k rule (seen at least ``min_category_count`` times), so a model file holds no
more of the source than before. Custom rules (a user's Python class) are never stored: they are code, given
again at each run (``add_constraints`` or the config).

Where the rules are found, kept and scored: :mod:`dbsynth.rules.discover`, :mod:`dbsynth.rules.keep` (within a
table), :mod:`dbsynth.sample.engine` (across tables), :mod:`dbsynth.rules.evaluate`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from ..errors import ModelFileError

__all__ = [
    "RULES_FORMAT_VERSION",
    "Aggregate",
    "Bound",
    "Check",
    "Combination",
    "Copied",
    "Custom",
    "Dependency",
    "Domain",
    "Increment",
    "OneHot",
    "Order",
    "ParentSum",
    "Rule",
    "RuleKind",
    "RuleOrigin",
    "RuleScore",
    "RuleSet",
    "SameAncestor",
    "Unique",
    "rule_from_dict",
]

#: Version of the dict layout of :class:`RuleSet`; bumped when a field changes meaning.
RULES_FORMAT_VERSION = 1

Scalar = str | int | float | bool | None


class RuleKind(enum.StrEnum):
    """The kinds of rule (the first part of :attr:`Rule.name`).

    ``CHECK`` a declared CHECK constraint; ``ORDER`` one column at most (or below) another; ``BOUND`` a column
    within constants; ``UNIQUE`` columns unique together (non-key columns, key-less bridge pairs);
    ``DOMAIN`` a discrete numeric's few values; ``DEPENDENCY`` columns determining another (city -> country);
    ``COMBINATION`` columns taking only the combinations seen; ``INCREMENT`` multiples of a step; ``ONE_HOT``
    exactly one of the columns is 1; ``SAME_ANCESTOR`` a child's reference to P equals its other parent's
    reference to P; ``PARENT_SUM`` a child column's sum per parent within a bound; ``AGGREGATE`` a parent column
    equal to a sum or count over its children; ``COPIED`` a child column equal to its parent's; ``CUSTOM`` a
    user's class.
    """

    CHECK = "check"
    ORDER = "order"
    BOUND = "bound"
    UNIQUE = "unique"
    DOMAIN = "domain"
    DEPENDENCY = "dependency"
    COMBINATION = "combination"
    INCREMENT = "increment"
    ONE_HOT = "one_hot"
    SAME_ANCESTOR = "same_ancestor"
    PARENT_SUM = "parent_sum"
    AGGREGATE = "aggregate"
    COPIED = "copied"
    CUSTOM = "custom"


class RuleOrigin(enum.StrEnum):
    """Where a rule comes from: ``DECLARED`` by the schema, ``DISCOVERED`` in the real rows at fit time,
    ``USER`` given in the API or the config."""

    DECLARED = "declared"
    DISCOVERED = "discovered"
    USER = "user"


@dataclass(frozen=True, kw_only=True)
class Rule:
    """Base of every rule record."""

    kind: ClassVar[RuleKind]

    table: str
    """The table whose rows the rule constrains."""
    origin: RuleOrigin = RuleOrigin.DISCOVERED
    """Declared, discovered or given by the user."""
    support: int = 0
    """Real rows (or parents, for per-parent kinds) the rule held in when discovered; 0 otherwise."""

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns of :attr:`table` the rule names, in a stable order."""
        raise NotImplementedError

    @property
    def name(self) -> str:
        """Stable id: ``kind:table:columns`` (what the config switches off)."""
        return f"{self.kind}:{self.table}:{','.join(self.columns)}"

    def describe(self) -> str:
        """The rule as a person reads it (``rental.return_date >= rental.rental_date``)."""
        return self.name

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: ``kind`` plus every field (tuples as lists)."""
        out: dict[str, Any] = {"kind": str(self.kind)}
        for f in fields(self):
            out[f.name] = _plain(getattr(self, f.name))
        return out


def _plain(v: Any) -> Any:
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, tuple | list):
        return [_plain(x) for x in v]
    return v


def _tuples(v: Any) -> Any:
    """JSON lists back into (nested) tuples."""
    if isinstance(v, list):
        return tuple(_tuples(x) for x in v)
    return v


@dataclass(frozen=True, kw_only=True)
class Check(Rule):
    """A declared CHECK constraint (kept by :mod:`dbsynth.rules.checks`; listed and scored like the others)."""

    kind: ClassVar[RuleKind] = RuleKind.CHECK
    constraint: str
    """The constraint's name (or the start of its text when unnamed)."""
    sqltext: str
    """Its expression, in the source's SQL."""
    names: tuple[str, ...] = ()
    """The columns it names, when known."""

    @property
    def columns(self) -> tuple[str, ...]:
        return self.names

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.table}:{self.constraint}"

    def describe(self) -> str:
        return f"CHECK ({self.sqltext}) on {self.table}"


@dataclass(frozen=True, kw_only=True)
class Order(Rule):
    """``low <= high`` (``<`` when strict) in every row where both are set; numbers, dates or timestamps."""

    kind: ClassVar[RuleKind] = RuleKind.ORDER
    low: str
    high: str
    strict: bool = False
    gaps: tuple[float, ...] = ()
    """Quantiles of ``high - low`` in the real rows (numbers; microseconds for timestamps, days for dates),
    what a row that breaks the rule takes its gap from; empty: the rows that keep it give theirs."""

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.low, self.high)

    def describe(self) -> str:
        return f"{self.table}.{self.high} {'>' if self.strict else '>='} {self.table}.{self.low}"


@dataclass(frozen=True, kw_only=True)
class Bound(Rule):
    """``column`` within constants (SDV's ``ScalarInequality``, ``ScalarRange``, ``Positive``, ``Negative``)."""

    kind: ClassVar[RuleKind] = RuleKind.BOUND
    column: str
    low: float | None = None
    """Smallest value (None: unbounded); for date and timestamp columns, microseconds since 1970-01-01 UTC."""
    high: float | None = None
    """Largest value (None: unbounded), in the unit of :attr:`low`."""
    strict_low: bool = False
    strict_high: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def describe(self) -> str:
        parts = []
        if self.low is not None:
            parts.append(f"{self.low} {'<' if self.strict_low else '<='}")
        parts.append(f"{self.table}.{self.column}")
        if self.high is not None:
            parts.append(f"{'<' if self.strict_high else '<='} {self.high}")
        return " ".join(parts)


@dataclass(frozen=True, kw_only=True)
class Unique(Rule):
    """The columns are unique together where all are set (a non-key column; a key-less bridge table's pair)."""

    kind: ClassVar[RuleKind] = RuleKind.UNIQUE
    names: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.names

    def describe(self) -> str:
        return f"{self.table}({', '.join(self.names)}) unique"


@dataclass(frozen=True, kw_only=True)
class Domain(Rule):
    """A discrete numeric column takes only ``values`` (besides NULL)."""

    kind: ClassVar[RuleKind] = RuleKind.DOMAIN
    column: str
    values: tuple[Scalar, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def describe(self) -> str:
        return f"{self.table}.{self.column} in {len(self.values)} values"


@dataclass(frozen=True, kw_only=True)
class Dependency(Rule):
    """``determinant`` columns determine ``dependent``: each combination of the first maps to one value
    (``pairs``: ``(determinant values, dependent value)``, labels seen at least k times)."""

    kind: ClassVar[RuleKind] = RuleKind.DEPENDENCY
    determinant: tuple[str, ...]
    dependent: str
    pairs: tuple[tuple[tuple[Scalar, ...], Scalar], ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.determinant, self.dependent)

    def describe(self) -> str:
        return f"{self.table}: {', '.join(self.determinant)} -> {self.dependent}"


@dataclass(frozen=True, kw_only=True)
class Combination(Rule):
    """The columns take only the combinations in ``combos`` (SDV's ``FixedCombinations``; a user's rule learns
    them at fit time)."""

    kind: ClassVar[RuleKind] = RuleKind.COMBINATION
    names: tuple[str, ...]
    combos: tuple[tuple[Scalar, ...], ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.names

    def describe(self) -> str:
        return f"{self.table}({', '.join(self.names)}): {len(self.combos)} combinations"


@dataclass(frozen=True, kw_only=True)
class Increment(Rule):
    """``column`` is a multiple of ``step`` (SDV's ``FixedIncrements``)."""

    kind: ClassVar[RuleKind] = RuleKind.INCREMENT
    column: str
    step: float

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def describe(self) -> str:
        return f"{self.table}.{self.column} in steps of {self.step:g}"


@dataclass(frozen=True, kw_only=True)
class OneHot(Rule):
    """Exactly one of ``names`` is 1, the others 0 (SDV's ``OneHotEncoding``)."""

    kind: ClassVar[RuleKind] = RuleKind.ONE_HOT
    names: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.names

    def describe(self) -> str:
        return f"{self.table}: one of {', '.join(self.names)}"


@dataclass(frozen=True, kw_only=True)
class SameAncestor(Rule):
    """Two paths to one ancestor agree: ``table.direct`` (a reference to ``ancestor``) equals the reference to
    ``ancestor`` of the ``parent`` row ``table.via`` points at (a payment's customer is its rental's customer).

    Only rows where ``via`` is set are constrained.
    """

    kind: ClassVar[RuleKind] = RuleKind.SAME_ANCESTOR
    direct: tuple[str, ...]
    """The table's columns referencing the ancestor."""
    via: tuple[str, ...]
    """The table's columns referencing ``parent``."""
    parent: str
    """The other parent, which references the ancestor itself."""
    parent_key: tuple[str, ...]
    """The ``parent`` columns ``via`` references."""
    parent_direct: tuple[str, ...]
    """The ``parent`` columns referencing the ancestor, in the order of ``direct``."""
    ancestor: str

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.direct, *self.via)

    def describe(self) -> str:
        return (f"{self.table}.{','.join(self.direct)} = {self.parent}.{','.join(self.parent_direct)} "
                f"through {self.table}.{','.join(self.via)}")


@dataclass(frozen=True, kw_only=True)
class ParentSum(Rule):
    """Per value of ``by`` (a reference), the sum of ``column`` is at most ``bound`` (exactly ``bound`` when
    ``exact``): the shares of a country's languages add up to at most 100."""

    kind: ClassVar[RuleKind] = RuleKind.PARENT_SUM
    column: str
    by: tuple[str, ...]
    bound: float
    exact: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.by, self.column)

    def describe(self) -> str:
        return f"sum({self.table}.{self.column}) per {','.join(self.by)} {'=' if self.exact else '<='} {self.bound:g}"


@dataclass(frozen=True, kw_only=True)
class Aggregate(Rule):
    """A parent column equal to an aggregate of its children: ``table.column = sum(prod(child.terms))`` over the
    ``child`` rows whose ``by`` references the ``table`` row's ``key`` (``function="count"``: their number).

    Parents without children hold ``empty`` (0, or None for NULL).
    """

    kind: ClassVar[RuleKind] = RuleKind.AGGREGATE
    column: str
    child: str
    by: tuple[str, ...]
    """The child's referencing columns."""
    key: tuple[str, ...]
    """The table's referenced columns (in the order of ``by``)."""
    terms: tuple[str, ...] = ()
    """Child columns multiplied in each row (``("unit_price", "quantity")``); empty for a count."""
    function: str = "sum"
    """``sum`` or ``count``."""
    empty: float | None = 0.0

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.table}:{self.column}={self.function}({self.child}.{'*'.join(self.terms)})"

    def describe(self) -> str:
        inner = "*".join(f"{self.child}.{t}" for t in self.terms) or "*"
        return f"{self.table}.{self.column} = {self.function}({inner})"


@dataclass(frozen=True, kw_only=True)
class Copied(Rule):
    """A child column equal to its parent's: ``table.column = parent.parent_column`` through ``by``."""

    kind: ClassVar[RuleKind] = RuleKind.COPIED
    column: str
    by: tuple[str, ...]
    """The table's referencing columns."""
    parent: str
    key: tuple[str, ...]
    """The parent's referenced columns (in the order of ``by``)."""
    parent_column: str

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def describe(self) -> str:
        return f"{self.table}.{self.column} = {self.parent}.{self.parent_column}"


@dataclass(frozen=True, kw_only=True)
class Custom(Rule):
    """A user's constraint class (``is_valid(frame) -> bool mask``, optionally ``reverse_transform(frame)``),
    by import path; never stored in a model file."""

    kind: ClassVar[RuleKind] = RuleKind.CUSTOM
    path: str
    """``package.module:Class`` or ``package.module.Class``."""
    names: tuple[str, ...] = ()
    """The columns it constrains (the ones redrawn when a row fails)."""
    params: tuple[tuple[str, Any], ...] = ()
    """Keyword arguments of the class, as ``(name, value)`` pairs."""

    @property
    def columns(self) -> tuple[str, ...]:
        return self.names

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.table}:{self.path}"


_KINDS: dict[str, type[Rule]] = {
    c.kind.value: c
    for c in (Check, Order, Bound, Unique, Domain, Dependency, Combination, Increment, OneHot, SameAncestor,
              ParentSum, Aggregate, Copied, Custom)
}


def rule_from_dict(d: Any) -> Rule:
    """A rule from :meth:`Rule.to_dict`.

    Raises:
        ModelFileError: not a dict, an unknown kind, an unknown or missing key.
    """
    if not isinstance(d, Mapping) or d.get("kind") not in _KINDS:
        kind = d.get("kind") if isinstance(d, Mapping) else type(d).__name__
        raise ModelFileError(f"rules: unknown rule kind {kind!r}",
                             hint="Re-create the model with fit() and save() of this dbsynth version.")
    cls = _KINDS[d["kind"]]
    known = {f.name for f in fields(cls)}
    body = {k: v for k, v in d.items() if k != "kind"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise ModelFileError(f"rules: unknown key(s) {', '.join(unknown)} in a rule of kind {d['kind']!r}",
                             hint="Re-create the model with fit() and save() of this dbsynth version.")
    kw = {k: _tuples(v) for k, v in body.items()}
    if "origin" in kw:
        kw["origin"] = RuleOrigin(kw["origin"])
    try:
        return cls(**kw)
    except TypeError as exc:
        raise ModelFileError(f"rules: a rule of kind {d['kind']!r} is incomplete ({exc})",
                             hint="Re-create the model with fit() and save().") from None


@dataclass(frozen=True)
class RuleSet:
    """The rules of a schema, in a stable order; what a fitted model stores and the engine keeps."""

    rules: tuple[Rule, ...] = ()

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def for_table(self, table: str) -> list[Rule]:
        """The rules constraining ``table``'s rows."""
        return [r for r in self.rules if r.table == table]

    def of_kind(self, *kinds: RuleKind) -> list[Rule]:
        """The rules of the given kinds."""
        return [r for r in self.rules if r.kind in kinds]

    def names(self) -> list[str]:
        return [r.name for r in self.rules]

    def without(self, off: Iterable[str]) -> RuleSet:
        """The set without rules switched off: each entry of ``off`` is a rule :attr:`~Rule.name`, a kind
        (``order``), a table (``table:rental``) or a kind in a table (``order:rental``)."""
        off = set(off)
        return RuleSet(tuple(r for r in self.rules if not _switched_off(r, off)))

    def plus(self, more: Sequence[Rule]) -> RuleSet:
        """This set and ``more`` (a rule of the same name replaced by the later one)."""
        by_name = {r.name: r for r in (*self.rules, *more)}
        return RuleSet(tuple(by_name.values()))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON; :class:`Custom` rules are left out (they are code, not parameters)."""
        return {"version": RULES_FORMAT_VERSION,
                "rules": [r.to_dict() for r in self.rules if not isinstance(r, Custom)]}

    @classmethod
    def from_dict(cls, d: Any) -> RuleSet:
        """The set of :meth:`to_dict`.

        Raises:
            ModelFileError: another version, or a malformed rule.
        """
        if not isinstance(d, Mapping) or d.get("version") != RULES_FORMAT_VERSION or not isinstance(
                d.get("rules"), list):
            raise ModelFileError("rules: not a rule set of this format version",
                                 hint="Re-create the model with fit() and save() of this dbsynth version.")
        return cls(tuple(rule_from_dict(r) for r in d["rules"]))


def _switched_off(rule: Rule, off: set[str]) -> bool:
    return bool({rule.name, str(rule.kind), f"table:{rule.table}", f"{rule.kind}:{rule.table}"} & off)


@dataclass(frozen=True)
class RuleScore:
    """How well a frame keeps one rule: ``kept`` of ``total`` rows (parents, for per-parent kinds)."""

    rule: Rule
    kept: int
    total: int
    detail: str = field(default="")
    """Why the rule could not be scored, when it could not (``total`` is then 0)."""

    @property
    def share(self) -> float:
        """Kept rows over rows (1.0 when no row is constrained)."""
        return self.kept / self.total if self.total else 1.0
