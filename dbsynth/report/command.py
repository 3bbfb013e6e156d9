"""The ``dbsynth report`` subcommand, registered by :mod:`dbsynth.cli` when this module imports."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..errors import mask_url


def report_command(
    real: str = typer.Option(..., "--real", help="URL of the real database (builtin:chinook accepted)."),
    synthetic: str = typer.Option(..., "--synthetic", help="URL of the synthetic database."),
    metadata: Optional[Path] = typer.Option(
        None, "--metadata", help="Metadata JSON (dbsynth or SDV layout). Default: reflected from --real."
    ),
    out: Path = typer.Option(Path("report"), "--out", help="Directory for report.json and report.html."),
    fail_under: Optional[float] = typer.Option(
        None, "--fail-under", min=0.0, max=1.0, help="Exit 1 when the overall score (0..1) is below SCORE."
    ),
    fail_under_property: Optional[List[str]] = typer.Option(
        None,
        "--fail-under-property",
        metavar="NAME=SCORE",
        help="Exit 1 when a property scores below SCORE, e.g. column_shapes=0.8 (repeatable).",
    ),
) -> None:
    """Compare a synthetic database with the real one; write report.json and report.html."""
    # The docstring is the --help text, hence no Raises section: QualityError (exit 1, one line on stderr) when
    # a threshold is missed, which fails the nightly job; BadInputError (exit 2) for a malformed threshold.
    from ..config import resolve_url
    from ..metadata.records import Metadata
    from . import evaluate
    from .metrics import parse_thresholds
    from .render import write_report

    thresholds = parse_thresholds(fail_under_property or [])  # before the work: a typo fails in a second
    md = Metadata.load(metadata) if metadata is not None else None
    real_url, synth_url = resolve_url(real), resolve_url(synthetic)
    report = evaluate(real_url, synth_url, md)
    json_path, html_path = write_report(report, out)
    props = ", ".join(f"{k} {'n/a' if v is None else f'{v:.1%}'}" for k, v in report.properties.items())
    typer.echo(f"Overall quality {report.overall:.1%} ({mask_url(synth_url)} vs {mask_url(real_url)}): {props}")
    typer.echo(f"Report written to {html_path} and {json_path}")
    report.check(fail_under, thresholds, options=("--fail-under", "--fail-under-property"))
