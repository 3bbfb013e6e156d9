"""Model files that would take unbounded memory or recursion are refused with one line, exit 2 (issue 14,
items 7 and 9): zip bombs, oversized arrays, deep JSON, format versions that are not integers >= 1."""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import dbsynth
from dbsynth import cli
from dbsynth.errors import BadInputError, ModelFileError
from dbsynth.model import store
from dbsynth.synthesizers import HMASynthesizer

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is not a package: share the demo helpers by path
from test_hma_demo import demo_metadata, demo_tables


@pytest.fixture(scope="module")
def model_parts(tmp_path_factory) -> tuple[dict, bytes]:
    path = HMASynthesizer(demo_metadata(), seed=1, verbose=False).fit(demo_tables()).save(
        tmp_path_factory.mktemp("m") / "m.zip")
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("model.json")), zf.read("arrays.npz")


def _write(path: Path, json_bytes: bytes, npz: bytes, compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        zf.writestr("model.json", json_bytes)
        zf.writestr("arrays.npz", npz)
    return path


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and isinstance(exc.value, BadInputError) and exc.value.exit_code == 2
    return text


def test_zip_bomb_is_refused_from_its_declared_size_before_inflating(tmp_path, model_parts, monkeypatch):
    doc, npz = model_parts
    padded = json.dumps(doc).encode() + b" " * (20 << 20)  # 20 MB of blanks: valid JSON, a ~20 kB member
    bomb = _write(tmp_path / "bomb.zip", padded, npz)
    assert bomb.stat().st_size < 1 << 20
    monkeypatch.setattr(store, "MAX_MODEL_BYTES", 8 << 20)
    read = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, *a, **k: read.append(a[0]) or real_open(self, *a, **k))
    with pytest.raises(ModelFileError) as exc:
        dbsynth.load_synthesizer(bomb)
    assert "limit" in _one_line(exc) and read == []  # refused before any member was opened
    monkeypatch.setattr(zipfile.ZipFile, "open", real_open)
    assert dbsynth.load_synthesizer(bomb, max_bytes=64 << 20).metadata.tables  # under a larger cap: fine


def test_member_inflating_past_its_declared_size_is_refused(tmp_path, model_parts):
    doc, npz = model_parts
    path = _write(tmp_path / "liar.zip", json.dumps(doc).encode() + b" " * (4 << 20), npz)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("model.json")
    small = (1000).to_bytes(4, "little")
    # the local header and the central directory both say 1000 bytes
    raw[info.header_offset + 22: info.header_offset + 26] = small
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        name_len = int.from_bytes(raw[at + 28: at + 30], "little")
        if raw[at + 46: at + 46 + name_len] == b"model.json":
            raw[at + 24: at + 28] = small
        at = raw.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError) as exc:
        dbsynth.load_synthesizer(path)
    _one_line(exc)


def _npz_with_header(shape, descr="<f8", payload=b"\0" * 64) -> bytes:
    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy, {"descr": descr, "fortran_order": False, "shape": shape})
    npy.write(payload)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("a0.npy", npy.getvalue())
    return out.getvalue()


def test_oversized_array_is_refused_from_its_header(tmp_path, model_parts):
    doc, _ = model_parts
    huge = _write(tmp_path / "huge.zip", json.dumps(doc).encode(), _npz_with_header((2**28,)))  # 2 GB of float64
    with pytest.raises(ModelFileError) as exc:
        dbsynth.load_synthesizer(huge)
    assert "array a0" in _one_line(exc) and "bytes" in str(exc.value)
    # what the header promises must also be in the member: 1000 float64 in 64 bytes is a damaged file
    short = _write(tmp_path / "short.zip", json.dumps(doc).encode(), _npz_with_header((1000,)))
    with pytest.raises(ModelFileError) as exc:
        dbsynth.load_synthesizer(short)
    _one_line(exc)
    pickled = _write(tmp_path / "pickled.zip", json.dumps(doc).encode(), _npz_with_header((2,), descr="|O"))
    with pytest.raises(ModelFileError):
        dbsynth.load_synthesizer(pickled)


@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_json_is_refused(tmp_path, model_parts, depth):
    _, npz = model_parts
    doc = ("[" * depth + "]" * depth).encode()
    path = _write(tmp_path / "deep.zip", doc, npz)
    with pytest.raises(ModelFileError) as exc:
        dbsynth.load_synthesizer(path)
    assert "nests deeper" in _one_line(exc)


@pytest.mark.parametrize(("version", "message"), [
    ("1", "must be an integer"), (True, "must be an integer"), (1.0, "must be an integer"),
    (None, "must be an integer"),
    (-5, "versions start at 1"), (0, "versions start at 1"), (99, "newer"),
])
def test_format_version_must_be_a_known_integer(tmp_path, model_parts, version, message):
    doc, npz = model_parts
    path = _write(tmp_path / "v.zip", json.dumps({**doc, "format_version": version}).encode(), npz)
    with pytest.raises(ModelFileError, match=message) as exc:
        dbsynth.load_synthesizer(path)
    assert "newer" not in _one_line(exc) or version == 99


def test_a_good_file_still_loads(tmp_path, model_parts):
    doc, npz = model_parts
    path = _write(tmp_path / "ok.zip", json.dumps(doc).encode(), npz)
    assert set(dbsynth.load_synthesizer(path).sample(scale=1.0)) == {"users", "sessions", "transactions"}


def test_cli_refuses_an_oversized_model_with_exit_2(tmp_path, model_parts, capsys):
    doc, _ = model_parts
    src = tmp_path / "src.sqlite"
    import sqlite3

    with sqlite3.connect(src) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v REAL)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, i * 0.5) for i in range(1, 30)])
    huge = _write(tmp_path / "huge.zip", json.dumps(doc).encode(), _npz_with_header((2**28,)))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"source: {{url: 'sqlite:///{src}'}}\ntarget: {{url: 'sqlite:///{tmp_path}/t.sqlite'}}\n"
                   f"model: {{path: '{huge}', refit: never}}\n")
    code = cli.run_cli(["--quiet", "sample", "--config", str(cfg), "--out", str(tmp_path / "csv")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert "array a0" in err and "unexpected" not in err
