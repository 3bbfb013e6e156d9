"""Test helper: a random schema of many tables (a DAG of bounded depth) with data frames that honour it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dbsynth.metadata import Column, ForeignKey, Metadata, Table, UniqueConstraint


def random_schema(n_tables: int = 100, max_depth: int = 8, seed: int = 0,
                  rows: tuple[int, int] = (20, 200)) -> tuple[Metadata, dict[str, pd.DataFrame]]:
    """A random foreign-key DAG with data.

    Table ``t{i}`` sits at a level in ``0 .. max_depth`` (every level used); a table above level 0 has a NOT NULL
    key to a table one level up (so the deepest chain is exactly ``max_depth``), and sometimes a nullable key
    (with NULLs) to any table above it. Every table has an integer primary key and a numerical, a categorical,
    a boolean and a datetime column; child values depend on their parent's, so there is something to learn.

    Args:
        n_tables: number of tables (at least ``max_depth + 1``).
        max_depth: length of the longest chain of parents.
        seed: seed of every random choice.
        rows: range of rows per table.

    Returns:
        (metadata, one frame per table).
    """
    rng = np.random.default_rng(seed)
    levels = np.r_[np.arange(max_depth + 1), rng.integers(0, max_depth + 1, n_tables - max_depth - 1)]
    levels = np.sort(levels)
    md = Metadata()
    data: dict[str, pd.DataFrame] = {}
    by_level: dict[int, list[str]] = {}
    for i, level in enumerate(levels):
        name = f"t{i}"
        n = int(rng.integers(*rows))
        cols = [Column("id", "integer", "id", nullable=False), Column("amount", "float", "numerical"),
                Column("kind", "string", "categorical"), Column("flag", "boolean", "boolean"),
                Column("at", "timestamp", "datetime")]
        frame = {"id": np.arange(1, n + 1)}
        fks = []
        base = np.zeros(n)
        if level > 0:
            parent = str(rng.choice(by_level[int(level) - 1]))
            p = data[parent]
            owner = rng.integers(0, len(p), n)
            cols.append(Column("p0", "integer", "id", nullable=False))
            frame["p0"] = p["id"].to_numpy()[owner]
            fks.append(ForeignKey(["p0"], parent, ["id"], name=f"{name}_p0"))
            base = p["amount"].to_numpy()[owner] / 2
            if rng.uniform() < 0.4:  # a second, nullable parent anywhere above
                other = str(rng.choice([t for lv in range(int(level)) for t in by_level[lv]]))
                q = data[other]
                ref = pd.array(q["id"].to_numpy()[rng.integers(0, len(q), n)], dtype="Int64")
                ref[rng.uniform(size=n) < 0.2] = pd.NA
                cols.append(Column("p1", "integer", "id", nullable=True))
                frame["p1"] = ref
                fks.append(ForeignKey(["p1"], other, ["id"], name=f"{name}_p1"))
        frame["amount"] = (base + rng.gamma(2.0, 10.0, n)).round(2)
        frame["kind"] = rng.choice(["a", "b", "c", "d"], n, p=[0.5, 0.3, 0.15, 0.05])
        frame["flag"] = rng.uniform(size=n) < 0.3
        frame["at"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365 * 86400, n), unit="s")
        md.add_table(Table(name, cols, primary_key=["id"], foreign_keys=fks))
        data[name] = pd.DataFrame({c.name: frame[c.name] for c in cols})
        by_level.setdefault(int(level), []).append(name)
    return md, data


def database_problems(md: Metadata, real: dict[str, pd.DataFrame] | None,
                      out: dict[str, pd.DataFrame]) -> list[str]:
    """What makes ``out`` an invalid database for ``md`` (an empty list when it is valid).

    Checked: every table present with its columns; every non-NULL reference (composite ones whole) found in
    the sampled parent; primary keys and unique constraints unique (NULLs excepted, as SQL does); NOT NULL
    columns without NULLs; and, given the ``real`` data, children per parent within the observed maximum
    along every foreign key, wherever the parent rows could hold the children at that maximum.
    """
    from dbsynth.model.links import positions

    problems: list[str] = []
    for t, table in md.tables.items():
        if t not in out:
            problems.append(f"{t}: missing")
            continue
        frame = out[t]
        missing = [c.name for c in table.columns if not c.computed and c.name not in frame]
        if missing:
            problems.append(f"{t}: columns missing {missing}")
            continue
        if table.primary_key:
            if frame[table.primary_key].isna().any().any():
                problems.append(f"{t}: NULL in the primary key")
            if frame[table.primary_key].duplicated().any():
                problems.append(f"{t}: duplicated primary key")
        for u in table.unique_constraints:
            sub = frame[u.columns].dropna()
            if sub.astype("object").duplicated().any():
                problems.append(f"{t}: unique {u.columns} repeated")
        for c in table.columns:
            if not c.nullable and not c.computed and len(frame) and frame[c.name].isna().any():
                problems.append(f"{t}.{c.name}: NULL in a NOT NULL column")
        for fk in table.foreign_keys:
            parent = out.get(fk.ref_table)
            if parent is None:
                continue
            full = frame[fk.columns].notna().all(axis=1).to_numpy()
            pos = positions(parent, fk.ref_columns, frame, fk.columns) if len(frame) else np.zeros(0, int)
            dangling = int((full & (pos < 0)).sum())
            if dangling:
                problems.append(f"{t}{fk.columns}: {dangling} reference(s) to missing {fk.ref_table} rows")
            if real is None or not len(parent):
                continue
            child = real[t]
            rpos = positions(real[fk.ref_table], fk.ref_columns, child, fk.columns) if len(child) else np.zeros(0, int)
            observed = int(np.bincount(rpos[rpos >= 0]).max(initial=0)) if (rpos >= 0).any() else 0
            linked = pos[pos >= 0]
            if len(linked) and len(linked) <= observed * len(parent):
                most = int(np.bincount(linked).max())
                if most > observed:
                    problems.append(
                        f"{t}{fk.columns}: {most} children of one {fk.ref_table} row (observed max {observed})"
                    )
    return problems


@dataclass(frozen=True)
class TableSpec:
    """The shape of one table of :func:`shapes_schema` (the choices a property test draws and shrinks).

    Attributes:
        rows: rows in the source (a child of an empty table through a NOT NULL key gets none).
        composite_pk: primary key of two integer columns (children then refer to it with composite keys).
        parent: index of an earlier table the driving key refers to (None: a root).
        parent_nullable: the driving key may be NULL (20% of the rows).
        second: index of an earlier table a second key refers to (the parent's index: two keys to one table).
        second_nullable: the second key may be NULL.
        bridge: the primary key is the two references (a bridge table; needs ``parent`` and ``second``).
        self_ref: a nullable key to the table itself (a forest).
        back_ref: a nullable key to the first later table whose driving key refers to this one (a cycle).
        unique: a modelled integer under a UNIQUE constraint, UNIQUE (kind, amount), and with a second key
            UNIQUE (second key, serial).
        text_key: a one-column primary key of strings (``K-00001``; not with ``composite_pk``).
    """

    rows: int = 20
    composite_pk: bool = False
    parent: int | None = None
    parent_nullable: bool = False
    second: int | None = None
    second_nullable: bool = True
    bridge: bool = False
    self_ref: bool = False
    back_ref: bool = False
    unique: bool = False
    text_key: bool = False


def shapes_schema(specs: list[TableSpec], seed: int = 0) -> tuple[Metadata, dict[str, pd.DataFrame]]:
    """Tables ``s0 .. s{k-1}`` with the shapes ``specs`` ask for, and data that honours every key.

    Indices of ``parent`` and ``second`` are taken modulo the table's position (so any list of specs is a
    valid schema); values depend on the parent's, so the models have something to learn.
    """
    rng = np.random.default_rng(seed)
    k = len(specs)
    specs = [
        TableSpec(**{**s.__dict__,
                     "parent": None if i == 0 or s.parent is None else s.parent % i,
                     "second": None if i == 0 or s.second is None else s.second % i})
        for i, s in enumerate(specs)
    ]
    specs = [s if s.parent is not None and s.second is not None and not s.parent_nullable
             and not s.second_nullable and not s.composite_pk else TableSpec(**{**s.__dict__, "bridge": False})
             for s in specs]
    rows: list[int] = []
    for s in specs:  # a NOT NULL key to an empty table leaves no row
        n = s.rows
        for p, nullable in ((s.parent, s.parent_nullable), (s.second, s.second_nullable)):
            if p is not None and not nullable and rows[p] == 0:
                n = 0
        if s.bridge:
            n = min(n, rows[s.parent] * rows[s.second])
        rows.append(n)
    back = [next((j for j in range(i + 1, k) if specs[j].parent == i), None) if s.back_ref else None
            for i, s in enumerate(specs)]
    md = Metadata()
    data: dict[str, pd.DataFrame] = {}
    keys: dict[int, dict[str, np.ndarray]] = {}
    for i, s in enumerate(specs):
        n = rows[i]
        keys[i] = ({"id": np.arange(1, n + 1), "id2": rng.integers(1, 4, n)} if s.composite_pk
                   else {"id": np.arange(1, n + 1)})
        if s.composite_pk:  # (id, id2) unique since id is
            keys[i]["id"] = rng.permutation(n) + 1
        elif s.text_key and not s.bridge:
            keys[i]["id"] = np.asarray([f"K-{v:05d}" for v in keys[i]["id"]], dtype=object)

    def key_type(j: int, c: str) -> str:
        return "string" if specs[j].text_key and not specs[j].composite_pk and not specs[j].bridge and c == "id" \
            else "integer"

    def ref_cols(prefix: str, j: int) -> tuple[list[str], list[str]]:
        pk = ["id", "id2"] if specs[j].composite_pk else ["id"]
        return [f"{prefix}_{c}" for c in pk], pk

    def refs(j: int, n: int, nullable: bool) -> tuple[dict[str, object], np.ndarray]:
        """Reference columns to table j for n rows, and which rows are NULL."""
        pn = rows[j]
        null = (rng.uniform(size=n) < 0.2) if nullable else np.zeros(n, dtype=bool)
        if pn == 0:
            null = np.ones(n, dtype=bool)
        owner = rng.integers(0, max(pn, 1), n)
        out = {}
        for c, v in keys[j].items():
            if key_type(j, c) == "string":
                vals = np.asarray(v[owner] if pn else np.full(n, None), dtype=object)
                vals[null] = None
            else:
                vals = pd.array(v[owner] if pn else np.zeros(n, dtype=np.int64), dtype="Int64")
                vals[null] = pd.NA
            out[c] = vals
        return out, owner

    for i, s in enumerate(specs):
        n = rows[i]
        name = f"s{i}"
        pk_cols = ["id", "id2"] if s.composite_pk else ["id"]
        cols = [Column(c, key_type(i, c), "id", nullable=False) for c in pk_cols]
        frame: dict[str, object] = dict(keys[i])
        fks: list[ForeignKey] = []
        base = np.zeros(n)
        uniques: list[UniqueConstraint] = []
        if s.bridge:
            pairs = rng.permutation(rows[s.parent] * rows[s.second])[:n]
            own = {"p": pairs // rows[s.second], "q": pairs % rows[s.second]}
            # the key is the pair; children (and cycles) refer to a unique surrogate
            pk_cols = []
            cols = [Column("id", "integer", "id", nullable=False)]
            frame = {"id": keys[i]["id"]}
            uniques.append(UniqueConstraint(["id"], name=f"{name}_id_key"))
        for tag, j, nullable in (("p", s.parent, s.parent_nullable), ("q", s.second, s.second_nullable)):
            if j is None:
                continue
            names, pk = ref_cols(tag, j)
            if s.bridge:
                vals = {c: keys[j][c][own[tag]] for c in pk}
                owner = own[tag]
            else:
                vals, owner = refs(j, n, nullable)
            for c, rc in zip(names, pk):
                cols.append(Column(c, key_type(j, rc), "id", nullable=nullable and not s.bridge))
                frame[c] = vals[rc]
                if s.bridge:
                    pk_cols.append(c)
            fks.append(ForeignKey(names, f"s{j}", pk, name=f"{name}_{tag}"))
            if tag == "p" and rows[j]:
                base = np.where(pd.isna(frame[names[0]]), 0.0, data[f"s{j}"]["amount"].to_numpy()[owner] / 2)
        if s.self_ref and not s.composite_pk and not s.bridge:
            earlier = np.floor(rng.uniform(size=n) * np.arange(n)).astype(np.int64)
            roots = (rng.uniform(size=n) < 0.3) | (np.arange(n) == 0)
            if key_type(i, "id") == "string":
                up = np.asarray(keys[i]["id"][earlier] if n else [], dtype=object)
                up[roots] = None
            else:
                up = pd.array(earlier + 1, dtype="Int64")
                up[roots] = pd.NA
            cols.append(Column("up_id", key_type(i, "id"), "id", nullable=True))
            frame["up_id"] = up
            fks.append(ForeignKey(["up_id"], name, ["id"], name=f"{name}_up"))
        if back[i] is not None:
            vals, _ = refs(back[i], n, True)
            names, pk = ref_cols("b", back[i])
            for c, rc in zip(names, pk):
                cols.append(Column(c, key_type(back[i], rc), "id", nullable=True))
                frame[c] = vals[rc]
            fks.append(ForeignKey(names, f"s{back[i]}", pk, name=f"{name}_b"))
        cols += [Column("amount", "float", "numerical"), Column("kind", "string", "categorical")]
        frame["amount"] = (base + rng.gamma(2.0, 10.0, n)).round(2) + np.arange(n) * 1e-4
        frame["kind"] = rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1])
        if s.unique:
            cols.append(Column("serial", "integer", "numerical", nullable=False))
            frame["serial"] = rng.permutation(n) * 3 + 100
            uniques += [UniqueConstraint(["serial"], name=f"{name}_serial_key"),
                        UniqueConstraint(["kind", "amount"], name=f"{name}_kind_amount_key")]
            if s.second is not None and not s.bridge:  # a reference that does not drive, with a modelled column
                q_cols = ref_cols("q", s.second)[0]
                uniques.append(UniqueConstraint([*q_cols, "serial"], name=f"{name}_q_serial_key"))
        md.add_table(Table(name, cols, primary_key=pk_cols, foreign_keys=fks, unique_constraints=uniques))
        data[name] = pd.DataFrame({c.name: frame[c.name] for c in cols})
    return md, data
