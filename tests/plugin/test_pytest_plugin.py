"""The pytest plugin used the way a user would: a test module run through ``pytester``."""

from __future__ import annotations

import pytest

from dbsynth.pytest_plugin import stable_seed

pytest_plugins = ["pytester"]
pytest.importorskip("dbsynth.synthesizers")

CONFIG = """
source: {url: "builtin:chinook"}
model: {path: null}
seed: 3
scale: 0.2
tables:
  Genre: {mode: copy}
"""

TESTS = '''
import pytest
import sqlalchemy as sa


def count(conn, table):
    return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_session_database_has_rows(dbsynth_database, dbsynth_connection):
    assert dbsynth_database.url.endswith("session.sqlite")
    assert count(dbsynth_connection, "Artist") == dbsynth_database.tables["Artist"] > 0
    assert count(dbsynth_connection, "Genre") == 25  # copied verbatim


def test_writes_are_rolled_back_1(dbsynth_connection):
    dbsynth_connection.execute(sa.text("DELETE FROM InvoiceLine"))
    assert count(dbsynth_connection, "InvoiceLine") == 0


def test_writes_are_rolled_back_2(dbsynth_connection):
    assert count(dbsynth_connection, "InvoiceLine") > 0


@pytest.mark.dbsynth(scale=0.1, tables=["Album"])
def test_marker_builds_a_subset(dbsynth_connection):
    names = set(sa.inspect(dbsynth_connection).get_table_names())
    assert names == {"Album", "Artist"}  # Album and the table it refers to
    assert 0 < count(dbsynth_connection, "Artist") < 275
'''


def test_plugin_fixtures_through_pytester(pytester):
    pytester.makefile(".yaml", dbsynth=CONFIG)
    pytester.makepyfile(test_shop=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--dbsynth-config=dbsynth.yaml", "-q")
    result.assert_outcomes(passed=4)


def test_without_model_or_config_the_fixture_errors_clearly(pytester):
    pytester.makepyfile(test_x="def test_x(dbsynth_database):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*need --dbsynth-model or --dbsynth-config*"])


def test_marker_is_registered(pytester):
    result = pytester.runpytest_subprocess("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.dbsynth(scale=1.0, tables=None)*"])


def test_stable_seed_is_stable_and_distinct():
    assert stable_seed("tests/a.py::test_x") == stable_seed("tests/a.py::test_x")
    assert stable_seed("tests/a.py::test_x") != stable_seed("tests/a.py::test_y")


MODEL_TESTS = '''
import pytest
import sqlalchemy as sa


def test_from_model_file(dbsynth_database, dbsynth_connection):
    n = dbsynth_connection.execute(sa.text("SELECT count(*) FROM Track")).scalar_one()
    assert n == dbsynth_database.tables["Track"] > 0


@pytest.mark.dbsynth(scale=0.05, tables=["Invoice"])
def test_marker_with_model_file(dbsynth_connection):
    names = set(sa.inspect(dbsynth_connection).get_table_names())
    assert names == {"Invoice", "Customer", "Employee"}
'''


def test_plugin_with_a_saved_model_file(pytester, tmp_path):
    pytest.importorskip("dbsynth.model.store")
    from dbsynth.config import parse_config
    from dbsynth.pipeline import fit

    model = tmp_path / "chinook.model.zip"
    fit(parse_config({"source": {"url": "builtin:chinook"}, "model": {"path": str(model)}, "seed": 1}))
    pytester.makepyfile(test_model=MODEL_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--dbsynth-model={model}", "-q")
    result.assert_outcomes(passed=2)
