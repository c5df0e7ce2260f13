"""Choose n distinct personas from a pool so their Big Five scores follow a reference.

Three steps, after Hu et al. (2025) "importance sampling, then optimal transport":

1. importance weights w_i ~ p(x_i)/q(x_i), estimated by a classifier that tells reference
   draws from pool members (logistic regression on quadratic features, in standardised
   units; log p/q = logit - log(M/N)). Kernel density ratios in 5-D under-correct in-sample
   and explode leave-one-out (measured on a prototype), so they are not used. Weights live in log
   space, are self-normalised, and clipped at mean * sqrt(N) (Ionides 2008).
2. inclusion probabilities pi_i = min(1, c * w_i) summing to n, drawn by systematic sampling:
   each persona enters at most once, with probability exactly pi_i. Saturated pi_i = 1 mark
   where the pool is too thin.
3. (method "is+ot", the default) optimal-transport refinement: from a pi-ps candidate set of
   about 3n, the assignment that matches n evenly spread reference points to distinct
   candidates at the least squared distance.

The chosen rows come in an order whose every prefix is itself aligned (the targets are a
quasi-random sequence; for "is" the order is random), so a scenario that takes the first k
personas of an aligned file still gets a spread-out population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats
from scipy.special import expit, logsumexp

from simkit.errors import UsageError
from simkit.personas.reference import Reference

METHODS = ("is", "is+ot")
CANDIDATE_FACTOR = 3


@dataclass
class Alignment:
    indices: np.ndarray  # rows of the pool chosen, distinct; every prefix is itself aligned
    weights: np.ndarray  # clipped importance weights, normalised to mean 1
    inclusion: np.ndarray  # pi_i, summing to n
    ess: float  # Kish effective sample size of the weights
    tail_k: float  # generalised-Pareto shape of the largest weights (> 0.7: unreliable)
    saturated: int  # personas with pi_i = 1 (the pool is thin around them)
    deficit: float  # sum of (c*w_i - 1)+: probability mass the pool could not supply
    method: str


def standardiser(reference_rows: np.ndarray):
    mean, sd = reference_rows.mean(axis=0), reference_rows.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return lambda x: (x - mean) / sd


def quadratic_features(z: np.ndarray) -> np.ndarray:
    i, j = np.triu_indices(z.shape[1])
    return np.column_stack([np.ones(len(z)), z, z[:, i] * z[:, j]])


def log_density_ratio(pool: np.ndarray, reference_rows: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """log p(x)/q(x) for each pool row, from a logistic classifier (reference = 1, pool = 0)."""
    z = standardiser(reference_rows)
    features = quadratic_features(np.vstack([z(reference_rows), z(pool)]))
    labels = np.concatenate([np.ones(len(reference_rows)), np.zeros(len(pool))])
    # balance the classes so neither dominates the fit; the prior ratio is added back below
    balance = np.where(labels == 1, 0.5 / len(reference_rows), 0.5 / len(pool))

    def loss(beta: np.ndarray) -> tuple[float, np.ndarray]:
        margin = features @ beta
        p = expit(margin)
        nll = np.sum(balance * (np.logaddexp(0, margin) - labels * margin)) + 0.5 * l2 * beta @ beta
        grad = features.T @ (balance * (p - labels)) + l2 * beta
        return nll, grad

    fit = optimize.minimize(loss, np.zeros(features.shape[1]), jac=True, method="L-BFGS-B")
    return features[len(reference_rows):] @ fit.x  # balanced classes: logit = log p/q


def normalised_weights(log_w: np.ndarray) -> np.ndarray:
    """Self-normalise in log space to mean 1, then clip at sqrt(N) (truncated IS)."""
    n = len(log_w)
    w = np.exp(log_w - logsumexp(log_w)) * n
    w = np.minimum(w, np.sqrt(n))
    return w / w.mean()


def effective_sample_size(w: np.ndarray) -> float:
    return float(w.sum() ** 2 / np.sum(w**2))


def tail_shape(w: np.ndarray) -> float:
    """Pareto-smoothed-IS diagnostic k: shape of a generalised Pareto fitted to the top 20%."""
    top = np.sort(w)[int(0.8 * len(w)):]
    excess = top - top[0]
    if len(top) < 10 or np.ptp(excess) <= 0:
        return 0.0
    shape, _, _ = stats.genpareto.fit(excess, floc=0)
    return float(shape)


def inclusion_probabilities(w: np.ndarray, n: int) -> tuple[np.ndarray, float]:
    """pi_i = min(1, c*w_i) with sum(pi) = n; returns (pi, c)."""
    w = np.maximum(w, 1e-300)
    lo, hi = 0.0, n / w.min() + 1.0
    for _ in range(200):
        c = 0.5 * (lo + hi)
        if np.minimum(1.0, c * w).sum() < n:
            lo = c
        else:
            hi = c
    pi = np.minimum(1.0, hi * w)
    for _ in range(20):  # remove the bisection's rounding so the draw has exactly n members
        free = pi < 1.0
        if not free.any() or abs(pi.sum() - n) < 1e-9:
            break
        pi[free] *= (n - (~free).sum()) / pi[free].sum()
        pi = np.minimum(pi, 1.0)
    return pi, hi


def systematic_draw(pi: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Distinct indices, each included with probability pi_i (pi_i <= 1, sum = n)."""
    order = rng.permutation(len(pi))
    edges = np.concatenate([[0.0], np.cumsum(pi[order])])
    n = int(round(edges[-1]))
    points = rng.uniform() + np.arange(n)
    slots = np.searchsorted(edges, points, side="right") - 1
    return np.sort(order[np.clip(slots, 0, len(pi) - 1)])


