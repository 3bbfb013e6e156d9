"""Run configuration: YAML -> validated :class:`Config` (pydantic), with ``${VAR}`` interpolation.

URL resolution (``builtin:chinook``, config-relative SQLite paths) lives in the neutral :mod:`dbsynth.urls`,
which the report and the CLI use too; its names are re-exported here for the callers that import them from
``dbsynth.config``.
"""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from .errors import ConfigError
from .properties import PROPERTIES
from .urls import BUILTIN_DATABASES, DEFAULT_URL, resolve_url

__all__ = [
    "BUILTIN_DATABASES",
    "DEFAULT_URL",
    "ColumnConfig",
    "Config",
    "ConstraintConfig",
    "ModelConfig",
    "PiiConfig",
    "ReportConfig",
    "RulesConfig",
    "SourceConfig",
    "TableConfig",
    "TargetConfig",
    "check_against",
    "interpolate",
    "load_config",
    "resolve_table_names",
    "resolve_url",
    "table_key",
]


# ---- the schema of a config file ---------------------------------------------------------------------------
class _Strict(BaseModel):
    # Unknown keys are errors (with a did-you-mean), never silently ignored: a typo must not change a run.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SourceConfig(_Strict):
    """The production database read from (never written to)."""

    url: str
    """SQLAlchemy URL; ``builtin:chinook`` for the embedded sample; relative SQLite paths are config-relative."""
    db_schema: str | list[str] | None = Field(None, alias="schema")
    """Database schema(s) to read (default: the connection's). A list reads several schemas in one run: tables
    are then named ``schema.table`` (a bare name still works where it is unique across them) and foreign keys
    across the schemas are kept. ``"*"`` reads every non-system schema on PostgreSQL (all but ``pg_catalog``,
    ``information_schema``, ``pg_toast`` and the temporary schemas); on MariaDB/MySQL and SQLite, where a
    schema is a database, ``"*"`` means the connection's database only (not every database of the server)."""
    include: list[str] | None = None
    """Only these tables."""
    exclude: list[str] | None = None
    """Leave these tables out."""

    @field_validator("db_schema")
    @classmethod
    def _schemas(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("an empty schema name (give a name, a list of names, or '*' for every schema)")
            return value
        if value is None:
            return None
        if not value:
            raise ValueError("an empty list (give at least one schema, or '*' for every schema)")
        for name in value:
            if not name.strip():
                raise ValueError("an empty schema name in the list (remove it)")
        if "*" in value and len(value) > 1:
            raise ValueError("'*' already means every schema: write schema: '*' alone, or list the schemas")
        # a schema named twice is read once (the order of first mention is kept)
        unique = list(dict.fromkeys(value))
        return unique[0] if len(unique) == 1 and unique[0] == "*" else unique


class TargetConfig(_Strict):
    """The database the synthetic rows are written to."""

    url: str
    """SQLAlchemy URL of the target (must not be the source)."""
    mode: Literal["create", "replace", "truncate", "append"] = "create"
    """create: tables must not exist; replace: drop and recreate; truncate: empty then load; append: add rows
    (integer and patterned text keys continue past the target's largest)."""
    lock_timeout: float = Field(30, gt=0, le=86_400, allow_inf_nan=False)
    """Seconds to wait for a lock on a target table (another session using it) before failing with the table named."""


class ModelConfig(_Strict):
    """Where the fitted model is kept, and when it is re-fitted."""

    path: str | None = None
    """Model file (relative to the config file); None keeps the model in memory only."""
    refit: Literal["always", "if_schema_changed", "never"] = "if_schema_changed"
    """if_schema_changed compares the source's schema fingerprint with the model file's."""


class PiiConfig(_Strict):
    """A Faker provider generating a column."""

    provider: str
    """Faker provider name (email, name, phone_number, ...)."""
    locale: str | None = None
    """Faker locale for this column (default: the config's ``locales``)."""


class ColumnConfig(_Strict):
    """Override of one column; give exactly one of the keys."""

    pii: PiiConfig | None = None
    """Generate with a Faker provider instead of learning the column."""
    constant: Any = None
    """Write this value in every row."""
    null: bool = False
    """Write NULL in every row (the column must be nullable)."""
    distribution: str | None = None
    """Marginal distribution of a numerical column (e.g. norm, beta, truncnorm, gamma, uniform)."""
    exclude: bool = False
    """Leave the column out (it must be nullable or have a default)."""

    @model_validator(mode="before")
    @classmethod
    def _null_key(cls, data: Any) -> Any:
        # YAML reads an unquoted `null:` key as None; the user meant the `null` override.
        if isinstance(data, dict) and None in data:
            data = {("null" if k is None else k): v for k, v in data.items()}
        return data

    @field_validator("pii", mode="before")
    @classmethod
    def _pii_shorthand(cls, value: Any) -> Any:
        # `pii: email` is shorthand for `pii: {provider: email}`
        return {"provider": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_override(self) -> ColumnConfig:
        given = self.overrides()
        if len(given) > 1:
            raise ValueError(f"give only one of pii, constant, null, distribution, exclude (got {', '.join(given)})")
        return self

    def overrides(self) -> list[str]:
        """Names of the overrides set on this column."""
        given = [k for k in ("pii", "distribution") if getattr(self, k) is not None]
        given += [k for k in ("null", "exclude") if getattr(self, k)]
        if "constant" in self.model_fields_set:
            given.append("constant")
        return given


class ConstraintConfig(_Strict):
    """One user constraint of a table, in SDV's dict form (``{constraint_class: Inequality,
    constraint_parameters: {low_column_name: a, high_column_name: b}}``) or the short form (``{Inequality:
    {low_column_name: a, high_column_name: b}}``, read as the first). Only the shape is checked here; the
    names, parameters and columns when the synthesizer is built (:func:`dbsynth.constraints.from_config`)."""

    constraint_class: str = Field(min_length=1)
    """SDV's name of the constraint (Inequality, ScalarRange, ...), ChildAggregate, CustomConstraint, or a
    custom class's import path (``package.module:Class``)."""
    constraint_parameters: dict[str, Any] = Field(default_factory=dict)
    """Its parameters, by SDV's names."""
    table_name: str | None = None
    """The table: the one the constraint is listed under (giving another is an error)."""

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        # {Inequality: {...}} is {constraint_class: Inequality, constraint_parameters: {...}}
        if isinstance(data, dict) and len(data) == 1:
            (name, params), = data.items()
            if name not in ("constraint_class", "constraint_parameters", "table_name"):
                if params is not None and not isinstance(params, dict):
                    raise ValueError(f"the parameters of {name} must be a mapping (e.g. {name}: "
                                     "{column_name: price})")
                return {"constraint_class": name, "constraint_parameters": params or {}}
        if isinstance(data, dict) and "constraint_class" not in data and len(data) > 1:
            found = ", ".join(map(str, data))
            raise ValueError(f"a constraint in the short form has one key, its name (found {found}): "
                             "write one constraint per list item")
        if not isinstance(data, dict):
            raise ValueError("a constraint is a mapping: {Inequality: {low_column_name: a, high_column_name: b}} "
                             "or {constraint_class: Inequality, constraint_parameters: {...}}")
        return data


class TableConfig(_Strict):
    """Per-table settings."""

    rows: int | None = Field(None, ge=0)
    """Rows to sample for a root table (children follow from the learned counts)."""
    mode: Literal["synthesize", "copy", "empty", "skip"] = "synthesize"
    """synthesize; copy the real rows verbatim (lookup tables); empty (created, no rows); skip (not created)."""
    table_parameters: dict[str, Any] = Field(default_factory=dict)
    """Passed to ``set_table_parameters`` (e.g. ``numerical_distributions``)."""
    columns: dict[str, ColumnConfig] = Field(default_factory=dict)
    """Per-column overrides."""
    constraints: list[ConstraintConfig] = Field(default_factory=list)
    """User constraints of the table, with SDV's names and parameters (see :class:`ConstraintConfig`)."""


class RulesConfig(_Strict):
    """The rules of the data the clone keeps (declared CHECKs, rules discovered at fit, user constraints)."""

    discover: bool = True
    """Discover the rules the real rows keep at fit time (off: only declared and user rules are kept)."""
    off: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    """Rules switched off: a rule's name (``order:rental:rental_date,return_date``, as ``dbsynth inspect
    --rules`` lists them), a kind (``order``), a table (``table:rental``) or a kind in a table
    (``order:rental``)."""

    @model_validator(mode="before")
    @classmethod
    def _off_key(cls, data: Any) -> Any:
        # YAML 1.1 reads an unquoted `off:` key as False; the user meant the `off` list.
        if isinstance(data, dict) and False in data:
            data = {("off" if k is False else k): v for k, v in data.items()}
        return data


class ReportConfig(_Strict):
    """Reports written after a run."""

    json_path: str | None = Field(None, alias="json")
    """Machine-readable run report (tables, rows, seconds, warnings), relative to the config file."""
    quality: str | None = None
    """Directory for the quality report of each run (``report.html`` and ``report.json``, as ``dbsynth report``
    writes them), relative to the config file. The run reads the source and the target again to score them."""
    fail_under: float | None = Field(None, ge=0, le=1)
    """Fail the run (exit 1, after the target is written) when the overall quality is under this score."""
    fail_under_properties: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(default_factory=dict)
    """The same per property, e.g. ``{column_shapes: 0.8, validity: 1.0}``."""

    @field_validator("fail_under_properties")
    @classmethod
    def _known_properties(cls, value: dict[str, float]) -> dict[str, float]:
        for name in value:
            if name not in PROPERTIES:
                raise ValueError(f"unknown property '{name}' (use one of {', '.join(PROPERTIES)})")
        return value

    @model_validator(mode="after")
    def _thresholds_need_quality(self) -> ReportConfig:
        if (self.fail_under is not None or self.fail_under_properties) and not self.quality:
            raise ValueError("fail_under and fail_under_properties need quality (the directory of the quality report)")
        return self


class Config(_Strict):
    """A whole run configuration (see ``config.example.yaml``)."""

    source: SourceConfig
    target: TargetConfig | None = None
    model: ModelConfig = Field(default_factory=ModelConfig)
    synthesizer: Literal["hma", "hsa", "independent"] = "hma"
    seed: int | None = None
    scale: float = Field(1.0, gt=0, allow_inf_nan=False)
    """Size of the synthetic database relative to the source (root tables; children follow)."""
    max_rows: int | None = Field(None, gt=0)
    """Refuse (before sampling) a run whose estimated rows over all tables exceed this; default: 100 times the
    source's rows (at least 1,000,000). ``--force`` lifts it; memory and disk space are checked regardless."""
    tables: dict[str, TableConfig] = Field(default_factory=dict)
    locales: list[str] = Field(default_factory=lambda: ["en_US"])
    batch_size: int = Field(10_000, gt=0)
    memory_limit: str | int | None = None
    """Memory budget (bytes, or text such as ``2GB``), passed to the stages that stream."""
    report: ReportConfig | None = None
    rules: RulesConfig = Field(default_factory=RulesConfig)
    """Rule discovery and the rules switched off."""

    # File the config was read from (None when built in code); relative paths were resolved against it.
    _path: Path | None = PrivateAttr(None)

    @property
    def path(self) -> Path | None:
        """The YAML file this config was read from, if any."""
        return self._path

    def table(self, name: str) -> TableConfig:
        """Settings of table ``name`` (defaults when the config does not mention it)."""
        return self.tables.get(name) or TableConfig()


# ---- interpolation -------------------------------------------------------------------------------------------
_VAR = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


def interpolate(
    value: Any, *, where: str = "config", env: typing.Mapping[str, str] | None = None, _path: str = ""
) -> Any:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in every string of a parsed YAML tree (``$$`` is a ``$``).

    Args:
        value: the parsed YAML (dicts, lists, scalars).
        where: name of the file, for messages.
        env: variables (default: ``os.environ``).

    Returns:
        A copy with the variables substituted.

    Raises:
        ConfigError: naming the key path and the variable when a variable without default is not set.
    """
    env = os.environ if env is None else env
    if isinstance(value, dict):
        return {
            k: interpolate(v, where=where, env=env, _path=f"{_path}.{k}" if _path else str(k))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [interpolate(v, where=where, env=env, _path=f"{_path}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name, default = m.group("name"), m.group("default")
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise ConfigError(
            f"{where}: {_path or '(top)'}: environment variable {name} is not set "
            f"(set it, or write ${{{name}:-default}})"
        )

    return _VAR.sub(sub, value)


# ---- loading -------------------------------------------------------------------------------------------------
def _unwrap(annotation: Any) -> Any:
    """The BaseModel or dict value type inside Optional[...] / X | None."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                return _unwrap(arg)
    return annotation


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The model class a pydantic error location points inside of (for the list of allowed keys)."""
    current: Any = Config
    for item in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next(
                (f for n, f in current.model_fields.items() if item in (n, f.alias)),
                None,
            )
            if field is None:
                return None
            current = _unwrap(field.annotation)
        elif typing.get_origin(current) is dict:
            current = _unwrap(typing.get_args(current)[1])
        elif typing.get_origin(current) is list and isinstance(item, int):
            current = _unwrap(typing.get_args(current)[0])
        else:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def _describe(where: str, err: typing.Mapping[str, Any]) -> str:
    loc = tuple(err["loc"])
    path = ".".join(str(p) for p in loc) or "(top)"
    if err["type"] == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = _keys(model) if model else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return f"{where}: {path}: unknown key ({hint}allowed: {', '.join(allowed)})"
    if err["type"] == "missing":
        return f"{where}: {path}: required key is missing"
    msg = err["msg"].removeprefix("Value error, ")
    return f"{where}: {path}: {msg}"


def parse_config(data: Any, *, where: str = "config", base_dir: str | Path | None = None) -> Config:
    """Validate an already parsed (and interpolated) YAML tree into a :class:`Config`.

    Args:
        data: the tree.
        where: name of the file, for messages.
        base_dir: directory relative paths are resolved against (default: the working directory).

    Returns:
        The config with URLs and paths resolved.

    Raises:
        ConfigError: one line naming the file, the key path, what is wrong and what is allowed.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: the file must hold a mapping of keys (source, target, model, ...)")
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise ConfigError(_describe(where, errors[0]) + more) from None
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    cfg.source.url = resolve_url(cfg.source.url, base)
    if cfg.target is not None:
        cfg.target.url = resolve_url(cfg.target.url, base)
    if cfg.model.path:
        cfg.model.path = str((base / cfg.model.path).resolve())
    if cfg.report is not None:
        if cfg.report.json_path:
            cfg.report.json_path = str((base / cfg.report.json_path).resolve())
        if cfg.report.quality:
            cfg.report.quality = str((base / cfg.report.quality).resolve())
    _check_synthesizer(cfg, where)
    return cfg


def _check_synthesizer(cfg: Config, where: str) -> None:
    import importlib.util

    # every family is a class of dbsynth.synthesizers (the pipeline's map names which one)
    module = {"hma": "dbsynth.synthesizers", "hsa": "dbsynth.synthesizers", "independent": "dbsynth.synthesizers"}
    if cfg.synthesizer == "hma":
        return  # the default engine; its absence is reported when a run needs it
    try:
        found = importlib.util.find_spec(module[cfg.synthesizer]) is not None
    except ImportError:
        found = False
    if not found:
        raise ConfigError(f"{where}: synthesizer: '{cfg.synthesizer}' is not available in this version (use hma)")


def load_config(path: str | Path, *, env: typing.Mapping[str, str] | None = None) -> Config:
    """Read, interpolate and validate a YAML config file.

    Args:
        path: the YAML file.
        env: variables for ``${VAR}`` (default: ``os.environ``).

    Returns:
        The validated :class:`Config`; relative paths are resolved against the file's directory.

    Raises:
        ConfigError: when the file is missing, not YAML, or invalid (one line naming the key path).
    """
    path = Path(path)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the config file ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        # the byte itself stays out of the message: a config may hold a secret next to it
        raise ConfigError(
            f"{where}: not UTF-8 text at byte {exc.start} (save the file as UTF-8)"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{where}: not valid YAML{at}: {problem}") from None
    data = interpolate(data, where=where, env=env)
    cfg = parse_config(data, where=where, base_dir=path.resolve().parent)
    cfg._path = path.resolve()
    return cfg


def check_against(cfg: Config, metadata: Any) -> None:
    """Check that the tables and columns the config names exist in ``metadata``.

    Args:
        cfg: the config.
        metadata: the source's :class:`~dbsynth.metadata.Metadata`.

    Raises:
        ConfigError: naming the unknown table or column, with a did-you-mean suggestion.
    """
    where = str(cfg.path) if cfg.path else "config"
    known = list(metadata.tables)
    resolve_table_names(cfg, metadata)
    for name, tcfg in cfg.tables.items():
        if name not in metadata.tables:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(known)})"
            raise ConfigError(f"{where}: tables.{name}: no such table in the source{hint}")
        table = metadata.tables[name]
        for col in tcfg.columns:
            if not table.has_column(col):
                close = difflib.get_close_matches(col, table.column_names, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ConfigError(f"{where}: tables.{name}.columns.{col}: no such column in the source{hint}")
            pii = tcfg.columns[col].pii
            if pii is not None:
                _check_provider(pii.provider, pii.locale, f"{where}: tables.{name}.columns.{col}.pii")


def table_key(name: str, metadata: Any, *, key: str = "tables") -> str | None:
    """The metadata key of the table a config names: itself, ``schema.table``, or a bare name unique across
    the schemas read.

    Args:
        name: the name as the config writes it.
        metadata: the source's :class:`~dbsynth.metadata.Metadata`.
        key: the config key path, for the message.

    Returns:
        The key in ``metadata.tables``, or None when no table has that name (the caller says so).

    Raises:
        ConfigError: a bare name held by tables of several schemas (one line naming them).
    """
    if name in metadata.tables:
        return name
    bare: dict[str, list[str]] = {}
    qualified: dict[str, str] = {}
    for k, table in metadata.tables.items():
        sch = getattr(table, "schema", None)
        own = k[len(sch) + 1 :] if sch and k.startswith(f"{sch}.") else k
        bare.setdefault(own, []).append(k)
        if sch:
            qualified[f"{sch}.{own}"] = k  # schema.table names the table in a one-schema run too
    if name in qualified:
        return qualified[name]
    found = bare.get(name, [])
    if len(found) > 1:
        raise ConfigError(
            f"{key}.{name}: table '{name}' is in several schemas ({', '.join(sorted(found))}): "
            "write it as schema.table"
        )
    return found[0] if found else None


def resolve_table_names(cfg: Config, metadata: Any) -> None:
    """Rewrite the keys of ``cfg.tables`` to the metadata's table names (see :func:`table_key`), in place, so
    every later stage looks a table up by one name. Unknown names are left for :func:`check_against`.

    Raises:
        ConfigError: a bare name in several schemas, or one table named twice (bare and qualified).
    """
    where = str(cfg.path) if cfg.path else "config"
    out: dict[str, TableConfig] = {}
    said: dict[str, str] = {}
    for name, tcfg in cfg.tables.items():
        resolved = table_key(name, metadata, key=f"{where}: tables") or name
        if resolved in out:
            raise ConfigError(
                f"{where}: tables.{name}: names the same table as tables.{said[resolved]} ({resolved}): "
                "keep one of the two"
            )
        out[resolved], said[resolved] = tcfg, name
    cfg.tables = out


def _check_provider(provider: str, locale: str | None, key: str) -> None:
    """Refuse a Faker provider or locale that does not exist (found before the fit, not after)."""
    from faker import Faker

    from .metadata import sdtypes as st

    try:
        fake = Faker(locale) if locale else Faker()
    except AttributeError:
        raise ConfigError(f"{key}.locale: unknown Faker locale '{locale}' (e.g. en_US, fr_FR, de_DE)") from None
    if provider not in st.PII_KINDS and not callable(getattr(fake, provider, None)):
        close = difflib.get_close_matches(provider, list(st.PII_KINDS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ConfigError(f"{key}.provider: '{provider}' is not a Faker provider{hint}")
