"""The contract between the LLM client and its backends.

A backend only turns one request into one raw answer. Everything else (cache, retries,
concurrency, JSON validation, tool-call emulation, accounting) lives in `client.py` and is
shared.

Messages are OpenAI chat messages: `{"role", "content"}`, plus `tool_calls` on an assistant
message that called tools (its `content` may then be None) and `tool_call_id`/`name` on a
`tool` message that carries a tool's result back.
"""

from __future__ import annotations

import functools
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

Message = dict[str, Any]
Messages = list[Message]
# "auto" (the model decides), "required" (some tool), "none" (no tool), or a tool's name
# (exactly that tool: a forced `think` step, say).
ToolChoice = str
CHOICE_KEYWORDS = ("auto", "required", "none")


def requires_call(tool_choice: ToolChoice) -> bool:
    return tool_choice not in ("auto", "none")


def openai_tool_choice(tool_choice: ToolChoice) -> Any:
    """The Chat Completions `tool_choice` value."""
    if tool_choice in CHOICE_KEYWORDS:
        return tool_choice
    return {"type": "function", "function": {"name": tool_choice}}


@dataclass(frozen=True)
class ToolSpec:
    """A tool the model may call: a name, what it does, and its arguments as a pydantic model."""

    name: str
    description: str
    parameters: type[BaseModel]

    @functools.cached_property
    def parameters_schema(self) -> dict[str, Any]:
        return self.parameters.model_json_schema()

    def openai(self) -> dict[str, Any]:
        """The tool in the Chat Completions `tools` format."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters_schema},
        }


@dataclass
class ToolCall:
    """One call the model asked for. `arguments` is what it sent; `parsed` the validated
    argument model, or None with `error` saying why (the agent is told, the run goes on)."""

    id: str
    name: str
    arguments: dict[str, Any]
    parsed: BaseModel | None = None
    error: str | None = None

    def message(self) -> dict[str, Any]:
        """This call as it appears in an assistant message's `tool_calls`."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": json.dumps(self.arguments, ensure_ascii=False, sort_keys=True)},
        }


@dataclass(frozen=True)
class LLMRequest:
    messages: Messages
    purpose: str = "chat"
    schema: type[BaseModel] | None = None
    schema_json: dict[str, Any] | None = None
    temperature: float = 0.7
    max_tokens: int = 256
    seed: int = 0  # derived from the run seed and the request; backends that support it pass it on
    agent_id: str | None = None
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: ToolChoice = "auto"


@dataclass
class RawCompletion:
    """What a backend returns: the text, tool calls as the wire carried them
    (`{"id", "name", "arguments": JSON text}`), and token counts when the backend knows them."""

    text: str
    tokens_in: int | None = None
    tokens_out: int | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Completion:
    """What `LLMClient.complete` returns to agents."""

    text: str
    parsed: Any = None
    ok: bool = True
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: float = 0.0
    cached: bool = False
    request_hash: str = ""
    error: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    asks: int = 1  # answers this took: 1 plus the client's repair re-asks

    def assistant_message(self) -> Message:
        """The answer as the assistant message to append to the conversation."""
        message: Message = {"role": "assistant", "content": self.text or None}
        if self.tool_calls:
            message["tool_calls"] = [call.message() for call in self.tool_calls]
        return message


class TransientLLMError(Exception):
    """A failure worth retrying: HTTP 429 or 5xx, a timeout, a garbled response body."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class PermanentLLMError(Exception):
    """A failure that retrying will not fix (bad request, authentication)."""


class ToolsRejected(PermanentLLMError):
    """The endpoint refused the `tools` parameter: the client falls back to emulated tool calls."""


class Backend(ABC):
    """One way of getting text out of a model."""

    name: str = "backend"
    # True when the backend sends `tools` to the model and returns its `tool_calls`; False
    # lets the client emulate tool calls with a structured answer (`simkit.llm.tools`).
    native_tools: bool = False

    @property
    @abstractmethod
    def model(self) -> str:
        """Model identity recorded with every call (and part of the cache key)."""

    @abstractmethod
    async def generate(self, request: LLMRequest) -> RawCompletion:
        """Answer one request. Raise TransientLLMError for retryable faults."""

    async def check(self) -> None:
        """Fail fast with `LLMUnavailable` if the backend cannot work at all."""

    async def aclose(self) -> None:
        """Release resources (HTTP pools, model memory)."""


def text_of(message: Message) -> str:
    """A message's text for token estimates and scripted answers (`content` may be None)."""
    parts = [message.get("content") or ""]
    for call in message.get("tool_calls") or ():
        function = call.get("function", {})
        parts.append(f"{function.get('name', '')} {function.get('arguments', '')}")
    return " ".join(str(p) for p in parts)
