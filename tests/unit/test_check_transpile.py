"""Issue 17: CHECKs carried across dialects by sqlglot (no server): PostgreSQL's deparsed IN list, SQLite's GLOB
into targets without GLOB, a regex into SQLite (which has no REGEXP); the converted pattern accepts and refuses
the same strings as the original."""

from __future__ import annotations

import re

import numpy as np
import pytest
import sqlglot
from sqlglot import exp

from dbsynth.rules.patterns import StringPattern, glob_to_regex, regex_to_glob
from dbsynth.write.ddl import transpile_check

#: Strings each pattern pair is tried on: both cases, lengths around the patterns', punctuation and a newline.
PROBES = ["", "A", "a", "AB123", "ab123", "Ab123", "AB12", "AB1234", "XY999", "AB12X", "A-1", "A.1", "AX1",
          "a*b", "a?b", "a[b", "aab", "a-b", "AB-1234", "ZZ-0000", "zz-0000", "AB-12345", "a.b", "a\nb", "AB123\n",
          "abc", "abcabc", "0", "9", "00", "x]y", "x^y", "xy"]


def _glob_accepts(pattern: str) -> np.ndarray:
    return StringPattern.glob(pattern).matches(np.array(PROBES, dtype=object))


def _regex_accepts(regex: str) -> np.ndarray:
    """What a regex accepts, read as PostgreSQL's ~ reads it: search semantics, case-sensitive, ``.`` takes a
    newline and ``$`` is the end of the string (Python's ``$`` also takes one trailing newline: ``\\Z`` is PG's)."""
    compiled = re.compile(regex[:-1] + "\\Z" if regex.endswith("$") else regex, re.DOTALL)
    return np.array([compiled.search(v) is not None for v in PROBES])


# ---- PostgreSQL's IN list ------------------------------------------------------------------------------------
PG_IN = "((status)::text = ANY ((ARRAY['new'::character varying, 'paid'::character varying])::text[]))"


@pytest.mark.parametrize("target, expected", [
    ("mysql", "((`status`) IN ('new', 'paid'))"),
    ("sqlite", "((\"status\") IN ('new', 'paid'))"),
])
def test_postgresql_in_list_over_a_varchar_becomes_an_in_list(target, expected):
    assert transpile_check(PG_IN, "postgresql", target) == expected


def test_postgresql_not_in_list_over_a_varchar_becomes_not_in():
    text = "((status)::text <> ALL ((ARRAY['x'::character varying, 'y'::character varying])::text[]))"
    assert transpile_check(text, "postgresql", "sqlite") == "(NOT (\"status\") IN ('x', 'y'))"


# ---- GLOB into a target without GLOB -------------------------------------------------------------------------
@pytest.mark.parametrize("glob, regex", [
    ("[A-Z][A-Z][0-9][0-9][0-9]", "^[A-Z][A-Z][0-9][0-9][0-9]$"),
    ("[A-Z][A-Z]-[0-9][0-9][0-9][0-9]", "^[A-Z][A-Z]\\-[0-9][0-9][0-9][0-9]$"),
    ("a*", "^a.*$"),
    ("a?b", "^a.b$"),
    ("[^0-9]*", "^[^0-9].*$"),
])
def test_glob_becomes_an_anchored_regex_in_postgresql(glob, regex):
    out = transpile_check(f"code GLOB '{glob}'", "sqlite", "postgresql")
    assert out == f"\"code\" ~ '{regex}'"
    assert (_regex_accepts(regex) == _glob_accepts(glob)).all()


@pytest.mark.parametrize("glob", ["[A-Z][A-Z][0-9][0-9][0-9]", "a.b*", "x[]]y", "[^a-c]?"])
def test_glob_becomes_a_case_sensitive_regexp_in_mariadb(glob):
    out = transpile_check(f"code GLOB '{glob}'", "sqlite", "mysql")
    tree = sqlglot.parse_one(out, read="mysql")
    assert isinstance(tree, exp.Paren) and isinstance(tree.this, exp.RegexpLike)
    regex = tree.this.expression.this
    # MariaDB's REGEXP ignores case under a _ci collation and its . stops at a newline: scoped flags undo both
    assert regex == f"^(?s-i:{glob_to_regex(glob)})$"
    # read with MariaDB's case-insensitive default the scoped flags still keep it case-sensitive; PCRE's $, as
    # Python's, also takes one trailing newline: there (only) the target is looser than the GLOB, never stricter
    accepts = StringPattern.regexp(regex, ignore_case=True).matches(np.array(PROBES, dtype=object))
    globbed = _glob_accepts(glob)
    plain = np.array([not v.endswith("\n") for v in PROBES])
    assert (accepts[plain] == globbed[plain]).all() and (accepts | ~globbed).all()


