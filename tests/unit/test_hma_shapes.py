"""Schema shapes: self-reference, two FKs to one parent with a composite key, a cycle across tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dbsynth.metadata import Column, ForeignKey, Metadata, Table
from dbsynth.synthesizers import HMASynthesizer


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    n = 200
    boss = np.r_[np.nan, np.floor(rng.uniform(size=n - 1) * np.arange(1, n))]
    node = pd.DataFrame({"id": np.arange(n), "boss": pd.array(boss, dtype="Int64"), "w": rng.normal(size=n)})
    pairs = pd.DataFrame({"src": rng.integers(0, n, 900), "dst": rng.integers(0, n, 900)}).drop_duplicates()
    pairs["weight"] = rng.uniform(size=len(pairs))
    store = pd.DataFrame({"store_id": np.arange(5), "manager": pd.array([0, 1, 2, 3, None], dtype="Int64")})
    staff = pd.DataFrame({"staff_id": np.arange(12), "store_id": np.arange(12) % 5})
    md = Metadata()
    md.add_table(Table("node", [Column("id", "integer", "id", nullable=False), Column("boss", "integer", "id"),
                                Column("w", "float", "numerical")], primary_key=["id"],
                       foreign_keys=[ForeignKey(["boss"], "node", ["id"])]))
    md.add_table(Table("link", [Column("src", "integer", "id", nullable=False),
                                Column("dst", "integer", "id", nullable=False), Column("weight", "float", "numerical")],
                       primary_key=["src", "dst"],
                       foreign_keys=[ForeignKey(["src"], "node", ["id"]), ForeignKey(["dst"], "node", ["id"])]))
    md.add_table(Table("store",
                       [Column("store_id", "integer", "id", nullable=False), Column("manager", "integer", "id")],
                       primary_key=["store_id"], foreign_keys=[ForeignKey(["manager"], "staff", ["staff_id"])]))
    md.add_table(Table("staff", [Column("staff_id", "integer", "id", nullable=False),
                                 Column("store_id", "integer", "id", nullable=False)],
                       primary_key=["staff_id"], foreign_keys=[ForeignKey(["store_id"], "store", ["store_id"])]))
    return md, {"node": node, "link": pairs, "store": store, "staff": staff}


def test_shapes_keep_keys_and_references():
    md, data = _data()
    out = HMASynthesizer(md, seed=9, verbose=False).fit(data).sample()
    assert list(out) == md.graph().parent_first()
    node = out["node"]
    assert node["id"].is_unique
    # self-reference: a tree, so each reference points to an earlier row and there is no cycle
    boss = node["boss"]
    pos = pd.Index(node["id"]).get_indexer(boss.dropna())
    assert (pos >= 0).all() and (pos < np.flatnonzero(boss.notna())).all()
    # two FKs to the same parent, composite primary key unique, both references valid
    link = out["link"]
    assert not link.duplicated(["src", "dst"]).any()
    assert link["src"].isin(node["id"]).all() and link["dst"].isin(node["id"]).all()
    assert len(link) > 0.8 * len(data["link"])
    # cycle store <-> staff: the deferred side still carries valid values in the frame
    assert out["staff"]["store_id"].isin(out["store"]["store_id"]).all()
    managers = out["store"]["manager"].dropna()
    assert managers.isin(out["staff"]["staff_id"]).all()
    assert abs(out["store"]["manager"].isna().mean() - 0.2) < 0.01


def _org_chart(seed: int = 0) -> pd.DataFrame:
    """Four hand-made trees: every manager has 2 to 4 reports, three levels below each root."""
    rng = np.random.default_rng(seed)
    boss = [-1] * 4
    level = list(range(4))
    for _ in range(3):
        nxt = []
        for m in level:
            for _ in range(int(rng.integers(2, 5))):
                boss.append(m)
                nxt.append(len(boss) - 1)
        level = nxt
    boss_arr = np.asarray(boss, dtype=float)
    boss_arr[boss_arr < 0] = np.nan
    return pd.DataFrame({"id": np.arange(len(boss)), "boss": pd.array(boss_arr, dtype="Int64")})


def _tree_stats(frame: pd.DataFrame) -> tuple[float, int, float, int]:
    """(share of roots, max depth, mean reports per manager, max reports per manager)."""
    pos = pd.Index(frame["id"]).get_indexer(frame["boss"].astype("Int64").fillna(-1).astype("int64"))
    pos[frame["boss"].isna().to_numpy()] = -1
    depth = np.zeros(len(pos), dtype=int)
    cur = pos.copy()
    for _ in range(len(pos)):
        live = cur >= 0
        if not live.any():
            break
        depth[live] += 1
        cur[live] = pos[cur[live]]
    assert not (cur >= 0).any(), "cycle in the self-reference"
    reports = np.bincount(pos[pos >= 0], minlength=len(pos))
    managers = reports[reports > 0]
    return float((pos < 0).mean()), int(depth.max()), float(managers.mean()), int(managers.max())


def test_self_reference_learns_tree_shape():
    real = _org_chart()
    md = Metadata()
    md.add_table(Table("emp", [Column("id", "integer", "id", nullable=False), Column("boss", "integer", "id")],
                       primary_key=["id"], foreign_keys=[ForeignKey(["boss"], "emp", ["id"])]))
    roots, depth, fan, fan_max = _tree_stats(real)
    assert (depth, fan_max) == (3, 4)
    for scale in (1.0, 3.0):
        out = HMASynthesizer(md, seed=3, verbose=False).fit({"emp": real}).sample(scale=scale)["emp"]
        s_roots, s_depth, s_fan, s_fan_max = _tree_stats(out)
        assert abs(s_roots - roots) < 0.01, scale
        assert s_depth == depth, scale  # a random earlier row would give chains far deeper than 3
        assert abs(s_fan - fan) < 0.5, (scale, s_fan, fan)
        assert s_fan_max <= fan_max, scale


def test_nested_foreign_keys_keep_children_per_parent_in_range():
    """line -> part alone and (part, supp) -> partsupp: the composite key must not overload a part."""
    rng = np.random.default_rng(1)
    part = pd.DataFrame({"p": np.arange(30)})
    supp = pd.DataFrame({"s": np.arange(10)})
    ps_part = np.repeat(np.arange(30), 4)
    ps = pd.DataFrame({"p": ps_part, "s": (ps_part + np.tile(np.arange(4), 30)) % 10})
    # lines: skewed over partsupp rows, but every part has between 6 and 14 lines
    per_part = rng.integers(6, 15, 30)
    lp = np.repeat(np.arange(30), per_part)
    pick = (rng.uniform(size=len(lp)) ** 3 * 4).astype(int)  # most lines on a part's first supplier
    line = pd.DataFrame({"id": np.arange(len(lp)), "p": lp, "s": ps["s"].to_numpy()[lp * 4 + pick]})
    md = Metadata()
    md.add_table(Table("part", [Column("p", "integer", "id", nullable=False)], primary_key=["p"]))
    md.add_table(Table("supp", [Column("s", "integer", "id", nullable=False)], primary_key=["s"]))
    md.add_table(Table("ps",
                       [Column("p", "integer", "id", nullable=False), Column("s", "integer", "id", nullable=False)],
                       primary_key=["p", "s"],
                       foreign_keys=[ForeignKey(["p"], "part", ["p"]), ForeignKey(["s"], "supp", ["s"])]))
    md.add_table(Table("line", [Column("id", "integer", "id", nullable=False),
                                Column("p", "integer", "id", nullable=False),
                                Column("s", "integer", "id", nullable=False)], primary_key=["id"],
                       foreign_keys=[ForeignKey(["p"], "part", ["p"]), ForeignKey(["p", "s"], "ps", ["p", "s"]),
                                     ForeignKey(["s"], "supp", ["s"])]))
    data = {"part": part, "supp": supp, "ps": ps, "line": line}
    for seed in (0, 1, 2):
        out = HMASynthesizer(md, seed=seed, verbose=False).fit(data).sample()
        syn = out["line"]
        pairs = pd.MultiIndex.from_frame(out["ps"][["p", "s"]])
        assert (pairs.get_indexer(pd.MultiIndex.from_frame(syn[["p", "s"]])) >= 0).all()
        for cols in (["p"], ["s"], ["p", "s"]):
            assert syn.groupby(cols).size().max() <= line.groupby(cols).size().max(), (seed, cols)
        assert len(syn) > 0.8 * len(line)


def test_learned_tree_survives_save_and_load(tmp_path):
    import dbsynth

    md = Metadata()
    md.add_table(Table("emp", [Column("id", "integer", "id", nullable=False), Column("boss", "integer", "id")],
                       primary_key=["id"], foreign_keys=[ForeignKey(["boss"], "emp", ["id"])]))
    syn = HMASynthesizer(md, seed=5, verbose=False).fit({"emp": _org_chart()})
    loaded = dbsynth.load_synthesizer(syn.save(tmp_path / "m.zip"))
    pd.testing.assert_frame_equal(loaded.sample()["emp"], syn.sample()["emp"])
    assert _tree_stats(loaded.sample()["emp"])[1] == 3
