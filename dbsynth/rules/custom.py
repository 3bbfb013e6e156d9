"""Users' constraint classes (issue 17): :func:`load_custom` turns a :class:`~dbsynth.rules.records.Custom` rule
into an instance of the user's class.

A custom constraint is a Python class, named by import path in the API or the config (``pkg.mod:Class`` or
``pkg.mod.Class``), built with the rule's ``params`` as keyword arguments (and ``column_names``, the columns
it constrains, when its ``__init__`` takes them). It must have ``is_valid(frame)``
returning one truth value per row; ``reverse_transform(frame)`` (optional) returns the frame made valid, which
:func:`dbsynth.rules.keep.keep` applies to the failing rows before redrawing them. Every way the path can be
wrong is a :class:`CustomConstraintError` (bad input, exit 2) naming the path and saying what to do.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from ..errors import ConfigError
from .records import Custom

__all__ = ["CustomConstraintError", "load_custom"]


class CustomConstraintError(ConfigError):
    """A custom constraint's class cannot be imported, built, or has no callable ``is_valid``."""


_HINT_PATH = ("Give the class as 'package.module:Class' (or 'package.module.Class'), importable from the working "
              "directory or PYTHONPATH")


def _takes(cls: Any, name: str) -> bool:
    """Whether building ``cls`` accepts the keyword ``name`` (by name or through ``**kwargs``)."""
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())


def load_custom(rule: Custom) -> Any:
    """An instance of the class ``rule.path`` names, built with ``rule.params`` (``is_valid(frame)`` at least).

    Args:
        rule: the custom rule (``path``: ``pkg.mod:Class`` or ``pkg.mod.Class``; ``params``: keyword arguments).

    Returns:
        The instance (it has a callable ``is_valid``).

    Raises:
        CustomConstraintError: the path is malformed, the module cannot be imported, the class is missing or not
            callable, building it with the params fails, or the instance has no callable ``is_valid``.
    """
    path = rule.path.strip() if isinstance(rule.path, str) else ""
    module_name, sep, class_name = path.partition(":")
    if not sep:
        module_name, _, class_name = path.rpartition(".")
    if not module_name or not class_name or not all(p.isidentifier() for p in (*module_name.split("."), class_name)):
        raise _error(rule, "is not an import path of a class", _HINT_PATH)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise _error(rule, f"module '{module_name}' cannot be found", _HINT_PATH) from None
        raise _error(rule, f"module '{module_name}' needs module '{exc.name}', which cannot be found",
                     "Install what the module imports, or fix its imports") from None
    except Exception as exc:  # the user's module failed while being imported: say so, whatever it raised
        raise _error(rule, f"module '{module_name}' failed to import ({type(exc).__name__})",
                     "Import the module in Python to see the error, and fix it") from None
    cls = getattr(module, class_name, None)
    if cls is None:
        raise _error(rule, f"module '{module_name}' has no class '{class_name}'",
                     "Check the spelling of the class name in the path")
    if not callable(cls):
        raise _error(rule, f"'{class_name}' of module '{module_name}' is not a class",
                     "Give the class that has is_valid(frame), not an instance or a value")
    params = dict(rule.params)
    if rule.names and "column_names" not in params and _takes(cls, "column_names"):
        params["column_names"] = list(rule.names)  # the columns it constrains, as SDV hands them to its own
    try:
        instance = cls(**params)
    except TypeError as exc:
        given = ", ".join(sorted(params)) or "none"
        raise _error(rule, f"the class cannot be built with the parameters given ({given}): {exc}",
                     "Give the keyword arguments its __init__ takes") from None
    except Exception as exc:
        raise _error(rule, f"building the class raised {type(exc).__name__}",
                     "Check the parameters given to the constraint") from None
    if not callable(getattr(instance, "is_valid", None)):
        raise _error(rule, "the class has no method is_valid(frame)",
                     "Add is_valid(frame) returning one True/False per row (and optionally reverse_transform)")
    return instance


def _error(rule: Custom, message: str, hint: str) -> CustomConstraintError:
    return CustomConstraintError(f"custom constraint '{rule.path}': {message}", table=rule.table or None,
                                 hint=hint)
