"""The one sampling engine (dbsynth.sample.engine): typed batches, the same batching for every synthesizer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dbsynth.batch import Batch, BatchKind
from dbsynth.config import BUILTIN_DATABASES
from dbsynth.read import read_tables
from dbsynth.reflect import reflect
from dbsynth.sample.refs import join_batches
from dbsynth.synthesizers import HMASynthesizer, HSASynthesizer, IndependentSynthesizer

ALL = [HMASynthesizer, HSASynthesizer, IndependentSynthesizer]
CHINOOK = f"sqlite:///{BUILTIN_DATABASES['chinook']}"


@pytest.fixture(scope="module")
def chinook():
    md = reflect(CHINOOK)
    return md, read_tables(CHINOOK, md)


def _shapes():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("shapes", Path(__file__).with_name("test_hma_shapes.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod._data()


@pytest.mark.parametrize("cls", ALL)
def test_batches_are_typed_records_updates_by_kind_and_no_attrs(cls):
    md, data = _shapes()
    syn = cls(md, seed=4, verbose=False).fit(data)
    batches = list(syn.iter_sample(batch_rows=5))
    assert all(isinstance(b, Batch) for b in batches)
    assert all(not b.frame.attrs for b in batches)
    graph = md.graph()
    late = {d.edge.child for d in graph.deferred if d.edge.child != d.edge.parent}
    updates = [b for b in batches if b.kind is BatchKind.UPDATE]
    assert {b.table for b in updates} == late
    for b in updates:  # an update holds the child's key and the deferred columns only
        pk = md.tables[b.table].primary_key
        deferred = {c for d in graph.deferred if d.edge.child == b.table for c in d.edge.fk.columns}
        assert set(b.frame.columns) == set(pk) | deferred
    # every update comes after every row batch of its table
    for t in late:
        last_rows = max(i for i, b in enumerate(batches) if b.table == t and not b.is_update)
        assert min(i for i, b in enumerate(batches) if b.table == t and b.is_update) > last_rows
    table, frame = batches[0]  # a batch still unpacks as (table, frame)
    assert table == batches[0].table and frame is batches[0].frame


@pytest.mark.parametrize("cls", [HSASynthesizer, IndependentSynthesizer])
def test_segment_synthesizers_sample_in_batches_of_whole_parents(chinook, cls):
    md, data = chinook
    syn = cls(md, seed=3, verbose=False).fit(data)
    batch_rows = 200
    batches = list(syn.iter_sample(batch_rows=batch_rows))
    graph = md.graph()
    roots = set(graph.roots())
    sizes: dict[str, list[int]] = {}
    for b in batches:
        sizes.setdefault(b.table, []).append(len(b.frame))
    for t, s in sizes.items():
        if t in roots:
            assert max(s) <= batch_rows, t  # roots are cut every batch_rows rows
    # a big child table comes in several batches (they drew whole tables before the engine)
    assert len(sizes["InvoiceLine"]) > 1 and len(sizes["PlaylistTrack"]) > 1
    out = join_batches(md, batches)
    for t, table in md.tables.items():
        frame = out[t]
        if table.primary_key:
            assert not frame[table.primary_key].duplicated().any(), t
        for fk in table.foreign_keys:
            child = frame[fk.columns].dropna()
            parent = out[fk.ref_table][fk.ref_columns]
            keys = pd.MultiIndex.from_frame(parent.astype(object))
            assert pd.MultiIndex.from_frame(child.astype(object)).isin(keys).all(), (t, fk.columns)


@pytest.mark.parametrize("cls", ALL)
def test_same_seed_same_batches(cls):
    md, data = _shapes()
    a = list(cls(md, seed=9, verbose=False).fit(data).iter_sample(batch_rows=7))
    b = list(cls(md, seed=9, verbose=False).fit(data).iter_sample(batch_rows=7))
    assert [(x.table, x.kind) for x in a] == [(y.table, y.kind) for y in b]
    for x, y in zip(a, b):
        pd.testing.assert_frame_equal(x.frame, y.frame)


def test_hsa_children_follow_their_parent_segment_in_batches():
    # two kinds of parents: the big ones have many children, the small ones few; segments carry that
    rng = np.random.default_rng(0)
    from dbsynth.metadata import Column, ForeignKey, Metadata, Table

    n = 600
    size = np.where(np.arange(n) < n // 2, 1.0, 100.0) + rng.normal(0, 0.1, n)
    kids = np.where(size > 50, 8, 1)
    parent = pd.DataFrame({"id": np.arange(1, n + 1), "size": size})
    child = pd.DataFrame({"id": np.arange(1, kids.sum() + 1), "pid": np.repeat(parent["id"], kids).to_numpy()})
    md = Metadata(tables={
        "parent": Table("parent", [Column("id", "integer", "id", nullable=False), Column("size", "float", "numerical")],
                        primary_key=["id"]),
        "child": Table("child", [Column("id", "integer", "id", nullable=False), Column("pid", "integer", "id")],
                       primary_key=["id"], foreign_keys=[ForeignKey(["pid"], "parent", ["id"])]),
    })
    syn = HSASynthesizer(md, seed=1, verbose=False, default_num_clusters=2).fit({"parent": parent, "child": child})
    out = join_batches(md, syn.iter_sample(batch_rows=50))
    per = out["child"].groupby("pid").size().reindex(out["parent"]["id"], fill_value=0).to_numpy()
    big = out["parent"]["size"].to_numpy() > 50
    assert per[big].mean() > 4 * per[~big].mean()
