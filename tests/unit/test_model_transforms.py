"""Transforms, marginals and the copula of one table."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from dbsynth.metadata import Column
from dbsynth.model import copula, univariate
from dbsynth.model.transforms import fit_transform, inverse_transform


def _roundtrip(col: Column, s: pd.Series) -> pd.Series:
    # every label kept and no clipping: on a handful of rows the stored range and labels are (by design)
    # not the rows' own (see test_model_privacy.py); here the latent round trip itself is checked
    spec, lat = fit_transform(col, s, np.random.default_rng(0), min_category_count=1)
    return inverse_transform(col, spec, lat, len(s), enforce_min_max=False)


def test_integer_with_nulls_round_trips_and_keeps_dtype():
    s = pd.Series([1, 5, None, 7, 2], dtype="Int64")
    out = _roundtrip(Column("a", "integer", "numerical"), s)
    assert out.dtype == "Int64"
    assert out.isna().tolist() == s.isna().tolist()
    assert out.dropna().tolist() == [1, 5, 7, 2]


def test_decimals_keep_learned_rounding():
    s = pd.Series([1.25, 3.5, 2.75])
    spec, _ = fit_transform(Column("p", "decimal", "numerical", scale=2), s, np.random.default_rng(0))
    assert spec["digits"] == 2


def test_categorical_round_trip_and_null_label():
    s = pd.Series(["a", "b", None, "a", "c"])
    out = _roundtrip(Column("c", "string", "categorical"), s)
    assert out.tolist() == ["a", "b", None, "a", "c"]


def test_datetime_date_time_round_trip():
    ts = pd.Series(pd.to_datetime(["2020-01-01 10:00:00", "2021-06-01 12:30:15", None]))
    out = _roundtrip(Column("t", "timestamp", "datetime"), ts)
    assert out.dtype == "datetime64[us]"
    assert out.iloc[:2].tolist() == ts.iloc[:2].tolist() and pd.isna(out.iloc[2])
    times = pd.Series([dt.time(1, 2, 3), dt.time(23, 0, 0)])
    assert _roundtrip(Column("h", "time", "datetime"), times).tolist() == times.tolist()
    tz = pd.Series(pd.to_datetime(["2020-01-01 10:00:00+00:00"], utc=True))
    assert str(_roundtrip(Column("z", "timestamp", "datetime", timezone=True), tz).dtype) == "datetime64[us, UTC]"


def test_constant_and_all_null_columns():
    assert _roundtrip(Column("k", "integer", "numerical"), pd.Series([4, 4, 4])).tolist() == [4, 4, 4]
    out = _roundtrip(Column("n", "float", "numerical"), pd.Series([np.nan, np.nan]))
    assert out.isna().all()


def test_rare_labels_are_merged_when_asked():
    s = pd.Series(["a"] * 10 + ["rare"])
    spec, _ = fit_transform(Column("c", "string", "categorical"), s, np.random.default_rng(0), min_category_count=2)
    assert spec["labels"] == ["a", None] and spec["other"] == 1  # the rare label is a bucket, not stored
    n = pd.Series([7] * 10 + [99])
    spec, _ = fit_transform(Column("n", "integer", "categorical"), n, np.random.default_rng(0), min_category_count=2)
    assert spec["labels"] == [7] and "other" not in spec  # numbers merge into the most frequent label


@pytest.mark.parametrize("family", ["norm", "truncnorm", "uniform", "beta", "gamma", "empirical"])
def test_families_invert_their_cdf(family):
    x = np.random.default_rng(1).gamma(2.0, 3.0, 500) + 1.0
    m = univariate.fit_marginal(x, family)
    u = np.array([0.1, 0.5, 0.9])
    assert np.allclose(univariate.cdf(m, univariate.ppf(m, u)), u, atol=1e-3)


def test_auto_picks_uniform_for_uniform_data():
    x = np.random.default_rng(2).uniform(0, 10, 2000)
    assert univariate.fit_marginal(x, "auto")["family"] in ("uniform", "beta")


def test_copula_keeps_correlation():
    rng = np.random.default_rng(3)
    a = rng.normal(size=3000)
    x = np.column_stack([a, a * 2 + rng.normal(scale=0.3, size=3000)])
    margs, corr, _ = copula.fit(x, ["empirical", "empirical"])
    z = rng.standard_normal((3000, 2)) @ copula.sqrt_psd(corr).T
    back = np.column_stack([copula.from_normal(z[:, j], margs[j]) for j in range(2)])
    assert np.corrcoef(back.T)[0, 1] > 0.9


# ---- the numpy paths of inverse_transform agree with cast ----------------------------------------------
def test_categorical_labels_cast_once_keep_the_frame_contract_dtypes():
    rng = np.random.default_rng(0)
    ints = Column("i", "integer", "categorical")
    s = pd.Series([1, 2, 2, None, 3] * 20, dtype="Int64")
    spec, lat = fit_transform(ints, s, rng)
    out = inverse_transform(ints, spec, lat, len(s))
    assert out.dtype == "Int64" and out.isna().sum() == 20 and out.dropna().tolist() == s.dropna().tolist()
    # no NULL label drawn: plain int64, as cast gives
    bounds = np.asarray(spec["bounds"])
    only = {"i": np.full(10, bounds[0] / 2)}
    assert inverse_transform(ints, spec, only, 10).dtype == "int64"
    flags = Column("b", "boolean", "boolean")
    spec, lat = fit_transform(flags, pd.Series([True, False, True] * 5), rng)
    out = inverse_transform(flags, spec, lat, 15)
    assert out.dtype == bool and out.sum() == 10
    names = Column("s", "string", "categorical")
    spec, lat = fit_transform(names, pd.Series(["a", None, "bb", "a"], dtype="str"), rng, min_category_count=1)
    out = inverse_transform(names, spec, lat, 4)
    assert out.dtype == object and out.tolist() == ["a", None, "bb", "a"]


def test_numeric_and_date_values_built_in_numpy_match_cast():
    from dbsynth.model.transforms import cast

    x = np.array([1.4, np.nan, -2.6, 7.0])
    spec = {"kind": "numerical", "column": "v", "min": -10.0, "max": 10.0, "digits": None, "null": False}
    for col in (Column("v", "integer", "numerical"), Column("v", "decimal", "numerical", precision=6, scale=1),
                Column("v", "float", "numerical")):
        got = inverse_transform(col, spec, {"v": x}, 4)
        pd.testing.assert_series_equal(got, cast(col, pd.Series(x)))
    secs = np.array([1.6e9 + 0.4, np.nan, -86400 * 3.5, 0.0])
    spec = {"kind": "datetime", "column": "v", "min": -1e10, "max": 1e10, "digits": None, "null": False}
    for col in (Column("v", "date", "datetime"), Column("v", "timestamp", "datetime"),
                Column("v", "timestamp", "datetime", timezone=True)):
        got = inverse_transform(col, spec, {"v": secs}, 4)
        want_secs = np.floor(secs / 86400) * 86400 if col.type == "date" else secs
        want = cast(col, pd.to_datetime(pd.Series(want_secs * 1e9).round(), unit="ns", utc=True))
        pd.testing.assert_series_equal(got, want)


def test_frame_of_keeps_dtypes_and_ignores_the_series_index():
    from dbsynth.model.transforms import frame_of

    cols = {
        "s": pd.Series(["a", None, "c"], dtype="object"),
        "t": pd.Series(["x", "y", None], dtype="str"),
        "i": pd.Series(pd.array([1, None, 3], dtype="Int64")),
        "f": pd.Series([0.5, 1.5, 2.5], index=[7, 8, 9]),
    }
    frame = frame_of(cols, 3)
    assert list(frame.index) == [0, 1, 2]
    assert frame.dtypes.to_dict() == {"s": object, "t": cols["t"].dtype, "i": "Int64", "f": "float64"}
    assert frame["f"].tolist() == [0.5, 1.5, 2.5] and frame["s"].tolist() == ["a", None, "c"]


@pytest.mark.parametrize("n", [1, 2, 7, 101, 1000])
def test_sorted_quantiles_equal_numpy_quantile(n):
    rng = np.random.default_rng(n)
    x = np.sort(np.round(rng.normal(size=(n, 3)), 1), axis=0)  # ties included
    probs = np.linspace(0.0, 1.0, 101)
    assert np.array_equal(copula.sorted_quantiles(x, probs), np.quantile(x, probs, axis=0))
    assert np.array_equal(copula.sorted_quantiles(x[:, 0], probs[[25, 50]]), np.quantile(x[:, 0], [0.25, 0.5]))