def transport_refine(pool: np.ndarray, candidates: np.ndarray, targets: np.ndarray, z) -> np.ndarray:
    """The distinct candidates an optimal assignment matches to the target points, in the
    targets' order."""
    zt, zc = z(targets), z(pool[candidates])
    cost = np.sum(zt**2, axis=1)[:, None] + np.sum(zc**2, axis=1)[None, :] - 2 * zt @ zc.T
    _, cols = optimize.linear_sum_assignment(cost)
    return candidates[cols]  # in target order: prefixes of the set follow prefixes of the targets


def align(
    pool: np.ndarray,
    reference: Reference,
    n: int,
    *,
    method: str = "is+ot",
    seed: int = 0,
) -> Alignment:
    """Pick n distinct rows of `pool` (N x 5 scores) that follow `reference`."""
    pool = np.asarray(pool, dtype=float)
    if method not in METHODS:
        raise UsageError(f"alignment method {method!r}: choose one of {', '.join(METHODS)}")
    if pool.ndim != 2 or pool.shape[1] != 5 or len(pool) == 0:
        raise UsageError("the persona pool is empty: nothing to align")
    if not np.all(np.isfinite(pool)):
        raise UsageError("the persona pool has missing or non-numeric trait scores")
    if n < 1:
        raise UsageError(f"--n must be at least 1, got {n}")
    if n > len(pool):
        raise UsageError(f"--n {n} is larger than the pool ({len(pool)} personas); choose n <= {len(pool)}")
    rng = np.random.default_rng(seed)
    ref_rows = reference.sample(max(20_000, len(pool)), rng)
    weights = normalised_weights(log_density_ratio(pool, ref_rows))
    pi, c = inclusion_probabilities(weights, n)
    raw = c * weights
    chosen = rng.permutation(systematic_draw(pi, rng))  # any prefix is a random subset
    if method == "is+ot" and n < len(pool):
        k = min(len(pool), CANDIDATE_FACTOR * n)
        candidates = systematic_draw(inclusion_probabilities(weights, k)[0], rng)
        chosen = transport_refine(pool, candidates, reference.spread(n, rng), standardiser(ref_rows))
    return Alignment(
        indices=chosen,
        weights=weights,
        inclusion=pi,
        ess=effective_sample_size(weights),
        tail_k=tail_shape(weights),
        saturated=int(np.sum(pi >= 1.0)),
        deficit=float(np.sum(np.maximum(raw - 1.0, 0.0))),
        method=method,
    )
