"""docker/config.yaml run the way the compose `dbsynth` service runs it, without Docker (local PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

import dbsynth.cli as cli

pytestmark = pytest.mark.db
pytest.importorskip("dbsynth.model.store")

CONFIG = Path(__file__).resolve().parents[2] / "docker" / "config.yaml"


def test_compose_nightly_job_without_docker(pg_dataset, pg_database, postgres_server, tmp_path, monkeypatch):
    source, target = sa.make_url(pg_dataset("chinook")), sa.make_url(pg_database())
    env = {
        "SOURCE_HOST": source.host, "SOURCE_PORT": str(source.port or 5432), "SOURCE_DB": source.database,
        "SOURCE_PASSWORD": source.password or "",
        "TARGET_HOST": target.host, "TARGET_PORT": str(target.port or 5432), "TARGET_DB": target.database,
        "TARGET_PASSWORD": target.password or "",
        "DBSYNTH_WORK_DIR": str(tmp_path),
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    # The service's command, twice: the nightly refresh re-uses the model while the schema is unchanged.
    assert cli.run_cli(["--log-format", "json", "run", "--config", str(CONFIG)]) == 0
    assert json.loads((tmp_path / "last-run.json").read_text())["refit"] is True
    assert cli.run_cli(["--quiet", "run", "--config", str(CONFIG)]) == 0
    report = json.loads((tmp_path / "last-run.json").read_text())
    assert report["refit"] is False and report["modes"]["genre"] == "copy"
    engine = sa.create_engine(target)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM track")).scalar() == report["tables"]["track"] > 0
    finally:
        engine.dispose()
