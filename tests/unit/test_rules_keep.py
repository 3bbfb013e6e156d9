"""Within-table rules kept by construction (issue 17): :func:`dbsynth.rules.keep.keep`.

Each kind is broken in known rows; after keep() the rule holds in every row (checked here by an evaluation
written for the test, not with the module's code), the rows that kept it are unchanged, dtypes are kept, NULLs
stay NULL and key columns never change. Custom constraint classes are defined in this module and loaded by
their import path.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dbsynth.errors import BadInputError, DbsynthError
from dbsynth.metadata import Column, ForeignKey, Table
from dbsynth.rules.custom import load_custom
from dbsynth.rules.keep import KeepError, KeepState, keep
from dbsynth.rules.records import (
    Bound,
    Check,
    Combination,
    Custom,
    Dependency,
    Domain,
    Increment,
    OneHot,
    Order,
    ParentSum,
    Unique,
)

ROOT = Path(__file__).resolve().parents[2]
HERE = "tests.unit.test_rules_keep"


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def table(*columns: Column, pk=("id",), fks=()) -> Table:
    cols = [Column("id", "integer", "id", nullable=False)] if "id" in pk else []
    return Table("t", cols + list(columns), primary_key=list(pk), foreign_keys=list(fks))


def same(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Row by row, whether two columns hold the same value (NULL equals NULL)."""
    x, y = a.to_numpy(dtype=object), b.to_numpy(dtype=object)
    nx_, ny = pd.isna(x), pd.isna(y)
    eq = np.array([bool(p == q) if not (m or n) else (m and n) for p, q, m, n in zip(x, y, nx_, ny)], dtype=bool)
    return eq


def unchanged(before: pd.DataFrame, after: pd.DataFrame, rows) -> None:
    """The rows ``rows`` (bool mask) hold the same values in every column."""
    for c in before.columns:
        assert same(before[c][rows], after[c][rows]).all(), c


# ---- independent evaluations of the rules --------------------------------------------------------------
def order_broken(df: pd.DataFrame, low: str, high: str, strict: bool = False) -> np.ndarray:
    lo, hi = df[low].to_numpy(dtype=object), df[high].to_numpy(dtype=object)
    out = []
    for a, b in zip(lo, hi):
        if pd.isna(a) or pd.isna(b):
            out.append(False)
        else:
            out.append(bool(b <= a) if strict else bool(b < a))
    return np.array(out, dtype=bool)


def sum_per(df: pd.DataFrame, column: str, by: str) -> dict:
    sums: dict = {}
    for k, v in zip(df[by].tolist(), df[column].tolist()):
        if k is None or pd.isna(k) or v is None or pd.isna(v):
            continue
        sums[k] = sums.get(k, 0) + v
    return sums


# ---- Order -----------------------------------------------------------------------------------------------
def test_order_moves_the_high_column_from_the_low_side_and_keeps_int64_nulls_and_keys():
    t = table(Column("a", "integer", "numerical"), Column("b", "integer", "numerical"))
    df = pd.DataFrame({"id": np.arange(8),
                       "a": pd.array([1, 5, 3, None, 9, 2, 7, 0], dtype="Int64"),
                       "b": pd.array([2, 1, 3, 4, None, 7, 1, 0], dtype="Int64")})
    before = df.copy()
    bad = order_broken(df, "a", "b")
    assert bad.tolist() == [False, True, False, False, False, False, True, False]
    out = keep(df, t, [Order(table="t", low="a", high="b")], rng())
    assert not order_broken(out, "a", "b").any()
    unchanged(df, out, ~bad)
    assert (out["a"].astype(object).fillna(-1) == df["a"].astype(object).fillna(-1)).all()  # the low side stays
    assert out["b"].dtype == "Int64" and out["id"].tolist() == list(range(8))
    assert pd.isna(out["a"][3]) and pd.isna(out["b"][4])
    pd.testing.assert_frame_equal(df, before)  # the input is not modified


def test_order_gap_comes_from_the_quantiles_and_strict_dates_step_a_day():
    t = table(Column("start", "date", "datetime"), Column("end", "date", "datetime"))
    start = pd.to_datetime(["2020-01-05"] * 200).astype("datetime64[us]")
    end = pd.to_datetime(["2020-01-01", "2020-01-05", "2020-02-01", "2020-01-06"] * 50).astype("datetime64[us]")
    df = pd.DataFrame({"id": np.arange(200), "start": start, "end": end})
    rule = Order(table="t", low="start", high="end", strict=True, gaps=(0.0, 2.0, 4.0))
    bad = order_broken(df, "start", "end", strict=True)
    out = keep(df, t, [rule], rng())
    assert not order_broken(out, "start", "end", strict=True).any()
    assert out["end"].dtype == "datetime64[us]"
    unchanged(df, out, ~bad)
    gaps = (out["end"][bad] - out["start"][bad]).dt.days
    assert gaps.between(1, 4).all() and gaps.nunique() > 1  # a spread of gaps, at least a day (strict)
    assert (out["end"][bad] == out["end"][bad].dt.normalize()).all()  # dates stay at midnight


