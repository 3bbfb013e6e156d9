"""Benchmark: dbsynth.write of 1 million generated rows into PostgreSQL vs a raw ``psql \\copy`` of the same rows.

Usage: ``/tmp/venv/bin/python benchmarks/bench_write.py [rows] [postgres admin url]``. Prints rows/s of both
and the ratio (target >= 0.5). Creates two scratch databases and drops them. Not a test: figures only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid

import numpy as np
import pandas as pd
import sqlalchemy as sa

from dbsynth.metadata import sdtypes as st
from dbsynth.metadata.records import Column, Metadata, Table
from dbsynth.write import write

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
ADMIN = sa.make_url(sys.argv[2] if len(sys.argv) > 2 else "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"], dtype=object)
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1, dtype="int64"),
            "qty": rng.integers(0, 1_000, n),
            "label": words[rng.integers(0, len(words), n)] + "-" + pd.Series(rng.integers(0, 10_000, n)).astype(str),
            "price": rng.normal(100, 15, n),
            "at": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 3e7, n), unit="s"),
            "ok": rng.random(n) < 0.5,
        }
    )


def metadata() -> Metadata:
    md = Metadata(dialect="postgresql")
    md.add_table(
        Table(
            "bench",
            [
                Column("id", st.INTEGER, nullable=False, bits=64),
                Column("qty", st.INTEGER, bits=64),
                Column("label", st.STRING),
                Column("price", st.FLOAT),
                Column("at", st.TIMESTAMP, timezone=True),
                Column("ok", st.BOOL),
            ],
            primary_key=["id"],
        )
    )
    return md


def admin(sql: str) -> None:
    eng = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.exec_driver_sql(sql)
    eng.dispose()


def main() -> None:
    df = frame(ROWS)
    md = metadata()
    ours, raw = f"bench_w_{uuid.uuid4().hex[:8]}", f"bench_c_{uuid.uuid4().hex[:8]}"
    admin(f'CREATE DATABASE "{ours}"')
    admin(f'CREATE DATABASE "{raw}"')
    try:
        # dbsynth: DataFrame -> CREATE TABLE -> COPY -> checks -> ANALYZE, one transaction
        t0 = time.perf_counter()
        summary = write({"bench": df}, ADMIN.set(database=ours), md, batch_size=200_000)
        ours_s = time.perf_counter() - t0
        # raw: the same rows as CSV (written beforehand, not timed), loaded by psql's \copy
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "bench.csv")
            df.to_csv(path, header=False, index=False)
            ddl = ("CREATE TABLE bench (id bigint PRIMARY KEY, qty bigint, label text, price double precision, "
                   "at timestamptz, ok boolean)")
            env = dict(os.environ, PGHOST=ADMIN.host or "127.0.0.1", PGPORT=str(ADMIN.port or 5432),
                       PGUSER=ADMIN.username or "postgres", PGDATABASE=raw)
            subprocess.run(["psql", "-qc", ddl], env=env, check=True)
            t0 = time.perf_counter()
            subprocess.run(["psql", "-qc", f"\\copy bench FROM '{path}' WITH (FORMAT csv)"], env=env, check=True)
            raw_s = time.perf_counter() - t0
        print(f"rows                  {ROWS:>12,}")
        print(f"dbsynth.write         {ROWS / ours_s:>12,.0f} rows/s  ({ours_s:.2f} s end to end, "
              f"{summary.tables['bench'].rows_per_second:,.0f} rows/s in COPY)")
        print(f"psql \\copy (raw CSV)  {ROWS / raw_s:>12,.0f} rows/s  ({raw_s:.2f} s)")
        print(f"ratio                 {raw_s / ours_s:>12.2f}  (target >= 0.5)")
    finally:
        admin(f'DROP DATABASE IF EXISTS "{ours}" WITH (FORCE)')
        admin(f'DROP DATABASE IF EXISTS "{raw}" WITH (FORCE)')


if __name__ == "__main__":
    main()
