"""Model files through the CLI (SQLite only): fit, sample, run twice, refit on schema change, the example config."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import dbsynth.cli as cli
from dbsynth.config import resolve_url

pytest.importorskip("dbsynth.model.store")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def source(tmp_path) -> Path:
    """A private copy of the embedded Chinook (so its schema can be changed)."""
    dst = tmp_path / "src.sqlite"
    shutil.copy(resolve_url("builtin:chinook").removeprefix("sqlite:///"), dst)
    return dst


def _config(tmp_path: Path, source: Path, **extra) -> Path:
    data = {
        "source": {"url": f"sqlite:///{source}"},
        "target": {"url": "sqlite:///out.sqlite", "mode": "replace"},
        "model": {"path": "m.zip"},
        "seed": 2,
        "scale": 0.3,
        "report": {"json": "run.json"},
        **extra,
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _report(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "run.json").read_text())


def test_run_twice_reuses_model_and_refits_when_schema_changes(tmp_path, source):
    cfg = _config(tmp_path, source)
    assert cli.run_cli(["--quiet", "run", "--config", str(cfg)]) == 0
    first = _report(tmp_path)
    assert first["refit"] is True and (tmp_path / "m.zip").exists()

    assert cli.run_cli(["--quiet", "run", "--config", str(cfg)]) == 0
    second = _report(tmp_path)
    assert second["refit"] is False and second["refit_reason"] == "schema unchanged"
    assert second["tables"] == first["tables"]  # same seed, same model: same sizes

    with sqlite3.connect(source) as conn:
        conn.execute("ALTER TABLE Artist ADD COLUMN Country NVARCHAR(40)")
    assert cli.run_cli(["--quiet", "run", "--config", str(cfg)]) == 0
    third = _report(tmp_path)
    assert third["refit"] is True and third["refit_reason"] == "schema changed"


def test_model_from_another_schema_is_bad_input(tmp_path, source, capsys):
    cfg = _config(tmp_path, source, model={"path": "m.zip", "refit": "never"})
    assert cli.run_cli(["--quiet", "fit", "--config", str(cfg)]) == 0
    with sqlite3.connect(source) as conn:
        conn.execute("ALTER TABLE Artist ADD COLUMN Country NVARCHAR(40)")
    for argv in (["run", "--config", str(cfg)], ["sample", "--config", str(cfg)]):
        assert cli.run_cli(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "another schema" in err


def test_fit_then_sample_to_csv(tmp_path, source):
    cfg = _config(tmp_path, source)
    assert cli.run_cli(["--quiet", "fit", "--config", str(cfg)]) == 0
    assert not (tmp_path / "out.sqlite").exists()
    out = tmp_path / "csv"
    assert cli.run_cli(["--quiet", "sample", "--config", str(cfg), "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} >= {"Artist.csv", "Track.csv", "InvoiceLine.csv"}
    assert (out / "Artist.csv").read_text().splitlines()[0].startswith("ArtistId,Name")
    assert not (tmp_path / "out.sqlite").exists()


def test_example_config_runs_as_is_from_a_copy(tmp_path):
    """The README's first command: `dbsynth run --config config.example.yaml`, no server, no network."""
    shutil.copy(ROOT / "config.example.yaml", tmp_path / "config.example.yaml")
    script = Path(sys.executable).with_name("dbsynth")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "dbsynth"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBSYNTH_")}
    proc = subprocess.run(
        [*cmd, "run", "--config", "config.example.yaml"], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert "fit Track" in proc.stderr  # progress is shown (log lines when not on a terminal)
    assert "PlaylistTrack" in proc.stdout  # the summary table
    db = tmp_path / "chinook.synth.sqlite"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM Artist").fetchone() == (200,)
    assert (tmp_path / "chinook.model.zip").exists()
    assert json.loads((tmp_path / "chinook.run.json").read_text())["refit"] is True
    assert 'id="summary"' in (tmp_path / "chinook.report" / "report.html").read_text()
    assert "quality " in proc.stdout and "chinook.report" in proc.stdout


def test_config_seed_reaches_a_reused_model(tmp_path, source):
    """Issue 14 item 9: seeds 5 and 6 gave identical data once a model file existed."""

    def run(seed: int) -> list:
        cfg = _config(tmp_path, source, seed=seed, model={"path": "m.zip", "refit": "never"})
        assert cli.run_cli(["--quiet", "run", "--config", str(cfg)]) == 0
        assert _report(tmp_path)["refit"] is False
        with sqlite3.connect(tmp_path / "out.sqlite") as conn:
            return conn.execute("SELECT Milliseconds, Bytes FROM Track ORDER BY TrackId").fetchall()

    assert cli.run_cli(["--quiet", "fit", "--config", str(_config(tmp_path, source, seed=5))]) == 0
    five, six, five_again = run(5), run(6), run(5)
    assert five != six and five == five_again
