"""The engine keeps the cross-table rules (dbsynth.sample.rules): same ancestor, copied columns, aggregates of the
children, unique rules, with every synthesizer, in one batch and in many."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dbsynth.batch import BatchKind
from dbsynth.metadata import Column, ForeignKey, Metadata, Table
from dbsynth.rules.records import Aggregate, Copied, RuleSet, SameAncestor, Unique
from dbsynth.sample.engine import Engine
from dbsynth.sample.refs import join_batches
from dbsynth.synthesizers import HMASynthesizer, HSASynthesizer, IndependentSynthesizer

ALL = [HMASynthesizer, HSASynthesizer, IndependentSynthesizer]
BATCHES = [None, 23]  # one batch per table; many small ones


def _schema(seed: int = 0) -> tuple[Metadata, dict[str, pd.DataFrame]]:
    """A small rental shop whose real rows keep every rule of :func:`_rules`.

    ``payment`` is driven by its NOT NULL customer (the rental is nullable), ``refund`` by its rental (the deeper
    parent, both NOT NULL); ``wish`` is a bridge table without a key; aggregates count and sum the children.
    """
    rng = np.random.default_rng(seed)
    nc, nf = 60, 15
    customer = pd.DataFrame({
        "id": np.arange(1, nc + 1),
        "level": pd.array(np.where(rng.uniform(size=nc) < 0.2, None, rng.integers(1, 5, nc)), dtype="Int64"),
        "code": rng.permutation(nc) * 7 + 11,
        "spent": 0.0,
        "paid": 0.0,
    })
    film = pd.DataFrame({"id": np.arange(1, nf + 1), "price": rng.choice([0.99, 1.99, 2.99, 4.99], nf),
                         "kind": rng.choice(["a", "b", "c"], nf), "n_rentals": 0})
    nr = 300
    rental = pd.DataFrame({
        "id": np.arange(1, nr + 1),
        "customer_id": rng.integers(1, nc + 1, nr),
        "film_id": rng.integers(1, nf + 1, nr),
        "qty": rng.integers(1, 4, nr),
        "n_payments": 0,
    })
    rental["price"] = film.set_index("id")["price"].reindex(rental["film_id"]).to_numpy()
    rental["level"] = customer.set_index("id")["level"].reindex(rental["customer_id"]).array
    npay = 400
    r_of = rng.integers(0, nr, npay)
    has = rng.uniform(size=npay) < 0.8
    payment = pd.DataFrame({
        "id": np.arange(1, npay + 1),
        "customer_id": np.where(has, rental["customer_id"].to_numpy()[r_of], rng.integers(1, nc + 1, npay)),
        "rental_id": pd.array(np.where(has, r_of + 1, None), dtype="Int64"),
        "amount": rng.choice([1.0, 2.5, 3.99], npay),
    })
    nref = 120
    r2 = rng.integers(0, nr, nref)
    refund = pd.DataFrame({"id": np.arange(1, nref + 1), "rental_id": r2 + 1,
                           "customer_id": rental["customer_id"].to_numpy()[r2], "amount": rng.uniform(0, 3, nref)})
    pairs = rng.permutation(nc * nf)[:200]
    wish = pd.DataFrame({"customer_id": pairs // nf + 1, "film_id": pairs % nf + 1,
                         "note": rng.choice(["x", "y"], len(pairs))})
    film["n_rentals"] = rental.groupby("film_id").size().reindex(film["id"], fill_value=0).to_numpy()
    per = payment.groupby("rental_id").size()
    rental["n_payments"] = per.reindex(rental["id"], fill_value=0).to_numpy()
    customer["spent"] = (rental.assign(v=rental["price"] * rental["qty"]).groupby("customer_id")["v"].sum()
                         .reindex(customer["id"], fill_value=0).round(2).to_numpy())
    customer["paid"] = payment.groupby("customer_id")["amount"].sum().reindex(customer["id"], fill_value=0).round(
        2).to_numpy()

    def key(name: str = "id", nullable: bool = False) -> Column:
        return Column(name, "integer", "id", nullable=nullable)

    dec = dict(type="decimal", sdtype="numerical", precision=10, scale=2)
    md = Metadata(tables={
        "customer": Table("customer", [key(), Column("level", "integer", "numerical"),
                                       Column("code", "integer", "numerical", nullable=False),
                                       Column("spent", **dec), Column("paid", **dec)], primary_key=["id"]),
        "film": Table("film", [key(), Column("price", type="decimal", sdtype="numerical", precision=5, scale=2),
                               Column("kind", "string", "categorical"),
                               Column("n_rentals", "integer", "numerical")], primary_key=["id"]),
        "rental": Table("rental", [key(), key("customer_id"), key("film_id"), Column("qty", "integer", "numerical"),
                                   Column("n_payments", "integer", "numerical"),
                                   Column("price", type="decimal", sdtype="numerical", precision=5, scale=2),
                                   Column("level", "integer", "numerical")],
                        primary_key=["id"], foreign_keys=[ForeignKey(["customer_id"], "customer", ["id"], name="r_c"),
                                                          ForeignKey(["film_id"], "film", ["id"], name="r_f")]),
        "payment": Table("payment", [key(), key("customer_id"), key("rental_id", nullable=True),
                                     Column("amount", "float", "numerical")],
                         primary_key=["id"], foreign_keys=[ForeignKey(["customer_id"], "customer", ["id"], name="p_c"),
                                                           ForeignKey(["rental_id"], "rental", ["id"], name="p_r")]),
        "refund": Table("refund", [key(), key("rental_id"), key("customer_id"), Column("amount", "float", "numerical")],
                        primary_key=["id"], foreign_keys=[ForeignKey(["rental_id"], "rental", ["id"], name="f_r"),
                                                          ForeignKey(["customer_id"], "customer", ["id"], name="f_c")]),
        "wish": Table("wish", [key("customer_id"), key("film_id"), Column("note", "string", "categorical")],
                      foreign_keys=[ForeignKey(["customer_id"], "customer", ["id"], name="w_c"),
                                    ForeignKey(["film_id"], "film", ["id"], name="w_f")]),
    })
    data = {"customer": customer, "film": film, "rental": rental, "payment": payment, "refund": refund, "wish": wish}
    return md, data


def _same(table: str) -> SameAncestor:
    return SameAncestor(table=table, direct=("customer_id",), via=("rental_id",), parent="rental",
                        parent_key=("id",), parent_direct=("customer_id",), ancestor="customer")


PAYMENT_SAME = _same("payment")
REFUND_SAME = _same("refund")
PRICE = Copied(table="rental", column="price", by=("film_id",), parent="film", key=("id",), parent_column="price")
LEVEL = Copied(table="rental", column="level", by=("customer_id",), parent="customer", key=("id",),
               parent_column="level")
COUNT = Aggregate(table="rental", column="n_payments", child="payment", by=("rental_id",), key=("id",),
                  function="count", empty=0.0)
# rental is driven by its customer: a film's rentals come in many batches
RENTALS = Aggregate(table="film", column="n_rentals", child="rental", by=("film_id",), key=("id",),
                    function="count", empty=0.0)
SPENT = Aggregate(table="customer", column="spent", child="rental", by=("customer_id",), key=("id",),
                  terms=("price", "qty"))
PAID = Aggregate(table="customer", column="paid", child="payment", by=("customer_id",), key=("id",),
                 terms=("amount",), empty=None)
WISH = Unique(table="wish", names=("customer_id", "film_id"))
CODE = Unique(table="customer", names=("code",))


def _rules() -> RuleSet:
    return RuleSet((PAYMENT_SAME, REFUND_SAME, PRICE, LEVEL, COUNT, RENTALS, SPENT, PAID, WISH, CODE))


def _engine(synth, rules: RuleSet | None) -> Engine:
    return Engine(synth.metadata, synth.strategy(), synth.seed, synth.progress_task, rules=rules)


def _sample(synth, rules: RuleSet | None, batch_rows: int | None, scale: float = 1.0) -> dict[str, pd.DataFrame]:
    return join_batches(synth.metadata, _engine(synth, rules).batches(scale, {}, batch_rows))


@pytest.fixture(scope="module")
def fitted():
    md, data = _schema()
    return {cls: cls(md, seed=0, verbose=False).fit(data) for cls in ALL}


# ---- the checks (tests only: production code never re-verifies) ---------------------------------------------
def _same_broken(out: dict[str, pd.DataFrame], rule: SameAncestor) -> int:
    child, parent = out[rule.table], out[rule.parent]
    set_ = child[rule.via[0]].notna()
    want = parent.set_index(rule.parent_key[0])[rule.parent_direct[0]]
    got = want.reindex(child.loc[set_, rule.via[0]].astype("int64")).to_numpy()
    return int((child.loc[set_, rule.direct[0]].to_numpy() != got).sum())


def _copied_broken(out: dict[str, pd.DataFrame], rule: Copied) -> int:
    child, parent = out[rule.table], out[rule.parent]
    want = parent.set_index(rule.key[0])[rule.parent_column].reindex(child[rule.by[0]]).reset_index(drop=True)
    got = child[rule.column].reset_index(drop=True)
    both_null = want.isna() & got.isna()
    if pd.api.types.is_numeric_dtype(want.dtype):
        equal = pd.Series(np.isclose(pd.to_numeric(got, errors="coerce").astype(float),
                                     pd.to_numeric(want, errors="coerce").astype(float), rtol=0, atol=1e-9))
    else:
        equal = pd.Series(got.astype(object).to_numpy() == want.astype(object).to_numpy())
    return int((~(equal | both_null)).sum())


def _aggregate_expected(out: dict[str, pd.DataFrame], rule: Aggregate) -> pd.Series:
    child, parent = out[rule.child], out[rule.table]
    if rule.function == "count":
        per = child.groupby(rule.by[0]).size().astype(float)
    else:
        v = np.prod([child[t].astype(float).to_numpy() for t in rule.terms], axis=0)
        per = pd.Series(v).groupby(child[rule.by[0]].to_numpy()).sum()
    return per.reindex(parent[rule.key[0]].to_numpy())


def _aggregate_broken(out: dict[str, pd.DataFrame], rule: Aggregate, scale: int = 2) -> int:
    want = _aggregate_expected(out, rule).round(scale).to_numpy()
    got = out[rule.table][rule.column].astype(float).to_numpy()
    empty = np.isnan(want)
    if rule.empty is None:
        bad = empty != np.isnan(got)
    else:
        bad = empty & (got != rule.empty)
    bad |= ~empty & (got != want)
    return int(bad.sum())


def _duplicates(out: dict[str, pd.DataFrame], rule: Unique) -> int:
    return int(out[rule.table][list(rule.names)].dropna().duplicated().sum())


def _broken(out: dict[str, pd.DataFrame]) -> dict[str, int]:
    return {
        PAYMENT_SAME.name: _same_broken(out, PAYMENT_SAME), REFUND_SAME.name: _same_broken(out, REFUND_SAME),
        PRICE.name: _copied_broken(out, PRICE), LEVEL.name: _copied_broken(out, LEVEL),
        COUNT.name: _aggregate_broken(out, COUNT), RENTALS.name: _aggregate_broken(out, RENTALS),
        SPENT.name: _aggregate_broken(out, SPENT),
        PAID.name: _aggregate_broken(out, PAID), WISH.name: _duplicates(out, WISH), CODE.name: _duplicates(out, CODE),
    }


def _valid_references(md: Metadata, out: dict[str, pd.DataFrame]) -> None:
    for t, table in md.tables.items():
        for fk in table.foreign_keys:
            child = out[t][fk.columns[0]].dropna()
            assert child.isin(out[fk.ref_table][fk.ref_columns[0]]).all(), (t, fk.columns)


# ---- the rules hold ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("batch_rows", BATCHES)
@pytest.mark.parametrize("cls", ALL)
def test_every_cross_table_rule_holds_in_every_row(fitted, cls, batch_rows):
    synth = fitted[cls]
    out = _sample(synth, _rules(), batch_rows)
    assert _broken(out) == dict.fromkeys(_broken(out), 0)
    _valid_references(synth.metadata, out)
    # something was constrained: rows with the other parent set, children per aggregate parent
    assert out["payment"]["rental_id"].notna().sum() > 50 and len(out["refund"]) > 20
    assert out["customer"]["spent"].gt(0).sum() > 10 and out["rental"]["n_payments"].gt(0).sum() > 10
    assert out["customer"]["paid"].isna().sum() < len(out["customer"])


@pytest.mark.parametrize("cls", ALL)
def test_without_rules_the_sample_breaks_them(fitted, cls):
    """The data does not keep the rules by chance: without them, each is broken somewhere."""
    broken = _broken(_sample(fitted[cls], None, 23))
    for name in (PAYMENT_SAME.name, REFUND_SAME.name, PRICE.name, COUNT.name, RENTALS.name, SPENT.name, PAID.name):
        assert broken[name] > 0, name


@pytest.mark.parametrize("cls", ALL)
def test_no_rule_or_an_empty_rule_set_gives_the_same_rows(fitted, cls):
    synth = fitted[cls]
    for batch_rows in BATCHES:
        a = list(_engine(synth, None).batches(1.0, {}, batch_rows))
        b = list(_engine(synth, RuleSet()).batches(1.0, {}, batch_rows))
        assert [(x.table, x.kind) for x in a] == [(y.table, y.kind) for y in b]
        for x, y in zip(a, b):
            pd.testing.assert_frame_equal(x.frame, y.frame)


@pytest.mark.parametrize("cls", ALL)
def test_rules_draw_from_their_own_stream(fitted, cls):
    """A rule on the last table leaves every other table's rows as drawn without it."""
    synth = fitted[cls]
    plain, ruled = _sample(synth, None, 23), _sample(synth, RuleSet((WISH,)), 23)
    for t in ("customer", "film", "rental", "payment", "refund"):
        pd.testing.assert_frame_equal(plain[t], ruled[t])


