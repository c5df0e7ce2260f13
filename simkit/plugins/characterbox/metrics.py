"""Aggregation of judge scores (CharacterBox §6.2): a scene's score is the mean over its
characters, a model's score the mean over scenes, "average" the mean of the seven metric
means. A missing score (the judge's answer never parsed) is left out, never counted as a
number; a mean over nothing is None.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

Scores = Mapping[str, float | None]


def mean(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def combine(rows: Sequence[Scores], metrics: Sequence[str]) -> dict[str, float | None]:
    """Per-metric mean over rows (characters of a scene, or scenes), plus "average"."""
    out = {m: mean(row.get(m) for row in rows) for m in metrics}
    out["average"] = mean(out[m] for m in metrics) if all(out[m] is not None for m in metrics) else None
    return out


def spread(rows: Sequence[Scores], metrics: Sequence[str]) -> dict[str, float | None]:
    """Per-metric sample standard deviation over rows (scenes), and of the rows' "average"
    (the paper's ± in Table 1); None with fewer than two values."""
    def sd(values: Iterable[float | None]) -> float | None:
        kept = [v for v in values if v is not None]
        if len(kept) < 2:
            return None
        m = sum(kept) / len(kept)
        return (sum((v - m) ** 2 for v in kept) / (len(kept) - 1)) ** 0.5

    out = {m: sd(row.get(m) for row in rows) for m in metrics}
    out["average"] = sd(row.get("average") for row in rows)
    return out


def by_kind(calls: Sequence[tuple[str, Scores]], metrics: Sequence[str]) -> dict[str, dict[str, float | None]]:
    """Gricean scores of narrator calls averaged per call type (influence, result, ...)."""
    kinds: dict[str, list[Scores]] = {}
    for kind, scores in calls:
        kinds.setdefault(kind, []).append(scores)
    return {kind: combine(rows, metrics) for kind, rows in kinds.items()}
