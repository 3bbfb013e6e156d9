"""End to end through the CLI against real servers: run, dry run, per-table modes, overrides, env interpolation."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

import dbsynth.cli as cli

pytestmark = pytest.mark.db
pytest.importorskip("dbsynth.synthesizers")


def _config(tmp_path: Path, source: str, target: str, **extra) -> Path:
    data = {
        "source": {"url": source},
        "target": {"url": target, "mode": "replace"},
        "model": {"path": None},
        "seed": 5,
        "scale": 0.5,
        **extra,
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _scalar(url: str, sql: str):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar()
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


PG_TABLES = {
    "genre": {"mode": "copy"},
    "playlist": {"mode": "skip"},
    "playlist_track": {"mode": "empty"},
    "customer": {"columns": {"fax": {"null": True}, "company": {"exclude": True}}},
    "invoice": {"columns": {"billing_country": {"constant": "Atlantis"}}},
}


def test_postgres_run_with_modes_overrides_and_env(pg_dataset, pg_database, tmp_path, monkeypatch, capsys):
    source, target = pg_dataset("chinook"), pg_database()
    monkeypatch.setenv("DBSYNTH_E2E_TARGET", target)
    cfg = _config(tmp_path, source, "${DBSYNTH_E2E_TARGET}", tables=PG_TABLES)

    assert cli.run_cli(["run", "--config", str(cfg), "--dry-run"]) == 0
    assert "playlist_track" in capsys.readouterr().out
    assert _tables(target) == set()  # the dry run wrote nothing

    assert cli.run_cli(["--quiet", "run", "--config", str(cfg)]) == 0
    names = _tables(target)
    assert "playlist" not in names and {"genre", "track", "playlist_track"} <= names
    assert _scalar(target, "SELECT count(*) FROM playlist_track") == 0
    assert _scalar(target, "SELECT count(*) FROM genre") == _scalar(source, "SELECT count(*) FROM genre")
    assert _scalar(target, "SELECT count(*) FROM track t LEFT JOIN genre g USING (genre_id) "
                           "WHERE t.genre_id IS NOT NULL AND g.genre_id IS NULL") == 0
    assert _scalar(target, "SELECT count(fax) FROM customer") == 0
    assert _scalar(target, "SELECT count(*) FROM information_schema.columns "
                           "WHERE table_name = 'customer' AND column_name = 'company'") == 0
    assert _scalar(target, "SELECT string_agg(DISTINCT billing_country, ',') FROM invoice") == "Atlantis"
    assert 0 < _scalar(target, "SELECT count(*) FROM artist") < _scalar(source, "SELECT count(*) FROM artist")


def test_postgres_target_equal_to_source_is_refused(pg_dataset, tmp_path, capsys):
    source = pg_dataset("chinook")
    cfg = _config(tmp_path, source, source)
    assert cli.run_cli(["run", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is the source database" in err


def test_mariadb_run_with_copy_and_override(mariadb_dataset, mariadb_database, tmp_path):
    source, target = mariadb_dataset("chinook"), mariadb_database()
    tables = {"Genre": {"mode": "copy"}, "Invoice": {"columns": {"BillingCountry": {"constant": "Atlantis"}}}}
    cfg = _config(tmp_path, source, target, tables=tables)
    assert cli.run_cli(["--quiet", "run", "--config", str(cfg)]) == 0
    assert _scalar(target, "SELECT count(*) FROM Genre") == _scalar(source, "SELECT count(*) FROM Genre")
    assert _scalar(target, "SELECT count(DISTINCT BillingCountry) FROM Invoice") == 1
    assert _scalar(target, "SELECT count(*) FROM Track t LEFT JOIN Genre g ON t.GenreId = g.GenreId "
                           "WHERE t.GenreId IS NOT NULL AND g.GenreId IS NULL") == 0


def test_unreachable_target_exits_2(tmp_path, capsys):
    cfg = _config(tmp_path, "builtin:chinook", "postgresql+psycopg://u:hunter2@127.0.0.1:1/x")
    code = cli.run_cli(["--quiet", "run", "--config", str(cfg)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "hunter2" not in err


def test_postgres_fit_then_sample(pg_dataset, pg_database, tmp_path):
    pytest.importorskip("dbsynth.model.store")
    source, target = pg_dataset("chinook"), pg_database()
    cfg = _config(tmp_path, source, target, model={"path": "m.zip", "refit": "never"})
    assert cli.run_cli(["--quiet", "fit", "--config", str(cfg)]) == 0
    assert (tmp_path / "m.zip").exists() and _tables(target) == set()
    assert cli.run_cli(["--quiet", "sample", "--config", str(cfg)]) == 0
    assert _scalar(target, "SELECT count(*) FROM invoice_line") > 0


def test_mariadb_run_twice_reuses_the_model(mariadb_dataset, mariadb_database, tmp_path):
    pytest.importorskip("dbsynth.model.store")
    source, target = mariadb_dataset("chinook"), mariadb_database()
    cfg = _config(tmp_path, source, target, model={"path": "m.zip"}, report={"json": "r.json"})
    import json

    assert cli.run_cli(["--quiet", "run", "--config", str(cfg)]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["refit"] is True
    first = _scalar(target, "SELECT count(*) FROM Track")
    assert cli.run_cli(["--quiet", "run", "--config", str(cfg)]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["refit"] is False
    assert _scalar(target, "SELECT count(*) FROM Track") == first  # same model, same seed
