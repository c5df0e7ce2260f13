"""The contract between the LLM client and its backends.

A backend only turns one request into one raw answer. Everything else (cache, retries,
concurrency, JSON validation, accounting) lives in `client.py` and is shared.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

Messages = list[dict[str, str]]


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


@dataclass
class RawCompletion:
    """What a backend returns: the text, and token counts when the backend knows them."""

    text: str
    tokens_in: int | None = None
    tokens_out: int | None = None
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


class TransientLLMError(Exception):
    """A failure worth retrying: HTTP 429 or 5xx, a timeout, a garbled response body."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class PermanentLLMError(Exception):
    """A failure that retrying will not fix (bad request, authentication)."""


class Backend(ABC):
    """One way of getting text out of a model."""

    name: str = "backend"

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
