"""Tool calls end to end: request hash, cache and replay, scripted (emulated) answers,
argument validation, the openai backend against a real HTTP server (native, and emulated
when the server refuses tools), and the local backend's grammar."""

from __future__ import annotations

import json

from pydantic import BaseModel, Field

from simkit.llm.base import LLMRequest, ToolSpec
from simkit.llm.client import ClientHooks, LLMClient, request_hash, schema_of, stable_json
from simkit.llm.openai_backend import OpenAIBackend
from simkit.llm.scripted import ScriptedBackend
from simkit.llm.tools import answer_schema, emulated, flatten
from tests.servers.fault_server import Faults, FaultServer


class Send(BaseModel):
    to: str = Field(max_length=20)
    text: str = Field(min_length=1, max_length=100)


class Read(BaseModel):
    index: int = Field(ge=0, le=9)


SEND = ToolSpec("send", "Send a message.", Send)
READ = ToolSpec("read", "Read a note.", Read)
ASK = [{"role": "user", "content": "tell Sam the time"}]


def test_tools_are_part_of_the_request_hash_and_tool_free_hashes_did_not_move():
    """Recorded hashes: a changed value means every cached answer and stored request_hash of
    earlier runs stops matching (resume and replay of old databases break), so a change here
    must be deliberate."""
    plain = LLMRequest(messages=ASK)
    assert request_hash("m", plain) == "8fa7aff0fbaf11585aba8756da8cdea4216efed6f9fe775168fbbc327cd20100"
    assert request_hash("m", LLMRequest(messages=ASK, tools=())) == request_hash("m", plain)
    assert request_hash("m", LLMRequest(messages=ASK, tools=(SEND,))) == "54009e2dff3fbdaa5b9e950eaefe2e01d9c5f8813de835cca25ed9b7dc2843ca"
    assert request_hash("m", LLMRequest(messages=ASK, tools=(SEND, READ))) == "bb3e08bc21fd70f57ee0277e981248d3eaa00024f1ea28c38bbb2fe5ce643ae1"
    required = LLMRequest(messages=ASK, tools=(SEND,), tool_choice="required")
    assert request_hash("m", required) == "87993b4bd8927d6eda3310182ddc574a51428321f67a3e035b00c86f2ea3791f"


async def test_structured_request_hash_and_recorded_params_did_not_move():
    """The hash and the `params_json` of a structured call are put together from separately
    serialized parts (to serialize messages and schema once); recorded values from before."""
    messages = ASK + [{"role": "system", "content": "règles: 中文"}]
    request = LLMRequest(messages=messages, schema=Send, schema_json=schema_of(Send), temperature=0.7, max_tokens=64)
    assert request_hash("m", request) == "ab52705470f06128f4b712b586d233d475262a2eca305e4f24cf893466678d1d"
    rows: list[dict] = []
    client = LLMClient(ScriptedBackend(seed=1), cache_mode="off", temperature=0.7, max_tokens=64,
                       hooks=ClientHooks(record_call=rows.append))
    await client.complete(messages, schema=Send)
    assert rows[0]["params_json"] == stable_json({"temperature": 0.7, "max_tokens": 64, "schema": schema_of(Send)})
    assert rows[0]["messages_json"] == stable_json(messages)


async def test_scripted_tool_call_is_validated_cached_and_replayed():
    rows: list[dict] = []
    store = {}
    hooks = ClientHooks(lookup=lambda key: store.get(key), record_call=rows.append)
    backend = ScriptedBackend(seed=4)
    backend.register("chat", lambda req, rng: {"tool": "send", "arguments": {"to": "Sam", "text": "Lunch is at 12:30."}})
    client = LLMClient(backend, hooks=hooks)
    first = await client.complete(ASK, tools=[SEND, READ])
    assert first.ok and [c.name for c in first.tool_calls] == ["send"]
    assert first.tool_calls[0].parsed == Send(to="Sam", text="Lunch is at 12:30.")
    row = rows[0]
    assert json.loads(row["response_json"])["tool_calls"][0]["name"] == "send"
    store[row["request_hash"]] = {"text": "", "tokens_in": 1, "tokens_out": 1, **json.loads(row["response_json"])}
    again = await LLMClient(ScriptedBackend(seed=4), hooks=hooks, cache_mode="replay").complete(ASK, tools=[SEND, READ])
    assert again.cached and again.tool_calls[0].parsed == first.tool_calls[0].parsed
    assert again.assistant_message()["tool_calls"][0]["function"]["name"] == "send"


