"""CHECK constraints of the real schema, evaluated by the synthetic PostgreSQL database (read-only)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dbsynth.report import evaluate

REAL = """
CREATE FUNCTION is_even(x int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT x % 2 = 0';
CREATE TABLE item (
    id int PRIMARY KEY,
    qty int NOT NULL CONSTRAINT qty_positive CHECK (qty % 1 = 0 AND qty > 0),
    price numeric(8, 2) CONSTRAINT price_range CHECK (price >= 0 AND price < 1000),
    sold date CONSTRAINT sold_recent CHECK (sold >= '2000-01-01'::date),
    even int CONSTRAINT even_only CHECK (is_even(even))
);
INSERT INTO item VALUES (1, 1, 10, '2020-01-01', 2), (2, 5, 999.99, '2001-05-05', 4), (3, 2, NULL, NULL, NULL);
"""

# The synthetic side has the columns but not the constraints (nor the function one of them calls).
SYNTHETIC = """
CREATE TABLE item (id int PRIMARY KEY, qty int NOT NULL, price numeric(8, 2), sold date, even int);
INSERT INTO item VALUES
    (1, 0, 10, '2020-01-01', 1), (2, -3, 2000, '1999-12-31', 2), (3, 4, NULL, '1990-01-01', 3),
    (4, 7, 5, NULL, NULL), (5, 1, -1, '2021-01-01', 8);
"""


def _run(url: str, script: str) -> None:
    eng = sa.create_engine(url)
    try:
        with eng.begin() as conn:
            conn.exec_driver_sql(script.replace("%", "%%"))  # psycopg reads '%' as a placeholder
    finally:
        eng.dispose()


def test_check_constraints_counted_by_the_target(pg_database):
    real, synthetic = pg_database(), pg_database()
    _run(real, REAL)
    _run(synthetic, SYNTHETIC)
    report = evaluate(real, synthetic)
    checks = {c.target: c for c in report.validity if c.kind == "check"}
    assert set(checks) == {"qty_positive", "price_range", "sold_recent", "even_only"}
    assert (checks["qty_positive"].rows, checks["qty_positive"].violations) == (5, 2)
    assert checks["price_range"].violations == 2  # 2000 and -1; NULL satisfies a CHECK
    assert checks["sold_recent"].violations == 2  # the '...'::date cast is not taken for a bind parameter
    # is_even() does not exist in the synthetic database: reported as unchecked, not a crash nor a failure.
    assert checks["even_only"].unchecked is not None and "UndefinedFunction" in checks["even_only"].unchecked
    assert checks["even_only"].violations == 0
    assert all(c.unchecked is None for n, c in checks.items() if n != "even_only")
    # The validity score leaves the unchecked constraint out and counts the broken ones.
    checked = [c.score for c in report.validity if c.unchecked is None]
    assert report.properties["validity"] == pytest.approx(sum(checked) / len(checked))
    assert report.properties["validity"] < 1.0
    # Nothing was written into the synthetic database.
    eng = sa.create_engine(synthetic)
    try:
        with eng.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM item").scalar() == 5
    finally:
        eng.dispose()


def test_check_of_a_table_named_schema_dot_table(pg_database):
    """A table read from several schemas is "schema.table" in the metadata: counted in that schema, by its name."""
    from dbsynth.metadata.records import CheckConstraint, Column, Metadata, Table
    from dbsynth.report.checks import check_constraints

    synthetic = pg_database()
    # The same name in public with other rows: counting the wrong table would give other figures.
    _run(synthetic, "CREATE SCHEMA s; CREATE TABLE s.t (n int); INSERT INTO s.t VALUES (1), (-1), (-2);"
                    "CREATE TABLE public.t (n int); INSERT INTO public.t VALUES (5);")
    table = Table("s.t", [Column("n", type="integer", sdtype="numerical")], schema="s",
                  check_constraints=[CheckConstraint("n > 0", name="n_positive")])
    [check] = check_constraints(synthetic, Metadata({"s.t": table}))
    assert (check.table, check.rows, check.violations, check.unchecked) == ("s.t", 3, 2, None)
