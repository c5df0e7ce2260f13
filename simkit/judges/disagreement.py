"""The disagreement rule: which sheet keys the judges dispute after scoring independently.

PersonaArena debates and arbitrates only when judges disagree strongly; the threshold is
simkit's choice: a key is disputed when its range across judges (max - min) reaches
`per_metric_range` (1.0 on a 1-5 scale: any two judges a point apart). With `overall_std`,
judges whose mean scores spread that much dispute every key they do not all agree on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from simkit.judges.config import Disagreement
from simkit.judges.verdict import Vote


def spread(values: Iterable[float | None]) -> float:
    """max - min of the valid values; 0 when fewer than two judges gave one."""
    valid = [v for v in values if v is not None]
    return float(max(valid) - min(valid)) if len(valid) > 1 else 0.0


def disputed_keys(votes: Sequence[Vote], keys: Sequence[str], rule: Disagreement) -> list[str]:
    """Disputed keys, in sheet order, among valid votes."""
    spreads = {key: spread(v.scores.get(key) for v in votes) for key in keys}
    if rule.overall_std is not None and len(votes) > 1:
        means = [np.mean([v.scores[key] for key in keys]) for v in votes]
        if float(np.std(means)) >= rule.overall_std:
            return [key for key in keys if spreads[key] > 0]
    return [key for key in keys if spreads[key] >= rule.per_metric_range]
