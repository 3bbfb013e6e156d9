"""The detection score: a classifier telling real rows from synthetic ones, on hand-made data with a known answer."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dbsynth.metadata.records import Column, ForeignKey, Metadata, Table
from dbsynth.report import detection as d
from dbsynth.report import evaluate
from dbsynth.report.render import render_html

N_USERS = 1_000


def _md() -> Metadata:
    users = Table(
        "users",
        [
            Column("id", type="integer", sdtype="id", nullable=False),
            Column("age", type="float", sdtype="numerical"),
            Column("plan", sdtype="categorical"),
            Column("joined", type="timestamp", sdtype="datetime"),
            Column("active", type="boolean", sdtype="boolean"),
            Column("email", sdtype="email"),
        ],
        primary_key=["id"],
    )
    orders = Table(
        "orders",
        [
            Column("id", type="integer", sdtype="id", nullable=False),
            Column("user_id", type="integer", sdtype="id"),
            Column("amount", type="float", sdtype="numerical"),
        ],
        primary_key=["id"],
        foreign_keys=[ForeignKey(["user_id"], "users", ["id"], name="orders_user_fk")],
    )
    tags = Table("tags", [Column("id", type="integer", sdtype="id"), Column("note", sdtype="text")], ["id"])
    return Metadata({"users": users, "orders": orders, "tags": tags})


def _users(seed: int, n: int = N_USERS) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "id": np.arange(n),
        "age": rng.uniform(20, 70, n),
        "plan": rng.choice(["free", "pro", "team"], n, p=[0.6, 0.3, 0.1]),
        "joined": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.uniform(0, 3 * 365, n), unit="D"),
        "active": rng.random(n) < 0.7,
        "email": [f"u{i}@example.com" for i in range(n)],
    })


def _orders_by_age(users: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Older users place more orders (one more per five years, give or take one): the relation only the
    children's count per parent shows."""
    rng = np.random.default_rng(seed)
    counts = ((users["age"].to_numpy() - 20) // 5).astype(int) + rng.integers(0, 2, len(users))
    user_id = np.repeat(users["id"].to_numpy(), counts)
    return pd.DataFrame({"id": np.arange(len(user_id)), "user_id": user_id,
                         "amount": rng.gamma(2.0, 10.0, len(user_id))})


def _data(seed: int = 0) -> dict[str, pd.DataFrame]:
    users = _users(seed)
    return {"users": users, "orders": _orders_by_age(users, seed + 1),
            "tags": pd.DataFrame({"id": np.arange(50), "note": ["x"] * 50})}


def _shuffled(frames: dict[str, pd.DataFrame], seed: int = 5) -> dict[str, pd.DataFrame]:
    return {n: f.sample(frac=1.0, random_state=seed).reset_index(drop=True) for n, f in frames.items()}


def _auc(scores: list[d.DetectionScore], table: str) -> float:
    (score,) = [s for s in scores if s.table == table]
    assert score.auc is not None, score.detail
    return score.auc


def test_a_shuffled_copy_cannot_be_told_apart():
    real = _data()
    scores = d.detection_scores(_md(), real, _shuffled(real))
    assert _auc(scores, "users") <= 0.6
    assert _auc(scores, "users") == 0.5  # chance, whose measured value falls either side of 0.5, reads 0.5
    assert _auc(scores, "orders") <= 0.6
    assert d.detection_auc(scores) <= 0.6


def test_a_fresh_draw_of_the_same_distribution_scores_near_one_half():
    real, other = _data(0), _data(10)
    scores = d.detection_scores(_md(), real, other)
    assert _auc(scores, "users") <= 0.6
    assert _auc(scores, "orders") <= 0.6


# the categorical and boolean shifts cannot reach 0.9: with the frequencies below, the best classifier of one
# label column has an AUC of 0.825 (plan) and 0.70 (active)
@pytest.mark.parametrize(("column", "least"), [("age", 0.9), ("joined", 0.9), ("plan", 0.78), ("active", 0.65)])
def test_one_shifted_column_gives_the_rows_away(column, least):
    real = _data()
    fake = _data(10)
    users = fake["users"]
    if column == "age":
        users["age"] = users["age"] + 60  # every synthetic age beyond the real range
    elif column == "joined":
        users["joined"] = users["joined"] + pd.Timedelta(days=3 * 365)  # dates as seconds: a later period
    elif column == "plan":
        users["plan"] = np.where(users["plan"] == "free", "team", np.where(users["plan"] == "team", "free", "pro"))
    else:
        users["active"] = ~users["active"]  # 70% true -> 30% true
    assert _auc(d.detection_scores(_md(), real, fake), "users") >= least


def test_a_pair_relation_lost_with_exact_marginals_is_seen():
    # in the real rows the plan follows the age; the synthetic rows keep both marginals exactly, not the pair
    real = _data()
    users = real["users"]
    users["plan"] = np.where(users["age"] > 55, "team", np.where(users["age"] > 40, "pro", "free"))
    fake = {n: f.copy() for n, f in real.items()}
    fake["users"]["plan"] = np.random.default_rng(2).permutation(users["plan"].to_numpy())
    # a third of the permuted rows (0.4^2 + 0.3^2 + 0.3^2) still look real: the best AUC is 0.66 + 0.34/2 = 0.83
    assert _auc(d.detection_scores(_md(), real, fake), "users") >= 0.7


def test_nulls_are_a_feature():
    real, fake = _data(), _data(10)
    fake["users"]["age"] = fake["users"]["age"].mask(np.arange(N_USERS) % 2 == 0)
    assert _auc(d.detection_scores(_md(), real, fake), "users") >= 0.7


def test_a_relation_broken_across_tables_shows_through_the_childrens_count():
    # parents identical; the children reassigned to a permutation of the parents: each parent's own columns
    # and the distribution of children per parent are exact, only "older users order more" is lost
    real = _data()
    fake = {n: f.copy() for n, f in real.items()}
    perm = np.random.default_rng(3).permutation(N_USERS)
    fake["orders"]["user_id"] = perm[fake["orders"]["user_id"].to_numpy()]
    with_children = d.detection_scores(_md(), real, fake)
    without = d.detection_scores(_md(), real, fake, children=False)
    assert _auc(with_children, "users") >= 0.8
    assert _auc(without, "users") <= 0.6
    assert _auc(with_children, "orders") <= 0.6  # the children's own columns are intact


def test_children_features_are_the_count_and_the_numeric_means():
    md = _md()
    real = _data()
    f = d.table_features(md, "users", real, real)
    assert list(f.real.columns) == ["age", "plan", "joined", "active", "orders(user_id):count",
                                    "orders(user_id):mean:amount"]
    assert f.categorical == (False, True, False, False, False, False)
    counts = real["orders"]["user_id"].value_counts().reindex(real["users"]["id"], fill_value=0)
    np.testing.assert_array_equal(f.real["orders(user_id):count"].to_numpy(), counts.to_numpy())
    means = real["orders"].groupby("user_id")["amount"].mean().reindex(real["users"]["id"])
    np.testing.assert_allclose(f.real["orders(user_id):mean:amount"].to_numpy(), means.to_numpy())
    own = d.table_features(md, "users", real, real, children=False)
    assert list(own.real.columns) == ["age", "plan", "joined", "active"]
    assert "email" not in f.real.columns and "id" not in f.real.columns  # PII and keys are no feature


@pytest.mark.parametrize("text_keys", [False, True])
def test_children_are_counted_through_a_composite_key(text_keys):
    parent = Table("ps", [Column("p", type="integer", sdtype="id"), Column("s", type="integer", sdtype="id"),
                          Column("cost", type="float", sdtype="numerical")], ["p", "s"])
    child = Table("li", [Column("id", type="integer", sdtype="id"), Column("p", type="integer", sdtype="id"),
                         Column("s", type="integer", sdtype="id"), Column("qty", type="float", sdtype="numerical")],
                  ["id"], foreign_keys=[ForeignKey(["p", "s"], "ps", ["p", "s"])])
    md = Metadata({"ps": parent, "li": child})
    ps = pd.DataFrame({"p": [1, 1, 2, 2], "s": [1, 2, 1, 2], "cost": [1.0, 2.0, 3.0, 4.0]})
    # the child's keys as floats (a NULL-able column read back), one reference NULL: counted nowhere
    li = pd.DataFrame({"id": range(6), "p": [1.0, 1.0, 2.0, 2.0, 2.0, np.nan], "s": [2.0, 2.0, 1.0, 2.0, 2.0, 1.0],
                       "qty": [1.0, 3.0, 5.0, 7.0, 9.0, 100.0]})
    if text_keys:  # keys of another type: compared through their text
        ps = ps.astype({"p": str, "s": str})
        li = li.assign(p=li["p"].map(lambda v: None if pd.isna(v) else str(int(v))), s=li["s"].astype(int).astype(str))
    data = {"ps": ps, "li": li}
    f = d.table_features(md, "ps", data, data)
    assert f.real["li(p,s):count"].tolist() == [0.0, 2.0, 1.0, 2.0]
    assert f.real["li(p,s):mean:qty"].tolist()[1:] == [2.0, 5.0, 8.0]
    assert np.isnan(f.real["li(p,s):mean:qty"].iloc[0])


def test_category_codes_are_shared_by_both_sides():
    real = pd.Series(["a", "b", None, "c", "a"])
    synthetic = pd.Series(["c", "c", "a", "d"])
    r, s = d._codes(real, synthetic)
    labels = {"a": r[0], "b": r[1], "c": r[3]}
    assert s[0] == s[1] == labels["c"] and s[2] == labels["a"]
    assert np.isnan(r[2])
    assert len({labels["a"], labels["b"], labels["c"], s[3]}) == 4


def test_rare_labels_past_the_cap_share_one_code():
    real = pd.Series([f"label{i}" for i in range(400)] + ["common"] * 10)
    r, s = d._codes(real, pd.Series(["common"]))
    assert r.max() == d.MAX_LABELS  # 254 labels keep their own code (0..253), the rest share 254
    assert len(np.unique(r)) == d.MAX_LABELS + 1
    assert s[0] == r[-1] == 0.0  # the most frequent label first


def test_a_label_read_as_int_on_one_side_and_float_on_the_other_is_the_same_label():
    md = Metadata({"t": Table("t", [Column("id", sdtype="id"), Column("grade", type="integer",
                                                                       sdtype="categorical")], ["id"])})
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"id": np.arange(800), "grade": rng.integers(1, 6, 800)})
    fake = pd.DataFrame({"id": np.arange(800), "grade": rng.integers(1, 6, 800).astype("float64")})
    (score,) = d.detection_scores(md, {"t": real}, {"t": fake})
    assert score.auc is not None and score.auc <= 0.6


