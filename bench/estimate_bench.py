"""`--estimate` against the real count: for each shipped scenario on the scripted backend,
the estimated calls and tokens, the run's actual ones, the relative error, and the wall time
of the estimate against the run's. TrendSim also at populations larger than the dry run's
50 agents (the counts are then scaled), which is where an estimate can be wrong.

    python bench/estimate_bench.py [--sizes 150,250]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import simkit  # noqa: E402

SHIPPED = ["trendsim", "trendsim_pa10", "trendsim_pa30", "trendsim_pa50", "characterbox", "cdi", "personaarena"]


def err(est: float, real: float) -> str:
    return f"{(est - real) / real * 100:+.1f}%" if real else "n/a"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="150,250", help="TrendSim populations above the dry run's 50")
    args = ap.parse_args()
    os.chdir(ROOT)
    cases = [(name, {}) for name in SHIPPED]
    cases += [("trendsim", {"population.size": int(n)}) for n in args.sizes.split(",") if n]
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores); scripted backend")
    print(f"{'scenario':<22}{'calls est/real':>16}{'err':>8}{'tok in err':>12}{'tok out err':>13}{'est s':>8}{'run s':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, sets) in enumerate(cases):
            db = Path(tmp) / f"{i}.db"
            path = f"scenarios/{name}.yaml"
            t0 = time.perf_counter()
            est = simkit.estimate(path, llm="scripted", out=db, sets=sets)
            t1 = time.perf_counter()
            info = simkit.run(path, llm="scripted", out=db, sets=sets).info
            t2 = time.perf_counter()
            label = name + (f" n={sets['population.size']}" if sets else "")
            calls, real = est.total("calls"), info["llm_calls"]
            pair = f"{calls}/{real}"
            print(f"{label:<22}{pair:>16}{err(calls, info['llm_calls']):>8}"
                  f"{err(est.total('tokens_in'), info['tokens_in']):>12}{err(est.total('tokens_out'), info['tokens_out']):>13}"
                  f"{t1 - t0:>8.1f}{t2 - t1:>8.1f}")


if __name__ == "__main__":
    main()
