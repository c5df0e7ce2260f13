"""Alignment of a deliberately biased pool: distances reach the noise floor, no duplicates."""

import dataclasses

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
import pytest

from simkit.errors import UsageError
from simkit.personas import report
from simkit.personas.align import align, inclusion_probabilities, systematic_draw
from simkit.personas.reference import load_reference

REF = load_reference()


def biased_pool(n=5000, seed=1):
    """An LLM-like pool: too extraverted, too stable, and compressed toward the middle."""
    llm_like = dataclasses.replace(REF, mean=REF.mean + np.array([0.1, 0.1, 0.35, 0.1, -0.35]),
                                   sd=REF.sd * 0.8, model="mvn")
    return llm_like.sample(n, np.random.default_rng(seed))


@pytest.mark.parametrize("seed", [0, 1])
def test_biased_pool_aligns_to_within_twice_the_noise_floor(seed):
    pool = biased_pool()
    rng = np.random.default_rng(100 + seed)
    result = align(pool, REF, 500, seed=seed)
    chosen = pool[result.indices]
    floor = report.expected_distances(None, REF, 500, rng, reps=10)
    before = report.expected_distances(pool, REF, 500, rng, reps=10)
    after = report.expected_distances(chosen, REF, 500, rng, reps=10)
    assert np.all(after.w1 <= 2 * floor.w1), (after.w1 / floor.w1).round(2)
    assert np.all(before.w1[[2, 4]] > 3 * floor.w1[[2, 4]])  # the bias was real where we put it
    assert after.energy < before.energy / 3
    assert 500 < result.ess < 5000  # reported, and below N because the weights are uneven
    assert len(np.unique(result.indices)) == 500


def test_every_prefix_of_an_aligned_set_is_itself_aligned():
    """Scenarios take the first k personas of a population file."""
    pool = biased_pool()
    chosen = pool[align(pool, REF, 500, seed=2).indices]
    rng = np.random.default_rng(7)
    for k in (100, 250):
        floor = report.expected_distances(None, REF, k, rng, reps=20)
        prefix = report.expected_distances(chosen[:k], REF, k, rng, reps=20)
        naive = report.expected_distances(pool, REF, k, rng, reps=20)
        assert np.mean(prefix.w1 / floor.w1) < 1.3 < 1.5 < np.mean(naive.w1 / floor.w1)


def test_importance_sampling_alone_also_corrects_the_means():
    pool = biased_pool()
    result = align(pool, REF, 500, method="is", seed=3)
    chosen = pool[result.indices]
    target = REF.sample(50_000, np.random.default_rng(0)).mean(axis=0)
    assert np.abs(chosen.mean(axis=0) - target).max() < np.abs(pool.mean(axis=0) - target).max() / 2
    assert len(np.unique(result.indices)) == 500


def test_inclusion_probabilities_sum_to_n_and_are_honoured_by_the_draw():
    w = np.array([8.0, 4, 2, 1, 1, 1, 1, 0.5, 0.25, 0.25])
    pi, _ = inclusion_probabilities(w, 4)
    assert pi.sum() == pytest.approx(4) and pi.max() == 1.0 and np.all(pi > 0)
    rng = np.random.default_rng(0)
    counts = np.zeros(len(w))
    for _ in range(4000):
        draw = systematic_draw(pi, rng)
        assert len(draw) == 4 and len(set(draw)) == 4
        counts[draw] += 1
    assert np.allclose(counts / 4000, pi, atol=0.03)


def test_choosing_the_whole_pool_returns_every_member_once():
    pool = biased_pool(200)
    result = align(pool, REF, 200)
    assert sorted(result.indices) == list(range(200))


def test_the_same_seed_gives_the_same_set():
    pool = biased_pool(1000)
    assert list(align(pool, REF, 100, seed=5).indices) == list(align(pool, REF, 100, seed=5).indices)


@pytest.mark.parametrize(
    ("pool", "n", "message"),
    [
        (np.empty((0, 5)), 1, "pool is empty"),
        (np.full((10, 5), 3.0), 11, "--n 11 is larger than the pool \\(10 personas\\)"),
        (np.full((10, 5), 3.0), 0, "--n must be at least 1"),
        (np.array([[3.0, 3, np.nan, 3, 3]] * 5), 2, "missing or non-numeric"),
    ],
)
def test_bad_pools_and_sizes_are_clear_errors(pool, n, message):
    with pytest.raises(UsageError, match=message):
        align(pool, REF, n)


def test_uncovered_regions_name_the_trait_space_the_pool_misses():
    pool = biased_pool()
    pool = pool[pool[:, 2] > 2.6]  # nobody introverted
    regions = report.uncovered_regions(pool, REF, 500, np.random.default_rng(0))
    assert regions and regions[0].description.startswith("low E")
    assert regions[0].pool_count == 0


@given(st.lists(st.floats(1e-6, 1e6), min_size=1, max_size=60), st.data())
def test_inclusion_probabilities_for_any_weights(weights, data):
    w = np.array(weights)
    n = data.draw(st.integers(1, len(w)))
    pi, _ = inclusion_probabilities(w, n)
    assert pi.sum() == pytest.approx(n, abs=1e-6)
    assert np.all((pi > 0) & (pi <= 1))
    draw = systematic_draw(pi, np.random.default_rng(0))
    assert len(draw) == n == len(set(draw))
