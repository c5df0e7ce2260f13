"""The turns of one tick: a queue in the plugin's order that the plugin may change while
the tick runs (add a reaction, cancel the turn a reaction used up)."""

from __future__ import annotations

from collections import deque

from simkit.plugins.base import Activation


class TurnQueue:
    def __init__(self, activations: list[Activation] | None = None):
        self._queue: deque[Activation] = deque(activations or ())

    def add(self, activation: Activation, *, first: bool = False) -> None:
        """Queue one more turn: last, or (`first=True`) next."""
        if first:
            self._queue.appendleft(activation)
        else:
            self._queue.append(activation)

    def cancel(self, agent_id: str) -> int:
        """Drop the pending turns of `agent_id`; returns how many were dropped."""
        kept = [a for a in self._queue if a.agent_id != agent_id]
        dropped = len(self._queue) - len(kept)
        self._queue = deque(kept)
        return dropped

    def pending(self) -> list[Activation]:
        return list(self._queue)

    def pop(self) -> Activation | None:
        return self._queue.popleft() if self._queue else None

    def drain(self) -> list[Activation]:
        """Every pending turn at once (a synchronous wave)."""
        out = list(self._queue)
        self._queue.clear()
        return out

    def __len__(self) -> int:
        return len(self._queue)
