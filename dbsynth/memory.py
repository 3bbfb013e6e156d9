"""The memory budget of a run (``memory_limit``) and the sizes of what streams within it.

A run holds at once: the interpreter and its libraries, the samples the copulas are fitted on, one chunk of
the table being read, one batch being sampled and one being written, and a few numbers per row of each parent
table (keys, counts). The budget is split between them from an estimate of the widest table's bytes per row;
sizes are clamped so that small budgets still make progress and large ones do not waste time on huge batches.
"""

from __future__ import annotations

import ctypes
import gc
import re
from dataclasses import dataclass

from .errors import MemoryBudgetError
from .metadata import Metadata
from .metadata import sdtypes as st

__all__ = ["MemoryPlan", "parse_size", "plan_memory", "release", "DEFAULT_LIMIT"]

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
            f"(needs at least {_human(need)}: {_human(BASE_BYTES)} of working memory and {MIN_BATCH_ROWS:,}-row batches)",
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


def _human(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{n} B"


def release(collect: bool = False) -> None:
    """Hand memory freed by a finished stage back to the operating system.

    numpy and pandas free large arrays into the C allocator, which keeps the pages for reuse; between stages
    (after the fit, after a big table is sampled) that would count against the budget while nothing uses it.
    ``malloc_trim`` exists in glibc only (elsewhere this does nothing). Arrays are freed by reference counting
    already; ``collect`` also runs the garbage collector (slow on a large heap: once per stage, not per table).
    """
    if collect:
        gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
