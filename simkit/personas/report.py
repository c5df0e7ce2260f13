"""How close a persona set's Big Five scores are to a reference, against the noise floor.

Every distance is between n scores and n reference draws, averaged over a few fresh draws,
so a set that *were* a reference sample would score 1.0 x the floor: the floor is the same
metric between two independent reference samples of size n. The "before" column is a
uniform random draw of n from the pool, the baseline alignment has to beat.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from rich.table import Table
from scipy import stats
from scipy.spatial.distance import cdist

from simkit.personas.model import TRAITS
from simkit.personas.reference import Reference

TRAIT_NAMES = {"O": "Openness", "C": "Conscientiousness", "E": "Extraversion", "A": "Agreeableness", "N": "Neuroticism"}


@dataclass
class Distances:
    w1: np.ndarray  # per-trait Wasserstein-1, in scale points
    ks: np.ndarray  # per-trait Kolmogorov-Smirnov statistic
    energy: float  # 5-D energy distance (V-statistic, squared form)
    corr_error: float  # Frobenius norm of the correlation-matrix difference

    def as_dict(self) -> dict:
        out = {f"W1 {t}": float(v) for t, v in zip(TRAITS, self.w1)}
        out.update({f"KS {t}": float(v) for t, v in zip(TRAITS, self.ks)})
        out.update({"energy": self.energy, "corr error": self.corr_error})
        return out


def distances(x: np.ndarray, y: np.ndarray) -> Distances:
    w1 = np.array([stats.wasserstein_distance(x[:, k], y[:, k]) for k in range(5)])
    ks = np.array([stats.ks_2samp(x[:, k], y[:, k], method="asymp").statistic for k in range(5)])
    energy = 2 * cdist(x, y).mean() - cdist(x, x).mean() - cdist(y, y).mean()
    corr_error = float(np.linalg.norm(_corr(x) - _corr(y)))
    return Distances(w1, ks, float(energy), corr_error)


def _corr(x: np.ndarray) -> np.ndarray:
    sd = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    return (z.T @ z) / len(x)


def _mean(ds: list[Distances]) -> Distances:
    return Distances(
        np.mean([d.w1 for d in ds], axis=0), np.mean([d.ks for d in ds], axis=0),
        float(np.mean([d.energy for d in ds])), float(np.mean([d.corr_error for d in ds])),
    )


def expected_distances(rows: np.ndarray | None, reference: Reference, n: int, rng: np.random.Generator,
                       reps: int = 5) -> Distances:
    """Mean distance between n of `rows` (a fresh random n each time if there are more)
    and n reference draws; `rows=None` gives the noise floor (reference vs reference)."""
    out = []
    for _ in range(reps):
        if rows is None:
            x = reference.sample(n, rng)
        elif len(rows) > n:
            x = rows[rng.choice(len(rows), size=n, replace=False)]
        else:
            x = rows
        out.append(distances(x, reference.sample(n, rng)))
    return _mean(out)


@dataclass
class Region:
    description: str
    reference_share: float
    pool_count: int
    needed: float  # members an aligned set of size n should have in the region


@dataclass
class AlignmentReport:
    n: int
    floor: Distances
    columns: dict[str, Distances]  # "pool (random n)", "aligned", ...
    uncovered: list[Region] = field(default_factory=list)

    def table(self, title: str = "distance to the reference (lower is better)") -> Table:
        table = Table(title=title)
        table.add_column("metric")
        table.add_column(f"floor (n={self.n})", justify="right")
        for name in self.columns:
            table.add_column(name, justify="right")
            table.add_column("x floor", justify="right")
        floor = self.floor.as_dict()
        values = {name: d.as_dict() for name, d in self.columns.items()}
        for metric, f in floor.items():
            cells = [metric, f"{f:.3f}"]
            for name in self.columns:
                v = values[name][metric]
                cells += [f"{v:.3f}", f"{v / f:.1f}" if f > 0 else "-"]
            table.add_row(*cells)
        return table

    def as_dict(self) -> dict:
        return {
            "n": self.n,
            "floor": self.floor.as_dict(),
            **{name: d.as_dict() for name, d in self.columns.items()},
            "uncovered": [r.__dict__ for r in self.uncovered],
        }


MAX_COMPARE = 2000  # pairwise distances for the energy statistic grow as n^2


def build_report(sets: dict[str, np.ndarray], pool: np.ndarray, reference: Reference, n: int,
                 rng: np.random.Generator) -> AlignmentReport:
    """Distances of each set to the reference at size n (capped at MAX_COMPARE), against the
    floor at the same size; more repetitions for small n, where single draws are noisy."""
    size = min(n, MAX_COMPARE)
    reps = int(np.clip(20_000 // size, 10, 50))
    return AlignmentReport(
        n=size,
        floor=expected_distances(None, reference, size, rng, reps),
        columns={name: expected_distances(rows, reference, size, rng, reps) for name, rows in sets.items()},
        uncovered=uncovered_regions(pool, reference, n, rng),
    )


def uncovered_regions(pool: np.ndarray, reference: Reference, n: int, rng: np.random.Generator,
                      limit: int = 5) -> list[Region]:
    """Regions of trait space where the pool holds clearly fewer personas (by more than two
    Poisson SDs) than a reference sample of n would: each trait's bottom and top 10% of
    people, and the four quarter-corners of each pair of traits. Worst first."""
    ref = reference.sample(50_000, rng)
    regions: list[tuple[str, np.ndarray, np.ndarray]] = []
    lo10, hi90 = np.quantile(ref, 0.1, axis=0), np.quantile(ref, 0.9, axis=0)
    lo25, hi75 = np.quantile(ref, 0.25, axis=0), np.quantile(ref, 0.75, axis=0)
    for k, t in enumerate(TRAITS):
        regions.append((f"low {t} ({t} <= {lo10[k]:.1f})", ref[:, k] <= lo10[k], pool[:, k] <= lo10[k]))
        regions.append((f"high {t} ({t} >= {hi90[k]:.1f})", ref[:, k] >= hi90[k], pool[:, k] >= hi90[k]))
    for a in range(5):
        for b in range(a + 1, 5):
            for sa, qa in (("low", lo25), ("high", hi75)):
                for sb, qb in (("low", lo25), ("high", hi75)):
                    ta, tb = TRAITS[a], TRAITS[b]
                    regions.append((
                        f"{sa} {ta} and {sb} {tb} ({ta} {'<=' if sa == 'low' else '>='} {qa[a]:.1f}, "
                        f"{tb} {'<=' if sb == 'low' else '>='} {qb[b]:.1f})",
                        _side(ref, a, sa, qa) & _side(ref, b, sb, qb),
                        _side(pool, a, sa, qa) & _side(pool, b, sb, qb),
                    ))
    found = []
    for description, in_ref, in_pool in regions:
        share = float(in_ref.mean())
        needed = share * n
        count = int(in_pool.sum())
        if count < needed - 2 * np.sqrt(needed):  # short by more than chance would explain
            found.append(Region(description, share, count, needed))
    found.sort(key=lambda r: r.pool_count / r.needed)
    return found[:limit]


def _side(x: np.ndarray, k: int, side: str, q: np.ndarray) -> np.ndarray:
    return x[:, k] <= q[k] if side == "low" else x[:, k] >= q[k]


def plot_histograms(path, pool: np.ndarray, aligned: np.ndarray, reference: Reference,
                    rng: np.random.Generator) -> None:
    """One PNG, five panels: trait histograms of the pool, the aligned set and the reference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ref = reference.sample(20_000, rng)
    bins = np.arange(0.95, 5.2, 0.2)  # two 0.1-grid points per bin, 5.0 included
    fig, axes = plt.subplots(1, 5, figsize=(17, 3.4), sharey=True)
    for k, (t, ax) in enumerate(zip(TRAITS, axes)):
        ax.hist(ref[:, k], bins=bins, density=True, color="0.75", label=reference.label)
        ax.hist(pool[:, k], bins=bins, density=True, histtype="step", lw=1.8, color="tab:orange",
                label=f"pool (N={len(pool)})")
        ax.hist(aligned[:, k], bins=bins, density=True, histtype="step", lw=1.8, color="tab:blue",
                label=f"aligned (n={len(aligned)})")
        ax.set_title(TRAIT_NAMES[t])
        ax.set_xlim(0.95, 5.15)
    axes[0].set_ylabel("density")
    axes[0].legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
