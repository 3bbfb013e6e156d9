"""`dbsynth inspect` against real servers."""

from __future__ import annotations

import pytest

import dbsynth.cli as cli
from dbsynth.metadata import Metadata

pytestmark = pytest.mark.db


def test_inspect_pagila_summary_json_and_diagram(pg_dataset, tmp_path, capsys):
    diagram, meta = tmp_path / "pagila.dot", tmp_path / "pagila.json"
    assert cli.run_cli(["inspect", pg_dataset("pagila"), "--diagram", str(diagram), "--json", str(meta)]) == 0
    out = capsys.readouterr().out
    assert "Cycles: " in out and "Write order: " in out
    assert "rental" in out and "FK (customer_id) -> customer(customer_id)" in out
    assert diagram.read_text().startswith("digraph")
    assert "rental" in Metadata.load(meta).tables


def test_inspect_mariadb_with_include(mariadb_dataset, capsys):
    assert cli.run_cli(["inspect", mariadb_dataset("chinook"), "--include", "Album", "--include", "Artist"]) == 0
    out = capsys.readouterr().out
    assert "2 tables" in out and "FK (ArtistId) -> Artist(ArtistId)" in out
