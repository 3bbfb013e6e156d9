"""Fidelity side by side (issue 18): the column shuffle, HMA, HSA and Independent per dataset.

Not a test: it prints figures measured in the same run and asserts nothing. Per dataset, one row per method:

* the four quality properties of ``dbsynth.evaluate`` (dbsynth/report/metrics.py, SDMetrics' published
  definitions) on the modelled columns: column shapes, column pair trends, cardinality, inter-table trends;
* the detection AUC (``dbsynth.report.detection``: a classifier telling real from synthetic rows, parents
  enriched with their children; 0.5 = indistinguishable; ``--detect-rows`` rows per side and table), "-"
  while that module is not importable;
* rules: the rules the real rows keep in full (declared CHECKs and those discovered on the real rows, found
  here, not taken from the synthesizer) and how many of them every synthetic row keeps;
* fit and sample seconds (the shuffle: 0, it is not a synthesizer).

Then per synthesizer the margin over the shuffle on pair trends and inter-table trends (issue 18 asks >= 0.25)
with the share of the shuffle's headroom it closes, ``(score - shuffle) / (1 - shuffle)``, and HSA minus HMA.

The column shuffle (:func:`dbsynth.report.baselines.column_shuffle`) is the real rows with every non-key column
permuted on its own: marginals and children-per-parent exact, every relation between columns destroyed, so it
scores 1.0 on shapes and cardinality and what it gets on the two trends is what those metrics give for nothing.

Each (dataset, method) runs in its own process (a JSON line back), so one's memory and imports do not weigh on
the next. Each synthesizer runs in ``--rounds`` processes taken in turns, each doing one cold fit + sample and
``--repeat`` warm ones; seconds are the median of the warm runs (of the cold ones when ``--repeat 0``, the
default: then they include first-use costs such as Faker's start-up). Scores come from the first process.

Scoring is bounded on large schemas: ``dbsynth.evaluate`` takes about 110 s on TPC-H SF 0.1 (866k rows), most
of it in the per-table scores and the privacy checks of lineitem. When a table has more than ``--score-rows``
rows, the pair trends within a table are computed on a uniform sample of that many rows of each table, drawn
the same way from the real and the synthetic rows; column shapes, cardinality and inter-table trends stay on the
whole tables (counts per parent exact, the join already sampled by the metric), rules are scored on every row,
and privacy, validity, generated columns and plots (not printed here) are skipped. The output says when this
happened.

Usage::

    python benchmarks/bench_fidelity.py                       # demo (tests/data/demo) and chinook (SQLite)
    python benchmarks/bench_fidelity.py \\
        --dataset pagila=postgresql+psycopg://postgres@127.0.0.1/pagila \\
        --dataset tpch-sf0.1=postgresql+psycopg://postgres@127.0.0.1/bench_tpch_sf0_1
    python benchmarks/bench_fidelity.py --no-demo --no-chinook --methods shuffle,hma --dataset NAME=URL
"""

from __future__ import annotations

import argparse
import inspect
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("shuffle", "hma", "hsa", "independent")
PROPS = ("column_shapes", "column_pair_trends", "cardinality", "intertable_trends")
SHORT = {"column_shapes": "shapes", "column_pair_trends": "pairs", "cardinality": "card",
         "intertable_trends": "inter"}
#: The margin over the shuffle issue 18 asks on pair trends and inter-table trends.
TARGET_MARGIN = 0.25


def load(name: str, url: str | None) -> tuple[Any, dict[str, Any]]:
    """Metadata and real frames of a dataset: ``demo`` from tests/data/demo (as the tests load it), else the
    URL (chinook: the embedded SQLite copy when no URL is given)."""
    if name == "demo" and url is None:
        sys.path.insert(0, str(ROOT / "tests" / "unit"))
        from test_hma_demo import demo_metadata, demo_tables

        return demo_metadata(), demo_tables()
    from dbsynth.read import read_tables
    from dbsynth.reflect import reflect

    url = url or f"sqlite:///{ROOT / 'dbsynth' / 'data' / 'chinook.sqlite'}"
    md = reflect(url)
    return md, read_tables(url, md)


