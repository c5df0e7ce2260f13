"""The scenario plugin contract, and nothing else.

The engine owns time, order, randomness, the LLM client and the database; a plugin owns
its world. Each tick the engine calls, in this order:

1. `activate(tick, due)`: given the scheduled events that fell due, say which agents act
   now and with what (`Activation`). May call the LLM (an environment agent choosing the
   next speaker does).
2. `act(activation)`: run the agent's cognition (a LangGraph graph) against the world as it
   was at the start of the tick; return `Action`s. Record what the agent was shown with
   `ctx.expose`. In `synchronous` mode all activations of a tick run concurrently; in
   `sequential` mode one at a time, each applied before the next agent acts.
3. `apply(action)`: change the world. Called in a deterministic order (sim time, then agent
   id), never in completion order. May call the LLM (a narrator resolving an action does).
4. `end_tick(tick)`: world-level work after all actions (scene updates, per-tick metrics).

Then `finish()` computes the run's metrics (judges score here). `is_done()` ends a run early.

How the four planned plugins map onto this is written down in `simkit/plugins/README.md`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel

if TYPE_CHECKING:
    from simkit.engine.context import RunContext, TickInfo
    from simkit.engine.scheduler import ScheduledEvent
    from simkit.llm.scripted import Responder
    from simkit.personas.model import Persona
    from simkit.store.reader import RunReader


@dataclass
class AgentSpec:
    """An agent the plugin created in `setup`; stored in the `agents` table."""

    agent_id: str
    kind: str
    persona: "Persona | None" = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Activation:
    """One agent acting in this tick, and the plugin's notes for its `act` call."""

    agent_id: str
    sim_time: datetime
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Action:
    """Something an agent does to the world; `apply` gives it effect."""

    agent_id: str
    kind: str
    sim_time: datetime
    payload: dict[str, Any] = field(default_factory=dict)


class Plugin(ABC):
    """Base class of scenario plugins, registered under the entry-point group `simkit.scenarios`."""

    name: ClassVar[str]
    config_model: ClassVar[type[BaseModel]]
    mode: ClassVar[Literal["synchronous", "sequential"]] = "synchronous"
    prompts_dir: ClassVar[Path | None] = None

    def __init__(self, config: BaseModel, ctx: "RunContext"):
        self.config = config
        self.ctx = ctx

    # -- set-up ---------------------------------------------------------------------------
    @abstractmethod
    def setup(self, personas: "list[Persona]") -> list[AgentSpec]:
        """Build the world and agents from the population; schedule first events with `ctx.schedule`."""

    def scripted_responders(self) -> "dict[str, Responder]":
        """Answers the scripted backend gives for this plugin's call purposes (tests, dry runs)."""
        return {}

    # -- each tick ------------------------------------------------------------------------
    @abstractmethod
    async def activate(self, tick: "TickInfo", due: "list[ScheduledEvent]") -> list[Activation]:
        """Which agents act in this tick."""

    @abstractmethod
    async def act(self, activation: Activation) -> list[Action]:
        """The agent decides; no world mutation here."""

    @abstractmethod
    async def apply(self, action: Action) -> None:
        """Give one action its effect on the world."""

    async def end_tick(self, tick: "TickInfo") -> None:
        """World-level work after the tick's actions."""

    def is_done(self) -> bool:
        """True ends the run before the clock does (an episode that ended early)."""
        return False

    # -- end of run -----------------------------------------------------------------------
    async def finish(self) -> None:
        """Compute final metrics (with `ctx.metric`); judges that score the run go here."""

    @classmethod
    def replay_renderer(cls) -> Any:
        """A `simkit.replay.render.Renderer` that draws this plugin's events and exposures in
        both replay viewers; None keeps the generic renderer."""
        return None

    @classmethod
    def sweep_report(cls, reader: "RunReader", run_ids: list[str], console: Any) -> None:
        """Print a comparison of the runs of a sweep. The default lists each run's final metrics."""
        from simkit.engine.sweep import default_sweep_report

        default_sweep_report(reader, run_ids, console)
