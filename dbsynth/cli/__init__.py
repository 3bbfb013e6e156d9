"""The ``dbsynth`` command line: a thin typer app over :mod:`dbsynth.pipeline` and the stages.

Exit codes: 0 ok, 1 the run failed (the target is left as it was), 2 bad input (config, URL, metadata,
model file, a scale that does not fit memory or disk), 130 interrupted (Ctrl-C; the line says what happened to
the target). A :class:`~dbsynth.errors.DbsynthError` is printed as ONE line ``error: ...`` on stderr, never a
traceback; ``--verbose`` adds the traceback for unexpected errors.
"""

from __future__ import annotations

import functools
import logging
import sys
import traceback
import warnings
from pathlib import Path

import typer

from .. import progress
from ..errors import DbsynthError, mask_url, show_values

__all__ = ["app", "main", "run_cli"]

app = typer.Typer(
    name="dbsynth",
    help="Clone a production SQL database into a test database of synthetic rows.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # errors are one line; --verbose asks for the traceback
)

_state = {"verbose": False}


class _Interrupted(Exception):
    """Ctrl-C inside a command, carried past typer (which turns a KeyboardInterrupt into a silent exit 130)."""

    def __init__(self, target_state: str | None) -> None:
        super().__init__(target_state or "")
        self.target_state = target_state


def _interruptible(command):
    """Let a Ctrl-C in ``command`` reach :func:`run_cli`, which prints one line saying what became of the target."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt as exc:
            raise _Interrupted(getattr(exc, "target_state", None)) from None

    return wrapper


@app.callback()
def _global(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Show nothing but errors."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logs and tracebacks of unexpected errors."),
    log_format: str = typer.Option(
        "text", "--log-format", help="text (bars on a terminal, log lines otherwise) or json (for schedulers)."
    ),
    show_values_: bool = typer.Option(
        False,
        "--show-values",
        help="Debugging only: let error messages quote values from the data (the driver's own text). Off by "
        "default, because the source is production data.",
    ),
) -> None:
    """Global options, applied before any command."""
    if log_format not in {"text", "json"}:
        raise typer.BadParameter("use text or json", param_hint="--log-format")
    _state["verbose"] = verbose
    show_values(show_values_)
    if not verbose:
        # numpy's overflow/invalid-value warnings would break the one-line stderr; --verbose shows them
        warnings.filterwarnings("ignore", category=RuntimeWarning)
    if quiet:
        mode = "quiet"
    elif log_format == "json":
        mode = "json"
    else:
        mode = "bars" if sys.stderr.isatty() else "log"
    progress.configure(mode)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
        force=True,
    )


@app.command("inspect")
@_interruptible
def inspect_cmd(
    url: str | None = typer.Argument(
        None, help="Database URL (SQLAlchemy form). Default: the embedded Chinook SQLite (builtin:chinook)."
    ),
    json_file: Path | None = typer.Option(None, "--json", help="Also save the metadata as JSON to FILE."),
    diagram: Path | None = typer.Option(
        None, "--diagram", help="Write the FK graph: Mermaid (.mmd/.md) or Graphviz (.dot/.gv)."
    ),
    schema: list[str] | None = typer.Option(
        None,
        "--schema",
        help="Database schema to read (repeatable; several give tables named schema.table). '*': every "
        "non-system schema on PostgreSQL, the connection's database on MariaDB/MySQL and SQLite.",
    ),
    include: list[str] | None = typer.Option(None, "--include", help="Only these tables (repeatable)."),
    exclude: list[str] | None = typer.Option(None, "--exclude", help="Leave these tables out (repeatable)."),
    rules: bool = typer.Option(
        False, "--rules", help="Also read a sample of each table and list the rules its rows keep, with the "
        "declared CHECK constraints."
    ),
) -> None:
    """Describe a database: tables, row counts, columns with their sdtypes, keys and cycle handling."""
    from ..config import DEFAULT_URL, resolve_url
    from .inspect import diagram_format, summarize, write_diagram

    if diagram is not None:
        diagram_format(diagram)  # a wrong suffix is bad input: say so before the (slow) reflection
    resolved = resolve_url(url or DEFAULT_URL)
    # one schema stays a plain name, so table names are unqualified as before; several are reflected together
    from ..reflect.schemas import schema_option  # late: it pulls in SQLAlchemy

    schemas = schema_option(resolved, schema)
    metadata = _reflect(resolved, schema=schemas, include=include or None, exclude=exclude or None)
    typer.echo(summarize(metadata, title=f"Database: {mask_url(resolved)}"), nl=False)
    if rules:
        from .inspect import find_rules, rules_text

        typer.echo("\n" + rules_text(metadata, find_rules(resolved, metadata)), nl=False)
    if json_file is not None:
        metadata.save(json_file)
        typer.echo(f"Metadata written to {json_file}")
    if diagram is not None:
        write_diagram(metadata, diagram)
        typer.echo(f"Diagram written to {diagram}")


_CONFIG = typer.Option(..., "--config", "-c", help="YAML config file (see config.example.yaml).")


@app.command("validate-config")
def validate_config_cmd(config: Path = _CONFIG) -> None:
    """Check a config file (keys, types, environment variables) without connecting anywhere."""
    from ..config import load_config

    cfg = load_config(config)
    typer.echo(f"{config}: ok (source {mask_url(cfg.source.url)}, {len(cfg.tables)} table setting(s))")


_FORCE = typer.Option(
    False, "--force", help="Sample even when the estimated output exceeds max_rows (memory and disk are still checked)."
)


@app.command("run")
@_interruptible
def run_cmd(
    config: Path = _CONFIG,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the plan (tables, modes, rows, order); write nothing."
    ),
    force: bool = _FORCE,
) -> None:
    """Reflect the source, fit unless the model is fresh, sample, and write the target (the nightly job)."""
    from ..pipeline import run

    report = run(config, dry_run=dry_run, force=force)
    if dry_run:
        assert report.plan is not None, "a dry run returns its plan"
        typer.echo(report.plan.render(), nl=False)
        return
    _summary(report, "run")


@app.command("fit")
@_interruptible
def fit_cmd(config: Path = _CONFIG) -> None:
    """Fit the model on the source and save it to the config's model.path."""
    from ..pipeline import fit

    _summary(fit(config), "fit")


