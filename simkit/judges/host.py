"""`JudgeHost`: what the judges need from whoever runs them (the engine's `RunContext`, or a
test host), so the package never imports the engine.

- `llm_for(role)`: the client that serves a role ("judge", "arbiter", or a judge's own role);
- `judgement(record)`: store one judge message (keys in `RECORD_KEYS`);
- `gather(*coroutines)`: run judges concurrently while the host keeps recorded rows (LLM
  calls) in a deterministic order. The judges emit their own records after gathering, in
  judge order, never in completion order.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol, TypeVar, runtime_checkable

from simkit.llm.client import LLMClient

T = TypeVar("T")

RECORD_KEYS = (
    "item_id", "judge_id", "role", "phase", "round", "metrics", "text",
    "scores", "evidence", "visible_to", "parsed_ok", "labels", "model",
)


@runtime_checkable
class JudgeHost(Protocol):
    def llm_for(self, role: str) -> LLMClient: ...

    def judgement(self, record: dict[str, Any]) -> None: ...

    def gather(self, *coroutines: Awaitable[T]) -> Awaitable[list[T]]: ...
