"""Typed records of what a fit learns per table: the value the fit hands to the sampling engine and the model
file stores.

A :class:`TableModel` holds what every synthesizer family shares (row count, column generators, the driving
key's :class:`DrivingLink`, the other keys' :class:`OtherLink`, the deferred keys' :class:`DeferredSpec`);
:class:`HMATableModel` adds the Gaussian copula, :class:`SegmentTableModel` the segments. Each record turns
into a plain dict (:meth:`TableModel.to_dict`: JSON values and numpy arrays, which the model store splits into
its npz) and back (:meth:`TableModel.from_dict`), strictly: an unknown key or another
:data:`MODEL_FORMAT_VERSION` is a :class:`~dbsynth.errors.ModelFileError` naming the table.

Column generators (``generators``), segment synthesizers (``segments``), copula marginals and column transforms
stay in their owners' own dict forms (:mod:`dbsynth.model.generators`, :mod:`dbsynth.model.tables`,
:mod:`dbsynth.model.copula`, :mod:`dbsynth.model.transforms`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ModelFileError

__all__ = [
    "MODEL_FORMAT_VERSION",
    "CountHistogram",
    "DeferredSpec",
    "DrivingLink",
    "HMALink",
    "HMAOtherLink",
    "HMATableModel",
    "OtherLink",
    "SegmentLink",
    "SegmentOtherLink",
    "SegmentTableModel",
    "TableModel",
    "table_model_from_dict",
]

#: Version of a table model's dict layout; bumped when a field changes meaning. A dict without the version key
#: is of version 1 (model files written before the records existed have the same layout).
MODEL_FORMAT_VERSION = 1
_VERSION_KEY = "model_version"


def _fields(d: Any, table: str, what: str, required: set[str], optional: Collection[str] = ()) -> dict:
    """``d`` checked to be a dict with every key of ``required`` and no key outside ``required | optional``."""
    if not isinstance(d, Mapping):
        raise ModelFileError(f"model of table '{table}': {what} must be an object, found a {type(d).__name__}",
                             hint="Re-create it with fit() and save().")
    unknown = sorted(set(d) - required - set(optional))
    if unknown:
        raise ModelFileError(f"model of table '{table}': unknown key(s) {', '.join(unknown)} in {what}",
                             hint="Re-create it with fit() and save() of this dbsynth version.")
    missing = sorted(required - set(d))
    if missing:
        raise ModelFileError(f"model of table '{table}': {what} lacks key(s) {', '.join(missing)}",
                             hint="Re-create it with fit() and save().")
    return dict(d)


@dataclass
class CountHistogram:
    """The distribution of children per parent row along a key."""

    values: list[int]
    """The distinct counts, ascending."""
    weights: list[float]
    """The share of parent rows with each count (sums to 1)."""

    def to_dict(self) -> dict[str, Any]:
        """``{"values": [...], "weights": [...]}``."""
        return {"values": self.values, "weights": self.weights}

    @classmethod
    def from_dict(cls, d: Any, table: str) -> CountHistogram:
        """The histogram of :meth:`to_dict` (``table`` names the model in errors)."""
        d = _fields(d, table, "a count histogram", {"values", "weights"})
        return cls(values=d["values"], weights=d["weights"])


def _hist(d: Any, table: str) -> CountHistogram | None:
    return None if d is None else CountHistogram.from_dict(d, table)


@dataclass(kw_only=True)
class OtherLink:
    """What the fit learned of a key of the table that does not drive its rows (each child row draws a parent)."""

    parent: str
    """The parent table."""
    null_share: float
    """Share of the table's rows whose reference is NULL (or dangling)."""
    count_min: int
    """Fewest children a parent row had along the key."""
    count_max: int
    """Most children a parent row had along the key (the sampling engine's cap)."""

    _keys = frozenset({"parent", "null_share", "count_min", "count_max"})

    def to_dict(self) -> dict[str, Any]:
        """The plain dict form (what :meth:`from_dict` reads)."""
        return {"parent": self.parent, "null_share": self.null_share, "count_min": self.count_min,
                "count_max": self.count_max}


@dataclass(kw_only=True)
class HMAOtherLink(OtherLink):
    """An :class:`OtherLink` of HMA, with the learned children per parent."""

    counts: CountHistogram | None = None
    """Children per parent row (None: not learned; the copula's count column is used as drawn)."""

    def to_dict(self) -> dict[str, Any]:
        """The plain dict form (what :meth:`from_dict` reads)."""
        out = super().to_dict()
        if self.counts is not None:
            out["counts"] = self.counts.to_dict()
        return out

    @classmethod
    def from_dict(cls, d: Any, table: str) -> HMAOtherLink:
        """The link of :meth:`to_dict` (``table`` names the model in errors)."""
        d = _fields(d, table, "a key's link", set(OtherLink._keys), {"counts"})
        return cls(parent=d["parent"], null_share=d["null_share"], count_min=d["count_min"],
                   count_max=d["count_max"], counts=_hist(d.get("counts"), table))


