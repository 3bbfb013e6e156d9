"""repair(): each constraint kind is violated before and satisfied after; nothing else is changed."""

import numpy as np
import pandas as pd
import pytest

from dbsynth.errors import DbsynthError
from dbsynth.metadata import Column, ForeignKey, Table, UniqueConstraint
from dbsynth.sample import repair


def rng(seed=0):
    return np.random.default_rng(seed)


def test_strings_cut_to_length():
    t = Table("t", [Column("s", "string", "text", length=4)])
    df = pd.DataFrame({"s": ["abcdefgh", "ab", None]})
    assert df["s"].str.len().max() > 4
    out = repair(df, t, rng())
    assert out["s"].tolist()[:2] == ["abcd", "ab"] and pd.isna(out["s"].iloc[2])
    assert df["s"].iloc[0] == "abcdefgh"  # the input is not modified


def test_decimals_rounded_and_clipped_to_precision():
    t = Table("t", [Column("d", "decimal", "numerical", precision=5, scale=2)])
    df = pd.DataFrame({"d": [1.23456, 123456.0, -999999.0, np.nan]})
    assert df["d"].abs().max() > 999.99 and df["d"].iloc[0] != round(df["d"].iloc[0], 2)
    out = repair(df, t, rng())["d"]
    assert out.iloc[0] == 1.23
    assert out.iloc[1] == 999.99 and out.iloc[2] == -999.99
    assert pd.isna(out.iloc[3]) and out.dtype == "float64"


def test_integers_clipped_to_bits_and_int64_kept():
    t = Table("t", [Column("i", "integer", "numerical", bits=16), Column("j", "integer", "numerical", bits=32)])
    df = pd.DataFrame({"i": pd.array([70_000, None, -70_000], dtype="Int64"), "j": [1.6, 3e10, -2.2]})
    assert df["i"].abs().max() > 2**15 and df["j"].max() > 2**31
    out = repair(df, t, rng())
    assert out["i"].dtype == "Int64" and out["i"].tolist()[::2] == [32767, -32768]
    assert out["j"].dtype == "int64" and out["j"].tolist() == [2, 2**31 - 1, -2]


def test_enum_values_outside_the_domain_replaced():
    t = Table("t", [Column("r", "enum", "categorical", enum_values=["G", "PG", "R"])])
    df = pd.DataFrame({"r": ["G", "X", "PG", "NC-17", None] * 200})
    assert not df["r"].dropna().isin(["G", "PG", "R"]).all()
    out = repair(df, t, rng())["r"]
    assert out.dropna().isin(["G", "PG", "R"]).all()
    assert out.isna().sum() == 200  # nullable: NULLs stay
    assert (out == "G").sum() == pytest.approx((out == "PG").sum(), rel=0.3)  # drawn from the valid ones


def test_not_null_filled_from_other_values_or_placeholder():
    t = Table(
        "t",
        [
            Column("a", "string", "categorical", nullable=False),
            Column("b", "integer", "numerical", nullable=False),
            Column("c", "json", "unsupported", nullable=False),
        ],
    )
    df = pd.DataFrame({"a": ["x", None, "y", None], "b": pd.array([1, None, 3, None], dtype="Int64"), "c": [None] * 4})
    assert df.isna().any().all()
    out = repair(df, t, rng())
    assert out.notna().all().all()
    assert set(out["a"]) <= {"x", "y"} and set(out["b"]) <= {1, 3} and out["b"].dtype == "int64"
    assert all(v == {} for v in out["c"])


def test_single_column_unique_strings_get_suffix_within_length():
    t = Table("t", [Column("code", "string", "categorical", length=5)], unique_constraints=[UniqueConstraint(["code"])])
    df = pd.DataFrame({"code": ["abcde"] * 300 + ["xyz", None, None]})
    assert df["code"].dropna().duplicated().any()
    out = repair(df, t, rng())["code"]
    assert not out.dropna().duplicated().any()
    assert out.str.len().max() <= 5
    assert out.iloc[0] == "abcde" and out.isna().sum() == 2  # first kept, NULLs are distinct in SQL


