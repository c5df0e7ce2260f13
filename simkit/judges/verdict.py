"""What a panel returns: `Vote` (one judge's scored statement), `Verdict` (one item, or one
presentation order of a pair) and `PairVerdict` (A vs B over both orders).

A score is None when no judge gave a valid one: a judge whose answer never parsed is
excluded, not counted as any number, and `notes` say so.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Source = Literal["independent", "final", "arbiter"]
Preference = Literal["A", "B", "tie"]


class Vote(BaseModel):
    judge_id: str
    phase: Literal["independent", "final"]
    scores: dict[str, int | None]
    text: str
    evidence: list[str]
    ok: bool
    error: str | None = None


class Verdict(BaseModel):
    item_id: str
    scores: dict[str, float | None]
    overall: float | None  # mean of the metric scores (absolute mode; None if one is missing)
    method: Literal["mean", "median", "arbitrated"]
    disputed: list[str]  # disputed after the independent round
    debated: list[str]  # disputed, or every key with full_debate
    arbitrated: list[str]  # replaced by the arbiter
    source: dict[str, Source | None]  # which phase each score comes from
    excluded: dict[str, str]  # judge id -> the phase whose answer never parsed
    calls: dict[str, int]  # LLM calls made, by phase (re-asks included)
    notes: list[str]
    votes: list[Vote]


class PairVerdict(BaseModel):
    item_id: str
    a: str
    b: str
    orders: dict[str, Verdict]  # "AB" (A shown first) and, with pairwise_swap, "BA"
    scores: dict[str, dict[str, float | None]]  # "A"/"B" -> metric -> mean over both orders
    overall: dict[str, float | None]
    preference: Preference | None
    per_metric: dict[str, Preference | None]
    calls: dict[str, int]
