"""Scripted answers for PersonaArena's call purposes: a plausible episode without a model.

They read the prompts, and know nothing about the findings the plugin measures: the
environment agent builds its scene from the persona card, gives the floor to the
protagonist after an NPC line and otherwise to the NPC who waited longest, and cues it
toward the missing checkpoints; the protagonist ignores cues (it shares one fact of its
card, drawn at random, or makes small talk) and never uses a phrase chosen for the
tracker; the tracker marks a checkpoint as shown when the line contains the value of a card
fact that belongs to it (`CARD_CHECKPOINTS`), whoever chose it. A card without a fact for
a checkpoint (simkit's bank has no separate values) never covers it, so scripted episodes
run to `max_turns`; tests that need coverage script the tracker themselves. The judges get
the shared package's scripted judges.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from simkit.judges import RESPONDERS as JUDGE_RESPONDERS
from simkit.llm.base import LLMRequest
from simkit.llm.scripted import Responder
from simkit.plugins.personaarena.world import CHECKPOINTS, PROTAGONIST

# Which checkpoint a card fact shows when a line states it (the tracker's reading).
CARD_CHECKPOINTS = {
    "age": "background", "gender": "background", "region": "background", "occupation": "background",
    "demographics": "background", "big five (1-5)": "personality", "personality": "personality",
    "personality traits": "personality", "values": "values", "interests": "interests",
    "experiences": "experiences",
}
_FACT = re.compile(r"^- ([a-z ()0-9-]+): (.*)$", re.M)
_MISSING = re.compile(r"not yet shown: (.*)\.$", re.M)
_CAST = re.compile(r"^- ((?:npc-\d+)|protagonist): ", re.M)
_SPOKE = re.compile(r"^([^:\n]+): ", re.M)
_CUE = re.compile(r"^(?:What happens now|Your cue): (.*)$", re.M)


def _text(request: LLMRequest) -> str:
    return "\n".join(m.get("content") or "" for m in request.messages)


def _facts(text: str) -> dict[str, str]:
    return {k: v for k, v in _FACT.findall(text)}


def scene(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    facts = _facts(_text(request))
    name = facts.get("name", "the protagonist")
    hobby = (facts.get("interests") or "music").split(",")[0].strip()
    n = request.schema_json["properties"]["npcs"].get("minItems", 2)
    people = [("Maya", "an old school friend"), ("Tom", "a neighbour"), ("Priya", "a colleague")][:n]
    return {
        "event": f"A {hobby} evening at a community centre",
        "time": "Friday, 7 pm",
        "location": facts.get("region", "a community centre"),
        "description": f"Locals meet to talk about {hobby} over snacks; {name} has just arrived.",
        "opening": f"{people[0][0]} spots {name} at the door and waves.",
        "npcs": [
            {"name": who, "relation": rel, "description": f"{who} is {rel} who is curious about {name}.",
             "self_belief": f"I want to catch up with {name} and learn what they have been doing."}
            for who, rel in people
        ],
    }


def pick(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    text = _text(request)
    cast = _CAST.findall(text)
    npcs = [c for c in cast if c != PROTAGONIST]
    names = dict(re.findall(r"^- (npc-\d+): ([^,]+),", text, re.M))
    conversation = text.split("Conversation so far:\n", 1)[1].split("\n\n", 1)[0]
    said = [] if conversation.startswith("(nothing said yet") else _SPOKE.findall(conversation)
    missing = _MISSING.search(text)
    missing_list = [m.strip() for m in missing.group(1).split(",")] if missing and missing.group(1) != "none" else []
    protagonist = text.split("- protagonist: ", 1)[1].split("\n", 1)[0].strip()
    if said and said[-1] != protagonist:
        speaker = PROTAGONIST
        cue = f"{said[-1]} asks about your {' and '.join(missing_list[:2])}." if missing_list else ""
    else:
        last = {n: max((i for i, s in enumerate(said) if s == names.get(n)), default=-1) for n in npcs}
        speaker = min(npcs, key=lambda n: (last[n], n))
        cue = f"Ask {protagonist} about their {' and '.join(missing_list[:2])}." if missing_list else ""
    return {"speaker": speaker, "reason": "keeps the exchange going", "cue": cue if "cue" in text else ""}


def protagonist(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    """One fact of the card drawn at random (a third of the lines: small talk), whatever the cue."""
    facts = {k: v for k, v in _facts(request.messages[0]["content"]).items() if k not in ("name", "narrative")}
    keys = sorted(facts)
    pick = int(rng.integers(0, len(keys) + len(keys) // 2 + 1)) if keys else len(keys)
    if pick < len(keys):
        key = keys[pick]
        said = f"As for my {key}: {facts[key]}."
        intention = f"I will say something about my {key}."
    else:
        said, intention = "It is good to see everyone here tonight.", "I will keep the chat light."
    return {
        "belief": "I am among friendly people and feel at ease.",
        "desire": "I want to connect and be understood.",
        "intention": intention,
        "action": "smiles and leans in",
        "utterance": said,
    }


def npc(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    cue = _CUE.search(_text(request))
    return {"action": "nods", "utterance": cue.group(1) if cue else "That sounds great, tell me more."}


def track(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    text = _text(request)
    line = text.split("latest line in the scene:\n", 1)[1].split("\n\n", 1)[0].lower()
    shown, evidence = [], []
    for key, value in _facts(text).items():
        checkpoint = CARD_CHECKPOINTS.get(key)
        if checkpoint and value.strip() and value.lower() in line and checkpoint not in shown:
            shown.append(checkpoint)
            evidence.append(value)
    return {"shown": [c for c in CHECKPOINTS if c in shown], "evidence": "; ".join(evidence)[:120]}


RESPONDERS: dict[str, Responder] = {
    **JUDGE_RESPONDERS,
    "personaarena.scene": scene,
    "personaarena.pick": pick,
    "personaarena.protagonist": protagonist,
    "personaarena.npc": npc,
    "personaarena.track": track,
}
