"""dbsynth: clone a production SQL database into a test database of synthetic rows.

The public API (see the README): :func:`reflect`, :class:`HMASynthesizer`, :class:`HMA1`,
:class:`HSASynthesizer`, :class:`IndependentSynthesizer`, :func:`load_synthesizer`, :func:`write`,
:func:`run`, :func:`evaluate`, the metadata records in :mod:`dbsynth.metadata` and the constraints (SDV's
names) in :mod:`dbsynth.constraints`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .errors import DbsynthError
from .metadata import Metadata

# `dbsynth.reflect` and `dbsynth.write` name both a subpackage and its entry function. Importing a subpackage
# (or any module in it) binds the *package* to this module's attribute, so the functions are bound here, after
# their packages are imported: the function wins, and later imports (already in sys.modules) do not rebind it.
# Both packages are light (their work is imported on the first call), so this keeps `import dbsynth` cheap.
# The packages stay reachable as modules: `from dbsynth.write import ddl`, sys.modules["dbsynth.write"].
from .reflect import reflect
from .write import write

__version__ = "0.1.0"

# Lazy attributes keep `import dbsynth` cheap (no scipy/pandas/sqlalchemy until needed) and let the
# stages be built independently.
_LAZY = {
    "HMASynthesizer": "dbsynth.synthesizers:HMASynthesizer",
    "HMA1": "dbsynth.synthesizers:HMA1",
    "HSASynthesizer": "dbsynth.synthesizers:HSASynthesizer",
    "IndependentSynthesizer": "dbsynth.synthesizers:IndependentSynthesizer",
    "load_synthesizer": "dbsynth.synthesizers:load_synthesizer",
    "run": "dbsynth.pipeline:run",
    "evaluate": "dbsynth.report:evaluate",
    "detect_from_dataframes": "dbsynth.metadata:detect_from_dataframes",
    "constraints": "dbsynth.constraints",  # a module: Inequality, ScalarRange, FixedCombinations, ...
}

__all__ = ["DbsynthError", "Metadata", "__version__", "reflect", "write", *_LAZY]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'dbsynth' has no attribute {name!r}")
    module, _, attr = target.partition(":")
    value = getattr(import_module(module), attr) if attr else import_module(module)
    globals()[name] = value
    return value
