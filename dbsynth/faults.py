"""Fault points for the fault-injection tests: do nothing unless ``DBSYNTH_FAULT_AT`` names the phase.

The writer calls :func:`point` at each phase of a load (``ddl``, ``copy``, ``cycle``, ``constraints``,
``sequences``, ``analyze``, ``commit``, ``swap``). A test runs ``dbsynth run`` in a subprocess with
``DBSYNTH_FAULT_AT=<phase>`` (or ``<phase>:<table>``) and ``DBSYNTH_FAULT_MARKER=<path>``; when the run
reaches the phase, it writes the marker (its pid) and waits, so the test can kill the process or terminate its
database session at exactly that point. The wait ends when ``<marker>.go`` appears (the test terminated the
backend and wants the run to notice) or after ``DBSYNTH_FAULT_WAIT`` seconds (default 60).

Without the variable a point is one dictionary look-up: production runs never pause.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

__all__ = ["point", "PHASES"]

#: Every phase a fault point marks, in the order a load goes through them.
PHASES = ("ddl", "copy", "cycle", "constraints", "sequences", "analyze", "commit", "swap")


def point(phase: str, table: str | None = None) -> None:
    """Pause here when ``DBSYNTH_FAULT_AT`` is ``phase`` or ``phase:table`` (test use only).

    Args:
        phase: one of :data:`PHASES`.
        table: the table being worked on, if any.
    """
    wanted = os.environ.get("DBSYNTH_FAULT_AT")
    if not wanted:
        return
    name, _, only = wanted.partition(":")
    if name != phase or (only and only != table):
        return
    marker = Path(os.environ.get("DBSYNTH_FAULT_MARKER", "dbsynth-fault"))
    go = marker.with_name(marker.name + ".go")
    if marker.exists():  # fire once per run: a later batch of the same table goes on
        return
    marker.write_text(f"{os.getpid()} {phase} {table or ''}\n")
    deadline = time.monotonic() + float(os.environ.get("DBSYNTH_FAULT_WAIT", "60"))
    while time.monotonic() < deadline and not go.exists():
        time.sleep(0.05)
