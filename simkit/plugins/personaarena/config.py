"""The `personaarena:` section of a scenario file, validated strictly (unknown keys are errors)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from simkit.config import StrictModel
from simkit.judges import JudgeConfig
from simkit.judges.config import Disagreement


# "Strong" disagreement: judges two or more points apart on a metric of the 1-5 scale (half
# its span). The paper calls the arbiter when judges "disagree strongly" and gives no number;
# 2.0 is simkit's reading. The shared default (1.0: any two judges a point apart) disputed
# about 6.6 of the 8 metrics per episode, so most scores would be the arbiter's, not the
# panel's mean the paper reports.
STRONG_DISAGREEMENT = 2.0


class PersonaArenaJudge(JudgeConfig):
    """The panel as published: independent scores, averaged; the arbiter decides the metrics
    the judges disagree on strongly. `debate: true` debates them first (ChatEval style)."""

    debate: bool = Field(default=False, description="debate the disputed metrics before the arbiter (not in the paper)")
    disagreement: Disagreement = Disagreement(per_metric_range=STRONG_DISAGREEMENT)


class PersonaArenaConfig(StrictModel):
    persona: str | None = Field(
        default=None, description="id of the persona to play; None draws one from the population with the run's seed")
    max_turns: int = Field(default=8, ge=2, le=200, description="lines of the episode at most (T_max)")
    turns_per_tick: int = Field(default=2, ge=1, le=50, description="lines committed per tick (resume granularity)")
    min_npcs: int = Field(default=2, ge=1, le=6)
    max_npcs: int = Field(default=3, ge=1, le=6)
    max_npc_streak: int = Field(
        default=2, ge=1, le=50, description="after this many NPC lines in a row the protagonist speaks, whatever the pick")
    early_stop: bool = Field(default=True, description="end the episode as soon as all five checkpoints are covered")
    steer: bool = Field(default=True, description="the environment agent steers the speaker toward a missing checkpoint")
    history: int = Field(default=8, ge=1, le=200, description="transcript lines a speaker is shown")
    max_tokens: int = Field(default=200, ge=32, le=4096, description="per episode call (scene: twice this)")
    judge: PersonaArenaJudge = PersonaArenaJudge()
    human_labels: Path | None = Field(
        default=None, description="JSONL of human scores (item_id = run id, metric, score) for the agreement check")

    @field_validator("human_labels")
    @classmethod
    def _labels(cls, value: Path | None) -> Path | None:
        """Read when the episode ends: checked now, so a bad file fails before the run."""
        if value is not None:
            from simkit.judges.agreement import load_labels

            load_labels(value)
        return value

    @model_validator(mode="after")
    def _npc_range(self) -> "PersonaArenaConfig":
        if self.min_npcs > self.max_npcs:
            raise ValueError(f"min_npcs ({self.min_npcs}) is above max_npcs ({self.max_npcs})")
        return self