def test_order_gap_from_kept_rows_on_floats_and_strict_timestamps_step_a_microsecond():
    t = table(Column("x", "float", "numerical"), Column("y", "float", "numerical"),
              Column("s", "timestamp", "datetime"), Column("e", "timestamp", "datetime"))
    s = pd.to_datetime(["2021-03-01 10:00:00.000001"] * 6).astype("datetime64[us]")
    df = pd.DataFrame({"id": np.arange(6), "x": [0.0, 1.0, 2.0, 5.0, np.nan, 3.0],
                       "y": [10.0, 11.0, 12.0, 1.0, 1.0, 3.0],
                       "s": s, "e": [s[0], s[0], s[0] + pd.Timedelta("1h"), s[0] - pd.Timedelta("1s"),
                                     pd.NaT, s[0] + pd.Timedelta("2h")]})
    out = keep(df, t, [Order(table="t", low="x", high="y"), Order(table="t", low="s", high="e", strict=True)], rng())
    assert not order_broken(out, "x", "y").any() and not order_broken(out, "s", "e", strict=True).any()
    assert out["y"][3] - out["x"][3] == 10.0  # the gap of every row that keeps it is 10
    assert out["y"].tolist()[:3] == [10.0, 11.0, 12.0] and out["y"][5] == 3.0  # equal is kept when not strict
    e = out["e"]
    assert e.dtype == "datetime64[us]" and pd.isna(e[4])
    assert e[0] > s[0] and e[1] > s[0] and e[3] > s[0]  # equal broke the strict rule: moved
    assert e[2] == df["e"][2] and e[5] == df["e"][5]


def test_order_on_decimal_objects_rebuilds_decimals_of_the_scale():
    t = table(Column("lo", "decimal", "numerical", precision=10, scale=2),
              Column("hi", "decimal", "numerical", precision=10, scale=2))
    df = pd.DataFrame({"id": np.arange(4), "lo": [Decimal("1.10"), Decimal("5.00"), None, Decimal("2.50")],
                       "hi": [Decimal("2.20"), Decimal("4.99"), Decimal("1.00"), Decimal("2.50")]})
    out = keep(df, t, [Order(table="t", low="lo", high="hi", strict=True, gaps=(0.005, 0.5))], rng())
    assert not order_broken(out, "lo", "hi", strict=True).any()
    assert out["hi"].dtype == object and all(isinstance(v, Decimal) for v in out["hi"])
    assert out["hi"][1].as_tuple().exponent == -2 and out["hi"][3].as_tuple().exponent == -2
    assert out["hi"][0] == Decimal("2.20") and out["hi"][2] == Decimal("1.00")


def test_order_moves_the_low_column_when_the_high_one_is_a_key():
    parent = ForeignKey(["ref"], "p", ["id"])
    t = table(Column("ref", "integer", "id"), Column("v", "integer", "numerical"), fks=[parent])
    df = pd.DataFrame({"id": np.arange(5), "ref": [5, 1, 7, 2, 9], "v": [1, 4, 3, 8, 9]})
    out = keep(df, t, [Order(table="t", low="v", high="ref")], rng())
    assert not order_broken(out, "v", "ref").any()
    assert out["ref"].tolist() == [5, 1, 7, 2, 9] and out["id"].tolist() == list(range(5))
    assert out["v"].dtype == np.int64 and out["v"].tolist()[::2] == [1, 3, 9]


def test_order_chains_hold_after_one_pass_and_a_bound_caps_the_moved_value():
    t = table(*(Column(c, "integer", "numerical") for c in "abcd"))
    r = rng(3)
    n = 2000
    df = pd.DataFrame({"id": np.arange(n), **{c: r.integers(0, 100, n) for c in "abcd"}})
    rules = [Order(table="t", low="b", high="c"), Order(table="t", low="a", high="b"),
             Order(table="t", low="a", high="c"), Order(table="t", low="c", high="d", strict=True),
             Bound(table="t", column="d", high=150)]
    out = keep(df, t, rules, rng())
    for lo, hi, strict in (("a", "b", False), ("b", "c", False), ("a", "c", False), ("c", "d", True)):
        assert not order_broken(out, lo, hi, strict).any(), (lo, hi)
    assert out["d"].max() <= 150
    ok = ~(order_broken(df, "a", "b") | order_broken(df, "b", "c") | order_broken(df, "a", "c")
           | order_broken(df, "c", "d", True) | (df["d"] > 150).to_numpy())
    unchanged(df, out, ok)
    assert (out["a"] == df["a"]).all()  # the first column of the chain never moves


def test_order_on_tz_aware_timestamps_keeps_the_zone():
    t = table(Column("s", "timestamp", "datetime", timezone=True), Column("e", "timestamp", "datetime",
                                                                          timezone=True))
    s = pd.Series(pd.to_datetime(["2021-01-01 00:00", "2021-01-02 00:00"], utc=True)).astype("datetime64[us, UTC]")
    df = pd.DataFrame({"id": [0, 1], "s": s, "e": s - pd.Timedelta("1D")})
    out = keep(df, t, [Order(table="t", low="s", high="e", gaps=(3_600_000_000.0,))], rng())
    assert str(out["e"].dtype) == "datetime64[us, UTC]"
    assert ((out["e"] - out["s"]) == pd.Timedelta("1h")).all()


