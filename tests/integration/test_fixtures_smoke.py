"""The dataset fixtures load real data into real servers (and the per-test databases are usable)."""

import sqlalchemy as sa


def count(url, table):
    eng = sa.create_engine(url)
    try:
        with eng.connect() as conn:
            return conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar()
    finally:
        eng.dispose()


def test_demo_loads_into_postgres_and_mariadb(pg_dataset, mariadb_dataset):
    assert count(pg_dataset("demo"), "transactions") == 10
    assert count(mariadb_dataset("demo"), "sessions") == 10


def test_template_copy_is_private(pg_dataset, pg_database):
    url = pg_database(template=pg_dataset.name("demo"))
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        conn.execute(sa.text("DELETE FROM transactions"))
    eng.dispose()
    assert count(url, "transactions") == 0
    assert count(pg_dataset("demo"), "transactions") == 10
