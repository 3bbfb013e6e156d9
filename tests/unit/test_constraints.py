"""User constraints with SDV's names (issue 17): each class and the dict form give the right rule records, every
bad input is one line naming the thing, contradictions are refused, and the synthesizers keep the rules: user,
discovered (at fit, on the rows the fit reads anyway) and declared, minus the ones switched off, through model
files too."""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dbsynth import constraints as C
from dbsynth.constraints import ConstraintError
from dbsynth.errors import BadInputError, ModelFileError
from dbsynth.metadata import CheckConstraint, Column, ForeignKey, Metadata, Table
from dbsynth.model import base
from dbsynth.model.source import FrameSource
from dbsynth.rules.records import (
    Aggregate,
    Bound,
    Combination,
    Custom,
    Increment,
    OneHot,
    Order,
    RuleKind,
    RuleOrigin,
    RuleSet,
    Unique,
)
from dbsynth.synthesizers import HMA1, HMASynthesizer, HSASynthesizer, IndependentSynthesizer, load_synthesizer

USER = RuleOrigin.USER


def shop() -> Metadata:
    md = Metadata()
    md.add_table(Table("orders", [
        Column("order_id", "integer", "id", nullable=False),
        Column("ordered", "date", "datetime"),
        Column("shipped", "date", "datetime"),
        Column("delivered", "date", "datetime"),
        Column("region", "string", "categorical"),
        Column("country", "string", "categorical"),
        Column("price", "float", "numerical"),
        Column("qty", "integer", "numerical"),
        Column("is_a", "integer", "numerical"),
        Column("is_b", "integer", "numerical"),
        Column("total", "float", "numerical"),
        Column("note", "string", "text"),
    ], primary_key=["order_id"], check_constraints=[CheckConstraint("qty >= 0", "ck_qty")]))
    md.add_table(Table("lines", [
        Column("line_id", "integer", "id", nullable=False),
        Column("order_id", "integer", "id"),
        Column("unit_price", "float", "numerical"),
        Column("quantity", "integer", "numerical"),
    ], primary_key=["line_id"], foreign_keys=[ForeignKey(["order_id"], "orders", ["order_id"])]))
    return md


