"""Users' constraint classes (issue 17). STUB: the signature is the contract; the body lands."""

from __future__ import annotations

from typing import Any

from .records import Custom

__all__ = ["load_custom"]


def load_custom(rule: Custom) -> Any:
    """An instance of the class ``rule.path`` names, built with ``rule.params`` (``is_valid(frame)`` at least)."""
    raise NotImplementedError
