"""`simkit replay`: open a run in the terminal viewer, or write it as one HTML file."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("run_id")
@click.option("--db", type=click.Path(path_type=Path), default=Path("runs/simkit.db"), show_default=True)
@click.option("--html", "html_out", type=click.Path(path_type=Path), metavar="OUT.html",
              help="Write a self-contained HTML report instead of opening the terminal viewer.")
@click.option("--tick", type=int, help="Open at this tick (default: the first with an event).")
@click.option("--overlay", "overlay", multiple=True, metavar="RUN_ID",
              help="HTML: draw this run's metric series in the same charts (repeatable; same --db).")
def replay(run_id: str, db: Path, html_out: Path | None, tick: int | None, overlay: tuple[str, ...]) -> None:
    """Step through a run: ticks, events, exposures, agents, LLM calls and metrics.

    A unique prefix of the run id is enough. The viewer reads the database read-only and
    follows a run that is still being written.

    Example: simkit replay townhall-20250101 --db runs/simkit.db --html report.html
    """
    from simkit.replay.data import ReplayData

    data = ReplayData.open(db, run_id)
    if html_out is not None:
        from simkit.replay.html import write_report

        others = [ReplayData.open(db, other) for other in overlay]
        size = write_report(data, html_out, start_tick=tick, overlay=others)
        click.echo(f"{html_out}: {size / 1024:,.0f} KiB, ticks {data.first_tick}-{data.last_tick} of run {data.run_id}")
        return
    from simkit.replay.tui import ReplayApp

    ReplayApp(data, start_tick=tick).run()
