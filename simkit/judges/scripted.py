"""Scripted judge answers for the scripted backend: plausible, deterministic, no model.

They read the prompts the judges really send. A scorer rates each candidate's trajectory by
how much its actions say, how much of the profile they echo and how varied they are, plus
a fixed leniency per judge (read from the call's agent id) and a little noise; the sheet's
keys and bounds come from the request's schema, so every answer validates. Finals and the
arbiter move to the mean / median of the positions the prompt lists, so debates converge;
the disclosure checker matches item words in the message, and a bare "yes" to a question
that names an item counts as confirming it.

`register_scripted(backend)` installs them all; `RESPONDERS` is the same mapping for a
plugin's `scripted_responders()`.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import numpy as np

from simkit.llm.base import LLMRequest
from simkit.llm.scripted import Responder, ScriptedBackend

_WORD = re.compile(r"[a-z][a-z']{3,}")
_ACTION = re.compile(r"^Action: (.*)$", re.MULTILINE)
_PROFILE = re.compile(r"^Profile of [^\n]*:\n(.*?)\n\n", re.MULTILINE | re.DOTALL)
_KEY_VALUE = re.compile(r"\b([a-z][a-z0-9_]*)=(\d+)\b")
_SPEAKER = re.compile(r"^\[([^,\]]+), round \d+\] (.*)$", re.MULTILINE)
_NUMBERED = re.compile(r"^(\d+)\. (.*)$", re.MULTILINE)
_YES = re.compile(r"^\W*(yes|yeah|yep|correct|that's right|that is right|confirmed|indeed)\b", re.IGNORECASE)


def _user(request: LLMRequest) -> str:
    return "\n".join(m.get("content") or "" for m in request.messages if m["role"] == "user")


def _offset(text: str, scale: float) -> float:
    """A fixed pseudo-random offset in [-scale, scale] for a name (a judge, a metric)."""
    digest = hashlib.blake2b(text.encode(), digest_size=2).digest()
    return (int.from_bytes(digest, "little") / 65535 * 2 - 1) * scale


def sheet_keys(request: LLMRequest) -> list[tuple[str, int, int]]:
    """(key, lo, hi) of the `scores` object the request's schema asks for."""
    schema = request.schema_json or {}
    scores = schema["properties"]["scores"]
    if "$ref" in scores:
        scores = schema["$defs"][scores["$ref"].split("/")[-1]]
    return [(key, int(p["minimum"]), int(p["maximum"])) for key, p in scores["properties"].items()]


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _candidates(text: str) -> dict[int | None, str]:
    """The case block of each candidate (pairwise) or the single block."""
    if "=== Candidate 2 ===" not in text:
        return {None: text}
    first, second = text.split("=== Candidate 2 ===", 1)
    return {1: first, 2: second}


def _actions(block: str) -> list[str]:
    actions = _ACTION.findall(block)
    if actions:
        return actions
    tail = block.split("Trajectory:", 1)[-1].split("\nCriteria:", 1)[0]
    return [line for line in tail.splitlines() if line.strip()]


def quality(block: str) -> float:
    """0-1: long, varied actions that echo the profile read as good role-play."""
    actions = _actions(block)
    words = " ".join(actions).lower().split()
    if not words:
        return 0.0
    richness = min(1.0, len(words) / len(actions) / 20)
    variety = len(set(words)) / len(words)
    profile = _PROFILE.search(block)
    profile_words = _words(profile.group(1)) if profile else set()
    grounding = min(1.0, 3 * len(profile_words & _words(" ".join(actions))) / len(profile_words)) if profile_words else 0.5
    return 0.4 * richness + 0.4 * grounding + 0.2 * variety


def _quote(block: str, rng: np.random.Generator) -> list[str]:
    actions = [a for a in _actions(block) if a.strip()]
    return [actions[int(rng.integers(0, len(actions)))][:120]] if actions else []


def _judge(request: LLMRequest) -> str:
    return (request.agent_id or "judge:judge").split(":", 1)[-1]


