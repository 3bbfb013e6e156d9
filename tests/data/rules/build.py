"""The rules database (issue 17): every CHECK shape dbsynth parses and every rule kind it discovers, in
PostgreSQL, MariaDB and SQLite, generated from one seeded numpy generator so that the three hold the same rows.

    python3 build.py postgres|mariadb|sqlite        # the whole script (DDL and rows) on stdout
    python3 build.py sqlite FILE                    # build the SQLite file (replaced)
    load.sh postgres DBNAME | load.sh mariadb DBNAME | load.sh sqlite FILE

Ten tables, 4,597 rows. What each table is there for:

- ``country`` (48 rows): ``name`` unique without a UNIQUE constraint; ``region -> continent`` (8 regions of 6
  countries, 4 continents).
- ``country_language`` (100): a country's ``percentage`` adds up to exactly 100 (1 to 4 languages);
  ``CHECK (percentage > 0 AND percentage <= 100)``.
- ``customer`` (1,200: more than one sampled batch): UNIQUE ``email`` (varchar) and ``loyalty_no`` (integer),
  ``username`` unique without a constraint, ``city -> country`` (40 cities, ~30 customers each), ``age_bucket``
  a 7-value discrete numeric, ``(plan, billing)`` taking 4 of 9 combinations (neither determines the other).
- ``product`` (80): ``CHECK (unit_price > 0)``, UNIQUE ``sku`` with ``CHECK (sku LIKE 'SKU-____')``, ``ref_code``
  with a regex CHECK (PostgreSQL ``~``, MariaDB ``REGEXP``, SQLite ``GLOB``).
- ``promotion`` (150): ``CHECK (end_date >= start_date)`` (dates, some equal), ``CHECK (pct BETWEEN 5 AND 50)``.
- ``invoice`` (400): ``CHECK (status IN ('new', 'paid', 'shipped'))``; ``shipped_at >= ordered_at`` without a
  CHECK (15% NULL); ``total = sum(invoice_line.unit_price * quantity)``.
- ``invoice_line`` (1,200): ``unit_price`` copied from the product, ``CHECK (quantity BETWEEN 1 AND 100)``,
  ``CHECK (discount <= unit_price * 0.5)``.
- ``rental`` (500): ``CHECK (returned_at >= rented_at)`` on a nullable ``returned_at``.
- ``payment`` (519): ``customer_id`` is its rental's ``customer_id`` (the same ancestor by two paths);
  ``CHECK (amount > 0)``.
- ``wishlist`` (400): a bridge without a key whose ``(customer_id, product_id)`` never repeats.

:data:`RULES` says, per rule, how to count the rows that break it (pandas, independent of dbsynth's own
scoring): the unit tests run it on the generated rows, the integration tests on each clone read back.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: The seed of every build: the same rows on every machine and in every dialect.
SEED = 17

DIALECTS = ("postgres", "mariadb", "sqlite")

Frames = dict[str, pd.DataFrame]


# ---- the schema ------------------------------------------------------------------------------------------------
#: Logical column types -> each dialect's type. Dates are SQLite text ('YYYY-MM-DD'), timestamps whole seconds.
_TYPES: dict[str, tuple[str, str, str]] = {
    "int": ("integer", "INT", "INTEGER"),
    "small": ("smallint", "SMALLINT", "SMALLINT"),
    "money": ("numeric(10,2)", "DECIMAL(10,2)", "DECIMAL(10,2)"),
    "total": ("numeric(12,2)", "DECIMAL(12,2)", "DECIMAL(12,2)"),
    "pct": ("numeric(4,1)", "DECIMAL(4,1)", "DECIMAL(4,1)"),
    "date": ("date", "DATE", "DATE"),
    "ts": ("timestamp(0)", "DATETIME", "DATETIME"),
    "bool": ("boolean", "BOOLEAN", "BOOLEAN"),
}
#: Digits after the point of the decimal types (how their values are written).
_SCALE = {"money": 2, "total": 2, "pct": 1}


@dataclass(frozen=True)
class Col:
    """A column: ``kind`` is a key of :data:`_TYPES` or ``varchar(n)``."""

    name: str
    kind: str
    nullable: bool = False

    def sql_type(self, dialect: str) -> str:
        """The column's type in ``dialect``."""
        m = re.fullmatch(r"varchar\((\d+)\)", self.kind)
        if m:
            return f"{'varchar' if dialect == 'postgres' else 'VARCHAR'}({m.group(1)})"
        return _TYPES[self.kind][DIALECTS.index(dialect)]


