"""Rules the synthetic rows keep (issue 17): declared CHECK constraints, parsed and satisfied by the sampler.

See :mod:`dbsynth.rules.checks` (the rules and how they are kept) and :mod:`dbsynth.rules.patterns` (string
patterns: LIKE, GLOB, regular expressions).
"""

from .checks import (
    CheckError,
    CheckRule,
    CheckState,
    compile_check,
    compile_checks,
    declared_rules,
    failure_error,
    first_failure,
    pattern_of,
    satisfy,
)
from .patterns import StringPattern

__all__ = [
    "CheckError",
    "CheckRule",
    "CheckState",
    "StringPattern",
    "compile_check",
    "compile_checks",
    "declared_rules",
    "failure_error",
    "first_failure",
    "pattern_of",
    "satisfy",
]
