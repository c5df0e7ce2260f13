"""`TrendSimPlugin`: wires the world, the timetable, the agents and the metrics into the
engine's tick loop.

Visits are timed events. The default mode is `sequential`: visits run one at a time in
sim-time order, each applied before the next starts, which is the paper's semantics (a
priority queue of atomic visits). A scenario may set `mode: synchronous` to run the visits
of a tick concurrently against the tick-start world (faster against a remote endpoint;
visits less than a tick apart then do not see each other).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import yaml

from simkit.errors import UsageError
from simkit.personas.model import INTEREST_GROUPS, Persona
from simkit.plugins.base import Action, Activation, AgentSpec, Plugin, Turn
from simkit.store.series import Mark, TimeAxis
from simkit.plugins.trendsim import metrics
from simkit.agents.wave import run_wave
from simkit.plugins.trendsim.agents import (
    ATTACKER, FAITHFUL, FUSED, PROMPTS_DIR, Attacker, Mind, Walk, end_visit, split_messages, start_visit,
)
from simkit.plugins.trendsim.answers import Verdict
from simkit.plugins.trendsim.config import ATTACK_TYPES, TrendSimConfig
from simkit.plugins.trendsim.network import interaction_graph
from simkit.plugins.trendsim.pages import Visit
from simkit.plugins.trendsim.report import table5
from simkit.judges import RESPONDERS as JUDGE_RESPONDERS
from simkit.plugins.trendsim import validity
from simkit.plugins.trendsim.scripted import RESPONDERS
from simkit.plugins.trendsim.timing import Timetable, attacker_first_visit, attacker_next_visit, breaking_degree
from simkit.plugins.trendsim.world import DATA, World, load_topics

HOUR = timedelta(hours=1)


def attacker_counts(n_agents: int, share: float, mix: dict[str, float]) -> dict[str, int]:
    """How many attackers of each type: round(share * N) in all, split by `mix` with the
    remainder going to the later types (the paper's PA-10 of 1,000 is 33/33/34)."""
    total = int(share * n_agents + 0.5)
    types = [t for t in ATTACK_TYPES if mix.get(t, 0) > 0]
    weight = sum(mix[t] for t in types)
    exact = {t: total * mix[t] / weight for t in types}
    counts = {t: int(exact[t]) for t in types}
    order = sorted(types, key=lambda t: (exact[t] - counts[t], types.index(t)), reverse=True)
    for t in order[: total - sum(counts.values())]:
        counts[t] += 1
    return counts


def interest_group(persona: Persona) -> str:
    """The first of the persona's interests that is one of the six groups, else "other"."""
    for interest in persona.interests:
        if interest.lower() in INTEREST_GROUPS:
            return interest.lower()
    return "other"


class TrendSimPlugin(Plugin[TrendSimConfig]):
    """A trending topic under poisoning attacks (TrendSim, Findings of NAACL 2025)."""

    name = "trendsim"
    mode = "sequential"
    prompts_dir = PROMPTS_DIR
    llm_roles = ("user", "attacker", "censor")
    subject_roles = ("user",)  # the model under test; the other roles are instruments (pinned)
    sweep_report = staticmethod(table5)
    # The hourly outcome snapshots carry {hour: N}: they are series over hours.
    time_axis = TimeAxis(label="hour", title="time", unit="hours since the topic appeared",
                         units={"emotion.": "0-1", "social_confidence.": "0-1", "user_group.": "0-1"})
    calls_scale_with_population = True  # one agent per persona
    # `simkit branch`: what may change mid-run (the population and topic shaped ticks already played)
    fork_settings = ("trendsim.attack", "trendsim.censorship", "trendsim.cognition", "trendsim.page_size",
                     "trendsim.max_actions_per_visit", "trendsim.reading_speed", "llm")

    def scripted_responders(self):
        return {**JUDGE_RESPONDERS, **RESPONDERS}

    # -- set-up ---------------------------------------------------------------------------
    async def setup(self, personas: list[Persona]) -> list[AgentSpec]:
        cfg, ctx = self.config, self.ctx
        self.world = World(load_topics()[cfg.topic])
        self.n_agents = len(personas)
        counts = attacker_counts(self.n_agents, cfg.attack.share, cfg.attack.mix)
        n_users = self.n_agents - sum(counts.values())
        if n_users < 1:
            raise UsageError(f"trendsim.attack.share: {cfg.attack.share} leaves no normal users among {self.n_agents} agents")
        self.timetable = Timetable(ctx.clock.start, ctx.clock.end, cfg.time_mode, cfg.code_window, cfg.kernel)
        self.users = {f"user-{i:04d}": p for i, p in enumerate(personas[:n_users])}
        self.groups = {a: interest_group(p) for a, p in self.users.items()}
        self.minds = {a: Mind() for a in self.users}
        self.attackers = self._make_attackers(counts)
        self.retired: set[str] = set()  # attackers a branch's lower share sent away
        self.tally = metrics.Tally()
        self.interactions: list[tuple[str, str, str]] = []
        self._machine = FUSED if cfg.cognition == "fused" else FAITHFUL

        for agent in self.users:
            A = breaking_degree(0, self.n_agents, self.minds[agent].emotion)
            ctx.schedule(self.timetable.first_visit(ctx.rng("trendsim.first_visit", None, agent), A), "visit", agent, visit=1)
        for agent in self.attackers:
            rng = ctx.rng("trendsim.first_visit", None, agent)
            ctx.schedule(attacker_first_visit(rng, ctx.clock.start, ctx.clock.end, cfg.attack.first_within), "visit", agent, visit=1)
        specs = [AgentSpec(a, "user", p, {"group": self.groups[a]}) for a, p in self.users.items()]
        specs += [AgentSpec(a, "attacker", None, {"type": x.type, "prototype": x.prototype}) for a, x in self.attackers.items()]
        return specs

    def _make_attackers(self, counts: dict[str, int], start: int = 0) -> dict[str, Attacker]:
        """Attackers, each imitating one exemplar of its type drawn uniformly."""
        data = yaml.safe_load((DATA / "prototypes.yaml").read_text(encoding="utf-8"))
        out, n = {}, start
        for kind, count in counts.items():
            for _ in range(count):
                agent = f"attacker-{n:04d}"
                exemplars = data[kind]["exemplars"]
                pick = int(self.ctx.rng("trendsim.prototype", None, agent).integers(len(exemplars)))
                out[agent] = Attacker(kind, data[kind]["role"], exemplars[pick])
                n += 1
        return out

    async def fork(self, config: TrendSimConfig, tick) -> list[AgentSpec]:
        """A branch: attackers arrive (or leave) now. The users stay the same people, so
        their outcomes compare with the parent's; attackers are added until they make up
        `attack.share` of the population (share/(1-share) attackers per user), typed by
        `attack.mix`, their first visit within `attack.first_within` of the rest of the
        lifecycle. A lower share retires the last attackers."""
        old = self.config
        self.config = config
        if config.cognition != old.cognition:
            self._graph = fused_graph() if config.cognition == "fused" else faithful_graph()
        if config.attack.share == old.attack.share and config.attack.mix == old.attack.mix:
            return []
        n_users = len(self.users)
        share = config.attack.share
        target = attacker_counts(int(n_users / (1 - share) + 0.5), share, config.attack.mix) if share else {}
        have: dict[str, int] = {}
        for a in self.attackers.values():
            have[a.type] = have.get(a.type, 0) + 1
        for kind in have:  # fewer of a type: its last attackers stop visiting
            extra = have[kind] - target.get(kind, 0)
            for agent in [a for a, x in self.attackers.items() if x.type == kind and a not in self.retired][::-1][: max(0, extra)]:
                self.retired.add(agent)
        more = {k: max(0, n - have.get(k, 0)) for k, n in target.items()}
        added = self._make_attackers(more, start=len(self.attackers))
        self.attackers.update(added)
        self.n_agents = n_users + len(self.attackers) - len(self.retired)
        ctx = self.ctx
        for agent in added:
            rng = ctx.rng("trendsim.first_visit", None, agent)
            ctx.schedule(attacker_first_visit(rng, tick.start, ctx.clock.end, config.attack.first_within), "visit", agent, visit=1)
        return [AgentSpec(a, "attacker", None, {"type": x.type, "prototype": x.prototype}) for a, x in added.items()]

    # -- each tick ------------------------------------------------------------------------
    async def activate(self, tick, due) -> list[Activation]:
        """Due visits in sim-time order, ties by agent id (the paper's priority queue)."""
        visits = [Activation(e.agent_id, e.time, {"visit": e.payload["visit"]}) for e in due
                  if e.kind == "visit" and e.agent_id not in self.retired]
        return sorted(visits, key=lambda a: (a.sim_time, a.agent_id))

    def _visit(self, activation: Activation):
        """The graph of this visit and its input state."""
        agent, cfg = activation.agent_id, self.config
        visit = Visit(self.world, agent, cfg.page_size, cfg.max_actions_per_visit)
        common: dict[str, Any] = {
            "llm": self.ctx.llm, "expose": self.ctx.expose, "speed": cfg.reading_speed,
            "visit": visit, "now": activation.sim_time,
        }
        if agent in self.attackers:
            common["llm"] = self.ctx.llm_for("attacker")
            return ATTACKER, start_visit(attacker=self.attackers[agent], **common)
        return self._machine, start_visit(persona=self.users[agent], mind=self.minds[agent], **common)

    async def act(self, activation: Activation) -> list[Action]:
        machine, state = self._visit(activation)
        out = await machine.graph().ainvoke(state, {"recursion_limit": 200})
        return self._actions(activation, end_visit(out))

    async def act_wave(self, turns: list[Turn]) -> list[list[Action]]:
        """A synchronous tick's visits through one compiled graph, `run_wave` (same actions as `act`)."""
        visits = [(*self._visit(t.activation), t.enter) for t in turns]
        outs = await run_wave(visits)
        return [self._actions(t.activation, end_visit(out)) for t, out in zip(turns, outs)]

    def _actions(self, activation: Activation, walk: Walk) -> list[Action]:
        agent = activation.agent_id
        actions = [Action(agent, step.action, when, step.payload()) for step, when in walk.steps]
        end = {
            "visit": activation.data["visit"], "actions": len(walk.steps), "shown": walk.shown,
            "shown_attack": walk.shown_attack, "calls": walk.calls, "tokens_in": walk.tokens_in, "tokens_out": walk.tokens_out,
        }
        if walk.mind is not None:
            end["state"] = walk.mind.as_dict()
        actions.append(Action(agent, "end_visit", walk.end, end))
        return actions

    async def apply(self, action: Action) -> None:
        world, p, when = self.world, dict(action.payload), action.sim_time
        kind = action.kind
        if kind == "enter":
            world.views += 1
        elif kind == "like_topic":
            world.likes += 1
        elif kind == "repost":
            world.reposts += 1
        elif kind == "comment":
            p.update(await self._post(action))
        elif kind == "like_comment":
            target = world.comments[p["cid"]]
            p.update(rank=world.like_comment(target.cid), author=target.author, attack=target.attack_type)
            self.tally.comment_likes += 1
            self.interactions.append((action.agent_id, target.author, kind))
        elif kind == "reply":
            target = world.comments[p["cid"]]
            world.reply(target.cid, action.agent_id, p["text"], when.isoformat())
            p.update(author=target.author, attack=target.attack_type)
            self.tally.replies += 1
            self.interactions.append((action.agent_id, target.author, kind))
        elif kind == "end_visit":
            self._end_visit(action)
        self.ctx.emit(kind, p, agent_id=action.agent_id, sim_time=when)

    async def _post(self, action: Action) -> dict[str, Any]:
        """Publish a comment, unless censorship is on, due, and flags it (replies are never censored)."""
        cfg, clock, world = self.config, self.ctx.clock, self.world
        attacker = self.attackers.get(action.agent_id)
        comment = world.new_comment(action.agent_id, action.payload["text"], action.sim_time.isoformat(), attacker.type if attacker else None)
        row = {"cid": comment.cid, "author": comment.author, "attack": comment.attack_type, "text": comment.text, "sim_time": comment.sim_time}
        censor_from = clock.start + (clock.end - clock.start) * cfg.censorship.start_fraction
        if cfg.censorship.enabled and action.sim_time >= censor_from and await self._flagged(comment.text):
            world.censor(comment)
            if attacker:
                self.tally.censored_attack += 1
            else:
                self.tally.censored_user += 1
            self.ctx.record("trendsim_comments", {**row, "censored": 1, "rank": None})
            return {"cid": comment.cid, "attack": comment.attack_type, "censored": True}
        rank = world.publish(comment)
        self.tally.comments += 1
        self.ctx.record("trendsim_comments", {**row, "censored": 0, "rank": rank})
        return {"cid": comment.cid, "rank": rank, "attack": comment.attack_type}

    async def _flagged(self, text: str) -> bool:
        """The censor's verdict; if its answer cannot be read, the comment is published."""
        msgs = split_messages("censor.j2", title=self.world.topic.title, text=text)
        ans = await self.ctx.llm_for("censor").complete(msgs, schema=Verdict, purpose="trendsim.censor")
        return bool(ans.ok and ans.parsed.malicious)

    def _end_visit(self, action: Action) -> None:
        agent, p, ctx = action.agent_id, action.payload, self.ctx
        tick = ctx.tick.index if ctx.tick else 0
        rng = ctx.rng("trendsim.next_visit", tick, f"{agent}#{p['visit']}")
        if agent in self.attackers:
            when = attacker_next_visit(action.sim_time, self.config.attack.period, ctx.clock.end)
        else:
            self.tally.visits += 1
            self.tally.agent_steps += p["actions"]
            self.tally.calls += p["calls"]
            self.tally.tokens_in += p["tokens_in"]
            self.tally.tokens_out += p["tokens_out"]
            self.tally.impressions += p["shown"]
            self.tally.attack_impressions += p["shown_attack"]
            mind = self.minds[agent] = Mind(**p["state"])
            ctx.save_state(agent, {**mind.as_dict(), "visits": p["visit"]})
            A = breaking_degree(self.world.likes, self.n_agents, mind.emotion)
            when = self.timetable.next_visit(rng, A, action.sim_time)
        if when is not None:
            ctx.schedule(when, "visit", agent, visit=p["visit"] + 1)

    async def end_tick(self, tick) -> None:
        """Hourly snapshot of the outcome metrics (the paper's Fig. 3 and 4 series)."""
        elapsed = tick.end - self.ctx.clock.start
        if elapsed % HOUR == timedelta(0) or tick.end >= self.ctx.clock.end:
            hour = int(-(-elapsed // HOUR))
            metrics.outcomes(self.ctx.metric, self._states(), {"hour": hour})

    def _states(self) -> list[tuple[str, dict]]:
        return [(self.groups[a], m.as_dict()) for a, m in self.minds.items()]

    # -- end of run -----------------------------------------------------------------------
    async def finish(self) -> None:
        metric = self.ctx.metric
        metrics.outcomes(metric, self._states())
        metrics.engagement(metric, self.world, self.tally)
        metrics.cost(metric, self.tally)
        metrics.attack(metric, self.world, self.tally, len(self.attackers))
        if self.config.censorship.enabled:
            metrics.censorship(metric, self.tally)
        kinds = {**{a: "user" for a in self.users}, **{a: "attacker" for a in self.attackers}}
        metrics.network(metric, interaction_graph(kinds, self.interactions), len(self.attackers))
        await validity.judge_run(self.ctx, self.config.validity, self.world)

    @classmethod
    def series_marks(cls, db, run_id: str) -> list[Mark]:
        """The attack's start: the hour of the first comment an attacker posted."""
        row = db.execute(
            "select e.sim_time, (select min(sim_time) from ticks where run_id = ?) from events e"
            " where e.run_id = ? and e.kind = 'comment' and e.agent_id like 'attacker-%' order by e.tick, e.seq limit 1",
            [run_id, run_id],
        ).fetchone()
        if not row or not row[0] or not row[1]:
            return []
        hours = (datetime.fromisoformat(row[0]) - datetime.fromisoformat(row[1])) / HOUR
        return [Mark(round(hours, 2), "first attack comment")]

    @classmethod
    def export_tables(cls, db, run_id: str) -> dict:
        """The interaction network as edges (who liked or replied to whose comments)."""
        from simkit.plugins.trendsim.network import graph_from_db

        graph = graph_from_db(db, run_id)
        return {"network_edges": [
            {"source": u, "target": v, "source_kind": graph.nodes[u].get("kind"), "target_kind": graph.nodes[v].get("kind"), **data}
            for u, v, data in sorted(graph.edges(data=True))
        ]}

    @classmethod
    def replay_renderer(cls):
        from simkit.plugins.trendsim.replay import TrendSimRenderer

        return TrendSimRenderer()