@dataclass(frozen=True)
class Table:
    """A table of the rules database, in creation (parent-first) order."""

    name: str
    columns: tuple[Col, ...]
    primary_key: tuple[str, ...] = ()
    unique: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """``(constraint name, columns)``."""
    foreign_keys: tuple[tuple[str, str, str, str], ...] = ()
    """``(constraint name, column, parent table, parent column)``."""
    checks: tuple[tuple[str, str | tuple[str, str, str]], ...] = ()
    """``(constraint name, expression)``; a tuple gives the expression per dialect (:data:`DIALECTS` order)."""

    def check_sql(self, dialect: str) -> dict[str, str]:
        """``{constraint name: expression}`` in ``dialect``."""
        return {n: e if isinstance(e, str) else e[DIALECTS.index(dialect)] for n, e in self.checks}


TABLES: tuple[Table, ...] = (
    Table("country", (Col("country_id", "int"), Col("name", "varchar(40)"), Col("region", "varchar(30)"),
                      Col("continent", "varchar(20)")),
          primary_key=("country_id",)),
    Table("country_language", (Col("country_id", "int"), Col("language", "varchar(30)"), Col("percentage", "pct"),
                               Col("is_official", "bool")),
          primary_key=("country_id", "language"),
          foreign_keys=(("fk_language_country", "country_id", "country", "country_id"),),
          checks=(("ck_language_pct", "percentage > 0 AND percentage <= 100"),)),
    Table("customer", (Col("customer_id", "int"), Col("email", "varchar(60)"), Col("loyalty_no", "int"),
                       Col("username", "varchar(30)"), Col("city", "varchar(30)"), Col("country", "varchar(30)"),
                       Col("age_bucket", "small"), Col("plan", "varchar(10)"), Col("billing", "varchar(10)"),
                       Col("is_active", "bool"), Col("created_at", "ts")),
          primary_key=("customer_id",),
          unique=(("uq_customer_email", ("email",)), ("uq_customer_loyalty", ("loyalty_no",)))),
    Table("product", (Col("product_id", "int"), Col("sku", "varchar(8)"), Col("ref_code", "varchar(5)"),
                      Col("category", "varchar(10)"), Col("unit_price", "money"), Col("in_stock", "bool")),
          primary_key=("product_id",), unique=(("uq_product_sku", ("sku",)),),
          checks=(("ck_product_price", "unit_price > 0"), ("ck_product_sku", "sku LIKE 'SKU-____'"),
                  ("ck_product_ref", ("ref_code ~ '^[A-Z]{2}[0-9]{3}$'", "ref_code REGEXP '^[A-Z]{2}[0-9]{3}$'",
                                      "ref_code GLOB '[A-Z][A-Z][0-9][0-9][0-9]'")))),
    Table("promotion", (Col("promo_id", "int"), Col("product_id", "int"), Col("start_date", "date"),
                        Col("end_date", "date"), Col("pct", "small")),
          primary_key=("promo_id",),
          foreign_keys=(("fk_promotion_product", "product_id", "product", "product_id"),),
          checks=(("ck_promotion_dates", "end_date >= start_date"), ("ck_promotion_pct", "pct BETWEEN 5 AND 50"))),
    Table("invoice", (Col("invoice_id", "int"), Col("customer_id", "int"), Col("status", "varchar(10)"),
                      Col("ordered_at", "ts"), Col("shipped_at", "ts", nullable=True), Col("total", "total")),
          primary_key=("invoice_id",),
          foreign_keys=(("fk_invoice_customer", "customer_id", "customer", "customer_id"),),
          checks=(("ck_invoice_status", "status IN ('new', 'paid', 'shipped')"),)),
    Table("invoice_line", (Col("line_id", "int"), Col("invoice_id", "int"), Col("product_id", "int"),
                           Col("quantity", "small"), Col("unit_price", "money"), Col("discount", "money")),
          primary_key=("line_id",),
          foreign_keys=(("fk_line_invoice", "invoice_id", "invoice", "invoice_id"),
                        ("fk_line_product", "product_id", "product", "product_id")),
          checks=(("ck_line_qty", "quantity BETWEEN 1 AND 100"),
                  ("ck_line_discount", "discount <= unit_price * 0.5"))),
    Table("rental", (Col("rental_id", "int"), Col("customer_id", "int"), Col("product_id", "int"),
                     Col("rented_at", "ts"), Col("returned_at", "ts", nullable=True)),
          primary_key=("rental_id",),
          foreign_keys=(("fk_rental_customer", "customer_id", "customer", "customer_id"),
                        ("fk_rental_product", "product_id", "product", "product_id")),
          checks=(("ck_rental_returned", "returned_at >= rented_at"),)),
    Table("payment", (Col("payment_id", "int"), Col("customer_id", "int"), Col("rental_id", "int"),
                      Col("amount", "money"), Col("paid_on", "date")),
          primary_key=("payment_id",),
          foreign_keys=(("fk_payment_customer", "customer_id", "customer", "customer_id"),
                        ("fk_payment_rental", "rental_id", "rental", "rental_id")),
          checks=(("ck_payment_amount", "amount > 0"),)),
    Table("wishlist", (Col("customer_id", "int"), Col("product_id", "int"), Col("added_on", "date")),
          foreign_keys=(("fk_wishlist_customer", "customer_id", "customer", "customer_id"),
                        ("fk_wishlist_product", "product_id", "product", "product_id"))),
)
TABLE = {t.name: t for t in TABLES}


