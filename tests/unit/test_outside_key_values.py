"""A reference whose parent is not cloned, and a ``*_id`` column no key covers, are values, not fresh keys
(issue 15, torture finding 5: staff_history.staff_id, a TINYINT in the key (staff_id, from_date) referring to
staff, left out, was numbered as a key: '240 keys do not fit a 8-bit integer')."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
import yaml

from dbsynth import cli
from dbsynth.metadata import sdtypes as st
from dbsynth.metadata.infer import infer_sdtypes, sdtype_for
from dbsynth.metadata.records import (
    Column,
    ForeignKey,
    Metadata,
    Table,
    UniqueConstraint,
)


class _Stat:
    def __init__(self, distinct, non_null):
        self.distinct, self.non_null = distinct, non_null

    @property
    def distinct_ratio(self):
        return self.distinct / self.non_null


def _history(outside: bool = True) -> Metadata:
    md = Metadata(dialect="sqlite")
    t = Table(name="staff_history", columns=[
        Column("staff_id", st.INTEGER, nullable=False, bits=8),
        Column("from_date", st.DATE, nullable=False),
        Column("title", st.STRING, length=20),
        Column("desk_id", st.INTEGER),
        Column("badge_id", st.STRING, length=10),
    ], primary_key=["staff_id", "from_date"])
    fk = ForeignKey(columns=["staff_id"], ref_table="staff", ref_columns=["staff_id"], name="fk_history_staff")
    if outside:
        t.outside_foreign_keys = [fk]
    md.add_table(t)
    return md


def test_outside_reference_in_a_composite_key_is_a_value():
    md = _history()
    infer_sdtypes(md, {"staff_history": {"badge_id": _Stat(40, 40)}})
    t = md.tables["staff_history"]
    assert t.column("staff_id").sdtype == st.NUMERICAL
    assert t.column("from_date").sdtype == st.ID  # the rest of the key stays a key
    assert t.column("desk_id").sdtype == st.NUMERICAL  # *_id, no key, repeats (no statistics): a value
    assert t.column("badge_id").sdtype == st.ID  # *_id whose values are all distinct: an identifier


def test_outside_reference_that_is_a_key_by_itself_stays_a_key():
    md = Metadata(dialect="sqlite")
    t = Table(name="staff_detail", columns=[Column("staff_id", st.INTEGER, nullable=False),
                                            Column("code", st.STRING, length=3)],
              primary_key=["staff_id"],
              unique_constraints=[UniqueConstraint(columns=["code"])])
    t.outside_foreign_keys = [ForeignKey(columns=["staff_id"], ref_table="staff", ref_columns=["staff_id"]),
                              ForeignKey(columns=["code"], ref_table="region", ref_columns=["code"])]
    md.add_table(t)
    infer_sdtypes(md)
    assert t.column("staff_id").sdtype == st.ID
    # unique by itself: what any unique column of its kind is, not a value forced on it by the outside key
    assert t.column("code").sdtype == sdtype_for(t.column("code"), False, None, constrained=True)


def test_outside_text_reference_is_categorical():
    md = Metadata(dialect="sqlite")
    t = Table(name="store", columns=[Column("store_id", st.INTEGER, nullable=False),
                                     Column("region_code", st.STRING, length=3, nullable=False)],
              primary_key=["store_id"])
    t.outside_foreign_keys = [ForeignKey(columns=["region_code"], ref_table="region", ref_columns=["region_code"])]
    md.add_table(t)
    infer_sdtypes(md, {"store": {"region_code": _Stat(900, 1000)}})  # mostly distinct: would be text
    assert t.column("region_code").sdtype == st.CATEGORICAL


def test_id_name_rule():
    col = Column("manager_staff_id", st.INTEGER)
    assert sdtype_for(col, False, None) == st.ID  # constraints unknown (frames): the name says identifier
    assert sdtype_for(col, False, None, constrained=True) == st.ID
    assert sdtype_for(col, False, None, constrained=False) == st.NUMERICAL
    text = Column("ext_id", st.STRING, length=8)
    assert sdtype_for(text, False, _Stat(5, 100), constrained=False) == st.CATEGORICAL
    assert sdtype_for(text, False, _Stat(100, 100), constrained=False) == st.ID


@pytest.fixture
def history_db(tmp_path):
    path = tmp_path / "hist.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE staff (staff_id TINYINT PRIMARY KEY, name VARCHAR(20));"
        "CREATE TABLE staff_history (staff_id TINYINT NOT NULL REFERENCES staff (staff_id), "
        "from_date DATE NOT NULL, title VARCHAR(20) NOT NULL, PRIMARY KEY (staff_id, from_date));"
    )
    con.executemany("INSERT INTO staff VALUES (?, ?)", [(i, f"s{i}") for i in range(1, 81)])
    con.executemany("INSERT INTO staff_history VALUES (?, ?, ?)",
                    [(i, f"{2015 + k}-01-01", ["Clerk", "Senior", "Lead"][k]) for i in range(1, 81) for k in range(3)])
    con.commit()
    con.close()
    return f"sqlite:///{path}"


@pytest.mark.parametrize("mode", ["synthesize", "copy"])
def test_history_without_its_parent_clones(history_db, tmp_path, mode):
    target = tmp_path / "out.sqlite"
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({
        "source": {"url": history_db, "include": ["staff_history"]},
        "target": {"url": f"sqlite:///{target}"}, "model": {"path": None}, "seed": 3,
        "tables": {"staff_history": {"mode": mode}},
    }))
    assert cli.run_cli(["--quiet", "run", "--config", str(cfg)]) == 0
    eng = sa.create_engine(f"sqlite:///{target}")
    with eng.connect() as conn:
        rows = conn.execute(sa.text("SELECT staff_id, from_date FROM staff_history")).all()
    eng.dispose()
    assert len(rows) > 100
    ids = [r[0] for r in rows]
    assert max(ids) <= 127 and len(set(ids)) < len(ids)  # the observed kind of values, repeated
    assert len(set(rows)) == len(rows)  # the target's primary key holds
