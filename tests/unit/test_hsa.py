"""HSASynthesizer and IndependentSynthesizer: estimator contract, model files, schema shapes, fidelity."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dbsynth
from dbsynth.errors import BadInputError, DbsynthError, ModelFileError, NotFittedError
from dbsynth.metadata import Column, ForeignKey, Metadata, Table
from dbsynth.model.segmented import kmeans
from dbsynth.model.tables import (
    TABLE_SYNTHESIZERS,
    GaussianCopulaSynthesizer,
    TableSynthesizer,
    register_table_synthesizer,
)
from dbsynth.synthesizers import HMASynthesizer, HSASynthesizer, IndependentSynthesizer

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is not a package: share helpers by path
from random_schema import random_schema
from test_hma_fidelity import _world
from test_hma_shapes import _data as _shapes
from test_hma_shapes import _org_chart, _tree_stats

BOTH = [HSASynthesizer, IndependentSynthesizer]


def _check_integrity(md: Metadata, out: dict[str, pd.DataFrame]) -> None:
    """Unique primary keys, every non-NULL reference found in its parent, NOT NULL columns filled."""
    for t, table in md.tables.items():
        frame = out[t]
        if table.primary_key:
            assert not frame[table.primary_key].duplicated().any(), t
        for c in table.columns:
            if not c.nullable:
                assert frame[c.name].notna().all(), (t, c.name)
        for fk in table.foreign_keys:
            sub = frame[fk.columns].dropna()
            keys = pd.MultiIndex.from_frame(out[fk.ref_table][fk.ref_columns].astype("object"))
            found = keys.get_indexer(pd.MultiIndex.from_frame(sub.astype("object")))
            assert (found >= 0).all(), (t, fk.columns)


# ---- fidelity: the planted parent -> child dependencies of the HMA fidelity tests ----------------------------
@pytest.fixture(scope="module")
def world_samples():
    md, data = _world()
    return data, {cls: cls(md, seed=5, verbose=False).fit(data).sample(scale=2.0) for cls in BOTH}


def _counts_by_big(out):
    per = out["child"].groupby("pid").size().reindex(out["parent"]["pid"], fill_value=0).to_numpy()
    big = out["parent"]["big"].to_numpy()
    return per[big].mean(), per[~big].mean()


def _amount_gap(out):
    merged = out["child"].merge(out["parent"][["pid", "big"]], on="pid")
    return merged.loc[merged.big, "amount"].mean() - merged.loc[~merged.big, "amount"].mean()


def test_hsa_keeps_parent_dependent_child_counts(world_samples):
    # real: 7.5 children per big parent, 1 per small one
    big, small = _counts_by_big(world_samples[1][HSASynthesizer])
    assert big > 5 and small < 2.5 and big - small > 3


def test_independent_does_not_keep_parent_dependent_child_counts(world_samples):
    big, small = _counts_by_big(world_samples[1][IndependentSynthesizer])
    assert abs(big - small) < 1.5


def test_hsa_keeps_parent_dependent_child_means(world_samples):
    # real: 50 vs 5; segments are coarser than HMA's per-parent means but must show most of the gap
    assert _amount_gap(world_samples[1][HSASynthesizer]) > 20


def test_independent_does_not_keep_parent_dependent_child_means(world_samples):
    assert abs(_amount_gap(world_samples[1][IndependentSynthesizer])) < 5


@pytest.mark.parametrize("cls", BOTH)
def test_within_table_statistics_and_scale(cls, world_samples):
    data, samples = world_samples
    out = samples[cls]
    assert out["parent"][["x", "y"]].corr().iloc[0, 1] > 0.85
    assert len(out["parent"]) == 2 * len(data["parent"])
    assert abs(len(out["child"]) / (2 * len(data["child"])) - 1) < 0.05
    assert out["child"].groupby("pid").size().max() <= data["child"].groupby("pid").size().max()
    assert list(out["child"].dtypes.astype(str)) == ["int64", "int64", "float64"]


# ---- estimator contract -----------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", BOTH)
def test_not_fitted_errors(cls, tmp_path):
    md, _ = _world(50)
    syn = cls(md, seed=1, verbose=False)
    with pytest.raises(NotFittedError):
        syn.sample()
    with pytest.raises(NotFittedError):
        syn.get_learned_distributions("parent")
    with pytest.raises(NotFittedError):
        syn.save(tmp_path / "m.zip")
    with pytest.raises(NotFittedError):
        syn.get_loss_values()


@pytest.mark.parametrize("cls", BOTH)
def test_save_load_round_trip_gives_same_sample(cls, tmp_path):
    md, data = _world(200)
    syn = cls(md, seed=3, verbose=False)
    syn.set_table_parameters("child", table_parameters={"default_distribution": "gamma"})
    syn.fit(data)
    loaded = dbsynth.load_synthesizer(syn.save(tmp_path / "m.zip"))
    assert type(loaded) is cls
    assert loaded.get_parameters() == syn.get_parameters()
    assert loaded.get_learned_distributions("child") == syn.get_learned_distributions("child")
    a, b = syn.sample(scale=1.5), loaded.sample(scale=1.5)
    for t in a:
        pd.testing.assert_frame_equal(a[t], b[t])
    assert cls.load(tmp_path / "m.zip").get_parameters() == syn.get_parameters()
    other = BOTH[1] if cls is BOTH[0] else BOTH[0]
    with pytest.raises(ModelFileError, match=cls.__name__):
        other.load(tmp_path / "m.zip")


def test_same_seed_same_rows_other_seed_other_rows():
    md, data = _world(200)
    one = HSASynthesizer(md, seed=4, verbose=False).fit(data).sample()
    two = HSASynthesizer(md, seed=4, verbose=False).fit(data).sample()
    three = HSASynthesizer(md, seed=5, verbose=False).fit(data).sample()
    pd.testing.assert_frame_equal(one["child"], two["child"])
    assert not one["child"]["amount"].equals(three["child"]["amount"])


@pytest.mark.parametrize("cls", BOTH)
def test_set_table_parameters_validates_names(cls):
    md, data = _world(100)
    syn = cls(md, seed=1, verbose=False)
    with pytest.raises(DbsynthError, match="nope"):
        syn.set_table_parameters("nope", table_parameters={})
    with pytest.raises(BadInputError, match="unknown table synthesizer 'CTGAN'"):
        syn.set_table_parameters("parent", table_synthesizer="CTGAN")
    with pytest.raises(BadInputError, match="unknown table parameter"):
        syn.set_table_parameters("parent", table_parameters={"epochs": 3})
    with pytest.raises(BadInputError, match="cauchy"):
        syn.set_table_parameters("parent", table_parameters={"default_distribution": "cauchy"})
    with pytest.raises(DbsynthError, match="incomee"):
        syn.set_table_parameters("parent", table_parameters={"numerical_distributions": {"incomee": "beta"}})
    with pytest.raises(BadInputError, match="fit_rows"):
        syn.set_table_parameters("parent", table_parameters={"fit_rows": 0})
    assert syn.get_table_parameters("parent")["table_parameters"]["default_distribution"] == "empirical"
    syn.set_table_parameters("parent", "GaussianCopulaSynthesizer", {"default_distribution": "beta"})
    got = syn.get_table_parameters("parent")
    assert got["table_synthesizer"] == "GaussianCopulaSynthesizer"
    assert got["table_parameters"]["default_distribution"] == "beta"
    syn.set_table_parameters("parent", {"numerical_distributions": {"x": "norm"}})  # HMA's call shape
    syn.fit(data)
    dists = syn.get_learned_distributions("parent")
    comps = [dists["x"]] if "components" not in dists["x"] else [c for c in dists["x"]["components"] if c]
    assert comps and all(c["family"] == "norm" for c in comps)
    with pytest.raises(BadInputError, match="no loss values"):
        syn.get_loss_values()
    params = syn.get_parameters()
    assert params["seed"] == 1
    assert params["tables"]["parent"]["table_parameters"] == {"numerical_distributions": {"x": "norm"}}


def test_hsa_learned_distributions_are_mixtures_of_segments():
    md, data = _world(300)
    syn = HSASynthesizer(md, seed=2, verbose=False, default_num_clusters=3).fit(data)
    amount = syn.get_learned_distributions("child")["amount"]
    assert amount["family"] == "mixture" and len(amount["components"]) == 3
    assert abs(sum(amount["weights"]) - 1) < 1e-9
    with pytest.raises(BadInputError):
        HSASynthesizer(md, default_num_clusters=0)
    assert "default_num_clusters" not in IndependentSynthesizer(md).get_parameters()


# ---- the pluggable table synthesizer ----------------------------------------------------------------------
def test_gaussian_copula_table_synthesizer_round_trip():
    cols = [Column("a", "float", "numerical"), Column("b", "string", "categorical")]
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.choice(["x", "y"], 300)})
    ts = GaussianCopulaSynthesizer(cols).fit(frame, np.random.default_rng(1))
    again = TableSynthesizer.from_dict(ts.to_dict(), cols)
    assert isinstance(again, GaussianCopulaSynthesizer)
    pd.testing.assert_frame_equal(ts.sample(50, np.random.default_rng(2)), again.sample(50, np.random.default_rng(2)))
    with pytest.raises(NotFittedError):
        GaussianCopulaSynthesizer(cols).sample(3, rng)


def test_a_registered_table_synthesizer_is_used_per_table():
    class Median(TableSynthesizer):
        """Every row gets the column's median (numerical columns only)."""

        name = "MedianSynthesizer"
        DEFAULTS = {}

        def fit(self, frame, rng):
            assert list(frame.columns) == [c.name for c in self.columns]  # its columns only, as documented
            self._fitted = {c.name: float(frame[c.name].median()) for c in self.columns}
            return self

        def sample(self, n, rng):
            m = self._require_fitted()
            return pd.DataFrame({c.name: np.full(n, m[c.name]) for c in self.columns})

        def learned_distributions(self):
            return {k: {"family": "constant", "value": v} for k, v in self._require_fitted().items()}

    register_table_synthesizer(Median)
    try:
        md, data = _world(200)
        for cls in BOTH:  # HSA: several segments, each a Median fitted on its rows
            syn = cls(md, seed=0, verbose=False)
            syn.set_table_parameters("child", table_synthesizer="MedianSynthesizer")
            out = syn.fit(data).sample()
            k = len(syn.fitted_models()["child"].segment_models)
            assert k == (1 if cls is IndependentSynthesizer else 3)
            assert 1 <= out["child"]["amount"].nunique() <= k
            assert out["parent"]["income"].nunique() > 10  # other tables keep the default copula
    finally:
        TABLE_SYNTHESIZERS.pop("MedianSynthesizer")


