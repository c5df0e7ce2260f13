"""A minimal scenario plugin, as a third-party package would write one.

Each tick, every agent may (with `speak_probability`) read the newest posts of a shared
board and post a line with its mood. Agents act concurrently against the board as it was
at the start of the tick; their posts appear in (time, agent id) order.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel, ConfigDict, Field

from simkit.agents.graph import compile_once
from simkit.agents.prompts import PromptLibrary
from simkit.plugins.base import Action, Activation, AgentSpec, Plugin


class TownHallConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    board_size: int = Field(default=3, ge=1, le=50)
    speak_probability: float = Field(default=0.7, ge=0, le=1)


class Post(BaseModel):
    text: str = Field(max_length=200)
    mood: float = Field(ge=0, le=1)


# The prompt templates ship inside the package: pyproject.toml lists prompts/*.j2 as package
# data, or an installed (non-editable) copy of the plugin has no templates.
PROMPTS_DIR = Path(__file__).parent / "prompts"
PROMPTS = PromptLibrary(PROMPTS_DIR)


class SpeakState(TypedDict, total=False):
    plugin: "TownHall"
    agent_id: str
    board: list[str]
    post: Post | None


async def speak(state: SpeakState) -> SpeakState:
    plugin, agent_id = state["plugin"], state["agent_id"]
    persona = plugin.personas[agent_id]
    board = "\n".join(f"- {line}" for line in state["board"]) or "(empty)"
    messages = PROMPTS.messages("system.j2", "speak.j2", persona=persona, board=board)
    answer = await plugin.ctx.llm.complete(messages, schema=Post, purpose="speak")
    return {"post": answer.parsed if answer.ok else None}


@compile_once
def speak_graph():
    graph = StateGraph(SpeakState)
    graph.add_node("speak", speak)
    graph.add_edge(START, "speak")
    graph.add_edge("speak", END)
    return graph.compile()


class TownHall(Plugin[TownHallConfig]):
    name = "townhall"
    mode = "synchronous"
    prompts_dir = PROMPTS_DIR  # their hashes are stored with a run; a resume refuses changed templates

    async def setup(self, personas):
        self.personas = {f"a{i:04d}": p for i, p in enumerate(personas)}
        self.board: list[str] = []
        self.moods: dict[str, float] = {a: 0.5 for a in self.personas}
        return [AgentSpec(a, "citizen", p) for a, p in self.personas.items()]

    async def activate(self, tick, due):
        rng = self.ctx.rng("speak", tick.index)
        chosen = [a for a in sorted(self.personas) if rng.random() < self.config.speak_probability]
        return [Activation(a, tick.start) for a in chosen]

    async def act(self, activation):
        board = self.board[-self.config.board_size:]
        self.ctx.expose(activation.agent_id, board)
        out = await speak_graph().ainvoke({"plugin": self, "agent_id": activation.agent_id, "board": board})
        post = out.get("post")
        if post is None:
            return []  # fallback after a parse failure: stay silent
        return [Action(activation.agent_id, "post", activation.sim_time, {"text": post.text, "mood": post.mood})]

    async def apply(self, action):
        self.board.append(f"{self.personas[action.agent_id].name}: {action.payload['text']}")
        self.moods[action.agent_id] = action.payload["mood"]
        self.ctx.emit("post", action.payload, agent_id=action.agent_id, sim_time=action.sim_time)
        self.ctx.save_state(action.agent_id, {"mood": action.payload["mood"]})

    async def end_tick(self, tick):
        self.ctx.metric("mood.mean", sum(self.moods.values()) / len(self.moods))

    async def finish(self):
        self.ctx.metric("posts", len(self.board))
        self.ctx.metric("mood.mean", sum(self.moods.values()) / len(self.moods))
