"""The memory budget of a run (``memory_limit``) and the sizes of what streams within it.

A run holds at once: the interpreter and its libraries, the samples the copulas are fitted on, one chunk of
the table being read, one batch being sampled and one being written, and a few numbers per row of each parent
table (keys, counts). The budget is split between them from an estimate of the widest table's bytes per row;
sizes are clamped so that small budgets still make progress and large ones do not waste time on huge batches.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import re
from dataclasses import dataclass

from .errors import MemoryBudgetError
from .metadata import Metadata
from .metadata import sdtypes as st

__all__ = ["MemoryPlan", "OutputEstimate", "estimate_output", "parse_size", "plan_memory", "release", "DEFAULT_LIMIT"]

#: The budget when the config says nothing: 1 GB.
DEFAULT_LIMIT = 1 << 30

#: What the interpreter, numpy/pandas/scipy/sqlalchemy and the model take before any row is held.
BASE_BYTES = 320 << 20

#: The smallest batch worth running: fewer rows per round trip cost more in overhead than they save.
MIN_BATCH_ROWS = 1_000

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
          "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tb": 1 << 40}


@dataclass(frozen=True)
class MemoryPlan:
    """How a run uses its memory budget."""

    limit: int
    """The budget, in bytes."""
    sample_rows: int
    """Rows of each table the copula is fitted on."""
    chunk_rows: int
    """Rows per chunk of a streamed read."""
    batch_rows: int
    """Rows per sampled (and written) batch."""
    row_bytes: int
    """Estimated in-memory bytes of a row of the widest table (with pandas' overhead)."""


def parse_size(value: str | int | None) -> int:
    """Bytes of a size such as ``1GB``, ``512 MB``, ``2g`` or a plain number of bytes (None: the default).

    Raises:
        MemoryBudgetError: for text that is not a size.
    """
    if value is None:
        return DEFAULT_LIMIT
    if isinstance(value, int):
        size = value
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(value))
        unit = m.group(2).lower() if m else None
        if m is None or unit not in _UNITS:
            raise MemoryBudgetError(
                f"memory_limit: '{value}' is not a size", hint="Write it like 1GB, 512MB or a number of bytes."
            )
        size = int(float(m.group(1)) * _UNITS[unit])
    if size <= 0:
        raise MemoryBudgetError(f"memory_limit: {value} must be positive")
    return size


def _row_bytes(metadata: Metadata) -> tuple[int, str | None]:
    """Estimated bytes per row of the widest table as a DataFrame (objects for text), and its name."""
    widest, name = 0, None
    for table in metadata:
        size = 0
        for col in table.columns:
            if col.type in (st.STRING, st.ENUM, st.UUID, st.JSON, st.ARRAY, st.BINARY, st.OTHER, st.TIME, st.INTERVAL):
                # a Python object per value: header plus characters, bounded for long text
                size += 56 + min(col.length or 32, 256)
            else:
                size += 8
        if size > widest:
            widest, name = size, table.name
    # conversions (driver tuples -> lists -> Series, latent and normal-score copies) hold ~4 copies at once
    return max(widest, 8) * 4, name


def plan_memory(limit: str | int | None, metadata: Metadata) -> MemoryPlan:
    """Split the budget ``limit`` between samples, chunks and batches for ``metadata``'s tables.

    Args:
        limit: the budget (``memory_limit`` of the config; None: :data:`DEFAULT_LIMIT`).
        metadata: the tables that are read, fitted and written.

    Returns:
        The :class:`MemoryPlan`.

    Raises:
        MemoryBudgetError: when the budget cannot hold the base working memory and one smallest batch.
    """
    size = parse_size(limit)
    row, widest = _row_bytes(metadata)
    need = BASE_BYTES + 3 * MIN_BATCH_ROWS * row  # a chunk read, a batch sampled, a batch written
    if size < need:
        raise MemoryBudgetError(
            f"memory_limit {_human(size)} is too small for one batch of table '{widest}' "
            f"(needs at least {_human(need)}: {_human(BASE_BYTES)} of working memory and "
            f"{MIN_BATCH_ROWS:,}-row batches)",
            hint=f"Raise memory_limit to {_human(need)} or more.",
        )
    free = size - BASE_BYTES
    # samples are held as plain frames (a quarter of the conversion estimate per row), every table's at once
    # in the worst case; a quarter of the budget goes to the chunk and batches in flight; the rest is left for
    # keys and counts per parent row and the writer's buffers
    n_tables = max(1, min(len(metadata.tables), 8))
    sample_rows = int(min(200_000, max(5_000, free / 2 / (row / 4 * n_tables))))
    batch_rows = int(min(100_000, max(MIN_BATCH_ROWS, free / 4 / (3 * row))))
    return MemoryPlan(limit=size, sample_rows=sample_rows, chunk_rows=batch_rows, batch_rows=batch_rows, row_bytes=row)