def test_booleans_read_as_text_on_one_side_are_the_same_values():
    real, fake = _data(), _data(10)
    fake["users"]["active"] = np.where(fake["users"]["active"], "t", "f").astype(object)  # as a driver may give
    assert _auc(d.detection_scores(_md(), real, fake), "users") <= 0.6
    fake["users"]["active"] = np.where(fake["users"]["active"] == "t", "false", "true").astype(object)
    assert _auc(d.detection_scores(_md(), real, fake), "users") >= 0.65


def test_samples_are_bounded_and_the_same_count_on_each_side():
    real = _data()
    fake = _data(10)
    fake["users"] = fake["users"].head(300)
    scores = {s.table: s for s in d.detection_scores(_md(), real, fake, max_rows=200)}
    assert scores["users"].rows == 200
    assert scores["orders"].rows == 200
    f = d.table_features(_md(), "users", real, fake, max_rows=10_000)
    assert len(f.real) == len(f.synthetic) == 300


def test_the_same_seed_gives_the_same_scores():
    real, fake = _data(), _data(10)
    fake["users"]["age"] = fake["users"]["age"] * 1.1
    first = d.detection_scores(_md(), real, fake, max_rows=400, seed=4)
    assert first == d.detection_scores(_md(), real, fake, max_rows=400, seed=4)
    a = d.table_features(_md(), "users", real, fake, max_rows=400, seed=4)
    b = d.table_features(_md(), "users", real, fake, max_rows=400, seed=5)
    assert not a.real.equals(b.real)  # the sample follows the seed


