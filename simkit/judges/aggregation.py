"""Combining judges' scores: mean or median per key, the overall score, and the pairwise
sum over both presentation orders that cancels position bias (FairEval's balanced position
calibration, as ChatEval runs it)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import numpy as np

from simkit.judges.rubric import Metric
from simkit.judges.verdict import Preference

Aggregation = Literal["mean", "median"]


def aggregate(values: Iterable[float | None], how: Aggregation) -> float | None:
    """Mean or median of the valid values; None when there is none (never a made-up number)."""
    valid = [v for v in values if v is not None]
    if not valid:
        return None
    return float(np.mean(valid) if how == "mean" else np.median(valid))


def overall(scores: Mapping[str, float | None]) -> float | None:
    """Mean over metrics (CharacterBox's "Average"); None if any metric has no score."""
    values = list(scores.values())
    if not values or any(v is None for v in values):
        return None
    return float(np.mean(values))


def prefer(a: float | None, b: float | None) -> Preference | None:
    if a is None or b is None:
        return None
    if math.isclose(a, b, abs_tol=1e-9):
        return "tie"
    return "A" if a > b else "B"


def combine_orders(
    metrics: Sequence[Metric], orders: Mapping[str, Mapping[str, float | None]]
) -> dict[str, dict[str, float | None]]:
    """Per candidate and metric, the mean over presentation orders of the panel's score.

    In order "AB" candidate A is position 1 (`metric_1`); in "BA" it is position 2. A judge
    that favours whichever candidate comes first adds the same amount to both candidates
    once the two orders are summed; dividing by the number of orders keeps the metric's scale.
    """
    out: dict[str, dict[str, float | None]] = {"A": {}, "B": {}}
    for metric in metrics:
        for candidate in ("A", "B"):
            values = []
            for order, scores in orders.items():
                position = order.index(candidate) + 1
                values.append(scores[f"{metric.name}_{position}"])
            out[candidate][metric.name] = None if None in values else float(np.mean(values))
    return out
