"""CHECK constraints (issue 17): each shape is broken before repair() and kept after, changing only what it must.

The evaluator is also compared with SQLite's own evaluation of the same CHECKs on the same rows, so that
"valid" here means what a database means by it (NULL passes).
"""

from __future__ import annotations

import logging
import sqlite3

import numpy as np
import pandas as pd
import pytest

from dbsynth.metadata import (
    CheckConstraint,
    Column,
    ForeignKey,
    Table,
    UniqueConstraint,
)
from dbsynth.rules import CheckError, StringPattern, compile_checks
from dbsynth.sample import repair
from dbsynth.sample.repair import UniqueState


def rng(seed=0):
    return np.random.default_rng(seed)


def table(columns, *checks, pk=(), fks=(), uniques=()):
    return Table("t", columns, primary_key=list(pk), foreign_keys=list(fks),
                 unique_constraints=[UniqueConstraint(list(u), name=f"uq_{'_'.join(u)}") for u in uniques],
                 check_constraints=[CheckConstraint(sql, name=f"ck{i}") for i, sql in enumerate(checks)])


def assert_all_valid(t: Table, out: pd.DataFrame, dialect=None):
    for rule in compile_checks(t, dialect):
        assert rule.enforced, rule
        assert rule.is_valid(out).all(), rule.name


def bad_share(t, df, dialect=None):
    return {r.name: float((~r.is_valid(df)).mean()) for r in compile_checks(t, dialect)}


# ---- comparisons with constants ----------------------------------------------------------------------------
@pytest.mark.parametrize("sql", ["qty BETWEEN 1 AND 1000", "`qty` between 1 and 1000", "qty >= 1 AND qty <= 1000"])
def test_integer_range_is_clipped(sql):
    t = table([Column("id", "integer", "id", nullable=False), Column("qty", "integer", "numerical", bits=32)],
              sql, pk=["id"])
    df = pd.DataFrame({"id": np.arange(200), "qty": np.r_[np.arange(-50, 50), np.arange(950, 1050)]})
    assert bad_share(t, df)["ck0"] > 0.2
    out = repair(df, t, rng())
    assert_all_valid(t, out)
    assert out["qty"].dtype == "int64" and out["qty"].min() == 1 and out["qty"].max() == 1000
    kept = df["qty"].between(1, 1000)
    assert (out["qty"][kept] == df["qty"][kept]).all()  # rows that pass are not touched
    assert (out["id"] == df["id"]).all()


@pytest.mark.parametrize("sql", ["salary > 0", "salary > 0::numeric", "`salary` > 0"])
def test_strict_decimal_bound_steps_by_the_scale(sql):
    t = table([Column("salary", "decimal", "numerical", precision=12, scale=2, nullable=False)], sql)
    df = pd.DataFrame({"salary": [-5.0, 0.0, 10.5, 3.25]})
    out = repair(df, t, rng())
    assert out["salary"].tolist() == [0.01, 0.01, 10.5, 3.25]


def test_strict_bound_on_a_float_and_a_constant_date():
    t = table([Column("x", "float", "numerical"), Column("d", "date", "datetime")],
              "x < 1.5", "d >= '2020-01-01'::date")
    df = pd.DataFrame({"x": [1.5, 2.0, 0.5, np.nan],
                       "d": pd.to_datetime(["2019-06-01", "2021-01-01", None, "2019-12-31"]).astype("datetime64[us]")})
    out = repair(df, t, rng())
    assert_all_valid(t, out)
    assert (out["x"].iloc[:2] < 1.5).all() and out["x"].iloc[2] == 0.5 and np.isnan(out["x"].iloc[3])
    assert out["d"].dtype == "datetime64[us]"
    assert out["d"].iloc[0] == pd.Timestamp("2020-01-01") and pd.isna(out["d"].iloc[2])


