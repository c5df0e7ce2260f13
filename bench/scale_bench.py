"""TrendSim at 1,000-10,000 agents against a stand-in model with a fixed latency: wall time
against the run's critical-path bound, CPU, and memory per 1,000 agents.

A synchronous TrendSim tick runs every due visit at once; a visit is a chain of calls in a
row (one per page, up to `max_actions_per_visit`), and comments posted in the tick may go
to the censor one after another while the tick's actions are applied. So no engine can
finish a tick faster than its longest chain of calls times the latency, and the run's
critical-path bound is ticks x the longest chain x latency (`bound`), or tighter, the sum
over ticks of each tick's longest chain x latency (`tick sum`), both read from the run's own
`llm_calls`. wall / bound is how close the engine gets to it; 1.0 is a free engine with
unlimited concurrency.

The endpoint is `bench/latency_server.py --schema-answers` (every structured answer built
from the request's schema, chosen by a hash of the prompt: the same run every time). Each
population runs in its own process, so its peak RSS is its own; MiB per 1,000 agents is the
slope between the smallest and largest population.

    python bench/scale_bench.py --agents 1000,10000 [--latency 0.05] [--concurrency 256]
        [--endpoints 1] [--share 0.3] [--profile out.html]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "trendsim_pa30.yaml"
sys.path.insert(0, str(ROOT))

from simkit.llm.prefix_cache import GPT_4O_MINI  # noqa: E402
from bench.trendsim_bench import personas  # noqa: E402  (n personas: the shipped population under new ids)




def start_server(latency: float, *extra: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "latency_server.py"), "--latency", str(latency), "--schema-answers",
         "--lifetime", "3600", *extra],
        stdout=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline().split()
    return proc, f"http://127.0.0.1:{line[1]}/v1"


def one(args: argparse.Namespace) -> None:
    """Child: run one population, print a JSON line of what it cost."""
    import asyncio

    from simkit.engine.runner import Simulation, load_scenario

    n, folder = args.one, Path(args.folder)
    urls = args.urls.split(",")
    llm: dict = {"backend": "openai", "model": "bench", "max_concurrency": args.concurrency, "cache": "off",
                 "timeout": 120, "max_tokens": 256}
    if len(urls) > 1:
        llm["endpoints"] = [{"base_url": u, "concurrency": args.concurrency // len(urls)} for u in urls]
    else:
        llm["base_url"] = urls[0]
    # the instruments (attackers, censor) use the same stand-in endpoint
    llm["roles"] = {role: {k: v for k, v in llm.items() if k in ("backend", "model", "base_url", "endpoints")}
                    for role in ("attacker", "censor")}
    db = folder / f"run-{n}-{args.mode}.db"
    os.environ.setdefault("OPENAI_API_KEY", "bench")
    sets = [f"population.personas={personas(n, folder)}", f"population.size={n}", f"mode={args.mode}",
            f"attack.share={args.share}", "cognition=fused"]
    config, plugin_cfg = load_scenario(SCENARIO, sets, {"llm": llm, "output": {"db": str(db)}})
    sim = Simulation(config, plugin_cfg, db, source=SCENARIO)
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled")
        profiler.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    asyncio.run(sim.run())
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    if profiler is not None:
        profiler.stop()
        Path(args.profile).write_text(profiler.output_html())
        print(profiler.output_text(unicode=False, color=False, show_all=False)[:6000], file=sys.stderr)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"db": str(db), "wall": wall, "cpu": cpu, "rss_mib": rss}))


def critical_path(conn: sqlite3.Connection) -> tuple[int, int, int, int]:
    """(ticks, sum over ticks of the longest chain of calls, the longest chain, calls). The
    chain of a tick is the most calls one agent made in it, plus the censor's calls, which
    run one by one."""
    chains = conn.execute(
        """select tick, max(n) from (select tick, agent_id, count(*) n from llm_calls
           where purpose != 'trendsim.censor' group by tick, agent_id) group by tick"""
    ).fetchall()
    censor = dict(conn.execute("select tick, count(*) from llm_calls where purpose = 'trendsim.censor' group by tick").fetchall())
    per_tick = {t: c for t, c in chains}
    for t, c in censor.items():
        per_tick[t] = per_tick.get(t, 0) + c
    ticks = conn.execute("select count(*) from ticks").fetchone()[0]
    calls = conn.execute("select count(*) from llm_calls").fetchone()[0]
    return ticks, sum(per_tick.values()), max(per_tick.values(), default=0), calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", default="1000,10000")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--endpoints", type=int, default=1)
    parser.add_argument("--share", type=float, default=0.3, help="attacker share (0.3: the paper's PA-30)")
    parser.add_argument("--profile", default=None, help="pyinstrument HTML of the largest population")
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--folder", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--urls", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="synchronous", help=argparse.SUPPRESS)  # plugin: the scenario's default order
    args = parser.parse_args()
    if args.one is not None:
        return one(args)

    sizes = [int(x) for x in args.agents.split(",")]
    print("$ python bench/scale_bench.py " + " ".join(sys.argv[1:]))
    cpu_model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "?")
    print(f"{cpu_model}, {os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.1f} (the cores are shared)")
    print(f"TrendSim PA-{args.share * 100:.0f}, synchronous, fused, 16 h; {args.endpoints} endpoint(s) answering after "
          f"{args.latency * 1000:.0f} ms; concurrency {args.concurrency}")
    servers = [start_server(args.latency) for _ in range(args.endpoints)]
    rows, usage = [], []
    try:
        with tempfile.TemporaryDirectory(prefix="simkit-scale-") as tmp:
            header = (f"{'agents':>7s} {'ticks':>5s} {'calls':>7s} {'calls/s':>8s} {'chain':>5s} {'bound s':>7s} {'tick sum s':>10s}"
                      f" {'wall s':>7s} {'wall/bound':>10s} {'wall/sum':>8s} {'CPU s':>6s} {'CPU ms/call':>11s} {'peak MiB':>9s}")
            print(header)
            for n in sizes:
                cmd = [sys.executable, __file__, "--one", str(n), "--folder", tmp, "--urls", ",".join(u for _, u in servers),
                       "--concurrency", str(args.concurrency), "--share", str(args.share)]
                if args.profile and n == max(sizes):
                    cmd += ["--profile", args.profile]
                out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]
                res = json.loads(out)
                conn = sqlite3.connect(res["db"])
                ticks, chain_sum, longest, calls = critical_path(conn)
                tok_in, tok_out = conn.execute("select sum(tokens_in), sum(tokens_out) from llm_calls").fetchone()
                steps = conn.execute("select value from metrics where name = 'cost.agent_steps' and tick = -1").fetchone()[0]
                conn.close()
                usage.append((n, calls, steps, tok_in, tok_out, res["wall"], res["cpu"]))
                bound, tight = ticks * longest * args.latency, chain_sum * args.latency
                rows.append((n, res["rss_mib"]))
                print(f"{n:7d} {ticks:5d} {calls:7d} {calls / res['wall']:8.0f} {longest:5d} {bound:7.1f} {tight:10.1f}"
                      f" {res['wall']:7.1f} {res['wall'] / bound:10.2f} {res['wall'] / tight:8.2f} {res['cpu']:6.1f}"
                      f" {1000 * res['cpu'] / calls:11.2f} {res['rss_mib']:9.0f}", flush=True)
                Path(res["db"]).unlink()
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait()
    if len(rows) > 1:
        (n0, m0), (n1, m1) = rows[0], rows[-1]
        print(f"memory: {1000 * (m1 - m0) / (n1 - n0):.1f} MiB per 1,000 agents (peak RSS slope, {n0} -> {n1} agents)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    price = GPT_4O_MINI
    print(f"\ntokens (the stand-in counts characters / 4) and cost at {price.name}'s list price "
          f"(${price.input}/${price.output} per 1M in/out, no cached input)")
    print(f"{'agents':>7s} {'calls':>7s} {'steps':>7s} {'tok in':>11s} {'tok out':>10s} {'in/step':>8s} {'out/step':>8s} {'$ run':>7s} {'$/1k steps':>10s}")
    for n, calls, steps, tin, tout, wall, cpu in usage:
        cost = (tin * price.input + tout * price.output) / 1e6
        print(f"{n:7d} {calls:7d} {int(steps):7d} {tin:11,d} {tout:10,d} {tin / steps:8.0f} {tout / steps:8.0f} {cost:7.3f} {1000 * cost / steps:10.4f}")


if __name__ == "__main__":
    main()
