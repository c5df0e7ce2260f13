"""`simkit run --resume` pointed at a new endpoint: a run whose server died finishes on
another, with the trajectory of an uninterrupted run; settings that would change the
trajectory are refused on resume."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time

from tests.conftest import run_cli, townhall_yaml
from tests.core.test_run_cli import TRAJECTORY

OPENAI = ["--llm", "openai:stub-model", "--set", "llm.timeout=2", "--set", "llm.retries=1"]


def trajectory(db, run_id):
    con = sqlite3.connect(db)
    out = {name: con.execute(f"select {cols} from {name} where run_id = ? order by 1, 2, 3", [run_id]).fetchall()
           for name, cols in TRAJECTORY.items()}
    con.close()
    return out


def only_run(db):
    con = sqlite3.connect(db)
    row = con.execute("select run_id, status, last_tick, error from runs").fetchone()
    con.close()
    return row


def test_run_killed_by_a_dead_endpoint_resumes_on_a_new_one(cli_env, tmp_path, fault_server):
    moved = fault_server(per_request=True)
    whole_dir, cut_dir = tmp_path / "whole", tmp_path / "cut"
    whole_dir.mkdir(), cut_dir.mkdir()
    whole = townhall_yaml(whole_dir)
    run_cli(["run", str(whole), "--quiet", *OPENAI, "--set", f"llm.base_url={moved.base_url}"], env=cli_env)
    whole_id = only_run(whole_dir / "run.db")[0]

    dying = fault_server(per_request=True, latency=0.05)
    scenario = townhall_yaml(cut_dir)
    db = cut_dir / "run.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "simkit.cli", "run", str(scenario), "--quiet", *OPENAI, "--set", f"llm.base_url={dying.base_url}"],
        env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        try:
            row = only_run(db)
        except sqlite3.Error:
            row = None
        if row and row[2] is not None and row[2] >= 1:
            break
        time.sleep(0.01)
    dying.stop()  # the server goes away mid-run
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    run_id, status, last_tick, _error = only_run(db)
    assert status == "failed" and last_tick is not None
    assert f"--out {db} --resume {run_id}" in err

    # Anything that would change the answers is refused, in one line, exit 2.
    for extra in (["--set", "llm.temperature=0.1"], ["--seed", "5"], ["--set", "townhall.board_size=5"]):
        bad = run_cli(["run", str(scenario), "--out", str(db), "--resume", run_id, *extra], env=cli_env, check_rc=2)
        line = bad.stderr.strip()
        assert "\n" not in line and "cannot change on resume" in line, bad.stderr
    assert only_run(db)[2] == last_tick  # nothing happened to the run

    done = run_cli(["run", str(scenario), "--out", str(db), "--resume", run_id, "--quiet",
                    "--set", f"llm.base_url={moved.base_url}", "--set", "llm.timeout=30"], env=cli_env)
    assert done.returncode == 0
    assert only_run(db)[1] == "finished"
    assert trajectory(db, run_id) == trajectory(whole_dir / "run.db", whole_id)
    con = sqlite3.connect(db)
    changes = json.loads(con.execute("select changes_json from resumes where run_id = ?", [run_id]).fetchone()[0])
    stored = json.loads(con.execute("select config_json from runs where run_id = ?", [run_id]).fetchone()[0])
    con.close()
    assert changes == {"llm.base_url": moved.base_url, "llm.timeout": 30.0}
    assert stored["llm"]["base_url"] == moved.base_url  # a later resume uses the new endpoint
