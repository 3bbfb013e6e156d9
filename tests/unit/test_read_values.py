"""Driver values at the edges (issue 15): marker dates, infinities, fractional seconds, BIGINT UNSIGNED max,
binary with trailing zero bytes, read into the frame contract and written back exactly."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from dbsynth.metadata.records import Column
from dbsynth.model.transforms import fit_transform, inverse_transform
from dbsynth.read import (
    INFINITY_US,
    NEG_INFINITY_US,
    ZERO_DATE_US,
    _convert,
    marker_mask,
)
from dbsynth.write.convert import pg_column, python_columns

DATE = Column("d", "date", "datetime")
TS = Column("ts", "timestamp", "datetime")


def test_dates_past_the_ns_range_and_markers_read_exactly():
    values = [dt.date(9999, 1, 1), dt.date(9999, 12, 31), dt.date(1, 1, 1), "infinity", "-infinity",
              "0000-00-00", None, dt.date(2024, 2, 29)]
    s = _convert(values, DATE)
    assert s.dtype == "datetime64[us]"
    assert s[0] == pd.Timestamp("9999-01-01") and s[1] == pd.Timestamp("9999-12-31")
    assert s[2] == pd.Timestamp("0001-01-01") and s[7] == pd.Timestamp("2024-02-29") and pd.isna(s[6])
    assert marker_mask(s, INFINITY_US).tolist() == [False, False, False, True, False, False, False, False]
    assert marker_mask(s, NEG_INFINITY_US).tolist() == [False, False, False, False, True, False, False, False]
    assert marker_mask(s, ZERO_DATE_US).tolist() == [False, False, False, False, False, True, False, False]


def test_timestamps_keep_microseconds_and_markers():
    values = [dt.datetime(9999, 12, 31, 23, 59, 59, 999999), "2021-03-04 05:06:07.000123", "infinity",
              "0000-00-00 00:00:00"]
    s = _convert(values, TS)
    assert s[0] == pd.Timestamp("9999-12-31 23:59:59.999999")
    assert s[1] == pd.Timestamp("2021-03-04 05:06:07.000123")
    assert marker_mask(s, INFINITY_US)[2] and marker_mask(s, ZERO_DATE_US)[3]
    tz = _convert([dt.datetime(9999, 1, 1, 0, 0, 0, 5, tzinfo=dt.UTC), "-infinity"],
                  Column("z", "timestamp", "datetime", timezone=True))
    assert str(tz.dtype) == "datetime64[us, UTC]" and tz[0] == pd.Timestamp("9999-01-01 00:00:00.000005", tz="UTC")
    assert marker_mask(tz, NEG_INFINITY_US)[1]


def test_markers_written_per_dialect():
    s = _convert([dt.date(9999, 1, 1), "infinity", "-infinity", "0000-00-00", None], DATE)
    assert pg_column(s, DATE).tolist()[:4] == ["9999-01-01", "infinity", "-infinity", "-infinity"]
    assert python_columns(pd.DataFrame({"d": s}), [DATE], "mysql")[0] == [
        "9999-01-01", "9999-12-31", "0001-01-01", "0000-00-00", None]
    assert python_columns(pd.DataFrame({"d": s}), [DATE], "sqlite")[0] == [
        "9999-01-01", "infinity", "-infinity", "0000-00-00", None]
    t = _convert(["2021-03-04 05:06:07.000123", "infinity", None], TS)
    assert pg_column(t, TS).tolist()[:2] == ["2021-03-04 05:06:07.000123", "infinity"]
    assert python_columns(pd.DataFrame({"ts": t}), [TS], "mysql")[0][:2] == [
        "2021-03-04 05:06:07.000123", "9999-12-31 23:59:59.999999"]


def test_unsigned_64_bit_max_reads_and_writes_exactly():
    col = Column("u8", "integer", "numerical", bits=64, native_type="BIGINT UNSIGNED")
    s = _convert([2**64 - 1, 0, None], col)
    assert str(s.dtype) == "UInt64" and int(s[0]) == 2**64 - 1
    assert python_columns(pd.DataFrame({"u8": s}), [col], "mysql")[0] == [2**64 - 1, 0, None]
    obj = pd.Series([2**64 - 1, 5], dtype=object)
    assert python_columns(pd.DataFrame({"u8": obj}), [col], "mysql")[0] == [2**64 - 1, 5]


def test_binary_keeps_trailing_zero_bytes():
    col = Column("b", "binary", "unsupported")
    s = _convert([memoryview(b"\xff\x00\x00"), None, b"\x00\xff\xe6"], col)
    for dialect in ("sqlite", "mysql"):
        assert python_columns(pd.DataFrame({"b": s}), [col], dialect)[0] == [b"\xff\x00\x00", None, b"\x00\xff\xe6"]
    assert pg_column(s, col).tolist()[0] == "\\xff0000"


def test_a_marker_date_a_third_of_the_rows_carry_is_a_point_mass():
    n = 300
    dates: list = [dt.date(9999, 1, 1) if i % 3 == 0 else dt.date(2020, 1, 1) + dt.timedelta(days=i)
                   for i in range(n)]
    dates[1] = "infinity"
    s = _convert(dates, DATE)
    spec, latent = fit_transform(DATE, s, np.random.default_rng(0))
    out = inverse_transform(DATE, spec, latent, n)
    assert (out == pd.Timestamp("9999-01-01")).sum() == n // 3  # exactly, not clipped to the continuous range
    assert marker_mask(out, INFINITY_US)[1]
    rest = out[(out != pd.Timestamp("9999-01-01")) & ~marker_mask(out, INFINITY_US)]
    assert rest.min() >= pd.Timestamp("2020-01-01") and rest.max() <= pd.Timestamp("2021-01-01")


def test_unsigned_64_bit_max_survives_the_model():
    col = Column("u8", "integer", "numerical", bits=64)
    s = _convert([2**64 - 1] * 10 + list(range(10, 20)), col)
    spec, latent = fit_transform(col, s, np.random.default_rng(0))
    out = inverse_transform(col, spec, latent, 20)
    # not wrapped through int64 (the low end is the k-row window mean: the privacy rule's minimum)
    assert [int(v) for v in out][:10] == [2**64 - 1] * 10 and str(out.dtype) == "uint64"


def test_infinite_floats_into_mariadb_are_null_or_a_one_line_error():
    import pytest

    from dbsynth.write.convert import ConversionError

    col = Column("f8", "float", "numerical")
    frame = pd.DataFrame({"f8": [1.5, np.inf, -np.inf, np.nan]})
    assert python_columns(frame, [col], "mysql")[0] == [1.5, None, None, None]
    assert python_columns(frame, [col], "sqlite")[0][:3] == [1.5, np.inf, -np.inf]  # SQLite stores them
    strict = Column("f8", "float", "numerical", nullable=False)
    with pytest.raises(ConversionError) as err:
        python_columns(frame.iloc[:2], [strict], "mysql")
    assert err.value.column == "f8" and "\n" not in str(err.value) and "NOT NULL" in str(err.value)
