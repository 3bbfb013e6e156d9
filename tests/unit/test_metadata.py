"""Metadata records: validation names each problem; JSON round trip; malformed JSON names the key."""

from __future__ import annotations

import json

import pytest

from dbsynth.errors import MetadataError
from dbsynth.metadata import Column, ForeignKey, Metadata, Table, UniqueConstraint
from dbsynth.metadata import sdtypes as st
from dbsynth.metadata.infer import normalise_name, pii_kind


def sample() -> Metadata:
    md = Metadata(dialect="postgresql")
    md.add_table(Table("users", [Column("id", st.INTEGER, st.ID, nullable=False, bits=64, autoincrement=True),
                                 Column("email", st.STRING, "email", length=120),
                                 Column("tier", st.ENUM, st.CATEGORICAL, enum_name="tier", enum_values=["a", "b"])],
                       primary_key=["id"], unique_constraints=[UniqueConstraint(["email"], "users_email_key")],
                       row_count=3))
    md.add_table(Table("orders", [Column("id", st.INTEGER, st.ID, nullable=False),
                                  Column("user_id", st.INTEGER, st.ID),
                                  Column("total", st.DECIMAL, st.NUMERICAL, precision=10, scale=2)],
                       primary_key=["id"], foreign_keys=[ForeignKey(["user_id"], "users", ["id"])]))
    return md


def test_valid_metadata_gets_fk_names():
    md = sample().validate()
    assert md.table("orders").foreign_keys[0].name == "fk_orders_user_id"


def test_each_problem_is_named():
    md = sample()
    orders = md.table("orders")
    orders.columns[2].sdtype = "money"
    orders.columns[1].type = "bigint"
    orders.primary_key = ["order_id"]
    orders.foreign_keys.append(ForeignKey(["user_id"], "customers", ["id"]))
    md.table("users").columns[2].enum_values = None
    with pytest.raises(MetadataError) as err:
        md.validate()
    text = str(err.value)
    for piece in ("column 'total': unknown sdtype 'money'", "column 'user_id': unknown type 'bigint'",
                  "primary key column 'order_id' does not exist", "refers to unknown table 'customers'",
                  "column 'tier': enum column without enum_values"):
        assert piece in text
    assert "\n" not in text


def test_fk_to_a_non_key_column_is_a_problem():
    md = sample()
    md.table("orders").foreign_keys[0].ref_columns = ["email"]
    md.table("users").unique_constraints = []
    with pytest.raises(MetadataError, match="neither its primary key nor a unique constraint"):
        md.validate()


def test_json_round_trip(tmp_path):
    md = sample().validate()
    path = md.save(tmp_path / "m.json")
    again = Metadata.load(path)
    assert again.to_dict() == md.to_dict()
    assert again.fingerprint() == md.fingerprint()
    assert again.table("users").column("tier").enum_values == ["a", "b"]


def test_malformed_json_names_the_key(tmp_path):
    data = sample().to_dict()
    data["tables"]["users"]["columns"][0]["nullable"] = "perhaps"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(MetadataError, match=r"tables\.users\.columns\[0\]\.nullable"):
        Metadata.load(path)
    path.write_text("{not json")
    with pytest.raises(MetadataError, match="not valid JSON"):
        Metadata.load(path)


@pytest.mark.parametrize(
    "name, kind",
    [("Email", "email"), ("FirstName", "first_name"), ("last_name", "last_name"), ("BillingCity", "city"),
     ("postal_code", "postcode"), ("phone", "phone_number"), ("title", None), ("address_id", None)],
)
def test_pii_by_name(name, kind):
    assert pii_kind(name) == kind


def test_normalise_name():
    assert normalise_name("InvoiceLineId") == "invoice_line_id" and normalise_name("Billing City") == "billing_city"


class _Stat:
    def __init__(self, distinct, non_null):
        self.distinct, self.non_null = distinct, non_null

    @property
    def distinct_ratio(self):
        return self.distinct / self.non_null


@pytest.mark.parametrize(
    "column, is_key, stat, expected",
    [
        (Column("city", st.STRING), False, _Stat(590, 600), "city"),
        (Column("city", st.STRING), False, _Stat(4, 600), st.CATEGORICAL),  # a handful of repeated cities
        (Column("description", st.STRING), False, _Stat(990, 1000), st.TEXT),
        (Column("status", st.STRING), False, _Stat(3, 1000), st.CATEGORICAL),
        (Column("notes", st.STRING), False, None, st.TEXT),  # unbounded, no statistics
        (Column("code", st.STRING, length=8), False, None, st.CATEGORICAL),
        (Column("manager_staff_id", st.INTEGER), False, None, st.ID),
        (Column("amount", st.INTEGER), True, None, st.ID),
        (Column("amount", st.DECIMAL), False, None, st.NUMERICAL),
        (Column("doc", st.JSON), False, None, st.UNSUPPORTED),
        (Column("kind", st.ENUM, enum_values=["a"]), False, None, st.CATEGORICAL),
    ],
)
def test_sdtype_inference(column, is_key, stat, expected):
    from dbsynth.metadata.infer import sdtype_for

    assert sdtype_for(column, is_key, stat) == expected
