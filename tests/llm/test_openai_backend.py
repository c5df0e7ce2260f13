"""The `openai` backend at the HTTP level, against the fault-injecting stub server."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from simkit.errors import LLMUnavailable
from simkit.llm.base import LLMRequest, PermanentLLMError, TransientLLMError
from simkit.llm.client import LLMClient
from simkit.llm.openai_backend import OpenAIBackend, structured_params


class Post(BaseModel):
    text: str = Field(max_length=200)
    mood: float = Field(ge=0, le=1)
    stars: int = Field(ge=1, le=5)


def client_for(server, *, dialect="auto", retries=8, timeout=5.0, concurrency=8, deadline=None) -> LLMClient:
    backend = OpenAIBackend("stub-model", base_url=server.base_url, dialect=dialect, timeout=timeout)
    return LLMClient(backend, cache_mode="off", max_concurrency=concurrency, timeout=timeout, retries=retries,
                     backoff_base=0.02, backoff_cap=0.2, deadline=deadline)


async def ask_many(client: LLMClient, n: int):
    import asyncio

    return await asyncio.gather(*[
        client.complete([{"role": "user", "content": f"post number {i}"}], schema=Post, agent_id=f"a{i}")
        for i in range(n)
    ])


@pytest.mark.parametrize(
    "server_dialect, expected, rejected",
    [
        ("json_schema", "json_schema", 0),  # OpenAI, vLLM
        ("json_object", "json_object", 1),  # llama.cpp python server: HTTP 500 on json_schema
        ("prompt", "prompt", 2),  # servers that ignore response_format: HTTP 400
    ],
)
async def test_auto_dialect_falls_back_once_and_remembers(fault_server, server_dialect, expected, rejected):
    server = fault_server(dialect=server_dialect)
    client = client_for(server, concurrency=1)  # one at a time: exactly one rejection per step
    answers = await ask_many(client, 6)
    assert all(a.ok for a in answers), [a.error for a in answers]
    assert client.backend.dialect == expected
    assert server.stats.outcomes["rejected"] == rejected
    assert server.stats.dialects[expected if expected != "prompt" else "prompt"] == 6
    assert client.stats.retries == 0  # a dialect switch is not a server fault
    await client.aclose()


async def test_concurrent_rejections_step_down_one_dialect_only(fault_server):
    server = fault_server(dialect="json_object", latency=0.05)
    client = client_for(server, concurrency=16)
    answers = await ask_many(client, 16)
    assert all(a.ok for a in answers)
    assert client.backend.dialect == "json_object"  # not "prompt", though 16 calls saw a rejection
    assert client.stats.retries == 0
    await client.aclose()


@pytest.mark.parametrize("dialect", ["json_schema", "json_object", "prompt"])
async def test_each_fixed_dialect_against_a_server_that_takes_it(fault_server, dialect):
    server = fault_server(dialect=dialect)
    client = client_for(server, dialect=dialect)
    answers = await ask_many(client, 4)
    assert all(a.ok for a in answers)
    assert server.stats.outcomes["rejected"] == 0
    await client.aclose()


async def test_fixed_dialect_rejected_is_one_clear_error(fault_server):
    server = fault_server(dialect="json_object")
    client = client_for(server, dialect="json_schema")
    with pytest.raises(LLMUnavailable, match="rejected structured output dialect 'json_schema'.*llm.dialect"):
        await ask_many(client, 1)
    await client.aclose()


def test_dialect_request_shapes():
    schema = Post.model_json_schema()
    msgs = [{"role": "system", "content": "You are Ann."}, {"role": "user", "content": "hi"}]
    same, extra = structured_params(schema, msgs, "json_schema")
    assert same == msgs
    assert extra["response_format"]["type"] == "json_schema"
    assert extra["response_format"]["json_schema"]["schema"] == schema
    assert extra["response_format"]["json_schema"]["name"] == "Post"
    told, extra = structured_params(schema, msgs, "json_object")
    assert extra["response_format"]["type"] == "json_object"
    sent = extra["response_format"]["schema"]["properties"]
    assert sent["stars"]["enum"] == [1, 2, 3, 4, 5] and len(sent["mood"]["enum"]) == 101
    assert told == msgs  # the server's grammar gets the schema; the prompt stays the plugin's
    told, extra = structured_params(schema, msgs, "prompt")
    assert extra == {} and told[0]["content"].startswith("You are Ann.") and '"mood"' in told[0]["content"]
    told, extra = structured_params(schema, msgs[1:], "prompt")
    assert extra == {} and told[0]["role"] == "system" and "JSON schema" in told[0]["content"]
    assert msgs[0]["content"] == "You are Ann."  # the caller's messages are not modified


async def test_faults_are_retried_counted_and_every_answer_parses(fault_server):
    server = fault_server(latency=0.01, p_429=0.15, p_500=0.15, p_timeout=0.05, hang=2.0, p_malformed=0.15, seed=3)
    # several timeouts in one call are allowed here: the deadline (default 2 x timeout) is not under test
    client = client_for(server, timeout=0.5, retries=12, concurrency=10, deadline=30)
    answers = await ask_many(client, 60)
    assert all(a.ok for a in answers)
    faults = sum(server.stats.outcomes[k] for k in ("429", "500", "timeout", "malformed"))
    assert faults > 0
    assert client.stats.retries == faults  # every fault cost exactly one retry
    assert client.stats.llm_calls == 60
    await client.aclose()


@pytest.mark.parametrize(
    "status, error, words",
    [
        (429, TransientLLMError, "HTTP 429"),
        (500, TransientLLMError, "HTTP 500"),
        (502, TransientLLMError, "HTTP 502"),
        (503, TransientLLMError, "HTTP 503"),
        (408, TransientLLMError, "HTTP 408"),
        (401, PermanentLLMError, "MY_KEY_VAR"),
        (403, PermanentLLMError, "MY_KEY_VAR"),
        (404, PermanentLLMError, "llm.model"),
        (400, PermanentLLMError, "HTTP 400"),
        (422, PermanentLLMError, "HTTP 422"),
    ],
)
async def test_status_codes_map_to_retryable_or_permanent(fault_server, monkeypatch, status, error, words):
    monkeypatch.setenv("MY_KEY_VAR", "sk-test-SECRET-status")
    server = fault_server(status=status)
    backend = OpenAIBackend("stub-model", base_url=server.base_url, api_key_env="MY_KEY_VAR", timeout=5)
    with pytest.raises(error, match=words) as info:
        await backend.generate(LLMRequest(messages=[{"role": "user", "content": "hi"}]))
    assert "sk-test-SECRET" not in str(info.value)
    await backend.aclose()


async def test_malformed_body_and_timeout_are_transient(fault_server):
    server = fault_server(p_malformed=1.0)
    backend = OpenAIBackend("stub-model", base_url=server.base_url, timeout=5)
    with pytest.raises(TransientLLMError, match="garbled response"):
        await backend.generate(LLMRequest(messages=[{"role": "user", "content": "hi"}]))
    await backend.aclose()
    server = fault_server(p_timeout=1.0, hang=3.0)
    backend = OpenAIBackend("stub-model", base_url=server.base_url, timeout=0.3)
    with pytest.raises(TransientLLMError, match="did not answer within 0.3s"):
        await backend.generate(LLMRequest(messages=[{"role": "user", "content": "hi"}]))
    await backend.aclose()


async def test_dead_endpoint_fails_fast_naming_the_url_and_what_to_start():
    from tests.servers.llama_server import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    backend = OpenAIBackend("stub-model", base_url=url)
    with pytest.raises(LLMUnavailable) as info:
        await backend.check()
    message = str(info.value)
    assert url in message and "simkit serve" in message and "\n" not in message
    # and when calls are made anyway, the retries end in the same single line
    client = LLMClient(backend, cache_mode="off", retries=2, backoff_base=0.01)
    with pytest.raises(LLMUnavailable, match=r"gave up after 3 attempts: cannot reach http://127\.0\.0\.1"):
        await client.complete([{"role": "user", "content": "hi"}])
    assert client.stats.retries == 2
    await client.aclose()


async def test_refused_key_fails_fast_naming_the_variable(fault_server, monkeypatch):
    monkeypatch.setenv("MY_KEY_VAR", "sk-test-SECRET-refused")
    server = fault_server(status=401)
    backend = OpenAIBackend("stub-model", base_url=server.base_url, api_key_env="MY_KEY_VAR")
    with pytest.raises(LLMUnavailable, match="MY_KEY_VAR") as info:
        await backend.check()
    assert "sk-test-SECRET" not in str(info.value)
    assert server.stats.auth_headers == {"Bearer sk-test-SECRET-refused"}  # the key did go to the server
    await backend.aclose()


async def test_missing_key_is_sent_as_placeholder(fault_server, monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    server = fault_server()
    backend = OpenAIBackend("stub-model", base_url=server.base_url, api_key_env="NO_SUCH_KEY_VAR")
    raw = await backend.generate(LLMRequest(messages=[{"role": "user", "content": "hi"}]))
    assert raw.text and raw.tokens_in and raw.tokens_out
    assert server.stats.auth_headers == {"Bearer not-needed"}
    await backend.aclose()
