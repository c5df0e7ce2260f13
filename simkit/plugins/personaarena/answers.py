"""The structured answers of the episode's calls, as pydantic models. Their JSON schemas
constrain grammar-backed models (so the embedded model answers in shape) and validate what
comes back; free text is bounded so a small model cannot ramble past max_tokens."""

from __future__ import annotations

import functools
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, create_model

from simkit.plugins.personaarena.world import CHECKPOINTS


def _clip(limit: int):
    return BeforeValidator(lambda v: v[:limit] if isinstance(v, str) else v)


Short = Annotated[str, Field(max_length=160), _clip(160)]
Line = Annotated[str, Field(max_length=400), _clip(400)]
Checkpoint = Literal[CHECKPOINTS]  # type: ignore[valid-type]


class NPCAnswer(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=40), _clip(40)]
    relation: Short
    description: Short
    self_belief: Short


@functools.cache
def scene_model(min_npcs: int, max_npcs: int) -> type[BaseModel]:
    """The environment agent's scene: event, time, place and between min and max NPCs."""
    return create_model(
        "SceneAnswer",
        event=(Short, ...),
        time=(Short, ...),
        location=(Short, ...),
        description=(Line, ...),
        opening=(Short, ...),
        npcs=(list[NPCAnswer], Field(min_length=min_npcs, max_length=max_npcs)),
    )


@functools.cache
def pick_model(speakers: tuple[str, ...]) -> type[BaseModel]:
    """The environment agent's turn control: who speaks next (one of the cast), why, and a
    cue for that speaker toward a missing checkpoint."""
    return create_model(
        "PickAnswer",
        speaker=(Literal[speakers], ...),  # type: ignore[valid-type]
        reason=(Short, ...),
        cue=(Short, ""),
    )


class CoverageAnswer(BaseModel):
    """Which checkpoints the protagonist's latest line shows (none is a valid answer)."""

    shown: Annotated[list[Checkpoint], Field(max_length=len(CHECKPOINTS))]
    evidence: Short = ""


class ProtagonistAnswer(BaseModel):
    """Belief-desire-intention first, then what the protagonist does and says."""

    belief: Short
    desire: Short
    intention: Short
    action: Short
    utterance: Line


class NPCLine(BaseModel):
    action: Short
    utterance: Line


