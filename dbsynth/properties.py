"""Names of the quality report's properties: what a score or a threshold can be given for.

A neutral leaf module (no dbsynth import): the report scores these properties and the config validates
``report.fail_under_properties`` against them, and config and report must not import each other.
"""

from __future__ import annotations

__all__ = ["PROPERTIES", "QUALITY_PROPERTIES"]

#: The properties whose mean is the overall quality score.
QUALITY_PROPERTIES = ("column_shapes", "column_pair_trends", "cardinality", "intertable_trends")

#: Every property of a quality report: the quality ones, then those reported beside the score (``rules``: the
#: mean share of synthetic rows keeping each declared, discovered and user rule).
PROPERTIES = (*QUALITY_PROPERTIES, "generated_columns", "validity", "privacy", "rules")
