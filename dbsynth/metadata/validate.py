"""Consistency checks of :class:`Metadata`, collected rather than raised one at a time."""

from __future__ import annotations

from . import sdtypes as st
from .records import Metadata


def collect_problems(metadata: Metadata) -> list[str]:
    """Every inconsistency in ``metadata``, each naming its table and column.

    Also fills a stable name (``fk_<table>_<cols>``) into foreign keys the database left unnamed, since the
    graph and the writer refer to foreign keys by name.
    """
    problems: list[str] = []
    if not metadata.tables:
        problems.append("there are no tables")
    for key, table in metadata.tables.items():
        where = f"table '{key}'"
        if table.name != key:
            problems.append(f"{where}: its name is '{table.name}'")
        names = [c.name for c in table.columns]
        if not names:
            problems.append(f"{where}: has no columns")
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            problems.append(f"{where}: duplicate columns {dupes}")
        known = set(names)
        for col in table.columns:
            cwhere = f"{where}, column '{col.name}'"
            if col.sdtype not in st.SDTYPES:
                problems.append(f"{cwhere}: unknown sdtype '{col.sdtype}' (allowed: {', '.join(sorted(st.SDTYPES))})")
            if col.type not in st.TYPE_FAMILIES:
                problems.append(f"{cwhere}: unknown type '{col.type}' (allowed: {', '.join(sorted(st.TYPE_FAMILIES))})")
            if col.type == st.ENUM and not col.enum_values:
                problems.append(f"{cwhere}: enum column without enum_values")
        for c in table.primary_key:
            if c not in known:
                problems.append(f"{where}: primary key column '{c}' does not exist")
        for uc in table.unique_constraints:
            for c in uc.columns:
                if c not in known:
                    problems.append(f"{where}: unique constraint column '{c}' does not exist")
        index_names = [ix.name for ix in table.indexes]
        twice = sorted({n for n in index_names if index_names.count(n) > 1})
        if twice:
            problems.append(f"{where}: index name(s) {twice} used twice")
        if table.native_ddl is not None and table.native_ddl.dialect not in _DIALECTS:
            problems.append(f"{where}: native_ddl.dialect '{table.native_ddl.dialect}' is not one of "
                            f"{', '.join(sorted(_DIALECTS))}")
        fk_names = set()
        for fk in table.foreign_keys:
            if not fk.name:
                fk.name = f"fk_{key}_{'_'.join(fk.columns)}".replace(".", "_")
            fwhere = f"{where}, foreign key '{fk.name}'"
            if fk.name in fk_names:
                problems.append(f"{fwhere}: the name is used twice")
            fk_names.add(fk.name)
            if not fk.columns or len(fk.columns) != len(fk.ref_columns):
                problems.append(f"{fwhere}: {len(fk.columns)} columns refer to {len(fk.ref_columns)} columns")
            for c in fk.columns:
                if c not in known:
                    problems.append(f"{fwhere}: column '{c}' does not exist")
            parent = metadata.tables.get(fk.ref_table)
            if parent is None:
                problems.append(f"{fwhere}: refers to unknown table '{fk.ref_table}'")
                continue
            for c in fk.ref_columns:
                if not parent.has_column(c):
                    problems.append(f"{fwhere}: refers to unknown column '{fk.ref_table}.{c}'")
            ref = list(fk.ref_columns)
            keyed = ref == parent.primary_key or any(ref == u.columns for u in parent.unique_constraints)
            if not keyed and sorted(ref) != sorted(parent.primary_key):
                problems.append(
                    f"{fwhere}: refers to {fk.ref_table}({', '.join(ref)}), which is neither its primary key "
                    "nor a unique constraint"
                )
    for obj in metadata.native_objects:
        if obj.kind not in _OBJECT_KINDS:
            problems.append(f"native object '{obj.name}': unknown kind '{obj.kind}' (allowed: "
                            f"{', '.join(sorted(_OBJECT_KINDS))})")
    return problems


_DIALECTS = {"postgresql", "mysql", "sqlite"}
_OBJECT_KINDS = {"schema", "type", "domain", "sequence"}
