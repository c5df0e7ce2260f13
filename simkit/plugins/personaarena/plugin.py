"""`PersonaArenaPlugin`: one persona role-play episode per run, judged by a debating panel.

Sequential mode. `setup` asks the environment agent (role `environment`) for the scene and
its 2-3 NPCs. Each tick runs up to `turns_per_tick` lines: the engine asks `next_turn`, where
the environment agent picks the next speaker (one call per pick) and may give it a cue
toward a missing checkpoint; `act` runs that speaker's turn (the protagonist on the model
under test, an NPC on role `npc`); `apply` adds the line and, for a protagonist line, asks
the environment agent which checkpoints it showed. `is_done` ends the episode once all
five are covered (`early_stop`) or at `max_turns`. `finish` runs the judge panel.
"""

from __future__ import annotations

from typing import Any

from simkit.errors import ConfigError
from simkit.judges import PERSONAARENA, JudgeItem, JudgePanel, Step
from simkit.personas.model import Persona
from simkit.plugins.base import Action, Activation, AgentSpec, Plugin
from simkit.plugins.personaarena import metrics
from simkit.plugins.personaarena.agents import PROMPTS, PROMPTS_DIR, take_turn
from simkit.plugins.personaarena.answers import CoverageAnswer, NPCLine, ProtagonistAnswer, pick_model, scene_model
from simkit.plugins.personaarena.config import PersonaArenaConfig
from simkit.plugins.personaarena.scripted import RESPONDERS
from simkit.plugins.personaarena.world import (
    CHECKPOINTS, ENVIRONMENT, NPC, PROTAGONIST, Beliefs, Episode, Scene, default_scene, distinct_names, persona_card,
)


