"""The interaction network: who liked or replied to whose comment, built with networkx.

An edge u -> v carries the number of likes and replies u gave to v's comments, so a node's
weighted in-degree is the attention its comments drew. The same builder serves the run's
final metrics and the GraphML export, which rebuilds the graph from the database:

    python -m simkit.plugins.trendsim.network RUN_ID --db runs/simkit.db --out graph.graphml
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import click
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


@click.command()
@click.argument("run_id")
@click.option("--db", type=click.Path(path_type=Path), default=Path("runs/simkit.db"), show_default=True)
@click.option("--out", type=click.Path(path_type=Path), help="GraphML file (default runs/RUN_ID.graphml).")
def main(run_id: str, db: Path, out: Path | None) -> None:
    """Write a TrendSim run's interaction network (likes and replies between agents) as GraphML."""
    from simkit.store.reader import RunReader

    reader = RunReader.open(db)
    run_id = reader.run(run_id)["run_id"]
    graph = graph_from_db(reader.db, run_id)
    out = out or Path("runs") / f"{run_id}.graphml"
    out.parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(graph, out)
    click.echo(
        f"{out}: {graph.number_of_nodes()} agents, {graph.number_of_edges()} edges, "
        f"attackers' share of attention {attention_share(graph):.3f}"
    )


if __name__ == "__main__":
    main()
