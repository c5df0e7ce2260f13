"""Export a TrendSim run's interaction network as GraphML (for Gephi, Cytoscape, networkx):

    python -m simkit.plugins.trendsim.export RUN_ID --db runs/simkit.db --out graph.graphml

Nodes are agents (attribute `kind`: user or attacker); an edge u -> v counts the likes
(`like_comment`) and replies (`reply`) u gave to v's comments (`weight` = both).
"""

from __future__ import annotations

from pathlib import Path

import click
import networkx as nx

from simkit.plugins.trendsim.network import attention_share, graph_from_db


@click.command()
@click.argument("run_id")
@click.option("--db", type=click.Path(path_type=Path), default=Path("runs/simkit.db"), show_default=True)
@click.option("--out", type=click.Path(path_type=Path), help="GraphML file (default runs/RUN_ID.graphml).")
def main(run_id: str, db: Path, out: Path | None) -> None:
    """Write a TrendSim run's interaction network (likes and replies between agents) as GraphML."""
    from simkit.errors import SimkitError
    from simkit.store.reader import RunReader

    try:
        reader = RunReader.open(db)
        run_id = reader.run(run_id)["run_id"]
    except SimkitError as exc:
        raise click.ClickException(str(exc)) from None
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
