"""The interaction network: who liked or replied to whose comment, built with networkx.

An edge u -> v carries the number of likes and replies u gave to v's comments, so a node's
weighted in-degree is the attention its comments drew. The same builder serves the run's
final metrics and the GraphML export (`export.py`), which rebuilds it from the database.
"""

from __future__ import annotations

import json
from typing import Iterable

import networkx as nx

INTERACTIONS = ("like_comment", "reply")


def interaction_graph(kinds: dict[str, str], interactions: Iterable[tuple[str, str, str]]) -> nx.DiGraph:
    """`kinds`: agent id -> "user" or "attacker"; `interactions`: (from, to, kind)."""
    graph = nx.DiGraph()
    for agent, kind in kinds.items():
        graph.add_node(agent, kind=kind)
    for source, target, kind in interactions:
        if not graph.has_edge(source, target):
            graph.add_edge(source, target, weight=0, like_comment=0, reply=0)
        edge = graph.edges[source, target]
        edge["weight"] += 1
        edge[kind] += 1
    return graph


def attention_share(graph: nx.DiGraph, kind: str = "attacker") -> float:
    """Share of all weighted in-degree that lands on nodes of `kind` (0 without interactions)."""
    total = sum(w for _n, w in graph.in_degree(weight="weight"))
    if total == 0:
        return 0.0
    return sum(w for n, w in graph.in_degree(weight="weight") if graph.nodes[n]["kind"] == kind) / total


def graph_from_db(db, run_id: str) -> nx.DiGraph:
    """Rebuild a run's interaction network from its `agents` and `events` tables."""
    kinds = {r["agent_id"]: r["kind"] for r in db.query("select agent_id, kind from agents where run_id = ?", [run_id])}
    rows = db.query(
        f"select agent_id, kind, payload_json from events where run_id = ? and kind in ({', '.join('?' * len(INTERACTIONS))}) order by tick, seq",
        [run_id, *INTERACTIONS],
    )
    return interaction_graph(kinds, ((r["agent_id"], json.loads(r["payload_json"])["author"], r["kind"]) for r in rows))
