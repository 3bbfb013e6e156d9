"""End to end: nothing secret leaves the source or the config (issue 14, items 5 and 6, "a leak test").

A small source (SQLite, and PostgreSQL) holds what must never be seen outside it: a category label seen
once (``RARE-LABEL-JohnDoe-SSN-123456789``), real e-mail addresses (the synthetic ones are made by Faker), a
text primary key whose content starts with ``SECRETACCT-``. The target URLs carry passwords in the user info
(one with a raw ``@``) and in the query (``password=``, ``sslpassword=``), and private paths (``sslkey``,
``sslcert``, ``passfile``); PostgreSQL trusts local
connections, so any password is accepted. ``dbsynth run`` runs as a real process, with ``--log-format json``
and ``text``, with ``report.json`` and ``report.quality`` set, and then fails on purpose twice (a read-only
target, a target host the password's raw ``@`` breaks). Everything it leaves behind is searched: stdout,
stderr, the run reports, the HTML/JSON quality report (with its embedded base64 payloads decoded), the model
file (every zip member, recursively, as UTF-8, UTF-16 and UTF-32 bytes: numpy stores strings as UTF-32) and,
for the e-mails, the target database.
"""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
import yaml

pytestmark = pytest.mark.db

RARE = "RARE-LABEL-JohnDoe-SSN-123456789"
KEY_PREFIX = "SECRETACCT-"
EMAILS = [f"k.winterbottom{i:04d}@acme-payroll-mail.org" for i in range(240)]

USER_PW = "Ux-S3c@Pw!x-user"  # goes into the URL percent-encoded (a raw '@' would not connect)
QUERY_PW = "Qx-S3cretPw!x-query"
SSL_PW = "Sx-S3cretPw!x-ssl"
RAW_PW = "Rx-S3c@Pw!x-raw"  # raw '@' in the user info: used where the run is meant to fail
# every piece of a password that would show if masking stopped at the wrong '@', plus encoded forms
PRIVATE_PATHS = ["/nonexistent/alice-private.key", "/nonexistent/alice-client.crt", "/nonexistent/alice.pgpass"]
SECRETS = ["Ux-S3c", "Pw!x-user", "Pw%21x-user", "Qx-S3cretPw", "Sx-S3cretPw", "Rx-S3c", "Pw!x-raw", "S3c%40Pw",
           "alice-private", "alice-client", "alice.pgpass"]
VALUES = [RARE, "JohnDoe-SSN", "123456789", KEY_PREFIX, "SECRETACCT"]


# ---- the source -------------------------------------------------------------------------------------------
def _fill(url: str) -> None:
    eng = sa.create_engine(url)
    accounts = []
    for i, email in enumerate(EMAILS):
        category = RARE if i == 117 else ("alpha", "beta", "gamma", "delta")[i % 4]
        accounts.append({"acct_id": f"{KEY_PREFIX}{i + 1:04d}", "email": email, "category": category,
                         "amount": round(10 + (i * 37 % 101) * 1.5, 2)})
    orders = [{"order_id": j + 1, "acct_id": f"{KEY_PREFIX}{(j * 7) % len(EMAILS) + 1:04d}",
               "total": round(5 + (j * 13 % 53) * 2.25, 2)} for j in range(480)]
    try:
        with eng.begin() as conn:
            conn.exec_driver_sql(
                "CREATE TABLE accounts (acct_id varchar(20) PRIMARY KEY, email varchar(80) NOT NULL, "
                "category varchar(40) NOT NULL, amount double precision NOT NULL)"
                if eng.dialect.name == "postgresql" else
                "CREATE TABLE accounts (acct_id varchar(20) PRIMARY KEY, email varchar(80) NOT NULL, "
                "category varchar(40) NOT NULL, amount real NOT NULL)"
            )
            conn.exec_driver_sql(
                "CREATE TABLE orders (order_id integer PRIMARY KEY, "
                "acct_id varchar(20) NOT NULL REFERENCES accounts (acct_id), total real NOT NULL)"
            )
            conn.execute(sa.text("INSERT INTO accounts VALUES (:acct_id, :email, :category, :amount)"), accounts)
            conn.execute(sa.text("INSERT INTO orders VALUES (:order_id, :acct_id, :total)"), orders)
    finally:
        eng.dispose()


# ---- what a run leaves behind -------------------------------------------------------------------------------
@dataclass
class Run:
    """One ``dbsynth run`` process and the files it was asked to write."""

    name: str
    returncode: int
    stdout: str
    stderr: str
    files: list[Path] = field(default_factory=list)


