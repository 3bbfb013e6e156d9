"""Reflection: describe a live database as :class:`~dbsynth.metadata.Metadata`.

``dbsynth.reflect(url)`` is the public entry point; see :func:`dbsynth.reflect.core.reflect`.
"""

from __future__ import annotations

import sys
import types as _pytypes

from .core import reflect

__all__ = ["reflect"]


class _CallableModule(_pytypes.ModuleType):
    # `dbsynth.reflect` names both this package and the function: once the package is imported, Python
    # binds the *module* to `dbsynth.reflect`, so `dbsynth.reflect(url)` must still work on it.
    def __call__(self, *args, **kwargs):
        return reflect(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
