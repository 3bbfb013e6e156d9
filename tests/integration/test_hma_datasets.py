"""HMASynthesizer on real schemas: every table sampled, keys valid, references whole, shapes kept."""

from __future__ import annotations

import pandas as pd

from dbsynth.metadata import Metadata
from dbsynth.read import read_tables
from dbsynth.reflect import reflect
from dbsynth.synthesizers import HMASynthesizer


def check_sample(md: Metadata, real: dict[str, pd.DataFrame], synth: dict[str, pd.DataFrame]) -> None:
    """Assert what the target database needs, and that the shape of the references follows the source."""
    graph = md.graph()
    assert list(synth) == graph.parent_first()
    for t, table in md.tables.items():
        frame = synth[t]
        assert list(frame.columns) == [c.name for c in table.columns if not c.computed], t
        if len(real[t]):
            assert len(frame) > 0, t
        if table.primary_key:
            assert not frame[table.primary_key].duplicated().any(), (t, table.primary_key)
        for c in table.columns:
            if not c.nullable and not c.computed:
                assert frame[c.name].notna().all(), (t, c.name)
        for fk in table.foreign_keys:
            sub = frame[fk.columns].dropna()
            parent = synth[fk.ref_table][fk.ref_columns]
            keys = pd.MultiIndex.from_frame(parent.astype("object"))
            assert keys.get_indexer(pd.MultiIndex.from_frame(sub.astype("object"))).min(initial=0) >= 0, (t, fk.columns)
            real_null = real[t][fk.columns].isna().any(axis=1).mean() if len(real[t]) else 0.0
            synth_null = frame[fk.columns].isna().any(axis=1).mean() if len(frame) else 0.0
            assert abs(real_null - synth_null) < 0.08, (t, fk.columns, real_null, synth_null)
            # children per referenced parent stay inside the observed range
            if len(sub) and not graph.is_deferred(t, fk):
                real_max = real[t].groupby(fk.columns).size().max()
                assert sub.groupby(fk.columns).size().max() <= real_max, (t, fk.columns)


def _fit_sample(url: str, seed: int = 0):
    md = reflect(url)
    real = read_tables(url, md)
    synth = HMASynthesizer(md, seed=seed, verbose=False).fit(real).sample()
    return md, real, synth


def test_chinook_sqlite(chinook_sqlite):
    md, real, synth = _fit_sample(chinook_sqlite)
    check_sample(md, real, synth)
    for t in md.tables:  # table sizes follow the source at scale 1 (bridge-table duplicates aside)
        assert len(synth[t]) >= 0.8 * len(real[t]), t
    # employee.reports_to: a tree (following references always ends at a root)
    emp = synth["Employee"].set_index("EmployeeId")["ReportsTo"]
    for start in emp.index:
        seen, cur = set(), start
        while pd.notna(cur):
            assert cur not in seen
            seen.add(cur)
            cur = emp.get(int(cur))


def test_chinook_mariadb(mariadb_dataset):
    md, real, synth = _fit_sample(mariadb_dataset("chinook"), seed=4)
    check_sample(md, real, synth)


def test_pagila_postgres(pg_dataset):
    md, real, synth = _fit_sample(pg_dataset("pagila"))
    check_sample(md, real, synth)


def test_tpch_postgres(pg_dataset):
    md, real, synth = _fit_sample(pg_dataset("tpch", sf="0.01"))
    check_sample(md, real, synth)
    assert abs(len(synth["lineitem"]) / len(real["lineitem"]) - 1) < 0.1