def test_same_ancestor_by_choosing_the_other_parent_keeps_the_driving_counts(fitted):
    """payment is driven by its customer: the rule picks the rental among the customer's, so every customer
    keeps the payments drawn for it."""
    synth = fitted[HMASynthesizer]
    plain = _sample(synth, None, 23)
    kept = _sample(synth, RuleSet((PAYMENT_SAME,)), 23)
    pd.testing.assert_series_equal(plain["payment"]["customer_id"], kept["payment"]["customer_id"])
    assert _same_broken(kept, PAYMENT_SAME) == 0
    # the payments spread over the customer's rentals rather than piling on one
    per = kept["payment"]["rental_id"].dropna().value_counts()
    assert per.max() <= 4


def test_aggregates_come_as_updates_after_the_children(fitted):
    synth = fitted[HMASynthesizer]
    batches = list(_engine(synth, RuleSet((COUNT, SPENT))).batches(1.0, {}, 23))
    updates = [(i, b) for i, b in enumerate(batches) if b.kind is BatchKind.UPDATE]
    assert {b.table for _, b in updates} == {"rental", "customer"}
    last_child = max(i for i, b in enumerate(batches) if b.table in ("payment", "rental") and not b.is_update)
    assert min(i for i, _ in updates) > last_child
    for _, b in updates:  # the primary key and the aggregate, nothing else
        assert list(b.frame.columns) in (["id", "n_payments"], ["id", "spent"])
    spent = pd.concat([b.frame for _, b in updates if "spent" in b.frame.columns], ignore_index=True)
    assert spent["spent"].dtype == np.float64  # the decimals' representation in sampled rows
    n = pd.concat([b.frame for _, b in updates if "n_payments" in b.frame.columns], ignore_index=True)
    assert n["n_payments"].dtype == np.int64


