"""Declared CHECK constraints are satisfied (issue 17): a same-dialect `dbsynth run` of each torture database's
tables with CHECKs loads every row (the target enforces the CHECKs: a single violation fails the run), and
then every CHECK holds when the target is queried.

Tables left out of the runs fail today for reasons that are not a CHECK (other work of issue 15): MariaDB
t_text (the SET column 'features' is refused by the writer) and t_time (marker values of dt6); PostgreSQL
public.t_numeric (numeric(1000,500) out of range) and public.events (its created_on key is generated outside
the partitions' bounds). Their CHECKs are checked on sampled frames instead (the second test), through the
same evaluator the first test's queries validate.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from dbsynth import cli
from dbsynth.reflect import reflect
from dbsynth.rules import compile_checks

pytestmark = pytest.mark.db

#: (dialect, schema, tables cloned, synthesizer)
CASES = [
    ("sqlite", None, ["t_affinity", "t_text", "staff", "staff_history", "product", "orders", "order_line"], "hma"),
    ("sqlite", None, ["t_affinity", "t_text", "staff", "staff_history", "product", "orders", "order_line"], "hsa"),
    ("sqlite", None, ["t_affinity", "t_text", "staff", "staff_history", "product", "orders", "order_line"],
     "independent"),
    ("mariadb", None, ["product", "t_numeric", "staff", "staff_history", "orders", "order_line"], "hma"),
    ("postgresql", "public", ["t_time", "t_custom"], "hma"),
    ("postgresql", "hr", None, "hma"),
    ("postgresql", "sales", None, "hma"),
]

#: Tables whose run fails for another reason today (see the module docstring): sampled, not written.
SAMPLED_ONLY = [
    ("mariadb", None, ["t_text", "t_time"]),
    ("postgresql", "public", ["t_numeric", "events"]),
]


def _config(tmp_path: Path, source: str, target: str, schema: str | None, include: list[str] | None,
            synthesizer: str) -> Path:
    src: dict[str, Any] = {"url": source}
    if schema:
        src["schema"] = schema
    if include:
        src["include"] = include
    data = {"source": src, "target": {"url": target, "mode": "replace"}, "model": {"path": None}, "seed": 17,
            "synthesizer": synthesizer}
    path = tmp_path / f"checks-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _quote(dialect: str, name: str) -> str:
    return f"`{name}`" if dialect == "mariadb" else f'"{name}"'


def _target_name(engine: sa.Engine, dialect: str, schema: str | None, table: str) -> str:
    """The table's name in the target, schema-qualified where the run created the schema."""
    if schema and table in sa.inspect(engine).get_table_names(schema=schema):
        return f"{_quote(dialect, schema)}.{_quote(dialect, table)}"
    return _quote(dialect, table)


@pytest.mark.parametrize("dialect, schema, include, synthesizer", [
    pytest.param(*c, id=f"{c[0]}{'-' + c[1] if c[1] else ''}-{c[3]}") for c in CASES])
def test_same_dialect_run_keeps_every_check(dialect, schema, include, synthesizer, torture, empty_target,
                                            tmp_path):
    source, target = torture(dialect), empty_target(dialect)
    assert cli.run_cli(["--quiet", "run", "--config",
                        str(_config(tmp_path, source, target, schema, include, synthesizer))]) == 0
    meta = reflect(source, schema=schema, include=include)
    checked = 0
    engine = sa.create_engine(target)
    try:
        for t in meta.tables.values():
            if not t.check_constraints:
                continue
            name = _target_name(engine, dialect, schema, t.name.split(".")[-1])
            for ck in t.check_constraints:
                with engine.connect() as conn:
                    rows = conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar()
                    bad = conn.execute(sa.text(f"SELECT count(*) FROM {name} WHERE NOT ({ck.sqltext})")).scalar()
                assert rows > 0, t.name
                assert bad == 0, f"{t.name}.{ck.name}"
                checked += 1
    finally:
        engine.dispose()
    assert checked >= 2
    # every CHECK of these tables is kept by construction (none opaque, none only redrawn)
    for t in meta.tables.values():
        for rule in compile_checks(t, meta.dialect):
            assert rule.enforcement == "construct", (t.name, rule.name, rule.reason)


@pytest.mark.parametrize("dialect, schema, include", [pytest.param(*c, id=c[0]) for c in SAMPLED_ONLY])
def test_sampled_frames_keep_every_check(dialect, schema, include, torture):
    from dbsynth.read import read_tables
    from dbsynth.synthesizers import HMASynthesizer

    source = torture(dialect)
    meta = reflect(source, schema=schema, include=include)
    synth = HMASynthesizer(meta, verbose=False, seed=5)
    synth.fit(read_tables(source, meta))
    frames = synth.sample(scale=2.0)
    checked = 0
    for name, t in meta.tables.items():
        for rule in compile_checks(t, meta.dialect):
            assert rule.enforcement == "construct", (name, rule.name, rule.reason)
            assert len(frames[name]) > 0
            assert rule.is_valid(frames[name]).all(), (name, rule.name)
            checked += 1
    assert checked >= 2


@pytest.mark.parametrize("schema, include", [("sales", ["product", "orders", "order_line"]), ("public", ["t_custom"])])
def test_checks_and_keys_hold_over_small_batches(schema, include, pg_torture):
    """Pattern CHECKs on a string key (sales.product) and on a unique column (t_custom.code), sampled 40 rows a
    batch: every CHECK holds, keys and unique values stay distinct over all the batches, references resolve."""
    from dbsynth.read import read_tables
    from dbsynth.synthesizers import HMASynthesizer

    meta = reflect(pg_torture, schema=schema, include=include)
    synth = HMASynthesizer(meta, verbose=False, seed=9)
    synth.fit(read_tables(pg_torture, meta))
    parts: dict[str, list] = {}
    for item in synth.iter_sample(scale=3.0, batch_rows=40):
        name, frame = item
        if not item.is_update:
            parts.setdefault(name, []).append(frame)
    import pandas as pd

    frames = {n: pd.concat(f, ignore_index=True) for n, f in parts.items()}
    for name, t in meta.tables.items():
        df = frames[name]
        assert len(df) > 40, name  # several batches
        for rule in compile_checks(t, meta.dialect):
            assert rule.is_valid(df).all(), (name, rule.name)
        if t.primary_key:
            assert not df.duplicated(t.primary_key).any(), name
        for u in t.unique_constraints:
            assert not df.dropna(subset=u.columns).duplicated(u.columns).any(), (name, u.columns)
        for fk in t.foreign_keys:
            if fk.ref_table in frames:
                parent = frames[fk.ref_table][fk.ref_columns].drop_duplicates()
                child = df[fk.columns].dropna()
                joined = child.merge(parent, left_on=fk.columns, right_on=fk.ref_columns, how="left", indicator=True)
                assert (joined["_merge"] == "both").all(), (name, fk.columns)