def _bounded(frames: Mapping[str, Any], max_rows: int, seed: int) -> dict[str, Any]:
    """Each frame cut to a uniform sample of ``max_rows`` rows when longer (the same rule for both sides)."""
    return {t: f.sample(max_rows, random_state=seed) if len(f) > max_rows else f for t, f in frames.items()}


def _table_scores(table, real, synth, real_s, synth_s) -> list:
    """What :func:`dbsynth.report.metrics.table_scores` gives on the modelled columns, the shapes on every row
    (one pass per column: cheap, and exact) and the pair trends on the samples ``real_s`` / ``synth_s`` (a
    text form per pair: what takes the time at 600k rows)."""
    from itertools import combinations

    from dbsynth.report import metrics

    name = table.name
    cols = [c for c in table.columns if c.is_modelled and c.name in real[name] and c.name in synth[name]]
    out = []
    for col in cols:
        out.append(metrics.column_shape(real[name][col.name], synth[name][col.name], col))
    for a, b in combinations(cols[:metrics.MAX_PAIR_COLUMNS], 2):
        pair = metrics.pair_trend(real_s[name], synth_s[name], a, b)
        if pair is not None:
            out.append(pair)
    for s in out:
        s.table = name
    return out


def score(md, real, synth, opts: Mapping[str, int]) -> dict[str, Any]:
    """The four properties, the rules kept and the detection AUC of ``synth`` against ``real``.

    ``dbsynth.evaluate``'s own entry (:func:`~dbsynth.report.metrics.evaluate_frames`) when every table has at
    most ``opts["score_rows"]`` rows; else its parts, with the per-table scores on samples (see the module
    docstring).
    """
    from dbsynth.report import metrics
    from dbsynth.report.rule_scores import copies_of_generated, data_rules, score_rules

    max_rows, seed = opts["score_rows"], opts["seed"]
    rules = data_rules(md, real)  # declared + discovered on the real rows, independently of the synthesizer
    scored = copies_of_generated(md, rules)  # as evaluate_frames: copies of generated columns are generated
    sampled = any(len(f) > max_rows for f in (*real.values(), *synth.values()))
    t0 = time.perf_counter()
    if not sampled:
        # the detection score is computed below, the same way on both paths (older trees have no such option)
        params = inspect.signature(metrics.evaluate_frames).parameters
        extra: dict[str, Any] = {"detection": False} if "detection" in params else {}
        report = metrics.evaluate_frames(md, real, synth, seed=seed, rules=rules, **extra)
    else:
        report = metrics.QualityReport(rules=score_rules(md, rules, synth))
        real_s, synth_s = _bounded(real, max_rows, seed), _bounded(synth, max_rows, seed + 1)
        for table in scored:
            if table.name in real and table.name in synth:
                report.scores.extend(_table_scores(table, real, synth, real_s, synth_s))
        report.scores.extend(metrics.relationship_scores(scored, real, synth, seed=seed))
    seconds = time.perf_counter() - t0
    rule_scores = [s for s in report.rules if s.total]
    out: dict[str, Any] = {p: report.properties[p] for p in PROPS}
    out.update(rules=len(rule_scores), rules_kept=sum(1 for s in rule_scores if s.kept == s.total),
               score_sampled=sampled, score_s=seconds)
    out.update(detection(scored, real, synth, opts["detect_rows"], seed))
    return out


def detection(md, real, synth, max_rows: int, seed: int) -> dict[str, Any]:
    """``{"detection_auc": AUC}`` from :mod:`dbsynth.report.detection` (``max_rows`` rows per side and table);
    None when the module is not there (an error in it is carried back as text, to be printed, not hidden)."""
    try:
        from dbsynth.report.detection import detection_auc, detection_scores
    except ImportError:
        return {"detection_auc": None}
    try:
        t0 = time.perf_counter()
        auc = detection_auc(detection_scores(md, real, synth, max_rows=max_rows, seed=seed))
        return {"detection_auc": None if auc is None else float(auc), "detection_s": time.perf_counter() - t0}
    except Exception as exc:  # another helper's module in progress: say what failed, keep the other figures
        return {"detection_auc": None, "detection_error": f"{type(exc).__name__}: {exc}"}


