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
from typing import TYPE_CHECKING, Any, Awaitable, Callable, ClassVar, Generic, Literal, Protocol, Sequence, TypeVar

from pydantic import BaseModel

from simkit.store.series import Mark, TimeAxis

if TYPE_CHECKING:
    import numpy as np

    from simkit.engine.clock import Clock
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


@dataclass(frozen=True)
class Turn:
    """A turn of a synchronous wave handed to `act_wave`: its activation, and the context
    its work must run in (`with turn.enter(): ...`) so that what it records and the LLM calls
    it makes sort and are attributed as if the engine had run `act` for it."""

    activation: Activation
    enter: Callable[[], typing.ContextManager[None]]


@dataclass
class Action:
    """Something an agent does to the world; `apply` gives it effect."""

    agent_id: str
    kind: str
    sim_time: datetime
    payload: dict[str, Any] = field(default_factory=dict)


class DueEvent(Protocol):
    """A scheduled event that fell due (what `ctx.schedule` made; the engine passes its
    `simkit.engine.scheduler.ScheduledEvent`s). Read-only to a plugin."""

    @property
    def time(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def agent_id(self) -> str | None: ...
    @property
    def payload(self) -> dict[str, Any]: ...


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
    clock: "Clock"  # the run's span and tick length: .start, .end, .tick, .n_ticks, .time_of(i)
    tick: TickInfo | None
    turns: Turns

    @property
    def llm(self) -> "LLMClient": ...

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
    # The x axis of the plugin's per-tick metrics (`simkit.store.series`): the tick by default,
    # or a metric label holding the time (TrendSim: `hour`), with its title and unit.
    time_axis: ClassVar[TimeAxis] = TimeAxis()
    # Settings that may change at a fork (`simkit branch --set`): dotted scenario keys or
    # prefixes (`trendsim.attack.share`, `llm`); any other change is refused. `fork()` applies them.
    fork_settings: ClassVar[tuple[str, ...]] = ()
    # Metrics for which NULL is a result, not a failure (the health check "NULL for most items"
    # skips them), e.g. the turn at which a checkpoint was covered when it never was.
    null_is_outcome: ClassVar[tuple[str, ...]] = ()
    # True when the number of LLM calls grows with `population.size` (one agent per persona):
    # `--estimate` may then dry-run a smaller population and scale the counts.
    calls_scale_with_population: ClassVar[bool] = False

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
    async def activate(self, tick: TickInfo, due: Sequence[DueEvent]) -> list[Activation]:
        """The turns of this tick, in the order they should run; `due`: the scheduled events
        that fell due in this tick, in (time, scheduling) order."""

    async def next_turn(self, tick: TickInfo) -> Activation | None:
        """Sequential mode: one more turn once the queue is empty (None ends the tick's turns)."""
        return None

    @abstractmethod
    async def act(self, activation: Activation) -> list[Action]:
        """The agent decides. The world changes only through returned actions or `perform`."""

    async def act_wave(self, turns: list[Turn]) -> list[list[Action]] | None:
        """Synchronous mode, optional: every turn of a wave at once (e.g. one batched
        LangGraph invocation, `simkit.agents.wave`), the actions per turn in turn order; the
        same actions `act` would return. None (the default): the engine calls `act` per turn."""
        return None

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

    async def fork(self, config: ConfigT, tick: TickInfo) -> list[AgentSpec]:
        """A branch leaves its parent here, at the start of `tick`: take the changed settings
        (only keys in `fork_settings` differ). The default swaps the config, which is enough
        for settings read as the run goes; a plugin whose setting shaped its set-up changes
        the world here (and returns any agents it added). It may `ctx.schedule` and record."""
        self.config = config
        return []

    def health_checks(self, reader: Any, run_id: str) -> list[str]:
        """The plugin's own checks of a finished (or stopped) run: one warning line each, for
        what makes the run worthless for research (`simkit.engine.health` runs the generic ones)."""
        return []

    def is_done(self) -> bool:
        """True ends the run before the clock does (an episode that ended early)."""
        return False

    def done_reason(self) -> str:
        """Why `is_done()` said True, in a few words ("all checkpoints covered"); shown as
        "ended early at tick N (reason)" and stored in `runs.end_note`."""
        return ""

    # -- end of run -----------------------------------------------------------------------
    async def finish(self) -> None:
        """Compute final metrics (`ctx.metric`) and judgements (`ctx.judgement`)."""

    @classmethod
    def series_marks(cls, db: Any, run_id: str) -> list[Mark]:
        """Moments to mark on the time axis of this run's charts (an attack's start); none by default."""
        return []

    @classmethod
    def export_tables(cls, db: Any, run_id: str) -> "dict[str, Any]":
        """Tables derived from a run for `simkit export`, besides the run's own tables (which,
        plugin tables included, are always exported): {name: iterable of row dicts}, written as
        `<plugin>_<name>`. None by default."""
        return {}

    @classmethod
    def replay_renderer(cls) -> Any:
        """A `simkit.replay.render.Renderer` that draws this plugin's events and exposures in
        both replay viewers; None keeps the generic renderer."""
        return None
