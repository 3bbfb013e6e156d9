"""Generators of non-modelled columns: keys, PII, free text, placeholders; choice and persistence."""

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from dbsynth.errors import DbsynthError, ModelFileError, UnsupportedError
from dbsynth.metadata import Column, ForeignKey, Table, UniqueConstraint
from dbsynth.model.columns import (
    ColumnGenerator,
    KeyGenerator,
    PIIGenerator,
    PlaceholderGenerator,
    TextGenerator,
    generator_for,
)


def rng(seed=0):
    return np.random.default_rng(seed)


# ---- choice of generator -------------------------------------------------------------------------------
def test_generator_for_picks_by_sdtype_and_skips_modelled_and_foreign_keys():
    t = Table(
        "orders",
        [
            Column("id", "integer", "id", nullable=False),
            Column("customer_id", "integer", "id"),
            Column("amount", "decimal", "numerical"),
            Column("email", "string", "email"),
            Column("note", "string", "text"),
            Column("doc", "other", "unsupported", native_type="tsvector"),
            Column("total", "integer", "numerical", computed="amount * 2"),
        ],
        ["id"],
        [ForeignKey(["customer_id"], "customers", ["id"])],
    )
    kinds = {c.name: generator_for(c, table=t) for c in t.columns}
    assert isinstance(kinds["id"], KeyGenerator)
    assert kinds["customer_id"] is None
    assert kinds["amount"] is None
    assert isinstance(kinds["email"], PIIGenerator) and kinds["email"].provider == "email"
    assert isinstance(kinds["note"], TextGenerator)
    assert isinstance(kinds["doc"], PlaceholderGenerator)
    assert kinds["total"] is None


def test_pii_override_and_unknown_provider():
    gen = generator_for(Column("who", "string", "name", pii="first_name"))
    assert gen.provider == "first_name"
    with pytest.raises(UnsupportedError, match="column 'who'"):
        generator_for(Column("who", "string", "name", pii="no_such_provider"))
    with pytest.raises(UnsupportedError, match="unknown sdtype"):
        generator_for(Column("x", "string", "weird"))


# ---- keys ----------------------------------------------------------------------------------------------
def test_integer_keys_are_sequential_and_unique_across_batches():
    gen = KeyGenerator(Column("id", "integer", "id", bits=32), "t")
    a = gen.generate(1000, rng(), start=0)
    b = gen.generate(500, rng(), start=1000)
    assert a.dtype == "int64"
    assert a.iloc[0] == 1 and b.iloc[-1] == 1500
    assert pd.concat([a, b]).is_unique


def test_integer_keys_respect_bits():
    gen = KeyGenerator(Column("id", "integer", "id", bits=16), "tiny")
    gen.generate(100, rng(), start=32_000)  # 32,100 <= 32,767: fits
    with pytest.raises(DbsynthError, match="table 'tiny', column 'id'.*16-bit"):
        gen.generate(1000, rng(), start=32_000)


def test_uuid_keys_are_deterministic_and_differ_across_seeds():
    gen = KeyGenerator(Column("id", "uuid", "id"), "t")
    a, b, c = gen.generate(1000, rng(1)), gen.generate(1000, rng(1)), gen.generate(1000, rng(2))
    assert a.tolist() == b.tolist()
    assert not set(a) & set(c)
    assert a.is_unique
    assert a.str.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}").all()


