"""Rubric metrics and the rubric sets the scenario plugins share.

A metric carries its scale and anchor texts so the prompt, the answer schema (integer
bounds) and the diagnostics (groups for Cronbach's alpha) all read one definition. The
anchors are simkit's own wording of the published 1/3/5 criteria.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Metric(BaseModel):
    """One integer-scored criterion; `anchors` describe some points of the scale."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="key in answers and verdicts")
    lo: int = 1
    hi: int = 5
    anchors: dict[int, str] = Field(min_length=1)
    group: str
    description: str

    @model_validator(mode="after")
    def _scale(self) -> Metric:
        if self.lo >= self.hi:
            raise ValueError(f"{self.name}: lo must be below hi")
        outside = [point for point in self.anchors if not self.lo <= point <= self.hi]
        if outside:
            raise ValueError(f"{self.name}: anchors {outside} lie outside {self.lo}-{self.hi}")
        return self


Rubric = tuple[Metric, ...]


def _m(name: str, group: str, description: str, one: str, three: str, five: str) -> Metric:
    return Metric(name=name, group=group, description=description, anchors={1: one, 3: three, 5: five})


# CharacterBox (NAACL 2025, section 3.3): seven metrics in three groups, 1-5.
KNOWLEDGE_ACCURACY = _m(
    "knowledge_accuracy", "fidelity",
    "Do the facts the character states or relies on match its background?",
    "Background facts are often wrong or have nothing to do with the character.",
    "Background facts are mostly right, with a few slips.",
    "Every fact is right and shows a thorough grasp of the character's background.",
)
BEHAVIOURAL_ACCURACY = _m(
    "behavioural_accuracy", "fidelity",
    "Are the actions, speech habits and catchphrases the character's own?",
    "Acts and talks like somebody else; none of the character's habits appear.",
    "Some typical behaviour and phrasing, the rest generic.",
    "Actions, manner of speaking and signature phrases are reproduced closely.",
)
EMOTIONAL_EXPRESSION = _m(
    "emotional_expression", "human_likeness",
    "Are the emotions shown varied, nuanced and right for the moment?",
    "Emotions are missing, flat or wrong for the situation.",
    "Some emotional range, but it stays on the surface.",
    "Emotions are rich and subtle and fit what is happening.",
)
PERSONALITY_TRAITS = _m(
    "personality_traits", "human_likeness",
    "Does the behaviour show the personality the profile describes?",
    "Behaviour contradicts the described personality.",
    "Broadly in line with the described personality.",
    "The core traits come through steadily from start to end.",
)
IMMERSION = _m(
    "immersion", "consistency",
    "Does the character stay in role and within what it could know or do?",
    "Keeps breaking character or contradicting itself.",
    "Mostly in role, with some lapses.",
    "Never leaves the role and respects the limits of what the character knows.",
)
ADAPTABILITY = _m(
    "adaptability", "consistency",
    "Does the character respond well to new events while staying in role?",
    "New events are ignored or derail the character.",
    "Copes with most new situations.",
    "Handles every new situation and stays in character doing so.",
)
BEHAVIOURAL_COHERENCE = _m(
    "behavioural_coherence", "consistency",
    "Does each action follow logically from what happened before?",
    "Actions are illogical or unconnected to earlier events.",
    "Mostly follows from earlier events, with a few jumps.",
    "Every action follows from the story so far.",
)
# PersonaArena adds interaction richness (IR); its group is not published.
INTERACTION_RICHNESS = _m(
    "interaction_richness", "interaction",
    "Does the protagonist engage the other characters in a lively, varied exchange?",
    "Replies are minimal or one-sided; other characters' moves get no real answer.",
    "Engages with the others, but the exchanges stay thin.",
    "Engages actively and in varied ways, and moves the interaction forward.",
)

CHARACTERBOX: Rubric = (
    KNOWLEDGE_ACCURACY, BEHAVIOURAL_ACCURACY, EMOTIONAL_EXPRESSION, PERSONALITY_TRAITS,
    IMMERSION, ADAPTABILITY, BEHAVIOURAL_COHERENCE,
)
PERSONAARENA: Rubric = (*CHARACTERBOX, INTERACTION_RICHNESS)

# CharacterBox's narrator check (section 6.5): each narrator call against Grice's maxims.
GRICE: Rubric = (
    _m("quantity", "gricean", "Is the narration as informative as the step needs, and no more?",
       "Far too little to go on, or buried in padding.",
       "About the right amount, with some gaps or excess.",
       "Exactly as much as the step requires."),
    _m("quality", "gricean", "Is everything said true to the scene and supported by what happened?",
       "Contradicts the scene or invents unsupported facts.",
       "Mostly faithful, with a few unsupported claims.",
       "Everything stated is accurate and grounded in the scene."),
    _m("relevance", "gricean", "Does the output address the request and its context?",
       "Mostly beside the point.",
       "On topic, with digressions.",
       "Everything bears directly on the request."),
    _m("manner", "gricean", "Is the output clear, unambiguous and well ordered?",
       "Confusing, ambiguous or out of order.",
       "Understandable but uneven.",
       "Clear, brief and in a sensible order."),
)

RUBRICS: dict[str, Rubric] = {"characterbox": CHARACTERBOX, "personaarena": PERSONAARENA, "grice": GRICE}
