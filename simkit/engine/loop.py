"""The tick loop.

Per tick: pop due events -> the plugin gives the tick's turns, in its order -> agents act
(one at a time in sequential mode, each applied before the next; concurrently against the
tick-start world in synchronous mode, applied in (sim time, agent id) order) -> turns the
plugin added meanwhile run next -> end-of-tick work -> one transaction.

Resume re-executes the committed ticks with every LLM answer taken from the database
(no calls, nothing written), which rebuilds the world exactly, then continues writing.
That makes "resumed == uninterrupted" hold by construction instead of by a snapshot format
every plugin must get right.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
from dataclasses import dataclass
from typing import Awaitable, Callable, Iterator

from simkit.engine.context import RunContext
from simkit.engine.recorder import in_slot, run_in_slot
from simkit.engine.turns import TurnQueue
from simkit.plugins.base import Action, Activation, Plugin, TickInfo, Turn
from simkit.store.writer import RunWriter


@dataclass
class LoopStatus:
    """What the progress display reads."""

    tick: int = 0
    ticks_total: int = 0
    ticks_done: int = 0
    active_agents: int = 0
    replaying: bool = False
    phase: str = "setup"  # setup -> ticks -> finish (the plugin's end-of-run work: judging) -> done
    calls_at_finish: int | None = None  # LLM calls (answered + cached) when finish() began
    ended_early: str | None = None  # why the plugin ended the run before the clock did


# Slots order a tick's rows: setup (first tick only), activate, the turns, end of tick.
SETUP_PHASE, PRE_PHASE, TURN_PHASE, POST_PHASE = -1, 0, 1, 3
FORK_PHASE = -0.5  # a branch's fork, after set-up rows and before activate

# Python's cyclic collector, tuned while ticks run: at its defaults (700, 10, 10) it took 29%
# of the engine's CPU in a 3,000-agent TrendSim run, rescanning the long-lived world, personas
# and compiled graphs; collecting the young generation every 50,000 allocations, 4%
# (bench/README.md, "garbage collector"). Freezing the set-up objects saved nothing more, and
# the full collection it needs first cost 80 ms per run of a serial sweep.
GC_THRESHOLDS = (50_000, 20, 100)
_tuned = {"depth": 0, "before": gc.get_threshold()}


@contextlib.contextmanager
def tuned_collector() -> Iterator[None]:
    """Collect less often while ticks run; the outermost of several concurrent runs restores
    the thresholds it found, so a notebook that runs simkit keeps its own settings."""
    if _tuned["depth"] == 0:
        _tuned["before"] = gc.get_threshold()
        gc.set_threshold(*GC_THRESHOLDS)
    _tuned["depth"] += 1
    try:
        yield
    finally:
        _tuned["depth"] -= 1
        if _tuned["depth"] == 0:
            gc.set_threshold(*_tuned["before"])


class TickLoop:
    def __init__(
        self,
        plugin: Plugin,
        ctx: RunContext,
        writer: RunWriter | None,
        mode: str,
        on_tick: Callable[[LoopStatus], None] | None = None,
        status: LoopStatus | None = None,
    ):
        self.plugin = plugin
        self.ctx = ctx
        self.writer = writer
        self.mode = mode
        self.on_tick = on_tick or (lambda _s: None)
        self.status = status or LoopStatus(ticks_total=ctx.clock.n_ticks)
        self.workers = max(64, 4 * ctx.llm.max_concurrency)
        # run at the start of a tick, before `activate` (a branch's fork: simkit.engine.branch)
        self.before_tick: Callable[[TickInfo], Awaitable[None]] | None = None
        # checked after each committed tick; True stops the run there (a budget: simkit.engine.budget)
        self.should_stop: Callable[[], bool] = lambda: False
        self.stopped = False

    async def run(self, start_tick: int = 0, replay_until: int = -1) -> int:
        """Run ticks from `start_tick`; ticks <= `replay_until` are re-executed without writing.
        Returns the number of the last tick executed."""
        with tuned_collector():
            return await self._run(start_tick, replay_until)

    async def _run(self, start_tick: int, replay_until: int) -> int:
        clock, recorder = self.ctx.clock, self.ctx.recorder
        last = start_tick - 1
        self.status.phase = "ticks"
        for index in range(start_tick, clock.n_ticks):
            replaying = index <= replay_until
            recorder.replaying = replaying
            self.status.replaying = replaying
            self.status.tick = index
            tick = TickInfo(index, clock.time_of(index), min(clock.end, clock.time_of(index + 1)))
            active = await self.run_tick(tick, first=index == start_tick)
            if not replaying and self.writer is not None:
                self.writer.commit_tick(
                    self.ctx.run_id, index, tick.start.isoformat(), active, recorder.buffer, self.ctx.llms.stats.totals()
                )
            self.status.ticks_done = index + 1
            self.status.active_agents = active
            self.on_tick(self.status)
            last = index
            if self.plugin.is_done():
                if index + 1 < clock.n_ticks:
                    self.status.ended_early = self.plugin.done_reason() or "the plugin ended the run"
                break
            if not replaying and index < clock.n_ticks - 1 and self.should_stop():
                self.stopped = True
                break
        recorder.replaying = False
        return last

    async def run_tick(self, tick: TickInfo, first: bool = False) -> int:
        """One tick; returns how many turns ran. The rows of the run's first tick include
        those `setup` recorded."""
        ctx, plugin = self.ctx, self.plugin
        ctx.begin_tick(tick, keep_rows=first)
        if self.before_tick is not None:
            await run_in_slot((FORK_PHASE,), None, self.before_tick(tick))
        due = ctx.scheduler.pop_due(tick.end)
        activations = await run_in_slot((PRE_PHASE,), None, plugin.activate(tick, due))
        ctx.turns = TurnQueue(activations or [])
        if self.mode == "sequential":
            turns = await self._sequential(tick)
        else:
            turns = await self._synchronous()
        await run_in_slot((POST_PHASE,), None, plugin.end_tick(tick))
        return turns

    async def _sequential(self, tick: TickInfo) -> int:
        """Turns one at a time in queue order; when the queue is empty the plugin may pick one more."""
        plugin, queue, n = self.plugin, self.ctx.turns, 0
        while True:
            activation = queue.pop()
            if activation is None:
                activation = await run_in_slot((TURN_PHASE, n), None, plugin.next_turn(tick))
                if activation is None:
                    return n
            slot = (TURN_PHASE, n)
            actions = await run_in_slot(slot, activation.agent_id, plugin.act(activation))
            for action in actions or []:
                with in_slot(slot, action.agent_id):
                    await plugin.apply(action)
            n += 1

    async def _synchronous(self) -> int:
        """Waves: every queued turn acts concurrently, then the actions apply in (sim time,
        agent id) order; turns queued while a wave ran form the next wave."""
        n, wave = 0, 0
        while batch := self.ctx.turns.drain():
            results = await self._act_all(batch, (TURN_PHASE, wave, 0))
            ordered: list[tuple[tuple, Action]] = []
            for i, actions in enumerate(results):
                for j, action in enumerate(actions or []):
                    ordered.append(((action.sim_time, action.agent_id, i, j), action))
            ordered.sort(key=lambda kv: kv[0])
            for k, (_key, action) in enumerate(ordered):
                # in this task, not a task per action: 10,000 agents apply ~900 actions a tick
                with in_slot((TURN_PHASE, wave, 1, k), action.agent_id):
                    await self.plugin.apply(action)
            n += len(batch)
            wave += 1
        return n

    async def _act_all(self, activations: list[Activation], slot: tuple) -> list:
        """Run every activation's `act` concurrently, through a bounded pool of workers.

        A task per agent costs scheduling time that grows with the number of agents; the
        LLM client admits only `max_concurrency` calls at once anyway, so a few workers per
        slot keep it saturated. A plugin with `act_wave` gets the whole wave instead."""
        turns = [Turn(a, functools.partial(in_slot, (*slot, i), a.agent_id)) for i, a in enumerate(activations)]
        batched = await self.plugin.act_wave(turns)
        if batched is not None:
            return batched
        results: list = [None] * len(activations)
        queue = iter(enumerate(activations))

        async def worker() -> None:
            for i, activation in queue:
                results[i] = await run_in_slot((*slot, i), activation.agent_id, self.plugin.act(activation))

        n_workers = min(len(activations), self.workers)
        await asyncio.gather(*(asyncio.create_task(worker()) for _ in range(n_workers)))
        return results


__all__ = ["LoopStatus", "TickLoop", "SETUP_PHASE"]
