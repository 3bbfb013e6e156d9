"""Discovery of the rules real rows keep (issue 17): each kind is found when it holds with support, and not found
when one row breaks it or the support is too small (noise never becomes a rule); values rarer than k are never
stored."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from dbsynth.metadata import CheckConstraint, Column, ForeignKey, Metadata, Table, UniqueConstraint
from dbsynth.rules.discover import DiscoverySettings, declared, discover
from dbsynth.rules.evaluate import score
from dbsynth.rules.records import (
    Aggregate,
    Check,
    Combination,
    Copied,
    Dependency,
    Domain,
    Order,
    ParentSum,
    RuleKind,
    RuleOrigin,
    SameAncestor,
    Unique,
)


def col(name, type_="integer", sdtype="numerical", **kw):
    return Column(name, type=type_, sdtype=sdtype, **kw)


def key(name):
    return Column(name, type="integer", sdtype="id", nullable=False)


def one_table(columns, frame, *, pk=("id",), **kw):
    """Metadata of one table ``t`` with an integer key ``id`` (added to ``frame``)."""
    frame = frame.copy()
    if pk:
        frame.insert(0, "id", np.arange(len(frame), dtype=np.int64))
        columns = [key("id"), *columns]
    md = Metadata({"t": Table("t", columns, primary_key=list(pk), **kw)})
    return md, {"t": frame}


def of(rules, kind):
    return [r for r in rules if r.kind == kind]


def rng(seed=0):
    return np.random.default_rng(seed)


# ---- order --------------------------------------------------------------------------------------------------
def order_frame(n=50):
    r = rng()
    a = r.integers(0, 100, n)
    return pd.DataFrame({"a": a, "b": a + r.integers(1, 10, n), "c": r.normal(50, 40, size=n)})


def test_order_found_with_gaps_and_support():
    md, frames = one_table([col("a"), col("b"), col("c", "float")], order_frame())
    orders = of(discover(md, frames), RuleKind.ORDER)
    assert [(o.low, o.high, o.strict) for o in orders] == [("a", "b", True)]
    o = orders[0]
    gap = frames["t"].b - frames["t"].a
    assert o.support == 50 and len(o.gaps) == 21
    assert o.gaps[0] == gap.min() and o.gaps[-1] == gap.max() and o.gaps[10] == gap.median()


def test_order_not_found_when_one_row_breaks_it():
    f = order_frame()
    f.loc[17, "b"] = f.loc[17, "a"] - 1
    md, frames = one_table([col("a"), col("b"), col("c", "float")], f)
    assert of(discover(md, frames), RuleKind.ORDER) == []


def test_order_broken_once_in_a_large_frame_is_not_found():
    f = order_frame(5000)
    f.loc[4321, "b"] = f.loc[4321, "a"] - 1  # a row the first, sampled pass does not look at
    md, frames = one_table([col("a"), col("b"), col("c", "float")], f)
    assert of(discover(md, frames), RuleKind.ORDER) == []


def test_order_needs_min_rows_where_both_are_set():
    f = order_frame(40).astype({"b": "Int64"})
    f.loc[19:, "b"] = pd.NA  # 19 rows with both set: below min_rows
    md, frames = one_table([col("a"), col("b"), col("c", "float")], f)
    assert of(discover(md, frames), RuleKind.ORDER) == []
    f = frames["t"]
    f.loc[19, "b"] = f.loc[19, "a"]  # 20 rows (one equal: not strict), NULLs left out
    orders = of(discover(md, frames), RuleKind.ORDER)
    assert [(o.low, o.high, o.strict, o.support) for o in orders] == [("a", "b", False, 20)]


def test_small_table_skipped():
    md, frames = one_table([col("a"), col("b"), col("c", "float")], order_frame(19))
    assert len(discover(md, frames)) == 0
    assert of(discover(md, frames, DiscoverySettings(min_rows=10)), RuleKind.ORDER)


def test_order_chain_drops_the_implied_pair():
    f = order_frame()
    f["d"] = f.b + 3
    md, frames = one_table([col("a"), col("b"), col("c", "float"), col("d")], f)
    pairs = {(o.low, o.high) for o in of(discover(md, frames), RuleKind.ORDER)}
    assert pairs == {("a", "b"), ("b", "d")}


def test_order_chain_keeps_the_pair_where_the_middle_is_null():
    f = order_frame()
    f["d"] = f.b + 3
    f["b"] = f.b.astype("Int64")
    f.loc[:4, "b"] = pd.NA  # where b is NULL nothing else says a <= d
    md, frames = one_table([col("a"), col("b"), col("c", "float"), col("d")], f)
    pairs = {(o.low, o.high) for o in of(discover(md, frames), RuleKind.ORDER)}
    assert pairs == {("a", "b"), ("b", "d"), ("a", "d")}


def test_order_chain_keeps_a_strict_pair_the_steps_do_not_imply():
    i = np.arange(40)
    a = i * 10
    b = a + i % 2  # a <= b, equal in even rows
    f = pd.DataFrame({"a": a, "b": b, "c": b + (i + 1) % 2})  # b <= c, equal in odd rows: a < c always
    md, frames = one_table([col("a"), col("b"), col("c")], f)
    found = {(o.low, o.high, o.strict) for o in of(discover(md, frames), RuleKind.ORDER)}
    assert found == {("a", "b", False), ("b", "c", False), ("a", "c", True)}


def test_order_of_dates_in_days_and_timestamps_in_microseconds():
    start = pd.Series(pd.date_range("2020-01-01", periods=30, freq="D")).astype("datetime64[us]")
    f = pd.DataFrame({"ordered": start, "shipped": start + pd.to_timedelta(np.arange(30) % 4, unit="D"),
                      "at": start + pd.Timedelta(hours=1)})
    md, frames = one_table([col("ordered", "date", "datetime"), col("shipped", "date", "datetime"),
                            col("at", "timestamp", "datetime")], f)
    orders = {(o.low, o.high): o for o in of(discover(md, frames), RuleKind.ORDER)}
    assert set(orders) == {("ordered", "shipped"), ("ordered", "at")}
    assert not orders[("ordered", "shipped")].strict and orders[("ordered", "shipped")].gaps[-1] == 3.0
    assert orders[("ordered", "at")].strict and orders[("ordered", "at")].gaps[0] == 3600 * 10**6


def test_keys_are_not_ordered_values():
    # a foreign key typed as a number (not sdtype id) is still a key: never ordered, counted or a domain
    f = pd.DataFrame({"parent_id": np.arange(30) % 3 + 100})
    md, frames = one_table([col("parent_id")], f, foreign_keys=[ForeignKey(["parent_id"], "p", ["id"])])
    assert len(discover(md, frames)) == 0


# ---- unique -------------------------------------------------------------------------------------------------
def unique_frame(n=30):
    return pd.DataFrame({"code": [f"C{i:03d}" for i in range(n)], "num": np.arange(n) * 7,
                         "price": np.arange(n) * 1.5, "story": [f"{'x' * 50} {i}" for i in range(n)]})


UNIQUE_COLS = [col("code", "string", "categorical"), col("num"), col("price", "float"),
               col("story", "string", "text")]


def test_unique_non_key_columns_found():
    md, frames = one_table(UNIQUE_COLS, unique_frame())
    found = {r.names: r.support for r in of(discover(md, frames), RuleKind.UNIQUE)}
    assert found == {("code",): 30, ("num",): 30}  # floats and free text are distinct by chance


def test_unique_not_found_with_one_repeat_nor_when_declared_nor_below_support():
    f = unique_frame()
    f.loc[5, "code"] = f.loc[6, "code"]
    md, frames = one_table(UNIQUE_COLS, f, unique_constraints=[UniqueConstraint(["num"])])
    assert of(discover(md, frames), RuleKind.UNIQUE) == []
    f = unique_frame().astype({"num": "Int64"})
    f.loc[:10, "num"] = pd.NA  # 19 values set
    md, frames = one_table(UNIQUE_COLS, f)
    assert [r.names for r in of(discover(md, frames), RuleKind.UNIQUE)] == [("code",)]


def bridge(n=40, repeat=False):
    pairs = [(i % 8, i // 8) for i in range(n)]
    if repeat:
        pairs[-1] = pairs[0]
    f = pd.DataFrame(pairs, columns=["a_id", "b_id"])
    t = Table("ab", [key("a_id"), key("b_id")],
              foreign_keys=[ForeignKey(["a_id"], "a", ["id"]), ForeignKey(["b_id"], "b", ["id"])])
    return Metadata({"ab": t}), {"ab": f}


def test_bridge_pairs_unique_found_and_not_with_a_repeat():
    md, frames = bridge()
    assert [(r.table, r.names, r.support) for r in of(discover(md, frames), RuleKind.UNIQUE)] == [
        ("ab", ("a_id", "b_id"), 40)]
    md, frames = bridge(repeat=True)
    assert of(discover(md, frames), RuleKind.UNIQUE) == []


def test_one_composite_foreign_key_of_a_keyless_table():
    f = pd.DataFrame({"a": np.arange(30) // 3, "b": np.arange(30) % 3})
    t = Table("ab", [key("a"), key("b")], foreign_keys=[ForeignKey(["a", "b"], "p", ["x", "y"])])
    assert [r.names for r in of(discover(Metadata({"ab": t}), {"ab": f}), RuleKind.UNIQUE)] == [("a", "b")]
    f.loc[29] = f.loc[0]
    assert of(discover(Metadata({"ab": t}), {"ab": f}), RuleKind.UNIQUE) == []


def test_bridge_rule_only_without_a_primary_key():
    md, frames = bridge()
    md.tables["ab"].columns.append(key("id"))
    md.tables["ab"].primary_key = ["id"]
    frames["ab"]["id"] = np.arange(40)
    assert of(discover(md, frames), RuleKind.UNIQUE) == []


# ---- domain -------------------------------------------------------------------------------------------------
def test_domain_keeps_only_values_seen_k_times():
    values = [1] * 10 + [2] * 10 + [3] * 5 + [9] * 4 + [7]
    f = pd.DataFrame({"bucket": values, "price": [Decimal("0.99")] * 15 + [Decimal("1.99")] * 15})
    md, frames = one_table([col("bucket"), col("price", "decimal", scale=2)], f)
    domains = {r.column: r for r in of(discover(md, frames), RuleKind.DOMAIN)}
    assert domains["bucket"].values == (1, 2, 3) and domains["bucket"].support == 25
    assert all(type(v) is int for v in domains["bucket"].values)
    assert domains["price"].values == (0.99, 1.99)


def test_domain_not_found_with_many_values_or_little_support():
    f = pd.DataFrame({"many": np.arange(200) % 21, "few": np.arange(200) % 3})
    md, frames = one_table([col("many"), col("few")], f)
    assert [r.column for r in of(discover(md, frames), RuleKind.DOMAIN)] == ["few"]
    f = pd.DataFrame({"x": np.arange(40) % 10})  # 40 rows < 5 * 10 distinct
    md, frames = one_table([col("x")], f)
    assert of(discover(md, frames), RuleKind.DOMAIN) == []
    f = pd.DataFrame({"x": np.arange(40) * 0.123})  # continuous
    md, frames = one_table([col("x", "float")], f)
    assert of(discover(md, frames), RuleKind.DOMAIN) == []


# ---- dependency and combination -----------------------------------------------------------------------------
CITIES = {"Lyon": "FR", "Paris": "FR", "Nice": "FR", "Berlin": "DE", "Bonn": "DE", "Rome": "IT"}


def city_frame():
    cities = [c for c in CITIES for _ in range(10)] + ["Milan", "Milan"]  # Milan: rarer than k
    return pd.DataFrame({"city": cities, "country": [CITIES.get(c, "IT") for c in cities]})


CITY_COLS = [col("city", "string", "categorical"), col("country", "string", "categorical")]


def test_dependency_found_with_pairs_of_frequent_values_only():
    md, frames = one_table(CITY_COLS, city_frame())
    deps = of(discover(md, frames), RuleKind.DEPENDENCY)
    assert [(d.determinant, d.dependent, d.support) for d in deps] == [(("city",), "country", 62)]
    assert dict(deps[0].pairs) == {(c,): k for c, k in CITIES.items()}  # no Milan
    assert of(discover(md, frames), RuleKind.COMBINATION) == []  # a dependency, not a combination


def test_dependency_of_pii_or_free_text_stores_no_values():
    f = city_frame()
    f["district"] = f.city + " district"
    cols = [col("city", "string", "city"), col("country", "string", "categorical"), col("district", "string", "text")]
    md, frames = one_table(cols, f)
    deps = of(discover(md, frames), RuleKind.DEPENDENCY)
    assert {(d.determinant[0], d.dependent) for d in deps} == {("city", "country"), ("city", "district"),
                                                               ("district", "city"), ("district", "country")}
    assert all(d.pairs == () for d in deps)
    assert of(discover(md, frames), RuleKind.COMBINATION) == []


def test_dependency_not_found_when_one_row_breaks_it():
    f = city_frame()
    f.loc[3, "country"] = "DE"
    md, frames = one_table(CITY_COLS, f)
    assert of(discover(md, frames), RuleKind.DEPENDENCY) == []


def test_dependency_and_combination_in_a_large_frame():
    r = rng(3)
    cities = r.choice(list(CITIES), 10_000)
    f = pd.DataFrame({"city": cities, "country": [CITIES[c] for c in cities],
                      "a": r.choice(list("xyz"), 10_000)})
    # x meets p and q, y q and r, z r and s: 6 of 12 combinations, no dependency either way
    f["b"] = np.array(list("pqrs"))[f.a.map({"x": 0, "y": 1, "z": 2}).to_numpy() + r.integers(0, 2, 10_000)]
    cols = [*CITY_COLS, col("a", "string", "categorical"), col("b", "string", "categorical")]
    md, frames = one_table(cols, f)
    found = discover(md, frames)
    assert [(d.determinant, d.dependent) for d in of(found, RuleKind.DEPENDENCY)] == [(("city",), "country")]
    assert [c.names for c in of(found, RuleKind.COMBINATION)] == [("a", "b")]
    g = frames["t"]
    g.loc[5001, "country"] = "DE" if g.loc[5001, "country"] != "DE" else "FR"  # a row the sampled pass skips
    g.loc[5002, "b"] = "s" if g.loc[5002, "a"] == "x" else "p"
    found = discover(md, frames)
    assert of(found, RuleKind.DEPENDENCY) == [] and of(found, RuleKind.COMBINATION) == []


def test_dependency_needs_repeating_determinants():
    # 30 rows, 15 determinant values: only 15 rows repeat one (< min_rows), so a -> b may be chance
    f = pd.DataFrame({"a": [f"v{i // 2}" for i in range(30)], "b": [f"w{i // 4}" for i in range(30)]})
    md, frames = one_table([col("a", "string", "categorical"), col("b", "string", "categorical")], f)
    assert of(discover(md, frames), RuleKind.DEPENDENCY) == []
    assert of(discover(md, frames, DiscoverySettings(min_rows=15)), RuleKind.DEPENDENCY)


def test_one_to_one_recoding_gives_both_directions_and_constants_none():
    f = pd.DataFrame({"code": list("ABC") * 20, "label": ["alpha", "beta", "gamma"] * 20, "same": ["x"] * 60})
    cols = [col("code", "string", "categorical"), col("label", "string", "categorical"),
            col("same", "string", "categorical")]
    md, frames = one_table(cols, f)
    deps = {(d.determinant[0], d.dependent) for d in of(discover(md, frames), RuleKind.DEPENDENCY)}
    assert deps == {("code", "label"), ("label", "code")}
    assert of(discover(md, frames), RuleKind.COMBINATION) == []  # 3 of 9 seen, but a dependency


SEEN = [("x", "p"), ("x", "q"), ("y", "q"), ("y", "r"), ("z", "r"), ("w", "s"), ("z", "s")]  # 7 of 16


def test_dependency_of_integer_columns_stores_ints():
    f = pd.DataFrame({"grade": np.arange(60) % 4, "band": (np.arange(60) % 4) // 2 + 10})
    md, frames = one_table([col("grade"), col("band")], f)
    dep = next(d for d in of(discover(md, frames), RuleKind.DEPENDENCY) if d.determinant == ("grade",))
    assert dep.pairs == (((0,), 10), ((1,), 10), ((2,), 11), ((3,), 11))
    assert all(type(k[0]) is int and type(v) is int for k, v in dep.pairs)


def combo_frame(seen=SEEN, rare=False):
    rows = [c for c in seen for _ in range(6)]
    if rare:
        rows[-3:] = [("w", "p")] * 3  # a combination seen fewer than k times (8 of 16 seen)
    return pd.DataFrame(rows, columns=["a", "b"])


COMBO_COLS = [col("a", "string", "categorical"), col("b", "string", "categorical")]


def test_combination_found():
    md, frames = one_table(COMBO_COLS, combo_frame())
    found = of(discover(md, frames), RuleKind.COMBINATION)
    assert [(r.names, set(r.combos), r.support) for r in found] == [(("a", "b"), set(SEEN), 42)]


def test_combination_not_found_with_a_rare_combination_or_most_combinations_seen():
    md, frames = one_table(COMBO_COLS, combo_frame(rare=True))
    assert of(discover(md, frames), RuleKind.COMBINATION) == []
    most = [(a, b) for a in "xyz" for b in "pqr" if (a, b) not in (("x", "r"), ("z", "p"), ("y", "q"))]
    md, frames = one_table(COMBO_COLS, combo_frame(most))  # 6 of 9
    assert of(discover(md, frames), RuleKind.COMBINATION) == []
    private = [col("a", "string", "first_name"), col("b", "string", "categorical")]
    md, frames = one_table(private, combo_frame())  # PII: combinations would store its values
    assert of(discover(md, frames), RuleKind.COMBINATION) == []


# ---- across tables ------------------------------------------------------------------------------------------
def shop(n_customers=30, n_rentals=120, seed=1):
    """customer <- rental <- payment (payment also -> customer), product <- line -> order."""
    r = rng(seed)
    customer = pd.DataFrame({"id": np.arange(n_customers), "tier": r.integers(0, 3, n_customers)})
    rental = pd.DataFrame({"id": np.arange(n_rentals), "customer_id": r.integers(0, n_customers, n_rentals)})
    payment = pd.DataFrame({"id": np.arange(2 * n_rentals), "rental_id": np.arange(2 * n_rentals) // 2})
    payment["customer_id"] = rental.customer_id.to_numpy()[payment.rental_id]
    payment["amount"] = r.integers(1, 20, len(payment)).astype(float)
    tables = {
        "customer": Table("customer", [key("id"), col("tier")], primary_key=["id"]),
        "rental": Table("rental", [key("id"), key("customer_id")], primary_key=["id"],
                        foreign_keys=[ForeignKey(["customer_id"], "customer", ["id"])]),
        "payment": Table("payment", [key("id"), key("rental_id"), key("customer_id"), col("amount", "float")],
                         primary_key=["id"], foreign_keys=[ForeignKey(["rental_id"], "rental", ["id"]),
                                                           ForeignKey(["customer_id"], "customer", ["id"])]),
    }
    return Metadata(tables), {"customer": customer, "rental": rental, "payment": payment}


def test_same_ancestor_found():
    md, frames = shop()
    found = of(discover(md, frames), RuleKind.SAME_ANCESTOR)
    assert found == [SameAncestor(table="payment", direct=("customer_id",), via=("rental_id",), parent="rental",
                                  parent_key=("id",), parent_direct=("customer_id",), ancestor="customer",
                                  support=240)]


def test_same_ancestor_not_found_when_broken_or_incomplete():
    md, frames = shop()
    p = frames["payment"]
    p.loc[7, "customer_id"] = (p.loc[7, "customer_id"] + 1) % 30
    assert of(discover(md, frames), RuleKind.SAME_ANCESTOR) == []
    md, frames = shop()
    assert of(discover(md, frames, complete=frozenset({"payment", "customer"})), RuleKind.SAME_ANCESTOR) == []


def shares(n_parents=25, exact=True):
    """country <- language share: each country's shares add up to 100 (or at most 100)."""
    rows = []
    for c in range(n_parents):
        k = 2 + c % 3
        parts = np.full(k, 100.0 / k)
        if not exact and c % 2:
            parts = parts * 0.8
        rows += [(c, v) for v in parts]
    f = pd.DataFrame(rows, columns=["country_id", "pct"])
    t = Table("lang", [key("country_id"), col("pct", "float")],
              foreign_keys=[ForeignKey(["country_id"], "country", ["id"])])
    return Metadata({"lang": t}), {"lang": f}


