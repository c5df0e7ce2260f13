"""CharacterBox's paper profile at scale: LLM calls and tokens per scene (3 rounds), split by
the model under test (characters), the narrator and the judge, and by language, with the
cost at a named price per million tokens.

Plays every scene of a folder in the authors' layout with `scenarios/characterbox_paper.yaml`
(profile: paper, 3 rounds, characters judged, narrator calls not judged) on the scripted
backend, the instruments scripted too. Scripted tokens are estimates (characters / 4) of
simkit's prompts with scripted answers, so they bound the input side; real answers are
longer (the paper's Table 6: GPT-4 characters write 14.4k tokens a scene).

Usage: python bench/characterbox_paper_bench.py [--scenes tests/data/characterbox_authors]
           [--price-in 0.15 --price-out 0.60 --price-name gpt-4o-mini]
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
SCENARIO = ROOT / "scenarios" / "characterbox_paper.yaml"
ROLES = {"characters": "characterbox.character.%", "narrator": "characterbox.narrator.%", "judge": "judge.%"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenes", default=str(ROOT / "tests" / "data" / "characterbox_authors"))
    parser.add_argument("--price-in", type=float, default=0.15, help="USD per million input tokens")
    parser.add_argument("--price-out", type=float, default=0.60, help="USD per million output tokens")
    parser.add_argument("--price-name", default="gpt-4o-mini (USD 0.15 in / 0.60 out per 1M tokens)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from simkit.engine.runner import Simulation, load_scenario
    from simkit.plugins.characterbox.scenes import language_of

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        extra = {"llm": {"backend": "scripted", "cache": "off",
                         "roles": {"narrator": {"backend": "scripted"}, "judge": {"backend": "scripted"}}},
                 "output": {"db": str(db)}}
        overrides = [f"characterbox.scenes={args.scenes}", "population.personas=tests/data/personas_small.jsonl"]
        config, plugin_cfg = load_scenario(SCENARIO, overrides, extra)
        sim = Simulation(config, plugin_cfg, db, source=SCENARIO)
        started = time.perf_counter()
        asyncio.run(sim.run())
        wall = time.perf_counter() - started
        con = sqlite3.connect(db)
        lang_of = {s.key: s.lang for s in sim.plugin.stages.values()}
        n = {lang: sum(1 for v in lang_of.values() if v == lang) for lang in sorted(set(lang_of.values()))}
        rows = con.execute("select agent_id, purpose, tokens_in, tokens_out, messages_json from llm_calls").fetchall()
        totals: dict[tuple[str, str], list[float]] = {}
        for agent, purpose, t_in, t_out, messages in rows:
            role = next(r for r, like in ROLES.items() if purpose.startswith(like.rstrip("%")))
            scene = (agent or "").split("/", 1)[0]
            lang = lang_of.get(scene) or language_of(messages)  # a judge call: the language of the trajectory it reads
            cell = totals.setdefault((lang, role), [0, 0, 0])
            cell[0] += 1
            cell[1] += t_in
            cell[2] += t_out
        print(f"{len(lang_of)} scenes ({', '.join(f'{k}: {v}' for k, v in n.items())}) from {args.scenes}, 3 rounds, "
              f"profile: paper, scripted; wall {wall:.1f} s")
        print(f"{'lang':5} {'role':11} {'calls/scene':>11} {'tokens in/scene':>16} {'tokens out/scene':>17} {'USD/scene':>10}")
        for (lang, role), (calls, t_in, t_out) in sorted(totals.items()):
            k = n.get(lang, 1)
            usd = (t_in * args.price_in + t_out * args.price_out) / 1e6 / k
            print(f"{lang:5} {role:11} {calls / k:11.1f} {t_in / k:16,.0f} {t_out / k:17,.0f} {usd:10.4f}")
        calls = sum(c[0] for c in totals.values())
        t_in, t_out = sum(c[1] for c in totals.values()), sum(c[2] for c in totals.values())
        per = (t_in * args.price_in + t_out * args.price_out) / 1e6 / len(lang_of)
        print(f"all   all         {calls / len(lang_of):11.1f} {t_in / len(lang_of):16,.0f} {t_out / len(lang_of):17,.0f} {per:10.4f}")
        print(f"price: {args.price_name}; the paper's 100 scenes at this rate: USD {100 * per:.2f} (scripted answer lengths)")


if __name__ == "__main__":
    main()
