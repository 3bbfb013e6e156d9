"""Reversible per-column transforms between frame values and a numeric latent space.

Each modelled column becomes one latent column (its value; categories as a point in their frequency
interval) plus, when the column has NULLs, a ``<name>#null`` 0/1 indicator that the copula models jointly with
everything else, so missingness keeps its correlation with other columns. A transform is a JSON-able dict.

What a transform keeps of the data, and what it never keeps:

* numbers: the clipping range and the NULL fill are window means of k order statistics, never the minimum,
  maximum or median row (see :mod:`dbsynth.model.univariate`);
* categories: labels seen at least ``min_category_count`` times. Rarer text labels are never stored: they
  share one *other* bucket of their summed frequency that samples generated labels in the style of the
  column (letter case, digits, word count and length of its labels), so a label seen once in a thousand rows
  reaches neither the model file nor the target. Rare labels of other types (numbers, dates) are merged into
  the most frequent label; booleans and enums keep their labels (the type or the schema fixes them, and the
  metadata stored beside the model holds enum values anyway).
"""

from __future__ import annotations

import datetime as dt
import re
import string
import zlib
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from ..metadata import Column
from ..metadata import sdtypes as st
from . import text, univariate

#: Default ``min_category_count``: labels seen fewer times never reach the model file.
MIN_CATEGORY_COUNT = 5

NULL_SUFFIX = "#null"
POINT_SUFFIX = "#point"  # the latent of a datetime column's point masses: 0 none, i + 1 the i-th of spec["points"]
_DAY = 86400.0


def _round_digits(x: np.ndarray) -> int | None:
    """Fewest decimals (0..6) that represent every value exactly, None when none does."""
    for d in range(7):
        if np.allclose(np.round(x, d), x, rtol=0, atol=1e-9 * max(1.0, float(np.abs(x).max(initial=0)))):
            return d
    return None


def _to_seconds(s: pd.Series, column: Column) -> np.ndarray:
    """Datetime-like values as float seconds (epoch for dates/timestamps, since midnight for times)."""
    if column.type == st.TIME:
        txt = s.map(lambda t: t.isoformat() if isinstance(t, dt.time) else t, na_action="ignore")
        return pd.to_timedelta(txt.astype("object"), errors="coerce").dt.total_seconds().to_numpy(float)
    ts = pd.to_datetime(s, errors="coerce", utc=True)
    # microseconds (the frame contract's unit) hold years 1..9999 and the marker stamps; ns stop at 2262
    us = ts.dt.tz_localize(None).to_numpy(dtype="datetime64[us]").view("int64")
    out = us / 1e6
    out[us == np.iinfo(np.int64).min] = np.nan  # NaT
    return out


#: Decimals whose magnitude passes this (float64 tops out near 1.8e308) are modelled scaled by a power of ten.
_SCALED_ABOVE = 1e300


def _decimal_exponent(s: pd.Series, x: np.ndarray) -> int | None:
    """The power of ten a DECIMAL column's values are divided by to be modelled in float64, or None.

    Only for values past float64's range (NUMERIC(1000, 500) near 1e489 reads as infinity as a float). The
    exponent is a multiple of 10 below the private upper quantile of the values' digit counts, so the model
    file holds no value of the source: an order of magnitude shared by the column's top k rows.
    """
    finite = np.isfinite(x)
    if finite.all() and not (np.abs(x[finite]) > _SCALED_ABOVE).any():
        return None
    from decimal import Decimal

    digits = []
    for v in s.dropna():
        if isinstance(v, Decimal) and v.is_finite() and v != 0:
            digits.append(float(v.adjusted()))
    if not digits:
        return None
    top = float(univariate.private_quantiles(np.sort(np.asarray(digits)), np.array([1.0]))[0])
    return max(int(np.floor(top / 10.0)) * 10 - 10, 0)


def _scaled_floats(s: pd.Series, exp10: int) -> np.ndarray:
    """Decimal values divided by ``10**exp10``, as float64 (NaN for NULLs and non-numbers)."""
    from decimal import Decimal

    def one(v):
        if isinstance(v, Decimal):
            return float(v.scaleb(-exp10)) if v.is_finite() else np.nan
        try:
            return float(Decimal(str(v)).scaleb(-exp10))
        except ArithmeticError:
            return np.nan
    return np.array([one(v) for v in s.to_numpy(dtype=object)], dtype=float) if len(s) else np.zeros(0)