def test_glob_over_a_column_or_not_read_stays_untranspilable():
    assert transpile_check("code GLOB other", "sqlite", "postgresql") is None
    assert transpile_check("code GLOB '[A-Z'", "sqlite", "postgresql") is None  # unterminated class


def test_glob_stays_a_glob_in_sqlite():
    assert transpile_check("code GLOB 'A*'", "sqlite", "sqlite") == "\"code\" GLOB 'A*'"


# ---- a regex into SQLite ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("regex, glob", [
    ("^[A-Z]{2}[0-9]{3}$", "[A-Z][A-Z][0-9][0-9][0-9]"),
    ("^[A-Z]{2}-[0-9]{4}$", "[A-Z][A-Z]-[0-9][0-9][0-9][0-9]"),
    ("^a.b$", "a?b"),
    ("^a\\.b$", "a.b"),
    ("^a\\*b$", "a[*]b"),
    ("^a\\?b$", "a[?]b"),
    ("^a\\[b$", "a[[]b"),
    ("^[^0-9]x$", "[^0-9]x"),
    ("^x[]]y$", "x[]]y"),
    ("^x[^]]y$", "x[^]]y"),
    ("^$", ""),
    ("^abc$", "abc"),
    ("^.{3}$", "???"),
])
def test_regex_to_glob_converts_anchored_simple_shapes(regex, glob):
    assert regex_to_glob(regex) == glob
    assert (_regex_accepts(regex) == _glob_accepts(glob)).all(), regex


@pytest.mark.parametrize("regex", [
    "[A-Z]{2}",  # unanchored: search semantics
    "^[A-Z]{2}",  # anchored at one end only
    "[A-Z]$",
    "^a+$", "^a*$", "^a?$", "^a{2,3}$", "^a{2,}$",  # repeats GLOB cannot count
    "^(ab)$", "^a|b$",  # groups, alternatives
    "^[[:digit:]]{3}$", "^[\\d]$", "^\\d{3}$", "^\\w$",  # classes GLOB has no spelling for
    "^a\\$",  # the $ is a literal: not anchored
    "^[a$",  # unterminated class
    "^{2}$",  # a repeat of nothing
    "^a{99999}$",  # too long a GLOB
])
def test_regex_to_glob_refuses_other_shapes(regex):
    assert regex_to_glob(regex) is None


@pytest.mark.parametrize("text, source", [
    ("((ref_code ~ '^[A-Z]{2}[0-9]{3}$'::text))", "postgresql"),
    ("`ref_code` regexp '^[A-Z]{2}[0-9]{3}$'", "mysql"),
])
def test_a_regex_becomes_a_glob_in_sqlite(text, source):
    out = transpile_check(text, source, "sqlite")
    assert out is not None and "GLOB '[A-Z][A-Z][0-9][0-9][0-9]'" in out


def test_a_regex_glob_cannot_say_stays_untranspilable_in_sqlite():
    assert transpile_check("code ~ '^A+$'", "postgresql", "sqlite") is None
    assert transpile_check("code ~ other", "postgresql", "sqlite") is None


def test_round_trip_glob_regex_glob():
    """SQLite -> PostgreSQL -> SQLite gives the first GLOB back (a clone of a clone keeps its CHECK)."""
    glob = "[A-Z][A-Z]-[0-9][0-9][0-9][0-9]"
    pg = transpile_check(f"code GLOB '{glob}'", "sqlite", "postgresql")
    assert pg is not None
    assert transpile_check(pg, "postgresql", "sqlite") == f"\"code\" GLOB '{glob}'"
    regex = re.search(r"'(.*)'", pg)
    assert regex is not None and regex_to_glob(regex.group(1)) == glob
