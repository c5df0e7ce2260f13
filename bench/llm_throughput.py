"""Throughput of the default local model on a TrendSim-like agent prompt.

Each call is one agent step: a persona (system) + a trending page with comments (user),
answered as a JSON object with five fields (grammar-constrained). Configurations, side by
side in one run on the same requests:

    local  in-process (simkit.llm.local), n_parallel = 1 (one sequence at a time) or 4
           (continuous batching: 4 KV sequences share each llama_decode), 1 or 2 threads
    server python -m llama_cpp.server on 127.0.0.1 through the openai backend (dialect
           auto -> json_object); that server decodes one request at a time, so
           "concurrency 4" only queues requests

    python bench/llm_throughput.py [--calls 6] [--rounds 2] [--only local|server] [--threads 1,2] [--parallel 1,4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic import BaseModel, Field  # noqa: E402

from simkit.llm.client import LLMClient  # noqa: E402
from simkit.llm.local import LocalBackend, default_model_path  # noqa: E402
from simkit.llm.openai_backend import OpenAIBackend  # noqa: E402
from tests.servers.llama_server import LlamaServer  # noqa: E402

PERSONAS = [
    "You are Maria Lopez, 34, a nurse in Columbus, Ohio. You like hiking, cooking and local news. "
    "You are careful with rumours and want evidence before you share anything.",
    "You are Ken Sato, 52, a taxi driver in Osaka. You follow baseball and politics, comment often "
    "and enjoy a heated argument.",
    "You are Amara Okafor, 23, a design student in Lagos. You post about music and fashion and "
    "usually like what your friends like.",
    "You are Dieter Braun, 67, a retired engineer in Stuttgart. You read every comment and rarely post.",
]
PAGE = (
    "Trending topic: 'City marathon raises a record sum for the children's hospital'.\n"
    "Top comments (by likes):\n"
    "[0] (212 likes) Amazing effort, proud of this city!\n"
    "[1] (97 likes) Where does the money actually go? I'd like to see the accounts.\n"
    "[2] (41 likes) Roads were closed for six hours, nobody asked us.\n"
    "[3] (12 likes) My daughter ran it, best day of the year.\n"
    "You have {minutes} minutes. Decide what you do on this page and answer with a JSON object: "
    "action (like_topic, comment, like_comment or leave), comment_index (which comment, or -1), "
    "text (your comment, empty if none), emotion (-1 to 1) and interest (1 to 5)."
)


class Step(BaseModel):
    action: str = Field(pattern="^(like_topic|comment|like_comment|leave)$", max_length=12)
    comment_index: int = Field(ge=-1, le=3)
    text: str = Field(max_length=160)
    emotion: float = Field(ge=-1, le=1)
    interest: int = Field(ge=1, le=5)


def requests(n: int) -> list[list[dict[str, str]]]:
    return [
        [{"role": "system", "content": PERSONAS[i % len(PERSONAS)]},
         {"role": "user", "content": PAGE.format(minutes=5 + i)}]
        for i in range(n)
    ]


async def measure(backend, n_calls: int, concurrency: int) -> dict:
    client = LLMClient(backend, cache_mode="off", max_concurrency=concurrency, timeout=600, retries=1,
                       temperature=0.7, max_tokens=256, seed=1)
    await backend.check()
    # one warm-up call (model load, first graph build) outside the timing
    await client.complete(requests(1)[0], schema=Step, agent_id="warm")
    client.stats.tokens_in = client.stats.tokens_out = client.stats.calls = 0
    cpu0, started = time.process_time(), time.perf_counter()
    answers = await asyncio.gather(*[
        client.complete(m, schema=Step, agent_id=f"a{i}") for i, m in enumerate(requests(n_calls))
    ])
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu0
    await client.aclose()
    first_ok = sum(a.ok for a in answers)
    return {
        "wall": wall,
        "calls_min": n_calls / wall * 60,
        "out_tok_s": client.stats.tokens_out / wall,
        "in_tok_s": client.stats.tokens_in / wall,
        "tok_out": client.stats.tokens_out / max(1, client.stats.calls),
        "ok": f"{first_ok}/{n_calls}",
        "repairs": client.stats.calls - n_calls,
        "cpu": cpu / n_calls,
        "dialect": getattr(backend, "dialect", "grammar"),
    }


def row(name: str, rnd: int, r: dict) -> str:
    return (f"{name:<34} {rnd or '-':>5} {r['wall']:>7.1f} {r['calls_min']:>9.1f} {r['out_tok_s']:>8.1f} {r['in_tok_s']:>8.1f} "
            f"{r['tok_out']:>8.1f} {r['ok']:>6} {r['repairs']:>7} {r['cpu']:>9.2f}  {r['dialect']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", choices=["local", "server"])
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--parallel", default="1,4")
    args = parser.parse_args()
    print("$ python bench/llm_throughput.py " + " ".join(sys.argv[1:]))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"model {default_model_path().name}, {args.calls} structured calls per row, {cores} cores, "
          f"{args.rounds} interleaved rounds (other jobs share the cores: the best round is the machine's speed)")
    print(f"{'configuration':<34} {'round':>5} {'wall s':>7} {'calls/min':>9} {'out t/s':>8} {'in t/s':>8} "
          f"{'out/call':>8} {'parsed':>6} {'repairs':>7} {'CPU s/call':>9}  dialect")
    threads = [int(t) for t in args.threads.split(",")]
    parallel = [int(p) for p in args.parallel.split(",")]
    best: dict[str, dict] = {}

    def record(name: str, rnd: int, result: dict) -> None:
        print(row(name, rnd, result), flush=True)
        if name not in best or result["wall"] < best[name]["wall"]:
            best[name] = result

    for rnd in range(1, args.rounds + 1):
        if args.only != "server":
            for t in threads:
                for p in parallel:
                    result = asyncio.run(measure(LocalBackend(n_threads=t, n_parallel=p), args.calls, max(p, 1) * 2))
                    record(f"local  threads={t} n_parallel={p}", rnd, result)
        if args.only != "local":
            for t in threads:
                with LlamaServer(default_model_path(), n_threads=t) as server:
                    for conc in parallel:
                        backend = OpenAIBackend("smollm2", base_url=server.base_url, timeout=600, max_concurrency=conc)
                        result = asyncio.run(measure(backend, args.calls, conc))
                        record(f"server threads={t} concurrency={conc}", rnd, result)
    print("\nbest round per configuration:")
    for name, result in best.items():
        print(row(name, 0, result))


if __name__ == "__main__":
    main()