def test_kmeans_finds_separated_groups_and_orders_by_size():
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(0, 1, (300, 2)), rng.normal(10, 1, (100, 2))]
    labels = kmeans(x, 2, np.random.default_rng(1))
    assert (labels[:300] == 0).all() and (labels[300:] == 1).all()
    assert (kmeans(x, 1, rng) == 0).all() and (kmeans(x[:, :0], 3, rng) == 0).all()


def test_rare_heavy_parents_are_kept_whatever_the_seed():
    # two staff members out of 1,500 serve every rental: independent draws lose them one time in seven
    from dbsynth.model.draws import categorical_draw as _categorical_draw
    from dbsynth.model.draws import draw_counts as _draw_counts
    from dbsynth.model.records import CountHistogram

    hist = [CountHistogram(values=[0, 8000], weights=[1498 / 1500, 2 / 1500])]
    probs = np.array([[1498 / 1500, 2 / 1500]])
    for seed in range(20):
        rng = np.random.default_rng(seed)
        counts = _draw_counts(hist, np.zeros(1500, dtype=np.int64), rng)
        assert (counts == 8000).sum() == 2 and (counts == 0).sum() == 1498
        assert (_categorical_draw(probs, np.zeros(1500, dtype=np.int64), rng) == 1).sum() == 2


