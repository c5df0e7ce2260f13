"""`simkit runs compare`: a leaderboard of runs grouped by model, a role's model, scenario,
run or any config key (`set:KEY`), over their final metrics (labelled ones as `name{k=v}`).

Per group and metric: the mean over replicates (distinct seeds; identical reruns count once),
a 95% Student-t interval when there are two or more, and n. Every interval says what it is in
the table title and in the CSV. With exactly two groups, the difference of their means with
its interval and a named test (Welch's t, or a bootstrap). Rendered as a rich table, a CSV and,
optionally, a PNG chart.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from simkit.display.stats import LEVEL, Difference, Group, Interval, difference, group_runs, interval
from simkit.errors import UsageError
from simkit.store.series import metric_key

SHOWN_NAMES = 12


@dataclass
class Board:
    by: str
    metrics: list[str]
    groups: list[Group] = field(default_factory=list)
    cells: dict[str, dict[str, Interval]] = field(default_factory=dict)  # group -> metric -> interval
    values: dict[str, dict[str, list[float | None]]] = field(default_factory=dict)  # group -> metric -> per replicate

    @property
    def rows(self) -> list[tuple[str, int, dict[str, Interval]]]:
        """(group, replicates, metric -> interval), best first on the first metric."""
        return [(g.key, len(g.runs), self.cells[g.key]) for g in self.groups]

    def differences(self, test: str = "welch") -> list[Difference]:
        """Second group minus first, per metric (only with exactly two groups)."""
        if len(self.groups) != 2:
            return []
        a, b = self.groups[0].key, self.groups[1].key
        return [difference(a, self.values[a][m], b, self.values[b][m], test) for m in self.metrics]


def final_values(reader, run_id: str) -> dict[str, float | None]:
    """A run's final metrics keyed `name{labels}` (the engine's `llm.*` accounting left out)."""
    return {
        metric_key(m["name"], _labels(m["labels_json"])): m["value"]
        for m in reader.metrics(run_id, -1)
        if not m["name"].startswith("llm.")
    }


def _labels(text: str | None) -> dict:
    import json

    return json.loads(text) if text else {}


def names_hint(found: Sequence[str]) -> str:
    """The names a user may pick, never cut silently."""
    if not found:
        return "none"
    shown = ", ".join(found[:SHOWN_NAMES])
    more = len(found) - SHOWN_NAMES
    return shown + (f", and {more} more (simkit runs show RUN --all-metrics lists them)" if more > 0 else "")


def compare_runs(reader, run_ids: Sequence[str], *, by: str = "model", metrics: Sequence[str] = ()) -> Board:
    """Group the runs, then per group and metric the mean, 95% interval and n over the
    replicates' final values (a run without the metric, or with NULL, does not count)."""
    if not run_ids:
        raise UsageError("no runs to compare (the database holds none)")
    groups = group_runs(reader, run_ids, by)
    finals = {r["run_id"]: final_values(reader, r["run_id"]) for g in groups for r in g.runs}
    found = sorted({n for f in finals.values() for n in f}, key=lambda k: ("{" in k, k))
    unknown = [m for m in metrics if m not in found]
    if unknown:
        raise UsageError(f"--metric: no final metric {unknown[0]!r} in these runs (they have: {names_hint(found)})")
    chosen = list(metrics) or [n for n in found if "{" not in n][:8] or found[:8]
    board = Board(by, chosen)
    for g in groups:
        board.values[g.key] = {m: [finals[r["run_id"]].get(m) for r in g.runs] for m in chosen}
        board.cells[g.key] = {m: interval(board.values[g.key][m], over=g.over) for m in chosen}
    first = chosen[0] if chosen else None

    def rank(g: Group) -> tuple:
        mean = board.cells[g.key][first].mean if first else None
        return (-(mean if mean is not None else -math.inf), g.key)

    board.groups = sorted(groups, key=rank)
    return board


