"""The visit kernel and the timetables of users and attackers."""

from datetime import datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from simkit.plugins.trendsim.config import KernelConfig
from simkit.plugins.trendsim.plugin import attacker_counts
from simkit.plugins.trendsim.timing import (
    Timetable,
    attacker_first_visit,
    attacker_next_visit,
    breaking_degree,
    cumulative,
    density,
    sample,
)

K = KernelConfig()
START, END = datetime(2025, 3, 1, 6), datetime(2025, 3, 1, 22)
A_VALUES = [0.5, 1.0, 1.5, 2.3]


@pytest.mark.parametrize("A", A_VALUES)
def test_kernel_integrates_to_one_once_normalised(A):
    area, _err = integrate.quad(lambda t: float(density(t, A, K)), 0, K.span, points=[K.t_peak, K.t_peak + 1 / K.alpha], limit=200)
    assert area == pytest.approx(float(cumulative(K.span, A, K)), rel=1e-9)
    normalised, _err = integrate.quad(lambda t: float(density(t, A, K)) / area, 0, K.span, points=[K.t_peak, K.t_peak + 1], limit=200)
    assert normalised == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("A", A_VALUES)
@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_kernel_and_its_slope_are_continuous_at_both_joins(A, alpha):
    k = KernelConfig(t_peak=5.0, alpha=alpha)
    eps = 1e-7
    for join in (k.t_peak, k.t_peak + 1 / alpha):
        left, right = float(density(join - eps, A, k)), float(density(join + eps, A, k))
        assert left == pytest.approx(right, abs=1e-5)
        slope_left = (float(density(join - eps, A, k)) - float(density(join - 2 * eps - 1e-4, A, k))) / (eps + 1e-4)
        slope_right = (float(density(join + 2 * eps + 1e-4, A, k)) - float(density(join + eps, A, k))) / (eps + 1e-4)
        assert slope_left == pytest.approx(slope_right, abs=1e-2 * max(1, A))


@pytest.mark.parametrize("A", A_VALUES)
def test_peak_is_half_a_peak_length_after_t_m(A):
    grid = np.linspace(0, K.span, 100_001)
    peak = grid[np.argmax(density(grid, A, K))]
    assert peak == pytest.approx(K.t_peak + 1 / (2 * K.alpha), abs=1e-3)
    assert float(density(peak, A, K)) == pytest.approx(1 + A / (4 * K.alpha))


def test_samples_follow_the_kernel():
    rng = np.random.default_rng(0)
    A = 1.0
    draws = np.array([sample(rng, A, K) for _ in range(8000)])
    assert draws.min() >= 0 and draws.max() <= K.span
    for lo, hi in ((0, 4), (4, 6), (6, 10)):
        expected = (float(cumulative(hi, A, K)) - float(cumulative(lo, A, K))) / float(cumulative(K.span, A, K))
        assert np.mean((draws >= lo) & (draws < hi)) == pytest.approx(expected, abs=0.02)


@settings(max_examples=60, deadline=None)
@given(A=st.floats(0.5, 4.0), u=st.floats(0, 1))
def test_cumulative_is_increasing_and_sampling_stays_in_range(A, u):
    grid = np.linspace(0, K.span, 500)
    assert np.all(np.diff(cumulative(grid, A, K)) > 0)
    x = sample(np.random.default_rng(int(u * 1e6)), A, K)
    assert 0 <= x <= K.span


def test_code_mode_keeps_every_visit_in_the_first_four_hours_and_paper_mode_peaks_mid_run():
    code = Timetable(START, END, "code", timedelta(hours=4), K)
    paper = Timetable(START, END, "paper", timedelta(hours=4), K)
    rng = np.random.default_rng(1)
    code_times = [code.first_visit(rng, 1.0) for _ in range(2000)]
    paper_times = [paper.first_visit(rng, 1.0) for _ in range(2000)]
    assert max(code_times) <= START + timedelta(hours=4)
    assert max(paper_times) > START + timedelta(hours=12)
    hours = np.array([(t - START).total_seconds() / 3600 for t in paper_times])
    assert np.argmax(np.bincount(hours.astype(int))) in (8, 9)  # peak at (5.5 / 10) * 16 h = 8.8 h


def test_next_visit_is_kept_only_when_still_ahead():
    code = Timetable(START, END, "code", timedelta(hours=4), K)
    rng = np.random.default_rng(2)
    late = START + timedelta(hours=5)  # after the code window: nobody returns
    assert all(code.next_visit(rng, 1.0, late) is None for _ in range(200))
    early = START + timedelta(minutes=30)
    kept = [code.next_visit(rng, 1.0, early) for _ in range(500)]
    assert all(t is None or early <= t < END for t in kept)
    assert 0.5 < sum(t is not None for t in kept) / len(kept) < 1.0


def test_breaking_degree_follows_the_authors_formula():
    assert breaking_degree(0, 1000, 0.5) == 1.0
    assert breaking_degree(250, 1000, 0.8) == pytest.approx(1.55)


def test_attackers_come_first_within_the_first_tenth_then_every_four_hours():
    rng = np.random.default_rng(3)
    firsts = [attacker_first_visit(rng, START, END, 0.1) for _ in range(500)]
    assert all(START < t <= START + timedelta(hours=1.6) for t in firsts)
    visits, t = [], firsts[0]
    while t is not None:
        visits.append(t)
        t = attacker_next_visit(t + timedelta(seconds=30), timedelta(hours=4), END)
    assert len(visits) == 4
    assert all(b - a == timedelta(hours=4, seconds=30) for a, b in zip(visits, visits[1:]))


@pytest.mark.parametrize(
    "n, share, expected",
    [(1000, 0.1, (33, 33, 34)), (1000, 0.3, (100, 100, 100)), (1000, 0.5, (166, 167, 167)), (10, 0.0, (0, 0, 0))],
)
def test_attacker_counts_match_the_papers_population_mix(n, share, expected):
    counts = attacker_counts(n, share, {"antisocial": 1, "trolling": 1, "rumor": 1})
    assert tuple(counts.get(t, 0) for t in ("antisocial", "trolling", "rumor")) == expected
