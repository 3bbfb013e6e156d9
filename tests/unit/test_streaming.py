"""Streamed fit and batched sampling (issue 6), without a server: the embedded Chinook SQLite and built data.

The streamed path must learn the model the in-memory path learns (exactly when the sample is the table, within
sampling tolerance otherwise, whatever the chunk size), and batches must never break keys or references.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dbsynth.batch import Batch, BatchKind
from dbsynth.config import BUILTIN_DATABASES
from dbsynth.errors import MemoryBudgetError
from dbsynth.memory import parse_size, plan_memory
from dbsynth.model.source import FrameSource, bottom_k
from dbsynth.read import open_sources, read_tables
from dbsynth.reflect import reflect
from dbsynth.synthesizers import HMASynthesizer, HSASynthesizer, IndependentSynthesizer

CHINOOK = f"sqlite:///{BUILTIN_DATABASES['chinook']}"


def shapes_data():
    """The schema shapes of test_hma_shapes: self-reference, bridge with two FKs to one parent, a cycle."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("shapes", Path(__file__).with_name("test_hma_shapes.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod._data()


@pytest.fixture(scope="module")
def chinook():
    md = reflect(CHINOOK)
    return md, read_tables(CHINOOK, md)


def _fit(md, data, **kw) -> dict:
    return HMASynthesizer(md, seed=5, verbose=False).fit(data, **kw).fitted_models()


def test_sources_covering_each_table_give_the_in_memory_model_exactly(chinook):
    md, data = chinook
    a = _fit(md, data)
    b = _fit(md, {t: FrameSource(f, chunk_rows=13) for t, f in data.items()}, sample_rows=10**6)
    for t in a:
        assert a[t].columns == b[t].columns
        np.testing.assert_allclose(a[t].corr, b[t].corr, atol=1e-12, err_msg=t)
        if a[t].link:
            np.testing.assert_allclose(a[t].link.resid_cov, b[t].link.resid_cov, atol=1e-12, err_msg=t)


def test_streamed_passes_fold_children_exactly_and_the_copula_within_tolerance(chinook):
    md, data = chinook
    full = _fit(md, data)
    # 1,500 rows: Track, InvoiceLine and PlaylistTrack are sampled, so their folds go through streamed passes
    small = _fit(md, {t: FrameSource(f, chunk_rows=101) for t, f in data.items()}, sample_rows=1500)
    for t in full:
        lf, ls = full[t].link, small[t].link
        if lf is None:
            continue
        # counts per parent are exact: every row is read in the passes
        for k in ("n_linked", "orphans", "count_min", "count_max"):
            assert getattr(lf, k) == getattr(ls, k), (t, k)
        assert np.abs(np.asarray(lf.resid_cov) - np.asarray(ls.resid_cov)).max(initial=0) < 0.3, t
    for t in ("Invoice", "Album", "Customer"):  # parents used whole, their children's means folded in exactly
        assert np.abs(np.asarray(full[t].corr) - np.asarray(small[t].corr)).max(initial=0) < 0.05, t


def test_chunk_size_does_not_change_the_model(chinook):
    md, data = chinook
    a = _fit(md, {t: FrameSource(f, chunk_rows=7) for t, f in data.items()}, sample_rows=1000)
    b = _fit(md, {t: FrameSource(f, chunk_rows=100_000) for t, f in data.items()}, sample_rows=1000)
    for t in a:
        np.testing.assert_allclose(a[t].corr, b[t].corr, atol=1e-9, err_msg=t)
        if a[t].link:
            np.testing.assert_allclose(a[t].link.resid_cov, b[t].link.resid_cov, atol=1e-9, err_msg=t)


def test_database_sources_give_the_frame_model(chinook):
    md, data = chinook
    a = _fit(md, data, sample_rows=800)
    with open_sources(CHINOOK, md, chunk_rows=333) as sources:
        assert sources["Track"].n_rows == len(data["Track"])
        sample = sources["Track"].sample(800, seed=1)
        assert len(sample) == 800 and not sample["TrackId"].duplicated().any()
        b = HMASynthesizer(md, seed=5, verbose=False).fit(sources, sample_rows=800).fitted_models()
    for t in a:  # different samples (reservoir vs frame sampling), same exact folds
        if a[t].link:
            assert a[t].link.n_linked == b[t].link.n_linked
            assert a[t].link.count_max == b[t].link.count_max


