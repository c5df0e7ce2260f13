"""The live display of `simkit run`: ticks, turns, LLM calls in flight, tokens, ETA."""

from __future__ import annotations

import time
from typing import Callable

from rich.console import Group
from rich.progress_bar import ProgressBar
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

    def __init__(self, title: str, status: LoopStatus, stats: LLMStats, endpoints: Callable[[], list[dict]] | None = None):
        self.title = title
        self.endpoints = endpoints  # an endpoint pool's live per-endpoint stats (simkit/display/endpoints.py)
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
            f"active agents {s.active_agents}  |  LLM in flight {st.in_flight}  done {st.llm_calls}  "
            f"cache hits {st.cache_hits}  retries {st.retries}  parse failures {st.parse_failures}  |  "
            f"tokens {st.tokens_in:,} in / {st.tokens_out:,} out  |  {st.calls_per_second():.1f} calls/s",
            style="dim",
        )
        if self.endpoints is not None:
            from simkit.display.endpoints import live_lines

            return Group(head, bar, line, live_lines(self.endpoints()))
        return Group(head, bar, line)