def _scaled_decimals(x: np.ndarray, exp10: int) -> pd.Series:
    """Sampled floats of a scaled DECIMAL column back as Decimals times ``10**exp10`` (None for NaN)."""
    from decimal import Decimal

    return pd.Series([None if np.isnan(v) else Decimal(repr(float(v))).scaleb(exp10) for v in x], dtype="object")


def _labels_to_json(values: list) -> list:
    out = []
    for v in values:
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, (pd.Timestamp, dt.date, dt.time)):
            v = str(v)
        out.append(v)
    return out


def fit_transform(
    column: Column, s: pd.Series, rng: np.random.Generator, min_category_count: int = MIN_CATEGORY_COUNT
) -> tuple[dict, dict[str, np.ndarray]]:
    """Learn the transform of one column and map its values into the latent space.

    Args:
        column: the column's metadata (type family and sdtype decide the transform).
        s: its values.
        rng: randomness for placing categories inside their frequency interval.
        min_category_count: labels seen fewer times are not stored: text labels become generated ones (one
            *other* bucket), labels of other types merge into the most frequent label (see the module
            docstring); 1 keeps every label.

    Returns:
        (transform dict, latent columns by name).
    """
    latent: dict[str, np.ndarray] = {}
    if column.sdtype in (st.CATEGORICAL, st.BOOLEAN):
        return _fit_categorical(column, s, rng, min_category_count)
    if column.sdtype == st.DATETIME:
        x = _to_seconds(s, column)
        kind = "datetime"
    else:
        x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        kind = "numerical"
    exp10 = _decimal_exponent(s, x) if column.type == st.DECIMAL and s.dtype == object else None
    if exp10 is not None:
        x = _scaled_floats(s, exp10)
    null = np.isnan(x)
    has_null = bool(null.any())
    if null.all():
        return {"kind": "null", "column": column.name}, {}
    points = _point_masses(x[~null], min_category_count) if kind == "datetime" else []
    point = _point_codes(x, points)
    ok = x[~null & (point == 0)]
    if not len(ok):  # every value is a point mass: the value latent is a constant
        ok = np.asarray(points[:1], dtype=float)
    digits = 0 if column.type == st.INTEGER else _round_digits(ok)
    if kind == "datetime" and column.type == st.DATE:
        digits = None
    # range and fill as window means of k rows: the minimum, maximum and median are rows of the table
    ok_sorted = np.sort(ok)
    lo, fill, hi = univariate.private_quantiles(ok_sorted, np.array([0.0, 0.5, 1.0]))
    spec = {
        "kind": kind,
        "column": column.name,
        "min": float(lo),
        "max": float(hi),
        "digits": digits,
        "null": has_null,
        "fill": float(fill),
    }
    if points:
        spec["points"] = points
        if kind == "datetime" and column.type != st.TIME:
            # exact microseconds of each point mass: float seconds near year 9999 are only exact to ~30us,
            # and 9999-12-31 23:59:59.999999 rounded up is a year the column cannot hold
            spec["points_us"] = _points_us(s, column, x, points)
    if exp10 is not None:
        spec["exp10"] = exp10  # values are modelled divided by 10**exp10 (past float64's range)
    filled = np.where(null | (point > 0), np.asarray(spec["fill"], dtype=float), x)
    latent[column.name] = filled
    if has_null:
        latent[column.name + NULL_SUFFIX] = null.astype(float)
    if points:
        latent[column.name + POINT_SUFFIX] = point.astype(float)
    return spec, latent


#: Share of a datetime column's non-NULL rows from which one value is a point mass (a marker date such as
#: 9999-01-01 "still current"): kept exactly, apart from the continuous part, never clipped or smeared.
POINT_SHARE = 0.05


def _point_masses(ok: np.ndarray, min_count: int) -> list[float]:
    """Values (epoch seconds) of point masses: the marker stamps (infinity, zero date: not data of anyone)
    and values held by at least ``POINT_SHARE`` of the rows and ``min_count`` rows (the k rule of labels)."""
    from ..frames import MARKERS_US

    if not len(ok):
        return []
    values, counts = np.unique(ok, return_counts=True)
    markers = {m / 1e6 for m in MARKERS_US}
    keep = [float(v) for v, c in zip(values, counts)
            if float(v) in markers or (c >= max(min_count, POINT_SHARE * len(ok)) and c > 1)]
    return sorted(keep)[:8]


