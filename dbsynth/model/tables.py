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
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import BadInputError, NotFittedError
from ..metadata import Column
from . import copula, univariate
from .transforms import fit_transform, inverse_transform, latent_family

#: Table synthesizers by the name ``set_table_parameters`` accepts.
TABLE_SYNTHESIZERS: dict[str, type["TableSynthesizer"]] = {}


def register_table_synthesizer(cls: type["TableSynthesizer"]) -> type["TableSynthesizer"]:
    """Make ``cls`` available by its ``name`` (usable as a class decorator).

    Returns:
        ``cls``.
    """
    TABLE_SYNTHESIZERS[cls.name] = cls
    return cls


def table_synthesizer_class(name: str, table: str | None = None) -> type["TableSynthesizer"]:
    """The registered table synthesizer called ``name``.

    Raises:
        BadInputError: naming the known synthesizers when ``name`` is not one of them.
    """
    try:
        return TABLE_SYNTHESIZERS[name]
    except KeyError:
        known = ", ".join(sorted(TABLE_SYNTHESIZERS))
        raise BadInputError(f"unknown table synthesizer '{name}' (known: {known})", table=table) from None


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

    def fit(self, frame: pd.DataFrame, rng: np.random.Generator) -> "TableSynthesizer":
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
    def from_dict(cls, data: dict[str, Any], columns: list[Column]) -> "TableSynthesizer":
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
        "min_category_count": 1,
        "fit_rows": 100_000,
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

    def fit(self, frame: pd.DataFrame, rng: np.random.Generator) -> "GaussianCopulaSynthesizer":
        """Fit transforms, marginals and the correlation of normal scores on ``frame``.

        Returns:
            ``self``.
        """
        p = self.parameters
        n = len(frame)
        transforms: dict[str, dict] = {}
        latent: dict[str, np.ndarray] = {}
        families: list[str] = []
        for col in self.columns:
            if n == 0:
                break
            spec, lat = fit_transform(col, frame[col.name], rng, int(p["min_category_count"]))
            transforms[col.name] = spec
            for nm, arr in lat.items():
                latent[nm] = arr
                families.append(latent_family(spec, nm, p))
        names = list(latent)
        if n and names:
            rows = None
            if p["fit_rows"] is not None and n > int(p["fit_rows"]):
                rows = np.sort(rng.choice(n, int(p["fit_rows"]), replace=False))
            x = np.column_stack([latent[k] if rows is None else latent[k][rows] for k in names])
            marginals, corr, _ = copula.fit(x, families)
        else:
            marginals, corr = [], np.eye(0)
        self._fitted = {"n_rows": n, "transforms": transforms, "columns": names, "marginals": marginals,
                        "corr": corr}
        return self

    def sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """``n`` rows: correlated normals through the marginals, then the inverse transforms.

        Raises:
            NotFittedError: before fit.
        """
        m = self._require_fitted()
        p = self.parameters
        names = m["columns"]
        z = _mvn(rng, np.asarray(m["corr"], dtype=float), n)
        x = {nm: copula.from_normal(z[:, j], m["marginals"][j]) for j, nm in enumerate(names)}
        cols: dict[str, pd.Series] = {}
        for col in self.columns:
            spec = m["transforms"].get(col.name, {"kind": "null", "column": col.name})
            cols[col.name] = inverse_transform(
                col, spec, x, n, enforce_min_max=p["enforce_min_max_values"], enforce_rounding=p["enforce_rounding"],
            ).reset_index(drop=True)
        return pd.DataFrame(cols, index=pd.RangeIndex(n))

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
