"""Character agents: state, memory, BDI beliefs, and the calls the character's own model
(the model under test) makes: beliefs, action, dialogue, reaction, importance, synopsis.

A turn is a compiled-once LangGraph graph (act -> speak). Documented fallbacks (a bad answer
never stops a scene): a failed belief keeps the previous one; a failed action is "NAME
waits and watches."; a failed dialogue is silence (""); a failed reaction is "NAME
flinches."; a failed importance rating is 5; a failed synopsis leaves every reference empty.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypedDict


from simkit.agents.graph import compile_once, linear_graph
from simkit.agents.memory import MemoryStream
from simkit.agents.prompts import PromptLibrary
from simkit.llm.client import LLMClient
from simkit.plugins.characterbox import answers
from simkit.plugins.characterbox.scenes import CharacterInfo, SceneInfo

PROMPTS_DIR = Path(__file__).parent / "prompts"
PROMPTS = PromptLibrary(PROMPTS_DIR)
CHARACTER = "characterbox.character"


@dataclass
class Record:
    """One step of a character's trajectory (the code's character_record entries)."""

    round: int
    type: str  # action | dialogue | reaction
    observation: str
    text: str


@dataclass
class Character:
    agent_id: str
    name: str
    description: str
    position: str
    states: str
    self_belief: str = ""
    env_belief: str = ""
    memory: MemoryStream = field(default_factory=MemoryStream)
    observations: list[str] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)

    @classmethod
    def of(cls, agent_id: str, info: CharacterInfo) -> Character:
        return cls(agent_id, info.name, info.description, info.position, info.states)

    def observation(self) -> str:
        return "\n".join(self.observations)

    def snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name, "position": self.position, "states": self.states,
            "self_belief": self.self_belief, "env_belief": self.env_belief, "memory": self.memory.as_list(),
        }


class Mind:
    """The calls one character makes, on the model under test. `scene` is the live scene
    (shared with the narrator, which rewrites it)."""

    def __init__(self, me: Character, scene: SceneInfo, llm: LLMClient, *, k: int, rate: bool):
        self.me, self.scene, self.llm = me, scene, llm
        self.k, self.rate = k, rate

    def messages(self, template: str, query: str, now: datetime, **values: Any) -> list[dict[str, str]]:
        picked = self.me.memory.retrieve(query, now, self.k) if query and len(self.me.memory) else []
        memories = [m.text for m in sorted(picked, key=lambda m: m.created, reverse=True)]
        return PROMPTS.messages("character_system.j2", template, me=self.me, scene=self.scene, memories=memories, **values)

    async def ask(self, messages: list[dict[str, str]], schema: type, what: str):
        return await self.llm.complete(messages, schema=schema, purpose=f"{CHARACTER}.{what}", agent_id=self.me.agent_id)

    async def refresh_beliefs(self, last_round: str, others: list[Character], now: datetime) -> None:
        """The BDI refresh at the start of a round: self-belief, then environment-belief."""
        me = self.me
        ans = await self.ask(self.messages("self_belief.j2", last_round, now, observation=last_round), answers.Belief, "self_belief")
        if ans.ok:
            me.self_belief = ans.parsed.belief
        ans = await self.ask(
            self.messages("env_belief.j2", last_round, now, observation=last_round, others=others), answers.Belief, "env_belief"
        )
        if ans.ok:
            me.env_belief = ans.parsed.belief

    async def act(self, observation: str, plot: str, now: datetime) -> str:
        ans = await self.ask(self.messages("action.j2", observation, now, observation=observation, plot=plot), answers.ActionAnswer, "action")
        return ans.parsed.action if ans.ok else f"{self.me.name} waits and watches."

    async def speak(self, action: str, plot: str, now: datetime) -> str:
        ans = await self.ask(self.messages("dialogue.j2", action, now, action=action, plot=plot), answers.DialogueAnswer, "dialogue")
        return ans.parsed.dialogue if ans.ok else ""

    async def react(self, observation: str, now: datetime) -> str:
        ans = await self.ask(self.messages("reaction.j2", observation, now, observation=observation), answers.ReactionAnswer, "reaction")
        return ans.parsed.reaction if ans.ok else f"{self.me.name} flinches."

    async def remember(self, texts: list[str], now: datetime, gather: Callable[..., Awaitable[list]]) -> None:
        """Write memories in order; with `rate`, each gets its importance from one LLM call
        (as the authors' code does on every add_memory), the calls made concurrently."""
        texts = [t for t in texts if t.strip()]
        if self.rate:
            ratings = await gather(*(self._rate(t) for t in texts))
        else:
            ratings = [5] * len(texts)
        for text, rating in zip(texts, ratings):
            when = now + timedelta(milliseconds=len(self.me.memory))  # keeps memories of one tick in order
            self.me.memory.add(text, when, importance=rating)

    async def _rate(self, text: str) -> int:
        msgs = PROMPTS.messages(None, "importance.j2", me=self.me, memory=text)
        ans = await self.ask(msgs, answers.Importance, "importance")
        return ans.parsed.rating if ans.ok else 5


class TurnState(TypedDict, total=False):
    mind: Mind
    observation: str
    plot: str
    now: datetime
    action: str
    dialogue: str


async def _act(state: TurnState) -> dict:
    return {"action": await state["mind"].act(state["observation"], state["plot"], state["now"])}


async def _speak(state: TurnState) -> dict:
    return {"dialogue": await state["mind"].speak(state["action"], state["plot"], state["now"])}


@compile_once
def turn_graph():
    """A character's turn: one physical action, then the line said while doing it."""
    return linear_graph(TurnState, _act, _speak)


async def write_synopsis(
    llm: LLMClient, system: str, values: dict[str, Any], names: list[str], agent_id: str, purpose: str
) -> dict[str, str]:
    """Each character's action reference for the round (name -> line; "" when it failed);
    one line per character, so twice the usual answer budget."""
    schema = answers.synopsis_answer(tuple(names))
    keys = "{" + ", ".join(f'"{answers.key_of(n)}": "<{n}>"' for n in names) + "}"
    msgs = PROMPTS.messages(system, "synopsis.j2", keys=keys, **values)
    ans = await llm.complete(msgs, schema=schema, purpose=purpose, agent_id=agent_id, max_tokens=2 * llm.max_tokens)
    if not ans.ok:
        return dict.fromkeys(names, "")
    return {n: getattr(ans.parsed, answers.key_of(n)) for n in names}
