"""Per-endpoint figures of an endpoint pool (`llm.endpoints`) in the live display (the
run summary's table of them is `simkit.display.tables.endpoint_table`)."""

from __future__ import annotations

from typing import Callable

from rich.text import Text

EndpointSource = Callable[[], list[dict]]


def pool_stats_source(backends) -> EndpointSource | None:
    """A callable returning the live per-endpoint stats of every pool among `backends`."""
    pools = [b for b in backends if hasattr(b, "endpoint_stats")]
    if not pools:
        return None
    return lambda: [row for pool in pools for row in pool.endpoint_stats()]


def live_lines(rows: list[dict]) -> Text:
    """One dim line per endpoint: state, in flight, calls, errors, mean latency."""
    text = Text(style="dim")
    for i, r in enumerate(rows):
        if i:
            text.append("\n")
        state = r["state"] if r["state"] == "up" else f"[{r['state']}]"
        text.append(
            f"  {r['endpoint']}  {state}  in flight {r['in_flight']}  calls {r['calls']}  errors {r['errors']}  "
            f"{r['mean_latency_ms']:.0f} ms",
            style="red" if r["state"] != "up" else None,
        )
    return text
