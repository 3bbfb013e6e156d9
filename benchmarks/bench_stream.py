"""Benchmark of the streamed run on TPC-H: reflect + fit + sample + write into PostgreSQL, per scale factor.

Not a test: it prints seconds per stage, peak RSS and rows/s for each scale factor, each run in its own process
(so peak RSS is its own), then the ratios between the largest and smallest (memory should stay flat, time
should grow with rows). The source databases are loaded once with ``tests/data/load-postgres.sh tpch DB SF``
(duckdb and duckdb-extension-tpch 1.5.5 generate the data) and reused when present.

Usage::

    python benchmarks/bench_stream.py                    # SF 0.1 and SF 1, default budget (1 GB)
    python benchmarks/bench_stream.py --sf 0.1 --memory-limit 2GB
    python benchmarks/bench_stream.py --sf 0.1 --rules both --rounds 3   # what keeping the rules costs

``--rules both`` runs each scale factor with rule discovery on and off (``rules: {discover: false}``: only the
declared constraints, as before issue 17), in turns, and prints the median ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG = "postgresql+psycopg://postgres@127.0.0.1/{db}"
TPCH_TABLES = ("lineitem", "orders", "partsupp", "part", "customer", "supplier", "nation", "region")


def _db_name(sf: str) -> str:
    return "bench_tpch_sf" + sf.replace(".", "_")


def _psql(db: str, sql: str) -> str:
    env = {**os.environ, "PGHOST": "127.0.0.1", "PGUSER": "postgres"}
    proc = subprocess.run(["psql", "-XAtq", "-d", db, "-c", sql], env=env, capture_output=True, text=True)
    return proc.stdout.strip()


def ensure_source(sf: str) -> str:
    """The TPC-H database of scale factor ``sf``, loaded unless it already holds lineitem rows."""
    db = _db_name(sf)
    exists = _psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{db}'") == "1"
    if not exists or _psql(db, "SELECT EXISTS (SELECT 1 FROM lineitem LIMIT 1)") != "t":
        # the loader generates TPC-H with duckdb from the `python` on PATH: this interpreter's, which has it
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        env = {**os.environ, "PGHOST": "127.0.0.1", "PGUSER": "postgres", "PATH": path}
        subprocess.run(["bash", str(ROOT / "tests/data/load-postgres.sh"), "tpch", db, sf], env=env, check=True)
    return db


def run_one(sf: str, memory_limit: str | None, rules: bool = True) -> dict:
    """One streamed run in this process; returns its figures."""
    import dbsynth
    from dbsynth.config import Config

    src = PG.format(db=_db_name(sf))
    target_db = _db_name(sf) + "_synth"
    _psql("postgres", f"DROP DATABASE IF EXISTS {target_db}")
    _psql("postgres", f"CREATE DATABASE {target_db}")
    cfg = Config.model_validate({
        "source": {"url": src},
        "target": {"url": PG.format(db=target_db), "mode": "create"},
        "seed": 1,
        **({} if rules else {"rules": {"discover": False}}),
        **({"memory_limit": memory_limit} if memory_limit else {}),
    })
    from dbsynth import progress

    progress.configure("quiet")
    started = time.perf_counter()
    report = dbsynth.run(cfg)
    total = time.perf_counter() - started
    counts = " + ".join(f"(SELECT count(*) FROM {t})" for t in TPCH_TABLES)
    rows_src = int(_psql(_db_name(sf), f"SELECT {counts}"))
    orphans = _psql(target_db, "SELECT count(*) FROM lineitem l LEFT JOIN orders o ON o.o_orderkey = l.l_orderkey "
                    "WHERE o.o_orderkey IS NULL")
    _psql("postgres", f"DROP DATABASE IF EXISTS {target_db}")
    return {
        "sf": sf,
        "rules": rules,
        "rows_source": rows_src,
        "rows_written": report.total_rows,
        "seconds": report.seconds,
        "total_s": round(total, 1),
        "rows_per_s": round(report.total_rows / total),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
        "memory_plan": report.memory,
        "lineitem_orphans": int(orphans or 0),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sf", nargs="+", default=["0.1", "1"], help="TPC-H scale factors (default: 0.1 1)")
    ap.add_argument("--memory-limit", default=None, help="memory_limit of the runs (default: the 1 GB default)")
    ap.add_argument("--rules", choices=("on", "off", "both"), default="on",
                    help="rule discovery on, off, or both in turns (default on)")
    ap.add_argument("--rounds", type=int, default=1, help="runs per scale factor and rules setting (default 1)")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one scale factor in this process
    ap.add_argument("--no-rules", action="store_true", help=argparse.SUPPRESS)  # internal, with --one
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.memory_limit, rules=not args.no_rules)))
        return
    settings = {"on": [True], "off": [False], "both": [True, False]}[args.rules]
    results = []
    for sf in args.sf:
        ensure_source(sf)
        limit = ["--memory-limit", args.memory_limit] if args.memory_limit else []
        totals: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(max(args.rounds, 1)):
            for rules in settings:  # in turns, so a noisy minute of the machine hits both
                cmd = [sys.executable, __file__, "--one", sf, *limit, *([] if rules else ["--no-rules"])]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode != 0:
                    sys.exit(f"SF {sf} failed:\n{proc.stderr[-3000:]}")
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                results.append(r)
                totals[rules].append(r["total_s"])
                print(f"SF {sf} (rules {'on' if rules else 'off'}): {r['rows_source']:,} source rows -> "
                      f"{r['rows_written']:,} written in {r['total_s']} s ({r['rows_per_s']:,} rows/s), peak RSS "
                      f"{r['peak_rss_gb']} GB, lineitem orphans {r['lineitem_orphans']}")
                print(f"  stages (s): {r['seconds']}")
                print(f"  memory plan: {r['memory_plan']}")
        if totals[True] and totals[False]:
            on, off = statistics.median(totals[True]), statistics.median(totals[False])
            print(f"SF {sf}: rules on {on:.1f} s / rules off {off:.1f} s = {on / off:.2f}x (medians of "
                  f"{len(totals[True])})")
    if len(settings) == 1 and len(results) > 1:
        a, b = results[0], results[-1]
        print(f"SF {b['sf']} / SF {a['sf']}: rows x{b['rows_source'] / a['rows_source']:.1f}, "
              f"time x{b['total_s'] / a['total_s']:.1f}, peak RSS x{b['peak_rss_gb'] / a['peak_rss_gb']:.2f}")


if __name__ == "__main__":
    main()