# ---- schema shapes ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", BOTH)
def test_shapes_keep_keys_and_references(cls):
    md, data = _shapes()
    out = cls(md, seed=9, verbose=False).fit(data).sample()
    assert list(out) == md.graph().parent_first()
    _check_integrity(md, out)
    node = out["node"]
    pos = pd.Index(node["id"]).get_indexer(node["boss"].dropna())
    assert (pos < np.flatnonzero(node["boss"].notna())).all()  # a forest: references point to earlier rows
    assert len(out["link"]) > 0.8 * len(data["link"])
    assert abs(out["store"]["manager"].isna().mean() - 0.2) < 0.01


@pytest.mark.parametrize("cls", BOTH)
def test_self_reference_learns_tree_shape(cls):
    real = _org_chart()
    md = Metadata()
    md.add_table(Table("emp", [Column("id", "integer", "id", nullable=False), Column("boss", "integer", "id")],
                       primary_key=["id"], foreign_keys=[ForeignKey(["boss"], "emp", ["id"])]))
    roots, depth, _, fan_max = _tree_stats(real)
    out = cls(md, seed=3, verbose=False).fit({"emp": real}).sample(scale=2.0)["emp"]
    s_roots, s_depth, _, s_fan_max = _tree_stats(out)
    assert abs(s_roots - roots) < 0.01 and s_depth == depth and s_fan_max <= fan_max