def _points_us(s: pd.Series, column: Column, x: np.ndarray, points: list[float]) -> list[int]:
    """Each point mass (float seconds) as the int microseconds of its most common row value."""
    ts = pd.to_datetime(s, errors="coerce", utc=True)
    us = ts.dt.tz_localize(None).to_numpy(dtype="datetime64[us]").view("int64")
    out = []
    for v in points:
        vals, counts = np.unique(us[x == v], return_counts=True)
        out.append(int(vals[np.argmax(counts)]) if len(vals) else round(v * 1e6))
    return out


def _point_codes(x: np.ndarray, points: list[float]) -> np.ndarray:
    """Per row, 1 + the index of its point mass in ``points``, or 0."""
    code = np.zeros(len(x), dtype=np.int64)
    for i, v in enumerate(points):
        code[x == v] = i + 1
    return code


_NULL_KEY = "\x00null"  # stands for NULL among labels while counting; never written out


_OTHER_KEY = "\x00other"  # stands for the bucket of rare labels in lookups; never written out


def checked_columns(table) -> set[str]:
    """Names of ``table``'s columns that one of its CHECK constraints mentions.

    Their labels are fixed by the schema (``status IN ('open', 'closed')``), which the model file holds anyway,
    and a generated label would break the constraint in the target: callers keep every label of these
    columns (``min_category_count=1``).
    """
    texts = [ck.sqltext for ck in getattr(table, "check_constraints", None) or []]
    if not texts:
        return set()
    return {
        c.name for c in table.columns
        if any(re.search(rf"(?<![\w$]){re.escape(c.name)}(?![\w$])", t, flags=re.IGNORECASE) for t in texts)
    }


def _keeps_rare_labels(column: Column) -> bool:
    """Booleans and enums: their labels come from the type or the schema, not from the rows."""
    return column.sdtype == st.BOOLEAN or column.type in (st.BOOL, st.ENUM)


def _label_style(values: list) -> dict:
    """The shape of a column's text labels (no label itself): case, digits, words and a typical length."""
    texts = [v for v in values if isinstance(v, str) and v]
    if not texts:
        return {"case": "title", "digits": False, "words": 1, "length": 8}
    letters = "".join(c for t in texts for c in t if c.isalpha())
    upper = sum(c.isupper() for c in letters)
    case = "upper" if letters and upper == len(letters) else "lower" if upper == 0 else "title"
    digits = all(t.isdigit() for t in texts)
    words = int(np.median([len(t.split()) for t in texts]))
    length = int(np.median([len(t) for t in texts]))
    return {"case": case, "digits": bool(digits), "words": max(words, 1), "length": max(length, 1)}


def _fit_categorical(column, s, rng, min_category_count):
    # labels in order of first appearance (it breaks ties below), NULL last
    found, uniques = pd.factorize(s, use_na_sentinel=True)
    labels = list(uniques)
    freq = np.bincount(found[found >= 0], minlength=len(labels)).astype(float)
    null_index = None
    if (found < 0).any():
        null_index = len(labels)
        labels.append(_NULL_KEY)
        freq = np.r_[freq, float((found < 0).sum())]
        found = np.where(found < 0, null_index, found)
    merged: dict[int, int] = {}
    other_index = None
    style = None
    cands = [i for i in range(len(labels)) if i != null_index]
    rare = [i for i in cands if freq[i] < min_category_count] if min_category_count > 1 else []
    if rare and not _keeps_rare_labels(column):
        if all(isinstance(labels[i], str) for i in cands):
            # rare text labels share one bucket that samples generated labels: none of them is stored
            other_index = len(labels)
            labels.append(_OTHER_KEY)
            freq = np.r_[freq, 0.0]
            for i in rare:
                freq[other_index] += freq[i]
                merged[i] = other_index
            style = {**_label_style([labels[i] for i in cands]), "distinct": len(rare)}
            # labels of the kind the column holds (countries, a chain over its names...; dbsynth.model.text),
            # none of them a rare real one; None for lorem ipsum (the generated letters stay)
            kind = text.fit_labels(column.name, [labels[i] for i in cands], [int(freq[i]) for i in cands],
                                   min_count=min_category_count, max_length=column.length)
            if kind is not None:
                style["text"] = kind
        else:
            common = [i for i in cands if i not in rare]
            # rare labels of other types merge into the most frequent one (a generated number could be a real
            # one); when every label is rare the most frequent of all is kept (a known limit: tiny tables)
            top = max(common or cands, key=lambda i: (freq[i], -i))
            for i in rare:
                if i != top:
                    freq[top] += freq[i]
                    merged[i] = top
    keep = [i for i in range(len(labels)) if i not in merged]
    # frequent first, ties by label: stable
    order = sorted(keep, key=lambda i: (-freq[i], i == other_index, str(labels[i])))
    pos = {old: new for new, old in enumerate(order)}
    for i, t in merged.items():
        pos[i] = pos[t]
    p = freq[order] / freq[order].sum()
    hi = np.cumsum(p)
    hi[-1] = 1.0
    lo = np.r_[0.0, hi[:-1]]
    codes = np.array([pos[i] for i in range(len(labels))])[found]
    # the centre of the label's frequency interval: every row of a label shares one normal score, so the
    # copula sees the label's association with other columns undiluted by jitter; sampling thresholds a
    # continuous score at the interval bounds, so rare and frequent labels come back in proportion
    u = ((lo + hi) / 2)[codes]
    spec = {
        "kind": "categorical",
        "column": column.name,
        "labels": _labels_to_json([None if i in (null_index, other_index) else labels[i] for i in order]),
        "bounds": hi,
    }
    if other_index is not None:
        spec["other"] = pos[other_index]
        spec["other_style"] = style
    return spec, {column.name: u}