def interval_note() -> str:
    """What every `±` of the leaderboard and the sweep table is (printed under them)."""
    return (f"± : half-width of the {LEVEL:.0%} Student-t interval of the mean over n replicates "
            "(distinct seeds; identical reruns counted once); n = 1: the value, no interval")


def leaderboard_table(board: Board) -> Table:
    table = Table(title=f"leaderboard by {board.by}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column(board.by, overflow="fold")
    table.add_column("n", justify="right")
    for m in board.metrics:
        table.add_column(escape(m), justify="right", overflow="fold")
    for i, g in enumerate(board.groups, 1):
        n = str(len(g.runs)) + (f" (+{g.n_reruns} rerun{'s' if g.n_reruns > 1 else ''})" if g.n_reruns else "")
        table.add_row(str(i), escape(g.key), n, *(board.cells[g.key][m].text() for m in board.metrics))
    return table


def reruns_note(board: Board) -> list[str]:
    """One line per set of identical reruns, so nobody mistakes them for replicates."""
    out = []
    for g in board.groups:
        for first, same in g.reruns.items():
            out.append(f"{g.key}: {', '.join(same)} repeat{'s' if len(same) == 1 else ''} {first} "
                       "(same settings and seed): counted once")
    return out


def difference_table(board: Board, test: str = "welch") -> Table | None:
    diffs = board.differences(test)
    if not diffs:
        return None
    d0 = diffs[0]
    table = Table(title=f"difference {d0.b} − {d0.a} ({LEVEL:.0%} CI and p by {d0.test}; n = {d0.n_a} and {d0.n_b})",
                  title_justify="left")
    for col in ("metric", "difference", f"{LEVEL:.0%} CI", "p"):
        table.add_column(col, justify="right" if col != "metric" else "left", overflow="fold")
    for m, d in zip(board.metrics, diffs):
        ci = f"{d.low:.3g} … {d.high:.3g}" if d.low is not None else "n/a (needs 2+ values per group with spread)"
        table.add_row(escape(m), f"{d.diff:.3g}" if d.diff is not None else "n/a", ci, f"{d.p:.3g}" if d.p is not None else "n/a")
    return table


def write_csv(board: Board, path: Path, test: str = "welch") -> None:
    """Tidy rows: group, metric, mean, ci_low, ci_high, n, interval (what it is), reruns;
    with two groups, one more row per metric for the difference."""
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["by", "group", "metric", "mean", "ci_low", "ci_high", "n", "interval", "identical_reruns", "p"])
        for g in board.groups:
            for m in board.metrics:
                c = board.cells[g.key][m]
                w.writerow([board.by, g.key, m, c.mean, c.low, c.high, c.n, c.label, g.n_reruns, ""])
        for m, d in zip(board.metrics, board.differences(test)):
            w.writerow([board.by, f"{d.b} − {d.a}", m, d.diff, d.low, d.high, f"{d.n_a}+{d.n_b}", d.label, "", d.p])


def write_png(board: Board, path: Path) -> None:
    """Grouped bars: one group of bars per metric, one bar per group of runs, 95% CI whiskers
    (none where n = 1)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    width = 0.8 / max(1, len(board.groups))
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(board.metrics)), 4), dpi=100)
    for j, g in enumerate(board.groups):
        cells = board.cells[g.key]
        xs = [i + j * width for i in range(len(board.metrics))]
        means = [cells[m].mean if cells[m].mean is not None else math.nan for m in board.metrics]
        errs = [cells[m].half_width or 0.0 for m in board.metrics]
        ax.bar(xs, means, width, yerr=errs, capsize=3, label=f"{g.key} (n={len(g.runs)})")
    ax.set_xticks([i + width * (len(board.groups) - 1) / 2 for i in range(len(board.metrics))])
    ax.set_xticklabels(board.metrics, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("final value")
    ax.set_title(f"final metrics by {board.by}: mean, whiskers {LEVEL:.0%} t-CI over seeds", fontsize=9)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
