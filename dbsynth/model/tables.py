"""Single-table synthesizers: the pluggable part of the segment-based multi-table synthesizers.

A table synthesizer models the *modelled* columns of one table (or of one segment of it): it never sees keys,
references, PII or free text, which the multi-table synthesizer generates. The contract is the estimator one:
the constructor stores settings, :meth:`TableSynthesizer.fit` learns from a frame, :meth:`TableSynthesizer.sample`
draws rows, and :meth:`TableSynthesizer.to_dict` / :meth:`TableSynthesizer.from_dict` round-trip the learned
parameters through plain JSON values and numpy arrays (the model-file format; never pickle).

New single-table models register with :func:`register_table_synthesizer` and are then accepted by
``set_table_parameters(table, table_synthesizer=NAME, ...)``.
"""

from __future__ import annotations

import copy as _copy
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import BadInputError, NotFittedError
from ..metadata import Column
from ..metadata import sdtypes as st
from . import copula, univariate
from .transforms import fit_transform, frame_of, inverse_transform, latent_family

#: Table synthesizers by the name ``set_table_parameters`` accepts.
TABLE_SYNTHESIZERS: dict[str, type[TableSynthesizer]] = {}


def register_table_synthesizer(cls: type[TableSynthesizer]) -> type[TableSynthesizer]:
    """Make ``cls`` available by its ``name`` (usable as a class decorator).

    Returns:
        ``cls``.
    """
    TABLE_SYNTHESIZERS[cls.name] = cls
    return cls


def table_synthesizer_class(name: str, table: str | None = None) -> type[TableSynthesizer]:
    """The registered table synthesizer called ``name``.

    Raises:
        BadInputError: naming the known synthesizers when ``name`` is not one of them.
    """
    try:
        return TABLE_SYNTHESIZERS[name]
    except KeyError:
        known = ", ".join(sorted(TABLE_SYNTHESIZERS))
        raise BadInputError(f"unknown table synthesizer '{name}' (known: {known})", table=table) from None


#: Turns a table's latent columns (numeric arrays, one value per row) into one segment label per row.
Segmenter = Callable[[list[np.ndarray]], np.ndarray]


def latent_columns(columns: list[Column], frame: pd.DataFrame, rng: np.random.Generator) -> list[np.ndarray]:
    """The latent columns of ``frame`` as the reversible transforms make them, for splitting rows into segments
    (categories by a single hash pass: only their position in the frequency order matters there)."""
    out: list[np.ndarray] = []
    for col in columns:
        s = frame[col.name]
        if col.sdtype in (st.CATEGORICAL, st.BOOLEAN):
            codes, _ = pd.factorize(s.astype("object"), use_na_sentinel=False)
            freq = np.bincount(codes)
            order = np.argsort(-freq, kind="stable")
            share = freq[order] / max(freq.sum(), 1)
            centre = np.empty(len(freq))
            centre[order] = np.cumsum(share) - share / 2  # the middle of the label's frequency interval
            out.append(centre[codes])
        else:
            out += [np.asarray(a, dtype=float) for a in fit_transform(col, s, rng)[1].values()]
    return out


def _mvn(rng: np.random.Generator, corr: np.ndarray, n: int) -> np.ndarray:
    k = corr.shape[0]
    if k == 0:
        return np.zeros((n, 0))
    return rng.standard_normal((n, k)) @ copula.sqrt_psd(corr).T


