"""Diagram pictures (--diagram x.png/.svg) go through Graphviz's dot, or fail with one clear line."""

import os
import stat

import pytest

from dbsynth.cli.inspect import write_diagram
from dbsynth.errors import BadInputError
from dbsynth.metadata import Column, ForeignKey, Metadata, Table


def _metadata():
    parent = Table("users", [Column("id", "integer", "id", nullable=False)], ["id"])
    child = Table(
        "orders",
        [Column("id", "integer", "id", nullable=False), Column("user_id", "integer", "id")],
        ["id"],
        [ForeignKey(["user_id"], "users", ["id"])],
    )
    return Metadata({"users": parent, "orders": child}).validate()


def test_picture_without_graphviz_is_bad_input(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(BadInputError) as info:
        write_diagram(_metadata(), tmp_path / "fks.png")
    assert "graphviz" in str(info.value).lower() and "\n" not in str(info.value)
    assert not (tmp_path / "fks.png").exists()


def test_picture_is_rendered_by_dot_from_the_graph(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    # A stand-in for Graphviz: records its arguments and copies the DOT text it is given to the -o file.
    fake.write_text('#!/bin/sh\necho "$@" > "$(dirname "$0")/args"\nshift 2\ncat > "$1"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bin_dir) + os.pathsep + os.environ["PATH"])
    out = write_diagram(_metadata(), tmp_path / "fks.svg")
    assert (bin_dir / "args").read_text().startswith("-Tsvg -o")
    assert '"users" -> "orders"' in out.read_text()