def _label_index(spec: dict) -> pd.Index:
    """The labels of a categorical transform as a lookup index (NULL and the rare bucket as sentinels)."""
    other = spec.get("other")
    keys = [_OTHER_KEY if i == other else _NULL_KEY if v is None else v for i, v in enumerate(spec["labels"])]
    return pd.Index(keys, dtype="object")


def generated_labels(column: Column, style: dict, count: int) -> list[str]:
    """``count`` distinct labels in ``style`` (from :func:`_label_style`), the same for a column every time.

    Labels of the recognised kind when the fit learned one (``style["text"]``: :func:`dbsynth.model.text.rare_labels`);
    else, or when that kind has none to give:

    Made from a hash of the column's name only, so they hold nothing of the data: letters of the column's
    case, or digits, in words of about its labels' length, cut to ``Column.length`` (widened when that
    length leaves too few labels; repeated when the column's length allows no more).
    """
    if style.get("text"):
        made = text.rare_labels(column.name, style["text"], count)
        if made:
            return made
    key = (column.name, column.length, style.get("case"), bool(style.get("digits")), int(style.get("words", 1)),
           int(style.get("length", 8)), int(count))
    return list(_generated_labels(*key))


@lru_cache(maxsize=256)
def _generated_labels(name, max_length, case, digits, words, length, count) -> tuple[str, ...]:
    # cached: sampling converts every batch, and a high-cardinality column has thousands of rare labels
    rng = np.random.default_rng(zlib.crc32(f"dbsynth-other\x00{name}".encode()))
    alphabet = string.digits if digits else string.ascii_lowercase
    width = max(length, 1)
    while len(alphabet) ** width < 4 * count and (max_length is None or width < max_length):
        width += 1  # room for count distinct labels
    if max_length is not None:
        width = min(width, max_length)
    width = max(width, 1)
    chars = np.frombuffer(alphabet.encode("ascii"), dtype=np.uint8)
    raw = chars[rng.integers(len(alphabet), size=(2 * count + 16, width))]
    if not digits and words > 1 and width >= 2 * words:
        # spaces at fixed, evenly spread positions: words of about equal length, as most labels have
        for cut in np.linspace(0, width, words + 1)[1:-1].astype(int):
            raw[:, cut] = ord(" ")
    texts = [bytes(row).decode("ascii") for row in raw]
    if case == "upper":
        texts = [t.upper() for t in texts]
    elif case == "title":
        texts = [t.title() for t in texts]
    out = list(dict.fromkeys(texts))[:count]  # distinct, in a fixed order
    while len(out) < count:  # the column's length allows fewer labels than the source had: repeat them
        out += out[: count - len(out)]
    return tuple(out)


