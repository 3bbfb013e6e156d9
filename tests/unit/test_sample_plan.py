"""The sample plan (dbsynth.sample.plan) without a database: column overrides (constant, NULL, PII in another
locale), key maps of copied tables (one column and composite, across batches, cycled), references into empty
tables and into parents outside the cloned set NULLed, and what SamplePlan.build derives from the modes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dbsynth.metadata import Metadata
from dbsynth.metadata.records import Column, ForeignKey, Table, UniqueConstraint
from dbsynth.sample.plan import (
    ColumnOverride,
    KeyMap,
    OverrideKind,
    Reference,
    SamplePlan,
    TableMode,
    apply_overrides,
    empty_frame,
    learn_keys,
    null_references,
    remap_references,
    shape,
    shape_update,
)


def _schema() -> Metadata:
    """color (copy, one-column key), product (copy, composite key), shop (empty), item (synthesized) referring
    to all three and to region, which is not cloned."""
    color = Table("color", [Column("color_id", "integer", "id", nullable=False), Column("hue")], ["color_id"])
    product = Table("product", [Column("code", sdtype="id", nullable=False), Column("variant", sdtype="id",
                                                                                     nullable=False)],
                    ["code", "variant"])
    shop = Table("shop", [Column("shop_id", "integer", "id", nullable=False)], ["shop_id"])
    item = Table(
        "item",
        [Column("item_id", "integer", "id", nullable=False), Column("color_id", "integer", "id"),
         Column("code", sdtype="id"), Column("variant", sdtype="id"), Column("shop_id", "integer", "id"),
         Column("region_id", "integer", "numerical"), Column("zone_id", "integer", "numerical", nullable=False),
         Column("label"), Column("note"), Column("city", length=80), Column("email", length=80)],
        ["item_id"],
        foreign_keys=[ForeignKey(["color_id"], "color", ["color_id"]),
                      ForeignKey(["code", "variant"], "product", ["code", "variant"]),
                      ForeignKey(["shop_id"], "shop", ["shop_id"])],
        outside_foreign_keys=[ForeignKey(["region_id"], "region", ["region_id"]),
                              ForeignKey(["zone_id"], "zone", ["zone_id"])],
        unique_constraints=[UniqueConstraint(["email"])],
    )
    return Metadata({t.name: t for t in (color, product, shop, item)})


MODES = {"color": "copy", "product": "copy", "shop": "empty", "item": "synthesize"}


def _plan(overrides=None, seed=7) -> SamplePlan:
    return SamplePlan.build(_schema(), MODES, seed, overrides)


def _items(n: int, offset: int = 0) -> pd.DataFrame:
    i = np.arange(offset, offset + n)
    return pd.DataFrame({
        "item_id": i + 1, "color_id": i % 4 + 1, "code": [f"S{k % 3}" for k in i], "variant": ["a"] * n,
        "shop_id": i % 2 + 1, "region_id": i * 10, "zone_id": i * 100, "label": ["x"] * n, "note": ["y"] * n,
        "city": ["c"] * n, "email": ["e"] * n,
    })


# ---- what build derives ---------------------------------------------------------------------------------------
def test_build_plans_references_from_the_modes():
    plan = _plan()
    item = plan.tables["item"]
    assert [t.mode for t in plan.tables.values()] == [TableMode.COPY, TableMode.COPY, TableMode.EMPTY,
                                                      TableMode.SYNTHESIZE]
    # the empty parent and the nullable outside key are NULLed; the NOT NULL outside key keeps its values
    assert {r.parent for r in item.null_refs} == {"shop", "region"}
    assert item.copied_refs == [Reference(("color_id",), "color", ("color_id",)),
                                Reference(("code", "variant"), "product", ("code", "variant"))]
    assert plan.tables["color"].referenced_keys == [("color_id",)]
    assert plan.tables["product"].referenced_keys == [("code", "variant")]
    assert plan.tables_in(TableMode.COPY) == ["color", "product"]


def test_overrides_are_planned_for_synthesized_tables_only():
    md = _schema()
    plan = SamplePlan.build(md, {**MODES, "color": "copy"}, 1,
                            {"color": [ColumnOverride.constant("hue", "red")],
                             "item": [ColumnOverride.constant("label", None), ColumnOverride.null("note"),
                                      ColumnOverride.pii("city", "city", "ja_JP")]})
    assert plan.tables["color"].overrides == {}
    assert plan.tables["item"].fixed_columns == ["label", "note"]  # a constant None is still the config's value
    assert plan.tables["item"].overrides["city"].kind is OverrideKind.PII


# ---- column overrides -------------------------------------------------------------------------------------------
def test_constant_and_null_overrides():
    plan = _plan({"item": [ColumnOverride.constant("label", "fixed"), ColumnOverride.null("note")]})
    frame = _items(5)
    out = apply_overrides(frame, _schema().tables["item"], plan.tables["item"], plan.rng(), start=0)
    assert out["label"].tolist() == ["fixed"] * 5
    assert out["note"].isna().all()
    assert frame["label"].tolist() == ["x"] * 5 and frame["note"].tolist() == ["y"] * 5  # the input is kept
    assert out["city"].tolist() == ["c"] * 5  # other columns untouched


def test_pii_override_in_another_locale_numbers_unique_values_across_batches():
    md = _schema()
    plan = _plan({"item": [ColumnOverride.pii("city", "city", "ja_JP"), ColumnOverride.pii("email", "email", "de_DE")]})
    rng = plan.rng()
    first = apply_overrides(_items(4), md.tables["item"], plan.tables["item"], rng, start=0)
    second = apply_overrides(_items(3, 4), md.tables["item"], plan.tables["item"], rng, start=4)
    # Japanese city names: not the run's (en_US) generator
    assert all(any(ord(ch) > 0x3000 for ch in v) for v in first["city"])
    # email is unique: the numeric suffix continues from the rows of earlier batches
    suffixes = [int(v.split("@")[0].rsplit("+", 1)[1]) for v in pd.concat([first["email"], second["email"]])]
    assert suffixes == list(range(1, 8))
    assert apply_overrides(_items(0), md.tables["item"], plan.tables["item"], rng, start=7).empty


def test_pii_override_draws_from_the_run_stream():
    md = _schema()
    plan = _plan({"item": [ColumnOverride.pii("city", "city", "ja_JP")]})
    a = apply_overrides(_items(6), md.tables["item"], plan.tables["item"], plan.rng(), start=0)
    b = apply_overrides(_items(6), md.tables["item"], plan.tables["item"], plan.rng(), start=0)
    assert a["city"].tolist() == b["city"].tolist()


# ---- key maps of copied tables --------------------------------------------------------------------------------
def test_one_column_key_map_across_batches_is_a_cycled_permutation():
    real = pd.DataFrame({"color_id": [10, 20, 30, 40, 50]})
    key_map = KeyMap("color", ["color_id"], real)
    rng = np.random.default_rng(3)
    key_map.learn(pd.DataFrame({"color_id": [1, 2, 3]}), rng)
    key_map.learn(pd.DataFrame({"color_id": [4, 5, 6, 7, 2]}), rng)  # 2 again: keeps its real key
    assert len(key_map) == 7
    mapped = key_map.translate(pd.DataFrame({"c": [1, 2, 3, 4, 5, 6, 7]}))["c"].tolist()
    assert sorted(mapped[:5]) == [10, 20, 30, 40, 50]  # every real key once before any repeats
    assert mapped[5:] == mapped[:2]  # then cycled, in the same order
    out = key_map.translate(pd.DataFrame({"c": [2, 99, None]}))["c"]
    assert out.iloc[0] == mapped[1] and out.iloc[1:].isna().all()  # unknown or NULL: NULL


def test_key_map_before_any_batch_maps_to_null():
    key_map = KeyMap("color", ["color_id"], pd.DataFrame({"color_id": [10]}))
    assert key_map.translate(pd.DataFrame({"c": [1, 2]}))["c"].isna().all()


def test_composite_key_map_maps_whole_rows_across_batches():
    real = pd.DataFrame({"code": ["P1", "P1", "P2"], "variant": ["SM", "XL", "SM"], "title": ["a", "b", "c"]})
    key_map = KeyMap("product", ["code", "variant"], real)
    rng = np.random.default_rng(0)
    key_map.learn(pd.DataFrame({"code": ["S0", "S1"], "variant": ["a", "a"]}), rng)
    key_map.learn(pd.DataFrame({"code": ["S2", "S3", "S0"], "variant": ["a", "a", "a"]}), rng)
    assert len(key_map) == 4
    keys = pd.DataFrame({"c": ["S0", "S1", "S2", "S3", "S9"], "v": ["a"] * 5})
    out = key_map.translate(keys)
    rows = list(zip(out["c"], out["v"]))
    real_rows = set(zip(real["code"], real["variant"]))
    assert set(rows[:3]) == real_rows  # a permutation of the real key rows
    assert rows[3] == rows[0]  # cycled
    assert rows[4] == (None, None)  # not a sampled key
    assert list(out.columns) == ["c", "v"]


def test_shape_remaps_references_into_copied_tables_batch_by_batch():
    md = _schema()
    real_color = pd.DataFrame({"color_id": [101, 102, 103, 104], "hue": list("abcd")})
    real_product = pd.DataFrame({"code": ["P1", "P2", "P3"], "variant": ["SM", "SM", "XL"]})
    plan = _plan().with_real_rows({"color": real_color, "product": real_product})
    maps = plan.key_maps()
    rng = plan.rng()
    # the copied parents' sampled batches (keys 1..4, S0..S2) come before the children's
    learn_keys(pd.DataFrame({"color_id": [1, 2], "hue": ["x", "y"]}), plan.tables["color"], maps, rng)
    learn_keys(pd.DataFrame({"color_id": [3, 4], "hue": ["x", "y"]}), plan.tables["color"], maps, rng)
    learn_keys(pd.DataFrame({"code": ["S0", "S1", "S2"], "variant": ["a"] * 3}), plan.tables["product"], maps, rng)
    frames = [shape(_items(4), md.tables["item"], plan.tables["item"], maps, rng, 0),
              shape(_items(4, 4), md.tables["item"], plan.tables["item"], maps, rng, 4)]
    out = pd.concat(frames, ignore_index=True)
    assert set(out["color_id"]) == {101, 102, 103, 104}
    assert set(zip(out["code"], out["variant"])) == {("P1", "SM"), ("P2", "SM"), ("P3", "XL")}
    assert list(out.columns) == md.tables["item"].column_names
    # the same sampled parent key maps to the same real key in both batches
    assert out.groupby(_items(8)["color_id"])["color_id"].nunique().eq(1).all()


def test_remap_without_any_learned_parent_key_is_null():
    plan = _plan().with_real_rows({"color": pd.DataFrame({"color_id": [1]}),
                                   "product": pd.DataFrame({"code": ["P"], "variant": ["v"]})})
    out = remap_references(_items(3), plan.tables["item"], plan.key_maps())
    assert out["color_id"].isna().all() and out["code"].isna().all() and out["variant"].isna().all()
    assert out["item_id"].tolist() == [1, 2, 3]


def test_key_maps_need_the_real_rows():
    with pytest.raises(ValueError, match="real rows"):
        _plan().key_maps()


# ---- references NULLed ------------------------------------------------------------------------------------------
def test_references_into_empty_tables_and_outside_parents_are_null():
    plan = _plan()
    frame = _items(5)
    out = null_references(frame, plan.tables["item"])
    assert out["shop_id"].isna().all()  # shop is written empty
    assert out["region_id"].isna().all()  # region is not cloned and the key is nullable
    assert out["zone_id"].tolist() == frame["zone_id"].tolist()  # NOT NULL: kept as plain values
    assert out["color_id"].tolist() == frame["color_id"].tolist()
    assert frame["shop_id"].notna().all()  # the input is kept


def test_update_batches_are_shaped_like_the_rows_they_update():
    """An UPDATE of a synthesized table (primary key + deferred references) points where its rows point: into a
    copied table's real keys, NULL into an empty table; columns it does not carry are not added."""
    plan = _plan().with_real_rows({"color": pd.DataFrame({"color_id": [101, 102]}),
                                   "product": pd.DataFrame({"code": ["P"], "variant": ["v"]})})
    maps, rng = plan.key_maps(), plan.rng()
    learn_keys(pd.DataFrame({"color_id": [1, 2]}), plan.tables["color"], maps, rng)
    update = pd.DataFrame({"item_id": [1, 2, 3], "color_id": [1, 2, 1], "shop_id": [1, 1, 2]})
    out = shape_update(update, plan.tables["item"], maps)
    assert list(out.columns) == ["item_id", "color_id", "shop_id"]
    assert set(out["color_id"]) <= {101, 102} and out["color_id"].iloc[0] == out["color_id"].iloc[2]
    assert out["shop_id"].isna().all() and out["item_id"].tolist() == [1, 2, 3]


