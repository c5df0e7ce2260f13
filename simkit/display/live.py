"""Run a prepared simulation under the live display (when stdout is a terminal): the
progress of `simkit.display.progress` and, under it, the run's spend."""

from __future__ import annotations

import asyncio
import time

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text


def execute(sim, console: Console, *, resume: bool, quiet: bool, title: str):
    """Returns (RunResult, wall seconds)."""
    from simkit.display.endpoints import pool_stats_source
    from simkit.display.progress import RunProgress
    from simkit.engine.loop import LoopStatus

    progress = RunProgress(title, sim.status, sim.llm.stats,
                           pool_stats_source(sim.ctx.llms.backends()))

    def on_tick(status: LoopStatus) -> None:
        progress.status = status

    started = time.monotonic()
    if quiet or not console.is_terminal:
        result = asyncio.run(sim.run(resume=resume, on_tick=on_tick))
    else:
        with Live(with_spend(progress, sim), console=console, refresh_per_second=4, transient=False):
            result = asyncio.run(sim.run(resume=resume, on_tick=on_tick))
    return result, time.monotonic() - started


def spend_renderable(sim):
    """A line for the live display: what the run has spent, against its budget if any."""
    from simkit.engine.budget import spend_line

    class Spend:
        def __rich__(self) -> Text:
            spent = sim.spent()
            text = "spent " + spend_line(spent, sim.budget if sim.budget and sim.budget.kind == "usd" else None)
            if sim.budget is not None:
                text += f"  (budget {sim.budget.describe()}: {sim.budget.amount(spent) / sim.budget.limit:.0%})"
            return Text(text, style="dim")

    return Spend()


def with_spend(progress, sim):
    return Group(progress, spend_renderable(sim))
