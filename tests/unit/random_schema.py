"""Test helper: a random schema of many tables (a DAG of bounded depth) with data frames that honour it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dbsynth.metadata import Column, ForeignKey, Metadata, Table


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
    from dbsynth.model._refs import positions

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
            rpos = positions(real[fk.ref_table], fk.ref_columns, real[t], fk.columns) if len(real[t]) else np.zeros(0, int)
            observed = int(np.bincount(rpos[rpos >= 0]).max(initial=0)) if (rpos >= 0).any() else 0
            linked = pos[pos >= 0]
            if len(linked) and len(linked) <= observed * len(parent):
                most = int(np.bincount(linked).max())
                if most > observed:
                    problems.append(f"{t}{fk.columns}: {most} children of one {fk.ref_table} row (observed max {observed})")
    return problems
