"""Import and export of SDV's multi-table metadata JSON (V1 and V2 layouts).

Two layouts exist in the wild:

* legacy "V1" (SDV < 1.0): ``{"tables": {t: {"primary_key": c, "fields": {c: {"type": ..., "subtype": ...,
  "ref": {"table": p, "field": k}}}}}}`` -- relationships are the ``ref`` entries of the child's fields;
* current "V2" (SDV >= 1.0): ``{"METADATA_SPEC_VERSION": "V1" | "MULTI_TABLE_V1", "tables": {t:
  {"primary_key": c, "columns": {c: {"sdtype": ..., ...}}}}, "relationships": [{"parent_table_name",
  "parent_primary_key", "child_table_name", "child_foreign_key"}]}``.

SDV metadata says nothing of storage, so type families are guessed from sdtypes (and V2's
``computer_representation``); the result is dbsynth metadata that can be refined by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import MetadataError
from . import sdtypes as st
from .records import Column, ForeignKey, Metadata, Table

__all__ = ["is_sdv", "from_sdv", "to_sdv", "SDV_SPEC_VERSION"]

#: Spec version written by :func:`to_sdv` (what current SDV releases write for multi-table metadata).
SDV_SPEC_VERSION = "V1"

_V2_VERSIONS = {"V1", "MULTI_TABLE_V1"}
# sdtype -> storage family when nothing better is known
_FAMILY_OF_SDTYPE = {
    st.NUMERICAL: st.FLOAT,
    st.DATETIME: st.TIMESTAMP,
    st.BOOLEAN: st.BOOL,
    st.CATEGORICAL: st.STRING,
    st.TEXT: st.STRING,
    st.UNSUPPORTED: st.OTHER,
}
# legacy V1 field types -> dbsynth sdtypes
_V1_TYPES = {"id": st.ID, "numerical": st.NUMERICAL, "categorical": st.CATEGORICAL, "boolean": st.BOOLEAN,
             "datetime": st.DATETIME, "text": st.TEXT}


def is_sdv(data: dict[str, Any]) -> bool:
    """True when ``data`` looks like SDV metadata rather than dbsynth's own layout."""
    if "METADATA_SPEC_VERSION" in data or "relationships" in data:
        return True
    tables = data.get("tables")
    if isinstance(tables, dict):
        # SDV keys columns by name (a dict) or calls them "fields"; dbsynth keeps a list of columns.
        return any(
            isinstance(t, dict) and ("fields" in t or isinstance(t.get("columns"), dict)) for t in tables.values()
        )
    return False


def _fail(source: str, path: str, problem: str) -> MetadataError:
    return MetadataError(f"{source}: {path}: {problem}", hint="Fix the SDV metadata file.")


def _mapping(value: Any, source: str, path: str) -> dict:
    if not isinstance(value, dict):
        raise _fail(source, path, f"expected an object, got {type(value).__name__}")
    return value


