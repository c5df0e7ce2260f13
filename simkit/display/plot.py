"""`simkit plot`: a metric's series over time as a publication figure (matplotlib, PNG or SVG).

Each run is a line on the plugin's time axis (TrendSim: hours since the topic appeared), or,
with `by`, each group of runs (e.g. `set:trendsim.attack.share`) is its mean over replicates
(distinct seeds; identical reruns count once) with its 95% Student-t interval as a band. The
axes carry their titles and units, the legend says n per group, and the caption says what the
bands are. The plugin's marks (an attack's start) are drawn as dashed lines.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from simkit.display.stats import LEVEL, group_runs, interval
from simkit.errors import UsageError
from simkit.store.series import Series, TimeAxis, axis_of, marks_of, metric_key, read_series


@dataclass
class Line:
    label: str
    xs: list[float]
    ys: list[float]
    low: list[float | None] | None = None
    high: list[float | None] | None = None


def _matching(series: dict[str, Series], metric: str) -> list[Series]:
    """Series named `metric` (every label set), or the one whose key is `metric`."""
    if metric in series:
        return [series[metric]]
    return [s for k, s in sorted(series.items()) if s.name == metric]


def _points(s: Series) -> dict[float, float]:
    return {x: v for x, (_t, v) in zip(s.xs, s.points) if v is not None}


def collect(reader, run_ids: Sequence[str], metric: str, by: str | None) -> tuple[list[Line], TimeAxis, list, str]:
    """The lines to draw, the time axis, the marks and a caption saying what the bands are."""
    runs = [reader.run(r) for r in run_ids]
    plugins = {r["plugin"] for r in runs}
    axis = axis_of(sorted(plugins)[0]) if len(plugins) == 1 else TimeAxis()
    per_run = {r["run_id"]: _matching(read_series(reader.db, r["run_id"], axis), metric) for r in runs}
    if not any(per_run.values()):
        finals = {m["name"] for r in runs for m in reader.metrics(r["run_id"], -1)}
        hint = " (it is a final metric: simkit runs compare --metric ... --png draws it)" if metric in finals else ""
        names = sorted({s.name for r in runs for s in read_series(reader.db, r["run_id"], axis).values()})
        raise UsageError(f"--metric: no series {metric!r} in these runs{hint} (series: {', '.join(names[:12]) or 'none'}"
                         f"{f', and {len(names) - 12} more' if len(names) > 12 else ''})")
    marks = {}
    for r in runs:
        for m in marks_of(r["plugin"], reader.db, r["run_id"]):
            marks.setdefault(round(m.x, 2), m.label)
    lines: list[Line] = []
    if not by:
        for r in runs:
            for s in per_run[r["run_id"]]:
                pts = _points(s)
                extra = "" if len(per_run[r["run_id"]]) == 1 else " " + metric_key("", s.labels)
                lines.append(Line(f"{r['run_id']} (seed {r['seed']}){extra}", list(pts), list(pts.values())))
        return lines, axis, sorted(marks.items()), "one line per run"
    for g in group_runs(reader, run_ids, by):
        keys = sorted({metric_key("", s.labels) for r in g.runs for s in per_run[r["run_id"]]})
        for lk in keys:
            at: dict[float, list[float]] = defaultdict(list)
            for r in g.runs:
                for s in per_run[r["run_id"]]:
                    if metric_key("", s.labels) == lk:
                        for x, v in _points(s).items():
                            at[x].append(v)
            xs = sorted(at)
            stats = [interval(at[x], over=g.over) for x in xs]
            label = f"{g.key}{' ' + lk if lk else ''} (n={len(g.runs)} {g.over})"
            lines.append(Line(label, xs, [s.mean for s in stats], [s.low for s in stats], [s.high for s in stats]))
    caption = (f"lines: mean over replicates; bands: {LEVEL:.0%} Student-t interval of the mean over distinct seeds "
               "(identical reruns counted once; none where n = 1)")
    return lines, axis, sorted(marks.items()), caption


def plot_metric(reader, run_ids: Sequence[str], metric: str, out: Path, by: str | None = None):
    """Draw and save the figure (format from `out`'s suffix: .png, .svg or .pdf); returns the
    figure and its lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    suffix = Path(out).suffix.lower()
    if suffix not in (".png", ".svg", ".pdf"):
        raise UsageError(f"--out: {out}: expected a .png, .svg or .pdf file")
    lines, axis, marks, caption = collect(reader, run_ids, metric, by)
    unit = axis.unit_of(metric.split("{")[0])
    with plt.rc_context({"svg.fonttype": "none", "font.size": 9}):
        fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=150)
        for line in lines:
            (drawn,) = ax.plot(line.xs, line.ys, marker="o" if len(line.xs) <= 40 else None, markersize=3,
                               linewidth=1.5, label=line.label)
            if line.low is not None and any(v is not None for v in line.low):
                lo = [v if v is not None else y for v, y in zip(line.low, line.ys)]
                hi = [v if v is not None else y for v, y in zip(line.high or [], line.ys)]
                ax.fill_between(line.xs, lo, hi, alpha=0.2, color=drawn.get_color(), linewidth=0)
        for i, (x, label) in enumerate(marks):  # one dashed line per run's mark, labelled once
            ax.axvline(x, color="#c0392b", linestyle="--", linewidth=1)
            if i == 0 or label != marks[i - 1][1]:
                ax.annotate(label + (" (per run)" if len(marks) > 1 else ""), (x, 1), xycoords=("data", "axes fraction"),
                            xytext=(3, -10), textcoords="offset points", fontsize=7, color="#c0392b")
        ax.set_xlabel(axis.text)
        ax.set_ylabel(f"{metric} ({unit})" if unit else metric)
        ax.set_title(metric + (f" by {by.removeprefix('set:')}" if by else ""))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
        fig.text(0.01, 0.01, caption, fontsize=6, color="#555")
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, metadata={"Title": metric} if suffix != ".png" else None)
    plt.close(fig)
    return fig, lines


def figure_text(fig) -> list[str]:
    """Every piece of text on a drawn figure (axis titles, tick labels, legend, caption)."""
    return [t.get_text() for t in fig.findobj(match=lambda a: hasattr(a, "get_text")) if t.get_text()]


__all__ = ["Line", "collect", "figure_text", "plot_metric"]
