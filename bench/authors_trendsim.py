"""TrendSim side by side: the authors' code and simkit, PA-30, against one stand-in model
answering after a fixed latency, runs alternated in one sitting.

The authors' code is public (github.com/nuster1128/TrendSim, measured at d696c58). It is not
part of simkit: check it out anywhere outside the repository and give its path, with a
Python that has what it imports (numpy, scipy, openai 0.28, requests, zhipuai, sniffio):

    git clone https://github.com/nuster1128/TrendSim /tmp/authors_trendsim
    python -m venv /tmp/authors_venv && /tmp/authors_venv/bin/pip install numpy==1.24.1 \\
        scipy==1.11.4 openai==0.28.1 requests==2.31.0 zhipuai sniffio
    python bench/authors_trendsim.py --authors /tmp/authors_trendsim --python /tmp/authors_venv/bin/python

How the authors' run is configured (their `code/Config.py` as shipped, nothing else changed):
- model `glm-3-turbo`, so their `ZhipuLLM` client (the `zhipuai` SDK) makes every call, one
  at a time; `ZHIPUAI_BASE_URL` points it at the stand-in (`bench/latency_server.py
  --schema-answers --text-answer 0`), which answers their free-text prompts with "0": the
  first option of every menu (Enter, then Like), and 0 wherever they read a number
  (emotion, social confidence, the censor's verdict, a comment index). No parse fails.
- PA-30 is their `degree: medium`, `baseline: full`: (normal, antisocial, trolling, rumor) =
  (700, 100, 100, 100), always 1,000 agents. For another population the driver scales that
  tuple in their `utils.DATA_AND_BASELINE_CODE` (100 agents: 70, 10, 10, 10); normal users
  are the first rows of their `data/user_1000.csv`.
- Lifecycle 06:00-22:00 (16 h), `epoch_num` 2 (users visit in the first 4 h; attackers
  every 4 h), at most 4 actions a visit (`max_step` 3), topic `tweet_index` 1, LLM
  censorship of every comment from the start (`split_time` 0.0): all their defaults.
- Unseeded, as shipped (their visit times are drawn with `random`), so calls vary run to run.

simkit runs `scenarios/trendsim_pa30.yaml` with the same population (the shipped personas
under new ids), fused cognition, once in the scenario's default (sequential) order and once
`mode=synchronous`, through `bench/scale_bench.py`'s child (`--one`), against the same
endpoint (its structured requests get schema answers).

An agent-step is one page of a normal user's visit (one action decided) on both sides;
"user calls / step" counts the normal users' calls only, the rest ("instrument calls") are
the attackers' comments and the censor's verdicts. "ms/step" is wall time per agent-step:
the fairer ratio when the two sides' users take different numbers of steps. CPU s is the
process's own CPU time (the endpoint's is not counted). The authors' code at `--big` agents runs only if its
projection from the smaller population (wall x big / agents) is under `--limit` seconds;
otherwise the projection is printed, marked as such.

    python bench/authors_trendsim.py --authors PATH --python PY [--agents 100] [--big 1000]
        [--repeat 2] [--latency 0.05] [--concurrency 64] [--limit 720]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scale_bench import start_server  # noqa: E402
from bench.trendsim_bench import USER_PURPOSES, calls  # noqa: E402

# Runs inside the authors' checkout (cwd = code/), with their Python: builds and runs their
# Simulator as their run.py does, and writes what it cost as JSON.
DRIVER = r"""
import json, sys, time
n, record, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
sys.path.insert(0, '.')
import utils
from Config import CONFIG
assert (CONFIG['simulation_config']['degree'], CONFIG['simulation_config']['baseline']) == ('medium', 'full')
if n != 1000:
    k = n // 10
    utils.DATA_AND_BASELINE_CODE['medium']['full'] = (n - 3 * k, k, k, k)
CONFIG['LLM_config']['API_KEY'] = 'bench.bench'
CONFIG['data_path']['record'] = record
from LLM import create_LLM
from Recorder import Recorder
from Simulator import Simulator
cpu0, wall0 = time.process_time(), time.perf_counter()
recorder = Recorder(CONFIG)
llm = create_LLM(CONFIG)
sim = Simulator(CONFIG, llm, recorder, utils.CheckPoint(CONFIG, wall0))
sim.run()
wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
visits = recorder.main_info
actions = lambda kind: [s['action'] for v in visits if (v['user_info']['type'] == 'normal') == (kind == 'normal') for s in v['trajectory']]
normal, attack = actions('normal'), actions('attacker')
json.dump({'wall': wall, 'cpu': cpu, 'calls': llm.call_time, 'agents': len(sim.agents),
           'mix': list(utils.DATA_AND_BASELINE_CODE['medium']['full']), 'steps': len(normal),
           'visits': sum(v['user_info']['type'] == 'normal' for v in visits),
           'attacker_comments': attack.count('Comment'), 'comments': normal.count('Comment') + attack.count('Comment'),
           'censored': CONFIG['intervention']['comment_poisoning_detect']['type'] == 'LLM'}, open(out, 'w'))
