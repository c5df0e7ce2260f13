"""Open a run (new or resumed), drive the tick loop, finish it. The CLI's `run` and
`sweep` and the tests all go through `execute()`."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from pydantic import BaseModel

import simkit
from simkit.config import ScenarioConfig, build_config, scenario_to_yaml_dict
from simkit.engine.clock import Clock
from simkit.engine.context import RunContext, build_context
from simkit.engine.loop import SETUP_PHASE, LoopStatus, TickLoop
from simkit.engine.recorder import run_in_slot
from simkit.engine.records import agent_rows, new_run_id
from simkit.engine.registry import load_plugin
from simkit.errors import SimkitError, UsageError
from simkit.llm.secrets import redact
from simkit.llm.base import Backend
from simkit.llm.client import COUNTERS, LLMClient
from simkit.llm.scripted import ScriptedBackend
from simkit.personas.model import Persona, load_personas
from simkit.plugins.base import Plugin
from simkit.roles import check_roles, run_model_rows
from simkit.store.reader import RunReader
from simkit.store.writer import RunWriter, dumps, now_iso

if TYPE_CHECKING:
    from simkit.engine.budget import Budget


@dataclass
class RunResult:
    run_id: str
    db_path: Path
    status: str
    last_tick: int
    llm: LLMClient
    health: list[str] = field(default_factory=list)  # health-check warnings (simkit.engine.health)




def resolve_path(path: Path, source: Path | None) -> Path:
    """Relative paths are tried against the working directory, then the scenario's folder
    and its parent (so scenarios run from anywhere)."""
    if path.is_absolute() or path.exists() or source is None:
        return path
    for base in (source.parent, source.parent.parent):
        candidate = base / path
        if candidate.exists():
            return candidate
    return path


def select_population(config: ScenarioConfig, ctx: RunContext, source: Path | None) -> list[Persona]:
    path = resolve_path(config.population.personas, source)
    if not path.exists():
        raise UsageError(f"{source or 'config'}: population.personas: persona file {path} not found")
    personas = load_personas(path)
    size = config.population.size
    if config.population.sampling == "replacement":
        idx = ctx.rng("population").choice(len(personas), size=size, replace=True)
        return [personas[i] for i in idx]
    if size > len(personas):
        raise UsageError(
            f"{source or 'config'}: population.size: {size} personas asked for, but {path} holds {len(personas)} "
            "(population.sampling: replacement draws with replacement)"
        )
    if config.population.sampling == "random":
        idx = sorted(ctx.rng("population").choice(len(personas), size=size, replace=False))
        return [personas[i] for i in idx]
    return personas[:size]


def prompt_hashes(plugin_cls: type[Plugin]) -> dict[str, str]:
    folder = getattr(plugin_cls, "prompts_dir", None)
    if not folder or not Path(folder).is_dir():
        return {}
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16]
        for p in sorted(Path(folder).rglob("*"))
        if p.is_file()
    }


class Simulation:
    """One run: config, plugin, context, writer. Built by `prepare()`, driven by `run()`."""

    def __init__(
        self,
        config: ScenarioConfig,
        plugin_cfg: BaseModel,
        db_path: Path,
        *,
        source: Path | None = None,
        run_id: str | None = None,
        backend: Backend | None = None,
        budget: "Budget | None" = None,
    ):
        from simkit.engine.branch import load_fork

        self.config = config
        self.plugin_cfg = plugin_cfg
        self.db_path = db_path
        self.source = source
        self.plugin_cls: type[Plugin] = load_plugin(config.plugin, str(source or "config"))
        self.run_id = run_id or new_run_id(config.name)
        self.budget = budget
        # a branch runs its first ticks with its parent's settings (simkit/engine/branch.py)
        self.fork = load_fork(db_path, run_id) if run_id else None
        start = self.fork.parent_config if self.fork else config
        self.mode = self.plugin_cls.mode if config.mode == "plugin" else config.mode
        clock = Clock(config.clock.start, config.clock.end, config.clock.tick)
        self._reader: RunReader | None = None
        self.ctx = build_context(
            self.run_id, config.seed, clock, start.llm, backend=backend, lookup=self._cached_answer, mode=self.mode
        )
        self.llm = self.ctx.llm
        self.plugin = self.plugin_cls(self.fork.parent_plugin_cfg if self.fork else plugin_cfg, self.ctx)
        self._register_responders()
        self.writer: RunWriter | None = None
        self.spend_before: dict[str, int] = {}
        self.health: list[str] = []  # warnings of the health checks, once the run ended
        self.retired_llms: list = []  # a fork that changed models leaves the earlier clients here, to close
        self.status = LoopStatus(ticks_total=clock.n_ticks)
        self.started = False  # the run is in the database (a resume hint makes sense)
        self.resume_changes: dict = {}  # endpoint settings changed on resume (`simkit.engine.resume`)

    def _register_responders(self) -> None:
        responders = self.plugin.scripted_responders()
        for b in self.ctx.llms.backends():
            if isinstance(b, ScriptedBackend):
                for purpose, fn in responders.items():
                    b.register(purpose, fn)

    def spent(self) -> dict[str, int]:
        """LLM spend of the whole run so far: earlier sessions (from the store) plus this one."""
        live = self.ctx.llms.stats.totals()
        return {k: self.spend_before.get(k, 0) + live.get(k, 0) for k in ("llm_calls", "tokens_in", "tokens_out")}

    def _cached_answer(self, key: str) -> dict | None:
        return self._reader.cached_answer(key) if self._reader is not None else None

    def _open_writer(self) -> RunWriter:
        writer = RunWriter(self.db_path)
        self._reader = RunReader(writer.db)
        return writer

    async def _setup(self, personas: list[Persona], replaying: bool) -> list:
        """The plugin's async set-up. Its rows land with tick 0; on a resume past tick 0
        they are in the database already, so its LLM answers come from there and its rows
        are dropped."""
        recorder = self.ctx.recorder
        recorder.replaying = replaying
        agents = await run_in_slot((SETUP_PHASE,), None, self.plugin.setup(personas))
        recorder.replaying = False
        if replaying:
            recorder.clear()
        return agents

    async def run(self, *, resume: bool = False, on_tick: Callable[[LoopStatus], None] | None = None) -> RunResult:
        """Set up, run the ticks, finish; the HTTP clients are closed however it ends (also
        when the endpoint check, the database or the population fails before the first tick)."""
        try:
            return await self._run(resume, on_tick)
        finally:
            for llms in [*self.retired_llms, self.ctx.llms]:
                await llms.aclose()

    async def _run(self, resume: bool, on_tick: Callable[[LoopStatus], None] | None) -> RunResult:
        report = on_tick or (lambda _s: None)
        self.status.phase = "setup"
        report(self.status)
        await self.ctx.llms.check()
        personas = select_population(self.config, self.ctx, self.source)
        self.writer = writer = self._open_writer()
        replay_until = -1
        if resume:
            row = RunReader(writer.db).run(self.run_id)
            if row["status"] == "finished":
                raise UsageError(f"run {self.run_id} already finished; nothing to resume")
            replay_until = row["last_tick"] if row["last_tick"] is not None else -1
        agents = await self._setup(personas, replaying=replay_until >= 0)
        if resume:
            self._check_same_world(writer, row, agents)
            update: dict = {"status": "running", "error": None, "host": socket.gethostname()}
            if self.resume_changes:  # endpoint settings changed on resume: the stored config follows
                update["config_json"] = dumps(scenario_to_yaml_dict(self.config))
            writer.record_resume(self.run_id, replay_until, self.resume_changes, update)
            self.started = True
        else:
            writer.start_run(
                {
                    "run_id": self.run_id,
                    "scenario": self.config.name,
                    "plugin": self.config.plugin,
                    "config_json": dumps(scenario_to_yaml_dict(self.config)),
                    "seed": self.config.seed,
                    "simkit_version": simkit.__version__,
                    "host": socket.gethostname(),  # where it ran (a sweep point on a Ray cluster: its node)
                    "model": self.llm.model,
                    "prompt_hashes_json": dumps(prompt_hashes(self.plugin_cls)),
                    "status": "running",
                    "started_at": now_iso(),
                    "ticks_total": self.ctx.clock.n_ticks,
                    "last_tick": None,
                    **dict.fromkeys(COUNTERS, 0),
                },
                run_model_rows(self.run_id, self.plugin_cls, self.config.llm, self.ctx.llms),
                agent_rows(agents),
            )
            self.started = True
        loop = TickLoop(self.plugin, self.ctx, writer, self.mode, on_tick, self.status)
        if self.fork is not None:
            from simkit.engine.branch import fork_hook

            loop.before_tick = fork_hook(self, writer)
        self.spend_before = writer.totals(self.run_id) if resume else {}
        if self.budget is not None:
            self.budget.check_start(self.spent(), self.run_id)
            loop.should_stop = lambda: self.budget.reached(self.spent())
        status, last = "failed", replay_until
        try:
            last = await loop.run(0, replay_until)
            if loop.stopped:
                status = "stopped: budget"
                writer.update_run(self.run_id, {"status": status, "error": self.budget.message(self.spent()), **writer.totals(self.run_id)})
            else:
                self.status.phase = "finish"
                self.status.calls_at_finish = self.llm.stats.llm_calls + self.llm.stats.cache_hits
                report(self.status)
                await self._finish(last)
                self.status.phase = "done"
                report(self.status)
                status = "finished"
            self.health = self._check_health(writer)
        except (KeyboardInterrupt, asyncio.CancelledError):
            status = "interrupted"
            self._mark_failed(status, "interrupted by the user")
            raise
        except SimkitError as exc:
            self._mark_failed("failed", str(exc))
            raise
        except Exception as exc:
            self._mark_failed("failed", f"{type(exc).__name__}: {exc}")
            raise
        return RunResult(self.run_id, self.db_path, status, last, self.llm, self.health)

    def _check_health(self, writer: RunWriter) -> list[str]:
        from simkit.engine.health import run_checks

        warnings = run_checks(writer.db, self.run_id, self.plugin, RunReader(writer.db))
        writer.update_run(self.run_id, {"health_json": dumps(warnings)})
        return warnings

    def _mark_failed(self, status: str, error: str) -> None:
        """Best effort: a run that failed because the database cannot be written stays
        `running` in it, which resumes the same way."""
        assert self.writer is not None
        try:
            self.writer.update_run(self.run_id, {"status": status, "error": redact(error, self.config.llm)})
        except (SimkitError, sqlite3.Error, OSError):
            pass

    def _check_same_world(self, writer: RunWriter, row: dict, agents: list) -> None:
        """Resume re-executes committed ticks, so the population and prompts must be the
        ones the run started with; refuse rather than silently fork the trajectory."""
        stored = [
            (r["agent_id"], r["persona_id"])
            for r in writer.db.query("select agent_id, persona_id from agents where run_id = ? order by rowid", [self.run_id])
        ]
        now = [(a.agent_id, a.persona.id if a.persona else None) for a in agents]
        if self.fork is not None:  # a branch's fork may have added agents after set-up
            stored = stored[: len(now)]
        if stored != now:
            raise UsageError(
                f"cannot resume {self.run_id}: its agents or personas differ from the ones it started with "
                f"(was the persona file {self.config.population.personas} changed?)"
            )
        if json.loads(row["prompt_hashes_json"] or "{}") != prompt_hashes(self.plugin_cls):
            raise UsageError(
                f"cannot resume {self.run_id}: the {self.config.plugin} prompt templates changed since it started"
            )

    async def _finish(self, last_tick: int) -> None:
        """Run the plugin's end-of-run work; judge calls made there are part of the
        trajectory too, appended to the last tick."""
        self.ctx.recorder.clear()
        await run_in_slot((0,), None, self.plugin.finish())
        for backend in self.ctx.llms.backends():  # an endpoint pool's per-endpoint totals
            self.ctx.buffer.metrics.extend(getattr(backend, "final_metrics", list)())
        assert self.writer is not None
        note = f"ended early at tick {last_tick + 1} ({self.status.ended_early})" if self.status.ended_early else None
        self.writer.commit_finish(self.run_id, max(last_tick, 0), self.ctx.buffer, {"end_note": note})


def load_scenario(path: Path, overrides: list[str] | None = None, extra: dict | None = None):
    """Read, override and validate a scenario file. Returns (config, plugin config)."""
    from simkit.config import apply_overrides, read_yaml

    data = read_yaml(path)
    if extra:
        for key, value in extra.items():
            if isinstance(value, dict):
                section = data.setdefault(key, {})
                if not isinstance(section, dict):
                    raise UsageError(f"{path}: {key}: must be a mapping")
                section.update(value)
            else:
                data[key] = value
    apply_overrides(data, overrides or [])
    return configure(data, str(path))


def configure(data: dict, source: str):
    """Validate a scenario mapping, then its LLM roles (subjects, pinned instruments, panel
    judges: `simkit.roles.check_roles`). Returns (config, plugin config)."""
    config, plugin_cfg = build_config(data, source, load_plugin)
    check_roles(config, load_plugin(config.plugin, source), plugin_cfg, source)
    return config, plugin_cfg


def config_from_run(reader: RunReader, run_id: str):
    stored = json.loads(reader.run(run_id)["config_json"])
    return configure(stored, f"run {run_id}")
