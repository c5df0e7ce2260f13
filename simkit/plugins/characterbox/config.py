"""The `characterbox:` section of a scenario file, validated strictly (unknown keys are errors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from simkit.config import StrictModel
from simkit.judges import JudgeConfig, JudgeSpec

DATA = Path(__file__).parent / "data"

# CharacterBox's judge is one model that writes a critique, then scores (evaluate.py);
# a panel of one never disagrees, so the shared panel skips its debate.
CHARACTERBOX_JUDGE = JudgeConfig(
    judges=[JudgeSpec(id="judge", persona="An expert reader of fiction who knows how role-played characters should behave.")],
    critique_call=True,
    max_parse_retries=3,  # the authors' judge retries up to 4 times, then skips the character
)


class MemoryConfig(StrictModel):
    """Each character's memory stream (Generative Agents scoring, simkit.agents.memory)."""

    importance: Literal["rated", "fixed"] = Field(
        default="rated", description="rated: one LLM call rates each new memory 1-10 (the code); fixed: every memory 5, no call")
    k: int = Field(default=5, ge=1, le=50, description="memories retrieved into each prompt (the code's k=5)")


class JudgingConfig(StrictModel):
    characters: bool = Field(default=True, description="score each character's trajectory on the seven metrics")
    narrator_calls: int | None = Field(
        default=None, ge=0, description="narrator calls scored on the Gricean maxims (None: all; 0: none); the first N in order")


class CharacterBoxConfig(StrictModel):
    scenes: Path = Field(default=DATA / "scenes.json", description="a scene file in the authors' JSON layout, or a folder of them")
    scene_ids: list[int] = Field(default_factory=list, description="scene ids to play (empty: every scene of the file)")
    rounds: int = Field(default=3, ge=1, le=100, description="fixed rounds (config/play.yaml: 3); the clock must hold as many ticks")
    conclude_check: bool = Field(default=False, description="after each round the narrator says whether the story has concluded")
    scene_update: Literal["per_round", "per_actor"] = Field(
        default="per_round", description="per_round: once after the round (the code); per_actor: after each actor's turn (the paper)")
    synopsis: Literal["character", "narrator", "none"] = Field(
        default="character", description="who writes each round's action references: the first character's model (the code), the narrator, or nobody (none)")
    memory: MemoryConfig = MemoryConfig()
    judging: JudgingConfig = JudgingConfig()
    judge: JudgeConfig = Field(default_factory=lambda: CHARACTERBOX_JUDGE.model_copy(deep=True))

    @field_validator("judge", mode="before")
    @classmethod
    def _judge_defaults(cls, value: Any) -> Any:
        """Keys given under `judge:` change CharacterBox's judge, not the panel's generic
        three-judge default."""
        if isinstance(value, dict):
            return {**CHARACTERBOX_JUDGE.model_dump(include=CHARACTERBOX_JUDGE.model_fields_set), **value}
        return value