def transform(column: Column, spec: dict, s: pd.Series) -> dict[str, np.ndarray]:
    """Map values of ``column`` into the latent space of a transform learned by :func:`fit_transform`.

    Used by the streamed fit on rows the transform was not learned from: NULLs take the learned fill value,
    labels the transform never saw take the most frequent label's place.

    Args:
        column: the column's metadata.
        spec: its transform.
        s: the values.

    Returns:
        Latent columns by name (as :func:`latent_names`).
    """
    kind = spec["kind"]
    if kind == "null":
        return {}
    if kind == "categorical":
        hi = np.asarray(spec["bounds"], dtype=float)
        centres = (np.r_[0.0, hi[:-1]] + hi) / 2
        # distinct values only go through the label conversion of fit_transform (few, however many rows)
        values, uniques = pd.factorize(s.astype("object"), use_na_sentinel=True)
        index = _label_index(spec)
        found = index.get_indexer(pd.Index(_labels_to_json(list(uniques)), dtype="object"))
        null_code = index.get_indexer([_NULL_KEY])[0]
        codes = np.where(values < 0, null_code, found[np.maximum(values, 0)] if len(found) else -1)
        # labels the transform never saw are rare ones: the bucket of rare labels, else the most frequent
        codes[codes < 0] = spec.get("other", 0)
        return {column.name: centres[codes]}
    if kind == "datetime":
        x = _to_seconds(s, column)
    elif spec.get("exp10") is not None:
        x = _scaled_floats(s, spec["exp10"])
    else:
        x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    null = np.isnan(x)
    point = _point_codes(x, spec.get("points", []))
    out = {column.name: np.where(null | (point > 0), spec.get("fill", spec["min"]), x)}
    if spec.get("null"):
        out[column.name + NULL_SUFFIX] = null.astype(float)
    if spec.get("points"):
        out[column.name + POINT_SUFFIX] = point.astype(float)
    return out


def latent_family(spec: dict, name: str, params: Mapping[str, Any]) -> str:
    """The marginal family of latent column ``name`` of a transform, under a table's parameters.

    Categories are interval centres whose score is the label's share (``unit``); null indicators are
    empirical; values take the column's entry of ``numerical_distributions`` or ``default_distribution``.
    """
    if spec["kind"] == "categorical":
        return "unit"
    if name.endswith((NULL_SUFFIX, POINT_SUFFIX)):
        return "empirical"
    return params["numerical_distributions"].get(spec["column"], params["default_distribution"])


def latent_names(spec: dict) -> list[str]:
    """Names of the latent columns a transform produces, in order."""
    if spec["kind"] == "null":
        return []
    if spec["kind"] in ("numerical", "datetime"):
        names = [spec["column"]]
        if spec.get("null"):
            names.append(spec["column"] + NULL_SUFFIX)
        if spec.get("points"):
            names.append(spec["column"] + POINT_SUFFIX)
        return names
    return [spec["column"]]


