"""`Recorder`: everything a tick records, buffered for its one transaction.

Every row is stamped with an ordering key taken from the running task's slot (a context
variable the engine sets per phase and turn), so rows from agents that run concurrently
are written in a deterministic order, never in completion order. `gather` gives each of
several concurrent coroutines a sub-slot of its own, so a plugin (or a judge panel) can run
work in parallel and still get the same database every time.
"""

from __future__ import annotations

import asyncio
import contextvars
from datetime import datetime
from typing import Any, Awaitable

from simkit.store.writer import TickBuffer, dumps

_slot: contextvars.ContextVar[tuple] = contextvars.ContextVar("simkit_slot", default=(0,))
_agent: contextvars.ContextVar[str | None] = contextvars.ContextVar("simkit_agent", default=None)


def current_agent() -> str | None:
    """The agent whose turn the running task belongs to (LLM calls are attributed to it)."""
    return _agent.get()


def slot_context(slot: tuple, agent_id: str | None = None) -> contextvars.Context:
    """A context in which recorded rows sort under `slot` and LLM calls name `agent_id`."""
    ctx = contextvars.copy_context()
    ctx.run(_slot.set, slot)
    ctx.run(_agent.set, agent_id)
    return ctx


def run_in_slot(slot: tuple, agent_id: str | None, coro) -> asyncio.Task:
    """Run `coro` as a task whose recorded rows sort under `slot`."""
    return asyncio.create_task(coro, context=slot_context(slot, agent_id))


class Recorder:
    """The rows of the running tick. `now` is the tick's start (the default sim time of a
    row); `replaying` is set while a resume re-executes committed ticks, whose rows are
    dropped and whose LLM answers must come from the database."""

    def __init__(self, now: datetime):
        self.buffer = TickBuffer()
        self.now = now
        self.replaying = False
        self._counters: dict[tuple, int] = {}

    def key(self) -> tuple:
        slot = _slot.get()
        n = self._counters.get(slot, 0)
        self._counters[slot] = n + 1
        return (*slot, n)

    def clear(self) -> None:
        self.buffer.clear()
        self._counters.clear()

    async def gather(self, *aws: Awaitable[Any]) -> list[Any]:
        """`asyncio.gather` whose children record under sub-slots reserved in call order."""
        agent = _agent.get()
        tasks = [run_in_slot(self.key(), agent, aw) for aw in aws]
        return list(await asyncio.gather(*tasks))

    # -- rows ------------------------------------------------------------------------------
    def _time(self, sim_time: datetime | None) -> str:
        return (sim_time or self.now).isoformat()

    def event(self, kind: str, payload: dict | None, agent_id: str | None, sim_time: datetime | None) -> None:
        agent_id = agent_id if agent_id is not None else _agent.get()
        row = {"sim_time": self._time(sim_time), "agent_id": agent_id, "kind": kind, "payload_json": dumps(payload or {})}
        self.buffer.events.append((self.key(), row))

    def exposure(self, agent_id: str, items: Any, source: str, sim_time: datetime | None) -> None:
        row = {"sim_time": self._time(sim_time), "agent_id": agent_id, "source": source, "items_json": dumps(items)}
        self.buffer.exposures.append((self.key(), row))

    def llm_call(self, row: dict) -> None:
        self.buffer.llm_calls.append((self.key(), row))

    def state(self, agent_id: str, state: dict) -> None:
        self.buffer.states[agent_id] = state

    def metric(self, name: str, value: float | None, labels: dict | None) -> None:
        number = None if value is None else float(value)
        self.buffer.metrics.append({"name": name, "value": number, "labels_json": dumps(labels or {})})

    def judgement(self, record: dict) -> None:
        self.buffer.judgements.append((self.key(), judgement_row(record)))

    def plugin_row(self, table: str, row: dict) -> None:
        self.buffer.plugin_rows[table].append((self.key(), row))


JUDGEMENT_KEYS = ("item_id", "judge_id", "role", "phase", "round", "metrics", "text", "scores", "evidence", "visible_to", "parsed_ok", "labels", "model")


def judgement_row(record: dict) -> dict:
    """A judge message as a `judgements` row: text and labels beside the numbers."""
    unknown = set(record) - set(JUDGEMENT_KEYS)
    if unknown:
        raise ValueError(f"judgement record: unknown keys {sorted(unknown)} (expected {', '.join(JUDGEMENT_KEYS)})")
    return {
        "item_id": str(record.get("item_id", "")),
        "judge_id": str(record.get("judge_id", "")),
        "role": record.get("role", "judge"),
        "phase": record.get("phase", ""),
        "round": int(record.get("round", 0)),
        "metrics_json": dumps(list(record.get("metrics") or [])),
        "text": record.get("text") or "",
        "scores_json": dumps(record.get("scores") or {}),
        "evidence_json": dumps(list(record.get("evidence") or [])),
        "visible_to_json": dumps(record.get("visible_to")),
        "parsed_ok": int(bool(record.get("parsed_ok", True))),
        "labels_json": dumps(record.get("labels") or {}),
        "model": record.get("model"),
    }
