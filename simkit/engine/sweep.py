"""Sweeps: a grid of `--set key=v1,v2` axes times seeds, each point one run in the sweep
database. A point is known by its key, a hash of its resolved config (as stored in
`runs.config_json`), so a sweep run again finds the points it has already run."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from simkit.errors import UsageError


def expand_grid(axes: list[str]) -> list[dict[str, str]]:
    """`["a=1,2", "b=x"]` -> `[{"a": "1", "b": "x"}, {"a": "2", "b": "x"}]`."""
    keys, values = [], []
    for axis in axes:
        if "=" not in axis:
            raise UsageError(f"--set {axis}: expected key=v1,v2,...")
        key, raw = axis.split("=", 1)
        options = [v.strip() for v in raw.split(",")]
        if not key.strip() or not all(options):
            raise UsageError(f"--set {axis}: empty key or value")
        keys.append(key.strip())
        values.append(options)
    return [dict(zip(keys, combo)) for combo in itertools.product(*values)] or [{}]


@dataclass(frozen=True)
class PointJob:
    """One grid point, as a worker needs it (plain values: it crosses process boundaries)."""

    scenario: str
    overrides: tuple[str, ...]
    extra: dict = field(hash=False)
    db: str  # where this point's run is written
    label: str
    key: str
    attempt: int = 1


def config_key(config_json: str) -> str:
    return hashlib.sha256(config_json.encode()).hexdigest()[:16]


def plan_sweep(scenario: Path, axes: list[str], seeds: int, extra: dict) -> tuple[list[PointJob], object]:
    """The sweep's points in grid order (axes, then seeds), and the base scenario config."""
    from simkit.config import scenario_to_yaml_dict
    from simkit.engine.runner import load_scenario
    from simkit.store.writer import dumps

    if seeds < 1:
        raise UsageError("--seeds must be at least 1")
    base, _ = load_scenario(scenario, [], extra)
    jobs = []
    for point in expand_grid(axes):
        for k in range(seeds):
            overrides = tuple(f"{key}={value}" for key, value in point.items())
            point_extra = {**extra, "seed": base.seed + k}
            config, _ = load_scenario(scenario, list(overrides), point_extra)
            key = config_key(dumps(scenario_to_yaml_dict(config)))
            label = ", ".join(list(overrides) + [f"seed={config.seed}"])
            jobs.append(PointJob(str(scenario), overrides, point_extra, str(config.output.db), label, key))
    keys = [j.key for j in jobs]
    dup = next((j for j in jobs if keys.count(j.key) > 1), None)
    if dup is not None:
        raise UsageError(f"sweep: grid point {dup.label} appears twice (an axis repeats a value?)")
    return jobs, base


def find_run(db: Path, key: str) -> tuple[str, str] | None:
    """(run_id, status) of the run of point `key` in `db`: a finished one if there is one,
    else the one that got furthest."""
    if not Path(db).exists():
        return None
    with contextlib.closing(sqlite3.connect(f"file:{Path(db).resolve()}?mode=ro", uri=True)) as conn:
        try:
            rows = conn.execute("select run_id, status, last_tick, config_json from runs order by rowid").fetchall()
        except sqlite3.OperationalError:
            return None
    mine = [(1 if s == "finished" else 0, -1 if t is None else t, r, s) for r, s, t, c in rows if config_key(c or "") == key]
    if not mine:
        return None
    best = max(mine, key=lambda m: (m[0], m[1]))
    return best[2], best[3]
