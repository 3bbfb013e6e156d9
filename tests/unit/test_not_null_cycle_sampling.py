"""A cycle of NOT NULL foreign keys (store.manager_staff_id <-> staff.store_id) sampled by every synthesizer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dbsynth.metadata import Column, ForeignKey, Metadata, Table
from dbsynth.synthesizers import HMASynthesizer, HSASynthesizer, IndependentSynthesizer

KINDS = {"hma": HMASynthesizer, "hsa": HSASynthesizer, "independent": IndependentSynthesizer}


def _data():
    rng = np.random.default_rng(0)
    n_store, n_staff = 6, 60
    staff = pd.DataFrame({"staff_id": np.arange(1, n_staff + 1), "store_id": rng.integers(1, n_store + 1, n_staff),
                          "salary": rng.normal(3000, 300, n_staff)})
    # each store's manager works there
    manager = [int(staff.loc[staff["store_id"] == s, "staff_id"].iloc[0]) for s in range(1, n_store + 1)]
    store = pd.DataFrame({"store_id": np.arange(1, n_store + 1), "manager_staff_id": manager,
                          "size": rng.normal(100, 10, n_store)})
    md = Metadata()
    md.add_table(Table("store", [Column("store_id", "integer", "id", nullable=False),
                                 Column("manager_staff_id", "integer", "id", nullable=False),
                                 Column("size", "float", "numerical")],
                       primary_key=["store_id"], foreign_keys=[ForeignKey(["manager_staff_id"], "staff", ["staff_id"])],
                       row_count=n_store))
    md.add_table(Table("staff", [Column("staff_id", "integer", "id", nullable=False),
                                 Column("store_id", "integer", "id", nullable=False),
                                 Column("salary", "float", "numerical")],
                       primary_key=["staff_id"], foreign_keys=[ForeignKey(["store_id"], "store", ["store_id"])],
                       row_count=n_staff))
    return md.validate(), {"store": store, "staff": staff}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_both_sides_of_a_not_null_cycle_are_filled_and_valid(kind):
    md, data = _data()
    syn = KINDS[kind](md, seed=3, verbose=False).fit(data)
    out = syn.sample()
    store, staff = out["store"], out["staff"]
    assert len(store) and len(staff)
    assert store["manager_staff_id"].notna().all() and staff["store_id"].notna().all()
    assert store["manager_staff_id"].isin(staff["staff_id"]).all()
    assert staff["store_id"].isin(store["store_id"]).all()
    # the data says each store's manager works at that store, and managers are distinct: so does the clone
    works_at = staff.set_index("staff_id").loc[store["manager_staff_id"], "store_id"].to_numpy()
    assert (works_at == store["store_id"].to_numpy()).all()
    assert store["manager_staff_id"].is_unique
    # streamed: no batch of the held table carries a NULL key, and no update frame is needed for it
    batches = list(syn.iter_sample(batch_rows=2))
    rows = [b.frame for b in batches if b.table == "store" and not b.is_update]
    assert rows and all(f["manager_staff_id"].notna().all() for f in rows)
    assert not [b for b in batches if b.table == "store" and b.is_update]
    sent = pd.concat(rows, ignore_index=True)
    ids = pd.concat([f for t, f in batches if t == "staff"], ignore_index=True)["staff_id"]
    assert sent["manager_staff_id"].isin(ids).all()
