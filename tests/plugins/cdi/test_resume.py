"""A vetoed message is never delivered, also when the run is killed with SIGKILL and resumed:
the resumed run ends with the trajectory of an uninterrupted one."""

from __future__ import annotations

import sqlite3

from tests.conftest import kill_after_ticks, run_cli
from tests.plugins.cdi.helpers import connect, rows, write_yaml

LONG = {"max_orchestrator_steps": 50, "defense": "guarding", "guard_budget": 5,
        "sender": {"max_steps": 6, "max_cycles": 50, "timeout_steps": 0},
        "recipient": {"max_steps": 4, "max_cycles": 50, "timeout_steps": 1}}
TABLES = {
    "events": "tick, seq, agent_id, kind, payload_json",
    "exposures": "tick, seq, agent_id, source, items_json",
    "llm_calls": "tick, seq, agent_id, purpose, request_hash, response_json",
    "cdi_messages": "tick, episode, msg_id, app, sender, text",
    "cdi_guard": "tick, cycle, tool, block",
    "metrics": "tick, name, value, labels_json",
}


def table(db, name):
    con = sqlite3.connect(db)
    out = [tuple(r) for r in con.execute(f"select {TABLES[name]} from {name} order by {TABLES[name]}")]
    con.close()
    return out


def test_sigkill_then_resume_delivers_no_vetoed_message_and_equals_the_uninterrupted_run(tmp_path):
    ref_dir, kill_dir = tmp_path / "ref", tmp_path / "kill"
    ref_dir.mkdir(), kill_dir.mkdir()
    ref, victim = write_yaml(ref_dir, **LONG), write_yaml(kill_dir, **LONG)
    run_cli(["run", str(ref), "--quiet"])
    db = kill_dir / "run.db"
    kill_after_ticks(victim, db, 15)
    con = connect(db)
    (run_id, status, last) = con.execute("select run_id, status, last_tick from runs").fetchone()
    con.close()
    assert status == "running" and 15 <= last + 1 < 50

    out = run_cli(["run", str(victim), "--resume", run_id, "--quiet"])
    assert "finished" in out.stdout
    for name in TABLES:
        assert table(db, name) == table(ref_dir / "run.db", name), name
    conn = connect(db)
    vetoes = rows(conn, "select payload_json from events where kind = 'veto'")
    assert len(vetoes) > 20
    delivered = {r["text"] for r in rows(conn, "select text from cdi_messages")}
    import json

    for veto in vetoes:
        args = json.loads(veto["payload_json"])["arguments"]
        assert args["message"] not in delivered
