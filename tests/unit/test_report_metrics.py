"""Each report metric on hand-made data with a known answer."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dbsynth.metadata.records import Column, ForeignKey, Metadata, Table
from dbsynth.report import evaluate
from dbsynth.report import metrics as m


def _md() -> Metadata:
    parent = Table(
        "users",
        [
            Column("id", type="integer", sdtype="id", nullable=False),
            Column("age", type="float", sdtype="numerical"),
            Column("plan", sdtype="categorical", nullable=False, enum_values=["free", "pro"]),
            Column("email", sdtype="email"),
        ],
        primary_key=["id"],
    )
    child = Table(
        "orders",
        [
            Column("id", type="integer", sdtype="id", nullable=False),
            Column("user_id", type="integer", sdtype="id"),
            Column("amount", type="float", sdtype="numerical"),
        ],
        primary_key=["id"],
        foreign_keys=[ForeignKey(["user_id"], "users", ["id"], name="orders_user_fk")],
    )
    return Metadata({"users": parent, "orders": child})


def _data(seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    users = pd.DataFrame(
        {
            "id": np.arange(50),
            "age": rng.normal(40, 10, 50),
            "plan": rng.choice(["free", "pro"], 50),
            "email": [f"u{i}@example.com" for i in range(50)],
        }
    )
    orders = pd.DataFrame({"id": np.arange(120), "user_id": rng.integers(0, 50, 120), "amount": rng.gamma(2, 10, 120)})
    return {"users": users, "orders": orders}


def test_identical_data_scores_one_and_is_all_copies():
    data = _data()
    report = evaluate(data, {k: v.copy() for k, v in data.items()}, _md())
    props = report.properties
    for prop in (*m.QUALITY_PROPERTIES, "generated_columns", "validity"):
        assert props[prop] == pytest.approx(1.0), prop
    assert report.overall == pytest.approx(1.0)
    # An exact copy is 100% identical rows: the privacy score says so.
    assert all(p.identical_share == 1.0 for p in report.privacy)
    assert props["privacy"] == pytest.approx(0.0)


def test_disjoint_categories_score_zero():
    col = Column("c", sdtype="categorical")
    assert m.column_shape(pd.Series(["a", "b"] * 5), pd.Series(["x", "y"] * 5), col).score == pytest.approx(0.0)


def test_known_ks_distance():
    # Real 0..9, synthetic 5..14: the empirical CDFs differ by at most 0.5.
    col = Column("x", type="integer", sdtype="numerical")
    score = m.column_shape(pd.Series(np.arange(10)), pd.Series(np.arange(5, 15)), col)
    assert score.metric == "KSComplement"
    assert score.score == pytest.approx(0.5)


def test_datetime_shape_uses_ks():
    col = Column("t", type="timestamp", sdtype="datetime")
    real = pd.Series(pd.date_range("2020-01-01", periods=10, freq="D"))
    assert m.column_shape(real, real.copy(), col).score == pytest.approx(1.0)
    assert m.column_shape(real, real + pd.Timedelta(days=100), col).score == pytest.approx(0.0)


def test_known_correlation_difference():
    x = np.arange(100, dtype=float)
    real = pd.DataFrame({"a": x, "b": x})  # rho = 1
    synth = pd.DataFrame({"a": x, "b": -x})  # rho = -1
    a, b = Column("a", type="float", sdtype="numerical"), Column("b", type="float", sdtype="numerical")
    assert m.pair_trend(real, synth, a, b).score == pytest.approx(0.0)
    assert m.pair_trend(real, real.copy(), a, b).score == pytest.approx(1.0)


def test_contingency_of_disjoint_pairs_is_zero_and_numeric_is_binned():
    real = pd.DataFrame({"c": ["a"] * 10, "n": np.arange(10.0)})
    synth = pd.DataFrame({"c": ["b"] * 10, "n": np.arange(10.0)})
    c, n = Column("c", sdtype="categorical"), Column("n", type="float", sdtype="numerical")
    score = m.pair_trend(real, synth, c, n)
    assert score.metric == "ContingencySimilarity"
    assert score.score == pytest.approx(0.0)
    assert m.pair_trend(real, real.copy(), c, n).score == pytest.approx(1.0)


def test_cardinality_counts_childless_parents():
    parent = pd.DataFrame({"id": [1, 2, 3, 4]})
    fk = ForeignKey(["pid"], "p", ["id"])
    child = pd.DataFrame({"pid": [1, 1, 2, None]})
    assert m.children_per_parent(parent, child, fk).tolist() == [2.0, 1.0, 0.0, 0.0]
    # Same keys as floats on the child side (a NULL-able integer column read as float) still match.
    child_f = pd.DataFrame({"pid": [1.0, 1.0, 2.0]})
    assert m.children_per_parent(parent, child_f, fk).tolist() == [2.0, 1.0, 0.0, 0.0]


def test_cardinality_drops_when_children_concentrate():
    data = _data()
    synth = {k: v.copy() for k, v in data.items()}
    synth["orders"]["user_id"] = 0  # every order on one user: 49 parents with no children
    report = evaluate(data, synth, _md())
    assert report.property_score("cardinality") < 0.5


def test_validity_finds_broken_keys_nulls_and_enums():
    data = _data()
    synth = {k: v.copy() for k, v in data.items()}
    synth["users"] = pd.concat([synth["users"], synth["users"].iloc[[0]]], ignore_index=True)  # duplicate key
    synth["users"]["plan"] = synth["users"]["plan"].astype(object)
    synth["users"].loc[1, "plan"] = "gold"  # not in the enum
    synth["users"].loc[2, "plan"] = None  # NOT NULL broken
    synth["orders"].loc[:9, "user_id"] = 999  # dangling references
    checks = {(c.table, c.kind): c for c in evaluate(data, synth, _md()).validity}
    assert checks[("users", "primary_key")].violations == 1
    assert checks[("users", "enum")].violations == 1
    assert checks[("users", "not_null")].violations == 1
    assert checks[("orders", "foreign_key")].violations == 10
    assert checks[("orders", "foreign_key")].target == "orders_user_fk"


def test_rare_labels_are_counted_not_shown():
    md = Metadata({"t": Table("t", [Column("c", sdtype="categorical")])})
    real = {"t": pd.DataFrame({"c": ["common"] * 20 + ["rare1", "rare2"]})}
    synth = {"t": pd.DataFrame({"c": ["common"] * 10 + ["rare1"]})}
    report = evaluate(real, synth, md)
    assert report.privacy[0].rare_labels == {"c": 1}
    assert "rare1" not in report.to_json()  # the report never shows values


def test_generated_columns_are_scored_apart_from_modelled_ones():
    data = _data()
    synth = {k: v.copy() for k, v in data.items()}
    synth["users"]["email"] = "a-much-longer-fake-address@example.org"
    report = evaluate(data, synth, _md())
    assert report.properties["column_shapes"] == pytest.approx(1.0)
    assert report.properties["generated_columns"] < 1.0


def test_report_is_json_serialisable():
    data = _data()
    other = _data(seed=1)
    report = evaluate(data, other, _md())
    loaded = json.loads(report.to_json())
    assert 0.0 <= loaded["overall"] < 1.0
    assert set(loaded["tables"]) == {"users", "orders"}
    assert loaded["tables"]["orders"]["cardinality"] is not None


def _ks_by_definition(a: np.ndarray, b: np.ndarray) -> float:
    """The two-sample KS statistic as published: the largest gap between the two empirical CDFs."""
    a, b = np.sort(a), np.sort(b)
    points = np.concatenate([a, b])
    gaps = np.searchsorted(a, points, "right") / len(a) - np.searchsorted(b, points, "right") / len(b)
    return float(np.abs(gaps).max())


def test_ks_complement_is_one_minus_the_two_sided_ks_statistic():
    # By hand: at 0 the real ECDF is 2/3 and the synthetic one 0, the largest gap.
    assert m.ks_complement(pd.Series([0.0, 0.0, 1.0]), pd.Series([1.0, 1.0, 1.0, 2.0])) == pytest.approx(1 / 3)
    # The synthetic sample above the real one and below it: both directions count (two-sided).
    assert m.ks_complement(pd.Series([5.0, 6.0, 7.0]), pd.Series([1.0, 2.0, 6.0, 7.0])) == pytest.approx(0.5)
    assert m.ks_complement(pd.Series([1.0, 2.0, 6.0, 7.0]), pd.Series([5.0, 6.0, 7.0])) == pytest.approx(0.5)
    rng = np.random.default_rng(1)
    for _ in range(50):  # ties, unequal sizes, infinities: the figures of the definition within float noise
        a = rng.integers(-3, 4, rng.integers(1, 60)).astype(float)
        b = rng.normal(0.5, 2, rng.integers(1, 60)).round()
        a[0] = rng.choice([np.inf, -np.inf, a[0]])
        assert m.ks_complement(pd.Series(a), pd.Series(b)) == pytest.approx(1.0 - _ks_by_definition(a, b), abs=1e-12)
    assert m.ks_complement(pd.Series([], dtype=float), pd.Series([], dtype=float)) == 1.0
    assert m.ks_complement(pd.Series([1.0]), pd.Series([], dtype=float)) == 0.0


def test_dcr_ratio_zero_for_copies_and_near_one_for_fresh_samples():
    cols = [Column("a", type="float", sdtype="numerical"), Column("b", type="float", sdtype="numerical")]
    rng = np.random.default_rng(0)
    real = pd.DataFrame(rng.normal(size=(500, 2)), columns=["a", "b"])
    fresh = pd.DataFrame(rng.normal(size=(500, 2)), columns=["a", "b"])
    assert m.dcr_ratio(real, real.copy(), cols) == pytest.approx(0.0)
    assert 0.5 < m.dcr_ratio(real, fresh, cols) < 2.0
    assert m.dcr_ratio(real, fresh, []) is None
