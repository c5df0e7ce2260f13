"""simkit's numbers beside the published ones: per cell and metric the mean over the runs
of the cell with its 95% interval (Student's t over runs; none for one run), the
published number with its table and page, the difference, and per finding whether it
holds in the paper's numbers and in simkit's. Printed as a rich table, written as CSV
and as a PNG chart."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from simkit.display.stats import interval
from simkit.reproduce.recipe import Cell, Recipe

DRY_RUN = ("MECHANICS ONLY: scripted backend. These numbers come from a test double and say "
           "nothing about the paper; the run only checks the recipe end to end.")


@dataclass(frozen=True)
class Stat:
    """A cell's mean over its runs with the half-width of the 95% Student-t interval (None
    for fewer than two runs), or a pooled figure a plugin computed itself."""

    mean: float | None
    half_width: float | None
    n: int

    @classmethod
    def of(cls, values) -> Stat:
        iv = interval(values, over="runs")
        return cls(iv.mean, iv.half_width, iv.n)


@dataclass
class Row:
    cell: Cell
    metric: str
    stat: Stat
    published: str  # as the paper prints it, "" when it has none
    published_value: float | None

    @property
    def difference(self) -> float | None:
        if self.stat.mean is None or self.published_value is None:
            return None
        return self.stat.mean - self.published_value


@dataclass
class Comparison:
    recipe: Recipe
    rows: list[Row]
    findings: list[tuple[str, bool | None, bool | None]]  # text, holds in the paper, holds in simkit
    runs: int
    label: str  # what was run: the subject model, or the dry-run warning
    models: dict[str, str] = field(default_factory=dict)  # role -> model identity of the runs


def subject_of(config: dict) -> str:
    """The model under test of a stored run config, as `--llm` names it."""
    llm = config.get("llm", {})
    return f"{llm.get('backend')}:{llm['model']}" if llm.get("model") else str(llm.get("backend"))


def compare(reader, run_ids: list[str], recipe: Recipe, label: str) -> Comparison:
    """Group the runs into the recipe's cells and set them beside the published numbers."""
    values: dict[Cell, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    models: dict[str, str] = {}
    for run_id in run_ids:
        config = reader.config(run_id)
        run = reader.run(run_id)
        models.setdefault("subject", run["model"])
        rows = reader.metrics(run_id, -1)
        for cell in recipe.cells(config, subject_of(config)):
            labels = dict(zip(recipe.cell_axes, cell))
            for spec in recipe.metrics:
                if spec.only is not None and not spec.only(cell):
                    continue
                v = spec.pick(rows, labels)
                if v is not None and not (isinstance(v, float) and math.isnan(v)):
                    values[cell][spec.key].append(float(v))
    stats: dict[Cell, dict[str, Stat]] = {c: {k: Stat.of(v) for k, v in ms.items()} for c, ms in values.items()}
    if recipe.pooled is not None:
        for cell, ms in recipe.pooled(reader, run_ids).items():
            for key, (value, low, high, n) in ms.items():
                half = None if low is None or high is None else (high - low) / 2
                stats.setdefault(cell, {})[key] = Stat(value, half, n)

    def mean(cell: Cell, metric: str) -> float | None:
        s = stats.get(cell, {}).get(metric)
        return s.mean if s is not None else None

    if recipe.derived is not None:
        for cell, extra in recipe.derived(mean, list(stats)).items():
            for key, v in extra.items():
                stats.setdefault(cell, {})[key] = Stat(v, None, 1)

    metric_keys = [m.key for m in recipe.metrics] + sorted({p.metric for p in recipe.published} - {m.key for m in recipe.metrics})
    cells = recipe.published_cells() + sorted(c for c in stats if c not in recipe.published_cells())
    rows = []
    for cell in cells:
        for key in metric_keys:
            pub = next((p for p in recipe.published if p.cell == cell and p.metric == key), None)
            stat = stats.get(cell, {}).get(key, Stat(None, None, 0))
            if pub is None and stat.mean is None:
                continue
            rows.append(Row(cell, key, stat, pub.text() if pub else "", pub.centre() if pub else None))
    findings = [(f.text, f.check(recipe.published_value), f.check(mean)) for f in recipe.findings]
    return Comparison(recipe, rows, findings, len(run_ids), label, models)


def _num(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _interval(stat: Stat) -> str:
    if stat.mean is None:
        return "-"
    if stat.half_width is None:
        return f"{stat.mean:.3f} (n={stat.n})"
    return f"{stat.mean:.3f} ± {stat.half_width:.3f} (n={stat.n})"


def _yes(v: bool | None) -> str:
    return {True: "yes", False: "NO", None: "n/a"}[v]


def _cell_text(row: Row | None) -> str:
    """simkit's mean and interval, the published number, the difference: three lines."""
    if row is None:
        return ""
    lines = [_interval(row.stat)]
    if row.published:
        lines.append(f"paper {row.published}")
        if row.difference is not None:
            lines.append(f"diff {row.difference:+.3f}")
    return "\n".join(lines)


def print_comparison(console: Console, comp: Comparison) -> None:
    """The paper's layout: one row per cell (its row labels), one column per metric."""
    r = comp.recipe
    if "MECHANICS ONLY" in comp.label:
        console.print(f"[bold yellow]{comp.label}[/]", highlight=False)
    else:
        console.print(f"model under test: {comp.label}", highlight=False)
    metrics = list(dict.fromkeys(row.metric for row in comp.rows))
    table = Table(
        title=f"{r.name}: {r.title} ({r.paper}, {r.table}, {r.page})", title_justify="left",
        caption=f"each cell: simkit's value ± half the {r.interval_kind} (n runs); the published number ({r.table}; its ±: "
                f"{r.spread_kind or 'as printed'}); simkit minus published",
        caption_justify="left",
    )
    for axis in r.cell_axes:
        table.add_column(axis, no_wrap=True)
    for metric in metrics:
        table.add_column(metric, justify="right")
    by_cell: dict[Cell, dict[str, Row]] = {}
    for row in comp.rows:
        by_cell.setdefault(row.cell, {})[row.metric] = row
    for cell, rows in by_cell.items():
        table.add_row(*cell, *(_cell_text(rows.get(m)) for m in metrics), end_section=True)
    console.print(table)
    if comp.findings:
        f = Table("finding", "in the paper's numbers", "in simkit's numbers", title="published findings", title_justify="left")
        for text, paper, ours in comp.findings:
            f.add_row(text, _yes(paper), _yes(ours))
        console.print(f)
    for note in r.notes:
        console.print(f"note: {note}", highlight=False, soft_wrap=True)


def write_csv(comp: Comparison, path: Path) -> None:
    r = comp.recipe
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["recipe", "run_label", *r.cell_axes, "metric", "simkit_mean", "simkit_ci95_half_width", "simkit_runs",
                    "published", "published_where", "difference"])
        for row in comp.rows:
            w.writerow([r.name, comp.label, *row.cell, row.metric, _num(row.stat.mean, 6), _num(row.stat.half_width, 6),
                        row.stat.n, row.published, f"{r.table}, {r.page}", _num(row.difference, 6)])
        for text, paper, ours in comp.findings:
            w.writerow([r.name, comp.label, *([""] * len(r.cell_axes)), f"finding: {text}", "", "", "",
                        _yes(paper), "", _yes(ours)])


def write_png(comp: Comparison, path: Path) -> None:
    """One panel per metric: simkit's mean with its interval beside the published value, per cell."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = list(dict.fromkeys(row.metric for row in comp.rows))
    fig, axes = plt.subplots(len(metrics), 1, figsize=(9, 2.6 * len(metrics)), dpi=90, squeeze=False)
    for ax, metric in zip(axes[:, 0], metrics):
        rows = [row for row in comp.rows if row.metric == metric]
        xs = range(len(rows))
        ours = [row.stat.mean if row.stat.mean is not None else math.nan for row in rows]
        errs = [row.stat.half_width or 0.0 for row in rows]
        pub = [row.published_value if row.published_value is not None else math.nan for row in rows]
        ax.bar([x - 0.2 for x in xs], ours, 0.4, yerr=errs, capsize=3, label="simkit (95% CI)")
        ax.bar([x + 0.2 for x in xs], pub, 0.4, label=f"published ({comp.recipe.table})")
        ax.set_xticks(list(xs))
        ax.set_xticklabels(["/".join(row.cell) for row in rows], rotation=30, ha="right", fontsize=7)
        ax.set_title(metric, fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle(f"{comp.recipe.name}: {comp.label[:90]}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
