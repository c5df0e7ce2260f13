"""The authors' judge procedure (`judge.mode: run`; trendsim_cdi.md B7): one call per run
over the whole activity history, both agents' memories, the indexed items and the indices
of the actions to check, answered with one list of item indices per checked action.

Their parse-failure rule: an answer that does not parse, or that leaves out a checked
action, gives empty lists for the actions it does not cover ("nothing shared"); here such
an action is marked unparsed, so the report can count it and `aggregation: strict` can
leave its run out. Indices outside an item list are dropped (the authors would count them).
The temperature is the judge role's (`llm.roles.judge.temperature`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import BaseModel, Field

from simkit.llm.client import LLMClient
from simkit.plugins.cdi.agents import PROMPTS


class ActionVerdict(BaseModel):
    index: int
    shared_shareable_items: list[int] = Field(default_factory=list)
    shared_non_shareable_items: list[int] = Field(default_factory=list)


class RunVerdict(BaseModel):
    evaluations: list[ActionVerdict]


@dataclass(frozen=True)
class ActionCheck:
    index: int
    parsed: bool
    shareable: list[int]  # 0-based
    sensitive: list[int]


def _keep(indices: list[int], n: int) -> list[int]:
    return sorted({i - 1 for i in indices if 1 <= i <= n})


async def judge_run(llm: LLMClient, *, history: list[dict], check: list[int], n_shareable: int, n_sensitive: int,
                    **prompt) -> tuple[list[ActionCheck], str | None]:
    """(one verdict per checked action, the parse error if the answer did not parse)."""
    if not check:
        return [], None
    messages = PROMPTS.messages("judge_run_system.j2", "judge_run.j2", history="\n".join(json.dumps(a) for a in history),
                                check=check, **prompt)
    answer = await llm.complete(messages, schema=RunVerdict, purpose="cdi.judge_run", agent_id="judge",
                                max_tokens=max(llm.max_tokens, 1024))  # one list per checked action needs room
    found: dict[int, ActionVerdict] = {}
    if answer.ok:
        for verdict in answer.parsed.evaluations:
            found.setdefault(verdict.index, verdict)
    out = []
    for index in check:
        v = found.get(index)
        out.append(ActionCheck(index, v is not None, _keep(v.shared_shareable_items, n_shareable) if v else [],
                               _keep(v.shared_non_shareable_items, n_sensitive) if v else []))
    return out, None if answer.ok else (answer.error or "unparsed")
