"""Align a bank of `Persona` records: filter to a subpopulation, align, report.

The persona-level face of `align.py` and `report.py`, called by `simkit personas align`
and usable from Python: `align_personas(load_personas(bank), load_reference(), n=60)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simkit.errors import UsageError
from simkit.personas import report as reporting
from simkit.personas.align import Alignment, align
from simkit.personas.model import TRAITS, Persona
from simkit.personas.reference import Reference
from simkit.personas.subpopulation import Constraint, select


def trait_matrix(personas: list[Persona], where: str = "bank") -> np.ndarray:
    """N x 5 scores; a persona without Big Five scores is an error that names it."""
    if not personas:
        raise UsageError(f"{where}: no personas to align")
    rows = []
    for p in personas:
        if p.big_five is None:
            raise UsageError(f"{where}: persona {p.id} has no big_five scores (measure them with "
                             "simkit personas generate, or drop the persona)")
        rows.append(p.big_five.as_tuple())
    return np.asarray(rows, dtype=float)


@dataclass
class AlignedPopulation:
    personas: list[Persona]
    alignment: Alignment
    report: reporting.AlignmentReport
    bank_size: int
    matched: int  # personas in the bank that satisfy the subpopulation constraints


def align_personas(
    personas: list[Persona],
    reference: Reference,
    n: int,
    *,
    constraints: list[Constraint] = (),
    method: str = "is+ot",
    seed: int = 0,
    plot: Path | None = None,
    where: str = "bank",
) -> AlignedPopulation:
    pool_personas = select(personas, list(constraints)) if constraints else list(personas)
    if constraints and not pool_personas:
        raise UsageError(f"{where}: no persona matches {' and '.join(map(str, constraints))}")
    if constraints and n > len(pool_personas):
        raise UsageError(f"--n {n}: only {len(pool_personas)} of {len(personas)} personas match "
                         f"{' and '.join(map(str, constraints))}")
    pool = trait_matrix(pool_personas, where)
    result = align(pool, reference, n, method=method, seed=seed)
    chosen_rows = pool[result.indices]
    rng = np.random.default_rng([seed, 1])
    rep = reporting.build_report({"pool (random n)": pool, "aligned": chosen_rows}, pool, reference, n, rng)
    if plot is not None:
        reporting.plot_histograms(plot, pool, chosen_rows, reference, rng)
    chosen = []
    for i in result.indices:
        p = pool_personas[i]
        note = {"reference": reference.label, "weight": round(float(result.weights[i]), 4),
                "inclusion": round(float(result.inclusion[i]), 4)}
        chosen.append(p.model_copy(update={"provenance": {**p.provenance, "alignment": note}}))
    return AlignedPopulation(chosen, result, rep, len(personas), len(pool_personas))


def trait_summary(personas: list[Persona]) -> dict[str, dict[str, float]]:
    """Mean, SD and quartiles per trait, over the personas that have scores."""
    x = np.asarray([p.big_five.as_tuple() for p in personas if p.big_five is not None], dtype=float)
    if len(x) == 0:
        return {}
    q = np.quantile(x, [0.25, 0.5, 0.75], axis=0)
    return {t: {"mean": float(x[:, k].mean()), "sd": float(x[:, k].std()), "p25": float(q[0, k]),
                "median": float(q[1, k]), "p75": float(q[2, k])} for k, t in enumerate(TRAITS)}
