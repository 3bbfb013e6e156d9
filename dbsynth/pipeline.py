"""The run: reflect the source -> fit (unless the model file is fresh) -> sample -> write the target.

This module composes the stages according to a :class:`~dbsynth.config.Config`; it owns the decisions
that span stages: which tables are modelled (per-table modes), the :class:`~dbsynth.sample.plan.SamplePlan`
built once from the config (modes, column overrides, references to remap or NULL), whether the saved model can
be reused (schema fingerprint), append-mode keys (they depend on what the target holds), and the run report.

Per-table modes:

* ``synthesize`` - modelled and sampled (the default);
* ``copy`` - modelled like the others (so children keep their parent/child statistics), then the sampled
  rows are replaced by the real ones and the children's foreign keys are remapped onto real keys;
* ``empty`` - created with no rows; children's foreign keys to it are written as NULL (they must be
  nullable);
* ``skip`` - not created; foreign keys to it are dropped.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import progress
from .batch import Batch
from .config import Config, ReportConfig, TargetConfig, check_against, load_config
from .errors import ConfigError, ModelFileError, QualityError, SchemaMismatchError, mask_url
from .memory import release
from .metadata import Metadata
from .metadata import sdtypes as st
from .metadata.records import UniqueConstraint
from .model.typed import take_notes
from .rules import declared_rules
from .rules.records import Aggregate, Copied, Rule, RuleSet
from .sample.engine import Engine
from .sample.plan import ColumnOverride, SamplePlan, TableMode
from .sample.refs import join_batches

__all__ = ["Plan", "RunInterrupted", "RunReport", "TablePlan", "fit", "plan", "prepare", "run", "sample"]

log = logging.getLogger("dbsynth")


# ---- records -------------------------------------------------------------------------------------------------
@dataclass
class TablePlan:
    """What a run does with one table."""

    name: str
    mode: str
    """synthesize, copy, empty or skip."""
    source_rows: int | None
    """Rows in the source, when known."""
    rows: int | None
    """Rows expected in the target (None: decided by the model for child tables)."""
    deferred: list[str] = field(default_factory=list)
    """Foreign keys of this table written as NULL and filled after insert (cycle breaking)."""


@dataclass
class Plan:
    """The plan of a run, printed by ``--dry-run``: nothing is read beyond the schema, nothing written."""

    source: str
    """Source URL, password masked."""
    target: str | None
    """Target URL, password masked (None: files or nothing)."""
    target_mode: str | None
    tables: list[TablePlan]
    """In write order (parents first)."""
    refit: bool
    """Whether the model would be (re)fitted."""
    refit_reason: str
    model_path: str | None
    warnings: list[str] = field(default_factory=list)
    """What the run would warn about (foreign keys to tables not cloned, ...)."""

    def render(self) -> str:
        """The plan as readable text."""
        lines = [
            f"source: {self.source}",
            f"target: {self.target or '(none)'}" + (f" (mode {self.target_mode})" if self.target_mode else ""),
            f"model:  {self.model_path or '(in memory)'}: {'fit' if self.refit else 'reuse'} ({self.refit_reason})",
            "tables, in write order:",
        ]
        width = max((len(t.name) for t in self.tables), default=0)
        for t in self.tables:
            rows = "rows decided by the model" if t.rows is None else f"{t.rows:,} rows"
            src = "" if t.source_rows is None else f" (source {t.source_rows:,})"
            lines.append(f"  {t.name:<{width}}  {t.mode:<10}  {rows}{src}")
        deferred = [(t.name, d) for t in self.tables for d in t.deferred]
        if deferred:
            lines.append("cycles: these foreign keys are written as NULL, then filled after insert:")
            lines.extend(f"  {d}" for _, d in deferred)
        else:
            lines.append("cycles: none")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines) + "\n"


@dataclass
class RunReport:
    """What a run did (written as JSON when the config's ``report.json`` asks)."""

    tables: dict[str, int] = field(default_factory=dict)
    """Rows written (or sampled) per table."""
    modes: dict[str, str] = field(default_factory=dict)
    """Mode of each table."""
    seconds: dict[str, float] = field(default_factory=dict)
    """Wall time per stage: reflect, read, fit, sample, write."""
    warnings: list[str] = field(default_factory=list)
    refit: bool = False
    """Whether the model was fitted in this run."""
    refit_reason: str = ""
    model_path: str | None = None
    target: str | None = None
    """Target URL (masked) or output directory."""
    dry_run: bool = False
    plan: Plan | None = None
    memory: dict[str, int] | None = None
    """How the memory budget was split (limit, sample_rows, chunk_rows, batch_rows)."""
    quality: dict[str, Any] | None = None
    """Overall and per-property quality scores, and where the quality report was written (``report.quality``)."""
    committed: bool = False
    """Whether the rows reached the target for good (the load committed, or the files were written)."""

    @property
    def total_rows(self) -> int:
        """Rows over all tables."""
        return sum(self.tables.values())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out = asdict(self)
        out["total_rows"] = self.total_rows
        return out

    def save(self, path: str | Path) -> Path:
        """Write the report as JSON to ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) during a run, saying what it left of the target.

    A :class:`KeyboardInterrupt`, so code that stops on Ctrl-C still does.

    Args:
        target_state: one sentence: what happened to the target (unchanged, rolled back, or written).
    """

    def __init__(self, target_state: str) -> None:
        super().__init__(target_state)
        self.target_state = target_state


@contextmanager
def _interruptible(target_state: str) -> Iterator[None]:
    """Turn a Ctrl-C inside the block into a :class:`RunInterrupted` saying ``target_state``."""
    try:
        yield
    except RunInterrupted:
        raise
    except KeyboardInterrupt:
        raise RunInterrupted(target_state) from None


#: What a Ctrl-C leaves of the target in each phase of a run.
_UNTOUCHED = "the target was not changed (nothing had been sent to it)"
_ROLLED_BACK = "the load was rolled back: the target is unchanged, nothing was committed"
_COMMITTED = "the load had committed before: the target holds the new rows"


@contextmanager
def _timed(report: RunReport, stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        report.seconds[stage] = round(report.seconds.get(stage, 0.0) + time.perf_counter() - start, 3)


# ---- preparation: config + source schema -> the metadata of each stage ---------------------------------------
@dataclass
class _Prepared:
    cfg: Config
    source: Metadata
    """The source as reflected (filtered by include/exclude)."""
    written: Metadata
    """Tables created in the target (skip removed, excluded columns removed)."""
    modelled: Metadata
    """Tables the synthesizer learns (written minus empty tables), with the overrides applied."""
    modes: dict[str, str]
    warnings: list[str]
    plan: SamplePlan
    """What sampling does per written table beyond the model: modes, overrides, references to remap or NULL."""
    memory: Any = None
    """The :class:`~dbsynth.memory.MemoryPlan` of the run (set by ``_start``)."""

    @property
    def target(self) -> TargetConfig:
        """The target of a run that writes one (``_start(need_target=True)`` refused a config without it)."""
        return _target(self.cfg)


def _load(config_or_path: Config | str | Path) -> Config:
    return config_or_path if isinstance(config_or_path, Config) else load_config(config_or_path)


def _where(cfg: Config) -> str:
    return str(cfg.path) if cfg.path else "config"


def _report(cfg: Config) -> ReportConfig:
    """``cfg.report`` (a config without one asks for no report: the defaults)."""
    return cfg.report if cfg.report is not None else ReportConfig()


def _target(cfg: Config) -> TargetConfig:
    """``cfg.target``, which a step that writes needs: a config without one is a one-line error."""
    if cfg.target is None:
        raise ConfigError(f"{_where(cfg)}: target: required key is missing (where should the rows go?)")
    return cfg.target


def _check_target(cfg: Config) -> None:
    """Refuse a target that is the source before any work, by what both servers report once connected.

    Only SELECTs are sent. A server that cannot be reached here is reported by the step that needs it (the
    reachability check, reflection); the writer compares the identities again before it writes anything.
    """
    from .write.safety import refuse_source

    if cfg.target is not None:
        refuse_source(
            cfg.target.url, cfg.source.url, hint="Point target.url at another database.", unreachable_ok=True
        )


def _check_reachable(url: str) -> None:
    """Connect to a server target once before any work, so a nightly job fails in seconds, not after the fit."""
    from .db import engine, make_url

    if make_url(url).get_backend_name() == "sqlite":
        return  # the file is created by the writer
    engine(url).dispose()  # raises ConnectError (exit 2) with the masked URL


def _reflect(cfg: Config) -> Metadata:
    from .errors import ReflectionError
    from .reflect import reflect
    from .reflect.schemas import resolve_schemas, schemas_hint

    s = cfg.source
    # '*' is resolved here, against the live source: the config itself never connects anywhere
    schema = resolve_schemas(s.url, s.db_schema)
    try:
        return reflect(s.url, schema=schema, include=s.include, exclude=s.exclude)
    except ReflectionError as exc:
        # an empty default schema on PostgreSQL usually means the tables are in other schemas: name them
        hint = schemas_hint(s.url) if schema is None and "has no tables" in exc.message else None
        if hint is None:
            raise
        raise ReflectionError(exc.message, hint=hint) from None


def prepare(cfg: Config, source: Metadata) -> _Prepared:
    """Apply per-table modes and column overrides to the source metadata.

    Args:
        cfg: the config.
        source: the reflected source.

    Returns:
        The metadata to write and to model, the mode of every table, and warnings.

    Raises:
        ConfigError: unknown table or column, an excluded NOT NULL column without default, an empty table
            referenced by a NOT NULL foreign key, or ``rows`` on a table that is not a root.
    """
    check_against(cfg, source)
    where = _where(cfg)
    warnings: list[str] = []
    modes: dict[str, str] = {name: cfg.table(name).mode for name in source.tables}
    kept = [n for n, m in modes.items() if m != "skip"]
    written = source.subset(kept)
    warnings.extend(_outside_keys(written, source, modes))
    for name, tcfg in cfg.tables.items():
        if name not in written.tables:
            continue
        table = written.tables[name]
        for col_name, ccfg in tcfg.columns.items():
            col = table.column(col_name)
            key = f"{where}: tables.{name}.columns.{col_name}"
            if ccfg.exclude:
                if not col.nullable and col.default is None and not col.autoincrement:
                    raise ConfigError(
                        f"{key}: exclude: the column is NOT NULL without a default, so it cannot be left out"
                    )
                if col_name in table.primary_key or any(col_name in fk.columns for fk in table.foreign_keys):
                    raise ConfigError(f"{key}: exclude: key columns cannot be left out")
                table.columns = [c for c in table.columns if c.name != col_name]
                for uc in list(table.unique_constraints):
                    if col_name in uc.columns:
                        table.unique_constraints.remove(uc)
            elif ccfg.null and not col.nullable:
                raise ConfigError(f"{key}: null: the column is NOT NULL")
            elif ccfg.pii is not None:
                provider = ccfg.pii.provider
                # The sampler generates PII kinds with Faker; any other Faker provider is named by Column.pii on a
                # text column (the generator's contract), e.g. color_name or free_email.
                if st.is_pii(provider):
                    col.sdtype, col.pii = provider, None
                else:
                    col.sdtype, col.pii = st.TEXT, provider
            elif ccfg.distribution is not None and col.sdtype != st.NUMERICAL:
                raise ConfigError(f"{key}: distribution: only numerical columns have one (this one is {col.sdtype})")
    # Empty tables: created without rows, so a reference to them can only be NULL.
    for name, mode in modes.items():
        if mode != "empty":
            continue
        for child in written:
            for fk in child.foreign_keys:
                if (fk.ref_table == name and child.name != name and modes.get(child.name) != "empty"
                        and not child.fk_is_nullable(fk)):
                    raise ConfigError(
                        f"{where}: tables.{name}.mode: empty, but {child.name}({', '.join(fk.columns)}) refers to "
                        f"it with a NOT NULL foreign key (make {child.name} empty or skip too, or copy {name})"
                    )
    modelled = written.subset([n for n in written.tables if modes[n] != "empty"])
    _values_in_keys(modelled)
    roots = set(modelled.graph().roots()) if modelled.tables else set()
    for name, tcfg in cfg.tables.items():
        if tcfg.rows is not None and name in modelled.tables and name not in roots:
            raise ConfigError(
                f"{where}: tables.{name}.rows: only root tables (no parent) take a row count; "
                f"{name}'s rows follow from its parents (roots: {', '.join(sorted(roots))})"
            )
        if tcfg.rows is not None and modes.get(name) == "copy":
            warnings.append(f"table '{name}': rows ignored, the table is copied")
    warnings.extend(_unkept_checks(modelled, modes))
    return _Prepared(cfg, source, written, modelled, modes, warnings, _sample_plan(cfg, written, modes))


def _sample_plan(cfg: Config, written: Metadata, modes: dict[str, str]) -> SamplePlan:
    """The config's column overrides and model settings as the :class:`SamplePlan` of the written tables.

    A PII override in the run's first locale is not in the plan: ``prepare`` made the column a PII column of the
    metadata, whose generator already draws it; another locale is generated after the model draws the row.
    """
    overrides: dict[str, list[ColumnOverride]] = {}
    params: dict[str, dict[str, Any]] = {}
    excluded: dict[str, list[str]] = {}
    for name, tcfg in cfg.tables.items():
        if name not in written.tables:
            continue
        mine = overrides.setdefault(name, [])
        for col, ccfg in tcfg.columns.items():  # one override per column (the config refuses more)
            if "constant" in ccfg.model_fields_set:
                mine.append(ColumnOverride.constant(col, ccfg.constant))
            elif ccfg.null:
                mine.append(ColumnOverride.null(col))
            elif ccfg.pii is not None and ccfg.pii.locale and ccfg.pii.locale not in cfg.locales[:1]:
                mine.append(ColumnOverride.pii(col, ccfg.pii.provider, ccfg.pii.locale))
        params[name] = dict(tcfg.table_parameters)
        dists = {c: cc.distribution for c, cc in tcfg.columns.items() if cc.distribution is not None}
        if dists:
            params[name]["numerical_distributions"] = {**params[name].get("numerical_distributions", {}), **dists}
        excluded[name] = [c for c, cc in tcfg.columns.items() if cc.exclude]
    return SamplePlan.build(written, modes, cfg.seed, overrides, params, excluded)


def _unkept_checks(modelled: Metadata, modes: dict[str, str]) -> list[str]:
    """One warning per CHECK of a synthesized table that the sampler cannot keep (not parsed or evaluated):
    the target may refuse rows that break it, and the user should know which constraint before the load."""
    out = []
    for name, rules in declared_rules(modelled).items():
        if modes.get(name) != "synthesize":
            continue
        for rule in rules:
            if not rule.enforced:
                out.append(f"table '{name}', CHECK '{rule.name}': {rule.reason}, so synthesized "
                           "rows may break it; if the target refuses them, set the table to mode: copy")
    return out


def _outside_keys(written: Metadata, source: Metadata, modes: dict[str, str]) -> list[str]:
    """Model the columns of foreign keys whose parent is not cloned as plain values; one warning per such key.

    No such key is created in the target (its parent is not there). A nullable one is written NULL (a value
    would point at nothing); a NOT NULL one keeps modelled values of the column, as plain numbers or labels;
    a copied table keeps its values. Key columns of the table itself (primary key, unique, a kept foreign key)
    stay keys. Changes ``written`` in place.
    """
    from .metadata.infer import outside_sdtype

    out = []
    referenced: dict[str, set[str]] = {}
    for table in written:
        for fk in table.foreign_keys:
            referenced.setdefault(fk.ref_table, set()).update(fk.ref_columns)
    for table in written:
        # keys by themselves stay keys: a kept reference, a one-column primary key or unique constraint, a
        # column other tables refer to; a part of a composite key becomes a value (see _values_in_keys)
        keys = {c for fk in table.foreign_keys for c in fk.columns} | referenced.get(table.name, set())
        keys |= {uc.columns[0] for uc in table.unique_constraints if len(uc.columns) == 1}
        if len(table.primary_key) == 1:
            keys.add(table.primary_key[0])
        for fk in table.outside_foreign_keys:
            cols = [c for c in fk.columns if table.has_column(c)]
            for c in cols:
                col = table.column(c)
                if c in keys or col.sdtype != st.ID:
                    continue
                # generated as keys, 300 rows would need 300 distinct values the column's type may not hold
                col.sdtype = outside_sdtype(col)
            mode = modes[table.name]
            many = len(cols) > 1
            them = f"its column{'s' if many else ''} {', '.join(cols)}"
            are = "are" if many else "is"
            if mode == "copy":
                what = f"{them} {'keep' if many else 'keeps'} the source's values"
            elif mode == "empty":
                what = "the table is written empty"
            elif table.fk_is_nullable(fk):
                what = f"{them} {are} written NULL"
            else:
                what = f"{them} {are} NOT NULL, so {'they are' if many else 'it is'} sampled as plain values"
            if fk.ref_table in source.tables:  # skipped by mode
                todo = f"set tables.{fk.ref_table}.mode to copy or synthesize"
            else:
                todo = f"add '{fk.ref_table}' to the cloned tables (source.include, source.exclude, source.schema)"
            name = f" '{fk.name}'" if fk.name else ""
            out.append(
                f"table '{table.name}', foreign key{name} refers to '{fk.ref_table}', which is not cloned: {what}, "
                f"with no foreign key in the target; {todo} to keep the reference"
            )
    return out


def _values_in_keys(modelled: Metadata) -> None:
    """Let the model learn composite primary keys that hold a value column as values, unique together.

    A primary-key column modelled as a value (a reference to a table not cloned, such as staff_history's
    staff_id in its key (staff_id, from_date)) would be numbered as a fresh key by the synthesizer, which
    numbers every primary-key column: one new value per row, more than a TINYINT holds and none of the repeats
    the data has. In the metadata the model learns (the target's keeps its primary key) such a key becomes a
    unique constraint over the same columns, which the sampler keeps unique by repairing the ties. A key
    other tables refer to stays a key. Changes ``modelled`` in place.
    """
    referenced = {fk.ref_table for t in modelled for fk in t.foreign_keys}
    for table in modelled:
        pk = list(table.primary_key)
        if len(pk) < 2 or table.name in referenced:
            continue
        if all(table.column(c).sdtype == st.ID for c in pk if table.has_column(c)):
            continue
        if not any(list(uc.columns) == pk for uc in table.unique_constraints):
            table.unique_constraints.append(UniqueConstraint(columns=pk, name=None))
        table.primary_key = []


def _num_rows(prep: _Prepared) -> dict[str, int]:
    return {
        n: t.rows
        for n, t in prep.cfg.tables.items()
        if t.rows is not None and n in prep.modelled.tables and prep.modes[n] == "synthesize"
    }


def _decide_refit(prep: _Prepared) -> tuple[bool, str]:
    """Whether to fit, and why (reads only the model file's metadata)."""
    cfg = prep.cfg
    path = cfg.model.path
    if path is None:
        return True, "no model path configured"
    if cfg.model.refit == "always":
        return True, "refit: always"
    if not Path(path).exists():
        if cfg.model.refit == "never":
            raise ModelFileError(
                f"model file {path} does not exist and model.refit is never", hint="Run dbsynth fit first."
            )
        return True, "no model file yet"
    model = _load_model(path)
    saved = model.get_metadata().fingerprint()
    current = prep.modelled.fingerprint()
    wanted = _SYNTHESIZER_CLASSES[cfg.synthesizer]
    if saved == current and type(model).__name__ not in wanted:
        if cfg.model.refit == "never":
            raise ModelFileError(
                f"model file {path} holds a {type(model).__name__}, the config asks for synthesizer {cfg.synthesizer}",
                hint="Re-fit it (dbsynth fit) or set model.refit: if_schema_changed.",
            )
        return True, f"synthesizer changed to {cfg.synthesizer}"
    if saved == current:
        return False, "schema unchanged"
    if cfg.model.refit == "never":
        raise SchemaMismatchError(
            f"model file {path} was fitted on another schema (fingerprint {saved}, source {current})",
            hint="Re-fit it (dbsynth fit) or set model.refit: if_schema_changed.",
        )
    return True, "schema changed"


def _load_model(path: str | None, seed: int | None = None):
    from .synthesizers import load_synthesizer

    if path is None:  # _decide_refit only loads a model the config names
        raise ConfigError("model.path: required to load a fitted model", hint="Set model.path in the config.")
    return load_synthesizer(path, seed=seed)  # the config's seed, not the one the file was fitted with


def plan(config_or_path: Config | str | Path) -> Plan:
    """Work out what :func:`run` would do, reading only the source's schema and the model file's header.

    Args:
        config_or_path: a :class:`Config` or the path of a YAML config.

    Returns:
        The :class:`Plan`.

    Raises:
        BadInputError: as :func:`run`.
    """
    cfg = _load(config_or_path)
    _check_target(cfg)
    prep = prepare(cfg, _reflect(cfg))
    return _plan(prep, *_decide_refit(prep))


def _plan(prep: _Prepared, refit: bool, reason: str) -> Plan:
    cfg = prep.cfg
    graph = prep.written.graph()
    num_rows = _num_rows(prep)
    roots = set(prep.modelled.graph().roots()) if prep.modelled.tables else set()
    tables = []
    for name in graph.parent_first():
        table = prep.written.tables[name]
        mode = prep.modes[name]
        if mode == "empty":
            rows: int | None = 0
        elif mode == "copy":
            rows = table.row_count
        elif name in num_rows:
            rows = num_rows[name]
        elif name in roots and table.row_count is not None:
            rows = int(round(table.row_count * cfg.scale))
        else:
            rows = None
        deferred = [d.describe() for d in graph.deferred_for(name)]
        tables.append(TablePlan(name, mode, table.row_count, rows, deferred))
    for name, mode in prep.modes.items():
        if mode == "skip":
            tables.append(TablePlan(name, "skip", prep.source.tables[name].row_count, None))
    return Plan(
        source=mask_url(cfg.source.url),
        target=mask_url(cfg.target.url) if cfg.target else None,
        target_mode=cfg.target.mode if cfg.target else None,
        tables=tables,
        refit=refit,
        refit_reason=reason,
        model_path=cfg.model.path,
        warnings=list(prep.warnings),
    )


# ---- stages ------------------------------------------------------------------------------------------------
def _read(url: str, metadata: Metadata, tables: list[str] | None = None) -> dict[str, pd.DataFrame]:
    from .read import read_tables

    return read_tables(url, metadata, tables=tables)


#: Class names a model file may hold for each ``synthesizer:`` value (HMA1 is the legacy name of the HMA).
_SYNTHESIZER_CLASSES = {
    "hma": ("HMASynthesizer", "HMA1"),
    "hsa": ("HSASynthesizer",),
    "independent": ("IndependentSynthesizer",),
}


#: The public class of each ``synthesizer:`` value (:mod:`dbsynth.synthesizers`).
_PUBLIC_CLASS = {"hma": "HMASynthesizer", "hsa": "HSASynthesizer", "independent": "IndependentSynthesizer"}


def _synthesizer_class(kind: str) -> type[Any]:
    """The class named by ``synthesizer:`` (imported on first use: the module loads the models).

    ``type[Any]``: the families' ``fit`` and ``set_table_parameters`` differ in what they accept (streamed
    sources for the HMA, frames and a table synthesizer for the segment ones), so the shared base declares
    neither and a narrower type would not check the calls made here."""
    from . import synthesizers

    cls: type[Any] = getattr(synthesizers, _PUBLIC_CLASS[kind])
    return cls


def _new_synthesizer(prep: _Prepared) -> Any:
    """The synthesizer named by ``synthesizer:`` (hma, hsa, independent), with the per-table settings."""
    cfg = prep.cfg
    cls = _synthesizer_class(cfg.synthesizer)
    synth = cls(prep.modelled, locales=cfg.locales, verbose=progress.mode() != "quiet", seed=cfg.seed)
    for name, tplan in prep.plan.tables.items():
        if name in prep.modelled.tables and tplan.table_parameters:
            # every family takes the settings by this keyword (the segment ones also take a table synthesizer)
            synth.set_table_parameters(name, table_parameters=tplan.table_parameters)
    _apply_rules(synth, cfg)
    return synth


def _run_rules(prep: _Prepared, synth: Any) -> RuleSet:
    """The model's rules less those naming a column the config overrides (``constant``, ``null``, ``pii``): the
    config's values replace what the model drew, so such a rule could not hold, and the config wins."""
    overridden = {(t, c) for t, tplan in prep.plan.tables.items() for c in tplan.overrides}

    def touched(rule: Rule) -> set[tuple[str, str]]:
        cols = {(rule.table, c) for c in rule.columns}
        if isinstance(rule, Copied):
            cols.add((rule.parent, rule.parent_column))
        elif isinstance(rule, Aggregate):
            cols |= {(rule.child, c) for c in rule.terms}
        return cols & overridden

    return RuleSet(tuple(rule for rule in synth.rules() if not touched(rule)))


def _apply_rules(synth: Any, cfg: Config) -> Any:
    """The config's constraints (``tables.<t>.constraints``) and rule switches (``rules:``), on a new or loaded
    synthesizer (a loaded one already holding the same constraints holds them once).

    Raises:
        ConfigError: a constraint of the config is unknown, malformed or contradicts another (the YAML key named).
    """
    from .constraints import from_config

    synth.add_constraints(from_config(cfg, synth.metadata))
    synth.set_rules(discover=cfg.rules.discover, off=cfg.rules.off)
    return synth


def _fit(prep: _Prepared, report: RunReport):
    synth = _new_synthesizer(prep)
    if type(synth).fits_from_sources:  # the HMA streams the source; the segment synthesizers read it whole
        from .read import open_sources

        mem = prep.memory
        # reading and fitting interleave (samples, then one streamed pass per child table): timed as one stage
        with (_timed(report, "fit"),
              open_sources(prep.cfg.source.url, prep.modelled, chunk_rows=mem.chunk_rows) as sources):
            synth.fit(sources, sample_rows=mem.sample_rows)
        release(collect=True)  # the fit's samples and key indexes are gone: give their pages back
    else:
        with _timed(report, "read"):
            data = _read(prep.cfg.source.url, prep.modelled)
        with _timed(report, "fit"):
            synth.fit(data)
    if prep.cfg.model.path:
        Path(prep.cfg.model.path).parent.mkdir(parents=True, exist_ok=True)
        synth.save(prep.cfg.model.path)
    report.refit = True
    return synth


def _planned_batches(prep: _Prepared, synth, report: RunReport, batch_rows: int | None) -> Iterator[Batch]:
    """The engine's batches of ``synth``'s model with the run's :class:`SamplePlan`: empty tables first, copied
    tables as their real rows (read from the source here: the engine reads nothing), overrides applied.

    The engine is built from the synthesizer's public parts, as its ``iter_sample`` does (which takes no plan).
    """
    synth.fitted_models()  # NotFittedError before any read, as iter_sample raises it
    rows = _num_rows(prep)
    plan = prep.plan
    copies = plan.tables_in(TableMode.COPY)
    if copies:
        with _timed(report, "read"):
            plan = plan.with_real_rows(_read(prep.cfg.source.url, prep.written, tables=sorted(copies)))
    rules = _run_rules(prep, synth)
    for name in sorted(set(synth.rules().names()) - set(rules.names())):  # said once per run, here
        log.info("rule %s is not kept: the config overrides a column it names", name)
    engine = Engine(synth.metadata, synth.strategy(), synth.seed, synth.progress_task, rules=rules)
    return engine.batches(prep.cfg.scale, rows, batch_rows, unlinked=synth.unlinked_tables(rows), plan=plan)


def _sample_frames(prep: _Prepared, synth, report: RunReport, *, to_target: bool = True) -> dict[str, pd.DataFrame]:
    """Every written table in memory (for files): the engine's planned batches, one per table, joined."""
    with _timed(report, "sample"):
        batches = _planned_batches(prep, synth, report, None)
        target = prep.cfg.target
        if to_target and target is not None and target.mode == "append":
            batches = _AppendKeys.read(prep).apply(prep, batches)
        joined = join_batches(prep.written, batches)
        frames = {n: joined[n] for n in prep.written.tables if n in joined}
    report.tables = {n: len(f) for n, f in frames.items()}
    report.modes = {n: prep.modes[n] for n in prep.written.tables}
    return frames


# ---- append: new keys continue past the target's ---------------------------------------------------------------
_PATTERNED = r"^(?P<prefix>.*?)(?P<number>\d+)$"
_UUID_LIKE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


@dataclass
class _KeyShift:
    """How ``append`` moves the sampled values of one key column (and every reference to it) past the
    largest value the target already holds: integers by an offset, ``prefix + number`` text by renumbering."""

    table: str
    column: str
    kind: str
    """``int`` or ``text``."""
    target_max: int
    """The target's largest key (text: the number of its largest patterned key)."""
    bits: int = 64
    offset: int | None = None
    """Integers: fixed by the first batch (sampled keys start at 1, so it is ``target_max`` for them)."""

    def apply(self, values: pd.Series) -> pd.Series:
        """``values`` moved past the target's keys (NULLs stay NULL); the same value always maps the same way."""
        mask = values.notna()
        if not mask.any():
            return values
        if self.kind == "int":
            v = values[mask].astype("int64")
            if self.offset is None:
                self.offset = self.target_max + 1 - min(1, int(v.min()))
            moved = v + self.offset
            if int(moved.min()) <= self.target_max:
                raise self._error("its sampled values reach below the target's (not generated keys)")
            if int(moved.max()) > 2 ** (self.bits - 1) - 1:
                raise self._error(f"the keys would pass the column's {self.bits}-bit range")
            out = values.astype("Int64") if values.hasnans else values.astype("int64")
            out[mask] = moved
            return out
        parts = values[mask].astype(str).str.extract(_PATTERNED)
        if parts["number"].isna().any():
            raise self._error("its sampled keys are not of the form prefix + number (like C-0000001)")
        numbers = parts["number"].astype("int64") + self.target_max
        widths = parts["number"].str.len()
        text = pd.Series(index=parts.index, dtype=object)
        for w in pd.unique(widths):  # vectorised per zero-padding width (usually one)
            at = widths == w
            text[at] = parts.loc[at, "prefix"] + numbers[at].astype(str).str.zfill(int(w))
        out = values.astype(object).copy()
        out[mask] = text
        return out

    def _error(self, why: str) -> ConfigError:
        return ConfigError(
            f"target.mode append: cannot continue the keys past the target's largest ({why})",
            table=self.table, column=self.column,
            hint="append needs integer keys or keys of the form prefix + number; use mode truncate or replace.",
        )


def _append_shifts(prep: _Prepared) -> dict[str, dict[str, _KeyShift]]:
    """``{table: {column: shift}}`` for an append into a non-empty target: each synthesized table's own keys
    (single-column primary key and unique integer or text columns that are not references) move past the
    target's largest, and every reference to a moved key (and references to those) moves the same way.

    The largest keys are read with one ``SELECT MAX(...)`` per column (text: the longest, then largest, key).

    Raises:
        ConfigError: a non-empty target whose text keys are not of the form prefix + number.
    """
    import sqlalchemy as sa

    from .db import engine
    from .write.ddl import target_name

    cfg, written = prep.cfg, prep.written
    own: dict[str, dict[str, _KeyShift]] = {}
    eng = engine(_target(cfg).url)
    try:
        with eng.connect() as conn:
            existing = set(sa.inspect(conn).get_table_names())
            for table in written:
                name = target_name(table)
                if prep.modes[table.name] != "synthesize" or name not in existing:
                    continue
                refs = {c for fk in table.foreign_keys for c in fk.columns}
                keys = [table.primary_key] + [uc.columns for uc in table.unique_constraints]
                cols = [k[0] for k in keys if len(k) == 1 and k[0] not in refs]
                clause = sa.table(name, *(sa.column(c) for c in cols))
                for c in dict.fromkeys(cols):
                    col = table.column(c)
                    if col.type == st.INTEGER:
                        top = conn.execute(sa.select(sa.func.max(clause.c[c]))).scalar()
                        if top is not None:
                            shift = _KeyShift(table.name, c, "int", int(top), col.bits or 64)
                            own.setdefault(table.name, {})[c] = shift
                    elif col.type == st.STRING:
                        top = conn.execute(
                            sa.select(clause.c[c]).where(clause.c[c].isnot(None))
                            .order_by(sa.func.length(clause.c[c]).desc(), clause.c[c].desc()).limit(1)
                        ).scalar()
                        if top is None or _UUID_LIKE.match(str(top)):
                            continue  # an empty table, or random keys (UUIDs) that do not clash
                        m = re.match(_PATTERNED, str(top))
                        if m is None:
                            raise ConfigError(
                                "target.mode append: the target's keys are not integers nor of the form prefix + "
                                "number (like C-0000001), so new keys cannot continue past them",
                                table=table.name, column=c, hint="Use mode truncate or replace.",
                            )
                        own.setdefault(table.name, {})[c] = _KeyShift(table.name, c, "text", int(m.group("number")))
    finally:
        eng.dispose()
    shifts: dict[str, dict[str, _KeyShift]] = {}
    for name in written.graph().parent_first():
        table = written.tables[name]
        mine = dict(own.get(name, {}))
        for fk in table.foreign_keys:
            for c, rc in zip(fk.columns, fk.ref_columns):
                ref = own.get(fk.ref_table, {}).get(rc) or shifts.get(fk.ref_table, {}).get(rc)
                if ref is not None and c not in mine:
                    mine[c] = ref
        if mine:
            shifts[name] = mine
    return shifts


@dataclass
class _AppendKeys:
    """Append mode: the sampled keys (and references to them) continue past the target's largest, and a copied
    table sends only the rows whose key the target does not hold yet. Inert outside append mode.

    What the target holds is read by :meth:`read` before the writer opens its transaction (which may lock the
    tables these queries read)."""

    shifts: dict[str, dict[str, _KeyShift]] = field(default_factory=dict)
    """Per table, per key or reference column, how its values move (:func:`_append_shifts`)."""
    held: dict[str, set] = field(default_factory=dict)
    """Per copied table (one-column primary key), the keys the target already has: those rows are not sent."""

    @classmethod
    def read(cls, prep: _Prepared) -> _AppendKeys:
        """The target's keys, for an append of ``prep``'s tables."""
        copies = prep.plan.tables_in(TableMode.COPY)
        return cls(_append_shifts(prep), _copied_keys_held(prep, copies) if copies else {})

    def move(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        """This batch's keys and references past the target's largest (``frame`` itself when none moves)."""
        shifts = self.shifts.get(name)
        if not shifts:
            return frame
        out = frame.copy()
        for col, shift in shifts.items():
            if col in out.columns:
                out[col] = shift.apply(out[col])
        return out

    def unsent(self, name: str, real: pd.DataFrame, table_pk: list[str]) -> pd.DataFrame:
        """The real rows of copied table ``name`` the target lacks (children still map onto every real key)."""
        held = self.held.get(name)
        if held is None:
            return real
        return real[~real[table_pk[0]].astype(object).isin(held).to_numpy()].reset_index(drop=True)

    def apply(self, prep: _Prepared, batches: Iterator[Batch]) -> Iterator[Batch]:
        """The engine's planned ``batches`` as appended: synthesized rows and updates moved past the target's
        keys, a copied table's (single) batch without the rows the target holds, empty tables as they are."""
        written = prep.written.tables
        try:
            for batch in batches:
                mode = prep.plan.tables[batch.table].mode
                if batch.is_update:
                    yield batch.with_frame(self.move(batch.table, batch.frame))
                elif mode is TableMode.COPY:
                    yield batch.with_frame(self.unsent(batch.table, batch.frame, written[batch.table].primary_key))
                elif mode is TableMode.SYNTHESIZE:
                    yield batch.with_frame(self.move(batch.table, batch.frame))
                else:
                    yield batch
        finally:
            close = getattr(batches, "close", None)  # stopped early: end the sampler (and its progress) now
            if close is not None:
                close()


def _copied_keys_held(prep: _Prepared, copies: list[str]) -> dict[str, set]:
    """Append mode: the primary keys each copied table (with a one-column key) already has in the target."""
    import sqlalchemy as sa

    from .db import engine
    from .write.ddl import target_name

    out: dict[str, set] = {}
    eng = engine(prep.target.url)
    try:
        with eng.connect() as conn:
            existing = set(sa.inspect(conn).get_table_names())
            for name in copies:
                table = prep.written.tables[name]
                tname = target_name(table)
                if len(table.primary_key) != 1 or tname not in existing:
                    continue
                pk = table.primary_key[0]
                clause = sa.table(tname, sa.column(pk))
                out[name] = {r[0] for r in conn.execute(sa.select(clause.c[pk]))}
    finally:
        eng.dispose()
    return out


def _prefetch(batches: Iterator[Batch], depth: int = 2) -> Iterator[Batch]:
    """Draw ``batches`` in a background thread, ``depth`` ahead, so sampling overlaps the writer's COPY.

    numpy, pandas and the database driver release the interpreter lock in their heavy parts, so the two use
    both cores. An exception in the producer is raised here, in the consumer.
    """
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for item in batches:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as exc:  # handed to the consumer, which raises it
            q.put(exc)
        finally:
            # the consumer stopped (an error, Ctrl-C): end the sampler here and now, so that its progress tasks
            # close before the run's last line rather than at interpreter exit
            close = getattr(batches, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="dbsynth-sample", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def _sample_and_write(prep: _Prepared, synth, report: RunReport) -> None:
    """Sample and write the target: batches flow from the sampler to the writer, one transaction."""
    from .write import write

    cfg = prep.cfg
    report.modes = {n: prep.modes[n] for n in prep.written.tables}
    started = time.perf_counter()
    batches = _planned_batches(prep, synth, report, prep.memory.batch_rows)
    if prep.target.mode == "append":
        batches = _AppendKeys.read(prep).apply(prep, batches)
    summary = write(
        _prefetch(batches), prep.target.url, prep.written, mode=prep.target.mode,
        batch_size=cfg.batch_size, source_url=cfg.source.url, lock_timeout=prep.target.lock_timeout,
    )
    # sampling and writing overlap: the stage is timed as one
    report.seconds["sample+write"] = round(time.perf_counter() - started, 3)
    report.tables = {n: t.rows for n, t in summary.tables.items()}
    _writer_warnings(report, summary)
    _committed(report)


def _writer_warnings(report: RunReport, summary) -> None:
    """What the writer said about the load (a column written another way, values it could not keep), and the
    columns whose type the sampler could not generate, once each."""
    for w in [*summary.warnings, *take_notes()]:
        if w not in report.warnings:
            report.warnings.append(w)


def _committed(report: RunReport) -> None:
    """The load is over: from here on the rows are in the target (progress said only rows *sent* until now)."""
    report.committed = True
    progress.note("committed", f"committed: {report.total_rows:,} rows in {len(report.tables)} table(s) of the target",
                  rows=report.total_rows, tables=len(report.tables))


def _start(config_or_path: Config | str | Path, *, need_target: bool) -> tuple[_Prepared, RunReport]:
    take_notes()  # notes of an earlier run in this process are not this run's
    cfg = _load(config_or_path)
    _check_target(cfg)
    if need_target:
        _check_reachable(_target(cfg).url)
    report = RunReport(model_path=cfg.model.path, target=mask_url(cfg.target.url) if cfg.target else None)
    with _timed(report, "reflect"):
        source = _reflect(cfg)
    prep = prepare(cfg, source)
    report.warnings.extend(prep.warnings)
    from .memory import plan_memory

    # before any row is read: a budget too small for one batch fails now, not after the fit
    prep.memory = plan_memory(cfg.memory_limit, prep.written)
    report.memory = asdict(prep.memory)
    return prep, report


#: Estimated outputs above this many times the source's rows (and above :data:`MIN_MAX_ROWS`) need ``max_rows``
#: or ``--force``: a scale typed wrong (1e12 for 1.2) must not fill a server for hours.
MAX_ROWS_FACTOR = 100
MIN_MAX_ROWS = 1_000_000


def _sampled_rows(prep: _Prepared) -> dict[str, float]:
    """Rows the model will sample per modelled table: roots by ``scale`` or their ``rows``, children as their
    fastest-growing parent (floats: a scale of 1e12 must not overflow)."""
    cfg = prep.cfg
    md = prep.modelled
    if not md.tables:
        return {}
    graph = md.graph()
    num_rows = _num_rows(prep)
    factor: dict[str, float] = {}
    rows: dict[str, float] = {}
    for name in graph.parent_first():
        src = float(md.tables[name].row_count or 0)
        parents = [factor[e.parent] for e in graph.parents(name) if e.parent in factor and e.parent != name]
        if name in num_rows:
            rows[name] = float(num_rows[name])
            factor[name] = rows[name] / src if src else 1.0
            continue
        factor[name] = max(parents) if parents else float(cfg.scale)
        rows[name] = src * factor[name]
    return rows


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None: another dialect, or an in-memory database)."""
    from .db import make_url

    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    db = u.database
    if db.startswith("file:"):  # URI form: file:/path?mode=...
        db = db[5:].split("?")[0]
    return Path(db)


def _free_bytes(path: Path) -> int:
    """Free bytes on the file system that holds ``path`` (or would hold it: its first existing ancestor)."""
    import shutil

    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def _check_output(
    prep: _Prepared, *, out_dir: Path | None = None, force: bool = False, whole: str | None = None
) -> None:
    """Refuse, before anything is fitted or sampled, an output too big for the budget, the disk or reason.

    Checked: the estimated rows against ``max_rows`` (default :data:`MAX_ROWS_FACTOR` times the source's;
    ``force`` lifts it); the memory that grows with the output (what the sampler keeps per parent row, or whole
    tables) against ``memory_limit``; for a SQLite target or ``--out`` files, the bytes against the free disk.

    Raises:
        ConfigError: too many rows, or not enough disk space.
        MemoryBudgetError: the output's keys (or tables) would not fit the memory budget.
    """
    from .errors import MemoryBudgetError
    from .memory import _human, estimate_output

    cfg = prep.cfg
    where = _where(cfg)
    sampled = _sampled_rows(prep)
    if whole is None:
        whole = "none" if cfg.synthesizer == "hma" else "table"
    written = {n: (float(prep.written.tables[n].row_count or 0) if prep.modes[n] == "copy" else sampled.get(n, 0.0))
               for n in prep.written.tables}
    total = sum(written.values())
    what = f"scale {cfg.scale:g}" if not _num_rows(prep) else "scale and rows"
    biggest = max(written, key=lambda n: written[n], default="")
    source_total = float(sum(t.row_count or 0 for t in prep.source))
    limit = cfg.max_rows if cfg.max_rows is not None else max(MIN_MAX_ROWS, MAX_ROWS_FACTOR * source_total)
    if total > limit and not force:
        key = "max_rows" if cfg.max_rows is not None else f"the default max_rows ({MAX_ROWS_FACTOR}x the source)"
        raise ConfigError(
            f"{where}: {what} would write about {min(total, 2**63):,.0f} rows "
            f"({biggest}: {min(written[biggest], 2**63):,.0f}), "
            f"more than {key} of {limit:,.0f}",
            hint="Lower scale or rows, raise max_rows, or pass --force if that many rows is meant.",
        )
    est = estimate_output(prep.memory, prep.modelled, sampled, whole=whole)
    if est.peak_bytes > prep.memory.limit:
        fixed = est.peak_bytes - est.held_bytes
        room = prep.memory.limit - fixed
        fits = cfg.scale * room / est.held_bytes if est.held_bytes and room > 0 else 0.0
        held = "the keys and counts kept" if whole == "none" else "the tables held whole"
        raise MemoryBudgetError(
            f"{where}: {what} needs about {_human(est.peak_bytes)} of memory while sampling ({held} for "
            f"{min(est.total_rows, 2**63):,.0f} rows, most for table '{est.heaviest}'), more than memory_limit "
            f"{_human(prep.memory.limit)}",
            hint=(f"Lower scale to about {fits:.3g} or less, or raise memory_limit." if fits > 0
                  else "Raise memory_limit."),
        )
    place = out_dir if out_dir is not None else (_sqlite_file(cfg.target.url) if cfg.target else None)
    if place is not None:
        free = _free_bytes(place)
        disk = est.disk_bytes
        if disk > free:
            raise ConfigError(
                f"{where}: {what} would take about {_human(disk)} on disk, and {place} has {_human(free)} free",
                hint="Free some space, write elsewhere, or lower scale.",
            )


def _quality(prep: _Prepared, report: RunReport, rules: RuleSet | None):
    """Score the written target against the source and write the quality report into ``report.quality``; the
    rules scored are the model's (declared, discovered and the user's), None: those the source's rows keep."""
    from .report.command import evaluate_clone
    from .report.render import write_report

    cfg = prep.cfg
    # Synthesized tables only: copied tables are the real rows (they would read as leaks), empty ones have none.
    scored = prep.written.subset(prep.plan.tables_in(TableMode.SYNTHESIZE))
    for table in scored:
        for col in prep.plan.tables[table.name].fixed_columns:
            # Values the config put there, not the model: scored apart, with the generated columns.
            table.column(col).sdtype = st.UNSUPPORTED
    rcfg = _report(cfg)
    with _timed(report, "report"):
        # where the writer put each table (a schema of the same name, or flattened into a schema-less target)
        quality, _ = evaluate_clone(cfg.source.url, prep.target.url, scored, seed=cfg.seed or 0, rules=rules)
        _, html_path = write_report(quality, rcfg.quality or "report.html")
    report.quality = {"overall": quality.overall, "properties": quality.properties, "html": str(html_path)}
    return quality


def _finish(prep: _Prepared, report: RunReport, *, target_written: bool = True,
            rules: RuleSet | None = None) -> RunReport:
    rcfg = _report(prep.cfg)
    quality = None
    if rcfg.quality and not report.dry_run:
        if target_written:
            quality = _quality(prep, report, rules)
        else:
            report.warnings.append("report.quality: not written, the rows went to files rather than a database")
    if rcfg.json_path and not report.dry_run:
        report.save(rcfg.json_path)
    if quality is not None:
        try:
            quality.check(rcfg.fail_under, rcfg.fail_under_properties,
                          options=("report.fail_under", "report.fail_under_properties"))
        except QualityError as exc:
            hint = f"The target {report.target} was written anyway; the quality report is in {rcfg.quality}."
            raise QualityError(exc.message, hint=hint) from None
    return report


# ---- public entry points --------------------------------------------------------------------------------------
def run(config_or_path: Config | str | Path, *, dry_run: bool = False, force: bool = False) -> RunReport:
    """Reflect the source, fit unless the model file is fresh, sample, and write the target.

    Args:
        config_or_path: a :class:`~dbsynth.config.Config` or the path of a YAML config.
        dry_run: only work out the plan (``RunReport.plan``): reads the schema, writes nothing.
        force: sample even when the estimated rows exceed ``max_rows`` (memory and disk are still checked).

    Returns:
        The :class:`RunReport` (also saved as JSON when the config's ``report.json`` is set).

    Raises:
        ConfigError: the config is wrong, or names a table or column the source does not have, or the
            estimated output exceeds ``max_rows`` or the free disk space (before anything is fitted).
        MemoryBudgetError: the estimated output does not fit ``memory_limit`` (before anything is fitted).
        UnsafeTargetError: the target is the source.
        SchemaMismatchError: the model file is from another schema and ``model.refit`` is ``never``.
        ConnectError: a database cannot be reached.
        WriteError: loading the target failed (the target is left as it was).
        QualityError: the quality report scores under ``report.fail_under`` (or a per-property threshold);
            the target was written.
    """
    prep, report = _start(config_or_path, need_target=True)
    _check_output(prep, force=force)
    refit, reason = _decide_refit(prep)
    report.refit_reason = reason
    if dry_run:
        report.dry_run = True
        report.plan = _plan(prep, refit, reason)
        return report
    with progress.bars():
        with _interruptible(_UNTOUCHED):
            synth = _fit(prep, report) if refit else _apply_rules(_load_model(prep.cfg.model.path, prep.cfg.seed),
                                                                  prep.cfg)
        with _interruptible(_ROLLED_BACK):
            _sample_and_write(prep, synth, report)
    with _interruptible(_COMMITTED):
        return _finish(prep, report, rules=_run_rules(prep, synth))


def fit(config_or_path: Config | str | Path) -> RunReport:
    """Fit the model on the source and save it to ``model.path`` (always fits).

    Args:
        config_or_path: a :class:`~dbsynth.config.Config` or the path of a YAML config.

    Returns:
        The :class:`RunReport` (``refit`` is True; ``tables`` empty: nothing sampled).

    Raises:
        ConfigError: no ``model.path``, or as :func:`run`.
    """
    prep, report = _start(config_or_path, need_target=False)
    if not prep.cfg.model.path:
        raise ConfigError(f"{_where(prep.cfg)}: model.path: required by fit (where should the model go?)")
    report.refit_reason = "dbsynth fit"
    with progress.bars(), _interruptible("nothing was written to a target (dbsynth fit only writes the model file)"):
        _fit(prep, report)
    report.modes = dict(prep.modes)
    return report


def sample(
    config_or_path: Config | str | Path, out_dir: str | Path | None = None, fmt: str = "csv", *, force: bool = False
) -> RunReport:
    """Sample from the saved model into the target database, or into files in ``out_dir``.

    Args:
        config_or_path: a :class:`~dbsynth.config.Config` or the path of a YAML config.
        out_dir: write one file per table here instead of the target database.
        fmt: ``csv`` or ``parquet`` (with ``out_dir``).
        force: sample even when the estimated rows exceed ``max_rows`` (memory and disk are still checked).

    Returns:
        The :class:`RunReport`.

    Raises:
        ModelFileError: no model file (run ``fit`` first).
        SchemaMismatchError: the model file is from another schema.
        ConfigError: a bad ``fmt``, no target and no ``out_dir``, or as :func:`run`.
        MemoryBudgetError: as :func:`run` (with ``out_dir`` every table is held in memory).
        QualityError: as :func:`run` (only when writing into the target database).
    """
    if fmt not in ("csv", "parquet"):
        raise ConfigError(f"--format {fmt}: unknown format (use csv or parquet)")
    prep, report = _start(config_or_path, need_target=out_dir is None)
    path = prep.cfg.model.path
    if not path or not Path(path).exists():
        raise ModelFileError(
            f"model file {path or '(model.path not set)'} does not exist", hint="Run dbsynth fit first."
        )
    _check_output(prep, out_dir=Path(out_dir) if out_dir is not None else None, force=force,
                  whole="all" if out_dir is not None else None)
    synth = _apply_rules(_load_model(path), prep.cfg)
    saved, current = synth.get_metadata().fingerprint(), prep.modelled.fingerprint()
    if saved != current:
        raise SchemaMismatchError(
            f"model file {path} was fitted on another schema (fingerprint {saved}, source {current})",
            hint="Re-fit it with dbsynth fit.",
        )
    report.refit_reason = "schema unchanged"
    with progress.bars():
        if out_dir is None:
            with _interruptible(_ROLLED_BACK):
                _sample_and_write(prep, synth, report)
        else:
            with _interruptible(f"the files in {out_dir} may be incomplete"):
                _write_files(_sample_frames(prep, synth, report, to_target=False), Path(out_dir), fmt, report)
    with _interruptible(_COMMITTED if out_dir is None else f"the files in {out_dir} were written"):
        return _finish(prep, report, target_written=out_dir is None, rules=_run_rules(prep, synth))


def _write_files(frames: dict[str, pd.DataFrame], out_dir: Path, fmt: str, report: RunReport) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    report.target = str(out_dir)
    with _timed(report, "write"):
        for name, frame in frames.items():
            with progress.task("write", table=name, total=len(frame)) as t:
                if fmt == "csv":
                    frame.to_csv(out_dir / f"{name}.csv", index=False)
                else:
                    try:
                        frame.to_parquet(out_dir / f"{name}.parquet", index=False)
                    except ImportError:
                        raise ConfigError("--format parquet needs pyarrow (pip install pyarrow)") from None
                t.advance(len(frame))
    report.committed = True
