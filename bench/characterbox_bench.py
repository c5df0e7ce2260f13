"""CharacterBox's LLM cost per scene-round, against the paper's cost table.

Plays the shipped scenes for 3 rounds (the paper's Table 6 setting) and counts, from the
run's llm_calls, calls and tokens per scene-round for the characters (the model under
test), the narrator and the judges. Settings: the authors' code (importance rated by one
call per memory, synopsis by the first character's model, scene updated per round) and
the cheap variant (fixed importance, no synopsis), and the per-actor scene update of the paper's Algorithm 1 (the whole paper profile: characterbox_paper_bench.py);
every narrator call is judged. Scripted tokens are estimates
(characters / 4); `--llm local` counts the embedded model's real tokens (slow: use
`--scenes 6 --rounds 2`).

Paper Table 6 (one scene, 3 rounds; narrator GPT-3.5, characters GPT-4): narrator 25.7k
tokens in / 4.2k out, characters 75.3k / 14.4k.

Usage: python bench/characterbox_bench.py [--llm scripted] [--scenes 1,2,3,4,5,6] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "characterbox.yaml"
PAPER = {"character": (75.3e3, 14.4e3), "narrator": (25.7e3, 4.2e3)}  # per scene of 3 rounds: tokens in, out
SETTINGS = {
    "code": ["characterbox.memory.importance=rated", "characterbox.synopsis=character", "characterbox.scene_update=per_round"],
    "cheap": ["characterbox.memory.importance=fixed", "characterbox.synopsis=none", "characterbox.scene_update=per_round"],
    "per_actor": ["characterbox.memory.importance=rated", "characterbox.synopsis=character", "characterbox.scene_update=per_actor"],
}
ROLES = {"character": "characterbox.character.%", "narrator": "characterbox.narrator.%", "judge": "judge.%"}


def run(llm: str, scenes: str, rounds: int, sets: list[str], folder: Path) -> tuple[sqlite3.Connection, float, int]:
    from simkit.config import parse_llm_flag
    from simkit.engine.runner import Simulation, load_scenario

    db = folder / f"run-{abs(hash(tuple(sets)))}.db"
    extra = {"llm": {**parse_llm_flag(llm), "cache": "off"}, "output": {"db": str(db)}}
    overrides = [f"characterbox.scene_ids=[{scenes}]", f"characterbox.rounds={rounds}", "population.personas=personas/population.jsonl",
                 "characterbox.judging.narrator_calls=null", *sets]
    config, plugin_cfg = load_scenario(SCENARIO, overrides, extra)
    sim = Simulation(config, plugin_cfg, db, source=SCENARIO)
    started = time.perf_counter()
    asyncio.run(sim.run())
    return sqlite3.connect(db), time.perf_counter() - started, sim.plugin.round * len(sim.plugin.stages)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--llm", default="scripted")
    parser.add_argument("--scenes", default="1,2,3,4,5,6")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--settings", default="code,cheap,per_actor")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    print(f"{args.llm}, scenes {args.scenes}, {args.rounds} rounds; per scene-round (paper: per scene of 3 rounds / 3)")
    print(f"{'setting':8} {'role':10} {'calls':>7} {'tokens in':>10} {'tokens out':>11} {'paper in':>9} {'paper out':>10}  wall")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.settings.split(","):
            con, wall, scene_rounds = run(args.llm, args.scenes, args.rounds, SETTINGS[name], Path(tmp))
            for role, like in ROLES.items():
                calls, t_in, t_out = con.execute(
                    "select count(*), coalesce(sum(tokens_in), 0), coalesce(sum(tokens_out), 0) from llm_calls where purpose like ?", [like]
                ).fetchone()
                paper = PAPER.get(role)
                ref = f"{paper[0] / 3:>9,.0f} {paper[1] / 3:>10,.0f}" if paper else f"{'-':>9} {'-':>10}"
                tail = f"  {wall:.1f} s" if role == "character" else ""
                print(f"{name:8} {role:10} {calls / scene_rounds:7.1f} {t_in / scene_rounds:10,.0f} {t_out / scene_rounds:11,.0f} {ref}{tail}")
            con.close()


if __name__ == "__main__":
    main()
