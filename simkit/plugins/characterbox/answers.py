"""The structured answers of character and narrator calls (their JSON schemas constrain the
backends and validate what comes back).

Free text is cut to a length rather than rejected (a long but sensible action is still an
action); names the narrator picks are an enum of the scene's characters, so a grammar-
constrained model cannot name someone who is not there.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, create_model


def _clip(limit: int):
    def clip(value: Any) -> Any:
        return value.strip()[:limit] if isinstance(value, str) else value

    return BeforeValidator(clip)


# Bounds in characters; a grammar-constrained model stops there, so with ~4 characters a
# token every answer fits the default 200-token budget.
Short = Annotated[str, Field(min_length=1, max_length=100), _clip(100)]
Line = Annotated[str, Field(min_length=1, max_length=200), _clip(200)]
Text = Annotated[str, Field(min_length=1, max_length=400), _clip(400)]


class Belief(BaseModel):
    belief: Text


class ActionAnswer(BaseModel):
    action: Line = Field(description="one observable physical action, no speech or thoughts")


class DialogueAnswer(BaseModel):
    dialogue: Line


class ReactionAnswer(BaseModel):
    reaction: Line = Field(description="one observable physical reaction, no speech")


class Importance(BaseModel):
    rating: int = Field(ge=1, le=10)


class Result(BaseModel):
    result: Text


class CharacterUpdate(BaseModel):
    position: Line
    state: Line


class SceneUpdate(BaseModel):
    time: Short
    location: Short
    description: Annotated[str, Field(min_length=1, max_length=300), _clip(300)]


class Summary(BaseModel):
    summary: Text


class Concluded(BaseModel):
    concluded: bool
    reason: Line


@functools.cache
def influence_answer(names: tuple[str, ...]) -> type[BaseModel]:
    """{target: one of the scene's characters, effect}; the actor itself when nobody is affected."""
    return create_model("Influence", target=(Literal[names], ...), effect=(Line, ...))


def key_of(name: str) -> str:
    """A character's key in a synopsis answer: "The King of Bohemia" -> "the_king_of_bohemia"."""
    return "_".join(re.findall(r"[a-z0-9]+", name.lower())) or "character"


@functools.cache
def synopsis_answer(names: tuple[str, ...]) -> type[BaseModel]:
    """One action reference per character (the code's "[Name]: [plot]" lines), keyed by `key_of`."""
    fields: dict[str, Any] = {key_of(name): (Line, Field(..., title=name)) for name in names}
    return create_model("Synopsis", **fields)
