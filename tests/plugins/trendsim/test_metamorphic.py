"""Metamorphic tests on a recorded TrendSim run: when the users' recorded answers say lower
(or higher) emotion and social confidence, the final metrics move that way."""

from __future__ import annotations

import asyncio

import pytest

from simkit.engine.runner import Simulation, load_scenario
from tests.conftest import ROOT, SMALL_PERSONAS
from tests.recorded import copy_db, edit_answers, final_metric, latest_run

SCENARIO = ROOT / "scenarios" / "trendsim.yaml"
OUTCOMES = ("emotion", "social_confidence")


def run(db, cognition: str) -> str:
    config, plugin_cfg = load_scenario(SCENARIO, ["attack.share=0.3", f"cognition={cognition}"],
                                       {"llm": {"backend": "scripted", "instruments": "scripted"}, "seed": 3,
                                        "population": {"personas": str(SMALL_PERSONAS), "size": 12}})
    sim = Simulation(config, plugin_cfg, db, source=SCENARIO)
    asyncio.run(sim.run())
    return sim.run_id


@pytest.fixture(scope="module", params=["fused", "faithful"])
def recorded(request, tmp_path_factory):
    db = tmp_path_factory.mktemp("meta") / "recorded.db"
    return db, run(db, request.param), request.param


@pytest.mark.parametrize("value, direction", [(5, -1), (95, +1)])
def test_editing_the_answers_moves_the_outcome_metrics(recorded, tmp_path, value, direction):
    db, original, cognition = recorded
    edited = copy_db(db, tmp_path / "edited.db")
    purposes = ("trendsim.step",) if cognition == "fused" else ("trendsim.reflect.emotion", "trendsim.reflect.confidence")
    assert edit_answers(edited, purposes, lambda a: {**a, **{k: value for k in OUTCOMES if k in a}}) > 0
    again = run(edited, cognition)  # the same config: the cache answers with the edited answers
    for name in OUTCOMES:
        before, after = final_metric(db, original, f"{name}.avg"), final_metric(edited, again, f"{name}.avg")
        assert (after - before) * direction > 0.05, (name, before, after)
