"""The shipped scenario on the embedded model (SmolLM2-135M), as a user runs it: every call
parses (grammar-constrained JSON) and the seven scores land in the database."""

from __future__ import annotations

import os
import sqlite3

import pytest
import yaml

from tests.conftest import ROOT, SMALL_PERSONAS, run_cli

SEVEN = ("knowledge_accuracy", "behavioural_accuracy", "emotional_expression", "personality_traits",
         "immersion", "adaptability", "behavioural_coherence")


@pytest.mark.slow
@pytest.mark.timeout(3660)
def test_default_scenario_on_the_embedded_model(tmp_path):
    data = yaml.safe_load((ROOT / "scenarios" / "characterbox.yaml").read_text())
    data["population"]["personas"] = str(SMALL_PERSONAS)
    data["output"] = {"db": str(tmp_path / "run.db")}
    path = tmp_path / "characterbox.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    out = run_cli(["run", str(path), "--quiet"], env=dict(os.environ, COLUMNS="200"), timeout=3600)
    assert "finished" in out.stdout
    con = sqlite3.connect(tmp_path / "run.db")
    status, parse_failures, calls = con.execute("select status, parse_failures, llm_calls from runs").fetchone()
    assert status == "finished" and calls > 0 and parse_failures == 0
    assert con.execute("select count(*) from events where kind = 'turn'").fetchone()[0] >= 2
    for name in SEVEN:
        (value,) = con.execute("select value from metrics where tick = -1 and name = ?", [f"score.{name}"]).fetchone()
        assert value is not None and 1 <= value <= 5, name
    judged = con.execute("select count(*) from judgements where phase = 'independent' and parsed_ok = 1").fetchone()[0]
    assert judged == 2 + 2  # two characters, two narrator calls
