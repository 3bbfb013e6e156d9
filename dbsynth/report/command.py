"""The ``dbsynth report`` subcommand, registered by :mod:`dbsynth.cli` when this module imports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import BadInputError, mask_url

if TYPE_CHECKING:
    from ..metadata.records import Metadata
    from ..rules.records import RuleSet
    from .metrics import QualityReport


def report_command(
    real: Annotated[str, typer.Option("--real", help="URL of the real database (builtin:chinook accepted).")],
    synthetic: Annotated[str, typer.Option("--synthetic", help="URL of the synthetic database.")],
    metadata: Annotated[
        Path | None,
        typer.Option("--metadata", help="Metadata JSON (dbsynth or SDV layout). Default: reflected from --real."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Directory for report.json and report.html.")] = Path("report"),
    fail_under: Annotated[
        float | None,
        typer.Option("--fail-under", min=0.0, max=1.0, help="Exit 1 when the overall score (0..1) is below SCORE."),
    ] = None,
    fail_under_property: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-under-property",
            metavar="NAME=SCORE",
            help="Exit 1 when a property scores below SCORE, e.g. column_shapes=0.8 (repeatable).",
        ),
    ] = None,
    schema: Annotated[
        list[str] | None,
        typer.Option(
            "--schema",
            help="Schema of the real database to compare (repeatable, as source.schema; '*': every non-system "
            "schema on PostgreSQL). Default: the connection's.",
        ),
    ] = None,
) -> None:
    """Compare a synthetic database with the real one; write report.json and report.html."""
    # The docstring is the --help text, hence no Raises section: QualityError (exit 1, one line on stderr) when
    # a threshold is missed, which fails the nightly job; BadInputError (exit 2) for a malformed threshold.
    from ..metadata.records import Metadata
    from ..urls import resolve_url
    from .metrics import parse_thresholds
    from .render import write_report
    from .rule_scores import summary_line

    thresholds = parse_thresholds(fail_under_property or [])  # before the work: a typo fails in a second
    real_url, synth_url = resolve_url(real), resolve_url(synthetic)
    if metadata is not None:
        if schema:
            raise BadInputError("--schema and --metadata: give one of them (the metadata file names its tables)")
        md = Metadata.load(metadata)
    else:
        from ..reflect import reflect
        from ..reflect.schemas import schema_option

        md = reflect(real_url, schema=schema_option(real_url, schema))
    report, missing = evaluate_clone(real_url, synth_url, md)
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        typer.echo(f"Not in the synthetic database, so not compared: {shown}")
    json_path, html_path = write_report(report, out)
    props = ", ".join(f"{k} {'n/a' if v is None else f'{v:.1%}'}" for k, v in report.properties.items())
    typer.echo(f"Overall quality {report.overall:.1%} ({mask_url(synth_url)} vs {mask_url(real_url)}): {props}")
    if report.detection_auc is not None:
        typer.echo(f"Detection AUC {report.detection_auc:.3f} (real vs synthetic classifier; 0.5 = indistinguishable)")
    rules = summary_line(report.rules)
    if rules:
        typer.echo(rules)
    typer.echo(f"Report written to {html_path} and {json_path}")
    report.check(fail_under, thresholds, options=("--fail-under", "--fail-under-property"))


def evaluate_clone(
    real_url: str, synth_url: str, metadata: Metadata, *, seed: int = 0, rules: RuleSet | None = None
) -> tuple[QualityReport, list[str]]:
    """Compare a clone with its source, table by table where the writer put each table.

    A table read from several schemas of a PostgreSQL source is in the schema of the same name in a PostgreSQL
    clone and under its bare name in a MariaDB/MySQL or SQLite one (see :func:`dbsynth.write.ddl.target_schema`);
    tables the clone does not hold (excluded, skipped) are left out of the comparison rather than failing it.

    Args:
        real_url: the real database.
        synth_url: the synthetic database.
        metadata: the real database's tables (reflected or loaded).
        seed: seed of the samples drawn for large joins.
        rules: the rules to score (the fitted model's); default: the CHECKs of ``metadata`` and the rules the
            real rows keep.

    Returns:
        The quality report (table names as in ``metadata``), and the names of the tables not compared.

    Raises:
        BadInputError: the synthetic database holds none of the tables.
        ConnectError: a database cannot be reached.
    """
    import sqlalchemy as sa

    from ..db import engine, read_only_connection
    from ..read import read_tables
    from . import evaluate
    from .checks import check_constraints

    eng = engine(synth_url, read_only=True)
    try:
        with read_only_connection(eng) as conn:
            located, missing = _locate(sa.inspect(conn), conn.dialect.name, metadata)
    finally:
        eng.dispose()
    if not located:
        raise BadInputError(
            f"the synthetic database '{mask_url(synth_url)}' holds none of the {len(metadata.tables)} tables of the "
            "real one",
            hint="Check --synthetic, and --schema for a real database of several schemas.",
        )
    present = metadata.subset(list(located))
    # the same tables under the names they have in the clone (the schema-less copy of a schema.table, ...)
    there = present.copy()
    copies, there.tables = there.tables, {}
    back: dict[str, str] = {}
    for key, (sch, name) in located.items():
        t = copies[key]
        t.schema, t.name = sch, f"{sch}.{name}" if sch else name
        t.foreign_keys, t.outside_foreign_keys = [], []
        there.tables[t.name] = t
        back[t.name] = key
    frames = read_tables(synth_url, there)
    report = evaluate(real_url, {back[n]: f for n, f in frames.items()}, present, seed=seed, rules=rules)
    for check in check_constraints(synth_url, there):
        check.table = back.get(check.table, check.table)
        report.validity.append(check)
    return report, missing


def _locate(insp, dialect: str, metadata: Metadata) -> tuple[dict[str, tuple[str | None, str]], list[str]]:
    """``{table: (schema, name)}`` in the synthetic database for the tables it holds, and those it does not."""
    from ..write.ddl import target_name, target_schema

    names: dict[str | None, set[str]] = {}

    def has(sch: str | None, name: str) -> bool:
        if sch not in names:
            try:
                names[sch] = set(insp.get_table_names(schema=sch))
            except Exception:
                names[sch] = set()
        return name in names[sch]

    located: dict[str, tuple[str | None, str]] = {}
    missing: list[str] = []
    for key, table in metadata.tables.items():
        name = target_name(table)
        # where the writer puts it; then the clone's default schema (a clone made before schemas were kept)
        for sch in dict.fromkeys([target_schema(metadata, table, dialect), None]):
            if has(sch, name):
                located[key] = (sch, name)
                break
        else:
            missing.append(key)
    return located, missing