def run_one(name: str, url: str | None, method: str, repeat: int, scored: bool, args: dict[str, int]) -> dict:
    """Read one dataset, make its synthetic copy with ``method`` ``1 + repeat`` times in this process, and
    score the last copy when ``scored``."""
    md, real = load(name, url)
    fits, samples = [], []
    if method == "shuffle":
        from dbsynth.report.baselines import column_shuffle

        synth = column_shuffle(md, real, seed=args["seed"])
        fits, samples = [0.0], [0.0]
    else:
        import dbsynth

        cls = {"hma": dbsynth.HMASynthesizer, "hsa": dbsynth.HSASynthesizer,
               "independent": dbsynth.IndependentSynthesizer}[method]
        for _ in range(1 + repeat):
            t0 = time.perf_counter()
            syn = cls(md, seed=args["seed"], verbose=False).fit(real)
            t1 = time.perf_counter()
            synth = syn.sample()
            fits.append(t1 - t0)
            samples.append(time.perf_counter() - t1)
    out: dict[str, Any] = {"dataset": name, "method": method, "fits": fits[1:] or fits,
                           "samples": samples[1:] or samples,
                           "rows_real": int(sum(map(len, real.values()))),
                           "rows_synth": int(sum(map(len, synth.values())))}
    if scored:
        out.update(score(md, real, synth, args))
    return out


def _merge(runs: list[dict]) -> dict:
    """One row per method from its processes: medians of the timed runs, the scores of the first process."""
    fits = [f for r in runs for f in r["fits"]]
    samples = [s for r in runs for s in r["samples"]]
    return {**runs[0], "fit_s": statistics.median(fits), "sample_s": statistics.median(samples)}


def _fmt(v: float | None, width: int = 6) -> str:
    return f"{'-':>{width}}" if v is None else f"{v:>{width}.3f}"


def _line(name: str, r: dict) -> str:
    rules = f"{r['rules_kept']}/{r['rules']}"
    return (f"{name:<11} {r['method']:<11} " + " ".join(_fmt(r[p]) for p in PROPS)
            + f" {_fmt(r['detection_auc'])} {rules:>7} {r['fit_s']:>7.3f} {r['sample_s']:>8.3f}"
            + f" {r['rows_synth']:>9}/{r['rows_real']:<9}")


