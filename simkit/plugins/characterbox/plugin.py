"""`CharacterBoxPlugin`: scenes played by character agents with a narrator as world model,
judged per character on seven metrics (CharacterBox, NAACL 2025).

Sequential mode; a tick is a round of every scene of the run. `activate` refreshes each
character's beliefs, writes the round's action references and returns the scenes' turn
queues in order; `act` is a character's turn (action, dialogue); `apply` is the narrator:
the most-affected character reacts at once and so uses up its own turn this round
(`ctx.turns.cancel`), then the result, both characters' position and state, and (in
`per_actor` mode) the scene are updated; `end_tick` updates the scene (`per_round`), writes
the plot summary and swaps the acting order. The judges run in `finish`.

Agent ids are `s<n>/c<k>`: the scene's position in the run and the character's `id` in the
file (its position when the file has none), so any script or punctuation in a name is safe;
names are display text everywhere else. `profile: paper` switches every mechanic to the
authors' code (config.PAPER; the README's table says which does what).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

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
    prompts_for,
    turn_graph,
    write_synopsis,
)
from simkit.plugins.characterbox.config import CharacterBoxConfig
from simkit.plugins.characterbox.narrator import NARRATOR, Narrator
from simkit.plugins.characterbox.scenes import SceneInfo, load_scenes


def label_key(stage: "Stage", c: Character) -> str:
    """A character's key in a human-labels file: `<work title>/<scene id>/<character name>`."""
    return f"{stage.title}/{stage.original.id}/{c.name}"


def character_ids(key: str, info: SceneInfo) -> list[str]:
    """`s1/c0`, `s1/c1`, ...: the file's character ids (unique, checked on load), else positions."""
    ids = [c.id for c in info.characters]
    numbers = ids if all(i is not None for i in ids) else list(range(len(ids)))
    return [f"{key}/c{n}" for n in numbers]


@dataclass
class Stage:
    """One scene being played: its live scene, characters, narrator and turn order."""

    key: str
    title: str
    lang: str  # "en" | "zh": the language of the scene's text, which picks the prompt set
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
    synopses: list[str] = field(default_factory=list)  # the action references of each round
    concluded: bool = False

    def hear(self, line: str, *, skip: tuple[str, ...] = ()) -> None:
        """Everyone present sees what happens (added to what each will act on)."""
        self.lines.append(line)
        for agent, c in self.characters.items():
            if agent not in skip:
                c.observations.append(line)


def paper_table(reader, run_ids: list[str], console) -> None:
    from simkit.plugins.characterbox.report import paper_table as table

    table(reader, run_ids, console)


