"""Model files: a zip holding ``model.json`` (format version, metadata, settings, parameters) and
``arrays.npz`` (every numeric array, read back with ``allow_pickle=False``). No source rows are stored: only
summaries (quantiles, correlations, category labels and frequencies, generator statistics).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelFileError, NotFittedError
from ..metadata import Metadata

#: Bumped whenever the layout of a model file changes meaning; newer files are refused with a clear error.
FORMAT_VERSION = 1
FORMAT_NAME = "dbsynth-hma"
_JSON = "model.json"
_NPZ = "arrays.npz"
_ARRAY_KEY = "__array__"


def _split(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    """Replace every ndarray in ``obj`` by a reference into ``arrays`` (numpy scalars become Python ones)."""
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            return obj.tolist()
        key = f"a{len(arrays)}"
        arrays[key] = obj
        return {_ARRAY_KEY: key}
    if isinstance(obj, dict):
        return {str(k): _split(v, arrays) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_split(v, arrays) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _join(obj: Any, arrays) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {_ARRAY_KEY}:
            return arrays[obj[_ARRAY_KEY]]
        return {k: _join(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join(v, arrays) for v in obj]
    return obj


def save_synthesizer(synthesizer, path: str | Path) -> Path:
    """Write a fitted synthesizer to ``path``.

    Args:
        synthesizer: a fitted :class:`~dbsynth.model.hma.HMASynthesizer` (or HMA1, HSASynthesizer,
            IndependentSynthesizer).
        path: the file to write.

    Returns:
        The path written.

    Raises:
        NotFittedError: when the synthesizer was not fitted.
    """
    models = synthesizer._models
    if models is None:
        raise NotFittedError("the synthesizer is not fitted", hint="Call fit(data) before save().")
    arrays: dict[str, np.ndarray] = {}
    doc = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "class": type(synthesizer).__name__,
        "metadata": synthesizer.metadata.to_dict(),
        "parameters": synthesizer.get_parameters(),
        "models": _split(models, arrays),
    }
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    path = Path(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(_JSON, json.dumps(doc))
        zf.writestr(_NPZ, buf.getvalue())
    return path


def _other_classes() -> dict[str, type]:
    """The segment-based synthesizers, by the class name a model file records."""
    from .hsa import HSASynthesizer
    from .independent import IndependentSynthesizer

    return {"HSASynthesizer": HSASynthesizer, "IndependentSynthesizer": IndependentSynthesizer}


def load_synthesizer(path: str | Path):
    """Read a synthesizer written by :func:`save_synthesizer` (or ``synthesizer.save``).

    Args:
        path: the model file.

    Returns:
        The fitted synthesizer, of the class it was saved as (HMASynthesizer, HMA1, HSASynthesizer or
        IndependentSynthesizer).

    Raises:
        ModelFileError: when the file is missing, corrupted, not a dbsynth model, or of a newer format.
    """
    from .hma import HMA1, HMASynthesizer

    path = Path(path)
    name = path.name
    if not path.is_file():
        raise ModelFileError(f"model file '{name}' does not exist")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if _JSON not in names or _NPZ not in names:
                raise ModelFileError(f"'{name}' is not a dbsynth model file (no {_JSON} / {_NPZ} inside)")
            doc = json.loads(zf.read(_JSON))
            npz_bytes = zf.read(_NPZ)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise ModelFileError(
            f"'{name}' is not a readable dbsynth model file ({type(exc).__name__})",
            hint="Re-create it with fit() and save().",
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise ModelFileError(f"'{name}' is not a dbsynth model file (foreign format)")
    version = doc.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"'{name}' has model format version {version}, newer than this dbsynth reads ({FORMAT_VERSION})",
            hint="Upgrade dbsynth, or re-fit the model with this version.",
        )
    try:
        with np.load(io.BytesIO(npz_bytes), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        cls = {"HMASynthesizer": HMASynthesizer, "HMA1": HMA1, **_other_classes()}[doc["class"]]
        md = Metadata.from_dict(doc["metadata"], source=name)
        p = doc["parameters"]
        if hasattr(cls, "_from_saved_parameters"):  # synthesizers with settings of their own
            syn = cls._from_saved_parameters(md, p)
        else:
            syn = cls(md, locales=p["locales"], verbose=p["verbose"], seed=p["seed"], min_category_count=p["min_category_count"])
            syn._table_parameters = p["tables"]
        syn._models = _join(doc["models"], arrays)
    except ModelFileError:
        raise
    except Exception as exc:  # any inconsistency inside means the file was damaged or hand-edited
        raise ModelFileError(
            f"'{name}' is a damaged dbsynth model file ({type(exc).__name__})",
            hint="Re-create it with fit() and save().",
        ) from None
    return syn
