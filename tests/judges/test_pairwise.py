"""Pairwise mode: both presentation orders, summed, cancel a judge's taste for a position."""

from __future__ import annotations

import pytest

from simkit.judges import (
    CHARACTERBOX,
    JudgeConfig,
    JudgeItem,
    JudgePanel,
    JudgeSpec,
    register_scripted,
)
from simkit.judges.scripted import sheet_keys
from tests.judges.conftest import Host, prompt

RUBRIC = CHARACTERBOX[:2]
JUDGES = [JudgeSpec(id="j1", persona="First."), JudgeSpec(id="j2", persona="Second.")]


def candidate(item_id: str, marker: str) -> JudgeItem:
    return JudgeItem(item_id=item_id, subject="Bob", context="A market.",
                     trajectory=[(1, "A seller shouts.", f"Bob haggles ({marker}).")])


A, B = candidate("model-a", "MARK-A"), candidate("model-b", "MARK-B")


def biased(quality: dict[str, int], bias: int):
    """True quality per candidate marker, plus `bias` for whichever is shown first."""

    def respond(request, rng):
        case = prompt(request).split("Criteria:", 1)[0]
        first, second = case.split("=== Candidate 2 ===")
        shown = {1: next(m for m in quality if m in first), 2: next(m for m in quality if m in second)}
        scores = {}
        for key, lo, hi in sheet_keys(request):
            position = int(key.rsplit("_", 1)[1])
            scores[key] = quality[shown[position]] + (bias if position == 1 else 0)
        return {"critique": "c", "scores": scores, "evidence": []}

    return respond


def panel(responder, **kw) -> tuple[Host, JudgePanel]:
    host = Host()
    register_scripted(host.backend)
    host.backend.register("judge.score", responder)
    return host, JudgePanel(host, JudgeConfig(mode="pairwise", judges=JUDGES, **kw), RUBRIC)


async def test_swapping_cancels_a_pure_position_bias():
    _, judges = panel(biased({"MARK-A": 3, "MARK-B": 3}, bias=2))
    verdict = await judges.compare(A, B)
    assert set(verdict.orders) == {"AB", "BA"}
    assert verdict.preference == "tie"
    assert verdict.scores["A"] == verdict.scores["B"] == {m.name: 4.0 for m in RUBRIC}  # (5 + 3) / 2

    _, unswapped = panel(biased({"MARK-A": 3, "MARK-B": 3}, bias=2), pairwise_swap=False)
    assert (await unswapped.compare(A, B)).preference == "A"  # the bias alone decides


async def test_the_better_candidate_wins_despite_a_bias_larger_than_the_gap():
    _, judges = panel(biased({"MARK-A": 1, "MARK-B": 2}, bias=2))
    verdict = await judges.compare(A, B)
    assert verdict.preference == "B"
    assert verdict.per_metric == {m.name: "B" for m in RUBRIC}
    assert verdict.overall == {"A": pytest.approx((3 + 1) / 2), "B": pytest.approx((2 + 4) / 2)}

    _, unswapped = panel(biased({"MARK-A": 1, "MARK-B": 2}, bias=2), pairwise_swap=False)
    assert (await unswapped.compare(A, B)).preference == "A"


async def test_pairwise_records_name_the_order_and_the_candidates():
    host, judges = panel(biased({"MARK-A": 2, "MARK-B": 4}, bias=0))
    verdict = await judges.compare(A, B)
    independent = [r for r in host.records if r["phase"] == "independent"]
    assert [r["labels"]["order"] for r in independent] == ["AB", "AB", "BA", "BA"]
    assert independent[0]["labels"]["candidates"] == {"1": "model-a", "2": "model-b"}
    assert independent[2]["labels"]["candidates"] == {"1": "model-b", "2": "model-a"}
    assert all(r["labels"]["preference"] == "B" for r in independent)
    assert all(r["item_id"] == "model-a vs model-b" for r in host.records)
    assert independent[0]["metrics"] == [f"{m.name}_{n}" for m in RUBRIC for n in (1, 2)]
    assert verdict.calls == {"independent": 4}
