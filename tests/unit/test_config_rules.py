"""Constraints and rule switches in the YAML config (issue 17): SDV's dict form and the short form under
``tables.<t>.constraints``, ``rules: {discover, off}``; the shape checked when the file is read, names and
parameters when the synthesizer is built (:func:`dbsynth.constraints.from_config`), each problem one line with
the key path."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from dbsynth import constraints as C
from dbsynth.config import load_config
from dbsynth.errors import ConfigError
from dbsynth.rules.records import Bound, Order, RuleOrigin
from dbsynth.synthesizers import HMASynthesizer

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is not a package: share the fixtures by path
from test_constraints import shop, shop_data


def _config(tmp_path: Path, body: str):
    path = tmp_path / "dbsynth.yaml"
    path.write_text("source: {url: 'sqlite:///source.db'}\n" + textwrap.dedent(body), encoding="utf-8")
    return load_config(path)


def test_short_and_long_forms(tmp_path):
    cfg = _config(tmp_path, """
        tables:
          orders:
            constraints:
              - Inequality: {low_column_name: ordered, high_column_name: shipped}
              - constraint_class: ScalarRange
                constraint_parameters: {column_name: price, low_value: 0, high_value: 1000}
              - constraint_class: Positive
                table_name: orders
                constraint_parameters: {column_name: qty, strict_boundaries: true}
              - FixedCombinations: {column_names: [region, country]}
              - ChildAggregate: {column_name: total, child_table_name: lines,
                                 child_column_names: [unit_price, quantity]}
        rules:
          discover: false
          off: [domain, table:lines, "order:orders:ordered,shipped"]
        """)
    md = shop()
    got = C.from_config(cfg, md)
    assert got == [
        C.Inequality("ordered", "shipped", table_name="orders"),
        C.ScalarRange("price", 0, 1000, table_name="orders"),
        C.Positive("qty", strict=True, table_name="orders"),
        C.FixedCombinations(["region", "country"], table_name="orders"),
        C.ChildAggregate("total", "lines", ["unit_price", "quantity"], table_name="orders"),
    ]
    assert got[0].rules(md) == [Order(table="orders", origin=RuleOrigin.USER, low="ordered", high="shipped")]
    assert got[2].rules(md) == [Bound(table="orders", origin=RuleOrigin.USER, column="qty", low=0.0,
                                      strict_low=True)]
    assert cfg.rules.discover is False and cfg.rules.off == ["domain", "table:lines", "order:orders:ordered,shipped"]
    # what the pipeline does with them
    syn = HMASynthesizer(md, seed=1, verbose=False)
    syn.add_constraints(got)
    syn.set_rules(discover=cfg.rules.discover, off=cfg.rules.off)
    syn.fit(shop_data())
    names = syn.rules().names()
    assert "bound:orders:price" in names and "order:orders:ordered,shipped" not in names
    assert all(r.origin is not RuleOrigin.DISCOVERED for r in syn.rules())


def test_no_constraints_and_default_rules(tmp_path):
    cfg = _config(tmp_path, "tables: {orders: {rows: 5}}\n")
    assert C.from_config(cfg, shop()) == [] and cfg.rules.discover is True and cfg.rules.off == []


@pytest.mark.parametrize(("body", "message"), [
    ("tables: {orders: {constraints: [{Inequalty: {low_column_name: ordered, high_column_name: shipped}}]}}",
     "tables.orders.constraints[0]: table 'orders': unknown constraint 'Inequalty' (did you mean 'Inequality'?"),
    ("tables: {orders: {constraints: [{Inequality: {low_column_name: ordered, high: shipped}}]}}",
     "tables.orders.constraints[0]: table 'orders', constraint 'Inequality': unknown parameter 'high' "
     "(Inequality takes: high_column_name, low_column_name, strict_boundaries). Use SDV's parameter names."),
    ("tables: {orders: {constraints: [{FixedIncrements: {column_name: qty, increment_value: -5}}]}}",
     "tables.orders.constraints[0]: table 'orders', column 'qty', constraint 'FixedIncrements': increment_value "
     "must be greater than 0 (got -5)."),
    ("tables: {orders: {constraints: [{Positive: {column_name: prize}}]}}",
     "tables.orders.constraints[0]: table 'orders', column 'prize', constraint 'Positive': column_name 'prize' is "
     "not a column of the table (did you mean 'price'?"),
    ("tables: {orders: {constraints: [{Positive: {column_name: price}}, {Negative: {column_name: price}}]}}",
     "tables: table 'orders', column 'price', constraint 'Positive, Negative': Positive and Negative constrain the "
     "same column. Keep one of the two."),
    ("tables: {orders: {constraints: [{constraint_class: Positive, table_name: lines, "
     "constraint_parameters: {column_name: price}}]}}",
     "tables.orders.constraints[0]: table 'orders', constraint 'Positive': the constraint names the table both as "
     "'lines' and 'orders'. Name one table (or leave table_name out)."),
    ("tables: {order: {constraints: [{Positive: {column_name: price}}]}}",
     "tables.order.constraints[0]: table 'order', constraint 'Positive': table_name 'order' is not a table of the "
     "metadata (did you mean 'orders'?"),
    ("rules: {off: [ordr]}", "rules.off[0]: 'ordr' names no kind of rule (did you mean 'order'?"),
])
def test_names_and_parameters_are_checked_when_built(tmp_path, body, message):
    cfg = _config(tmp_path, body + "\n")
    with pytest.raises(ConfigError) as err:
        C.from_config(cfg, shop())
    text = str(err.value)
    assert text.startswith(f"{tmp_path / 'dbsynth.yaml'}: {message}") and "\n" not in text
    assert err.value.exit_code == 2


@pytest.mark.parametrize(("body", "message"), [
    ("tables: {orders: {constraints: [{Inequality: 3}]}}",
     "tables.orders.constraints.0: the parameters of Inequality must be a mapping (e.g. Inequality: "
     "{column_name: price})"),
    ("tables: {orders: {constraints: [{Positive: {column_name: a}, Negative: {column_name: b}}]}}",
     "tables.orders.constraints.0: a constraint in the short form has one key, its name (found Positive, "
     "Negative): write one constraint per list item"),
    ("tables: {orders: {constraints: [{constraint_class: Positive, parameters: {column_name: a}}]}}",
     "tables.orders.constraints.0.parameters: unknown key (did you mean 'constraint_parameters'? allowed: "
     "constraint_class, constraint_parameters, table_name)"),
    ("tables: {orders: {constraints: [Positive]}}",
     "tables.orders.constraints.0: a constraint is a mapping: {Inequality: {low_column_name: a, high_column_name: "
     "b}} or {constraint_class: Inequality, constraint_parameters: {...}}"),
    ("tables: {orders: {constraints: {Positive: {column_name: a}}}}",
     "tables.orders.constraints: Input should be a valid list"),
    ("rules: {discover: maybe}", "rules.discover: Input should be a valid boolean"),
    ("rules: {of: [order]}", "rules.of: unknown key (did you mean 'off'? allowed: discover, off)"),
    ("rules: {off: ['']}", "rules.off.0: String should have at least 1 character"),
])
def test_the_shape_is_checked_when_read(tmp_path, body, message):
    with pytest.raises(ConfigError) as err:
        _config(tmp_path, body + "\n")
    assert str(err.value).startswith(f"{tmp_path / 'dbsynth.yaml'}: {message}"), str(err.value)


def test_custom_constraints_by_import_path(tmp_path):
    cfg = _config(tmp_path, """
        tables:
          orders:
            constraints:
              - my_rules:Even: {column_names: [qty], column: qty}
              - CustomConstraint: {class_path: my_rules.Even, column_names: [qty]}
        """)
    got = C.from_config(cfg, shop())
    assert got == [C.CustomConstraint("my_rules:Even", ["qty"], table_name="orders", column="qty"),
                   C.CustomConstraint("my_rules.Even", ["qty"], table_name="orders")]


def test_dates_in_yaml(tmp_path):
    # YAML reads an unquoted 2020-01-01 as a date: taken as the date it is
    cfg = _config(tmp_path, """
        tables:
          orders:
            constraints:
              - ScalarRange: {column_name: ordered, low_value: 2020-01-01, high_value: '2020-01-02'}
        """)
    (c,) = C.from_config(cfg, shop())
    assert c.rules(shop()) == [Bound(table="orders", origin=RuleOrigin.USER, column="ordered", low=1577836800e6,
                                     high=1577923200e6, strict_low=True, strict_high=True)]
