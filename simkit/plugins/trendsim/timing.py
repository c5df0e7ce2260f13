"""When users and attackers visit: the rise-peak-decay kernel and the two time modes.

The kernel (TrendSim, App. A) is, on t in [0, span],

    f(t) = exp(A (t - T_m))                                  0 <= t < T_m
    f(t) = -alpha A (t - T_m - 1/(2 alpha))^2 + 1 + A/(4 alpha)   T_m <= t < T_m + 1/alpha
    f(t) = (t - T_m - 1/alpha + 1)^(-A)                        t >= T_m + 1/alpha

with A = 0.5 + topic likes / N + the user's emotion, so a liked topic and a cheerful user
give a sharper peak. It is continuous with a continuous slope at both joins, and peaks at
T_m + 1/(2 alpha). Its integral has a closed form, so the CDF is exact on a fine grid and
visit times are drawn by inverting it (the authors' code integrates numerically on 101 points).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from simkit.plugins.trendsim.config import KernelConfig

GRID_POINTS = 1001  # the CDF is exact at these points; a draw is off by < span/1000


def breaking_degree(topic_likes: int, n_agents: int, emotion: float) -> float:
    """A = 0.5 + likes / N + emotion (recomputed at every draw, as in the authors' code)."""
    return 0.5 + topic_likes / max(1, n_agents) + emotion


def density(t, A: float, k: KernelConfig) -> np.ndarray:
    """The unnormalised kernel f(t; A, T_m, alpha)."""
    t = np.asarray(t, dtype=float)
    tm, a = k.t_peak, k.alpha
    rise = np.exp(A * np.minimum(t - tm, 0.0))
    peak = -a * A * (t - tm - 1 / (2 * a)) ** 2 + 1 + A / (4 * a)
    decay = np.maximum(t - tm - 1 / a + 1, 1.0) ** (-A)
    return np.where(t < tm, rise, np.where(t < tm + 1 / a, peak, decay))


def cumulative(t, A: float, k: KernelConfig) -> np.ndarray:
    """The exact integral of f from 0 to t."""
    t = np.asarray(t, dtype=float)
    tm, a = k.t_peak, k.alpha
    t1 = np.minimum(t, tm)
    rise = (np.exp(A * (t1 - tm)) - np.exp(-A * tm)) / A
    u = np.clip(t - tm, 0.0, 1 / a)  # time spent in the peak piece
    h = 1 / (2 * a)
    peak = (1 + A / (4 * a)) * u - a * A / 3 * ((u - h) ** 3 + h**3)
    s = np.maximum(t - tm - 1 / a, 0.0)  # time spent in the decay piece
    decay = np.log1p(s) if abs(1 - A) < 1e-9 else ((1 + s) ** (1 - A) - 1) / (1 - A)
    return rise + peak + decay


@functools.lru_cache(maxsize=4096)
def _cdf_grid(A: float, t_peak: float, alpha: float, span: float) -> tuple[np.ndarray, np.ndarray]:
    grid = np.linspace(0.0, span, GRID_POINTS)
    return grid, cumulative(grid, A, KernelConfig(t_peak=t_peak, alpha=alpha, span=span))


def sample(rng: np.random.Generator, A: float, k: KernelConfig) -> float:
    """One draw from the normalised kernel on [0, span], by inverse CDF."""
    grid, cdf = _cdf_grid(A, k.t_peak, k.alpha, k.span)
    return float(np.interp(rng.random() * cdf[-1], cdf, grid))


@dataclass(frozen=True)
class Timetable:
    """Maps kernel draws onto the simulated clock.

    `paper`: the kernel spans the whole lifecycle; after each visit the next time is drawn
    again from it and kept if it is still ahead (the topic's peak stays where it is).
    `code`: the authors' code. The kernel spans only [start, start + window] (4 h by
    default, so the peak is 2 h in and nobody visits after 4 h); the next time is the same
    absolute draw, kept if it is still ahead.
    """

    start: datetime
    end: datetime
    mode: str
    code_window: timedelta
    kernel: KernelConfig

    @property
    def window(self) -> timedelta:
        life = self.end - self.start
        return min(self.code_window, life) if self.mode == "code" else life

    def draw(self, rng: np.random.Generator, A: float) -> datetime:
        x = sample(rng, A, self.kernel)
        return self.start + timedelta(seconds=int(x / self.kernel.span * self.window.total_seconds()))

    def first_visit(self, rng: np.random.Generator, A: float) -> datetime:
        return self.draw(rng, A)

    def next_visit(self, rng: np.random.Generator, A: float, now: datetime) -> datetime | None:
        """The next visit after one that ended at `now`, or None: the user does not return."""
        when = self.draw(rng, A)
        return when if now <= when < self.end else None


def attacker_first_visit(rng: np.random.Generator, start: datetime, end: datetime, within: float) -> datetime:
    """Uniform whole seconds in [1, within * lifecycle] after the start (code: first 1.6 h of 16 h)."""
    limit = max(1, int((end - start).total_seconds() * within))
    return start + timedelta(seconds=int(rng.integers(1, limit + 1)))


def attacker_next_visit(visit_end: datetime, period: timedelta, end: datetime) -> datetime | None:
    """Attackers come back every `period` after their last visit ended, while the topic lives."""
    when = visit_end + period
    return when if when < end else None
