"""UNIQUE across batches (issue 14, item 8), without a server.

A 300,000-row UNIQUE text column failed with a duplicate key "in batch 2": every batch was made unique on its
own. Every column under a UNIQUE constraint (single and composite) and every key must be unique over all the
batches of ``iter_sample``, whatever ``batch_rows``, for the three synthesizers, whether the column is
generated (keys, PII, text) or modelled (numbers, dates, categories).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dbsynth.metadata import Column, ForeignKey, Metadata, Table, UniqueConstraint
from dbsynth.model.columns import TextGenerator
from dbsynth.sample.repair import SeenKeys, UniqueState, repair
from dbsynth.synthesizers import HMASynthesizer, HSASynthesizer, IndependentSynthesizer

SYNTHESIZERS = [HMASynthesizer, HSASynthesizer, IndependentSynthesizer]

#: Every constraint of the users table below, as column lists.
UNIQUES = [["user_id"], ["code"], ["number"], ["joined"], ["score"], ["tier"], ["email"], ["tier", "score"],
           ["team_id", "rank"], ["team_id", "handle"]]


def users_data(n: int = 3000, seed: int = 0) -> tuple[Metadata, dict[str, pd.DataFrame]]:
    """teams -> users, where users has a UNIQUE of every kind: a text code (C-0000001), a modelled integer,
    date, float and category, a unique email (PII), composite keys with a modelled or a text column, and one
    with a reference."""
    rng = np.random.default_rng(seed)
    n_teams = 40
    md = Metadata()
    md.add_table(Table("teams", [Column("team_id", "integer", "id", nullable=False),
                                 Column("budget", "float", "numerical")], primary_key=["team_id"]))
    md.add_table(Table("users", [
        Column("user_id", "integer", "id", nullable=False),
        Column("team_id", "integer", "id", nullable=False),
        Column("code", "string", "text", length=20, nullable=False),
        Column("number", "integer", "numerical", nullable=False),
        Column("joined", "date", "datetime"),
        Column("score", "float", "numerical"),
        Column("tier", "string", "categorical"),
        Column("email", "string", "email"),
        Column("rank", "integer", "numerical"),
        Column("handle", "string", "text", length=12),
    ], primary_key=["user_id"], foreign_keys=[ForeignKey(["team_id"], "teams", ["team_id"], name="users_team_fk")],
        unique_constraints=[UniqueConstraint(u, name=f"users_{'_'.join(u)}_key") for u in UNIQUES[1:]]))
    teams = pd.DataFrame({"team_id": np.arange(1, n_teams + 1), "budget": rng.gamma(2.0, 100.0, n_teams).round(2)})
    users = pd.DataFrame({
        "user_id": np.arange(1, n + 1),
        "team_id": rng.integers(1, n_teams + 1, n),
        "code": [f"C-{i:07d}" for i in range(1, n + 1)],
        "number": rng.permutation(n) + 1,
        "joined": pd.Timestamp("2000-01-01") + pd.to_timedelta(rng.permutation(4 * n)[:n], unit="D"),
        "score": rng.normal(size=n).round(1) + np.arange(n) * 1e-3,  # unique in the source, repeated once rounded
        "tier": [f"tier-{i}" for i in range(n)],
        "email": [f"user{i}@example.org" for i in range(n)],
        "rank": rng.permutation(n),
        "handle": [f"h{i}" for i in range(n)],
    })
    users["score"] = users["score"].round(3)
    return md, {"teams": teams, "users": users}


def _assert_unique(md: Metadata, out: dict[str, pd.DataFrame]) -> None:
    for t, frame in out.items():
        table = md.tables[t]
        keys = [list(table.primary_key)] + [list(u.columns) for u in table.unique_constraints]
        for cols in keys:
            sub = frame[cols].dropna()
            assert not sub.duplicated().any(), (t, cols, int(sub.duplicated().sum()))


@pytest.fixture(scope="module")
def users():
    return users_data()


@pytest.mark.parametrize("cls", SYNTHESIZERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("batch_rows", [1, 257, 1000])
def test_every_unique_constraint_holds_over_all_batches(users, cls, batch_rows):
    md, data = users
    syn = cls(md, seed=4, verbose=False).fit(data)
    batches = list(syn.iter_sample(scale=1.5 if batch_rows > 1 else 0.2, batch_rows=batch_rows))
    assert sum(1 for t, _ in batches if t == "users") > 1  # the table did span batches
    out = {t: pd.concat([f for name, f in batches if name == t], ignore_index=True) for t in md.tables}
    _assert_unique(md, out)
    # references stay valid
    assert out["users"]["team_id"].isin(out["teams"]["team_id"]).all()


def test_large_unique_text_column_in_small_batches():
    """The reported case: 300,000 C-0000001 codes (here 60,000 rows in batches of 5,000: the bug is about
    batches), HMA, whose batches are drawn one by one."""
    n = 60_000
    md = Metadata()
    md.add_table(Table("users", [Column("id", "integer", "id", nullable=False),
                                 Column("code", "string", "text", length=20, nullable=False)],
                       primary_key=["id"], unique_constraints=[UniqueConstraint(["code"], name="users_code_key")]))
    data = {"users": pd.DataFrame({"id": np.arange(1, n + 1), "code": [f"C-{i:07d}" for i in range(1, n + 1)]})}
    syn = HMASynthesizer(md, seed=1, verbose=False).fit(data)
    codes = pd.concat([f["code"] for _, f in syn.iter_sample(batch_rows=5_000)], ignore_index=True)
    assert len(codes) == n and codes.is_unique
    assert codes.str.len().max() <= 20


def test_modelled_unique_values_stay_in_shape():
    """Values moved to be unique are few and near: a unique float keeps its spread, dates their range."""
    md, data = users_data(2000, seed=2)
    syn = HMASynthesizer(md, seed=2, verbose=False).fit(data)
    out = pd.concat([f for t, f in syn.iter_sample(batch_rows=300) if t == "users"], ignore_index=True)
    real = data["users"]
    assert out["score"].is_unique and out["joined"].dropna().is_unique
    assert abs(out["score"].std() - real["score"].std()) < 0.25 * real["score"].std()
    assert out["joined"].max() <= real["joined"].max() + pd.Timedelta(days=60)


def test_repair_state_carries_constraints_across_frames():
    t = Table("t", [Column("n", "integer", "numerical"), Column("x", "float", "numerical"),
                    Column("s", "string", "categorical", length=6), Column("d", "timestamp", "datetime")],
              unique_constraints=[UniqueConstraint(["n"]), UniqueConstraint(["x"]), UniqueConstraint(["s"]),
                                  UniqueConstraint(["d"])])
    state = UniqueState()
    rng = np.random.default_rng(0)
    parts = []
    for _ in range(4):
        df = pd.DataFrame({"n": [1, 2, 2, 3], "x": [0.5, 0.5, 1.5, 2.5], "s": ["a", "A", "b", "b "],
                           "d": pd.to_datetime(["2024-01-01"] * 3 + ["2024-01-02"])})
        parts.append(repair(df, t, rng, state))
    out = pd.concat(parts, ignore_index=True)
    for c in ("n", "x", "d"):
        assert out[c].is_unique, c
    # strings that a case-insensitive, PAD SPACE collation takes as equal are told apart too
    assert out["s"].str.rstrip().str.casefold().is_unique
    assert out["s"].str.len().max() <= 6
    # without the state each frame is unique on its own only (what batches got before)
    alone = pd.concat([repair(p, t, rng) for p in parts[:1] * 2], ignore_index=True)
    assert alone["n"].duplicated().any()


def test_seen_keys_membership_over_many_additions():
    rng = np.random.default_rng(1)
    seen = SeenKeys()
    added = []
    for size in rng.integers(0, 500, 60):
        h = rng.integers(0, 2**62, size).astype(np.uint64)
        seen.add(h)
        added.append(h)
    every = np.concatenate(added)
    assert seen.contains(every).all() and len(seen) == len(np.unique(every))
    fresh = rng.integers(2**62, 2**63, 1000).astype(np.uint64)
    assert not seen.contains(fresh).any()
    assert len(seen._runs) <= 12  # log-structured: a handful of sorted runs, not one per addition


@pytest.mark.parametrize("char_class,length", [("words", 12), ("alnum", None), ("digits", 8), ("upper", 3)])
def test_unique_text_generator_is_distinct_across_calls(char_class, length):
    gen = TextGenerator(Column("c", "string", "text", length=length), "t", unique=True)
    gen.fit(pd.Series({"words": ["ab cd", "ef gh ij"], "alnum": ["a1B2", "c3D4"], "digits": ["1234", "5678"],
                       "upper": ["AB", "CD"]}[char_class] * 10))
    rng = np.random.default_rng(0)
    values = pd.concat([gen.generate(n, rng, start=s) for s, n in [(0, 500), (500, 7), (507, 3000)]],
                       ignore_index=True)
    assert values.is_unique
    if length is not None:
        assert values.str.len().max() <= length
    assert TextGenerator.from_dict(gen.to_dict()).unique