class CharacterBoxPlugin(Plugin[CharacterBoxConfig]):
    """Characters in a scene, a narrator as world model, a judge per character (CharacterBox)."""

    name = "characterbox"
    mode = "sequential"
    prompts_dir = PROMPTS_DIR
    llm_roles = ("character", "narrator", "judge")
    subject_roles = ("character",)  # the model under test; the other roles are instruments (pinned)
    sweep_report = staticmethod(paper_table)

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
        paper_memory = cfg.observation == "target"
        for n, (title, info) in enumerate(load_scenes(cfg.scenes, cfg.scene_ids), 1):
            key, lang = f"s{n}", info.language
            scene = info.model_copy(deep=True)
            chars = {a: Character.of(a, c) for a, c in zip(character_ids(key, info), info.characters)}
            minds = {
                a: Mind(c, scene, llm, k=cfg.memory.k, rate=cfg.memory.importance == "rated", lang=lang,
                        shown=cfg.memory.shown, tokens=cfg.memory.tokens, own_memory=paper_memory, follow=cfg.synopsis_role == "follow",
                        on_answer=self._clips)
                for a, c in chars.items()
            }
            narrator = Narrator(f"{key}/narrator", scene, list(chars.values()), narrator_llm, lang=lang, on_answer=self._clips)
            stage = Stage(key, title, lang, info, scene, chars, minds, narrator, order=list(chars))
            stage.last_round = "\n".join(
                line for b in info.actions for line in (f"{b.character}: {b.action}", f"{b.character}: {b.dialogue}") if not line.endswith(": ")
            )
            for c in chars.values():
                c.observations = [stage.last_round] if stage.last_round else []
            self.stages[key] = stage
            ctx.record("characterbox_scenes", {"scene": key, "round": 0, "time": scene.time, "location": scene.location,
                                               "description": scene.description, "summary": stage.last_round})
            meta = {"scene": key, "title": title, "scene_id": info.id, "lang": lang}
            specs += [AgentSpec(a, "character", None, {**meta, "name": c.name, "description": c.description}) for a, c in chars.items()]
            specs.append(AgentSpec(narrator.agent_id, "narrator", None, meta))
        return specs

    def _stage_of(self, agent_id: str) -> Stage:
        return self.stages[agent_id.split("/", 1)[0]]

    def _clips(self, ans: Any, purpose: str, agent_id: str) -> None:
        """A field cut to its bound is an event with its original length, never silent."""
        clipped = getattr(ans.parsed, "clipped_fields", None) if ans.ok else None
        if clipped:
            self.ctx.emit("clipped", {"purpose": purpose, "fields": clipped}, agent_id=agent_id)

    # -- each round -----------------------------------------------------------------------
    async def activate(self, tick, due) -> list[Activation]:
        self.round = tick.index + 1
        live = [s for s in self.stages.values() if not s.concluded]
        now = self.ctx.now

        async def prepare(stage: Stage) -> None:
            chars = list(stage.characters.values())
            refresh = [stage.minds[a].refresh_beliefs(stage.last_round, [o for o in chars if o is not c], now)
                       for a, c in stage.characters.items()]
            if self.config.observation == "target":
                for call in refresh:  # the code: one character after the other, in file order
                    await call
            else:
                await self.ctx.gather(*refresh)
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
        follow = cfg.synopsis_role == "follow"
        history = stage.synopses if follow else stage.history  # the code feeds back its earlier synopses
        values = {"observation": stage.last_round, "history": history, "order": order, "scene": stage.scene, "follow": follow}
        prompts = prompts_for(stage.lang)
        if cfg.synopsis == "narrator":
            values["characters"] = list(stage.characters.values())
            plots = await write_synopsis(stage.narrator.llm, prompts, "narrator_system.j2", values, names, stage.narrator.agent_id,
                                         f"{NARRATOR}.synopsis", self._clips)
        else:
            first = next(iter(stage.minds.values()))
            values.update(me=first.me, memories=[])
            plots = await write_synopsis(first.llm, prompts, "character_system.j2", values, names, first.me.agent_id,
                                         f"{CHARACTER}.synopsis", self._clips)
        stage.synopses.append("; ".join(f"{n}: {p}" for n, p in plots.items() if p))
        return plots

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
        cfg = self.config
        broadcast, authors_order = cfg.observation == "everyone", cfg.next_order == "authors"
        if not authors_order:
            stage.done_this_round.append(actor.agent_id)
        said = [f"{actor.name}: {doing}"] + ([f"{actor.name}: {saying}"] if saying else [])
        if broadcast:
            for line in said:
                stage.hear(line, skip=(actor.agent_id,))
            await stage.minds[actor.agent_id].remember(said, now, gather)
        else:
            stage.lines += said  # the round's transcript; the actor remembered each as it was made
        target, effect = await narrator.influence(actor, doing)
        script: dict[str, Any] = {"round": self.round, "scene": stage.key, "character": actor.name,
                                  "action": doing, "dialogue": saying, "target": None}
        if target is not actor:
            reactor = target
            if broadcast:
                seen = [*reactor.observations, effect] if effect else list(reactor.observations)
            else:  # the code: only the target is told, what it had not yet seen first
                reactor.observations += [f"{actor.name}: {doing}", f"{actor.name}: {saying}", effect]
                seen = [o for o in reactor.observations if o]
            observation = "\n".join(seen)
            self.ctx.expose(reactor.agent_id, {"observation": observation, "reacting_to": actor.name})
            reaction = await stage.minds[reactor.agent_id].react(observation, now)
            reactor.records.append(Record(self.round, "reaction", observation, reaction))
            await stage.minds[reactor.agent_id].remember(
                [f"{actor.name}: {doing}", f"{actor.name}: {effect}", f"{actor.name}: {saying}" if saying else "",
                 f"{reactor.name}: {reaction}"], now, gather if broadcast else None)
            if broadcast:
                stage.hear(f"{reactor.name}: {reaction}", skip=(reactor.agent_id,))
            else:
                stage.lines.append(f"{reactor.name}: {reaction}")
            used = 0
            if reactor.agent_id not in stage.done_this_round:
                stage.done_this_round.append(reactor.agent_id)
                used = self.ctx.turns.cancel(reactor.agent_id)
            result = await narrator.result(f"{actor.name}: {doing}; {reactor.name}: {reaction}")
            if result:
                for who in (actor, reactor):
                    await stage.minds[who.agent_id].remember([result], now, gather if broadcast else None)
                if not broadcast:
                    stage.lines.append(result)  # the code's round transcript holds the narrator's result
            exchange = [f"{actor.name}: {doing}"] if cfg.update_evidence == "exchange" else []
            evidence = "\n".join(x for x in (*exchange, f"{reactor.name}: {reaction}", result) if x)
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
        if authors_order and actor.agent_id not in stage.done_this_round:
            stage.done_this_round.append(actor.agent_id)  # simulator.py: the reactor enters the acted queue first
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
            payload["next_order"] = [stage.characters[a].name for a in stage.order]
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
        by_lang: dict[str, list[dict[str, float | None]]] = {}
        judged: list[tuple[Stage, Character, Any]] = []
        if cfg.judging.characters:
            panel = JudgePanel(ctx, cfg.judge, CHARACTERBOX)
            for stage in self.stages.values():
                chars = list(stage.characters.values())
                verdicts = await ctx.gather(*(panel.score(self._item(stage, c)) for c in chars))
                rows = []
                for c, v in zip(chars, verdicts):
                    where = {"scene": stage.key, "character": c.name, "lang": stage.lang}
                    for m in rubric:
                        ctx.metric("score_by_character", v.scores[m], {**where, "metric": m})
                    ctx.metric("score_by_character", v.overall, {**where, "metric": "average"})
                    rows.append(v.scores)
                    judged.append((stage, c, v))
                scene = metrics.combine(rows, rubric)
                for m, value in scene.items():
                    ctx.metric("score_by_scene", value, {"scene": stage.key, "title": stage.title, "scene_id": stage.original.id,
                                                         "lang": stage.lang, "metric": m})
                scene_rows.append(scene)
                by_lang.setdefault(stage.lang, []).append(scene)
            for m, value in metrics.combine(scene_rows, rubric).items():
                ctx.metric(f"score.{m}", value)
            for lang, rows in sorted(by_lang.items()):  # the paper's Table 1 halves: mean and sd over scenes
                for m, value in metrics.combine(rows, rubric).items():
                    ctx.metric(f"score.{m}", value, {"lang": lang})
                for m, value in metrics.spread(rows, rubric).items():
                    ctx.metric(f"score_sd.{m}", value, {"lang": lang})
                ctx.metric("scenes", len(rows), {"lang": lang})
            self._reliability(judged)
        await self._judge_narrator()

    def _reliability(self, judged: list[tuple[Stage, Character, Any]]) -> None:
        """How far to trust the judge (the paper's Tables 2-3): Cronbach's alpha of each metric
        group per language (characters as subjects, the group's metrics as items); with
        `human_labels`, Pearson r per metric (and overall) against the human scores; with
        several judges, alpha across judges (cells as subjects, judges as items)."""
        from simkit.judges.agreement import cronbach_alpha, group_alpha, human_agreement, load_labels

        rows = {lang: [{"item_id": label_key(s, c), "metric": m, "score": x} for s, c, v in judged if s.lang == lang
                       for m, x in v.scores.items() if x is not None] for lang in {s.lang for s, _c, _v in judged}}
        for lang, lang_rows in sorted(rows.items()):
            for group, alpha in group_alpha(lang_rows, CHARACTERBOX).items():
                self.ctx.metric("judge_alpha", alpha, {"group": group, "lang": lang})
            if len(self.config.judge.judges) > 1:
                cells: dict[tuple[str, str], dict[str, float]] = {}
                for s, c, v in judged:
                    for vote in v.votes:
                        if s.lang == lang and vote.phase == "independent" and vote.ok:
                            for m, x in vote.scores.items():
                                if x is not None:
                                    cells.setdefault((c.agent_id, m), {})[vote.judge_id] = float(x)
                judges = sorted({j for by in cells.values() for j in by})
                matrix = [[by[j] for j in judges] for by in cells.values() if len(by) == len(judges)]
                alpha = cronbach_alpha(np.array(matrix).reshape(len(matrix), len(judges))) if matrix else None
                self.ctx.metric("judge_alpha_across_judges", alpha, {"lang": lang})
        if self.config.human_labels is not None:
            try:
                human = load_labels(self.config.human_labels)
            except (OSError, ValueError) as exc:
                raise UsageError(f"characterbox.human_labels: {exc}") from None
            ours = [row for lang_rows in rows.values() for row in lang_rows]
            for metric, corr in human_agreement(ours, human).items():
                self.ctx.metric("judge_pearson", corr.r if corr else None, {"metric": metric, "n": corr.n if corr else 0})

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
