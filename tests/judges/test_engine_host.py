"""The engine's `RunContext` as the judges' host: several items judged concurrently give the
same judgement rows in the same order, whichever answers arrive first."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime, timedelta

from simkit.config import LLMConfig
from simkit.engine.clock import Clock
from simkit.engine.context import build_context
from simkit.judges import (
    CHARACTERBOX,
    JudgeConfig,
    JudgeHost,
    JudgeItem,
    JudgePanel,
    register_scripted,
)
from simkit.llm.scripted import ScriptedBackend


class Jittery(ScriptedBackend):
    """Scripted answers after a delay that depends on the prompt and a salt."""

    def __init__(self, salt: int):
        super().__init__(seed=5)
        self.salt = salt
        self.answered: list[str] = []
        register_scripted(self)

    async def generate(self, request):
        key = f"{self.salt}|{request.agent_id}|{request.messages[-1]['content']}".encode()
        await asyncio.sleep(hashlib.blake2b(key, digest_size=1).digest()[0] % 8 / 1000)
        self.answered.append(f"{request.purpose} {request.agent_id} {request.messages[-1]['content'][:300]}")
        return await super().generate(request)


ITEMS = [
    JudgeItem(item_id=f"c{i}", subject=name, profile=f"{name} is {trait}.", trajectory=[
        (1, "A storm begins.", f"{name} {act}."), (2, "The lights go out.", f"{name} waits and says nothing.")])
    for i, (name, trait, act) in enumerate([
        ("Ada", "bold and curious", "runs outside to watch the lightning, laughing"),
        ("Ben", "anxious and careful", "checks every window twice"),
        ("Cy", "lazy", "sleeps"),
    ])
]


async def judged(salt: int) -> tuple[list[tuple], list[str]]:
    clock = Clock(datetime(2025, 1, 1), datetime(2025, 1, 2), timedelta(hours=1))
    backend = Jittery(salt)
    ctx = build_context("run", 1, clock, LLMConfig(backend="scripted"), backend=backend)
    assert isinstance(ctx, JudgeHost)
    panel = JudgePanel(ctx, JudgeConfig(strategy="simultaneous"), CHARACTERBOX)
    await ctx.gather(*(panel.score(item) for item in ITEMS))
    rows = sorted(ctx.recorder.buffer.judgements, key=lambda kv: kv[0])
    return [(row["item_id"], row["phase"], row["round"], row["judge_id"], row["scores_json"]) for _, row in rows], backend.answered


async def test_judgement_rows_do_not_depend_on_completion_order():
    (first, answered_1), (second, answered_2) = await judged(1), await judged(2)
    assert answered_1 != answered_2 and sorted(answered_1) == sorted(answered_2)  # same calls, other order
    assert first == second
    assert {item for item, *_ in first} == {"c0", "c1", "c2"}
    assert [row[1:4] for row in first if row[0] == "c0"][:3] == [
        ("independent", 0, "critic"), ("independent", 0, "psychologist"), ("independent", 0, "public")]
