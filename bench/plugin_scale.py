"""CharacterBox, PersonaArena and CDI at about 100 and 1,000 agents against a stand-in model
with a fixed latency: the table `scale_bench.py` prints for TrendSim (agents, ticks, calls,
calls/s, tokens, tokens per agent-step, cost at a named price, wall, CPU, peak memory).

What an agent is differs per plugin, and is counted from each run's `agents` table:
- CharacterBox: a character. One run plays a folder of scenes (a tick is a round of every
  scene); the folder holds the six shipped scenes and the 25 of the authors' sample files
  (tests/data/characterbox_authors), repeated under new titles until there are enough
  characters. The narrator and the judge are instruments, not agents.
- PersonaArena: the protagonist and the NPCs of an episode (the environment agent and the
  judges are instruments). A run is one episode with one persona drawn from the population,
  so N agents are a sweep over seeds (one episode each), as `simkit sweep --seeds` runs it.
- CDI: the sender and the recipient of a scenario run (the data subject makes no calls;
  guard, judge, ... are instruments). N agents are a sweep over the ten shipped scenarios
  times seeds.

`in flight` is calls x latency / wall: the calls waiting on the endpoint on average (1.0: one
call after another; these plugins' turns are sequential, so wall time grows with calls).
An agent-step is one agent acting in one tick (a distinct (run, tick, agent) among the
agents' calls); tokens per agent-step divide all tokens, the instruments' included, by them.
Each scenario is the shipped one (`scenarios/<plugin>.yaml`) with every role on the
stand-in endpoint (`bench/latency_server.py --schema-answers`); each size runs in its own
process, so its peak RSS is its own.

    python bench/plugin_scale.py [--plugins characterbox,personaarena,cdi]
        [--agents "characterbox:100,300;personaarena:100,1000;cdi:100,1000"] [--latency 0.05] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scale_bench import start_server  # noqa: E402
from simkit.llm.prefix_cache import GPT_4O_MINI  # noqa: E402

AGENT_KINDS = {"characterbox": ("character",), "personaarena": ("protagonist", "npc"), "cdi": ("sender", "recipient")}
SCENE_FILES = [ROOT / "simkit" / "plugins" / "characterbox" / "data" / "scenes.json",
               *sorted((ROOT / "tests" / "data" / "characterbox_authors").rglob("*.json"))]
PA_AGENTS_PER_EPISODE = 3  # the protagonist and the stand-in's 2 NPCs (a model may cast 3): only sizes the sweep; the table counts them
# CharacterBox stops at 300: its turns run one after another (about 0.6 s a character at
# 50 ms), so 1,000 characters would take about 10 minutes on these machines.
DEFINED = {
    "characterbox": "agent: a character (narrator and judge are instruments); step: a character's calls in one round (a tick)",
    "personaarena": "agent: the protagonist or an NPC of an episode (environment, judges, arbiter are instruments); "
                    "step: an agent's calls in one tick (2 lines)",
    "cdi": "agent: the sender or the recipient of a scenario run (guard, instructor, judge, optimizer are instruments); "
           "step: an agent's action cycles in one tick",
}
SIZES = "characterbox:100,300;personaarena:100,1000;cdi:100,1000"


def scene_folder(n: int, folder: Path) -> Path:
    """A folder of one-scene files with at least `n` characters: the shipped and the authors'
    sample scenes in turn, each copy under its own title."""
    scenes = [(json.loads(f.read_text())["title"], s) for f in SCENE_FILES for s in json.loads(f.read_text())["scenes"]]
    out, chars, k = folder / f"scenes-{n}", 0, 0
    out.mkdir(parents=True, exist_ok=True)
    while chars < n:
        title, scene = scenes[k % len(scenes)]
        copy = k // len(scenes) + 1
        (out / f"{k:05d}.json").write_text(json.dumps({"title": f"{title} (copy {copy})", "scenes": [scene]}, ensure_ascii=False))
        chars += len(scene["characters"])
        k += 1
    return out


def llm_config(scenario: Path, url: str, concurrency: int) -> dict:
    """The scenario's `llm` with every role (subject and pinned instruments) on the endpoint."""
    from simkit.config import read_yaml

    llm = dict(read_yaml(scenario).get("llm") or {})
    endpoint = {"backend": "openai", "model": "bench", "base_url": url}
    llm.pop("n_ctx", None)  # the embedded model's context size: not an openai setting
    llm.update(endpoint, max_concurrency=concurrency, cache="off", timeout=120)
    llm["roles"] = {role: {**{k: v for k, v in (spec or {}).items() if k != "n_ctx"}, **endpoint}
                    for role, spec in (llm.get("roles") or {}).items()}
    return llm


