"""A cognition graph run for a whole wave of agents in a few LangGraph invocations.

`Machine` describes a small cognition graph as nodes and routes. `machine.graph()` compiles
it the usual way, one `ainvoke` per agent. `run_wave` runs many agents' states through one
compiled graph instead: a `Send` per agent fans the wave out, and each node hands its agent
to the next node with `Command(goto=Send(...))`, so every agent still walks the same nodes
in the same order, but LangGraph's per-invocation machinery is shared by many agents. On these
machines that is ~0.33 ms per agent-node against ~1 ms per node for an `ainvoke` per agent
(bench/README.md, "10,000 agents").

LangGraph runs a graph in supersteps: an agent's next node starts when every node of the
current superstep has finished, so while the last answers of a superstep are awaited the
process has nothing to do. A large wave therefore runs as up to `SIDE_BY_SIDE` invocations
at once, each with every n-th agent: while one waits at its barrier the others prepare
their pages. Each invocation has its own cost per superstep, so a wave gets one invocation
per `PER_INVOCATION` agents at most (TrendSim at 10,000 agents: 8 invocations cut the wall
time by ~6%, 16 or 32 did not; at 1,000 agents, 8 added 20% CPU for nothing:
bench/README.md, "10,000 agents"). With very uneven latencies an agent may still wait for
the slowest call of its superstep.

Each agent's nodes run inside the context its turn gives (`Turn.enter()`, the engine's slot
for that turn): the rows it records and the LLM calls it makes are ordered and attributed
exactly as when it runs as its own task, so the trajectory does not depend on which way the
wave ran.
"""

from __future__ import annotations

import asyncio
import functools
import operator
from dataclasses import dataclass, field
from typing import Any, Annotated, Awaitable, Callable, ContextManager, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, Send

Node = Callable[[dict], Awaitable[dict]]
Route = Callable[[dict], Awaitable[str]]


@dataclass(frozen=True)
class Machine:
    """A cognition graph: `entry` node, async `nodes`, and after each node either the name
    of the next node (or END) or an async router returning it."""

    name: str
    state: type
    entry: str
    nodes: tuple[tuple[str, Node], ...]
    routes: tuple[tuple[str, "str | Route"], ...] = field(default=())

    def route(self, node: str) -> "str | Route":
        return dict(self.routes).get(node, END)

    @functools.cache
    def graph(self) -> Any:
        """The graph compiled for one agent per invocation."""
        g = StateGraph(self.state)
        names = [n for n, _ in self.nodes]
        for name, fn in self.nodes:
            g.add_node(name, fn)
        g.add_edge(START, self.entry)
        for name in names:
            nxt = self.route(name)
            if isinstance(nxt, str):
                g.add_edge(name, nxt)
            else:
                g.add_conditional_edges(name, nxt, [*names, END])
        return g.compile()


class _Wave(TypedDict, total=False):
    inputs: list  # (machine, state) per agent
    done: Annotated[list, operator.add]  # (index, final state) per agent


_ENTER, _INDEX = "__wave_enter", "__wave_index"


def _wave_node(machine: Machine, name: str, fn: Node) -> Callable[[dict], Awaitable[Any]]:
    route = machine.route(name)

    async def node(state: dict) -> Any:
        with state[_ENTER]():
            update = await fn(state)
            state = {**state, **(update or {})}
            nxt = route if isinstance(route, str) else await route(state)
        if nxt == END:
            return {"done": [(state[_INDEX], state)]}
        return Command(goto=Send(f"{machine.name}.{nxt}", state))

    node.__name__ = f"{machine.name}.{name}"
    return node


@functools.cache
def _wave_graph(machines: tuple[Machine, ...]) -> Any:
    g = StateGraph(_Wave)
    targets = []
    for m in machines:
        names = [f"{m.name}.{n}" for n, _ in m.nodes]
        targets += names
        for name, fn in m.nodes:
            g.add_node(f"{m.name}.{name}", _wave_node(m, name, fn), destinations=tuple(names))

    def fan_out(state: dict) -> list[Send]:
        return [Send(f"{m.name}.{m.entry}", s) for m, s in state["inputs"]]

    g.add_conditional_edges(START, fan_out, targets)
    return g.compile()


SIDE_BY_SIDE = 8  # invocations at once, at most
PER_INVOCATION = 32  # agents per invocation, at least (each invocation has its own per-superstep cost)


async def run_wave(turns: list[tuple[Machine, dict, Callable[[], ContextManager]]]) -> list[dict]:
    """Run each (machine, input state, enter) to its machine's END, every node inside
    `with enter():`, in up to `SIDE_BY_SIDE` concurrent invocations of at least
    `PER_INVOCATION` agents; returns the final states in input order."""
    if not turns:
        return []
    machines = tuple(sorted({m for m, _, _ in turns}, key=lambda m: m.name))
    graph = _wave_graph(machines)
    inputs = [(m, {**s, _ENTER: enter, _INDEX: i}) for i, (m, s, enter) in enumerate(turns)]
    n = max(1, min(SIDE_BY_SIDE, len(inputs) // PER_INVOCATION))
    shares = [inputs[k::n] for k in range(n)]
    outs = await asyncio.gather(
        *(graph.ainvoke({"inputs": share, "done": []}, {"recursion_limit": 10_000}) for share in shares)
    )
    final: list[dict] = [{}] * len(turns)
    for out in outs:
        for i, state in out["done"]:
            final[i] = state
    return final


__all__ = ["Machine", "PER_INVOCATION", "SIDE_BY_SIDE", "run_wave"]
