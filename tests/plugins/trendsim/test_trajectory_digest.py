"""TrendSim's trajectory must not move when the engine changes: seeded scripted runs give
exactly the rows they gave before the plugin contract was reworked (digests recorded from
the code at b896f44, with the same commands). The personas are the first 30 of the shipped
population of that time (tests/data/population_recorded30.jsonl): the shipped bank has
since been regenerated with the persona fact groups, which changes who the users are, not
the engine."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT, run_cli
from tests.plugins.trendsim.trajectory_digest import digest

RECORDED = {
    "sequential-faithful-censored": (
        ["scenarios/trendsim_pa30.yaml", "--set", "population.size=20", "--set", "cognition=faithful",
         "--set", "censorship.enabled=true"],
        {
            "events": "182:e13bacfe4ab7064e",
            "exposures": "114:441dff48f4935c4f",
            "llm_calls": "457:1b490e1da8212323",
            "agent_state": "20:14b76bf63e9b11d2",
            "metrics": "439:cefa28fcfae672b7",
            "trendsim_comments": "28:d2783b1fb262ed3f",
        },
    ),
    "synchronous-fused": (
        ["scenarios/trendsim_pa10.yaml", "--set", "population.size=30", "--set", "mode=synchronous"],
        {
            "events": "240:14ce2c57c2e96529",
            "exposures": "173:c04bcef1ab3e9f84",
            "llm_calls": "161:2b511d266256c502",
            "agent_state": "43:2522d133ef67785e",
            "metrics": "513:553ac73a3e3c9bb0",
            "trendsim_comments": "21:f085512fd96b3ca0",
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