# ---- Bound -------------------------------------------------------------------------------------------
def test_bound_outside_rows_take_values_of_rows_inside_not_a_spike_at_the_bound():
    t = table(Column("q", "integer", "numerical"))
    r = rng(1)
    q = r.integers(-50, 150, 1000)
    df = pd.DataFrame({"id": np.arange(1000), "q": q})
    out = keep(df, t, [Bound(table="t", column="q", low=0, high=100, strict_low=True)], rng())
    bad = (q <= 0) | (q > 100)
    assert out["q"].between(1, 100).all() and out["q"].dtype == np.int64
    unchanged(df, out, ~bad)
    assert (out["q"][bad] == 1).mean() < 0.05 and (out["q"][bad] == 100).mean() < 0.05
    assert set(out["q"][bad]) <= set(q[~bad])


def test_bound_clips_one_step_inside_when_no_row_is_inside_and_keeps_decimals_and_nulls():
    t = table(Column("m", "decimal", "numerical", precision=8, scale=2), Column("f", "float", "numerical"))
    df = pd.DataFrame({"id": np.arange(3), "m": [Decimal("-1.00"), None, Decimal("-5.50")],
                       "f": [2.0, np.nan, 3.0]})
    out = keep(df, t, [Bound(table="t", column="m", low=0, strict_low=True),
                       Bound(table="t", column="f", high=1.0, strict_high=True)], rng())
    assert out["m"].tolist() == [Decimal("0.01"), None, Decimal("0.01")]
    assert np.isnan(out["f"][1]) and (out["f"][[0, 2]] < 1.0).all() and (out["f"][[0, 2]] > 0.999).all()


def test_bound_on_dates_is_in_microseconds_since_1970():
    t = table(Column("d", "date", "datetime"))
    d = pd.to_datetime(["1969-12-01", "1970-01-10", "1971-01-01"]).astype("datetime64[us]")
    df = pd.DataFrame({"id": [0, 1, 2], "d": d})
    out = keep(df, t, [Bound(table="t", column="d", low=0, high=30 * 86_400e6)], rng())
    assert out["d"].tolist() == [pd.Timestamp("1970-01-10")] * 3


# ---- Domain -------------------------------------------------------------------------------------------
def test_domain_values_outside_take_the_nearest_value():
    t = table(Column("age", "integer", "numerical"), Column("kind", "string", "categorical"))
    df = pd.DataFrame({"id": np.arange(6), "age": pd.array([10, 13, 29, None, 60, 20], dtype="Int64"),
                       "kind": ["a", "b", "zz", None, "a", "c"]})
    rules = [Domain(table="t", column="age", values=(10, 20, 30, 40)),
             Domain(table="t", column="kind", values=("a", "b"))]
    out = keep(df, t, rules, rng())
    assert out["age"].dtype == "Int64"
    assert out["age"].tolist()[:3] == [10, 10, 30] and pd.isna(out["age"][3]) and out["age"].tolist()[4:] == [40, 20]
    assert out["kind"][3] is None or pd.isna(out["kind"][3])
    assert set(out["kind"].dropna()) <= {"a", "b"} and out["kind"].tolist()[:2] == ["a", "b"]


# ---- Increment ----------------------------------------------------------------------------------------
def test_increment_rounds_to_the_step_and_integers_stay_integers():
    t = table(Column("n", "integer", "numerical"), Column("p", "float", "numerical"))
    df = pd.DataFrame({"id": np.arange(5), "n": [10, 12, 13, 18, 25], "p": [0.25, 0.3, np.nan, 1.0, 0.9]})
    out = keep(df, t, [Increment(table="t", column="n", step=5), Increment(table="t", column="p", step=0.25)], rng())
    assert out["n"].dtype == np.int64 and out["n"].tolist() == [10, 10, 15, 20, 25]
    p = out["p"].to_numpy()
    assert np.isnan(p[2]) and np.allclose(p[[0, 1, 3, 4]], [0.25, 0.25, 1.0, 1.0])
    assert all(abs(v / 0.25 - round(v / 0.25)) < 1e-9 for v in p[[0, 1, 3, 4]])


# ---- OneHot -------------------------------------------------------------------------------------------
def test_one_hot_keeps_the_largest_as_the_one_and_bool_columns_stay_bool():
    t = table(Column("x", "integer", "numerical"), Column("y", "float", "numerical"), Column("z", "boolean",
                                                                                          "boolean"))
    df = pd.DataFrame({"id": np.arange(5), "x": [1, 0, 1, 0, 3], "y": [0.0, 0.0, 0.7, 0.2, 0.0],
                       "z": [False, True, True, False, True]})
    out = keep(df, t, [OneHot(table="t", names=("x", "y", "z"))], rng())
    m = out[["x", "y", "z"]].astype(float).to_numpy()
    assert np.isin(m, (0, 1)).all() and (m.sum(axis=1) == 1).all()
    assert out["z"].dtype == bool and out["x"].dtype == np.int64
    unchanged(df, out, np.array([True, True, False, False, False]))
    assert m[2].tolist() == [1, 0, 0] and m[3].tolist() == [0, 1, 0] and m[4].tolist() == [1, 0, 0]