# ---- IN lists ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sql", ["status IN ('active', 'retired', 'draft')",
                                 "status = ANY (ARRAY['active'::text, 'retired'::text, 'draft'::text])"])
def test_in_list_replaced_by_the_frequencies_of_valid_rows(sql):
    t = table([Column("status", "string", "categorical", nullable=False)], sql)
    df = pd.DataFrame({"status": ["active"] * 600 + ["draft"] * 200 + ["bogus"] * 200})
    out = repair(df, t, rng())
    assert_all_valid(t, out)
    counts = out["status"].value_counts()
    assert set(counts.index) == {"active", "draft"}  # values seen in valid rows, by their frequency
    assert counts["active"] == pytest.approx(750, abs=40)


def test_in_list_of_numbers_with_no_valid_row_draws_from_the_list():
    t = table([Column("flag", "integer", "numerical", bits=32)], "flag IN (0, 1)")
    df = pd.DataFrame({"flag": [5, 7, 9, 11] * 10})
    out = repair(df, t, rng())
    assert set(out["flag"]) <= {0, 1} and out["flag"].dtype == "int64"


def test_not_in_takes_values_of_passing_rows():
    t = table([Column("c", "string", "categorical")], "c NOT IN ('x', 'y')")
    df = pd.DataFrame({"c": ["x", "a", "y", "b", None]})
    out = repair(df, t, rng())
    assert_all_valid(t, out)
    assert set(out["c"].dropna()) <= {"a", "b"} and pd.isna(out["c"].iloc[4])


# ---- order between columns ---------------------------------------------------------------------------------
def test_date_order_moves_the_non_key_column_by_a_gap_of_valid_rows():
    cols = [Column("staff_id", "integer", "id", nullable=False),
            Column("from_date", "date", "datetime", nullable=False),
            Column("to_date", "date", "datetime", nullable=False)]
    t = table(cols, "to_date > from_date", pk=["staff_id", "from_date"])
    start = pd.Timestamp("2015-01-01") + pd.to_timedelta(np.arange(100) * 30, unit="D")
    gaps = np.where(np.arange(100) % 2 == 0, 365, -10)  # half the rows end before they start
    df = pd.DataFrame({"staff_id": np.arange(100), "from_date": start.astype("datetime64[us]"),
                       "to_date": (start + pd.to_timedelta(gaps, unit="D")).astype("datetime64[us]")})
    assert bad_share(t, df)["ck0"] == 0.5
    out = repair(df, t, rng())
    assert_all_valid(t, out)
    assert (out["from_date"] == df["from_date"]).all()  # part of the key: never moved
    assert ((out["to_date"] - out["from_date"]).dt.days == 365).all()  # the only gap the valid rows have
    assert out["to_date"].dtype == "datetime64[us]"


@pytest.mark.parametrize("sql", ["shipped_at IS NULL OR shipped_at >= ordered_at",
                                 "`shipped_at` is null or `shipped_at` >= `ordered_at`"])
def test_null_or_order_on_timestamps(sql):
    t = table([Column("ordered_at", "timestamp", "datetime", nullable=False),
               Column("shipped_at", "timestamp", "datetime")], sql)
    base = pd.Timestamp("2023-01-01 10:00:00.5")
    ordered = base + pd.to_timedelta(np.arange(300), unit="h")
    shipped = ordered + pd.to_timedelta(np.tile([30.0, -5.0, np.nan], 100), unit="h")
    df = pd.DataFrame({"ordered_at": ordered.astype("datetime64[us]"), "shipped_at": shipped.astype("datetime64[us]")})
    out = repair(df, t, rng())
    assert_all_valid(t, out)
    assert out["shipped_at"].isna().sum() == 100  # NULL passes: left NULL
    assert (out["ordered_at"] == df["ordered_at"]).all()
    lag = (out["shipped_at"] - out["ordered_at"]).dropna()
    assert (lag == pd.Timedelta(hours=30)).all()


