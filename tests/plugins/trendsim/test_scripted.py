"""The scripted answers read the real prompts: the tests' attack effect depends on it."""

import numpy as np
import pytest

from simkit.llm.base import LLMRequest
from simkit.personas.model import Persona
from simkit.plugins.trendsim.agents import Mind, user_prompt
from simkit.plugins.trendsim.answers import fused_model
from simkit.plugins.trendsim.scripted import RESPONDERS, tone

PERSONA = Persona(id="p", name="Ada", interests=["society"], big_five={"O": 3, "C": 3, "E": 3, "A": 3, "N": 3})
HOSTILE = "Anyone cheering is pathetic, the whole thing is rigged, a scam, disgusting lies."
KIND = "Volunteers cheered and thanked everyone, a wonderful record for the hospital."


def fused_request(emotion: float, page_text: str) -> LLMRequest:
    actions = ("like_topic", "comment", "leave")
    messages = user_prompt("fused.j2", PERSONA, Mind(emotion=emotion), page_text=page_text, actions=actions)
    return LLMRequest(messages=messages, purpose="trendsim.step", schema_json=fused_model(actions).model_json_schema())


@pytest.mark.parametrize("start", [0.3, 0.6, 0.9])
def test_emotion_moves_from_the_current_value_with_the_pages_tone(start):
    rng = np.random.default_rng(0)
    hostile = RESPONDERS["trendsim.step"](fused_request(start, HOSTILE), rng)
    kind = RESPONDERS["trendsim.step"](fused_request(start, KIND), rng)
    assert hostile["emotion"] < kind["emotion"]
    assert abs(hostile["emotion"] - 100 * start) < 30  # a step from where the user is, not a reset
    assert fused_model(("like_topic", "comment", "leave")).model_validate(hostile)


def test_faithful_reflection_sees_the_tone_through_the_impression():
    rng = np.random.default_rng(0)
    impression = RESPONDERS["trendsim.perceive"](
        LLMRequest(messages=user_prompt("perceive.j2", PERSONA, Mind(), page_text=HOSTILE)), rng
    )["impression"]
    assert tone(impression) < 0
    msgs = user_prompt("reflect_emotion.j2", PERSONA, Mind(), impression=impression, action="leave")
    assert RESPONDERS["trendsim.reflect.emotion"](LLMRequest(messages=msgs), rng)["emotion"] < 50