def test_unique_rule_on_a_keyless_bridge_swaps_references_instead_of_inventing_them(fitted):
    synth = fitted[HMASynthesizer]
    plain = _sample(synth, None, 23)
    out = _sample(synth, RuleSet((WISH,)), 23)
    assert _duplicates(plain, WISH) > 0  # the model alone repeats pairs
    assert _duplicates(out, WISH) == 0
    _valid_references(synth.metadata, out)
    assert synth.metadata.tables["wish"].unique_constraints == []  # a copy of the table had the rule, not this
    # duplicates were mostly traded (rows kept), not dropped wholesale
    assert len(out["wish"]) >= 0.8 * len(plain["wish"])


def test_rules_hold_at_another_scale(fitted):
    out = _sample(fitted[HSASynthesizer], _rules(), 17, scale=2.0)
    assert _broken(out) == dict.fromkeys(_broken(out), 0)


# ---- the order of application, the within-table rules ---------------------------------------------------------
def test_keep_runs_after_the_cross_table_rules_and_before_repair_with_one_state_per_table(fitted, monkeypatch):
    """keep() sees the copies already made, repair fits what keep() wrote, copies win over keep(), and a child's
    rule over copied columns is kept on the parent's rows."""
    import dbsynth.sample.engine as engine_module
    from dbsynth.rules.records import Domain

    calls: list[tuple[str, tuple[str, ...], int]] = []

    def fake_keep(frame, table, rules, rng, state=None):
        calls.append((table.name, tuple(r.name for r in rules), id(state)))
        frame = frame.copy()
        if table.name == "rental":
            assert _copied_broken({"rental": frame, "film": film_rows[0]}, PRICE) == 0  # the copy came first
            frame["level"] = 99  # a copied column changed: the copy is made again after
        for r in rules:
            if isinstance(r, Domain):  # every value the first of the domain, one decimal too many
                frame[r.column] = r.values[0] + 0.004
        return frame

    film_rows: list[pd.DataFrame] = []
    real_draw = engine_module.Engine._table_batches

    def spy(self, t, *a, **kw):
        for frame, state in real_draw(self, t, *a, **kw):
            if t == "film":
                film_rows.append(frame)
            yield frame, state

    monkeypatch.setattr(engine_module, "keep", fake_keep)
    monkeypatch.setattr(engine_module.Engine, "_table_batches", spy)
    price_domain = Domain(table="rental", column="price", values=(1.99, 4.99))
    qty_domain = Domain(table="rental", column="qty", values=(2, 3))
    synth = fitted[HMASynthesizer]
    out = _sample(synth, RuleSet((PRICE, LEVEL, price_domain, qty_domain)), None)
    by_table: dict[str, set] = {}
    for t, _names, state in calls:
        by_table.setdefault(t, set()).add(state)
    assert set(by_table) == {"film", "rental"}  # tables with within-table rules only
    # the rental's domain of a copied column was kept on film.price; film got it once, rental its own
    assert {n for t, n, _ in calls if t == "film"} == {("domain:film:price",)}
    assert {n for t, n, _ in calls if t == "rental"} == {("domain:rental:price", "domain:rental:qty")}
    assert (out["film"]["price"] == 1.99).all()  # repair rounded keep()'s value to the scale
    assert (out["rental"]["price"] == 1.99).all() and (out["rental"]["qty"] == 2).all()
    assert _copied_broken(out, LEVEL) == 0  # copied again after keep()


