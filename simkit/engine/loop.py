"""The tick loop.

Per tick: pop due events -> plugin picks activations -> agents act (concurrently against
the tick-start world, or one by one in sequential mode) -> actions applied in (sim time,
agent id) order -> end-of-tick work -> one transaction.

Resume re-executes the committed ticks with every LLM answer taken from the database
(no calls, nothing written), which rebuilds the world exactly, then continues writing.
That makes "resumed == uninterrupted" hold by construction instead of by a snapshot format
every plugin must get right.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Callable

from simkit.engine.context import RunContext, TickInfo
from simkit.plugins.base import Action, Activation, Plugin
from simkit.store.writer import RunWriter


@dataclass
class LoopStatus:
    """What the progress display reads."""

    tick: int = 0
    ticks_total: int = 0
    ticks_done: int = 0
    active_agents: int = 0
    replaying: bool = False


ACT_PHASE, APPLY_PHASE, PRE_PHASE, POST_PHASE = 1, 2, 0, 3


class TickLoop:
    def __init__(
        self,
        plugin: Plugin,
        ctx: RunContext,
        writer: RunWriter | None,
        mode: str,
        on_tick: Callable[[LoopStatus], None] | None = None,
    ):
        self.plugin = plugin
        self.ctx = ctx
        self.writer = writer
        self.mode = mode
        self.on_tick = on_tick or (lambda _s: None)
        self.status = LoopStatus(ticks_total=ctx.clock.n_ticks)
        self.workers = max(64, 4 * ctx.llm.max_concurrency)

    async def run(self, start_tick: int = 0, replay_until: int = -1) -> int:
        """Run ticks from `start_tick`; ticks <= `replay_until` are re-executed without writing.
        Returns the number of the last tick executed."""
        clock = self.ctx.clock
        last = start_tick - 1
        for index in range(start_tick, clock.n_ticks):
            replaying = index <= replay_until
            self.ctx.llm.force_lookup = replaying
            self.status.replaying = replaying
            self.status.tick = index
            tick = TickInfo(index, clock.time_of(index), min(clock.end, clock.time_of(index + 1)))
            active = await self.run_tick(tick)
            if not replaying and self.writer is not None:
                stats = self.ctx.llm.stats
                self.writer.commit_tick(
                    self.ctx.run_id,
                    index,
                    tick.start.isoformat(),
                    active,
                    self.ctx.buffer,
                    {
                        "tokens_in": stats.tokens_in,
                        "tokens_out": stats.tokens_out,
                        "llm_calls": stats.calls,
                        "cache_hits": stats.cache_hits,
                        "retries": stats.retries,
                        "parse_failures": stats.parse_failures,
                    },
                )
            self.status.ticks_done = index + 1
            self.status.active_agents = active
            self.on_tick(self.status)
            last = index
            if self.plugin.is_done():
                break
        self.ctx.llm.force_lookup = False
        return last

    async def run_tick(self, tick: TickInfo) -> int:
        ctx, plugin = self.ctx, self.plugin
        ctx.begin_tick(tick)
        due = ctx.scheduler.pop_due(tick.end)
        activations = await _in_slot((PRE_PHASE,), None, plugin.activate(tick, due))
        activations = sorted(activations, key=lambda a: (a.sim_time, a.agent_id))
        if self.mode == "sequential":
            for i, activation in enumerate(activations):
                actions = await _in_slot((ACT_PHASE, i), activation.agent_id, plugin.act(activation))
                for action in actions or []:
                    await _in_slot((ACT_PHASE, i), action.agent_id, plugin.apply(action))
        else:
            results = await self._act_all(activations)
            ordered: list[tuple[tuple, Action]] = []
            for i, (activation, actions) in enumerate(zip(activations, results)):
                for j, action in enumerate(actions or []):
                    ordered.append(((action.sim_time, action.agent_id, i, j), action))
            ordered.sort(key=lambda kv: kv[0])
            for n, (_key, action) in enumerate(ordered):
                await _in_slot((APPLY_PHASE, n), action.agent_id, plugin.apply(action))
        await _in_slot((POST_PHASE,), None, plugin.end_tick(tick))
        return len(activations)

    async def _act_all(self, activations: list[Activation]) -> list:
        """Run every activation's `act` concurrently, through a bounded pool of workers.

        A task per agent costs scheduling time that grows with the number of agents; the
        LLM client admits only `max_concurrency` calls at once anyway, so a few workers per
        slot keep it saturated."""
        results: list = [None] * len(activations)
        queue = iter(enumerate(activations))

        async def worker() -> None:
            for i, activation in queue:
                results[i] = await _in_slot((ACT_PHASE, i), activation.agent_id, self.plugin.act(activation))

        n_workers = min(len(activations), self.workers)
        await asyncio.gather(*(asyncio.create_task(worker()) for _ in range(n_workers)))
        return results


def _in_slot(slot: tuple, agent_id: str | None, coro):
    """Run `coro` as a task whose recorded rows sort under `slot`."""
    return asyncio.create_task(coro, context=RunContext.in_slot(slot, agent_id))


__all__ = ["LoopStatus", "TickLoop"]
