"""Structured output: JSON extraction, bounded repair, parse_failure events; never a crash."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from simkit.llm.base import Backend, LLMRequest, RawCompletion
from simkit.llm.client import ClientHooks, LLMClient
from simkit.llm.jsonfix import extract_json
from simkit.llm.scripted import ScriptedBackend, instance_from_schema


class Choice(BaseModel):
    action: int = Field(ge=0, le=5)
    reason: str


class Canned(Backend):
    """Answers with a fixed list of texts, one per call."""

    name = "canned"

    def __init__(self, answers):
        self.answers = list(answers)
        self.seen: list[LLMRequest] = []

    @property
    def model(self):
        return "canned"

    async def generate(self, request):
        self.seen.append(request)
        return RawCompletion(self.answers.pop(0))


def collect(client):
    """Point the client's hooks at two lists (as a run's recorder would)."""
    calls, events = [], []
    client.hooks = ClientHooks(record_call=calls.append, record_event=lambda kind, agent, payload: events.append((kind, agent, payload)))
    return calls, events


async def test_prose_wrapped_json_parses():
    client = LLMClient(Canned(['Sure! ```json\n{"action": 2, "reason": "fun"}\n``` hope it helps']))
    calls, events = collect(client)
    out = await client.complete([{"role": "user", "content": "pick"}], schema=Choice, agent_id="u1")
    assert out.ok and out.parsed == Choice(action=2, reason="fun")
    assert calls[0]["parsed_ok"] == 1 and not events


async def test_invalid_answer_is_repaired_by_reasking():
    backend = Canned(['{"action": 9, "reason": "x"}', '{"action": 1, "reason": "ok"}'])
    client = LLMClient(backend, repair_attempts=1)
    calls, events = collect(client)
    out = await client.complete([{"role": "user", "content": "pick"}], schema=Choice, agent_id="u1")
    assert out.ok and out.parsed.action == 1
    assert [c["parsed_ok"] for c in calls] == [0, 1]
    assert "action" in backend.seen[1].messages[-1]["content"]  # the re-ask says what was wrong
    assert not events


async def test_answer_that_stays_invalid_records_parse_failure_and_returns_not_ok():
    client = LLMClient(Canned(["no idea", "still no idea"]), repair_attempts=1)
    calls, events = collect(client)
    out = await client.complete([{"role": "user", "content": "pick"}], schema=Choice, purpose="decide", agent_id="u7")
    assert not out.ok and out.parsed is None
    assert events == [("parse_failure", "u7", {"purpose": "decide", "error": "no JSON object found", "answer": "still no idea"})]
    assert client.stats.parse_failures == 1 and len(calls) == 2


async def test_identical_requests_by_one_agent_get_distinct_cache_slots():
    client = LLMClient(ScriptedBackend(seed=1))
    calls, _ = collect(client)
    msgs = [{"role": "user", "content": "same"}]
    await client.complete(msgs, agent_id="a")
    await client.complete(msgs, agent_id="a")
    await client.complete(msgs, agent_id="b")
    assert len({c["request_hash"] for c in calls}) == 3


@given(st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5)), max_size=4),
       st.text(max_size=30), st.text(max_size=30))
def test_extract_json_finds_an_object_inside_any_prose(obj, before, after):
    text = before.replace("{", "(") + json.dumps(obj) + after.replace("{", "(")
    assert extract_json(text) == obj


@given(st.integers(0, 2**32 - 1))
def test_scripted_instances_always_validate(seed):
    import numpy as np

    value = instance_from_schema(Choice.model_json_schema(), np.random.default_rng(seed))
    Choice.model_validate(value)


async def test_another_run_seed_is_another_sample_not_a_cache_hit():
    calls = []
    store = {}

    def record(row):
        calls.append(row)
        store[row["request_hash"]] = {"text": json.loads(row["response_json"])["text"], "tokens_in": 1, "tokens_out": 1}

    ask = [{"role": "user", "content": "say something"}]
    for seed in (1, 1, 2):
        client = LLMClient(ScriptedBackend(seed=seed), seed=seed, hooks=ClientHooks(lookup=store.get, record_call=record))
        await client.complete(ask, agent_id="a")
    assert [c["cached"] for c in calls] == [0, 1, 0]  # seed 1 again: from the cache; seed 2: a fresh call
    assert calls[0]["request_hash"] != calls[2]["request_hash"]