def test_order_when_the_first_column_is_a_foreign_key_moves_the_other():
    t = table([Column("a", "integer", "numerical", nullable=False),
               Column("b", "integer", "numerical", nullable=False)],
              "a >= b", fks=[ForeignKey(["a"], "p", ["id"])])
    df = pd.DataFrame({"a": [5, 5, 1, 10], "b": [3, 9, 4, 2]})
    out = repair(df, t, rng())
    assert_all_valid(t, out)
    assert (out["a"] == df["a"]).all()
    assert out["b"].iloc[1] <= 5 and out["b"].iloc[2] <= 1


def test_column_against_an_expression_is_clipped():
    for sql in ("discount <= items * 10", "discount <= (items * 10)::numeric", "`discount` <= `items` * 10"):
        t = table([Column("discount", "decimal", "numerical", precision=8, scale=2, nullable=False),
                   Column("items", "integer", "numerical", nullable=False)], sql)
        df = pd.DataFrame({"discount": [5.0, 55.5, 200.0], "items": [1, 5, 30]})
        out = repair(df, t, rng())
        assert_all_valid(t, out)
        assert out["discount"].tolist() == [5.0, 50.0, 200.0] and (out["items"] == df["items"]).all()


# ---- patterns and lengths ------------------------------------------------------------------------------------
@pytest.mark.parametrize("sql, dialect", [
    ("code ~ '^[A-Z]{2}-[0-9]{4}$'::text", "postgresql"),
    ("`code` regexp '^[A-Z]{2}-[0-9]{4}$'", "mysql"),
    ("code GLOB '[A-Z][A-Z]-[0-9][0-9][0-9][0-9]'", "sqlite"),
    ("code ~ '^[[:upper:]]{2}-[[:digit:]]{4}$'", None),
])
def test_code_patterns_draw_matching_values(sql, dialect):
    t = table([Column("id", "integer", "id", nullable=False), Column("code", "string", "text", length=7)], sql,
              pk=["id"])
    df = pd.DataFrame({"id": np.arange(50), "code": ["AB-1234", "nope", None, "ab-12345", "ZZ-0000"] * 10})
    out = repair(df, t, rng(), dialect=dialect)
    assert_all_valid(t, out, dialect)
    assert out["code"].iloc[0] == "AB-1234" and out["code"].iloc[4] == "ZZ-0000" and pd.isna(out["code"].iloc[2])
    assert out["code"].dropna().str.fullmatch(r"[A-Z]{2}-\d{4}").all()
    again = repair(df, t, rng(), dialect=dialect)
    assert out["code"].equals(again["code"])  # deterministic given the generator


def test_like_prefix_keeps_the_old_value_within_the_length():
    t = table([Column("c3", "string", "categorical", length=3, nullable=False)], "c3 ~~ 'C%'::text")
    df = pd.DataFrame({"c3": ["Cab", "xyz", "C", "ab"]})
    out = repair(df, t, rng())
    assert out["c3"].tolist() == ["Cab", "Cxy", "C", "Cab"]


def test_like_suffix_and_underscore():
    t = table([Column("s", "string", "text", length=8)], "s LIKE '%-__'")
    df = pd.DataFrame({"s": ["abc-12", "abcdefghij", "q"]})
    out = repair(df, t, rng())
    assert_all_valid(t, out)
    assert out["s"].iloc[0] == "abc-12" and out["s"].str.len().max() <= 8 and out["s"].iloc[1].startswith("abcde")


def test_length_bound_cuts_and_pads():
    t = table([Column("v", "string", "text")], "length(v) <= 10", "char_length(v) >= 2")
    df = pd.DataFrame({"v": ["x" * 30, "a", "fine", None]})
    out = repair(df, t, rng())
    assert_all_valid(t, out)
    assert out["v"].iloc[0] == "x" * 10 and len(out["v"].iloc[1]) == 2 and out["v"].iloc[2] == "fine"


