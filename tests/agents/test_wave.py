"""`run_wave`: many agents through one cognition graph, in side-by-side invocations."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from typing import TypedDict

import pytest

from langgraph.graph import END

from simkit.agents.wave import PER_INVOCATION, SIDE_BY_SIDE, Machine, run_wave


class Walker(TypedDict, total=False):
    name: str
    steps: int
    done: int
    seen: list


ACTIVE: contextvars.ContextVar[str | None] = contextvars.ContextVar("active", default=None)


def entering(name: str):
    """An agent's `enter`: like the engine's slot, a context variable set around each node."""

    @contextlib.contextmanager
    def enter():
        token = ACTIVE.set(name)
        try:
            yield
        finally:
            ACTIVE.reset(token)

    return enter


async def step(state: Walker) -> dict:
    await asyncio.sleep(0)  # let the other agents' nodes interleave
    return {"done": state.get("done", 0) + 1, "seen": [*state.get("seen", []), ACTIVE.get()]}


def until(node: str):
    async def route(state: Walker) -> str:
        return END if state["done"] >= state["steps"] else node

    return route


WALK = Machine("walk", Walker, "step", (("step", step),), (("step", until("step")),))


@pytest.mark.parametrize("n", [1, 3, PER_INVOCATION * 2 + 1, PER_INVOCATION * SIDE_BY_SIDE * 2 + 3])
def test_every_agent_walks_its_own_path_in_its_own_slot_and_comes_back_in_input_order(n):
    turns = [(WALK, {"name": f"a{i}", "steps": 1 + i % 4}, entering(f"a{i}")) for i in range(n)]
    final = asyncio.run(run_wave(turns))
    assert [s["name"] for s in final] == [f"a{i}" for i in range(n)]
    assert [s["done"] for s in final] == [1 + i % 4 for i in range(n)]
    assert all(s["seen"] == [s["name"]] * s["done"] for s in final)


def test_an_agent_goes_on_while_an_agent_of_another_share_still_waits():
    """Agent 1 (the second share) waits for something agent 0 does on its second page: in a
    single invocation agent 0's second node would wait for agent 1's first (a superstep).
    The wave is large enough for two invocations; the other agents take one page each."""

    async def scene() -> list[dict]:
        gate = asyncio.Event()

        async def node(state: Walker) -> dict:
            if state["name"] == "a1":
                await gate.wait()
            elif state.get("done", 0) == 1:
                gate.set()
            return {"done": state.get("done", 0) + 1}

        machine = Machine("gate", Walker, "node", (("node", node),), (("node", until("node")),))
        n = 2 * PER_INVOCATION
        turns = [(machine, {"name": f"a{i}", "steps": 2 if i == 0 else 1}, entering(f"a{i}")) for i in range(n)]
        return await asyncio.wait_for(run_wave(turns), timeout=5)

    final = asyncio.run(scene())
    assert [s["done"] for s in final] == [2] + [1] * (2 * PER_INVOCATION - 1)
