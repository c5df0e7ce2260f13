"""Agent cognition: LangGraph graphs (`Machine`s) compiled once per agent type, run one
visit per invocation, or a synchronous wave of visits per invocation (`simkit.agents.wave`).

A normal user walks one visit page by page (at most 4 actions). Per step, `faithful`
makes the paper's separate calls (perceive the page; decide from the impression; write a
comment or reply, or choose which comment to open, when the action needs it; four
reflections that rewrite memory, opinion, emotion and social confidence), while `fused`
asks for all of it in one structured call. Attackers have no state and follow a fixed
script: enter, post one poisoning comment imitating their prototype, leave.

Documented fallbacks (a bad answer never stops a visit): a failed perception uses the
page title as the impression; a failed decision takes the page's fallback action (see
`pages.py`); a failed or empty comment/reply text does the same; a failed choice opens the
first comment shown; a failed reflection keeps the previous value (the authors' code
resets it to 0.5, which reads a parse failure as a mood swing); a failed attacker call
posts the prototype sentence itself.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, TypedDict

from langgraph.graph import END

from simkit.agents.wave import Machine
from simkit.agents.prompts import PromptLibrary
from simkit.llm.client import LLMClient
from simkit.memo import per_object
from simkit.personas.model import Persona
from simkit.plugins.trendsim import answers
from simkit.plugins.trendsim.pages import MAIN, NEEDS_TEXT, Step, Visit

PROMPTS_DIR = Path(__file__).parent / "prompts"
PROMPTS = PromptLibrary(PROMPTS_DIR)


@dataclass
class Mind:
    """A normal user's short-term state (the paper's short-term memory)."""

    memory: str = ""
    opinion: str = ""
    emotion: float = 0.5
    social_confidence: float = 0.5

    def as_dict(self) -> dict[str, Any]:
        # by hand: dataclasses.asdict deep-copies, and the hourly metrics read 10,000 of these
        return {"memory": self.memory, "opinion": self.opinion, "emotion": self.emotion,
                "social_confidence": self.social_confidence}


@dataclass
class Walk:
    """What one visit produced: its steps with their sim times, and the visitor's new state."""

    steps: list[tuple[Step, datetime]]
    end: datetime
    mind: Mind | None = None
    shown: int = 0  # comments shown on topic pages
    shown_attack: int = 0  # of which written by attackers
    calls: int = 0  # LLM calls the visit's cognition made, and their tokens
    tokens_in: int = 0
    tokens_out: int = 0


@dataclass
class Attacker:
    type: str
    role: str
    prototype: str


class VisitState(TypedDict, total=False):
    llm: LLMClient
    expose: Callable[..., None]
    speed: float
    visit: Visit
    now: datetime
    persona: Persona
    mind: Mind
    attacker: Attacker
    page: dict
    page_text: str
    impression: str
    proposed: str | None
    text: str | None
    index: Any
    walk: Walk


# -- nodes shared by the graphs (async: LangGraph runs sync nodes on a thread pool) -----
async def show(state: VisitState) -> dict:
    """Render the current page, spend its reading time, and record it as an exposure."""
    visit, walk = state["visit"], state["walk"]
    page = visit.page()
    text = PROMPTS.render("page.j2", page=page)
    now = state["now"] + timedelta(seconds=round(len(text) / state["speed"]))
    state["expose"](visit.visitor, exposure(page), sim_time=now)
    if page["page"] == MAIN:
        walk.shown += len(page["comments"])
        walk.shown_attack += sum(1 for c in page["comments"] if c["attack"])
    return {"page": page, "page_text": text, "now": now, "proposed": None, "text": None, "index": None}


def exposure(page: dict) -> dict:
    """What is stored in `exposures`: the page without the topic's long texts."""
    return {k: v for k, v in page.items() if k not in ("content", "brief", "title")}


async def ask(state: VisitState, messages: list[dict[str, str]], schema: type, purpose: str):
    """One LLM call, counted against the visit (for calls and tokens per agent-step)."""
    ans = await state["llm"].complete(messages, schema=schema, purpose=purpose)
    walk = state["walk"]
    walk.calls += 1
    walk.tokens_in += ans.tokens_in
    walk.tokens_out += ans.tokens_out
    return ans