def test_single_column_unique_integers_moved_past_max():
    t = Table("t", [Column("n", "integer", "numerical", bits=32)], unique_constraints=[UniqueConstraint(["n"])])
    df = pd.DataFrame({"n": [5, 5, 7, 7, 7]})
    assert not df["n"].is_unique
    out = repair(df, t, rng())["n"]
    assert out.is_unique and out.tolist() == [5, 8, 7, 9, 10]


def test_unique_integers_without_room_raise_naming_the_constraint():
    t = Table("t", [Column("n", "integer", "numerical", bits=16)], unique_constraints=[UniqueConstraint(["n"], "uq_n")])
    df = pd.DataFrame({"n": [32767, 32767]})
    with pytest.raises(DbsynthError, match="constraint 'uq_n'"):
        repair(df, t, rng())


def test_multi_column_unique_changes_a_non_foreign_key_column():
    t = Table(
        "t",
        [Column("owner_id", "integer", "id"), Column("label", "string", "categorical", length=8)],
        foreign_keys=[ForeignKey(["owner_id"], "owners", ["id"])],
        unique_constraints=[UniqueConstraint(["owner_id", "label"])],
    )
    df = pd.DataFrame({"owner_id": [1, 1, 1, 2], "label": ["home", "home", "work", "home"]})
    assert df.duplicated().any()
    out = repair(df, t, rng())
    assert not out.duplicated().any()
    assert out["owner_id"].tolist() == [1, 1, 1, 2]  # references untouched


def test_repair_is_deterministic_and_keeps_valid_frames():
    t = Table("t", [Column("r", "enum", "categorical", enum_values=["a", "b"], nullable=False)])
    df = pd.DataFrame({"r": ["a", "q", None, "b"] * 50})
    pd.testing.assert_frame_equal(repair(df, t, rng(4)), repair(df, t, rng(4)))
    valid = pd.DataFrame({"r": ["a", "b"]})
    pd.testing.assert_frame_equal(repair(valid, t, rng()), valid)


def test_large_frame_repair():
    n = 1_000_000
    t = Table(
        "t",
        [Column("s", "string", "text", length=3), Column("k", "integer", "numerical")],
        unique_constraints=[UniqueConstraint(["k"])],
    )
    df = pd.DataFrame({"s": np.full(n, "abcdef", dtype=object), "k": np.arange(n) % 1000})
    out = repair(df, t, rng())
    assert out["k"].is_unique and out["s"].str.len().max() == 3


def test_categorical_dtype_columns_can_be_repaired():
    t = Table("t", [Column("c", "string", "categorical", length=4)], unique_constraints=[UniqueConstraint(["c"])])
    df = pd.DataFrame({"c": pd.Categorical(["same", "same", "other-long"])})
    out = repair(df, t, rng())["c"]
    assert out.is_unique and out.str.len().max() <= 4


def test_extra_and_missing_columns_are_left_alone():
    t = Table("t", [Column("a", "string", "text", length=2), Column("gone", "integer", "numerical", computed="a+1")])
    df = pd.DataFrame({"a": ["xyz"], "extra": ["keep me long"]})
    out = repair(df, t, rng())
    assert out["a"].tolist() == ["xy"] and out["extra"].tolist() == ["keep me long"] and "gone" not in out


@pytest.mark.parametrize("dtype", ["object", "str"])
def test_strings_are_measured_the_same_in_any_string_dtype(dtype):
    t = Table("t", [Column("s", "string", "text", length=3)])
    df = pd.DataFrame({"s": pd.Series(["abcd", None, "", "ab"], dtype=dtype)})
    out = repair(df, t, rng())["s"]
    assert out.tolist()[::2] == ["abc", ""] and out.iloc[3] == "ab" and pd.isna(out.iloc[1])
    fits = pd.DataFrame({"s": pd.Series(["abc", None], dtype=dtype)})
    assert repair(fits, t, rng())["s"].dtype == fits["s"].dtype  # nothing to cut: the column is untouched


def test_string_column_holding_other_values_is_still_cut():
    t = Table("t", [Column("s", "string", "text", length=2)])
    df = pd.DataFrame({"s": pd.Series(["abcd", 12345, None], dtype="object")})  # len() fails on 12345
    out = repair(df, t, rng())["s"]
    assert out.iloc[0] == "ab" and pd.isna(out.iloc[2])
