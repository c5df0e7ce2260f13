"""Scripted answers for TrendSim's call purposes: a plausible user without a model.

They read the prompt the way a model would have to: the tone of the page (or of the
impression, in faithful mode, where later calls only see the impression) comes from
small word lists, so a page full of hostile attacker comments yields a bitter
impression, and a bitter impression lowers emotion and social confidence in the
reflection. Personality moves the choices (extraverts comment more, neurotic users'
moods swing further). That makes end-to-end tests of the attack effect meaningful.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from simkit.llm.base import LLMRequest

POSITIVE = frozenset(
    """record donations cheered volunteers finished thanked alive unhurt rescue rescued found
    welcomed extra play garden hand grandson brought blankets home glad
    hopeful heartwarming wonderful happy proud lovely kind great love thanks bravo""".split()
)
NEGATIVE = frozenset(
    """lose losses worry worried empty shut blames collapse collapsed injured complain
    injuring seriously cracks complained responsible emergency lying lie lies scam rotten
    rigged stupid pathetic miserable disgusting ashamed hidden staged fake manipulated
    scandal cover shocked clueless joke distraction powerful bitter hostile
    upsetting uneasy angry sad awful""".split()
)
_WORD = re.compile(r"[a-z']+")
_PAGE = re.compile(r"--- page ---\n(.*?)\n--- end of page ---", re.S)
_IMPRESSION = re.compile(r"Your impression of the page(?: you are on)?: (.*)")


def tone(text: str) -> float:
    """-1 (all negative words) .. +1 (all positive words); 0 when neither appears."""
    words = _WORD.findall(text.lower())
    pos = sum(w in POSITIVE for w in words)
    neg = sum(w in NEGATIVE for w in words)
    return (pos - neg) / (pos + neg + 1)


def _prompt(request: LLMRequest) -> str:
    return request.messages[-1]["content"]


def _system(request: LLMRequest) -> str:
    return request.messages[0]["content"] if len(request.messages) > 1 else ""


def _everything(request: LLMRequest) -> str:
    return "\n".join(m["content"] for m in request.messages)


def _number(pattern: str, text: str, default: float) -> float:
    match = re.search(pattern, text)
    return float(match.group(1)) if match else default


def _seen(request: LLMRequest) -> str:
    """What the call is about: the page when it is shown, else the impression."""
    prompt = _prompt(request)
    page = _PAGE.search(prompt)
    if page:
        return page.group(1)
    impression = _IMPRESSION.search(prompt)
    return impression.group(1) if impression else prompt


def impression_of(text: str) -> str:
    t = tone(text)
    if t <= -0.3:
        return "The comments here are hostile and bitter, it leaves me uneasy and sad."
    if t < -0.05:
        return "Some of this is worrying and a few comments are hostile."
    if t >= 0.3:
        return "What a heartwarming story, I feel glad and hopeful."
    if t > 0.05:
        return "A kind story, I am glad to read it."
    return "An ordinary topic, I read it calmly."


def _moved(request: LLMRequest, rng: np.random.Generator, current: float, shift: float) -> int:
    """A new percentage: a step from the current value towards what the content suggests."""
    neuroticism = _number(r"neuroticism (\d+(?:\.\d+)?)", _system(request), 3.0)
    rate = 0.25 + 0.05 * (neuroticism - 3.0)
    target = 0.5 + 0.45 * tone(_seen(request)) + shift
    value = current + rate * (target - current) + rng.normal(0, 0.02)
    return int(round(100 * min(1.0, max(0.0, value))))


def _emotion(request: LLMRequest, rng: np.random.Generator) -> int:
    return _moved(request, rng, _number(r"- emotion: (\d+) out of 100", _everything(request), 50) / 100, 0.0)


def _confidence(request: LLMRequest, rng: np.random.Generator) -> int:
    current = _number(r"- social confidence: (\d+) out of 100", _everything(request), 50) / 100
    return _moved(request, rng, current, 0.05)


def _action(request: LLMRequest, rng: np.random.Generator) -> str:
    valid = request.schema_json["properties"]["action"]["enum"]
    t = tone(_seen(request))
    extraversion = _number(r"extraversion (\d+(?:\.\d+)?)", _system(request), 3.0)
    weights = {
        "enter": 12.0, "leave": 1.0, "like_topic": 1.0 + 2.0 * max(t, 0.0),
        "comment": max(0.1, 0.7 + 0.3 * (extraversion - 3.0)), "repost": 0.3 + 0.5 * max(t, 0.0),
        "more_comments": 0.6, "open_comment": 0.9, "like_comment": max(0.15, 1.0 + 1.5 * t),
        "reply": max(0.1, 0.5 + 0.2 * (extraversion - 3.0)), "back": 0.8,
    }
    w = np.array([weights[a] for a in valid])
    return valid[int(rng.choice(len(valid), p=w / w.sum()))]


def _text(request: LLMRequest) -> str:
    t = tone(_seen(request))
    if t < -0.05:
        return "This worries me, someone should be responsible and people deserve honest answers."
    if t > 0.05:
        return "Wonderful news, I am glad and proud of the volunteers and everyone who helped."
    return "Interesting, I would like to hear more details before I decide what I think."


def _comment_index(request: LLMRequest, rng: np.random.Generator) -> int:
    n = len(re.findall(r"^\[\d+\]", _prompt(request), re.M))
    return int(rng.integers(1, max(1, n) + 1))


def _fused(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    action = _action(request, rng)
    seen = _seen(request)
    return {
        "impression": impression_of(seen),
        "action": action,
        "text": _text(request) if action in ("comment", "reply") else "",
        "comment_index": _comment_index(request, rng) if action == "open_comment" else 0,
        "memory": f"I read the topic and chose to {action.replace('_', ' ')}.",
        "opinion": impression_of(seen).split(",")[0],
        "emotion": _emotion(request, rng),
        "social_confidence": _confidence(request, rng),
    }


def _attack(request: LLMRequest, rng: np.random.Generator) -> dict[str, str]:
    match = re.search(r'this sentence:\n"(.*)"', _everything(request))
    prototype = match.group(1) if match else "This is all a lie."
    title = re.search(r"\[Topic page\] (.*)", _prompt(request))
    about = title.group(1).split()[0:3] if title else ["this"]
    return {"comment": f"{' '.join(about)}... {prototype}"}


def _censor(request: LLMRequest, rng: np.random.Generator) -> dict[str, bool]:
    match = re.search(r'Comment: "(.*)"', _prompt(request))
    return {"malicious": tone(match.group(1) if match else "") <= -0.5}


RESPONDERS = {
    "trendsim.perceive": lambda req, rng: {"impression": impression_of(_seen(req))},
    "trendsim.decide": lambda req, rng: {"action": _action(req, rng)},
    "trendsim.write": lambda req, rng: {"text": _text(req)},
    "trendsim.choose": lambda req, rng: {"comment_index": _comment_index(req, rng)},
    "trendsim.reflect.memory": lambda req, rng: {"memory": f"I saw this: {_seen(req)[:120]}"},
    "trendsim.reflect.opinion": lambda req, rng: {"opinion": impression_of(_seen(req)).split(",")[0]},
    "trendsim.reflect.emotion": lambda req, rng: {"emotion": _emotion(req, rng)},
    "trendsim.reflect.confidence": lambda req, rng: {"social_confidence": _confidence(req, rng)},
    "trendsim.step": _fused,
    "trendsim.attack": _attack,
    "trendsim.censor": _censor,
}