# ---- Dependency ---------------------------------------------------------------------------------------
def dependency_broken(df: pd.DataFrame, det: list[str], dep: str) -> int:
    sub = df.dropna(subset=[*det, dep])
    return int((sub.groupby(det)[dep].nunique() > 1).sum())


def test_dependency_pairs_first_and_first_seen_for_other_values():
    t = table(Column("city", "string"), Column("country", "string"))
    df = pd.DataFrame({"id": np.arange(8), "city": ["p", "p", "l", "l", "x", "x", None, "x"],
                       "country": ["de", "fr", "uk", "fr", "a", "b", "c", None]})
    rule = Dependency(table="t", determinant=("city",), dependent="country", pairs=((("p",), "fr"), (("l",), "uk")))
    out = keep(df, t, [rule], rng())
    assert out["country"].tolist()[:6] == ["fr", "fr", "uk", "uk", "a", "a"]
    assert out["country"][6] == "c" and pd.isna(out["country"][7])  # NULL determinant / dependent untouched
    assert dependency_broken(out, ["city"], "country") == 0
    assert str(out["country"].dtype) == str(df["country"].dtype)


def test_dependency_holds_across_batches_with_a_state_and_chains_in_order():
    t = table(Column("a", "integer", "categorical"), Column("b", "string"), Column("c", "string"))
    rules = [Dependency(table="t", determinant=("b",), dependent="c"),
             Dependency(table="t", determinant=("a",), dependent="b")]
    state = KeepState()
    r = rng(5)
    frames = []
    for i in range(4):
        n = 500
        df = pd.DataFrame({"id": np.arange(i * n, (i + 1) * n), "a": r.integers(0, 30, n),
                           "b": r.choice(list("pqrstuvw"), n), "c": r.choice(list("XYZ"), n)})
        out = keep(df, t, rules, r, state)
        assert (out["id"] == df["id"]).all()
        frames.append(out)
    whole = pd.concat(frames, ignore_index=True)
    assert dependency_broken(whole, ["a"], "b") == 0 and dependency_broken(whole, ["b"], "c") == 0
    # without a state, each batch keeps it alone: the whole table does not
    frames = [keep(f.assign(b=rng(i).choice(list("pqrstuvw"), len(f))), t, rules, rng(i))
              for i, f in enumerate(frames)]
    assert dependency_broken(pd.concat(frames), ["a"], "b") > 0


def test_dependency_on_two_determinant_columns():
    t = table(Column("x", "string"), Column("y", "integer", "categorical"), Column("z", "integer", "categorical"))
    df = pd.DataFrame({"id": np.arange(6), "x": ["a", "a", "a", "b", "b", "a"], "y": [1, 1, 2, 1, 1, 1],
                       "z": [7, 8, 9, 5, 6, 10]})
    rule = Dependency(table="t", determinant=("x", "y"), dependent="z", pairs=((("b", 1), 4),))
    out = keep(df, t, [rule], rng())
    assert out["z"].tolist() == [7, 7, 9, 4, 4, 7] and out["z"].dtype == np.int64


# ---- Combination --------------------------------------------------------------------------------------
def test_combination_rows_take_a_valid_combination():
    t = table(Column("region", "string"), Column("continent", "string"))
    combos = (("west", "eu"), ("east", "asia"), ("north", "eu"))
    n = 300
    r = rng(2)
    df = pd.DataFrame({"id": np.arange(n), "region": r.choice(["west", "east", "north"], n),
                       "continent": r.choice(["eu", "asia"], n)})
    df.loc[5, "region"] = None
    valid = {tuple(c) for c in combos}
    ok = np.array([(a, b) in valid for a, b in zip(df["region"], df["continent"])])
    out = keep(df, t, [Combination(table="t", names=("region", "continent"), combos=combos)], rng())
    pairs = [(a, b) for a, b in zip(out["region"], out["continent"]) if a is not None and not pd.isna(a)]
    assert all(p in valid for p in pairs)
    unchanged(df, out, ok | (np.arange(n) == 5))
    assert keep(df, t, [Combination(table="t", names=("region", "continent"))], rng()).equals(df)


def test_combination_with_a_key_column_takes_a_combination_that_agrees_with_the_key():
    t = table(Column("store", "integer", "id"), Column("staff", "integer", "categorical"),
              fks=[ForeignKey(["store"], "store", ["id"])])
    combos = ((1, 10), (1, 11), (2, 20))
    df = pd.DataFrame({"id": np.arange(4), "store": [1, 1, 2, 2], "staff": [10, 20, 11, 20]})
    out = keep(df, t, [Combination(table="t", names=("store", "staff"), combos=combos)], rng())
    assert out["store"].tolist() == [1, 1, 2, 2]
    assert out["staff"][0] == 10 and out["staff"][1] in (10, 11) and out["staff"][2] == 20 and out["staff"][3] == 20