@pytest.mark.parametrize("cls", BOTH)
def test_nested_and_composite_foreign_keys(cls):
    """line -> part alone and (part, supp) -> partsupp: valid pairs, children per parent within range."""
    rng = np.random.default_rng(1)
    part = pd.DataFrame({"p": np.arange(30), "w": rng.normal(size=30)})
    supp = pd.DataFrame({"s": np.arange(10)})
    ps = pd.DataFrame({"p": np.repeat(np.arange(30), 4),
                       "s": (np.repeat(np.arange(30), 4) + np.tile(np.arange(4), 30)) % 10})
    lp = np.repeat(np.arange(30), rng.integers(6, 15, 30))
    pick = (rng.uniform(size=len(lp)) ** 3 * 4).astype(int)
    line = pd.DataFrame({"id": np.arange(len(lp)), "p": lp, "s": ps["s"].to_numpy()[lp * 4 + pick],
                         "qty": rng.integers(1, 50, len(lp))})
    md = Metadata()
    md.add_table(Table("part", [Column("p", "integer", "id", nullable=False), Column("w", "float", "numerical")],
                       primary_key=["p"]))
    md.add_table(Table("supp", [Column("s", "integer", "id", nullable=False)], primary_key=["s"]))
    md.add_table(Table("ps",
                       [Column("p", "integer", "id", nullable=False), Column("s", "integer", "id", nullable=False)],
                       primary_key=["p", "s"],
                       foreign_keys=[ForeignKey(["p"], "part", ["p"]), ForeignKey(["s"], "supp", ["s"])]))
    md.add_table(Table("line", [Column("id", "integer", "id", nullable=False),
                                Column("p", "integer", "id", nullable=False),
                                Column("s", "integer", "id", nullable=False), Column("qty", "integer", "numerical")],
                       primary_key=["id"],
                       foreign_keys=[ForeignKey(["p"], "part", ["p"]), ForeignKey(["p", "s"], "ps", ["p", "s"]),
                                     ForeignKey(["s"], "supp", ["s"])]))
    data = {"part": part, "supp": supp, "ps": ps, "line": line}
    for seed in (0, 1):
        out = cls(md, seed=seed, verbose=False).fit(data).sample()
        _check_integrity(md, out)
        for cols in (["p"], ["s"], ["p", "s"]):
            assert out["line"].groupby(cols).size().max() <= line.groupby(cols).size().max(), (seed, cols)
        assert len(out["line"]) > 0.8 * len(line)


