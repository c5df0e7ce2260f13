"""The narrator as world model: for each action, the most-affected character and the
effect on it, the result of an action and its reaction, each character's new position and
state, the new scene, a plot summary per round, and (optionally) whether the story ended.

Each call is kept as a `NarratorCall` (its prompt and output) for the Gricean judge and
the training export. Fallbacks: an unreadable influence means nobody else is affected; a
failed result is no narration; a failed character or scene update keeps the old values
(the authors' code gates the reactor's update on the actor's parse, simkit does not); a
failed summary is the round's transcript; a failed "concluded" check means not concluded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simkit.llm.client import LLMClient
from simkit.plugins.characterbox import answers
from simkit.plugins.characterbox.agents import Character, OnAnswer, prompts_for
from simkit.plugins.characterbox.scenes import SceneInfo

NARRATOR = "characterbox.narrator"


@dataclass
class NarratorCall:
    kind: str
    prompt: str
    output: str
    ok: bool


class Narrator:
    def __init__(self, agent_id: str, scene: SceneInfo, characters: list[Character], llm: LLMClient, *,
                 lang: str = "en", on_answer: OnAnswer | None = None):
        self.agent_id, self.scene, self.characters, self.llm = agent_id, scene, characters, llm
        self.prompts, self.on_answer = prompts_for(lang), on_answer
        self.calls: list[NarratorCall] = []

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.characters]

    def system(self) -> str:
        return self.prompts.render("narrator_system.j2", scene=self.scene, characters=self.characters)

    async def ask(self, kind: str, template: str, schema: type, **values: Any):
        user = self.prompts.render(template, **values)
        msgs = [{"role": "system", "content": self.system()}, {"role": "user", "content": user}]
        ans = await self.llm.complete(msgs, schema=schema, purpose=f"{NARRATOR}.{kind}", agent_id=self.agent_id)
        if self.on_answer is not None:
            self.on_answer(ans, f"{NARRATOR}.{kind}", self.agent_id)
        self.calls.append(NarratorCall(kind, user, ans.text, ans.ok))
        return ans

    async def influence(self, actor: Character, action: str) -> tuple[Character, str]:
        """(most-affected character, physical effect on it); the actor itself if nobody else."""
        ans = await self.ask("influence", "influence.j2", answers.influence_answer(tuple(self.names)),
                             actor=actor.name, action=action, names=self.names)
        if not ans.ok:
            return actor, ""
        target = next(c for c in self.characters if c.name == ans.parsed.target)
        return target, ans.parsed.effect

    async def result(self, exchange: str) -> str:
        ans = await self.ask("result", "result.j2", answers.Result, exchange=exchange)
        return ans.parsed.result if ans.ok else ""

    async def update_character(self, who: Character, observation: str) -> bool:
        ans = await self.ask("update_character", "update_character.j2", answers.CharacterUpdate, who=who, observation=observation)
        if ans.ok:
            who.position, who.states = ans.parsed.position, ans.parsed.state
        return ans.ok

    async def update_scene(self, observation: str) -> bool:
        ans = await self.ask("update_scene", "update_scene.j2", answers.SceneUpdate, scene=self.scene, observation=observation)
        if ans.ok:
            self.scene.time, self.scene.location = ans.parsed.time, ans.parsed.location
            self.scene.description = ans.parsed.description
        return ans.ok

    async def summary(self, observation: str) -> str:
        ans = await self.ask("summary", "summary.j2", answers.Summary, observation=observation)
        return ans.parsed.summary if ans.ok else observation

    async def concluded(self, history: list[str]) -> tuple[bool, str]:
        ans = await self.ask("concluded", "concluded.j2", answers.Concluded, history=history)
        return (ans.parsed.concluded, ans.parsed.reason) if ans.ok else (False, "")