@dataclass(kw_only=True)
class SegmentOtherLink(OtherLink):
    """An :class:`OtherLink` of the segment-based synthesizers, with children per parent per parent segment."""

    counts: list[CountHistogram]
    """Children per parent row, one histogram per segment of the parent table."""

    def to_dict(self) -> dict[str, Any]:
        """The plain dict form (what :meth:`from_dict` reads)."""
        return {**super().to_dict(), "counts": [h.to_dict() for h in self.counts]}

    @classmethod
    def from_dict(cls, d: Any, table: str) -> SegmentOtherLink:
        """The link of :meth:`to_dict` (``table`` names the model in errors)."""
        d = _fields(d, table, "a key's link", set(OtherLink._keys) | {"counts"})
        return cls(parent=d["parent"], null_share=d["null_share"], count_min=d["count_min"],
                   count_max=d["count_max"], counts=[CountHistogram.from_dict(h, table) for h in d["counts"]])


@dataclass(kw_only=True)
class DrivingLink:
    """What the fit learned of the key that drives the table's rows (each parent row draws its children)."""

    parent: str
    """The parent table."""
    edge: str
    """The key's name."""
    n_linked: int
    """Rows of the table that refer to a parent row."""
    orphans: int
    """Rows of the table whose reference is NULL (or dangling)."""
    count_min: int
    """Fewest children a parent row had."""
    count_max: int
    """Most children a parent row had (the sampling engine's cap)."""

    _keys = frozenset({"parent", "edge", "n_linked", "orphans", "count_min", "count_max"})

    def to_dict(self) -> dict[str, Any]:
        """The plain dict form (what :meth:`from_dict` reads)."""
        return {"edge": self.edge, "parent": self.parent, "n_linked": self.n_linked, "orphans": self.orphans,
                "count_min": self.count_min, "count_max": self.count_max}


@dataclass(kw_only=True)
class HMALink(DrivingLink):
    """A :class:`DrivingLink` of HMA: which copula columns the parent's row passes on, and what is left."""

    passed: list[int]
    """Positions of the copula columns whose within-parent means the parent carries (the child's own columns
    and its count columns)."""
    resid_cov: np.ndarray
    """Pooled within-parent covariance of the normal scores around those means (siblings' spread)."""
    counts: CountHistogram | None = None
    """Children per parent row (None: not learned; the copula's count column is used as drawn)."""

    def to_dict(self) -> dict[str, Any]:
        """The plain dict form (what :meth:`from_dict` reads)."""
        out = {**super().to_dict(), "passed": self.passed, "resid_cov": self.resid_cov}
        if self.counts is not None:
            out["counts"] = self.counts.to_dict()
        return out

    @classmethod
    def from_dict(cls, d: Any, table: str) -> HMALink:
        """The link of :meth:`to_dict` (``table`` names the model in errors)."""
        d = _fields(d, table, "the driving link", set(DrivingLink._keys) | {"passed", "resid_cov"}, {"counts"})
        return cls(parent=d["parent"], edge=d["edge"], n_linked=d["n_linked"], orphans=d["orphans"],
                   count_min=d["count_min"], count_max=d["count_max"], passed=d["passed"],
                   resid_cov=d["resid_cov"], counts=_hist(d.get("counts"), table))


@dataclass(kw_only=True)
class SegmentLink(DrivingLink):
    """A :class:`DrivingLink` of the segment-based synthesizers: how the child's segments follow the parent's."""

    counts: list[CountHistogram]
    """Children per parent row, one histogram per segment of the parent table."""
    child_segments: np.ndarray
    """Row ``i``: the segment mix of the children of parent rows of segment ``i``."""
    orphan_segments: np.ndarray
    """The segment mix of the orphans."""

    def to_dict(self) -> dict[str, Any]:
        """The plain dict form (what :meth:`from_dict` reads)."""
        return {**super().to_dict(), "counts": [h.to_dict() for h in self.counts],
                "child_segments": self.child_segments, "orphan_segments": self.orphan_segments}

    @classmethod
    def from_dict(cls, d: Any, table: str) -> SegmentLink:
        """The link of :meth:`to_dict` (``table`` names the model in errors)."""
        d = _fields(d, table, "the driving link",
                    set(DrivingLink._keys) | {"counts", "child_segments", "orphan_segments"})
        return cls(parent=d["parent"], edge=d["edge"], n_linked=d["n_linked"], orphans=d["orphans"],
                   count_min=d["count_min"], count_max=d["count_max"],
                   counts=[CountHistogram.from_dict(h, table) for h in d["counts"]],
                   child_segments=d["child_segments"], orphan_segments=d["orphan_segments"])