def one(args: argparse.Namespace) -> None:
    """Child: run one plugin at one size, print a JSON line of what it cost."""
    import asyncio

    plugin, n, folder = args.one, args.agents_n, Path(args.folder)
    scenario = ROOT / "scenarios" / f"{plugin}.yaml"
    os.environ.setdefault("OPENAI_API_KEY", "bench")
    llm = llm_config(scenario, args.url, args.concurrency)
    db = folder / f"{plugin}-{n}.db"
    population = str(ROOT / "personas" / "population.jsonl")
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if plugin == "characterbox":
        from simkit.engine.runner import Simulation, load_scenario

        scenes = scene_folder(n, folder)
        sets = [f"characterbox.scenes={scenes}", "characterbox.scene_ids=[]", f"population.personas={population}"]
        config, plugin_cfg = load_scenario(scenario, sets, {"llm": llm, "output": {"db": str(db)}})
        asyncio.run(Simulation(config, plugin_cfg, db, source=scenario).run())
        how = f"1 run, {len(list(scenes.glob('*.json')))} scenes"
    else:
        import simkit

        if plugin == "personaarena":
            grid, seeds = {}, math.ceil(n / PA_AGENTS_PER_EPISODE)
        else:
            from simkit.plugins.cdi.scenario import load_scenarios

            ids = list(load_scenarios())
            grid, seeds = {"cdi.scenario": ids}, max(1, round(n / 2 / len(ids)))
        runs = simkit.sweep(scenario, grid, seeds=seeds, llm=llm, out=db, sets=[f"population.personas={population}"])
        how = f"a serial sweep of {len(runs)} run{'s' * (len(runs) != 1)}" + (f" ({len(grid['cdi.scenario'])} scenarios x {seeds} seeds)" if grid else " (seeds)")
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"db": str(db), "wall": wall, "cpu": cpu, "rss_mib": rss, "how": how}))


