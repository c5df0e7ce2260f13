"""TrendSim's trajectory must not move when the engine changes: seeded scripted runs give
exactly the rows they gave before. Digests recorded from the code at b896f44 (kept through
the plugin contract rework, the batched synchronous waves and the bulk row writes), then
re-recorded once when the prompts were laid out for prefix caches (issue 22): the scripted
answers are seeded by the request, so new prompt text is a new trajectory. The personas are
the first 30 of the shipped population of that time (tests/data/population_recorded30.jsonl):
the shipped bank has since been regenerated with the persona fact groups, which changes who
the users are, not the engine."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT, run_cli
from tests.plugins.trendsim.trajectory_digest import digest

RECORDED = {
    "sequential-faithful-censored": (
        ["scenarios/trendsim_pa30.yaml", "--set", "population.size=20", "--set", "cognition=faithful",
         "--set", "censorship.enabled=true"],
        {
            "events": "188:a053b21651a98de6",
            "exposures": "119:b6e5b96a2dc872a8",
            "llm_calls": "497:8f2ca6b14699fa3b",
            "agent_state": "21:7cdedc679f0d86dd",
            "metrics": "439:dd7290e629f32ae0",
            "trendsim_comments": "30:aee11bec5b9a5cb6",
        },
    ),
    "synchronous-fused": (
        ["scenarios/trendsim_pa10.yaml", "--set", "population.size=30", "--set", "mode=synchronous"],
        {
            "events": "233:be85884271b33639",
            "exposures": "166:142c5f850d06a408",
            "llm_calls": "154:a3357f34232bfadc",
            "agent_state": "43:c8e826893fe0ed60",
            "metrics": "513:51283f8d975038d4",
            "trendsim_comments": "24:3410e44a615eb31a",
        },
    ),
}


@pytest.mark.parametrize("case", sorted(RECORDED))
def test_seeded_run_gives_the_recorded_trajectory(case, tmp_path):
    args, expected = RECORDED[case]
    db = tmp_path / "run.db"
    personas = ROOT / "tests" / "data" / "population_recorded30.jsonl"
    run_cli(["run", *args, "--llm", "scripted", "--out", str(db), "--quiet", "--set", f"population.personas={personas}"])
    import sqlite3

    (run_id,) = sqlite3.connect(db).execute("select run_id from runs").fetchone()
    assert digest(db, run_id) == expected