def _keys(value: Any, source: str, path: str) -> list[str]:
    """A primary key as SDV spells it: a column name, a list of names (composite) or null."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise _fail(source, path, "expected a column name or a list of column names")


def _table_entry(
    tname: str, tdata: Any, source: str, columns_key: str
) -> tuple[Table, Iterator[tuple[str, str, dict]]]:
    """One entry of ``tables``: its :class:`Table` (name, primary key) and its column entries.

    The column entries (``columns_key`` is ``"columns"`` in V2, ``"fields"`` in V1) come as
    ``(name, path for errors, mapping)``, each checked when reached, so the first error is the first in the file.
    """
    tpath = f"tables.{tname}"
    tdata = _mapping(tdata, source, tpath)
    entries = _mapping(tdata.get(columns_key), source, f"{tpath}.{columns_key}")
    table = Table(name=tname, primary_key=_keys(tdata.get("primary_key"), source, f"{tpath}.primary_key"))

    def columns() -> Iterator[tuple[str, str, dict]]:
        for cname, cdata in entries.items():
            cpath = f"{tpath}.{columns_key}.{cname}"
            yield cname, cpath, _mapping(cdata, source, cpath)

    return table, columns()


def from_sdv(data: dict[str, Any], source: str = "SDV metadata") -> Metadata:
    """Build dbsynth metadata from SDV multi-table metadata (legacy V1 or current V2 layout).

    Args:
        data: the parsed JSON.
        source: what to call the input in error messages (a file name).

    Returns:
        Validated :class:`Metadata`.

    Raises:
        MetadataError: naming the key at fault (e.g. ``tables.users.columns.age.sdtype``) when the input is
            malformed, or listing the inconsistencies found by validation.
    """
    data = _mapping(data, source, "(top level)")
    tables = _mapping(data.get("tables"), source, "tables")
    version = data.get("METADATA_SPEC_VERSION")
    if version is not None and version not in _V2_VERSIONS:
        raise _fail(source, "METADATA_SPEC_VERSION", f"unknown version '{version}' (known: V1, MULTI_TABLE_V1)")
    legacy = version is None and any(isinstance(t, dict) and "fields" in t for t in tables.values())
    metadata = _from_v1(tables, source) if legacy else _from_v2(data, tables, source)
    return metadata.validate()


def _from_v2(data: dict, tables: dict, source: str) -> Metadata:
    md = Metadata()
    for tname, tdata in tables.items():
        table, columns = _table_entry(tname, tdata, source, "columns")
        for cname, cpath, cdata in columns:
            sdtype = cdata.get("sdtype")
            if not isinstance(sdtype, str):
                raise _fail(source, f"{cpath}.sdtype", "missing or not a string")
            table.columns.append(_column_from_v2(cname, sdtype, cdata))
        md.add_table(table)
    rels = data.get("relationships", [])
    if not isinstance(rels, list):
        raise _fail(source, "relationships", "expected a list")
    for i, rel in enumerate(rels):
        rpath = f"relationships[{i}]"
        rel = _mapping(rel, source, rpath)
        for key in ("parent_table_name", "parent_primary_key", "child_table_name", "child_foreign_key"):
            if key not in rel:
                raise _fail(source, f"{rpath}.{key}", "missing")
        child = rel["child_table_name"]
        if child not in md.tables:
            raise _fail(source, f"{rpath}.child_table_name", f"unknown table '{child}'")
        md.tables[child].foreign_keys.append(
            ForeignKey(
                columns=_keys(rel["child_foreign_key"], source, f"{rpath}.child_foreign_key"),
                ref_table=rel["parent_table_name"],
                ref_columns=_keys(rel["parent_primary_key"], source, f"{rpath}.parent_primary_key"),
            )
        )
    return md


def _column_from_v2(name: str, sdtype: str, cdata: dict) -> Column:
    rep = str(cdata.get("computer_representation") or "")
    if sdtype == st.NUMERICAL and rep.lower().startswith(("int", "uint")):
        digits = "".join(ch for ch in rep if ch.isdigit())
        return Column(name=name, type=st.INTEGER, sdtype=sdtype, bits=int(digits) if digits else 64)
    if sdtype == st.ID:
        # SDV ids are numbers unless a regex says they are patterned strings
        family = st.STRING if cdata.get("regex_format") else st.INTEGER
        return Column(name=name, type=family, sdtype=st.ID)
    if sdtype in _FAMILY_OF_SDTYPE:
        family = _FAMILY_OF_SDTYPE[sdtype]
        if sdtype == st.DATETIME and "%H" not in str(cdata.get("datetime_format") or "%H"):
            family = st.DATE  # a format without hours is a date
        return Column(name=name, type=family, sdtype=sdtype)
    if st.is_pii(sdtype) or cdata.get("pii"):
        return Column(name=name, type=st.STRING, sdtype=sdtype if sdtype in st.SDTYPES else st.TEXT,
                      pii=None if sdtype in st.SDTYPES else sdtype)
    # sdtypes dbsynth does not know (SDV accepts any Faker function name): keep it as the Faker provider
    return Column(name=name, type=st.STRING, sdtype=st.TEXT, pii=sdtype)


def _from_v1(tables: dict, source: str) -> Metadata:
    md = Metadata()
    refs: list[tuple[str, str, str, str]] = []
    for tname, tdata in tables.items():
        table, fields = _table_entry(tname, tdata, source, "fields")
        for cname, fpath, fdata in fields:
            ftype = fdata.get("type")
            if ftype not in _V1_TYPES:
                raise _fail(source, f"{fpath}.type", f"unknown type {ftype!r} (known: {', '.join(_V1_TYPES)})")
            sdtype = _V1_TYPES[ftype]
            subtype = fdata.get("subtype")
            if sdtype in (st.ID, st.NUMERICAL):
                family = st.STRING if subtype == "string" else st.FLOAT if subtype == "float" else st.INTEGER
            else:
                family = _FAMILY_OF_SDTYPE.get(sdtype, st.STRING)
            if sdtype == st.CATEGORICAL and fdata.get("pii"):
                category = fdata.get("pii_category")
                sdtype = category if isinstance(category, str) and category in st.PII_KINDS else st.TEXT
            if sdtype == st.DATETIME and "%H" not in str(fdata.get("format") or "%H"):
                family = st.DATE
            table.columns.append(Column(name=cname, type=family, sdtype=sdtype))
            if "ref" in fdata:
                ref = _mapping(fdata["ref"], source, f"{fpath}.ref")
                if not isinstance(ref.get("table"), str) or not isinstance(ref.get("field"), str):
                    raise _fail(source, f"{fpath}.ref", "needs 'table' and 'field'")
                refs.append((tname, cname, ref["table"], ref["field"]))
        md.add_table(table)
    for child, col, parent, field in refs:
        md.tables[child].foreign_keys.append(ForeignKey(columns=[col], ref_table=parent, ref_columns=[field]))
    return md


def to_sdv(metadata: Metadata) -> dict[str, Any]:
    """Export as SDV's current (V2) multi-table layout.

    Composite keys are written as lists (SDV itself only takes single columns); storage details that SDV
    cannot hold (lengths, enums, constraints) are dropped.

    Returns:
        A JSON-ready dict.
    """
    tables: dict[str, Any] = {}
    for table in metadata:
        cols: dict[str, Any] = {}
        for col in table.columns:
            entry: dict[str, Any] = {"sdtype": col.pii if col.pii else col.sdtype}
            if col.sdtype == st.NUMERICAL:
                entry["computer_representation"] = f"Int{col.bits or 64}" if col.type == st.INTEGER else "Float"
            elif col.sdtype == st.DATETIME and col.type == st.DATE:
                entry["datetime_format"] = "%Y-%m-%d"
            elif col.sdtype == st.DATETIME and col.type == st.TIMESTAMP:
                entry["datetime_format"] = "%Y-%m-%d %H:%M:%S"
            elif st.is_pii(col.sdtype) or col.pii:
                entry["pii"] = True
            elif col.sdtype == st.ID and col.type == st.STRING:
                entry["regex_format"] = f"[A-Za-z0-9]{{1,{min(col.length or 10, 32)}}}"
            cols[col.name] = entry
        out: dict[str, Any] = {"columns": cols}
        if table.primary_key:
            out["primary_key"] = table.primary_key[0] if len(table.primary_key) == 1 else list(table.primary_key)
        tables[table.name] = out
    relationships = [
        {
            "parent_table_name": fk.ref_table,
            "parent_primary_key": fk.ref_columns[0] if len(fk.ref_columns) == 1 else list(fk.ref_columns),
            "child_table_name": child.name,
            "child_foreign_key": fk.columns[0] if len(fk.columns) == 1 else list(fk.columns),
        }
        for child, fk in metadata.relationships()
    ]
    return {"METADATA_SPEC_VERSION": SDV_SPEC_VERSION, "tables": tables, "relationships": relationships}
