"""Quality gates: --fail-under, per-property thresholds, in the Python API and on the command line."""

from __future__ import annotations

import pytest

from dbsynth.cli import run_cli
from dbsynth.errors import BadInputError, QualityError
from dbsynth.report import QualityReport, Score
from dbsynth.report.metrics import parse_thresholds


def _report() -> QualityReport:
    # column_shapes 0.9, cardinality 0.5; nothing else scored: overall = mean(0.9, 0.5) = 0.7.
    return QualityReport(
        scores=[
            Score("column_shapes", "t", ["a"], "KSComplement", 0.8),
            Score("column_shapes", "t", ["b"], "TVComplement", 1.0),
            Score("cardinality", "c", ["fk -> t"], "CardinalityKS", 0.5),
        ]
    )


def test_shortfalls_name_each_missed_threshold():
    report = _report()
    assert report.overall == pytest.approx(0.7)
    assert report.shortfalls(fail_under=0.6, properties={"column_shapes": 0.9, "cardinality": 0.5}) == []
    missed = report.shortfalls(fail_under=0.75, properties={"column_shapes": 0.95, "cardinality": 0.4})
    assert [(m.property, m.threshold) for m in missed] == [("overall", 0.75), ("column_shapes", 0.95)]
    assert missed[1].score == pytest.approx(0.9)


def test_unscored_property_passes_its_threshold():
    # No pair was scored: a threshold on it cannot be missed (there is nothing to compare).
    assert _report().shortfalls(properties={"column_pair_trends": 0.99}) == []


def test_check_raises_one_line_quality_error():
    with pytest.raises(QualityError) as exc:
        _report().check(properties={"cardinality": 0.8}, options=("--fail-under", "--fail-under-property"))
    assert str(exc.value) == "quality: cardinality 50.0% is under --fail-under-property 80.0%"
    assert exc.value.exit_code == 1
    _report().check(0.7, {"cardinality": 0.5})  # met exactly: no error


def test_unknown_property_and_bad_scores_are_bad_input():
    with pytest.raises(BadInputError, match="unknown property 'colum_shapes'.*column_shapes"):
        _report().shortfalls(properties={"colum_shapes": 0.8})
    with pytest.raises(BadInputError, match="expected NAME=SCORE"):
        parse_thresholds(["column_shapes"])
    with pytest.raises(BadInputError, match="must be a number in 0..1"):
        parse_thresholds(["column_shapes=1.5"])
    with pytest.raises(BadInputError, match="must be a number in 0..1"):
        parse_thresholds(["validity=high"])
    assert parse_thresholds(["column_shapes=0.8", " privacy = 0.99"]) == {"column_shapes": 0.8, "privacy": 0.99}


def test_cli_unknown_property_exits_two_before_reading(capsys, tmp_path):
    # The URLs do not exist: the threshold is checked first, so the error is about it.
    code = run_cli(
        ["report", "--real", "sqlite:///nope.sqlite", "--synthetic", "sqlite:///nope2.sqlite", "--out", str(tmp_path),
         "--fail-under-property", "shapes=0.8"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: --fail-under-property: unknown property 'shapes'")
