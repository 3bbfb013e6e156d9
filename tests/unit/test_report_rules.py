"""The rules property of the quality report: which rules are scored, the mean share, JSON, HTML and the gate.

Scoring a rule is :mod:`dbsynth.rules.evaluate`'s job; where a test is about the report's plumbing it replaces
``score`` by a stand-in counting ``high >= low`` for orders and giving fixed counts otherwise, so that what is
asserted is what the report does with the scores.
"""

from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pytest

import dbsynth.rules.discover as discover_mod
import dbsynth.rules.evaluate as evaluate_mod
from dbsynth.cli import run_cli
from dbsynth.config import parse_config
from dbsynth.errors import QualityError
from dbsynth.metadata.records import CheckConstraint, Column, Metadata, Table
from dbsynth.properties import PROPERTIES, QUALITY_PROPERTIES
from dbsynth.report import evaluate
from dbsynth.report.metrics import QualityReport, check_thresholds, evaluate_frames, parse_thresholds
from dbsynth.report.render import render_html
from dbsynth.rules.records import Check, Order, RuleOrigin, RuleScore, RuleSet, Unique

ORDER = Order(table="t", low="a", high="b", support=10)
UNIQUE = Unique(table="t", names=("c",), origin=RuleOrigin.USER)
CHECK = Check(table="t", constraint="ck_small", sqltext="a < 100", names=("a",), origin=RuleOrigin.DECLARED)
ELSEWHERE = Order(table="gone", low="x", high="y")


def _metadata() -> Metadata:
    cols = [Column("id", type="integer", sdtype="id", nullable=False)] + [
        Column(n, type="integer", sdtype="numerical") for n in ("a", "b", "c")
    ]
    return Metadata({"t": Table("t", cols, primary_key=["id"],
                                check_constraints=[CheckConstraint("a < 100", name="ck_small")])})


def _frames(broken: int) -> dict[str, pd.DataFrame]:
    """Ten rows of t; the first ``broken`` have b < a (the real ones keep b >= a)."""
    a = pd.Series(range(10), dtype="int64")
    b = a + 1
    b[:broken] = a[:broken] - 1
    return {"t": pd.DataFrame({"id": range(1, 11), "a": a, "b": b, "c": range(10)})}


def _fake_score(metadata, rules, frames):
    out = []
    for r in rules:
        if isinstance(r, Order):
            f = frames[r.table]
            both = f[[r.low, r.high]].dropna()
            out.append(RuleScore(r, int((both[r.high] >= both[r.low]).sum()), len(both)))
        else:
            out.append(RuleScore(r, len(frames[r.table]), len(frames[r.table])))
    return out


@pytest.fixture
def fake_score(monkeypatch):
    seen: list[dict[str, pd.DataFrame]] = []

    def score(metadata, rules, frames):
        seen.append(dict(frames))
        return _fake_score(metadata, list(rules), frames)

    monkeypatch.setattr(evaluate_mod, "score", score)
    return seen


# ---- the property --------------------------------------------------------------------------------------------
def test_rules_property_is_the_mean_share_and_stays_out_of_overall():
    scores = [RuleScore(ORDER, 7, 10), RuleScore(UNIQUE, 10, 10), RuleScore(CHECK, 0, 0, "cannot be evaluated")]
    report = QualityReport(rules=scores)
    assert report.properties["rules"] == pytest.approx(0.85)  # mean(0.7, 1.0); the unscored CHECK left out
    assert report.overall == 1.0  # nothing of the quality properties scored: rules are reported beside
    assert QualityReport().properties["rules"] is None
    assert QualityReport(rules=[scores[2]]).properties["rules"] is None
    assert "rules" in PROPERTIES and "rules" not in QUALITY_PROPERTIES


def test_evaluate_frames_scores_the_given_rules_on_the_synthetic_rows(fake_score):
    real, synthetic = _frames(0), _frames(3)
    report = evaluate_frames(_metadata(), real, synthetic, rules=RuleSet((ORDER, UNIQUE, ELSEWHERE)))
    # the rule of a table not compared is not the report's; the others are scored on the synthetic frames
    assert [(s.rule.name, s.kept, s.total) for s in report.rules] == [("order:t:a,b", 7, 10), ("unique:t:c", 10, 10)]
    assert fake_score[0]["t"] is synthetic["t"]
    assert report.properties["rules"] == pytest.approx(0.85)


