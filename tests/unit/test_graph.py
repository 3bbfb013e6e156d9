"""Cycle breaking and orders of the foreign-key graph on hand-made schemas."""

import pytest

from dbsynth.errors import CycleError
from dbsynth.metadata import Column, ForeignKey, Metadata, Table


def table(name, fks=(), nullable=True, extra=()):
    cols = [Column("id", "integer", "id", nullable=False)]
    for _ref, col in fks:
        cols.append(Column(col, "integer", "id", nullable=nullable))
    cols += [Column(c, "float", "numerical") for c in extra]
    return Table(name, cols, ["id"], [ForeignKey([col], ref, ["id"]) for ref, col in fks])


def meta(*tables):
    return Metadata({t.name: t for t in tables}).validate()


def test_orders_put_parents_first_and_children_first():
    m = meta(table("orders", [("customer", "customer_id")]), table("customer"), table("line", [("orders", "order_id")]))
    g = m.graph()
    assert g.parent_first() == ["customer", "orders", "line"]
    assert g.children_first() == ["line", "orders", "customer"]
    assert g.roots() == ["customer"]
    assert g.depths() == {"customer": 0, "orders": 1, "line": 2}
    assert g.descendants("customer") == ["orders", "line"]
    assert not g.deferred


def test_self_reference_is_filled_after_insert():
    g = meta(table("employee", [("employee", "reports_to")])).graph()
    assert [(d.edge.child, d.reason) for d in g.deferred] == [("employee", "self-reference")]
    assert "filled after insert" in g.deferred[0].describe()
    assert g.parent_first() == ["employee"]


def test_two_table_cycle_is_broken_at_the_nullable_key():
    store = table("store", [("staff", "manager_id")], nullable=False)
    staff = table("staff", [("store", "store_id")], nullable=True)
    g = meta(store, staff).graph()
    assert [(d.edge.child, d.edge.fk.columns, d.reason) for d in g.deferred] == [("staff", ["store_id"], "cycle")]
    assert g.parent_first() == ["staff", "store"]


def test_not_null_cycle_is_broken_at_the_smaller_child_and_reported():
    store = table("store", [("staff", "manager_staff_id")], nullable=False)
    staff = table("staff", [("store", "store_id")], nullable=False)
    store.row_count, staff.row_count = 2, 50
    g = meta(store, staff).graph()
    assert [(d.edge.child, d.edge.fk.columns, d.reason, d.not_null) for d in g.deferred] == [
        ("store", ["manager_staff_id"], "cycle", True)
    ]
    assert g.parent_first() == ["store", "staff"]
    assert g.held() == {"store"}
    assert "NOT NULL" in g.deferred[0].describe() and "\n" not in g.deferred[0].describe()
    # the same schema breaks at the same key whatever order the tables come in; sizes decide
    again = meta(staff, store).graph()
    assert [d.edge.name for d in again.deferred] == [d.edge.name for d in g.deferred]
    store.row_count, staff.row_count = 50, 2
    assert [d.edge.child for d in meta(store, staff).graph().deferred] == ["staff"]


def test_nullable_key_is_still_preferred_over_a_not_null_one():
    store = table("store", [("staff", "manager_staff_id")], nullable=True)
    staff = table("staff", [("store", "store_id")], nullable=False)
    store.row_count, staff.row_count = 50, 2
    g = meta(store, staff).graph()
    assert [(d.edge.child, d.not_null) for d in g.deferred] == [("store", False)]
    assert g.held() == set()


def test_not_null_self_reference_is_refused():
    with pytest.raises(CycleError) as info:
        meta(table("employee", [("employee", "reports_to")], nullable=False)).graph()
    assert "reports_to" in str(info.value) or "employee" in str(info.value)


def test_three_table_cycle_breaking_is_deterministic():
    a = table("a", [("c", "c_id")])
    b = table("b", [("a", "a_id")])
    c = table("c", [("b", "b_id")])
    first = [d.edge.name for d in meta(a, b, c).graph().deferred]
    again = [d.edge.name for d in meta(c, b, a).graph().deferred]
    assert first == again and len(first) == 1


def test_two_foreign_keys_to_the_same_parent_are_both_edges():
    m = meta(table("city"), table("route", [("city", "from_id"), ("city", "to_id")]))
    g = m.graph()
    assert [e.fk.columns for e in g.parents("route")] == [["from_id"], ["to_id"]]
    assert "route" in g.to_dot() and g.to_mermaid().count("city ||--o{ route") == 2
