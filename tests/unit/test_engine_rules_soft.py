"""A rule found in the real rows that the sampler cannot keep never fails the run; the schema's own constraints do.

A TINYINT code unique in 200 real rows has no room for 400 distinct values at scale 2: the discovered unique rule
is left out (with a warning), while the same column declared UNIQUE fails the run with the clear error.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from dbsynth.errors import DbsynthError
from dbsynth.metadata import Column, Metadata, Table
from dbsynth.metadata.records import UniqueConstraint
from dbsynth.rules.records import RuleOrigin, RuleSet, Unique
from dbsynth.sample.engine import Engine
from dbsynth.synthesizers import HMASynthesizer


def _fit(declared: bool):
    n = 200
    codes = np.random.default_rng(0).permutation(np.arange(-100, 100))  # every value of a TINYINT but 56
    table = Table("item", [Column("id", "integer", "id", nullable=False),
                           Column("code", "integer", "numerical", nullable=False, bits=8)], primary_key=["id"],
                  unique_constraints=[UniqueConstraint(["code"], name="uq_code")] if declared else [])
    md = Metadata({"item": table})
    real = {"item": pd.DataFrame({"id": np.arange(1, n + 1), "code": codes})}
    return md, HMASynthesizer(md, seed=0, verbose=False).fit(real)


def test_a_discovered_unique_rule_that_cannot_be_kept_is_left_out(caplog):
    md, synth = _fit(declared=False)
    rule = Unique(table="item", names=("code",), origin=RuleOrigin.DISCOVERED, support=200)
    engine = Engine(synth.metadata, synth.strategy(), synth.seed, synth.progress_task, rules=RuleSet((rule,)))
    with caplog.at_level(logging.WARNING, logger="dbsynth"):
        out = engine.sample(2.0, {})
    assert len(out["item"]) == 400
    assert out["item"]["code"].between(-128, 127).all()
    assert any("unique:item:code" in r.getMessage() and "cannot be kept" in r.getMessage() for r in caplog.records)


def test_a_user_unique_rule_that_cannot_be_kept_fails_the_run():
    md, synth = _fit(declared=False)
    rule = Unique(table="item", names=("code",), origin=RuleOrigin.USER)
    engine = Engine(synth.metadata, synth.strategy(), synth.seed, synth.progress_task, rules=RuleSet((rule,)))
    with pytest.raises(DbsynthError, match="no room left"):
        engine.sample(2.0, {})


def test_a_declared_unique_constraint_that_cannot_be_kept_fails_the_run():
    md, synth = _fit(declared=True)
    with pytest.raises(DbsynthError, match="no room left"):
        Engine(synth.metadata, synth.strategy(), synth.seed, synth.progress_task).sample(2.0, {})