def test_the_engine_drops_updates_of_copied_tables_and_shapes_the_others():
    """A copied table's rows are the real ones: a sampled cycle update would overwrite their real references."""
    from dbsynth.batch import Batch, BatchKind
    from dbsynth.sample.engine import _PlanRun

    plan = _plan().with_real_rows({"color": pd.DataFrame({"color_id": [101, 102]}),
                                   "product": pd.DataFrame({"code": ["P"], "variant": ["v"]})})
    run = _PlanRun(plan)
    assert list(run.apply(Batch("color", pd.DataFrame({"color_id": [1], "hue": ["x"]}), BatchKind.UPDATE))) == []
    out = list(run.apply(Batch("item", pd.DataFrame({"item_id": [1], "shop_id": [1]}), BatchKind.UPDATE)))
    assert len(out) == 1 and out[0].is_update and out[0].frame["shop_id"].isna().all()


def test_empty_frame_has_the_table_columns():
    frame = empty_frame(_schema().tables["shop"])
    assert frame.empty and list(frame.columns) == ["shop_id"] and frame["shop_id"].dtype == object


# ---- the engine executes the plan -------------------------------------------------------------------------------
def _engine_case():
    """paint (copy, real keys 100, 200, ... so that a remapped key shows), shop (empty) and item (synthesized,
    a constant and a NULL override) fitted by the HMA on the modelled tables, as the pipeline does."""
    from dbsynth import HMASynthesizer
    from dbsynth.sample.engine import Engine

    paint = Table("paint", [Column("paint_id", "integer", "id", nullable=False), Column("hue")], ["paint_id"])
    shop = Table("shop", [Column("shop_id", "integer", "id", nullable=False)], ["shop_id"])
    item = Table("item", [Column("item_id", "integer", "id", nullable=False),
                          Column("paint_id", "integer", "id", nullable=False), Column("shop_id", "integer", "id"),
                          Column("label"), Column("note"), Column("price", "float", "numerical")],
                 ["item_id"], foreign_keys=[ForeignKey(["paint_id"], "paint", ["paint_id"]),
                                            ForeignKey(["shop_id"], "shop", ["shop_id"])])
    written = Metadata({t.name: t for t in (paint, shop, item)})
    modes = {"paint": "copy", "shop": "empty", "item": "synthesize"}
    plan = SamplePlan.build(written, modes, 5, {"item": [ColumnOverride.constant("label", "L"),
                                                         ColumnOverride.null("note")]})
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"paint_id": np.arange(1, 7) * 100, "hue": [f"h{i}" for i in range(6)]})
    data = {"paint": real, "item": pd.DataFrame({
        "item_id": np.arange(1, 41), "paint_id": rng.choice(real["paint_id"], 40), "shop_id": [None] * 40,
        "label": rng.choice(["a", "b"], 40), "note": rng.choice(["n", "m"], 40), "price": rng.uniform(1, 9, 40)})}
    modelled = written.subset(["paint", "item"])
    synth = HMASynthesizer(modelled, seed=3, verbose=False).fit(data)
    engine = Engine(synth.metadata, synth.strategy(), synth.seed, synth.progress_task)
    return engine, plan.with_real_rows({"paint": real}), real, written


