"""`dbsynth run/fit/sample/validate-config` end to end on the embedded Chinook SQLite (no server needed)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml

import dbsynth.cli as cli

pytest.importorskip("dbsynth.synthesizers")


def _config(tmp_path: Path, **overrides) -> Path:
    """A config reading builtin:chinook into tmp_path/out.sqlite, with top-level keys replaced."""
    data = {
        "source": {"url": "builtin:chinook"},
        "target": {"url": "sqlite:///out.sqlite", "mode": "replace"},
        "model": {"path": None},
        "seed": 1,
        "report": {"json": "run.json"},
    }
    data.update(overrides)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _bad(capsys, argv: list[str]) -> str:
    assert cli.run_cli(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


def _rows(db: Path, sql: str):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_dry_run_prints_plan_and_writes_nothing(tmp_path, capsys):
    cfg = _config(tmp_path, tables={"Genre": {"mode": "copy"}, "Artist": {"rows": 10}, "Playlist": {"mode": "skip"}})
    assert cli.run_cli(["run", "--config", str(cfg), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "fit (no model path configured)" in out
    assert "Artist" in out and "10 rows (source 275)" in out
    assert "Playlist" in out and "skip" in out
    assert "Employee(ReportsTo) -> Employee(EmployeeId): filled after insert" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


def test_run_applies_modes_and_column_overrides(tmp_path, capsys):
    tables = {
        "Genre": {"mode": "copy"},
        "Artist": {"rows": 30},
        "Playlist": {"mode": "skip"},
        "PlaylistTrack": {"mode": "empty"},
        "Customer": {
            "columns": {
                "Fax": {"null": True},
                "Company": {"exclude": True},
                "Email": {"pii": "email"},
                "City": {"pii": "color_name"},
            }
        },
        "Invoice": {"columns": {"BillingCountry": {"constant": "Atlantis"}}},
        "Track": {"columns": {"Milliseconds": {"distribution": "uniform"}}},
    }
    assert cli.run_cli(["run", "--config", str(_config(tmp_path, tables=tables))]) == 0
    db = tmp_path / "out.sqlite"
    tables_in_db = {r[0] for r in _rows(db, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert "Playlist" not in tables_in_db and "PlaylistTrack" in tables_in_db
    assert _rows(db, "SELECT count(*) FROM PlaylistTrack") == [(0,)]
    assert _rows(db, "SELECT count(*) FROM Artist") == [(30,)]
    with sqlite3.connect(dbsynth_chinook()) as real:
        assert _rows(db, "SELECT GenreId, Name FROM Genre ORDER BY 1") == real.execute(
            "SELECT GenreId, Name FROM Genre ORDER BY 1"
        ).fetchall()
    assert _rows(db, "SELECT count(*) FROM Track WHERE GenreId NOT IN (SELECT GenreId FROM Genre)") == [(0,)]
    assert _rows(db, "SELECT count(Fax), count(*) > 0 FROM Customer")[0] == (0, 1)
    assert "Company" not in [r[1] for r in _rows(db, "PRAGMA table_info(Customer)")]
    assert _rows(db, "SELECT DISTINCT BillingCountry FROM Invoice") == [("Atlantis",)]
    assert all("@" in e for (e,) in _rows(db, "SELECT Email FROM Customer"))
    from faker.providers.color.en_US import Provider as Colors

    assert {c for (c,) in _rows(db, "SELECT DISTINCT City FROM Customer")} <= set(Colors.all_colors)
    report = json.loads((tmp_path / "run.json").read_text())
    assert report["refit"] is True and report["tables"]["Artist"] == 30 and report["modes"]["Genre"] == "copy"
    assert "dbsynth run" in capsys.readouterr().out


def dbsynth_chinook() -> Path:
    from dbsynth.config import resolve_url

    return Path(resolve_url("builtin:chinook").removeprefix("sqlite:///"))


def test_sample_to_csv_files_needs_a_model_file(tmp_path, capsys):
    err = _bad(capsys, ["sample", "--config", str(_config(tmp_path)), "--out", str(tmp_path / "csv")])
    assert "model file" in err and "dbsynth fit" in err


def test_validate_config(tmp_path, capsys):
    assert cli.run_cli(["validate-config", "--config", str(_config(tmp_path))]) == 0
    assert ": ok" in capsys.readouterr().out


@pytest.mark.parametrize(
    "overrides,needle",
    [
        ({"tagret": {}}, "unknown key (did you mean 'target'?"),
        ({"seed": "many"}, "seed: Input should be a valid integer"),
        ({"target": {"url": "${NO_SUCH_VAR_DBSYNTH}"}}, "environment variable NO_SUCH_VAR_DBSYNTH is not set"),
        ({"tables": {"Custmer": {}}}, "tables.Custmer: no such table in the source (did you mean 'Customer'?)"),
        (
            {"tables": {"Customer": {"columns": {"Emial": {"null": True}}}}},
            "no such column in the source (did you mean 'Email'?)",
        ),
        ({"tables": {"Artist": {"mode": "empty"}}}, "NOT NULL foreign key"),
        ({"tables": {"Album": {"columns": {"Title": {"exclude": True}}}}}, "NOT NULL without a default"),
        ({"tables": {"Album": {"rows": 5}}}, "only root tables"),
        ({"target": {"url": "sqlite:///{package}/data/chinook.sqlite"}}, "is the source database"),
        ({"memory_limit": "16MB"}, "memory_limit 16 MB is too small for one batch of table"),
        ({"memory_limit": "lots"}, "memory_limit: 'lots' is not a size"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, overrides, needle):
    err = _bad(capsys, ["run", "--config", str(_config(tmp_path, **overrides))])
    assert needle in err
    assert not (tmp_path / "out.sqlite").exists()


def test_unreachable_source_exits_2(tmp_path, capsys):
    cfg = _config(tmp_path, source={"url": "postgresql+psycopg://u:secret@127.0.0.1:1/nowhere"})
    err = _bad(capsys, ["run", "--config", str(cfg)])
    assert "secret" not in err


def test_missing_config_file_exits_2(tmp_path, capsys):
    assert "cannot read the config file" in _bad(capsys, ["validate-config", "--config", str(tmp_path / "nope.yaml")])


def test_json_log_format_for_schedulers(tmp_path, capsys):
    cfg = _config(tmp_path, tables={"Artist": {"rows": 5}})
    assert cli.run_cli(["--log-format", "json", "run", "--config", str(cfg)]) == 0
    captured = capsys.readouterr()
    done = json.loads(captured.out.strip().splitlines()[-1])
    assert done["event"] == "done" and done["command"] == "run" and done["tables"]["Artist"] == 5
    events = [json.loads(line) for line in captured.err.splitlines() if line.startswith("{")]
    assert {"fit", "sample", "write"} <= {e["event"] for e in events}


def test_run_writes_the_quality_report(tmp_path, capsys):
    report = {"json": "run.json", "quality": "quality", "fail_under": 0.2, "fail_under_properties": {"validity": 1.0}}
    tables = {
        "Genre": {"mode": "copy"},
        "Playlist": {"mode": "skip"},
        "Invoice": {"columns": {"BillingCountry": {"constant": "X"}}},
    }
    cfg = _config(tmp_path, report=report, tables=tables)
    assert cli.run_cli(["run", "--config", str(cfg)]) == 0, capsys.readouterr().err
    quality = json.loads((tmp_path / "quality" / "report.json").read_text())
    # A constant from the config is not the model's work: scored with the generated columns, not the shapes.
    by_column = {(s["table"], tuple(s["columns"])): s["property"] for s in quality["scores"]}
    assert by_column[("Invoice", ("BillingCountry",))] == "generated_columns"
    # A copy of a generated column (the billing city is the customer's Faker-made city in every real row, a rule
    # the clone keeps) is generated too; a modelled column stays with the shapes.
    assert by_column[("Invoice", ("BillingCity",))] == "generated_columns"
    assert by_column[("Invoice", ("Total",))] == "column_shapes"
    # Synthesized tables only: the copied Genre is real rows, the skipped Playlist is not written.
    assert "Invoice" in quality["tables"] and "Genre" not in quality["tables"] and "Playlist" not in quality["tables"]
    assert quality["properties"]["validity"] == 1.0
    page = (tmp_path / "quality" / "report.html").read_text()
    assert 'id="summary"' in page and page.count("data:image/png;base64,") >= 3
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["quality"]["overall"] == quality["overall"]
    assert run["quality"]["html"] == str(tmp_path / "quality" / "report.html")
    assert "report" in run["seconds"]


def test_run_under_fail_under_exits_one_after_writing(tmp_path, capsys):
    report = {"json": "run.json", "quality": "quality", "fail_under_properties": {"column_shapes": 0.999}}
    assert cli.run_cli(["run", "--config", str(_config(tmp_path, report=report))]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]  # progress aside
    assert len(err) == 1
    err = err[0]
    assert "column_shapes" in err and "under report.fail_under_properties 99.9%" in err and "was written anyway" in err
    assert _rows(tmp_path / "out.sqlite", "SELECT count(*) > 0 FROM Invoice") == [(1,)]  # the target is there
    assert (tmp_path / "quality" / "report.html").exists() and (tmp_path / "run.json").exists()


def test_report_thresholds_are_checked_with_the_config(tmp_path, capsys):
    bad = _config(tmp_path, report={"quality": "q", "fail_under_properties": {"shapes": 0.8}})
    err = _bad(capsys, ["validate-config", "--config", str(bad)])
    assert "report.fail_under_properties: unknown property 'shapes'" in err
    bad = _config(tmp_path, report={"fail_under": 0.8})
    assert "need quality" in _bad(capsys, ["validate-config", "--config", str(bad)])
    bad = _config(tmp_path, report={"quality": "q", "fail_under": 1.5})
    assert "report.fail_under" in _bad(capsys, ["validate-config", "--config", str(bad)])


@pytest.mark.parametrize("kind", ["hsa", "independent"])
def test_run_with_segment_synthesizers(tmp_path, kind):
    import dbsynth

    tables = {"Track": {"columns": {"Milliseconds": {"distribution": "uniform"}}}}
    cfg = _config(tmp_path, synthesizer=kind, model={"path": "m.zip"}, tables=tables)
    assert cli.run_cli(["run", "--config", str(cfg)]) == 0
    db = tmp_path / "out.sqlite"
    assert _rows(db, "SELECT count(*) FROM Track WHERE AlbumId NOT IN (SELECT AlbumId FROM Album)") == [(0,)]
    orphans = "SELECT count(*) FROM InvoiceLine WHERE InvoiceId NOT IN (SELECT InvoiceId FROM Invoice)"
    assert _rows(db, orphans) == [(0,)]
    assert _rows(db, "SELECT count(*) > 0 FROM InvoiceLine") == [(1,)]
    model = dbsynth.load_synthesizer(tmp_path / "m.zip")
    assert type(model).__name__ == {"hsa": "HSASynthesizer", "independent": "IndependentSynthesizer"}[kind]
    ms = model.get_learned_distributions("Track")["Milliseconds"]
    parts = [c for c in ms["components"] if c] if ms["family"] == "mixture" else [ms]
    assert parts and {c["family"] for c in parts} <= {"uniform", "constant"}  # the column override reached it


def test_changing_the_synthesizer_refits_the_saved_model(tmp_path):
    import dbsynth

    first = dbsynth.run(_config(tmp_path, model={"path": "m.zip"}))
    assert first.refit
    target = {"url": "sqlite:///out.sqlite", "mode": "replace"}
    again = dbsynth.run(_config(tmp_path, model={"path": "m.zip"}, target=target))
    assert not again.refit and again.refit_reason == "schema unchanged"
    switched = dbsynth.run(_config(tmp_path, model={"path": "m.zip"}, synthesizer="independent"))
    assert switched.refit and switched.refit_reason == "synthesizer changed to independent"
    assert type(dbsynth.load_synthesizer(tmp_path / "m.zip")).__name__ == "IndependentSynthesizer"


def test_pii_in_another_locale_comes_from_that_locale(tmp_path):
    from faker.providers.address.de_DE import Provider as German

    tables = {"Invoice": {"columns": {"BillingCity": {"pii": {"provider": "city", "locale": "de_DE"}}}}}
    assert cli.run_cli(["run", "--config", str(_config(tmp_path, tables=tables))]) == 0
    cities = [c for (c,) in _rows(tmp_path / "out.sqlite", "SELECT BillingCity FROM Invoice")]
    assert len(cities) > 300 and set(cities) <= set(German.cities)
    assert len(set(cities)) > 100  # drawn from the pool, not one value repeated