def test_a_table_without_features_or_rows_gets_a_detail():
    md = _md()
    real = _data()
    scores = {s.table: s for s in d.detection_scores(md, real, real)}
    assert scores["tags"].auc is None and scores["tags"].features == 0
    assert "no modelled column" in scores["tags"].detail
    small = {"users": real["users"].head(5), "orders": real["orders"].head(0), "tags": real["tags"]}
    scores = {s.table: s for s in d.detection_scores(md, small, small)}
    assert scores["users"].auc is None and "fewer than 6 rows" in scores["users"].detail
    assert scores["users"].rows == 5
    only = {"users": real["users"]}
    assert [s.table for s in d.detection_scores(md, real, only)] == ["users"]  # tables on both sides only
    assert d.detection_auc([scores["tags"]]) is None


def test_a_column_null_everywhere_is_left_out():
    real, fake = _data(), _data(10)
    for f in (real, fake):
        f["users"]["age"] = np.nan
    features = d.table_features(_md(), "users", real, fake)
    assert "age" not in features.real.columns
    assert _auc(d.detection_scores(_md(), real, fake), "users") <= 0.6


def test_the_report_json_and_html_show_detection():
    real = _data()
    fake = _data(10)
    fake["users"]["age"] = fake["users"]["age"] + 25
    report = evaluate(real, fake, _md())
    doc = json.loads(report.to_json())
    assert doc["detection"]["auc"] == pytest.approx(report.detection_auc)
    tables = {t["table"]: t for t in doc["detection"]["tables"]}
    assert tables["users"]["auc"] >= 0.9 and tables["users"]["rows"] == N_USERS
    assert tables["tags"]["auc"] is None and tables["tags"]["detail"]
    assert "detection" not in report.properties  # 0.5 is best: no property, not in overall
    html = render_html(report)
    assert "Detection (real vs synthetic classifier ROC AUC; 0.5 = indistinguishable)" in html
    assert f'<span id="detection-auc">{report.detection_auc:.3f}</span>' in html
    assert f"<td>users</td><td class=\"num\">{tables['users']['auc']:.3f}</td>" in html
    assert "not scored: no modelled column" in html
    skipped = evaluate(real, fake, _md(), detection=False)
    assert skipped.detection == [] and skipped.to_dict()["detection"] == {"auc": None, "tables": []}
    assert 'id="detection"' not in render_html(skipped)
