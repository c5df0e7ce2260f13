"""The paper's table from one sweep: PP, HS and AD per (defense, attacker), pooled over the
runs of each cell by `aggregate.aggregate` under the runs' `cdi.aggregation` rule, with 95%
bootstrap intervals over runs, the runs scored and left out (and why), and the LLM calls and
tokens a run costs. Printed, and written as CSV beside the database.

Every number comes from the stored per-run records: the scored episode (`cdi_episodes`) and
its verdicts (`cdi_checks`), and the run's `llm_calls`; nothing is read from the metrics the
run wrote, so the table is a recomputation the tests can check row by row.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from rich.table import Table

from simkit.judges import Disclosure
from simkit.plugins.cdi.aggregate import Aggregate, Rule, ScoredRun, aggregate

DEFENSE_ORDER = ("none", "prompting", "guarding", "cdi")
BOOTSTRAP = 1000
COLUMNS = ("defense", "attacker", "runs", "scored", "left_out_no_action", "left_out_unparsed", "unparsed_runs",
           "pp", "pp_low", "pp_high", "hs", "hs_low", "hs_high", "ad", "ad_low", "ad_high", "calls_per_run", "tokens_per_run")


def scored_run(checks: Iterable[Disclosure], n_sensitive: int, n_shareable: int) -> ScoredRun:
    return ScoredRun.from_verdicts(((c.status == "ok", c.shareable, c.sensitive) for c in checks), n_sensitive, n_shareable)


def run_record(db, run_id: str) -> ScoredRun | None:
    """The scored episode of one run as the judge saw it; None if the run has no episode."""
    if "cdi_episodes" not in db.table_names():
        return None
    episode = next(db.query("select * from cdi_episodes where run_id = ? and scored = 1", [run_id]), None)
    if episode is None:
        return None
    verdicts = []
    if "cdi_checks" in db.table_names():
        for row in db.query("select * from cdi_checks where run_id = ? and episode = ? order by rowid", [run_id, episode["episode"]]):
            verdicts.append((row["status"] == "ok", json.loads(row["shareable"]), json.loads(row["sensitive"])))
    return ScoredRun.from_verdicts(verdicts, episode["n_sensitive"], episode["n_shareable"])


def interval(runs: list[ScoredRun], field: str, rule: Rule = "authors", seed: int = 0) -> tuple[float, float] | None:
    """95% percentile bootstrap over runs of a pooled metric (None below 2 scored runs)."""
    if aggregate(runs, rule).scored < 2:
        return None
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(BOOTSTRAP):
        value = getattr(aggregate([runs[i] for i in rng.integers(0, len(runs), len(runs))], rule), field)
        if value is not None:
            values.append(value)
    return (float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))) if values else None


def table_rows(reader, run_ids: list[str]) -> list[dict]:
    """One row per (defense, attacker) cell, in the paper's defense order."""
    db = reader.db
    cells: dict[tuple[str, str], list[str]] = defaultdict(list)
    for run_id in run_ids:
        cfg = reader.config(run_id)["cdi"]
        cells[(cfg["defense"], cfg["attacker"])].append(run_id)
    order = sorted(cells, key=lambda k: (DEFENSE_ORDER.index(k[0]) if k[0] in DEFENSE_ORDER else 99, k[1]))
    out = []
    for defense, attacker in order:
        ids = cells[(defense, attacker)]
        rule: Rule = reader.config(ids[0])["cdi"].get("aggregation", "authors")
        runs = [r for r in (run_record(db, i) for i in ids) if r is not None]
        m: Aggregate = aggregate(runs, rule)
        calls = [next(db.query("select count(*) n, sum(tokens_in + tokens_out) t from llm_calls where run_id = ?", [i])) for i in ids]
        row = {"defense": defense, "attacker": attacker, "runs": len(ids), "scored": m.scored,
               "left_out_no_action": m.no_checked_action, "left_out_unparsed": m.left_out - m.no_checked_action,
               "unparsed_runs": m.unparsed_runs}
        for field in ("pp", "hs", "ad"):
            ci = interval(runs, field, rule)
            row[field], row[f"{field}_low"], row[f"{field}_high"] = getattr(m, field), *(ci or (None, None))
        row["calls_per_run"] = float(np.mean([c["n"] for c in calls]))
        row["tokens_per_run"] = float(np.mean([c["t"] or 0 for c in calls]))
        out.append(row)
    return out


def _cell(row: dict, field: str) -> str:
    if row[field] is None:
        return "-"
    if row[f"{field}_low"] is None:
        return f"{row[field]:.3f}"
    return f"{row[field]:.3f} [{row[f'{field}_low']:.2f}, {row[f'{field}_high']:.2f}]"


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row[k] is None else row[k] for k in COLUMNS})


def print_table(rows: list[dict], console) -> None:
    table = Table(
        "defense", "attacker", "runs", "scored", "no action", "unparsed", "PP", "HS", "AD", "calls/run", "tokens/run",
        title="CDI: PP / HS / AD pooled over the scored runs (95% bootstrap CI)", title_justify="left",
        caption="no action: runs without a checked action, left out; unparsed: runs with an unparsed verdict "
                "(authors: scored as nothing shared; strict: left out)", caption_justify="left",
    )
    for r in rows:
        table.add_row(r["defense"], r["attacker"], str(r["runs"]), str(r["scored"]), str(r["left_out_no_action"]),
                      str(r["unparsed_runs"]), _cell(r, "pp"), _cell(r, "hs"), _cell(r, "ad"), f"{r['calls_per_run']:.1f}",
                      f"{r['tokens_per_run']:,.0f}")
    console.print(table)


def db_path(reader) -> Path:
    return Path(reader.db.conn.execute("PRAGMA database_list").fetchone()[2])


def sweep_table(reader, run_ids: list[str], console) -> None:
    """`simkit sweep`'s report: the table, and the same rows as `<db>.cdi-table.csv`."""
    rows = table_rows(reader, run_ids)
    print_table(rows, console)
    out = db_path(reader).with_suffix(".cdi-table.csv")
    write_csv(rows, out)
    console.print(f"CSV: {out}", highlight=False, soft_wrap=True)
