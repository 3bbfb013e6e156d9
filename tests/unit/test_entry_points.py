"""`dbsynth.reflect` and `dbsynth.write` are functions whatever was imported before, and their packages stay
importable as modules (no module made callable: dbsynth/__init__.py binds the functions after the packages)."""

from __future__ import annotations

import importlib
import subprocess
import sys
import types

import pandas as pd

from dbsynth.metadata import Column, Metadata, Table


def _meta() -> Metadata:
    return Metadata(tables={"t": Table("t", columns=[Column("id", "integer", sdtype="id")], primary_key=["id"])})


def test_write_is_the_function_after_its_submodules_are_imported(tmp_path):
    import dbsynth
    import dbsynth.write
    import dbsynth.write.ddl
    from dbsynth.write import ddl

    assert isinstance(ddl, types.ModuleType) and callable(ddl.sql_name)
    assert isinstance(dbsynth.write, types.FunctionType)
    summary = dbsynth.write({"t": pd.DataFrame({"id": [1, 2]})}, f"sqlite:///{tmp_path / 'a.sqlite'}", _meta())
    assert summary.total_rows == 2
    package = importlib.import_module("dbsynth.write")
    assert isinstance(package, types.ModuleType) and package.write is dbsynth.write


def test_reflect_is_the_function_after_its_submodules_are_imported(tmp_path):
    import dbsynth
    import dbsynth.reflect.core
    from dbsynth.reflect import reflect

    url = f"sqlite:///{tmp_path / 'b.sqlite'}"
    dbsynth.write({"t": pd.DataFrame({"id": [1]})}, url, _meta())
    assert reflect is dbsynth.reflect
    assert list(dbsynth.reflect(url).tables) == ["t"]


def test_import_dbsynth_stays_light():
    # the packages are bound eagerly; their work (pandas, SQLAlchemy) must still wait for the first call
    code = "import sys, dbsynth; print(sorted(m for m in ('pandas', 'sqlalchemy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
