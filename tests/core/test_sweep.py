"""`simkit sweep` serial, on worker processes (`--jobs 2`) and on Ray: the merged sweep
database holds the same runs as the serial one (same rows per run apart from run ids and
wall-clock columns), a killed worker's points resume, and a killed sweep resumes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

SCENARIO = ROOT / "scenarios" / "trendsim.yaml"
# Wall-clock columns, and the ids that name a run rather than say what happened in it.
WALL = {"run_id", "started_at", "finished_at", "committed_at", "latency_ms"}
TABLES = ("events", "exposures", "llm_calls", "agent_state", "metrics", "agents", "ticks")


def grid(db: Path, *extra: str, size: int = 8, seeds: int = 1) -> list[str]:
    return ["sweep", str(SCENARIO), "--llm", "scripted", "--quiet", "--out", str(db), "--set", f"population.size={size}",
            "--set", "trendsim.attack.share=0,0.3", "--seeds", str(seeds), *extra]


def content(db: Path) -> dict[str, dict]:
    """Per run (keyed by its config without output.db): every row of every run table, in
    order, without wall-clock columns."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    plugin_tables = [n for (n,) in conn.execute("select name from sqlite_master where type='table' and name like 'trendsim_%'")]
    out = {}
    for run in conn.execute("select * from runs order by rowid").fetchall():
        config = json.loads(run["config_json"])
        config.pop("output")
        key = json.dumps(config, sort_keys=True)
        assert key not in out, "a grid point appears twice"
        rows = {"runs": {k: run[k] for k in run.keys() if k not in WALL and k != "config_json"}}
        for table in TABLES + tuple(plugin_tables):
            rows[table] = [
                {k: r[k] for k in r.keys() if k not in WALL}
                for r in conn.execute(f"select * from [{table}] where run_id = ? order by rowid", [run["run_id"]])
            ]
        out[key] = rows
    conn.close()
    return out


def assert_same_sweep(a: Path, b: Path, points: int) -> None:
    ca, cb = content(a), content(b)
    assert len(ca) == len(cb) == points
    assert ca.keys() == cb.keys()
    for key in ca:
        for table in ca[key]:
            assert ca[key][table] == cb[key][table], f"{table} differs for {key[:80]}"
        assert ca[key]["runs"]["status"] == "finished"
        assert ca[key]["events"], "a run without events proves nothing"


@pytest.fixture(scope="module")
def serial(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("serial") / "sweep.db"
    run_cli(grid(db, "--set", "trendsim.cognition=faithful,fused"), timeout=300)
    return db


def test_jobs_2_merged_sweep_equals_the_serial_sweep(serial, tmp_path):
    db = tmp_path / "sweep.db"
    proc = run_cli(grid(db, "--set", "trendsim.cognition=faithful,fused", "--jobs", "2"), timeout=300)
    assert proc.stdout.count("done ") == 4
    assert_same_sweep(serial, db, 4)
    assert not Path(str(db) + ".parts").exists()  # every part merged and removed
    # Run again: nothing to do, nothing duplicated.
    run_cli(grid(db, "--set", "trendsim.cognition=faithful,fused", "--jobs", "2"), timeout=300)
    assert_same_sweep(serial, db, 4)


def test_seed_replicates_match_serial_with_the_cache_off(tmp_path):
    # With the cache on, a serial sweep's later seeds find earlier seeds' answers to the
    # same prompt in the shared file (the cache key has no run seed), which isolated parts
    # cannot; with the cache off both are pure functions of (config, seed).
    axes = ("--set", "llm.cache='off'")
    run_cli(grid(tmp_path / "a.db", *axes, seeds=2), timeout=300)
    run_cli(grid(tmp_path / "b.db", *axes, "--jobs", "2", seeds=2), timeout=300)
    assert_same_sweep(tmp_path / "a.db", tmp_path / "b.db", 4)


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _workers(pid: int) -> list[int]:
    """Worker processes of a process pool under `pid` (children of its forkserver)."""
    found = []
    for p in _descendants(pid):
        try:
            parent = int(Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1])
            if "forkserver" in Path(f"/proc/{parent}/cmdline").read_bytes().decode(errors="replace"):
                found.append(p)
        except (OSError, ValueError):
            continue
    return found


def _running_parts(db: Path) -> dict[str, int]:
    """Last committed tick of every part file whose point is running."""
    found = {}
    for part in Path(str(db) + ".parts").glob("*.db"):
        try:
            with sqlite3.connect(f"file:{part}?mode=ro", uri=True) as conn:
                row = conn.execute("select status, last_tick from runs").fetchone()
        except sqlite3.Error:
            continue
        if row and row[0] == "running" and row[1] is not None:
            found[part.name] = row[1]
    return found


def _part_ticks(db: Path) -> int:
    """Most ticks committed in any unfinished part file."""
    return max((tick + 1 for tick in _running_parts(db).values()), default=0)


def test_a_killed_worker_is_retried_and_a_killed_sweep_resumes(tmp_path):
    reference = tmp_path / "ref.db"
    args = ("--set", "trendsim.cognition=faithful,fused")
    run_cli(grid(reference, *args, size=40), timeout=300)
    db = tmp_path / "sweep.db"
    env = dict(os.environ)
    log = tmp_path / "stderr.txt"
    with log.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "simkit.cli", *grid(db, *args, "--jobs", "2", size=40)],
                                stdout=subprocess.DEVNULL, stderr=fh, text=True, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while _part_ticks(db) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = _workers(proc.pid)
        assert workers, "no worker process found"
        os.kill(workers[0], signal.SIGKILL)  # one worker dies mid-point: the pool breaks
        deadline = time.monotonic() + 60
        while "retry" not in log.read_text() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert "worker process died" in log.read_text(), log.read_text()
        # The broken pool's points are retried and resume: wait until every point that was
        # running when the retry was announced has committed a tick beyond it (or finished);
        # then the whole sweep is killed.
        seen = _running_parts(db)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            now = _running_parts(db)
            if seen and all(now.get(part, tick + 1) > tick for part, tick in seen.items()):
                break
            time.sleep(0.02)
        else:
            assert proc.poll() is None, "the sweep finished before it could be killed: make it longer"
            pytest.fail("the retried points did not resume within 60 s")
        assert proc.poll() is None, "the sweep finished before it could be killed: make it longer"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert list(Path(str(db) + ".parts").glob("*.db")), "no part left to resume"
    # The same command again finishes the sweep: finished points kept, the others resumed.
    run_cli(grid(db, *args, "--jobs", "2", size=40), timeout=300)
    assert_same_sweep(reference, db, 4)


@pytest.mark.timeout(300)
def test_ray_local_sweep_equals_the_serial_sweep(serial, tmp_path):
    pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]')")
    db = tmp_path / "sweep.db"
    proc = run_cli(grid(db, "--set", "trendsim.cognition=faithful,fused", "--executor", "ray", "--jobs", "2"), timeout=240)
    assert proc.stdout.count("done ") == 4
    assert_same_sweep(serial, db, 4)


def test_sweep_options_are_checked(tmp_path):
    proc = run_cli(grid(tmp_path / "x.db", "--jobs", "0"), check_rc=2, timeout=60)
    assert "--jobs must be at least 1" in proc.stderr
