"""The rules database's rows (tests/data/rules/build.py, issue 17), checked without a server: every rule it is
built to hold holds in every generated row, each rule's counter sees one broken row, the scripts are the same
on every build, the SQLite script loads and round-trips, and its CHECKs refuse a breaking row.

The integration test (tests/integration/test_rules_clone.py) clones the database and runs the same counters on
the clones: these tests make sure the counters can fail, and that the fixture cannot silently lose a rule.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
import sqlglot

from dbsynth.memory import MIN_BATCH_ROWS
from dbsynth.rules.discover import DiscoverySettings
from dbsynth.rules.records import RuleKind

BUILD = Path(__file__).resolve().parents[1] / "data" / "rules" / "build.py"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rules_build", BUILD)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["rules_build"] = mod  # dataclasses resolve their module by name
    spec.loader.exec_module(mod)
    return mod


build = _module()


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return build.generate()


def _copy(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {n: f.copy() for n, f in frames.items()}


# ---- one row broken per rule: what each counter must see ------------------------------------------------------
def _set(table: str, column: str, value: object, row: int = 0) -> Callable[[dict[str, pd.DataFrame]], None]:
    def br(f: dict[str, pd.DataFrame]) -> None:
        f[table].loc[row, column] = value
    return br


def _shift(table: str, low: str, high: str) -> Callable[[dict[str, pd.DataFrame]], None]:
    """The first row with both set gets ``high`` a day before ``low``."""
    def br(f: dict[str, pd.DataFrame]) -> None:
        df = f[table]
        row = df.index[df[low].notna() & df[high].notna()][0]
        df.loc[row, high] = df.loc[row, low] - pd.Timedelta(days=1)
    return br


def _same_as(table: str, column: str, src_row: int = 1, row: int = 0) -> Callable[[dict[str, pd.DataFrame]], None]:
    def br(f: dict[str, pd.DataFrame]) -> None:
        f[table].loc[row, column] = f[table].loc[src_row, column]
    return br


def _other_value(table: str, key: str, column: str) -> Callable[[dict[str, pd.DataFrame]], None]:
    """The first row takes another row's ``column`` where that row's ``key`` differs."""
    def br(f: dict[str, pd.DataFrame]) -> None:
        df = f[table]
        other = df.index[df[key] != df.loc[0, key]][0]
        df.loc[0, column] = df.loc[other, column]
    return br


def _wrong_fd(table: str, det: str, dep: str) -> Callable[[dict[str, pd.DataFrame]], None]:
    def br(f: dict[str, pd.DataFrame]) -> None:
        df = f[table]
        df.loc[0, dep] = df.loc[df.index[df[dep] != df.loc[0, dep]][0], dep]
    return br


def _bad_combo(f: dict[str, pd.DataFrame]) -> None:
    f["customer"].loc[0, ["plan", "billing"]] = ["free", "yearly"]


def _bad_share(f: dict[str, pd.DataFrame]) -> None:
    f["country_language"].loc[0, "percentage"] += 0.1


def _bad_total(f: dict[str, pd.DataFrame]) -> None:
    f["invoice"].loc[0, "total"] += 0.01


def _bad_copy(f: dict[str, pd.DataFrame]) -> None:
    f["invoice_line"].loc[0, "unit_price"] += 1.0
    f["invoice_line"].loc[0, "discount"] = 0.0  # the CHECK on the discount still holds


def _bad_ancestor(f: dict[str, pd.DataFrame]) -> None:
    p = f["payment"]
    p.loc[0, "customer_id"] = p.loc[0, "customer_id"] % 1200 + 1


def _dangling(f: dict[str, pd.DataFrame]) -> None:
    f["invoice"].loc[0, "customer_id"] = 99_999


def _pair_twice(f: dict[str, pd.DataFrame]) -> None:
    f["wishlist"].loc[0, ["customer_id", "product_id"]] = f["wishlist"].loc[1, ["customer_id", "product_id"]].to_numpy()


BREAK: dict[str, Callable[[dict[str, pd.DataFrame]], None]] = {
    "check:promotion:ck_promotion_dates": _shift("promotion", "start_date", "end_date"),
    "check:promotion:ck_promotion_pct": _set("promotion", "pct", 51),
    "check:rental:ck_rental_returned": _shift("rental", "rented_at", "returned_at"),
    "check:invoice:ck_invoice_status": _set("invoice", "status", "lost"),
    "check:invoice_line:ck_line_qty": _set("invoice_line", "quantity", 101),
    "check:invoice_line:ck_line_discount": lambda f: f["invoice_line"].__setitem__(
        "discount", f["invoice_line"]["discount"].where(f["invoice_line"].index != 0,
                                                        f["invoice_line"]["unit_price"] * 0.5 + 0.01)),
    "check:product:ck_product_price": _set("product", "unit_price", 0.0),
    "check:product:ck_product_sku": _set("product", "sku", "SKU-12345"),
    "check:product:ck_product_ref": _set("product", "ref_code", "ab123"),
    "check:payment:ck_payment_amount": _set("payment", "amount", 0.0),
    "check:country_language:ck_language_pct": _set("country_language", "percentage", 0.0),
    "unique:customer:email": _same_as("customer", "email"),
    "unique:customer:loyalty_no": _same_as("customer", "loyalty_no"),
    "unique:product:sku": _same_as("product", "sku"),
    "fk:*": _dangling,
    "order:invoice:ordered_at,shipped_at": _shift("invoice", "ordered_at", "shipped_at"),
    "unique:customer:username": _same_as("customer", "username"),
    "unique:country:name": _same_as("country", "name"),
    "domain:customer:age_bucket": _set("customer", "age_bucket", 8),
    "dependency:customer:city,country": _wrong_fd("customer", "city", "country"),
    "dependency:country:region,continent": _wrong_fd("country", "region", "continent"),
    "combination:customer:plan,billing": _bad_combo,
    "unique:wishlist:customer_id,product_id": _pair_twice,
    "same_ancestor:payment:customer_id,rental_id": _bad_ancestor,
    "parent_sum:country_language:country_id,percentage": _bad_share,
    "aggregate:invoice:total=sum(invoice_line.unit_price*quantity)": _bad_total,
    "copied:invoice_line:unit_price": _bad_copy,
}


#: Rules that break with another's broken row: a share of 0 or a quantity of 101 changes a sum, a product's
#: price its lines' copies, a line's price its invoice's total.
ALSO = {
    "check:country_language:ck_language_pct": {"parent_sum:country_language:country_id,percentage"},
    "check:invoice_line:ck_line_qty": {"aggregate:invoice:total=sum(invoice_line.unit_price*quantity)"},
    "check:product:ck_product_price": {"copied:invoice_line:unit_price"},
    "copied:invoice_line:unit_price": {"aggregate:invoice:total=sum(invoice_line.unit_price*quantity)"},
}


# ---- the rows keep every rule -------------------------------------------------------------------------------------
def test_generated_rows_keep_every_rule(frames):
    assert build.broken_rules(frames) == {}


def test_every_rule_has_a_breaker():
    assert set(BREAK) == {r.name for r in build.RULES}


@pytest.mark.parametrize("name", sorted(BREAK))
def test_one_broken_row_is_seen(name, frames):
    """Each counter sees one row broken for its rule (a counter that cannot fail would hide a broken clone)."""
    f = _copy(frames)
    BREAK[name](f)
    broken = build.broken_rules(f)
    assert broken.get(name, 0) >= 1, broken
    # nothing else breaks but what the rule feeds (the counters are not one catch-all)
    assert set(broken) <= {name, *ALSO.get(name, ())}, broken


def test_every_rule_kind_is_in_the_database():
    """CHECKs, declared and discovered uniqueness, and each kind discovery finds (issue 17's list)."""
    kinds = {r.name.split(":")[0] for r in build.RULES}
    wanted = {RuleKind.CHECK, RuleKind.ORDER, RuleKind.UNIQUE, RuleKind.DOMAIN, RuleKind.DEPENDENCY,
              RuleKind.COMBINATION, RuleKind.SAME_ANCESTOR, RuleKind.PARENT_SUM, RuleKind.AGGREGATE, RuleKind.COPIED}
    assert {str(k) for k in wanted} <= kinds
    assert {r.name for r in build.RULES if not r.declared and r.name.startswith("unique:")} >= {
        "unique:customer:username", "unique:wishlist:customer_id,product_id"}


def test_the_rules_have_the_support_discovery_asks(frames):
    """Each data-only rule is above discovery's thresholds, so that it is a rule and not noise."""
    s = DiscoverySettings()
    customer, country = frames["customer"], frames["country"]
    assert customer["city"].value_counts().min() >= s.min_category_count
    assert country["region"].value_counts().min() >= s.min_category_count
    combos = customer.groupby(["plan", "billing"]).size()
    assert len(combos) == len(build.PLAN_BILLING) and combos.min() >= s.min_category_count
    assert customer["age_bucket"].value_counts().min() >= s.min_category_count
    assert frames["country_language"]["country_id"].nunique() >= s.min_rows
    assert frames["invoice"]["shipped_at"].notna().sum() >= s.min_rows
    assert len(frames["payment"]) >= s.min_rows and len(frames["invoice_line"]) >= s.min_rows


def test_the_rules_are_what_they_say(frames):
    """The combination is no dependency either way, cities repeat, a country has 1 to 4 languages, and the
    shared shapes (NULLs in an order, equal dates, several payments per rental) are there."""
    c = frames["customer"]
    assert c.groupby("plan")["billing"].nunique().max() > 1
    assert c.groupby("billing")["plan"].nunique().max() > 1
    assert c.groupby("city").size().min() > 1
    langs = frames["country_language"].groupby("country_id").size()
    assert set(langs) == {1, 2, 3, 4}
    assert frames["invoice"]["shipped_at"].isna().any() and frames["rental"]["returned_at"].isna().any()
    assert (frames["promotion"]["end_date"] == frames["promotion"]["start_date"]).any()
    assert frames["payment"]["rental_id"].value_counts().max() > 1
    assert (frames["invoice_line"]["discount"] > 0).any() and (frames["invoice_line"]["discount"] == 0).any()


def test_customer_is_larger_than_one_sampled_batch(frames):
    """The UNIQUE columns span batches: the smallest batch the sampler makes is MIN_BATCH_ROWS rows."""
    assert len(frames["customer"]) > MIN_BATCH_ROWS
    assert len(frames["customer"]) > 200 * 5  # and several INSERT batches of the integration test's batch_size


# ---- determinism ----------------------------------------------------------------------------------------------
def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("dialect", build.DIALECTS)
def test_scripts_are_the_same_on_every_build(dialect):
    first = build.script(dialect)
    assert _digest(build.script(dialect)) == _digest(first)
    other = build.script(dialect, build.generate(seed=build.SEED + 1))
    assert _digest(other) != _digest(first)  # the seed decides the rows


def test_the_seed_decides_the_rows(frames):
    again = build.generate()
    for name in frames:
        pd.testing.assert_frame_equal(again[name], frames[name])
    assert build.broken_rules(build.generate(seed=build.SEED + 1)) == {}  # another seed keeps the rules too


# ---- the scripts --------------------------------------------------------------------------------------------
_SQLGLOT = {"postgres": "postgres", "mariadb": "mysql", "sqlite": "sqlite"}


@pytest.mark.parametrize("dialect", build.DIALECTS)
def test_ddl_parses_in_its_dialect_with_every_check(dialect):
    statements = sqlglot.parse(build.ddl(dialect), read=_SQLGLOT[dialect])
    assert len(statements) == len(build.TABLES)
    names = set(re.findall(r"CONSTRAINT (ck_\w+) CHECK", build.ddl(dialect)))
    assert names == {n for t in build.TABLES for n, _ in t.checks}
    assert len(names) == 11


def test_regex_check_is_the_dialects_own():
    ref = {d: build.TABLE["product"].check_sql(d)["ck_product_ref"] for d in build.DIALECTS}
    assert " ~ " in ref["postgres"] and "REGEXP" in ref["mariadb"] and "GLOB" in ref["sqlite"]


@pytest.fixture(scope="module")
def sqlite_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rules") / "rules.sqlite"
    build.load_sqlite(path)
    return path


def test_sqlite_database_round_trips_the_rows(sqlite_file, frames):
    conn = sqlite3.connect(sqlite_file)
    try:
        read = {t.name: pd.read_sql(f'SELECT * FROM "{t.name}"', conn) for t in build.TABLES}
    finally:
        conn.close()
    back = build.normalize(read)
    for name in frames:
        pd.testing.assert_frame_equal(back[name], frames[name], check_dtype=False)
    assert build.broken_rules(read) == {}


#: Per CHECK, an UPDATE of one row that breaks it (SQLite syntax).
_BREAKING_UPDATES = {
    "ck_promotion_dates": "UPDATE promotion SET end_date = '1990-01-01' WHERE promo_id = 1",
    "ck_promotion_pct": "UPDATE promotion SET pct = 4 WHERE promo_id = 1",
    "ck_rental_returned": "UPDATE rental SET returned_at = '1990-01-01 00:00:00' WHERE rental_id = 1",
    "ck_invoice_status": "UPDATE invoice SET status = 'lost' WHERE invoice_id = 1",
    "ck_line_qty": "UPDATE invoice_line SET quantity = 0 WHERE line_id = 1",
    "ck_line_discount": "UPDATE invoice_line SET discount = unit_price WHERE line_id = 1",
    "ck_product_price": "UPDATE product SET unit_price = 0 WHERE product_id = 1",
    "ck_product_sku": "UPDATE product SET sku = 'SKU-1' WHERE product_id = 1",
    "ck_product_ref": "UPDATE product SET ref_code = 'ab123' WHERE product_id = 1",
    "ck_payment_amount": "UPDATE payment SET amount = -1 WHERE payment_id = 1",
    "ck_language_pct": "UPDATE country_language SET percentage = 100.1 WHERE rowid = 1",
}


def test_every_check_has_a_breaking_update():
    assert set(_BREAKING_UPDATES) == {n for t in build.TABLES for n, _ in t.checks}


@pytest.mark.parametrize("check", sorted(_BREAKING_UPDATES))
def test_sqlite_checks_refuse_a_breaking_row(check, sqlite_file):
    conn = sqlite3.connect(sqlite_file)
    try:
        with pytest.raises(sqlite3.IntegrityError, match=f"CHECK constraint failed: {check}"):
            conn.execute(_BREAKING_UPDATES[check])
    finally:
        conn.rollback()
        conn.close()


@pytest.mark.parametrize("dialect", build.DIALECTS)
def test_literals_write_nulls_and_booleans_per_dialect(dialect, frames):
    text = build.script(dialect)
    nulls = sum(int(f.isna().sum().sum()) for f in frames.values())
    assert nulls > 0 and len(re.findall(r"(?<!NOT )\bNULL\b", text)) == nulls
    has_words = bool(re.search(r"\b(TRUE|FALSE)\b", text))
    assert has_words == (dialect != "sqlite")  # SQLite stores booleans as 0/1
