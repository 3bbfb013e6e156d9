"""Import and export of SDV's multi-table metadata JSON (V1 and V2 layouts)."""

from __future__ import annotations

from typing import Any


def is_sdv(data: dict[str, Any]) -> bool:
    """True when ``data`` looks like SDV metadata rather than dbsynth's own layout."""
    if "METADATA_SPEC_VERSION" in data or "relationships" in data:
        return True
    tables = data.get("tables")
    if isinstance(tables, dict):
        # SDV keys columns by name (a dict) or calls them "fields"; dbsynth keeps a list of columns.
        return any(isinstance(t, dict) and ("fields" in t or isinstance(t.get("columns"), dict)) for t in tables.values())
    return False
