"""Metrics over time: how a run's per-tick metric rows become series, on the plugin's time axis.

A metric stored at a tick >= 0 is a point of a series (tick -1 holds the run's final values).
By default a series runs over ticks. A plugin may declare its time axis (`Plugin.time_axis`):
a metric label that holds the x value (TrendSim stores its hourly outcomes with `{hour: N}`),
the axis title and unit. The axis label is then taken off the series' labels, so
`emotion.avg{hour=1}`, `emotion.avg{hour=2}`, ... are one series `emotion.avg` over hours.
A plugin may also name moments worth marking on the axis (`Plugin.series_marks`: the start of
an attack). The viewers, `simkit plot` and the HTML report all read series through here.
"""

from __future__ import annotations

import bisect
import json
import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TimeAxis:
    """The x axis of a plugin's metric series."""

    label: str | None = None  # the metric label holding x (e.g. "hour"); None: the tick
    title: str = "tick"
    unit: str = ""
    units: dict[str, str] = field(default_factory=dict)  # metric name (or prefix ending in ".") -> unit of its values

    @property
    def text(self) -> str:
        """The axis title with its unit, for a chart: "time (hours since start)"."""
        return f"{self.title} ({self.unit})" if self.unit else self.title

    def unit_of(self, metric: str) -> str:
        if metric in self.units:
            return self.units[metric]
        best = max((p for p in self.units if p.endswith(".") and metric.startswith(p)), key=len, default=None)
        return self.units[best] if best else ""


@dataclass(frozen=True)
class Mark:
    """A moment on the time axis worth drawing (a vertical line with a label)."""

    x: float
    label: str


@dataclass
class Series:
    """One metric over time: a metric name plus its labels (the axis label taken off).
    `points` are (tick, value) in tick order; `xs` the matching positions on the time axis."""

    name: str
    labels: dict
    points: list[tuple[int, float | None]] = field(default_factory=list)
    xs: list[float] = field(default_factory=list)

    @property
    def key(self) -> str:
        return metric_key(self.name, self.labels)

    def values(self) -> list[float]:
        """The recorded numbers (a NULL value, a metric the plugin could not compute, left out)."""
        return [v for _t, v in self.points if v is not None and not (isinstance(v, float) and math.isnan(v))]

    def value_at(self, tick: int) -> float | None:
        """The last value recorded at or before `tick`."""
        i = bisect.bisect_right([t for t, _v in self.points], tick)
        return self.points[i - 1][1] if i else None

    def add(self, tick: int, x: float, value: float | None) -> None:
        self.points.append((tick, value))
        self.xs.append(x)


def metric_key(name: str, labels: dict | None) -> str:
    """`name{k=v,...}` (labels sorted), or the bare name."""
    if not labels:
        return name
    return name + "{" + ",".join(f"{k}={v}" for k, v in sorted(labels.items())) + "}"


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def read_series(db, run_id: str, axis: TimeAxis | None = None, since: int = 0) -> dict[str, Series]:
    """The run's series from tick `since` on, keyed by `name{labels}` and sorted by x.
    With an axis label, a row that lacks it (or whose value is not a number) is a series over ticks."""
    axis = axis or TimeAxis()
    rows = db.execute(
        "select name, labels_json, tick, value from metrics where run_id = ? and tick >= ? order by name, labels_json, tick",
        [run_id, since],
    )
    out: dict[str, Series] = {}
    for name, labels_json, tick, value in rows:
        labels = json.loads(labels_json) if labels_json else {}
        x: float | None = float(tick)
        if axis.label and axis.label in labels:
            x = _number(labels[axis.label])
            if x is not None:
                labels = {k: v for k, v in labels.items() if k != axis.label}
            else:
                x = float(tick)
        key = metric_key(name, labels)
        series = out.get(key)
        if series is None:
            series = out[key] = Series(name, labels)
        series.add(tick, x, value)
    for series in out.values():
        order = sorted(range(len(series.xs)), key=lambda i: (series.xs[i], series.points[i][0]))
        series.points = [series.points[i] for i in order]
        series.xs = [series.xs[i] for i in order]
    return out


def plugin_class(name: str):
    """The installed plugin class of that name, or None (a run of a plugin not installed here
    still reads, over ticks)."""
    from simkit.engine.registry import load_plugin

    try:
        return load_plugin(name)
    except Exception:  # noqa: BLE001 - any failure to load means "no declarations"
        return None


def axis_of(plugin: str) -> TimeAxis:
    cls = plugin_class(plugin)
    axis = getattr(cls, "time_axis", None) if cls is not None else None
    return axis if isinstance(axis, TimeAxis) else TimeAxis()


def marks_of(plugin: str, db, run_id: str) -> list[Mark]:
    """The plugin's marks for this run (none when it declares none or cannot say)."""
    cls = plugin_class(plugin)
    hook = getattr(cls, "series_marks", None) if cls is not None else None
    if hook is None:
        return []
    try:
        return list(hook(db, run_id) or [])
    except Exception:  # noqa: BLE001 - a mark is decoration; never fail a report for it
        return []


__all__ = ["Mark", "Series", "TimeAxis", "axis_of", "marks_of", "metric_key", "plugin_class", "read_series"]
