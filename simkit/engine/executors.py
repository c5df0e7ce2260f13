"""Where a sweep's grid points run: one after another here (`serial`), in a pool of local
worker processes (`process`, `--jobs N`), or as Ray tasks on whatever cluster `ray.init()`
finds (`ray`, local by default; `pip install -e ".[ray]"`).

Serial points write straight into the sweep database. Parallel points each write into
their own SQLite file, `<sweep db>.parts/<point key>.db`; the driver (the only writer of
the sweep database) merges a part as soon as its point finishes (`simkit.store.merge`),
then deletes it. A point that fails, or whose worker dies, is tried again: it resumes
after its part's last committed tick, which by the determinism guarantee ends with the
same trajectory. A sweep run again skips its finished points and resumes the others.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextlib
import json
import multiprocessing
import os
import sqlite3
import tempfile
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from simkit.engine.sweep import PointJob, find_run
from simkit.errors import SimkitError, UsageError

EXECUTORS = ("serial", "process", "ray")


@dataclass
class PointResult:
    key: str
    label: str
    status: str  # finished | failed
    run_id: str | None = None
    wall: float = 0.0
    error: str | None = None
    attempt: int = 1


Execute = Callable  # (sim, *, resume, title) -> (RunResult, wall seconds): the CLI's live runner


def _point_simulation():
    from simkit.engine.runner import Simulation

    class PointSimulation(Simulation):
        """A sweep point's run: its cached answers are its own run's only (what a resume
        needs), never another point's. So a point's trajectory is the same whichever
        executor runs it, in whatever order, into whichever file; and seed replicates stay
        independent (the cache key holds no run seed)."""

        def _cached_answer(self, key: str) -> dict | None:
            if self._reader is None:
                return None
            row = self._reader.db.execute(
                "select response_json, tokens_in, tokens_out from llm_calls where request_hash = ? and run_id = ? limit 1",
                [key, self.run_id],
            ).fetchone()
            if row is None:
                return None
            response = json.loads(row[0])
            return {"text": response["text"], "tool_calls": response.get("tool_calls") or [],
                    "tokens_in": row[1], "tokens_out": row[2]}

    return PointSimulation


def run_point(job: PointJob, execute: Execute | None = None) -> PointResult:
    """Run one grid point into `job.db`, resuming the point's unfinished run there if any."""
    from simkit.engine.runner import load_scenario

    PointSimulation = _point_simulation()
    started = time.monotonic()
    config, plugin_cfg = load_scenario(Path(job.scenario), list(job.overrides), dict(job.extra))
    found = find_run(Path(job.db), job.key)
    if found is not None and found[1] == "finished":
        return PointResult(job.key, job.label, "finished", found[0], 0.0, attempt=job.attempt)
    resume_id = found[0] if found is not None else None
    sim = PointSimulation(config, plugin_cfg, Path(job.db), source=Path(job.scenario), run_id=resume_id)
    try:
        if execute is not None:
            result, _ = execute(sim, resume=resume_id is not None, title=job.label)
        else:
            result = asyncio.run(sim.run(resume=resume_id is not None))
    finally:
        if sim.writer is not None:
            sim.writer.close()
    return PointResult(job.key, job.label, result.status, result.run_id, time.monotonic() - started, attempt=job.attempt)


def run_point_safely(job: PointJob) -> PointResult:
    """`run_point` for a worker: a failure comes back as a result, never as a lost future."""
    try:
        return run_point(job)
    except SimkitError as exc:
        return PointResult(job.key, job.label, "failed", error=str(exc), attempt=job.attempt)
    except Exception as exc:  # noqa: BLE001 - reported by the driver, with the type
        tb = traceback.format_exc(limit=3).strip().splitlines()[-1]
        return PointResult(job.key, job.label, "failed", error=f"{type(exc).__name__}: {exc} ({tb})", attempt=job.attempt)


def _snapshot(path: Path) -> bytes:
    """The database at `path` (with what its WAL holds) as the bytes of one self-contained file."""
    with tempfile.TemporaryDirectory(prefix="simkit-snap-") as tmp:
        copy = Path(tmp) / "copy.db"
        with contextlib.closing(sqlite3.connect(path)) as src, contextlib.closing(sqlite3.connect(copy)) as dst:
            src.backup(dst)
        return copy.read_bytes()


