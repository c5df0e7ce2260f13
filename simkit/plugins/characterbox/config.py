"""The `characterbox:` section of a scenario file, validated strictly (unknown keys are errors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

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

    shown: Literal["relevance", "recency"] = Field(
        default="relevance", description="relevance: top-k by recency + importance + BM25 (simkit); recency: newest first until the prompt reaches `tokens` (the code)")
    tokens: int = Field(default=2500, ge=100, description="recency: the prompt plus the memories shown stay under this many tokens (characters / 4), as LangChain's max_tokens_limit")
    importance: Literal["rated", "fixed"] = Field(
        default="rated", description="rated: one LLM call rates each new memory 1-10 (the code); fixed: every memory 5, no call")
    k: int = Field(default=5, ge=1, le=50, description="memories retrieved into each prompt (the code's k=5)")


class JudgingConfig(StrictModel):
    characters: bool = Field(default=True, description="score each character's trajectory on the seven metrics")
    narrator_calls: int | None = Field(
        default=None, ge=0, description="narrator calls scored on the Gricean maxims (None: all; 0: none); the first N in order")


# The paper profile: the authors' code (simulator.py, agents/character.py) where simkit's own
# defaults differ. A key given explicitly in the scenario still wins.
PAPER = {
    "rounds": 3, "scene_update": "per_round", "synopsis": "character", "synopsis_role": "follow",
    "observation": "target", "update_evidence": "exchange", "next_order": "authors", "conclude_check": False,
    "memory": {"shown": "recency", "tokens": 2500, "importance": "rated"},
}


class CharacterBoxConfig(StrictModel):
    profile: Literal["simkit", "paper"] = Field(
        default="simkit", description="paper: every mechanic as the authors' code plays it (README table); simkit: simkit's own defaults")
    scenes: Path = Field(default=DATA / "scenes.json", description="a scene file in the authors' JSON layout, or a folder of them")
    scene_ids: list[int] = Field(default_factory=list, description="scene ids to play (empty: every scene of the file)")
    rounds: int = Field(default=3, ge=1, le=100, description="fixed rounds (config/play.yaml: 3); the clock must hold as many ticks")
    conclude_check: bool = Field(default=False, description="after each round the narrator says whether the story has concluded")
    scene_update: Literal["per_round", "per_actor"] = Field(
        default="per_round", description="per_round: once after the round (the code); per_actor: after each actor's turn (the paper)")
    synopsis: Literal["character", "narrator", "none"] = Field(
        default="character", description="who writes each round's action references: the first character's model (the code), the narrator, or nobody (none)")
    synopsis_role: Literal["reference", "follow"] = Field(
        default="reference", description="reference: shown as a reference, not an order, with the plot summaries as history (simkit); follow: guidance to follow, with the earlier synopses as history (the code)")
    observation: Literal["everyone", "target"] = Field(
        default="everyone", description="everyone: every line of the round reaches everyone present (simkit); target: only the character an action affects gets it, the rest learn it through next round's beliefs (the code)")
    update_evidence: Literal["reaction", "exchange"] = Field(
        default="reaction", description="what the narrator's position/state updates read after a reaction: the reaction and result (simkit), or the actor's action too (the code)")
    next_order: Literal["completion", "authors"] = Field(
        default="completion", description="next round's order: actor before the reactor it used up (simkit), or the reactor first, as simulator.py enters it into the acted queue (the code)")
    human_labels: Path | None = Field(
        default=None, description="JSONL of human scores {item_id, metric, score}: Pearson r per metric against the judge (the paper's Table 3)")
    memory: MemoryConfig = MemoryConfig()
    judging: JudgingConfig = JudgingConfig()
    judge: JudgeConfig = Field(default_factory=lambda: CHARACTERBOX_JUDGE.model_copy(deep=True))

    @model_validator(mode="before")
    @classmethod
    def _profile(cls, value: Any) -> Any:
        """`profile: paper` fills every key the scenario leaves out with the authors' setting."""
        if isinstance(value, dict) and value.get("profile") == "paper":
            given = dict(value)
            out = {**{k: v for k, v in PAPER.items() if k != "memory"}, **given}
            out["memory"] = {**PAPER["memory"], **(given.get("memory") or {})}
            return out
        return value

    @field_validator("judge", mode="before")
    @classmethod
    def _judge_defaults(cls, value: Any) -> Any:
        """Keys given under `judge:` change CharacterBox's judge, not the panel's generic
        three-judge default."""
        if isinstance(value, dict):
            return {**CHARACTERBOX_JUDGE.model_dump(include=CHARACTERBOX_JUDGE.model_fields_set), **value}
        return value
