"""Reflection of real PostgreSQL, MariaDB and SQLite databases (pagila, Chinook)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from dbsynth.errors import ConnectError, ReflectionError
from dbsynth.metadata import sdtypes as st
from dbsynth.reflect import reflect

PAGILA_TABLES = {
    "actor", "address", "category", "city", "country", "customer", "film", "film_actor", "film_category",
    "inventory", "language", "payment", "rental", "staff", "store",
}


@pytest.fixture(scope="module")
def pagila(request):
    return reflect(request.getfixturevalue("pg_dataset")("pagila"))


def test_pagila_tables_once_with_partitioned_payment(pagila):
    assert set(pagila.tables) == PAGILA_TABLES
    payment = pagila.table("payment")
    assert payment.primary_key == ["payment_date", "payment_id"]
    refs = sorted((fk.columns[0], fk.ref_table) for fk in payment.foreign_keys)
    assert refs == [("customer_id", "customer"), ("rental_id", "rental"), ("staff_id", "staff")]
    assert payment.row_count and payment.row_count > 10_000


def test_pagila_every_catalog_foreign_key(pagila, pg_dataset):
    eng = sa.create_engine(pg_dataset("pagila"))
    with eng.connect() as conn:
        rows = conn.execute(sa.text(
            # FKs declared on partitions belong to the partitioned parent
            "SELECT COALESCE((SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE i.inhrelid = c.oid AND c.relispartition), c.relname), r.relname, a.attname FROM pg_constraint k "
            "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid "
            "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] "
            "WHERE k.contype = 'f'"
        )).all()
    eng.dispose()
    catalog = {(child, parent, col) for child, parent, col in rows}
    reflected = {(t.name, fk.ref_table, fk.columns[0]) for t, fk in pagila.relationships()}
    assert reflected == catalog


def test_pagila_composite_keys_and_special_types(pagila):
    assert pagila.table("film_actor").primary_key == ["actor_id", "film_id"]
    assert pagila.table("film_category").primary_key == ["film_id", "category_id"]
    film = pagila.table("film")
    rating = film.column("rating")
    assert rating.type == st.ENUM and rating.enum_name == "mpaa_rating"
    assert rating.enum_values == ["G", "PG", "PG-13", "R", "NC-17"]
    assert rating.sdtype == st.CATEGORICAL
    features = film.column("special_features")
    assert features.type == st.ARRAY and features.item_type == st.STRING
    fulltext = film.column("fulltext")
    assert fulltext.type == st.OTHER and fulltext.native_type.lower() == "tsvector"
    assert fulltext.sdtype == st.UNSUPPORTED
    picture = pagila.table("staff").column("picture")
    assert picture.type == st.BINARY and picture.sdtype == st.UNSUPPORTED
    # year is a domain over integer: reflected as its base type, native type keeps the domain name
    year = film.column("release_year")
    assert year.type == st.INTEGER and year.native_type == "year"
    assert film.column("film_id").autoincrement and film.column("film_id").sdtype == st.ID
    assert pagila.table("customer").column("email").sdtype == "email"


def test_reflect_include_exclude(pg_dataset):
    url = pg_dataset("pagila")
    md = reflect(url, include=["country", "city"], statistics=False)
    assert set(md.tables) == {"city", "country"}
    assert [fk.ref_table for fk in md.table("city").foreign_keys] == ["country"]
    md = reflect(url, exclude=["payment"], statistics=False)
    assert "payment" not in md.tables and len(md.tables) == 14
    with pytest.raises(ReflectionError, match=r"nope.*known tables: actor"):
        reflect(url, include=["nope", "film"])


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _shape(md):
    """Tables, keys and relationships with spellings normalised (the dumps use snake_case vs CamelCase)."""
    return {
        _norm(t.name): (
            tuple(_norm(c) for c in t.primary_key),
            sorted((tuple(_norm(c) for c in fk.columns), _norm(fk.ref_table)) for fk in t.foreign_keys),
        )
        for t in md
    }


def test_chinook_same_shape_across_dialects(pg_dataset, mariadb_dataset, chinook_sqlite):
    pg = reflect(pg_dataset("chinook"))
    assert len(pg.tables) == 11
    deferred = [d.edge for d in pg.graph().deferred]
    assert [(e.child, e.fk.columns) for e in deferred] == [("employee", ["reports_to"])]
    maria = reflect(mariadb_dataset("chinook"))
    lite = reflect(chinook_sqlite)
    assert _shape(pg) == _shape(maria) == _shape(lite)
    assert maria.dialect in ("mysql", "mariadb") and lite.dialect == "sqlite"
    assert lite.table("Track").row_count == pg.table("track").row_count == maria.table("Track").row_count


def test_empty_database_is_a_reflection_error(pg_database, sqlite_url):
    with pytest.raises(ReflectionError, match="has no tables"):
        reflect(pg_database())
    url = sqlite_url("empty")
    sa.create_engine(url).connect().close()
    with pytest.raises(ReflectionError, match="has no tables"):
        reflect(url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres:s3cret@127.0.0.1:1/x",
        "postgresql://postgres:s3cret@127.0.0.1:5432/dbsynth_no_such_db",
        "nosuchdialect://u:s3cret@h/db",
        "not a url",
        "sqlite:////nonexistent/dir/file.sqlite",
    ],
)
def test_bad_urls_are_one_line_connect_errors(url):
    with pytest.raises(ConnectError) as err:
        reflect(url)
    text = str(err.value)
    assert "\n" not in text and "s3cret" not in text
    assert err.value.__cause__ is None


def test_reflection_never_writes_sqlite(chinook_sqlite):
    path = chinook_sqlite.removeprefix("sqlite:///")
    before = Path(path).read_bytes()
    reflect(chinook_sqlite)
    assert Path(path).read_bytes() == before


def test_postgres_schemas_identity_generated_views(pg_database):
    url = pg_database()
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        conn.execute(sa.text(
            "CREATE SCHEMA sales; CREATE SCHEMA hr;"
            "CREATE TABLE hr.person (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text UNIQUE,"
            " born date, doc jsonb, token uuid, height_cm numeric(5,1),"
            " height_m numeric GENERATED ALWAYS AS (height_cm / 100) STORED);"
            "CREATE TABLE sales.sale (id bigserial PRIMARY KEY, person_id int NOT NULL REFERENCES hr.person(id),"
            " at timestamptz DEFAULT now(), amount real);"
            "CREATE VIEW sales.big_sales AS SELECT * FROM sales.sale WHERE amount > 100;"
            "INSERT INTO hr.person (email, height_cm) VALUES ('a@b.c', 180.5);"
        ))
    eng.dispose()
    md = reflect(url, schema=["hr", "sales"])
    assert set(md.tables) == {"hr.person", "sales.sale"}  # the view is not a table
    person, sale = md.table("hr.person"), md.table("sales.sale")
    assert person.schema == "hr" and person.row_count == 1
    assert person.column("id").autoincrement and sale.column("id").autoincrement
    assert sale.column("id").bits == 64 and "nextval" in sale.column("id").default
    assert person.column("height_m").computed and "height_cm" in person.column("height_m").computed
    assert person.column("doc").type == st.JSON and person.column("token").type == st.UUID
    assert person.column("height_cm").precision == 5 and person.column("height_cm").scale == 1
    assert sale.column("at").timezone and sale.column("amount").bits == 32
    assert [u.columns for u in person.unique_constraints] == [["email"]]
    [fk] = sale.foreign_keys
    assert (fk.ref_table, fk.columns, fk.ref_columns) == ("hr.person", ["person_id"], ["id"])
    one = reflect(url, schema="hr", statistics=False)
    assert list(one.tables) == ["person"] and one.table("person").row_count is None
    from dbsynth.read import read_tables

    frames = read_tables(url, md)
    assert frames["hr.person"]["height_cm"].tolist() == [180.5] and frames["sales.sale"].empty
    assert frames["sales.sale"]["at"].dtype == "datetime64[us, UTC]"