# ---- unique columns with a pattern -----------------------------------------------------------------------------
def test_unique_column_with_a_pattern_gets_pattern_values_not_suffixes():
    t = table([Column("id", "integer", "id", nullable=False),
               Column("product_code", "string", "categorical", length=5)],
              "product_code ~ '^[A-Z]{2}-[0-9]{2}$'", pk=["id"], uniques=[["product_code"]])
    df = pd.DataFrame({"id": np.arange(400), "product_code": ["AB-12", "CD-34"] * 200})
    out = repair(df, t, rng())
    assert_all_valid(t, out)
    assert out["product_code"].is_unique
    assert out["product_code"].str.fullmatch(r"[A-Z]{2}-\d{2}").all()


def test_unique_pattern_holds_across_batches():
    t = table([Column("id", "integer", "id", nullable=False), Column("code", "string", "categorical", length=5)],
              "code ~ '^[A-Z]{2}-[0-9]{2}$'", pk=["id"], uniques=[["code"]])
    state = UniqueState()
    frames = []
    for b in range(5):
        df = pd.DataFrame({"id": np.arange(b * 300, (b + 1) * 300), "code": ["AB-12", "AB-13", "ZZ"] * 100})
        frames.append(repair(df, t, rng(b), state))
    allv = pd.concat(frames, ignore_index=True)
    assert allv["code"].is_unique and allv["code"].str.fullmatch(r"[A-Z]{2}-\d{2}").all()


def test_string_key_with_a_pattern_is_redrawn_distinct_across_batches():
    # the key generator writes keys such as 'X3K9Q'; the CHECK wants 'AB-12': the key column gets pattern values
    t = table([Column("product_code", "string", "id", length=5, nullable=False),
               Column("variant", "string", "id", length=2, nullable=False)],
              "`product_code` regexp '^[A-Z]{2}-[0-9]{2}$'", pk=["product_code", "variant"])
    state = UniqueState(exempt=frozenset({"product_code", "variant"}))
    frames = [repair(pd.DataFrame({"product_code": [f"K{b}{i:03d}" for i in range(200)], "variant": ["SM"] * 200}),
                     t, rng(b), state) for b in range(3)]
    allv = pd.concat(frames, ignore_index=True)
    assert_all_valid(t, allv)
    assert not allv.duplicated(["product_code", "variant"]).any()


def test_exhausted_pattern_space_names_the_column():
    t = table([Column("id", "integer", "id", nullable=False), Column("c", "string", "categorical", length=1)],
              "c ~ '^[A-C]$'", pk=["id"], uniques=[["c"]])
    df = pd.DataFrame({"id": np.arange(5), "c": ["A"] * 5})
    with pytest.raises(CheckError) as e:
        repair(df, t, rng())
    msg = str(e.value)
    assert "column 'c'" in msg and "constraint 'ck0'" in msg and "3 distinct values" in msg and "'A'" not in msg


def test_pattern_fresh_values_and_space():
    p = StringPattern.regexp("^(ab|c+)[0-9]?x$")
    values = p.fresh(200, rng(), length=6)
    assert p.matches(values).all() and max(map(len, values)) <= 6
    assert StringPattern.regexp("^[A-Z]{2}-[0-9]{2}$").space() == 67600
    assert StringPattern.like("C%").space() is None
    assert StringPattern.glob("[A-Z]?").matches(np.array(["Ax", "ax", None], dtype=object)).tolist() == [True, False,
                                                                                                          False]


# ---- redraw and errors -------------------------------------------------------------------------------------------
def test_unknown_shape_is_redrawn_from_passing_rows():
    t = table([Column("x", "integer", "numerical", nullable=False),
               Column("y", "integer", "numerical", nullable=False)],
              "(x + y) % 2 = 0")
    rule = compile_checks(t)[0]
    assert rule.enforcement == "redraw"
    df = pd.DataFrame({"x": np.arange(100), "y": np.zeros(100, dtype=np.int64)})
    out = repair(df, t, rng())
    assert_all_valid(t, out)
    assert ((out["x"] + out["y"]) % 2 == 0).all() and out["x"].dtype == "int64"


