"""Tools an agent can call: a `ToolSpec` for the model plus the coroutine that runs it.

`ToolBox.run(call)` never raises for the agent's mistakes: an unknown tool, arguments that
failed validation, or a tool that refuses (`ToolRefused`) come back as an error result the
agent sees and can correct, so a bad call costs a step, never the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Literal

from pydantic import BaseModel

from simkit.llm.base import ToolCall, ToolSpec

ToolKind = Literal["read", "send", "meta"]


class ToolRefused(Exception):
    """A tool call that cannot be done as asked (no such contact, empty message): the
    message is shown to the agent."""


@dataclass(frozen=True)
class Tool:
    """`kind` says where interventions hook in: after a `read` (an instructor), before a
    `send` (a guard); `meta` tools (think, end the cycle) change nothing outside the agent."""

    spec: ToolSpec
    run: Callable[[BaseModel], Awaitable[Any]]
    kind: ToolKind = "read"

    @property
    def name(self) -> str:
        return self.spec.name


def tool(name: str, description: str, parameters: type[BaseModel], kind: ToolKind = "read"):
    """Decorator: `@tool("notes.read", "Read a note", NoteArgs)` over `async def f(args)`."""

    def wrap(fn: Callable[[BaseModel], Awaitable[Any]]) -> Tool:
        return Tool(ToolSpec(name, description, parameters), fn, kind)

    return wrap


@dataclass
class ToolResult:
    call: ToolCall
    ok: bool
    content: Any

    def as_dict(self) -> dict:
        return {"ok": self.ok, "content": self.content}


class ToolBox:
    def __init__(self, tools: list[Tool]):
        names = [t.name for t in tools]
        if len(set(names)) != len(names):
            raise ValueError(f"tool names must be unique: {names}")
        self.tools = {t.name: t for t in tools}

    @property
    def specs(self) -> list[ToolSpec]:
        return [t.spec for t in self.tools.values()]

    def kind(self, name: str) -> ToolKind | None:
        found = self.tools.get(name)
        return found.kind if found else None

    async def run(self, call: ToolCall) -> ToolResult:
        if call.error or call.parsed is None:
            return ToolResult(call, False, f"error: {call.error or 'invalid call'}")
        try:
            return ToolResult(call, True, await self.tools[call.name].run(call.parsed))
        except ToolRefused as exc:
            return ToolResult(call, False, f"error: {exc}")