# ---- ParentSum ----------------------------------------------------------------------------------------
def test_parent_sum_scales_groups_over_the_bound_and_rounds_integers_down():
    t = table(Column("p", "integer", "id"), Column("share", "integer", "numerical"),
              fks=[ForeignKey(["p"], "parent", ["id"])])
    df = pd.DataFrame({"id": np.arange(7), "p": pd.array([1, 1, 1, 2, 2, None, 3], dtype="Int64"),
                       "share": [60, 50, 40, 30, 20, 500, 99]})
    out = keep(df, t, [ParentSum(table="t", column="share", by=("p",), bound=100)], rng())
    sums = sum_per(out, "share", "p")
    assert all(v <= 100 for v in sums.values())
    assert out["share"].dtype == np.int64 and out["share"].tolist()[3:] == [30, 20, 500, 99]
    assert out["p"].astype(object).tolist()[:5] == [1, 1, 1, 2, 2]
    assert out["share"][0] > out["share"][1] > out["share"][2]  # proportions kept


def test_parent_sum_exact_on_floats_and_decimals():
    t = table(Column("p", "integer", "id"), Column("pct", "float", "numerical"),
              Column("amt", "decimal", "numerical", precision=8, scale=2),
              fks=[ForeignKey(["p"], "parent", ["id"])])
    df = pd.DataFrame({"id": np.arange(6), "p": [1, 1, 1, 2, 2, 3], "pct": [10.0, 20.0, 30.0, 50.0, 50.0, 0.0],
                       "amt": [Decimal("1.00"), Decimal("1.00"), Decimal("1.00"), Decimal("4.00"),
                               Decimal("6.00"), Decimal("0.00")]})
    rules = [ParentSum(table="t", column="pct", by=("p",), bound=100, exact=True),
             ParentSum(table="t", column="amt", by=("p",), bound=10, exact=True)]
    out = keep(df, t, rules, rng())
    for k, v in sum_per(out, "pct", "p").items():
        assert abs(v - 100) < 1e-9, k
    assert sum_per(out, "amt", "p") == {1: Decimal("10.00"), 2: Decimal("10.00"), 3: Decimal("10.00")}
    assert all(isinstance(v, Decimal) and v.as_tuple().exponent == -2 for v in out["amt"])
    assert out["pct"][3:5].tolist() == [50.0, 50.0]  # a group that keeps it is untouched


def test_parent_sum_across_batches_gives_a_later_batch_what_is_left():
    t = table(Column("p", "integer", "id"), Column("v", "integer", "numerical"),
              fks=[ForeignKey(["p"], "parent", ["id"])])
    state = KeepState()
    rule = ParentSum(table="t", column="v", by=("p",), bound=100)
    r = rng(9)
    frames = []
    for i in range(3):
        df = pd.DataFrame({"id": np.arange(i * 40, (i + 1) * 40), "p": r.integers(0, 10, 40),
                           "v": r.integers(0, 30, 40)})
        frames.append(keep(df, t, [rule], r, state))
        assert (frames[-1]["p"] == df["p"]).all()
    whole = pd.concat(frames)
    assert all(v <= 100 for v in sum_per(whole, "v", "p").values())
    assert (whole["v"] >= 0).all()


def test_parent_sum_exact_holds_for_whole_parents_per_batch_and_a_parent_met_again_stays_within():
    t = table(Column("p", "integer", "id"), Column("pct", "decimal", "numerical", precision=6, scale=1),
              fks=[ForeignKey(["p"], "parent", ["id"])])
    state = KeepState()
    rule = ParentSum(table="t", column="pct", by=("p",), bound=100, exact=True)
    r = rng(4)
    frames = []
    for i in range(3):  # parents 0-9, 10-19, 20-29: each batch holds whole parents (the driving key)
        p = np.repeat(np.arange(i * 10, (i + 1) * 10), 3)
        df = pd.DataFrame({"id": np.arange(i * 30, (i + 1) * 30), "p": p, "pct": np.round(r.random(30) * 60, 1)})
        frames.append(keep(df, t, [rule], r, state))
    sums = sum_per(pd.concat(frames), "pct", "p")
    assert len(sums) == 30 and all(abs(v - 100) < 1e-9 for v in sums.values())
    assert all(v >= 0 and round(v, 1) == v for f in frames for v in f["pct"])
    again = pd.DataFrame({"id": [90, 91], "p": [0, 0], "pct": [5.0, 7.5]})  # parent 0 met in another batch
    out = keep(again, t, [rule], r, state)
    assert out["pct"].tolist() == [0.0, 0.0]  # nothing is left of its bound


# ---- chains longer than the rounds: only the topological order keeps them in one pass ------------------
def test_a_long_order_chain_given_backwards_holds():
    names = [f"c{i}" for i in range(8)]
    t = table(*(Column(c, "integer", "numerical") for c in names))
    r = rng(8)
    n = 500
    df = pd.DataFrame({"id": np.arange(n), **{c: r.integers(0, 1000, n) for c in names}})
    rules = [Order(table="t", low=a, high=b) for a, b in zip(names[:-1], names[1:])][::-1]
    out = keep(df, t, rules, rng())
    for a, b in zip(names[:-1], names[1:]):
        assert not order_broken(out, a, b).any(), (a, b)
    assert (out["c0"] == df["c0"]).all()