def _collect(md, batches):
    parts, updates, sizes = {}, {}, []
    for b in batches:
        t, f = b
        if b.is_update:
            updates.setdefault(t, []).append(f)
        else:
            parts.setdefault(t, []).append(f)
            sizes.append(len(f))
    out = {t: pd.concat(v, ignore_index=True) for t, v in parts.items()}
    for t, v in updates.items():
        upd = pd.concat(v, ignore_index=True)
        assert list(upd[md.tables[t].primary_key].itertuples(index=False)) == list(
            out[t][md.tables[t].primary_key].itertuples(index=False)
        )
        for c in upd.columns:
            out[t][c] = upd[c].to_numpy()
    return out, sizes


def _check_keys_and_references(md, out):
    for t, table in md.tables.items():
        frame = out[t]
        if table.primary_key:
            assert not frame[table.primary_key].duplicated().any(), t
        for fk in table.foreign_keys:
            sub = frame[fk.columns].dropna().astype(object)
            parent = pd.MultiIndex.from_frame(out[fk.ref_table][fk.ref_columns].astype(object))
            if len(sub):
                assert (parent.get_indexer(pd.MultiIndex.from_frame(sub)) >= 0).all(), (t, fk.columns)


ALL = [HMASynthesizer, HSASynthesizer, IndependentSynthesizer]


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("batch_rows", [97, 1000])
def test_batches_keep_keys_unique_and_references_valid(chinook, batch_rows, cls):
    md, data = chinook
    syn = cls(md, seed=2, verbose=False).fit(data)
    out, sizes = _collect(md, syn.iter_sample(batch_rows=batch_rows))
    assert sum(sizes) == sum(len(f) for f in out.values())
    assert len(sizes) > len(md.tables)  # really cut into batches
    _check_keys_and_references(md, out)
    whole = syn.sample()
    assert {t: len(f) for t, f in out.items()} == {t: len(f) for t, f in whole.items()}
    # every synthesizer runs on the one engine: batches of whole parents (see test_engine for their sizes)


@pytest.mark.parametrize("cls", ALL)
def test_batches_of_every_shape_self_reference_bridge_and_cycle(cls):
    md, data = shapes_data()
    syn = cls(md, seed=4, verbose=False).fit(data)
    out, _ = _collect(md, syn.iter_sample(batch_rows=16))
    _check_keys_and_references(md, out)
    node = out["node"]  # the self-reference is still a forest: every reference points to an earlier row
    pos = pd.Index(node["id"]).get_indexer(node["boss"].dropna())
    assert (pos < np.flatnonzero(node["boss"].notna())).all()


@pytest.mark.parametrize("cls", ALL)
def test_cycle_filled_late_is_sent_as_update_frames(cls):
    md, data = shapes_data()
    syn = cls(md, seed=4, verbose=False).fit(data)
    batches = list(syn.iter_sample(batch_rows=3))
    assert all(isinstance(b, Batch) and not b.frame.attrs for b in batches)  # the kind is typed, no attrs flag
    updates = [(b.table, b.frame) for b in batches if b.kind is BatchKind.UPDATE]
    graph = md.graph()
    late = {d.edge.child for d in graph.deferred if d.edge.child != d.edge.parent}
    assert {t for t, _ in updates} == late


def test_bottom_k_is_a_uniform_sample_in_one_pass():
    rng = np.random.default_rng(0)
    keys = rng.random(10_000)
    pick = bottom_k(keys, 100)
    assert len(pick) == 100 and (np.diff(pick) > 0).all()
    # chunk by chunk gives the same rows as all at once
    kept = np.zeros(0, dtype=np.int64)
    for lo in range(0, 10_000, 777):
        both = np.r_[kept, np.arange(lo, min(lo + 777, 10_000))]
        kept = both[bottom_k(keys[both], 100)]
    assert sorted(kept) == sorted(pick)


def test_memory_plan_scales_with_the_budget_and_refuses_too_small(chinook):
    md, _ = chinook
    small, large = plan_memory("512MB", md), plan_memory("4GB", md)
    assert small.batch_rows < large.batch_rows and small.sample_rows <= large.sample_rows
    assert parse_size("1.5 GB") == int(1.5 * 2**30) and parse_size(None) == 2**30
    with pytest.raises(MemoryBudgetError) as err:
        plan_memory("16MB", md)
    msg = str(err.value)
    assert "memory_limit 16 MB is too small for one batch of table" in msg and "\n" not in msg
    with pytest.raises(MemoryBudgetError, match="not a size"):
        parse_size("lots")