def test_keep_state_is_one_per_table_across_batches(fitted, monkeypatch):
    import dbsynth.sample.engine as engine_module
    from dbsynth.rules.records import Domain

    states: dict[str, set[int]] = {}

    def fake_keep(frame, table, rules, rng, state=None):
        states.setdefault(table.name, set()).add(id(state))
        return frame

    monkeypatch.setattr(engine_module, "keep", fake_keep)
    rules = RuleSet((Domain(table="payment", column="amount", values=(1.0,)),
                     Domain(table="rental", column="qty", values=(1,))))
    _sample(fitted[HMASynthesizer], rules, 23)
    assert set(states) == {"payment", "rental"} and all(len(s) == 1 for s in states.values())


# ---- with a plan: copied parents are written as their real rows -------------------------------------------------
def _planned(synth, modes: dict[str, str], rules: RuleSet, overrides=None) -> dict[str, pd.DataFrame]:
    from dbsynth.sample.plan import SamplePlan

    md = synth.metadata
    _, data = _schema()
    plan = SamplePlan.build(md, modes, 5, overrides).with_real_rows(
        {t: data[t] for t, m in modes.items() if m == "copy"})
    return join_batches(md, _engine(synth, rules).batches(1.0, {}, 23, plan=plan))


@pytest.mark.parametrize("cls", ALL)
def test_copied_values_and_same_ancestor_follow_the_real_rows_of_copied_parents(fitted, cls):
    synth = fitted[cls]
    modes = dict.fromkeys(synth.metadata.tables, "synthesize") | {"film": "copy", "customer": "copy",
                                                                   "rental": "copy"}
    rules = RuleSet((PRICE, LEVEL, PAYMENT_SAME, REFUND_SAME))
    out = _planned(synth, modes, rules)
    _, real = _schema()
    assert out["film"] is not None and len(out["film"]) == len(real["film"])
    assert _copied_broken(out, PRICE) == 0 and _copied_broken(out, LEVEL) == 0
    assert _same_broken(out, PAYMENT_SAME) == 0 and _same_broken(out, REFUND_SAME) == 0
    plain = _planned(synth, modes, RuleSet())
    assert _same_broken(plain, PAYMENT_SAME) > 0  # the sampled parents' values do not fit the real rows


