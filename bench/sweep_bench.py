"""Wall time of one sweep run serially, with `--jobs 2` (worker processes) and on Ray local
(`--executor ray --jobs 2`), as ratios to serial, measured in one session.

Two backends: the scripted one (CPU-bound: the engine and SQLite are the work) and the
`openai` backend against the fault server answering after a fixed latency (I/O-bound: the
points mostly wait). The grid is 2 attack shares x 2 cognition modes of TrendSim.

    python bench/sweep_bench.py [--size 20] [--latency 0.1] [--modes serial,jobs2,ray]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.concurrency import start_server  # noqa: E402

MODES = {"serial": [], "jobs2": ["--jobs", "2"], "ray": ["--executor", "ray", "--jobs", "2"]}


def sweep(out: Path, backend: list[str], size: int, mode: str) -> float:
    args = [sys.executable, "-m", "simkit.cli", "sweep", str(ROOT / "scenarios" / "trendsim.yaml"), "--quiet",
            "--out", str(out), "--set", f"population.size={size}", "--set", "trendsim.attack.share=0,0.3",
            "--set", "trendsim.cognition=faithful,fused", *backend, *MODES[mode]]
    started = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--modes", default="serial,jobs2,ray")
    args = parser.parse_args()
    modes = args.modes.split(",")
    print("$ python bench/sweep_bench.py " + " ".join(sys.argv[1:]))
    with open("/proc/loadavg") as fh:
        print(f"load average at start: {fh.read().split()[0]} ({os.cpu_count()} cores); 4 grid points, {args.size} users each")
    proc, url = start_server(args.latency)
    backends = {
        "scripted": ["--llm", "scripted"],
        f"latency {args.latency * 1000:.0f} ms": ["--llm", "openai:bench-model", "--set", f"llm.base_url={url}",
                                                  "--set", "llm.max_concurrency=8", "--set", "llm.cache='off'"],
    }
    tmp = Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    try:
        print(f"{'backend':<16}" + "".join(f"{m + ' s':>10}" for m in modes) + "".join(f"{m + ' x':>10}" for m in modes if m != "serial"))
        for name, backend in backends.items():
            walls = {m: sweep(tmp / f"{name[:3]}-{m}.db", backend, args.size, m) for m in modes}
            base = walls.get("serial")
            ratios = "".join(f"{base / walls[m]:>10.2f}" for m in modes if m != "serial") if base else ""
            print(f"{name:<16}" + "".join(f"{walls[m]:>10.1f}" for m in modes) + ratios)
    finally:
        proc.terminate()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
