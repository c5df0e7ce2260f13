"""The scenario plugin contract, and nothing else.

The engine owns time, order, randomness, the LLM clients and the database; a plugin owns
its world. A run calls, in this order:

0. `setup(personas)` (async, once): build the world and agents; it may call the LLM (an
   environment agent inventing the event and NPCs) and record rows, which land with tick 0.
Each tick:
1. `activate(tick, due)`: given the scheduled events that fell due, the turns of this tick,
   in the order they should run (`Activation`s). May call the LLM.
2. `act(activation)`: run the agent's cognition (a LangGraph graph); return `Action`s.
   Record what the agent was shown with `ctx.expose` (and each tool result with
   `ctx.observe`). In `synchronous` mode all turns of a tick run concurrently against the
   world as it was at the start of the tick; in `sequential` mode one at a time, in the
   plugin's order, each applied before the next turn starts. In sequential mode `act` may
   also `perform` an action at once (a message sent, then a read that sees it).
3. `apply(action)`: change the world; may return a result (what `perform` hands back).
   In synchronous mode called in (sim time, agent id) order, never in completion order.
   May call the LLM (a narrator resolving an action does).
   Turns can be added or cancelled while the tick runs (`ctx.turns`): a reaction that uses
   up the reactor's turn cancels it; in sequential mode, when the queue runs dry the engine
   asks `next_turn(tick)` (an environment agent choosing the next speaker) until it says None.
4. `end_tick(tick)`: world-level work after all turns (scene updates, per-tick metrics).
Then `finish()` computes the run's metrics and judgements. `is_done()` ends a run early.

How the plugins map onto this is written down in `simkit/plugins/README.md`.
"""

from __future__ import annotations

import typing
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, ClassVar, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    import numpy as np

    from simkit.llm.client import LLMClient
    from simkit.llm.scripted import Responder
    from simkit.personas.model import Persona


@dataclass(frozen=True)
class TickInfo:
    """One tick of the simulated clock: its index and the sim-time span it covers."""

    index: int
    start: datetime
    end: datetime


@dataclass
class AgentSpec:
    """An agent the plugin created in `setup`; stored in the `agents` table."""

    agent_id: str
    kind: str
    persona: "Persona | None" = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Activation:
    """One turn: an agent acting in this tick, and the plugin's notes for its `act` call."""

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


class DueEvent(Protocol):
    """A scheduled event that fell due (what `ctx.schedule` made)."""

    time: datetime
    kind: str
    agent_id: str | None
    payload: dict[str, Any]


class Turns(Protocol):
    """The turns of the running tick still to come, in the order they will run."""

    def add(self, activation: Activation, *, first: bool = False) -> None: ...
    def cancel(self, agent_id: str) -> int: ...
    def pending(self) -> list[Activation]: ...


class PluginContext(Protocol):
    """What the engine offers a plugin (`self.ctx`); `simkit.engine.context.RunContext` is it."""

    run_id: str
    seed: int
    mode: str
    tick: TickInfo | None
    turns: Turns
    llm: "LLMClient"

    @property
    def now(self) -> datetime: ...
    def llm_for(self, role: str) -> "LLMClient": ...
    def rng(self, purpose: str, tick: int | None = None, agent: str | None = None) -> "np.random.Generator": ...
    def schedule(self, time: datetime, kind: str, agent_id: str | None = None, **payload: Any) -> Any: ...
    def emit(self, kind: str, payload: dict | None = None, *, agent_id: str | None = None, sim_time: datetime | None = None) -> None: ...
    def expose(self, agent_id: str, items: Any, *, sim_time: datetime | None = None) -> None: ...
    def observe(self, agent_id: str, tool: str, arguments: dict, result: Any, *, sim_time: datetime | None = None) -> None: ...
    def save_state(self, agent_id: str, state: dict) -> None: ...
    def metric(self, name: str, value: float | None, labels: dict | None = None) -> None: ...
    def judgement(self, record: dict) -> None: ...
    def record(self, table: str, row: dict) -> None: ...
    async def gather(self, *aws: Awaitable[Any]) -> list[Any]: ...


