"""The column shuffle (dbsynth.report.baselines, issue 18): marginals and keys exact, relations destroyed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dbsynth
from dbsynth.metadata.records import Column, ForeignKey, Metadata, Table, UniqueConstraint
from dbsynth.report.baselines import column_shuffle, key_columns

N_PARENTS = 2_000


def _metadata() -> Metadata:
    md = Metadata()
    md.add_table(Table("parent", [
        Column("pid", "integer", "id", nullable=False),
        Column("a", "float", "numerical"),
        Column("a_copy", "float", "numerical"),
        Column("kind", "string", "categorical"),
        Column("kind_copy", "string", "categorical"),
        Column("first", "string", "first_name"),
        Column("u1", "integer", "numerical"),
        Column("u2", "integer", "numerical"),
    ], primary_key=["pid"], unique_constraints=[UniqueConstraint(["u1", "u2"])]))
    md.add_table(Table("child", [
        Column("cid", "integer", "id", nullable=False),
        Column("pid", "integer", "id"),
        Column("x", "float", "numerical"),
        Column("flag", "boolean", "boolean"),
        Column("at", "timestamp", "datetime"),
    ], primary_key=["cid"], foreign_keys=[ForeignKey(["pid"], "parent", ["pid"])]))
    return md


def _real() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(7)
    a = rng.normal(size=N_PARENTS)
    a[::50] = np.nan  # NULLs move with the column: the NULL share is part of the marginal
    kind = rng.choice(["red", "green", "blue", "grey"], size=N_PARENTS)
    combos = np.arange(N_PARENTS)
    parent = pd.DataFrame({
        "pid": np.arange(N_PARENTS) + 100,
        "a": a, "a_copy": a,
        "kind": kind, "kind_copy": kind,
        "first": pd.array(np.array(["Ann", "Bob", None], dtype=object)[rng.integers(0, 3, N_PARENTS)], dtype="string"),
        # every (u1, u2) distinct while each column repeats: shuffled apart, they would collide
        "u1": pd.array(combos // 100, dtype="Int64"), "u2": pd.array(combos % 100, dtype="Int64"),
    })
    counts = rng.integers(0, 6, size=N_PARENTS)  # children per parent, zeros included
    pid = np.repeat(parent["pid"].to_numpy(), counts)
    a_of = np.repeat(np.nan_to_num(a), counts)
    child = pd.DataFrame({
        "cid": np.arange(len(pid)),
        "pid": pid,
        "x": a_of + rng.normal(scale=0.05, size=len(pid)),  # a child column that follows its parent's a
        "flag": a_of > 0,
        "at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, size=len(pid)), unit="s"),
    })
    child.index = child.index + 5  # a non-default index is kept
    return {"parent": parent, "child": child}


@pytest.fixture(scope="module")
def data():
    md, real = _metadata(), _real()
    return md, real, column_shuffle(md, real, seed=3)


def _multiset(s: pd.Series) -> list[str]:
    return sorted(s.astype(object).map(lambda v: "<NULL>" if pd.isna(v) else repr(v)).tolist())


def test_every_column_keeps_its_values_dtype_and_index(data):
    md, real, shuffled = data
    for name, frame in real.items():
        out = shuffled[name]
        assert list(out.columns) == list(frame.columns)
        assert out.index.equals(frame.index)
        for col in frame.columns:
            assert out[col].dtype == frame[col].dtype, (name, col)
            assert _multiset(out[col]) == _multiset(frame[col]), (name, col)


def test_non_key_columns_are_moved(data):
    md, real, shuffled = data
    for name, frame in real.items():
        for col in set(frame.columns) - key_columns(md.table(name)):
            same = (shuffled[name][col].astype(object) == frame[col].astype(object)).mean()
            assert same < 0.6, (name, col, same)  # a permutation, not the identity (4 labels: ~1/4 by chance)


def test_keys_and_children_per_parent_are_unchanged(data):
    md, real, shuffled = data
    assert key_columns(md.table("child")) == {"cid", "pid"}
    for name, cols in (("parent", ["pid"]), ("child", ["cid", "pid"])):
        pd.testing.assert_frame_equal(shuffled[name][cols], real[name][cols])
    per_parent = [f["child"]["pid"].value_counts().sort_index() for f in (real, shuffled)]
    pd.testing.assert_series_equal(*per_parent)


def test_a_multi_column_unique_constraint_still_holds(data):
    md, real, shuffled = data
    assert not real["parent"].duplicated(["u1", "u2"]).any()
    assert not shuffled["parent"].duplicated(["u1", "u2"]).any()
    assert (shuffled["parent"]["u1"] != real["parent"]["u1"]).mean() > 0.5  # the block did move


def test_relations_between_columns_are_destroyed(data):
    md, real, shuffled = data
    p, s = real["parent"], shuffled["parent"]
    assert p["a"].corr(p["a_copy"]) == pytest.approx(1.0)
    assert abs(s["a"].corr(s["a_copy"])) < 0.1
    assert (p["kind"] == p["kind_copy"]).all()
    assert (s["kind"] == s["kind_copy"]).mean() < 0.35  # 4 labels: about 1/4 by chance
    # across the foreign key: the child's x followed its parent's a
    joined = [f["child"].merge(f["parent"][["pid", "a"]], on="pid") for f in (real, shuffled)]
    assert joined[0]["x"].corr(joined[0]["a"]) > 0.95
    assert abs(joined[1]["x"].corr(joined[1]["a"])) < 0.1


def test_deterministic_per_seed_and_input_left_alone():
    md, real = _metadata(), _real()
    before = {t: f.copy() for t, f in real.items()}
    one, again, other = (column_shuffle(md, real, seed=s) for s in (3, 3, 4))
    for t in real:
        pd.testing.assert_frame_equal(one[t], again[t])
        pd.testing.assert_frame_equal(real[t], before[t])
    assert not one["parent"]["a"].equals(other["parent"]["a"])


def test_tables_outside_the_metadata_pass_through():
    md, real = _metadata(), _real()
    extra = pd.DataFrame({"v": np.arange(50)})
    out = column_shuffle(md, {**real, "extra": extra}, seed=0)
    pd.testing.assert_frame_equal(out["extra"], extra)
    assert out["extra"] is not extra


def test_evaluate_scores_the_shuffle_as_the_issue_says(data):
    md, real, shuffled = data
    props = dbsynth.evaluate(real, shuffled, md).properties
    assert props["column_shapes"] == pytest.approx(1.0)
    assert props["cardinality"] == pytest.approx(1.0)
    # the copies and the parent -> child relation are lost: both trends well under the real data's 1.0
    assert props["column_pair_trends"] < 0.9
    assert props["intertable_trends"] < 0.9