class TableSynthesizer:
    """Interface of a single-table synthesizer.

    Args:
        columns: the columns it models (metadata records; types decide transforms and output dtypes).
        **parameters: model settings; :attr:`DEFAULTS` lists the accepted ones.

    Raises:
        BadInputError: for an unknown setting or value.
    """

    #: Name under which the class is registered.
    name: ClassVar[str] = ""
    #: Accepted settings and their defaults.
    DEFAULTS: ClassVar[dict[str, Any]] = {}

    def __init__(self, columns: list[Column], **parameters: Any) -> None:
        self.columns = list(columns)
        self.parameters = self.validate_parameters(parameters)
        self._fitted: dict[str, Any] | None = None

    @classmethod
    def validate_parameters(cls, parameters: dict[str, Any], table: str | None = None) -> dict[str, Any]:
        """``parameters`` merged over :attr:`DEFAULTS`, checked.

        Raises:
            BadInputError: for an unknown key.
        """
        unknown = set(parameters) - set(cls.DEFAULTS)
        if unknown:
            raise BadInputError(
                f"unknown table parameter(s) {', '.join(sorted(unknown))} for {cls.name} "
                f"(known: {', '.join(sorted(cls.DEFAULTS))})",
                table=table,
            )
        return {**_copy.deepcopy(cls.DEFAULTS), **_copy.deepcopy(parameters)}

    def fit(self, frame: pd.DataFrame, rng: np.random.Generator) -> TableSynthesizer:
        """Learn from ``frame`` (one column per entry of ``columns``).

        Returns:
            ``self``.
        """
        raise NotImplementedError

    def sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """``n`` synthetic rows, one column per entry of ``columns`` (frame contract dtypes).

        Raises:
            NotFittedError: before fit.
        """
        raise NotImplementedError

    @classmethod
    def fit_segments(
        cls, columns: list[Column], parameters: dict[str, Any], frame: pd.DataFrame, segment: Segmenter,
        rng: np.random.Generator,
    ) -> tuple[list[TableSynthesizer], np.ndarray]:
        """Split the rows of ``frame`` into segments and fit one synthesizer per segment.

        ``segment`` receives the frame's latent columns and returns a label per row (``0 .. k-1``). This
        default computes them with :func:`latent_columns` and fits every segment's rows on their own; a
        subclass with a transform pass of its own can share it between the split and the models.

        ``frame`` may hold other columns besides ``columns`` (the whole table: a sub-frame would be a copy);
        this default hands :meth:`fit` the ``columns`` only.

        Returns:
            (one fitted synthesizer per label, the labels).
        """
        frame = frame[[c.name for c in columns]]
        labels = np.asarray(segment(latent_columns(columns, frame, rng)), dtype=np.int64)
        k = int(labels.max()) + 1 if len(labels) else 1
        if k == 1:
            parts = [frame]
        else:
            parts = [frame.iloc[np.flatnonzero(labels == s)].reset_index(drop=True) for s in range(k)]
        return [cls(columns, **parameters).fit(part, rng) for part in parts], labels

    @classmethod
    def sample_segments(
        cls, synthesizers: list[TableSynthesizer], sizes: np.ndarray, rng: np.random.Generator
    ) -> pd.DataFrame:
        """``sizes[s]`` rows of each segment's synthesizer, stacked in segment order.

        Raises:
            NotFittedError: before fit.
        """
        parts = [syn.sample(int(n), rng) for syn, n in zip(synthesizers, sizes) if n > 0]
        if not parts:
            return synthesizers[0].sample(0, rng)
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]

    @classmethod
    def sample_segment_columns(
        cls, synthesizers: list[TableSynthesizer], sizes: np.ndarray, rng: np.random.Generator
    ) -> dict[str, pd.Series]:
        """:meth:`sample_segments` as one Series per column (RangeIndex), for a caller that builds a frame of
        its own with more columns; a subclass can skip building the frame."""
        frame = cls.sample_segments(synthesizers, sizes, rng)
        return {name: frame[name] for name in frame.columns}

    def learned_distributions(self) -> dict[str, dict]:
        """The marginal learned per latent column (family and parameters).

        Raises:
            NotFittedError: before fit.
        """
        raise NotImplementedError

    def loss_values(self) -> pd.DataFrame:
        """Training losses per epoch, for models trained by gradient descent.

        Raises:
            BadInputError: for models that have none (every model shipped so far).
        """
        raise BadInputError(
            f"{self.name} is not trained by gradient descent and has no loss values",
            hint="get_loss_values() is for neural table synthesizers.",
        )

    def to_dict(self) -> dict[str, Any]:
        """The learned parameters as JSON values and numpy arrays (``{"type", "version", "parameters", ...}``).

        Raises:
            NotFittedError: before fit.
        """
        return {"type": self.name, "version": 1, "parameters": _copy.deepcopy(self.parameters),
                "fitted": self._require_fitted()}

    @classmethod
    def from_dict(cls, data: dict[str, Any], columns: list[Column]) -> TableSynthesizer:
        """Rebuild a fitted synthesizer from :meth:`to_dict` output (dispatching on its ``type``).

        Args:
            data: the dict.
            columns: the columns it models, from the metadata.

        Raises:
            BadInputError: for an unknown type.
        """
        klass = table_synthesizer_class(data["type"]) if cls is TableSynthesizer or cls.name != data["type"] else cls
        obj = klass(columns, **data.get("parameters", {}))
        obj._fitted = data["fitted"]
        return obj

    def _require_fitted(self) -> dict[str, Any]:
        if self._fitted is None:
            raise NotFittedError(f"the {self.name} is not fitted", hint="Call fit(frame) first.")
        return self._fitted


