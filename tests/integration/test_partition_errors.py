"""A row that fits no partition of a PostgreSQL target is named as such, not as a CHECK violation."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

import dbsynth
from dbsynth.errors import WriteError

pytestmark = pytest.mark.db


def test_row_outside_every_partition_is_named(pg_database):
    source, target = pg_database(), pg_database()
    engine = sa.create_engine(source)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE ev (id int, on_day date NOT NULL, PRIMARY KEY (id, on_day)) "
                                 "PARTITION BY RANGE (on_day)"))
            conn.execute(sa.text("CREATE TABLE ev_2024 PARTITION OF ev FOR VALUES FROM ('2024-01-01') "
                                 "TO ('2025-01-01')"))
    finally:
        engine.dispose()
    md = dbsynth.reflect(source)
    rows = pd.DataFrame({"id": [1, 2], "on_day": pd.to_datetime(["2024-03-01", "2031-07-09"]).as_unit("us")})
    with pytest.raises(WriteError) as err:
        dbsynth.write({"ev": rows}, target, md, mode="replace", source_url=source)
    text = str(err.value)
    assert "fits no partition" in text and "'ev'" in text and "CHECK" not in text
    assert "2031" not in text  # the row's value stays out of the message
