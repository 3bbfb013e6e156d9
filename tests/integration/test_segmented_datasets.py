"""HSASynthesizer and IndependentSynthesizer on real schemas: unique keys and whole references (100% FK
integrity), every table sampled, shapes of the references kept (the checks HMA passes)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dbsynth.read import read_tables
from dbsynth.reflect import reflect
from dbsynth.synthesizers import HSASynthesizer, IndependentSynthesizer

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is not a package: share the checks by path
from test_hma_datasets import check_sample

BOTH = [HSASynthesizer, IndependentSynthesizer]


def _fit_sample(cls, url: str, seed: int = 0):
    md = reflect(url)
    real = read_tables(url, md)
    return md, real, cls(md, seed=seed, verbose=False).fit(real).sample()


@pytest.mark.parametrize("cls", BOTH)
def test_chinook_sqlite(cls, chinook_sqlite):
    md, real, synth = _fit_sample(cls, chinook_sqlite)
    check_sample(md, real, synth)
    for t in md.tables:  # table sizes follow the source at scale 1 (bridge-table duplicates aside)
        assert len(synth[t]) >= 0.8 * len(real[t]), t


@pytest.mark.parametrize("cls", BOTH)
def test_pagila_postgres(cls, pg_dataset):
    md, real, synth = _fit_sample(cls, pg_dataset("pagila"), seed=2)
    check_sample(md, real, synth)
    # the cycle store <-> staff and every deferred key hold valid references too
    assert synth["store"]["manager_staff_id"].isin(synth["staff"]["staff_id"]).all()