@register_table_synthesizer
class GaussianCopulaSynthesizer(TableSynthesizer):
    """Gaussian copula over reversible per-column transforms (the model of :mod:`dbsynth.model.copula`).

    Settings (``table_parameters``): ``default_distribution`` (a family of
    :data:`dbsynth.model.univariate.FAMILIES` or ``auto``), ``numerical_distributions`` ({column: family}),
    ``enforce_min_max_values``, ``enforce_rounding``, ``min_category_count`` (rarer labels are merged into the
    most frequent one, so they never reach the model file), ``fit_rows`` (the marginals and the correlation
    are learned from at most this many rows drawn at random, None for all: 101 quantiles and a correlation
    matrix are as precise from 100,000 rows as from millions, while the transforms, and so every category
    label and its frequency and every column's range, always see every row).
    """

    name = "GaussianCopulaSynthesizer"
    DEFAULTS = {
        "default_distribution": "empirical",
        "numerical_distributions": {},
        "enforce_min_max_values": True,
        "enforce_rounding": True,
        "min_category_count": 5,
        "fit_rows": 100_000,
        "keep_labels": [],  # columns whose labels are all kept (a CHECK names them: the schema fixes them)
    }

    @classmethod
    def validate_parameters(cls, parameters: dict[str, Any], table: str | None = None) -> dict[str, Any]:
        """See :meth:`TableSynthesizer.validate_parameters`; also checks distribution names.

        Raises:
            BadInputError: for an unknown key or distribution, or a bad ``fit_rows``.
        """
        out = super().validate_parameters(parameters, table)
        if out["fit_rows"] is not None and (not isinstance(out["fit_rows"], int) or out["fit_rows"] < 1):
            raise BadInputError(f"fit_rows must be a positive integer or None, not {out['fit_rows']!r}", table=table)
        fams = set(univariate.FAMILIES) | {"auto"}
        for d in [out["default_distribution"], *dict(out["numerical_distributions"] or {}).values()]:
            if d not in fams:
                raise BadInputError(f"unknown distribution '{d}' (known: {', '.join(sorted(fams))})", table=table)
        return out

    def fit(self, frame: pd.DataFrame, rng: np.random.Generator) -> GaussianCopulaSynthesizer:
        """Fit transforms, marginals and the correlation of normal scores on ``frame``.

        Returns:
            ``self``.
        """
        transforms, latent, families = self._transform(frame, rng)
        self._fitted = self._fit_copula(transforms, latent, families, len(frame), None, rng)
        return self

    @classmethod
    def fit_segments(cls, columns, parameters, frame, segment, rng):
        """One transform pass over the whole table serves the split and every segment's copula (see
        :meth:`TableSynthesizer.fit_segments`): segments share the transforms, so their samples can be
        turned back into values in one pass too (:meth:`sample_segments`)."""
        base = cls(columns, **parameters)
        transforms, latent, families = base._transform(frame, rng)
        labels = np.asarray(segment(list(latent.values())), dtype=np.int64)
        k = int(labels.max()) + 1 if len(labels) else 1
        if k > 1:
            # a category's latent is uniform over the table's frequency interval ("unit"), but a segment has its
            # own mix of labels: its quantiles (empirical) keep that mix
            families = ["empirical" if f == "unit" else f for f in families]
        out = []
        for s in range(k):  # a loop over a handful of segments
            syn = base if s == 0 else cls(columns, **parameters)
            rows = None if k == 1 else np.flatnonzero(labels == s)
            syn._fitted = syn._fit_copula(transforms, latent, families, len(frame), rows, rng)
            syn._fitted["shared_transforms"] = k > 1  # tells sample_segments, also after a model file round trip
            out.append(syn)
        return out, labels

    def _transform(self, frame: pd.DataFrame, rng: np.random.Generator) -> tuple[dict, dict, list[str]]:
        """(transform per column, latent columns by name, marginal family per latent column)."""
        p = self.parameters
        transforms: dict[str, dict] = {}
        latent: dict[str, np.ndarray] = {}
        families: list[str] = []
        for col in self.columns:
            if len(frame) == 0:
                break
            keep = col.name in p.get("keep_labels", ())
            spec, lat = fit_transform(col, frame[col.name], rng, 1 if keep else int(p["min_category_count"]))
            transforms[col.name] = spec
            for nm, arr in lat.items():
                latent[nm] = arr
                families.append(latent_family(spec, nm, p))
        return transforms, latent, families

    def _fit_copula(self, transforms, latent, families, n_all: int, rows: np.ndarray | None, rng) -> dict[str, Any]:
        """The fitted state: marginals and correlation of the latent ``rows`` (None: all ``n_all`` rows), on at
        most ``fit_rows`` of them."""
        p = self.parameters
        names = list(latent)
        n = n_all if rows is None else len(rows)
        if n and names:
            if p["fit_rows"] is not None and n > int(p["fit_rows"]):
                pick = np.sort(rng.choice(n, int(p["fit_rows"]), replace=False))
                rows = pick if rows is None else rows[pick]
            x = np.column_stack([latent[k] if rows is None else latent[k][rows] for k in names])
            marginals, corr, _ = copula.fit(x, families)
        else:
            marginals, corr = [], np.eye(0)
        return {"n_rows": n, "transforms": transforms, "columns": names, "marginals": marginals, "corr": corr}

    def sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """``n`` rows: correlated normals through the marginals, then the inverse transforms.

        Raises:
            NotFittedError: before fit.
        """
        return self._values(self._latent_sample(n, rng), n)

    @classmethod
    def sample_segments(cls, synthesizers, sizes, rng):
        """See :meth:`TableSynthesizer.sample_segments`; segments fitted together share their transforms, so
        their latent samples are stacked and turned into values in one pass."""
        return frame_of(cls.sample_segment_columns(synthesizers, sizes, rng), int(np.sum(sizes)))

    @classmethod
    def sample_segment_columns(cls, synthesizers, sizes, rng):
        """See :meth:`TableSynthesizer.sample_segment_columns` and :meth:`sample_segments`."""
        first = synthesizers[0]._require_fitted()
        shared = all(type(syn) is cls and syn._require_fitted().get("shared_transforms") for syn in synthesizers)
        if len(synthesizers) == 1 or not shared:
            parts = [(syn, int(n)) for syn, n in zip(synthesizers, sizes) if n > 0]
            if not parts:  # no rows asked for (a small scale): the columns, empty, of the first segment
                parts = [(synthesizers[0], 0)]
            if len(parts) == 1:  # one segment: its columns as they come
                syn, n = parts[0]
                return syn._columns(syn._latent_sample(n, rng), n)
            # segments with transforms of their own: each turned into values, then stacked. Not through
            # super(): the base class builds its columns from sample_segments, which this class builds from
            # this method, so the two defaults would call each other forever
            cols = [
                syn._columns(syn._latent_sample(n, rng), n) if isinstance(syn, GaussianCopulaSynthesizer)
                else dict(syn.sample(n, rng).items())
                for syn, n in parts
            ]
            return {name: pd.concat([c[name] for c in cols], ignore_index=True) for name in cols[0]}
        parts = [syn._latent_sample(int(n), rng) for syn, n in zip(synthesizers, sizes) if n > 0]
        total = int(sum(int(n) for n in sizes))
        x = {nm: np.concatenate([part[nm] for part in parts]) if parts else np.zeros(0) for nm in first["columns"]}
        return synthesizers[0]._columns(x, total)

    def _latent_sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        m = self._require_fitted()
        z = _mvn(rng, np.asarray(m["corr"], dtype=float), n)
        return {nm: copula.from_normal(z[:, j], m["marginals"][j]) for j, nm in enumerate(m["columns"])}

    def _values(self, x: dict[str, np.ndarray], n: int) -> pd.DataFrame:
        return frame_of(self._columns(x, n), n)

    def _columns(self, x: dict[str, np.ndarray], n: int) -> dict[str, pd.Series]:
        """Latent samples ``x`` of ``n`` rows turned back into one Series per column."""
        m = self._require_fitted()
        p = self.parameters
        cols: dict[str, pd.Series] = {}
        for col in self.columns:
            spec = m["transforms"].get(col.name, {"kind": "null", "column": col.name})
            cols[col.name] = inverse_transform(
                col, spec, x, n, enforce_min_max=p["enforce_min_max_values"], enforce_rounding=p["enforce_rounding"],
            )
        return cols

    def learned_distributions(self) -> dict[str, dict]:
        """The marginal of each latent column (JSON values).

        Raises:
            NotFittedError: before fit.
        """
        m = self._require_fitted()
        return {
            nm: {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in marg.items()}
            for nm, marg in zip(m["columns"], m["marginals"])
        }