@dataclass(frozen=True)
class OutputEstimate:
    """What sampling a number of rows per table will take, worked out before anything is sampled.

    Every figure is an estimate from the column types (text counts at most 256 characters in memory and 64
    on disk), good to the order of magnitude a budget check needs.
    """

    rows: dict[str, float]
    """Rows sampled per table."""
    held_bytes: float
    """Memory that grows with the output: what a batched sampler keeps of every row of a parent table (the keys
    its children refer to, a few figures per row for drawing them), plus whole tables when they are drawn whole."""
    peak_bytes: float
    """``held_bytes`` plus the working memory and the batches in flight: what is compared with the budget."""
    heaviest: str | None
    """The table holding the most of ``held_bytes``."""
    disk_bytes: float
    """Bytes the rows take once stored (a database file or CSV files)."""

    @property
    def total_rows(self) -> float:
        """Rows over all tables."""
        return float(sum(self.rows.values()))


def _value_bytes(col) -> int:
    """In-memory bytes of one value of ``col`` in a frame (a Python object per text value)."""
    if col.type in (st.STRING, st.ENUM, st.UUID, st.JSON, st.ARRAY, st.BINARY, st.OTHER, st.TIME, st.INTERVAL):
        return 56 + min(col.length or 32, 256)
    return 8


def _disk_bytes(col) -> int:
    """Stored bytes of one value of ``col`` (text: its declared length, at most 64 characters)."""
    if col.type == st.BOOL:
        return 1
    if col.type == st.INTEGER:
        return max(1, (col.bits or 64) // 8)
    if col.type == st.UUID:
        return 16
    if col.type in (st.STRING, st.ENUM, st.JSON, st.ARRAY, st.BINARY, st.OTHER):
        return 1 + min(col.length or 32, 64)
    return 8


def estimate_output(
    plan: MemoryPlan, metadata: Metadata, rows: dict[str, float], *, whole: str = "none"
) -> OutputEstimate:
    """Estimate the memory and disk that sampling ``rows`` of ``metadata``'s tables takes.

    Args:
        plan: the run's :class:`MemoryPlan` (its batch size and row estimate).
        metadata: the sampled tables.
        rows: rows sampled per table (floats: a huge scale must not overflow).
        whole: what the sampler holds whole: ``none`` (batches only: the HMA), ``table`` (one table at a time:
            the segment engines), ``all`` (every table, e.g. ``dbsynth sample --out``).

    Returns:
        The :class:`OutputEstimate`.
    """
    referenced: dict[str, set[str]] = {t: set() for t in metadata.tables}
    edges: dict[str, int] = {t: 0 for t in metadata.tables}
    for table in metadata:
        for fk in table.foreign_keys:
            if fk.ref_table in referenced:
                referenced[fk.ref_table].update(fk.ref_columns)
                edges[fk.ref_table] += 1
    held: dict[str, float] = {}
    whole_bytes: list[float] = []
    disk = 0.0
    for table in metadata:
        n = float(rows.get(table.name, 0.0))
        per_row = 0.0
        if edges[table.name]:
            # the referenced keys (a kept copy, and one more while the batches are joined), then per child edge
            # a float32 figure and an int64 count or position
            keys = sum(_value_bytes(table.column(c)) for c in referenced[table.name] if table.has_column(c))
            per_row += 2 * keys + 12 * edges[table.name]
        # hashes of keys made of references only, kept across batches to keep them unique
        per_row += 8 * sum(1 for uc in table.unique_constraints if all(
            any(c in fk.columns for fk in table.foreign_keys) for c in uc.columns))
        held[table.name] = n * per_row
        frame_row = float(sum(_value_bytes(c) for c in table.columns))
        whole_bytes.append(2 * n * frame_row)  # the frame and a copy while it is joined or shaped
        disk += n * (24 + sum(_disk_bytes(c) for c in table.columns) + 16 * bool(table.primary_key))
    total_held = sum(held.values())
    if whole == "table":
        total_held += max(whole_bytes, default=0.0)
    elif whole == "all":
        total_held += sum(whole_bytes)
    heaviest = max(held, key=held.__getitem__, default=None)
    peak = BASE_BYTES + 3 * plan.batch_rows * plan.row_bytes + total_held
    return OutputEstimate(rows=dict(rows), held_bytes=total_held, peak_bytes=peak, heaviest=heaviest, disk_bytes=disk)


def _human(n: float) -> str:
    """``n`` bytes as text (``1.5 GB``)."""
    if n >= 1 << 50:
        return f"{n / (1 << 40):,.0f} TB"
    for unit, scale in (("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{int(n)} B"


def release(collect: bool = False) -> None:
    """Hand memory freed by a finished stage back to the operating system.

    numpy and pandas free large arrays into the C allocator, which keeps the pages for reuse; between stages
    (after the fit, after a big table is sampled) that would count against the budget while nothing uses it.
    ``malloc_trim`` exists in glibc only (elsewhere this does nothing). Arrays are freed by reference counting
    already; ``collect`` also runs the garbage collector (slow on a large heap: once per stage, not per table).
    """
    if collect:
        gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
