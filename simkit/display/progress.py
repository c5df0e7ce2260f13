"""The live display of `simkit run`: phase (setup, ticks, finish), turns, LLM calls, tokens, ETA.

The layout never cuts a field: fields are packed whole into lines as wide as the terminal
(80 columns give three or four lines, 160 give two). The ETA counts the LLM calls still to
make (calls per live tick so far times the ticks left) at the rate calls were answered; in
`finish()` (judging) it shows the judge calls made so far instead of a tick-based guess.
"""

from __future__ import annotations

import time
from typing import Callable

from rich.console import Console, ConsoleOptions, Group, RenderResult
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


def pack(fields: list[str], width: int, sep: str = "  ") -> list[str]:
    """Whole fields joined into lines no wider than `width` (a field wider than that gets a
    line of its own and is folded by the terminal, never cut)."""
    lines: list[str] = []
    line = ""
    for f in fields:
        if line and len(line) + len(sep) + len(f) > width:
            lines.append(line)
            line = f
        else:
            line = f"{line}{sep}{f}" if line else f
    if line:
        lines.append(line)
    return lines


def bar(done: int, total: int, width: int) -> Text:
    """A progress bar as one line of text, with the share done."""
    share = done / total if total > 0 else 0.0
    filled = round(width * min(1.0, share))
    return Text.assemble(("━" * filled, "magenta"), ("━" * (width - filled), "grey30"), f" {share:4.0%}")


class RunProgress:
    """A renderable that reads the loop status and LLM stats each time rich refreshes it,
    so calls in flight show up live, between ticks as well."""

    def __init__(self, title: str, status: LoopStatus, stats: LLMStats, endpoints: Callable[[], list[dict]] | None = None):
        self.title = title
        self.endpoints = endpoints  # an endpoint pool's live per-endpoint stats (simkit/display/endpoints.py)
        self.status = status
        self.stats = stats
        self.started = time.monotonic()
        self._first_live: tuple[int, int, float] | None = None  # (ticks done, calls, time) at the first live tick
        self.last_fields: list[str] = []

    def _calls(self) -> int:
        return self.stats.llm_calls + self.stats.cache_hits

    def calls_left(self) -> int | None:
        """The calls the remaining ticks will make, at the calls per tick seen so far."""
        s = self.status
        if s.phase != "ticks" or s.replaying or self._first_live is None:
            return None
        done0, calls0, _t0 = self._first_live
        ticks = s.ticks_done - done0
        if ticks <= 0:
            return None
        return round((self._calls() - calls0) / ticks * (s.ticks_total - s.ticks_done))

    def eta(self) -> float | None:
        s = self.status
        if s.phase != "ticks" or s.replaying or s.ticks_done == 0:
            return None
        now = time.monotonic()
        if self._first_live is None:
            self._first_live = (s.ticks_done, self._calls(), now)
            return None
        done0, calls0, t0 = self._first_live
        ticks, calls, elapsed = s.ticks_done - done0, self._calls() - calls0, now - t0
        if ticks <= 0 or elapsed <= 0:
            return None
        left = self.calls_left()
        if calls > 0 and left is not None:
            return left / (calls / elapsed)
        return elapsed / ticks * (s.ticks_total - s.ticks_done)  # no calls (all cached): by tick rate

    def phase_text(self) -> str:
        s = self.status
        if s.phase == "setup":
            return "setting up"
        if s.phase == "finish":
            judged = self._calls() - (s.calls_at_finish or 0)
            early = f", ended early at tick {s.ticks_done}" if s.ended_early else ""
            return f"finishing: judging, {judged} judge call{'s' if judged != 1 else ''} so far{early}"
        if s.phase == "done":
            return f"done, ended early at tick {s.ticks_done} ({s.ended_early})" if s.ended_early else "done"
        return ("replaying committed ticks, " if s.replaying else "") + f"tick {s.ticks_done}/{s.ticks_total}"

    def fields(self) -> tuple[list[str], list[str]]:
        """(head fields, counter fields), each a whole unit the layout never cuts."""
        s, st = self.status, self.stats
        eta = self.eta()
        head = [self.title, self.phase_text(), f"elapsed {_fmt_seconds(time.monotonic() - self.started)}"]
        if s.phase == "ticks":
            left = self.calls_left()
            head.append(f"eta {_fmt_seconds(eta)}" + (f" (~{left:,} calls left)" if left is not None and eta is not None else ""))
        counters = [
            f"agents {s.active_agents}", f"in flight {st.in_flight}", f"calls {st.llm_calls:,}",
            f"cached {st.cache_hits:,}", f"retries {st.retries}", f"parse failures {st.parse_failures}",
            f"tokens {st.tokens_in:,} in / {st.tokens_out:,} out", f"{st.calls_per_second():.1f} calls/s",
        ]
        return head, counters

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(20, options.max_width)
        s = self.status
        head, counters = self.fields()
        self.last_fields = head + counters  # what this frame shows (tests check none is cut)
        head_lines = pack(head, width)
        out: list = [Text(head_lines[0], style="bold")] + [Text(line) for line in head_lines[1:]]
        total = s.ticks_done if s.ended_early else s.ticks_total  # an episode that ended early is complete
        out.append(bar(s.ticks_done, total, min(60, width - 6)))
        out += [Text(line, style="dim") for line in pack(counters, width, sep=" | ")]
        if self.endpoints is not None:
            from simkit.display.endpoints import live_lines

            out.append(live_lines(self.endpoints()))
        yield Group(*out)
