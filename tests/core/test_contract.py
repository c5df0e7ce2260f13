"""The plugin contract: each test pins one thing the contract promises a plugin (and that
the contract before b896f44's successor could not do)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

import pytest
from pydantic import BaseModel

from simkit.config import LLMConfig, ScenarioConfig
from simkit.engine import runner
from simkit.engine.clock import Clock
from simkit.engine.context import build_context
from simkit.engine.loop import TickLoop
from simkit.engine.runner import Simulation
from simkit.llm.scripted import ScriptedBackend
from simkit.plugins.base import Action, Activation, AgentSpec, Plugin
from tests.conftest import SMALL_PERSONAS

T0 = datetime(2025, 1, 1)


def ctx_for(mode: str, ticks: int = 1):
    clock = Clock(T0, T0 + timedelta(minutes=ticks), timedelta(minutes=1))
    return build_context("r", 1, clock, LLMConfig(backend="scripted"), backend=ScriptedBackend(1), mode=mode)


class Empty(BaseModel):
    pass


class Stage(Plugin[Empty]):
    """Agents whose order and reactions the tests choose."""

    name = "stage"
    mode = "sequential"

    def __init__(self, config, ctx, order=("z2", "z0", "z1"), react=None, picks=()):
        super().__init__(config, ctx)
        self.order, self.react, self.picks = list(order), react or {}, list(picks)
        self.ran: list[str] = []

    async def setup(self, personas):
        return [AgentSpec(a, "x") for a in self.order]

    async def activate(self, tick, due):
        return [Activation(a, tick.start) for a in self.order]

    async def next_turn(self, tick):
        if not self.picks:
            return None
        await self.ctx.llm.complete([{"role": "user", "content": "who speaks next?"}], purpose="pick")
        return Activation(self.picks.pop(0), tick.start, {"picked": True})

    async def act(self, activation):
        self.ran.append(activation.agent_id)
        return [Action(activation.agent_id, "say", activation.sim_time)]

    async def apply(self, action):
        self.ctx.emit("said", {}, agent_id=action.agent_id)
        reactor = self.react.pop(action.agent_id, None)
        if reactor:  # the reaction happens now and uses up the reactor's own turn
            self.ctx.turns.cancel(reactor)
            self.ctx.turns.add(Activation(reactor, action.sim_time, {"reaction": True}), first=True)


async def run_one_tick(plugin, ctx, mode):
    await plugin.setup([])
    await TickLoop(plugin, ctx, None, mode).run()


async def test_sequential_turns_run_in_the_order_the_plugin_gives():
    ctx = ctx_for("sequential")
    plugin = Stage(Empty(), ctx)
    await run_one_tick(plugin, ctx, "sequential")
    assert plugin.ran == ["z2", "z0", "z1"]
    said = [r["agent_id"] for _k, r in sorted(ctx.buffer.events, key=lambda kv: kv[0])]
    assert said == ["z2", "z0", "z1"]


async def test_a_reaction_runs_at_once_and_uses_up_the_reactors_turn():
    ctx = ctx_for("sequential")
    plugin = Stage(Empty(), ctx, order=("a", "b", "c"), react={"a": "c"})
    await run_one_tick(plugin, ctx, "sequential")
    assert plugin.ran == ["a", "c", "b"]  # c reacted right after a, and lost its own later turn


async def test_next_turn_lets_the_plugin_pick_speakers_one_at_a_time():
    ctx = ctx_for("sequential")
    plugin = Stage(Empty(), ctx, order=("a",), picks=("b", "a", "b"))
    await run_one_tick(plugin, ctx, "sequential")
    assert plugin.ran == ["a", "b", "a", "b"]
    rows = [r for _k, r in sorted(ctx.buffer.llm_calls + ctx.buffer.events, key=lambda kv: kv[0])]
    kinds = [r.get("purpose") or r["kind"] for r in rows]
    assert kinds == ["said", "pick", "said", "pick", "said", "pick", "said"]  # each pick recorded before its turn


async def test_synchronous_turns_added_during_a_wave_form_the_next_wave():
    ctx = ctx_for("synchronous")
    plugin = Stage(Empty(), ctx, order=("b", "a"), react={"a": "c"})
    await run_one_tick(plugin, ctx, "synchronous")
    assert sorted(plugin.ran[:2]) == ["a", "b"] and plugin.ran[2:] == ["c"]


async def test_perform_is_refused_outside_sequential_mode():
    ctx = ctx_for("synchronous")
    plugin = Stage(Empty(), ctx)
    with pytest.raises(RuntimeError, match="sequential"):
        await plugin.perform(Action("a", "say", T0))


class World(BaseModel):
    name: str


class Genesis(Plugin[Empty]):
    """Creates its world with an LLM call in setup; fails once at tick 1 when asked to."""

    name = "genesis"
    mode = "sequential"
    fail_at: int | None = None

    async def setup(self, personas):
        answer = await self.ctx.llm.complete([{"role": "user", "content": "invent a world"}], schema=World, purpose="setup.world")
        self.world = answer.parsed.name
        self.ctx.emit("world_created", {"name": self.world})
        self.ctx.record("genesis_worlds", {"name": self.world})
        return [AgentSpec("npc-0", "npc", extra={"world": self.world})]

    async def activate(self, tick, due):
        if tick.index == Genesis.fail_at:
            Genesis.fail_at = None
            raise RuntimeError("boom")
        return [Activation("npc-0", tick.start)]

    async def act(self, activation):
        return [Action("npc-0", "live", activation.sim_time, {"world": self.world})]

    async def apply(self, action):
        self.ctx.emit("lived", action.payload)


def genesis_sim(db, run_id=None):
    config = ScenarioConfig(
        name="g", plugin="genesis", seed=2, llm=LLMConfig(backend="scripted"),
        clock={"start": T0, "end": T0 + timedelta(minutes=3), "tick": timedelta(minutes=1)},
        population={"personas": SMALL_PERSONAS, "size": 1},
    )
    return Simulation(config, Empty(), db, run_id=run_id)


@pytest.fixture
def genesis(monkeypatch):
    monkeypatch.setattr(runner, "load_plugin", lambda name, source: Genesis)


async def test_setup_calls_the_llm_and_its_rows_land_with_tick_0_and_survive_a_resume(genesis, tmp_path):
    db = tmp_path / "g.db"
    Genesis.fail_at = 1
    sim = genesis_sim(db)
    with pytest.raises(RuntimeError):
        await sim.run()
    resumed = genesis_sim(db, run_id=sim.run_id)
    await resumed.run(resume=True)
    con = sqlite3.connect(db)
    events = con.execute("select tick, kind from events order by tick, seq").fetchall()
    assert events[0] == (0, "world_created") and [k for _t, k in events].count("world_created") == 1
    assert [k for _t, k in events].count("lived") == 3
    calls = con.execute("select tick, purpose, cached from llm_calls").fetchall()
    assert calls == [(0, "setup.world", 0)]  # the resume took setup's answer from the database
    assert con.execute("select tick from genesis_worlds").fetchall() == [(0,)]
    assert resumed.llm.stats.llm_calls == 0


async def test_judgements_keep_text_and_labels_and_unknown_metrics_stay_null(monkeypatch, tmp_path):
    class Judged(Genesis):
        async def finish(self):
            self.ctx.judgement({
                "item_id": "scene-1", "judge_id": "j1", "role": "judge", "phase": "independent", "round": 0,
                "metrics": ["immersion"], "text": "Stays in character.", "scores": {"immersion": 4},
                "evidence": ["'I never leave the lighthouse.'"], "parsed_ok": True, "labels": {"order": "AB"},
            })
            self.ctx.metric("judge.immersion", None, {"character": "npc-0"})

    monkeypatch.setattr(runner, "load_plugin", lambda name, source: Judged)
    db = tmp_path / "j.db"
    await genesis_sim(db).run()
    con = sqlite3.connect(db)
    row = con.execute("select item_id, judge_id, phase, text, scores_json, evidence_json, labels_json from judgements").fetchone()
    assert row == ("scene-1", "j1", "independent", "Stays in character.", '{"immersion": 4}',
                   "[\"'I never leave the lighthouse.'\"]", '{"order": "AB"}')
    value = con.execute("select value from metrics where name = 'judge.immersion'").fetchone()
    assert value == (None,)
    with pytest.raises(ValueError, match="unknown keys"):
        genesis_sim(tmp_path / "x.db").ctx.judgement({"score": 3})


def test_plugin_config_type_comes_from_the_generic_parameter():
    assert Stage.config_model is Empty and Genesis.config_model is Empty


def test_the_run_context_offers_everything_plugin_context_declares():
    """`PluginContext` is what a plugin author reads; the engine's `RunContext` must have all of
    it (ctx.clock included), and the events handed to `activate` must have DueEvent's fields."""
    from simkit.engine.scheduler import Scheduler
    from simkit.plugins.base import DueEvent, PluginContext

    ctx = ctx_for("synchronous", ticks=3)
    declared = set(PluginContext.__annotations__) | {
        n for n in vars(PluginContext) if not n.startswith("_")
    }
    missing = sorted(n for n in declared if not hasattr(ctx, n))
    assert not missing, missing
    assert ctx.clock.n_ticks == 3 and ctx.clock.start == T0
    event = Scheduler().schedule(T0, "visit", "a1", n=1)
    fields = {n for n in vars(DueEvent) if not n.startswith("_")}
    assert fields == {"time", "kind", "agent_id", "payload"}
    assert {n: getattr(event, n) for n in fields} == {"time": T0, "kind": "visit", "agent_id": "a1", "payload": {"n": 1}}


