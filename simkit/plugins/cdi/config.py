"""The `cdi:` section of a scenario file, validated strictly (unknown keys are errors)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from simkit.config import StrictModel
from simkit.plugins.cdi.scenario import load_scenarios

Defense = Literal["none", "prompting", "guarding", "cdi"]


class AgentLimits(StrictModel):
    """How long one agent may act: model calls per action cycle and cycles per task (the
    authors' `max_actions` counts cycles; their step cap per cycle is 50)."""

    max_steps: int = Field(default=6, ge=1, le=50, description="model calls per action cycle")
    max_cycles: int = Field(default=4, ge=1, le=50, description="action cycles before the task ends")
    timeout_steps: int = Field(
        default=0, ge=0, le=50,
        description="0: act only on notifications (the sender); n: a proactive cycle after n orchestrator steps without one",
    )


class JudgeSettings(StrictModel):
    """How the sends are judged (the judge model is the `judge` role: `llm.roles.judge`)."""

    mode: Literal["message", "run"] = Field(
        default="message",
        description="message: one call per checked send (simkit); run: one call per run over the whole history, "
                    "both memories, the indexed items and the checked actions (the authors' procedure)",
    )
    temperature: float | None = Field(
        default=None, ge=0, description="message mode's temperature (default 0); run mode follows the judge role's")


class SearchSettings(StrictModel):
    """`attacker: search` (what `simkit cdi search` runs): the authors' offline attack search
    as one recorded run. Each round plays `trajectories` fresh episodes with the current
    attack task; an optimizer (role `optimizer`) reads them and rewrites the task; it stops
    after `rounds` rounds or when a round's PP is at most `target_pp`."""

    trajectories: int = Field(default=5, ge=1, le=50, description="episodes per round (the authors' k = 5)")
    rounds: int = Field(default=10, ge=1, le=50, description="search rounds at most (the authors: 10)")
    target_pp: float = Field(default=0.0, ge=0.0, le=1.0, description="stop once a round's PP is this low (theirs: 0.0)")


class CDIConfig(StrictModel):
    scenarios: Path | None = Field(
        default=None, description="a JSON file or folder of scenarios (simkit or the authors' layout); default: the shipped set"
    )
    scenario: str | None = Field(default=None, description="id of the scenario to run; default: the first one")
    defense: Defense = "none"
    attacker: Literal["base", "strategic", "search"] = Field(
        default="base", description="base; strategic: the in-run rewrite after a failed episode (a best-of-N variant); "
                                    "search: the offline search `simkit cdi search` runs")
    attack_task: str | None = Field(default=None, description="the recipient's task, replacing the scenario's")
    search: SearchSettings = SearchSettings()
    optimizer_rounds: int = Field(default=2, ge=1, le=10, description="strategic: episodes whose failures the optimizer may learn from")
    max_orchestrator_steps: int = Field(default=6, ge=1, le=100, description="orchestrator steps (ticks) per episode; the authors use 20")
    guard_budget: int = Field(default=2, ge=0, le=20, description="vetoes allowed per action cycle; then sends go through unguarded")
    history_messages: int = Field(
        default=24, ge=0, le=10_000, description="earlier conversation messages an agent keeps across cycles; 0: all (the authors)")
    think_act: bool = Field(
        default=False, description="alternate tool_choice per step: think() first, then a required tool call (the authors)")
    aggregation: Literal["authors", "strict"] = Field(
        default="authors", description="which runs PP/HS/AD pool: authors = without runs that sent no checked action, "
                                       "an unparsed evaluation as nothing shared; strict = also without runs holding an unparsed one")
    judge: JudgeSettings = JudgeSettings()
    sender: AgentLimits = AgentLimits(max_steps=6, max_cycles=4, timeout_steps=0)
    recipient: AgentLimits = AgentLimits(max_steps=4, max_cycles=3, timeout_steps=1)

    @model_validator(mode="after")
    def _known_scenario(self) -> CDIConfig:
        """Load the scenarios now, so a bad file or id fails before any run of a sweep starts."""
        known = load_scenarios(self.scenarios)
        if self.scenario is not None and self.scenario not in known:
            shown = ", ".join(list(known)[:12]) + (f", ... ({len(known)} in all)" if len(known) > 12 else "")
            raise ValueError(f"scenario {self.scenario!r} is not in {self.scenarios or 'the shipped set'} (known: {shown})")
        return self
