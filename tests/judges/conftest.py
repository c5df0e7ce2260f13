"""A test host for the judges: real `LLMClient`s over one scripted backend that remembers every
request it answered, `asyncio.gather`, and a list of the judgement records."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from simkit.judges.scripted import sheet_keys
from simkit.llm.base import LLMRequest, RawCompletion
from simkit.llm.client import LLMClient
from simkit.llm.scripted import ScriptedBackend


class RecordingBackend(ScriptedBackend):
    """Scripted answers; keeps each request; optionally delays answers per agent so they
    complete in a chosen order."""

    def __init__(self, seed: int = 7, delays: dict[str, float] | None = None):
        super().__init__(seed=seed)
        self.requests: list[LLMRequest] = []
        self.answered: list[LLMRequest] = []  # in completion order
        self.delays = delays or {}

    async def generate(self, request: LLMRequest) -> RawCompletion:
        self.requests.append(request)
        await asyncio.sleep(self.delays.get(request.agent_id or "", 0.0))
        self.answered.append(request)
        return await super().generate(request)


class Host:
    def __init__(self, backend: RecordingBackend | None = None):
        self.backend = backend or RecordingBackend()
        self.clients: dict[str, LLMClient] = {}
        self.records: list[dict] = []
        self.roles: list[str] = []

    def llm_for(self, role: str) -> LLMClient:
        self.roles.append(role)
        if role not in self.clients:
            self.clients[role] = LLMClient(self.backend)
        return self.clients[role]

    def judgement(self, record: dict) -> None:
        self.records.append(record)

    gather = staticmethod(asyncio.gather)

    # -- what tests look at -----------------------------------------------------------------
    def requests(self, purpose: str | None = None, agent: str | None = None) -> list[LLMRequest]:
        return [
            r for r in self.backend.requests
            if (purpose is None or r.purpose.removesuffix(":repair") == purpose)
            and (agent is None or r.agent_id == f"judge:{agent}")
        ]

    def phase(self, phase: str) -> list[dict]:
        return [r for r in self.records if r["phase"] == phase]


def prompt(request: LLMRequest) -> str:
    return "\n".join(m.get("content") or "" for m in request.messages)


def judge_of(request: LLMRequest) -> str:
    return request.agent_id.split(":", 1)[1]


def round_of(request: LLMRequest) -> int:
    return int(re.search(r"This is round (\d+) of", prompt(request)).group(1))


def table(scores: dict[str, dict[str, int]], text: Callable[[str], str] = lambda j: f"critique by {j}") -> Callable:
    """A responder answering each judge's scored statement from `scores[judge][key]`."""

    def respond(request: LLMRequest, rng: np.random.Generator) -> Any:
        judge = judge_of(request)
        keys = [key for key, _, _ in sheet_keys(request)]
        return {"critique": text(judge), "scores": {k: scores[judge][k] for k in keys}, "evidence": []}

    return respond


def uniform(values: dict[str, int], keys: list[str]) -> dict[str, dict[str, int]]:
    """Each judge gives one value to every key."""
    return {judge: {k: v for k in keys} for judge, v in values.items()}


@pytest.fixture
def host() -> Host:
    return Host()
