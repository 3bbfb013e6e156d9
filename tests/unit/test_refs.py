"""Reference bookkeeping of the sampling engine (dbsynth.sample.refs) and the stratified draws it uses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dbsynth.model import draws
from dbsynth.model.fold import count_histogram
from dbsynth.sample import refs as _refs


def _frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    a = pd.array(rng.integers(0, 6, n), dtype="Int64")
    a[rng.random(n) < 0.1] = pd.NA
    b = pd.Series(rng.choice(["x", "y", None], n), dtype="object")
    return pd.DataFrame({"a": a, "b": b, "c": rng.integers(0, 3, n)})


@pytest.mark.parametrize("cols", [["a"], ["b"], ["a", "b"], ["a", "b", "c"]])
def test_key_codes_find_the_duplicates_and_nulls_pandas_finds(cols):
    frame = _frame(np.random.default_rng(len(cols)), 500)
    codes, full = _refs.key_codes(frame, cols)
    assert np.array_equal(_refs.duplicated(codes), frame[cols].duplicated().to_numpy())
    assert np.array_equal(full, frame[cols].notna().all(axis=1).to_numpy())


def test_key_codes_are_renumbered_before_they_overflow(monkeypatch):
    monkeypatch.setattr(_refs, "_CODE_LIMIT", 16)  # the same path a many-column key of big tables takes
    frame = _frame(np.random.default_rng(3), 400)
    codes, _ = _refs.key_codes(frame, ["a", "b", "c"])
    assert codes.max() < 16 * 8
    assert np.array_equal(_refs.duplicated(codes), frame[["a", "b", "c"]].duplicated().to_numpy())


def test_unique_mask_keeps_the_first_of_each_reference_key_and_every_row_with_a_null():
    from dbsynth.metadata import Column, ForeignKey, Table

    table = Table("pair", [Column("x", "integer", "id"), Column("y", "integer", "id")], primary_key=["x", "y"],
                  foreign_keys=[ForeignKey(["x"], "p", ["id"]), ForeignKey(["y"], "q", ["id"])])
    frame = pd.DataFrame({"x": pd.array([1, 1, 2, 1, None, None], dtype="Int64"),
                          "y": pd.array([5, 5, 5, 6, 7, 7], dtype="Int64")})
    keep = _refs.unique_mask(frame, table, {"x", "y"})
    assert keep.tolist() == [True, False, True, True, True, True]


@pytest.mark.parametrize("total_room", ["few", "many"])
def test_room_slots_respect_each_parents_room(total_room):
    rng = np.random.default_rng(0)
    room = rng.integers(0, 4 if total_room == "few" else 60, 500)
    slots = _refs.room_slots(room, 50, np.random.default_rng(1))
    used = np.bincount(slots, minlength=len(room))
    assert (used <= room).all()
    assert len(slots) >= min(int(room.sum()), 4 * 50)
    if total_room == "few":  # every free place listed once
        assert np.array_equal(used, room)


def test_rank_matched_counts_follow_the_histogram_exactly_in_the_order_drawn():
    hist = count_histogram(np.array([0, 0, 0, 0, 0, 18, 20, 21]))
    raw = np.array([3.0, 0.5, 11.2, 0.9, 1.0, 2.0, 21.0, 0.1])  # interpolated quantiles, as a copula draws them
    out = draws.rank_matched_counts(raw, hist, np.random.default_rng(0))
    assert sorted(out) == [0, 0, 0, 0, 0, 18, 20, 21]
    assert out[6] == 21 and out[2] == 20 and out[0] == 18  # the largest draws get the largest counts
    big = draws.rank_matched_counts(np.random.default_rng(1).normal(size=1000), hist, np.random.default_rng(2))
    assert abs((big == 0).mean() - 5 / 8) <= 1 / 1000  # stratified: each share within one parent


def test_stratified_counts_sum_and_stay_within_one_of_their_expectation():
    w = np.array([0.5, 0.3, 0.199, 0.001])
    for seed in range(20):
        per = draws.stratified(w, 1000, np.random.default_rng(seed))
        assert per.sum() == 1000 and (np.abs(per - w * 1000) < 1).all()


def test_bridge_duplicates_are_swapped_so_every_parent_keeps_its_count():
    # a bridge table: 400 tracks x 12 playlists, two playlists holding nearly every track (as in Chinook)
    from dbsynth.metadata import Column, ForeignKey, Table

    rng = np.random.default_rng(0)
    table = Table("pt", [Column("track", "integer", "id"), Column("playlist", "integer", "id")],
                  primary_key=["track", "playlist"],
                  foreign_keys=[ForeignKey(["track"], "tracks", ["id"]), ForeignKey(["playlist"], "playlists", ["id"])])
    want = np.array([390, 380, 60, 40, 30, 20, 10, 5, 3, 1, 1, 0])
    refs = rng.permutation(np.repeat(np.arange(12), want))  # playlists dealt at random: many repeats
    per_track = np.r_[np.full(260, 2), np.full(140, 3)]  # 940 rows, every track in 2 or 3 playlists
    frame = pd.DataFrame({"track": np.repeat(np.arange(400), per_track), "playlist": refs})
    playlists = pd.DataFrame({"id": np.arange(12)})
    fk = table.foreign_keys[1]
    assert frame.duplicated().sum() > 100
    _refs.redraw_duplicates(frame, table, fk, playlists, 390, refs, {"track", "playlist"}, np.random.default_rng(1))
    keep = _refs.unique_mask(frame, table, {"track", "playlist"})
    assert (~keep).sum() <= 3  # what no swap could place is dropped afterwards
    assert np.abs(np.bincount(refs, minlength=12) - want).max() <= 3  # the big playlists stay big
    assert (frame["playlist"].to_numpy() == refs).all()