def _margins(results: dict[str, dict]) -> list[str]:
    """Per synthesizer, its margin over the shuffle on the two trends (and the share of the shuffle's
    headroom closed); HSA minus HMA on every figure."""
    lines = []
    floor = results.get("shuffle")
    for kind in ("hma", "hsa", "independent"):
        if floor is None or kind not in results:
            continue
        parts = []
        for p in ("column_pair_trends", "intertable_trends"):
            f, v = floor[p], results[kind][p]
            if f is None or v is None:
                parts.append(f"{SHORT[p]} -")
                continue
            gap = v - f
            share = f"{gap / (1 - f):+.0%} of headroom" if f < 1 else "no headroom"
            mark = "ok" if gap >= TARGET_MARGIN else "short"
            parts.append(f"{SHORT[p]} {gap:+.3f} ({share}; {mark} vs +{TARGET_MARGIN})")
        lines.append(f"  {kind} over shuffle: " + ", ".join(parts))
    if "hma" in results and "hsa" in results:
        h, s = results["hma"], results["hsa"]
        diffs = []
        for p in (*PROPS, "detection_auc"):
            label = SHORT.get(p, "detect")
            diffs.append(f"{label} -" if h[p] is None or s[p] is None else f"{label} {s[p] - h[p]:+.3f}")
        total = (h["fit_s"] + h["sample_s"]) / max(s["fit_s"] + s["sample_s"], 1e-9)
        lines.append("  hsa - hma: " + ", ".join(diffs) + f"; fit+sample hma/hsa {total:.2f}x")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", action="append", default=[], metavar="NAME=URL",
                    help="a dataset to add (demo and chinook are run unless --no-demo / --no-chinook)")
    ap.add_argument("--no-demo", action="store_true", help="skip the demo (tests/data/demo)")
    ap.add_argument("--no-chinook", action="store_true", help="skip the embedded chinook")
    ap.add_argument("--methods", default=",".join(METHODS),
                    help=f"comma-separated subset of {','.join(METHODS)} (default: all)")
    ap.add_argument("--repeat", type=int, default=0, metavar="N",
                    help="warm fit + sample runs per process after the cold one (default 0: time the cold run)")
    ap.add_argument("--rounds", type=int, default=1, metavar="N",
                    help="processes per synthesizer, taken in turns (default 1)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the synthesizers and of the shuffle (default 0)")
    ap.add_argument("--score-rows", type=int, default=100_000, metavar="N",
                    help="rows per table above which per-table scores use a sample of N rows (default 100000)")
    ap.add_argument("--detect-rows", type=int, default=5_000, metavar="N",
                    help="rows per side and table the detection classifier is trained on (default 5000)")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    opts = {"seed": args.seed, "score_rows": args.score_rows, "detect_rows": args.detect_rows}
    if args.child:
        name, url, method, repeat, scored = args.child
        print(json.dumps(run_one(name, url or None, method, int(repeat), scored == "1", opts)))
        return
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        ap.error(f"--methods: unknown {', '.join(unknown)} (use {', '.join(METHODS)})")
    jobs: list[tuple[str, str]] = [] if args.no_demo else [("demo", "")]
    jobs += [] if args.no_chinook else [("chinook", "")]
    for item in args.dataset:
        name, sep, url = item.partition("=")
        if not sep or not url:
            ap.error(f"--dataset {item}: expected NAME=URL")
        jobs.append((name, url))
    print("$ python benchmarks/bench_fidelity.py " + " ".join(sys.argv[1:]))
    print(f"{'dataset':<11} {'method':<11} " + " ".join(f"{SHORT[p]:>6}" for p in PROPS)
          + f" {'detect':>6} {'rules':>7} {'fit s':>7} {'sample s':>8} {'rows synth/real':>19}")
    notes: list[str] = []
    for name, url in jobs:
        runs: dict[str, list[dict]] = {m: [] for m in methods}
        for rnd in range(max(args.rounds, 1)):  # in turns, so a noisy minute of the machine hits every method
            for method in methods:
                if method == "shuffle" and rnd:
                    continue  # nothing to time
                cmd = [sys.executable, __file__, "--child", name, url, method, str(args.repeat),
                       "1" if rnd == 0 else "0", "--seed", str(args.seed), "--score-rows", str(args.score_rows),
                       "--detect-rows", str(args.detect_rows)]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode != 0:
                    print(f"{name:<11} {method:<11} FAILED: {proc.stderr.strip().splitlines()[-1:]}", flush=True)
                    continue
                runs[method].append(json.loads(proc.stdout.strip().splitlines()[-1]))
        results = {m: _merge(v) for m, v in runs.items() if v and "column_shapes" in v[0]}
        for method, r in results.items():
            print(_line(name, r), flush=True)
            if r.get("detection_error"):
                notes.append(f"{name} {method}: detection failed: {r['detection_error']}")
        if any(r["score_sampled"] for r in results.values()):
            secs = max(r["score_s"] for r in results.values())
            notes.append(f"{name}: pair trends scored on samples of {args.score_rows} rows per table (shapes, "
                         f"cardinality, inter-table trends and rules on every row; scoring took up to {secs:.0f} s)")
        for line in _margins(results):
            print(line, flush=True)
    for note in notes:
        print("note: " + note)


if __name__ == "__main__":
    main()
