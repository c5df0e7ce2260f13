"""The structured answers judges give, as pydantic models (their JSON schemas constrain the
backends and validate what comes back).

Scores are integers inside the metric's bounds: a 6 on a 1-5 scale or a `true` is a
validation failure, never clamped to a number. Free text and quote lists are cut to a
length (stated in the schema, which also bounds what a grammar-constrained model writes).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, create_model

from simkit.judges.sheet import Entry

TEXT_LIMIT = 1500
QUOTE_LIMIT = 300
MAX_QUOTES = 8


def _clip(value: Any, limit: int) -> Any:
    return value[:limit] if isinstance(value, str) else value


def _first_quotes(value: Any) -> Any:
    return value[:MAX_QUOTES] if isinstance(value, list) else value


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a score is an integer, not true/false")  # noqa: TRY004 (pydantic reports ValueError only)
    return value


Text = Annotated[str, Field(max_length=TEXT_LIMIT), BeforeValidator(functools.partial(_clip, limit=TEXT_LIMIT))]
Quote = Annotated[str, Field(max_length=QUOTE_LIMIT), BeforeValidator(functools.partial(_clip, limit=QUOTE_LIMIT))]
Quotes = Annotated[list[Quote], Field(max_length=MAX_QUOTES), BeforeValidator(_first_quotes)]

Bounds = tuple[tuple[str, int, int], ...]


def bounds(entries: Sequence[Entry]) -> Bounds:
    return tuple((e.key, e.metric.lo, e.metric.hi) for e in entries)


@functools.cache
def scores_model(keys: Bounds) -> type[BaseModel]:
    """{key: integer in [lo, hi]} for exactly these sheet keys (cached: one schema per sheet)."""
    fields: dict[str, Any] = {
        key: (Annotated[int, Field(ge=lo, le=hi), BeforeValidator(_not_bool)], ...) for key, lo, hi in keys
    }
    return create_model("Scores", **fields)


@functools.cache
def score_answer(keys: Bounds, critique_first: bool) -> type[BaseModel]:
    """A scored statement (independent or final). Field order is generation order: with
    `critique_first` the model writes its critique before it commits to numbers."""
    scores = (scores_model(keys), ...)
    quotes = (Quotes, Field(description="exact quotes from the trajectory"))
    if critique_first:
        return create_model("ScoreAnswer", critique=(Text, ...), scores=scores, evidence=quotes)
    return create_model("ScoreAnswer", scores=scores, evidence=quotes, critique=(Text, ...))


class Argument(BaseModel):
    """One turn of the debate."""

    argument: Text
    evidence: Quotes = Field(description="exact quotes from the trajectory")


@functools.cache
def arbiter_answer(keys: Bounds) -> type[BaseModel]:
    return create_model("ArbiterAnswer", rationale=(Text, ...), scores=(scores_model(keys), ...))
