"""evaluate() on PostgreSQL pagila (enums, tz timestamps, arrays, tsvector): a database against itself."""

from __future__ import annotations

import pytest

from dbsynth.report import evaluate


def test_pagila_against_itself_scores_one(pg_dataset):
    url = pg_dataset("pagila")
    report = evaluate(url, url)
    props = report.properties
    assert report.overall == pytest.approx(1.0)
    assert props["validity"] == pytest.approx(1.0)
    assert props["privacy"] == pytest.approx(0.0)  # the same rows: every one is a copy
    assert {"film", "rental", "payment"} <= set(report.tables)
