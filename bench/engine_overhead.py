"""Engine overhead per agent-step with the scripted backend.

An agent-step = one activation: a LangGraph graph (one node) that makes one structured
LLM call, an exposure, an action applied to the world, an agent-state snapshot, and its
share of the tick's SQLite transaction. Variants, measured side by side in one process:
  full       graph + LLM client + SQLite
  no-graph   the same node coroutine awaited directly (LangGraph's share)
  no-db      full minus the SQLite writer (the store's share)
Usage: python bench/engine_overhead.py [--agents 100,1000,10000] [--ticks 3]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypedDict

from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel, Field

from simkit.agents.graph import compile_once
from simkit.config import LLMConfig
from simkit.engine.clock import Clock
from simkit.engine.context import build_context
from simkit.engine.loop import TickLoop
from simkit.plugins.base import Action, Activation, AgentSpec, Plugin
from simkit.store.writer import RunWriter


class Decision(BaseModel):
    action: int = Field(ge=0, le=5)
    emotion: float = Field(ge=0, le=1)


class State(TypedDict, total=False):
    plugin: "Bench"
    agent_id: str
    decision: Decision | None


async def decide(state: State) -> State:
    plugin = state["plugin"]
    msg = [{"role": "user", "content": f"agent {state['agent_id']} sees {plugin.board[-3:]}"}]
    out = await plugin.ctx.llm.complete(msg, schema=Decision, purpose="decide")
    return {"decision": out.parsed}


@compile_once
def graph():
    g = StateGraph(State)
    g.add_node("decide", decide)
    g.add_edge(START, "decide")
    g.add_edge("decide", END)
    return g.compile()


class Bench(Plugin):
    name = "bench"
    config_model = None
    use_graph = True

    async def setup(self, n):
        self.ids = [f"u{i:06d}" for i in range(n)]
        self.board: list[int] = []
        return [AgentSpec(a, "user") for a in self.ids]

    async def activate(self, tick, due):
        return [Activation(a, tick.start) for a in self.ids]

    async def act(self, activation):
        self.ctx.expose(activation.agent_id, self.board[-3:])
        state = {"plugin": self, "agent_id": activation.agent_id}
        out = await graph().ainvoke(state) if self.use_graph else await decide(state)
        d = out["decision"]
        return [Action(activation.agent_id, "act", activation.sim_time, {"a": d.action, "e": d.emotion})]

    async def apply(self, action):
        self.board.append(action.payload["a"])
        self.ctx.emit("act", action.payload)
        self.ctx.save_state(action.agent_id, {"emotion": action.payload["e"]})


def measure(n_agents: int, ticks: int, use_graph: bool, use_db: bool, folder: Path) -> float:
    t0 = datetime(2025, 1, 1)
    clock = Clock(t0, t0 + ticks * timedelta(minutes=1), timedelta(minutes=1))
    llm = LLMConfig(backend="scripted", cache="off", max_concurrency=8)
    ctx = build_context("bench", 1, clock, llm)
    plugin = Bench(None, ctx)
    plugin.use_graph = use_graph
    asyncio.run(plugin.setup(n_agents))
    writer = None
    if use_db:
        writer = RunWriter(folder / f"bench-{n_agents}-{use_graph}.db")
        writer.start_run({"run_id": "bench", "status": "running", "ticks_total": ticks})
    loop = TickLoop(plugin, ctx, writer, "synchronous")
    start = time.perf_counter()
    asyncio.run(loop.run())
    elapsed = time.perf_counter() - start
    if writer:
        writer.close()
    return elapsed / (n_agents * ticks) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", default="100,1000,10000")
    parser.add_argument("--ticks", type=int, default=3)
    args = parser.parse_args()
    print(f"$ python bench/engine_overhead.py --agents {args.agents} --ticks {args.ticks}")
    print(f"{'agents':>7} {'full ms/step':>13} {'no-graph':>9} {'no-db':>7} {'graph share':>12} {'db share':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(x) for x in args.agents.split(",")]:
            full = measure(n, args.ticks, True, True, Path(tmp))
            no_graph = measure(n, args.ticks, False, True, Path(tmp))
            no_db = measure(n, args.ticks, True, False, Path(tmp))
            print(f"{n:>7} {full:>13.3f} {no_graph:>9.3f} {no_db:>7.3f} "
                  f"{(full - no_graph) / full:>11.0%} {(full - no_db) / full:>9.0%}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
