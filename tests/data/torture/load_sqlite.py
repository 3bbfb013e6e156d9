"""Build the SQLite torture database: ``python3 load_sqlite.py FILE`` (FILE is replaced).

The script runs sqlite.sql through Python's own sqlite3 module (no sqlite3 command-line tool needed) and then
checks the foreign keys, so a broken script fails here rather than in a test.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

HERE = Path(__file__).parent


def load(path: str | Path) -> None:
    """Create the torture database in ``path`` (an existing file there is removed first)."""
    target = Path(path)
    target.unlink(missing_ok=True)
    conn = sqlite3.connect(target, isolation_level=None)
    try:
        conn.executescript((HERE / "sqlite.sql").read_text(encoding="utf-8"))
        bad = conn.execute("PRAGMA foreign_key_check").fetchall()
        if bad:
            raise SystemExit(f"torture sqlite: {len(bad)} rows break a foreign key, first: {bad[0]}")
    finally:
        conn.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: load_sqlite.py FILE")
    load(sys.argv[1])