def test_without_rules_the_declared_and_discovered_ones_are_scored(fake_score, monkeypatch):
    calls = {}

    def discover(metadata, frames, settings=None, complete=None):
        calls["discover"] = (dict(frames), complete)
        return RuleSet((ORDER,))

    monkeypatch.setattr(discover_mod, "discover", discover)
    monkeypatch.setattr(discover_mod, "declared", lambda metadata: RuleSet((CHECK,)), raising=False)
    real, synthetic = _frames(0), _frames(3)
    report = evaluate(real, synthetic, _metadata())
    assert sorted(s.rule.name for s in report.rules) == ["check:t:ck_small", "order:t:a,b"]
    frames, complete = calls["discover"]
    assert frames["t"] is real["t"] and complete == frozenset({"t"})  # discovered in the real rows, read whole


def test_an_order_broken_in_3_of_10_rows_keeps_70_percent_with_the_real_scorer():
    # no stand-in: dbsynth.rules.evaluate.score counts the rows; the report reads its share
    report = evaluate_frames(_metadata(), _frames(0), _frames(3), rules=RuleSet((ORDER, CHECK)))
    assert [(s.rule.name, s.kept, s.total, s.share) for s in report.rules] == [
        ("order:t:a,b", 7, 10, pytest.approx(0.7)), ("check:t:ck_small", 10, 10, 1.0)]
    assert report.properties["rules"] == pytest.approx(0.85)


# ---- JSON and HTML ------------------------------------------------------------------------------------------
KEPT = Unique(table="t", names=("a",), support=10)


def _report() -> QualityReport:
    other = Order(table="t", low="c", high="b", support=10)
    return QualityReport(rules=[RuleScore(CHECK, 10, 10), RuleScore(UNIQUE, 10, 10), RuleScore(ORDER, 7, 10),
                                RuleScore(KEPT, 10, 10), RuleScore(other, 9, 10),
                                RuleScore(ELSEWHERE, 0, 0, "table gone not compared")])


def test_json_lists_every_rule():
    rules = json.loads(_report().to_json())["rules"]
    assert len(rules) == 6
    order = next(r for r in rules if r["name"] == "order:t:a,b")
    assert order == {"name": "order:t:a,b", "kind": "order", "origin": "discovered", "table": "t",
                     "description": "t.b >= t.a", "kept": 7, "total": 10, "share": 0.7, "detail": None}
    gone = next(r for r in rules if r["name"] == "order:gone:x,y")
    assert gone["share"] is None and gone["detail"] == "table gone not compared"
    assert json.loads(_report().to_json())["properties"]["rules"] == pytest.approx((1 + 1 + 0.7 + 1 + 0.9) / 5)


def test_html_groups_rules_by_origin_failing_first_and_highlighted():
    page = render_html(_report())
    section = page[page.index('<h2 id="rules">'):page.index("<h2>Validity")]
    # declared, then discovered, then user
    assert section.index("Declared") < section.index("Discovered") < section.index("Given by the user")
    discovered = section[section.index("Discovered"):section.index("Given by the user")]
    # failing ones first (worst first), highlighted, then the kept ones; the unscored one last with its reason
    assert (discovered.index("order:t:a,b") < discovered.index("order:t:c,b") < discovered.index("unique:t:a")
            < discovered.index("order:gone:x,y"))
    assert '<tr class="fail"><td>order:t:a,b</td>' in discovered
    assert '<tr class="fail"><td>order:t:c,b</td>' in discovered
    row = discovered[discovered.index("<td>order:t:c,b</td>"):]
    assert 'class="bar low"' in row[:row.index("</tr>")]  # red although 90%: the rule is broken
    assert "<tr><td>check:t:ck_small</td>" in section  # kept: not highlighted
    assert "not scored: table gone not compared" in discovered
    assert "7 of 10" in discovered and "70.0%" in discovered
    assert "3 of 5 rules kept in every synthetic row" in section and "2 not kept" in section
    assert "Discovered in the real rows: 1 of 3 kept" in section
    assert "Rules kept (declared, discovered, user)" in page  # the summary row


def test_html_never_rounds_a_broken_rule_up_to_100_percent():
    page = render_html(QualityReport(rules=[RuleScore(ORDER, 99_999, 100_000), RuleScore(UNIQUE, 57, 100)]))
    section = page[page.index('<h2 id="rules">'):]
    assert "99.9%" in section and "100.0%" not in section
    assert "57.0%" in section


