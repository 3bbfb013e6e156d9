"""Model files: a zip holding ``model.json`` (format version, metadata, settings, parameters) and
``arrays.npz`` (every numeric array, read back with ``allow_pickle=False``). No source rows are stored: only
summaries (quantiles that are window means of k rows, correlations, category labels seen at least
``min_category_count`` times and frequencies, generator statistics); see :mod:`dbsynth.model.univariate` and
:mod:`dbsynth.model.transforms`. Which class a file turns back into is the caller's to say (:func:`load`'s
``classes``): the public synthesizers live above this package.

Loading never trusts the file: it runs no code (no pickle), reads only its members (those two and
``rules.json``, below), checks every size before reading (declared sizes of the zip members and of the arrays
inside, against :data:`MAX_MODEL_BYTES`, and the bytes actually inflated), bounds the JSON's nesting
(:data:`MAX_JSON_DEPTH`) and wants an integer format version it knows. Each refusal is one
:class:`~dbsynth.errors.ModelFileError` line (exit code 2).

The per-table models are the fit's :class:`~dbsynth.model.records.TableModel` records, stored as their
``to_dict`` (each with its table model format version) and read back through ``from_dict``, strictly: an
unknown key or another version is refused, naming the table. Files written before the records (no version key,
the same layout) still load.

The rules of the data (issue 17) are a third member, ``rules.json``: the fit's
:class:`~dbsynth.model.base.RuleState` (discovery on or off, the rules switched off, the user's constraints in
SDV's dict form, the rules the fit learned), read as strictly; a file without it (written before) loads with
no rules besides the declared CHECKs. Custom constraints are code and never stored: the file names them, and
loading says in a log line that they must be added again.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..errors import ModelFileError, NotFittedError
from ..metadata import Metadata
from .base import FittedModel, RuleState
from .records import table_model_from_dict

log = logging.getLogger("dbsynth")

M = TypeVar("M", bound=FittedModel)

#: Bumped whenever the layout of a model file changes meaning; newer files are refused with a clear error.
FORMAT_VERSION = 1
FORMAT_NAME = "dbsynth-hma"
_JSON = "model.json"
_NPZ = "arrays.npz"
_RULES = "rules.json"
_ARRAY_KEY = "__array__"

#: Most bytes a model file may inflate to (its JSON and arrays together); a real model of a large schema is a
#: few megabytes, so anything near this is a damaged or hostile file (a zip bomb).
MAX_MODEL_BYTES = 1 << 30
#: Deepest nesting of lists and objects the JSON may have (real files nest about ten levels).
MAX_JSON_DEPTH = 64
_CHUNK = 1 << 20


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


def save(synthesizer: FittedModel, path: str | Path) -> Path:
    """Write a fitted model to ``path``, under its class name (``HMASynthesizer``, ``HMA1``,
    ``HSASynthesizer``, ``IndependentSynthesizer``: the public classes, which :func:`load` is given back).

    Args:
        synthesizer: a fitted synthesizer.
        path: the file to write.

    Returns:
        The path written.

    Raises:
        NotFittedError: when the synthesizer was not fitted.
    """
    if not synthesizer.is_fitted:
        raise NotFittedError("the synthesizer is not fitted", hint="Call fit(data) before save().")
    models = synthesizer.fitted_models()
    arrays: dict[str, np.ndarray] = {}
    doc = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "class": type(synthesizer).__name__,
        "metadata": synthesizer.metadata.to_dict(),
        "parameters": synthesizer.get_parameters(),
        "models": _split({t: m.to_dict() for t, m in models.items()}, arrays),
    }
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]  # numpy's stub types the first keyword as allow_pickle
    path = Path(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(_JSON, json.dumps(doc))
        zf.writestr(_NPZ, buf.getvalue())
        zf.writestr(_RULES, json.dumps(synthesizer.rule_state().to_dict()))
    return path


def _read_member(zf: zipfile.ZipFile, member: str, limit: int, name: str) -> bytes:
    """The inflated bytes of ``member``, refused before reading when its declared size exceeds ``limit`` and
    while reading when the inflated bytes do (a header may lie about the size)."""
    info = zf.getinfo(member)
    if info.file_size > limit:
        raise ModelFileError(
            f"'{name}' is refused: its member {member} declares {info.file_size} bytes, over the "
            f"{limit}-byte limit for a model file",
            hint="Re-create it with fit() and save(); a real model is a few megabytes.",
        )
    out = bytearray()
    with zf.open(info) as f:
        while chunk := f.read(min(_CHUNK, limit + 1 - len(out))):
            out += chunk
            if len(out) > limit:
                raise ModelFileError(
                    f"'{name}' is refused: its member {member} inflates past the {limit}-byte limit for a model file",
                    hint="Re-create it with fit() and save(); a real model is a few megabytes.",
                )
    return bytes(out)


def _json_depth_ok(obj: Any, limit: int) -> bool:
    """Whether ``obj`` nests lists and dicts at most ``limit`` deep (iterative: no recursion of its own)."""
    stack = [(obj, 1)]
    while stack:
        cur, depth = stack.pop()
        if isinstance(cur, (dict, list)):
            if depth > limit:
                return False
            stack.extend((v, depth + 1) for v in (cur.values() if isinstance(cur, dict) else cur))
    return True


def _read_arrays(npz_bytes: bytes, limit: int, name: str) -> dict[str, np.ndarray]:
    """The arrays of ``arrays.npz``, each header read first: an array whose shape and dtype ask for more than
    ``limit`` bytes (together with the others) or more than its member holds is refused before it is read."""
    arrays: dict[str, np.ndarray] = {}
    budget = limit
    with zipfile.ZipFile(io.BytesIO(npz_bytes)) as inner:
        for info in inner.infolist():
            if not info.filename.endswith(".npy"):
                continue
            key = info.filename[: -len(".npy")]
            with inner.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, _fortran, dtype = np.lib.format.read_array_header_1_0(f)
                elif version in ((2, 0), (3, 0)):
                    shape, _fortran, dtype = np.lib.format.read_array_header_2_0(f)
                else:
                    raise ValueError(f"npy version {version}")
                if dtype.hasobject:
                    raise ModelFileError(f"'{name}' is refused: array {key} holds Python objects (a pickle)")
                size = int(np.prod(shape, dtype=object)) * dtype.itemsize
                if size > budget or size > info.file_size:
                    raise ModelFileError(
                        f"'{name}' is refused: array {key} of shape {tuple(shape)} needs {size} bytes, over the "
                        f"{limit}-byte limit for a model file or the {info.file_size} bytes stored for it",
                        hint="Re-create it with fit() and save().",
                    )
                budget -= size
            with inner.open(info) as f:
                arrays[key] = np.lib.format.read_array(f, allow_pickle=False)
    return arrays


def _check_version(doc: dict, name: str) -> None:
    """The format version must be an integer from 1 to :data:`FORMAT_VERSION` (not a string, not a bool)."""
    version = doc.get("format_version")
    if type(version) is not int:  # bool is an int subclass: true is not version 1
        raise ModelFileError(
            f"'{name}' has an invalid model format version (it must be an integer, found a {type(version).__name__})",
            hint="Re-create it with fit() and save().",
        )
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"'{name}' has model format version {version}, newer than this dbsynth reads ({FORMAT_VERSION})",
            hint="Upgrade dbsynth, or re-fit the model with this version.",
        )
    if version < 1:
        raise ModelFileError(
            f"'{name}' has an invalid model format version {version} (versions start at 1)",
            hint="Re-create it with fit() and save().",
        )


def load(
    path: str | Path, classes: Mapping[str, type[M]], seed: int | None = None, max_bytes: int | None = None
) -> M:
    """Read a model written by :func:`save` (or ``synthesizer.save``).

    Args:
        path: the model file.
        classes: the class to build for each class name a file may record (the public synthesizers: this
            package fits, the caller composes fits with sampling, so it names them).
        seed: the seed of the loaded synthesizer's draws; None keeps the one it was saved with (so the same
            file gives the same sample), an integer makes another sample from the same model.
        max_bytes: most bytes the file may inflate to (None: :data:`MAX_MODEL_BYTES`).

    Returns:
        The fitted model, of the class ``classes`` gives for the name it was saved under.

    Raises:
        ModelFileError: when the file is missing, corrupted, not a dbsynth model, of an invalid or newer
            format, or larger than ``max_bytes`` once inflated.
    """
    path = Path(path)
    name = path.name
    max_bytes = MAX_MODEL_BYTES if max_bytes is None else int(max_bytes)
    if not path.is_file():
        raise ModelFileError(f"model file '{name}' does not exist")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if _JSON not in names or _NPZ not in names:
                raise ModelFileError(f"'{name}' is not a dbsynth model file (no {_JSON} / {_NPZ} inside)")
            has_rules = _RULES in names  # files written before the rules have none
            declared = zf.getinfo(_JSON).file_size + zf.getinfo(_NPZ).file_size
            declared += zf.getinfo(_RULES).file_size if has_rules else 0
            if declared > max_bytes:
                raise ModelFileError(
                    f"'{name}' is refused: it declares {declared} bytes once inflated, over the {max_bytes}-byte "
                    "limit for a model file",
                    hint="Re-create it with fit() and save(); a real model is a few megabytes.",
                )
            json_bytes = _read_member(zf, _JSON, max_bytes, name)
            npz_bytes = _read_member(zf, _NPZ, max_bytes - len(json_bytes), name)
            rules_bytes = (_read_member(zf, _RULES, max_bytes - len(json_bytes) - len(npz_bytes), name)
                           if has_rules else None)
        doc = json.loads(json_bytes)
        rules_doc = json.loads(rules_bytes) if rules_bytes is not None else None
    except ModelFileError:
        raise
    except RecursionError:
        raise ModelFileError(
            f"'{name}' is refused: its {_JSON} nests deeper than a model file does",
            hint="Re-create it with fit() and save().",
        ) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, json.JSONDecodeError, UnicodeDecodeError, OSError, EOFError,
            KeyError, NotImplementedError, ValueError, RuntimeError) as exc:
        raise ModelFileError(
            f"'{name}' is not a readable dbsynth model file ({type(exc).__name__})",
            hint="Re-create it with fit() and save().",
        ) from None
    for member, tree in ((_JSON, doc), (_RULES, rules_doc)):
        if not _json_depth_ok(tree, MAX_JSON_DEPTH):
            raise ModelFileError(
                f"'{name}' is refused: its {member} nests deeper than {MAX_JSON_DEPTH} levels "
                "(a model file nests about ten)",
                hint="Re-create it with fit() and save().",
            )
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise ModelFileError(f"'{name}' is not a dbsynth model file (foreign format)")
    _check_version(doc, name)
    try:
        arrays = _read_arrays(npz_bytes, max_bytes - len(json_bytes), name)
        cls = classes[doc["class"]]
        md = Metadata.from_dict(doc["metadata"], source=name)
        models = doc["models"]
        if not isinstance(models, dict):
            raise ModelFileError(f"'{name}' is a damaged dbsynth model file (its models are not an object)",
                                 hint="Re-create it with fit() and save().")
        # strict: an unknown key or another table model version is refused, naming the table
        typed = {t: table_model_from_dict(_join(m, arrays), t) for t, m in models.items()}
        rules = RuleState() if rules_doc is None else _rule_state(rules_doc, md, name)
        syn = cls.from_parameters(md, doc["parameters"], typed, rules=rules)
    except ModelFileError:
        raise
    except Exception as exc:  # any inconsistency inside means the file was damaged or hand-edited
        raise ModelFileError(
            f"'{name}' is a damaged dbsynth model file ({type(exc).__name__})",
            hint="Re-create it with fit() and save().",
        ) from None
    if rules.dropped:
        log.warning("model file %s had %d custom constraint(s) (%s): custom constraints are code, never stored; "
                    "add them again with add_constraints() or the config", name, len(rules.dropped),
                    ", ".join(rules.dropped))
    if seed is not None:
        set_seed(syn, seed)
    return syn


def _rule_state(d: Any, metadata: Metadata, name: str) -> RuleState:
    """The :class:`RuleState` of a file's ``rules.json``; a bad one is a :class:`ModelFileError` naming it."""
    try:
        return RuleState.from_dict(d, metadata)
    except ModelFileError as exc:
        raise ModelFileError(f"'{name}' has a bad {_RULES}: {exc.message}", hint=exc.hint) from None


def set_seed(synthesizer: M, seed: int) -> M:
    """Give a (loaded) synthesizer a new seed: every later draw follows it, the fitted model is unchanged.

    Args:
        synthesizer: any dbsynth synthesizer.
        seed: the new seed.

    Returns:
        The synthesizer.
    """
    # every draw derives its generator from ``seed`` at sampling time (stable_seed(seed, stage, table, ...))
    synthesizer.seed = int(seed)
    return synthesizer
