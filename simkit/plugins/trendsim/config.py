"""The `trendsim:` section of a scenario file, validated strictly (unknown keys are errors)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from simkit.config import StrictModel, parse_duration
from simkit.plugins.trendsim.validity import ValidityConfig
from simkit.plugins.trendsim.world import load_topics

ATTACK_TYPES = ("antisocial", "trolling", "rumor")
AttackType = Literal["antisocial", "trolling", "rumor"]
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]  # "4h", "90m", 14400


class KernelConfig(StrictModel):
    """Shape of the rise-peak-decay visit kernel f(t; A, T_m, alpha) on t in [0, span]."""

    t_peak: float = Field(default=5.0, gt=0, description="T_m: where the exponential rise ends")
    alpha: float = Field(default=1.0, gt=0, description="1/alpha: length of the rounded peak")
    span: float = Field(default=10.0, gt=0, description="kernel units mapped onto the time window")

    @model_validator(mode="after")
    def _peak_inside(self) -> "KernelConfig":
        if self.t_peak >= self.span:
            raise ValueError("t_peak must be below span")
        return self


class AttackConfig(StrictModel):
    """Prototype-based attackers: their share of the population and their timetable."""

    share: float = Field(default=0.0, ge=0.0, lt=1.0, description="0, 0.1, 0.3, 0.5 are the paper's SE, PA-10, PA-30, PA-50")
    mix: dict[AttackType, float] = Field(default_factory=lambda: {t: 1.0 for t in ATTACK_TYPES})
    period: Duration = Field(default=timedelta(hours=4), description="gap between an attacker's visits")
    first_within: float = Field(default=0.1, gt=0, le=1, description="first visit within this fraction of the lifecycle")

    @field_validator("mix")
    @classmethod
    def _mix(cls, value: dict[str, float]) -> dict[str, float]:
        if any(w < 0 for w in value.values()) or sum(value.values()) <= 0:
            raise ValueError("weights must be non-negative and not all zero")
        return value


class CensorshipConfig(StrictModel):
    """LLM content censorship of new comments (replies are never censored, as in the paper)."""

    enabled: bool = False
    start_fraction: float = Field(default=0.0, ge=0.0, le=1.0, description="censor comments posted after this part of the lifecycle")


class TrendSimConfig(StrictModel):
    topic: str = Field(default="marathon-hospital", description="topic id from data/topics.yaml")
    cognition: Literal["faithful", "fused"] = "fused"
    time_mode: Literal["paper", "code"] = "paper"
    code_window: Duration = Field(default=timedelta(hours=4), description="time_mode=code: visits fall in [start, start + window]")
    kernel: KernelConfig = KernelConfig()
    max_actions_per_visit: int = Field(default=4, ge=1, le=20)
    page_size: int = Field(default=4, ge=1, le=20)
    reading_speed: float = Field(default=25.0, gt=0, description="characters per second; a page costs len(page)/speed seconds")
    attack: AttackConfig = AttackConfig()
    censorship: CensorshipConfig = CensorshipConfig()
    validity: ValidityConfig = Field(default_factory=ValidityConfig, description="the paper's judged validity checks (Tables 2-3)")

    @field_validator("topic")
    @classmethod
    def _known_topic(cls, value: str) -> str:
        topics = load_topics()
        if value not in topics:
            raise ValueError(f"unknown topic {value!r} (known: {', '.join(topics)})")
        return value
