"""Small scales and UNIQUE across batches on real PostgreSQL and MariaDB (issue 14, items 8 and 10).

Pagila at scale 0.05 left 211 references pointing at no row (HMA) or never returned (HSA, Independent); a
UNIQUE text column of coded values failed the load with a duplicate key "in batch 2". Here every synthesizer
samples pagila at small scales into a valid database, and the batches of a unique-heavy table load into
PostgreSQL, whose constraints are the judge.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

import dbsynth
from dbsynth.read import read_tables
from dbsynth.reflect import reflect
from dbsynth.synthesizers import HMASynthesizer, HSASynthesizer, IndependentSynthesizer

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))  # tests/ is not a package: share helpers by path
from random_schema import database_problems
from test_unique_batches import users_data

pytestmark = pytest.mark.db

SYNTHESIZERS = [HMASynthesizer, HSASynthesizer, IndependentSynthesizer]


@pytest.fixture(scope="module")
def pagila(pg_dataset):
    url = pg_dataset("pagila")
    md = reflect(url)
    return md, read_tables(url, md)


@pytest.mark.parametrize("cls", SYNTHESIZERS, ids=lambda c: c.__name__)
def test_pagila_small_scales_give_valid_databases(pagila, cls):
    md, real = pagila
    syn = cls(md, seed=0, verbose=False).fit(real)
    for scale in (0.01, 0.05, 0.1):
        out = syn.sample(scale=scale)
        assert database_problems(md, real, out) == [], (cls.__name__, scale)
        assert len(out["rental"]) > 0  # a useful database, not an empty one
    assert database_problems(md, real, syn.sample(num_rows=1)) == []


@pytest.mark.parametrize("cls", SYNTHESIZERS, ids=lambda c: c.__name__)
def test_pagila_small_scale_loads_into_postgres(pagila, cls, pg_database):
    md, real = pagila
    syn = cls(md, seed=1, verbose=False).fit(real)
    summary = dbsynth.write(syn.iter_sample(scale=0.05, batch_rows=500), pg_database(), md)
    assert summary is not None


@pytest.mark.parametrize("cls", SYNTHESIZERS, ids=lambda c: c.__name__)
def test_unique_columns_load_in_many_batches(cls, pg_database):
    """Every UNIQUE of the table (text codes, modelled numbers, dates, categories, PII, composite) loaded
    through many batches: PostgreSQL raises on the first duplicate."""
    md, data = users_data(4000, seed=3)
    syn = cls(md, seed=3, verbose=False).fit(data)
    url = pg_database()
    dbsynth.write(syn.iter_sample(scale=1.0, batch_rows=600), url, md)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            n = conn.execute(sa.text("SELECT count(*), count(DISTINCT code) FROM users")).one()
    finally:
        engine.dispose()
    assert n[0] == n[1] > 3000


def test_unique_columns_load_into_mariadb_in_many_batches(mariadb_database):
    """MariaDB compares strings without case and trailing blanks: values unique in Python must be unique there."""
    md, data = users_data(3000, seed=4)
    syn = HMASynthesizer(md, seed=4, verbose=False).fit(data)
    url = mariadb_database()
    dbsynth.write(syn.iter_sample(scale=1.0, batch_rows=450), url, md)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            n = conn.execute(sa.text("SELECT count(*), count(DISTINCT code), count(DISTINCT tier) FROM users")).one()
    finally:
        engine.dispose()
    assert n[0] == n[1] == n[2] > 2000
