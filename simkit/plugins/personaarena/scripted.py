"""Scripted answers for PersonaArena's call purposes: a plausible episode without a model.

They read the prompts: the environment agent builds its scene from the persona card,
gives the floor to the protagonist after an NPC line and otherwise to the NPC who waited
longest, cueing it toward the first missing checkpoint; the protagonist talks about the
checkpoints a cue names (at most two; without a cue, one checkpoint every other line,
small talk in between), drawing words from its card; coverage is read off the words a line uses. So
steering and early stopping change what happens, which the tests and the bench measure.
The judges get the shared package's scripted judges.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from simkit.judges import RESPONDERS as JUDGE_RESPONDERS
from simkit.llm.base import LLMRequest
from simkit.llm.scripted import Responder
from simkit.plugins.personaarena.world import CHECKPOINTS, PROTAGONIST

# The phrase the scripted protagonist uses for a checkpoint, and what the tracker looks for.
MARKERS = {
    "background": "I grew up",
    "personality": "I am the kind of person",
    "values": "What matters to me",
    "interests": "I love",
    "experiences": "I remember when",
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
    text = _text(request)
    facts = _facts(request.messages[0]["content"])
    name = facts.get("name", "I")
    cue = _CUE.search(text)
    asked = [c for c in CHECKPOINTS if cue and c in cue.group(1)]
    mine = len(re.findall(rf"^{re.escape(name)}: ", text.split("Conversation so far:", 1)[1], re.M))
    topics = asked[:2] or ([CHECKPOINTS[(mine // 2) % len(CHECKPOINTS)]] if mine % 2 == 0 else [])
    detail = {
        "background": f"in {facts.get('region', 'a small town')} and I work as a {facts.get('occupation', 'worker')}",
        "personality": "who keeps calm and plans ahead",
        "values": "is honesty and looking after the people around me",
        "interests": facts.get("interests", "long walks"),
        "experiences": "I once got lost abroad and a stranger helped me home",
    }
    said = " ".join(f"{MARKERS[t]} {detail[t]}." for t in topics)
    return {
        "belief": "I am among friendly people and feel at ease.",
        "desire": "I want to connect and be understood.",
        "intention": f"I will share something about my {' and '.join(topics)}." if topics else "I will keep the chat light.",
        "action": "smiles and leans in",
        "utterance": said or "It is good to see everyone here tonight.",
    }


def npc(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    cue = _CUE.search(_text(request))
    return {"action": "nods", "utterance": cue.group(1) if cue else "That sounds great, tell me more."}


def track(request: LLMRequest, rng: np.random.Generator) -> dict[str, Any]:
    line = _text(request).split("latest line in the scene:\n", 1)[1].split("\n\n", 1)[0]
    shown = [c for c, marker in MARKERS.items() if marker.lower() in line.lower()]
    return {"shown": shown, "evidence": line[:120] if shown else ""}


RESPONDERS: dict[str, Responder] = {
    **JUDGE_RESPONDERS,
    "personaarena.scene": scene,
    "personaarena.pick": pick,
    "personaarena.protagonist": protagonist,
    "personaarena.npc": npc,
    "personaarena.track": track,
}
