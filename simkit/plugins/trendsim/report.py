"""The sweep report: a table in the shape of the paper's Table 5.

Rows are (topic sentiment group, attack degree); cells are the final emotion and social
confidence of the normal users, their average and divergence, averaged over the runs of
that cell (topics and seeds), with the spread across runs after the average as in the
paper ("0.886±0.057"). "All" pools every topic.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from rich.table import Table

from simkit.plugins.trendsim.world import load_topics

COLUMNS = ("emotion.avg", "emotion.div", "social_confidence.avg", "social_confidence.div")
GROUP_ORDER = ("positive", "negative", "neutral", "All")


def degree(share: float) -> str:
    """SE for no attack, PA-<percent> otherwise (the paper's names)."""
    return "SE" if share == 0 else f"PA-{round(share * 100):d}"


def _cell(values: list[float], with_spread: bool) -> str:
    if not values:
        return "-"
    mean = float(np.mean(values))
    return f"{mean:.3f}±{float(np.std(values)):.3f}" if with_spread and len(values) > 1 else f"{mean:.3f}"


def table5(reader, run_ids: list[str], console) -> None:
    topics = load_topics()
    cells: dict[tuple[str, float], list[dict]] = defaultdict(list)
    for run_id in run_ids:
        config = reader.config(run_id)["trendsim"]
        finals = {m["name"]: m["value"] for m in reader.metrics(run_id, -1) if m["labels_json"] in ("{}", None)}
        share = float(config["attack"]["share"])
        for group in (topics[config["topic"]].sentiment, "All"):
            cells[(group, share)].append(finals)
    table = Table(
        "group", "degree", "runs", "emotion avg", "emotion div", "social conf. avg", "social conf. div",
        title="Final emotion and social confidence of normal users (cf. TrendSim Table 5)", title_justify="left",
    )
    shares = sorted({s for _g, s in cells})
    for group in GROUP_ORDER:
        for share in shares:
            runs = cells.get((group, share))
            if not runs:
                continue
            values = [_cell([r[c] for r in runs if c in r], c.endswith(".avg")) for c in COLUMNS]
            table.add_row(group, degree(share), str(len(runs)), *values)
        if group != "All" and any((group, s) in cells for s in shares):
            table.add_section()
    console.print(table)
    console.print("avg columns: mean ± population SD over the runs of a row (the paper's dispersion, not a confidence "
                  "interval; n = runs); div columns: mean. Intervals: simkit runs compare RUN... --by set:attack.share",
                  highlight=False, soft_wrap=True)
