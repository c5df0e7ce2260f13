"""Concurrency efficiency of LLMClient + OpenAIBackend against a latency-injecting server.

The fault server (tests/servers/fault_server.py) runs in its own process and answers every
chat request after a fixed latency. With concurrency C and latency L the ideal rate is C / L
calls per second; efficiency = achieved rate / ideal. Goal: >= 95% at 1,000 requests,
200 ms, concurrency 100.

    python bench/concurrency.py [--requests 1000] [--latency 0.2] [--concurrency 100] [--repeat 3]
                                [--endpoints 2] [--server fault|lean]

`--endpoints N` starts N servers and spreads the calls over them through an endpoint pool
(`llm.endpoints`, concurrency C each: ideal N x C / L). `--server lean` uses
bench/latency_server.py (one asyncio loop, ~0.05 ms per call) instead of the fault server
(a thread per connection, ~0.4 ms per call under the GIL), so the figure is the client's.
`SIMKIT_HTTP=sdk` sends the calls through the openai SDK instead of the lean transport.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic import BaseModel, Field  # noqa: E402

from simkit.config import LLMSettings  # noqa: E402
from simkit.llm.client import LLMClient  # noqa: E402
from simkit.llm.factory import make_backend  # noqa: E402
from simkit.llm.openai_backend import OpenAIBackend  # noqa: E402


class Reaction(BaseModel):
    action: str = Field(max_length=12)
    comment: str = Field(max_length=120)
    interest: int = Field(ge=1, le=5)
    trust: float = Field(ge=0, le=1)


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of another process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(latency: float, kind: str = "fault") -> tuple[subprocess.Popen, str]:
    module = ["-m", "tests.servers.fault_server", "--max-lifetime", "900"] if kind == "fault" else [str(ROOT / "bench" / "latency_server.py")]
    proc = subprocess.Popen(
        [sys.executable, *module, "--latency", str(latency)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    line = proc.stdout.readline().split()
    if not line or line[0] != "READY":
        proc.kill()
        raise SystemExit("fault server did not start")
    return proc, f"http://127.0.0.1:{line[1]}/v1"


async def one_round(base_url: "str | list[str]", n: int, concurrency: int) -> tuple[float, LLMClient]:
    urls = [base_url] if isinstance(base_url, str) else base_url
    if len(urls) == 1:
        backend = OpenAIBackend("bench-model", base_url=urls[0], timeout=30, max_concurrency=concurrency)
    else:
        backend = make_backend(LLMSettings(backend="openai", model="bench-model", timeout=30, endpoints=[
            {"base_url": u, "concurrency": concurrency} for u in urls]), 0)
    concurrency *= len(urls)
    client = LLMClient(backend, cache_mode="off", max_concurrency=concurrency, timeout=30, retries=2)
    messages = [{"role": "system", "content": "You are a persona."}]
    # warm the connection pool so the round measures steady state, not TCP set-up
    await asyncio.gather(*[client.complete(messages + [{"role": "user", "content": f"warm {i}"}], schema=Reaction, agent_id="w")
                           for i in range(concurrency)])
    client.stats.llm_calls = 0
    started = time.perf_counter()
    answers = await asyncio.gather(*[
        client.complete(messages + [{"role": "user", "content": f"page {i}"}], schema=Reaction, agent_id=f"a{i}")
        for i in range(n)
    ])
    wall = time.perf_counter() - started
    assert all(a.ok for a in answers)
    await client.aclose()
    return wall, client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--endpoints", type=int, default=1)
    parser.add_argument("--server", choices=["fault", "lean"], default="fault")
    args = parser.parse_args()
    prefix = f"SIMKIT_HTTP={os.environ['SIMKIT_HTTP']} " if os.environ.get("SIMKIT_HTTP") else ""
    print(f"$ {prefix}python bench/concurrency.py " + " ".join(sys.argv[1:]))
    servers = [start_server(args.latency, args.server) for _ in range(args.endpoints)]
    base_url = [url for _, url in servers]
    try:
        ideal = args.endpoints * args.concurrency / args.latency
        print(f"{args.requests} structured calls, latency {args.latency * 1000:.0f} ms, {args.endpoints} x concurrency "
              f"{args.concurrency} ({args.server} server): ideal {ideal:.0f} calls/s ({args.requests / ideal:.2f} s)")
        with open("/proc/loadavg") as fh:
            print(f"load average at start: {fh.read().split()[0]} (other jobs share these {os.cpu_count()} cores)")
        print(f"{'round':>5} {'wall s':>8} {'calls/s':>9} {'efficiency':>10} {'client CPU ms/call':>19} {'server CPU ms/call':>19}")
        for r in range(args.repeat):
            cpu0, server0 = time.process_time(), sum(process_cpu(p.pid) for p, _ in servers)
            wall, client = asyncio.run(one_round(base_url, args.requests, args.concurrency))
            calls = args.requests + args.concurrency * args.endpoints  # with the warm-up
            cpu = (time.process_time() - cpu0) / calls * 1000
            server_cpu = (sum(process_cpu(p.pid) for p, _ in servers) - server0) / calls * 1000
            rate = args.requests / wall
            print(f"{r + 1:>5} {wall:>8.2f} {rate:>9.1f} {rate / ideal:>9.1%} {cpu:>19.2f} {server_cpu:>19.2f}")
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
