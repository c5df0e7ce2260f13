"""The shipped reference and user-supplied references."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simkit.errors import UsageError
from simkit.personas.reference import SHIPPED, load_reference


def test_the_copula_reproduces_the_shipped_statistics():
    stats = json.loads(SHIPPED.read_text())
    x = load_reference().sample(40_000, np.random.default_rng(0))
    assert np.allclose(x.mean(axis=0), stats["mean"], atol=0.04)
    assert np.allclose(x.std(axis=0), stats["sd"], atol=0.04)
    assert np.allclose(np.corrcoef(x.T), stats["corr"], atol=0.04)
    assert x.min() >= 1 and x.max() <= 5
    assert np.allclose(np.round(x * 10), x * 10)  # on the instrument's 0.1 grid
    for k, t in enumerate("OCEAN"):
        assert np.quantile(x[:, k], 0.5) == pytest.approx(stats["quantiles"][t][4], abs=0.11)


def test_spread_points_cover_the_distribution_more_evenly_than_a_random_draw():
    ref = load_reference()
    rng = np.random.default_rng(1)
    big = ref.sample(40_000, rng)
    even = [abs(ref.spread(256, rng).mean(axis=0) - big.mean(axis=0)).max() for _ in range(20)]
    rand = [abs(ref.sample(256, rng).mean(axis=0) - big.mean(axis=0)).max() for _ in range(20)]
    assert np.mean(even) < np.mean(rand) / 2


def test_the_normal_model_stays_in_bounds():
    x = load_reference(model="mvn").sample(5000, np.random.default_rng(0))
    assert x.min() >= 1 and x.max() <= 5


def test_a_user_sample_file_is_a_reference(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("id,O,C,E,A,N\n1,3.1,2.2,4.0,3.3,2.0\n2,4.1,3.2,1.5,4.4,3.9\n3,2.5,3.3,3.0,3.0,3.0\n")
    ref = load_reference(path)
    assert ref.sample(3, np.random.default_rng(0)).shape == (3, 5)
    jsonl = tmp_path / "people.jsonl"
    jsonl.write_text('{"big_five": {"O": 3, "C": 3, "E": 3, "A": 3, "N": 3}}\n{"O": 2, "C": 2, "E": 2, "A": 2, "N": 2}\n')
    assert len(load_reference(jsonl).rows) == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("ref.json", '{"mean": [3, 3, 3, 3]}', "mean: expected 5 finite numbers"),
        ("ref.json", '{"mean": [3,3,3,3,3], "sd": [1,1,1,1,1]}', "corr: required key is missing"),
        ("ref.json", '{"mean": [3,3,3,3,3], "sd": [1,1,1,1,1], "corr": [[1,2,0,0,0],[2,1,0,0,0],[0,0,1,0,0],[0,0,0,1,0],[0,0,0,0,1]]}',
         "corr: not positive definite"),
        ("ref.json", "{nope", "not valid JSON"),
        ("ref.json", '{"mean": [3,3,3,3,3], "sd": [1,1,1,1,1], "corr": [[1,0,0,0,0],[0,1,0,0,0],[0,0,1,0,0],[0,0,0,1,0],[0,0,0,0,1]], "bounds": [5, 1]}',
         "bounds: expected \\[low, high\\]"),
        ("ref.json", '{"mean": [3,3,3,3,3], "sd": [1,1,1,1,1], "corr": [[1,0,0,0,0],[0,1,0,0,0],[0,0,1,0,0],[0,0,0,1,0],[0,0,0,0,1]], "resolution": "x"}',
         "resolution: expected a positive number"),
        ("ref.csv", "O,C,E,A\n3,3,3,3\n", "lacks the trait columns N"),
        ("ref.csv", "O,C,E,A,N\n3,3,3,3,9\n3,3,3,3,3\n", ":2: N: 9.0 is outside the 1-5 scale"),
        ("ref.jsonl", '{"O": 3, "C": 3, "E": 3, "A": 3}\n', ":1: trait N is missing"),
        ("ref.txt", "", "must be .json"),
    ],
)
def test_bad_reference_files_name_file_and_problem(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(UsageError, match=message):
        load_reference(path)


def test_missing_reference_file(tmp_path):
    with pytest.raises(UsageError, match="reference file not found"):
        load_reference(tmp_path / "nope.json")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10) | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.sampled_from(
        ["mean", "sd", "corr", "quantiles", "p", "O", "C", "E", "A", "N", "traits", "bounds"]), inner, max_size=6),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(json_values)
def test_any_json_is_a_reference_or_a_usage_error(tmp_path, value):
    path = tmp_path / "ref.json"
    path.write_text(json.dumps(value))
    try:
        load_reference(path)
    except UsageError as exc:
        assert str(exc).startswith(str(path))


def test_the_shipped_group_references_differ_as_the_published_means_do():
    women = load_reference(SHIPPED.with_name("ipip50_reference_women.json")).sample(30_000, np.random.default_rng(0))
    men = load_reference(SHIPPED.with_name("ipip50_reference_men.json")).sample(30_000, np.random.default_rng(0))
    diff = women.mean(axis=0) - men.mean(axis=0)  # published: O -0.14, C +0.07, E +0.14, A +0.33, N +0.24
    assert np.allclose(diff, [-0.14, 0.07, 0.14, 0.33, 0.24], atol=0.04)
