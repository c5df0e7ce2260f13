"""What a plugin's tests check, for simkit's own plugins and third-party ones alike.

`PluginCheck(scenario, workdir)` runs a scenario on the scripted backend (every role scripted,
nothing loaded) and checks what the engine promises of every plugin:

- `run()`: a scripted run into its own database; returns a `ScriptedRun` (db, run_id).
- `assert_deterministic()`: two fresh runs of one seed record the same trajectory.
- `assert_resumes()`: a run killed with SIGKILL after half its ticks, then resumed, records
  the trajectory of the uninterrupted run.
- `assert_null_metrics()`: a run in which every LLM answer fails to parse still finishes; each
  metric it stores is a finite number or NULL (never NaN or infinity), and it replays and
  exports.
- `assert_replays(run)`: the HTML report is written and the terminal viewer shows every tick.
- `assert_exports(run)`: `simkit export` (jsonl and sft) writes every row of the run.
- `check_all()`: all of the above.

`trajectory(db, run_id)` is the digest the comparisons use: every row the run wrote in every
table with a `run_id` column (plugin tables included), without wall-clock columns.

With pytest, `pytest_plugins = ["simkit.testing.fixtures"]` in a conftest gives the
`plugin_check` fixture. See simkit/plugins/README.md ("Testing a plugin").
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Columns that record when or how fast, not what happened.
VOLATILE = {"committed_at", "latency_ms", "started_at", "finished_at"}
# Tables that describe the run rather than its trajectory (counters include replayed work).
NOT_TRAJECTORY = {"runs", "run_models", "resumes"}


@dataclass
class ScriptedRun:
    db: Path
    run_id: str
    status: str = "finished"
    ticks: int = 0


def _scripted_extra(db: Path) -> dict:
    from simkit.config import parse_llm_flag

    return {"llm": parse_llm_flag("scripted"), "output": {"db": str(db)}}


def _simulation(scenario: Path, db: Path, sets: list[str], run_id: str | None = None):
    from simkit.engine.runner import Simulation, config_from_run, load_scenario
    from simkit.store.reader import RunReader

    if run_id is None:
        config, plugin_cfg = load_scenario(scenario, list(sets), _scripted_extra(db))
    else:  # a resume runs the stored config, as `simkit run --resume` does
        config, plugin_cfg = config_from_run(RunReader.open(db), run_id)
    return Simulation(config, plugin_cfg, db, source=scenario, run_id=run_id)


UNPARSEABLE = "<<unparseable answer>>"


class _Unparseable(dict):
    """Responders that answer every purpose with text no schema accepts."""

    def get(self, _purpose, _default=None):
        return lambda _request, _rng: UNPARSEABLE


def _run_rows(conn: sqlite3.Connection, run_id: str) -> dict[str, list]:
    tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table' order by name")]
    out: dict[str, list] = {}
    for table in tables:
        if table in NOT_TRAJECTORY or table.startswith("sqlite_"):
            continue
        cols = [r[1] for r in conn.execute(f'pragma table_info("{table}")')]
        if "run_id" not in cols:
            continue
        keep = [c for c in cols if c != "run_id" and c not in VOLATILE]
        select = ", ".join(f'"{c}"' for c in keep)
        rows = conn.execute(f'select {select} from "{table}" where run_id = ?', [run_id]).fetchall()
        out[table] = sorted(json.dumps(dict(zip(keep, row)), sort_keys=True, default=str).replace(run_id, "<run>")
                            for row in rows)
    return out


def trajectory(db: Path, run_id: str) -> dict[str, list[str]]:
    """Every row `run_id` wrote, per table, as sorted JSON strings (the run id itself masked)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return _run_rows(conn, run_id)
    finally:
        conn.close()


