"""Benchmark of the HMA engine: fit and sample seconds, peak RSS and a fidelity summary per dataset.

Not a test: it prints figures and the ratio against SDV's published HMA figures for Chinook
(444 s fit + 218 s sample, 4.5 GB peak). Each dataset runs in its own process so peak RSS is its own.

Usage::

    python benchmarks/bench_hma.py                       # demo and chinook (embedded SQLite copy)
    python benchmarks/bench_hma.py --url postgresql+psycopg://postgres@127.0.0.1/pagila --name pagila
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SDV_CHINOOK = {"fit_s": 444.0, "sample_s": 218.0, "rss_gb": 4.5}


def _fidelity(md, real, synth) -> dict:
    """FK integrity, PK uniqueness, and mean total-variation distance of categorical columns."""
    import numpy as np
    import pandas as pd

    fk_ok = fk_all = 0
    pk_dup = 0
    tvds = []
    for t, table in md.tables.items():
        frame = synth[t]
        if table.primary_key:
            pk_dup += int(frame[table.primary_key].duplicated().sum())
        for fk in table.foreign_keys:
            sub = frame[fk.columns].dropna().astype("object")
            keys = pd.MultiIndex.from_frame(synth[fk.ref_table][fk.ref_columns].astype("object"))
            found = keys.get_indexer(pd.MultiIndex.from_frame(sub)) >= 0 if len(sub) else np.zeros(0, bool)
            fk_ok += int(found.sum())
            fk_all += len(sub)
        for c in table.columns:
            if c.sdtype in ("categorical", "boolean") and len(real[t]) and len(frame):
                p = real[t][c.name].astype("object").value_counts(normalize=True, dropna=False)
                q = frame[c.name].astype("object").value_counts(normalize=True, dropna=False)
                tvds.append(0.5 * p.sub(q, fill_value=0).abs().sum())
    return {
        "fk_integrity": fk_ok / fk_all if fk_all else 1.0,
        "pk_duplicates": pk_dup,
        "categorical_tvd": float(np.mean(tvds)) if tvds else 0.0,
        "rows_real": int(sum(len(f) for f in real.values())),
        "rows_synth": int(sum(len(f) for f in synth.values())),
    }


def run_one(name: str, url: str | None) -> dict:
    """Fit and sample one dataset in this process; return its figures."""
    from dbsynth.synthesizers import HMASynthesizer

    if name == "demo":
        sys.path.insert(0, str(ROOT / "tests" / "unit"))
        from test_hma_demo import demo_metadata, demo_tables

        md, real = demo_metadata(), demo_tables()
    else:
        from dbsynth.read import read_tables
        from dbsynth.reflect import reflect

        if url is None:  # chinook from the embedded SQLite copy
            tmp = Path(tempfile.mkdtemp()) / "chinook.sqlite"
            shutil.copy(ROOT / "tests" / "data" / "chinook" / "Chinook_Sqlite.sqlite", tmp)
            url = f"sqlite:///{tmp}"
        md = reflect(url)
        real = read_tables(url, md)
    t0 = time.perf_counter()
    syn = HMASynthesizer(md, seed=0, verbose=False).fit(real)
    t1 = time.perf_counter()
    synth = syn.sample()
    t2 = time.perf_counter()
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux: KiB
    return {"dataset": name, "fit_s": t1 - t0, "sample_s": t2 - t1, "rss_gb": rss_gb, **_fidelity(md, real, synth)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", help="run only this dataset (demo, chinook, or a name for --url)")
    ap.add_argument("--url", help="database URL of the dataset named by --name")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_one(args.name, args.url)))
        return
    jobs = [(args.name, args.url)] if args.name else [("demo", None), ("chinook", None)]
    print(
        f"{'dataset':<10} {'fit s':>8} {'sample s':>9} {'peak GB':>8} {'FK ok':>7} {'PK dup':>7} {'cat TVD':>8} "
        f"{'rows':>16}"
    )
    for name, url in jobs:
        cmd = [sys.executable, __file__, "--child", "--name", name] + (["--url", url] if url else [])
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        r = json.loads(out)
        print(
            f"{r['dataset']:<10} {r['fit_s']:>8.2f} {r['sample_s']:>9.2f} {r['rss_gb']:>8.2f} "
            f"{r['fk_integrity']:>7.1%} {r['pk_duplicates']:>7} {r['categorical_tvd']:>8.3f} "
            f"{r['rows_synth']:>7}/{r['rows_real']:<8}"
        )
        if name == "chinook":
            total = r["fit_s"] + r["sample_s"]
            sdv_total = SDV_CHINOOK["fit_s"] + SDV_CHINOOK["sample_s"]
            print(
                f"  vs SDV HMA on Chinook: fit {SDV_CHINOOK['fit_s'] / r['fit_s']:.0f}x faster, "
                f"sample {SDV_CHINOOK['sample_s'] / r['sample_s']:.0f}x faster, "
                f"total {total:.2f} s vs {sdv_total:.0f} s ({sdv_total / total:.0f}x; target <= 6.6 s), "
                f"memory {r['rss_gb']:.2f} GB vs {SDV_CHINOOK['rss_gb']} GB "
                f"({SDV_CHINOOK['rss_gb'] / r['rss_gb']:.1f}x less; target < 0.9 GB)"
            )


if __name__ == "__main__":
    main()
