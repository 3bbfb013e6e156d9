"""Config files: validation with one-line errors, interpolation, path resolution, the shipped example."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbsynth.config import Config, check_against, interpolate, load_config, parse_config, resolve_url
from dbsynth.errors import ConfigError
from dbsynth.metadata import Column, Metadata, Table

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.yaml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def _error(tmp_path: Path, text: str, env=None) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text), env=env or {})
    msg = str(info.value)
    assert "\n" not in msg
    return msg


def test_example_config_loads_with_paths_next_to_it():
    cfg = load_config(EXAMPLE, env={})
    assert cfg.source.url.endswith("dbsynth/data/chinook.sqlite")
    assert Path(cfg.source.url.removeprefix("sqlite:///")).exists()
    assert cfg.target.url == f"sqlite:///{EXAMPLE.parent / 'chinook.synth.sqlite'}"
    assert cfg.model.path == str(EXAMPLE.parent / "chinook.model.zip")
    assert cfg.table("Genre").mode == "copy"
    assert cfg.table("Customer").columns["Fax"].overrides() == ["null"]  # unquoted YAML `null:` key
    assert cfg.table("Customer").columns["Email"].pii.provider == "email"
    assert cfg.table("NotListed").mode == "synthesize"


def test_unknown_key_names_path_and_suggests(tmp_path):
    msg = _error(tmp_path, "source: {url: 'sqlite:///a.db'}\ntarget: {url: 'sqlite:///b.db', mdoe: replace}\n")
    assert msg.startswith(str(tmp_path / "c.yaml"))
    assert "target.mdoe: unknown key (did you mean 'mode'?" in msg


def test_unknown_nested_column_key_suggests(tmp_path):
    msg = _error(tmp_path, "source: {url: x}\ntables: {t: {columns: {c: {constnat: 1}}}}\n")
    assert "tables.t.columns.c.constnat" in msg and "did you mean 'constant'" in msg


def test_wrong_type_and_wrong_choice(tmp_path):
    assert "seed: Input should be a valid integer" in _error(tmp_path, "source: {url: x}\nseed: lots\n")
    msg = _error(tmp_path, "source: {url: x}\ntables: {t: {mode: clone}}\n")
    assert "tables.t.mode" in msg and "'copy'" in msg


def test_two_overrides_on_one_column_refused(tmp_path):
    msg = _error(tmp_path, "source: {url: x}\ntables: {t: {columns: {c: {constant: 1, exclude: true}}}}\n")
    assert "only one of" in msg


def test_missing_source_and_bad_yaml(tmp_path):
    assert "source: required key is missing" in _error(tmp_path, "seed: 1\n")
    assert "not valid YAML at line 3" in _error(tmp_path, "source:\n  url: [unclosed\n")


def test_env_interpolation_with_default_and_escape(tmp_path):
    path = _write(tmp_path, "source: {url: '${SRC}'}\nseed: ${SEED:-7}\nlocales: ['$${X}']\n")
    cfg = load_config(path, env={"SRC": "postgresql://u:pw@h/db"})
    assert cfg.source.url == "postgresql://u:pw@h/db"
    assert cfg.seed == 7
    assert cfg.locales == ["${X}"]


def test_missing_env_variable_names_it_and_the_key(tmp_path):
    msg = _error(tmp_path, "source: {url: 'postgresql://u:${PGPASS}@h/db'}\n")
    assert "source.url: environment variable PGPASS is not set" in msg


def test_interpolate_leaves_non_strings():
    assert interpolate({"a": [1, "${A}"], "b": None}, env={"A": "x"}) == {"a": [1, "x"], "b": None}


def test_resolve_url_forms(tmp_path):
    assert resolve_url("builtin:chinook").endswith("/dbsynth/data/chinook.sqlite")
    assert resolve_url("sqlite:///{package}/data/chinook.sqlite") == resolve_url("builtin:chinook")
    assert resolve_url("sqlite:///x.db", tmp_path) == f"sqlite:///{tmp_path / 'x.db'}"
    assert resolve_url("sqlite:////abs/x.db", tmp_path) == "sqlite:////abs/x.db"
    assert resolve_url("postgresql://h/db", tmp_path) == "postgresql://h/db"
    with pytest.raises(ConfigError, match="builtin:chinook"):
        resolve_url("builtin:nope")


def test_every_synthesizer_is_accepted_and_others_are_config_errors():
    for kind in ("hma", "hsa", "independent"):
        assert parse_config({"source": {"url": "x"}, "synthesizer": kind}).synthesizer == kind
    with pytest.raises(ConfigError, match="synthesizer"):
        parse_config({"source": {"url": "x"}, "synthesizer": "ctgan"})


def test_check_against_metadata_suggests_table_and_column():
    md = Metadata(tables={"Customer": Table("Customer", columns=[Column("Email")])})
    with pytest.raises(ConfigError, match="tables.Custmer: no such table in the source \\(did you mean 'Customer'"):
        check_against(parse_config({"source": {"url": "x"}, "tables": {"Custmer": {}}}), md)
    with pytest.raises(ConfigError, match="tables.Customer.columns.Emial: no such column.*'Email'"):
        tables = {"Customer": {"columns": {"Emial": {"null": True}}}}
        check_against(parse_config({"source": {"url": "x"}, "tables": tables}), md)
    check_against(parse_config({"source": {"url": "x"}, "tables": {"Customer": {}}}), md)


def test_config_built_in_code_has_no_path():
    assert Config.model_validate({"source": {"url": "x"}}).path is None


def test_check_against_refuses_unknown_faker_provider_and_locale():
    md = Metadata(tables={"Customer": Table("Customer", columns=[Column("Email")])})

    def cfg(pii):
        return parse_config({"source": {"url": "x"}, "tables": {"Customer": {"columns": {"Email": {"pii": pii}}}}})

    with pytest.raises(ConfigError, match="pii.provider: 'emial' is not a Faker provider \\(did you mean 'email'"):
        check_against(cfg("emial"), md)
    with pytest.raises(ConfigError, match="pii.locale: unknown Faker locale 'xx_YY'"):
        check_against(cfg({"provider": "email", "locale": "xx_YY"}), md)
    check_against(cfg({"provider": "free_email", "locale": "fr_FR"}), md)  # any Faker method is fine
