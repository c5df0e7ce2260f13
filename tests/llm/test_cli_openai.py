"""`simkit run --llm openai:MODEL` as a user runs it, against the fault-injecting stub."""

from __future__ import annotations

import secrets
import sqlite3

from tests.conftest import run_cli, townhall_yaml
from tests.servers.llama_server import free_port


def test_faulty_endpoint_run_completes_counts_retries_loses_no_tick_and_stores_no_key(cli_env, tmp_path, fault_server):
    server = fault_server(latency=0.05, p_429=0.1, p_500=0.1, p_timeout=0.05, hang=3.0, p_malformed=0.1,
                          dialect="json_object", seed=11)
    key = "sk-test-SECRET-" + secrets.token_hex(12)
    env = dict(cli_env, OPENAI_API_KEY=key)
    scenario = townhall_yaml(tmp_path)
    proc = run_cli(
        ["run", str(scenario), "--quiet", "--llm", "openai:stub-model",
         "--set", f"llm.base_url={server.base_url}", "--set", "llm.timeout=1",
         "--set", "llm.retries=10", "--set", "llm.max_concurrency=4"],
        env=env, timeout=300,
    )
    db_path = tmp_path / "run.db"
    conn = sqlite3.connect(db_path)
    run = conn.execute("select run_id, status, ticks_total, retries, llm_calls, parse_failures from runs").fetchone()
    run_id, status, ticks_total, retries, calls, parse_failures = run
    assert status == "finished"
    ticks = [t for (t,) in conn.execute("select tick from ticks where run_id = ? order by tick", [run_id])]
    assert ticks == list(range(ticks_total))  # no tick lost
    faults = sum(server.stats.outcomes[k] for k in ("429", "500", "timeout", "malformed"))
    assert faults > 0 and retries >= faults  # every fault was retried, and counted in runs
    assert retries == conn.execute("select sum(attempts - 1) from llm_calls where run_id = ?", [run_id]).fetchone()[0]
    assert calls > 0 and parse_failures == 0
    assert server.stats.outcomes["rejected"] >= 1  # json_schema refused, json_object used
    assert server.stats.auth_headers == {f"Bearer {key}"}  # the key was sent...
    conn.close()
    # ...and written nowhere: not in the database, its WAL, or the output
    files = list(tmp_path.glob("run.db*"))
    assert db_path in files
    for path in files:
        assert key.encode() not in path.read_bytes(), path
        assert b"sk-test-SECRET" not in path.read_bytes(), path
    assert key not in proc.stdout + proc.stderr


def test_dead_endpoint_is_one_clear_line_and_exit_code_1(cli_env, tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    scenario = townhall_yaml(tmp_path)
    proc = run_cli(["run", str(scenario), "--quiet", "--llm", "openai:stub-model", "--set", f"llm.base_url={url}"],
                   env=cli_env, check_rc=1, timeout=120)
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr and "\n" not in err, proc.stderr
    assert url in err and "simkit serve" in err
