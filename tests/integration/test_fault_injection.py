"""Fault injection: ``dbsynth run`` killed at each phase of the write leaves every target as it was.

Each case runs the CLI in a subprocess with ``DBSYNTH_FAULT_AT=<phase>`` (see :mod:`dbsynth.faults`): when the
writer reaches the phase it writes a marker file and waits. The test then kills the process (SIGKILL,
SIGTERM, SIGINT) or terminates its database session (``pg_terminate_backend``, MariaDB ``KILL``) and lets it
go on, and compares the target's checksum (schema, every row sorted, sequence/AUTO_INCREMENT values; see
``target_state`` in test_write_atomic.py) with the one taken before the run.

The source is a small PostgreSQL schema with a cycle (dept.head -> employee -> dept), serial keys (sequences)
and a largest table (event) whose COPY/INSERT is interrupted. The target held an earlier load (replace,
truncate, append) or nothing (create).

After SIGINT the CLI exits 130 with a line saying the target is unchanged; after a terminated session the
writer's one-line error names the table and says so too. A killed MariaDB run may
leave ``_dbsynth_new_*`` staging tables beside the untouched target tables: the checksum leaves them out and
the test checks that the next run removes them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from test_write_atomic import checksum, scalar, staging_tables, target_state

from dbsynth.read import read_tables
from dbsynth.reflect import reflect
from dbsynth.write import write

pytestmark = pytest.mark.db

SOURCE_SQL = """
CREATE TABLE dept (id serial PRIMARY KEY, name text NOT NULL, head integer);
CREATE TABLE employee (id serial PRIMARY KEY, dept_id integer NOT NULL REFERENCES dept (id), name text,
                       salary numeric(10, 2) CHECK (salary >= 0));
ALTER TABLE dept ADD CONSTRAINT dept_head_fk FOREIGN KEY (head) REFERENCES employee (id);
CREATE TABLE event (id bigserial PRIMARY KEY, employee_id integer NOT NULL REFERENCES employee (id), kind text,
                    at timestamp);
INSERT INTO dept (name) SELECT 'dept ' || i FROM generate_series(1, 4) i;
INSERT INTO employee (dept_id, name, salary) SELECT 1 + mod(i, 4), 'emp ' || i, 1000 + i FROM generate_series(1, 60) i;
UPDATE dept SET head = id * 10;
INSERT INTO event (employee_id, kind, at)
  SELECT 1 + mod(i, 60), CASE WHEN mod(i, 3) = 0 THEN 'login' ELSE 'click' END,
         TIMESTAMP '2024-01-01' + i * INTERVAL '1 hour'
  FROM generate_series(1, 600) i;