@dataclass(kw_only=True)
class DeferredSpec:
    """What the fit learned of a deferred key (a cycle's or a self-reference's), which the sampling engine
    fills after the rows are drawn (see :mod:`dbsynth.model.links`)."""

    parent: str | None = None
    """The parent table (None: a spec made up for a key the fit did not see)."""
    null_share: float = 1.0
    """Share of the table's rows whose reference is NULL (or dangling)."""
    count_max: int | None = None
    """Along a cycle's key: most children a parent row had (None: a self-reference, unbounded)."""
    closed_share: float | None = None
    """Along a NOT NULL cycle: share of references whose parent row refers back to that very row (None: not
    learned, taken as 0)."""
    tree: dict[str, Any] | None = None
    """Along a self-reference: the forest's shape, ``{"max_depth": int, "fanout": [{"values", "weights"}, ...]}``
    (see :func:`dbsynth.model.fold.tree_shape`); None: cyclic data or not a self-reference."""

    def to_dict(self) -> dict[str, Any]:
        """The plain dict form (what :meth:`from_dict` reads; unset optional fields are left out)."""
        out: dict[str, Any] = {"parent": self.parent, "null_share": self.null_share}
        for k in ("count_max", "closed_share", "tree"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        return out

    @classmethod
    def from_dict(cls, d: Any, table: str) -> DeferredSpec:
        """The spec of :meth:`to_dict` (``table`` names the model in errors)."""
        d = _fields(d, table, "a deferred key", {"parent", "null_share"}, {"count_max", "closed_share", "tree"})
        return cls(parent=d["parent"], null_share=d["null_share"], count_max=d.get("count_max"),
                   closed_share=d.get("closed_share"), tree=d.get("tree"))


_BASE_KEYS = {"n_rows", "generators", "link", "others", "deferred"}


@dataclass(kw_only=True)
class TableModel:
    """What the fit learned of one table, whatever the synthesizer family."""

    n_rows: int
    """Rows of the source table."""
    generators: dict[str, dict[str, Any]]
    """The column generators (keys, PII, text), each in its own dict form
    (:func:`dbsynth.model.generators.generator_from_dict` reads it), by column name."""
    link: DrivingLink | None = None
    """The driving key's link, or None (a root, or a table without parents)."""
    others: dict[str, OtherLink] = field(default_factory=dict)
    """The links of the table's other (non-deferred) keys, by key name."""
    deferred: dict[str, DeferredSpec] = field(default_factory=dict)
    """The deferred keys (cycles and self-references), by key name."""

    def _base_dict(self) -> dict[str, Any]:
        return {
            _VERSION_KEY: MODEL_FORMAT_VERSION,
            "n_rows": self.n_rows,
            "generators": self.generators,
            "link": None if self.link is None else self.link.to_dict(),
            "others": {k: v.to_dict() for k, v in self.others.items()},
            "deferred": {k: v.to_dict() for k, v in self.deferred.items()},
        }

    def to_dict(self) -> dict[str, Any]:
        """The plain dict form (JSON values and numpy arrays, with :data:`MODEL_FORMAT_VERSION`)."""
        raise NotImplementedError

    @staticmethod
    def from_dict(d: Any, table: str) -> TableModel:
        """The model of a :meth:`to_dict` dict, of the family it describes (see :func:`table_model_from_dict`)."""
        return table_model_from_dict(d, table)


def _check_version(d: Any, table: str) -> None:
    if not isinstance(d, Mapping):
        raise ModelFileError(f"model of table '{table}' must be an object, found a {type(d).__name__}",
                             hint="Re-create it with fit() and save().")
    version = d.get(_VERSION_KEY, 1)  # no version key: written before the records, the layout of version 1
    if type(version) is not int or version != MODEL_FORMAT_VERSION:
        raise ModelFileError(
            f"model of table '{table}' has table model format version {version!r}, this dbsynth reads "
            f"{MODEL_FORMAT_VERSION}",
            hint="Re-fit the model with this dbsynth version.",
        )


@dataclass(kw_only=True)
class HMATableModel(TableModel):
    """What HMA learned of one table: a Gaussian copula over its own columns and its children's extension
    columns (counts and within-parent means)."""

    transforms: dict[str, dict[str, Any]]
    """The table's own modelled columns and how each becomes latent values (:mod:`dbsynth.model.transforms`)."""
    columns: list[str]
    """The copula's columns, in order: the own latent columns first, then the children's extension columns."""
    n_own: int
    """How many of :attr:`columns` are the table's own (the rest is left to its children as row state)."""
    marginals: list[dict[str, Any]]
    """The marginal of each copula column (:mod:`dbsynth.model.copula`)."""
    corr: np.ndarray
    """The copula's correlation matrix."""
    link: HMALink | None = None
    """The driving key's link, or None."""
    others: dict[str, HMAOtherLink] = field(default_factory=dict)  # type: ignore[assignment]  # dict is invariant
    """The links of the other keys, by key name."""

    def to_dict(self) -> dict[str, Any]:
        """The plain dict form (JSON values and numpy arrays, with :data:`MODEL_FORMAT_VERSION`)."""
        return {**self._base_dict(), "transforms": self.transforms, "columns": self.columns, "n_own": self.n_own,
                "marginals": self.marginals, "corr": self.corr}

    @staticmethod
    def from_dict(d: Any, table: str) -> HMATableModel:
        """The model of :meth:`to_dict` (``table`` names the model in errors)."""
        _check_version(d, table)
        d = _fields(d, table, "the table model", _BASE_KEYS | {"transforms", "columns", "n_own", "marginals", "corr"},
                    {_VERSION_KEY})
        return HMATableModel(
            n_rows=d["n_rows"], generators=d["generators"],
            link=None if d["link"] is None else HMALink.from_dict(d["link"], table),
            others={k: HMAOtherLink.from_dict(v, table) for k, v in _mapping(d["others"], table, "others").items()},
            deferred=_deferred(d["deferred"], table),
            transforms=d["transforms"], columns=d["columns"], n_own=d["n_own"], marginals=d["marginals"],
            corr=d["corr"],
        )


@dataclass(kw_only=True)
class SegmentTableModel(TableModel):
    """What the segment-based synthesizers (HSA, Independent) learned of one table: its rows split into
    segments, each modelled by its own table synthesizer."""

    modelled: list[str]
    """The columns the segments' synthesizers model."""
    segment_models: list[dict[str, Any]]
    """Each segment's table synthesizer in its own dict form (:meth:`dbsynth.model.tables.TableSynthesizer.to_dict`)."""
    segment_weights: np.ndarray
    """Each segment's share of the table's rows."""
    link: SegmentLink | None = None
    """The driving key's link, or None."""
    others: dict[str, SegmentOtherLink] = field(default_factory=dict)  # type: ignore[assignment]  # dict is invariant
    """The links of the other keys, by key name."""

    def to_dict(self) -> dict[str, Any]:
        """The plain dict form (JSON values and numpy arrays, with :data:`MODEL_FORMAT_VERSION`)."""
        return {**self._base_dict(), "modelled": self.modelled,
                "segments": {"weights": self.segment_weights, "models": self.segment_models}}

    @staticmethod
    def from_dict(d: Any, table: str) -> SegmentTableModel:
        """The model of :meth:`to_dict` (``table`` names the model in errors)."""
        _check_version(d, table)
        d = _fields(d, table, "the table model", _BASE_KEYS | {"modelled", "segments"}, {_VERSION_KEY})
        seg = _fields(d["segments"], table, "segments", {"weights", "models"})
        return SegmentTableModel(
            n_rows=d["n_rows"], generators=d["generators"],
            link=None if d["link"] is None else SegmentLink.from_dict(d["link"], table),
            others={k: SegmentOtherLink.from_dict(v, table)
                    for k, v in _mapping(d["others"], table, "others").items()},
            deferred=_deferred(d["deferred"], table),
            modelled=d["modelled"], segment_models=seg["models"], segment_weights=seg["weights"],
        )


def _mapping(d: Any, table: str, what: str) -> dict:
    """``d`` checked to be a dict (of any keys: key names, checked by the records of its values)."""
    return _fields(d, table, what, set(), set(d) if isinstance(d, Mapping) else set())


def _deferred(d: Any, table: str) -> dict[str, DeferredSpec]:
    return {k: DeferredSpec.from_dict(v, table) for k, v in _mapping(d, table, "deferred").items()}


def table_model_from_dict(d: Any, table: str) -> TableModel:
    """The :class:`TableModel` of a :meth:`TableModel.to_dict` dict: a :class:`SegmentTableModel` when it has
    segments, else an :class:`HMATableModel`.

    Raises:
        ModelFileError: naming ``table``, for another format version, an unknown or a missing key.
    """
    _check_version(d, table)
    if "segments" in d or "modelled" in d:
        return SegmentTableModel.from_dict(d, table)
    return HMATableModel.from_dict(d, table)
