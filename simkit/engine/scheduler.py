"""Timed events: a heap ordered by sim time, then insertion order (so ties are stable)."""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(order=True)
class ScheduledEvent:
    time: datetime
    order: int
    kind: str = field(compare=False)
    agent_id: str | None = field(compare=False, default=None)
    payload: dict[str, Any] = field(compare=False, default_factory=dict)


class Scheduler:
    def __init__(self) -> None:
        self._heap: list[ScheduledEvent] = []
        self._counter = itertools.count()

    def schedule(self, time: datetime, kind: str, agent_id: str | None = None, **payload: Any) -> ScheduledEvent:
        event = ScheduledEvent(time, next(self._counter), kind, agent_id, payload)
        heapq.heappush(self._heap, event)
        return event

    def pop_due(self, before: datetime) -> list[ScheduledEvent]:
        """All events with time < `before`, in (time, insertion) order."""
        due = []
        while self._heap and self._heap[0].time < before:
            due.append(heapq.heappop(self._heap))
        return due

    def __len__(self) -> int:
        return len(self._heap)
