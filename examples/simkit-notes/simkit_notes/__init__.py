"""A small scenario plugin with tool calls, as a third-party package would write one.

Each assistant has one task: find a fact in its notes app and send it to a contact in one
message. Its turn is a tool-calling loop (`simkit.agents.tool_loop`) over three tools:
`notes_list`, `notes_read` and `message_send`. A send is performed at once
(`Plugin.perform`, sequential mode), so a later `message_sent` read in the same turn sees
it; every tool result is recorded as an observation.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from simkit.agents.tool_loop import run_tool_loop
from simkit.agents.toolbox import ToolBox, ToolRefused, tool
from simkit.plugins.base import Action, Activation, AgentSpec, Plugin


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    body: str


class NotesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recipient: str = "Sam"
    task: str = "Tell Sam what time the team lunch is."
    fact: str = Field(default="12:30", description="What the message must contain to count as informing")
    notes: list[Note] = Field(default_factory=list)
    max_steps: int = Field(default=6, ge=1, le=30)


class NoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReadArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    index: int = Field(ge=0, le=99, description="The note's number from notes_list")


class SendArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(max_length=40)
    text: str = Field(min_length=1, max_length=300)


class NotesPlugin(Plugin[NotesConfig]):
    name = "notes"
    mode = "sequential"

    async def setup(self, personas):
        self.assistants = {f"asst-{i}": p for i, p in enumerate(personas)}
        self.sent: list[dict] = []
        return [AgentSpec(a, "assistant", p) for a, p in self.assistants.items()]

    def scripted_responders(self):
        from simkit_notes.scripted import step

        return {"notes.step": step}

    async def activate(self, tick, due):
        return [Activation(a, tick.start) for a in self.assistants] if tick.index == 0 else []

    def toolbox(self, agent: str, when) -> ToolBox:
        notes, cfg = self.config.notes, self.config

        @tool("notes_list", "List the titles of your notes, numbered.", NoArgs)
        async def notes_list(_args):
            return [f"{i}: {n.title}" for i, n in enumerate(notes)]

        @tool("notes_read", "Read one note by its number.", ReadArgs)
        async def notes_read(args: ReadArgs):
            if args.index >= len(notes):
                raise ToolRefused(f"there is no note {args.index}; notes_list shows {len(notes)}")
            return notes[args.index].body

        @tool("message_send", f"Send a message to a contact (your contact: {cfg.recipient}).", SendArgs, kind="send")
        async def message_send(args: SendArgs):
            if args.to.strip().lower() != cfg.recipient.lower():
                raise ToolRefused(f"unknown contact {args.to!r}; your contact is {cfg.recipient}")
            return await self.perform(Action(agent, "send", when, {"to": cfg.recipient, "text": args.text}))

        @tool("message_sent", "Show the messages you have sent.", NoArgs)
        async def message_sent(_args):
            return [m["text"] for m in self.sent if m["from"] == agent]

        return ToolBox([notes_list, notes_read, message_send, message_sent])

    async def act(self, activation: Activation):
        agent, ctx = activation.agent_id, self.ctx
        persona = self.assistants[agent]
        messages = [
            {"role": "system", "content": f"You are {persona.name}'s assistant. Use the tools; send exactly one message."},
            {"role": "user", "content": self.config.task},
        ]
        result = await run_tool_loop(
            ctx.llm, self.toolbox(agent, activation.sim_time), messages, purpose="notes.step",
            max_steps=self.config.max_steps, stop_tools=("message_send",),
            observe=lambda name, args, out: ctx.observe(agent, name, args, out, sim_time=activation.sim_time),
        )
        return [Action(agent, "done", activation.sim_time, {"steps": result.steps, "stopped_by": result.stopped_by})]

    async def apply(self, action: Action):
        if action.kind == "send":
            self.sent.append({"from": action.agent_id, **action.payload})
            self.ctx.record("notes_messages", {"sender": action.agent_id, **action.payload})
        self.ctx.emit(action.kind, action.payload, agent_id=action.agent_id, sim_time=action.sim_time)
        return "sent" if action.kind == "send" else None

    async def finish(self):
        fact = self.config.fact.lower()
        informed = {m["from"] for m in self.sent if fact in m["text"].lower()}
        self.ctx.metric("messages.sent", len(self.sent))
        self.ctx.metric("assistants.informed", len(informed))