def test_an_aggregate_update_keeps_a_column_the_config_fixes(fitted):
    from dbsynth.sample.plan import ColumnOverride

    synth = fitted[HMASynthesizer]
    modes = dict.fromkeys(synth.metadata.tables, "synthesize")
    out = _planned(synth, modes, RuleSet((SPENT, COUNT)), {"customer": [ColumnOverride.constant("spent", 7)]})
    assert (out["customer"]["spent"] == 7).all()
    assert _aggregate_broken(out, COUNT) == 0
    # a parent column fixed by the config is what its children copy
    out = _planned(synth, modes, RuleSet((LEVEL,)), {"customer": [ColumnOverride.constant("level", 3)]})
    assert (out["rental"]["level"] == 3).all()


def test_lifted_rules_restate_a_childs_rule_over_copied_columns_on_the_parent():
    from dbsynth.rules.records import Dependency
    from dbsynth.sample.rules import lifted_rules

    copies = [Copied(table="inv", column=f"b_{c}", by=("cid",), parent="cust", key=("id",), parent_column=c)
              for c in ("city", "country")]
    dep = Dependency(table="inv", determinant=("b_city",), dependent="b_country", pairs=((("Oslo",), "Norway"),))
    mixed = Dependency(table="inv", determinant=("b_city",), dependent="total")
    other = Copied(table="line", column="l_city", by=("iid",), parent="inv", key=("id",), parent_column="b_city")
    chained = Dependency(table="line", determinant=("l_city",), dependent="l_city2")
    got = lifted_rules(RuleSet((*copies, dep, mixed, other, chained)))
    assert list(got) == ["cust"]
    (lifted,) = got["cust"]
    assert lifted.determinant == ("city",) and lifted.dependent == "country" and lifted.pairs == dep.pairs
    # through a chain of copies
    c2 = Copied(table="line", column="l_country", by=("iid",), parent="inv", key=("id",), parent_column="b_country")
    dep2 = Dependency(table="line", determinant=("l_city",), dependent="l_country")
    got = lifted_rules(RuleSet((*copies, other, c2, dep2)))
    assert [r.table for r in got["inv"]] == ["inv"] and got["cust"][0].columns == ("city", "country")


