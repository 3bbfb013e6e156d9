"""Scoring frames on rules (issue 17): per rule, exactly the rows (parents) it constrains and the ones that keep it;
a rule that cannot be judged gets total 0 and a detail, never an exception."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from dbsynth.metadata import CheckConstraint, Column, ForeignKey, Metadata, Table
from dbsynth.rules.evaluate import holds, score
from dbsynth.rules.records import (
    Aggregate,
    Bound,
    Check,
    Combination,
    Copied,
    Custom,
    Dependency,
    Domain,
    Increment,
    OneHot,
    Order,
    ParentSum,
    RuleOrigin,
    SameAncestor,
    Unique,
)


def col(name, type_="integer", sdtype="numerical", **kw):
    return Column(name, type=type_, sdtype=sdtype, **kw)


def key(name):
    return Column(name, type="integer", sdtype="id", nullable=False)


def md_of(frame, columns=None, **kw):
    cols = columns or [col(c) for c in frame.columns]
    return Metadata({"t": Table("t", cols, **kw)})


def one(rule, frame, md=None, **frames):
    md = md or md_of(frame)
    s = score(md, [rule], {"t": frame, **frames})[0]
    return s.kept, s.total, s.detail


def test_order_counts_rows_with_both_set_and_the_broken_ones():
    f = pd.DataFrame({"lo": pd.array([1, 2, 3, 4, 5, None, 7], dtype="Int64"),
                      "hi": [2.0, 2.0, 1.0, 9.0, 4.0, 1.0, np.nan]})
    assert one(Order(table="t", low="lo", high="hi"), f) == (3, 5, "")  # rows 2 and 4 break it
    assert one(Order(table="t", low="lo", high="hi", strict=True), f) == (2, 5, "")  # and row 1 is equal


def test_order_of_timestamps_with_a_time_zone_and_dates():
    a = pd.Series(pd.to_datetime(["2020-01-01", "2020-01-05", None], utc=True)).astype("datetime64[us, UTC]")
    b = pd.Series(pd.to_datetime(["2020-01-02", "2020-01-04", "2020-01-01"])).astype("datetime64[ns]")
    f = pd.DataFrame({"a": a.dt.tz_convert(None), "b": b})
    assert one(Order(table="t", low="a", high="b"), f) == (1, 2, "")


def test_bound_and_increment():
    f = pd.DataFrame({"x": [0.0, 0.5, 1.0, 1.5, np.nan, -1.0]})
    assert one(Bound(table="t", column="x", low=0.0, high=1.0), f) == (3, 5, "")
    assert one(Bound(table="t", column="x", low=0.0, strict_low=True), f) == (3, 5, "")
    assert one(Increment(table="t", column="x", step=1.0), f) == (3, 5, "")


def test_unique_breaks_each_repeat_after_the_first():
    f = pd.DataFrame({"a": ["x", "x", "x", "y", None, None], "b": [1, 1, 2, 1, 1, 1]})
    assert one(Unique(table="t", names=("a",)), f) == (2, 4, "")  # two repeats of x; NULLs not constrained
    assert one(Unique(table="t", names=("a", "b")), f) == (3, 4, "")  # (x, 1) twice


def test_unique_integers_beyond_float_precision():
    big = 2**53
    f = pd.DataFrame({"a": np.array([big, big + 1, big + 2, big + 2], dtype=np.int64)})
    assert one(Unique(table="t", names=("a",)), f) == (3, 4, "")


def test_domain_compares_numbers_by_value():
    f = pd.DataFrame({"p": [Decimal("0.99"), Decimal("1.99"), Decimal("2.99"), None, Decimal("0.990")]},
                     dtype=object)
    assert one(Domain(table="t", column="p", values=(0.99, 1.99)), f,
               md_of(f, [col("p", "decimal", scale=2)])) == (3, 4, "")
    h = pd.DataFrame({"x": [0.1 + 0.2, 0.4]})  # 0.30000000000000004 is the value 0.3
    assert one(Domain(table="t", column="x", values=(0.3,)), h, md_of(h, [col("x", "float")])) == (1, 2, "")
    g = pd.DataFrame({"s": ["a", "b", "c", None]})
    assert one(Domain(table="t", column="s", values=("a",)), g) == (1, 3, "")


def test_dependency_stored_pairs_and_unseen_determinants():
    f = pd.DataFrame({"city": ["Paris", "Paris", "Paris", "Lyon", "Oslo", "Oslo", "Oslo", "Bonn", None],
                      "country": ["DE", "DE", "FR", "FR", "NO", "NO", "SE", None, "FR"]})
    rule = Dependency(table="t", determinant=("city",), dependent="country",
                      pairs=((("Paris",), "FR"), (("Lyon",), "FR")))
    # Paris->DE breaks the stored pair (though most Paris rows say DE); Oslo (not stored) breaks its minority
    # row; NULL rows are not constrained
    assert one(rule, f) == (4, 7, "")
    mask = holds(md_of(f), rule, {"t": f})
    assert mask.tolist() == [False, False, True, True, True, True, False, True, True]


def test_dependency_of_numbers_matches_decimals_and_ints():
    f = pd.DataFrame({"grade": pd.array([1, 1, 2, 2], dtype="Int64"),
                      "rate": [Decimal("1.50"), Decimal("1.5"), Decimal("2.5"), Decimal("3.0")]})
    rule = Dependency(table="t", determinant=("grade",), dependent="rate", pairs=(((1,), 1.5), ((2,), 2.5)))
    assert one(rule, f) == (3, 4, "")


def test_combination():
    f = pd.DataFrame({"a": ["x", "x", "y", "y", None], "b": [1, 2, 1, 3, 1]})
    rule = Combination(table="t", names=("a", "b"), combos=(("x", 1), ("x", 2), ("y", 1)))
    assert one(rule, f) == (3, 4, "")
    assert one(Combination(table="t", names=("a", "b")), f)[2] == "no combinations stored"


def test_one_hot():
    f = pd.DataFrame({"a": [1, 0, 1, 0, 2], "b": [0, 1, 1, 0, 0]})
    assert one(OneHot(table="t", names=("a", "b")), f) == (2, 5, "")


def family():
    md = Metadata({
        "customer": Table("customer", [key("id")], primary_key=["id"]),
        "rental": Table("rental", [key("id"), key("customer_id")], primary_key=["id"],
                        foreign_keys=[ForeignKey(["customer_id"], "customer", ["id"])]),
        "t": Table("t", [key("id"), key("rental_id"), key("customer_id"), col("amount", "float")],
                   primary_key=["id"], foreign_keys=[ForeignKey(["rental_id"], "rental", ["id"]),
                                                     ForeignKey(["customer_id"], "customer", ["id"])]),
    })
    frames = {"customer": pd.DataFrame({"id": [1, 2, 3]}),
              "rental": pd.DataFrame({"id": [10, 11, 12], "customer_id": [1, 2, 3]}),
              "t": pd.DataFrame({"id": range(6), "rental_id": pd.array([10, 11, 12, 10, None, 99], dtype="Int64"),
                                 "customer_id": [1, 2, 1, 1, 3, 1], "amount": [1.0, 2, 3, 4, 5, 6]})}
    return md, frames


def test_same_ancestor_counts_rows_with_via_set():
    md, frames = family()
    rule = SameAncestor(table="t", direct=("customer_id",), via=("rental_id",), parent="rental",
                        parent_key=("id",), parent_direct=("customer_id",), ancestor="customer")
    s = score(md, [rule], frames)[0]
    # row 2 points at rental 12 of customer 3; row 5 at no rental; row 4 has no rental (not constrained)
    assert (s.kept, s.total) == (3, 5)
    assert holds(md, rule, frames).tolist() == [True, True, False, True, True, False]


def test_parent_sum_counts_parents():
    f = pd.DataFrame({"p": [1, 1, 2, 2, 3, None], "x": [60.0, 40.0, 70.0, 40.0, 100.0, 500.0]})
    md = md_of(f)
    assert one(ParentSum(table="t", column="x", by=("p",), bound=100.0), f, md) == (2, 3, "")
    assert one(ParentSum(table="t", column="x", by=("p",), bound=100.0, exact=True), f, md) == (2, 3, "")
    f.loc[4, "x"] = 99.0
    assert one(ParentSum(table="t", column="x", by=("p",), bound=100.0, exact=True), f, md) == (1, 3, "")
    assert holds(md, ParentSum(table="t", column="x", by=("p",), bound=100.0), {"t": f}) is None


def invoices():
    md = Metadata({
        "t": Table("t", [key("id"), col("total", "decimal", scale=2)], primary_key=["id"]),
        "line": Table("line", [key("id"), key("t_id"), col("qty"), col("price", "decimal", scale=2)],
                      primary_key=["id"], foreign_keys=[ForeignKey(["t_id"], "t", ["id"])]),
    })
    frames = {"t": pd.DataFrame({"id": [1, 2, 3, 4], "total": [3.0, 2.004, 0.0, 5.0]}),
              "line": pd.DataFrame({"id": range(4), "t_id": [1, 1, 2, 4], "qty": [1, 2, 1, 1],
                                    "price": [1.0, 1.0, 2.0, 4.99]})}
    return md, frames


def test_aggregate_within_the_scale_and_empty_parents():
    md, frames = invoices()
    rule = Aggregate(table="t", column="total", child="line", by=("t_id",), key=("id",), terms=("qty", "price"))
    s = score(md, [rule], frames)[0]
    assert (s.kept, s.total) == (3, 4)  # 2.004 is 2 at scale 2; 5.0 is not 4.99; the childless one holds 0
    null_empty = Aggregate(table="t", column="total", child="line", by=("t_id",), key=("id",),
                           terms=("qty", "price"), empty=None)
    assert score(md, [null_empty], frames)[0].kept == 2  # the childless one holds 0, not NULL
    frames["t"].loc[2, "total"] = np.nan
    assert score(md, [rule], frames)[0].kept == 2
    assert score(md, [null_empty], frames)[0].kept == 3
    count = Aggregate(table="t", column="total", child="line", by=("t_id",), key=("id",), function="count")
    frames["t"]["total"] = [2.0, 1.0, 0.0, 2.0]
    assert (score(md, [count], frames)[0].kept, score(md, [count], frames)[0].total) == (3, 4)


def test_copied_counts_rows_where_both_are_set():
    md, frames = family()
    frames["rental"]["fee"] = [1.5, 2.5, None]
    md.tables["rental"].columns.append(col("fee", "float"))
    frames["t"]["amount"] = [1.5, 2.5, 9.0, 1.0, 5.0, 1.5]
    rule = Copied(table="t", column="amount", by=("rental_id",), parent="rental", key=("id",), parent_column="fee")
    s = score(md, [rule], frames)[0]
    assert (s.kept, s.total) == (2, 3)  # rows 0, 1 equal, row 3 not; row 2's parent fee NULL; 4, 5 no parent


def test_copied_strings_with_missing_values():
    md, frames = family()
    frames["rental"]["code"] = pd.array(["a", "b", pd.NA], dtype="string")
    md.tables["rental"].columns.append(col("code", "string", "categorical"))
    frames["t"]["code"] = pd.array(["a", "x", "c", pd.NA, "a", "a"], dtype="string")
    md.tables["t"].columns.append(col("code", "string", "categorical"))
    rule = Copied(table="t", column="code", by=("rental_id",), parent="rental", key=("id",), parent_column="code")
    s = score(md, [rule], frames)[0]
    assert (s.kept, s.total, s.detail) == (1, 2, "")  # row 0 equal, row 1 not; the others lack a value or parent


def test_check_rules_scored_with_sql_semantics():
    f = pd.DataFrame({"lo": pd.array([1, 5, None, 2], dtype="Int64"), "hi": pd.array([2, 3, 1, 2], dtype="Int64")})
    md = md_of(f, check_constraints=[CheckConstraint("hi >= lo", name="ck")])
    md.dialect = "sqlite"
    rule = Check(table="t", origin=RuleOrigin.DECLARED, constraint="ck", sqltext="hi >= lo", names=("hi", "lo"))
    assert one(rule, f, md) == (3, 4, "")  # NULL passes
    weird = Check(table="t", constraint="odd", sqltext="hi >= ((( lo")
    kept, total, detail = one(weird, f, md)
    assert (kept, total) == (0, 0) and "not evaluable" in detail


def test_custom_rules_and_their_failures():
    f = pd.DataFrame({"x": [1, 2, 3]})
    kept, total, detail = one(Custom(table="t", path="no_such_module_for_dbsynth:Nothing"), f)
    assert (kept, total) == (0, 0) and detail.startswith("custom constraint failed")


class EvenRows:
    """A custom constraint for the test: even values only."""

    def __init__(self, column="x"):
        self.column = column

    def is_valid(self, frame):
        return frame[self.column] % 2 == 0


def test_custom_rule_scored(monkeypatch):
    import dbsynth.rules.custom as custom

    monkeypatch.setattr(custom, "load_custom", lambda rule: EvenRows(**dict(rule.params)))
    f = pd.DataFrame({"y": [1, 2, 4, 5]})
    assert one(Custom(table="t", path="x:EvenRows", params=(("column", "y"),)), f) == (2, 4, "")


@pytest.mark.parametrize("rule, detail", [
    (Order(table="nope", low="a", high="b"), "no table 'nope'"),
    (Order(table="t", low="a", high="missing"), "no column 'missing'"),
    (Copied(table="t", column="a", by=("a",), parent="gone", key=("id",), parent_column="z"), "no table 'gone'"),
])
def test_rules_on_missing_tables_or_columns_are_not_scored(rule, detail):
    f = pd.DataFrame({"a": [1], "b": [2]})
    kept, total, got = one(rule, f)
    assert (kept, total) == (0, 0) and detail in got
    assert holds(md_of(f), rule, {"t": f}) is None


def test_scores_in_rule_order_and_masks_on_rows():
    f = pd.DataFrame({"a": [1, 2, 3], "b": [2, 1, 3]})
    rules = [Order(table="t", low="a", high="b"), Unique(table="t", names=("b",))]
    out = score(md_of(f), rules, {"t": f})
    assert [s.rule for s in out] == rules and [(s.kept, s.total) for s in out] == [(2, 3), (3, 3)]
    assert holds(md_of(f), rules[0], {"t": f}).tolist() == [True, False, True]
