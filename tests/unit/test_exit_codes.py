"""Exit codes and one-line errors of the CLI (issue 14, item 9): bad input exits 2, a failed run 1, Ctrl-C 130,
each with ONE line on stderr (never "unexpected", never a traceback); progress never calls rows "written" that a
rolled-back load did not commit."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

import dbsynth.cli as cli

pytest.importorskip("dbsynth.synthesizers")


def _one_line(err: str) -> str:
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "unexpected" not in err, err
    return err


def _write_config(path: Path, **data) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


# ---- a table named my.table ------------------------------------------------------------------------------------
def _dotted_source(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        conn.execute('CREATE TABLE "my.table" (id INTEGER PRIMARY KEY, name TEXT, v REAL)')
        conn.execute('CREATE TABLE "child" (id INTEGER PRIMARY KEY, p INTEGER REFERENCES "my.table"(id), x TEXT)')
        conn.executemany('INSERT INTO "my.table" VALUES (?, ?, ?)', [(i, f"n{i % 5}", i * 1.5) for i in range(1, 51)])
        conn.executemany("INSERT INTO child VALUES (?, ?, ?)", [(i, i % 50 + 1, f"x{i % 3}") for i in range(1, 101)])
    return f"sqlite:///{path}"


def test_table_with_a_dot_in_its_name_is_read_and_written(tmp_path, capsys):
    source = _dotted_source(tmp_path / "src.sqlite")
    cfg = _write_config(tmp_path / "c.yaml", source={"url": source},
                        target={"url": "sqlite:///out.sqlite", "mode": "create"}, seed=1)
    assert cli.run_cli(["-q", "run", "--config", str(cfg)]) == 0, capsys.readouterr().err
    with sqlite3.connect(tmp_path / "out.sqlite") as conn:
        assert conn.execute('SELECT count(*) FROM "my.table"').fetchone()[0] == 50
        assert conn.execute('SELECT count(*) FROM child WHERE p NOT IN (SELECT id FROM "my.table")').fetchone()[0] == 0
    assert cli.run_cli(["inspect", source]) == 0
    assert "my.table" in capsys.readouterr().out


# ---- a config file that is not UTF-8 ---------------------------------------------------------------------------
def test_config_that_is_not_utf8_is_one_line_naming_file_and_byte(tmp_path, capsys):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"source: {url: builtin:chinook}\n# caf\xe9 secret\n")
    for argv in (["validate-config", "-c", str(path)], ["run", "-c", str(path)]):
        assert cli.run_cli(argv) == 2
        err = _one_line(capsys.readouterr().err)
        assert str(path) in err and "UTF-8" in err and "byte 36" in err


# ---- numeric(1000, 500) ----------------------------------------------------------------------------------------
def test_very_wide_numeric_is_an_unconstrained_decimal():
    from sqlalchemy.dialects import postgresql

    from dbsynth.metadata import sdtypes as st
    from dbsynth.reflect.types import map_type

    wide = map_type(sa.Numeric(1000, 500), postgresql.dialect())
    assert wide.type == st.DECIMAL and wide.precision is None and wide.scale is None and wide.note
    kept = map_type(sa.Numeric(65, 30), postgresql.dialect())
    assert (kept.precision, kept.scale, kept.note) == (65, 30, None)


def test_very_wide_numeric_samples_without_warnings_or_overflow(recwarn):
    """The column as reflected from numeric(1000,500) goes through fit, sample and repair without numpy warnings."""
    import pandas as pd
    from sqlalchemy.dialects import postgresql

    from dbsynth.metadata import Column, Metadata, Table
    from dbsynth.metadata import sdtypes as st
    from dbsynth.reflect.types import map_type
    from dbsynth.synthesizers import HMASynthesizer

    info = map_type(sa.Numeric(1000, 500), postgresql.dialect())
    col = Column(name="amount", type=info.type, sdtype=st.NUMERICAL, precision=info.precision, scale=info.scale)
    md = Metadata(dialect="postgresql")
    md.add_table(Table(name="t", columns=[Column(name="id", type=st.INTEGER, sdtype=st.ID, nullable=False), col],
                       primary_key=["id"]))
    frame = pd.DataFrame({"id": range(1, 61), "amount": [1.25 * i for i in range(1, 61)]})
    synth = HMASynthesizer(md, seed=1, verbose=False).fit({"t": frame})
    out = synth.sample()["t"]
    assert len(out) == 60 and out["amount"].notna().all()
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


# ---- Ctrl-C ----------------------------------------------------------------------------------------------------
_SLOW_RUN = """
import signal, sys, time
# a job started in the background (CI, this test's parent) inherits SIGINT ignored; a terminal's Ctrl-C is not
signal.signal(signal.SIGINT, signal.default_int_handler)
import dbsynth.pipeline as p
marker = sys.argv[1]
original = p._prefetch
def slow(batches, depth=2):
    inner = original(batches, depth)
    try:
        for i, item in enumerate(inner):
            yield item
            if i == 2:  # some batches are in the target's open transaction: the interrupt comes now
                open(marker, "w").close()
                time.sleep(60)
    finally:
        inner.close()  # as when the interrupt lands inside _prefetch itself