def score(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    text = _user(request)
    case = text.split("\nCriteria:", 1)[0]
    blocks = _candidates(case)
    lenient = _offset(_judge(request), 0.6)
    scores = {}
    for key, lo, hi in sheet_keys(request):
        position = int(key.rsplit("_", 1)[1]) if None not in blocks else None
        metric = key.rsplit("_", 1)[0] if position else key
        raw = lo + quality(blocks[position]) * (hi - lo) + lenient + _offset(metric, 0.4) + rng.normal(0, 0.4)
        scores[key] = int(np.clip(round(raw), lo, hi))
    weakest = min(scores, key=scores.get)
    return {
        "critique": f"The weakest point is {weakest}: some actions stay generic. Others are in character.",
        "scores": scores,
        "evidence": _quote(next(iter(blocks.values())), rng),
    }


def critique(request: LLMRequest, rng: np.random.Generator) -> str:
    actions = _actions(_user(request))
    short = [i + 1 for i, a in enumerate(actions) if len(a.split()) < 6]
    where = f"thin rounds: {', '.join(map(str, short))}" if short else "every round says enough"
    return f"Detail: {where}. Consistency: the subject mostly stays in character. Overall a plausible performance."


def argue(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    text = _user(request)
    mine = re.search(rf"^\[{re.escape(_judge(request))}, before the discussion\] scores: (.*)$", text, re.MULTILINE)
    stance = mine.group(1) if mine else "my scores"
    return {
        "argument": f"I keep {stance}; the trajectory supports it, though I see the other side's point.",
        "evidence": _quote(text.split("\nCriteria:", 1)[0], rng),
    }


def _positions(request: LLMRequest) -> dict[str, list[int]]:
    keys = {key for key, _, _ in sheet_keys(request)}
    found: dict[str, list[int]] = {key: [] for key in keys}
    for key, value in _KEY_VALUE.findall(_user(request)):
        if key in found:
            found[key].append(int(value))
    return found


def _settle(request: LLMRequest, how: Any) -> dict[str, int]:
    positions = _positions(request)
    out = {}
    for key, lo, hi in sheet_keys(request):
        values = positions[key] or [(lo + hi) // 2]
        out[key] = int(np.clip(round(float(how(values))), lo, hi))
    return out


def final(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    return {
        "critique": "After the discussion I move toward the panel's view where the evidence allows.",
        "scores": _settle(request, np.mean),
        "evidence": _quote(_user(request).split("\nCriteria:", 1)[0], rng),
    }


def arbitrate(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    return {"rationale": "The quotes support the middle of the judges' range.", "scores": _settle(request, np.median)}


def summarize(request: LLMRequest, rng: np.random.Generator) -> str:
    points = [f"{who} argued: {said.split(';')[0]}" for who, said in _SPEAKER.findall(_user(request))]
    return " ".join(points) or "No new arguments this round."


def _section(text: str, title: str) -> list[str]:
    body = text.split(title, 1)[1].split("\n\n", 1)[0] if title in text else ""
    return [item for _, item in _NUMBERED.findall(body)]


def _mentions(message: str, item: str) -> bool:
    wanted = _words(item)
    return bool(wanted) and len(wanted & _words(message)) >= 0.6 * len(wanted)


def disclose(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    text = _user(request)
    message = text.split("<<<\n", 1)[1].split("\n>>>", 1)[0]
    before = text.split("Conversation before the message:\n", 1)[1].split("\n\n", 1)[0] if "Conversation before" in text else ""
    asked = before.strip().splitlines()[-1] if before.strip() else ""
    confirms = bool(_YES.match(message)) and bool(asked)

    def revealed(items: list[str]) -> list[int]:
        return [i for i, item in enumerate(items, 1) if _mentions(message, item) or (confirms and _mentions(asked, item))]

    shareable = revealed(_section(text, "Shareable items"))
    sensitive = revealed(_section(text, "Sensitive items"))
    return {
        "analysis": f"The message reveals {len(shareable)} shareable and {len(sensitive)} sensitive items.",
        "evidence": [message[:120]] if shareable or sensitive else [],
        "shared_shareable_items": shareable,
        "shared_sensitive_items": sensitive,
    }


RESPONDERS: dict[str, Responder] = {
    "judge.critique": critique,
    "judge.score": score,
    "judge.debate": argue,
    "judge.final": final,
    "judge.arbiter": arbitrate,
    "judge.summary": summarize,
    "judge.disclosure": disclose,
}


def register_scripted(backend: ScriptedBackend) -> None:
    for purpose, responder in RESPONDERS.items():
        backend.register(purpose, responder)
