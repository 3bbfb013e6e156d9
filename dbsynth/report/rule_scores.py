"""The rules of the quality report: which rules a clone is judged on, and the summaries the report shows.

Scoring a rule is :func:`dbsynth.rules.evaluate.score`'s job; this module only picks the rules (the model's,
or those the real rows keep), hands them over, and summarises the scores for the ``rules`` property, the
threshold message and the HTML page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..metadata.records import Metadata
from ..rules.records import Copied, RuleOrigin, RuleScore, RuleSet

__all__ = ["ORIGINS", "SHOWN_FAILING", "by_origin", "copies_of_generated", "data_rules", "failing",
           "rules_property", "score_rules", "scored", "summary_line"]

#: Names of failing rules a threshold message lists (the full list is in the report).
SHOWN_FAILING = 3


def data_rules(metadata: Metadata, real: Mapping[str, pd.DataFrame],
               complete: frozenset[str] | None = None) -> RuleSet:
    """The rules the real rows keep: the schema's declared CHECKs and the rules discovered in ``real``.

    What a report uses when no model gives its rules (``dbsynth report`` on two databases).

    Args:
        metadata: the tables.
        real: the real rows, per table.
        complete: the tables of ``real`` read whole (None: all), see :func:`dbsynth.rules.discover.discover`.
    """
    from ..rules.discover import declared, discover

    present = metadata.subset([t for t in metadata.tables if t in real])
    return declared(present).plus(discover(present, real, complete=complete).rules)


def copies_of_generated(metadata: Metadata, rules: RuleSet) -> Metadata:
    """``metadata`` with every modelled column that a :class:`~dbsynth.rules.records.Copied` rule fills from a
    generated parent column typed as that parent column (a copy; ``metadata`` is left alone).

    A customer's city is personal data made by Faker; the invoice's billing city is a copy of it in every real
    row, so the clone copies the customer's made-up city too. Scored against the real labels, the billing city
    would read as a column the model got wrong; it is a generated column, and is scored with them.
    """
    out = metadata.copy()
    for r in rules:
        if not isinstance(r, Copied) or r.table not in out.tables or r.parent not in out.tables:
            continue
        child, parent = out.tables[r.table], out.tables[r.parent]
        if r.column not in child.column_names or r.parent_column not in parent.column_names:
            continue
        col, source = child.column(r.column), parent.column(r.parent_column)
        if col.is_modelled and not source.is_modelled:
            col.sdtype, col.pii = source.sdtype, source.pii
    return out


def score_rules(metadata: Metadata, rules: RuleSet, synthetic: Mapping[str, pd.DataFrame]) -> list[RuleScore]:
    """Each rule of a table in ``synthetic`` scored on the synthetic rows (rules of tables not compared, such as
    tables copied or left out of the clone, are not the report's)."""
    from ..rules.evaluate import score

    return score(metadata, [r for r in rules if r.table in synthetic], synthetic)


def scored(scores: Iterable[RuleScore]) -> list[RuleScore]:
    """The scores of rules that could be scored (a rule whose ``detail`` says why not is left out of the
    property, as a CHECK the target cannot evaluate is left out of validity)."""
    return [s for s in scores if not s.detail]


def rules_property(scores: Sequence[RuleScore]) -> float | None:
    """The ``rules`` property: the mean over rules of the share of rows keeping each; None when no rule."""
    shares = [s.share for s in scored(scores)]
    return float(np.mean(shares)) if shares else None


def failing(scores: Iterable[RuleScore]) -> list[RuleScore]:
    """The rules some synthetic row breaks, worst first (then by name, so that the order is stable)."""
    return sorted((s for s in scored(scores) if s.kept < s.total), key=lambda s: (s.share, s.rule.name))


#: Origins in the order the report groups rules, with their headings.
ORIGINS = {RuleOrigin.DECLARED: "Declared (CHECK constraints of the schema)",
           RuleOrigin.DISCOVERED: "Discovered in the real rows",
           RuleOrigin.USER: "Given by the user"}


def by_origin(scores: Iterable[RuleScore]) -> dict[RuleOrigin, list[RuleScore]]:
    """Scores grouped by origin (in :data:`ORIGINS` order, empty groups left out), within a group the failing
    rules first (worst first), then those kept, then those that could not be scored, each by name."""
    groups: dict[RuleOrigin, list[RuleScore]] = {}
    for s in scores:
        groups.setdefault(s.rule.origin, []).append(s)

    def order(s: RuleScore) -> tuple[int, float, str]:
        rank = 2 if s.detail else 0 if s.kept < s.total else 1
        return (rank, s.share, s.rule.name)

    return {o: sorted(groups[o], key=order) for o in ORIGINS if o in groups}


def summary_line(scores: Sequence[RuleScore]) -> str | None:
    """``Rules: 12 of 14 kept in every synthetic row (not kept: a, b)``; None when there is no rule."""
    if not scores:
        return None
    ok, bad = scored(scores), failing(scores)
    text = f"Rules: {len(ok) - len(bad)} of {len(ok)} kept in every synthetic row"
    if bad:
        more = f" and {len(bad) - SHOWN_FAILING} more" if len(bad) > SHOWN_FAILING else ""
        text += f" (not kept: {', '.join(s.rule.name for s in bad[:SHOWN_FAILING])}{more})"
    if len(ok) < len(scores):
        text += f"; {len(scores) - len(ok)} could not be scored"
    return text
