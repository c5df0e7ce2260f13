"""`JudgeItem`: what the judges evaluate: one subject's behaviour in a context.

The trajectory is a list of (round, observation, action) steps, rendered the way
CharacterBox's judge reads it ("Round r / Observation / Action"), or text the plugin has
already formatted (a narrator's prompt and output, a dialogue).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict


class Step(NamedTuple):
    round: int
    observation: str
    action: str


class JudgeItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    item_id: str
    subject: str
    trajectory: str | list[Step]
    context: str | dict[str, Any] = ""
    profile: str | dict[str, Any] = ""
