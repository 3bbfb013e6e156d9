"""HMA, HSA and Independent side by side: fit and sample seconds, peak RSS, integrity and fidelity per dataset.

Not a test: it prints figures measured in the same run (the machine is shared and noisy: compare ratios).
Each (dataset, synthesizer) pair runs in its own process, so peak RSS is its own; it includes reading the
source into memory, which is the same for the three. On small schemas a run takes a tenth of a second and one
run says more about the machine than about the synthesizer, so each synthesizer runs in ``--rounds`` processes,
taken in turns, each doing one cold fit + sample (imports, Faker's start-up, the PII pools) and ``--repeat``
warm ones: fit and sample are medians of the warm runs, "cold" the median cold fit + sample. Fidelity is
``dbsynth.evaluate`` (dbsynth/report): overall and per property (column shapes, column pair trends, cardinality,
inter-table trends). Rules: the rules the real rows keep in full (declared CHECKs and those discovered in them,
found here on the real rows, not taken from the synthesizer) and the share of them every synthetic row keeps
("kept"), beside the share the same fit keeps when sampled without its rules ("unkept": what keeping adds).

Usage::

    python benchmarks/bench_synthesizers.py                    # chinook (embedded SQLite copy)
    python benchmarks/bench_synthesizers.py \\
        --dataset pagila=postgresql+psycopg://postgres@127.0.0.1/pagila \\
        --dataset tpch-sf0.1=postgresql+psycopg://postgres@127.0.0.1/bench_tpch01
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SYNTHESIZERS = ("hma", "hsa", "independent")
PROPS = ("column_shapes", "column_pair_trends", "cardinality", "intertable_trends")


def _integrity(md, synth) -> dict:
    """Share of non-NULL references found in their parent, and rows repeating a primary key or unique key."""
    import numpy as np
    import pandas as pd

    fk_ok = fk_all = dup = 0
    for t, table in md.tables.items():
        frame = synth[t]
        keys = [table.primary_key] if table.primary_key else []
        keys += [u.columns for u in table.unique_constraints]
        for cols in keys:
            sub = frame[cols]
            dup += int((sub.duplicated() & sub.notna().all(axis=1)).sum())
        for fk in table.foreign_keys:
            sub = frame[fk.columns].dropna().astype("object")
            parent = pd.MultiIndex.from_frame(synth[fk.ref_table][fk.ref_columns].astype("object"))
            found = parent.get_indexer(pd.MultiIndex.from_frame(sub)) >= 0 if len(sub) else np.zeros(0, bool)
            fk_ok += int(found.sum())
            fk_all += len(sub)
    return {"fk_integrity": fk_ok / fk_all if fk_all else 1.0, "duplicate_keys": dup}


def _rules(md, real, synth, syn) -> dict:
    """Rules the real rows keep in full (declared CHECKs and the discovered ones, found on the real rows here,
    independently of the synthesizer), the share of them the sample keeps in every row, and the share the same
    fit keeps when sampled without its rules (what the engine's keeping adds)."""
    from dbsynth.rules.discover import declared, discover
    from dbsynth.rules.evaluate import score
    from dbsynth.rules.records import RuleSet
    from dbsynth.sample.engine import Engine

    rules = declared(md).plus(list(discover(md, real)))

    def kept(frames) -> float:
        scores = [s for s in score(md, rules, frames) if s.total]
        return sum(1 for s in scores if s.kept == s.total) / len(scores) if scores else 1.0

    bare = Engine(syn.metadata, syn.strategy(), syn.seed, syn.progress_task, rules=RuleSet()).sample(1.0, {})
    return {"rules": len([s for s in score(md, rules, synth) if s.total]), "rules_kept": kept(synth),
            "rules_kept_bare": kept(bare)}


def run_one(name: str, url: str, kind: str, repeat: int, score: bool) -> dict:
    """Read, fit and sample one dataset with one synthesizer ``1 + repeat`` times in this process; score the
    last sample when ``score``.

    The first fit + sample is the cold one a nightly job pays (imports, Faker's start-up and the PII pools are
    made then, the same for the three synthesizers); the ``repeat`` others are the warm runs compared.
    """
    import dbsynth
    from dbsynth.read import read_tables
    from dbsynth.reflect import reflect

    cls = {"hma": dbsynth.HMASynthesizer, "hsa": dbsynth.HSASynthesizer,
           "independent": dbsynth.IndependentSynthesizer}[kind]
    md = reflect(url)
    real = read_tables(url, md)
    fits, samples = [], []
    for _ in range(1 + repeat):
        t0 = time.perf_counter()
        syn = cls(md, seed=0, verbose=False).fit(real)
        t1 = time.perf_counter()
        synth = syn.sample()
        t2 = time.perf_counter()
        fits.append(t1 - t0)
        samples.append(t2 - t1)
    out = {
        "dataset": name, "synthesizer": kind, "cold_s": fits[0] + samples[0], "fits": fits[1:] or fits,
        "samples": samples[1:] or samples, "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        "rows_real": int(sum(map(len, real.values()))), "rows_synth": int(sum(map(len, synth.values()))),
    }
    if score:
        report = dbsynth.evaluate(real, synth, md)
        out.update(_integrity(md, synth), **_rules(md, real, synth, syn), overall=report.overall,
                   **{p: report.properties.get(p) for p in PROPS})
    return out


def _merge(runs: list[dict]) -> dict:
    """One row per synthesizer from its processes: medians of every warm run, the median cold run, the
    highest peak RSS, the scores of the first process."""
    import statistics

    fits = [f for r in runs for f in r["fits"]]
    samples = [s for r in runs for s in r["samples"]]
    return {**runs[0], "fit_s": statistics.median(fits), "sample_s": statistics.median(samples),
            "total_s": statistics.median([f + s for r in runs for f, s in zip(r["fits"], r["samples"])]),
            "cold_s": statistics.median(r["cold_s"] for r in runs), "rss_gb": max(r["rss_gb"] for r in runs)}


def _fmt(v) -> str:
    return "   -" if v is None else f"{v:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", action="append", default=[], metavar="NAME=URL",
                    help="a dataset to add (chinook from the embedded SQLite copy is always run)")
    ap.add_argument("--no-chinook", action="store_true", help="skip the embedded chinook")
    ap.add_argument("--repeat", type=int, default=5, metavar="N",
                    help="warm fit + sample runs per process, after the cold one (default 5)")
    ap.add_argument("--rounds", type=int, default=3, metavar="N",
                    help="processes per synthesizer, taken in turns hma, hsa, independent, hma, ... (default 3)")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        name, url, kind, repeat, score = args.child
        print(json.dumps(run_one(name, url, kind, int(repeat), score == "1")))
        return
    jobs = [] if args.no_chinook else [("chinook", f"sqlite:///{ROOT / 'dbsynth' / 'data' / 'chinook.sqlite'}")]
    jobs += [tuple(d.split("=", 1)) for d in args.dataset]
    head = (f"{'dataset':<11} {'synth':<11} {'fit s':>7} {'sample s':>8} {'cold s':>7} {'peak GB':>7} {'FK ok':>7} "
            f"{'dup keys':>8} {'overall':>7} {'shapes':>6} {'pairs':>6} {'card':>6} {'inter':>6} "
            f"{'rules':>5} {'kept':>6} {'unkept':>6} {'rows synth/real':>17}")
    print(head)
    for name, url in jobs:
        runs: dict[str, list[dict]] = {k: [] for k in SYNTHESIZERS}
        for rnd in range(max(args.rounds, 1)):  # in turns, so a noisy minute of the machine hits all three
            for kind in SYNTHESIZERS:
                cmd = [sys.executable, __file__, "--child", name, url, kind, str(args.repeat), "1" if rnd == 0 else "0"]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode != 0:
                    print(f"{name:<11} {kind:<11} FAILED: {proc.stderr.strip().splitlines()[-1:]}")
                    continue
                runs[kind].append(json.loads(proc.stdout.strip().splitlines()[-1]))
        results = {k: _merge(v) for k, v in runs.items() if v and "overall" in v[0]}
        for kind, r in results.items():
            print(
                f"{name:<11} {kind:<11} {r['fit_s']:>7.3f} {r['sample_s']:>8.3f} {r['cold_s']:>7.2f} "
                f"{r['rss_gb']:>7.2f} {r['fk_integrity']:>7.1%} {r['duplicate_keys']:>8} {_fmt(r['overall']):>7} "
                + " ".join(f"{_fmt(r[p]):>6}" for p in PROPS)
                + f" {r['rules']:>5} {r['rules_kept']:>6.1%} {r['rules_kept_bare']:>6.1%}"
                + f" {r['rows_synth']:>8}/{r['rows_real']:<8}",
                flush=True,
            )
        if "hma" in results:
            h = results["hma"]
            for kind in ("hsa", "independent"):
                if kind in results:
                    r = results[kind]
                    print(
                        f"  {kind} vs hma: fit {h['fit_s'] / r['fit_s']:.2f}x, "
                        f"sample {h['sample_s'] / r['sample_s']:.2f}x, fit+sample {h['total_s'] / r['total_s']:.2f}x, "
                        f"cold run {h['cold_s'] / r['cold_s']:.2f}x faster; "
                        f"overall fidelity {r['overall'] - h['overall']:+.3f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