def test_rows_that_cannot_be_fixed_raise_one_line_without_values():
    # only a key named: nothing the sampler may change -> opaque, not an error
    t = table([Column("id", "integer", "id", nullable=False), Column("x", "integer", "numerical", nullable=False)],
              "x * x = 123456789", pk=["id"])  # no row passes: nothing to redraw from
    df = pd.DataFrame({"id": np.arange(10), "x": np.arange(10) + 1000})
    with pytest.raises(CheckError) as e:
        repair(df, t, rng())
    msg = str(e.value)
    assert "table 't'" in msg and "constraint 'ck0'" in msg and "mode: copy" in msg
    assert "1000" not in msg and "\n" not in msg


def test_opaque_rules_are_kept_logged_once_and_not_enforced(caplog):
    t = table([Column("j", "json", "unsupported"), Column("x", "integer", "numerical")],
              "json_valid(j)", "x IN (SELECT 1)")
    t.name = "t_opaque_logged"
    with caplog.at_level(logging.WARNING, logger="dbsynth"):
        rules = compile_checks(t)
        compile_checks(t)
    assert [r.enforcement for r in rules] == ["opaque", "opaque"] and all(r.reason for r in rules)
    assert sum("not enforced" in m for m in caplog.messages) == 2
    df = pd.DataFrame({"j": [{"a": 1}], "x": [5]})
    assert repair(df, t, rng())["x"].tolist() == [5]


def test_no_checks_leaves_repair_as_it_was():
    t = Table("t", [Column("s", "string", "text", length=4)], unique_constraints=[UniqueConstraint(["s"])])
    out = repair(pd.DataFrame({"s": ["ab", "ab"]}), t, rng())
    assert out["s"].is_unique and out["s"].iloc[1].startswith("ab")


# ---- the evaluator agrees with a database ----------------------------------------------------------------------------
_SQLITE_CHECKS = [
    "qty BETWEEN 1 AND 10", "qty > 3 OR note IS NULL", "note LIKE 'a%'", "note GLOB '[a-c]*'",
    "length(note) <= 2", "qty IN (1, 2, NULL)", "qty NOT IN (1, 2)", "price >= qty * 2", "NOT (qty < 5 AND price > 3)",
    "qty <> 4", "abs(qty - 5) < 3", "lower(note) = 'ab'", "coalesce(qty, 0) >= 2",
]


@pytest.mark.parametrize("sql", _SQLITE_CHECKS)
def test_evaluation_matches_sqlite(sql):
    r = rng(7)
    n = 300
    qty = pd.array(np.where(r.random(n) < 0.15, None, r.integers(0, 12, n)), dtype="Int64")
    price = np.where(r.random(n) < 0.1, np.nan, np.round(r.random(n) * 30, 2))
    note = np.where(r.random(n) < 0.15, None, r.choice(["ab", "a", "bcd", "AB", "ca", "zz"], n)).astype(object)
    df = pd.DataFrame({"qty": qty, "price": price, "note": note})
    t = table([Column("qty", "integer", "numerical"), Column("price", "float", "numerical"),
               Column("note", "string", "categorical")], sql)
    (rule,) = compile_checks(t, "sqlite")
    assert rule.enforced
    con = sqlite3.connect(":memory:")
    # the sampler tests LIKE case-sensitively (PostgreSQL's way; stricter than SQLite's and MySQL's default)
    con.execute("PRAGMA case_sensitive_like = ON")
    con.execute("CREATE TABLE x (i INTEGER, qty INTEGER, price REAL, note TEXT)")
    rows = [(i, None if pd.isna(q) else int(q), None if np.isnan(p) else float(p), s)
            for i, (q, p, s) in enumerate(zip(qty, price, note))]
    con.executemany("INSERT INTO x VALUES (?, ?, ?, ?)", rows)
    # a CHECK fails only where its expression is false (NULL passes)
    failing = {i for (i,) in con.execute(f"SELECT i FROM x WHERE NOT ({sql})")}
    ours = set(np.flatnonzero(~rule.is_valid(df)).tolist())
    assert ours == failing
    out = repair(df, t, rng())
    con.execute("DELETE FROM x")
    con.executemany("INSERT INTO x VALUES (?, ?, ?, ?)",
                    [(i, None if pd.isna(q) else int(q), None if pd.isna(p) else float(p), s)
                     for i, (q, p, s) in enumerate(zip(out["qty"], out["price"], out["note"]))])
    assert con.execute(f"SELECT count(*) FROM x WHERE NOT ({sql})").fetchone()[0] == 0


