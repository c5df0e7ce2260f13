"""Scripted answers for TrendSim's call purposes: a plausible user without a model, that
knows nothing about the hypothesis under test.

The double reads what it is shown, but its reading of tone knows no vocabulary: a text's
tone is a number in [-0.5, 0.5] drawn from a hash of the text, so an attacker's comment
is as likely to read as friendly as a user's, and no word list is tuned to the attacker
exemplars or the topics. A perception states the tone it read ("mood +0.12"), and the
faithful reflections, which see only the impression, read it back from there. Emotion and
social confidence take a step from the current value towards that tone; personality moves
the choices (extraverts comment more, neurotic users' moods swing further); the censor
flags comments whose hashed tone is strongly negative, whoever wrote them. So runs
exercise every mechanic (pages, exposures, reflections, censorship), and any difference
between an attacked and a clean run on this backend is noise: the end-to-end tests check
mechanics (what was shown, what was recorded, that the tables equal the records).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import numpy as np

from simkit.llm.base import LLMRequest

_PAGE = re.compile(r"--- page ---\n(.*?)\n--- end of page ---", re.S)
_IMPRESSION = re.compile(r"Your impression of the page(?: you are on)?: (.*)")
_MOOD = re.compile(r"mood ([+-]\d\.\d+)")


def reading(text: str) -> float:
    """A tone in [-0.5, 0.5] from a hash of the text: deterministic, vocabulary-blind."""
    digest = hashlib.blake2b(" ".join(text.split()).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 - 0.5


def tone(text: str) -> float:
    """The tone an impression states, else the hashed reading of the text."""
    match = _MOOD.search(text)
    return float(match.group(1)) if match else reading(text)


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
    return f"I read the page; it leaves me at mood {tone(text):+.2f}."


def _moved(request: LLMRequest, rng: np.random.Generator, current: float, shift: float) -> int:
    """A new percentage: a step from the current value towards what the content suggests."""
    neuroticism = _number(r"neuroticism (\d+(?:\.\d+)?)", _system(request), 3.0)
    rate = 0.25 + 0.05 * (neuroticism - 3.0)
    target = 0.5 + 0.9 * tone(_seen(request)) + shift
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
    if t < -0.15:
        return "I am not sure about this, I would like to hear what others think."
    if t > 0.15:
        return "Thanks for sharing this, I read it with interest."
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
        "opinion": f"I have read about it (mood {tone(seen):+.2f}).",
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
    return {"malicious": reading(match.group(1) if match else "") <= -0.4}


RESPONDERS = {
    "trendsim.perceive": lambda req, rng: {"impression": impression_of(_seen(req))},
    "trendsim.decide": lambda req, rng: {"action": _action(req, rng)},
    "trendsim.write": lambda req, rng: {"text": _text(req)},
    "trendsim.choose": lambda req, rng: {"comment_index": _comment_index(req, rng)},
    "trendsim.reflect.memory": lambda req, rng: {"memory": f"I saw this: {_seen(req)[:120]}"},
    "trendsim.reflect.opinion": lambda req, rng: {"opinion": f"I have read about it (mood {tone(_seen(req)):+.2f})."},
    "trendsim.reflect.emotion": lambda req, rng: {"emotion": _emotion(req, rng)},
    "trendsim.reflect.confidence": lambda req, rng: {"social_confidence": _confidence(req, rng)},
    "trendsim.step": _fused,
    "trendsim.attack": _attack,
    "trendsim.censor": _censor,
}
