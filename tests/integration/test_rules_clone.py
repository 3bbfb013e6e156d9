"""Issue 17's first "Done when": the rules database (tests/data/rules/, built by build.py in each dialect) has
CHECKs of every shape, UNIQUE columns larger than one batch and every discovered rule kind; `dbsynth run`
clones it into PostgreSQL, MariaDB and SQLite (CHECKs present in each target) with zero rejected rows and
every rule kept, with HMA, HSA and Independent.

Each clone of the matrix (:data:`CASES`) runs once per module; the tests then read its target:

- the run committed every row it sampled (a target that refused one row fails the whole run), the customer
  table spanning more than one sampled batch and many INSERT batches (``batch_size`` 200);
- every CHECK of the source is in the target's catalog under its name, and the target refuses a row that
  breaks it;
- the rows are new (few equal a source row), so that the rules are kept by the sampler, not by copying;
- every rule holds in every row, counted three times: by the target database (:data:`SQL_COUNTS`), by
  build.py's pandas counters (:data:`build.RULES`; both are shown to fail on a broken row) and by dbsynth's
  scorer on the rules dbsynth declares and discovers on the source, so that a bug in the scorer cannot hide a
  broken clone.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from dbsynth import cli
from dbsynth.errors import MemoryBudgetError
from dbsynth.memory import plan_memory
from dbsynth.read import read_tables
from dbsynth.reflect import reflect
from dbsynth.rules.discover import declared, discover
from dbsynth.rules.evaluate import score
from dbsynth.rules.records import Rule

pytestmark = pytest.mark.db

RULES_DIR = Path(__file__).resolve().parents[1] / "data" / "rules"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rules_build", RULES_DIR / "build.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["rules_build"] = mod  # dataclasses resolve their module by name
    spec.loader.exec_module(mod)
    return mod


build = _module()

#: (source, target, synthesizer): from SQLite into every target with each synthesizer, and from each server
#: dialect into every target with HMA (about a second a run).
CASES = [
    *[("sqlite", t, m) for m in ("hma", "hsa", "independent") for t in ("sqlite", "postgresql", "mariadb")],
    *[(s, t, "hma") for s in ("postgresql", "mariadb") for t in ("postgresql", "mariadb", "sqlite")],
]

#: Rows per INSERT batch of the runs: far fewer than the customer table's 1,200.
BATCH_SIZE = 200

#: Per CHECK, an UPDATE of the row with the smallest key that breaks it, in SQL every dialect reads.
BREAKING = {
    "ck_promotion_dates": ("promotion", "promo_id", "end_date = '1990-01-01'"),
    "ck_promotion_pct": ("promotion", "promo_id", "pct = 4"),
    "ck_rental_returned": ("rental", "rental_id", "returned_at = '1990-01-01 00:00:00'"),
    "ck_invoice_status": ("invoice", "invoice_id", "status = 'lost'"),
    "ck_line_qty": ("invoice_line", "line_id", "quantity = 0"),
    "ck_line_discount": ("invoice_line", "line_id", "discount = unit_price + 1"),
    "ck_product_price": ("product", "product_id", "unit_price = 0"),
    "ck_product_sku": ("product", "product_id", "sku = 'SKU-1'"),
    "ck_product_ref": ("product", "product_id", "ref_code = '12345'"),  # MariaDB's REGEXP ignores case
    "ck_payment_amount": ("payment", "payment_id", "amount = -1"),
    "ck_language_pct": ("country_language", "country_id", "percentage = 100.1"),
}

#: The rules only the data holds, as dbsynth names them (kind, table, columns): what discovery must find.
DISCOVERABLE = {
    ("order", "invoice", ("ordered_at", "shipped_at")),
    ("unique", "customer", ("username",)),
    ("unique", "country", ("name",)),
    ("domain", "customer", ("age_bucket",)),
    ("dependency", "customer", ("city", "country")),
    ("dependency", "country", ("region", "continent")),
    ("combination", "customer", ("plan", "billing")),
    ("unique", "wishlist", ("customer_id", "product_id")),
    ("same_ancestor", "payment", ("customer_id", "rental_id")),
    ("parent_sum", "country_language", ("country_id", "percentage")),
    ("aggregate", "invoice", ("total",)),
    ("copied", "invoice_line", ("unit_price",)),
}

CHECKS = {(t.name, n) for t in build.TABLES for n, _ in t.checks}

#: Per rule only the data holds, the rows (or groups) breaking it, counted by the database itself: a third
#: count beside build.py's and dbsynth's, in SQL all three dialects run.
SQL_COUNTS = {
    "order:invoice:ordered_at,shipped_at": "SELECT count(*) FROM invoice WHERE shipped_at < ordered_at",
    "unique:customer:username":
        "SELECT count(*) FROM (SELECT username FROM customer GROUP BY username HAVING count(*) > 1) d",
    "unique:country:name": "SELECT count(*) FROM (SELECT name FROM country GROUP BY name HAVING count(*) > 1) d",
    "domain:customer:age_bucket": "SELECT count(*) FROM customer WHERE age_bucket NOT IN (1, 2, 3, 4, 5, 6, 7)",
    "dependency:customer:city,country":
        "SELECT count(*) FROM (SELECT city FROM customer GROUP BY city HAVING count(DISTINCT country) > 1) d",
    "dependency:country:region,continent":
        "SELECT count(*) FROM (SELECT region FROM country GROUP BY region HAVING count(DISTINCT continent) > 1) d",
    "combination:customer:plan,billing": "SELECT count(*) FROM customer WHERE NOT (" + " OR ".join(
        f"(plan = '{p}' AND billing = '{b}')" for p, b in build.PLAN_BILLING) + ")",
    "unique:wishlist:customer_id,product_id": "SELECT count(*) FROM (SELECT customer_id, product_id FROM wishlist "
                                              "GROUP BY customer_id, product_id HAVING count(*) > 1) d",
    "same_ancestor:payment:customer_id,rental_id": "SELECT count(*) FROM payment p JOIN rental r "
                                                   "ON r.rental_id = p.rental_id WHERE p.customer_id <> r.customer_id",
    "parent_sum:country_language:country_id,percentage": "SELECT count(*) FROM (SELECT country_id FROM "
        "country_language GROUP BY country_id HAVING abs(sum(percentage) - 100) > 0.05) d",
    "aggregate:invoice:total=sum(invoice_line.unit_price*quantity)": "SELECT count(*) FROM invoice i LEFT JOIN "
        "(SELECT invoice_id, sum(unit_price * quantity) AS s FROM invoice_line GROUP BY invoice_id) l "
        "ON l.invoice_id = i.invoice_id WHERE abs(i.total - coalesce(l.s, 0)) > 0.005",
    "copied:invoice_line:unit_price": "SELECT count(*) FROM invoice_line l JOIN product p "
                                      "ON p.product_id = l.product_id WHERE abs(l.unit_price - p.unit_price) > 0.005",
}

#: Per SQL count, an UPDATE of a copy of the SQLite source that breaks its rule (the counts can fail).
SQL_BREAKS = {
    "order:invoice:ordered_at,shipped_at":
        "UPDATE invoice SET shipped_at = '2000-01-01 00:00:00' WHERE invoice_id = 1",
    "unique:customer:username": "UPDATE customer SET username = (SELECT username FROM customer WHERE customer_id = 2) "
                                "WHERE customer_id = 1",
    "unique:country:name": "UPDATE country SET name = (SELECT name FROM country WHERE country_id = 2) "
                           "WHERE country_id = 1",
    "domain:customer:age_bucket": "UPDATE customer SET age_bucket = 8 WHERE customer_id = 1",
    "dependency:customer:city,country": "UPDATE customer SET country = 'Atlantis' WHERE customer_id = 1",
    "dependency:country:region,continent": "UPDATE country SET continent = 'Atlantis' WHERE country_id = 1",
    "combination:customer:plan,billing": "UPDATE customer SET plan = 'free', billing = 'yearly' WHERE customer_id = 1",
    "unique:wishlist:customer_id,product_id": "INSERT INTO wishlist SELECT * FROM wishlist LIMIT 1",
    "same_ancestor:payment:customer_id,rental_id":
        "UPDATE payment SET customer_id = customer_id % 1200 + 1 WHERE payment_id = 1",
    "parent_sum:country_language:country_id,percentage":
        "UPDATE country_language SET percentage = percentage - 0.1 WHERE rowid = 1",
    "aggregate:invoice:total=sum(invoice_line.unit_price*quantity)":
        "UPDATE invoice SET total = total + 0.01 WHERE invoice_id = 1",
    "copied:invoice_line:unit_price": "UPDATE invoice_line SET unit_price = unit_price + 1, discount = 0 "
                                      "WHERE line_id = 1",
}


# ---- the source databases -----------------------------------------------------------------------------------
def _load(dialect: str, target: str, env: dict[str, str] | None = None) -> None:
    env = dict(env) if env else None
    if env is not None:
        env["PYTHON"] = sys.executable
    proc = subprocess.run(["bash", str(RULES_DIR / "load.sh"), dialect, target], env=env, capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"building the {dialect} rules database failed:\n{proc.stderr[-2000:]}")


def _name() -> str:
    return f"dbsynth_rules_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def rules_postgresql(postgres_server) -> Iterator[str]:
    """URL of the PostgreSQL rules database (read-only for the tests)."""
    name = _name()
    _load("postgres", name, postgres_server.env())
    yield postgres_server.url(name)
    postgres_server.drop(name)


@pytest.fixture(scope="module")
def rules_mariadb(mariadb_server) -> Iterator[str]:
    """URL of the MariaDB rules database."""
    name = _name()
    _load("mariadb", name, mariadb_server.env())
    yield mariadb_server.url(name)
    mariadb_server.drop(name)


@pytest.fixture(scope="module")
def rules_sqlite(tmp_path_factory) -> str:
    """URL of the SQLite rules database."""
    path = tmp_path_factory.mktemp("rules") / "rules.sqlite"
    build.load_sqlite(path)
    return f"sqlite:///{path}"


def _source(request, dialect: str) -> str:
    return request.getfixturevalue(f"rules_{dialect}")


# ---- reading a database ----------------------------------------------------------------------------------------
def _dialect(url: str) -> str:
    name = sa.make_url(url).get_backend_name()
    return "mariadb" if name in ("mysql", "mariadb") else name


def _q(url: str, name: str) -> str:
    return f"`{name}`" if _dialect(url) == "mariadb" else f'"{name}"'


def _query(url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def _frames(url: str) -> dict[str, pd.DataFrame]:
    """Every table of the rules schema as the database returns it (plain SQL, no dbsynth reader)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {t.name: pd.read_sql(sa.text(f"SELECT * FROM {_q(url, t.name)}"), conn) for t in build.TABLES}
    finally:
        engine.dispose()


