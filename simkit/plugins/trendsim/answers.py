"""The structured answers agents give, as pydantic models (their JSON schemas constrain the
backends), with the paper's tolerant reading of numbers.

Percentages are read like the authors' code reads them (the first integer in the answer,
capped to 0-100), and texts are cut to a length, so a small model that writes "62%" or a
long paragraph still yields a usable value instead of a parse failure. The lengths are
also in the schema, which bounds what a grammar-constrained local model can generate
(the paper asks for about 40 words; a fused answer stays under ~200 tokens).
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, create_model

_INT = re.compile(r"-?\d+")


def first_integer(value: Any) -> Any:
    """`"about 62%"` -> 62; numbers are rounded; anything without a number is left for
    validation to reject."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return round(value)
    if isinstance(value, str):
        match = _INT.search(value)
        if match:
            return int(match.group())
    return value


def to_percent(value: Any) -> Any:
    value = first_integer(value)
    return min(100, max(0, value)) if isinstance(value, int) and not isinstance(value, bool) else value


def clip_text(value: Any, limit: int) -> Any:
    return " ".join(value.split())[:limit] if isinstance(value, str) else value


def bounded_text(limit: int) -> Any:
    """A string of at most `limit` characters; longer answers are cut, not rejected."""
    return Annotated[str, Field(max_length=limit), BeforeValidator(functools.partial(clip_text, limit=limit))]


Percent = Annotated[int, Field(ge=0, le=100), BeforeValidator(to_percent)]
Index = Annotated[int, BeforeValidator(first_integer)]
Impression = bounded_text(160)
Said = bounded_text(200)  # a comment or a reply
Memory = bounded_text(160)
Opinion = bounded_text(100)


class Perception(BaseModel):
    impression: Impression


class Writing(BaseModel):
    text: Said


class Choice(BaseModel):
    comment_index: Index


class MemoryUpdate(BaseModel):
    memory: Memory


class OpinionUpdate(BaseModel):
    opinion: Opinion


class EmotionUpdate(BaseModel):
    emotion: Percent


class ConfidenceUpdate(BaseModel):
    social_confidence: Percent


class PoisonComment(BaseModel):
    comment: Said


class Verdict(BaseModel):
    malicious: bool


@functools.cache
def decision_model(actions: tuple[str, ...]) -> type[BaseModel]:
    """`{"action": ...}` limited to the actions valid on the current page."""
    return create_model("Decision", action=(Literal[actions], ...))


@functools.cache
def fused_model(actions: tuple[str, ...]) -> type[BaseModel]:
    """Everything of one step in one answer, the action limited to the valid ones. Fields
    are in the order a model should think: look, act, write, then reflect."""
    return create_model(
        "FusedStep",
        impression=(Impression, ...),
        action=(Literal[actions], ...),
        text=(Said, ""),
        comment_index=(Index, 0),
        memory=(Memory, ...),
        opinion=(Opinion, ...),
        emotion=(Percent, ...),
        social_confidence=(Percent, ...),
    )
