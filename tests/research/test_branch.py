"""Counterfactual branches: ticks up to the fork are the parent's with no LLM call, the
changed setting applies after it, the lineage is recorded, the divergence is shown, and a
branch resumes like any run. TrendSim, CharacterBox and CDI, on the scripted backend."""

from __future__ import annotations

import sqlite3

import pytest

from simkit import api
from simkit.engine.branch import first_divergence
from simkit.store.reader import RunReader
from tests.conftest import run_cli
from tests.research.conftest import SCENARIOS, rows, scripted_run

# tables whose rows of ticks <= the fork must be the parent's (run_id aside)
SHARED = ("events", "exposures", "agent_state", "judgements", "ticks")


def check_branch(db, parent, child, at: int, plugin_tables=()):
    for table in (*SHARED, *plugin_tables):
        drop = ("run_id", "committed_at") if table == "ticks" else ("run_id",)
        assert rows(db, table, child.run_id, f"tick <= {at}", drop) == rows(db, table, parent.run_id, f"tick <= {at}", drop), table
    assert rows(db, "metrics", child.run_id, f"tick between 0 and {at}") == rows(db, "metrics", parent.run_id, f"tick between 0 and {at}")
    conn = sqlite3.connect(db)
    # the shared ticks cost nothing: every answer of theirs came from the store
    parent_calls = conn.execute("select count(*) from llm_calls where run_id = ? and tick <= ?", [parent.run_id, at]).fetchone()[0]
    called, stored = conn.execute(
        "select coalesce(sum(cached = 0), 0), count(*) from llm_calls where run_id = ? and tick <= ?", [child.run_id, at]).fetchone()
    assert (called, stored) == (0, parent_calls)
    # and the run's spend counts only the calls made after the fork
    after = conn.execute("select count(*) from llm_calls where run_id = ? and tick > ? and cached = 0", [child.run_id, at]).fetchone()[0]
    assert child.info["llm_calls"] == after
    conn.close()
    info = child.info
    assert (info["parent_run_id"], info["fork_tick"], info["status"]) == (parent.run_id, at, "finished")
    first = first_divergence(RunReader.open(db), parent.run_id, child.run_id)
    assert first is not None and first["tick"] > at
    return first


def test_trendsim_branch_at_tick_30_with_attackers(tmp_path):
    db = tmp_path / "t.db"
    parent = scripted_run("trendsim", db, {"population.size": 60})
    assert rows(db, "llm_calls", parent.run_id, "tick <= 30")  # the shared ticks did call the model
    child = parent.branch(at=30, set={"attack.share": 0.5})
    check_branch(db, parent, child, 30, ("trendsim_comments",))
    agents = child.agents
    assert (agents["kind"] == "attacker").sum() == 60 and (parent.agents["kind"] == "attacker").sum() == 0
    # attackers acted after the fork, and only then
    conn = sqlite3.connect(db)
    ticks = [t for (t,) in conn.execute("select tick from events where run_id = ? and agent_id like 'attacker-%'", [child.run_id])]
    assert ticks and min(ticks) > 30
    fork = conn.execute("select tick, payload_json from events where run_id = ? and kind = 'fork'", [child.run_id]).fetchall()
    assert [t for t, _ in fork] == [31]
    # the outcome differs after the fork
    assert child.final()["attack.comments"] > 0 == parent.final().get("attack.comments", 0)


def test_characterbox_and_cdi_branches(tmp_path):
    db = tmp_path / "c.db"
    parent = scripted_run("characterbox", db, {"rounds": 3})
    child = parent.branch(at=0, set={"scene_update": "per_actor"})
    check_branch(db, parent, child, 0)
    db2 = tmp_path / "d.db"
    parent = scripted_run("cdi", db2)
    child = parent.branch(at=1, set={"defense": "guarding"})
    first = check_branch(db2, parent, child, 1)
    assert first["b"]["kind"] == "fork"
    assert child.llm_calls.purpose.str.startswith("cdi.guard").any() and not parent.llm_calls.purpose.str.startswith("cdi.guard").any()


def test_branch_cli_lineage_compare_and_refusal(tmp_path):
    db = tmp_path / "t.db"
    parent = scripted_run("trendsim", db, {"population.size": 60})
    proc = run_cli(["branch", parent.run_id, "--db", str(db), "--at", "30", "--set", "attack.share=0.5", "--quiet"])
    child = api.open(db)[-1]
    assert f"branch {child.run_id} of {parent.run_id} after tick 30: trendsim.attack.share" in proc.stdout
    shown = run_cli(["runs", "show", child.run_id, "--db", str(db)]).stdout
    assert f"lineage: {parent.run_id} -> (after tick 30) {child.run_id}" in shown
    compared = run_cli(["runs", "compare", parent.run_id, child.run_id, "--db", str(db)], env={"COLUMNS": "200", **__import__("os").environ}).stdout
    assert "first differing event: tick 31 #0" in compared and "metrics differ at" in compared
    # the replay report says where the branch leaves its parent
    run_cli(["replay", child.run_id, "--db", str(db), "--html", str(tmp_path / "b.html")])
    html = (tmp_path / "b.html").read_text()
    assert f"branch of {parent.run_id} after tick 30: attack.share=0.5" in html and "first differing event: tick 31 #0" in html
    # a change that would alter ticks already played: one line, exit 2
    bad = run_cli(["branch", parent.run_id, "--db", str(db), "--at", "30", "--set", "population.size=10"], check_rc=2)
    assert bad.stderr.count("\n") == 1 and "population.size: cannot change at a fork" in bad.stderr
    late = run_cli(["branch", parent.run_id, "--db", str(db), "--at", "95", "--set", "attack.share=0.5"], check_rc=2)
    assert "--at 95" in late.stderr


def test_a_branch_in_another_database_stopped_by_budget_resumes_to_the_uninterrupted_branch(tmp_path):
    db = tmp_path / "t.db"
    parent = scripted_run("trendsim", db, {"population.size": 60})
    whole = api.branch(parent, 30, {"attack.share": 0.3}, out=tmp_path / "whole.db")
    cut = api.branch(parent, 30, {"attack.share": 0.3}, out=tmp_path / "cut.db", budget="calls=40")
    assert cut.status == "stopped: budget"
    assert cut.info["last_tick"] < 95
    done = api.run(resume=cut.run_id, db=tmp_path / "cut.db")
    assert done.status == "finished"
    for table in ("events", "exposures", "trendsim_comments"):
        assert rows(tmp_path / "cut.db", table, done.run_id) == rows(tmp_path / "whole.db", table, whole.run_id), table
    assert done.final() == pytest.approx(whole.final(), nan_ok=True)


def test_personaarena_branch_and_another_model_for_the_subject_at_a_fork(tmp_path):
    parent = scripted_run("personaarena", tmp_path / "p.db")
    child = parent.branch(at=0, set={"steer": False})
    check_branch(tmp_path / "p.db", parent, child, 0)
    cdi = scripted_run("cdi", tmp_path / "c.db")
    other = cdi.branch(at=1, set={"llm.model": "other"})
    calls = other.llm_calls
    assert set(calls[calls.tick <= 1].model) == {"scripted-v1"}
    assert "scripted-v1:other" in set(calls[(calls.tick > 1) & (calls.agent_id == "sender")].model)
    models = dict(sqlite3.connect(tmp_path / "c.db").execute("select role, model from run_models where run_id = ?", [other.run_id]).fetchall())
    assert models["sender"] == "scripted-v1:other" and models["judge"] == "scripted-v1"
    assert other.info["model"] == "scripted-v1:other"
