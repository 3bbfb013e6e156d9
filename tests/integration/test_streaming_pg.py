"""The streamed run on real servers: PostgreSQL source read through TABLESAMPLE and passes in one snapshot,
written in many small batches into PostgreSQL and MariaDB; the writer's own checks (row counts, every foreign
key by SQL) run in the same transaction, and the test checks keys and references again from outside."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

import dbsynth
from dbsynth.config import Config
from dbsynth.read import open_sources, read_tables
from dbsynth.reflect import reflect
from dbsynth.synthesizers import HMASynthesizer

pytestmark = pytest.mark.db


def _check(url: str, md) -> dict[str, int]:
    out = read_tables(url, md)
    for t, table in md.tables.items():
        if table.primary_key:
            assert not out[t][table.primary_key].duplicated().any(), t
        for fk in table.foreign_keys:
            sub = out[t][fk.columns].dropna().astype(object)
            keys = pd.MultiIndex.from_frame(out[fk.ref_table][fk.ref_columns].astype(object))
            if len(sub):
                assert (keys.get_indexer(pd.MultiIndex.from_frame(sub)) >= 0).all(), (t, fk.columns)
    return {t: len(f) for t, f in out.items()}


def test_tablesample_fit_matches_exact_folds(pg_dataset):
    url = pg_dataset("pagila")
    md = reflect(url)
    data = read_tables(url, md)
    full = HMASynthesizer(md, seed=1, verbose=False).fit(data).fitted_models()
    with open_sources(url, md, chunk_rows=2_000) as sources:
        sample = sources["rental"].sample(3_000, seed=4)
        assert 0 < len(sample) <= 3_000 and not sample["rental_id"].duplicated().any()
        again = sources["rental"].sample(3_000, seed=4)  # REPEATABLE: the same rows for the same seed
        assert sorted(sample["rental_id"]) == sorted(again["rental_id"])
        streamed = HMASynthesizer(md, seed=1, verbose=False).fit(sources, sample_rows=3_000).fitted_models()
    for t, m in full.items():
        if m.link:
            for k in ("n_linked", "orphans", "count_min", "count_max"):
                assert getattr(m.link, k) == getattr(streamed[t].link, k), (t, k)


@pytest.mark.parametrize("synthesizer", ["hma", "hsa"])
@pytest.mark.parametrize("target", ["postgresql", "mariadb"])
def test_run_streams_batches_into_the_target(pg_dataset, pg_database, mariadb_database, target, synthesizer):
    source = pg_dataset("pagila")
    dest = pg_database() if target == "postgresql" else mariadb_database()
    cfg = Config.model_validate({
        "source": {"url": source},
        "target": {"url": dest, "mode": "create"},
        "synthesizer": synthesizer,  # HSA reads the source whole but writes batches as it samples, like HMA
        "seed": 3,
        "memory_limit": "400MB",  # small batches: many per table
    })
    report = dbsynth.run(cfg)
    assert report.memory["batch_rows"] < 16_044  # rental and payment really went in several batches
    md = reflect(source)
    counts = _check(dest, md)
    assert counts == report.tables
    eng = sa.create_engine(dest)
    try:
        with eng.connect() as conn:  # cycle store <-> staff: filled after insert, not left NULL
            filled = conn.execute(sa.text("SELECT COUNT(*) FROM store WHERE manager_staff_id IS NOT NULL")).scalar()
    finally:
        eng.dispose()
    assert filled > 0


def test_mariadb_reservoir_fit_matches_exact_folds(mariadb_dataset):
    url = mariadb_dataset("chinook")
    md = reflect(url)
    full = HMASynthesizer(md, seed=1, verbose=False).fit(read_tables(url, md)).fitted_models()
    with open_sources(url, md, chunk_rows=500) as sources:
        sample = sources["PlaylistTrack"].sample(1_000, seed=2)  # one streamed pass, bottom-k of random keys
        assert len(sample) == 1_000 and not sample.duplicated(["PlaylistId", "TrackId"]).any()
        streamed = HMASynthesizer(md, seed=1, verbose=False).fit(sources, sample_rows=1_000).fitted_models()
    for t, m in full.items():
        if m.link:
            for k in ("n_linked", "orphans", "count_min", "count_max"):
                assert getattr(m.link, k) == getattr(streamed[t].link, k), (t, k)


def test_copy_reader_gives_the_cursor_frames(pg_database):
    """COPY TO STDOUT + pyarrow must give exactly the frames of the server-side cursor, NULLs and '' included."""
    from dbsynth.read import _COPY_TYPES, iter_table_chunks

    url = pg_database()
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        conn.exec_driver_sql("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
        conn.exec_driver_sql(
            "CREATE TABLE t (id int PRIMARY KEY, n bigint, x double precision, d numeric(8,2), b boolean, s text,"
            " v varchar(5), m mood, u uuid, day date, ts timestamp, tz timestamptz)"
        )
        conn.exec_driver_sql(
            "INSERT INTO t VALUES"
            " (1, 7, 1.5, 2.25, true, 'a,\"b\"', '', 'ok', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-02-29',"
            "  '2024-01-01 10:00:00.123456', '2024-01-01 10:00:00+02'),"
            " (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),"
            " (3, -1, -0.0, 0, false, E'line\\nbreak', 'xy', 'sad', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12',"
            "  '1999-12-31', '1970-01-01 00:00:00', '2030-06-30 23:59:59.5-07')"
        )
    eng.dispose()
    md = reflect(url)
    table = md.table("t")
    assert all(c.type in _COPY_TYPES for c in table.columns)
    with open_sources(url, md, chunk_rows=2) as sources:
        copied = list(sources["t"].chunks())
        cursor = list(iter_table_chunks(sources["t"].conn, table, 2))
    assert [len(f) for f in copied] == [2, 1]
    a, b = pd.concat(copied, ignore_index=True), pd.concat(cursor, ignore_index=True)
    for c in table.column_names:
        assert str(a[c].dtype) == str(b[c].dtype), c
        assert a[c].isna().tolist() == b[c].isna().tolist(), c
        assert a[c].dropna().tolist() == b[c].dropna().tolist(), c
    assert a.loc[0, "v"] == "" and a.loc[1, "v"] is None  # empty string is not NULL
    with eng.begin() as conn:
        conn.exec_driver_sql("DELETE FROM t")
    eng.dispose()
    with open_sources(url, md, chunk_rows=2) as sources:  # an empty table: COPY sends nothing at all
        [empty] = list(sources["t"].chunks())
        [expected] = list(iter_table_chunks(sources["t"].conn, table, 2))
    assert empty.empty and list(empty.columns) == table.column_names
    assert [str(t) for t in empty.dtypes] == [str(t) for t in expected.dtypes]


def test_copy_reader_reads_infinity_as_the_marker_stamp(pg_database):
    from dbsynth.read import INFINITY_US, marker_mask

    url = pg_database()
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE ev (id int PRIMARY KEY, at timestamp)")
        conn.exec_driver_sql("INSERT INTO ev VALUES (1, '2024-01-01'), (2, 'infinity')")
    eng.dispose()
    md = reflect(url)
    with open_sources(url, md) as sources:
        frame = next(iter(sources["ev"].chunks()))  # 'infinity' was unreadable through COPY before issue 15
    assert marker_mask(frame["at"], INFINITY_US).tolist() == [False, True]