def user_messages(state: VisitState, template: str, **values: Any) -> list[dict[str, str]]:
    return user_prompt(
        template, state["persona"], state["mind"], page_text=state.get("page_text", ""),
        impression=state.get("impression", ""), actions=state["visit"].valid_actions(), **values,
    )


PREAMBLE = "You like browsing trending topics on social media."


def user_prompt(template: str, persona: Persona, mind: Mind, **values: Any) -> list[dict[str, str]]:
    """A user's call laid out for prefix caches: what stays the same longest comes first.
    Fused (one call per step): the rules, shared by every agent and step, then the persona;
    the state and the page last. Faithful (six different calls per step, all reading the
    same state, the four reflections the same impression and action): the persona, the
    state, what the call is shown, and the call's own rules last."""
    rules = PROMPTS.render_block(template, "rules", **values)
    ask = PROMPTS.render_block(template, "ask", **values)
    state = PROMPTS.render("state.j2", me=mind)
    if template == "fused.j2":
        return [
            {"role": "system", "content": f"{PREAMBLE} {rules}\n\n{persona_text(persona)}"},
            {"role": "user", "content": f"{state}\n\n{ask}"},
        ]
    return [
        {"role": "system", "content": f"{PREAMBLE}\n\n{persona_text(persona)}"},
        {"role": "user", "content": f"{state}\n\n{ask}\n\n{rules}"},
    ]


def split_messages(template: str, **values: Any) -> list[dict[str, str]]:
    """An instrument's call (attacker, censor): its rules as the system message, the rest as the user one."""
    return [
        {"role": "system", "content": PROMPTS.render_block(template, "rules", **values)},
        {"role": "user", "content": PROMPTS.render_block(template, "ask", **values)},
    ]


@per_object(limit=100_000)
def persona_text(persona: Persona) -> str:
    """The persona's description, rendered once per persona (it never changes in a run)."""
    return PROMPTS.render("persona.j2", persona=persona)


async def advance(state: VisitState) -> dict:
    """Take the decided action on the visitor's view (falling back when it cannot be done)."""
    visit, proposed = state["visit"], state.get("proposed")
    if visit.resolve(proposed) in NEEDS_TEXT and not state.get("text"):
        proposed = None
    step = visit.take(proposed, text=state.get("text"), index=state.get("index"))
    state["walk"].steps.append((step, state["now"]))
    return {}


def until_done(node: str):
    """The edge that loops back to `node` for the next page until the visit is over."""

    async def route(state: VisitState) -> str:
        return END if state["visit"].done else node

    return route


# -- faithful: the paper's separate calls ------------------------------------------------
async def perceive(state: VisitState) -> dict:
    ans = await ask(state, user_messages(state, "perceive.j2"), answers.Perception, purpose="trendsim.perceive")
    return {"impression": ans.parsed.impression if ans.ok else state["page"].get("title", "")}


async def decide(state: VisitState) -> dict:
    schema = answers.decision_model(state["visit"].valid_actions())
    ans = await ask(state, user_messages(state, "decide.j2"), schema, purpose="trendsim.decide")
    return {"proposed": ans.parsed.action if ans.ok else None}


async def write(state: VisitState) -> dict:
    visit = state["visit"]
    action = visit.resolve(state.get("proposed"))
    if action in NEEDS_TEXT:
        target = state["page"].get("text", "") if action == "reply" else ""
        msgs = user_messages(state, "write.j2", action=action, title=visit.world.topic.title, target=target)
        ans = await ask(state, msgs, answers.Writing, purpose="trendsim.write")
        return {"text": ans.parsed.text.strip() if ans.ok else None}
    if action == "open_comment":
        comments = [c for c in state["page"]["comments"] if c["cid"] is not None]
        msgs = user_messages(state, "choose.j2", comments=comments)
        ans = await ask(state, msgs, answers.Choice, purpose="trendsim.choose")
        return {"index": ans.parsed.comment_index if ans.ok else None}
    return {}