# ---- a real schema ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chinook():
    from dbsynth.config import BUILTIN_DATABASES
    from dbsynth.read import read_tables
    from dbsynth.reflect import reflect

    url = f"sqlite:///{BUILTIN_DATABASES['chinook']}"
    md = reflect(url)
    return md, read_tables(url, md)


@pytest.mark.parametrize("cls", ALL)
def test_chinook_invoice_totals_line_prices_and_billing_addresses(chinook, cls):
    md, data = chinook
    synth = cls(md, seed=1, verbose=False).fit(data)
    total = Aggregate(table="Invoice", column="Total", child="InvoiceLine", by=("InvoiceId",), key=("InvoiceId",),
                      terms=("UnitPrice", "Quantity"))
    price = Copied(table="InvoiceLine", column="UnitPrice", by=("TrackId",), parent="Track", key=("TrackId",),
                   parent_column="UnitPrice")
    city = Copied(table="Invoice", column="BillingCity", by=("CustomerId",), parent="Customer",
                  key=("CustomerId",), parent_column="City")
    pair = Unique(table="PlaylistTrack", names=("PlaylistId", "TrackId"))
    for batch_rows in (None, 300):
        out = join_batches(md, _engine(synth, RuleSet((total, price, city, pair))).batches(1.0, {}, batch_rows))
        assert _aggregate_broken(out, total) == 0
        assert _copied_broken(out, price) == 0 and _copied_broken(out, city) == 0
        assert _duplicates(out, pair) == 0
        assert out["Invoice"]["Total"].gt(0).sum() > 100


