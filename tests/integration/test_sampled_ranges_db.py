"""Synthesize runs of the torture tables whose sampled values used to fall outside what the target holds
(issue 15): PostgreSQL's range-partitioned events and NUMERIC(1000, 500), MariaDB's DATETIME(6) near 9999
and YEAR. Every row is written, and the values keep the source's range."""

from __future__ import annotations

from decimal import Decimal

from test_torture import (
    _config,
    _query,
    _run,
)


def test_postgres_events_and_huge_numerics(tmp_path, pg_torture, empty_target):
    target = empty_target("postgresql")
    cfg = _config(tmp_path, pg_torture, target, schema="public", include=["events", "t_numeric"])
    assert _run(cfg) == 0
    assert _query(target, "SELECT count(*) FROM public.events")[0][0] == 200
    lo, hi = _query(target, "SELECT min(created_on), max(created_on) FROM public.events")[0]
    src_lo, src_hi = _query(pg_torture, "SELECT min(created_on), max(created_on) FROM public.events")[0]
    assert src_lo <= lo and hi <= src_hi
    assert _query(target, "SELECT count(DISTINCT (event_id, created_on)) FROM public.events")[0][0] == 200
    rows = [r[0] for r in _query(target, "SELECT n1000 FROM public.t_numeric WHERE n1000 IS NOT NULL")]
    assert len(_query(target, "SELECT 1 FROM public.t_numeric")) == 200
    src = [r[0] for r in _query(pg_torture, "SELECT n1000 FROM public.t_numeric WHERE n1000 IS NOT NULL")]
    assert rows and all(isinstance(v, Decimal) and v.is_finite() for v in rows)
    assert min(src) <= min(rows) and max(rows) <= max(src)


def test_mariadb_datetime6_and_year(tmp_path, mariadb_torture, empty_target, capsys):
    target = empty_target("mariadb")
    cfg = _config(tmp_path, mariadb_torture, target, include=["t_time"])
    capsys.readouterr()
    assert _run(cfg) == 0
    # no value past 9999 sampled: the writer would clamp it to 9999-12-31 23:59:59.999999, with a warning
    assert "dates end at 9999" not in " ".join(capsys.readouterr().err.split())
    assert _query(target, "SELECT count(*) FROM t_time")[0][0] == 200
    years = [r[0] for r in _query(target, "SELECT DISTINCT y FROM t_time")]
    assert all(y == 0 or 1901 <= y <= 2155 for y in years)