async def test_invalid_arguments_and_unknown_tools_become_errors_not_crashes():
    backend = ScriptedBackend()
    answers = iter([{"tool": "send", "arguments": {"to": "Sam", "text": ""}}, {"tool": "fly", "arguments": {}}])
    backend.register("chat", lambda req, rng: next(answers))
    client = LLMClient(backend)
    bad = (await client.complete(ASK, tools=[SEND])).tool_calls[0]
    assert bad.parsed is None and "text" in bad.error
    unknown = (await client.complete([{"role": "user", "content": "again"}], tools=[SEND])).tool_calls[0]
    assert unknown.parsed is None and "unknown tool 'fly'" in unknown.error


async def test_required_tool_call_missing_is_not_ok():
    backend = ScriptedBackend()
    backend.register("chat", lambda req, rng: "I would rather chat.")
    answer = await LLMClient(backend).complete(ASK, tools=[SEND], tool_choice="required")
    assert not answer.ok and "no tool" in answer.error


def test_emulation_flattens_tool_turns_into_text_the_chat_template_can_show():
    history = ASK + [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "read", "arguments": '{"index": 0}'}}]},
        {"role": "tool", "tool_call_id": "c1", "name": "read", "content": "Lunch at 12:30"},
    ]
    flat = flatten(history)
    assert all(isinstance(m["content"], str) and m["role"] in ("user", "assistant") for m in flat)
    assert flat[2]["content"] == "Result of read: Lunch at 12:30"
    request = emulated(LLMRequest(messages=history, tools=(SEND, READ)))
    assert request.tools == () and request.schema_json["anyOf"][0]["properties"]["tool"] == {"const": "send"}
    assert "send" in request.messages[0]["content"]


def test_the_emulated_answer_schema_compiles_to_a_llama_cpp_grammar():
    from llama_cpp import LlamaGrammar

    from simkit.llm.grammar import schema_to_gbnf

    for choice in ("auto", "required"):
        grammar = schema_to_gbnf(answer_schema((SEND, READ), choice))
        assert LlamaGrammar.from_string(grammar, verbose=False) is not None
        assert '\\"read\\"' in grammar and ('\\"none\\"' in grammar) == (choice == "auto")


async def test_openai_backend_native_tool_calls_over_http():
    with FaultServer(Faults()) as server:
        backend = OpenAIBackend("fault-model", base_url=server.base_url)
        client = LLMClient(backend, cache_mode="off")
        answer = await client.complete(ASK, tools=[READ])
        await client.aclose()
    call = answer.tool_calls[0]
    assert call.name == "read" and call.id.startswith("call_") and call.parsed is not None


async def test_a_server_that_refuses_tools_gets_emulated_calls():
    with FaultServer(Faults(tools="reject")) as server:
        backend = OpenAIBackend("fault-model", base_url=server.base_url)
        client = LLMClient(backend, cache_mode="off")
        answer = await client.complete(ASK, tools=[READ], tool_choice="required")
        second = await client.complete([{"role": "user", "content": "more"}], tools=[READ], tool_choice="required")
        await client.aclose()
    assert backend.native_tools is False
    assert answer.ok and answer.tool_calls[0].name == "read" and second.ok
    assert server.stats.dialects["tools"] == 1  # refused once, remembered for the rest of the run


async def test_a_named_tool_choice_forces_that_tool():
    backend = ScriptedBackend()
    answers = iter([{"tool": "read", "arguments": {"index": 1}}, {"tool": "send", "arguments": {"to": "Sam", "text": "x"}}])
    seen = []

    def answer(request, rng):
        seen.append(request.schema_json)
        return next(answers)

    backend.register("chat", answer)
    client = LLMClient(backend)
    ok = await client.complete(ASK, tools=[SEND, READ], tool_choice="read")
    assert ok.ok and ok.tool_calls[0].name == "read"
    assert seen[0]["properties"]["tool"] == {"const": "read"}  # the grammar admits only that tool
    wrong = await client.complete([{"role": "user", "content": "again"}], tools=[SEND, READ], tool_choice="read")
    assert not wrong.ok and "read was required" in wrong.error
    import pytest

    with pytest.raises(ValueError, match="fly"):
        await client.complete(ASK, tools=[SEND], tool_choice="fly")


async def test_completion_counts_the_repair_asks():
    backend = ScriptedBackend()
    answers = iter(["not json", '{"index": 3}'])
    backend.register("chat", lambda req, rng: next(answers))
    answer = await LLMClient(backend, repair_attempts=2).complete(ASK, schema=Read)
    assert answer.ok and answer.asks == 2