def _drop(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


class Driver:
    """Runs jobs on a parallel backend; merges each finished part into the sweep database."""

    def __init__(self, sweep_db: Path, *, retries: int = 2, say: Callable[[str, PointResult], None] = lambda *_: None):
        self.sweep_db = sweep_db
        self.retries = retries
        self.say = say
        self.results: dict[str, PointResult] = {}

    def part(self, job: PointJob) -> Path:
        folder = Path(str(self.sweep_db) + ".parts")
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{job.key}.db"

    def landed(self, job: PointJob, result: PointResult, data: bytes | None = None) -> PointJob | None:
        """Take a result: merge a finished part, or give back the job to try again."""
        from simkit.store.merge import merge_databases

        part = Path(job.db)
        if result.status == "finished":
            if data is not None:  # the part came back through Ray's object store
                _drop(part)
                part.write_bytes(data)
            merge_databases(self.sweep_db, [part])
            _drop(part)
            self.results[job.key] = result
            self.say("done", result)
            return None
        if job.attempt <= self.retries:
            self.say("retry", result)
            return replace(job, attempt=job.attempt + 1)
        self.results[job.key] = result
        self.say("failed", result)
        return None

    def run(self, jobs: list[PointJob], executor: str, n_jobs: int) -> dict[str, PointResult]:
        todo = []
        for job in jobs:
            found = find_run(self.sweep_db, job.key)
            if found is not None and found[1] == "finished":  # from an earlier invocation
                self.results[job.key] = PointResult(job.key, job.label, "finished", found[0])
                self.say("done", self.results[job.key])
            else:
                todo.append(replace(job, db=str(self.part(job))))
        jobs = todo
        if executor == "process":
            self._processes(jobs, n_jobs)
        elif executor == "ray":
            self._ray(jobs, n_jobs)
        else:
            raise UsageError(f"--executor {executor}: expected one of {', '.join(EXECUTORS)}")
        folder = Path(str(self.sweep_db) + ".parts")
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()  # every part merged
        return self.results

    def _processes(self, jobs: list[PointJob], n_jobs: int) -> None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["simkit.engine.executors", "simkit.engine.runner"])
        todo = list(jobs)
        while todo:
            with cf.ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx) as pool:
                futures = {pool.submit(run_point_safely, j): j for j in todo}
                todo = []
                while futures:
                    done, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
                    for future in done:
                        job = futures.pop(future)
                        try:
                            result = future.result()
                        except cf.process.BrokenProcessPool:
                            result = PointResult(job.key, job.label, "failed", error="its worker process died", attempt=job.attempt)
                            again = self.landed(job, result)
                            if again is not None:
                                todo.append(again)  # on a fresh pool: this one is broken
                            continue
                        again = self.landed(job, result)
                        if again is not None:
                            futures[pool.submit(run_point_safely, again)] = again

    def _ray(self, jobs: list[PointJob], n_jobs: int) -> None:
        try:
            import ray
        except ModuleNotFoundError:
            raise UsageError('--executor ray: Ray is not installed (pip install -e ".[ray]")') from None
        started_here = not ray.is_initialized()
        if started_here:
            address = os.environ.get("RAY_ADDRESS")
            kwargs = {} if address else {"num_cpus": n_jobs, "include_dashboard": False}
            ray.init(address=address, log_to_driver=False, **kwargs)
        # max_retries: Ray runs the task again when its worker dies; a failure the task
        # reports (a failed run) is retried by the driver, resuming where the part stopped.
        task = ray.remote(max_retries=self.retries)(ray_point)
        try:
            pending = {task.remote(j): j for j in jobs}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    job = pending.pop(ref)
                    try:
                        result, data = ray.get(ref)
                    except Exception as exc:  # noqa: BLE001 - a worker that died past max_retries
                        result, data = PointResult(job.key, job.label, "failed", error=f"Ray: {type(exc).__name__}: {exc}",
                                                   attempt=job.attempt), None
                    again = self.landed(job, result, data)
                    if again is not None:
                        pending[task.remote(again)] = again
        finally:
            if started_here:
                ray.shutdown()


def ray_point(job: PointJob) -> tuple[PointResult, bytes | None]:
    """A Ray task: run the point into its part file when this node sees the sweep's folder
    (a local cluster or a shared filesystem), else into a temporary file whose bytes go back
    to the driver through Ray's object store."""
    if Path(job.db).parent.is_dir():
        return run_point_safely(job), None
    with tempfile.TemporaryDirectory(prefix="simkit-part-") as tmp:
        path = Path(tmp) / "part.db"
        result = run_point_safely(replace(job, db=str(path)))
        if result.status != "finished":
            return result, None
        return result, _snapshot(path)