def _dbsynth(tmp: Path, name: str, source: str, target: str, log_format: str, *, model: bool = True) -> Run:
    out = tmp / name
    out.mkdir()
    cfg = {
        "source": {"url": source},
        "target": {"url": target, "mode": "replace"},
        "model": {"path": str(out / "model.dbsynth") if model else None},
        "report": {"json": str(out / "run.json"), "quality": str(out / "quality")},
        "seed": 3,
    }
    path = out / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = subprocess.run(
        [sys.executable, "-m", "dbsynth", "--log-format", log_format, "run", "--config", str(path)],
        capture_output=True, text=True, timeout=300,
    )
    files = [p for p in out.rglob("*") if p.is_file() and p.name != "config.yaml"]
    return Run(name, proc.returncode, proc.stdout, proc.stderr, files)


def _pg_target(server_url: sa.URL, database: str) -> str:
    """A target URL with a password in the user info (percent-encoded '@') and two in the query."""
    base = server_url.set(database=database)
    user = quote(base.username or "postgres", safe="")
    port = f":{base.port}" if base.port else ""
    return (f"{base.drivername}://{user}:{quote(USER_PW, safe='')}@{base.host}{port}/{database}"
            f"?password={quote(QUERY_PW, safe='')}&sslpassword={SSL_PW}&application_name=dbsynth-leak-test"
            # private paths; libpq ignores key files that do not exist when the server asks for no client cert
            f"&sslkey={PRIVATE_PATHS[0]}&sslcert={PRIVATE_PATHS[1]}&passfile={PRIVATE_PATHS[2]}")


def _blobs(path: Path) -> Iterator[tuple[str, bytes]]:
    """The bytes of ``path``, of every zip member inside (recursively) and of every base64 payload in text."""
    data = path.read_bytes()
    yield str(path), data
    yield from _inside(str(path), data)


