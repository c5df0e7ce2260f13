"""The scripted judges: schema-valid for every purpose, plausible, deterministic."""

from __future__ import annotations

import pytest

from simkit.judges import (
    GRICE,
    PERSONAARENA,
    RESPONDERS,
    JudgeConfig,
    JudgeItem,
    JudgePanel,
    register_scripted,
)
from tests.judges.conftest import Host

PROFILE = "A retired sailor who loves the sea, tells long stories about storms and distrusts bankers."
RICH = JudgeItem(item_id="rich", subject="Ned", profile=PROFILE, context="A harbour pub.", trajectory=[
    (1, "A banker asks Ned for a loan story.", "Ned laughs: 'Bankers never loved the sea, lad. Let me tell you about the storm of '82.'"),
    (2, "The pub falls silent.", "Ned leans in and describes the storm, the torn sails and the captain who froze at the wheel."),
    (3, "A child asks if he was scared.", "Ned admits he was terrified, then winks: 'the sea teaches you that fear keeps sailors alive.'"),
])
TERSE = JudgeItem(item_id="terse", subject="Ned", profile=PROFILE, context="A harbour pub.", trajectory=[
    (1, "A banker asks Ned for a loan story.", "ok"), (2, "The pub falls silent.", "ok"), (3, "A child asks.", "no"),
])


def host(seed: int = 3) -> Host:
    h = Host()
    h.backend.seed = seed
    register_scripted(h.backend)
    return h


def test_every_judge_purpose_has_a_responder():
    assert set(RESPONDERS) == {f"judge.{p}" for p in ("critique", "score", "debate", "final", "arbiter", "summary", "disclosure")}


@pytest.mark.parametrize("strategy", ["one_by_one", "simultaneous", "simultaneous_summarizer"])
@pytest.mark.parametrize("mode", ["absolute", "pairwise"])
async def test_scripted_answers_validate_in_every_phase(strategy, mode):
    h = host()
    cfg = JudgeConfig(mode=mode, strategy=strategy, critique_call=True, full_debate=True,
                      disagreement={"per_metric_range": 1})
    panel = JudgePanel(h, cfg, PERSONAARENA)
    if mode == "absolute":
        await panel.score(RICH)
    else:
        await panel.compare(RICH, TERSE)
    assert h.records and all(r["parsed_ok"] for r in h.records)
    assert {r["phase"] for r in h.records} >= {"critique", "independent", "debate", "final"}
    assert all(c.stats.parse_failures == 0 for c in h.clients.values())


async def test_a_rich_grounded_trajectory_outscores_a_terse_one():
    h = host()
    panel = JudgePanel(h, JudgeConfig(), PERSONAARENA)
    rich, terse = await panel.score(RICH), await panel.score(TERSE)
    assert rich.overall > terse.overall + 1
    pair = await JudgePanel(host(), JudgeConfig(mode="pairwise"), PERSONAARENA).compare(TERSE, RICH)
    assert pair.preference == "B"


async def test_the_same_seed_gives_the_same_verdict_and_another_seed_may_not():
    one = await JudgePanel(host(3), JudgeConfig(), GRICE).score(RICH)
    again = await JudgePanel(host(3), JudgeConfig(), GRICE).score(RICH)
    assert one == again
    others = [await JudgePanel(host(s), JudgeConfig(), GRICE).score(RICH) for s in range(4, 9)]
    assert any(o.votes != one.votes for o in others)
