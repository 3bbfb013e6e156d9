"""Model files: same sample after save and load in a fresh process; clear errors for bad files."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import dbsynth
from dbsynth.errors import ModelFileError
from dbsynth.synthesizers import HMA1, HMASynthesizer

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is not a package: share the demo helpers by path
from test_hma_demo import demo_metadata, demo_tables


def test_save_then_load_in_fresh_process_gives_same_sample(tmp_path):
    syn = HMASynthesizer(demo_metadata(), seed=11).fit(demo_tables())
    path = syn.save(tmp_path / "model.zip")
    expected = syn.sample(scale=3.0)
    script = (
        "import dbsynth, sys\n"
        f"s = dbsynth.load_synthesizer({str(path)!r})\n"
        "out = s.sample(scale=3.0)\n"
        f"for t, f in out.items(): f.to_pickle({str(tmp_path)!r} + '/' + t + '.pkl')\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    for t, frame in expected.items():
        pd.testing.assert_frame_equal(frame, pd.read_pickle(tmp_path / f"{t}.pkl"))
    loaded = dbsynth.load_synthesizer(path)
    assert loaded.get_parameters() == syn.get_parameters()
    assert set(loaded.get_learned_distributions("users")) == set(syn.get_learned_distributions("users"))


def test_hma1_load(tmp_path):
    m = HMA1(demo_metadata(), seed=2).fit(demo_tables())
    m.save(tmp_path / "m.zip")
    again = HMA1.load(tmp_path / "m.zip")
    assert isinstance(again, HMA1)
    pd.testing.assert_frame_equal(again.sample("users", num_rows=4, sample_children=False),
                                  m.sample("users", num_rows=4, sample_children=False))


def test_hma1_loads_an_hma_model_file_as_a_new_hma1(tmp_path):
    m = HMASynthesizer(demo_metadata(), seed=2, verbose=False).fit(demo_tables())
    m.save(tmp_path / "m.zip")
    again = HMA1.load(tmp_path / "m.zip")
    assert type(again) is HMA1 and type(HMASynthesizer.load(tmp_path / "m.zip")) is HMASynthesizer
    assert again.get_parameters() == m.get_parameters()
    pd.testing.assert_frame_equal(again.sample()["users"], m.sample()["users"])


def test_model_file_holds_no_source_rows(tmp_path):
    # the whole file (every member, strings and numbers) scanned for every value fewer than 5 rows hold
    from test_model_privacy import _leaks, _rare_values

    syn = HMASynthesizer(demo_metadata(), seed=1).fit(demo_tables())
    path = syn.save(tmp_path / "m.zip")
    texts, nums = _rare_values(demo_tables(), syn.metadata)
    assert texts and nums  # the demo has rare values to find
    assert _leaks(path, demo_tables(), syn.metadata) == []


def test_loaded_model_takes_a_new_seed(tmp_path):
    path = HMASynthesizer(demo_metadata(), seed=1).fit(demo_tables()).save(tmp_path / "m.zip")
    five = dbsynth.load_synthesizer(path, seed=5).sample(scale=1.0)
    six = dbsynth.load_synthesizer(path, seed=6).sample(scale=1.0)
    again = dbsynth.load_synthesizer(path, seed=5).sample(scale=1.0)
    assert not five["transactions"].equals(six["transactions"])
    for t in five:
        pd.testing.assert_frame_equal(five[t], again[t])
    # without a seed, the one it was saved with
    pd.testing.assert_frame_equal(dbsynth.load_synthesizer(path).sample(scale=1.0)["users"],
                                  dbsynth.load_synthesizer(path, seed=1).sample(scale=1.0)["users"])


def test_corrupted_foreign_and_newer_files_fail_clearly(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(ModelFileError, match="not a readable dbsynth model"):
        dbsynth.load_synthesizer(bad)
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(ModelFileError, match="not a dbsynth model file"):
        dbsynth.load_synthesizer(foreign)
    path = HMASynthesizer(demo_metadata(), seed=1).fit(demo_tables()).save(tmp_path / "m.zip")
    with zipfile.ZipFile(path) as zf:
        doc, npz = json.loads(zf.read("model.json")), zf.read("arrays.npz")
    doc["format_version"] = 99
    newer = tmp_path / "newer.zip"
    with zipfile.ZipFile(newer, "w") as zf:
        zf.writestr("model.json", json.dumps(doc))
        zf.writestr("arrays.npz", npz)
    with pytest.raises(ModelFileError, match="newer"):
        dbsynth.load_synthesizer(newer)
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ModelFileError):
        dbsynth.load_synthesizer(truncated)