def test_large_frame_is_repaired_vectorised():
    """Not a timing assertion: a 200k-row frame with several CHECKs goes through (the work is vectorised)."""
    n = 200_000
    r = rng(3)
    t = table([Column("a", "integer", "numerical", nullable=False), Column("b", "integer", "numerical"),
               Column("d", "decimal", "numerical", precision=8, scale=2), Column("s", "string", "categorical")],
              "a BETWEEN 1 AND 1000", "b IS NULL OR b >= a", "d <= a * 10", "s IN ('x', 'y')")
    df = pd.DataFrame({"a": r.integers(-100, 1100, n), "b": pd.array(r.integers(0, 1000, n), dtype="Int64"),
                       "d": np.round(r.random(n) * 20000, 2), "s": r.choice(["x", "y", "z"], n)})
    out = repair(df, t, rng())
    assert_all_valid(t, out)


# ---- dtypes of the frame contract ----------------------------------------------------------------------------------
def test_nullable_integers_booleans_and_tz_timestamps_keep_their_dtypes():
    t = table([Column("q", "integer", "numerical"), Column("flag", "boolean", "boolean", nullable=False),
               Column("a", "timestamp", "datetime", timezone=True, nullable=False),
               Column("b", "timestamp", "datetime", timezone=True, nullable=False)],
              "q > 0", "flag IN (0, 1)", "b >= a")
    a = pd.Series(pd.date_range("2024-01-01", periods=6, freq="D", tz="UTC")).astype("datetime64[us, UTC]")
    df = pd.DataFrame({"q": pd.array([0, None, 5, -3, 2, 1], dtype="Int64"), "flag": [True, False] * 3, "a": a,
                       "b": a + pd.to_timedelta([1, -1, 2, -2, 1, 1], unit="h")})
    out = repair(df, t, rng())
    assert_all_valid(t, out)
    assert str(out["q"].dtype) == "Int64" and out["q"].tolist()[:4] == [1, pd.NA, 5, 1]
    assert out["flag"].dtype == bool and str(out["b"].dtype) == "datetime64[us, UTC]"
    assert (out["a"] == df["a"]).all()


def test_timestamp_precision_of_the_column_is_the_step():
    # a DATETIME(0) target keeps whole seconds: a strict order needs a whole second between the values
    t = table([Column("a", "timestamp", "datetime", native_type="DATETIME(0)", nullable=False),
               Column("b", "timestamp", "datetime", native_type="DATETIME(0)", nullable=False)], "b > a")
    stamps = pd.to_datetime(["2024-01-01 10:00:00.2", "2024-01-01 11:00:00.0"], format="ISO8601")
    a = pd.Series(stamps).astype("datetime64[us]")
    df = pd.DataFrame({"a": a, "b": a + pd.to_timedelta([0.5, -5], unit="s")})
    out = repair(df, t, rng())
    assert_all_valid(t, out)
    assert (out["b"].dt.floor("s") > out["a"].dt.floor("s")).all()