def test_a_long_dependency_chain_given_backwards_holds():
    names = [f"d{i}" for i in range(8)]
    t = table(*(Column(c, "string") for c in names))
    r = rng(6)
    n = 600
    df = pd.DataFrame({"id": np.arange(n), **{c: r.choice(list("abcdefgh"), n) for c in names}})
    rules = [Dependency(table="t", determinant=(a,), dependent=b) for a, b in zip(names[:-1], names[1:])][::-1]
    out = keep(df, t, rules, rng())
    for a, b in zip(names[:-1], names[1:]):
        assert dependency_broken(out, [a], b) == 0, (a, b)


# ---- what earlier batches leave --------------------------------------------------------------------------
def test_a_batch_where_no_row_keeps_a_bound_takes_values_kept_by_earlier_batches():
    t = table(Column("q", "integer", "numerical"))
    rule = Bound(table="t", column="q", low=10, high=20)
    state = KeepState()
    keep(pd.DataFrame({"id": np.arange(50), "q": np.arange(50)}), t, [rule], rng(), state)
    out = keep(pd.DataFrame({"id": np.arange(50, 60), "q": np.full(10, 99)}), t, [rule], rng(1), state)
    assert out["q"].between(10, 20).all() and out["q"].nunique() > 1  # drawn, not clipped to 20


def test_order_without_gaps_nor_rows_that_keep_it_steps_once():
    t = table(Column("a", "integer", "numerical"), Column("b", "integer", "numerical"),
              Column("s", "timestamp", "datetime", native_type="timestamp(0) without time zone"),
              Column("e", "timestamp", "datetime", native_type="timestamp(0) without time zone"))
    s = pd.to_datetime(["2020-01-01 10:00:00", "2020-01-01 11:00:00"]).astype("datetime64[us]")
    df = pd.DataFrame({"id": [0, 1], "a": [5, 9], "b": [5, 1], "s": s, "e": s})
    rules = [Order(table="t", low="a", high="b", strict=True), Order(table="t", low="s", high="e", strict=True)]
    out = keep(df, t, rules, rng())
    assert out["b"].tolist() == [6, 10]
    assert ((out["e"] - out["s"]) == pd.Timedelta("1s")).all()  # timestamp(0): one step is a second


def test_dependency_memory_is_bounded(monkeypatch):
    import dbsynth.rules.keep as keep_module

    monkeypatch.setattr(keep_module, "MEMORY_ENTRIES", 5)
    t = table(Column("k", "integer", "categorical"), Column("v", "string"))
    rule = Dependency(table="t", determinant=("k",), dependent="v")
    state = KeepState()
    for i in range(3):
        keep(pd.DataFrame({"id": np.arange(i * 20, (i + 1) * 20), "k": np.arange(i * 20, (i + 1) * 20),
                           "v": ["x"] * 20}), t, [rule], rng(), state)
    assert len(state.first_seen[rule.name]) == 5


def test_dependency_on_categorical_columns_keeps_the_categories():
    t = table(Column("city", "string"), Column("country", "string"))
    df = pd.DataFrame({"id": np.arange(4), "city": pd.Categorical(["a", "a", "b", "b"]),
                       "country": pd.Categorical(["x", "y", "y", "z"])})
    rule = Dependency(table="t", determinant=("city",), dependent="country", pairs=((("b",), "w"),))
    out = keep(df, t, [rule], rng())
    assert isinstance(out["country"].dtype, pd.CategoricalDtype)
    assert out["country"].tolist() == ["x", "x", "w", "w"]


def test_combination_without_any_valid_row_takes_a_combination_of_the_rule_and_one_hot_nulls_stay():
    t = table(Column("a", "string"), Column("b", "string"), Column("x", "integer", "numerical"),
              Column("y", "integer", "numerical"))
    df = pd.DataFrame({"id": np.arange(3), "a": ["q", "q", "r"], "b": ["q", "r", "q"],
                       "x": pd.array([None, 2, 0], dtype="Int64"), "y": pd.array([1, 0, 0], dtype="Int64")})
    combos = (("s", "t"), ("u", "v"))
    out = keep(df, t, [Combination(table="t", names=("a", "b"), combos=combos),
                       OneHot(table="t", names=("x", "y"))], rng())
    assert all((a, b) in combos for a, b in zip(out["a"], out["b"]))
    assert pd.isna(out["x"][0]) and out["y"][0] == 1  # a row with a NULL is not constrained
    assert out["x"].tolist()[1:] == [1, 1] and out["y"].tolist()[1:] == [0, 0]
    assert out["x"].dtype == "Int64"


# ---- Custom -------------------------------------------------------------------------------------------
class EvenTotal:
    """Valid rows have an even ``total``; no way to make rows valid (they are redrawn)."""

    def __init__(self, column: str = "total") -> None:
        self.column = column

    def is_valid(self, frame: pd.DataFrame) -> pd.Series:
        return frame[self.column] % 2 == 0


