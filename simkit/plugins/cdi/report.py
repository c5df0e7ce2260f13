"""The sweep report: PP, HS and AD per (defense, attacker), micro-averaged over the runs of
each cell by `simkit.judges.disclosure_metrics`, with 95% bootstrap intervals over runs,
and the LLM calls and tokens a run costs.

Each run's judged messages are read back from its `cdi_checks` rows (last episode only),
so the report recomputes the metrics with the shared functions instead of averaging the
per-run numbers (the paper pools items, not runs: B7).
"""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
from rich.table import Table

from simkit.judges import (
    Disclosure,
    DisclosureMetrics,
    RunDisclosure,
    disclosure_metrics,
)

DEFENSE_ORDER = ("none", "prompting", "guarding", "cdi")
BOOTSTRAP = 1000


def run_disclosure(db, run_id: str) -> RunDisclosure | None:
    """The scored episode of one run as the judge saw it; None if the run has no verdicts."""
    if "cdi_episodes" not in db.table_names():
        return None
    episode = next(db.query("select * from cdi_episodes where run_id = ? and scored = 1", [run_id]), None)
    if episode is None:
        return None
    checks = []
    if "cdi_checks" in db.table_names():
        for row in db.query("select * from cdi_checks where run_id = ? and episode = ? order by rowid", [run_id, episode["episode"]]):
            checks.append(Disclosure(item_id=row["item_id"], status=row["status"], shareable=json.loads(row["shareable"]),
                                     sensitive=json.loads(row["sensitive"]), analysis="", evidence=[]))
    return RunDisclosure.from_checks(checks, episode["n_sensitive"], episode["n_shareable"])


def interval(runs: list[RunDisclosure], field: str, seed: int = 0) -> tuple[float, float] | None:
    """95% percentile bootstrap over runs of a micro-averaged metric (None below 2 runs)."""
    if len(runs) < 2:
        return None
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(BOOTSTRAP):
        sample = [runs[i] for i in rng.integers(0, len(runs), len(runs))]
        value = getattr(disclosure_metrics(sample), field)
        if value is not None:
            values.append(value)
    if not values:
        return None
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def _cell(metrics: DisclosureMetrics, runs: list[RunDisclosure], field: str) -> str:
    value = getattr(metrics, field)
    if value is None:
        return "-"
    ci = interval(runs, field)
    return f"{value:.3f} [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else f"{value:.3f}"


def sweep_table(reader, run_ids: list[str], console) -> None:
    db = reader.db
    cells: dict[tuple[str, str], list[str]] = defaultdict(list)
    for run_id in run_ids:
        cfg = reader.config(run_id)["cdi"]
        cells[(cfg["defense"], cfg["attacker"])].append(run_id)
    table = Table(
        "defense", "attacker", "runs", "PP", "HS", "AD", "unknown runs", "calls/run", "tokens/run",
        title="Privacy preservation, helpfulness and appropriate disclosure (cf. CDI, micro-averaged; 95% bootstrap CI)",
        title_justify="left",
    )
    order = sorted(cells, key=lambda k: (DEFENSE_ORDER.index(k[0]) if k[0] in DEFENSE_ORDER else 99, k[1]))
    for defense, attacker in order:
        ids = cells[(defense, attacker)]
        runs = [r for r in (run_disclosure(db, i) for i in ids) if r is not None]
        scored = [r for r in runs if r.unknown == 0]
        m = disclosure_metrics(runs)
        calls = [next(db.query("select count(*) n, sum(tokens_in + tokens_out) t from llm_calls where run_id = ?", [i])) for i in ids]
        table.add_row(
            defense, attacker, str(len(ids)), _cell(m, scored, "pp"), _cell(m, scored, "hs"), _cell(m, scored, "ad"),
            str(m.unknown_runs), f"{np.mean([c['n'] for c in calls]):.1f}", f"{np.mean([c['t'] or 0 for c in calls]):,.0f}",
        )
    console.print(table)