@pytest.mark.parametrize("cls", BOTH)
def test_one_row_and_empty_tables(cls):
    md, data = _world(1)
    data["child"] = data["child"].iloc[:0]
    out = cls(md, seed=0, verbose=False).fit(data).sample()
    assert len(out["parent"]) == 1 and len(out["child"]) == 0
    out = cls(md, seed=0, verbose=False).fit(data).sample(num_rows=4)
    assert len(out["parent"]) == 4


def test_random_schema_of_100_tables_fits_and_samples_with_hsa():
    md, data = random_schema(100, max_depth=8, seed=0)
    graph = md.graph()
    assert len(md.tables) == 100 and max(graph.depths().values()) == 8
    out = HSASynthesizer(md, seed=0, verbose=False).fit(data).sample()
    assert set(out) == set(md.tables)
    _check_integrity(md, out)
    assert sum(map(len, out.values())) > 0.8 * sum(map(len, data.values()))


def test_hsa_memory_on_100_tables_grows_with_the_rows_not_faster():
    import tracemalloc

    def peak(rows):
        md, data = random_schema(100, max_depth=8, seed=0, rows=rows)
        size = sum(int(df.memory_usage(deep=True).sum()) for df in data.values())
        tracemalloc.start()  # numpy and pandas report their buffers to tracemalloc
        try:
            HSASynthesizer(md, seed=0, verbose=False).fit(data).sample()
            return tracemalloc.get_traced_memory()[1], size
        finally:
            tracemalloc.stop()

    small, small_size = peak((80, 800))
    big, big_size = peak((320, 3200))  # 4x the rows of every table
    assert big_size > 3.5 * small_size
    # a few MB of fixed cost, then linear: no parent x child matrix, no per-table copy kept beyond its turn
    assert big < 3 * small and big < 4 * big_size + 16e6, (small, big, big_size)


def test_hma_and_hsa_agree_on_the_frame_contract():
    md, data = _world(200)
    a = HMASynthesizer(md, seed=0, verbose=False).fit(data).sample()
    b = HSASynthesizer(md, seed=0, verbose=False).fit(data).sample()
    for t in a:
        assert list(a[t].columns) == list(b[t].columns)
        assert list(a[t].dtypes) == list(b[t].dtypes), t


@pytest.mark.parametrize("cls", [HMASynthesizer, *BOTH])
def test_set_table_parameters_has_one_call_shape_for_every_synthesizer(cls):
    md, _ = _world(50)
    for call in ({"table_parameters": {"default_distribution": "beta"}}, {}):
        syn = cls(md, seed=1, verbose=False)
        if call:  # keyword
            syn.set_table_parameters("parent", **call)
        else:  # positional: (table_name, table_parameters)
            syn.set_table_parameters("parent", {"default_distribution": "beta"})
        got = syn.get_table_parameters("parent")
        got = got.get("table_parameters", got)  # segment models nest the table synthesizer's settings
        assert got["default_distribution"] == "beta"


@pytest.mark.parametrize("cls", [HMASynthesizer, *BOTH])
def test_model_files_rebuild_the_class_asked_for(cls, tmp_path):
    md, data = _world(60)
    syn = cls(md, seed=2, verbose=False).fit(data)
    path = syn.save(tmp_path / "m.zip")
    loaded = cls.load(path)
    assert type(loaded) is cls and loaded.fitted_models().keys() == syn.fitted_models().keys()
    rebuilt = cls.from_parameters(md, syn.get_parameters(), syn.fitted_models())
    assert rebuilt.get_parameters() == syn.get_parameters()
