"""``dbsynth inspect``: a readable summary of a database as dbsynth sees it.

The summary is built from :class:`~dbsynth.metadata.Metadata` alone (no database handle), so it is the same
for a live database and for a saved metadata file, and it can be unit-tested without a server. The rules
(``--rules``) need the rows: :func:`find_rules` reads a bounded sample of each table and runs discovery,
:func:`rules_text` lays them out.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BadInputError
from ..metadata import Metadata

if TYPE_CHECKING:
    from ..rules.records import Rule, RuleSet

__all__ = ["RULES_SAMPLE_ROWS", "FoundRules", "diagram_format", "find_rules", "rules_text", "summarize",
           "write_diagram"]

#: Rows read per table by ``inspect --rules`` (a uniform sample of larger tables): enough for the support
#: thresholds of discovery, bounded so that inspecting a production database stays quick.
RULES_SAMPLE_ROWS = 100_000

#: Diagram formats by file suffix.
_DIAGRAM_FORMATS = {".mmd": "mermaid", ".md": "mermaid", ".dot": "dot", ".gv": "dot", ".png": "image", ".svg": "image"}


def _count(n: int | None) -> str:
    return "? rows" if n is None else f"{n:,} rows"


def summarize(metadata: Metadata, *, title: str | None = None) -> str:
    """Describe ``metadata`` as plain text: tables, columns, keys, relationships and cycle handling.

    Args:
        metadata: the database described (usually from :func:`dbsynth.reflect.reflect`).
        title: first line (e.g. the masked URL); omitted when None.

    Returns:
        The summary, one item per line, ending with a newline.

    Raises:
        CycleError: when a foreign-key cycle cannot be broken (no nullable key in it).
    """
    graph = metadata.graph()
    total = sum(t.row_count or 0 for t in metadata)
    lines: list[str] = []
    if title:
        lines.append(title)
    dialect = f" ({metadata.dialect})" if metadata.dialect else ""
    lines.append(f"{len(metadata)} tables, {total:,} rows{dialect}")
    lines.append("Write order: " + ", ".join(graph.parent_first()))
    for name in graph.parent_first():
        table = metadata.tables[name]
        lines.append("")
        lines.append(f"{name}  ({_count(table.row_count)})")
        width = max((len(c.name) for c in table.columns), default=0)
        for col in table.columns:
            flags = []
            if col.name in table.primary_key:
                flags.append("PK")
            if not col.nullable:
                flags.append("NOT NULL")
            if col.autoincrement:
                flags.append("auto")
            if col.computed:
                flags.append("computed")
            native = f" [{col.native_type}]" if col.native_type else ""
            extra = f"  {' '.join(flags)}" if flags else ""
            lines.append(f"  {col.name:<{width}}  {col.type}{native} as {col.sdtype}{extra}")
        if len(table.primary_key) > 1:
            lines.append(f"  primary key ({', '.join(table.primary_key)})")
        for uc in table.unique_constraints:
            lines.append(f"  unique ({', '.join(uc.columns)})")
        for fk in table.foreign_keys:
            lines.append(f"  FK ({', '.join(fk.columns)}) -> {fk.ref_table}({', '.join(fk.ref_columns)})")
        for fk in table.outside_foreign_keys:  # said here too, so a user sees it before a run warns
            lines.append(
                f"  FK ({', '.join(fk.columns)}) -> {fk.ref_table}({', '.join(fk.ref_columns)})  "
                "not read: outside the tables and schemas asked for"
            )
    lines.append("")
    lines.append(f"Relationships: {len(graph.edges)}")
    for edge in graph.edges:
        lines.append(f"  {edge.describe()}")
    if graph.deferred:
        lines.append(f"Cycles: {len(graph.deferred)} foreign key(s) written as NULL, filled after insert")
        for d in graph.deferred:
            lines.append(f"  {d.describe()}")
    else:
        lines.append("Cycles: none")
    return "\n".join(lines) + "\n"


def diagram_format(path: str | Path) -> str:
    """The diagram format (``mermaid``, ``dot`` or ``image``) for a file name.

    Raises:
        BadInputError: when the suffix is not ``.mmd``, ``.md``, ``.dot``, ``.gv``, ``.png`` or ``.svg``.
    """
    path = Path(path)
    fmt = _DIAGRAM_FORMATS.get(path.suffix.lower())
    if fmt is None:
        allowed = ", ".join(sorted(_DIAGRAM_FORMATS))
        raise BadInputError(f"--diagram {path.name}: unknown diagram format (use a file ending in {allowed})")
    return fmt


def write_diagram(metadata: Metadata, path: str | Path) -> Path:
    """Write the foreign-key graph to ``path``: Mermaid for ``.mmd``/``.md``, Graphviz DOT for ``.dot``/``.gv``,
    and a picture for ``.png``/``.svg`` rendered by Graphviz's ``dot`` program when it is installed.

    Args:
        metadata: the database described.
        path: file to write; its suffix picks the format.

    Returns:
        The path written.

    Raises:
        BadInputError: when the suffix is not one of the formats above, or a picture is asked for and
            Graphviz is not installed.
    """
    path = Path(path)
    fmt = diagram_format(path)
    graph = metadata.graph()
    if fmt == "image":
        _render(graph.to_dot(), path)
        return path
    text = graph.to_mermaid() if fmt == "mermaid" else graph.to_dot()
    if path.suffix.lower() == ".md":  # Markdown renders Mermaid inside a fenced block
        text = f"```mermaid\n{text}```\n"
    path.write_text(text, encoding="utf-8")
    return path


def _render(dot_source: str, path: Path) -> None:
    dot = shutil.which("dot")
    if dot is None:
        raise BadInputError(
            f"--diagram {path.name}: pictures need Graphviz's 'dot' program, which is not installed",
            hint="Install graphviz (e.g. apt-get install graphviz), or write a .dot or .mmd file instead.",
        )
    proc = subprocess.run(
        [dot, f"-T{path.suffix.lower().lstrip('.')}", "-o", str(path)], input=dot_source, text=True, capture_output=True
    )
    if proc.returncode != 0:
        raise BadInputError(f"--diagram {path.name}: Graphviz failed: {proc.stderr.strip()[:200]}")


# ---- rules ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FoundRules:
    """What ``inspect --rules`` found: the rules, and how much of each table they were found in."""

    rules: RuleSet
    """The declared CHECKs, then the rules discovered in the rows read."""
    read: Mapping[str, tuple[int, int]]
    """Per table, ``(rows read, rows in the table)``."""



def find_rules(url: str, metadata: Metadata, *, max_rows: int = RULES_SAMPLE_ROWS, seed: int = 0) -> FoundRules:
    """Read each table of ``metadata`` (a uniform sample of at most ``max_rows`` rows, in one read-only snapshot)
    and find the rules its rows keep, besides the declared CHECK constraints.

    Rules across tables and per parent are looked for only between tables read whole (see
    :func:`dbsynth.rules.discover.discover`).

    Args:
        url: the database (resolved).
        metadata: its tables (reflected).
        max_rows: rows read per table at most.
        seed: seed of the samples.

    Returns:
        The rules and the rows read per table.

    Raises:
        ConnectError: the database cannot be reached.
        SchemaMismatchError: a table of the metadata cannot be read.
    """
    from .. import progress
    from ..read import open_sources
    from ..rules.discover import declared, discover

    frames, read = {}, {}
    with open_sources(url, metadata) as sources:
        for name, source in sources.items():
            with progress.task("read", table=name, total=None) as task:
                frames[name] = source.sample(max_rows, seed)
                task.advance(len(frames[name]))
            read[name] = (len(frames[name]), source.n_rows)
    complete = frozenset(t for t, (got, n) in read.items() if got >= n)
    return FoundRules(declared(metadata).plus(discover(metadata, frames, complete=complete).rules), read)


def _support(rule: Rule) -> str:
    from ..rules.records import RuleOrigin

    if rule.origin is not RuleOrigin.DISCOVERED:
        return str(rule.origin)
    return f"support {rule.support:,}"


def rules_text(metadata: Metadata, found: FoundRules) -> str:
    """The rules as plain text, grouped by table (in metadata order): per rule its kind, what it says, its
    support in the rows read (``declared`` for a CHECK) and its name (what the config switches off).

    Args:
        metadata: the tables (their order is the output's).
        found: what :func:`find_rules` returned.

    Returns:
        The text, ending with a newline.
    """
    from ..rules.records import RuleOrigin

    rules = list(found.rules)
    declared = sum(1 for r in rules if r.origin is RuleOrigin.DECLARED)
    lines = [f"Rules: {len(rules)} ({declared} declared, {len(rules) - declared} discovered)"]
    by_table: dict[str, list[Rule]] = {}
    for r in rules:
        by_table.setdefault(r.table, []).append(r)
    for name in [*metadata.tables, *(t for t in by_table if t not in metadata.tables)]:
        table_rules = by_table.get(name)
        if not table_rules:
            continue
        got, n = found.read.get(name, (0, 0))
        read = f"all {n:,} rows read" if got >= n else f"{got:,} of {n:,} rows read; rules across tables not looked for"
        lines += ["", f"{name}  ({read})"]
        rows = [(str(r.kind), r.describe(), _support(r), r.name) for r in table_rules]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            lines.append("  " + "  ".join(f"{v:<{w}}" for v, w in zip(row[:3], widths)) + f"  {row[3]}")
    if not rules:
        lines.append("  none: no CHECK is declared and no rule holds in the rows read")
    return "\n".join(lines) + "\n"
