"""Per-endpoint figures of an endpoint pool (`llm.endpoints`): live lines and the run's table."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Callable

from rich.table import Table
from rich.text import Text

from simkit.display.tables import format_value

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


def endpoint_table(metrics: list[dict]) -> Table | None:
    """The run's `llm.endpoint.*` final metrics as one row per endpoint, or None without a pool."""
    rows: dict[str, dict[str, float]] = defaultdict(dict)
    for m in metrics:
        if m["tick"] == -1 and m["name"].startswith("llm.endpoint."):
            url = json.loads(m["labels_json"] or "{}").get("endpoint", "?")
            rows[url][m["name"].removeprefix("llm.endpoint.")] = m["value"]
    if not rows:
        return None
    table = Table("endpoint", "calls", "errors", "mean latency ms", "taken out", title="endpoints", title_justify="left")
    for url, r in rows.items():
        table.add_row(url, format_value(r.get("calls")), format_value(r.get("errors")),
                      f"{r.get('latency_ms') or 0:.0f}", format_value(r.get("ejections")))
    return table
