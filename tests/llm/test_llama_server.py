"""The `openai` backend against the real llama.cpp server (`python -m llama_cpp.server`)
serving the SmolLM2 GGUF on 127.0.0.1, started once per session by the `llama_server` fixture."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest
import yaml
from pydantic import BaseModel, Field

from simkit.llm.client import LLMClient
from simkit.llm.openai_backend import OpenAIBackend
from tests.conftest import ROOT, SMALL_PERSONAS, run_cli

pytestmark = pytest.mark.slow


class Vote(BaseModel):
    choice: str = Field(pattern="^(yes|no|abstain)$", max_length=8)
    reason: str = Field(max_length=80)
    certainty: float = Field(ge=0, le=1)
    priority: int = Field(ge=1, le=5)


async def test_auto_dialect_falls_back_to_json_object_and_answers_validate(llama_server):
    backend = OpenAIBackend("smollm2", base_url=llama_server.base_url, dialect="auto", timeout=120)
    client = LLMClient(backend, cache_mode="off", max_concurrency=2, timeout=120, retries=2, max_tokens=96)
    await backend.check()
    answers = await asyncio.gather(*[
        client.complete(
            [{"role": "system", "content": "You are Tom, a retired teacher."},
             {"role": "user", "content": f"Should the town build a new park (proposal {i})? Vote as JSON."}],
            schema=Vote, agent_id=f"a{i}", purpose="vote",
        )
        for i in range(3)
    ])
    assert backend.dialect == "json_object"  # the server refused json_schema (HTTP 500)
    assert all(a.ok for a in answers), [(a.error, a.text) for a in answers]
    assert client.stats.retries == 0 and client.stats.parse_failures == 0
    assert all(a.tokens_in > 0 and a.tokens_out > 0 for a in answers)
    await client.aclose()


def test_trendsim_run_through_the_server_completes_with_valid_answers(cli_env, tmp_path, llama_server):
    data = yaml.safe_load((ROOT / "scenarios" / "trendsim.yaml").read_text())
    data["population"] = {"personas": str(SMALL_PERSONAS), "size": 1}
    data["clock"] = {"start": "2025-03-01T06:00:00", "end": "2025-03-01T07:00:00", "tick": "10m"}
    data["output"] = {"db": str(tmp_path / "trendsim.db")}
    data["llm"] = {"backend": "openai", "model": "smollm2", "base_url": llama_server.base_url,
                   "max_tokens": 256, "timeout": 240, "max_concurrency": 2, "repair_attempts": 2,
                   "instruments": "same_as_subject"}  # the attackers too: every call goes through the server
    scenario = tmp_path / "trendsim.yaml"
    scenario.write_text(yaml.safe_dump(data, sort_keys=False))
    run_cli(["run", str(scenario), "--quiet"], env=cli_env, timeout=600)
    conn = sqlite3.connect(tmp_path / "trendsim.db")
    status, calls, failures = conn.execute("select status, llm_calls, parse_failures from runs").fetchone()
    assert status == "finished" and calls > 0 and failures == 0
    rows = conn.execute("select parsed_ok, response_json from llm_calls").fetchall()
    assert all(ok == 1 for ok, _ in rows)
    for _, response in rows:
        json.loads(json.loads(response)["text"], strict=False)  # the server may put raw newlines in strings
