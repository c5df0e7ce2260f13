"""The episode's world: the scene the environment agent invented, its NPCs, the transcript,
and which of the five persona checkpoints the protagonist has shown so far."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from simkit.agents.dialogue import Transcript
from simkit.personas.model import FACT_GROUPS, Persona

CHECKPOINTS = ("background", "personality", "values", "interests", "experiences")
PROTAGONIST = "protagonist"
ENVIRONMENT = "environment"


@dataclass
class NPC:
    agent_id: str
    name: str
    relation: str
    description: str
    self_belief: str  # fixed for the whole episode (PersonaArena's NPCs do not revise it)


@dataclass
class Scene:
    event: str
    time: str
    location: str
    description: str
    opening: str
    npcs: list[NPC]
    fallback: bool = False  # the environment agent's answer never parsed: the default scene

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Beliefs:
    """The protagonist's BDI state, rewritten each of its turns."""

    belief: str = ""
    desire: str = ""
    intention: str = ""


@dataclass
class Episode:
    persona: Persona
    scene: Scene
    transcript: Transcript = field(default_factory=Transcript)
    covered: dict[str, int] = field(default_factory=dict)  # checkpoint -> the line (turn) that first showed it
    beliefs: Beliefs = field(default_factory=Beliefs)
    turns: int = 0
    stop: str | None = None  # why it ended: "covered", "max_turns"

    @property
    def speakers(self) -> list[str]:
        return [PROTAGONIST, *(n.agent_id for n in self.scene.npcs)]

    def name_of(self, agent_id: str) -> str:
        if agent_id == PROTAGONIST:
            return self.persona.name
        return next(n.name for n in self.scene.npcs if n.agent_id == agent_id)

    def npc(self, agent_id: str) -> NPC:
        return next(n for n in self.scene.npcs if n.agent_id == agent_id)

    @property
    def missing(self) -> list[str]:
        return [c for c in CHECKPOINTS if c not in self.covered]

    def npc_streak(self) -> int:
        """NPC lines since the protagonist last spoke."""
        n = 0
        for line in reversed(self.transcript.lines):
            if line.labels.get("agent") == PROTAGONIST:
                break
            n += 1
        return n

    def fallback_speaker(self) -> str:
        """Who speaks when the environment agent's pick cannot be read: the protagonist after
        any NPC line, else the NPC who has waited longest (deterministic)."""
        lines = self.transcript.lines
        if not lines or lines[-1].labels.get("agent") != PROTAGONIST:
            return PROTAGONIST
        last = {n.agent_id: -1 for n in self.scene.npcs}
        for i, line in enumerate(lines):
            if line.labels.get("agent") in last:
                last[line.labels["agent"]] = i
        return min(last, key=lambda a: (last[a], a))


def persona_card(persona: Persona) -> dict[str, str]:
    """The persona as the prompts and the judges read it."""
    d = persona.demographics
    facts = {
        "name": persona.name,
        "age": str(d.age) if d.age is not None else "",
        "gender": d.gender or "",
        "region": d.region or "",
        "occupation": d.occupation or "",
        "interests": ", ".join(persona.interests),
        "narrative": persona.narrative,
    }
    for group in FACT_GROUPS:  # the five groups the checkpoints are judged against
        statements = " ".join(getattr(persona.facts, group))
        facts[group] = f"{facts[group]}. {statements}" if facts.get(group) and statements else statements or facts.get(group, "")
    if persona.big_five:
        facts["big five (1-5)"] = ", ".join(f"{t} {v:.1f}" for t, v in zip("OCEAN", persona.big_five.as_tuple()))
    return {k: v for k, v in facts.items() if v}


SPARE_NAMES = [("Sam", "an old friend"), ("Jordan", "a new neighbour"), ("Alex", "a colleague"),
               ("Robin", "a cousin"), ("Kim", "a classmate"), ("Lee", "a club member")]


def distinct_names(protagonist: str, names: list[str]) -> list[str]:
    """NPC names with blanks, repeats and the protagonist's own name replaced by spare ones
    (a small model readily names an NPC after the protagonist)."""
    taken = {protagonist.casefold()}
    spare = (n for n, _ in SPARE_NAMES if n.casefold() not in {x.casefold() for x in names} | taken)
    out = []
    for name in names:
        name = name.strip()
        if not name or name.casefold() in taken:
            name = next(spare)
        taken.add(name.casefold())
        out.append(name)
    return out


def default_scene(persona: Persona, n_npcs: int) -> Scene:
    """The scene used when the environment agent's answer never parses: an ordinary
    get-together, so the episode still runs and the failure is recorded."""
    npcs = [
        NPC(f"npc-{i + 1}", name, relation, f"{name} is {relation} of {persona.name}.",
            f"I am {name}, {relation}; I want to hear what {persona.name} has been up to.")
        for i, (name, relation) in enumerate(SPARE_NAMES[:n_npcs])
    ]
    return Scene(
        event=f"A small get-together at {persona.name}'s local cafe",
        time="Saturday afternoon",
        location=persona.demographics.region or "a neighbourhood cafe",
        description="A few people share a table and catch up over coffee.",
        opening=f"{npcs[0].name} waves {persona.name} over to the table.",
        npcs=npcs,
        fallback=True,
    )
