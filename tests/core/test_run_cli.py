"""`simkit run` end to end, as a user drives it: determinism, cache, replay, resume, export."""

from __future__ import annotations

import json
import sqlite3

import yaml

from tests.conftest import kill_after_ticks, run_cli, townhall_yaml

TRAJECTORY = {
    "events": "tick, seq, sim_time, agent_id, kind, payload_json",
    "exposures": "tick, seq, sim_time, agent_id, items_json",
    "llm_calls": "tick, seq, agent_id, purpose, request_hash, response_json, parsed_ok",
    "agent_state": "tick, agent_id, state_json",
    "metrics": "tick, name, value, labels_json",
}


def table(db, name, run_id=None, cols=None):
    con = sqlite3.connect(db)
    run_id = run_id or con.execute("select run_id from runs order by started_at desc limit 1").fetchone()[0]
    rows = con.execute(f"select {cols or TRAJECTORY[name]} from {name} where run_id = ? order by 1, 2, 3", [run_id]).fetchall()
    con.close()
    return rows


def run_ids(db):
    con = sqlite3.connect(db)
    ids = [r[0] for r in con.execute("select run_id from runs order by started_at")]
    con.close()
    return ids


def test_same_seed_same_database_content(cli_env, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    run_cli(["run", str(townhall_yaml(a)), "--quiet"], env=cli_env)
    run_cli(["run", str(townhall_yaml(b)), "--quiet"], env=cli_env)
    for name in TRAJECTORY:
        assert table(a / "run.db", name) == table(b / "run.db", name), name
    assert len(table(a / "run.db", "events")) > 10
    c = tmp_path / "c"
    c.mkdir()
    run_cli(["run", str(townhall_yaml(c)), "--seed", "99", "--quiet"], env=cli_env)
    assert table(c / "run.db", "events") != table(a / "run.db", "events")


def test_rerun_uses_cache_and_replay_miss_is_a_clear_error(cli_env, tmp_path):
    path = townhall_yaml(tmp_path)
    run_cli(["run", str(path), "--quiet"], env=cli_env)
    run_cli(["run", str(path), "--quiet"], env=cli_env)
    db = tmp_path / "run.db"
    first, second = run_ids(db)
    con = sqlite3.connect(db)
    calls = dict(con.execute("select run_id, llm_calls from runs").fetchall())
    hits = dict(con.execute("select run_id, cache_hits from runs").fetchall())
    assert calls[first] > 0 and calls[second] == 0 and hits[second] == calls[first]
    assert con.execute("select count(*) from llm_calls where run_id = ? and cached = 0", [second]).fetchone()[0] == 0
    con.close()
    assert table(db, "events", first) == table(db, "events", second)
    # replay from the cache works while every answer is there ...
    run_cli(["run", str(path), "--set", "llm.cache=replay", "--quiet"], env=cli_env)
    # ... and a missing entry fails with one clear line
    proc = run_cli(["run", str(path), "--set", "llm.cache=replay", "--seed", "5", "--quiet"], env=cli_env, check_rc=1)
    assert "cache mode replay: no stored answer" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_sigkill_then_resume_equals_uninterrupted_run(cli_env, tmp_path):
    long_clock = {"start": "2025-01-01T00:00:00", "end": "2025-01-02T00:00:00", "tick": "1m"}  # 1,440 ticks
    ref_dir, kill_dir = tmp_path / "ref", tmp_path / "kill"
    ref_dir.mkdir(), kill_dir.mkdir()
    ref = townhall_yaml(ref_dir, clock=long_clock)
    victim = townhall_yaml(kill_dir, clock=long_clock)
    run_cli(["run", str(ref), "--quiet"], env=cli_env)

    db = kill_dir / "run.db"
    kill_after_ticks(victim, db, 60, env=cli_env, poll=0.05)
    (run_id,) = run_ids(db)
    con = sqlite3.connect(db)
    status, last = con.execute("select status, last_tick from runs").fetchone()
    con.close()
    assert status == "running" and 60 <= last + 1 < 1440

    out = run_cli(["run", str(victim), "--resume", run_id, "--quiet"], env=cli_env)
    assert "finished" in out.stdout
    for name in TRAJECTORY:
        assert table(db, name) == table(ref_dir / "run.db", name), name
    con = sqlite3.connect(db)
    ticks = con.execute("select count(*), min(tick), max(tick) from ticks").fetchone()
    assert ticks == (1440, 0, 1439)
    con.close()


def test_runs_list_show_and_export(cli_env, tmp_path):
    path = townhall_yaml(tmp_path)
    run_cli(["run", str(path), "--quiet"], env=cli_env)
    db = tmp_path / "run.db"
    (run_id,) = run_ids(db)
    listing = run_cli(["runs", "list", "--db", str(db)], env=cli_env).stdout
    assert run_id in listing and "finished" in listing
    shown = run_cli(["runs", "show", run_id[:-2], "--db", str(db)], env=cli_env).stdout
    assert "mood.mean" in shown and "board_size: 3" in shown
    for fmt in ("jsonl", "csv"):
        out_dir = tmp_path / fmt
        run_cli(["export", run_id, "--db", str(db), "--format", fmt, "--out", str(out_dir)], env=cli_env)
        for name in ("events", "exposures", "llm_calls", "metrics"):
            assert (out_dir / f"{name}.{fmt}").stat().st_size > 0
    events = [json.loads(l) for l in (tmp_path / "jsonl" / "events.jsonl").read_text().splitlines()]
    assert len(events) == len(table(db, "events")) and events[0]["kind"] == "post"
    proc = run_cli(["runs", "show", "nope", "--db", str(db)], env=cli_env, check_rc=2)
    assert "not found" in proc.stderr


def test_third_party_plugin_is_listed(cli_env):
    out = run_cli(["plugins"], env=cli_env).stdout
    assert "townhall" in out and "simkit_townhall:TownHall" in out


def test_resume_refuses_a_changed_population(cli_env, tmp_path):
    personas = tmp_path / "people.jsonl"
    from tests.conftest import SMALL_PERSONAS

    personas.write_text(SMALL_PERSONAS.read_text())
    path = townhall_yaml(tmp_path)
    data = yaml.safe_load(path.read_text())
    data["population"]["personas"] = str(personas)
    path.write_text(yaml.safe_dump(data))
    run_cli(["run", str(path), "--quiet"], env=cli_env)
    db = tmp_path / "run.db"
    (run_id,) = run_ids(db)
    con = sqlite3.connect(db)
    with con:  # as if the process had been killed after tick 2
        con.execute("update runs set status = 'running', last_tick = 2")
    con.close()
    personas.write_text("".join(reversed(SMALL_PERSONAS.read_text().splitlines(keepends=True))))
    proc = run_cli(["run", str(path), "--resume", run_id, "--quiet"], env=cli_env, check_rc=2)
    assert "agents or personas differ" in proc.stderr and "Traceback" not in proc.stderr


def test_tool_using_example_plugin_runs_and_records_each_tool_result(cli_env, tmp_path):
    """examples/simkit-notes: an assistant reads its notes app and sends one message."""
    from tests.conftest import NOTES_EXAMPLE

    data = yaml.safe_load((NOTES_EXAMPLE / "notes.yaml").read_text())
    data["population"]["personas"] = str(NOTES_EXAMPLE.parent.parent / "tests" / "data" / "personas_small.jsonl")
    data["output"] = {"db": str(tmp_path / "run.db")}
    path = tmp_path / "notes.yaml"
    path.write_text(yaml.safe_dump(data))
    out = run_cli(["run", str(path), "--quiet"], env=cli_env)
    assert "assistants.informed" in out.stdout
    con = sqlite3.connect(tmp_path / "run.db")
    sources = [r[0] for r in con.execute("select source from exposures where agent_id = 'asst-0' order by tick, seq")]
    assert sources == ["tool:notes_list", "tool:notes_read", "tool:message_send"]
    sent = con.execute("select text from notes_messages").fetchall()
    assert len(sent) == 2 and all("12:30" in t for (t,) in sent)
    calls = con.execute("select response_json from llm_calls where purpose = 'notes.step'").fetchall()
    assert all("tool_calls" in r for (r,) in calls)


def test_population_larger_than_the_file_with_replacement(tmp_path):
    """population.sampling: replacement draws a population larger than the persona file,
    recorded in the run's config; without it the size is refused with the way out named."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    scenario = root / "scenarios" / "trendsim.yaml"
    db = tmp_path / "big.db"
    bad = run_cli(["run", str(scenario), "--llm", "scripted", "--out", str(db), "--set", "population.size=300", "--quiet"],
                  check_rc=2, cwd=root)
    assert "holds 250" in bad.stderr and "population.sampling: replacement" in bad.stderr
    run_cli(["run", str(scenario), "--llm", "scripted", "--out", str(db), "--set", "population.size=300",
             "--set", "population.sampling=replacement", "--set", "clock.end=2025-03-01T07:00:00", "--quiet"], cwd=root)
    con = sqlite3.connect(db)
    (config,) = con.execute("select config_json from runs").fetchone()
    assert json.loads(config)["population"] == {"personas": "personas/population.jsonl", "size": 300, "sampling": "replacement"}
    agents = con.execute("select count(*), count(distinct persona_id) from agents").fetchone()
    assert agents[0] == 300 and agents[1] < 250  # repeats, each agent with its persona's id
