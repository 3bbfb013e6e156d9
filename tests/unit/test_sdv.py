"""SDV metadata: legacy V1 and V2 import, V2 export round trip, precise errors."""

from __future__ import annotations

import copy

import pytest

from dbsynth.errors import MetadataError
from dbsynth.metadata import Metadata
from dbsynth.metadata import sdtypes as st
from dbsynth.metadata.sdv import from_sdv, to_sdv

V2 = {
    "METADATA_SPEC_VERSION": "MULTI_TABLE_V1",
    "tables": {
        "hotels": {
            "primary_key": "hotel_id",
            "columns": {
                "hotel_id": {"sdtype": "id", "regex_format": "HID_[0-9]{3}"},
                "city": {"sdtype": "categorical"},
                "rating": {"sdtype": "numerical", "computer_representation": "Float"},
                "rooms": {"sdtype": "numerical", "computer_representation": "Int16"},
            },
        },
        "guests": {
            "primary_key": "guest_email",
            "columns": {
                "guest_email": {"sdtype": "email", "pii": True},
                "hotel_id": {"sdtype": "id", "regex_format": "HID_[0-9]{3}"},
                "checkin_date": {"sdtype": "datetime", "datetime_format": "%d %b %Y"},
                "has_rewards": {"sdtype": "boolean"},
            },
        },
    },
    "relationships": [
        {"parent_table_name": "hotels", "parent_primary_key": "hotel_id",
         "child_table_name": "guests", "child_foreign_key": "hotel_id"}
    ],
}

V1 = {
    "tables": {
        "users": {
            "primary_key": "user_id",
            "fields": {
                "user_id": {"type": "id", "subtype": "integer"},
                "country": {"type": "categorical"},
                "age": {"type": "numerical", "subtype": "integer"},
                "joined": {"type": "datetime", "format": "%Y-%m-%d"},
            },
        },
        "sessions": {
            "primary_key": "session_id",
            "fields": {
                "session_id": {"type": "id", "subtype": "integer"},
                "user_id": {"type": "id", "subtype": "integer", "ref": {"table": "users", "field": "user_id"}},
                "device": {"type": "categorical"},
                "amount": {"type": "numerical", "subtype": "float"},
            },
        },
    }
}


def test_v2_import():
    md = from_sdv(V2)
    assert set(md.tables) == {"hotels", "guests"}
    hotels, guests = md.table("hotels"), md.table("guests")
    assert hotels.primary_key == ["hotel_id"] and hotels.column("hotel_id").type == st.STRING
    assert hotels.column("rooms").type == st.INTEGER and hotels.column("rooms").bits == 16
    assert hotels.column("rating").type == st.FLOAT
    assert guests.column("guest_email").sdtype == "email"
    assert guests.column("checkin_date").type == st.DATE
    assert guests.column("has_rewards").type == st.BOOL
    [fk] = guests.foreign_keys
    assert (fk.columns, fk.ref_table, fk.ref_columns) == (["hotel_id"], "hotels", ["hotel_id"])


def test_v1_import():
    md = from_sdv(V1)
    users, sessions = md.table("users"), md.table("sessions")
    assert users.column("age").type == st.INTEGER and users.column("age").sdtype == st.NUMERICAL
    assert users.column("joined").type == st.DATE and users.column("joined").sdtype == st.DATETIME
    assert sessions.column("amount").type == st.FLOAT
    [fk] = sessions.foreign_keys
    assert (fk.columns, fk.ref_table) == (["user_id"], "users")


def test_metadata_load_detects_sdv(tmp_path):
    import json

    path = tmp_path / "sdv.json"
    path.write_text(json.dumps(V2))
    assert set(Metadata.load(path).tables) == {"hotels", "guests"}


def test_v2_export_round_trip():
    md = from_sdv(V2)
    exported = to_sdv(md)
    assert exported["METADATA_SPEC_VERSION"] == "V1"
    assert exported["relationships"] == V2["relationships"]
    assert exported["tables"]["hotels"]["columns"]["rooms"]["computer_representation"] == "Int16"
    again = from_sdv(exported)
    assert again.to_dict() == md.to_dict()


def test_export_composite_key_as_list():
    md = from_sdv(V1)
    md.table("sessions").primary_key = ["session_id", "user_id"]
    assert to_sdv(md)["tables"]["sessions"]["primary_key"] == ["session_id", "user_id"]


@pytest.mark.parametrize(
    "mutate, where",
    [
        (lambda d: d["tables"]["hotels"]["columns"]["city"].pop("sdtype"), "tables.hotels.columns.city.sdtype"),
        (lambda d: d["tables"]["hotels"].__setitem__("columns", []), "tables.hotels.columns"),
        (lambda d: d["relationships"][0].pop("child_foreign_key"), "relationships[0].child_foreign_key"),
        (lambda d: d["relationships"][0].__setitem__("child_table_name", "nope"), "relationships[0].child_table_name"),
        (lambda d: d.__setitem__("METADATA_SPEC_VERSION", "V9"), "METADATA_SPEC_VERSION"),
        (lambda d: d["relationships"][0].__setitem__("parent_table_name", "ghost"), "unknown table 'ghost'"),
    ],
)
def test_malformed_v2_names_the_key(mutate, where):
    data = copy.deepcopy(V2)
    mutate(data)
    with pytest.raises(MetadataError) as err:
        from_sdv(data, source="meta.json")
    assert where in str(err.value) and "\n" not in str(err.value)


def test_malformed_v1_names_the_field():
    data = copy.deepcopy(V1)
    data["tables"]["users"]["fields"]["age"]["type"] = "number"
    with pytest.raises(MetadataError, match=r"tables\.users\.fields\.age\.type"):
        from_sdv(data)
