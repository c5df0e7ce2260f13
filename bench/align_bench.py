"""Align a 100,000-persona pool to 1,000 against the shipped IPIP-50 reference.

Goal: under 10 s. Prints wall time and peak traced memory of `align()`, then the distances
of the aligned set and of a uniform random draw of the same size, each divided by the
noise floor (two reference samples of that size). The pool is synthetic and biased the way
LLM persona sets are: too extraverted, too stable, compressed toward the middle.

    python bench/align_bench.py [--pool 100000] [--n 1000] [--seed 0]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import tracemalloc

import numpy as np

from simkit.personas import report
from simkit.personas.align import align
from simkit.personas.model import TRAITS
from simkit.personas.reference import load_reference


def biased_pool(reference, size: int, rng: np.random.Generator) -> np.ndarray:
    """Scores from a normal with shifted means (E +0.35, N -0.35) and SDs x 0.8, on the 0.1 grid."""
    llm_like = dataclasses.replace(reference, mean=reference.mean + np.array([0.1, 0.1, 0.35, 0.1, -0.35]),
                                   sd=reference.sd * 0.8, model="mvn")
    return llm_like.sample(size, rng)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=100_000)
    parser.add_argument("--n", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reps", type=int, default=20, help="reference draws averaged per distance")
    args = parser.parse_args()

    reference = load_reference()
    rng = np.random.default_rng(args.seed)
    pool = biased_pool(reference, args.pool, rng)

    rows = []
    for method in ("is", "is+ot"):
        tracemalloc.start()
        started = time.perf_counter()
        result = align(pool, reference, args.n, method=method, seed=args.seed)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        rows.append((method, seconds, peak, result))

    print(f"$ {' '.join([sys.executable.rsplit('/', 1)[-1], *sys.argv])}")
    print(f"pool {args.pool:,} -> n {args.n:,}, reference {reference.label}\n")
    print(f"{'method':<8}{'seconds':>9}{'peak MiB':>10}{'ESS':>9}{'saturated':>11}{'distinct':>10}")
    for method, seconds, peak, result in rows:
        print(f"{method:<8}{seconds:>9.2f}{peak:>10.0f}{result.ess:>9.0f}{result.saturated:>11}"
              f"{len(np.unique(result.indices)):>10}")

    measure = np.random.default_rng(args.seed + 1)
    floor = report.expected_distances(None, reference, args.n, measure, args.reps)
    columns = {"random draw": report.expected_distances(pool, reference, args.n, measure, args.reps)}
    for method, _, _, result in rows:
        columns[method] = report.expected_distances(pool[result.indices], reference, args.n, measure, args.reps)
    print(f"\ndistance / noise floor (floor = two reference samples of {args.n})")
    print(f"{'metric':<12}{'floor':>8}" + "".join(f"{name:>14}" for name in columns))
    values = {name: d.as_dict() for name, d in columns.items()}
    for metric, f in floor.as_dict().items():
        print(f"{metric:<12}{f:>8.3f}" + "".join(f"{values[name][metric] / f:>14.2f}" for name in columns))
    w1 = {name: float(np.mean(d.w1 / floor.w1)) for name, d in columns.items()}
    print("\nmean per-trait W1 / floor: " + ", ".join(f"{k} {v:.2f}" for k, v in w1.items()))
    print(f"traits: {', '.join(TRAITS)}")


if __name__ == "__main__":
    main()
