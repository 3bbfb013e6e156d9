"""Rules the synthetic rows keep (issue 17): declared CHECK constraints, the rules discovered in the real rows,
and the user's constraints.

* :mod:`dbsynth.rules.records`: the typed rule records (one class per kind) and :class:`RuleSet`.
* :mod:`dbsynth.rules.discover`: the rules every real row keeps, found at fit time (``discover.discover``), and
  the declared CHECKs as records (:func:`declared`).
* :mod:`dbsynth.rules.keep`: one table's sampled rows made to keep the within-table rules (``keep.keep``); the
  cross-table kinds are kept by the engine (:mod:`dbsynth.sample.rules`).
* :mod:`dbsynth.rules.evaluate`: how well frames keep rules (:func:`score`), for the report and the tests.
* :mod:`dbsynth.rules.checks`: CHECK constraints parsed and satisfied; :mod:`dbsynth.rules.patterns`: string
  patterns (LIKE, GLOB, regular expressions); :mod:`dbsynth.rules.custom`: users' constraint classes.
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
from .custom import CustomConstraintError, load_custom

# discover() and keep() stay in their modules (dbsynth.rules.discover.discover, dbsynth.rules.keep.keep): bound
# here, a function would hide the module of the same name from attribute access (dbsynth.rules.keep.KeepState)
from .discover import DiscoverySettings, declared
from .evaluate import holds, score
from .keep import KeepError, KeepState
from .patterns import StringPattern
from .records import RuleKind, RuleOrigin, RuleScore, RuleSet

__all__ = [
    "CheckError",
    "CheckRule",
    "CheckState",
    "CustomConstraintError",
    "DiscoverySettings",
    "KeepError",
    "KeepState",
    "RuleKind",
    "RuleOrigin",
    "RuleScore",
    "RuleSet",
    "StringPattern",
    "compile_check",
    "compile_checks",
    "declared",
    "declared_rules",
    "failure_error",
    "first_failure",
    "holds",
    "load_custom",
    "pattern_of",
    "satisfy",
    "score",
]