def _catalog_checks(url: str) -> set[tuple[str, str]]:
    """``{(table, constraint)}`` of the CHECK constraints the database's catalog holds."""
    dialect = _dialect(url)
    if dialect == "postgresql":
        rows = _query(url, "SELECT c.relname, con.conname FROM pg_constraint con JOIN pg_class c ON c.oid = "
                           "con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                           "WHERE con.contype = 'c' AND n.nspname = 'public'")
    elif dialect == "mariadb":
        rows = _query(url, "SELECT table_name, constraint_name FROM information_schema.check_constraints "
                           "WHERE constraint_schema = DATABASE()")
    else:
        rows = [(name, ck) for name, sql in _query(url, "SELECT name, sql FROM sqlite_master WHERE type = 'table'")
                for ck in re.findall(r'CONSTRAINT\s+["`]?(\w+)["`]?\s+CHECK', sql or "", re.I)]
    return {(str(t), str(c)) for t, c in rows}


def _source_rules(url: str) -> list[Rule]:
    """What dbsynth declares (CHECKs) and discovers on the source's rows."""
    meta = reflect(url)
    return [*declared(meta), *discover(meta, read_tables(url, meta))]


# ---- the sources are built as described -------------------------------------------------------------------------
@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mariadb"])
def test_source_holds_the_generated_rows_and_every_check(dialect, request):
    url = _source(request, dialect)
    back = build.normalize(_frames(url))
    expected = build.generate()
    for name, frame in expected.items():
        # the rows in key order (MariaDB returns a table in its primary key's order)
        key = list(build.TABLE[name].primary_key or ("customer_id", "product_id"))
        pd.testing.assert_frame_equal(back[name].sort_values(key, ignore_index=True),
                                      frame.sort_values(key, ignore_index=True), check_dtype=False, obj=name)
    assert build.broken_rules(back) == {}
    assert CHECKS - _catalog_checks(url) == set()


def _sql_counts(url: str) -> dict[str, int]:
    return {name: n for name, sql in SQL_COUNTS.items() if (n := _query(url, sql)[0][0])}


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mariadb"])
def test_sql_counts_are_zero_on_the_source(dialect, request):
    assert _sql_counts(_source(request, dialect)) == {}


@pytest.mark.parametrize("rule", sorted(SQL_BREAKS))
def test_sql_counts_see_a_broken_row(rule, rules_sqlite, tmp_path):
    """Each SQL count sees its rule broken once in a copy of the SQLite source, and no other count moves."""
    copy = tmp_path / "broken.sqlite"
    shutil.copyfile(sa.make_url(rules_sqlite).database or "", copy)
    conn = sqlite3.connect(copy)
    try:
        conn.execute(SQL_BREAKS[rule])
        conn.commit()
    finally:
        conn.close()
    counts = _sql_counts(f"sqlite:///{copy}")
    assert counts.get(rule, 0) >= 1 and set(counts) <= {rule, *SQL_ALSO.get(rule, ())}, counts


#: A changed price also changes its invoice's total.
SQL_ALSO = {"copied:invoice_line:unit_price": {"aggregate:invoice:total=sum(invoice_line.unit_price*quantity)"}}


def test_every_rule_only_the_data_holds_has_a_sql_count():
    assert set(SQL_COUNTS) == set(SQL_BREAKS) == {r.name for r in build.RULES if not r.declared}


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mariadb"])
def test_discovery_finds_every_designed_rule(dialect, request):
    """dbsynth's discovery finds each rule the data is built to hold, and parses each CHECK."""
    rules = _source_rules(_source(request, dialect))
    found = {(str(r.kind), r.table, tuple(r.columns)) for r in rules}
    assert DISCOVERABLE - found == set()
    assert {(r.table, r.name.split(":", 2)[2]) for r in rules if str(r.kind) == "check"} == CHECKS


# ---- the clones -------------------------------------------------------------------------------------------------
@dataclass
class Clone:
    """One `dbsynth run` of the matrix."""

    source: str
    target: str
    synthesizer: str
    exit_code: int
    report: dict[str, Any]
    seconds: float


def _memory_limit(source: str) -> str:
    """The smallest budget (of a few) the run accepts: batches of the fewest rows (MIN_BATCH_ROWS), fewer than
    the customer table's, so that its UNIQUE columns span two sampled batches."""
    meta = reflect(source)
    for limit in ("330MB", "340MB", "360MB", "400MB"):
        try:
            plan = plan_memory(limit, meta)
        except MemoryBudgetError:
            continue
        if plan.batch_rows < 1200:
            return limit
    raise AssertionError("no memory_limit gives batches smaller than the customer table")


def _empty_target(request, dialect: str, tmp: Path) -> tuple[str, Any]:
    if dialect == "sqlite":
        return f"sqlite:///{tmp / 'target.sqlite'}", None
    server = request.getfixturevalue("postgres_server" if dialect == "postgresql" else "mariadb_server")
    name = _name()
    return server.create(name), lambda: server.drop(name)


@pytest.fixture(scope="module", params=CASES, ids=[f"{s}-to-{t}-{m}" for s, t, m in CASES])
def clone(request, tmp_path_factory) -> Iterator[Clone]:
    src, tgt, synthesizer = request.param
    source = _source(request, src)
    tmp = tmp_path_factory.mktemp(f"clone-{src}-{tgt}-{synthesizer}")
    target, drop = _empty_target(request, tgt, tmp)
    report = tmp / "run.json"
    cfg = {"source": {"url": source}, "target": {"url": target, "mode": "replace"}, "model": {"path": None},
           "seed": 17, "synthesizer": synthesizer, "batch_size": BATCH_SIZE, "memory_limit": _memory_limit(source),
           "report": {"json": str(report)}}
    path = tmp / "rules.yaml"
    path.write_text(yaml.safe_dump(cfg))
    start = time.monotonic()
    code = cli.run_cli(["--quiet", "run", "--config", str(path)])
    seconds = time.monotonic() - start
    try:
        yield Clone(source, target, synthesizer, code,
                    json.loads(report.read_text()) if report.exists() else {}, seconds)
    finally:
        if drop:
            drop()


def test_run_commits_every_sampled_row(clone):
    """Zero rejected rows: the run succeeds (one refused row fails it) and the target holds what it sampled."""
    assert clone.exit_code == 0, clone.report
    assert clone.report["committed"] is True
    written = clone.report["tables"]
    assert set(written) == set(build.TABLE)
    counts = {t: _query(clone.target, f"SELECT count(*) FROM {_q(clone.target, t)}")[0][0] for t in build.TABLE}
    assert counts == written
    assert all(n > 0 for n in counts.values()), counts
    # the UNIQUE columns of customer span sampled batches and INSERT batches
    assert counts["customer"] > clone.report["memory"]["batch_rows"]
    assert counts["customer"] > 2 * BATCH_SIZE


def test_every_check_is_in_the_target(clone):
    """Every CHECK in the target's catalog under its name; the run says nothing of a CHECK left out."""
    assert clone.exit_code == 0
    assert not [w for w in clone.report["warnings"] if "check" in w.lower()], clone.report["warnings"]
    assert CHECKS - _catalog_checks(clone.target) == set()


@pytest.mark.parametrize("check", sorted(BREAKING))
def test_target_refuses_a_row_breaking_a_check(check, clone):
    """Each CHECK is enforced by the target under its name (an UPDATE breaking it fails; rolled back)."""
    assert clone.exit_code == 0
    table, key, assignment = BREAKING[check]
    q = lambda n: _q(clone.target, n)
    first = _query(clone.target, f"SELECT min({q(key)}) FROM {q(table)}")[0][0]
    engine = sa.create_engine(clone.target)
    try:
        with engine.connect() as conn:
            with pytest.raises(sa.exc.DBAPIError) as err:
                conn.execute(sa.text(f"UPDATE {q(table)} SET {assignment} WHERE {q(key)} = :k"), {"k": first})
            conn.rollback()
    finally:
        engine.dispose()
    assert check in str(err.value.orig)


def test_clone_is_synthesized(clone):
    """The rules hold in new rows, not in copies of the source's: few rows of the large tables equal a source row
    on their non-key columns (a run that copied would keep every rule and prove nothing)."""
    assert clone.exit_code == 0
    real, fake = build.normalize(_frames(clone.source)), build.normalize(_frames(clone.target))
    for name in ("customer", "invoice", "invoice_line", "rental", "payment"):
        t = build.TABLE[name]
        cols = [c.name for c in t.columns if c.name not in t.primary_key]
        same = fake[name][cols].merge(real[name][cols].drop_duplicates(), how="inner")
        assert len(same) < 0.1 * len(fake[name]), name


def test_every_rule_holds_by_sql_counts(clone):
    """The target database counts no row breaking a rule."""
    assert clone.exit_code == 0
    assert _sql_counts(clone.target) == {}


def test_every_rule_holds_by_the_own_counters(clone):
    """build.py's pandas counters (independent of dbsynth's scorer) on the target's rows."""
    assert clone.exit_code == 0
    assert build.broken_rules(_frames(clone.target)) == {}


@pytest.fixture(scope="module")
def rules_of() -> Any:
    cache: dict[str, list[Rule]] = {}

    def get(url: str) -> list[Rule]:
        if url not in cache:
            cache[url] = _source_rules(url)
        return cache[url]
    return get


def test_every_rule_holds_by_dbsynth_scores(clone, rules_of):
    """The rules dbsynth declares and discovers on the source, scored by dbsynth on the target."""
    assert clone.exit_code == 0
    rules = rules_of(clone.source)
    meta = reflect(clone.target)
    scores = score(meta, rules, read_tables(clone.target, meta))
    assert len(scores) == len(rules) >= len(CHECKS) + len(DISCOVERABLE)
    missed = {s.rule.name: f"{s.kept}/{s.total} {s.detail}".strip() for s in scores
              if s.kept != s.total or s.detail}
    assert missed == {}