class Capped:
    """Valid rows have ``a + b <= cap``; reverse_transform halves both."""

    def __init__(self, cap: float) -> None:
        self.cap = cap

    def is_valid(self, frame: pd.DataFrame) -> np.ndarray:
        return (frame["a"] + frame["b"] <= self.cap).to_numpy()

    def reverse_transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        scale = self.cap / (frame["a"] + frame["b"])
        return frame.assign(a=frame["a"] * scale, b=frame["b"] * scale)


class Never:
    """No row is ever valid."""

    def is_valid(self, frame: pd.DataFrame) -> np.ndarray:
        return np.zeros(len(frame), dtype=bool)


class NoCheck:
    """Has no is_valid."""


@pytest.fixture
def importable(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))


def test_custom_rows_failing_are_redrawn_from_valid_rows(importable):
    t = table(Column("total", "integer", "numerical"), Column("other", "integer", "numerical"))
    df = pd.DataFrame({"id": np.arange(100), "total": np.arange(100), "other": np.arange(100) * 10})
    rule = Custom(table="t", path=f"{HERE}:EvenTotal", names=("total",), params=(("column", "total"),))
    out = keep(df, t, [rule], rng())
    assert (out["total"] % 2 == 0).all() and out["total"].dtype == np.int64
    unchanged(df, out, (df["total"] % 2 == 0).to_numpy())
    assert (out["other"] == df["other"]).all()  # only the rule's columns are redrawn


def test_custom_reverse_transform_makes_failing_rows_valid(importable):
    t = table(Column("a", "float", "numerical"), Column("b", "float", "numerical"))
    df = pd.DataFrame({"id": np.arange(4), "a": [1.0, 8.0, 2.0, 9.0], "b": [1.0, 8.0, 2.0, 1.0]})
    rule = Custom(table="t", path=f"{HERE}.Capped", names=("a", "b"), params=(("cap", 5.0),))
    out = keep(df, t, [rule], rng(), KeepState())
    assert ((out["a"] + out["b"]) <= 5.0 + 1e-12).all()
    assert out["a"].tolist() == [1.0, 2.5, 2.0, 4.5]


def test_custom_that_cannot_be_kept_raises_a_clear_error(importable):
    t = table(Column("total", "integer", "numerical"))
    df = pd.DataFrame({"id": np.arange(5), "total": [1, 2, 3, 4, 5]})
    with pytest.raises(KeepError) as e:
        keep(df, t, [Custom(table="t", path=f"{HERE}:Never", names=("total",))], rng())
    msg = str(e.value)
    assert "table 't'" in msg and f"{HERE}:Never" in msg and "reverse_transform" in msg and "Loosen" in msg
    assert "no sampled row keeps it" in msg and not any(str(v) in msg for v in (1, 3, 5))  # no row values
    assert isinstance(e.value, DbsynthError)


class Sometimes:
    """Valid where ``v`` is even or ``w`` is 0: redrawing ``v`` alone from valid rows can fail again."""

    def is_valid(self, frame: pd.DataFrame) -> pd.Series:
        return (frame["v"] % 2 == 0) | (frame["w"] == 0)


def test_custom_still_failing_after_the_rounds_raises(importable):
    t = table(Column("v", "integer", "numerical"), Column("w", "integer", "numerical"))
    df = pd.DataFrame({"id": np.arange(200), "v": np.r_[np.full(199, 7), 7], "w": np.r_[np.zeros(199), 1]})
    with pytest.raises(KeepError, match="still break it after 8 rounds"):
        keep(df, t, [Custom(table="t", path=f"{HERE}:Sometimes", names=("v",))], rng())


@pytest.mark.parametrize(("path", "words"), [
    ("tests.unit.no_such_module:X", "cannot be found"),
    (f"{HERE}:Missing", "has no class 'Missing'"),
    (f"{HERE}:NoCheck", "no method is_valid"),
    ("not a path", "not an import path"),
    (f"{HERE}:EvenTotal", "cannot be built"),
])
def test_load_custom_errors_name_the_path_and_say_what_to_do(importable, path, words):
    params = (("nope", 1),) if path.endswith("EvenTotal") else ()
    with pytest.raises(BadInputError) as e:
        load_custom(Custom(table="t", path=path, params=params))
    assert words in str(e.value) and path in str(e.value) and e.value.hint
    assert e.value.exit_code == 2


def test_load_custom_builds_the_class_with_its_params(importable):
    inst = load_custom(Custom(table="t", path=f"{HERE}:Capped", params=(("cap", 3.0),)))
    assert inst.cap == 3.0 and type(inst).__name__ == "Capped"


