"""Reading real databases into frames that follow the frame contract."""

from __future__ import annotations

import datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from dbsynth.db import engine, read_only_connection
from dbsynth.errors import SchemaMismatchError
from dbsynth.read import iter_table_chunks, read_tables
from dbsynth.reflect import reflect


def test_pagila_frames_follow_the_contract(pg_dataset):
    url = pg_dataset("pagila")
    md = reflect(url, statistics=False)
    frames = read_tables(url, md, tables=["film", "payment", "staff", "address"])
    assert list(frames) == ["film", "payment", "staff", "address"]
    film = frames["film"]
    assert list(film.columns) == md.table("film").column_names
    assert len(film) == 1000 and film["film_id"].dtype == "int64" and film["film_id"].is_monotonic_increasing
    assert film["rental_rate"].dtype == "float64"
    assert film["last_update"].dtype == "datetime64[us, UTC]"
    assert isinstance(film["special_features"].dropna().iloc[0], list)
    assert set(film["rating"].dropna()) <= {"G", "PG", "PG-13", "R", "NC-17"}
    payment = frames["payment"]
    assert len(payment) == 16049  # every partition, read through the parent
    assert payment["amount"].dtype == "float64"
    staff = frames["staff"]
    assert staff["active"].dtype == bool
    assert staff["picture"].dropna().map(type).eq(bytes).all()
    # address2 has NULLs; an integer column with NULLs would be Int64
    assert frames["address"]["address2"].isna().any()


def test_nullable_ints_uuid_dates_json(pg_database):
    url = pg_database()
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        conn.execute(sa.text(
            "CREATE TABLE t (id int PRIMARY KEY, n int, u uuid, d date, ts timestamp, j jsonb, "
            "price numeric(8,2), ok boolean, tm time)"
        ))
        conn.execute(sa.text(
            "INSERT INTO t VALUES (1, NULL, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-02-29', "
            "'2024-01-01 10:00', '{\"a\": [1]}', 12.50, NULL, '10:30:00'), "
            "(2, 7, NULL, NULL, NULL, NULL, NULL, true, NULL)"
        ))
    eng.dispose()
    md = reflect(url)
    df = read_tables(url, md)["t"]
    assert df["n"].dtype == "Int64" and df["n"].isna().tolist() == [True, False]
    assert df["u"].iloc[0] == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11" and pd.isna(df["u"].iloc[1])
    assert df["d"].dtype == "datetime64[us]" and df["d"].iloc[0] == pd.Timestamp("2024-02-29")
    assert df["ts"].dtype == "datetime64[us]"
    assert df["j"].iloc[0] == {"a": [1]}
    assert df["price"].tolist()[0] == 12.5
    assert df["ok"].dtype == "boolean"
    assert df["tm"].iloc[0] == datetime.time(10, 30)


def test_chunks_are_bounded_and_complete(chinook_sqlite, mariadb_dataset):
    for url in (chinook_sqlite, mariadb_dataset("chinook")):
        md = reflect(url, statistics=False)
        eng = engine(url, read_only=True)
        track = md.table("Track")
        with read_only_connection(eng) as conn:
            sizes = [len(c) for c in iter_table_chunks(conn, track, 1000)]
        eng.dispose()
        assert sizes == [1000, 1000, 1000, 503]
        frames = read_tables(url, md, tables=["Track", "Invoice"])
        assert frames["Track"]["TrackId"].is_unique and len(frames["Track"]) == 3503
        assert frames["Invoice"]["InvoiceDate"].dtype == "datetime64[us]"
        assert frames["Invoice"]["Total"].dtype == "float64"
        assert frames["Track"]["Composer"].isna().any()


def test_missing_table_is_a_schema_mismatch(chinook_sqlite):
    md = reflect(chinook_sqlite, statistics=False)
    md.table("Genre").columns[1].name = "NoSuchColumn"
    with pytest.raises(SchemaMismatchError, match="table 'Genre'"):
        read_tables(chinook_sqlite, md, tables=["Genre"])


def test_mariadb_types_reflected_and_read(mariadb_database):
    url = mariadb_database()
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        conn.execute(sa.text(
            "CREATE TABLE item (id int AUTO_INCREMENT PRIMARY KEY, flag boolean, size enum('S','M','L') NOT NULL,"
            " doc json, at datetime, dur time, price decimal(6,2), n bigint)"
        ))
        conn.execute(sa.text(
            "INSERT INTO item (flag, size, doc, at, dur, price, n) VALUES"
            " (1, 'M', '{\"k\": 1}', '2024-05-01 08:00:00', '01:30:00', 9.99, NULL),"
            " (0, 'S', NULL, NULL, NULL, NULL, 5)"
        ))
    eng.dispose()
    md = reflect(url)
    item = md.table("item")
    assert item.column("id").autoincrement and item.column("flag").type == "boolean"
    assert item.column("size").type == "enum" and item.column("size").enum_values == ["S", "M", "L"]
    assert item.column("n").bits == 64
    df = read_tables(url, md)["item"]
    assert df["flag"].tolist() == [True, False] and df["size"].tolist() == ["M", "S"]
    assert df["dur"].iloc[0] == datetime.time(1, 30) and pd.isna(df["dur"].iloc[1])
    assert df["at"].dtype == "datetime64[us]" and df["price"].dtype == "float64"
    assert df["n"].dtype == "Int64"
    assert df["doc"].iloc[0] == {"k": 1}


def test_a_ten_megabyte_text_value_reads_through_copy(pg_database):
    """A row longer than the COPY parser's old 1 MB block was refused as a bad 'infinity' timestamp (issue 14)."""
    url = pg_database()
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE doc (id int PRIMARY KEY, body text, n int)")
        conn.exec_driver_sql("INSERT INTO doc VALUES (1, repeat('x', 10000000), 1), (2, 'short', 2), (3, NULL, 3)")
    eng.dispose()
    md = reflect(url, statistics=False)
    frame = read_tables(url, md)["doc"].sort_values("id")
    assert frame["body"].str.len().tolist()[:2] == [10_000_000, 5]
    assert frame["body"].isna().tolist() == [False, False, True]
    assert frame["n"].tolist() == [1, 2, 3]