ConfigT = TypeVar("ConfigT", bound=BaseModel)
SweepReport = Callable[[Any, list[str], Any], None]  # (RunReader, run ids, rich Console)


class Plugin(ABC, Generic[ConfigT]):
    """Base class of scenario plugins, registered under the entry-point group `simkit.scenarios`.

    `class MyPlugin(Plugin[MyConfig])` types `self.config` and makes `MyConfig` the model
    that validates the plugin's YAML section."""

    name: ClassVar[str]
    config_model: ClassVar[type[BaseModel]]
    mode: ClassVar[Literal["synchronous", "sequential"]] = "synchronous"
    prompts_dir: ClassVar[Path | None] = None
    # LLM roles besides the default one, each configurable under `llm.roles.<role>`
    # (a character model under test next to a fixed narrator, judges on their own models).
    llm_roles: ClassVar[tuple[str, ...]] = ()
    # The roles of `llm_roles` the model under test plays (`llm.model`, `--llm`); every other
    # role is an instrument that must be pinned under `llm.roles` (simkit/roles.py).
    subject_roles: ClassVar[tuple[str, ...]] = ()
    # `sweep_report(reader, run_ids, console)`: the comparison table of `simkit sweep`;
    # None keeps the generic one (each run's final metrics).
    sweep_report: ClassVar[SweepReport | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "config_model" not in cls.__dict__:
            for base in getattr(cls, "__orig_bases__", ()):
                if typing.get_origin(base) is Plugin:
                    (arg,) = typing.get_args(base)
                    if isinstance(arg, type) and issubclass(arg, BaseModel):
                        cls.config_model = arg

    def __init__(self, config: ConfigT, ctx: PluginContext):
        self.config: ConfigT = config
        self.ctx = ctx

    # -- set-up ---------------------------------------------------------------------------
    @abstractmethod
    async def setup(self, personas: "list[Persona]") -> list[AgentSpec]:
        """Build the world and agents from the population; schedule first events with `ctx.schedule`."""

    def scripted_responders(self) -> "dict[str, Responder]":
        """Answers the scripted backend gives for this plugin's call purposes (tests, dry runs)."""
        return {}

    # -- each tick ------------------------------------------------------------------------
    @abstractmethod
    async def activate(self, tick: TickInfo, due: list[DueEvent]) -> list[Activation]:
        """The turns of this tick, in the order they should run."""

    async def next_turn(self, tick: TickInfo) -> Activation | None:
        """Sequential mode: one more turn once the queue is empty (None ends the tick's turns)."""
        return None

    @abstractmethod
    async def act(self, activation: Activation) -> list[Action]:
        """The agent decides. The world changes only through returned actions or `perform`."""

    @abstractmethod
    async def apply(self, action: Action) -> Any:
        """Give one action its effect on the world; the return value goes back to `perform`."""

    async def perform(self, action: Action) -> Any:
        """Apply `action` now, from inside `act` (sequential mode only: no other agent is
        acting against the same world); returns what `apply` returned."""
        if self.ctx.mode != "sequential":
            raise RuntimeError(f"{self.name}: perform() needs sequential mode (this run is {self.ctx.mode})")
        return await self.apply(action)

    async def end_tick(self, tick: TickInfo) -> None:
        """World-level work after the tick's turns."""

    def is_done(self) -> bool:
        """True ends the run before the clock does (an episode that ended early)."""
        return False

    # -- end of run -----------------------------------------------------------------------
    async def finish(self) -> None:
        """Compute final metrics (`ctx.metric`) and judgements (`ctx.judgement`)."""

    @classmethod
    def replay_renderer(cls) -> Any:
        """A `simkit.replay.render.Renderer` that draws this plugin's events and exposures in
        both replay viewers; None keeps the generic renderer."""
        return None
