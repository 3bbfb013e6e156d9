"""The ``dbsynth report`` subcommand, registered by :mod:`dbsynth.cli` when this module imports."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

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
) -> None:
    """Compare a synthetic database with the real one; write report.json and report.html."""
    # The docstring is the --help text, hence no Raises section: typer.Exit(1) is raised when --fail-under
    # is given and the overall score is below it (one line on stderr), which fails the nightly job.
    from ..config import resolve_url
    from ..metadata.records import Metadata
    from . import evaluate
    from .render import write_report

    md = Metadata.load(metadata) if metadata is not None else None
    real_url, synth_url = resolve_url(real), resolve_url(synthetic)
    report = evaluate(real_url, synth_url, md)
    json_path, html_path = write_report(report, out)
    props = ", ".join(f"{k} {'n/a' if v is None else f'{v:.1%}'}" for k, v in report.properties.items())
    typer.echo(f"Overall quality {report.overall:.1%} ({mask_url(synth_url)} vs {mask_url(real_url)}): {props}")
    typer.echo(f"Report written to {html_path} and {json_path}")
    if fail_under is not None and report.overall < fail_under:
        typer.echo(f"error: overall quality {report.overall:.1%} is under --fail-under {fail_under:.1%}", err=True)
        raise typer.Exit(1)
