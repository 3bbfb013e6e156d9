"""The HMA1 guide, run as written on the demo dataset (users -> sessions -> transactions)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dbsynth.errors import NotFittedError
from dbsynth.metadata import Column, ForeignKey, Metadata, Table
from dbsynth.synthesizers import HMA1, HMASynthesizer

DEMO = Path(__file__).parents[1] / "data" / "demo"


def demo_metadata() -> Metadata:
    md = Metadata()
    md.add_table(Table("users", [
        Column("user_id", "integer", "id", nullable=False),
        Column("country", "string", "categorical"),
        Column("gender", "string", "categorical"),
        Column("age", "integer", "numerical"),
    ], primary_key=["user_id"]))
    md.add_table(Table("sessions", [
        Column("session_id", "integer", "id", nullable=False),
        Column("user_id", "integer", "id"),
        Column("device", "string", "categorical"),
        Column("os", "string", "categorical"),
        Column("minutes", "integer", "numerical"),
    ], primary_key=["session_id"], foreign_keys=[ForeignKey(["user_id"], "users", ["user_id"])]))
    md.add_table(Table("transactions", [
        Column("transaction_id", "integer", "id", nullable=False),
        Column("session_id", "integer", "id"),
        Column("timestamp", "timestamp", "datetime"),
        Column("amount", "float", "numerical"),
        Column("cancelled", "boolean", "boolean"),
    ], primary_key=["transaction_id"], foreign_keys=[ForeignKey(["session_id"], "sessions", ["session_id"])]))
    return md


def demo_tables() -> dict[str, pd.DataFrame]:
    tables = {t: pd.read_csv(DEMO / f"{t}.csv") for t in ("users", "sessions", "transactions")}
    tables["transactions"]["timestamp"] = pd.to_datetime(tables["transactions"]["timestamp"])
    return tables


def _check_integrity(md: Metadata, out: dict[str, pd.DataFrame]) -> None:
    for t, frame in out.items():
        table = md.tables[t]
        assert list(frame.columns) == table.column_names
        assert not frame[table.primary_key].duplicated().any()
        for fk in table.foreign_keys:
            if fk.ref_table not in out:
                continue
            vals = frame[fk.columns[0]].dropna()
            assert vals.isin(out[fk.ref_table][fk.ref_columns[0]]).all(), (t, fk.columns)


def test_hma1_guide_runs_as_written():
    md = demo_metadata()
    tables = demo_tables()
    model = HMA1(md, seed=0)
    with pytest.raises(NotFittedError):
        model.sample()
    model.fit(tables)
    new = model.sample()
    assert set(new) == {"users", "sessions", "transactions"}
    assert len(new["users"]) == len(tables["users"])
    _check_integrity(md, new)
    five = model.sample(num_rows=5)
    assert len(five["users"]) == 5
    _check_integrity(md, five)
    sub = model.sample("sessions", num_rows=5)
    assert set(sub) == {"sessions", "transactions"} and len(sub["sessions"]) == 5
    one = model.sample("users", num_rows=5, sample_children=False)
    assert isinstance(one, pd.DataFrame) and len(one) == 5
    # labels of fewer than min_category_count (5) users are never stored: generated ones in their style
    real = tables["users"]["country"]
    frequent = set(real.value_counts()[lambda c: c >= 5].index)
    assert one["country"].dropna().map(lambda v: v in frequent or (len(v) == 2 and v.isupper())).all()


def test_demo_types_and_determinism():
    md = demo_metadata()
    a = HMASynthesizer(md, seed=3).fit(demo_tables()).sample(scale=2.0)
    b = HMASynthesizer(md, seed=3).fit(demo_tables()).sample(scale=2.0)
    for t in a:
        pd.testing.assert_frame_equal(a[t], b[t])
    assert len(a["users"]) == 20
    tx = a["transactions"]
    assert tx["timestamp"].dtype == "datetime64[us]"
    assert tx["cancelled"].dtype == bool
    assert a["users"]["age"].dtype in ("int64", "Int64")
    _check_integrity(md, a)
