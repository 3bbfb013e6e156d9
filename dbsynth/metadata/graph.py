"""The foreign-key graph: which table to write first, which to fit first, and where cycles are broken.

Edges point from parent to child (the referenced table to the referencing one), so a topological order is
parent-first: the order to sample and write in. Foreign keys that would close a cycle (self-references and
multi-table cycles such as store <-> staff) are *deferred*: written as NULL, then filled after both sides
exist. A cycle made only of NOT NULL keys (store.manager_staff_id <-> staff.store_id) is broken at one of
them too, marked ``not_null``: its child's rows are then sent with the key already filled, after the parent's
rows, and the writer loads with foreign-key checks off until every row exists (then checks them by SQL).
A NOT NULL self-reference stays an error (no row could be inserted first).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from ..errors import CycleError
from .records import ForeignKey, Metadata, Table

SELF_REFERENCE = "self-reference"
CYCLE = "cycle"


@dataclass(frozen=True)
class Edge:
    """One foreign key seen as an edge of the graph."""

    child: str
    """Referencing table."""
    parent: str
    """Referenced table."""
    fk: ForeignKey
    """The foreign key itself (owned by ``child``)."""

    @property
    def name(self) -> str:
        """The foreign key's constraint name."""
        return self.fk.name or f"{self.child}({','.join(self.fk.columns)})"

    def describe(self) -> str:
        """``child.col -> parent.col`` for messages."""
        return f"{self.child}({', '.join(self.fk.columns)}) -> {self.parent}({', '.join(self.fk.ref_columns)})"


@dataclass(frozen=True)
class DeferredEdge:
    """A foreign key set aside to break a cycle: inserted as NULL, filled after insert."""

    edge: Edge
    """The foreign key."""
    reason: str
    """``self-reference`` or ``cycle``."""
    cycle: tuple[str, ...] = ()
    """The tables of the cycle it breaks (for ``cycle``)."""
    not_null: bool = False
    """True when the key's columns are NOT NULL: its rows cannot be written with the key NULL first."""

    def describe(self) -> str:
        """A line for ``dbsynth inspect``."""
        why = "self-reference" if self.reason == SELF_REFERENCE else "cycle " + " -> ".join(self.cycle)
        if self.not_null:
            return f"{self.edge.describe()}: NOT NULL, loaded with foreign-key checks deferred ({why})"
        return f"{self.edge.describe()}: filled after insert ({why})"


