"""TrendSim at the paper's scale on the scripted backend, and the LLM cost of its two
cognition modes.

1. Scale: N agents (default 1,000, the paper's population) over the full 16-hour lifecycle,
   fused cognition, without attackers (SE: 1,000 users) and with half of them attackers
   (PA-50), the two settings of the paper's Table 4: wall time, visits, agent-steps and
   agent-steps per second.
   An agent-step is one page of a normal user's visit: one action decided (and, in
   faithful mode, perceived, written and reflected on).
2. Cost: the same scenario with a smaller population, once `faithful` and once `fused`:
   LLM calls and tokens per agent-step (users' calls only; attackers and the censor are
   reported apart). Scripted tokens are estimated (characters / 4); pass `--llm local` to
   count the local model's real tokens (slow: keep --cost-users small).

Usage: python bench/trendsim_bench.py [--users 1000] [--cost-users 100] [--llm scripted]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "trendsim.yaml"
USER_PURPOSES = ("trendsim.perceive", "trendsim.decide", "trendsim.write", "trendsim.choose", "trendsim.reflect.%", "trendsim.step")


def personas(n: int, folder: Path) -> Path:
    """n personas: the shipped population, repeated under new ids."""
    base = [json.loads(line) for line in (ROOT / "personas" / "population.jsonl").read_text().splitlines() if line.strip()]
    path = folder / f"personas-{n}.jsonl"
    with path.open("w") as fh:
        for i in range(n):
            fh.write(json.dumps(dict(base[i % len(base)], id=f"bench{i:05d}")) + "\n")
    return path


def run(n: int, folder: Path, llm: str, *sets: str) -> tuple[sqlite3.Connection, float]:
    from simkit.config import parse_llm_flag
    from simkit.engine.runner import Simulation, load_scenario

    db = folder / f"run-{n}-{'-'.join(s.replace('=', '_') for s in sets)}.db"
    extra = {"llm": parse_llm_flag(llm), "output": {"db": str(db)}}
    config, plugin_cfg = load_scenario(
        SCENARIO, [f"population.personas={personas(n, folder)}", f"population.size={n}", *sets], extra
    )
    sim = Simulation(config, plugin_cfg, db, source=SCENARIO)
    started = time.perf_counter()
    asyncio.run(sim.run())
    return sqlite3.connect(db), time.perf_counter() - started


def agent_steps(conn: sqlite3.Connection) -> int:
    return conn.execute(
        """select count(*) from events e join agents a on a.run_id = e.run_id and a.agent_id = e.agent_id
           where a.kind = 'user' and e.kind not in ('end_visit', 'parse_failure')"""
    ).fetchone()[0]


def calls(conn: sqlite3.Connection, purposes: tuple[str, ...]) -> tuple[int, int, int]:
    where = " or ".join("purpose like ?" for _ in purposes)
    row = conn.execute(f"select count(*), sum(tokens_in), sum(tokens_out) from llm_calls where {where}", purposes).fetchone()
    return row[0], row[1] or 0, row[2] or 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--cost-users", type=int, default=100)
    parser.add_argument("--llm", default="scripted")
    args = parser.parse_args()
    print(f"$ python bench/trendsim_bench.py --users {args.users} --cost-users {args.cost_users} --llm {args.llm}")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.users:
            print(f"\nscale: {args.users} agents, 16 h lifecycle, fused, scripted backend")
            print(f"  {'setting':8s} {'wall s':>7s} {'visits':>7s} {'steps':>6s} {'steps/s':>8s} {'calls':>6s} {'calls/s':>8s}")
            for label, share in (("SE", 0), ("PA-50", 0.5)):
                conn, wall = run(args.users, folder, "scripted", f"attack.share={share}", "cognition=fused")
                steps = agent_steps(conn)
                visits = conn.execute("select count(*) from events where kind = 'end_visit'").fetchone()[0]
                n_calls = conn.execute("select count(*) from llm_calls").fetchone()[0]
                print(f"  {label:8s} {wall:7.1f} {visits:7d} {steps:6d} {steps / wall:8.0f} {n_calls:6d} {n_calls / wall:8.0f}")

        print(f"\ncost per agent-step: {args.cost_users} agents (PA-10), {args.llm} backend")
        print(f"  {'cognition':10s} {'steps':>6s} {'calls':>6s} {'calls/step':>10s} {'tok in/step':>12s} {'tok out/step':>13s} {'wall s':>7s}")
        for mode in ("faithful", "fused"):
            conn, wall = run(args.cost_users, folder, args.llm, "attack.share=0.1", f"cognition={mode}")
            steps = agent_steps(conn)
            n, t_in, t_out = calls(conn, USER_PURPOSES)
            print(f"  {mode:10s} {steps:6d} {n:6d} {n / steps:10.2f} {t_in / steps:12.0f} {t_out / steps:13.0f} {wall:7.1f}")
        a_n, a_in, a_out = calls(conn, ("trendsim.attack",))
        print(f"  attackers: {a_n} calls, {a_in / max(1, a_n):.0f} tokens in and {a_out / max(1, a_n):.0f} out per call (one per visit)")


if __name__ == "__main__":
    sys.exit(main())