def inverse_transform(
    column: Column, spec: dict, latent: dict[str, np.ndarray], n: int, enforce_min_max: bool = True,
    enforce_rounding: bool = True,
) -> pd.Series:
    """Map latent columns back to frame values of ``column`` (see the frame contract).

    Args:
        column: the column's metadata.
        spec: its transform from :func:`fit_transform`.
        latent: sampled latent columns by name.
        n: number of rows.
        enforce_min_max: clip to the observed range.
        enforce_rounding: round to the observed number of decimals.

    Returns:
        The column's values.
    """
    kind = spec["kind"]
    if kind == "null":
        return cast(column, pd.Series([None] * n, dtype="object"))
    if kind == "categorical":
        u = np.clip(latent[column.name], 0.0, 1.0 - 1e-12)
        bounds = np.asarray(spec["bounds"], dtype=float)
        idx = np.minimum(np.searchsorted(bounds, u, side="right"), len(bounds) - 1)
        labels = np.array(spec["labels"] + [None], dtype=object)[:-1]
        other = spec.get("other")
        if other is None or not (idx == other).any():
            return _take_labels(column, labels, idx)
        # rows of the rare bucket: generated labels, picked by where the score fell inside the bucket's
        # interval (so the choice follows the seed), as many distinct ones as the source had rare labels
        style = spec.get("other_style") or {}
        made = generated_labels(column, style, max(int(style.get("distinct", 1)), 1))
        low = bounds[other - 1] if other > 0 else 0.0
        rows = idx == other
        share = (u[rows] - low) / max(bounds[other] - low, 1e-300)
        pick = np.clip((share * len(made)).astype(np.int64), 0, len(made) - 1)
        out = _take_labels(column, labels, np.where(rows, 0, idx)).astype("object")
        out[rows] = np.asarray(made, dtype=object)[pick]
        return out
    x = np.asarray(latent[column.name], dtype=float).copy()
    if enforce_min_max:
        x = np.clip(x, spec["min"], spec["max"])
    if enforce_rounding and spec.get("digits") is not None:
        x = np.round(x, spec["digits"])
    code = None
    if spec.get("points"):
        points = np.asarray(spec["points"], dtype=float)
        code = np.clip(np.round(np.asarray(latent[column.name + POINT_SUFFIX], dtype=float)), 0, len(points))
        hit = code >= 1
        x[hit] = points[code[hit].astype(np.int64) - 1]
    if spec.get("null"):
        x[np.asarray(latent[column.name + NULL_SUFFIX]) >= 0.5] = np.nan
    if kind == "datetime":
        if column.type == st.TIME:
            secs = np.mod(np.round(x), _DAY)
            td = pd.to_timedelta(secs, unit="s")
            times = (pd.Timestamp("2000-01-01") + pd.Series(td)).dt.time.astype("object")
            return times.where(times.notna(), None)
        if column.type == st.DATE:
            x = np.floor(x / _DAY) * _DAY
        if column.type in (st.DATE, st.TIMESTAMP) and np.all(np.abs(x[~np.isnan(x)]) < _MAX_SECONDS):
            span: tuple[float, float] | None = (spec["min"], spec["max"]) if enforce_min_max else None
            exact = None
            if code is not None and spec.get("points_us"):
                exact = (np.where(np.isnan(x), 0, code).astype(np.int64), np.asarray(spec["points_us"], dtype=np.int64))
            return _timestamps(column, x, span, exact)
        ts = pd.to_datetime(pd.Series(x * 1e6).round(), unit="us", utc=True)
        return cast(column, ts)
    if column.type == st.INTEGER and np.all(np.abs(x[~np.isnan(x)]) < 2.0**63):
        # numpy, not pandas' to_numeric/round/astype: this runs for every integer column of every batch
        r = np.round(x)
        return pd.Series(pd.array(r, dtype="Int64")) if np.isnan(r).any() else pd.Series(r.astype(np.int64))
    if column.type == st.INTEGER and np.all(x[~np.isnan(x)] >= 0):
        # BIGINT UNSIGNED past 2**63-1: unsigned 64-bit; the float nearest 2**64-1 is 2**64, the top
        r = np.round(x)
        top = r >= 2.0**64
        u = np.where(np.isnan(r) | top, 0, r).astype(np.uint64)
        u[top] = np.iinfo(np.uint64).max
        return pd.Series(pd.arrays.IntegerArray(u, np.isnan(r))) if np.isnan(r).any() else pd.Series(u)
    if spec.get("exp10") is not None:
        return _scaled_decimals(x, spec["exp10"])
    if column.type in (st.FLOAT, st.DECIMAL):
        return pd.Series(np.round(x, column.scale) if column.type == st.DECIMAL and column.scale is not None else x)
    return cast(column, pd.Series(x))


# Seconds from the epoch that microseconds in an int64 can hold (about 292000 years each way), markers included.
_MAX_SECONDS = 9.3e12


