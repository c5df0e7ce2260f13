"""LLM calls and tokens per CDI scenario run, for each defense (and attacker).

Every shipped scenario (or `--scenarios N` of them) is run once per defense; the table
gives, per defense, the mean per run of the calls of each role (sender, recipient, guard,
instructor, optimizer, judge), all calls, tokens in and out, and wall time. Scripted
tokens are estimates (characters / 4); `--llm local` counts the embedded model's real
tokens (slow: use `--scenarios 1` and small limits, e.g. `--set max_orchestrator_steps=2`).

`--profile paper` runs scenarios/cdi_paper.yaml (the authors' budgets: 20 steps, 10 cycles,
50 calls per cycle, think/act alternation, full history, one judge call per run) with every
role on the chosen backend; `--profile default` runs scenarios/cdi.yaml.

Usage: python bench/cdi_bench.py [--profile default|paper] [--llm scripted] [--scenarios 10] [--attacker base] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROFILES = {"default": ROOT / "scenarios" / "cdi.yaml", "paper": ROOT / "scenarios" / "cdi_paper.yaml"}
DEFENSES = ("none", "prompting", "guarding", "cdi")
ROLES = {"cdi.sender": "sender", "cdi.recipient": "recipient", "cdi.guard": "guard", "cdi.instructor": "instructor",
         "cdi.optimizer": "optimizer", "judge.disclosure": "judge", "cdi.judge_run": "judge"}


def run_one(scenario: Path, db: Path, llm: str, sets: list[str]) -> float:
    from simkit.config import parse_llm_flag
    from simkit.engine.runner import Simulation, load_scenario
    from simkit.plugins.cdi import CDIPlugin

    flag = parse_llm_flag(llm)  # `scripted` scripts the pinned instruments too
    instruments = [r for r in CDIPlugin.llm_roles if r not in CDIPlugin.subject_roles]
    every_role = {**flag, "roles": {r: {"backend": flag["backend"], "model": flag.get("model")} for r in instruments}}
    extra = {"llm": every_role, "output": {"db": str(db)}, "population": {"personas": str(ROOT / "personas" / "population.jsonl"), "size": 1}}
    config, plugin_cfg = load_scenario(scenario, sets, extra)
    started = time.perf_counter()
    asyncio.run(Simulation(config, plugin_cfg, db, source=scenario).run())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="default", choices=tuple(PROFILES))
    parser.add_argument("--llm", default="scripted")
    parser.add_argument("--scenarios", type=int, default=10)
    parser.add_argument("--attacker", default="base", choices=("base", "strategic"))
    parser.add_argument("--set", dest="sets", action="append", default=[])
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from simkit.plugins.cdi.scenario import load_scenarios

    ids = list(load_scenarios())[: args.scenarios]
    print(f"CDI bench, profile {args.profile}: {len(ids)} scenario(s) x {len(DEFENSES)} defenses, attacker {args.attacker}, llm {args.llm}")
    columns = list(dict.fromkeys(ROLES.values()))
    header = ["defense", "runs", *columns, "calls", "tokens in", "tokens out", "wall s"]
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    with tempfile.TemporaryDirectory() as tmp:
        for defense in DEFENSES:
            per_role: dict[str, int] = defaultdict(int)
            tokens_in = tokens_out = calls = 0
            wall = 0.0
            for sid in ids:
                db = Path(tmp) / f"{defense}-{sid}.db"
                wall += run_one(PROFILES[args.profile], db, args.llm, [f"cdi.defense={defense}", f"cdi.scenario={sid}", f"cdi.attacker={args.attacker}",
                                               *(s if s.startswith("cdi.") else f"cdi.{s}" for s in args.sets)])
                con = sqlite3.connect(db)
                for purpose, n, t_in, t_out in con.execute(
                        "select purpose, count(*), sum(tokens_in), sum(tokens_out) from llm_calls group by purpose"):
                    per_role[ROLES.get(purpose.removesuffix(":repair"), purpose)] += n
                    calls += n
                    tokens_in += t_in or 0
                    tokens_out += t_out or 0
                con.close()
            n = len(ids)
            cells = [f"{per_role[r] / n:.1f}" for r in columns]
            print(" | ".join([defense, str(n), *cells, f"{calls / n:.1f}", f"{tokens_in / n:,.0f}", f"{tokens_out / n:,.0f}", f"{wall / n:.2f}"]))


if __name__ == "__main__":
    main()
