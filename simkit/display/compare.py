"""`simkit runs compare`: a leaderboard of runs by model (or scenario, or run) over their
final metrics: per metric the mean over runs, a 95% confidence interval (Student's t over
the runs of a group; none for a single run) and how many runs it rests on. Works for any
plugin's unlabelled final metrics; rendered as a rich table and, optionally, a PNG chart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table
from scipy import stats

from simkit.display.tables import format_value
from simkit.errors import UsageError

GROUPINGS = ("model", "scenario", "run")


@dataclass
class Stat:
    mean: float | None
    half_width: float | None  # of the 95% interval; None with fewer than two values
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Stat:
        n = len(values)
        if n == 0:
            return cls(None, None, 0)
        mean = sum(values) / n
        if n < 2:
            return cls(mean, None, 1)
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
        return cls(mean, float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n), n)


@dataclass
class Board:
    by: str
    metrics: list[str]
    rows: list[tuple[str, int, dict[str, Stat]]] = field(default_factory=list)  # group, runs, metric -> stat


def compare_runs(reader, run_ids: Sequence[str], *, by: str = "model", metrics: Sequence[str] = ()) -> Board:
    """Group the runs, then per group and metric the mean, 95% CI and count of the runs'
    final values (a run without the metric, or with NULL, does not count)."""
    if by not in GROUPINGS:
        raise UsageError(f"--by: expected one of {', '.join(GROUPINGS)}, got {by!r}")
    groups: dict[str, list[dict[str, float | None]]] = {}
    for run_id in run_ids:
        run = reader.run(run_id)
        finals = {m["name"]: m["value"] for m in reader.metrics(run["run_id"], -1) if m["labels_json"] in (None, "{}")}
        key = run["run_id"] if by == "run" else str(run[by])
        groups.setdefault(key, []).append(finals)
    found = sorted({n for runs in groups.values() for f in runs for n in f if not n.startswith("llm.")})
    unknown = [m for m in metrics if m not in found]
    if unknown:
        raise UsageError(f"--metric: no final metric {unknown[0]!r} in these runs (they have: {', '.join(found[:12]) or 'none'})")
    chosen = list(metrics) or found[:8]
    board = Board(by, chosen)
    for key, runs in groups.items():
        cells = {m: Stat.of([f[m] for f in runs if f.get(m) is not None]) for m in chosen}
        board.rows.append((key, len(runs), cells))
    first = chosen[0] if chosen else None
    board.rows.sort(key=lambda r: (-(r[2][first].mean if first and r[2][first].mean is not None else -math.inf), r[0]))
    return board


def cell(stat: Stat) -> str:
    if stat.mean is None:
        return "n/a"
    if stat.half_width is None:
        return format_value(stat.mean)
    return f"{stat.mean:.3g} ± {stat.half_width:.2g}"


def leaderboard_table(board: Board) -> Table:
    table = Table(title=f"leaderboard by {board.by} (mean ± 95% CI half-width over runs)", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column(board.by, overflow="fold")
    table.add_column("runs", justify="right")
    for m in board.metrics:
        table.add_column(m, justify="right", overflow="fold")
    for i, (key, n, cells) in enumerate(board.rows, 1):
        table.add_row(str(i), key, str(n), *(cell(cells[m]) for m in board.metrics))
    return table


def write_png(board: Board, path: Path) -> None:
    """Grouped bars: one group of bars per metric, one bar per row of the board, 95% CI whiskers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    width = 0.8 / max(1, len(board.rows))
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(board.metrics)), 4), dpi=100)
    for j, (key, _n, cells) in enumerate(board.rows):
        xs = [i + j * width for i in range(len(board.metrics))]
        means = [cells[m].mean if cells[m].mean is not None else math.nan for m in board.metrics]
        errs = [cells[m].half_width or 0.0 for m in board.metrics]
        ax.bar(xs, means, width, yerr=errs, capsize=3, label=key)
    ax.set_xticks([i + width * (len(board.rows) - 1) / 2 for i in range(len(board.metrics))])
    ax.set_xticklabels(board.metrics, rotation=30, ha="right", fontsize=8)
    ax.set_title(f"final metrics by {board.by} (95% CI)")
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
