"""Several processes writing one run database at once (every shipped scenario defaults to
runs/simkit.db): all finish, none is left half-started, and killed ones resume to the
trajectory of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, run_cli
from tests.core.test_run_cli import TRAJECTORY

PLUGINS = ("trendsim", "characterbox", "personaarena", "cdi")


def start(plugin: str, db: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "simkit.cli", "run", str(ROOT / "scenarios" / f"{plugin}.yaml"), "--llm", "scripted",
         "--set", "population.size=2", "--out", str(db), "--quiet"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def trajectory(db: Path, run_id: str) -> dict:
    con = sqlite3.connect(db)
    out = {name: con.execute(f"select {cols} from {name} where run_id = ? order by 1, 2, 3", [run_id]).fetchall()
           for name, cols in TRAJECTORY.items()}
    con.close()
    return out


def runs(db: Path) -> dict[str, tuple]:
    con = sqlite3.connect(db)
    rows = {r[0]: r[1:] for r in con.execute(
        "select plugin, run_id, status, (select count(*) from agents a where a.run_id = runs.run_id) from runs")}
    con.close()
    return rows


def test_four_plugins_at_once_into_one_database_finish_and_resume(tmp_path):
    env = {**os.environ, "COLUMNS": "200"}
    whole = tmp_path / "whole.db"
    procs = {p: start(p, whole, env) for p in PLUGINS}
    for plugin, proc in procs.items():
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"{plugin}: {err}"
    done = runs(whole)
    assert set(done) == set(PLUGINS)
    assert all(status == "finished" and agents > 0 for _rid, status, agents in done.values()), done

    # Again, each killed with SIGKILL once it has committed a tick, then all resumed at once.
    cut = tmp_path / "cut.db"
    procs = {p: start(p, cut, env) for p in PLUGINS}
    killed: set[str] = set()
    deadline = time.time() + 300
    while len(killed) + sum(p.poll() is not None for name, p in procs.items() if name not in killed) < len(PLUGINS):
        assert time.time() < deadline
        try:
            con = sqlite3.connect(cut, timeout=5)
            ticks = dict(con.execute("select plugin, last_tick from runs"))
            con.close()
        except sqlite3.Error:
            ticks = {}
        for plugin, proc in procs.items():
            if plugin not in killed and proc.poll() is None and (ticks.get(plugin) or -1) >= 0:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                killed.add(plugin)
        time.sleep(0.01)
    for proc in procs.values():
        proc.communicate()
    assert len(killed) >= 2, f"only {killed} could be killed mid-run"
    started = runs(cut)
    assert all(agents > 0 for _rid, _status, agents in started.values())  # header and agents together
    resumes = {
        plugin: subprocess.Popen(
            [sys.executable, "-m", "simkit.cli", "run", str(ROOT / "scenarios" / f"{plugin}.yaml"), "--out", str(cut),
             "--resume", started[plugin][0], "--quiet"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for plugin in killed
    }
    for plugin, proc in resumes.items():
        _out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"{plugin}: {err}"
    after = runs(cut)
    for plugin in PLUGINS:
        assert after[plugin][1] == "finished", plugin
        assert trajectory(cut, after[plugin][0]) == trajectory(whole, done[plugin][0]), plugin


def test_a_database_locked_too_long_is_one_line_with_the_resume_command(tmp_path):
    db = tmp_path / "busy.db"
    proc = start("trendsim", db, {**os.environ, "SIMKIT_DB_WAIT": "1"})
    holder = None
    deadline = time.time() + 120
    while holder is None and proc.poll() is None and time.time() < deadline:
        try:
            con = sqlite3.connect(db, timeout=5, isolation_level=None)
            if (con.execute("select max(last_tick) from runs").fetchone()[0] or -1) >= 0:
                con.execute("BEGIN IMMEDIATE")  # another process keeps the write lock from now on
                holder = con
            else:
                con.close()
        except sqlite3.Error:
            pass
        time.sleep(0.01)
    assert holder is not None, "the run finished before the lock was taken"
    try:
        _out, err = proc.communicate(timeout=120)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert proc.returncode == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "locked" in lines[0] and "SIMKIT_DB_WAIT" in lines[0]
    run_id = sqlite3.connect(db).execute("select run_id from runs").fetchone()[0]
    assert f"--out {db} --resume {run_id}" in lines[0]
    resumed = run_cli(["run", str(ROOT / "scenarios" / "trendsim.yaml"), "--out", str(db), "--resume", run_id, "--quiet"])
    assert resumed.returncode == 0
