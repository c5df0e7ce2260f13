"""`--estimate` against the real count on the scripted backend for each shipped scenario,
prices, the cache; `--budget` stops at the end of a tick and a resume with a larger budget
reaches the uninterrupted trajectory."""

from __future__ import annotations

import sqlite3

import pytest

from simkit import api
from simkit.engine.budget import Budget
from simkit.errors import UsageError
from tests.conftest import run_cli
from tests.research.conftest import SCENARIOS, rows, scripted_run

SHIPPED = ["trendsim", "trendsim_pa30", "characterbox", "cdi", "personaarena"]


def within(estimated: float, actual: float, tolerance: float = 0.25) -> bool:
    return abs(estimated - actual) <= tolerance * actual


@pytest.mark.parametrize("name", SHIPPED)
def test_estimate_is_within_25_percent_of_the_run(tmp_path, name):
    db = tmp_path / "e.db"
    est = api.estimate(SCENARIOS / f"{name}.yaml", llm="scripted", out=db)
    assert not db.exists()  # the dry run writes nowhere near the run database
    run = scripted_run(name, db)
    info = run.info
    assert within(est.total("calls"), info["llm_calls"])
    assert within(est.total("tokens_in"), info["tokens_in"]) and within(est.total("tokens_out"), info["tokens_out"])
    # the same run again is all cache: the estimate says it costs nothing
    again = api.estimate(SCENARIOS / f"{name}.yaml", llm="scripted", out=db)
    assert again.total("calls") == 0 and again.total("cached") == est.total("calls")


def test_a_large_population_is_estimated_from_a_scaled_dry_run(tmp_path):
    db = tmp_path / "e.db"
    est = api.estimate(SCENARIOS / "trendsim.yaml", llm="scripted", out=db, sets={"population.size": 150})
    assert est.scale == 3.0 and est.dry_population == 50
    info = scripted_run("trendsim", db, {"population.size": 150}).info
    assert within(est.total("calls"), info["llm_calls"]) and within(est.total("tokens_in"), info["tokens_in"])


def test_cost_from_the_price_table_and_from_llm_price(tmp_path):
    # the subject (the sender) on a priced hosted model, the pinned instruments on the local one (free)
    est = api.estimate(SCENARIOS / "cdi.yaml", llm="openai:gpt-4o-mini", out=tmp_path / "e.db")
    subject, local = est.roles["gpt-4o-mini"], est.roles["local:SmolLM2-135M-Instruct.Q4_1.gguf"]
    assert subject.calls > 0 and local.calls > 0 and local.usd == 0
    tin, tout = subject.tokens_in, subject.tokens_out
    assert est.usd == pytest.approx((tin * 0.15 + tout * 0.60) / 1e6)
    # llm.price prices the subject's model only: instruments keep their own (it is a model key)
    priced = api.estimate(SCENARIOS / "cdi.yaml", llm="openai:my-model", out=tmp_path / "e.db",
                          sets={"llm.price": {"input": 1.0, "output": 2.0}})
    assert priced.usd == pytest.approx((tin * 1.0 + tout * 2.0) / 1e6)
    unknown = api.estimate(SCENARIOS / "cdi.yaml", llm="openai:my-model", out=tmp_path / "e.db")
    assert unknown.usd is None and any(l.startswith("my-model") and "price unknown" in l for l in unknown.lines())


def test_estimate_cli_for_run_and_sweep(tmp_path):
    out = run_cli(["run", str(SCENARIOS / "cdi.yaml"), "--llm", "scripted", "--out", str(tmp_path / "e.db"), "--estimate"]).stdout
    assert "estimate cdi" in out and "total: " in out and not (tmp_path / "e.db").exists()
    out = run_cli(["sweep", str(SCENARIOS / "cdi.yaml"), "--llm", "scripted", "--out", str(tmp_path / "s.db"),
                   "--set", "cdi.defense=none,guarding", "--estimate"], env={"COLUMNS": "200", **__import__("os").environ}).stdout
    assert "cdi.defense=none, seed=1: total:" in out and "cdi.defense=guarding, seed=1: total:" in out and "sweep total:" in out


def test_budget_parsing():
    assert Budget.parse("calls=50").reached({"llm_calls": 50})
    assert not Budget.parse("tokens=100").reached({"tokens_in": 60, "tokens_out": 39})
    assert Budget.parse("usd=1", (1.0, 2.0)).reached({"tokens_in": 600_000, "tokens_out": 200_000})
    for bad in ("calls", "cals=5", "calls=x", "calls=0"):
        with pytest.raises(UsageError):
            Budget.parse(bad)
    with pytest.raises(UsageError, match="llm.price"):
        Budget.parse("usd=1")


def test_budget_stops_at_a_tick_end_and_a_larger_budget_resumes_to_the_uninterrupted_run(tmp_path):
    scenario = str(SCENARIOS / "trendsim.yaml")
    db, ref = tmp_path / "b.db", tmp_path / "ref.db"
    common = ["--llm", "scripted", "--set", "population.size=60", "--quiet"]
    proc = run_cli(["run", scenario, *common, "--out", str(db), "--budget", "calls=50"])
    conn = sqlite3.connect(db)
    run_id, status, last, error = conn.execute("select run_id, status, last_tick, error from runs").fetchone()
    assert status == "stopped: budget" and last < 95
    spent = conn.execute("select count(*) from llm_calls where run_id = ? and cached = 0", [run_id]).fetchone()[0]
    before = conn.execute("select count(*) from llm_calls where run_id = ? and cached = 0 and tick < ?", [run_id, last]).fetchone()[0]
    assert spent >= 50 > before  # the budget was reached in the last committed tick, not earlier
    assert error == f"budget calls=50 reached: {spent} calls, " + error.split(" calls, ", 1)[1]
    stopped = [line for line in proc.stderr.splitlines() if line.startswith("stopped:")]
    assert len(stopped) == 1 and f"--resume {run_id} --budget LARGER" in stopped[0]
    conn.close()
    # a budget already spent is refused in one line; a larger one finishes the run
    small = run_cli(["run", scenario, *common, "--out", str(db), "--resume", run_id, "--budget", "calls=40"], check_rc=2)
    assert "already spent" in small.stderr and small.stderr.count("\n") == 1
    run_cli(["run", scenario, *common, "--out", str(db), "--resume", run_id, "--budget", "calls=100000"])
    run_cli(["run", scenario, *common, "--out", str(ref)])
    ref_id = sqlite3.connect(ref).execute("select run_id from runs").fetchone()[0]
    for table in ("events", "exposures", "agent_state", "trendsim_comments"):
        assert rows(db, table, run_id) == rows(ref, table, ref_id), table
    assert rows(db, "metrics", run_id) == rows(ref, "metrics", ref_id)
