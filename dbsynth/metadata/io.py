"""JSON round trip of :class:`~dbsynth.metadata.records.Metadata`.

Dumping drops fields left at their defaults so files stay short and readable. Loading goes through a
pydantic ``TypeAdapter`` over the dataclasses themselves: one schema, and errors that name the key path.
"""

from __future__ import annotations

import dataclasses
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pydantic

from ..errors import MetadataError
from .records import FORMAT_VERSION, Metadata


def _strip_defaults(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        out = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if f.default is not dataclasses.MISSING and value == f.default:
                continue
            if f.default_factory is not dataclasses.MISSING and value == f.default_factory():
                continue
            out[f.name] = _strip_defaults(value)
        return out
    if isinstance(obj, dict):
        return {k: _strip_defaults(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_strip_defaults(v) for v in obj]
    return obj


def to_dict(metadata: Metadata) -> dict[str, Any]:
    """Metadata as a JSON-ready dict; the version is always written."""
    data = _strip_defaults(metadata)
    data["version"] = metadata.version
    return {"version": data.pop("version"), **data}


@lru_cache(maxsize=1)
def _adapter() -> pydantic.TypeAdapter:
    return pydantic.TypeAdapter(Metadata)


def _loc(loc: tuple) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def from_dict(data: Any, *, source: str = "metadata") -> Metadata:
    """Validate and build metadata from a dict; SDV layouts are detected and converted."""
    if not isinstance(data, dict):
        raise MetadataError(f"{source}: expected a JSON object at the top level, got {type(data).__name__}")
    from .sdv import is_sdv

    if is_sdv(data):
        from .sdv import from_sdv

        return from_sdv(data, source=source)
    version = data.get("version", FORMAT_VERSION)
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise MetadataError(
            f"{source}: metadata format version {version} is newer than this dbsynth understands ({FORMAT_VERSION})",
            hint="Upgrade dbsynth.",
        )
    tables = data.get("tables")
    if isinstance(tables, dict):
        # Table names are the dict keys; let a file omit the repeated "name".
        data = {**data, "tables": {k: {"name": k, **v} if isinstance(v, dict) else v for k, v in tables.items()}}
    try:
        metadata = _adapter().validate_python(data)
    except pydantic.ValidationError as exc:
        problems = [f"{_loc(e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)[:10]]
        raise MetadataError(f"{source} is malformed", problems) from None
    for key, table in metadata.tables.items():
        if table.name != key:
            raise MetadataError(f"{source}: tables.{key}.name is '{table.name}', it must equal its key '{key}'")
    return metadata


def load(path: str | Path) -> Metadata:
    """Read a metadata JSON file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MetadataError(f"cannot read metadata file {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MetadataError(f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    return from_dict(data, source=str(path))
