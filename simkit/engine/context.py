"""`RunContext`: what a plugin may touch (`simkit.plugins.base.PluginContext`). Randomness,
time, scheduling, the LLM of each role, the turns of the running tick, and the recorders
that fill the tick's transaction (`simkit.engine.recorder`)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Awaitable

import numpy as np

from simkit.config import LLMConfig
from simkit.engine.clock import Clock
from simkit.engine.recorder import Recorder, current_agent
from simkit.engine.scheduler import ScheduledEvent, Scheduler
from simkit.engine.turns import TurnQueue
from simkit.llm.base import Backend
from simkit.llm.client import CacheLookup, ClientHooks, LLMClient
from simkit.llm.factory import RoleClients
from simkit.plugins.base import TickInfo


def stable_int(text: str) -> int:
    """A process-independent 32-bit hash (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "little")


class RunContext:
    def __init__(
        self,
        run_id: str,
        seed: int,
        clock: Clock,
        llms: RoleClients,
        scheduler: Scheduler,
        recorder: Recorder,
        *,
        mode: str = "synchronous",
    ):
        self.run_id = run_id
        self.seed = seed
        self.clock = clock
        self.scheduler = scheduler
        self.mode = mode
        self.llms = llms
        self.recorder = recorder
        self.tick: TickInfo | None = None
        self.turns = TurnQueue()

    @property
    def buffer(self):
        return self.recorder.buffer

    # -- the LLM of each role --------------------------------------------------------------
    @property
    def llm(self) -> LLMClient:
        """The default role's client."""
        return self.llms.default

    def llm_for(self, role: str) -> LLMClient:
        """The client of `role` (`llm.roles.<role>` in the scenario), else the default one."""
        return self.llms.for_role(role)

    # -- randomness -----------------------------------------------------------------------
    def rng(self, purpose: str, tick: int | None = None, agent: str | None = None) -> np.random.Generator:
        """An independent stream for (seed, purpose, tick, agent); never global state."""
        key = (stable_int(purpose), 0 if tick is None else tick + 1, 0 if agent is None else stable_int(agent))
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=key)))

    # -- time -----------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        return self.tick.start if self.tick else self.clock.start

    def schedule(self, time: datetime, kind: str, agent_id: str | None = None, **payload: Any) -> ScheduledEvent | None:
        """Schedule a timed event; events after the clock's end are dropped (returns None)."""
        if time >= self.clock.end:
            return None
        return self.scheduler.schedule(time, kind, agent_id, **payload)

    # -- recorders (all land in the current tick's transaction) ---------------------------
    def emit(self, kind: str, payload: dict | None = None, *, agent_id: str | None = None, sim_time: datetime | None = None) -> None:
        """Append an event to the trajectory."""
        self.recorder.event(kind, payload, agent_id, sim_time)

    def expose(self, agent_id: str, items: list[Any] | dict, *, sim_time: datetime | None = None) -> None:
        """Record what an agent was shown."""
        self.recorder.exposure(agent_id, items, "shown", sim_time)

    def observe(self, agent_id: str, tool: str, arguments: dict, result: Any, *, sim_time: datetime | None = None) -> None:
        """Record what an agent got back from one tool call (an exposure with source `tool:NAME`)."""
        self.recorder.exposure(agent_id, {"tool": tool, "arguments": arguments, "result": result}, f"tool:{tool}", sim_time)

    def save_state(self, agent_id: str, state: dict) -> None:
        """Snapshot an agent's state as of the end of this tick (replay and drill-down read it)."""
        self.recorder.state(agent_id, state)

    def metric(self, name: str, value: float | None, labels: dict | None = None) -> None:
        """A number (None: unknown, e.g. every judge's answer failed to parse; stored as NULL)."""
        self.recorder.metric(name, value, labels)

    def judgement(self, record: dict) -> None:
        """One judge message: scores with the critique, evidence and labels they came with
        (keys: `simkit.engine.recorder.JUDGEMENT_KEYS`). `model` defaults to the model of the
        record's role, so every row names the model that wrote it."""
        if not record.get("model"):
            record = {**record, "model": self.llm_for(record.get("role") or "judge").model}
        self.recorder.judgement(record)

    def record(self, table: str, row: dict) -> None:
        """A row for a plugin table (named `<plugin>_<thing>`); `run_id` and `tick` are added."""
        self.recorder.plugin_row(table, row)

    async def gather(self, *aws: Awaitable[Any]) -> list[Any]:
        """Run coroutines concurrently; what each records keeps a deterministic order."""
        return await self.recorder.gather(*aws)

    # -- used by the engine ---------------------------------------------------------------
    def begin_tick(self, tick: TickInfo, *, keep_rows: bool = False) -> None:
        """Start a tick with an empty buffer; `keep_rows` keeps what `setup` recorded, which
        goes in with the run's first tick."""
        if not keep_rows:
            self.recorder.clear()
        self.tick = tick
        self.recorder.now = tick.start


def build_context(
    run_id: str,
    seed: int,
    clock: Clock,
    llm: LLMConfig,
    *,
    backend: Backend | None = None,
    lookup: CacheLookup | None = None,
    mode: str = "synchronous",
) -> RunContext:
    """A run context with its LLM clients wired to its recorder: calls and parse failures
    land in the tick's rows, answers are looked up with `lookup` (the run database)."""
    recorder = Recorder(clock.start)
    hooks = ClientHooks(
        lookup=lookup or (lambda _key: None),
        record_call=recorder.llm_call,
        record_event=lambda kind, agent, payload: recorder.event(kind, payload, agent, None),
        current_agent=current_agent,
        replaying=lambda: recorder.replaying,
    )
    llms = RoleClients(llm, seed, hooks=hooks, backend=backend)
    return RunContext(run_id, seed, clock, llms, Scheduler(), recorder, mode=mode)
