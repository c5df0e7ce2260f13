"""The structured answers of character and narrator calls (their JSON schemas constrain the
backends and validate what comes back).

Free text is cut to a length rather than rejected (a long but sensible action is still an
action), never silently: each answer keeps the original length of every field it cut
(`clipped_fields`) and the plugin records a `clipped` event. Names the narrator picks are an
enum of the scene's characters, so a grammar-constrained model cannot name someone who is
not there; synopsis keys are the characters' positions in the cast ("c1", "c2", ...), so
any script works as a name.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any

from annotated_types import MaxLen
from pydantic import BaseModel, BeforeValidator, Field, PrivateAttr, create_model, model_validator


def _clip(limit: int):
    def clip(value: Any) -> Any:
        return value.strip()[:limit] if isinstance(value, str) else value

    return BeforeValidator(clip)


class Answer(BaseModel):
    """A structured answer that remembers which fields it cut, and how long they were."""

    _clipped: dict[str, int] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _note_clips(cls, data: Any, handler: Any) -> Any:
        model = handler(data)
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                limit = next((m.max_length for m in field.metadata if isinstance(m, MaxLen)), None)
                value = data.get(name)
                if limit and isinstance(value, str) and len(value.strip()) > limit:
                    model._clipped[name] = len(value.strip())
        return model

    @property
    def clipped_fields(self) -> dict[str, int]:
        return dict(self._clipped)


# Bounds in characters; a grammar-constrained model stops there, so with ~4 characters a
# token every answer fits the default 200-token budget.
Short = Annotated[str, Field(min_length=1, max_length=100), _clip(100)]
Line = Annotated[str, Field(min_length=1, max_length=200), _clip(200)]
Text = Annotated[str, Field(min_length=1, max_length=400), _clip(400)]


class Belief(Answer):
    belief: Text


class ActionAnswer(Answer):
    action: Line = Field(description="one observable physical action, no speech or thoughts")


class DialogueAnswer(Answer):
    dialogue: Line


class ReactionAnswer(Answer):
    reaction: Line = Field(description="one observable physical reaction, no speech")


class Importance(Answer):
    rating: int = Field(ge=1, le=10)


class Result(Answer):
    result: Text


class CharacterUpdate(Answer):
    position: Line
    state: Line


class SceneUpdate(Answer):
    time: Short
    location: Short
    description: Annotated[str, Field(min_length=1, max_length=300), _clip(300)]


class Summary(Answer):
    summary: Text


class Concluded(Answer):
    concluded: bool
    reason: Line


@functools.cache
def influence_answer(names: tuple[str, ...]) -> type[BaseModel]:
    """{target: one of the scene's characters, effect}; the actor itself when nobody is affected."""
    # an enum even for a one-character scene (a one-value Literal would be a JSON-schema const)
    target = Annotated[str, Field(json_schema_extra={"enum": list(names)})]

    def known(value: Any) -> Any:
        if value not in names:
            raise ValueError(f"target must be one of {list(names)}")
        return value

    return create_model("Influence", __base__=Answer, target=(Annotated[target, BeforeValidator(known)], ...), effect=(Line, ...))


def key_of(index: int) -> str:
    """A character's key in a synopsis answer: its position in the cast, "c1", "c2", ..."""
    return f"c{index + 1}"


@functools.cache
def synopsis_answer(names: tuple[str, ...]) -> type[BaseModel]:
    """One action reference per character (the code's "[Name]: [plot]" lines), keyed by `key_of`
    with the name as the field's title."""
    fields: dict[str, Any] = {key_of(i): (Line, Field(..., title=name)) for i, name in enumerate(names)}
    return create_model("Synopsis", __base__=Answer, **fields)
