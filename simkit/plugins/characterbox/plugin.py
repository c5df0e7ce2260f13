"""`CharacterBoxPlugin`: scenes played by character agents with a narrator as world model,
judged per character on seven metrics (CharacterBox, NAACL 2025).

Sequential mode; a tick is a round of every scene of the run. `activate` refreshes each
character's beliefs, writes the round's action references and returns the scenes' turn
queues in order; `act` is a character's turn (action, dialogue); `apply` is the narrator:
the most-affected character reacts at once and so uses up its own turn this round
(`ctx.turns.cancel`), then the result, both characters' position and state, and (in
`per_actor` mode) the scene are updated; `end_tick` updates the scene (`per_round`), writes
the plot summary and swaps the acting order. The judges run in `finish`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from simkit.errors import UsageError
from simkit.judges import CHARACTERBOX, GRICE, JudgeItem, JudgePanel, Step
from simkit.personas.model import Persona
from simkit.plugins.base import Action, Activation, AgentSpec, Plugin
from simkit.plugins.characterbox import metrics
from simkit.plugins.characterbox.agents import (
    CHARACTER,
    PROMPTS_DIR,
    Character,
    Mind,
    Record,
    turn_graph,
    write_synopsis,
)
from simkit.plugins.characterbox.config import CharacterBoxConfig
from simkit.plugins.characterbox.narrator import NARRATOR, Narrator
from simkit.plugins.characterbox.scenes import SceneInfo, load_scenes


def slug(name: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", name.lower())) or "character"


@dataclass
class Stage:
    """One scene being played: its live scene, characters, narrator and turn order."""

    key: str
    title: str
    original: SceneInfo
    scene: SceneInfo
    characters: dict[str, Character]  # agent id -> character, in the scene's order
    minds: dict[str, Mind]
    narrator: Narrator
    order: list[str]  # this round's acting order (agent ids)
    last_round: str = ""
    lines: list[str] = field(default_factory=list)  # this round's transcript
    done_this_round: list[str] = field(default_factory=list)  # acted or reacted, in that order
    plots: dict[str, str] = field(default_factory=dict)  # name -> action reference
    history: list[str] = field(default_factory=list)  # plot summaries, one per round
    concluded: bool = False

    def hear(self, line: str, *, skip: tuple[str, ...] = ()) -> None:
        """Everyone present sees what happens (added to what each will act on)."""
        self.lines.append(line)
        for agent, c in self.characters.items():
            if agent not in skip:
                c.observations.append(line)


class CharacterBoxPlugin(Plugin[CharacterBoxConfig]):
    """Characters in a scene, a narrator as world model, a judge per character (CharacterBox)."""

    name = "characterbox"
    mode = "sequential"
    prompts_dir = PROMPTS_DIR
    llm_roles = ("character", "narrator", "judge")
    subject_roles = ("character",)  # the model under test; the other roles are instruments (pinned)

    def scripted_responders(self):
        from simkit.judges import RESPONDERS as JUDGES
        from simkit.plugins.characterbox.scripted import RESPONDERS

        return {**JUDGES, **RESPONDERS}

    # -- set-up ---------------------------------------------------------------------------
    async def setup(self, personas: list[Persona]) -> list[AgentSpec]:
        cfg, ctx = self.config, self.ctx
        n_ticks = ctx.clock.n_ticks
        if n_ticks < cfg.rounds:
            raise UsageError(f"characterbox.rounds: {cfg.rounds} rounds need a clock of at least {cfg.rounds} ticks, it has {n_ticks}")
        self.round = 0
        self.stages: dict[str, Stage] = {}
        specs: list[AgentSpec] = []
        llm, narrator_llm = ctx.llm, ctx.llm_for("narrator")
        for n, (title, info) in enumerate(load_scenes(cfg.scenes, cfg.scene_ids), 1):
            key = f"s{n}"
            scene = info.model_copy(deep=True)
            chars = {f"{key}/{slug(c.name)}": Character.of(f"{key}/{slug(c.name)}", c) for c in info.characters}
            minds = {
                a: Mind(c, scene, llm, k=cfg.memory.k, rate=cfg.memory.importance == "rated")
                for a, c in chars.items()
            }
            narrator = Narrator(f"{key}/narrator", scene, list(chars.values()), narrator_llm)
            stage = Stage(key, title, info, scene, chars, minds, narrator, order=list(chars))
            stage.last_round = "\n".join(
                line for b in info.actions for line in (f"{b.character}: {b.action}", f"{b.character}: {b.dialogue}") if not line.endswith(": ")
            )
            for c in chars.values():
                c.observations = [stage.last_round] if stage.last_round else []
            self.stages[key] = stage
            ctx.record("characterbox_scenes", {"scene": key, "round": 0, "time": scene.time, "location": scene.location,
                                               "description": scene.description, "summary": stage.last_round})
            meta = {"scene": key, "title": title, "scene_id": info.id}
            specs += [AgentSpec(a, "character", None, {**meta, "name": c.name, "description": c.description}) for a, c in chars.items()]
            specs.append(AgentSpec(narrator.agent_id, "narrator", None, meta))
        return specs

    def _stage_of(self, agent_id: str) -> Stage:
        return self.stages[agent_id.split("/", 1)[0]]

    # -- each round -----------------------------------------------------------------------
    async def activate(self, tick, due) -> list[Activation]:
        self.round = tick.index + 1
        live = [s for s in self.stages.values() if not s.concluded]
        now = self.ctx.now

        async def prepare(stage: Stage) -> None:
            chars = list(stage.characters.values())
            await self.ctx.gather(*(
                stage.minds[a].refresh_beliefs(stage.last_round, [o for o in chars if o is not c], now)
                for a, c in stage.characters.items()
            ))
            stage.plots = await self._synopsis(stage)
            stage.lines, stage.done_this_round = [], []

        await self.ctx.gather(*(prepare(s) for s in live))
        return [Activation(a, tick.start, {"scene": s.key, "round": self.round}) for s in live for a in s.order]

    async def _synopsis(self, stage: Stage) -> dict[str, str]:
        """The round's action references: the code has the first character's model write them."""
        cfg = self.config
        names = [c.name for c in stage.characters.values()]
        if cfg.synopsis == "none":
            return dict.fromkeys(names, "")
        order = [stage.characters[a].name for a in stage.order]
        values = {"observation": stage.last_round, "history": stage.history, "order": order, "scene": stage.scene}
        if cfg.synopsis == "narrator":
            values["characters"] = list(stage.characters.values())
            return await write_synopsis(stage.narrator.llm, "narrator_system.j2", values, names, stage.narrator.agent_id,
                                        f"{NARRATOR}.synopsis")
        first = next(iter(stage.minds.values()))
        values.update(me=first.me, memories=[])
        return await write_synopsis(first.llm, "character_system.j2", values, names, first.me.agent_id,
                                    f"{CHARACTER}.synopsis")

    async def act(self, activation: Activation) -> list[Action]:
        stage = self._stage_of(activation.agent_id)
        me = stage.characters[activation.agent_id]
        observation, plot = me.observation(), stage.plots.get(me.name, "")
        self.ctx.expose(me.agent_id, {"observation": observation, "plot": plot, "scene": self._scene_of(stage)})
        out = await turn_graph().ainvoke({"mind": stage.minds[me.agent_id], "observation": observation, "plot": plot, "now": self.ctx.now})
        me.observations = []
        me.records += [Record(self.round, "action", observation, out["action"]), Record(self.round, "dialogue", out["action"], out["dialogue"])]
        return [Action(me.agent_id, "turn", activation.sim_time, {"action": out["action"], "dialogue": out["dialogue"]})]

    async def apply(self, action: Action) -> dict[str, Any]:
        """The narrator resolves one turn; the event it emits is the turn's whole script."""
        stage = self._stage_of(action.agent_id)
        actor, narrator, now, gather = stage.characters[action.agent_id], stage.narrator, self.ctx.now, self.ctx.gather
        doing, saying = action.payload["action"], action.payload["dialogue"]
        stage.done_this_round.append(actor.agent_id)
        said = [f"{actor.name}: {doing}"] + ([f"{actor.name}: {saying}"] if saying else [])
        for line in said:
            stage.hear(line, skip=(actor.agent_id,))
        await stage.minds[actor.agent_id].remember(said, now, gather)
        target, effect = await narrator.influence(actor, doing)
        script: dict[str, Any] = {"round": self.round, "scene": stage.key, "character": actor.name,
                                  "action": doing, "dialogue": saying, "target": None}
        if target is not actor:
            reactor = target
            seen = [*reactor.observations, effect] if effect else list(reactor.observations)
            observation = "\n".join(seen)
            self.ctx.expose(reactor.agent_id, {"observation": observation, "reacting_to": actor.name})
            reaction = await stage.minds[reactor.agent_id].react(observation, now)
            reactor.records.append(Record(self.round, "reaction", observation, reaction))
            await stage.minds[reactor.agent_id].remember(
                [f"{actor.name}: {doing}", f"{actor.name}: {effect}", f"{actor.name}: {saying}" if saying else "",
                 f"{reactor.name}: {reaction}"], now, gather)
            stage.hear(f"{reactor.name}: {reaction}", skip=(reactor.agent_id,))
            used = 0
            if reactor.agent_id not in stage.done_this_round:
                stage.done_this_round.append(reactor.agent_id)
                used = self.ctx.turns.cancel(reactor.agent_id)
            result = await narrator.result(f"{actor.name}: {doing}; {reactor.name}: {reaction}")
            if result:
                for who in (actor, reactor):
                    await stage.minds[who.agent_id].remember([result], now, gather)
            evidence = "\n".join(x for x in (f"{reactor.name}: {reaction}", result) if x)
            await narrator.update_character(reactor, evidence)
            await narrator.update_character(actor, evidence)
            reactor.observations = []
            script.update(target=reactor.name, effect=effect, reaction=reaction, turn_used=bool(used), result=result,
                          updates={c.name: {"position": c.position, "state": c.states} for c in (actor, reactor)})
        else:
            await narrator.update_character(actor, doing)
            script.update(effect=effect, updates={actor.name: {"position": actor.position, "state": actor.states}})
        if self.config.scene_update == "per_actor":
            await narrator.update_scene("\n".join(stage.lines[-4:]))
            script["scene_now"] = self._scene_of(stage)
            self._record_scene(stage, "")
        for c in [actor] if target is actor else [actor, target]:
            self.ctx.record("characterbox_states", {"scene": stage.key, "round": self.round, "character": c.name,
                                                    "position": c.position, "states": c.states})
        self.ctx.emit("turn", script, agent_id=actor.agent_id)
        return script

    async def end_tick(self, tick) -> None:
        """Per-round scene update (the code), plot summary, optional end check, next order."""
        for stage in self.stages.values():
            if stage.concluded or not stage.lines:
                continue
            narrator, transcript = stage.narrator, "\n".join(stage.lines)
            if self.config.scene_update == "per_round":
                await narrator.update_scene(transcript)
            summary = await narrator.summary(transcript)
            stage.history.append(summary)
            stage.last_round = transcript
            payload: dict[str, Any] = {"round": self.round, "scene": stage.key, "summary": summary, "scene_now": self._scene_of(stage)}
            if self.config.conclude_check:
                stage.concluded, payload["conclusion"] = await narrator.concluded(stage.history)
                payload["concluded"] = stage.concluded
            rest = [a for a in stage.order if a not in stage.done_this_round]
            stage.order = stage.done_this_round + rest  # the next round runs in this round's completion order
            self._record_scene(stage, summary)
            self.ctx.emit("round", payload, agent_id=narrator.agent_id)
            for c in stage.characters.values():
                self.ctx.save_state(c.agent_id, c.snapshot())

    def is_done(self) -> bool:
        return self.round >= self.config.rounds or all(s.concluded for s in self.stages.values())

    @staticmethod
    def _scene_of(stage: Stage) -> dict[str, str]:
        s = stage.scene
        return {"time": s.time, "location": s.location, "description": s.description}

    def _record_scene(self, stage: Stage, summary: str) -> None:
        self.ctx.record("characterbox_scenes", {"scene": stage.key, "round": self.round, **self._scene_of(stage), "summary": summary})

    # -- evaluation -----------------------------------------------------------------------
    async def finish(self) -> None:
        ctx, cfg = self.ctx, self.config
        rubric = [m.name for m in CHARACTERBOX]
        scene_rows: list[dict[str, float | None]] = []
        if cfg.judging.characters:
            panel = JudgePanel(ctx, cfg.judge, CHARACTERBOX)
            for stage in self.stages.values():
                chars = list(stage.characters.values())
                verdicts = await ctx.gather(*(panel.score(self._item(stage, c)) for c in chars))
                rows = []
                for c, v in zip(chars, verdicts):
                    for m in rubric:
                        ctx.metric("score_by_character", v.scores[m], {"scene": stage.key, "character": c.name, "metric": m})
                    ctx.metric("score_by_character", v.overall, {"scene": stage.key, "character": c.name, "metric": "average"})
                    rows.append(v.scores)
                scene = metrics.combine(rows, rubric)
                for m, value in scene.items():
                    ctx.metric("score_by_scene", value, {"scene": stage.key, "title": stage.title, "scene_id": stage.original.id, "metric": m})
                scene_rows.append(scene)
            for m, value in metrics.combine(scene_rows, rubric).items():
                ctx.metric(f"score.{m}", value)
        await self._judge_narrator()

    def _item(self, stage: Stage, c: Character) -> JudgeItem:
        """A character's trajectory the way the authors' judge reads it (round, observation, action)."""
        steps = [Step(r.round, r.observation or "(nothing new)", f"{c.name}: {r.text}" if r.type == "dialogue" else r.text)
                 for r in c.records]
        s = stage.original
        return JudgeItem(item_id=c.agent_id, subject=c.name, trajectory=steps,
                         context={"event": s.event, "time": s.time, "location": s.location, "description": s.description},
                         profile=c.description)

    async def _judge_narrator(self) -> None:
        """Each narrator call (its request and answer) against Grice's maxims, averaged per call type."""
        limit = self.config.judging.narrator_calls
        calls = [(s, call) for s in self.stages.values() for call in s.narrator.calls]
        calls = calls if limit is None else calls[:limit]
        if not calls:
            return
        panel = JudgePanel(self.ctx, self.config.judge.model_copy(update={"critique_call": False}), GRICE)
        items = [
            JudgeItem(item_id=f"{s.narrator.agent_id}#{i}", subject="the narrator", context={"call": call.kind},
                      trajectory=f"Request:\n{call.prompt}\n\nAnswer:\n{call.output}")
            for i, (s, call) in enumerate(calls)
        ]
        verdicts = await self.ctx.gather(*(panel.score(item) for item in items))
        maxims = [m.name for m in GRICE]
        scored = [(call.kind, v.scores) for (_, call), v in zip(calls, verdicts)]
        for kind, row in metrics.by_kind(scored, maxims).items():
            for m, value in row.items():
                self.ctx.metric("score_narrator_call", value, {"call": kind, "metric": m})
        for m, value in metrics.combine([row for _, row in scored], maxims).items():
            self.ctx.metric(f"score_narrator.{m}", value)

    @classmethod
    def replay_renderer(cls):
        from simkit.plugins.characterbox.replay import CharacterBoxRenderer

        return CharacterBoxRenderer()
