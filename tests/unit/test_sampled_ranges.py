"""Sampled values stay inside what the source's columns hold (issue 15, torture findings on sampled ranges).

* a date in a composite primary key (events, range-partitioned on created_on in its key) keeps its observed
  range instead of keys numbered from 2000-01-01, and the key stays unique;
* decimals past float64's range (NUMERIC(1000, 500) near 1e489) are sampled finite, of the observed magnitude;
* DATETIME(6) values near 9999-12-31 23:59:59.999999 never round up into year 10000;
* YEAR values are clipped to what MariaDB's YEAR holds (1901..2155, or 0).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import numpy as np
import pandas as pd

from dbsynth.metadata import Column, ForeignKey, Metadata, Table
from dbsynth.metadata import sdtypes as st
from dbsynth.sample.repair import repair
from dbsynth.synthesizers import HMASynthesizer


def _events(n: int = 200) -> tuple[Metadata, dict[str, pd.DataFrame]]:
    md = Metadata(dialect="postgresql")
    md.add_table(Table("events", [
        Column("event_id", st.INTEGER, st.ID, nullable=False, bits=32),
        Column("created_on", st.DATE, st.ID, nullable=False),
        Column("kind", st.STRING, st.CATEGORICAL, nullable=False),
    ], primary_key=["event_id", "created_on"]))
    days = pd.to_datetime("2023-06-01") + pd.to_timedelta(np.arange(1, n + 1) * 2, unit="D")
    data = {"events": pd.DataFrame({
        "event_id": np.arange(1000, 1000 + 10 * n, 10),
        "created_on": days.astype("datetime64[us]"),
        "kind": np.array(["open", "close", "retry"])[np.arange(n) % 3],
    })}
    return md, data


def test_a_date_in_a_composite_key_keeps_its_observed_range():
    md, data = _events()
    out = HMASynthesizer(md, seed=3, verbose=False).fit(data).sample()["events"]
    created = pd.to_datetime(out["created_on"])
    # inside the partitions of 2023 and 2024 (the source spans 2023-06-03 .. 2024-07-01)
    assert created.min() >= pd.Timestamp("2023-06-03") and created.max() <= pd.Timestamp("2024-07-01")
    assert created.nunique() > 50  # a distribution, not one value
    assert not out.duplicated(["event_id", "created_on"]).any()


def test_the_key_date_stored_is_private(tmp_path):
    md, data = _events()
    synth = HMASynthesizer(md, seed=3, verbose=False).fit(data)
    spec = synth.fitted_models()["events"].transforms["created_on"]
    first = data["events"]["created_on"].min().timestamp()
    last = data["events"]["created_on"].max().timestamp()
    assert first < spec["min"] < spec["max"] < last  # window means of k rows, not the first or last row
    path = synth.save(tmp_path / "m.dbsynth")
    assert path.exists()


def test_a_date_in_a_key_with_a_reference_stays_unique():
    md = Metadata(dialect="postgresql")
    md.add_table(Table("staff", [Column("staff_id", st.INTEGER, st.ID, nullable=False, bits=32)],
                       primary_key=["staff_id"]))
    md.add_table(Table("history", [
        Column("staff_id", st.INTEGER, st.ID, nullable=False, bits=32),
        Column("from_date", st.DATE, st.ID, nullable=False),
    ], primary_key=["staff_id", "from_date"], foreign_keys=[ForeignKey(["staff_id"], "staff", ["staff_id"])]))
    rng = np.random.default_rng(1)
    staff = pd.DataFrame({"staff_id": np.arange(20)})
    hist = pd.DataFrame({"staff_id": np.repeat(np.arange(20), 6),
                         "from_date": (pd.Timestamp("2020-01-01") + pd.to_timedelta(
                             rng.integers(0, 40, 120), unit="D")).astype("datetime64[us]")})
    hist = hist.drop_duplicates().reset_index(drop=True)
    out = HMASynthesizer(md, seed=5, verbose=False).fit({"staff": staff, "history": hist}).sample()["history"]
    assert len(out) > 0
    assert not out.duplicated(["staff_id", "from_date"]).any()
    d = pd.to_datetime(out["from_date"])
    assert d.min() >= pd.Timestamp("2020-01-01") and d.max() <= pd.Timestamp("2020-02-10")


def _huge(n: int = 200) -> tuple[Metadata, dict[str, pd.DataFrame]]:
    md = Metadata(dialect="postgresql")
    md.add_table(Table("t_numeric", [
        Column("id", st.INTEGER, st.ID, nullable=False, bits=32),
        Column("n1000", st.DECIMAL, st.NUMERICAL, native_type="NUMERIC(1000, 500)"),
    ], primary_key=["id"]))
    vals = [None if g % 7 == 0 else Decimal("0." + f"{g:03d}" * 160).scaleb(490) for g in range(1, n + 1)]
    return md, {"t_numeric": pd.DataFrame({"id": np.arange(1, n + 1), "n1000": pd.Series(vals, dtype="object")})}


def test_decimals_past_float64_are_sampled_finite_and_of_the_observed_magnitude():
    md, data = _huge()
    synth = HMASynthesizer(md, seed=2, verbose=False).fit(data)
    out = synth.sample()["t_numeric"]["n1000"]
    got = [v for v in out if v is not None]
    assert got and all(isinstance(v, Decimal) and v.is_finite() for v in got)
    src = [v for v in data["t_numeric"]["n1000"] if v is not None]
    assert min(src) <= min(got) and max(got) <= max(src)
    # fits NUMERIC(1000, 500): at most 500 digits before the point
    assert all(v.adjusted() < 500 for v in got)
    assert out.isna().any()  # NULLs kept
    spec = synth.fitted_models()["t_numeric"].transforms["n1000"]
    assert spec["exp10"] % 10 == 0
    scaled = {float(v.scaleb(-spec["exp10"])) for v in src}
    assert spec["min"] not in scaled and spec["max"] not in scaled  # no source value in the model file
    assert "Infinity" not in json.dumps(spec, default=float)


def test_datetimes_near_year_9999_never_pass_it():
    md = Metadata(dialect="mysql")
    md.add_table(Table("t_time", [
        Column("id", st.INTEGER, st.ID, nullable=False, bits=32),
        Column("dt6", st.TIMESTAMP, st.DATETIME, nullable=False, native_type="DATETIME(6)"),
        Column("late", st.TIMESTAMP, st.DATETIME, nullable=False, native_type="DATETIME(6)"),
    ], primary_key=["id"]))
    n = 200
    top = pd.Timestamp("9999-12-31 23:59:59.999999")
    base = pd.Timestamp("2020-01-01")
    dt6 = [top if i % 10 == 0 else base + pd.Timedelta(microseconds=i * 4623123456) for i in range(n)]
    # no point mass: spread over the last day of 9999, up to its last microsecond
    # (six rows at the last microsecond: too few for a point mass, enough for the private maximum to be it)
    late = [top - pd.Timedelta(microseconds=0 if i < 6 else int(i * 431_999_999)) for i in range(n)]
    data = {"t_time": pd.DataFrame({"id": np.arange(n), "dt6": pd.Series(dt6).astype("datetime64[us]"),
                                    "late": pd.Series(late).astype("datetime64[us]")})}
    out = HMASynthesizer(md, seed=4, verbose=False).fit(data).sample(num_rows=2000)["t_time"]
    for c in ("dt6", "late"):
        assert out[c].max() <= top, c
    assert (out["dt6"] == top).any()  # the point mass kept exactly


def test_year_columns_are_clipped_to_the_type():
    t = Table("t", [Column("y", st.INTEGER, st.NUMERICAL, nullable=False, bits=16, native_type="YEAR(4)"),
                    Column("small", st.INTEGER, st.NUMERICAL, nullable=False, bits=16)])
    df = pd.DataFrame({"y": [0, 1574, 1990, 2200, 2155], "small": [0, 1574, 1990, 2200, 2155]})
    out = repair(df, t, np.random.default_rng(0))
    assert out["y"].tolist() == [0, 1901, 1990, 2155, 2155]
    assert out["small"].tolist() == [0, 1574, 1990, 2200, 2155]  # not a YEAR: left alone


def test_date_type_is_sampled_in_range_too():
    # a DATE column keeps a day: the microsecond clip must not move it off the range either
    md, data = _events(30)
    out = HMASynthesizer(md, seed=8, verbose=False).fit(data).sample(num_rows=500)["events"]
    created = pd.to_datetime(out["created_on"])
    assert (created.dt.time == dt.time(0)).all()
    assert created.max() <= pd.Timestamp("2023-08-01")
