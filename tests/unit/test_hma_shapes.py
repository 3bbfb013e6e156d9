"""Schema shapes: self-reference, two FKs to one parent with a composite key, a cycle across tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dbsynth.metadata import Column, ForeignKey, Metadata, Table
from dbsynth.model.hma import HMASynthesizer


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
    md.add_table(Table("store", [Column("store_id", "integer", "id", nullable=False), Column("manager", "integer", "id")],
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
