"""LLM calls and tokens of the judge panel: debate on disputed metrics only vs on every metric.

Scripted backend (simkit/judges/scripted.py: per-judge leniency and noise make judges
disagree on some metrics), three judges, PersonaArena's eight metrics, the default two
debate rounds, blind finals and the arbiter; trajectories of mixed quality. For each
strategy and disagreement threshold the same items are judged twice, with and without
`full_debate`, and the table gives the share of metrics that were disputed, calls and
tokens per item, and the ratios (disputed-only / full). The first row is the floor: the
independent scores alone, with no debate.
Usage: python bench/judge_cost.py [--items 30] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter

import numpy as np

from simkit.judges import (
    PERSONAARENA,
    JudgeConfig,
    JudgeItem,
    JudgePanel,
    register_scripted,
)
from simkit.llm.client import LLMClient
from simkit.llm.scripted import ScriptedBackend

PROFILE = "A night-shift nurse who loves jazz, worries about her brother and distrusts hospital managers."
GOOD = [
    "Maya hums a jazz tune while checking the chart, then asks about her brother's message.",
    "She tells the manager plainly that the ward needs two more nurses tonight, and why.",
    "Maya comforts the patient, admits she is worried too, and promises to come back at six.",
    "She jokes with the porter about old records, then hurries off when the alarm sounds.",
]
POOR = ["ok", "Maya nods.", "She says fine.", "no"]
SEEN = ["A patient calls for help.", "The manager walks in.", "Her phone buzzes.", "The lights flicker."]


class Host:
    """The judges' host on one scripted client (the engine's RunContext plays this role)."""

    def __init__(self, seed: int):
        backend = ScriptedBackend(seed=seed)
        register_scripted(backend)
        self.client = LLMClient(backend, cache_mode="off")

    def llm_for(self, role: str) -> LLMClient:
        return self.client

    def judgement(self, record: dict) -> None:
        pass

    gather = staticmethod(asyncio.gather)


def items(n: int, seed: int) -> list[JudgeItem]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        share_good = rng.uniform(0, 1)
        trajectory = [
            (r + 1, SEEN[r], GOOD[r] if rng.uniform() < share_good else POOR[r]) for r in range(len(SEEN))
        ]
        out.append(JudgeItem(item_id=f"item{i}", subject="Maya", profile=PROFILE, context="A hospital ward at night.",
                             trajectory=trajectory))
    return out


async def measure(config: JudgeConfig, batch: list[JudgeItem], seed: int) -> dict:
    host = Host(seed)
    panel = JudgePanel(host, config, PERSONAARENA)
    calls: Counter[str] = Counter()
    disputed = 0
    for item in batch:
        verdict = await panel.score(item)
        calls.update(verdict.calls)
        disputed += len(verdict.disputed)
    stats = host.client.stats
    return {
        "calls": sum(calls.values()) / len(batch),
        "tokens": (stats.tokens_in + stats.tokens_out) / len(batch),
        "disputed": disputed / (len(batch) * len(PERSONAARENA)),
    }


async def run(n: int, seed: int) -> None:
    batch = items(n, seed)
    print(f"$ python bench/judge_cost.py --items {n} --seed {seed}")
    print(f"{'strategy':<25} {'range>=':>7} {'disputed':>9} {'calls/item':>11} {'full':>6} {'calls x':>8} "
          f"{'tokens/item':>12} {'full':>8} {'tokens x':>9}")
    alone = await measure(JudgeConfig(disagreement={"per_metric_range": 10}), batch, seed)  # never disputed
    print(f"{'(independent scores only)':<25} {'-':>7} {alone['disputed']:>8.0%} {alone['calls']:>11.1f} "
          f"{'-':>6} {'-':>8} {alone['tokens']:>12,.0f} {'-':>8} {'-':>9}")
    for strategy in ("one_by_one", "simultaneous", "simultaneous_summarizer"):
        for threshold in (1.0, 2.0):
            base = {"strategy": strategy, "disagreement": {"per_metric_range": threshold}}
            only = await measure(JudgeConfig(**base), batch, seed)
            full = await measure(JudgeConfig(**base, full_debate=True), batch, seed)
            print(f"{strategy:<25} {threshold:>7.1f} {only['disputed']:>8.0%} {only['calls']:>11.1f} "
                  f"{full['calls']:>6.1f} {only['calls'] / full['calls']:>8.2f} {only['tokens']:>12,.0f} "
                  f"{full['tokens']:>8,.0f} {only['tokens'] / full['tokens']:>9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(run(args.items, args.seed))


if __name__ == "__main__":
    main()