"""


@pytest.fixture(scope="module")
def source(postgres_server):
    name = f"dbsynth_fault_src_{uuid.uuid4().hex[:10]}"
    url = postgres_server.create(name)
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        conn.exec_driver_sql(SOURCE_SQL)
    eng.dispose()
    yield url
    postgres_server.drop(name)


@pytest.fixture(scope="module")
def frames(source):
    md = reflect(source, statistics=False)
    return md, read_tables(source, md)


def _config(tmp_path: Path, source: str, target: str, mode: str) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump({
        "source": {"url": source},
        "target": {"url": target, "mode": mode, "lock_timeout": 5},
        "model": {"path": None},
        "seed": 3,
        "scale": 1.5,  # more rows than the earlier load: a moved sequence would show
        "batch_size": 200,
    }))
    return path


def _backend_kill(url: str) -> int:
    """Terminate every session on the target database but ours; the number terminated."""
    eng = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as conn:
            if eng.dialect.name == "postgresql":
                return conn.exec_driver_sql(
                    "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()").scalar()
            ids = [r[0] for r in conn.exec_driver_sql(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()")]
            for i in ids:
                conn.exec_driver_sql(f"KILL {int(i)}")
            return len(ids)
    finally:
        eng.dispose()


def _run_and_fault(tmp_path: Path, cfg: Path, phase: str, how: str, target: str) -> subprocess.CompletedProcess:
    marker = tmp_path / "fault"
    env = dict(os.environ, DBSYNTH_FAULT_AT=phase, DBSYNTH_FAULT_MARKER=str(marker), DBSYNTH_FAULT_WAIT="60")
    proc = subprocess.Popen([sys.executable, "-m", "dbsynth", "run", "--config", str(cfg)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 240  # generous: a loaded CI machine, not a timing assertion
        while not marker.exists():
            if proc.poll() is not None or time.monotonic() > end:
                out, err = proc.communicate(timeout=5) if proc.poll() is not None else ("", "")
                pytest.fail(f"the run never reached phase {phase} (exit {proc.returncode}): {err[-2000:]}")
            time.sleep(0.05)
        time.sleep(0.1)  # the marker is written just before the wait starts
        if how == "backend":
            assert _backend_kill(target) >= 1
            marker.with_name(marker.name + ".go").write_text("")
        else:
            proc.send_signal({"SIGKILL": signal.SIGKILL, "SIGTERM": signal.SIGTERM, "SIGINT": signal.SIGINT}[how])
        out, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _check_interrupted(result: subprocess.CompletedProcess, how: str) -> None:
    """SIGINT: exit 130 and a last line saying the target is unchanged (the CLI's Ctrl-C handling)."""
    if how == "SIGINT":
        line = result.stderr.strip().splitlines()[-1]
        assert result.returncode == 130 and "interrupted" in line and "unchanged" in line, result.stderr[-2000:]


def _check(result: subprocess.CompletedProcess, how: str, before: dict, target: str, phase: str) -> None:
    assert result.returncode != 0, result.stdout
    _check_interrupted(result, how)
    after = target_state(target)
    if how == "backend":
        line = result.stderr.strip().splitlines()[-1]
        assert "connection to the target was lost" in line, result.stderr[-2000:]
        if phase.startswith("copy:"):  # the table whose COPY was cut, and its batch
            assert f"table '{phase[5:]}'" in line and "batch 1" in line, line
        if phase == "commit" and "COMMIT" in line:
            assert "unknown" in line  # honest: the server may or may not have committed
        else:
            assert "the target was left unchanged" in line
    if "unknown" not in result.stderr:
        assert checksum(after) == checksum(before), _diff(before, after)


def _diff(before: dict, after: dict) -> str:
    keys = sorted(set(before) | set(after))
    return "; ".join(f"{k} differs" for k in keys if before.get(k) != after.get(k))[:2000]


PG_CASES = [
    ("replace", "ddl", "SIGKILL"),
    ("truncate", "copy:event", "backend"),
    ("replace", "copy:event", "SIGTERM"),
    ("truncate", "cycle", "SIGINT"),
    ("replace", "constraints", "backend"),
    ("truncate", "sequences", "SIGKILL"),
    ("truncate", "analyze", "backend"),
    ("append", "analyze", "SIGKILL"),
    ("truncate", "commit", "SIGINT"),
]


@pytest.mark.parametrize("mode, phase, how", PG_CASES)
def test_postgres_target_unchanged(source, frames, pg_database, tmp_path, mode, phase, how):
    target = pg_database()
    md, data = frames
    write(data, target, md)  # an earlier load: rows and sequences to keep (truncate/append keep the sequences)
    before = target_state(target)
    assert any(k.startswith("seq:") for k in before)
    result = _run_and_fault(tmp_path, _config(tmp_path, source, target, mode), phase, how, target)
    _check(result, how, before, target, phase)


MARIADB_CASES = [
    ("create", "copy:event", "SIGKILL"),
    ("replace", "cycle", "SIGINT"),
    ("replace", "commit", "backend"),
    ("truncate", "ddl", "SIGTERM"),
    ("truncate", "copy:event", "backend"),
    ("truncate", "swap", "SIGKILL"),
    ("append", "copy:event", "SIGKILL"),
    ("append", "commit", "backend"),
]


@pytest.mark.parametrize("mode, phase, how", MARIADB_CASES)
def test_mariadb_target_unchanged(source, frames, mariadb_database, tmp_path, mode, phase, how):
    target = mariadb_database()
    md, data = frames
    if mode != "create":
        write(data, target, md)
    before = target_state(target)
    result = _run_and_fault(tmp_path, _config(tmp_path, source, target, mode), phase, how, target)
    assert result.returncode != 0, result.stdout
    _check_interrupted(result, how)
    after = target_state(target)
    if mode == "append":
        # InnoDB does not hand back AUTO_INCREMENT values of rolled-back inserts: counters only move on
        for k in [k for k in before if k.startswith("auto_increment:")]:
            assert (after.pop(k) or 0) >= (before.pop(k) or 0)
    if how == "backend":
        line = result.stderr.strip().splitlines()[-1]
        assert "connection to the target was lost" in line and "left unchanged" in line, result.stderr[-2000:]
        if phase.startswith("copy:"):
            assert f"table '{phase[5:]}'" in line and "batch 1" in line, line
    assert checksum(after) == checksum(before), _diff(before, after)
    if how == "backend" or how == "SIGINT":
        assert staging_tables(target) == []  # the run itself removed them
    else:
        # the next run removes what the killed one left behind
        write(data, target, md, mode="replace" if mode == "create" else mode if mode != "append" else "truncate")
        assert staging_tables(target) == []


SQLITE_CASES = [("copy:event", "SIGKILL"), ("cycle", "SIGINT"), ("commit", "SIGTERM")]


@pytest.mark.parametrize("phase, how", SQLITE_CASES)
def test_sqlite_target_unchanged(source, frames, sqlite_url, tmp_path, phase, how):
    target = sqlite_url("target")
    md, data = frames
    write(data, target, md)
    before = target_state(target)
    result = _run_and_fault(tmp_path, _config(tmp_path, source, target, "replace"), phase, how, target)
    _check(result, how, before, target, phase)


def test_postgres_backend_of_a_killed_run_does_not_stay_queued_on_a_lock(source, frames, pg_database, tmp_path):
    """A run blocked by another session's lock, then SIGKILLed: its backend gives up after lock_timeout."""
    target = pg_database()
    md, data = frames
    write(data, target, md)
    before = target_state(target)
    cfg = _config(tmp_path, source, target, "truncate")
    eng = sa.create_engine(target)
    holder = eng.connect()
    proc = None
    try:
        holder.begin()
        holder.exec_driver_sql("LOCK TABLE event IN ACCESS SHARE MODE")
        proc = subprocess.Popen([sys.executable, "-m", "dbsynth", "run", "--config", str(cfg)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        waiting = ("SELECT COUNT(*) FROM pg_stat_activity"
                   " WHERE datname = current_database() AND wait_event_type = 'Lock'")
        end = time.monotonic() + 60
        while scalar(target, waiting) == 0:
            assert time.monotonic() < end and proc.poll() is None, "the run never queued on the lock"
            time.sleep(0.1)
        proc.kill()
        proc.wait(10)
        end = time.monotonic() + 15  # lock_timeout is 5 s in the config
        while scalar(target, waiting):
            assert time.monotonic() < end, "the killed run's backend stays queued on the lock"
            time.sleep(0.2)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        holder.rollback()
        holder.close()
        eng.dispose()
    assert checksum(target_state(target)) == checksum(before)
