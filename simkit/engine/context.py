"""`RunContext`: what a plugin may touch. Randomness, time, scheduling, the LLM, and the
recorders that fill the current tick's transaction.

Every recorded row is stamped with an ordering key taken from the running activation's
slot (a context variable set by the engine), so rows from agents that run concurrently are
written in a deterministic order.
"""

from __future__ import annotations

import contextvars
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from simkit.engine.clock import Clock
from simkit.engine.scheduler import ScheduledEvent, Scheduler
from simkit.llm.client import LLMClient
from simkit.store.writer import TickBuffer, dumps

_slot: contextvars.ContextVar[tuple] = contextvars.ContextVar("simkit_slot", default=(0,))
_agent: contextvars.ContextVar[str | None] = contextvars.ContextVar("simkit_agent", default=None)


def stable_int(text: str) -> int:
    """A process-independent 32-bit hash (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "little")


@dataclass(frozen=True)
class TickInfo:
    index: int
    start: datetime
    end: datetime


class RunContext:
    def __init__(self, run_id: str, seed: int, clock: Clock, llm: LLMClient, scheduler: Scheduler):
        self.run_id = run_id
        self.seed = seed
        self.clock = clock
        self.llm = llm
        self.scheduler = scheduler
        self.buffer = TickBuffer()
        self.tick: TickInfo | None = None
        self._counters: dict[tuple, int] = {}
        llm.context = lambda: {"agent_id": _agent.get()}
        llm.record_call = lambda row: self.buffer.llm_calls.append((self._key(), row))
        llm.record_event = lambda kind, agent, payload: self.emit(kind, payload, agent_id=agent)

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
    def _key(self) -> tuple:
        slot = _slot.get()
        n = self._counters.get(slot, 0)
        self._counters[slot] = n + 1
        return (*slot, n)

    def emit(self, kind: str, payload: dict | None = None, *, agent_id: str | None = None, sim_time: datetime | None = None) -> None:
        """Append an event to the trajectory."""
        agent_id = agent_id if agent_id is not None else _agent.get()
        row = {
            "sim_time": (sim_time or self.now).isoformat(),
            "agent_id": agent_id,
            "kind": kind,
            "payload_json": dumps(payload or {}),
        }
        self.buffer.events.append((self._key(), row))

    def expose(self, agent_id: str, items: list[Any] | dict, *, sim_time: datetime | None = None) -> None:
        """Record what an agent was shown."""
        row = {"sim_time": (sim_time or self.now).isoformat(), "agent_id": agent_id, "items_json": dumps(items)}
        self.buffer.exposures.append((self._key(), row))

    def save_state(self, agent_id: str, state: dict) -> None:
        """Snapshot an agent's state as of the end of this tick (replay and drill-down read it)."""
        self.buffer.states[agent_id] = state

    def metric(self, name: str, value: float, labels: dict | None = None) -> None:
        self.buffer.metrics.append({"name": name, "value": float(value), "labels_json": dumps(labels or {})})

    def record(self, table: str, row: dict) -> None:
        """A row for a plugin table (named `<plugin>_<thing>`); `run_id` and `tick` are added."""
        self.buffer.plugin_rows[table].append((self._key(), row))

    # -- used by the engine ---------------------------------------------------------------
    def begin_tick(self, tick: TickInfo) -> None:
        self.tick = tick
        self.buffer.clear()
        self._counters.clear()

    @staticmethod
    def in_slot(slot: tuple, agent_id: str | None = None) -> contextvars.Context:
        """A context in which recorded rows sort under `slot` and LLM calls name `agent_id`."""
        ctx = contextvars.copy_context()
        ctx.run(_slot.set, slot)
        ctx.run(_agent.set, agent_id)
        return ctx