def test_uuid_pattern_learned_from_strings():
    real = pd.Series(["1b4e28ba-2fa1-11d2-883f-0016d3cca427", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"])
    gen = KeyGenerator(Column("ref", "string", "id", length=36), "t").fit(real)
    out = gen.generate(10, rng())
    assert gen.pattern == "uuid" and out.str.len().eq(36).all() and out.is_unique


def test_patterned_keys_fixed_width_uppercase():
    real = pd.Series(["ALFKI", "ANATR", "BONAP", "CHOPS"])
    gen = KeyGenerator(Column("customer_id", "string", "id", length=5), "customers").fit(real)
    a = gen.generate(5000, rng(), start=0)
    b = gen.generate(5000, rng(), start=5000)
    both = pd.concat([a, b])
    assert both.is_unique
    assert both.str.fullmatch(r"[A-Z]{5}").all()


def test_patterned_keys_prefix_and_zero_padding():
    real = pd.Series(["ORD-000123", "ORD-000124", "ORD-000999"])
    gen = KeyGenerator(Column("code", "string", "id", length=10), "t").fit(real)
    out = gen.generate(3, rng(), start=41)
    # the prefix keeps its shape (three capitals and a dash), not its letters: it is not stored
    assert out.str.fullmatch(r"[A-Z]{3}-0000(42|43|44)").all()
    assert out.str[4:].tolist() == ["000042", "000043", "000044"]
    assert gen.prefix != "ORD-" and "ORD" not in str(gen.to_dict())
    assert gen.generate(0, rng(), start=41).empty  # a table sampled empty asks for no keys


def test_patterned_keys_raise_when_length_is_too_short():
    real = pd.Series(["AB", "CD"])
    gen = KeyGenerator(Column("code", "string", "id", length=2), "t").fit(real)
    gen.generate(26 * 26, rng())  # exactly the capacity
    with pytest.raises(DbsynthError, match="column 'code'.*length 2"):
        gen.generate(26 * 26 + 1, rng())


# ---- PII -----------------------------------------------------------------------------------------------
def test_emails_are_plausible_unique_and_fit_the_length():
    email = Column("email", "string", "email", length=24)
    t = Table("users", [email], unique_constraints=[UniqueConstraint(["email"])])
    gen = generator_for(t.columns[0], table=t)
    a = gen.generate(3000, rng(), start=0)
    b = gen.generate(3000, rng(1), start=3000)
    both = pd.concat([a, b])
    assert both.str.contains("@").all()
    assert both.str.len().max() <= 24
    assert both.is_unique


@pytest.mark.parametrize("sdtype", ["name", "phone_number", "address", "city", "ipv4_address", "user_name"])
def test_pii_kinds_give_strings_within_length(sdtype):
    gen = generator_for(Column("c", "string", sdtype, length=12))
    out = gen.generate(200, rng())
    assert out.notna().all() and (out.str.len() > 0).all() and out.str.len().max() <= 12
    assert out.nunique() > 20


def test_pii_is_deterministic_given_the_seed_and_keeps_null_fraction():
    gen = generator_for(Column("c", "string", "name")).fit(pd.Series(["a", None, "b", None]))
    a, b = gen.generate(2000, rng(5)), gen.generate(2000, rng(5))
    pd.testing.assert_series_equal(a, b)
    assert 0.4 < a.isna().mean() < 0.6


# ---- free text -----------------------------------------------------------------------------------------
def test_text_lengths_follow_learned_quantiles():
    real = pd.Series(["word " * k for k in range(1, 41)]).str.strip()  # lengths 4..199, uniform-ish
    gen = TextGenerator(Column("body", "string", "text"), "t").fit(real)
    out = gen.generate(20_000, rng())
    want = np.quantile(real.str.len(), [0.1, 0.5, 0.9])
    got = np.quantile(out.str.len(), [0.1, 0.5, 0.9])
    assert np.allclose(got, want, rtol=0.1, atol=3)
    assert out.str.contains(" ").mean() > 0.9  # words, not a single run of characters


@pytest.mark.parametrize(
    ("real", "pattern"),
    [(["123", "45", "6789"], r"\d*"), (["ABC", "DEFG"], r"[A-Z]*"), (["ab12", "c3"], r"[A-Za-z0-9]*")],
)
def test_text_keeps_character_class(real, pattern):
    gen = TextGenerator(Column("code", "string", "text"), "t").fit(pd.Series(real))
    out = gen.generate(500, rng())
    assert out.str.fullmatch(pattern).all()
    assert out.str.len().between(2, 4).all()


def test_text_respects_column_length_and_is_deterministic():
    gen = TextGenerator(Column("body", "string", "text", length=10), "t").fit(pd.Series(["x" * 100, "y y" * 30]))
    a, b = gen.generate(1000, rng(3)), gen.generate(1000, rng(3))
    assert a.str.len().max() <= 10
    assert a.tolist() == b.tolist()


def test_one_million_text_values():
    gen = TextGenerator(Column("body", "string", "text"), "t").fit(pd.Series(["lorem ipsum dolor sit", "amet"]))
    out = gen.generate(1_000_000, rng())
    assert len(out) == 1_000_000 and out.str.len().max() <= 21


def test_one_million_keys_and_emails():
    keys = KeyGenerator(Column("id", "string", "id", length=5), "t").fit(pd.Series(["ALFKI", "BONAP"]))
    assert keys.generate(1_000_000, rng()).is_unique
    emails = PIIGenerator(Column("e", "string", "email"), "t", "email", unique=True).generate(1_000_000, rng())
    assert emails.is_unique


# ---- unsupported ---------------------------------------------------------------------------------------
def test_unsupported_null_when_nullable():
    out = PlaceholderGenerator(Column("doc", "other", "unsupported", native_type="tsvector"), "t").generate(3, rng())
    assert out.isna().all()


@pytest.mark.parametrize(
    ("family", "check"),
    [
        ("json", lambda v: v == {}),
        ("array", lambda v: v == []),
        ("binary", lambda v: v == b""),
        ("other", lambda v: v == ""),
        ("interval", lambda v: v == pd.Timedelta(0)),
        ("time", lambda v: v == dt.time(0)),
        ("integer", lambda v: v == 0),
    ],
)
def test_unsupported_placeholders_when_not_null(family, check):
    out = PlaceholderGenerator(Column("x", family, "unsupported", nullable=False), "t").generate(4, rng())
    assert len(out) == 4 and out.notna().all() and all(check(v) for v in out)


def test_unsupported_uuid_placeholder_is_random_and_valid():
    out = PlaceholderGenerator(Column("x", "uuid", "unsupported", nullable=False), "t").generate(50, rng())
    assert out.is_unique and out.str.len().eq(36).all()


# ---- persistence ---------------------------------------------------------------------------------------
def test_to_dict_from_dict_round_trip_gives_the_same_values():
    gens = [
        KeyGenerator(Column("id", "string", "id", length=8), "t").fit(pd.Series(["INV-0001", "INV-0002"])),
        KeyGenerator(Column("id", "uuid", "id"), "t"),
        PIIGenerator(Column("e", "string", "email", length=30), "t", "email", ["fr_FR"], unique=True),
        TextGenerator(Column("b", "string", "text"), "t").fit(pd.Series(["hello there", None, "a b c d e"])),
        PlaceholderGenerator(Column("j", "json", "unsupported", nullable=False), "t"),
    ]
    for gen in gens:
        data = json.loads(json.dumps(gen.to_dict()))
        again = ColumnGenerator.from_dict(data)
        assert type(again) is type(gen) and data["kind"]
        assert again.to_dict() == gen.to_dict()
        assert again.generate(50, rng(9), start=7).tolist() == gen.generate(50, rng(9), start=7).tolist()


def test_fit_keeps_no_source_values():
    secret = pd.Series([f"very secret sentence number {i}" for i in range(50)])
    gen = TextGenerator(Column("b", "string", "text"), "t").fit(secret)
    assert "secret" not in json.dumps(gen.to_dict())


def test_from_dict_rejects_unknown_kind():
    with pytest.raises(ModelFileError, match="table 't', column 'x'"):
        ColumnGenerator.from_dict({"kind": "nope", "table": "t", "column": {"name": "x"}})
    with pytest.raises(ModelFileError):
        ColumnGenerator.from_dict({"kind": "key", "column": {"name": "x"}})  # no pattern saved


@pytest.mark.parametrize(("native", "value"), [("tsvector", ""), ("money", "0"), ("inet", "0.0.0.0"), ("geometry", "")])
def test_other_placeholders_follow_the_native_type(native, value):
    col = Column("x", "other", "unsupported", nullable=False, native_type=native)
    assert PlaceholderGenerator(col, "t").generate(2, rng()).tolist() == [value, value]


def test_zero_and_one_values():
    gens = [
        KeyGenerator(Column("id", "integer", "id"), "t"),
        KeyGenerator(Column("id", "uuid", "id"), "t"),
        KeyGenerator(Column("id", "string", "id", length=5), "t").fit(pd.Series(["ALFKI"])),
        PIIGenerator(Column("e", "string", "email"), "t", "email", unique=True),
        TextGenerator(Column("b", "string", "text"), "t"),
        PlaceholderGenerator(Column("j", "json", "unsupported", nullable=False), "t"),
    ]
    for gen in gens:
        assert len(gen.generate(0, rng())) == 0
        assert len(gen.generate(1, rng())) == 1


def test_small_pii_batches_do_not_repeat_values():
    out = generator_for(Column("c", "string", "name")).generate(50, rng())
    assert out.is_unique


def test_patterned_keys_keep_digit_only_charset():
    real = pd.Series(["12-34", "56-78", "90-12"])
    gen = KeyGenerator(Column("code", "string", "id", length=5), "t").fit(real)
    out = gen.generate(1000, rng())
    assert gen.charset == "0123456789"
    assert out.is_unique and out.str.fullmatch(r"\d{5}").all()


def test_text_keeps_the_null_fraction_of_nullable_columns_only():
    real = pd.Series(["some words here", None, None, "more words"])
    out = TextGenerator(Column("b", "string", "text"), "t").fit(real).generate(4000, rng())
    assert 0.45 < out.isna().mean() < 0.55
    strict = TextGenerator(Column("b", "string", "text", nullable=False), "t").fit(real).generate(500, rng())
    assert strict.notna().all()


def test_pii_pool_is_made_once_and_does_not_depend_on_earlier_requests():
    from dbsynth.model.columns import _FakerPool, _pool

    grown = _FakerPool(("en_US",), "city")
    grown.take(2000)
    assert grown.take(300) == _FakerPool(("en_US",), "city").take(300)  # a fresh process gets the same values
    pool = _pool(("en_US",), "last_name")
    generator_for(Column("a", "string", "last_name")).generate(700, rng(1))
    chunks = pool.chunks
    generator_for(Column("b", "string", "last_name")).generate(500, rng(2))  # another column, same provider
    assert pool.chunks == chunks  # no new Faker calls


def test_pii_values_depend_on_the_seed():
    gen = generator_for(Column("c", "string", "first_name"))
    assert set(gen.generate(100, rng(1))) != set(gen.generate(100, rng(2)))
