"""PersonaArena: what early stopping and debating only the disputed metrics save.

Runs the same personas (one per seed) four ways: early stop on checkpoint coverage on or
off (off = every episode runs `max_turns` lines) crossed with debate on disputed metrics
only or on every metric (the judge package's `full_debate`). The scripted backend answers,
with a fixed latency per call standing in for a model (`--latency`), so wall time follows
the number of calls as it would against an endpoint. Prints calls, judge calls, wall time
(calls, metrics debated, tokens) and the mean overall score per variant, and the wall-time
saving against the full variant. A debate costs the same number of calls whatever the
number of metrics it covers, so debating only disputed metrics saves calls only on
episodes where nothing is disputed, and tokens on the others.

    python bench/personaarena_bench.py --personas 20 --max-turns 12 --latency 0.02
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path

from simkit.engine.runner import Simulation, load_scenario
from simkit.llm.base import LLMRequest, RawCompletion
from simkit.llm.scripted import ScriptedBackend

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "personaarena.yaml"
VARIANTS = {  # name -> (early_stop, full_debate)
    "early stop + disputed debate": (True, False),
    "early stop + full debate": (True, True),
    "full episode + disputed debate": (False, False),
    "full episode + full debate": (False, True),
}


class SlowScripted(ScriptedBackend):
    def __init__(self, seed: int, latency: float):
        super().__init__(seed)
        self.latency = latency

    async def generate(self, request: LLMRequest) -> RawCompletion:
        await asyncio.sleep(self.latency)
        return await super().generate(request)


async def episode(db: Path, seed: int, early: bool, full: bool, max_turns: int, latency: float, spread: float) -> dict:
    sets = [f"personaarena.judge.disagreement.per_metric_range={spread}", f"personaarena.max_turns={max_turns}", f"personaarena.early_stop={str(early).lower()}",
            f"personaarena.judge.full_debate={str(full).lower()}", "personaarena.judge.max_debate_rounds=2"]
    config, plugin_cfg = load_scenario(SCENARIO, sets, {"llm": {"backend": "scripted", "cache": "off"}, "seed": seed})
    sim = Simulation(config, plugin_cfg, db, source=SCENARIO, backend=SlowScripted(seed, latency))
    start = time.perf_counter()
    await sim.run()
    wall = time.perf_counter() - start
    conn = sqlite3.connect(db)
    rows = conn.execute("select purpose like 'judge.%', count(*), sum(tokens_in + tokens_out) from llm_calls where run_id = ? group by 1",
                        [sim.run_id]).fetchall()
    calls = {judge: n for judge, n, _ in rows}
    tokens = {judge: t for judge, _, t in rows}
    debated = conn.execute("select count(distinct value) from judgements, json_each(metrics_json) where run_id = ? and phase = 'debate'",
                           [sim.run_id]).fetchone()[0]
    overall = conn.execute("select value from metrics where run_id = ? and tick = -1 and name = 'overall' and labels_json = '{}'", [sim.run_id]).fetchone()[0]
    turns = conn.execute("select value from metrics where run_id = ? and tick = -1 and name = 'turns'", [sim.run_id]).fetchone()[0]
    conn.close()
    return {"wall": wall, "episode_calls": calls.get(0, 0), "judge_calls": calls.get(1, 0), "judge_tokens": tokens.get(1, 0), "debated": debated, "overall": overall, "turns": turns}


async def main(personas: int, max_turns: int, latency: float, spread: float) -> None:
    results: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (early, full) in VARIANTS.items():
            results[name] = [await episode(Path(tmp) / "bench.db", seed, early, full, max_turns, latency, spread) for seed in range(1, personas + 1)]
    base = results["full episode + full debate"]

    def total(rows: list[dict], key: str) -> float:
        return sum(r[key] for r in rows)

    print(f"$ python bench/personaarena_bench.py --personas {personas} --max-turns {max_turns} --latency {latency} --range {spread}")
    print(f"{'variant':32} {'lines':>6} {'episode calls':>13} {'judge calls':>11} {'debated':>7} {'judge tokens':>12} {'wall s':>7} {'saved':>6} {'overall':>8}")
    for name, rows in results.items():
        saved = 1 - total(rows, "wall") / total(base, "wall")
        print(f"{name:32} {total(rows, 'turns') / len(rows):6.1f} {total(rows, 'episode_calls') / len(rows):13.1f} "
              f"{total(rows, 'judge_calls') / len(rows):11.1f} {total(rows, 'debated') / len(rows):7.1f} "
              f"{total(rows, 'judge_tokens') / len(rows):12.0f} {total(rows, 'wall'):7.2f} {saved:6.1%} "
              f"{total(rows, 'overall') / len(rows):8.3f}")
    ours, theirs = results["early stop + disputed debate"], base
    same = sum(a["overall"] == b["overall"] for a, b in zip(ours, theirs))
    print(f"overall score: early stop + disputed debate minus full: {(total(ours, 'overall') - total(theirs, 'overall')) / len(ours):+.3f}"
          f" (identical in {same} of {len(ours)} episodes)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--personas", type=int, default=20)
    parser.add_argument("--max-turns", type=int, default=12)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every call")
    parser.add_argument("--range", type=float, default=1.0, help="per-metric judge range that counts as disputed")
    args = parser.parse_args()
    asyncio.run(main(args.personas, args.max_turns, args.latency, args.range))
