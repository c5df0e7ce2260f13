"""What a recipe is: one headline result of a paper, as data a plugin ships in its
`recipes.py` (`RECIPES = [Recipe(...), ...]`).

A recipe names the paper's table (and page), the scenario that runs the paper's setting
(the paper profile) with the `--set` items that complete it, the grid the paper swept,
which roles are instruments and what model the paper used for each, the metrics it
reports, the published numbers cell by cell, and the findings: the directions or
differences that the paper draws from those numbers. `simkit reproduce` runs it and
prints simkit's numbers beside the published ones.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

Cell = tuple[str, ...]
Lookup = Callable[[Cell, str], "float | None"]  # (cell, metric key) -> value, None if missing


@dataclass(frozen=True)
class MetricSpec:
    """A column: a final metric (tick -1) of each run, picked by name and labels."""

    key: str  # what the table calls it
    name: str  # the stored metric name
    labels: Mapping[str, str] = field(default_factory=dict)  # "{axis}" in a value is the cell's part on that axis
    paper: str = ""  # the paper's name for it
    only: Callable[[Cell], bool] | None = None  # the cells this column is read for (default: all)

    def pick(self, rows: Sequence[dict], cell_labels: Mapping[str, str] | None = None) -> float | None:
        want = {k: v.format(**(cell_labels or {})) for k, v in self.labels.items()}
        for row in rows:
            if row["name"] == self.name and json.loads(row["labels_json"] or "{}") == want:
                return row["value"]
        return None


@dataclass(frozen=True)
class Published:
    """One published number (or range) of a cell and metric."""

    cell: Cell
    metric: str
    value: float | None = None
    spread: float | None = None  # the paper's ± (its kind: `Recipe.spread_kind`)
    low: float | None = None  # a published range instead of one value
    high: float | None = None

    def text(self) -> str:
        if self.value is None and self.low is not None:
            return f"[{self.low:.3g}, {self.high:.3g}]"
        if self.value is None:
            return "-"
        return f"{self.value:.3f}" + (f"±{self.spread:.3f}" if self.spread is not None else "")

    def centre(self) -> float | None:
        if self.value is not None:
            return self.value
        if self.low is not None and self.high is not None:
            return (self.low + self.high) / 2
        return None


@dataclass(frozen=True)
class Finding:
    """A direction the paper draws from its numbers. `check(lookup)` says whether it holds
    for a table of cell means (True / False), or None when the table lacks a cell it needs.
    The same check runs on the published numbers and on simkit's."""

    text: str
    check: Callable[[Lookup], "bool | None"]


def lower(metric: str, a: Cell, b: Cell) -> Callable[[Lookup], "bool | None"]:
    """`metric` is lower in cell `a` than in cell `b`."""

    def check(get: Lookup) -> bool | None:
        x, y = get(a, metric), get(b, metric)
        return None if x is None or y is None else x < y

    return check


def largest_drop(metric: str, groups: Sequence[str], base: str, attacked: str) -> Callable[[Lookup], "bool | None"]:
    """The first of `groups` loses most of `metric` from cell (g, base) to (g, attacked)."""

    def check(get: Lookup) -> bool | None:
        drops = []
        for g in groups:
            x, y = get((g, base), metric), get((g, attacked), metric)
            if x is None or y is None:
                return None
            drops.append(x - y)
        return drops[0] == max(drops)

    return check


def within(metric: str, cell: Cell, low: float, high: float) -> Callable[[Lookup], "bool | None"]:
    """`metric` of `cell` lies in [low, high]."""

    def check(get: Lookup) -> bool | None:
        x = get(cell, metric)
        return None if x is None else low <= x <= high

    return check


def order(metric: str, cells: Sequence[Cell]) -> Callable[[Lookup], "bool | None"]:
    """The cells rank in this order on `metric` (highest first), among those present;
    None unless at least two are present."""

    def check(get: Lookup) -> bool | None:
        values = [(get(c, metric), i) for i, c in enumerate(cells)]
        present = [(v, i) for v, i in values if v is not None]
        if len(present) < 2:
            return None
        return [i for _v, i in sorted(present, key=lambda p: -p[0])] == [i for _v, i in present]

    return check


@dataclass(frozen=True)
class Recipe:
    """One headline result. See the module docstring; every field is shown by `--list` or
    printed with the comparison."""

    name: str  # `simkit reproduce NAME`
    plugin: str
    title: str
    paper: str  # citation
    table: str  # e.g. "Table 5"
    page: str  # where in the paper, or why unknown
    scenario: str  # the paper profile, relative to the project root (scenarios/...)
    profile: tuple[str, ...]  # --set items that complete the paper profile
    grid: Mapping[str, Sequence[str]]  # axis -> values the paper swept
    instruments: Mapping[str, str]  # instrument role the recipe calls -> what the paper used for it
    subject: str  # what the paper varied or used as the model under test
    cell_axes: tuple[str, ...]  # names of a cell's parts (the table's row labels)
    cells: Callable[[dict, str], list[Cell]]  # (stored run config, subject model) -> the cells the run counts in
    metrics: tuple[MetricSpec, ...]
    published: tuple[Published, ...]
    findings: tuple[Finding, ...] = ()
    seeds: int = 1
    spread_kind: str = ""  # what the paper's ± is
    dry_run: tuple[str, ...] = ()  # --set items that shrink the scripted dry run to seconds
    derived: Callable[[Lookup, list[Cell]], dict[Cell, dict[str, float]]] | None = None  # extra cell metrics
    notes: tuple[str, ...] = ()  # deviations a reader must know
    idle_roles: Mapping[str, str] = field(default_factory=dict)  # instrument roles this profile never calls -> why
    # The paper pools runs instead of averaging them: (reader, run ids) -> cell -> metric ->
    # (value, 95% low, 95% high, runs); replaces the per-run means of `metrics`.
    pooled: Callable[..., dict[Cell, dict[str, tuple]]] | None = None
    interval_kind: str = "95% t-interval over runs"

    def published_value(self, cell: Cell, metric: str) -> float | None:
        for p in self.published:
            if p.cell == cell and p.metric == metric:
                return p.centre()
        return None

    def published_cells(self) -> list[Cell]:
        seen: list[Cell] = []
        for p in self.published:
            if p.cell not in seen:
                seen.append(p.cell)
        return seen


def plugin_recipes(plugin: str, ep_value: str) -> list[Recipe]:
    """The recipes of one installed plugin: `RECIPES` of the `recipes` module next to it."""
    package = ep_value.split(":", 1)[0]
    try:
        module = importlib.import_module(f"{package}.recipes")
    except ModuleNotFoundError as exc:
        if exc.name == f"{package}.recipes":
            return []
        raise
    return [r for r in getattr(module, "RECIPES", ()) if r.plugin == plugin]


def all_recipes() -> dict[str, Recipe]:
    from simkit.engine.registry import available

    out: dict[str, Recipe] = {}
    for name, ep in sorted(available().items()):
        for recipe in plugin_recipes(name, ep.value):
            out[recipe.name] = recipe
    return out


def project_root() -> Path:
    """Where `scenarios/` and `personas/` live (the checkout the package runs from)."""
    return Path(__file__).resolve().parents[2]