@app.command("sample")
@_interruptible
def sample_cmd(
    config: Path = _CONFIG,
    out: Path | None = typer.Option(None, "--out", help="Write one file per table to DIR instead of the target."),
    fmt: str = typer.Option("csv", "--format", help="csv or parquet (with --out)."),
    force: bool = _FORCE,
) -> None:
    """Sample from the saved model into the target database (or files with --out)."""
    from ..pipeline import sample

    _summary(sample(config, out_dir=out, fmt=fmt, force=force), "sample")


def _summary(report, command: str) -> None:
    """The final summary: a rich table (text), the report as JSON (--log-format json), nothing (--quiet)."""
    mode = progress.mode()
    if mode == "quiet":
        return
    if mode == "json":
        import json

        typer.echo(json.dumps({"event": "done", "command": command, **report.to_dict()}, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"dbsynth {command}", title_justify="left")
    table.add_column("table")
    table.add_column("mode")
    table.add_column("rows", justify="right")
    for name, rows in report.tables.items():
        table.add_row(name, report.modes.get(name, ""), f"{rows:,}")
    if report.tables:
        table.add_row("total", "", f"{report.total_rows:,}", style="bold")
    console = Console(highlight=False)
    if report.tables:
        console.print(table)
    stages = ", ".join(f"{k} {v:.2f}s" for k, v in report.seconds.items())
    model = f"model {'fitted' if report.refit else 'reused'} ({report.refit_reason})"
    written = report.target and report.tables and getattr(report, "committed", True)
    console.print(f"{model}; {stages}" + (f"; written to {report.target}" if written else ""))
    if report.quality:
        console.print(f"quality {report.quality['overall']:.1%}; report in {report.quality['html']}")
    for w in report.warnings:
        console.print(f"warning: {w}", style="yellow")


def _reflect(url: str, **kwargs):
    """Reflect through :func:`dbsynth.reflect.reflect` (imported late: it pulls in SQLAlchemy)."""
    try:
        from ..reflect import reflect
    except ImportError as exc:  # the reflection stage is built separately; say so in one line
        raise DbsynthError(f"the reflection stage is not available in this installation ({exc})") from None
    from ..errors import ReflectionError
    from ..reflect.schemas import schemas_hint

    try:
        return reflect(url, **kwargs)
    except ReflectionError as exc:
        # an empty default schema on PostgreSQL usually means the tables are in other schemas: name them
        empty_default = kwargs.get("schema") is None and "has no tables" in exc.message
        hint = schemas_hint(url, "--schema") if empty_default else None
        if hint is None:
            raise
        raise ReflectionError(exc.message, hint=hint) from None


def _register_optional_commands() -> None:
    """Add subcommands of stages that may not be installed in this build (``report``)."""
    try:
        from ..report.command import report_command
    except ImportError:
        return
    app.command("report")(report_command)


_register_optional_commands()


# The app callback's options, with whether each takes a value: see _hoist_global_options.
_GLOBAL_FLAGS = {"--quiet": False, "-q": False, "--verbose": False, "-v": False, "--show-values": False,
                 "--log-format": True}


def _hoist_global_options(argv: list[str]) -> list[str]:
    """Move the global options found after the subcommand to before it, so both places work.

    click only parses a group's options before the subcommand name; users write
    ``dbsynth run --config c.yaml --quiet`` too. No subcommand has an option of these names, so moving them is
    unambiguous. Values of other options are not inspected (a value equal to ``--quiet`` is not a real case);
    everything after ``--`` is left alone.
    """
    i = 0
    while i < len(argv):  # skip the global options already before the subcommand
        token = argv[i]
        name = token.split("=", 1)[0]
        if name not in _GLOBAL_FLAGS:
            break
        i += 2 if _GLOBAL_FLAGS[name] and "=" not in token else 1
    if i >= len(argv) or argv[i].startswith("-"):
        return list(argv)  # no subcommand (or --help): click reports it
    head, command, rest = list(argv[:i]), argv[i], argv[i + 1 :]
    moved: list[str] = []
    kept: list[str] = []
    j = 0
    while j < len(rest):
        token = rest[j]
        if token == "--":
            kept.extend(rest[j:])
            break
        name = token.split("=", 1)[0]
        if name in _GLOBAL_FLAGS:
            takes_value = _GLOBAL_FLAGS[name] and "=" not in token
            moved.extend(rest[j : j + 2] if takes_value else [token])
            j += 2 if takes_value else 1
            continue
        kept.append(token)
        j += 1
    return head + moved + [command] + kept


def run_cli(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and return the exit code.

    Never raises: every error is turned into one line on stderr and an exit code.
    """
    try:
        # standalone mode: typer prints usage errors and help itself and exits (2 for usage errors)
        args = _hoist_global_options(sys.argv[1:] if argv is None else list(argv))
        app(args=args, prog_name="dbsynth", standalone_mode=True)
        return 0
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except DbsynthError as exc:
        if _state["verbose"]:
            traceback.print_exc()
        typer.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except (KeyboardInterrupt, _Interrupted) as exc:
        state = getattr(exc, "target_state", None)
        typer.echo(f"error: interrupted; {state or 'nothing was written'}", err=True)
        return 130
    except Exception as exc:  # the last line of defence: one line, no traceback
        if _state["verbose"]:
            traceback.print_exc()
            typer.echo(f"error: {type(exc).__name__}: {mask_url(exc)}", err=True)
        else:
            first = mask_url(exc).splitlines()[0] if str(exc) else ""
            typer.echo(
                f"error: unexpected {type(exc).__name__}: {first} (run with --verbose for the traceback)", err=True
            )
        return 1


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``dbsynth`` script and ``python -m dbsynth``."""
    sys.exit(run_cli(argv))
