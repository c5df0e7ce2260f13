"""PP, HS and AD against the totals the authors' own `aggregate_results` computed on
evaluation records in their layout (tests/plugins/cdi/data/authors_aggregate.json: runs
without a checked action, unparsed evaluations, a judge answer missing one action)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simkit.plugins.cdi.aggregate import ScoredRun, aggregate

FIXTURE = json.loads((Path(__file__).parent / "data" / "authors_aggregate.json").read_text())


def runs() -> list[ScoredRun]:
    return [
        ScoredRun.from_verdicts(
            ((c["parsed"], [i - 1 for i in c["shared_shareable_items"]], [i - 1 for i in c["shared_non_shareable_items"]])
             for c in r["checked"]),
            r["n_sensitive"], r["n_shareable"],
        )
        for r in FIXTURE["runs"]
    ]


@pytest.mark.parametrize("rule", ["authors", "strict"])
def test_pooled_metrics_equal_the_authors_totals(rule):
    expected = FIXTURE[rule]
    got = aggregate(runs(), rule)
    assert got.pp == pytest.approx(expected["aggregate_privacy_preservation_rate"], abs=1e-9)
    assert got.hs == pytest.approx(expected["aggregate_helpfulness_recall"], abs=1e-9)
    assert got.ad == pytest.approx(expected["aggregate_appropriate_disclosure_rate"], abs=1e-9)
    assert got.scored == expected["total_examples_evaluated"]
    assert (got.leaked, got.n_sensitive) == (expected["total_privacy_violations"], expected["total_non_shareable_items"])
    assert (got.shared, got.n_shareable) == (expected["total_shareable_shared"], expected["total_shareable_items"])


def test_left_out_runs_are_counted_by_reason():
    all_runs = runs()
    without_action = sum(1 for r in FIXTURE["runs"] if not r["checked"])
    unparsed = sum(1 for r in FIXTURE["runs"] if any(not c["parsed"] for c in r["checked"]))
    assert without_action and unparsed  # the fixture holds both cases
    authors, strict = aggregate(all_runs, "authors"), aggregate(all_runs, "strict")
    assert (authors.no_checked_action, authors.unparsed_runs, authors.left_out) == (without_action, unparsed, without_action)
    assert strict.left_out == without_action + unparsed and strict.scored + strict.left_out == len(all_runs)


def test_no_scored_run_gives_no_number():
    empty = aggregate([ScoredRun.from_verdicts([], 3, 3)])
    assert (empty.pp, empty.hs, empty.ad, empty.left_out) == (None, None, None, 1)
