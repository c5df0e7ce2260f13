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
LIBRARIES = {"en": PROMPTS, "zh": PromptLibrary(PROMPTS_DIR / "zh")}  # the same templates, in Chinese
CHARACTER = "characterbox.character"
OnAnswer = Callable[[Any, str, str], None]  # (completion, purpose, agent id): the plugin records clips


def prompts_for(lang: str) -> PromptLibrary:
    return LIBRARIES[lang]


def tokens(messages: list[dict[str, str]]) -> int:
    """The estimate simkit uses where a backend reports none: characters / 4."""
    return sum(len(m["content"]) for m in messages) // 4 + 1


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
    (shared with the narrator, which rewrites it).

    Memories shown: `relevance` retrieves the top `k` (simkit), `recency` the newest first
    while the prompt stays under `tokens` (the code's LangChain buffer). `own_memory`: the
    character's own action and line are remembered as each is made (the code), else the
    plugin writes them after the turn."""

    def __init__(self, me: Character, scene: SceneInfo, llm: LLMClient, *, k: int, rate: bool, lang: str = "en",
                 shown: str = "relevance", tokens: int = 2500, own_memory: bool = False, follow: bool = False,
                 on_answer: OnAnswer | None = None):
        self.me, self.scene, self.llm = me, scene, llm
        self.k, self.rate, self.lang = k, rate, lang
        self.shown, self.tokens, self.own_memory = shown, tokens, own_memory
        self.on_answer, self.follow = on_answer, follow
        self.prompts = prompts_for(lang)

    def messages(self, template: str, query: str, now: datetime, **values: Any) -> list[dict[str, str]]:
        values.setdefault("follow", self.follow)
        if self.shown == "recency":
            return self._with_recent(template, values)
        picked = self.me.memory.retrieve(query, now, self.k) if query and len(self.me.memory) else []
        memories = [m.text for m in sorted(picked, key=lambda m: m.created, reverse=True)]
        return self.prompts.messages("character_system.j2", template, me=self.me, scene=self.scene, memories=memories, **values)

    def _with_recent(self, template: str, values: dict[str, Any]) -> list[dict[str, str]]:
        """Newest memory first, each while the prompt's tokens plus the memories' stay under the
        limit (LangChain's `_get_memories_until_limit`: the prompt's own tokens count)."""
        bare = self.prompts.messages("character_system.j2", template, me=self.me, scene=self.scene, memories=[], **values)
        used, memories = tokens(bare), []
        for memory in reversed(self.me.memory.items):
            if used >= self.tokens:
                break
            used += len(memory.text) // 4 + 1
            if used < self.tokens:
                memories.append(memory.text)
        if not memories:
            return bare
        return self.prompts.messages("character_system.j2", template, me=self.me, scene=self.scene, memories=memories, **values)

    async def ask(self, messages: list[dict[str, str]], schema: type, what: str):
        purpose = f"{CHARACTER}.{what}"
        ans = await self.llm.complete(messages, schema=schema, purpose=purpose, agent_id=self.me.agent_id)
        if self.on_answer is not None:
            self.on_answer(ans, purpose, self.me.agent_id)
        return ans

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
        action = ans.parsed.action if ans.ok else f"{self.me.name} waits and watches."
        if self.own_memory:
            await self.remember([f"{self.me.name}: {action}"], now)
        return action

    async def speak(self, action: str, plot: str, now: datetime) -> str:
        ans = await self.ask(self.messages("dialogue.j2", action, now, action=action, plot=plot), answers.DialogueAnswer, "dialogue")
        line = ans.parsed.dialogue if ans.ok else ""
        if self.own_memory:
            await self.remember([f"{self.me.name}: {line}"], now)
        return line

    async def react(self, observation: str, now: datetime) -> str:
        ans = await self.ask(self.messages("reaction.j2", observation, now, observation=observation), answers.ReactionAnswer, "reaction")
        return ans.parsed.reaction if ans.ok else f"{self.me.name} flinches."

    async def remember(self, texts: list[str], now: datetime, gather: Callable[..., Awaitable[list]] | None = None) -> None:
        """Write memories in order; with `rate`, each gets its importance from one LLM call
        (as the authors' code does on every add_memory), the calls made concurrently with
        `gather`, else one after the other (the code's order)."""
        texts = [t for t in texts if t.strip()]
        if self.rate and gather is None:
            ratings = [await self._rate(t) for t in texts]
        elif self.rate:
            ratings = await gather(*(self._rate(t) for t in texts))
        else:
            ratings = [5] * len(texts)
        for text, rating in zip(texts, ratings):
            when = now + timedelta(milliseconds=len(self.me.memory))  # keeps memories of one tick in order
            self.me.memory.add(text, when, importance=rating)

    async def _rate(self, text: str) -> int:
        msgs = self.prompts.messages(None, "importance.j2", me=self.me, memory=text)
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
    llm: LLMClient, prompts: PromptLibrary, system: str, values: dict[str, Any], names: list[str], agent_id: str, purpose: str,
    on_answer: OnAnswer | None = None,
) -> dict[str, str]:
    """Each character's action reference for the round (name -> line; "" when it failed);
    one line per character, so twice the usual answer budget."""
    schema = answers.synopsis_answer(tuple(names))
    keys = "{" + ", ".join(f'"{answers.key_of(i)}": "<{n}>"' for i, n in enumerate(names)) + "}"
    msgs = prompts.messages(system, "synopsis.j2", keys=keys, **values)
    ans = await llm.complete(msgs, schema=schema, purpose=purpose, agent_id=agent_id, max_tokens=2 * llm.max_tokens)
    if on_answer is not None:
        on_answer(ans, purpose, agent_id)
    if not ans.ok:
        return dict.fromkeys(names, "")
    return {n: getattr(ans.parsed, answers.key_of(i)) for i, n in enumerate(names)}
