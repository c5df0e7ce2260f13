"""`JudgeConfig`: the judge section a plugin embeds in its own config (strict: unknown keys fail).

Defaults follow the published procedures: three judges with different personas (ChatEval's
ablation: one persona for all gives no gain), critique before scores (CharacterBox), two
debate rounds (ChatEval's peak), blind final statements, an arbiter for what the debate
leaves unsettled (PersonaArena), temperature 0 (CharacterBox's judge).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from simkit.config import LLMSettings, StrictModel

RESERVED_IDS = ("arbiter", "summarizer")


class JudgeSpec(StrictModel):
    """One judge: its id (also its cache slot), its persona, and which LLM serves it: its own
    model (`llm: {backend: openai, model: X, base_url: ...}`, served as role `judge:<id>`),
    else the plugin role `role` (default `judge`)."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    persona: str
    role: str = Field(default="judge", description="passed to host.llm_for(): which LLM answers")
    llm: LLMSettings | None = Field(default=None, description="this judge's own model; its role becomes judge:<id>")

    @model_validator(mode="after")
    def _own_model(self) -> JudgeSpec:
        if self.llm is not None:
            own = f"judge:{self.id}"
            if "role" in self.model_fields_set and self.role not in (own, "judge"):
                raise ValueError(f"judge {self.id}: give either role or llm, not both")
            object.__setattr__(self, "role", own)
        return self


class Disagreement(StrictModel):
    """When the independent scores count as disputed."""

    per_metric_range: float = Field(default=1.0, gt=0, description="max - min across judges >= this -> disputed")
    overall_std: float | None = Field(
        default=None, gt=0,
        description="std across judges of each judge's mean score >= this -> every metric they differ on is disputed",
    )


class ArbiterSpec(StrictModel):
    enabled: bool = True
    role: str = "arbiter"


DEFAULT_JUDGES = [
    JudgeSpec(id="critic", persona="A critic: you question other referees' reasoning and check every claim "
              "against the trajectory, looking for inconsistencies and contradictions."),
    JudgeSpec(id="psychologist", persona="A psychologist: you attend to emotions, motives and whether the "
              "personality shown matches the profile."),
    JudgeSpec(id="public", persona="A member of the general public: you judge whether the character is "
              "believable, natural and engaging to follow."),
]


class JudgeConfig(StrictModel):
    mode: Literal["absolute", "pairwise"] = Field(
        default="absolute", description="absolute: score one item (panel.score); pairwise: A vs B (panel.compare)")
    judges: list[JudgeSpec] = Field(default_factory=lambda: list(DEFAULT_JUDGES), min_length=1)
    critique_first: bool = Field(default=True, description="the answer's critique comes before its scores")
    critique_call: bool = Field(default=False, description="a separate critique call before the scoring call")
    strategy: Literal["one_by_one", "simultaneous", "simultaneous_summarizer"] = "one_by_one"
    debate: bool = Field(default=True, description="debate the disputed metrics before the arbiter (ChatEval); false: the arbiter reads the independent answers (PersonaArena as published)")
    max_debate_rounds: int = Field(default=2, ge=0)
    blind_final: bool = Field(default=True, description="no judge sees another judge's final statement")
    disagreement: Disagreement = Disagreement()
    full_debate: bool = Field(default=False, description="debate every metric, disputed or not (cost comparisons)")
    arbiter: ArbiterSpec = ArbiterSpec()
    summarizer_role: str = "judge"
    aggregation: Literal["mean", "median"] = "mean"
    pairwise_swap: bool = Field(default=True, description="judge both presentation orders and sum")
    temperature: float = Field(default=0.0, ge=0)
    max_tokens: int = Field(default=1024, ge=64, description="critique, scores and quotes need more than a chat turn")
    max_parse_retries: int = Field(
        default=1, ge=0,
        description="re-asks after the client's own repair; with repair_attempts=1, 1 gives a judge up to 4 answers",
    )

    @field_validator("arbiter", mode="before")
    @classmethod
    def _arbiter_switch(cls, value):
        return {"enabled": value} if isinstance(value, bool) else value

    @model_validator(mode="after")
    def _distinct_ids(self) -> JudgeConfig:
        ids = [judge.id for judge in self.judges]
        if len(set(ids)) != len(ids):
            raise ValueError(f"judge ids must be distinct, got {ids}")
        reserved = sorted(set(ids) & set(RESERVED_IDS))
        if reserved:
            raise ValueError(f"judge ids {reserved} are reserved for the panel's own roles")
        return self