def test_aggregates_reach_a_written_sqlite_database(fitted, tmp_path):
    import sqlalchemy as sa

    from dbsynth.write import write

    synth = fitted[HMASynthesizer]
    url = f"sqlite:///{tmp_path / 'out.db'}"
    batches = list(_engine(synth, RuleSet((COUNT, SPENT, PAID))).batches(1.0, {}, 23))
    write(iter(batches), url, synth.metadata)
    want = join_batches(synth.metadata, batches)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        got = pd.read_sql("SELECT id, spent, paid FROM customer ORDER BY id", conn)
        n = pd.read_sql("SELECT id, n_payments FROM rental ORDER BY id", conn)
    engine.dispose()
    exp = want["customer"].sort_values("id").reset_index(drop=True)
    assert np.allclose(got["spent"].astype(float), exp["spent"].astype(float))
    assert (got["paid"].isna() == exp["paid"].isna()).all()
    assert (n["n_payments"].to_numpy() == want["rental"].sort_values("id")["n_payments"].to_numpy()).all()


def test_aggregate_values_fit_the_column():
    """Decimals rounded to the scale (Decimal objects where the rows hold such), integers whole, no NULL in a NOT
    NULL column."""
    from decimal import Decimal

    from dbsynth.sample.rules import _fit

    t = Table("p", [Column("id", "integer", "id", nullable=False),
                    Column("d", type="decimal", sdtype="numerical", precision=8, scale=2),
                    Column("n", "integer", "numerical", nullable=False)], primary_key=["id"])
    acc = np.array([1.005001, np.nan, 2.5])
    assert _fit(acc, None, t, "d", np.dtype("float64")).tolist()[::2] == [1.01, 2.5]
    assert np.isnan(_fit(acc, None, t, "d", np.dtype("float64"))[1])
    assert _fit(acc, None, t, "d", np.dtype(object)).tolist() == [Decimal("1.01"), None, Decimal("2.50")]
    n = _fit(acc, None, t, "n", np.dtype("int64"))
    assert n.dtype == np.int64 and n.tolist() == [1, 0, 2]
