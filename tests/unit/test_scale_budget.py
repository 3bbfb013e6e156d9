"""Scale against rows, memory and disk, checked before anything is fitted or sampled (issue 14, item 7):
``scale: 1e12`` grew to 23.6 GB until the OOM killer ended it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import dbsynth.cli as cli
import dbsynth.pipeline as pipeline
from dbsynth.memory import estimate_output, plan_memory

pytest.importorskip("dbsynth.synthesizers")


def _config(tmp_path: Path, **top) -> Path:
    data = {"source": {"url": "builtin:chinook"}, "target": {"url": "sqlite:///out.sqlite", "mode": "replace"},
            "model": {"path": None}, "seed": 1, **top}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _bad(capsys, argv) -> str:
    assert cli.run_cli(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("scale", [".inf", "-.inf", ".nan", "-1", "0", "1e400"])
def test_invalid_scales_are_config_errors(tmp_path, capsys, scale):
    path = tmp_path / "c.yaml"
    path.write_text(f"source: {{url: builtin:chinook}}\nscale: {scale}\n")
    assert "scale" in _bad(capsys, ["validate-config", "-c", str(path)])


def _cli_bounded(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess:
    """The CLI in a subprocess capped at 3 GB of address space and 90 s: without the check, these runs grew
    until the machine's OOM killer ended them."""
    import resource

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    return subprocess.run([sys.executable, "-m", "dbsynth", *argv], capture_output=True, text=True, timeout=90,
                          cwd=tmp_path, preexec_fn=cap)


def test_huge_scale_is_refused_in_one_line_before_the_fit(tmp_path):
    proc = _cli_bounded(tmp_path, "run", "-c", str(_config(tmp_path, scale=1e12)))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "max_rows" in proc.stderr and "--force" in proc.stderr
    assert "fit " not in proc.stderr and not (tmp_path / "out.sqlite").exists()


def test_force_lifts_max_rows_but_not_the_memory_budget(tmp_path):
    proc = _cli_bounded(tmp_path, "run", "-c", str(_config(tmp_path, scale=1e12)), "--force")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "memory_limit" in proc.stderr and "Lower scale to about" in proc.stderr
    assert not (tmp_path / "out.sqlite").exists()


def test_max_rows_is_configurable(tmp_path, capsys):
    err = _bad(capsys, ["run", "-c", str(_config(tmp_path, max_rows=1000))])
    assert "max_rows of 1,000" in err
    assert cli.run_cli(["-q", "run", "-c", str(_config(tmp_path, max_rows=10**6, scale=0.2))]) == 0


def test_a_full_disk_is_refused_before_sampling(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(pipeline, "_free_bytes", lambda path: 10_000)
    err = _bad(capsys, ["run", "-c", str(_config(tmp_path, scale=0.5))])
    assert "on disk" in err and "out.sqlite" in err and "9.8 KB free" in err
    assert not (tmp_path / "out.sqlite").exists()


def test_sample_out_checks_the_disk_of_the_directory(tmp_path, capsys, monkeypatch):
    cfg = _config(tmp_path, model={"path": "m.zip"}, scale=0.2)
    assert cli.run_cli(["-q", "fit", "-c", str(cfg)]) == 0
    seen = []
    monkeypatch.setattr(pipeline, "_free_bytes", lambda path: seen.append(path) or 100)
    err = _bad(capsys, ["sample", "-c", str(cfg), "--out", str(tmp_path / "csv")])
    assert "on disk" in err and seen == [tmp_path / "csv"]
    assert not (tmp_path / "csv").exists()


def test_estimate_grows_with_the_rows_and_with_what_is_held_whole():
    from dbsynth.config import resolve_url
    from dbsynth.reflect import reflect

    md = reflect(resolve_url("builtin:chinook"))
    plan = plan_memory("1GB", md)
    rows = {t.name: float(t.row_count) for t in md}
    one = estimate_output(plan, md, rows)
    ten = estimate_output(plan, md, {k: 10 * v for k, v in rows.items()})
    assert one.held_bytes > 0 and ten.held_bytes == pytest.approx(10 * one.held_bytes)
    assert ten.disk_bytes == pytest.approx(10 * one.disk_bytes)
    held_all = estimate_output(plan, md, rows, whole="all").held_bytes
    assert held_all > estimate_output(plan, md, rows, whole="table").held_bytes > one.held_bytes
    # Track is referenced by InvoiceLine and PlaylistTrack: its keys are what the HMA keeps per row
    assert one.heaviest in {"Track", "PlaylistTrack", "InvoiceLine"}