# ---- the gate ------------------------------------------------------------------------------------------------
def test_rules_threshold_fails_naming_the_rules_not_kept():
    with pytest.raises(QualityError) as exc:
        _report().check(properties={"rules": 1.0}, options=("--fail-under", "--fail-under-property"))
    message = str(exc.value)
    assert message.startswith("quality: rules 92.0% is under --fail-under-property 100.0%")
    assert message.endswith("(not kept: order:t:a,b, order:t:c,b)")  # worst first; the kept ones not named
    many = [RuleScore(Order(table="t", low=f"x{i}", high="y"), 5 + i, 10) for i in range(5)]
    missed = QualityReport(rules=many).shortfalls(properties={"rules": 1.0})
    assert missed[0].describe("opt").endswith("(not kept: order:t:x0,y, order:t:x1,y, order:t:x2,y and 2 more)")
    QualityReport(rules=[RuleScore(ORDER, 10, 10)]).check(properties={"rules": 1.0})  # all kept: passes
    QualityReport().check(properties={"rules": 1.0})  # no rule: nothing to fall short with


def test_other_shortfalls_name_no_rule():
    from dbsynth.report import Score

    report = _report()
    report.scores = [Score("column_shapes", "t", ["a"], "KSComplement", 0.5)]
    missed = report.shortfalls(properties={"column_shapes": 0.8, "rules": 0.5})
    assert [(m.property, m.failing) for m in missed] == [("column_shapes", ())]  # rules 92% >= 50%


def test_rules_is_a_property_thresholds_and_the_config_accept():
    assert check_thresholds({"rules": 1.0}) == {"rules": 1.0}
    assert parse_thresholds(["rules=1.0"]) == {"rules": 1.0}
    cfg = parse_config({"source": {"url": "x"}, "report": {"quality": "q", "fail_under_properties": {"rules": 1.0}}})
    assert cfg.report.fail_under_properties == {"rules": 1.0}


def _databases(tmp_path) -> list[str]:
    """URLs of a real SQLite database of t (b >= a in every row) and a synthetic one (3 rows of 10 break it)."""
    urls = []
    for name, broken in (("real", 0), ("synth", 3)):
        path = tmp_path / f"{name}.sqlite"
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, c INTEGER)")
            conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?)",
                             _frames(broken)["t"].itertuples(index=False, name=None))
        urls.append(f"sqlite:///{path}")
    return urls


def test_cli_report_gates_on_rules_and_names_the_rule(tmp_path, capsys, fake_score, monkeypatch):
    monkeypatch.setattr(discover_mod, "discover", lambda metadata, frames, settings=None, complete=None:
                        RuleSet((ORDER,)))
    monkeypatch.setattr(discover_mod, "declared", lambda metadata: RuleSet(), raising=False)
    urls = _databases(tmp_path)
    argv = ["report", "--real", urls[0], "--synthetic", urls[1], "--out", str(tmp_path / "r"),
            "--fail-under-property", "rules=1.0"]
    assert run_cli(argv) == 1
    captured = capsys.readouterr()
    assert "Rules: 0 of 1 kept in every synthetic row (not kept: order:t:a,b)" in captured.out
    err = [line for line in captured.err.splitlines() if line.startswith("error")]  # matplotlib's notes aside
    assert err == ["error: quality: rules 70.0% is under --fail-under-property 100.0% (not kept: order:t:a,b)"]
    saved = json.loads((tmp_path / "r" / "report.json").read_text())
    assert [(r["name"], r["kept"], r["total"]) for r in saved["rules"]] == [("order:t:a,b", 7, 10)]
    assert run_cli([*argv[:-1], "rules=0.7"]) == 0


def test_evaluate_clone_scores_the_rules_it_is_given(tmp_path, fake_score, monkeypatch):
    from dbsynth.report.command import evaluate_clone

    def no_discovery(*args, **kwargs):
        raise AssertionError("the model's rules are given: nothing to discover")

    monkeypatch.setattr(discover_mod, "discover", no_discovery)
    urls = _databases(tmp_path)
    report, missing = evaluate_clone(urls[0], urls[1], _metadata(), rules=RuleSet((ORDER, ELSEWHERE)))
    assert missing == [] and [(s.rule.name, s.kept, s.total) for s in report.rules] == [("order:t:a,b", 7, 10)]