@pytest.mark.parametrize("key, named", [
    ("llm.backend=local", "llm.model: local backend: model file hero-a not found; set llm.model to"),
    ("llm.roles.npc.backend=local", "llm.roles.npc.model: local backend: model file npc-a not found; set llm.roles.npc.model to"),
])
def test_a_scripted_model_name_on_the_local_backend_names_its_role(tmp_path, key, named):
    """Model names only the scripted backend knows (a dry-run scenario), switched to the
    embedded backend: one line naming the key to change, exit 2, nothing loaded."""
    import yaml

    from tests.conftest import ROOT, run_cli

    scenario = tmp_path / "pa.yaml"
    scenario.write_text(yaml.safe_dump({
        "name": "pa", "plugin": "personaarena", "seed": 1,
        "clock": {"start": "2025-06-06T19:00:00", "end": "2025-06-06T19:10:00", "tick": "5m"},
        "population": {"personas": str(ROOT / "personas" / "population.jsonl"), "size": 2},
        "llm": {"backend": "scripted", "model": "hero-a", "roles": {
            role: {"backend": "scripted", "model": f"{role[:3]}-a"} for role in ("environment", "npc", "judge", "arbiter")}},
    }))
    proc = run_cli(["run", str(scenario), "--quiet", "--out", str(tmp_path / "x.db"), "--set", key], check_rc=2, timeout=120)
    assert proc.stderr.strip().splitlines() == [f"error: {named} an existing GGUF file"]


def test_a_plugin_keeps_its_own_judges_when_a_scenario_sets_judge_keys():
    from simkit.plugins.characterbox.config import CHARACTERBOX_JUDGE, CharacterBoxConfig

    tuned = CharacterBoxConfig.model_validate({"judge": {"max_tokens": 1500}}).judge
    assert [j.id for j in tuned.judges] == [j.id for j in CHARACTERBOX_JUDGE.judges] == ["judge"]
    assert tuned.max_tokens == 1500 and tuned.critique_call and tuned.max_parse_retries == 3
    own = CharacterBoxConfig.model_validate({"judge": {"judges": [{"id": "x", "persona": "p"}]}}).judge
    assert [j.id for j in own.judges] == ["x"] and own.critique_call  # the rest still the plugin's


def test_the_installed_example_plugin_carries_its_prompt_templates(townhall_site):
    """pip install (not editable) keeps prompts/*.j2 only because the example's pyproject.toml
    lists them as package data."""
    assert sorted(p.name for p in (townhall_site / "simkit_townhall" / "prompts").glob("*.j2")) == ["speak.j2", "system.j2"]
