"""One judge call: the right client for the role, bounded re-asks, calls counted per phase.

`LLMClient.complete` already validates and repairs once; a judge gets `max_parse_retries`
more chances, each re-ask showing its rejected answer and the reason, so the request
differs and a temperature-0 model is not asked the same thing twice. An answer that never
parses comes back with `ok=False` for the caller to record and exclude.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from simkit.judges.host import JudgeHost
from simkit.llm.base import Messages

PURPOSES = {"independent": "judge.score"}  # any other phase p asks with purpose "judge.p"


@dataclass
class Answer:
    parsed: Any  # the validated model, the text of a plain-text call, or None
    text: str
    ok: bool
    error: str | None = None


class Caller:
    def __init__(self, host: JudgeHost, *, temperature: float, max_tokens: int, max_parse_retries: int):
        self.host = host
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.max_parse_retries = max_parse_retries
        self.calls: Counter[str] = Counter()

    async def ask(
        self, phase: str, role: str, agent_id: str, messages: Messages, schema: type[BaseModel] | None = None
    ) -> Answer:
        client = self.host.llm_for(role)
        purpose = PURPOSES.get(phase, f"judge.{phase}")
        attempts = 1 + (self.max_parse_retries if schema is not None else 0)
        for _ in range(attempts):
            self.calls[phase] += 1
            completion = await client.complete(
                messages, schema=schema, purpose=purpose, agent_id=agent_id,
                temperature=self.temperature, max_tokens=self.max_tokens,
            )
            if schema is None:
                return Answer(completion.text.strip(), completion.text, True)
            if completion.ok:
                return Answer(completion.parsed, completion.text, True)
            messages = [
                *messages,
                {"role": "assistant", "content": completion.text[:2000]},
                {"role": "user", "content": f"That answer could not be used ({completion.error}). "
                 "Reply with only the JSON object, every score an integer inside its range."},
            ]
        return Answer(None, completion.text, False, completion.error)