class FKGraph:
    """The foreign keys of a :class:`Metadata` as a graph, with its cycles broken.

    Args:
        metadata: the tables; foreign keys to tables not in it are ignored.

    Raises:
        CycleError: for a NOT NULL self-reference.
    """

    def __init__(self, metadata: Metadata) -> None:
        self.metadata = metadata
        #: Every foreign key, as parent -> child edges keyed by constraint name.
        self.full = nx.MultiDiGraph()
        self.full.add_nodes_from(metadata.tables)
        self.edges: list[Edge] = []
        for table, fk in metadata.relationships():
            if fk.ref_table not in metadata.tables:
                continue
            edge = Edge(child=table.name, parent=fk.ref_table, fk=fk)
            self.edges.append(edge)
            self.full.add_edge(edge.parent, edge.child, key=edge.name, edge=edge)
        self.deferred: list[DeferredEdge] = self._break_cycles()
        deferred = {id(d.edge) for d in self.deferred}
        #: Foreign keys that order the tables (all but the deferred ones), parent -> child.
        self.dag = nx.MultiDiGraph()
        self.dag.add_nodes_from(metadata.tables)
        for edge in self.edges:
            if id(edge) not in deferred:
                self.dag.add_edge(edge.parent, edge.child, key=edge.name, edge=edge)

    # ---- cycle breaking --------------------------------------------------------------------------------
    def _nullable(self, edge: Edge) -> bool:
        return self.metadata.tables[edge.child].fk_is_nullable(edge.fk)

    def _break_cycles(self) -> list[DeferredEdge]:
        deferred: list[DeferredEdge] = []
        work = nx.MultiDiGraph()
        work.add_nodes_from(self.metadata.tables)
        for edge in self.edges:
            if edge.child == edge.parent:
                if not self._nullable(edge):
                    raise CycleError(
                        "a NOT NULL self-reference cannot be filled after insert",
                        table=edge.child,
                        constraint=edge.name,
                        hint="Make the column nullable in the source, or exclude the table.",
                    )
                deferred.append(DeferredEdge(edge, SELF_REFERENCE))
            else:
                work.add_edge(edge.parent, edge.child, key=edge.name, edge=edge)
        # Break one edge at a time, always the same one for the same schema: the nullable edge of the
        # first cycle found in sorted order, preferring the child table that sorts first.
        while True:
            cycle = self._first_cycle(work)
            if cycle is None:
                return deferred
            tables = tuple(u for u, _, _ in cycle)
            edges = [work.edges[u, v, k]["edge"] for u, v, k in cycle]
            nullable = [e for e in edges if self._nullable(e)]
            if nullable:
                chosen = min(nullable, key=lambda e: (e.child, e.name))
            else:
                # every key NOT NULL: break at the child with the fewest rows (its rows wait in memory until
                # the parent is sampled), ties by name, so the same schema always breaks at the same key
                chosen = min(edges, key=lambda e: (self.metadata.tables[e.child].row_count or 0, e.child, e.name))
            work.remove_edge(chosen.parent, chosen.child, key=chosen.name)
            deferred.append(DeferredEdge(chosen, CYCLE, tables, not_null=not nullable))

    @staticmethod
    def _first_cycle(graph: nx.MultiDiGraph):
        if nx.is_directed_acyclic_graph(graph):  # the usual case: one pass instead of a search per table
            return None
        for source in sorted(graph.nodes):
            try:
                return nx.find_cycle(graph, source=source)
            except nx.NetworkXNoCycle:
                continue
        return None

    # ---- orders and shape --------------------------------------------------------------------------
    def parent_first(self) -> list[str]:
        """Tables so that every parent comes before its children (ties broken by name): sample/write order."""
        return list(nx.lexicographical_topological_sort(self.dag))

    def children_first(self) -> list[str]:
        """Tables so that every child comes before its parents: fit order."""
        return self.parent_first()[::-1]

    def roots(self) -> list[str]:
        """Tables with no parent (deferred foreign keys aside), in parent-first order."""
        return [t for t in self.parent_first() if self.dag.in_degree(t) == 0]

    def parents(self, table: str) -> list[Edge]:
        """Foreign keys of ``table`` that order it (deferred ones excluded), sorted by name."""
        return sorted((d["edge"] for _, _, d in self.dag.in_edges(table, data=True)), key=lambda e: e.name)

    def children(self, table: str) -> list[Edge]:
        """Foreign keys that refer to ``table`` (deferred ones excluded), sorted by child then name."""
        return sorted(
            (d["edge"] for _, _, d in self.dag.out_edges(table, data=True)), key=lambda e: (e.child, e.name)
        )

    def deferred_for(self, table: str) -> list[DeferredEdge]:
        """Deferred foreign keys owned by ``table``."""
        return [d for d in self.deferred if d.edge.child == table]

    def held(self) -> set[str]:
        """Tables owning a NOT NULL cycle-breaking key: samplers send their rows after every other table's rows,
        with the key filled, instead of NULL first and an update later."""
        return {d.edge.child for d in self.deferred if d.not_null}

    def back_edge(self, e: Edge) -> Edge | None:
        """The foreign key going back from ``e``'s parent to ``e``'s child (staff.store_id for
        store.manager_staff_id) when the two tables form a cycle of two; None otherwise."""
        if e.child == e.parent:
            return None
        back = [b for b in self.edges if b.child == e.parent and b.parent == e.child and b is not e]
        return min(back, key=lambda b: b.name) if back else None

    def is_deferred(self, table: str, fk: ForeignKey) -> bool:
        """True when ``fk`` of ``table`` is filled after insert."""
        return any(d.edge.child == table and d.edge.fk is fk for d in self.deferred)

    def depth(self, table: str) -> int:
        """Length of the longest chain of parents above ``table`` (roots have depth 0)."""
        return self.depths()[table]

    def depths(self) -> dict[str, int]:
        """:meth:`depth` of every table."""
        out: dict[str, int] = {}
        for t in self.parent_first():
            out[t] = max((out[e.parent] + 1 for e in self.parents(t)), default=0)
        return out

    def descendants(self, table: str) -> list[str]:
        """Tables below ``table`` (itself excluded), in parent-first order."""
        below = nx.descendants(self.dag, table)
        return [t for t in self.parent_first() if t in below]

    def table(self, name: str) -> Table:
        """The metadata of table ``name``."""
        return self.metadata.table(name)

    def to_mermaid(self) -> str:
        """The graph as a Mermaid ``erDiagram`` (deferred keys drawn as optional links)."""
        lines = ["erDiagram"]
        for t in self.parent_first():
            lines.append(f"    {_ident(t)} {{")
            table = self.metadata.tables[t]
            for c in table.columns:
                key = " PK" if c.name in table.primary_key else ""
                lines.append(f"        {_ident(c.type)} {_ident(c.name)}{key}")
            lines.append("    }")
        deferred = {id(d.edge) for d in self.deferred}
        for e in self.edges:
            link = "|o--o{" if id(e) in deferred else "||--o{"
            lines.append(f'    {_ident(e.parent)} {link} {_ident(e.child)} : "{",".join(e.fk.columns)}"')
        return "\n".join(lines) + "\n"

    def to_dot(self) -> str:
        """The graph in Graphviz DOT (deferred keys dashed)."""
        lines = ["digraph fks {", "  rankdir=LR;", "  node [shape=box];"]
        for t in self.parent_first():
            lines.append(f'  "{t}";')
        deferred = {id(d.edge) for d in self.deferred}
        for e in self.edges:
            style = ", style=dashed" if id(e) in deferred else ""
            lines.append(f'  "{e.parent}" -> "{e.child}" [label="{",".join(e.fk.columns)}"{style}];')
        lines.append("}")
        return "\n".join(lines) + "\n"


def _ident(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)
