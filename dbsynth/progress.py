"""Progress reporting shared by every stage (reading, fitting, sampling, writing).

Stages call :func:`task` and never print directly, so that the CLI decides how progress is shown: rich
progress bars on a terminal, nothing with ``--quiet``, JSON log lines with ``--log-format json``.

Example::

    with progress.task("fit", table="orders", total=n_rows) as t:
        for chunk in chunks:
            ...
            t.advance(len(chunk))
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported only when bars are shown
    from rich.progress import Progress, TaskID

log = logging.getLogger("dbsynth")

#: "bars" (rich progress bars on stderr), "log" (one log line per finished task), "json" or "quiet".
_MODE = "log"
_bars: Progress | None = None  # the live rich.progress.Progress while mode == "bars"


def configure(mode: str) -> None:
    """Choose how progress is shown: ``bars``, ``log``, ``json`` or ``quiet``."""
    global _MODE
    if mode not in {"bars", "log", "json", "quiet"}:
        raise ValueError(f"unknown progress mode {mode!r}")
    _MODE = mode


def mode() -> str:
    """The current progress mode."""
    return _MODE


@dataclass
class Task:
    """One unit of long work: a stage on a table."""

    stage: str
    """What is done: read, fit, sample, write, ..."""
    table: str | None = None
    """Table concerned, if any."""
    total: int | None = None
    """Expected count (rows), when known."""
    done: int = 0
    """Count advanced so far."""
    started: float = field(default_factory=time.perf_counter)
    _bar_id: TaskID | None = None

    def advance(self, n: int = 1) -> None:
        """Record ``n`` more units done."""
        self.done += n
        if _bars is not None and self._bar_id is not None:
            _bars.update(self._bar_id, advance=n)

    @property
    def seconds(self) -> float:
        """Seconds since the task started."""
        return time.perf_counter() - self.started

    def label(self) -> str:
        return f"{self.stage} {self.table}" if self.table else self.stage


#: Stages whose rows only count once the target commits: their progress says rows *sent*, never written.
_SENT_STAGES = {"write"}


@contextmanager
def task(stage: str, table: str | None = None, total: int | None = None) -> Iterator[Task]:
    """Report a unit of work from start to end (see the module docstring).

    A ``write`` task counts rows *sent* to the target: they are committed (or rolled back) with the whole load,
    which :func:`note` reports once it is over. A task left by an exception says it stopped.
    """
    t = Task(stage, table, total)
    if _bars is not None:
        t._bar_id = _bars.add_task(t.label(), total=total)
    stopped = False
    try:
        yield t
    except BaseException:
        stopped = True
        raise
    finally:
        secs = t.seconds
        if _bars is not None and t._bar_id is not None:
            _bars.update(t._bar_id, completed=total if total is not None else t.done, total=total or t.done or 1)
        sent = " sent" if stage in _SENT_STAGES else ""
        if _MODE == "json":
            record = {"event": stage, "table": table, "rows": t.done, "seconds": round(secs, 3)}
            if sent:
                record["committed"] = False  # rows in flight; the load's own event says whether they were
            if stopped:
                record["stopped"] = True
            print(json.dumps(record), file=sys.stderr, flush=True)
        elif _MODE == "log":
            rate = f", {t.done / secs:,.0f} rows/s" if t.done and secs > 0 else ""
            if stopped:
                log.info("%s: stopped after %s rows%s in %.2fs", t.label(), f"{t.done:,}", sent, secs)
            else:
                log.info("%s: %s rows%s in %.2fs%s", t.label(), f"{t.done:,}", sent, secs, rate)


def note(event: str, message: str, **fields) -> None:
    """Report a one-off event (``committed``, ...): a log line, a JSON record with ``fields``, or nothing."""
    if _MODE == "json":
        print(json.dumps({"event": event, **fields}, default=str), file=sys.stderr, flush=True)
    elif _MODE in ("log", "bars"):
        log.info("%s", message)


@contextmanager
def bars() -> Iterator[None]:
    """Show rich progress bars on stderr for the tasks started inside (when the mode is ``bars``)."""
    global _bars
    if _MODE != "bars" or _bars is not None:
        yield
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    _bars = Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    try:
        with _bars:
            yield
    finally:
        _bars = None