def test_parent_sum_exact_and_bounded():
    md, frames = shares()
    assert of(discover(md, frames), RuleKind.PARENT_SUM) == [
        ParentSum(table="lang", column="pct", by=("country_id",), bound=100.0, exact=True, support=25)]
    md, frames = shares(exact=False)
    assert of(discover(md, frames), RuleKind.PARENT_SUM) == [
        ParentSum(table="lang", column="pct", by=("country_id",), bound=100.0, exact=False, support=25)]


def test_parent_sum_not_found_when_over_or_with_few_parents_or_incomplete():
    md, frames = shares(exact=False)
    frames["lang"].loc[0, "pct"] += 1.0  # one country sums to 101
    assert of(discover(md, frames), RuleKind.PARENT_SUM) == []
    md, frames = shares(n_parents=19)
    assert of(discover(md, frames), RuleKind.PARENT_SUM) == []
    md, frames = shares()
    assert of(discover(md, frames, complete=frozenset()), RuleKind.PARENT_SUM) == []
    md, frames = shares()
    lang = frames["lang"]
    lang.loc[0, "pct"] -= 150.0  # a negative value: sums are no shares
    lang.loc[1, "pct"] += 150.0
    assert of(discover(md, frames), RuleKind.PARENT_SUM) == []


def test_parent_sum_of_a_constant_column_is_no_rule():
    # 3 children of 10 each per parent: the sums are equal by construction, not a rule of the data
    f = pd.DataFrame({"country_id": np.arange(75) // 3, "pct": 10.0})
    t = Table("lang", [key("country_id"), col("pct", "float")],
              foreign_keys=[ForeignKey(["country_id"], "country", ["id"])])
    assert of(discover(Metadata({"lang": t}), {"lang": f}), RuleKind.PARENT_SUM) == []


def invoices(n=30, seed=2):
    r = rng(seed)
    product = pd.DataFrame({"id": np.arange(10), "price": np.round(r.uniform(1, 9, 10), 2)})
    line = pd.DataFrame({"id": np.arange(4 * n), "invoice_id": r.integers(0, n, 4 * n),
                         "product_id": r.integers(0, 10, 4 * n), "qty": r.integers(1, 4, 4 * n)})
    line["price"] = product.price.to_numpy()[line.product_id]
    total = (line.price * line.qty).groupby(line.invoice_id).sum()
    invoice = pd.DataFrame({"id": np.arange(n + 3)})  # 3 invoices without lines: total 0
    invoice["total"] = np.round(total.reindex(invoice.id, fill_value=0.0).to_numpy(), 2)
    invoice["lines"] = line.invoice_id.value_counts().reindex(invoice.id, fill_value=0).to_numpy()
    tables = {
        "product": Table("product", [key("id"), col("price", "decimal", scale=2)], primary_key=["id"]),
        "invoice": Table("invoice", [key("id"), col("total", "decimal", scale=2), col("lines")], primary_key=["id"]),
        "line": Table("line", [key("id"), key("invoice_id"), key("product_id"), col("qty"),
                               col("price", "decimal", scale=2)], primary_key=["id"],
                      foreign_keys=[ForeignKey(["invoice_id"], "invoice", ["id"]),
                                    ForeignKey(["product_id"], "product", ["id"])]),
    }
    return Metadata(tables), {"product": product, "invoice": invoice, "line": line}


def test_aggregate_sum_of_products_and_count_found():
    md, frames = invoices()
    found = {r.column: r for r in of(discover(md, frames), RuleKind.AGGREGATE)}
    assert found["total"] == Aggregate(table="invoice", column="total", child="line", by=("invoice_id",),
                                       key=("id",), terms=("qty", "price"), function="sum", empty=0.0, support=33)
    assert found["lines"].function == "count" and found["lines"].terms == ()


def test_aggregate_not_found_when_one_parent_is_off():
    md, frames = invoices()
    frames["invoice"].loc[4, "total"] += 0.02  # beyond half a cent
    assert "total" not in {r.column for r in of(discover(md, frames), RuleKind.AGGREGATE)}
    md, frames = invoices()
    frames["invoice"].loc[4, "total"] += 0.004  # rounding within the scale
    assert "total" in {r.column for r in of(discover(md, frames), RuleKind.AGGREGATE)}
    md, frames = invoices()
    frames["invoice"].loc[31, "total"] = 5.0  # a childless invoice holding a total
    assert "total" not in {r.column for r in of(discover(md, frames), RuleKind.AGGREGATE)}


def test_aggregate_of_childless_parents_null_or_zero():
    md, frames = invoices()
    inv = frames["invoice"]
    inv.loc[30:, "total"] = np.nan  # the 3 invoices without lines hold NULL
    found = {r.column: r for r in of(discover(md, frames), RuleKind.AGGREGATE)}
    assert found["total"].empty is None and found["lines"].empty == 0.0
    inv.loc[31, "total"] = 0.0  # NULL and 0 mixed: no rule
    assert "total" not in {r.column for r in of(discover(md, frames), RuleKind.AGGREGATE)}


def test_copied_found_and_not_when_broken_or_constant():
    md, frames = invoices()
    assert of(discover(md, frames), RuleKind.COPIED) == [
        Copied(table="line", column="price", by=("product_id",), parent="product", key=("id",),
               parent_column="price", support=120)]
    frames["line"].loc[3, "price"] += 1
    assert of(discover(md, frames), RuleKind.COPIED) == []
    md, frames = invoices()
    frames["product"]["price"] = 2.0
    frames["line"]["price"] = 2.0
    assert of(discover(md, frames), RuleKind.COPIED) == []


# ---- declared, order, agreement with the scorer -------------------------------------------------------------
def test_declared_checks_as_records():
    t = Table("t", [key("id"), col("lo"), col("hi")], primary_key=["id"],
              check_constraints=[CheckConstraint("hi >= lo", name="ck_order"), CheckConstraint("lo > 0")])
    rules = declared(Metadata({"t": t}, dialect="sqlite"))
    assert list(rules) == [
        Check(table="t", origin=RuleOrigin.DECLARED, constraint="ck_order", sqltext="hi >= lo", names=("hi", "lo")),
        Check(table="t", origin=RuleOrigin.DECLARED, constraint="t_check2", sqltext="lo > 0", names=("lo",))]


def test_rules_sorted_and_hold_on_their_own_rows():
    md, frames = invoices()
    rules = discover(md, frames)
    keys = [(r.table, str(r.kind), r.name) for r in rules]
    assert keys == sorted(keys) and len(keys) == len(set(keys))
    for s in score(md, rules, frames):
        assert s.kept == s.total == s.rule.support and not s.detail, s


@pytest.fixture(scope="module")
def chinook():
    import dbsynth
    from dbsynth.read import read_tables
    from dbsynth.urls import resolve_url

    url = resolve_url("builtin:chinook")
    md = dbsynth.reflect(url)
    return md, read_tables(url, md)


def test_chinook_rules(chinook):
    md, frames = chinook
    rules = discover(md, frames)
    names = set(rules.names())
    assert "copied:InvoiceLine:UnitPrice" in names
    assert "aggregate:Invoice:Total=sum(InvoiceLine.UnitPrice*Quantity)" in names
    assert {"unique:Genre:Name", "unique:Artist:Name", "unique:Album:Title"} <= names
    assert "copied:Invoice:BillingCountry" in names
    assert "dependency:Invoice:BillingCity,BillingCountry" in names
    domain = next(r for r in rules if r.name == "domain:Track:UnitPrice")
    assert isinstance(domain, Domain) and domain.values == (0.99, 1.99)
    city = next(r for r in rules if r.name == "dependency:Invoice:BillingCity,BillingCountry")
    assert isinstance(city, Dependency) and ((("Paris",), "France") in city.pairs)
    assert not [r for r in rules if r.table in ("MediaType", "Employee")]  # fewer rows than min_rows
    assert not of(rules, RuleKind.ORDER) or all(isinstance(r, Order) for r in of(rules, RuleKind.ORDER))
    for s in score(md, rules, frames):
        assert s.kept == s.total and s.total > 0, s
    assert isinstance(next(r for r in rules if r.kind == RuleKind.UNIQUE), Unique)
    assert not of(rules, RuleKind.COMBINATION) or isinstance(of(rules, RuleKind.COMBINATION)[0], Combination)
