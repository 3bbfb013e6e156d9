"""Quality and privacy report: how close the synthetic database is to the real one, and what it leaks.

:func:`evaluate` computes the metrics (:mod:`dbsynth.report.metrics`, the detection score in
:mod:`dbsynth.report.detection`); :mod:`dbsynth.report.render` writes
``report.json`` and ``report.html``; :mod:`dbsynth.report.command` is the ``dbsynth report`` subcommand.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Union

from ..metadata.records import Metadata

if TYPE_CHECKING:
    import pandas as pd

    from ..rules.records import RuleSet
    from .metrics import QualityReport

__all__ = ["evaluate", "DetectionScore", "PROPERTIES", "QualityReport", "Score", "Shortfall", "TablePrivacy",
           "ValidityCheck"]

# Imported on first use, so that importing this package (the CLI does, to register `dbsynth report`) does not
# pull pandas and the metrics into `dbsynth --help` or `dbsynth validate-config`.
_FROM_METRICS = {"PROPERTIES", "QualityReport", "Score", "Shortfall", "TablePrivacy", "ValidityCheck"}


def __getattr__(name: str):
    if name in _FROM_METRICS:
        from . import metrics

        return getattr(metrics, name)
    if name == "DetectionScore":
        from .detection import DetectionScore

        return DetectionScore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


Source = Union[str, "Mapping[str, pd.DataFrame]"]


def _load(source: Source, metadata: Metadata | None) -> tuple[dict[str, pd.DataFrame], Metadata | None]:
    """Frames of ``source`` (a URL is reflected when no metadata is given, then read)."""
    if isinstance(source, str):
        from ..read import read_tables
        from ..reflect import reflect
        from ..urls import resolve_url

        url = resolve_url(source)
        if metadata is None:
            metadata = reflect(url)
        names = [t for t in metadata.tables]
        return read_tables(url, metadata, tables=names), metadata
    return dict(source), metadata


def evaluate(
    real: Source, synthetic: Source, metadata: Metadata | None = None, *, seed: int = 0, rules: RuleSet | None = None,
    detection: bool = True,
) -> QualityReport:
    """Compare a synthetic database with the real one.

    Args:
        real: the real data: ``{table: DataFrame}`` or a database URL (``builtin:chinook`` accepted).
        synthetic: the synthetic data, in the same form (tables missing from it are skipped). When it is a URL,
            the database also evaluates the CHECK constraints of ``metadata`` (read-only).
        metadata: the tables' description; default: reflected from ``real`` when it is a URL, else detected
            from the real frames.
        seed: seed of the samples drawn for large joins and for the detection score.
        rules: the rules whose share of synthetic rows kept is reported (a fitted model's ``rules``, user
            constraints included); default: the CHECKs of ``metadata`` and the rules the real rows keep
            (:func:`dbsynth.rules.discover.discover`).
        detection: train the real-vs-synthetic classifier of each table (``report.detection``, ROC AUC with
            0.5 = indistinguishable; :mod:`dbsynth.report.detection`); False skips it.

    Returns:
        The :class:`QualityReport` (``overall``, ``properties``, ``detection``, ``to_dict()``, ``to_json()``).

    Raises:
        ConnectError, ReflectionError: when a URL cannot be read.
        MetadataError: when metadata must be detected from frames and cannot be.
    """
    real_frames, metadata = _load(real, metadata)
    if metadata is None:
        from ..metadata.detect import detect_from_dataframes

        metadata = detect_from_dataframes(real_frames)
    if isinstance(synthetic, str):
        present = metadata.subset([t for t in metadata.tables if t in real_frames])
        synth_frames, _ = _load(synthetic, present)
    else:
        synth_frames = dict(synthetic)
    from .metrics import evaluate_frames

    # every table is read whole (a URL) or given whole (frames), so discovery may look across all of them
    report = evaluate_frames(metadata, real_frames, synth_frames, seed=seed, rules=rules,
                             complete=frozenset(real_frames), detection=detection)
    if isinstance(synthetic, str):
        from ..urls import resolve_url
        from .checks import check_constraints

        report.validity.extend(check_constraints(resolve_url(synthetic), present))
    return report
