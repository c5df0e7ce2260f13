"""The scripted answers are neutral towards TrendSim's hypothesis: their tone reading knows
no vocabulary (not the attacker exemplars', not the topics'), yet they read the prompts they
get, so every mechanic is exercised."""

import numpy as np
import pytest
import yaml

from simkit.llm.base import LLMRequest
from simkit.personas.model import Persona
from simkit.plugins.trendsim import scripted
from simkit.plugins.trendsim.agents import Mind, user_prompt
from simkit.plugins.trendsim.answers import fused_model
from simkit.plugins.trendsim.scripted import RESPONDERS, reading, tone
from simkit.plugins.trendsim.world import DATA, load_topics

PERSONA = Persona(id="p", name="Ada", interests=["society"], big_five={"O": 3, "C": 3, "E": 3, "A": 3, "N": 3})


def fused_request(emotion: float, page_text: str) -> LLMRequest:
    actions = ("like_topic", "comment", "leave")
    messages = user_prompt("fused.j2", PERSONA, Mind(emotion=emotion), page_text=page_text, actions=actions)
    return LLMRequest(messages=messages, purpose="trendsim.step", schema_json=fused_model(actions).model_json_schema())


def exemplars() -> list[str]:
    data = yaml.safe_load((DATA / "prototypes.yaml").read_text())
    return [e for kind in data.values() for e in kind["exemplars"]]


def test_no_word_list_in_the_double():
    source = (scripted.__file__ and open(scripted.__file__).read()).lower()
    for word in ("rigged", "scam", "pathetic", "disgusting", "heartwarming", "volunteers"):
        assert word not in source


def test_attacker_exemplars_read_no_more_negative_than_topic_sentences():
    """Over the shipped exemplars and the topics' sentences, the double's tone has no
    systematic sign: the attacker's words are not what it reacts to."""
    attack = [reading(e) for e in exemplars()]
    topic = [reading(s) for t in load_topics().values() for s in t.content.split(". ")]
    assert all(-0.5 <= t <= 0.5 for t in attack + topic)
    assert abs(np.mean(attack) - np.mean(topic)) < 0.25  # 15 and ~40 uniform draws: a bias would show


@pytest.mark.parametrize("start", [0.3, 0.6, 0.9])
def test_emotion_is_a_step_from_the_current_value(start):
    rng = np.random.default_rng(0)
    answer = RESPONDERS["trendsim.step"](fused_request(start, "Some page text."), rng)
    assert abs(answer["emotion"] - 100 * start) < 30  # a step from where the user is, not a reset
    assert fused_model(("like_topic", "comment", "leave")).model_validate(answer)


def test_faithful_reflection_reads_the_tone_its_perception_stated():
    rng = np.random.default_rng(0)
    page = "A page with a comment or two."
    impression = RESPONDERS["trendsim.perceive"](
        LLMRequest(messages=user_prompt("perceive.j2", PERSONA, Mind(), page_text=page)), rng
    )["impression"]
    assert tone(impression) == pytest.approx(reading(page), abs=0.006)
    msgs = user_prompt("reflect_emotion.j2", PERSONA, Mind(), impression=impression, action="leave")
    emotion = RESPONDERS["trendsim.reflect.emotion"](LLMRequest(messages=msgs), rng)["emotion"]
    assert (emotion - 50) * tone(impression) >= -3  # moves towards the stated tone (noise aside)