"""


def authors(n: int, args: argparse.Namespace, url: str, folder: Path) -> dict:
    out, log = folder / f"authors-{n}.json", folder / f"authors-{n}.log"
    env = dict(os.environ, ZHIPUAI_BASE_URL=url)
    with log.open("w") as fh:
        subprocess.run([args.python, "-c", DRIVER, str(n), str(folder / "record.json"), str(out)],
                       cwd=Path(args.authors) / "code", env=env, stdout=fh, stderr=subprocess.STDOUT, check=True)
    res = json.loads(out.read_text())
    failed = sum("LLM inference fails" in line for line in log.read_text().splitlines())
    if failed:
        raise SystemExit(f"the authors' run had {failed} failed LLM calls (see {log})")
    instruments = res["attacker_comments"] + (res["comments"] if res["censored"] else 0)
    return {"who": "authors", "mode": "their loop", "wall": res["wall"], "cpu": res["cpu"], "calls": res["calls"],
            "user_calls": res["calls"] - instruments, "steps": res["steps"], "agents": res["agents"]}


def simkit(n: int, mode: str, args: argparse.Namespace, url: str, folder: Path) -> dict:
    cmd = [sys.executable, str(ROOT / "bench" / "scale_bench.py"), "--one", str(n), "--folder", str(folder), "--urls", url,
           "--concurrency", str(args.concurrency), "--share", "0.3", "--mode", mode]
    res = json.loads(subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1])
    conn = sqlite3.connect(res["db"])
    total = conn.execute("select count(*) from llm_calls").fetchone()[0]
    users = calls(conn, USER_PURPOSES)[0]
    steps = conn.execute("select value from metrics where name = 'cost.agent_steps' and tick = -1").fetchone()[0]
    agents = conn.execute("select count(*) from agents").fetchone()[0]
    conn.close()
    Path(res["db"]).unlink()
    label = "default (sequential)" if mode == "plugin" else f"synchronous, c={args.concurrency}"
    return {"who": "simkit", "mode": label, "wall": res["wall"], "cpu": res["cpu"], "calls": total, "user_calls": users,
            "steps": int(steps), "agents": agents}


def show(row: dict, projected: bool = False) -> None:
    steps = max(1, row["steps"])
    mark = " (projected)" if projected else ""
    print(f"{row['who']:8s} {row['mode']:22s} {row['agents']:6d} {row['wall']:8.1f} {row['calls']:7d} {row['user_calls']:6d}"
          f" {row['calls'] - row['user_calls']:6d} {row['steps']:6d} {row['user_calls'] / steps:6.2f}"
          f" {1000 * row['wall'] / steps:7.0f} {row['cpu']:6.1f} {1000 * row['cpu'] / max(1, row['calls']):7.2f}"
          f" {os.getloadavg()[0]:5.1f}{mark}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--authors", required=True, help="checkout of github.com/nuster1128/TrendSim (has code/run.py)")
    parser.add_argument("--python", default=sys.executable, help="a Python with the authors' requirements")
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--big", type=int, default=1000, help="the larger population (0: skip)")
    parser.add_argument("--repeat", type=int, default=2, help="alternations at --agents (authors, simkit, authors, ...)")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--limit", type=float, default=720, help="run the authors' code at --big only if projected under this")
    args = parser.parse_args()
    if not (Path(args.authors) / "code" / "Simulator.py").is_file():
        parser.error(f"--authors {args.authors}: not a checkout of the authors' TrendSim (no code/Simulator.py)")

    print("$ python bench/authors_trendsim.py " + " ".join(a for a in sys.argv[1:]))
    cpu_model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "?")
    print(f"{cpu_model}, {os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.1f} (the cores are shared)")
    print(f"TrendSim PA-30, one endpoint answering after {args.latency * 1000:.0f} ms (schema answers; free text: '0')")
    print(f"{'code':8s} {'mode':22s} {'agents':>6s} {'wall s':>8s} {'calls':>7s} {'user':>6s} {'instr':>6s} {'steps':>6s}"
          f" {'u/step':>6s} {'ms/step':>7s} {'CPU s':>6s} {'CPU ms/call':>7s} {'load':>5s}")
    server, url = start_server(args.latency, "--text-answer", "0")
    rows: list[dict] = []
    try:
        with tempfile.TemporaryDirectory(prefix="simkit-authors-") as tmp:
            folder = Path(tmp)
            for _ in range(args.repeat):
                for run in (lambda: authors(args.agents, args, url, folder),
                            lambda: simkit(args.agents, "plugin", args, url, folder),
                            lambda: simkit(args.agents, "synchronous", args, url, folder)):
                    rows.append(run())
                    show(rows[-1])
            if args.big:
                rows.append(simkit(args.big, "synchronous", args, url, folder))
                show(rows[-1])
                small = [r for r in rows if r["who"] == "authors"]
                scale = args.big / args.agents
                guess = {k: (sum(r[k] for r in small) / len(small)) * scale for k in ("wall", "cpu", "calls", "user_calls", "steps")}
                guess = dict(guess, who="authors", mode="their loop", agents=args.big,
                             **{k: int(guess[k]) for k in ("calls", "user_calls", "steps")})
                if guess["wall"] < args.limit:
                    rows.append(authors(args.big, args, url, folder))
                    show(rows[-1])
                else:
                    show(guess, projected=True)
                    rows.append(dict(guess, projected=True))
    finally:
        server.terminate()
        server.wait()
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print("\nthe authors' code / simkit, means over the alternated runs: wall time of the run, and per agent-step")
    mean = lambda rs, f: sum(f(r) for r in rs) / len(rs)  # noqa: E731
    for n in sorted({r["agents"] for r in rows}):
        mine = [r for r in rows if r["agents"] == n]
        theirs = [r for r in mine if r["who"] == "authors"]
        for mode in dict.fromkeys(r["mode"] for r in mine if r["who"] == "simkit"):
            ours = [r for r in mine if r["mode"] == mode]
            if theirs and ours:
                tag = " (authors' projected)" if any(r.get("projected") for r in mine) else ""
                run = mean(theirs, lambda r: r["wall"]) / mean(ours, lambda r: r["wall"])
                step = mean(theirs, lambda r: r["wall"] / r["steps"]) / mean(ours, lambda r: r["wall"] / r["steps"])
                print(f"  {n:6d} agents, simkit {mode:22s} run {run:5.1f}x   per step {step:5.1f}x{tag}")


if __name__ == "__main__":
    main()