def usage(db: Path, plugin: str) -> dict:
    """Agents, runs, ticks, calls, tokens and agent-steps read from the run database."""
    kinds = AGENT_KINDS[plugin]
    marks = ",".join("?" * len(kinds))
    with contextlib.closing(sqlite3.connect(db)) as conn:
        agents = conn.execute(f"select count(*) from agents where kind in ({marks})", kinds).fetchone()[0]
        runs = conn.execute("select count(*) from runs").fetchone()[0]
        ticks = conn.execute("select count(*) from ticks").fetchone()[0]
        calls, tin, tout = conn.execute("select count(*), sum(tokens_in), sum(tokens_out) from llm_calls").fetchone()
        steps = conn.execute(
            f"""select count(*) from (select distinct c.run_id, c.tick, c.agent_id from llm_calls c join agents a
                on a.run_id = c.run_id and a.agent_id = c.agent_id where a.kind in ({marks}))""", kinds).fetchone()[0]
        by_role = conn.execute(
            f"""select coalesce(a.kind, case when c.agent_id like 'judge%' then 'judge' else c.agent_id end), count(*)
                from llm_calls c left join agents a on a.run_id = c.run_id and a.agent_id = c.agent_id
                group by 1 order by 2 desc""").fetchall()
    return {"agents": agents, "runs": runs, "ticks": ticks, "calls": calls, "tin": tin or 0, "tout": tout or 0,
            "steps": steps, "by_role": by_role}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugins", default="characterbox,personaarena,cdi")
    parser.add_argument("--agents", default=SIZES, help=f"one list for every plugin (100,1000), or per plugin (default: {SIZES})")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--agents-n", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--folder", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        return one(args)

    sizes = sizes_of(args.agents, args.plugins.split(","))
    price = GPT_4O_MINI
    print(" ".join(["$ python bench/plugin_scale.py", *sys.argv[1:]]))
    cpu_model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "?")
    print(f"{cpu_model}, {os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.1f} (the cores are shared)")
    print(f"one endpoint answering after {args.latency * 1000:.0f} ms (schema answers); concurrency {args.concurrency}; "
          f"cost at {price.name}'s list price (${price.input}/${price.output} per 1M in/out, no cached input); "
          "tokens as the stand-in counts them (characters / 4)")
    proc, url = start_server(args.latency)
    try:
        with tempfile.TemporaryDirectory(prefix="simkit-plugin-scale-") as tmp:
            for plugin, ns in sizes.items():
                print(f"\n{plugin}: {DEFINED[plugin]}")
                print(f"{'agents':>7s} {'runs':>5s} {'ticks':>5s} {'calls':>7s} {'calls/s':>7s} {'tok in':>11s} {'tok out':>9s}"
                      f" {'steps':>6s} {'in/step':>7s} {'out/step':>8s} {'$ all':>7s} {'wall s':>7s} {'in flight':>9s} {'CPU s':>6s} {'peak MiB':>8s}")
                notes = []
                for n in ns:
                    cmd = [sys.executable, __file__, "--one", plugin, "--agents-n", str(n), "--folder", tmp, "--url", url,
                           "--concurrency", str(args.concurrency)]
                    child = subprocess.run(cmd, capture_output=True, text=True)
                    if child.returncode:  # the children's warnings (fields the scene loader ignores) only on failure
                        sys.exit(f"{plugin} at {n} agents failed:\n{child.stderr[-3000:]}")
                    res = json.loads(child.stdout.strip().splitlines()[-1])
                    u = usage(Path(res["db"]), plugin)
                    cost = (u["tin"] * price.input + u["tout"] * price.output) / 1e6
                    steps = max(1, u["steps"])
                    print(f"{u['agents']:7d} {u['runs']:5d} {u['ticks']:5d} {u['calls']:7d} {u['calls'] / res['wall']:7.0f}"
                          f" {u['tin']:11,d} {u['tout']:9,d} {u['steps']:6d} {u['tin'] / steps:7.0f} {u['tout'] / steps:8.0f}"
                          f" {cost:7.3f} {res['wall']:7.1f} {u['calls'] * args.latency / res['wall']:9.1f} {res['cpu']:6.1f} {res['rss_mib']:8.0f}", flush=True)
                    share = ", ".join(f"{who} {k / u['calls']:.0%}" for who, k in u["by_role"][:5])
                    notes.append(f"  {u['agents']} agents: {res['how']}; calls by {share}")
                    Path(res["db"]).unlink()
                print("\n".join(notes))
    finally:
        proc.terminate()
        proc.wait()
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


def sizes_of(spec: str, plugins: list[str]) -> dict[str, list[int]]:
    """`100,1000` for every plugin, or `characterbox:100,300;cdi:100,1000` per plugin."""
    if ":" not in spec:
        return {p: [int(x) for x in spec.split(",")] for p in plugins}
    per = {k.strip(): [int(x) for x in v.split(",")] for k, v in (part.split(":", 1) for part in spec.split(";"))}
    return {p: per[p] for p in plugins if p in per}


if __name__ == "__main__":
    main()
