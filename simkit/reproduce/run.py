"""Run a plan's points into one database: serially, on `--jobs` worker processes (the
sweep's executors), or from a record. A point already finished in the database is kept,
an unfinished one resumes, and answers are cached in the run, so running the same command
again costs nothing and a killed reproduction continues where it stopped."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Callable

from simkit.engine.executors import Driver, PointResult, run_point
from simkit.engine.sweep import find_run
from simkit.errors import SimkitError
from simkit.reproduce.plan import Plan

Say = Callable[[str, PointResult], None]


def run_plan(plan: Plan, *, jobs: int = 1, execute=None, say: Say = lambda *_: None,
             answers: dict[int, dict[str, dict]] | None = None) -> list[str]:
    """Run every point; return the run ids in grid order. Raises when a point failed."""
    results: dict[str, PointResult] = {}
    if answers is not None:
        if len(answers) != len(plan.points):
            raise SimkitError(f"the record holds {len(answers)} runs, the plan {len(plan.points)}: not a record of this grid")
        for i, point in enumerate(plan.points):
            results[point.key] = _replay_point(point, answers.get(i, {}))
            say("done", results[point.key])
    elif jobs > 1:
        results = Driver(plan.db, retries=1, say=say).run(plan.points, "process", jobs)
    else:
        for point in plan.points:
            try:
                results[point.key] = run_point(point, execute)
            except SimkitError as exc:
                raise type(exc)(f"{point.label}: {exc} [finished points are kept; run the same command again to resume]") from None
            say("done", results[point.key])
    failed = [p for p in plan.points if results.get(p.key) is None or results[p.key].status != "finished"]
    if failed:
        r = results.get(failed[0].key)
        raise SimkitError(f"{len(failed)} of {len(plan.points)} points failed ({failed[0].label}: "
                          f"{r.error if r else 'not run'}); run the same command again to resume them")
    return [results[p.key].run_id for p in plan.points]


def _replay_point(point, answers: dict[str, dict]) -> PointResult:
    from simkit.engine.runner import load_scenario
    from simkit.reproduce.record import ReplaySimulation

    config, plugin_cfg = load_scenario(Path(point.scenario), list(point.overrides), dict(point.extra))
    found = find_run(Path(point.db), point.key)
    if found is not None and found[1] == "finished":
        return PointResult(point.key, point.label, "finished", found[0])
    sim = ReplaySimulation(config, plugin_cfg, Path(point.db), source=Path(point.scenario),
                           run_id=found[0] if found else None, answers=answers)
    try:
        result = asyncio.run(sim.run(resume=found is not None))
    finally:
        if sim.writer is not None:
            sim.writer.close()
    return PointResult(point.key, point.label, result.status, result.run_id)