def ddl(dialect: str) -> str:
    """CREATE TABLE statements of every table in ``dialect`` (parents first), named constraints throughout."""
    q = (lambda n: f"`{n}`") if dialect == "mariadb" else (lambda n: f'"{n}"')
    out = []
    for t in TABLES:
        lines = [f"    {q(c.name)} {c.sql_type(dialect)}{'' if c.nullable else ' NOT NULL'}" for c in t.columns]
        if t.primary_key:
            lines.append(f"    CONSTRAINT pk_{t.name} PRIMARY KEY ({', '.join(map(q, t.primary_key))})")
        lines += [f"    CONSTRAINT {n} UNIQUE ({', '.join(map(q, cols))})" for n, cols in t.unique]
        lines += [f"    CONSTRAINT {n} FOREIGN KEY ({q(c)}) REFERENCES {q(p)} ({q(k)})"
                  for n, c, p, k in t.foreign_keys]
        lines += [f"    CONSTRAINT {n} CHECK ({e})" for n, e in t.check_sql(dialect).items()]
        tail = " ENGINE=InnoDB" if dialect == "mariadb" else ""
        out.append(f"CREATE TABLE {q(t.name)} (\n" + ",\n".join(lines) + f"\n){tail};")
    return "\n\n".join(out) + "\n"


# ---- the rows ------------------------------------------------------------------------------------------------
_REGIONS = {  # region -> (continent, countries)
    "Northern Europe": ("Europe", ["Denmark", "Estonia", "Finland", "Iceland", "Norway", "Sweden"]),
    "Southern Europe": ("Europe", ["Croatia", "Greece", "Italy", "Malta", "Portugal", "Spain"]),
    "Eastern Asia": ("Asia", ["China", "Japan", "Mongolia", "North Korea", "South Korea", "Taiwan"]),
    "Southern Asia": ("Asia", ["Bangladesh", "Bhutan", "India", "Nepal", "Pakistan", "Sri Lanka"]),
    "Northern Africa": ("Africa", ["Algeria", "Egypt", "Libya", "Morocco", "Sudan", "Tunisia"]),
    "Western Africa": ("Africa", ["Ghana", "Mali", "Niger", "Nigeria", "Senegal", "Togo"]),
    "South America": ("Americas", ["Argentina", "Bolivia", "Brazil", "Chile", "Peru", "Uruguay"]),
    "Caribbean": ("Americas", ["Bahamas", "Barbados", "Cuba", "Haiti", "Jamaica", "Trinidad and Tobago"]),
}
_CITIES = {  # country -> cities
    "Denmark": ["Copenhagen", "Aarhus"], "Norway": ["Oslo", "Bergen"], "Sweden": ["Stockholm", "Malmo", "Gothenburg"],
    "Italy": ["Rome", "Milan", "Naples", "Turin"], "Spain": ["Madrid", "Barcelona", "Seville", "Valencia"],
    "Portugal": ["Lisbon", "Porto"], "Japan": ["Tokyo", "Osaka", "Kyoto"],
    "India": ["Mumbai", "Delhi", "Chennai", "Kolkata"], "Egypt": ["Cairo", "Alexandria"],
    "Nigeria": ["Lagos", "Abuja", "Kano"], "Brazil": ["Sao Paulo", "Rio de Janeiro", "Brasilia", "Salvador"],
    "Argentina": ["Buenos Aires", "Cordoba", "Rosario"], "Peru": ["Lima", "Cusco"], "Chile": ["Santiago", "Valparaiso"],
}
_LANGUAGES = ["English", "French", "Spanish", "Arabic", "Hindi", "Bengali", "Mandarin", "Japanese", "Korean",
              "Portuguese", "Swahili", "Hausa", "Yoruba", "Quechua", "Aymara", "Greek", "Italian", "Nepali", "Urdu",
              "Tamil"]
