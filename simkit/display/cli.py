"""`simkit plot`: a metric over time from one or more runs, as a PNG, SVG or PDF figure."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("run_ids", nargs=-1)
@click.option("--db", type=click.Path(path_type=Path), default=Path("runs/simkit.db"), show_default=True)
@click.option("--metric", required=True, help="A per-tick metric: a name (every label set drawn) or name{k=v}.")
@click.option("--by", metavar="model|role:NAME|scenario|run|set:KEY",
              help="Average the runs of each group (e.g. set:attack.share) with a 95%% interval band.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="fig.png, fig.svg or fig.pdf")
def plot(run_ids: tuple[str, ...], db: Path, metric: str, by: str | None, out: Path) -> None:
    """Draw a metric's series over the plugin's time axis: one line per run, or per group of
    runs their mean over seeds with a labelled 95% t-interval band. Without RUN_IDS: every
    run of the file (a sweep).

    Example: simkit plot RUN_A RUN_B --metric emotion.avg --by set:attack.share --out emotion.png
    """
    from simkit.display.plot import plot_metric
    from simkit.store.reader import RunReader

    reader = RunReader.open(db)
    run_ids = run_ids or tuple(r["run_id"] for r in reader.runs())
    _fig, lines = plot_metric(reader, run_ids, metric, out, by=by)
    click.echo(f"{out}: {metric}, {len(lines)} line{'s' if len(lines) != 1 else ''} from {len(run_ids)} run{'s' if len(run_ids) != 1 else ''}")
