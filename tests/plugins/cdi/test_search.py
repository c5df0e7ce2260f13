"""`simkit cdi search`: k trajectories per round, the optimizer between rounds, every call in
the run's records; the best round's attack written into a scenario file that a fresh run
plays as written."""

from __future__ import annotations

import json

from simkit.plugins.cdi.cli import best_round
from simkit.plugins.cdi.scenario import load_file
from tests.conftest import run_cli
from tests.plugins.cdi.helpers import cli_run, connect, rows, write_yaml


def test_search_plays_k_trajectories_per_round_and_writes_the_best_attack(tmp_path):
    path, db, written = write_yaml(tmp_path), tmp_path / "search.db", tmp_path / "attacked.json"
    proc = run_cli(["cdi", "search", str(path), "--llm", "scripted", "-k", "2", "-r", "3", "--out", str(db), "--write", str(written),
                    "--set", "cdi.defense=cdi"])
    conn = connect(db)
    (run,) = rows(conn, "select * from runs")
    assert run["status"] == "finished"
    found = rows(conn, "select * from cdi_search order by round")
    assert 1 <= len(found) <= 3 and [r["round"] for r in found] == list(range(1, len(found) + 1))
    if found[-1]["pp"] is None or found[-1]["pp"] > 0.0:
        assert len(found) == 3  # no round reached the target: all rounds were played
    episodes = rows(conn, "select episode, round from cdi_episodes order by episode")
    for r in found:
        assert json.loads(r["episodes"]) == [e["episode"] for e in episodes if e["round"] == r["round"]]
        assert len(json.loads(r["episodes"])) == 2
    optimizer = rows(conn, "select * from llm_calls where purpose = 'cdi.optimizer'")
    attacks = rows(conn, "select * from cdi_attacks") if len(found) > 1 else []
    assert len(optimizer) == len(found) - 1 == len(attacks)
    for earlier, later in zip(found, found[1:]):  # the optimizer saw the round's trajectories and its task is the next round's
        prompt = json.loads(optimizer[earlier["round"] - 1]["messages_json"])[-1]["content"]
        assert earlier["task"] in prompt and prompt.count("Attempt ") == 2
        assert later["task"] == json.loads(json.loads(optimizer[earlier["round"] - 1]["response_json"])["text"])["task"]
    best = best_round(found)
    scenario = load_file(written)
    assert scenario.recipient_task == best["task"] and run["run_id"] in scenario.provenance
    assert f"{scenario.id}" in proc.stdout
    fresh = cli_run(write_yaml(tmp_path, "eval.yaml"), tmp_path / "eval.db", f"cdi.scenarios={written}", f"cdi.scenario={scenario.id}")
    recipient = rows(fresh, "select messages_json from llm_calls where purpose = 'cdi.recipient'")
    assert recipient and all(best["task"] in r["messages_json"] for r in recipient)


def test_best_round_is_the_lowest_pp_and_never_an_unscored_one():
    rounds = [{"round": 1, "pp": None, "scored": 0}, {"round": 2, "pp": 0.5, "scored": 2}, {"round": 3, "pp": 0.5, "scored": 2},
              {"round": 4, "pp": 0.8, "scored": 2}]
    assert best_round(rounds)["round"] == 2


def test_a_killed_search_resumes_to_the_same_rounds(tmp_path):
    """kill -9 in the middle of a search, then --resume: the rounds equal an uninterrupted search."""
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    path = write_yaml(tmp_path)
    args = ["cdi", "search", str(path), "--llm", "scripted", "-k", "2", "-r", "3", "--set", "cdi.defense=cdi"]
    run_cli([*args, "--out", str(tmp_path / "whole.db"), "--write", str(tmp_path / "whole.json")])
    db = tmp_path / "cut.db"
    proc = subprocess.Popen([sys.executable, "-m", "simkit.cli", *args, "--out", str(db), "--write", str(tmp_path / "cut.json")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
        try:
            with sqlite3.connect(db, timeout=1) as con:
                if con.execute("select count(*) from ticks").fetchone()[0] >= 8:  # inside round 2
                    break
        except sqlite3.Error:
            continue
    assert proc.poll() is None, "the search finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    (run,) = rows(connect(db), "select run_id, status from runs")
    assert run["status"] != "finished"
    run_cli([*args, "--out", str(db), "--write", str(tmp_path / "cut.json"), "--resume", run["run_id"]])
    strip = lambda conn: [(r["round"], r["task"], r["pp"], r["episodes"]) for r in rows(conn, "select * from cdi_search order by round")]
    assert strip(connect(db)) == strip(connect(tmp_path / "whole.db"))
    assert load_file(tmp_path / "cut.json").recipient_task == load_file(tmp_path / "whole.json").recipient_task
