"""Issue 17 on real databases: every rule the real rows keep in full (declared CHECKs and the rules discovered in
them) holds in every synthetic row, for HMA, HSA and Independent, on Chinook and pagila.

The rules are found on the real rows here, independently of the synthesizer's own list, and scored on its sample:
a rule the synthesizer forgot to discover fails the test as surely as one it failed to keep.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import dbsynth
from dbsynth import HMASynthesizer, HSASynthesizer, IndependentSynthesizer
from dbsynth.read import read_tables
from dbsynth.reflect import reflect
from dbsynth.rules.discover import declared, discover
from dbsynth.rules.evaluate import score

SYNTHESIZERS = [HMASynthesizer, HSASynthesizer, IndependentSynthesizer]


def _broken(md, real, synth) -> list[str]:
    rules = declared(md).plus(list(discover(md, real)))
    assert len(rules) > 10, "discovery found almost nothing: the test would prove nothing"
    out = []
    for s in score(md, rules, synth):
        if s.total and s.kept < s.total:
            out.append(f"{s.rule.name}: {s.total - s.kept} of {s.total} broken")
    return out


@pytest.fixture(scope="module")
def chinook():
    url = f"sqlite:///{Path(dbsynth.__file__).parent / 'data' / 'chinook.sqlite'}"  # read only
    md = reflect(url)
    return md, read_tables(url, md)


@pytest.mark.parametrize("cls", SYNTHESIZERS, ids=lambda c: c.__name__)
def test_chinook_keeps_every_rule(chinook, cls):
    md, real = chinook
    synth = cls(md, seed=3, verbose=False).fit(real).sample()
    assert _broken(md, real, synth) == []


@pytest.fixture(scope="module")
def pagila(pg_dataset):
    url = pg_dataset("pagila")
    md = reflect(url)
    return md, read_tables(url, md)


@pytest.mark.parametrize("cls", SYNTHESIZERS, ids=lambda c: c.__name__)
def test_pagila_keeps_every_rule(pagila, cls):
    md, real = pagila
    synth = cls(md, seed=3, verbose=False).fit(real).sample()
    assert _broken(md, real, synth) == []
