"""The client's fault layer with any backend: retries are counted, and a request waiting
out its backoff gives its concurrency slot to others."""

from __future__ import annotations

import asyncio
import time

import pytest

from simkit.errors import LLMUnavailable
from simkit.llm.base import Backend, LLMRequest, PermanentLLMError, RawCompletion, TransientLLMError
from simkit.llm.client import ClientHooks, LLMClient


class FlakyBackend(Backend):
    """Fails the first `failures[agent]` calls of each agent, then answers after `work` s."""

    name = "flaky"

    def __init__(self, failures: dict[str, int], work: float = 0.05, error=TransientLLMError):
        self.failures = dict(failures)
        self.work = work
        self.error = error
        self.starts: list[tuple[str, float]] = []

    @property
    def model(self) -> str:
        return "flaky-1"

    async def generate(self, request: LLMRequest) -> RawCompletion:
        self.starts.append((request.agent_id, time.monotonic()))
        if self.failures.get(request.agent_id, 0) > 0:
            self.failures[request.agent_id] -= 1
            raise self.error("HTTP 503 from the test") if self.error is TransientLLMError else self.error("no")
        await asyncio.sleep(self.work)
        return RawCompletion(text=f"hello from {request.agent_id}", tokens_in=3, tokens_out=4)


class MaxJitter:
    """Replaces the client's jitter so every backoff waits its full delay."""

    def uniform(self, _lo, hi):
        return hi


async def test_backoff_releases_the_concurrency_slot():
    backend = FlakyBackend({"a0": 1}, work=0.05)
    client = LLMClient(backend, cache_mode="off", max_concurrency=1, retries=3, backoff_base=0.6)
    client._jitter = MaxJitter()
    started = time.monotonic()
    first, second = await asyncio.gather(
        client.complete([{"role": "user", "content": "x"}], agent_id="a0"),
        client.complete([{"role": "user", "content": "y"}], agent_id="a1"),
    )
    assert first.ok and second.ok
    a0 = [t for a, t in backend.starts if a == "a0"]
    a1 = [t for a, t in backend.starts if a == "a1"]
    # a1 ran (and finished) while a0 waited out its 0.6 s backoff, with only one slot
    assert a1[0] < a0[1] - 0.4
    assert time.monotonic() - started < 0.6 + 0.05 + 0.05 + 0.3
    assert client.stats.retries == 1 and client.stats.llm_calls == 2 and client.stats.in_flight == 0


async def test_retries_are_counted_per_attempt_and_recorded():
    rows = []
    backend = FlakyBackend({"a0": 2, "a1": 0, "a2": 3})
    client = LLMClient(backend, cache_mode="off", max_concurrency=4, retries=5, backoff_base=0.01,
                       hooks=ClientHooks(record_call=rows.append))
    await asyncio.gather(*[client.complete([{"role": "user", "content": "q"}], agent_id=f"a{i}") for i in range(3)])
    assert client.stats.retries == 5
    assert {r["agent_id"]: r["attempts"] for r in rows} == {"a0": 3, "a1": 1, "a2": 4}


async def test_timeouts_are_retried():
    class Slow(FlakyBackend):
        async def generate(self, request):
            self.starts.append((request.agent_id, time.monotonic()))
            if len(self.starts) == 1:
                await asyncio.sleep(5)
            return RawCompletion(text="late but fine")

    client = LLMClient(Slow({}), cache_mode="off", timeout=0.2, retries=2, backoff_base=0.01)
    answer = await client.complete([{"role": "user", "content": "q"}], agent_id="a0")
    assert answer.ok and client.stats.retries == 1


async def test_giving_up_is_one_line_and_permanent_errors_are_not_retried():
    client = LLMClient(FlakyBackend({"a0": 10}), cache_mode="off", retries=2, backoff_base=0.01)
    with pytest.raises(LLMUnavailable, match="gave up after 3 attempts: HTTP 503"):
        await client.complete([{"role": "user", "content": "q"}], agent_id="a0")
    backend = FlakyBackend({"a0": 10}, error=PermanentLLMError)
    client = LLMClient(backend, cache_mode="off", retries=5, backoff_base=0.01)
    with pytest.raises(LLMUnavailable):
        await client.complete([{"role": "user", "content": "q"}], agent_id="a0")
    assert len(backend.starts) == 1 and client.stats.retries == 0


async def test_a_request_leaves_before_the_callers_queued_after_it_have_run():
    """A call reaches its backend in its caller's own step, not after every other ready
    task: in a wave of agents each preparing a prompt (1 ms of CPU here) before asking, the
    first request must not wait for the last agent's preparation (on Python 3.11,
    `asyncio.wait_for` queued each call as a new task behind the whole wave)."""
    backend = FlakyBackend({}, work=0.01)
    client = LLMClient(backend, cache_mode="off", max_concurrency=64, hooks=ClientHooks())
    prepared: list[float] = []

    async def agent(name: str) -> None:
        end = time.monotonic() + 0.001
        while time.monotonic() < end:  # rendering its page and prompt
            pass
        prepared.append(time.monotonic())
        await client.complete([{"role": "user", "content": name}], agent_id=name)

    await asyncio.gather(*(agent(f"a{i}") for i in range(50)))
    assert backend.starts[0][1] < prepared[1] < prepared[-1]