def assert_same_trajectory(a: ScriptedRun, b: ScriptedRun, what: str) -> None:
    ta, tb = trajectory(a.db, a.run_id), trajectory(b.db, b.run_id)
    for table in sorted(set(ta) | set(tb)):
        ra, rb = ta.get(table, []), tb.get(table, [])
        if ra != rb:
            only_a = [r for r in ra if r not in set(rb)][:2]
            only_b = [r for r in rb if r not in set(ra)][:2]
            raise AssertionError(
                f"{what}: table {table} differs ({len(ra)} vs {len(rb)} rows); "
                f"only in {a.run_id}: {only_a}; only in {b.run_id}: {only_b}"
            )


def _status(db: Path, run_id: str) -> tuple[str, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        status, last = conn.execute("select status, last_tick from runs where run_id = ?", [run_id]).fetchone()
    finally:
        conn.close()
    return status, -1 if last is None else last


@dataclass
class PluginCheck:
    """The contract checks for one scenario file (`sets`: `--set` items, e.g. a small population)."""

    scenario: Path
    workdir: Path
    sets: list[str] = field(default_factory=list)
    _n: int = 0

    def _db(self, name: str) -> Path:
        self._n += 1
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir / f"{self._n:02d}-{name}.db"
        if path.exists():
            path.unlink()
        return path

    def run(self, name: str = "run", *, unparseable: bool = False) -> ScriptedRun:
        """One fresh scripted run into its own database (`unparseable`: every answer fails to parse)."""
        db = self._db(name)
        sim = _simulation(self.scenario, db, self.sets)
        if unparseable:
            from simkit.llm.scripted import ScriptedBackend

            for backend in sim.ctx.llms.backends():
                if isinstance(backend, ScriptedBackend):
                    backend.responders = _Unparseable()
        result = asyncio.run(sim.run())
        status, last = _status(db, result.run_id)
        assert status == "finished", f"{self.scenario}: the scripted run ended {status!r}"
        return ScriptedRun(db, result.run_id, status, last + 1)

    def kill_after(self, ticks: int, name: str = "killed") -> ScriptedRun:
        """A run SIGKILLed (in a child process) right after its `ticks`-th tick is committed."""
        db = self._db(name)
        code = "import sys; from simkit.testing import _crash_child; _crash_child(sys.argv[1:])"
        args = [sys.executable, "-c", code, str(self.scenario), str(db), str(ticks), *self.sets]
        # the child sees what this process imports from (a plugin installed into a test's folder)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))}
        proc = subprocess.run(args, capture_output=True, text=True, timeout=600, env=env)
        assert proc.returncode == -signal.SIGKILL, (
            f"{self.scenario}: the run to kill exited {proc.returncode} instead of being killed\n{proc.stderr[-2000:]}"
        )
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            (run_id,) = conn.execute("select run_id from runs").fetchone()
        finally:
            conn.close()
        status, last = _status(db, run_id)
        assert status == "running" and last == ticks - 1, (status, last)
        return ScriptedRun(db, run_id, status, last + 1)

    def resume(self, killed: ScriptedRun) -> ScriptedRun:
        sim = _simulation(self.scenario, killed.db, [], run_id=killed.run_id)
        asyncio.run(sim.run(resume=True))
        status, last = _status(killed.db, killed.run_id)
        assert status == "finished", f"{self.scenario}: the resumed run ended {status!r}"
        return ScriptedRun(killed.db, killed.run_id, status, last + 1)

    # -- the checks -----------------------------------------------------------------------
    def assert_deterministic(self) -> ScriptedRun:
        first, second = self.run("first"), self.run("second")
        assert_same_trajectory(first, second, f"{self.scenario}: two runs of one seed")
        return first

    def assert_resumes(self, reference: ScriptedRun | None = None) -> ScriptedRun:
        reference = reference or self.run("uninterrupted")
        killed = self.kill_after(max(1, reference.ticks // 2))
        resumed = self.resume(killed)
        assert_same_trajectory(reference, resumed, f"{self.scenario}: killed after {killed.ticks} ticks and resumed")
        return resumed

    def assert_null_metrics(self) -> ScriptedRun:
        run = self.run("unparseable", unparseable=True)
        conn = sqlite3.connect(f"file:{run.db}?mode=ro", uri=True)
        try:
            rows = conn.execute("select tick, name, value from metrics where run_id = ?", [run.run_id]).fetchall()
            answered = conn.execute("select count(*) from llm_calls where run_id = ? and response_json like ?",
                                    [run.run_id, f"%{UNPARSEABLE}%"]).fetchone()[0]
        finally:
            conn.close()
        assert answered > 0, f"{self.scenario}: no call got the unparseable answer: the check did not reach the plugin"
        bad = [(t, n, v) for t, n, v in rows if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v))]
        assert not bad, f"{self.scenario}: metrics must be finite numbers or NULL (unknown): {bad[:5]}"
        self.assert_replays(run)
        self.assert_exports(run)
        return run

    def assert_replays(self, run: ScriptedRun) -> None:
        from simkit.replay.data import ReplayData
        from simkit.replay.html import write_report

        out = run.db.with_suffix(".html")
        size = write_report(ReplayData.open(run.db, run.run_id), out)
        assert size > 0 and run.run_id in out.read_text(encoding="utf-8")
        asyncio.run(_terminal_replay(run))

    def assert_exports(self, run: ScriptedRun) -> None:
        from click.testing import CliRunner

        from simkit.cli import cli

        conn = sqlite3.connect(f"file:{run.db}?mode=ro", uri=True)
        try:
            counts = {t: conn.execute(f"select count(*) from {t} where run_id = ?", [run.run_id]).fetchone()[0]
                      for t in ("events", "exposures", "llm_calls", "metrics")}
        finally:
            conn.close()
        for fmt in ("jsonl", "sft"):
            out = run.db.parent / f"{run.db.stem}-export-{fmt}"
            result = CliRunner().invoke(cli, ["export", run.run_id, "--db", str(run.db), "--format", fmt, "--out", str(out)])
            assert result.exit_code == 0, f"simkit export --format {fmt}: exit {result.exit_code}\n{result.output}{result.exception!r}"
            if fmt == "jsonl":
                for table, n in counts.items():
                    lines = (out / f"{table}.jsonl").read_text(encoding="utf-8").splitlines()
                    assert len(lines) == n, f"export: {table}.jsonl has {len(lines)} rows, the run {n}"
            else:
                for line in (out / "sft.jsonl").read_text(encoding="utf-8").splitlines():
                    json.loads(line)

    def check_all(self) -> None:
        """Determinism, resume, NULL metrics, replay and export, on as few runs as possible."""
        reference = self.assert_deterministic()
        self.assert_resumes(reference)
        self.assert_replays(reference)
        self.assert_exports(reference)
        self.assert_null_metrics()


async def _terminal_replay(run: ScriptedRun, max_ticks: int = 40) -> None:
    """Open the terminal viewer and show each tick (its events, exposures and metrics)."""
    from simkit.replay.data import ReplayData
    from simkit.replay.tui import ReplayApp

    data = ReplayData.open(run.db, run.run_id)
    app = ReplayApp(data)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        for tick in range(data.first_tick, min(data.last_tick, data.first_tick + max_ticks) + 1):
            app.goto(tick)
            await pilot.pause()


def _crash_child(argv: list[str]) -> None:
    """In a child process: run a scenario and SIGKILL itself once `ticks` ticks are committed."""
    scenario, db, ticks, *sets = argv
    sim = _simulation(Path(scenario), Path(db), sets)

    def on_tick(status: Any) -> None:
        if status.ticks_done >= int(ticks) and not status.replaying:
            os.kill(os.getpid(), signal.SIGKILL)

    asyncio.run(sim.run(on_tick=on_tick))
    sys.exit(f"the run finished before tick {ticks}: nothing to kill")