def _timestamps(
    column: Column, x: np.ndarray, bounds: tuple[float, float] | None = None,
    exact: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.Series:
    """Float epoch seconds (NaN: NULL) as the frame contract's datetime64[us] of a DATE or TIMESTAMP column.

    Values within two days of a marker stamp (infinity, -infinity, the zero date: dbsynth.frames.MARKERS_US) are
    that marker exactly: float seconds out there are only exact to a millisecond, and a marker is a point
    mass the model keeps, never a date near it.

    ``bounds`` (the transform's min and max, float seconds) clip the microseconds inside the range again after
    the conversion, whose rounding can step past it (float seconds near year 9999 are exact to ~30us);
    ``exact`` (per row 1 + the index of its point mass, or 0; the points' microseconds) sets point-mass rows
    to their exact value."""
    from ..frames import MARKERS_US

    null = np.isnan(x)
    f = np.clip(np.where(null, 0.0, x), -9.2233720368547e12, 9.2233720368547e12)
    us = np.round(f * 1e6).astype(np.int64)
    if bounds is not None:
        lo, hi = int(np.ceil(bounds[0] * 1e6)), int(np.floor(bounds[1] * 1e6))
        if 0 < hi - _END_9999_US <= _FLOAT_SLACK_US:
            # a range ending at 9999-12-31 23:59:59.999999 reads back as 10000-01-01 in float seconds
            hi = _END_9999_US
        if lo <= hi:
            us = np.clip(us, lo, hi)
    if exact is not None:
        codes, points_us = exact
        hit = codes >= 1
        us[hit] = points_us[codes[hit] - 1]
    if column.type == st.DATE:
        us = us // _DAY_US * _DAY_US
    for m in MARKERS_US:
        us[np.abs(f - m / 1e6) < 2 * _DAY] = m  # two days: a DATE column's values were floored to the day
    us[null] = np.iinfo(np.int64).min  # NaT
    out = pd.Series(us.view("datetime64[us]"))
    return out.dt.tz_localize("UTC") if column.timezone else out


_DAY_US = 86_400 * 10**6
#: The last microsecond of year 9999 (most databases' last timestamp), epoch microseconds.
_END_9999_US = 253_402_300_799_999_999
#: How far float seconds near year 9999 can land from the microsecond they stand for (2**-52 of 2.5e17 us).
_FLOAT_SLACK_US = 64


def _take_labels(column: Column, labels: np.ndarray, idx: np.ndarray) -> pd.Series:
    """``labels[idx]`` with the dtype :func:`cast` gives the column: the few labels are cast, not the rows."""
    if column.type in (st.STRING, st.ENUM, st.UUID) and all(v is None or type(v) is str for v in labels):
        return pd.Series(labels[idx], dtype="object")  # already what cast would make of them
    null = pd.isna(labels) if len(labels) else np.zeros(0, dtype=bool)
    if null.all():
        return cast(column, pd.Series(labels[idx], dtype="object"))
    if not null[idx].any():
        # no NULL drawn: cast without the NULL label, so integers and booleans keep their non-nullable dtype
        labels, fill = labels.copy(), labels[~null][0]
        for i in np.flatnonzero(null):  # one NULL label at most; element-wise, as labels may be lists (JSON)
            labels[i] = fill
    values = cast(column, pd.Series(labels, dtype="object"))
    return values.take(idx).reset_index(drop=True)


def frame_of(columns: dict[str, pd.Series], n: int) -> pd.DataFrame:
    """A frame of ``n`` rows from per-column Series of length ``n`` (their own index is ignored).

    Typed columns go in as arrays, which pandas takes without aligning them on an index (a cost paid for
    every table of every sample); object columns stay Series, as a bare object array of strings would be
    inferred as pandas' string dtype.
    """
    data = {}
    for name, s in columns.items():
        if s.dtype == object:
            data[name] = s if s.index.equals(pd.RangeIndex(n)) else s.reset_index(drop=True)
        else:
            data[name] = s.to_numpy() if isinstance(s.dtype, np.dtype) else s.array
    return pd.DataFrame(data, index=pd.RangeIndex(n))


def cast(column: Column, s: pd.Series) -> pd.Series:
    """Give ``s`` the dtype the frame contract asks of ``column``'s type family."""
    t = column.type
    try:
        if t == st.INTEGER:
            f = pd.to_numeric(s, errors="coerce")
            if f.isna().any():
                return f.round().astype("Int64")
            return f.round().astype("int64")
        if t in (st.FLOAT, st.DECIMAL):
            f = pd.to_numeric(s, errors="coerce").astype(float)
            if t == st.DECIMAL and column.scale is not None:
                f = f.round(column.scale)
            return f
        if t == st.BOOL:
            if s.isna().any():
                return s.map(_to_bool, na_action="ignore").astype("boolean")
            return s.map(_to_bool).astype(bool)
        if t in (st.DATE, st.TIMESTAMP):
            ts = pd.to_datetime(s, errors="coerce", utc=True)
            if t == st.DATE:
                ts = ts.dt.floor("D")
            if not column.timezone:
                ts = ts.dt.tz_localize(None)
            return ts.astype("datetime64[us, UTC]" if column.timezone else "datetime64[us]")
        if t in (st.STRING, st.ENUM, st.UUID):
            arr = s.to_numpy(dtype=object, copy=True)
            null = pd.isna(arr)
            arr[~null] = pd.Series(arr[~null], dtype="object").astype(str).to_numpy(dtype=object)
            arr[null] = None
            return pd.Series(arr, index=s.index, dtype="object")
    except (TypeError, ValueError):
        pass
    return s


def _to_bool(v) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("true", "t", "1", "yes", "y")
    return bool(v)