def shop_data(n: int = 200, m: int = 600, seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ordered = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    shipped = ordered + pd.to_timedelta(rng.integers(0, 10, n), unit="D")
    country = rng.choice(["FR", "DE", "US", "CA"], n)
    country[:2] = "JP"  # a combination seen twice: under k, never stored
    region = np.where(np.isin(country, ["FR", "DE"]), "EU", np.where(country == "JP", "AS", "NA"))
    a = rng.integers(0, 2, n)
    orders = pd.DataFrame({
        "order_id": np.arange(1, n + 1), "ordered": ordered, "shipped": shipped,
        "delivered": shipped + pd.to_timedelta(rng.integers(1, 5, n), unit="D"),
        "region": region, "country": country, "price": rng.uniform(1, 100, n).round(2),
        "qty": rng.integers(0, 20, n) * 5, "is_a": a, "is_b": 1 - a, "total": 0.0,
        "note": [f"note {i}" for i in range(n)],
    })
    lines = pd.DataFrame({"line_id": np.arange(1, m + 1), "order_id": rng.integers(1, n + 1, m),
                          "unit_price": rng.uniform(1, 10, m).round(2), "quantity": rng.integers(1, 5, m)})
    total = (lines.unit_price * lines.quantity).groupby(lines.order_id).sum()
    orders["total"] = orders.order_id.map(total).fillna(0.0).round(2)
    return {"orders": orders, "lines": lines}


def resolved(c):
    return C.constraints_from([c], shop())[0]


def rules_of(c):
    return resolved(c).rules(shop())


# ---- each SDV name -> its rule records ---------------------------------------------------------------------
@pytest.mark.parametrize(("constraint", "expected"), [
    (C.Inequality("ordered", "shipped", table_name="orders"),
     [Order(table="orders", origin=USER, low="ordered", high="shipped", strict=False)]),
    (C.Inequality(low_column_name="price", high_column_name="total", strict_boundaries=True, table_name="orders"),
     [Order(table="orders", origin=USER, low="price", high="total", strict=True)]),
    (C.ScalarInequality("price", ">", 0, table_name="orders"),
     [Bound(table="orders", origin=USER, column="price", low=0.0, strict_low=True)]),
    (C.ScalarInequality("price", "<=", 500, table_name="orders"),
     [Bound(table="orders", origin=USER, column="price", high=500.0)]),
    (C.ScalarRange("price", 1, 100, table_name="orders"),
     [Bound(table="orders", origin=USER, column="price", low=1.0, high=100.0, strict_low=True, strict_high=True)]),
    (C.ScalarRange("price", 1, 100, strict_boundaries=False, table_name="orders"),
     [Bound(table="orders", origin=USER, column="price", low=1.0, high=100.0)]),
    (C.Positive("price", table_name="orders"), [Bound(table="orders", origin=USER, column="price", low=0.0)]),
    # dates and times as microseconds since the epoch (UTC), as the sampler and the scorer read them
    (C.ScalarRange("ordered", "2020-01-01", pd.Timestamp("2020-01-02"), strict_boundaries=False,
                   table_name="orders"),
     [Bound(table="orders", origin=USER, column="ordered", low=1577836800e6, high=1577923200e6)]),
    (C.ScalarInequality("shipped", "<", "2020-01-01T02:00:00+02:00", table_name="orders"),
     [Bound(table="orders", origin=USER, column="shipped", high=1577836800e6, strict_high=True)]),
    (C.Positive("price", strict_boundaries=True, table_name="orders"),
     [Bound(table="orders", origin=USER, column="price", low=0.0, strict_low=True)]),
    (C.Negative("price", strict=True, table_name="orders"),
     [Bound(table="orders", origin=USER, column="price", high=0.0, strict_high=True)]),
    (C.Range("ordered", "shipped", "delivered", table_name="orders"),
     [Order(table="orders", origin=USER, low="ordered", high="shipped", strict=True),
      Order(table="orders", origin=USER, low="shipped", high="delivered", strict=True)]),
    (C.FixedCombinations(["region", "country"], table_name="orders"),
     [Combination(table="orders", origin=USER, names=("region", "country"))]),
    (C.FixedIncrements("qty", 5, table_name="orders"),
     [Increment(table="orders", origin=USER, column="qty", step=5.0)]),
    (C.OneHotEncoding(["is_a", "is_b"], table_name="orders"),
     [OneHot(table="orders", origin=USER, names=("is_a", "is_b"))]),
    (C.Unique(["note"], table_name="orders"), [Unique(table="orders", origin=USER, names=("note",))]),
    (C.ChildAggregate("total", "lines", ["unit_price", "quantity"], table_name="orders"),
     [Aggregate(table="orders", origin=USER, column="total", child="lines", by=("order_id",), key=("order_id",),
                terms=("unit_price", "quantity"), function="sum", empty=0.0)]),
    (C.ChildAggregate("qty", "lines", table_name="orders"),
     [Aggregate(table="orders", origin=USER, column="qty", child="lines", by=("order_id",), key=("order_id",),
                terms=(), function="count", empty=0.0)]),
    (C.CustomConstraint("mypkg.rules:Even", ["qty"], table_name="orders", factor=2),
     [Custom(table="orders", origin=USER, path="mypkg.rules:Even", names=("qty",), params=(("factor", 2),))]),
])
def test_each_constraint_gives_its_rules(constraint, expected):
    assert rules_of(constraint) == expected


def test_the_dict_form_is_the_class():
    by_dict = {"constraint_class": "Inequality", "table_name": "orders",
               "constraint_parameters": {"low_column_name": "ordered", "high_column_name": "shipped"}}
    assert resolved(by_dict) == resolved(C.Inequality("ordered", "shipped", table_name="orders"))
    # table_name among the parameters (as some SDV examples write it), strict as SDV's older examples spell it
    inner = {"constraint_class": "Positive",
             "constraint_parameters": {"table_name": "orders", "column_name": "price", "strict": True}}
    assert rules_of(inner) == [Bound(table="orders", origin=USER, column="price", low=0.0, strict_low=True)]
    # a custom class by its import path
    custom = {"constraint_class": "mypkg.rules:Even", "table_name": "orders",
              "constraint_parameters": {"column_names": ["qty"], "factor": 2}}
    assert rules_of(custom) == rules_of(C.CustomConstraint("mypkg.rules:Even", ["qty"], table_name="orders",
                                                            factor=2))
    # round trip of to_dict
    for c in (C.Range("ordered", "shipped", "delivered", table_name="orders"),
              C.ChildAggregate("total", "lines", ["unit_price", "quantity"], table_name="orders"),
              C.FixedCombinations(["region", "country"], table_name="orders")):
        assert C.constraint_from_dict(json.loads(json.dumps(c.to_dict()))) == c


def test_one_table_needs_no_table_name():
    md = Metadata()
    md.add_table(Table("t", [Column("a", "float", "numerical"), Column("b", "float", "numerical")]))
    assert C.constraints_from([C.Inequality("a", "b")], md)[0].rules(md)[0].table == "t"


# ---- every bad input: one line naming it -------------------------------------------------------------------
@pytest.mark.parametrize(("make", "message"), [
    (lambda: {"constraint_class": "Inequalty", "table_name": "orders", "constraint_parameters": {}},
     "table 'orders': unknown constraint 'Inequalty' (did you mean 'Inequality'? known: Inequality, "
     "ScalarInequality, ScalarRange, Range, FixedCombinations, FixedIncrements, Positive, Negative, OneHotEncoding, "
     "Unique, ChildAggregate, CustomConstraint). Use one of the known names, or a custom class as "
     "package.module:Class."),
    (lambda: {"constraint_class": "Inequality", "table_name": "orders",
              "constraint_parameters": {"low_column": "a", "high_column_name": "b"}},
     "table 'orders', constraint 'Inequality': unknown parameter 'low_column' (did you mean 'low_column_name'? "
     "Inequality takes: high_column_name, low_column_name, strict_boundaries). Use SDV's parameter names."),
    (lambda: {"constraint_class": "ScalarRange", "table_name": "orders",
              "constraint_parameters": {"column_name": "price", "low_value": 1}},
     "table 'orders', constraint 'ScalarRange': parameter 'high_value' is missing (ScalarRange needs: column_name, "
     "low_value, high_value). Give high_value."),
    (lambda: {"constraint_class": "Inequality", "table_name": "orders", "foo": 1},
     "table 'orders', constraint 'Inequality': unknown key(s) foo in a constraint dict. A constraint dict has "
     "constraint_class, table_name and constraint_parameters."),
    (lambda: C.ScalarRange("price", "1", 10, table_name="orders"),
     "table 'orders', constraint 'ScalarRange': parameter 'low_value' must be a number, or a date or time for a "
     "datetime column (got '1'). Give low_value as a number, or as '2020-01-31' (ISO 8601)."),
    (lambda: C.ScalarInequality("price", ">", [1], table_name="orders"),
     "table 'orders', constraint 'ScalarInequality': parameter 'value' must be a number, or a date or time for a "
     "datetime column (got list). Give value as a number, or as '2020-01-31' (ISO 8601)."),
    (lambda: C.ScalarInequality("price", ">", "2020-01-01", table_name="orders"),
     "table 'orders', column 'price', constraint 'ScalarInequality': value must be a number for the numerical "
     "column 'price'. Give value as a number."),
    (lambda: C.ScalarRange("ordered", 0, 10, table_name="orders"),
     "table 'orders', column 'ordered', constraint 'ScalarRange': low_value must be a date or time ('2020-01-31') "
     "for the datetime column 'ordered'. Give low_value as a date or time ('2020-01-31')."),
    (lambda: C.ScalarRange("ordered", "2021-01-01", "2020-01-01", table_name="orders"),
     "table 'orders', column 'ordered', constraint 'ScalarRange': low_value (2021-01-01) must be below high_value "
     "(2020-01-01). Give the smaller bound as low_value."),
    (lambda: C.Positive("ordered", table_name="orders"),
     "table 'orders', column 'ordered', constraint 'Positive': column_name 'ordered' is a datetime column; "
     "Positive takes numerical columns. Name a column of a type it takes."),
    (lambda: C.Inequality("ordered", "shipped", strict_boundaries="yes", table_name="orders"),
     "table 'orders', constraint 'Inequality': parameter 'strict_boundaries' must be true or false (got str). "
     "Write strict_boundaries=True or strict_boundaries=False."),
    (lambda: C.FixedCombinations("region", table_name="orders"),
     "table 'orders', constraint 'FixedCombinations': parameter 'column_names' must be a list of column names "
     "(got str). Write column_names=['a', 'b']."),
    (lambda: C.FixedCombinations(["region"], table_name="orders"),
     "table 'orders', constraint 'FixedCombinations': parameter 'column_names' needs at least 2 column(s) (got 1). "
     "Name at least 2 columns."),
    (lambda: C.ScalarInequality("price", "=>", 1, table_name="orders"),
     "table 'orders', constraint 'ScalarInequality': parameter 'relation' must be one of >, >=, <, <= (got '=>'). "
     "Write relation='>=' for column >= value."),
    (lambda: C.FixedIncrements("qty", 0, table_name="orders"),
     "table 'orders', column 'qty', constraint 'FixedIncrements': increment_value must be greater than 0 (got 0). "
     "Give the step the values move by, e.g. increment_value=5."),
    (lambda: C.ScalarRange("price", 10, 10, table_name="orders"),
     "table 'orders', column 'price', constraint 'ScalarRange': low_value (10) must be below high_value (10). "
     "Give the smaller bound as low_value."),
    (lambda: C.Inequality("ordered", "shipped", table_name="order"),
     "table 'order', constraint 'Inequality': table_name 'order' is not a table of the metadata (did you mean "
     "'orders'? known: orders, lines). Name a table of the metadata."),
    (lambda: C.Inequality("ordered", "shiped", table_name="orders"),
     "table 'orders', column 'shiped', constraint 'Inequality': high_column_name 'shiped' is not a column of the "
     "table (did you mean 'shipped'? columns: order_id, ordered, shipped, delivered, region, country, price, qty, "
     "is_a, is_b, total, note). Name a column of the table."),
    (lambda: C.Inequality("ordered", "price", table_name="orders"),
     "table 'orders', column 'price', constraint 'Inequality': low_column_name, high_column_name mix datetime and "
     "numerical columns. Compare numbers with numbers, dates with dates."),
    (lambda: C.Positive("region", table_name="orders"),
     "table 'orders', column 'region', constraint 'Positive': column_name 'region' is a string column; Positive "
     "takes numerical columns. Name a column of a type it takes."),
    (lambda: C.Positive("order_id", table_name="orders"),
     "table 'orders', column 'order_id', constraint 'Positive': column_name 'order_id' is a key (primary or "
     "foreign): its values are generated, so Positive cannot constrain it. Constrain a column that is not a key."),
    (lambda: C.Inequality("ordered", "shipped"),
     "constraint 'Inequality': parameter 'table_name' is missing. Say which table it applies to (one of orders, "
     "lines)."),
    (lambda: C.ChildAggregate("unit_price", "orders", ["price"], table_name="lines"),
     "table 'lines', constraint 'ChildAggregate': child_table_name 'orders' has no foreign key to 'lines'. Name a "
     "child table of this table."),
    (lambda: C.ChildAggregate("total", "lines", [], function="sum", table_name="orders"),
     "table 'orders', column 'total', constraint 'ChildAggregate': function 'sum' needs child_column_names (the "
     "child columns multiplied and summed). Name the child columns, or write function='count'."),
    (lambda: C.CustomConstraint("not a path", ["qty"], table_name="orders"),
     "table 'orders', constraint 'CustomConstraint': class_path 'not a path' is not an import path. Write "
     "package.module:Class."),
    (lambda: 42, "a constraint must be a constraint object or a dict (got int). Write {'constraint_class': "
                 "'Inequality', 'constraint_parameters': {...}} or Inequality(...)."),
])
def test_bad_input_is_one_line_naming_it(make, message):
    with pytest.raises(ConstraintError) as err:
        C.constraints_from([make()], shop())
    assert str(err.value) == message
    assert "\n" not in str(err.value) and isinstance(err.value, BadInputError) and err.value.exit_code == 2


@pytest.mark.parametrize(("constraints", "message"), [
    ([C.Inequality("price", "total", table_name="orders"), C.Inequality("total", "price", table_name="orders")],
     "table 'orders', constraint 'Inequality': constraints contradict each other: price <= total <= price (they "
     "force the columns equal). Remove or reverse one of them."),
    ([C.Inequality("ordered", "shipped", True, table_name="orders"),
      C.Range("shipped", "delivered", "ordered", strict_boundaries=False, table_name="orders")],
     "table 'orders', constraint 'Inequality, Range': constraints contradict each other: ordered < shipped <= "
     "delivered <= ordered (no row keeps them all). Remove or reverse one of them."),
    ([C.Positive("price", table_name="orders"), C.Negative("price", table_name="orders")],
     "table 'orders', column 'price', constraint 'Positive, Negative': Positive and Negative constrain the same "
     "column. Keep one of the two."),
    ([C.ScalarRange("price", 10, 20, table_name="orders"), C.ScalarInequality("price", ">", 30, table_name="orders")],
     "table 'orders', column 'price', constraint 'ScalarRange, ScalarInequality': bounds contradict each other: "
     "10.0 < orders.price < 20.0 and 30.0 < orders.price leave no value. Widen or remove one of them."),
    ([C.ChildAggregate("total", "lines", ["unit_price", "quantity"], table_name="orders"),
      C.Inequality("price", "total", table_name="orders")],
     "table 'orders', column 'total', constraint 'ChildAggregate, Inequality': Inequality constrains a column "
     "ChildAggregate derives from the child rows, which the sampler cannot also keep. Constrain the child columns "
     "it is computed from, or drop one of the two."),
    ([C.ChildAggregate("total", "lines", ["unit_price", "quantity"], table_name="orders"),
      C.ChildAggregate("total", "lines", ["unit_price"], table_name="orders")],
     "table 'orders', column 'total', constraint 'ChildAggregate': two ChildAggregate constraints derive the same "
     "column. Keep one of the two."),
    ([C.ScalarRange("qty", 1, 2, table_name="orders")],  # an integer strictly between 1 and 2: none
     "table 'orders', column 'qty', constraint 'ScalarRange': bounds contradict each other: 1.0 < orders.qty < 2.0 "
     "leave no value. Widen or remove one of them."),
])
def test_contradictions_are_refused(constraints, message):
    md = shop()
    with pytest.raises(ConstraintError) as err:
        C.check_consistent(C.constraints_from(constraints, md), md)
    assert str(err.value) == message


def test_consistent_constraints_pass():
    md = shop()
    C.check_consistent(C.constraints_from([
        C.Range("ordered", "shipped", "delivered", table_name="orders"),
        C.ScalarRange("price", 0, 100, table_name="orders"), C.Positive("price", table_name="orders"),
        C.ScalarRange("price", 1.5, 2.5, table_name="orders"),  # a float column has values inside
    ], md), md)


def test_off_entries_are_checked():
    md = shop()
    assert C.check_off(["order", "table:lines", "order:orders", "order:orders:ordered,shipped"], md) == [
        "order", "table:lines", "order:orders", "order:orders:ordered,shipped"]
    with pytest.raises(ConstraintError, match=r"^'ordr' names no kind of rule \(did you mean 'order'\? kinds: "):
        C.check_off(["ordr"], md)
    with pytest.raises(ConstraintError, match=r"'table:line' names table 'line', not a table of the metadata "
                                              r"\(did you mean 'lines'\?"):
        C.check_off(["table:line"], md)


# ---- the synthesizers --------------------------------------------------------------------------------------
def test_add_constraints_checks_at_once_all_or_none():
    syn = HMASynthesizer(shop(), verbose=False)
    good = C.Inequality("ordered", "shipped", table_name="orders")
    with pytest.raises(ConstraintError, match="column 'shiped'"):
        syn.add_constraints([good, C.Inequality("ordered", "shiped", table_name="orders")])
    assert syn.get_constraints() == []
    syn.add_constraints([good, good.to_dict()])  # the same constraint twice is held once
    assert syn.get_constraints() == [good]
    with pytest.raises(ConstraintError, match="contradict"):
        syn.add_constraints([C.Inequality("shipped", "ordered", table_name="orders")])
    assert syn.get_constraints() == [good]


@pytest.mark.parametrize("cls", [HMASynthesizer, HMA1, HSASynthesizer, IndependentSynthesizer])
def test_rules_after_fit_hold_discovered_user_and_declared(cls):
    md, data = shop(), shop_data()
    syn = cls(md, seed=3, verbose=False)
    syn.add_constraints([C.FixedCombinations(["region", "country"], table_name="orders"),
                         C.Positive("price", table_name="orders"),
                         C.ChildAggregate("total", "lines", ["unit_price", "quantity"], table_name="orders")])
    before = syn.rules()
    assert {r.origin for r in before} == {RuleOrigin.USER, RuleOrigin.DECLARED}
    syn.fit(data)
    rules = syn.rules()
    by_name = {r.name: r for r in rules}
    assert {r.origin for r in rules} == {RuleOrigin.USER, RuleOrigin.DECLARED, RuleOrigin.DISCOVERED}
    assert by_name["check:orders:ck_qty"].origin is RuleOrigin.DECLARED
    assert by_name["order:orders:ordered,shipped"].origin is RuleOrigin.DISCOVERED
    # a user rule replaces the discovered rule of the same name
    assert by_name["aggregate:orders:total=sum(lines.unit_price*quantity)"].origin is RuleOrigin.USER
    # the user's combinations are learned at fit: only those seen at least k (5) times; JP/AS (2 rows) is not
    combo = by_name["combination:orders:region,country"]
    assert isinstance(combo, Combination) and combo.origin is RuleOrigin.USER
    assert set(combo.combos) == {("EU", "FR"), ("EU", "DE"), ("NA", "US"), ("NA", "CA")}
    # the engine gets them
    assert syn._engine().rules == rules

    syn.set_rules(off=["order", "table:lines", "bound:orders:price"])
    off = syn.rules()
    assert not off.of_kind(RuleKind.ORDER) and not off.for_table("lines")
    assert "bound:orders:price" not in off.names() and "combination:orders:region,country" in off.names()
    syn.set_rules(off=[])
    assert syn.rules() == rules


def test_discovery_off_gives_no_discovered_rules():
    syn = HMASynthesizer(shop(), seed=3, verbose=False)
    syn.add_constraints([C.Positive("price", table_name="orders")])
    syn.set_rules(discover=False)
    syn.fit(shop_data())
    assert {r.origin for r in syn.rules()} == {RuleOrigin.USER, RuleOrigin.DECLARED}
    syn.set_rules(discover=True)  # takes effect at the next fit
    assert {r.origin for r in syn.rules()} == {RuleOrigin.USER, RuleOrigin.DECLARED}
    syn.fit(shop_data())
    assert RuleOrigin.DISCOVERED in {r.origin for r in syn.rules()}


def test_discovery_switched_off_after_fit_leaves_the_discovered_rules_out():
    syn = HMASynthesizer(shop(), seed=3, verbose=False).fit(shop_data())
    found = {r.name for r in syn.rules() if r.origin is RuleOrigin.DISCOVERED}
    assert found
    syn.set_rules(discover=False)
    assert {r.origin for r in syn.rules()} == {RuleOrigin.DECLARED}
    syn.set_rules(discover=True)  # what the fit found is still there
    assert {r.name for r in syn.rules() if r.origin is RuleOrigin.DISCOVERED} == found


def test_a_user_rule_wins_over_a_discovered_one_it_contradicts():
    syn = HMASynthesizer(shop(), seed=3, verbose=False)
    syn.add_constraints([C.Inequality("shipped", "ordered", table_name="orders")])  # the data says the opposite
    syn.fit(shop_data())
    orders = [r for r in syn.rules().of_kind(RuleKind.ORDER) if set(r.columns) == {"ordered", "shipped"}]
    assert [(r.low, r.high, r.origin) for r in orders] == [("shipped", "ordered", RuleOrigin.USER)]


def test_fixed_combinations_after_fit_is_refused():
    syn = HMASynthesizer(shop(), seed=3, verbose=False).fit(shop_data())
    with pytest.raises(ConstraintError) as err:
        syn.add_constraints([C.FixedCombinations(["region", "country"], table_name="orders")])
    assert str(err.value) == ("table 'orders', constraint 'FixedCombinations': FixedCombinations learns its "
                              "combinations from the real rows at fit. Add it before fit(), then fit again.")
    syn.add_constraints([C.Positive("price", table_name="orders")])  # others are fine after fit
    assert "bound:orders:price" in syn.rules().names()


class CountingSource:
    """A streamed source (not a frame in memory) that counts how often the fit samples it."""

    def __init__(self, frame):
        self.inner = FrameSource(frame, chunk_rows=64)
        self.n_rows = self.inner.n_rows
        self.samples = 0

    def sample(self, max_rows, seed):
        self.samples += 1
        return self.inner.sample(max_rows, seed)

    def chunks(self, columns=None):
        return self.inner.chunks(columns)


def test_streamed_fit_discovers_on_its_own_samples(monkeypatch):
    seen = {}
    real = base.discover

    def spy(metadata, frames, settings=None, complete=None):
        seen.update(frames={t: len(f) for t, f in frames.items()}, complete=complete, k=settings.min_category_count)
        return real(metadata, frames, settings, complete)

    monkeypatch.setattr(base, "discover", spy)
    data = shop_data()
    sources = {t: CountingSource(f) for t, f in data.items()}
    syn = HMASynthesizer(shop(), seed=3, verbose=False, min_category_count=4)
    syn.fit(sources, sample_rows=300)
    # orders (200 rows) fits in the sample: whole; lines (600) is sampled: not whole
    assert seen == {"frames": {"orders": 200, "lines": 300}, "complete": frozenset({"orders"}), "k": 4}
    assert all(s.samples == 1 for s in sources.values())  # the fit's one sample per table, not a second read
    assert syn.discovery_seconds > 0
    # in-memory frames are read whole
    HMASynthesizer(shop(), seed=3, verbose=False).fit(data, sample_rows=300)
    assert seen["frames"] == {"orders": 200, "lines": 600} and seen["complete"] == frozenset({"orders", "lines"})


# ---- model files -------------------------------------------------------------------------------------------
def _fitted(tmp_path: Path, cls=HMASynthesizer):
    syn = cls(shop(), seed=3, verbose=False)
    syn.add_constraints([C.FixedCombinations(["region", "country"], table_name="orders"),
                         C.Range("ordered", "shipped", "delivered", strict_boundaries=False, table_name="orders")])
    syn.set_rules(off=["domain"])
    syn.fit(shop_data())
    return syn, syn.save(tmp_path / "m.zip")


@pytest.mark.parametrize("cls", [HMASynthesizer, HSASynthesizer])
def test_rules_survive_save_and_load(tmp_path, cls):
    syn, path = _fitted(tmp_path, cls)
    loaded = load_synthesizer(path)
    assert loaded.rules() == syn.rules() and len(loaded.rules()) > 3
    assert loaded.get_constraints() == syn.get_constraints()
    assert loaded.rule_state().off == ("domain",)
    if cls is HMASynthesizer:  # across the family's interfaces too
        assert HMA1.load(path).rules() == syn.rules()
    with zipfile.ZipFile(path) as zf:
        state = json.loads(zf.read("rules.json"))
    assert state["rules"]["version"] == 1 and state["constraints"][0]["constraint_class"] == "FixedCombinations"


def test_the_config_s_constraints_added_again_to_a_loaded_model_are_held_once(tmp_path):
    syn, path = _fitted(tmp_path)
    loaded = load_synthesizer(path)
    # what a run with refit: never does: the config's constraints again (the combinations stay the learned ones)
    loaded.add_constraints([c.to_dict() for c in syn.get_constraints()])
    assert loaded.get_constraints() == syn.get_constraints() and loaded.rules() == syn.rules()
    with pytest.raises(ConstraintError, match="learns its combinations from the real rows at fit"):
        loaded.add_constraints([C.FixedCombinations(["is_a", "is_b"], table_name="orders")])


def test_a_model_file_without_rules_loads(tmp_path):
    syn, path = _fitted(tmp_path)
    old = tmp_path / "old.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(old, "w") as dst:
        for name in ("model.json", "arrays.npz"):
            dst.writestr(name, src.read(name))
    loaded = load_synthesizer(old)
    assert loaded.get_constraints() == [] and {r.origin for r in loaded.rules()} == {RuleOrigin.DECLARED}
    assert loaded.sample()["orders"].shape == syn.sample()["orders"].shape


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(version=2), "'m.zip' has a bad rules.json: rules: not a rule state of this format version"),
    (lambda d: d.update(extra=1), "'m.zip' has a bad rules.json: rules: unknown or missing key(s) extra"),
    (lambda d: d["rules"]["rules"].append({"kind": "nope"}), "'m.zip' has a bad rules.json: rules: unknown rule "
                                                             "kind 'nope'"),
    (lambda d: d["constraints"][0]["constraint_parameters"].update(column_names=["region", "gone"]),
     "'m.zip' has a bad rules.json: rules: a stored constraint does not fit the model's tables"),
    (lambda d: d.update(discover="yes"), "'m.zip' has a bad rules.json: rules: 'discover' is not true or false"),
])
def test_a_bad_rules_member_is_refused(tmp_path, edit, message):
    _syn, path = _fitted(tmp_path)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    state = json.loads(members["rules.json"])
    edit(state)
    members["rules.json"] = json.dumps(state).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)
    with pytest.raises(ModelFileError) as err:
        load_synthesizer(path)
    assert str(err.value).startswith(message)


