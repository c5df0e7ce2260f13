"""The simulated clock: tick index <-> sim time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Clock:
    start: datetime
    end: datetime
    tick_length: timedelta

    @property
    def n_ticks(self) -> int:
        return int(-(-(self.end - self.start) // self.tick_length))

    def time_of(self, tick: int) -> datetime:
        return self.start + tick * self.tick_length
