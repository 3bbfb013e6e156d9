"""detect_from_dataframes on the demo CSVs and on hand-made frames."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dbsynth.errors import MetadataError
from dbsynth.metadata import detect_from_dataframes
from dbsynth.metadata import sdtypes as st

DEMO = Path(__file__).parents[1] / "data" / "demo"


@pytest.fixture(scope="module")
def demo():
    return {t: pd.read_csv(DEMO / f"{t}.csv") for t in ("users", "sessions", "transactions")}


def test_demo_keys_and_relationships(demo):
    md = detect_from_dataframes(demo)
    assert [md.table(t).primary_key for t in ("users", "sessions", "transactions")] == [
        ["user_id"], ["session_id"], ["transaction_id"],
    ]
    rels = sorted((c.name, fk.columns[0], fk.ref_table) for c, fk in md.relationships())
    assert rels == [("sessions", "user_id", "users"), ("transactions", "session_id", "sessions")]
    assert md.graph().deferred == []


def test_demo_types_and_sdtypes(demo):
    md = detect_from_dataframes(demo)
    tx = md.table("transactions")
    assert tx.column("timestamp").type == st.TIMESTAMP and tx.column("timestamp").sdtype == st.DATETIME
    assert tx.column("amount").type == st.FLOAT and tx.column("amount").sdtype == st.NUMERICAL
    assert tx.column("cancelled").sdtype == st.BOOLEAN
    users = md.table("users")
    assert users.column("age").sdtype == st.NUMERICAL and users.column("age").type == st.INTEGER
    assert users.column("gender").sdtype == st.CATEGORICAL and users.column("gender").nullable
    assert users.column("country").sdtype in (st.CATEGORICAL, "country")
    assert md.table("sessions").column("user_id").sdtype == st.ID


def test_values_outside_the_parent_are_not_a_foreign_key():
    users = pd.DataFrame({"id": [1, 2, 3], "email": ["a@x.io", "b@x.io", "c@x.io"]})
    placed = pd.to_datetime(["2024-01-01", "2024-01-02"])
    orders = pd.DataFrame({"order_id": [10, 11], "user_id": [1, 99], "placed": placed})
    md = detect_from_dataframes({"users": users, "orders": orders})
    assert md.table("users").primary_key == ["id"] and md.table("orders").foreign_keys == []
    assert md.table("users").column("email").sdtype == "email"
    assert md.table("orders").column("placed").type == st.DATE
    orders.loc[1, "user_id"] = 2
    md = detect_from_dataframes({"users": users, "orders": orders})
    [fk] = md.table("orders").foreign_keys
    assert (fk.columns, fk.ref_table, fk.ref_columns) == (["user_id"], "users", ["id"])


def test_duplicate_ids_are_not_a_primary_key_and_given_keys_win():
    frame = pd.DataFrame({"id": [1, 1, 2], "code": ["a", "b", "c"]})
    assert detect_from_dataframes({"t": frame}).table("t").primary_key == []
    assert detect_from_dataframes({"t": frame}, primary_keys={"t": "code"}).table("t").primary_key == ["code"]
    with pytest.raises(MetadataError, match="column 'nope'"):
        detect_from_dataframes({"t": frame}, primary_keys={"t": "nope"})
    with pytest.raises(MetadataError, match="no DataFrames"):
        detect_from_dataframes({})
