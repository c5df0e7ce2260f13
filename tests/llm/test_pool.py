"""Endpoint pools (`llm.endpoints`, simkit/llm/pool.py) against fault-injecting servers on
127.0.0.1: routing by free capacity, failover, taking out and putting back, one endpoint
killed mid-run, the cache key being the logical model, one-line config errors."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from simkit.config import LLMConfig
from simkit.llm import pool as pool_mod
from simkit.llm.client import LLMClient
from simkit.llm.factory import make_backend, make_client
from simkit.llm.pool import EndpointPool
from tests.conftest import ROOT, run_cli, townhall_yaml
from tests.servers.llama_server import free_port


class Answer(BaseModel):
    word: str
    n: int


def pool_client(urls: list[str], concurrency: int = 4, **llm) -> tuple[EndpointPool, LLMClient]:
    cfg = LLMConfig.model_validate(
        {"model": "logical", "timeout": 2, "retries": 2, "cache": "off",
         "endpoints": [{"base_url": u, "concurrency": concurrency} for u in urls], **llm}
    )
    backend = make_backend(cfg, 0)
    assert isinstance(backend, EndpointPool)
    return backend, make_client(cfg, 0, backend)


async def ask(client: LLMClient, n: int, tag: str = "q"):
    return await asyncio.gather(*[
        client.complete([{"role": "user", "content": f"{tag} {i}"}], schema=Answer, agent_id=f"a{i}") for i in range(n)
    ])


async def test_calls_spread_by_free_capacity_and_the_client_limit_is_the_pools(fault_server):
    a, b = fault_server(latency=0.05), fault_server(latency=0.05)
    pool, client = pool_client([a.base_url, b.base_url], concurrency=3)
    assert client.max_concurrency == 6 and pool.model == client.model == "logical"
    answers = await ask(client, 30)
    assert all(x.ok for x in answers)
    stats = {s["endpoint"]: s for s in pool.endpoint_stats()}
    assert stats[a.base_url]["calls"] + stats[b.base_url]["calls"] == 30
    assert a.stats.requests >= 10 and b.stats.requests >= 10  # both did real work
    assert max(s["in_flight"] for s in stats.values()) == 0
    await client.aclose()


async def test_weight_sends_more_calls_to_the_heavier_endpoint(fault_server):
    a, b = fault_server(latency=0.02), fault_server(latency=0.02)
    cfg = LLMConfig.model_validate({"model": "m", "cache": "off", "endpoints": [
        {"base_url": a.base_url, "concurrency": 4, "weight": 1}, {"base_url": b.base_url, "concurrency": 4, "weight": 3}]})
    pool = make_backend(cfg, 0)
    client = make_client(cfg, 0, pool)
    client._semaphore = asyncio.Semaphore(2)  # never full: the weight alone decides
    await ask(client, 20)
    assert b.stats.requests == 20 and a.stats.requests == 0  # 3 x 4 free beats 1 x 4 free while both have room
    await client.aclose()


async def test_failing_endpoint_fails_over_is_taken_out_and_put_back_after_a_probe(fault_server, monkeypatch):
    monkeypatch.setattr(pool_mod, "BACKOFF_FIRST", 0.3)
    bad, good = fault_server(status=500), fault_server(latency=0.01)
    pool, client = pool_client([bad.base_url, good.base_url], concurrency=2)
    answers = await ask(client, 12)
    assert all(x.ok for x in answers)  # every call answered, none lost to the failing endpoint
    bad_stats = pool.endpoint_stats()[0]
    assert bad_stats["errors"] >= pool_mod.FAILS_TO_EJECT and bad_stats["ejections"] == 1
    assert bad_stats["state"].startswith("out") and bad_stats["calls"] == 0
    assert "HTTP 500" in bad_stats["last_error"]
    assert client.stats.retries == 0  # failover is not a client retry
    # It heals; after the back-off a probe puts it back and it serves again.
    bad.faults.status = 0
    await asyncio.sleep(0.4)
    await ask(client, 1, "kick")  # a pick starts the probe
    for _ in range(50):
        if not pool.endpoints[0].down:
            break
        await asyncio.sleep(0.05)
    assert not pool.endpoints[0].down
    await ask(client, 12, "after")
    assert pool.endpoint_stats()[0]["calls"] > 0
    await client.aclose()


async def test_probe_failure_doubles_the_backoff(fault_server, monkeypatch):
    monkeypatch.setattr(pool_mod, "BACKOFF_FIRST", 0.2)
    good = fault_server()
    dead = f"http://127.0.0.1:{free_port()}/v1"
    pool, client = pool_client([dead, good.base_url])
    await pool.check()  # the dead one starts out of the pool
    assert pool.endpoints[0].down and pool.endpoints[0].stats.ejections == 1
    await asyncio.sleep(0.25)
    await ask(client, 2)
    for _ in range(50):
        if not pool.endpoints[0].probing:
            break
        await asyncio.sleep(0.05)
    assert pool.endpoints[0].down and pool.endpoints[0].backoff == pytest.approx(0.4)
    assert good.stats.requests >= 2
    await client.aclose()


async def test_no_endpoint_answers_is_llm_unavailable():
    from simkit.errors import LLMUnavailable

    pool, client = pool_client([f"http://127.0.0.1:{free_port()}/v1", f"http://127.0.0.1:{free_port()}/v1"])
    with pytest.raises(LLMUnavailable, match="none of the 2 endpoints"):
        await pool.check()


def test_bad_endpoint_config_is_one_line_naming_the_key(cli_env, tmp_path):
    scenario = townhall_yaml(tmp_path, llm={"backend": "openai", "model": "m",
                                            "endpoints": [{"base_url": "http://127.0.0.1:1/v1"}, {"concurrency": 4}]})
    proc = run_cli(["run", str(scenario), "--quiet"], env=cli_env, check_rc=2, timeout=120)
    err = proc.stderr.strip()
    assert "\n" not in err and "Traceback" not in err
    assert "llm.endpoints.1.base_url: required key is missing" in err
    scenario = townhall_yaml(tmp_path, llm={"backend": "local", "endpoints": [{"base_url": "http://x:1/v1"}]})
    err = run_cli(["run", str(scenario), "--quiet"], env=cli_env, check_rc=2, timeout=120).stderr
    assert "llm.endpoints:" in err and "backend: openai" in err


def start_server_process(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.servers.fault_server", "--max-lifetime", "300", *args],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    line = proc.stdout.readline().split()
    assert line and line[0] == "READY", line
    return proc, f"http://127.0.0.1:{line[1]}/v1"


def pool_scenario(tmp_path: Path, urls: list[str], db: str = "run.db", concurrency: int = 2) -> Path:
    path = townhall_yaml(tmp_path, llm={
        "backend": "openai", "model": "stub-model", "timeout": 2, "retries": 6,
        "endpoints": [{"base_url": u, "concurrency": concurrency} for u in urls]})
    data = yaml.safe_load(path.read_text())
    data["output"] = {"db": str(tmp_path / db)}
    data["clock"]["end"] = "2025-01-01T11:00:00"  # 12 ticks
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_an_endpoint_killed_mid_run_the_run_completes_and_reports_it(cli_env, tmp_path):
    (a, url_a), (b, url_b) = start_server_process("--latency", "0.15"), start_server_process("--latency", "0.15")
    try:
        scenario = pool_scenario(tmp_path, [url_a, url_b], concurrency=1)
        cli = subprocess.Popen([sys.executable, "-m", "simkit.cli", "run", str(scenario), "--quiet"],
                               env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        db = tmp_path / "run.db"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # kill b once a few ticks are committed
            if db.exists():
                with sqlite3.connect(db) as conn:
                    try:
                        if conn.execute("select count(*) from ticks").fetchone()[0] >= 3:
                            break
                    except sqlite3.OperationalError:
                        pass
            time.sleep(0.05)
        os.kill(b.pid, signal.SIGKILL)
        out, err = cli.communicate(timeout=180)
        assert cli.returncode == 0, out + err
    finally:
        for p in (a, b):
            p.kill()
            p.wait()
    conn = sqlite3.connect(db)
    run_id, status, total, failures = conn.execute("select run_id, status, ticks_total, parse_failures from runs").fetchone()
    assert status == "finished" and failures == 0
    assert [t for (t,) in conn.execute("select tick from ticks order by tick")] == list(range(total))
    assert conn.execute("select count(*) from llm_calls where parsed_ok = 0").fetchone()[0] == 0
    metrics = {(n, json.loads(lab)["endpoint"]): v for n, v, lab in
               conn.execute("select name, value, labels_json from metrics where name like 'llm.endpoint.%'")}
    assert metrics[("llm.endpoint.calls", url_a)] > 0 and metrics[("llm.endpoint.calls", url_b)] > 0
    assert metrics[("llm.endpoint.errors", url_b)] >= 1 and metrics[("llm.endpoint.ejections", url_b)] >= 1
    assert metrics[("llm.endpoint.errors", url_a)] == 0
    # the summary names the dead endpoint with its errors
    row = next(line for line in out.splitlines() if url_b in line)
    assert "│" in row and any(ch.isdigit() for ch in row)
    assert url_a in out


def test_cache_key_is_the_logical_model_one_endpoint_or_two(cli_env, tmp_path, fault_server):
    a, b = fault_server(latency=0.01), fault_server(latency=0.01)
    one = pool_scenario(tmp_path, [a.base_url], db="shared.db")
    run_cli(["run", str(one), "--quiet"], env=cli_env, timeout=180)
    served = a.stats.requests
    two = pool_scenario(tmp_path, [b.base_url, a.base_url], db="shared.db")
    run_cli(["run", str(two), "--quiet"], env=cli_env, timeout=180)
    assert a.stats.requests == served and b.stats.requests == 0  # every answer came from the cache
    conn = sqlite3.connect(tmp_path / "shared.db")
    (r1, c1), (r2, c2) = conn.execute("select run_id, llm_calls from runs order by started_at").fetchall()
    assert c1 > 0 and c2 == 0
    events = [conn.execute("select tick, seq, agent_id, kind, payload_json from events where run_id = ? order by tick, seq",
                           [r]).fetchall() for r in (r1, r2)]
    assert events[0] == events[1]
