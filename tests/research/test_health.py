"""Health checks: a run whose model answers every structured call with one schema-valid
constant is flagged; `--strict` exits non-zero; healthy scripted runs are not flagged."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.conftest import run_cli
from tests.research.conftest import SCENARIOS, scripted_run
from tests.servers.fault_server import FaultServer, Faults


def test_constant_answers_from_an_openai_endpoint_are_flagged_and_strict_exits_non_zero(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    db = tmp_path / "stub.db"
    with FaultServer(Faults(constant=True)) as server:
        proc = run_cli(
            ["run", str(SCENARIOS / "trendsim.yaml"), "--quiet", "--strict", "--llm", "openai:stub-model",
             "--set", f"llm.base_url={server.base_url}", "--set", "population.size=30", "--out", str(db)],
            check_rc=3, timeout=300,
        )
        assert server.stats.requests > 0
    conn = sqlite3.connect(db)
    status, health = conn.execute("select status, health_json from runs").fetchone()
    assert status == "finished"
    warnings = json.loads(health)
    assert any(w.startswith("same answer:") for w in warnings), warnings
    # the warnings are in the summary, one line each, and --strict says why it failed
    assert "health: same answer:" in proc.stderr
    assert "--strict: " in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("name", ["trendsim", "characterbox", "cdi", "personaarena"])
def test_healthy_scripted_runs_have_no_warnings(tmp_path, name):
    run = scripted_run(name, tmp_path / "h.db")
    assert run.status == "finished"
    assert run.health == []


def test_generic_checks_flag_dead_agent_kinds_null_metrics_and_unparsed_judges(tmp_path):
    from simkit.engine.health import generic_checks

    run = scripted_run("cdi", tmp_path / "h.db")
    conn = sqlite3.connect(tmp_path / "h.db")
    rid = run.run_id
    conn.execute("insert into agents (run_id, agent_id, kind, persona_id, persona_json) values (?, 'ghost', 'ghost', null, '{}')", [rid])
    conn.executemany("insert into metrics (run_id, tick, name, value, labels_json) values (?, ?, 'hollow', null, '{}')", [(rid, t) for t in range(3)])
    conn.execute("update judgements set parsed_ok = 0 where run_id = ?", [rid])
    conn.commit()
    warnings = generic_checks(conn, rid)
    assert "agents: none of the 1 'ghost' agents ever acted" in warnings
    assert "metric hollow: NULL for 3 of 3 items" in warnings
    n_judged = conn.execute("select count(*) from judgements where run_id = ?", [rid]).fetchone()[0]
    assert (n_judged == 0) or any(w.startswith("judge ") and "could be read" in w for w in warnings)
