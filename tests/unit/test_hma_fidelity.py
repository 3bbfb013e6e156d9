"""Fidelity on synthetic data of known structure: each planted dependency must show in the sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dbsynth.errors import BadInputError, NotFittedError
from dbsynth.metadata import Column, ForeignKey, Metadata, Table
from dbsynth.synthesizers import HMASynthesizer


def _world(n_parents: int = 600, seed: int = 0):
    """Parents with a size class; children whose count and amount depend on it."""
    rng = np.random.default_rng(seed)
    big = rng.uniform(size=n_parents) < 0.5
    income = np.where(big, rng.normal(100, 10, n_parents), rng.normal(20, 5, n_parents)).round(2)
    x = rng.normal(size=n_parents)
    y = 3 * x + rng.normal(scale=0.5, size=n_parents)
    label = np.where(rng.uniform(size=n_parents) < 0.03, "rare", np.where(rng.uniform(size=n_parents) < 0.5, "a", "b"))
    # missing 'note' almost only when x is high
    score = pd.Series(rng.normal(size=n_parents)).where(x < 0.5, None)
    parents = pd.DataFrame({"pid": np.arange(n_parents), "big": big, "income": income, "x": x, "y": y,
                            "label": label, "score": score})
    counts = np.where(big, rng.integers(6, 10, n_parents), rng.integers(0, 3, n_parents))
    owner = np.repeat(np.arange(n_parents), counts)
    amount = np.where(big[owner], 50.0, 5.0) + rng.normal(scale=1.0, size=len(owner))
    children = pd.DataFrame({"cid": np.arange(len(owner)), "pid": owner, "amount": amount.round(2)})
    md = Metadata()
    md.add_table(Table("parent", [
        Column("pid", "integer", "id", nullable=False), Column("big", "boolean", "boolean"),
        Column("income", "float", "numerical"), Column("x", "float", "numerical"), Column("y", "float", "numerical"),
        Column("label", "string", "categorical"), Column("score", "float", "numerical"),
    ], primary_key=["pid"]))
    md.add_table(Table("child", [
        Column("cid", "integer", "id", nullable=False), Column("pid", "integer", "id", nullable=False),
        Column("amount", "float", "numerical"),
    ], primary_key=["cid"], foreign_keys=[ForeignKey(["pid"], "parent", ["pid"])]))
    return md, {"parent": parents, "child": children}


@pytest.fixture(scope="module")
def fitted():
    md, data = _world()
    syn = HMASynthesizer(md, seed=5, verbose=False).fit(data)
    return syn, data, syn.sample(scale=2.0)


def test_child_count_depends_on_parent_column(fitted):
    _, _, out = fitted
    per = out["child"].groupby("pid").size().reindex(out["parent"]["pid"], fill_value=0).to_numpy()
    big = out["parent"]["big"].to_numpy()
    assert per[big].mean() > 5 and per[~big].mean() < 2.5


def test_child_mean_depends_on_parent(fitted):
    _, _, out = fitted
    merged = out["child"].merge(out["parent"][["pid", "big"]], on="pid")
    # real: 50 vs 5; the zero-child parents blur the folded means, so ask for a clear gap, not the full one
    assert merged.loc[merged.big, "amount"].mean() - merged.loc[~merged.big, "amount"].mean() > 10


def test_correlated_columns_within_a_table(fitted):
    _, _, out = fitted
    assert out["parent"][["x", "y"]].corr().iloc[0, 1] > 0.85


def test_rare_label_comes_back_in_proportion(fitted):
    _, data, out = fitted
    real = (data["parent"]["label"] == "rare").mean()
    synth = (out["parent"]["label"] == "rare").mean()
    assert synth > 0 and abs(synth - real) < 0.02


def test_missing_values_follow_another_column(fitted):
    _, _, out = fitted
    p = out["parent"]
    high, low = p.loc[p.x > 1.0, "score"].isna().mean(), p.loc[p.x < 0.0, "score"].isna().mean()
    # real: 100% vs 0%; a Gaussian copula softens a hard threshold, so ask for a large visible gap
    assert high > 0.65 and low < 0.2 and high - low > 0.5


def test_scale_and_counts_in_observed_range(fitted):
    _, data, out = fitted
    assert len(out["parent"]) == 2 * len(data["parent"])
    assert abs(len(out["child"]) / (2 * len(data["child"])) - 1) < 0.05
    assert out["child"].groupby("pid").size().max() <= data["child"].groupby("pid").size().max()


def test_skewed_children_per_parent_over_few_parents_come_back_exactly():
    # Chinook's support reps: 3 of 8 employees serve every customer. The copula's count column interpolates
    # between quantiles (1, 2, 11, 21 customers each); the counts keep its ranks and the learned distribution.
    rng = np.random.default_rng(0)
    counts = np.array([0, 0, 0, 0, 0, 18, 20, 21])
    parents = pd.DataFrame({"eid": np.arange(8), "seniority": rng.normal(10, 5, 8).round(1)})
    owner = np.repeat(np.arange(8), counts)
    children = pd.DataFrame({"cid": np.arange(len(owner)), "eid": owner, "spend": rng.normal(10, 2, len(owner))})
    md = Metadata()
    md.add_table(Table("rep", [Column("eid", "integer", "id", nullable=False),
                               Column("seniority", "float", "numerical")], primary_key=["eid"]))
    md.add_table(Table("customer", [
        Column("cid", "integer", "id", nullable=False), Column("eid", "integer", "id", nullable=False),
        Column("spend", "float", "numerical"),
    ], primary_key=["cid"], foreign_keys=[ForeignKey(["eid"], "rep", ["eid"])]))
    for seed in range(8):
        out = HMASynthesizer(md, seed=seed, verbose=False).fit({"rep": parents, "customer": children}).sample()
        per = out["customer"].groupby("eid").size().reindex(out["rep"]["eid"], fill_value=0).to_numpy()
        assert sorted(per) == sorted(counts), seed
    # which parents get them still follows the copula (test_child_count_depends_on_parent_column)


def test_parameters_and_learned_distributions():
    md, data = _world(200)
    syn = HMASynthesizer(md, seed=1, verbose=False)
    with pytest.raises(NotFittedError):
        syn.sample()
    with pytest.raises(NotFittedError):
        syn.get_learned_distributions("parent")
    with pytest.raises(BadInputError):
        syn.set_table_parameters("parent", {"default_distribution": "cauchy"})
    syn.set_table_parameters("parent", {"default_distribution": "beta", "numerical_distributions": {"x": "auto"}})
    assert syn.get_table_parameters("parent")["default_distribution"] == "beta"
    syn.fit(data)
    dists = syn.get_learned_distributions("parent")
    assert dists["income"]["family"] == "beta"
    assert dists["x"]["family"] in ("norm", "truncnorm", "uniform", "beta", "gamma")
    assert set(syn.get_learned_distributions("child")) >= {"amount"}
    copy = syn.get_metadata()
    assert copy is not syn.metadata and list(copy.tables) == list(md.tables)
    out = syn.sample(num_rows={"parent": 7})
    assert len(out["parent"]) == 7


def test_one_row_and_empty_tables():
    md, data = _world(1)
    data["child"] = data["child"].iloc[:0]
    out = HMASynthesizer(md, seed=0, verbose=False).fit(data).sample()
    assert len(out["parent"]) == 1 and len(out["child"]) == 0