p._prefetch = slow
from dbsynth.cli import main
main(sys.argv[2:])
"""


def _dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return list(conn.iterdump())


def _interrupt(tmp_path: Path, *flags: str) -> tuple[int, str]:
    marker = tmp_path / "sent"
    marker.unlink(missing_ok=True)
    cfg = tmp_path / "c.yaml"
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_RUN, str(marker), *flags, "run", "--config", str(cfg)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


def test_sigint_during_the_load_exits_130_with_one_line_and_leaves_the_target(tmp_path, capsys):
    target = tmp_path / "out.sqlite"
    cfg = _write_config(tmp_path / "c.yaml", source={"url": "builtin:chinook"},
                        target={"url": "sqlite:///out.sqlite", "mode": "replace"}, seed=1, scale=0.3, batch_size=200,
                        memory_limit="400MB")
    assert cli.run_cli(["-q", "run", "--config", str(cfg)]) == 0  # the target as it was before the interrupted run
    before = _dump(target)
    _write_config(tmp_path / "c.yaml", source={"url": "builtin:chinook"},
                  target={"url": "sqlite:///out.sqlite", "mode": "replace"}, seed=2, scale=0.3, batch_size=200)

    code, err = _interrupt(tmp_path, "-q")
    assert code == 130
    err = _one_line(err)
    assert "interrupted" in err and "rolled back" in err and "unchanged" in err
    assert _dump(target) == before

    # with progress on, lines count rows sent, and nothing says the load committed
    code, err = _interrupt(tmp_path)
    assert code == 130 and _dump(target) == before
    lines = err.strip().splitlines()
    assert lines[-1].startswith("error: interrupted") and "rolled back" in lines[-1]
    writes = [ln for ln in lines if ln.startswith("write ")]
    assert writes and all("sent" in ln for ln in writes), writes
    assert not any(ln.startswith("committed") for ln in lines)


def test_finished_run_says_committed_and_json_marks_rows_in_flight(tmp_path, capsys):
    cfg = _write_config(tmp_path / "c.yaml", source={"url": "builtin:chinook"},
                        target={"url": "sqlite:///out.sqlite", "mode": "replace"}, seed=1, scale=0.2,
                        report={"json": "run.json"})
    assert cli.run_cli(["--log-format", "json", "run", "--config", str(cfg)]) == 0
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    writes = [e for e in events if e["event"] == "write"]
    assert writes and all(e["committed"] is False for e in writes)
    done = [e for e in events if e["event"] == "committed"]
    assert len(done) == 1 and done[0]["rows"] == sum(e["rows"] for e in writes)
    assert json.loads((tmp_path / "run.json").read_text())["committed"] is True


# ---- --show-values ---------------------------------------------------------------------------------------------
def test_show_values_flag_turns_the_switch_on_and_is_off_by_default(tmp_path, capsys):
    from dbsynth.errors import show_values

    try:
        assert cli.run_cli(["validate-config", "-c", "config.example.yaml"]) in (0, 2)
        assert show_values() is False
        assert cli.run_cli(["--show-values", "validate-config", "-c", "config.example.yaml"]) in (0, 2)
        assert show_values() is True
        assert cli.run_cli(["--help"]) == 0
        assert "--show-values" in capsys.readouterr().out
    finally:
        show_values(False)


def test_lock_timeout_reaches_the_writer(tmp_path, monkeypatch):
    import importlib

    # the package, not dbsynth.write (the function bound over the submodule attribute)
    write_pkg = importlib.import_module("dbsynth.write")

    seen = {}
    real = write_pkg.write

    def spy(*args, **kwargs):
        seen["lock_timeout"] = kwargs.get("lock_timeout")
        return real(*args, **kwargs)

    monkeypatch.setattr(write_pkg, "write", spy)
    cfg = _write_config(tmp_path / "c.yaml", source={"url": "builtin:chinook"},
                        target={"url": "sqlite:///out.sqlite", "mode": "replace", "lock_timeout": 7}, seed=1, scale=0.1)
    assert cli.run_cli(["-q", "run", "--config", str(cfg)]) == 0
    assert seen["lock_timeout"] == 7


@pytest.mark.parametrize("value", [-1, 0, ".inf", ".nan", "soon"])
def test_bad_lock_timeout_is_a_config_error(tmp_path, capsys, value):
    path = tmp_path / "c.yaml"
    path.write_text(f"source: {{url: builtin:chinook}}\ntarget: {{url: 'sqlite:///o.sqlite', lock_timeout: {value}}}\n")
    assert cli.run_cli(["validate-config", "-c", str(path)]) == 2
    assert "target.lock_timeout" in _one_line(capsys.readouterr().err)
