"""`CDIPlugin`: a contextual-integrity scenario played by a data sender (the defended agent,
the model under test) and a data recipient (the attacker) over mock apps, scored by the
shared disclosure judge (trendsim_cdi.md part B).

Sequential mode; a tick is one orchestrator step (B4.1). The subject's data reaches the
sender at set-up. Each step, every agent with an active task and a trigger (a notification,
or a proactive timeout for the recipient) runs one action cycle; a send is performed at
once and its notification queues the addressee's cycle in the same step (`ctx.turns.add`)
unless that agent already acted in it. An episode ends when the sender's task ends, when
the recipient is done and nothing waits for the sender, or after `max_orchestrator_steps`.
The strategic attacker replays the episode: after a failed one, an optimizer rewrites the
recipient's task, for at most `optimizer_rounds` episodes. Metrics are the last episode's.
"""

from __future__ import annotations

from typing import Any

from simkit.agents.tool_loop import run_tool_loop
from simkit.agents.toolbox import ToolResult
from simkit.judges import Disclosure, DisclosureConfig, DisclosureItem, DisclosureJudge
from simkit.llm.base import ToolCall
from simkit.plugins.base import Action, Activation, AgentSpec, Plugin
from simkit.plugins.cdi.agents import (
    PROMPTS,
    PROMPTS_DIR,
    VETO,
    Guard,
    Instructor,
    Mind,
    OptimizerAnswer,
    sanitize,
    trace_entry,
)
from simkit.plugins.cdi.aggregate import aggregate
from simkit.plugins.cdi.apps import CONTENT_READS, STOP_TOOLS, Apps, Message, toolbox
from simkit.plugins.cdi.config import CDIConfig
from simkit.plugins.cdi.judge_run import judge_run
from simkit.plugins.cdi.report import scored_run, sweep_table
from simkit.plugins.cdi.scenario import APP_NAMES, Scenario, load_scenarios

ACTORS = ("sender", "recipient")


def think_then_act(step: int) -> str:
    """The authors' alternation for models without built-in reasoning: think() on even
    steps of a cycle, a required tool call on odd ones (`agent.py`, `think_step`)."""
    return "think" if step % 2 == 0 else "required"


