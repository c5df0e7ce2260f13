"""CharacterBox through the CLI, as a user runs it: scripted runs, a kill -9 and resume,
a faulty OpenAI-compatible endpoint, the training export and the replay report."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import yaml

from tests.conftest import kill_after_ticks, run_cli
from tests.plugins.characterbox.helpers import scenario_file
from tests.servers.fault_server import Faults, FaultServer

TRAJECTORY = {
    "events": "tick, seq, agent_id, kind, payload_json",
    "exposures": "tick, seq, agent_id, items_json",
    "llm_calls": "tick, seq, agent_id, purpose, request_hash, response_json, parsed_ok",
    "agent_state": "tick, agent_id, state_json",
    "metrics": "tick, name, value, labels_json",
    "judgements": "tick, seq, item_id, phase, scores_json, parsed_ok",
    "characterbox_scenes": "tick, scene, round, time, location, description, summary",
    "characterbox_states": "tick, scene, round, character, position, states",
}


ENV = dict(os.environ, COLUMNS="200")


def rows(db, name):
    con = sqlite3.connect(db)
    out = con.execute(f"select {TRAJECTORY[name]} from {name} order by 1, 2, 3").fetchall()
    con.close()
    return out


def test_scripted_run_of_every_shipped_scene(tmp_path):
    path = scenario_file(tmp_path, scene_ids=[], rounds=3, memory={"importance": "rated", "k": 5}, synopsis="character")
    out = run_cli(["run", str(path), "--quiet"], env=ENV, cwd=tmp_path)
    assert "finished" in out.stdout and "score.average" in out.stdout
    con = sqlite3.connect(tmp_path / "run.db")
    assert con.execute("select count(distinct json_extract(labels_json, '$.scene')) from metrics where name = 'score_by_scene'").fetchone()[0] == 6
    assert con.execute("select count(*) from llm_calls where parsed_ok = 0").fetchone()[0] == 0
    assert con.execute("select last_tick from runs").fetchone()[0] == 2  # three rounds, then is_done
    (run_id,) = con.execute("select run_id from runs").fetchone()
    con.close()
    out = run_cli(["export", run_id, "--db", str(tmp_path / "run.db"), "--format", "sft", "--out", str(tmp_path / "exp"),
                   "--purpose", "characterbox."], env=ENV, cwd=tmp_path)
    records = [json.loads(line) for line in (tmp_path / "exp" / "sft.jsonl").read_text().splitlines()]
    assert f"{len(records)} records" in out.stdout
    assert {r["purpose"].split(".")[1] for r in records} == {"character", "narrator"}
    action = next(r for r in records if r["purpose"] == "characterbox.character.action")
    assert action["instruction"].startswith("You are ") and "Answer as JSON" in action["input"]
    assert json.loads(action["output"])["action"] and action["run_id"] == run_id and action["agent_id"].startswith("s")
    report = tmp_path / "report.html"
    run_cli(["replay", run_id, "--db", str(tmp_path / "run.db"), "--html", str(report)], cwd=tmp_path)
    assert "uses up their turn this round" in report.read_text()


def test_a_scene_file_with_a_character_named_twice_is_one_clear_line(tmp_path):
    from simkit.plugins.characterbox.config import DATA

    data = json.loads((DATA / "scenes.json").read_text())
    data["scenes"][1]["characters"][1]["name"] = "Elizabeth Bennet"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    path = scenario_file(tmp_path)
    proc = run_cli(["run", str(path), "--set", f"characterbox.scenes={bad}"], check_rc=2)
    assert proc.stderr.strip() == f"error: {bad}: scenes[1]: characters[1].name: 'Elizabeth Bennet' is named twice"


def test_sigkill_then_resume_equals_uninterrupted_run(tmp_path):
    section = {"scene_ids": [], "rounds": 30, "memory": {"importance": "rated", "k": 5}, "judging": {"characters": True, "narrator_calls": 10}}
    ref_dir, kill_dir = tmp_path / "ref", tmp_path / "kill"
    ref, victim = scenario_file(ref_dir, **section), scenario_file(kill_dir, **section)
    for path in (ref, victim):
        data = yaml.safe_load(path.read_text())
        data["clock"]["end"] = "2025-01-01T00:30:00"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    run_cli(["run", str(ref), "--quiet"])

    db = kill_dir / "run.db"
    kill_after_ticks(victim, db, 3)
    con = sqlite3.connect(db)
    run_id, status, last = con.execute("select run_id, status, last_tick from runs").fetchone()
    con.close()
    assert status == "running" and 3 <= last + 1 < 30
    out = run_cli(["run", str(victim), "--resume", run_id, "--quiet"])
    assert "finished" in out.stdout
    for name in TRAJECTORY:
        assert rows(db, name) == rows(ref_dir / "run.db", name), name


def test_run_against_an_endpoint_failing_a_fifth_of_calls_completes(tmp_path):
    path = scenario_file(tmp_path, scene_ids=[1, 2, 6], rounds=2)  # the characters alone go to the server: enough calls for the fault share
    with FaultServer(Faults(p_500=0.1, p_429=0.05, p_malformed=0.05, seed=7)) as server:
        env = dict(ENV, OPENAI_API_KEY="sk-test")
        out = run_cli(["run", str(path), "--quiet", "--llm", "openai:stub-model", "--set", f"llm.base_url={server.base_url}",
                       "--set", "llm.retries=10", "--set", "llm.max_concurrency=4"], env=env, timeout=300)
        faults = sum(server.stats.outcomes[k] for k in ("429", "500", "malformed"))
    assert "finished" in out.stdout
    con = sqlite3.connect(tmp_path / "run.db")
    status, retries, calls = con.execute("select status, retries, llm_calls from runs").fetchone()
    assert status == "finished" and faults > 0 and retries >= faults and calls > 0
    assert faults / (calls + faults) > 0.1  # about a fifth of the requests failed
    assert con.execute("select count(*) from ticks").fetchone()[0] == 2
    values = [v for (v,) in con.execute("select value from metrics where tick = -1 and name like 'score.%' and labels_json = '{}'")]
    assert len(values) == 8 and all(1 <= v <= 5 for v in values)
    con.close()


def test_the_paper_profile_over_a_folder_resumes_after_sigkill_as_if_never_killed(tmp_path):
    """The benchmark at scale is one run: killed mid-way, `--resume` finishes it with the
    trajectory of an uninterrupted run (Chinese and one-character scenes included)."""
    from tests.plugins.characterbox.helpers import PAPER

    scenes = Path(__file__).parents[2] / "data" / "characterbox_authors" / "generated_data"
    section = {"scenes": str(scenes), "rounds": 3, "judging": {"characters": True, "narrator_calls": 0}}
    ref_dir, kill_dir = tmp_path / "ref", tmp_path / "kill"
    ref, victim = scenario_file(ref_dir, PAPER, **section), scenario_file(kill_dir, PAPER, **section)
    run_cli(["run", str(ref), "--quiet"])
    db = kill_dir / "run.db"
    kill_after_ticks(victim, db, 1)
    con = sqlite3.connect(db)
    run_id, status, last = con.execute("select run_id, status, last_tick from runs").fetchone()
    con.close()
    assert status == "running" and last < 2
    assert "finished" in run_cli(["run", str(victim), "--resume", run_id, "--quiet"]).stdout
    for name in TRAJECTORY:
        assert rows(db, name) == rows(ref_dir / "run.db", name), name
