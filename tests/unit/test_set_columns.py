"""MariaDB SET columns (issue 15): generated as valid member combinations in declaration order, never as made-up
labels nor cut to the longest member, and what is stored of the rows obeys the k rule (k = 5). MariaDB YEAR
set unsupported gets the typed year form."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
from sqlalchemy.dialects import mysql

from dbsynth.metadata import sdtypes as st
from dbsynth.metadata.infer import sdtype_for
from dbsynth.metadata.records import Column, Table
from dbsynth.model.columns import ColumnGenerator, fit_set, generate_set, generator_for
from dbsynth.model.typed import ValueGenerator
from dbsynth.model.univariate import MIN_ROWS_PER_VALUE as K
from dbsynth.reflect.types import map_type

MEMBERS = ["Trailers", "Commentaries", "Deleted Scenes", "Behind the Scenes"]
NATIVE = "SET('Trailers','Commentaries','Deleted Scenes','Behind the Scenes')"


def _col(name: str = "features", nullable: bool = False, sdtype: str = st.TEXT, **kw) -> Column:
    return Column(name=name, type=st.STRING, sdtype=sdtype, native_type=NATIVE, nullable=nullable,
                  length=st.set_length(MEMBERS), **kw)


def _valid(value: str) -> bool:
    """A SET value as MariaDB and dbsynth.read give it: distinct members, in declaration order."""
    if value == "":
        return True
    parts = value.split(",")
    return all(p in MEMBERS for p in parts) and parts == sorted(set(parts), key=MEMBERS.index)


class _Stat:
    def __init__(self, distinct: int, non_null: int) -> None:
        self.distinct, self.non_null = distinct, non_null
        self.distinct_ratio = distinct / non_null


# ---- types and sdtypes -----------------------------------------------------------------------------------------
def test_set_members_and_length_come_from_the_type():
    assert st.set_members(NATIVE) == MEMBERS
    assert st.set_members("SET('it''s','x')") == ["it's", "x"]
    assert st.set_members("VARCHAR(20)") == [] and st.set_members(None) == []
    assert st.set_length(MEMBERS) == len(",".join(MEMBERS)) == 54


def test_a_set_is_reflected_as_long_as_every_member_at_once():
    info = map_type(mysql.SET(*MEMBERS), mysql.dialect())
    assert info.type == st.STRING and info.native_type == NATIVE
    assert info.length == 54  # SQLAlchemy says 17, the longest member: repair would cut values to it


def test_a_set_column_is_never_a_category_nor_pii():
    few = _Stat(distinct=6, non_null=200)  # would be categorical as a plain string
    assert sdtype_for(_col(), False, few, constrained=False) == st.TEXT
    assert sdtype_for(_col(name="country"), False, few, constrained=False) == st.TEXT
    assert sdtype_for(_col(), False, None) == st.TEXT
    assert sdtype_for(_col(), True, few) == st.ID  # a key stays a key


def test_mariadb_year_set_unsupported_is_drawn_as_years():
    year = Column(name="y", type=st.INTEGER, bits=16, native_type="YEAR(4)", nullable=False)
    # modelled as a number (repair clips it to what YEAR holds: dbsynth.sample.repair)
    assert sdtype_for(year, False, None) == st.NUMERICAL
    assert st.is_mysql_year("YEAR") and st.is_mysql_year("YEAR(4)")
    assert not st.is_mysql_year("year")  # a PostgreSQL domain named year holds whatever its CHECK allows
    # set unsupported (by a user, or a model that cannot fit it), the typed year form gives valid years
    year.sdtype = st.UNSUPPORTED
    gen = generator_for(year, Table(name="t", columns=[year]))
    assert isinstance(gen, ValueGenerator)
    gen.fit(pd.Series([0, 1901, 2155] + [1990 + i % 30 for i in range(200)], dtype=object))
    assert gen.form == "year"
    values = gen.generate(2000, np.random.default_rng(3)).tolist()
    assert all(v == 0 or 1901 <= v <= 2155 for v in values)


def test_a_set_column_gets_the_set_form_whatever_its_sdtype_says():
    for col in (_col(), _col(sdtype=st.UNSUPPORTED), _col(pii="country")):
        gen = generator_for(col, Table(name="t", columns=[col]))
        assert isinstance(gen, ValueGenerator), col
        gen.fit(pd.Series(["Trailers", ""] * 10, dtype=object))
        assert gen.form == "set"


# ---- values ---------------------------------------------------------------------------------------------------
def test_generated_values_are_valid_members_in_declaration_order_and_keep_frequent_shares():
    # the torture's six combinations, one of them every member but one, each held by about 33 rows
    combos = ["", "Trailers", "Trailers,Commentaries", "Commentaries,Deleted Scenes,Behind the Scenes",
              "Deleted Scenes", "Trailers,Behind the Scenes"]
    source = pd.Series([combos[i % 6] for i in range(198)], dtype=object)
    col = _col(nullable=True)
    gen = generator_for(col, Table(name="t", columns=[col])).fit(source)
    again = ColumnGenerator.from_dict(json.loads(json.dumps(gen.to_dict())))  # as a model file holds it
    values = again.generate(6000, np.random.default_rng(1)).tolist()
    assert all(_valid(v) for v in values)
    shares = pd.Series(values).value_counts(normalize=True)
    assert set(shares.index) == set(combos)
    assert all(abs(shares[c] - 1 / 6) < 0.03 for c in combos)
    assert max(len(v) for v in values) > 17  # longer than the longest member: no cut


def test_rare_combinations_are_never_stored_and_values_stay_valid():
    rng = np.random.default_rng(0)
    # 120 rows of independent members: many combinations are held by fewer than k rows
    rows = [",".join(m for m, p in zip(MEMBERS, [0.6, 0.3, 0.5, 0.15]) if rng.random() < p) for _ in range(120)]
    rows = [r for r in rows if r != "Trailers,Deleted Scenes,Behind the Scenes"]
    # k - 1 rows of one combination, spelled out of order: it is held by too few rows, whatever the spelling
    spelled = ["Deleted Scenes,Behind the Scenes,Trailers"] * (K - 1)
    held = pd.Series(rows + ["Trailers,Deleted Scenes,Behind the Scenes"] * (K - 1)).value_counts()
    rare = {c for c, n in held.items() if n < K}
    params = fit_set(rows + spelled, MEMBERS)
    assert len(rare) > 3 and not rare & set(params["combos"])
    assert "Trailers,Deleted Scenes,Behind the Scenes" in rare and spelled[0] not in params["combos"]
    assert set(params["combos"]) == {c for c, n in held.items() if n >= K}
    assert params["rest"] > 0 and params["counts"]
    values = generate_set(params, MEMBERS, 5000, np.random.default_rng(2)).tolist()
    assert all(_valid(v) for v in values)
    # each member's share holds roughly (frequent combinations exactly, the rest by member and count shares)
    for m in MEMBERS:
        src = np.mean([m in r.split(",") for r in rows])
        out = np.mean([m in v.split(",") for v in values])
        assert abs(src - out) < 0.08, m


def test_members_and_counts_held_by_fewer_than_k_rare_rows_are_left_out():
    rows = ["Trailers"] * 10 + ["Trailers,Commentaries"] * 4 + ["Commentaries,Deleted Scenes"] * 4 \
        + ["Trailers,Commentaries,Deleted Scenes,Behind the Scenes"] * 1
    params = fit_set(rows, MEMBERS)
    assert params["combos"] == {"Trailers": 10 / 19}
    # 9 rare rows: Commentaries in 8, Trailers in 5, Deleted Scenes in 5, Behind the Scenes in 1 (< k)
    assert params["inclusion"][3] == 0.0 and all(p > 0 for p in params["inclusion"][:3])
    assert params["counts"] == [[2.0, 1.0]]  # 8 rows of two members; the one row of four is left out
    values = generate_set(params, MEMBERS, 3000, np.random.default_rng(5)).tolist()
    assert all(_valid(v) for v in values)
    assert not any("Behind the Scenes" in v for v in values)


def test_fewer_than_k_rows_store_nothing_and_still_give_valid_values():
    params = fit_set(["Trailers,Commentaries", "Deleted Scenes", ""], MEMBERS)
    assert params["combos"] == {} and params["counts"] == [] and params["inclusion"] == [0.5] * 4
    values = generate_set(params, MEMBERS, 2000, np.random.default_rng(4)).tolist()
    assert all(_valid(v) for v in values) and len(set(values)) == 16  # every combination, uniformly


def test_saved_parameters_name_only_members_and_frequent_combinations():
    rows = ["Trailers,Commentaries"] * 20 + ["Commentaries,Behind the Scenes"] * 2
    col = _col()
    gen = generator_for(col, Table(name="t", columns=[col])).fit(pd.Series(rows, dtype=object))
    saved = json.dumps(gen.to_dict())
    assert "Commentaries,Behind the Scenes" not in saved
    assert re.findall(r'"combos": \{[^}]*\}', saved) == ['"combos": {"Trailers,Commentaries": 1.0}']


def test_values_read_as_python_sets_are_understood():
    params = fit_set([{"Commentaries", "Trailers"}] * 6 + [frozenset()] * 6, MEMBERS)
    assert set(params["combos"]) == {"Trailers,Commentaries", ""}