def test_custom_constraints_are_not_stored_and_loading_says_so(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(base, "_load_custom", lambda c: None)  # the class itself is dbsynth.rules.custom's
    syn = HMASynthesizer(shop(), seed=3, verbose=False)
    custom = C.CustomConstraint("mypkg.rules:Even", ["qty"], table_name="orders", factor=2)
    syn.add_constraints([custom, C.Positive("price", table_name="orders")])
    assert "custom:orders:mypkg.rules:Even" in syn.rules().names()
    syn.fit(shop_data())
    path = syn.save(tmp_path / "m.zip")
    assert b"mypkg.rules:Even" in zipfile.ZipFile(path).read("rules.json")  # named, params not stored
    assert b"factor" not in zipfile.ZipFile(path).read("rules.json")
    with caplog.at_level(logging.WARNING, logger="dbsynth"):
        loaded = load_synthesizer(path)
    assert ("model file m.zip had 1 custom constraint(s) (custom:orders:mypkg.rules:Even): custom constraints are "
            "code, never stored; add them again with add_constraints() or the config") in caplog.text
    assert "custom:orders:mypkg.rules:Even" not in loaded.rules().names()
    assert loaded.get_constraints() == [C.Positive("price", table_name="orders")]
    loaded.add_constraints([custom])  # given again: no longer missing
    assert loaded.rule_state().dropped == () and "custom:orders:mypkg.rules:Even" in loaded.rules().names()


def test_learned_combinations_keep_the_k_rule():
    frame = pd.DataFrame({"a": ["x"] * 6 + ["y"] * 5 + ["z"] * 4 + [None] * 5,
                          "b": [1] * 6 + [2] * 5 + [3] * 4 + [4] * 5})
    rule = C.learn_combinations(Combination(table="t", origin=USER, names=("a", "b")), frame, 5)
    assert rule.combos == (("x", 1), ("y", 2), (None, 4)) and rule.support == 16  # by count, then value
    assert RuleSet((rule,)).to_dict()["rules"][0]["combos"] == [["x", 1], ["y", 2], [None, 4]]


# ---- kept in the sample (the rules reach the engine) ----------------------------------------------------------
@pytest.mark.parametrize("cls", [HMASynthesizer, HSASynthesizer, IndependentSynthesizer])
def test_user_constraints_hold_in_every_sampled_row(cls):
    from dbsynth.rules.evaluate import score

    syn = cls(shop(), seed=5, verbose=False)
    syn.add_constraints([
        C.Range("ordered", "shipped", "delivered", strict_boundaries=False, table_name="orders"),
        C.ScalarRange("price", 10, 50, table_name="orders"),
        C.ScalarInequality("ordered", ">=", "2020-03-01", table_name="orders"),
        C.FixedCombinations(["region", "country"], table_name="orders"),
        C.FixedIncrements("qty", 5, table_name="orders"),
        C.OneHotEncoding(["is_a", "is_b"], table_name="orders"),
        C.Unique(["note"], table_name="orders"),
        C.ChildAggregate("total", "lines", ["unit_price", "quantity"], table_name="orders"),
    ])
    out = syn.fit(shop_data()).sample(scale=2)
    user = [s for s in score(syn.metadata, syn.rules(), out) if s.rule.origin is RuleOrigin.USER]
    assert len(user) == 9 and all(s.total for s in user)
    assert {s.rule.name: s.share for s in user if s.share < 1} == {}
    assert out["orders"]["price"].between(10, 50, inclusive="neither").all()  # scored by hand too
    assert (pd.to_datetime(out["orders"]["ordered"]) >= pd.Timestamp("2020-03-01")).all()


# ---- custom constraints: a real class ---------------------------------------------------------------------------
EVEN = '''
class Even:
    def __init__(self, column="qty"):
        self.column = column

    def is_valid(self, frame):
        return (frame[self.column] % 2 == 0).to_numpy()
'''


def test_a_custom_class_is_loaded_when_added(tmp_path, monkeypatch):
    (tmp_path / "my_rules.py").write_text(EVEN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    syn = HMASynthesizer(shop(), seed=3, verbose=False)
    syn.add_constraints([{"constraint_class": "my_rules:Even", "table_name": "orders",
                          "constraint_parameters": {"column_names": ["qty"], "column": "qty"}}])
    assert syn.rules().for_table("orders")[-1] == Custom(table="orders", origin=USER, path="my_rules:Even",
                                                        names=("qty",), params=(("column", "qty"),))
    with pytest.raises(BadInputError) as err:  # a wrong path fails when added, not when sampling
        syn.add_constraints([C.CustomConstraint("my_rules:Odd", ["qty"], table_name="orders")])
    assert "my_rules:Odd" in str(err.value) and "has no class 'Odd'" in str(err.value)
    assert len(syn.get_constraints()) == 1
