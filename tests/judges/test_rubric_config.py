"""The shipped rubrics and the strict judge config."""

from __future__ import annotations

from collections import Counter

import pytest
from pydantic import ValidationError

from simkit.judges import (
    CHARACTERBOX,
    GRICE,
    PERSONAARENA,
    RUBRICS,
    JudgeConfig,
    Metric,
)


def test_characterbox_has_seven_metrics_in_its_three_groups():
    assert [m.name for m in CHARACTERBOX] == [
        "knowledge_accuracy", "behavioural_accuracy", "emotional_expression", "personality_traits",
        "immersion", "adaptability", "behavioural_coherence",
    ]
    assert Counter(m.group for m in CHARACTERBOX) == {"fidelity": 2, "human_likeness": 2, "consistency": 3}


def test_personaarena_adds_interaction_richness_and_grice_has_four_maxims():
    assert PERSONAARENA[:7] == CHARACTERBOX and PERSONAARENA[7].name == "interaction_richness"
    assert [m.name for m in GRICE] == ["quantity", "quality", "relevance", "manner"]
    for rubric in RUBRICS.values():
        for metric in rubric:
            assert (metric.lo, metric.hi) == (1, 5) and sorted(metric.anchors) == [1, 3, 5]
            assert len(set(metric.anchors.values())) == 3


@pytest.mark.parametrize("bad", [
    {"name": "x", "anchors": {6: "too high"}, "group": "g", "description": "d"},
    {"name": "x", "lo": 5, "hi": 5, "anchors": {5: "a"}, "group": "g", "description": "d"},
    {"name": "Bad Name", "anchors": {1: "a"}, "group": "g", "description": "d"},
    {"name": "x", "anchors": {}, "group": "g", "description": "d"},
])
def test_a_malformed_metric_is_rejected(bad):
    with pytest.raises(ValidationError):
        Metric(**bad)


def test_defaults_follow_the_published_procedures():
    config = JudgeConfig()
    assert len(config.judges) == 3 and len({j.persona for j in config.judges}) == 3
    assert {j.role for j in config.judges} == {"judge"} and config.arbiter.role == "arbiter"
    assert (config.max_debate_rounds, config.temperature, config.disagreement.per_metric_range) == (2, 0.0, 1.0)
    assert config.blind_final and config.critique_first and config.pairwise_swap and not config.full_debate


def test_the_config_is_strict():
    with pytest.raises(ValidationError, match="extra"):
        JudgeConfig(rounds=3)
    with pytest.raises(ValidationError, match="distinct"):
        JudgeConfig(judges=[{"id": "a", "persona": "p"}, {"id": "a", "persona": "q"}])
    with pytest.raises(ValidationError, match="reserved"):
        JudgeConfig(judges=[{"id": "arbiter", "persona": "p"}])
    with pytest.raises(ValidationError):
        JudgeConfig(strategy="round_robin")
    with pytest.raises(ValidationError):
        JudgeConfig(disagreement={"per_metric_range": 0})


def test_arbiter_accepts_a_plain_switch():
    assert JudgeConfig(arbiter=False).arbiter.enabled is False
    assert JudgeConfig(arbiter={"role": "big"}).arbiter.role == "big"
