"""Typed table models (dbsynth.model.records): every record survives to_dict / from_dict, loading is strict
(an unknown key or another format version is refused naming the table), and model files go through them."""

from __future__ import annotations

import copy
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dbsynth.errors import ModelFileError
from dbsynth.model.records import (
    MODEL_FORMAT_VERSION,
    CountHistogram,
    DeferredSpec,
    HMALink,
    HMAOtherLink,
    HMATableModel,
    SegmentLink,
    SegmentOtherLink,
    SegmentTableModel,
    table_model_from_dict,
)
from dbsynth.synthesizers import HMASynthesizer, HSASynthesizer, load_synthesizer

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is not a package: share the demo helpers by path
from test_hma_demo import demo_metadata, demo_tables


def _plain(d):
    """A dict form with arrays as lists, comparable with ==."""
    return json.loads(json.dumps(d, default=lambda o: o.tolist()))


def _hist() -> CountHistogram:
    return CountHistogram(values=[0, 1, 3], weights=[0.25, 0.5, 0.25])


def _deferred() -> dict[str, DeferredSpec]:
    return {
        "boss": DeferredSpec(parent="emp", null_share=0.1,
                             tree={"max_depth": 2, "fanout": [{"values": [1, 2], "weights": [0.5, 0.5]}]}),
        "mgr": DeferredSpec(parent="store", null_share=0.0, count_max=1, closed_share=0.75),
    }


def _hma_model() -> HMATableModel:
    return HMATableModel(
        n_rows=10, generators={"id": {"kind": "key"}},
        link=HMALink(parent="p", edge="p_fk", n_linked=8, orphans=2, count_min=0, count_max=3, passed=[0, 1],
                     resid_cov=np.eye(2), counts=_hist()),
        others={"q_fk": HMAOtherLink(parent="q", null_share=0.2, count_min=0, count_max=4, counts=_hist())},
        deferred=_deferred(),
        transforms={"x": {"kind": "numerical"}}, columns=["x", "__n__c"], n_own=1,
        marginals=[{"family": "norm"}, {"family": "norm"}], corr=np.eye(2),
    )


def _segment_model() -> SegmentTableModel:
    return SegmentTableModel(
        n_rows=10, generators={},
        link=SegmentLink(parent="p", edge="p_fk", n_linked=8, orphans=2, count_min=0, count_max=3,
                         counts=[_hist(), _hist()], child_segments=np.full((2, 3), 1 / 3),
                         orphan_segments=np.array([0.5, 0.25, 0.25])),
        others={"q_fk": SegmentOtherLink(parent="q", null_share=0.2, count_min=0, count_max=4, counts=[_hist()])},
        deferred=_deferred(),
        modelled=["x"], segment_models=[{"n_rows": 4}, {"n_rows": 3}, {"n_rows": 3}],
        segment_weights=np.array([0.4, 0.3, 0.3]),
    )


@pytest.mark.parametrize("make", [_hma_model, _segment_model])
def test_table_models_round_trip(make):
    model = make()
    d = model.to_dict()
    assert d["model_version"] == MODEL_FORMAT_VERSION
    back = table_model_from_dict(copy.deepcopy(d), "t")
    assert type(back) is type(model)
    assert type(back.link) is type(model.link)
    assert {k: type(v) for k, v in back.others.items()} == {k: type(v) for k, v in model.others.items()}
    assert back.deferred == model.deferred  # no arrays inside: records compare field by field
    assert _plain(back.to_dict()) == _plain(d)


def test_leaf_records_round_trip():
    assert CountHistogram.from_dict(_hist().to_dict(), "t") == _hist()
    for spec in _deferred().values():
        assert DeferredSpec.from_dict(spec.to_dict(), "t") == spec
    other = HMAOtherLink(parent="q", null_share=0.5, count_min=1, count_max=2)  # no histogram: left out
    assert "counts" not in other.to_dict() and HMAOtherLink.from_dict(other.to_dict(), "t") == other
    seg = SegmentOtherLink(parent="q", null_share=0.5, count_min=1, count_max=2, counts=[_hist()])
    assert SegmentOtherLink.from_dict(seg.to_dict(), "t") == seg


@pytest.mark.parametrize("cls", [HMASynthesizer, HSASynthesizer])
def test_fitted_models_are_records_and_round_trip(cls):
    syn = cls(demo_metadata(), seed=2, verbose=False).fit(demo_tables())
    expected = HMATableModel if cls is HMASynthesizer else SegmentTableModel
    for t, m in syn.fitted_models().items():
        assert type(m) is expected
        assert _plain(table_model_from_dict(m.to_dict(), t).to_dict()) == _plain(m.to_dict())


@pytest.mark.parametrize("where", ["top", "link", "others", "deferred", "histogram"])
@pytest.mark.parametrize("make", [_hma_model, _segment_model])
def test_an_unknown_key_is_refused_naming_the_table(make, where):
    d = make().to_dict()
    target = {"top": d, "link": d["link"], "others": d["others"]["q_fk"], "deferred": d["deferred"]["mgr"],
              "histogram": d["others"]["q_fk"]["counts"] if make is _hma_model else d["others"]["q_fk"]["counts"][0]}
    target[where]["surprise"] = 1
    with pytest.raises(ModelFileError, match=r"table 'orders'.*surprise"):
        table_model_from_dict(d, "orders")


@pytest.mark.parametrize("version", [MODEL_FORMAT_VERSION + 1, 0, "1", True])
@pytest.mark.parametrize("make", [_hma_model, _segment_model])
def test_another_format_version_is_refused_naming_the_table(make, version):
    d = make().to_dict()
    d["model_version"] = version
    with pytest.raises(ModelFileError, match=r"table 'orders'.*format version"):
        table_model_from_dict(d, "orders")


@pytest.mark.parametrize("make", [_hma_model, _segment_model])
def test_a_dict_without_version_is_the_layout_of_version_1(make):
    """Model files written before the records have no version key and the same layout: they still load."""
    d = make().to_dict()
    del d["model_version"]
    assert _plain(table_model_from_dict(d, "t").to_dict()) == _plain(make().to_dict())


def _rewrite(path: Path, edit) -> None:
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    doc = json.loads(members["model.json"])
    edit(doc)
    members["model.json"] = json.dumps(doc).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)


@pytest.mark.parametrize("cls", [HMASynthesizer, HSASynthesizer])
def test_model_files_store_versioned_records_and_load_strictly(cls, tmp_path):
    syn = cls(demo_metadata(), seed=2, verbose=False).fit(demo_tables())
    path = syn.save(tmp_path / "m.zip")
    loaded = load_synthesizer(path)
    assert {t: type(m) for t, m in loaded.fitted_models().items()} == {t: type(m) for t, m in
                                                                        syn.fitted_models().items()}
    for t, frame in syn.sample().items():
        assert frame.equals(loaded.sample()[t])

    bad = tmp_path / "bad.zip"
    bad.write_bytes(path.read_bytes())
    _rewrite(bad, lambda doc: doc["models"]["users"].update(extra=1))
    with pytest.raises(ModelFileError, match=r"table 'users'.*extra"):
        load_synthesizer(bad)
    bad.write_bytes(path.read_bytes())
    _rewrite(bad, lambda doc: doc["models"]["users"].update(model_version=MODEL_FORMAT_VERSION + 1))
    with pytest.raises(ModelFileError, match=r"table 'users'.*format version"):
        load_synthesizer(bad)
