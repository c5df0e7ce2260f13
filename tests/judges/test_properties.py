"""Property tests of the parsers and aggregators."""

from __future__ import annotations

import json
import statistics

from hypothesis import given
from hypothesis import strategies as st

from simkit.judges import CHARACTERBOX, RunDisclosure, disclosure_metrics
from simkit.judges.aggregation import aggregate, combine_orders
from simkit.judges.agreement import cohen_kappa
from simkit.judges.answers import bounds, score_answer
from simkit.judges.config import Disagreement
from simkit.judges.disagreement import disputed_keys
from simkit.judges.disclosure import disclosure_answer
from simkit.judges.sheet import Sheet
from simkit.judges.verdict import Vote
from simkit.llm.client import parse_structured

SHEET = Sheet(CHARACTERBOX[:3])
KEYS = SHEET.keys
SCHEMA = score_answer(bounds(SHEET.entries), True)


@given(st.lists(st.integers(-3, 9), min_size=3, max_size=3))
def test_a_score_answer_parses_iff_every_score_is_inside_the_scale(values):
    answer = {"critique": "c", "scores": dict(zip(KEYS, values)), "evidence": ["q"]}
    parsed, error = parse_structured(json.dumps(answer), SCHEMA)
    assert (error is None) == all(1 <= v <= 5 for v in values)
    if parsed is not None:
        assert parsed.scores.model_dump() == dict(zip(KEYS, values))  # nothing was moved


@given(st.lists(st.one_of(st.none(), st.integers(1, 5)), max_size=6), st.sampled_from(["mean", "median"]))
def test_aggregate_ignores_missing_values_and_stays_within_range(values, how):
    valid = [v for v in values if v is not None]
    result = aggregate(values, how)
    if not valid:
        assert result is None
        return
    assert min(valid) <= result <= max(valid)
    oracle = statistics.fmean(valid) if how == "mean" else statistics.median(valid)
    assert abs(result - oracle) < 1e-9
    assert abs(aggregate(list(reversed(values)), how) - result) < 1e-9


@given(st.lists(st.lists(st.integers(1, 5), min_size=3, max_size=3), min_size=1, max_size=5),
       st.sampled_from([0.5, 1.0, 2.0, 3.5]))
def test_a_key_is_disputed_iff_its_range_reaches_the_threshold(table, threshold):
    votes = [Vote(judge_id=f"j{i}", phase="independent", scores=dict(zip(KEYS, row)), text="", evidence=[], ok=True)
             for i, row in enumerate(table)]
    disputed = disputed_keys(votes, KEYS, Disagreement(per_metric_range=threshold))
    for n, key in enumerate(KEYS):
        column = [row[n] for row in table]
        assert (key in disputed) == (len(column) > 1 and max(column) - min(column) >= threshold)


@given(st.integers(1, 5), st.integers(1, 5), st.integers(-2, 2))
def test_summing_both_orders_removes_a_constant_position_bias(a, b, bias):
    metric = CHARACTERBOX[0]
    name = metric.name
    orders = {"AB": {f"{name}_1": a + bias, f"{name}_2": b}, "BA": {f"{name}_1": b + bias, f"{name}_2": a}}
    combined = combine_orders([metric], orders)
    assert abs((combined["A"][name] - combined["B"][name]) - (a - b)) < 1e-9


@st.composite
def runs(draw):
    out = []
    for _ in range(draw(st.integers(1, 5))):
        n = draw(st.integers(1, 4))
        shared = draw(st.sets(st.integers(0, n - 1)))
        leaked = draw(st.sets(st.integers(0, n - 1)))
        out.append(RunDisclosure(n, n, frozenset(shared), frozenset(leaked), 0))
    return out


@given(runs())
def test_ad_is_the_f1_identity_when_both_lists_are_equally_long(sample):
    m = disclosure_metrics(sample)
    assert 0 <= m.pp <= 1 and 0 <= m.hs <= 1 and 0 <= m.ad <= 1
    # with n_sensitive = n_shareable, AD = 2 HS / (1 + HS + (1 - PP))
    assert abs(m.ad - 2 * m.hs / (1 + m.hs + (1 - m.pp))) < 1e-9


@given(st.integers(0, 4), st.integers(0, 4), st.lists(st.integers(-1, 6), max_size=4), st.lists(st.integers(-1, 6), max_size=4))
def test_disclosure_numbers_parse_iff_they_name_a_listed_item(n_share, n_sens, share, sens):
    answer = {"analysis": "a", "evidence": [], "shared_shareable_items": share, "shared_sensitive_items": sens}
    _, error = parse_structured(json.dumps(answer), disclosure_answer(n_share, n_sens))
    valid = all(1 <= i <= n_share for i in share) and all(1 <= i <= n_sens for i in sens)
    assert (error is None) == valid


@given(st.lists(st.tuples(st.sampled_from("AB"), st.sampled_from(["A", "B", "tie"])), min_size=1, max_size=12))
def test_kappa_is_symmetric_and_at_most_one(pairs):
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    k, swapped = cohen_kappa(a, b), cohen_kappa(b, a)
    assert (k is None) == (swapped is None)
    assert k is None or (abs(k - swapped) < 1e-12 and k <= 1 + 1e-9)
