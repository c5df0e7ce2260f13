"""Scripted answers for CharacterBox's call purposes: a plausible cast and narrator without
a model, for tests and dry runs.

They read the prompts the way a model would have to: a character turns to someone whose
line it has observed (so the narrator's influence call finds a target named in the
action), the narrator picks the first other character an action names (else nobody),
updates positions toward that character and leaves the scene as it was unless the round
mentions the door or the fire. They read both prompt sets (English and Chinese) and any
script in a name: names come from the narrator's enum and from "Name: ..." lines.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from simkit.llm.base import LLMRequest

_NAME = re.compile(r"^(?:You are (.+?)\. Act|你是(.+?)。请以)", re.MULTILINE)
_SPEAKER = re.compile(r"^([^:：\n]{1,40}): ", re.MULTILINE)
_HEADERS = ("Answer", "Where", "Event", "Memory", "Name", "Character", "Position", "State", "Time", "Location", "Description")
_DOES = re.compile(r"^(?:(.+?) does this: (.*)|(.+?)的动作：(.*))$", re.MULTILINE)
_WHO = re.compile(r"^(?:What just happened to (.+?):|刚刚发生在(.+?)身上的事：)$", re.MULTILINE)
_FIELD = re.compile(r"^(Time|Location|Description|时间|地点|描述)[:：] ?(.*)$", re.MULTILINE)
_ZH_FIELD = {"时间": "Time", "地点": "Location", "描述": "Description"}
_WAS = re.compile(r"(?:was: Position: (.*?)\. State: (.*?)\.|之前：位置：(.*?)。状态：(.*?)。)$", re.MULTILINE)


def _first(match: re.Match | None) -> tuple[str, ...] | None:
    """The groups of whichever alternative matched (English or Chinese)."""
    if match is None:
        return None
    groups = match.groups()
    half = len(groups) // 2
    return groups[:half] if groups[0] is not None else groups[half:]
GESTURES = ("steps closer to", "fixes a steady look on", "leans in toward", "gestures sharply at",
            "sets down what he holds and faces", "circles slowly around")
ALONE = ("paces to the window", "straightens up, arms folded", "glances around the room", "moves nearer the door")
STAKES = ("love", "danger", "knife", "threat", "scandal", "kill", "secret", "refuse", "fight", "fear")


def _system(request: LLMRequest) -> str:
    return request.messages[0]["content"] if request.messages[0]["role"] == "system" else ""


def _user(request: LLMRequest) -> str:
    return request.messages[-1]["content"]


def _me(request: LLMRequest) -> str:
    found = _first(_NAME.search(_system(request)))
    return found[0] if found else "The character"


def _others_seen(request: LLMRequest) -> list[str]:
    me = _me(request)
    names = [n for n in _SPEAKER.findall(_user(request)) if n != me and not n.startswith(_HEADERS)]
    return list(dict.fromkeys(names))


def _pick(rng: np.random.Generator, options) -> str:
    return options[int(rng.integers(len(options)))]


def belief(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    me, others = _me(request), _others_seen(request)
    about = f" {others[0]} is the one to watch." if others else ""
    return {"belief": f"I am {me}, steady on my feet and set on my purpose.{about} I will act before the moment passes."}


def action(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    me, others = _me(request), _others_seen(request)
    if others and rng.random() < 0.8:
        return {"action": f"{me} {_pick(rng, GESTURES)} {_pick(rng, others)}."}
    return {"action": f"{me} {_pick(rng, ALONE)}."}


def dialogue(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    lines = ("I will not be put off so easily.", "You had better hear me out.", "Is that truly what you believe?",
             "Let us have the whole of it, then.", "I have waited long enough for this.")
    return {"dialogue": _pick(rng, lines)}


def reaction(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    return {"reaction": f"{_me(request)} {_pick(rng, ('steps back', 'stiffens', 'looks up sharply', 'grips the table'))}."}


def importance(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    memory = _user(request).split("Memory:", 1)[-1].lower()
    return {"rating": int(min(10, 3 + 2 * sum(w in memory for w in STAKES) + rng.integers(0, 2)))}


def synopsis(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    fields = (request.schema_json or {}).get("properties", {})
    return {k: f"{f.get('title', k)} presses the matter one step further." for k, f in fields.items()}


def influence(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    names = request.schema_json["properties"]["target"]["enum"]
    actor, doing = _first(_DOES.search(_user(request)))
    named = [n for n in names if n != actor and n in doing]
    if named:
        return {"target": named[0], "effect": f"{named[0]} is confronted at close quarters."}
    return {"target": actor, "effect": f"{actor} changes place; nobody else is touched."}


def result(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    return {"result": "The distance between them closes and the tension in the room rises."}


def update_character(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    text = _user(request)
    who = _first(_WHO.search(text))
    position, state = _first(_WAS.search(text)) or ("where they were", "alert")
    moved = "close to the others" if "closes" in text or "steps" in text else position
    return {"position": moved, "state": f"{state.split(';')[0]}; more tense now"[:300] if who else state}


def update_scene(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    fields = {_ZH_FIELD.get(k, k): v for k, v in _FIELD.findall(_system(request))}
    description = fields.get("Description", "")
    if "door" in _user(request).lower() and "door stands open" not in description:
        description = (description + " The door stands open.").strip()
    return {"time": fields.get("Time", "now"), "location": fields.get("Location", "here"), "description": description or "Unchanged."}


def summary(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    speakers = [n for n in dict.fromkeys(_SPEAKER.findall(_user(request))) if not n.startswith(_HEADERS)]
    return {"summary": f"{', '.join(speakers) or 'Nobody'} acted in turn and the conflict sharpened."}


def concluded(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    rounds = len(re.findall(r"^\d+\. ", _user(request), re.MULTILINE))
    return {"concluded": rounds >= 2, "reason": "The confrontation has run its course." if rounds >= 2 else "The conflict is open."}


RESPONDERS = {
    "characterbox.character.self_belief": belief,
    "characterbox.character.env_belief": belief,
    "characterbox.character.action": action,
    "characterbox.character.dialogue": dialogue,
    "characterbox.character.reaction": reaction,
    "characterbox.character.importance": importance,
    "characterbox.character.synopsis": synopsis,
    "characterbox.narrator.synopsis": synopsis,
    "characterbox.narrator.influence": influence,
    "characterbox.narrator.result": result,
    "characterbox.narrator.update_character": update_character,
    "characterbox.narrator.update_scene": update_scene,
    "characterbox.narrator.summary": summary,
    "characterbox.narrator.concluded": concluded,
}