#: The (plan, billing) combinations customers take: 4 of 9, and neither column determines the other.
PLAN_BILLING = (("free", "none"), ("basic", "monthly"), ("basic", "yearly"), ("pro", "yearly"))
INVOICE_STATUS = ("new", "paid", "shipped")
#: Product prices (cents): few, so that sums of prices times quantities stay exact decimals.
_PRICES = np.array([499, 750, 999, 1200, 1499, 1999, 2450, 2999, 3999, 4999, 7400, 9999])
_B36 = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


def _hours(rng: np.random.Generator, start: str, span_hours: int, n: int) -> np.ndarray:
    """``n`` timestamps on whole hours from ``start`` (hours, so that a few hundred rows share some values)."""
    return np.datetime64(start, "s") + rng.integers(0, span_hours, n) * np.timedelta64(3600, "s")


def generate(seed: int = SEED) -> Frames:
    """Every table's rows (parents first), the same for the same seed.

    Dates and timestamps are ``datetime64`` columns, decimals floats with their scale's digits, booleans bool,
    NULLs ``NaN``/``NaT``.
    """
    rng = np.random.default_rng(seed)
    frames: Frames = {}

    # country: region -> continent, unique names
    names = [c for _, cs in _REGIONS.values() for c in cs]
    region = [r for r, (_, cs) in _REGIONS.items() for _ in cs]
    order = rng.permutation(len(names))
    country = pd.DataFrame({"name": np.array(names)[order], "region": np.array(region)[order]})
    country.insert(0, "country_id", np.arange(1, len(country) + 1))
    country["continent"] = country["region"].map({r: c for r, (c, _) in _REGIONS.items()})
    frames["country"] = country

    # country_language: per country 1..4 languages whose percentages (tenths) add up to exactly 100.0
    n_lang = rng.choice([1, 2, 3, 4], size=len(country), p=[0.25, 0.35, 0.25, 0.15])
    rows = []
    for cid, k in zip(country["country_id"], n_lang):  # one step per country (48), not per row
        langs = rng.choice(len(_LANGUAGES), k, replace=False)
        cuts = np.sort(rng.choice(np.arange(1, 1000), k - 1, replace=False))
        tenths = np.sort(np.diff(np.concatenate([[0], cuts, [1000]])))[::-1]  # the largest share first
        rows += [(int(cid), _LANGUAGES[li], t / 10, i == 0) for i, (li, t) in enumerate(zip(langs, tenths))]
    frames["country_language"] = pd.DataFrame(rows, columns=["country_id", "language", "percentage", "is_official"])

    # customer: declared UNIQUE email and loyalty_no, undeclared unique username, city -> country, a 7-value
    # bucket, 4 of the 9 (plan, billing) combinations
    n = 1200
    city_country = [(city, c) for c, cities in _CITIES.items() for city in cities]
    city_idx = rng.integers(0, len(city_country), n)
    combo = rng.choice(len(PLAN_BILLING), n, p=[0.4, 0.25, 0.2, 0.15])
    frames["customer"] = pd.DataFrame({
        "customer_id": np.arange(1, n + 1),
        "email": [f"c{v:06d}@mail.example" for v in rng.choice(1_000_000, n, replace=False)],
        "loyalty_no": rng.choice(900_000, n, replace=False) + 100_000,
        "username": [f"user_{v:05d}" for v in rng.choice(100_000, n, replace=False)],
        "city": [city_country[i][0] for i in city_idx],
        "country": [city_country[i][1] for i in city_idx],
        "age_bucket": rng.choice(np.arange(1, 8), n, p=[0.08, 0.18, 0.22, 0.2, 0.15, 0.1, 0.07]),
        "plan": [PLAN_BILLING[i][0] for i in combo],
        "billing": [PLAN_BILLING[i][1] for i in combo],
        "is_active": rng.random(n) < 0.85,
        "created_at": _hours(rng, "2019-01-01", 4 * 8760, n),
    })
    n_customer = n

    # product: SKU-xxxx codes (unique), ref codes AB123 (16 codes, 5 products each), few prices
    n = 80
    skus = rng.choice(36**4, n, replace=False)
    digits = np.stack([(skus // 36**p) % 36 for p in (3, 2, 1, 0)], axis=1)
    refs = rng.choice(26 * 26 * 1000, 16, replace=False)
    ref_codes = [f"{chr(65 + r // 26000)}{chr(65 + (r // 1000) % 26)}{r % 1000:03d}" for r in refs]
    frames["product"] = pd.DataFrame({
        "product_id": np.arange(1, n + 1),
        "sku": ["SKU-" + "".join(d) for d in _B36[digits]],
        "ref_code": np.array(ref_codes)[rng.permutation(np.repeat(np.arange(16), 5))],
        "category": rng.choice(["book", "music", "video", "game"], n),
        "unit_price": rng.choice(_PRICES, n) / 100,
        "in_stock": rng.random(n) < 0.7,
    })
    n_product = n

    # promotion: end_date >= start_date (a day's promotion ends the day it starts)
    n = 150
    start = np.datetime64("2020-01-01") + rng.integers(0, 1000, n).astype("timedelta64[D]")
    frames["promotion"] = pd.DataFrame({
        "promo_id": np.arange(1, n + 1),
        "product_id": rng.integers(1, n_product + 1, n),
        "start_date": start,
        "end_date": start + rng.integers(0, 61, n).astype("timedelta64[D]"),
        "pct": rng.integers(5, 51, n),
    })

    # invoice and its lines: shipped_at >= ordered_at (no CHECK), total = sum(unit_price * quantity), the line's
    # unit_price copied from its product, discount at most half the price
    n = 400
    ordered = _hours(rng, "2021-01-01", 2 * 8760, n)
    shipped = (ordered + rng.integers(0, 241, n) * np.timedelta64(3600, "s")).astype("datetime64[ns]")
    shipped[rng.random(n) < 0.15] = np.datetime64("NaT")
    lines_per = rng.integers(1, 6, n)
    m = int(lines_per.sum())
    product_id = rng.integers(1, n_product + 1, m)
    price_cents = np.rint(frames["product"]["unit_price"].to_numpy()[product_id - 1] * 100).astype(np.int64)
    quantity = np.minimum(rng.geometric(0.3, m), 100)
    discount_cents = np.where(rng.random(m) < 0.6, 0, price_cents * rng.integers(0, 51, m) // 100)
    line = pd.DataFrame({
        "line_id": np.arange(1, m + 1),
        "invoice_id": np.repeat(np.arange(1, n + 1), lines_per),
        "product_id": product_id,
        "quantity": quantity,
        "unit_price": price_cents / 100,
        "discount": discount_cents / 100,
    })
    total_cents = pd.Series(price_cents * quantity).groupby(line["invoice_id"].to_numpy()).sum()
    frames["invoice"] = pd.DataFrame({
        "invoice_id": np.arange(1, n + 1),
        "customer_id": rng.integers(1, n_customer + 1, n),
        "status": rng.choice(INVOICE_STATUS, n, p=[0.2, 0.3, 0.5]),
        "ordered_at": ordered,
        "shipped_at": shipped,
        "total": total_cents.reindex(np.arange(1, n + 1), fill_value=0).to_numpy() / 100,
    })
    frames["invoice_line"] = line

    # rental (nullable returned_at >= rented_at) and payment (its customer is the rental's)
    n = 500
    rented = _hours(rng, "2021-01-01", 2 * 8760, n)
    returned = (rented + rng.integers(0, 337, n) * np.timedelta64(3600, "s")).astype("datetime64[ns]")
    returned[rng.random(n) < 0.2] = np.datetime64("NaT")
    rental = pd.DataFrame({
        "rental_id": np.arange(1, n + 1),
        "customer_id": rng.integers(1, n_customer + 1, n),
        "product_id": rng.integers(1, n_product + 1, n),
        "rented_at": rented,
        "returned_at": returned,
    })
    frames["rental"] = rental
    pays = rng.choice([0, 1, 2], n, p=[0.1, 0.75, 0.15])
    of = np.repeat(np.arange(n), pays)
    m = len(of)
    frames["payment"] = pd.DataFrame({
        "payment_id": np.arange(1, m + 1),
        "customer_id": rental["customer_id"].to_numpy()[of],
        "rental_id": rental["rental_id"].to_numpy()[of],
        "amount": rng.integers(99, 2000, m) / 100,
        "paid_on": rented[of].astype("datetime64[D]") + rng.integers(0, 31, m).astype("timedelta64[D]"),
    })

    # wishlist: a key-less bridge, no pair twice
    n = 400
    pair = rng.choice(n_customer * n_product, n, replace=False)
    frames["wishlist"] = pd.DataFrame({
        "customer_id": pair // n_product + 1,
        "product_id": pair % n_product + 1,
        "added_on": np.datetime64("2020-01-01") + rng.integers(0, 1461, n).astype("timedelta64[D]"),
    })

    return normalize({t.name: frames[t.name] for t in TABLES})


def normalize(frames: Mapping[str, pd.DataFrame]) -> Frames:
    """The tables in the types :func:`generate` gives, whatever read them (PostgreSQL ``Decimal`` and ``date``,
    MariaDB ``0/1`` booleans, SQLite text dates): what :data:`RULES` and comparisons work on. Columns missing
    from a frame are left out; tables not in the schema are dropped."""
    out: Frames = {}
    for name, frame in frames.items():
        if name not in TABLE:
            continue
        df = pd.DataFrame(index=frame.index)
        for c in TABLE[name].columns:
            if c.name not in frame.columns:
                continue
            s = frame[c.name]
            if c.kind in ("date", "ts"):
                s = pd.to_datetime(s, format="mixed") if s.dtype == object else pd.to_datetime(s)
                s = s.astype("datetime64[ns]")
                if c.kind == "date":
                    s = s.dt.normalize()
            elif c.kind in _SCALE:
                s = pd.to_numeric(s.astype(object).where(s.notna(), None), errors="coerce").astype(float)
            elif c.kind in ("int", "small"):
                s = pd.to_numeric(s.astype(object).where(s.notna(), None), errors="coerce")
                s = s.astype("Int64") if s.isna().any() else s.astype(np.int64)
            elif c.kind == "bool":
                s = s.astype(object).where(s.isna(), s.astype(bool))
                s = s.astype(bool) if not s.isna().any() else s
            else:
                s = s.astype(object).where(s.notna(), None)
            df[c.name] = s
        out[name] = df.reset_index(drop=True)
    return out


# ---- the SQL scripts -----------------------------------------------------------------------------------------
def _literals(frame: pd.DataFrame, table: Table, dialect: str) -> list[list[str]]:
    """Each column's values as SQL literals of ``dialect`` (vectorised per column)."""
    cols = []
    for c in table.columns:
        s = frame[c.name]
        null = s.isna().to_numpy()
        if c.kind == "date":
            v = s.dt.strftime("'%Y-%m-%d'")
        elif c.kind == "ts":
            v = s.dt.strftime("'%Y-%m-%d %H:%M:%S'")
        elif c.kind in _SCALE:
            v = s.map(lambda x, d=_SCALE[c.kind]: f"{x:.{d}f}")
        elif c.kind == "bool":
            v = s.map({True: "1", False: "0"} if dialect == "sqlite" else {True: "TRUE", False: "FALSE"})
        elif c.kind in ("int", "small"):
            v = s.astype(str)
        else:
            v = "'" + s.astype(str).str.replace("'", "''") + "'"
        cols.append(np.where(null, "NULL", v.astype(str).to_numpy()).tolist())
    return [list(r) for r in zip(*cols)]


def script(dialect: str, frames: Mapping[str, pd.DataFrame] | None = None, rows_per_insert: int = 300) -> str:
    """The whole database in ``dialect``: the DDL, then every table's rows (parents first) in one transaction.

    Args:
        dialect: ``postgres``, ``mariadb`` or ``sqlite``.
        frames: the rows (default: :func:`generate`).
        rows_per_insert: rows per INSERT statement.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r} (one of {', '.join(DIALECTS)})")
    frames = generate() if frames is None else frames
    q = (lambda n: f"`{n}`") if dialect == "mariadb" else (lambda n: f'"{n}"')
    parts = [f"-- the rules database (tests/data/rules/build.py, seed {SEED}): {dialect}"]
    if dialect == "sqlite":
        parts.append("PRAGMA foreign_keys = ON;")
    parts += [ddl(dialect), "BEGIN;" if dialect != "mariadb" else "START TRANSACTION;"]
    for t in TABLES:
        rows = _literals(frames[t.name], t, dialect)
        head = f"INSERT INTO {q(t.name)} ({', '.join(q(c.name) for c in t.columns)}) VALUES\n"
        for i in range(0, len(rows), rows_per_insert):
            parts.append(head + ",\n".join(f"({', '.join(r)})" for r in rows[i:i + rows_per_insert]) + ";")
    parts.append("COMMIT;")
    return "\n".join(parts) + "\n"


def load_sqlite(path: str | Path) -> None:
    """Build the SQLite rules database in ``path`` (a file there is replaced), then check its foreign keys so
    that a broken script fails here rather than in a test."""
    target = Path(path)
    target.unlink(missing_ok=True)
    conn = sqlite3.connect(target, isolation_level=None)
    try:
        conn.executescript(script("sqlite"))
        bad = conn.execute("PRAGMA foreign_key_check").fetchall()
        if bad:
            raise SystemExit(f"rules sqlite: {len(bad)} rows break a foreign key, first: {bad[0]}")
    finally:
        conn.close()


# ---- the rules, counted in pandas ----------------------------------------------------------------------------
@dataclass(frozen=True)
class DataRule:
    """One rule of the database and how to count the rows (parents, for per-parent rules) that break it."""

    name: str
    """Short id (the kind first: ``check:``, ``unique:``, ``order:`` ...)."""
    tables: tuple[str, ...]
    """The tables it reads."""
    broken: Callable[[Frames], int]
    """Rows breaking the rule in a set of :func:`normalize`\\ d frames."""
    declared: bool = False
    """A CHECK or UNIQUE constraint of the schema (else only the data holds it)."""


def _dup(df: pd.DataFrame, cols: list[str]) -> int:
    return int(df.dropna(subset=cols).duplicated(cols, keep=False).sum())


def _later(df: pd.DataFrame, low: str, high: str) -> int:
    """Rows where both are set and ``high < low``."""
    return int((df[high] < df[low]).sum())  # NaT/NaN compare False: NULL rows keep the rule


def _fd_broken(df: pd.DataFrame, det: str, dep: str, pairs: Mapping[str, str]) -> int:
    """Rows whose ``dep`` is not the source's value for their ``det`` (a new ``det`` value: its rows must agree)."""
    known = df[det].map(pairs)
    wrong = known.notna() & (df[dep] != known)
    new = df[known.isna() & df[det].notna()]
    mixed = new.groupby(det)[dep].transform("nunique") > 1
    return int(wrong.sum() + mixed.sum())


def _sum_per(child: pd.DataFrame, by: str, value: pd.Series) -> pd.Series:
    return value.groupby(child[by]).sum()


_CITY_COUNTRY = {city: c for c, cities in _CITIES.items() for city in cities}
_REGION_CONTINENT = {r: c for r, (c, _) in _REGIONS.items()}
_REF = re.compile(r"^[A-Z]{2}[0-9]{3}$")
_SKU = re.compile(r"^SKU-.{4}$", re.S)


def _aggregate_broken(f: Frames) -> int:
    line = f["invoice_line"]
    sums = _sum_per(line, "invoice_id", line["unit_price"] * line["quantity"])
    expected = f["invoice"]["invoice_id"].map(sums).fillna(0.0)
    return int((~np.isclose(f["invoice"]["total"].astype(float), expected, rtol=0, atol=0.005)).sum())


def _copied_broken(f: Frames) -> int:
    price = f["invoice_line"]["product_id"].map(f["product"].set_index("product_id")["unit_price"])
    return int((~np.isclose(f["invoice_line"]["unit_price"], price, rtol=0, atol=0.005) & price.notna()).sum())


def _same_ancestor_broken(f: Frames) -> int:
    via = f["payment"]["rental_id"].map(f["rental"].set_index("rental_id")["customer_id"])
    return int((via.notna() & (f["payment"]["customer_id"] != via)).sum())


def _shares_broken(f: Frames) -> int:
    cl = f["country_language"]
    sums = cl.groupby("country_id")["percentage"].sum()
    return int((~np.isclose(sums, 100.0, rtol=0, atol=0.05)).sum())


def _fk_broken(f: Frames) -> int:
    bad = 0
    for t in TABLES:
        for _, col, parent, key in t.foreign_keys:
            values = f[t.name][col].dropna()
            bad += int((~values.isin(f[parent][key])).sum())
    return bad


RULES: tuple[DataRule, ...] = (
    # declared CHECKs (checked here as well: a target may have lost one and still hold the rows)
    DataRule("check:promotion:ck_promotion_dates", ("promotion",),
             lambda f: _later(f["promotion"], "start_date", "end_date"), True),
    DataRule("check:promotion:ck_promotion_pct", ("promotion",),
             lambda f: int((~f["promotion"]["pct"].between(5, 50)).sum()), True),
    DataRule("check:rental:ck_rental_returned", ("rental",),
             lambda f: _later(f["rental"], "rented_at", "returned_at"), True),
    DataRule("check:invoice:ck_invoice_status", ("invoice",),
             lambda f: int((~f["invoice"]["status"].isin(INVOICE_STATUS)).sum()), True),
    DataRule("check:invoice_line:ck_line_qty", ("invoice_line",),
             lambda f: int((~f["invoice_line"]["quantity"].between(1, 100)).sum()), True),
    DataRule("check:invoice_line:ck_line_discount", ("invoice_line",),
             lambda f: int((f["invoice_line"]["discount"] > f["invoice_line"]["unit_price"] * 0.5 + 1e-9).sum()),
             True),
    DataRule("check:product:ck_product_price", ("product",), lambda f: int((f["product"]["unit_price"] <= 0).sum()),
             True),
    DataRule("check:product:ck_product_sku", ("product",),
             lambda f: int((~f["product"]["sku"].astype(str).str.match(_SKU)).sum()), True),
    DataRule("check:product:ck_product_ref", ("product",),
             lambda f: int((~f["product"]["ref_code"].astype(str).str.match(_REF)).sum()), True),
    DataRule("check:payment:ck_payment_amount", ("payment",), lambda f: int((f["payment"]["amount"] <= 0).sum()),
             True),
    DataRule("check:country_language:ck_language_pct", ("country_language",),
             lambda f: int((~f["country_language"]["percentage"].between(0, 100, inclusive="right")).sum()), True),
    # declared UNIQUE constraints, larger than one sampled batch (customer) and with a pattern (product)
    DataRule("unique:customer:email", ("customer",), lambda f: _dup(f["customer"], ["email"]), True),
    DataRule("unique:customer:loyalty_no", ("customer",), lambda f: _dup(f["customer"], ["loyalty_no"]), True),
    DataRule("unique:product:sku", ("product",), lambda f: _dup(f["product"], ["sku"]), True),
    # every foreign key resolves
    DataRule("fk:*", tuple(t.name for t in TABLES), _fk_broken, True),
    # rules only the data keeps (what discovery must find)
    DataRule("order:invoice:ordered_at,shipped_at", ("invoice",),
             lambda f: _later(f["invoice"], "ordered_at", "shipped_at")),
    DataRule("unique:customer:username", ("customer",), lambda f: _dup(f["customer"], ["username"])),
    DataRule("unique:country:name", ("country",), lambda f: _dup(f["country"], ["name"])),
    DataRule("domain:customer:age_bucket", ("customer",),
             lambda f: int((~f["customer"]["age_bucket"].isin(range(1, 8)) & f["customer"]["age_bucket"].notna())
                           .sum())),
    DataRule("dependency:customer:city,country", ("customer",),
             lambda f: _fd_broken(f["customer"], "city", "country", _CITY_COUNTRY)),
    DataRule("dependency:country:region,continent", ("country",),
             lambda f: _fd_broken(f["country"], "region", "continent", _REGION_CONTINENT)),
    DataRule("combination:customer:plan,billing", ("customer",),
             lambda f: int((~pd.Series(list(zip(f["customer"]["plan"], f["customer"]["billing"])))
                            .isin(PLAN_BILLING)).sum())),
    DataRule("unique:wishlist:customer_id,product_id", ("wishlist",),
             lambda f: _dup(f["wishlist"], ["customer_id", "product_id"])),
    DataRule("same_ancestor:payment:customer_id,rental_id", ("payment", "rental"), _same_ancestor_broken),
    DataRule("parent_sum:country_language:country_id,percentage", ("country_language",), _shares_broken),
    DataRule("aggregate:invoice:total=sum(invoice_line.unit_price*quantity)", ("invoice", "invoice_line"),
             _aggregate_broken),
    DataRule("copied:invoice_line:unit_price", ("invoice_line", "product"), _copied_broken),
)


def broken_rules(frames: Mapping[str, pd.DataFrame]) -> dict[str, int]:
    """``{rule name: rows breaking it}`` for every rule of :data:`RULES` that some row breaks (empty: all kept).

    ``frames`` are normalised first (:func:`normalize`), so frames read back from any dialect can be given.
    """
    f = normalize(frames)
    return {r.name: n for r in RULES if (n := r.broken(f))}


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or sys.argv[1] not in DIALECTS or (len(sys.argv) == 3 and sys.argv[1] != "sqlite"):
        raise SystemExit("usage: build.py postgres|mariadb|sqlite  (the script on stdout)  |  build.py sqlite FILE")
    if len(sys.argv) == 3:
        load_sqlite(sys.argv[2])
    else:
        sys.stdout.write(script(sys.argv[1]))
