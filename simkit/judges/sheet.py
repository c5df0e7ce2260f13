"""The score sheet a judge fills in: one entry per metric, or per metric and candidate.

Absolute scoring and pairwise comparison then share one procedure (independent scores,
disagreement, debate, finals, arbiter) over sheet keys: `immersion` when one item is
scored, `immersion_1` and `immersion_2` for the first and second candidate shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simkit.judges.rubric import Metric


@dataclass(frozen=True)
class Entry:
    key: str
    metric: Metric
    position: int | None = None  # 1 or 2: the candidate as presented (pairwise only)


class Sheet:
    def __init__(self, metrics: Sequence[Metric], pairwise: bool = False):
        self.metrics = tuple(metrics)
        self.pairwise = pairwise
        if pairwise:
            entries = [Entry(f"{m.name}_{n}", m, n) for m in self.metrics for n in (1, 2)]
        else:
            entries = [Entry(m.name, m) for m in self.metrics]
        self.entries = tuple(entries)
        self._by_key = {entry.key: entry for entry in entries}

    @property
    def keys(self) -> list[str]:
        return [entry.key for entry in self.entries]

    def select(self, keys: Sequence[str]) -> tuple[Entry, ...]:
        """Entries for `keys`, in sheet order."""
        wanted = set(keys)
        return tuple(entry for entry in self.entries if entry.key in wanted)

    def metrics_of(self, keys: Sequence[str]) -> list[Metric]:
        """The metrics (once each, in rubric order) whose entries are among `keys`."""
        names = {self._by_key[key].metric.name for key in keys}
        return [m for m in self.metrics if m.name in names]