class RecordingHost:
    """The run context as the judges' host, also keeping each judge message in memory for the
    metrics. The messages are stored once, in the `judgements` table (the replay viewers show
    them from there)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.records: list[dict] = []

    def llm_for(self, role: str):
        return self.ctx.llm_for(role)

    def gather(self, *coroutines):
        return self.ctx.gather(*coroutines)

    def judgement(self, record: dict) -> None:
        self.ctx.judgement(record)
        self.records.append(record)


def leaderboard(reader, run_ids: list[str], console) -> None:
    """The sweep report (imported when used, so `python -m ...report` runs cleanly)."""
    from simkit.plugins.personaarena.report import leaderboard as table

    table(reader, run_ids, console)


class PersonaArenaPlugin(Plugin[PersonaArenaConfig]):
    """Persona-level role-play with an environment agent and debating judges (PersonaArena, 2026)."""

    name = "personaarena"
    mode = "sequential"
    prompts_dir = PROMPTS_DIR
    llm_roles = ("protagonist", "environment", "npc", "judge", "arbiter")
    subject_roles = ("protagonist",)  # the model under test; the other roles are instruments (pinned)
    sweep_report = staticmethod(leaderboard)
    # `simkit branch`: the episode's pacing and steering, the judges, other models (read each turn)
    null_is_outcome = ("checkpoint.turn",)  # NULL: the checkpoint was never covered
    fork_settings = ("personaarena.max_turns", "personaarena.turns_per_tick", "personaarena.max_npc_streak",
                     "personaarena.early_stop", "personaarena.steer", "personaarena.history", "personaarena.max_tokens",
                     "personaarena.judge", "llm")

    def scripted_responders(self):
        return dict(RESPONDERS)

    # -- set-up ---------------------------------------------------------------------------
    async def setup(self, personas: list[Persona]) -> list[AgentSpec]:
        cfg = self.config
        persona = self._choose(personas)
        missing = persona.facts.missing()
        if missing:  # the checkpoints would have nothing to be judged against
            raise ConfigError(
                f"population.personas: persona {persona.id} has no {', '.join(missing)} facts, which PersonaArena's "
                f"checkpoints are judged against; use personas made by `simkit personas generate` (personas/population.jsonl has all five groups)"
            )
        self.facts = persona_card(persona)
        scene = await self._make_scene(persona)
        self.episode = Episode(persona, scene)
        self.in_tick = 0
        self.ctx.emit("scene", scene.as_dict(), agent_id=ENVIRONMENT)
        self.ctx.record("personaarena_scene", {"persona_id": persona.id, **{k: v for k, v in scene.as_dict().items() if k != "npcs"}})
        specs = [AgentSpec(PROTAGONIST, "protagonist", persona), AgentSpec(ENVIRONMENT, "environment", None, {})]
        specs += [AgentSpec(n.agent_id, "npc", None, vars(n)) for n in scene.npcs]
        if cfg.human_labels is not None and not cfg.human_labels.exists():
            raise ConfigError(f"personaarena.human_labels: file {cfg.human_labels} not found")
        return specs

    def _choose(self, personas: list[Persona]) -> Persona:
        """The configured persona, else one drawn with the run's seed."""
        if self.config.persona is not None:
            for p in personas:
                if p.id == self.config.persona:
                    return p
            raise ConfigError(f"personaarena.persona: {self.config.persona!r} is not in the population")
        return personas[int(self.ctx.rng("personaarena.persona").integers(len(personas)))]

    async def _make_scene(self, persona: Persona) -> Scene:
        cfg = self.config
        messages = PROMPTS.messages("environment_system.j2", "scene.j2", facts=self.facts, min_npcs=cfg.min_npcs, max_npcs=cfg.max_npcs)
        ans = await self.ctx.llm_for("environment").complete(
            messages, schema=scene_model(cfg.min_npcs, cfg.max_npcs), purpose="personaarena.scene",
            agent_id=ENVIRONMENT, max_tokens=2 * cfg.max_tokens,
        )
        if not ans.ok:
            return default_scene(persona, cfg.min_npcs)
        s = ans.parsed
        names = distinct_names(persona.name, [n.name for n in s.npcs])
        npcs = [NPC(f"npc-{i + 1}", name, n.relation, n.description, n.self_belief) for i, (name, n) in enumerate(zip(names, s.npcs))]
        return Scene(s.event, s.time, s.location, s.description, s.opening, npcs)

    # -- each tick ------------------------------------------------------------------------
    async def activate(self, tick, due) -> list[Activation]:
        """No fixed queue: the environment agent picks every speaker in `next_turn`."""
        self.in_tick = 0
        return []

    async def next_turn(self, tick) -> Activation | None:
        ep, cfg = self.episode, self.config
        if ep.stop is not None or self.in_tick >= cfg.turns_per_tick:
            return None
        self.in_tick += 1
        speakers = tuple(ep.speakers)
        messages = PROMPTS.messages(
            "environment_system.j2", "pick.j2", scene=ep.scene, who=ep.persona.name, speakers=speakers,
            transcript=ep.transcript.render(last=cfg.history), missing=ep.missing, steer=cfg.steer,
        )
        ans = await self.ctx.llm_for("environment").complete(
            messages, schema=pick_model(speakers), purpose="personaarena.pick", agent_id=ENVIRONMENT,
            max_tokens=cfg.max_tokens,
        )
        if ans.ok:
            speaker, reason, cue = ans.parsed.speaker, ans.parsed.reason, ans.parsed.cue if cfg.steer else ""
        else:
            speaker, reason, cue = ep.fallback_speaker(), "fallback: the pick did not parse", ""
        overruled = speaker != PROTAGONIST and ep.npc_streak() >= cfg.max_npc_streak
        if overruled:  # the episode is about the protagonist: it never waits longer than this
            speaker, cue = PROTAGONIST, ""
        self.ctx.emit("pick", {"speaker": speaker, "reason": reason, "cue": cue, "fallback": not ans.ok,
                               "overruled": overruled, "missing": ep.missing}, agent_id=ENVIRONMENT)
        when = tick.start + (tick.end - tick.start) * (self.in_tick - 1) / cfg.turns_per_tick
        return Activation(speaker, when, {"cue": cue, "turn": ep.turns + 1})

    async def act(self, activation: Activation) -> list[Action]:
        ep, cfg, agent = self.episode, self.config, activation.agent_id
        transcript = ep.transcript.render(last=cfg.history)
        cue = activation.data.get("cue", "")
        if agent == PROTAGONIST:
            values: dict[str, Any] = dict(facts=self.facts, scene=ep.scene, beliefs=ep.beliefs, transcript=transcript, cue=cue)
            messages = PROMPTS.messages("protagonist_system.j2", "protagonist.j2", **values)
            llm, schema, purpose = self.ctx.llm, ProtagonistAnswer, "personaarena.protagonist"
            fallback = {**vars(ep.beliefs), "action": "", "utterance": "(stays silent)"}
        else:
            npc = ep.npc(agent)
            lines = "\n".join(line.as_text() for line in ep.transcript.by(ep.persona.name)[-cfg.history:])
            values = dict(npc=npc, protagonist=ep.persona.name, scene=ep.scene, protagonist_lines=lines, transcript=transcript, cue=cue)
            messages = PROMPTS.messages("npc_system.j2", "npc.j2", **values)
            llm, schema, purpose = self.ctx.llm_for("npc"), NPCLine, "personaarena.npc"
            fallback = {"action": "nods", "utterance": f"Go on, {ep.persona.name}."}
        self.ctx.expose(agent, {"transcript": transcript, "cue": cue}, sim_time=activation.sim_time)
        answer, ok = await take_turn(
            llm=llm, messages=messages, schema=schema, purpose=purpose, agent_id=agent,
            max_tokens=cfg.max_tokens, fallback=fallback,
        )
        return [Action(agent, "line", activation.sim_time, {**answer, "cue": cue, "parsed": ok, "turn": activation.data["turn"]})]

    async def apply(self, action: Action) -> dict:
        ep, cfg, p = self.episode, self.config, action.payload
        agent = action.agent_id
        ep.turns += 1
        line = ep.transcript.add(ep.name_of(agent), p["utterance"], action=p["action"], round=ep.turns, agent=agent)
        self.ctx.emit("line", {"speaker": line.speaker, **p}, agent_id=agent, sim_time=action.sim_time)
        if agent == PROTAGONIST:
            if p["parsed"]:
                ep.beliefs = Beliefs(p["belief"], p["desire"], p["intention"])
            await self._track(line.as_text(), action)
            self.ctx.save_state(PROTAGONIST, {**vars(ep.beliefs), "covered": [c for c in CHECKPOINTS if c in ep.covered]})
        if ep.stop is None:
            if cfg.early_stop and not ep.missing:
                ep.stop = "covered"
            elif ep.turns >= cfg.max_turns:
                ep.stop = "max_turns"
        return {"turn": ep.turns, "covered": [c for c in CHECKPOINTS if c in ep.covered]}

    async def _track(self, text: str, action: Action) -> None:
        """Checkpoint coverage after a protagonist line (NPC lines cannot show the
        protagonist's persona, so they cost no call)."""
        ep = self.episode
        messages = PROMPTS.messages("environment_system.j2", "track.j2", who=ep.persona.name, facts=self.facts, line=text)
        ans = await self.ctx.llm_for("environment").complete(
            messages, schema=CoverageAnswer, purpose="personaarena.track", agent_id=ENVIRONMENT,
            max_tokens=self.config.max_tokens,
        )
        new = [c for c in CHECKPOINTS if ans.ok and c in ans.parsed.shown and c not in ep.covered]
        ep.covered.update(dict.fromkeys(new, ep.turns))
        self.ctx.emit("coverage", {"turn": ep.turns, "new": new, "covered": [c for c in CHECKPOINTS if c in ep.covered],
                                   "missing": ep.missing, "evidence": ans.parsed.evidence if ans.ok else "", "parsed": ans.ok},
                      agent_id=ENVIRONMENT, sim_time=action.sim_time)

    async def end_tick(self, tick) -> None:
        self.ctx.metric("coverage", len(self.episode.covered) / len(CHECKPOINTS))

    def is_done(self) -> bool:
        return self.episode.stop is not None

    def done_reason(self) -> str:
        return {"covered": "all checkpoints covered", "max_turns": "turn limit reached"}.get(self.episode.stop or "", "")

    # -- end of run -----------------------------------------------------------------------
    async def finish(self) -> None:
        ep, cfg = self.episode, self.config
        ep.stop = ep.stop or "clock"
        self.ctx.emit("episode_end", {"stop": ep.stop, "turns": ep.turns, "covered": [c for c in CHECKPOINTS if c in ep.covered]})
        host = RecordingHost(self.ctx)
        verdict = await JudgePanel(host, cfg.judge, PERSONAARENA).score(self.judge_item())
        self.ctx.emit("verdict", {"scores": verdict.scores, "overall": verdict.overall, "method": verdict.method,
                                  "disputed": verdict.disputed, "arbitrated": verdict.arbitrated, "notes": verdict.notes})
        metrics.episode(self.ctx.metric, ep)
        metrics.verdict(self.ctx.metric, verdict, host.records)
        metrics.agreement(self.ctx.metric, verdict, host.records, cfg.human_labels)

    def judge_item(self) -> JudgeItem:
        """The protagonist's trajectory: per protagonist line, what the others did since its
        previous line (observation) and what it did (action)."""
        ep = self.episode
        steps, seen = [], []
        for line in ep.transcript.lines:
            if line.labels.get("agent") == PROTAGONIST:
                steps.append(Step(len(steps) + 1, " ".join(seen) or ep.scene.opening, line.as_text()))
                seen = []
            else:
                seen.append(line.as_text())
        s = ep.scene
        cast = "; ".join(f"{n.name} ({n.relation})" for n in s.npcs)
        context = {"event": s.event, "time": s.time, "place": s.location, "setting": s.description, "others present": cast}
        return JudgeItem(item_id=self.ctx.run_id, subject=ep.persona.name, context=context, profile=self.facts,
                         trajectory=steps or [Step(1, s.opening, f"{ep.persona.name}: (said nothing)")])

    @classmethod
    def replay_renderer(cls):
        from simkit.plugins.personaarena.replay import PersonaArenaRenderer

        return PersonaArenaRenderer()