def test_engine_with_a_plan_sends_empties_first_real_rows_once_and_shaped_batches():
    engine, plan, real, written = _engine_case()
    batches = list(engine.batches(2.0, {}, 7, plan=plan))
    drawn = list(engine.batches(2.0, {}, 7))  # no plan: the model's rows as drawn
    assert batches[0].table == "shop" and batches[0].frame.empty
    assert list(batches[0].frame.columns) == ["shop_id"] and [b.table for b in batches].count("shop") == 1
    paints = [b for b in batches if b.table == "paint"]
    assert len(paints) == 1 and paints[0].frame is real
    assert sum(b.table == "paint" for b in drawn) > 1  # the copied table was drawn in several batches
    items = pd.concat([b.frame for b in batches if b.table == "item"], ignore_index=True)
    sampled = pd.concat([b.frame for b in drawn if b.table == "item"], ignore_index=True)
    assert list(items.columns) == written.tables["item"].column_names
    assert len(items) == len(sampled) > 7
    assert (items["label"] == "L").all() and items["note"].isna().all() and items["shop_id"].isna().all()
    # children are drawn from the sampled keys, then each sampled key is sent as one real key
    assert set(items["paint_id"]) <= set(real["paint_id"])
    pairs = pd.DataFrame({"sampled": sampled["paint_id"], "real": items["paint_id"]}).drop_duplicates()
    assert pairs["sampled"].is_unique and len(pairs) > 1
    pd.testing.assert_series_equal(items["price"], sampled["price"])


def test_engine_with_a_plan_is_the_same_for_the_same_seed():
    engine, plan, _, _ = _engine_case()
    one = [b.frame for b in engine.batches(1.0, {}, 5, plan=plan)]
    two = [b.frame for b in engine.batches(1.0, {}, 5, plan=plan)]
    assert len(one) == len(two)
    for a, b in zip(one, two):
        pd.testing.assert_frame_equal(a, b)