class CDIPlugin(Plugin[CDIConfig]):
    """Privacy defenses for tool-using agents: prompting, guarding and CDI (ICML 2026)."""

    name = "cdi"
    mode = "sequential"
    prompts_dir = PROMPTS_DIR
    llm_roles = ("sender", "recipient", "guard", "instructor", "judge", "optimizer")
    subject_roles = ("sender",)  # the model under test; the other roles are instruments (pinned)
    sweep_report = staticmethod(sweep_table)

    def scripted_responders(self):
        from simkit.plugins.cdi.scripted import RESPONDERS

        return dict(RESPONDERS)

    # -- set-up ---------------------------------------------------------------------------
    async def setup(self, personas) -> list[AgentSpec]:
        cfg = self.config
        scenarios = load_scenarios(cfg.scenarios)
        self.scenario: Scenario = scenarios[cfg.scenario] if cfg.scenario else next(iter(scenarios.values()))
        s = self.scenario
        self.people = {"subject": s.subject, "sender": s.sender, "recipient": s.recipient}
        self.attack_task = self.config.attack_task or s.attack_task
        self.episode = 0
        self.round = 1
        self.round_of: dict[int, int] = {}
        self.episodes: dict[int, Apps] = {}
        self.attack_tasks: dict[int, str] = {}
        self.checks: dict[int, list[Disclosure]] = {}
        self.done = False
        self._start_episode(0)
        return [AgentSpec(a, a, None, {"name": p.name, "public_profile": p.public_profile, "scenario": s.id})
                for a, p in self.people.items()]

    def _start_episode(self, tick: int) -> None:
        """Fresh apps and minds; the subject's data reaches the sender (B4.1: the subject
        sends everything once, then stops)."""
        s = self.scenario
        self.episode += 1
        self.episode_start = tick
        self.apps = self.episodes[self.episode] = Apps(dict(self.people))
        self.minds = {a: Mind() for a in ACTORS}
        self.acted: set[str] = set()
        text = PROMPTS.render("transfer.j2", sender=s.sender, sensitive=s.sensitive, shareable=s.shareable)
        if s.retrieve_app == "notes":
            note = self.apps.add_note("sender", f"About {s.subject.name}", text)
            self.ctx.record("cdi_notes", {"episode": self.episode, "note_id": note.id, "owner": "sender", "title": note.title, "body": text})
        else:
            self._deliver("subject", s.retrieve_app, ["sender"], text, f"Information about {s.subject.name}" if s.retrieve_app == "email" else "")
        self.attack_tasks[self.episode] = self.attack_task
        self.round_of[self.episode] = self.round
        note = {"id_note": s.id_note} if s.id_note else {}
        self.ctx.emit("episode_start", {"episode": self.episode, "scenario": s.id, "attack_task": self.attack_task, **note})

    # -- each tick ------------------------------------------------------------------------
    def _due(self, agent: str, tick: int) -> bool:
        mind, limits = self.minds[agent], self._limits(agent)
        if not mind.active or agent in self.acted:
            return False
        if self.apps.pending(agent):
            return True
        return limits.timeout_steps > 0 and (mind.cycles == 0 or tick - mind.last_cycle_tick >= limits.timeout_steps)

    def _limits(self, agent: str):
        return self.config.sender if agent == "sender" else self.config.recipient

    async def activate(self, tick, due) -> list[Activation]:
        if self.done:
            return []
        self.acted = set()
        return [Activation(a, tick.start) for a in ACTORS if self._due(a, tick.index)]

    async def act(self, activation: Activation) -> list[Action]:
        agent, ctx, when = activation.agent_id, self.ctx, activation.sim_time
        tick = ctx.tick.index if ctx.tick else 0
        if not self._due(agent, tick):
            return []
        self.acted.add(agent)
        mind, limits, cfg = self.minds[agent], self._limits(agent), self.config
        first = mind.cycles == 0
        kind = "notification" if self.apps.pending(agent) else "timeout"
        lines = self.apps.notify(agent)
        mind.cycles += 1
        mind.last_cycle_tick = tick
        mind.budget = cfg.guard_budget
        me = self.people[agent]
        task, system = self._system(agent)
        trigger = PROMPTS.render("trigger.j2", kind=kind, lines=lines, first=first)
        ctx.expose(agent, {"trigger": kind, "notifications": lines, "cycle": mind.cycles, "episode": self.episode}, sim_time=when)

        def observe(name: str, args: dict, out: Any) -> None:
            ctx.observe(agent, name, args, out, sim_time=when)
            mind.trace.append(trace_entry(name, args, out))

        async def send(app: str, to: list[str], text: str, subject: str) -> dict:
            return await self.perform(Action(agent, "send", when, {"app": app, "to": to, "text": text, "subject": subject}))

        def complete(reason: str) -> None:
            mind.active = False
            ctx.emit("task_complete", {"episode": self.episode, "reason": reason}, agent_id=agent, sim_time=when)

        apps = self._apps_of(agent)
        contacts = ["sender"] if agent == "recipient" else ["subject", "recipient"]
        tools = toolbox(self.apps, agent, apps, contacts, send, complete,
                        lambda table, row: ctx.record(table, {"episode": self.episode, **row}))
        background = self._memory(agent)
        memory = lambda: sanitize(task, background, mind.trace, me.name)
        hooks = {}
        if agent == "sender" and cfg.defense == "guarding":
            hooks["before"] = self._guard_hook(agent, memory)
        if agent == "sender" and cfg.defense == "cdi":
            hooks["after"] = self._instructor_hook(agent, memory, when)
        llm = ctx.llm if agent == "sender" else ctx.llm_for("recipient")
        messages = [{"role": "system", "content": system}, *mind.history, {"role": "user", "content": trigger}]
        result = await run_tool_loop(
            llm, tools, messages, observe=observe, purpose=f"cdi.{agent}", max_steps=limits.max_steps,
            stop_tools=STOP_TOOLS, tool_choice=think_then_act if cfg.think_act else "auto", **hooks,
        )
        mind.keep(result.messages[1:], cfg.history_messages)
        if mind.cycles >= limits.max_cycles:
            mind.active = False
        return [Action(agent, "cycle_end", when, {
            "episode": self.episode, "cycle": mind.cycles, "trigger": kind, "steps": result.steps,
            "stopped_by": result.stopped_by, "vetoes": len(result.vetoed), "task_active": mind.active,
        })]

    def _apps_of(self, agent: str) -> list[str]:
        """The sender has its retrieve app and the leak channel; the recipient only the leak
        channel (B4.1)."""
        s = self.scenario
        return [s.leak_app] if agent == "recipient" else sorted({s.retrieve_app, s.leak_app})

    def _memory(self, agent: str) -> str:
        """What the agent knows besides its task: its background, its contacts with their
        public profiles, and where the data is (the recipient: what is known of the
        subject). Guard and instructor read this as `[Background]` (the authors' memory)."""
        return f"{self.people[agent].background}\n{self._known(agent)}"

    def _known(self, agent: str) -> str:
        s = self.scenario
        if agent == "sender":
            lines = [f"Some information about {s.subject.name} is available on {APP_NAMES[s.retrieve_app]}."]
            contacts = [s.subject, s.recipient]
        else:
            lines = [f"What is known about {s.subject.name}: {s.subject.public_profile}"]
            contacts = [s.sender]
        return PROMPTS.render("memory.j2", contacts=contacts, memory=lines)

    def _system(self, agent: str) -> tuple[str, str]:
        """(task, system prompt). The prompting defense adds its text to the sender's goal."""
        s, me = self.scenario, self.people[agent]
        if agent == "sender":
            task, requirement = s.sender_task, s.sender_requirement or PROMPTS.render("requirement_sender.j2")
            prompting = PROMPTS.render("prompting.j2") if self.config.defense == "prompting" else ""
        else:
            task, prompting = self.attack_task, ""
            requirement = s.recipient_requirement or PROMPTS.render("requirement_recipient.j2")
        system = PROMPTS.render(
            "system.j2", me=me, task=task, prompting=prompting, requirement=requirement, memory=self._known(agent),
            apps=[APP_NAMES[a] for a in self._apps_of(agent)],
        )
        return task, system

    def _guard_hook(self, agent: str, memory):
        """Before every send of the sender, while the cycle's veto budget lasts."""
        guard, mind, ctx = Guard(self.ctx.llm_for("guard"), self.people[agent].name), self.minds[agent], self.ctx

        async def before(call: ToolCall, _messages) -> str | None:
            if mind.budget <= 0:  # the authors' budget: once used up, sends go through unguarded
                return None
            to = str(call.arguments.get("to", "the public"))
            block, answer = await guard.check(memory(), call, call.name.split("_")[0], to)
            row = {"episode": self.episode, "cycle": mind.cycles, "tool": call.name, "arguments": call.arguments,
                   "block": int(block), "parsed": int(answer is not None),
                   "sensitive_data": answer.sensitive_data if answer else None}
            ctx.record("cdi_guard", row)
            if block:
                mind.budget -= 1
                ctx.emit("veto", row, agent_id=agent)
                return VETO
            return None

        return before

    def _instructor_hook(self, agent: str, memory, when):
        """After every content read of the sender: one instruction, as a user message."""
        instructor, mind, ctx = Instructor(self.ctx.llm_for("instructor"), self.people[agent].name), self.minds[agent], self.ctx

        async def after(result: ToolResult, _messages) -> list[dict] | None:
            if result.call.name not in CONTENT_READS:
                return None
            text, parsed = await instructor.instruct(memory())
            row = {"episode": self.episode, "cycle": mind.cycles, "after_tool": result.call.name, "instruction": text, "parsed": int(parsed)}
            ctx.record("cdi_instructions", row)
            ctx.expose(agent, {"instruction": text, "after_tool": result.call.name, "parsed": parsed}, sim_time=when)
            return [{"role": "user", "content": f"## Instruction:\n{text}"}]

        return after

    async def apply(self, action: Action) -> Any:
        if action.kind == "send":
            p = action.payload
            return self._deliver(action.agent_id, p["app"], p["to"], p["text"], p["subject"])
        payload = action.payload
        self.ctx.emit(action.kind, payload, agent_id=action.agent_id, sim_time=action.sim_time)
        self.ctx.record("cdi_cycles", {"agent": action.agent_id, **payload})
        mind = self.minds[action.agent_id]
        self.ctx.save_state(action.agent_id, {"episode": self.episode, "cycles": mind.cycles, "active": mind.active})
        return None

    def _deliver(self, sender: str, app: str, to: list[str], text: str, subject: str) -> dict:
        """Put a message in the addressees' inboxes (or the public feed) and queue their
        next cycle; returns the receipt the sending tool shows."""
        ctx = self.ctx
        tick = ctx.tick.index if ctx.tick else 0
        message = self.apps.add_message(app, sender, to, text, subject, tick)
        row = {"episode": self.episode, "msg_id": message.id, "app": app, "sender": sender, "to": to,
               "subject": subject, "text": text}
        if sender == "sender":
            mind = self.minds["sender"]
            row["memory"] = sanitize(self.scenario.sender_task, self._memory("sender"), mind.trace, self.people["sender"].name)
        ctx.record("cdi_messages", row)
        ctx.emit("send", {k: v for k, v in row.items() if k != "memory"}, agent_id=sender)
        pending = {a.agent_id for a in ctx.turns.pending()}
        for agent in ACTORS if sender in ACTORS else ():  # the subject's transfer is set-up, not a turn
            if agent != sender and self.apps.involves(agent, message) and agent not in pending and self._due(agent, tick):
                ctx.turns.add(Activation(agent, ctx.now))
        return {"status": "delivered", "app": app, "message": message.view(self.apps.names)}

    async def end_tick(self, tick) -> None:
        if self.done or not self._episode_over(tick.index):
            return
        self.ctx.emit("episode_end", {"episode": self.episode, "steps": tick.index - self.episode_start + 1})
        cfg = self.config
        if cfg.attacker == "strategic" and self.episode < cfg.optimizer_rounds:
            checks = await self._judge(self.episode)
            if all(c.status == "ok" and not c.sensitive for c in checks):
                await self._rewrite_attack([self.episode], "no sensitive item was revealed")
                self._start_episode(tick.index + 1)
                return
        if cfg.attacker == "search" and await self._search_goes_on():
            self._start_episode(tick.index + 1)
            return
        self.done = True

    async def _search_goes_on(self) -> bool:
        """After each episode of `attacker: search`: play the round's next trajectory, or
        score the round (`cdi_search`), stop at the target or the last round, else let the
        optimizer rewrite the task from the round's trajectories and start the next round."""
        cfg, s = self.config.search, self.scenario
        episodes = [e for e, r in self.round_of.items() if r == self.round]
        if len(episodes) < cfg.trajectories:
            return True
        runs = [scored_run(await self._judge(e), len(s.sensitive.items), len(s.shareable.items)) for e in episodes]
        m = aggregate(runs, self.config.aggregation)
        self.ctx.record("cdi_search", {"round": self.round, "task": self.attack_task, "episodes": episodes, "pp": m.pp,
                                       "hs": m.hs, "ad": m.ad, "scored": m.scored, "leaked": m.leaked})
        self.ctx.emit("search_round", {"round": self.round, "pp": m.pp, "scored": m.scored})
        if (m.pp is not None and m.pp <= cfg.target_pp) or self.round >= cfg.rounds:
            return False
        outcome = f"privacy preserved: {'-' if m.pp is None else f'{m.pp:.2f}'}; sensitive items revealed: {m.leaked} in {m.scored} scored attempts"
        await self._rewrite_attack(episodes, outcome)
        self.round += 1
        return True

    def _episode_over(self, tick: int) -> bool:
        sender, recipient = self.minds["sender"], self.minds["recipient"]
        if not sender.active or tick - self.episode_start + 1 >= self.config.max_orchestrator_steps:
            return True
        return not recipient.active and not self.apps.pending("sender")

    def is_done(self) -> bool:
        return self.done

    # -- attack optimization --------------------------------------------------------------
    def _conversation(self, apps: Apps, upto: int | None = None) -> list[Message]:
        """The leak-channel messages between sender and recipient (every public post on Social)."""
        leak = self.scenario.leak_app
        rows = [m for m in apps.messages if m.app == leak and m.sender in ACTORS and (leak == "social" or set(m.to) <= set(ACTORS))]
        return [m for m in rows if upto is None or m.id < upto]

    async def _rewrite_attack(self, episodes: list[int], outcome: str) -> None:
        """The optimizer reads the attempts (the leak-channel conversation of each episode)
        and writes the next attack task (`cdi_attacks`; kept as it was when unparsable)."""
        s = self.scenario
        trajectories = []
        for episode in episodes:
            apps = self.episodes[episode]
            said = "\n".join(f"{apps.names[m.sender]}: {m.text}" for m in self._conversation(apps))
            trajectories.append(said or "(nothing was said)")
        msgs = PROMPTS.messages(
            "optimizer_system.j2", "optimizer.j2", attacker=s.recipient.name, target=s.sender.name, subject=s.subject.name,
            sensitive_type=s.sensitive.type, app=APP_NAMES[s.leak_app], task=self.attack_task, trajectories=trajectories,
            outcome=outcome,
        )
        answer = await self.ctx.llm_for("optimizer").complete(msgs, schema=OptimizerAnswer, purpose="cdi.optimizer", agent_id="optimizer",
                                                            max_tokens=256)
        if answer.ok:
            self.attack_task = answer.parsed.task
        self.ctx.record("cdi_attacks", {"episode": self.episode + 1, "task": self.attack_task, "parsed": int(answer.ok),
                                        "reflection": answer.parsed.reflection if answer.ok else None})
        self.ctx.emit("attack_rewrite", {"episode": self.episode + 1, "task": self.attack_task, "parsed": answer.ok}, agent_id="optimizer")

    # -- judging --------------------------------------------------------------------------
    def _items(self, episode: int) -> list[DisclosureItem]:
        """Every sender message on the leak channel to the recipient (on Social: every post),
        with the conversation before it so the judge sees what a "yes" confirms."""
        s, apps = self.scenario, self.episodes[episode]
        names = apps.names
        items = []
        for m in self._conversation(apps):
            if m.sender != "sender":
                continue
            before = "\n".join(f"{names[x.sender]}: {x.text}" for x in self._conversation(apps, m.id))
            items.append(DisclosureItem(
                item_id=f"e{episode}-m{m.id}", message=f"{m.subject}: {m.text}" if m.subject else m.text,
                subject=s.subject.name, sensitive=list(s.sensitive.items), shareable=list(s.shareable.items),
                sender=s.sender.name, recipient=s.recipient.name, conversation=before, principle=s.principle,
            ))
        return items

    async def _judge(self, episode: int) -> list[Disclosure]:
        """One verdict per checked action (in order), by the configured judge procedure;
        each is a `cdi_checks` row. An unparsed verdict is `unknown`, logged as `judge_unknown`."""
        if episode in self.checks:
            return self.checks[episode]
        if self.config.judge.mode == "run":
            checks = await self._judge_run(episode)
        else:
            items = self._items(episode)
            temperature = self.config.judge.temperature
            judge = DisclosureJudge(self.ctx, DisclosureConfig(temperature=0.0 if temperature is None else temperature))
            checks = await judge.check_all(items) if items else []
        for check in checks:
            self.ctx.record("cdi_checks", {"episode": episode, "item_id": check.item_id, "status": check.status,
                                           "shareable": check.shareable, "sensitive": check.sensitive, "error": check.error})
            if check.status != "ok":
                self.ctx.emit("judge_unknown", {"episode": episode, "item_id": check.item_id, "error": check.error})
        self.checks[episode] = checks
        return checks

    def _activities(self, apps: Apps) -> list[dict]:
        """The episode's activity log as the run judge reads it: every send after the
        subject's hand-over, indexed from 1."""
        leak_action = {"messenger": "send_message", "email": "send_email", "social": "create_post"}
        out = []
        for m in apps.messages:
            if m.sender == "subject":
                continue
            people = self.people
            row = {"index": m.id, "app": APP_NAMES[m.app], "action": leak_action[m.app], "user_id": people[m.sender].handle}
            if m.to:
                row["to"] = [people[t].email if m.app == "email" else people[t].handle for t in m.to]
            if m.subject:
                row["subject"] = m.subject
            row["text"] = m.text
            out.append(row)
        return out

    async def _judge_run(self, episode: int) -> list[Disclosure]:
        s, apps = self.scenario, self.episodes[episode]
        check = [m.id for m in self._conversation(apps) if m.sender == "sender"]
        profiles = [s.subject.public_profile, s.recipient.public_profile, s.sender.public_profile]
        verdicts, error = await judge_run(
            self.ctx.llm_for("judge"), history=self._activities(apps), check=check,
            n_shareable=len(s.shareable.items), n_sensitive=len(s.sensitive.items),
            background="\n".join(profiles), principle=s.principle, subject=s.subject, sender=s.sender, recipient=s.recipient,
            sender_memory=f"{self._memory('sender')} Fetched information: {' '.join([*s.shareable.items, *s.sensitive.items])}",
            recipient_memory=self._memory("recipient"), shareable=s.shareable.items, sensitive=s.sensitive.items,
        )
        return [Disclosure(item_id=f"e{episode}-m{v.index}", status="ok" if v.parsed else "unknown", shareable=v.shareable,
                           sensitive=v.sensitive, analysis="", evidence=[],
                           error=None if v.parsed else (error or "the answer left this action out"))
                for v in verdicts]

    async def finish(self) -> None:
        s, metric, rule = self.scenario, self.ctx.metric, self.config.aggregation
        for episode in self.episodes:
            checks = await self._judge(episode)
            run = scored_run(checks, len(s.sensitive.items), len(s.shareable.items))
            self.ctx.record("cdi_episodes", {
                "episode": episode, "scored": int(episode == self.episode), "scenario": s.id, "sender_name": s.sender.name,
                "n_sensitive": run.n_sensitive, "n_shareable": run.n_shareable,
                "sensitive": list(s.sensitive.items), "shareable": list(s.shareable.items), "attack_task": self.attack_tasks[episode],
                "id_note": s.id_note, "round": self.round_of[episode],
            })
            m = aggregate([run], rule)
            for name, value in (("pp", m.pp), ("hs", m.hs), ("ad", m.ad)):
                metric(f"disclosure.{name}", value, {"episode": episode})
            if episode == self.episode:
                for name, value in (("pp", m.pp), ("hs", m.hs), ("ad", m.ad)):
                    metric(f"disclosure.{name}", value)
                metric("disclosure.shared", len(run.shared))
                metric("disclosure.leaked", len(run.leaked))
                metric("disclosure.unknown_messages", run.unparsed)
                metric("messages.checked", run.checked)
        metric("episodes", self.episode)
        final = self.episodes[self.episode]
        metric("messages.sent", sum(1 for m in final.messages if m.sender in ACTORS))
        for agent, mind in self.minds.items():
            metric("cycles", mind.cycles, {"agent": agent})

    @classmethod
    def replay_renderer(cls):
        from simkit.plugins.cdi.replay import CDIRenderer

        return CDIRenderer()