def test_enum_column_in_list_and_dialect_guess_for_backquotes():
    t = table([Column("r", "enum", "categorical", enum_values=["G", "PG", "R"], nullable=False)], "`r` in ('G','R')")
    df = pd.DataFrame({"r": ["PG"] * 10 + ["G"] * 5})
    out = repair(df, t, rng())
    assert set(out["r"]) == {"G"}


def test_is_null_rule_blanks_a_nullable_integer_as_int64():
    t = table([Column("kind", "string", "categorical", nullable=False), Column("n", "integer", "numerical")],
              "kind <> 'none' OR n IS NULL")
    df = pd.DataFrame({"kind": ["none", "x", "none"], "n": np.array([1, 2, 3], dtype=np.int64)})
    out = repair(df, t, rng())
    assert_all_valid(t, out)
    assert str(out["n"].dtype) == "Int64" and out["n"].tolist() == [pd.NA, 2, pd.NA]


def test_domain_checks_become_rules_on_the_columns_they_type():
    from dbsynth.metadata.records import NativeObject

    domains = [
        NativeObject(kind="domain", name="public.positive_int",
                     statements=[("CREATE DOMAIN public.positive_int AS integer CONSTRAINT positive_int_check "
                                  "CHECK ((VALUE > 0))")]),
        NativeObject(kind="domain", name="public.country_code",
                     statements=[("CREATE DOMAIN public.country_code AS character(2) CONSTRAINT country_code_check "
                                  "CHECK ((VALUE ~ '^[A-Z]{2}$'::text))")]),
    ]
    t = table([Column("pos", "integer", "numerical", native_type="positive_int", nullable=False),
               Column("country", "string", "categorical", native_type="country_code", length=2)])
    df = pd.DataFrame({"pos": [0, 5, -2], "country": ["US", "x1", None]})
    assert repair(df, t, rng())["pos"].tolist() == [0, 5, -2]  # without the domains: not known
    out = repair(df, t, rng(), dialect="postgresql", domains=domains)
    assert out["pos"].tolist() == [1, 5, 1]
    assert out["country"].iloc[0] == "US" and out["country"].str.fullmatch("[A-Z]{2}").iloc[1]
    assert pd.isna(out["country"].iloc[2])
    names = [r.name for r in compile_checks(t, "postgresql", domains)]
    assert names == ["positive_int_check on pos", "country_code_check on country"]


def test_casts_extract_and_current_time():
    t = table([Column("w", "decimal", "numerical", precision=8, scale=2, nullable=False),
               Column("d", "date", "datetime", nullable=False), Column("name", "string", "categorical")],
              "w::integer % 2 = 0", "EXTRACT(month FROM d) <> 2", "d <= CURRENT_DATE",
              "(upper((name)::text) = ANY (ARRAY['L'::text, 'M'::text])) OR (name IS NULL)")
    rules = compile_checks(t, "postgresql")
    assert [r.enforcement for r in rules] == ["redraw", "redraw", "construct", "construct"]
    df = pd.DataFrame({"w": [2.4, 2.6, 3.5, -2.5], "d": pd.to_datetime(["2020-02-10", "2020-03-01", "2999-01-01",
                                                                          "2021-05-05"]).astype("datetime64[us]"),
                       "name": ["l", "x", None, "M"]})
    # ::integer rounds half away from zero (PostgreSQL): 2.4 -> 2, 2.6 -> 3, 3.5 -> 4, -2.5 -> -3
    assert (~rules[0].is_valid(df)).tolist() == [False, True, False, True]
    assert (~rules[1].is_valid(df)).tolist() == [True, False, False, False]
    assert (~rules[2].is_valid(df)).tolist() == [False, False, True, False]
    assert (~rules[3].is_valid(df)).tolist() == [False, True, False, False]
    out = repair(df, t, rng(), dialect="postgresql")
    assert_all_valid(t, out, "postgresql")