def _inside(where: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for member in zf.namelist():
                raw = zf.read(member)
                yield f"{where}!{member}", raw
                yield from _inside(f"{where}!{member}", raw)
    for m in re.finditer(rb"base64,([A-Za-z0-9+/=]{16,})", data):
        raw = base64.b64decode(m.group(1) + b"==", validate=False)
        yield f"{where}!base64", raw
        yield from _inside(f"{where}!base64", raw)


def _found(needles: list[str], runs: list[Run], *, outputs: bool = True, files: bool = True,
           only: str | None = None) -> list[str]:
    """Where each needle shows up: '<needle> in <place>' for every hit."""
    hits = []
    for run in runs:
        places: list[tuple[str, bytes]] = []
        if outputs:
            places += [(f"{run.name}: stdout", run.stdout.encode()), (f"{run.name}: stderr", run.stderr.encode())]
        if files:
            for path in run.files:
                if only is None or only in path.name:
                    places += [(f"{run.name}: {where}", blob) for where, blob in _blobs(path)]
        for needle in needles:
            forms = {needle.encode(enc) for enc in ("utf-8", "utf-16-le", "utf-32-le")}
            forms |= {json.dumps(needle)[1:-1].encode()}  # as JSON escapes it
            for where, blob in places:
                if any(f in blob for f in forms):
                    hits.append(f"{needle!r} in {where}")
    return hits


# ---- the runs, once per source kind ---------------------------------------------------------------------------
@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def runs(request, postgres_server, tmp_path_factory) -> Iterator[tuple[list[Run], str]]:
    tmp = tmp_path_factory.mktemp(f"leaks-{request.param}")
    made: list[str] = []

    def database() -> str:
        name = f"dbsynth_leak_{uuid.uuid4().hex[:10]}"
        postgres_server.create(name)
        made.append(name)
        return name

    try:
        if request.param == "sqlite":
            source = f"sqlite:///{tmp / 'source.sqlite'}"
        else:
            source = postgres_server.url(database())
        _fill(source)
        ok_target, ok_target2, ro_target = database(), database(), database()
        admin = postgres_server.admin()
        try:
            with admin.connect() as conn:  # a target that rejects every write
                conn.exec_driver_sql(f'ALTER DATABASE "{ro_target}" SET default_transaction_read_only = on')
        finally:
            admin.dispose()
        server = postgres_server.admin_url
        raw = (f"{server.drivername}://{server.username or 'postgres'}:{RAW_PW}@{server.host}"
               f"{':' + str(server.port) if server.port else ''}/{ok_target}?password={QUERY_PW}")
        done = [
            _dbsynth(tmp, "json-run", source, _pg_target(server, ok_target), "json"),
            _dbsynth(tmp, "text-run", source, _pg_target(server, ok_target2), "text"),
            _dbsynth(tmp, "read-only-target", source, _pg_target(server, ro_target), "text", model=False),
            _dbsynth(tmp, "raw-at-password", source, raw, "json", model=False),
        ]
        yield done, postgres_server.url(ok_target)
    finally:
        for name in made:
            postgres_server.drop(name)


def test_runs_did_what_they_were_asked(runs):
    done, _ = runs
    by = {r.name: r for r in done}
    assert by["json-run"].returncode == 0, by["json-run"].stderr[-2000:]
    assert by["text-run"].returncode == 0, by["text-run"].stderr[-2000:]
    # the two forced failures fail with one line naming the (masked) target, not a traceback
    for name, code in (("read-only-target", 1), ("raw-at-password", 2)):
        run = by[name]
        assert run.returncode == code, (name, run.returncode, run.stderr[-2000:])
        errors = [line for line in run.stderr.splitlines() if "error" in line.lower()]
        assert errors and "Traceback" not in run.stderr, run.stderr[-2000:]
    assert "***" in by["read-only-target"].stderr + by["raw-at-password"].stderr
    assert "%40" in by["raw-at-password"].stderr  # says how to write an '@' in a password
    names = {p.name for p in by["json-run"].files}
    assert {"model.dbsynth", "run.json", "report.html", "report.json"} <= names, names
    # the searches below do read what they search: a table name is in the quality reports, a frequent
    # label (kept by design) inside the model file's JSON member, the masked target in the run report
    assert _found(["accounts"], done, outputs=False, only="report")
    assert any("model.dbsynth!" in hit for hit in _found(["alpha"], done, outputs=False, only="model"))
    assert _found(["application_name=dbsynth-leak-test"], done, outputs=False, only="run.json")


def test_no_password_anywhere(runs):
    """No piece of any password in stdout, stderr, run report, quality report or model file, failed runs too."""
    done, _ = runs
    hits = _found(SECRETS, done)
    assert not hits, "\n".join(hits)


def test_no_data_value_in_outputs_or_reports(runs):
    """The rare label, the key prefix and the e-mails: not in stdout, stderr, the run report nor the quality
    report (HTML and JSON, base64 payloads decoded)."""
    done, _ = runs
    hits = _found(VALUES + EMAILS, done, only="report") + _found(VALUES + EMAILS, done, files=False)
    hits += _found(VALUES + EMAILS, done, outputs=False, only="run.json")
    assert not hits, "\n".join(hits)


def test_no_data_value_in_the_model_file(runs):
    """Every member of the model file, as UTF-8, UTF-16 and UTF-32 (numpy's string arrays) bytes."""
    done, _ = runs
    hits = _found(VALUES + EMAILS, done, outputs=False, only="model")
    assert any(p.name == "model.dbsynth" for r in done for p in r.files)
    assert not hits, "\n".join(hits)


def test_target_emails_are_synthetic(runs):
    """The target's e-mail column is made by Faker: no real address reaches the target."""
    _, target = runs
    eng = sa.create_engine(target)
    try:
        with eng.connect() as conn:
            emails = {row[0] for row in conn.exec_driver_sql("SELECT email FROM accounts")}
            categories = {row[0] for row in conn.exec_driver_sql("SELECT DISTINCT category FROM accounts")}
    finally:
        eng.dispose()
    assert emails and not emails & set(EMAILS)
    assert not any("acme-payroll-mail" in e for e in emails)
    assert categories  # the table was written


def test_no_rare_label_or_key_prefix_in_the_target(runs):
    """A label seen once is not reproduced, and text keys do not start with the source's own prefix."""
    _, target = runs
    eng = sa.create_engine(target)
    try:
        with eng.connect() as conn:
            categories = {row[0] for row in conn.exec_driver_sql("SELECT DISTINCT category FROM accounts")}
            keys = [row[0] for row in conn.exec_driver_sql("SELECT acct_id FROM accounts")]
    finally:
        eng.dispose()
    assert RARE not in categories and not any("JohnDoe" in c for c in categories)
    assert keys and not any(k.startswith("SECRETACCT") for k in keys)