# ---- the whole pass -----------------------------------------------------------------------------------
def test_other_tables_and_engine_kinds_are_ignored_and_a_kept_frame_is_unchanged():
    t = table(Column("a", "integer", "numerical"), Column("b", "integer", "numerical"))
    df = pd.DataFrame({"id": np.arange(3), "a": [3, 2, 1], "b": [1, 2, 3]})
    rules = [Order(table="other", low="a", high="b"), Unique(table="t", names=("a",)),
             Check(table="t", constraint="ck", sqltext="a < b")]
    assert keep(df, t, rules, rng()).equals(df)
    assert keep(df.iloc[:0], t, [Order(table="t", low="a", high="b")], rng()).empty
    ok = keep(df, t, [Order(table="t", low="a", high="b"), Bound(table="t", column="a", low=1)], rng())
    assert ok["a"].tolist() == [3, 2, 1] and ok["b"].tolist()[1:] == [2, 3]
    assert ok["b"][0] in (3, 5)  # a + the gap of a row that keeps it (0 or 2)


def test_many_kinds_together_on_random_frames_all_hold():
    t = table(Column("lo", "integer", "numerical"), Column("hi", "integer", "numerical"),
              Column("step", "integer", "numerical"), Column("cat", "string"), Column("dep", "string"),
              Column("when", "date", "datetime"), Column("until", "date", "datetime"))
    rules = [Order(table="t", low="lo", high="hi"), Bound(table="t", column="hi", low=0, high=200),
             Increment(table="t", column="hi", step=5), Order(table="t", low="lo", high="step"),
             Domain(table="t", column="step", values=(0, 25, 50, 100, 400)),
             Dependency(table="t", determinant=("cat",), dependent="dep"),
             Order(table="t", low="when", high="until", gaps=(0.0, 30.0))]
    r = rng(11)
    for seed in range(5):
        n = 400
        when = pd.Timestamp("2020-01-01") + pd.to_timedelta(r.integers(0, 100, n), unit="D")
        until = when + pd.to_timedelta(r.integers(-20, 20, n), unit="D")
        df = pd.DataFrame({"id": np.arange(n), "lo": r.integers(-20, 180, n), "hi": r.integers(-50, 250, n),
                           "step": r.integers(0, 120, n), "cat": r.choice(list("abcdef"), n),
                           "dep": r.choice(list("XYZ"), n), "when": when.astype("datetime64[us]"),
                           "until": until.astype("datetime64[us]")}, index=np.arange(n)[::-1] * 3 + 7)
        out = keep(df, t, rules, rng(seed))
        assert out.index.equals(df.index)  # any index: rows are changed by position
        assert not order_broken(out, "lo", "hi").any() and not order_broken(out, "lo", "step").any()
        assert out["hi"].between(0, 200).all() and (out["hi"] % 5 == 0).all()
        assert out["step"].isin([0, 25, 50, 100, 400]).all()
        assert dependency_broken(out, ["cat"], "dep") == 0
        assert not order_broken(out, "when", "until").any()
        assert (out["id"] == df["id"]).all() and (out.dtypes == df.dtypes).all()


def test_the_report_scorer_finds_every_kind_kept():
    from dbsynth.metadata import Metadata
    from dbsynth.rules.evaluate import score

    t = table(Column("p", "integer", "id"), Column("a", "float", "numerical"), Column("b", "float", "numerical"),
              Column("d", "date", "datetime"), Column("q", "integer", "numerical"),
              Column("m", "decimal", "numerical", precision=8, scale=2), Column("k", "string"),
              Column("v", "string"), Column("x", "integer", "numerical"), Column("y", "integer", "numerical"),
              fks=[ForeignKey(["p"], "parent", ["id"])])
    r = rng(12)
    n = 3000
    df = pd.DataFrame({"id": np.arange(n), "p": r.integers(0, 300, n), "a": r.normal(0, 1, n),
                       "b": r.normal(0, 1, n),
                       "d": (pd.Timestamp("2000-01-01") + pd.to_timedelta(r.integers(0, 9000, n), unit="D")
                             ).astype("datetime64[us]"),
                       "q": r.integers(-5, 30, n), "m": [Decimal(f"{v:.2f}") for v in r.random(n) * 20],
                       "k": r.choice(list("abcdefg"), n), "v": r.choice(list("XYZW"), n),
                       "x": r.integers(0, 2, n), "y": r.integers(0, 2, n)})
    since_2010 = pd.Timestamp("2010-01-01").value / 1000  # microseconds since 1970
    rules = [Order(table="t", low="a", high="b", strict=True), Bound(table="t", column="d", low=since_2010),
             Bound(table="t", column="q", low=0, high=20), Domain(table="t", column="q", values=(0, 5, 10, 20)),
             Dependency(table="t", determinant=("k",), dependent="v", pairs=((("a",), "X"),)),
             Combination(table="t", names=("k", "v"), combos=(("a", "X"), ("b", "Y"), ("c", "Z"), ("d", "W"),
                                                            ("e", "X"), ("f", "X"), ("g", "Y"))),
             Increment(table="t", column="m", step=0.25), OneHot(table="t", names=("x", "y")),
             ParentSum(table="t", column="q", by=("p",), bound=40)]
    out = keep(df, t, rules, rng())
    scores = score(Metadata(tables={"t": t}), rules, {"t": out})
    assert {s.rule.name: s.share for s in scores} == {s.rule.name: 1.0 for s in scores}
    assert all(s.total > 0 for s in scores)
    before = score(Metadata(tables={"t": t}), rules, {"t": df})
    assert all(s.share < 1.0 for s in before)  # each was broken before
