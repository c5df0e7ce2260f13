"""Per-call cost of running the local model in a child process (simkit.llm.llama_proc)
against today's in-thread engine, side by side in one run.

Both backends are loaded at once (`LocalBackend(isolated=False)` and the default
`LocalBackend()`), and each request is sent to one and then the other, the order swapped
every round, one call at a time, so both see the same machine load. Two kinds of call:

    step   a TrendSim-like agent step: persona + trending page (~225 prompt tokens), a
           grammar-constrained JSON answer of five fields (bench/llm_throughput.py)
    tiny   "Hi", one token out: nearly all of it is the per-call overhead

Steps are greedy (temperature 0) so both engines do the same work; llama.cpp's sums are
not bit-identical across processes, so an answer may still differ, and steps also report
output tokens per call. For each: medians of wall ms per call, ms inside the engine (its
own `run_s`), the rest (overhead: event loop, pipes, pickling, tokenizing), the ratio
child/in-thread of wall time, and what the isolation adds per call (child overhead minus
in-thread overhead) as a share of the in-thread wall time.

    python bench/local_isolation.py [--rounds 3] [--calls 6] [--tiny 40]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from llm_throughput import Step, requests  # noqa: E402

from simkit.llm.base import LLMRequest  # noqa: E402
from simkit.llm.local import LocalBackend  # noqa: E402

MODES = ("in-thread", "child process")


async def timed(backend: LocalBackend, request: LLMRequest) -> tuple[float, float, int]:
    started = time.perf_counter()
    answer = await backend.generate(request)
    return time.perf_counter() - started, answer.meta["run_s"], answer.tokens_out


async def main_async(args) -> None:
    backends = {"in-thread": LocalBackend(isolated=False), "child process": LocalBackend()}
    for name, backend in backends.items():
        started = time.perf_counter()
        await backend.check()
        print(f"load {name}: {time.perf_counter() - started:.2f} s")
    schema = Step.model_json_schema()
    kinds = {
        "step": [LLMRequest(messages=m, schema=Step, schema_json=schema, temperature=0.0, max_tokens=256, seed=i)
                 for i, m in enumerate(requests(args.calls))],
        "tiny": [LLMRequest(messages=[{"role": "user", "content": "Hi"}], temperature=0.0, max_tokens=1, seed=i)
                 for i in range(args.tiny)],
    }
    for backend in backends.values():  # first graph build outside the timing
        await backend.generate(kinds["tiny"][0])
    samples = {(kind, mode): [] for kind in kinds for mode in MODES}
    for rnd in range(args.rounds):
        order = MODES if rnd % 2 == 0 else MODES[::-1]
        for kind, reqs in kinds.items():
            for request in reqs:
                for mode in order:
                    samples[(kind, mode)].append(await timed(backends[mode], request))
    print(f"\n{'call':<5} {'mode':<14} {'calls':>5} {'wall ms':>9} {'engine ms':>10} {'overhead ms':>12} "
          f"{'tok out':>8} {'child/thread':>13} {'added ms':>9} {'added %':>8}")
    for kind in kinds:
        med = {}
        for mode in MODES:
            rows = samples[(kind, mode)]
            med[mode] = (statistics.median(r[0] for r in rows) * 1000, statistics.median(r[1] for r in rows) * 1000,
                         statistics.median((r[0] - r[1]) * 1000 for r in rows), statistics.mean(r[2] for r in rows))
            wall, engine, over, tokens = med[mode]
            extra = ""
            if mode != "in-thread":
                base_wall, _, base_over, _ = med["in-thread"]
                added = over - base_over
                extra = f"{wall / base_wall:>13.3f} {added:>9.2f} {added / base_wall:>8.2%}"
            print(f"{kind:<5} {mode:<14} {len(rows):>5} {wall:>9.1f} {engine:>10.1f} {over:>12.2f} {tokens:>8.1f} {extra}")
    print("(medians; overhead = wall - engine per call; added = child overhead - in-thread overhead)")
    for backend in backends.values():
        await backend.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--tiny", type=int, default=40)
    args = parser.parse_args()
    print("$ python bench/local_isolation.py " + " ".join(sys.argv[1:]))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"{args.rounds} rounds, each request to both backends in turn")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
