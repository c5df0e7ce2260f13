"""The live display of `simkit run` and its end-of-run summary table (rich)."""

from __future__ import annotations

import json
import time

from rich.console import Console, Group
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from simkit.engine.loop import LoopStatus
from simkit.llm.client import LLMStats


def _fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class RunProgress:
    """A renderable that reads the loop status and LLM stats each time rich refreshes it,
    so calls in flight show up live, between ticks as well."""

    def __init__(self, title: str, status: LoopStatus, stats: LLMStats):
        self.title = title
        self.status = status
        self.stats = stats
        self.started = time.monotonic()
        self._first_live_tick: tuple[int, float] | None = None

    def eta(self) -> float | None:
        s = self.status
        if s.replaying or s.ticks_done == 0:
            return None
        if self._first_live_tick is None:
            self._first_live_tick = (s.ticks_done, time.monotonic())
            return None
        done0, t0 = self._first_live_tick
        done = s.ticks_done - done0
        if done <= 0:
            return None
        rate = (time.monotonic() - t0) / done
        return rate * (s.ticks_total - s.ticks_done)

    def __rich__(self) -> Group:
        s, st = self.status, self.stats
        bar = ProgressBar(total=max(1, s.ticks_total), completed=s.ticks_done, width=40)
        head = Text.assemble(
            (f"{self.title} ", "bold"),
            ("replaying committed ticks " if s.replaying else ""),
            f"tick {s.ticks_done}/{s.ticks_total}  ",
            f"elapsed {_fmt_seconds(time.monotonic() - self.started)}  eta {_fmt_seconds(self.eta())}",
        )
        line = Text(
            f"active agents {s.active_agents}  |  LLM in flight {st.in_flight}  done {st.calls}  "
            f"cache hits {st.cache_hits}  retries {st.retries}  parse failures {st.parse_failures}  |  "
            f"tokens {st.tokens_in:,} in / {st.tokens_out:,} out  |  {st.calls_per_second():.1f} calls/s",
            style="dim",
        )
        return Group(head, bar, line)


def format_value(value: float | None) -> str:
    """Counts as integers with separators, everything else to 4 significant digits; a NaN
    (stored by SQLite as NULL) as n/a."""
    if value is None or value != value:
        return "n/a"
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.4g}"


def summary_table(run: dict, metrics: list[dict], wall_seconds: float | None = None, max_metrics: int = 24) -> Table:
    table = Table(title=f"run {run['run_id']}", show_header=False, title_justify="left")
    table.add_column("what", style="bold", overflow="fold")
    table.add_column("value")
    table.add_row("scenario", f"{run['scenario']} (plugin {run['plugin']}, seed {run['seed']})")
    table.add_row("status", str(run["status"]) + (f": {run['error']}" if run.get("error") else ""))
    last = run.get("last_tick")
    table.add_row("ticks", f"{(last + 1) if last is not None else 0} of {run['ticks_total']}")
    table.add_row("model", str(run["model"]))
    table.add_row(
        "LLM calls",
        f"{run['llm_calls'] or 0} called, {run['cache_hits'] or 0} from cache, {run['retries'] or 0} retries, "
        f"{run['parse_failures'] or 0} parse failures",
    )
    table.add_row("tokens", f"{run['tokens_in'] or 0:,} in / {run['tokens_out'] or 0:,} out")
    if wall_seconds is not None:
        table.add_row("wall time", f"{wall_seconds:.1f} s")
    shown = [m for m in metrics if m["tick"] == -1 and not m["name"].startswith("llm.")]
    for m in shown[:max_metrics]:
        labels = json.loads(m["labels_json"] or "{}")
        name = m["name"] + ("{" + ",".join(f"{k}={v}" for k, v in labels.items()) + "}" if labels else "")
        table.add_row(name, format_value(m["value"]))
    if len(shown) > max_metrics:
        table.add_row("...", f"{len(shown) - max_metrics} more metrics: simkit runs show {run['run_id']}")
    return table


def print_summary(console: Console, run: dict, metrics: list[dict], wall_seconds: float | None = None) -> None:
    console.print(summary_table(run, metrics, wall_seconds))