async def reflect(state: VisitState) -> dict:
    """The four reflection calls (independent given impression and action, so concurrent)."""
    action = state["visit"].resolve(state.get("proposed"))
    title = state["visit"].world.topic.title
    calls = [
        ("reflect_memory.j2", answers.MemoryUpdate, "trendsim.reflect.memory"),
        ("reflect_opinion.j2", answers.OpinionUpdate, "trendsim.reflect.opinion"),
        ("reflect_emotion.j2", answers.EmotionUpdate, "trendsim.reflect.emotion"),
        ("reflect_confidence.j2", answers.ConfidenceUpdate, "trendsim.reflect.confidence"),
    ]
    results = await asyncio.gather(
        *(ask(state, user_messages(state, t, action=action, title=title), s, p) for t, s, p in calls)
    )
    old = state["mind"]
    memory, opinion, emotion, confidence = (r.parsed if r.ok else None for r in results)
    return {
        "mind": Mind(
            memory=memory.memory if memory else old.memory,
            opinion=opinion.opinion if opinion else old.opinion,
            emotion=emotion.emotion / 100 if emotion else old.emotion,
            social_confidence=confidence.social_confidence / 100 if confidence else old.social_confidence,
        )
    }


# -- fused: one structured call per step -------------------------------------------------
async def fused_step(state: VisitState) -> dict:
    """Show the page, ask for everything at once, take the action: one node per step, since
    LangGraph's per-node cost matters at 1,000 agents (bench/README.md)."""
    state = {**state, **await show(state)}
    schema = answers.fused_model(state["visit"].valid_actions())
    ans = await ask(state, user_messages(state, "fused.j2"), schema, purpose="trendsim.step")
    if ans.ok:
        a = ans.parsed
        state.update(
            impression=a.impression, proposed=a.action, text=a.text.strip() or None, index=a.comment_index,
            mind=Mind(a.memory, a.opinion, a.emotion / 100, a.social_confidence / 100),
        )
    await advance(state)
    return {"now": state["now"], "mind": state["mind"]}


FAITHFUL = Machine(
    "faithful", VisitState, "show",
    (("show", show), ("perceive", perceive), ("decide", decide), ("write", write), ("reflect", reflect), ("advance", advance)),
    (("show", "perceive"), ("perceive", "decide"), ("decide", "write"), ("write", "reflect"), ("reflect", "advance"),
     ("advance", until_done("show"))),
)
FUSED = Machine("fused", VisitState, "step", (("step", fused_step),), (("step", until_done("step")),))


# -- attackers ---------------------------------------------------------------------------
async def attacker_enter(state: VisitState) -> dict:
    """Read the browsing page and enter the topic (an attacker always does)."""
    state = {**state, **await show(state)}
    state["visit"].take("enter")
    state["walk"].steps.append((state["visit"].steps[-1], state["now"]))
    return {"now": state["now"]}


async def attacker_post(state: VisitState) -> dict:
    """Read the topic page, post one comment imitating the prototype, leave (as far as
    `max_actions_per_visit` allows: with 1 the attacker only enters, with 2 it posts)."""
    visit, attacker = state["visit"], state["attacker"]
    if visit.done:
        return {"now": state["now"]}
    state = {**state, **await show(state)}
    msgs = split_messages("attack.j2", role=attacker.role, page_text=state["page_text"], prototype=attacker.prototype)
    ans = await ask(state, msgs, answers.PoisonComment, purpose="trendsim.attack")
    text = ans.parsed.comment.strip() if ans.ok and ans.parsed.comment.strip() else attacker.prototype
    for action in ("comment", "leave"):
        if visit.done:
            break
        visit.take(action, text=text)
        state["walk"].steps.append((visit.steps[-1], state["now"]))
    return {"now": state["now"]}


async def attacker_visit(state: VisitState) -> dict:
    """The whole scripted visit in one node: nothing in it is decided, and at 10,000 agents
    a node per page cost 12,000 more LangGraph tasks (bench/README.md)."""
    return await attacker_post({**state, **await attacker_enter(state)})


ATTACKER = Machine("attacker", VisitState, "visit", (("visit", attacker_visit),))


def start_visit(**state: Any) -> dict:
    """The input state of one visit (with the `Walk` its nodes fill in)."""
    return {**state, "walk": Walk(steps=[], end=state["now"], mind=state.get("mind"))}


def end_visit(out: dict) -> Walk:
    """What a visit produced, from its final state."""
    walk = out["walk"]
    walk.end = out["now"]
    walk.mind = out.get("mind")
    return walk

