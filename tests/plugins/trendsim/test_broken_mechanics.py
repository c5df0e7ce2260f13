"""The mechanics checks can fail: a deliberately broken mechanic makes them report it.
Each run is in-process on the scripted backend, with one piece of the plugin broken."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from simkit.engine.runner import Simulation, load_scenario
from simkit.plugins.trendsim import pages
from tests.conftest import ROOT, SMALL_PERSONAS
from tests.plugins.trendsim.mechanics import attack_exposures, exposure_problems, metric_problems, state_problems

SETS = ["attack.share=0.3", "population.size=12"]


def run(tmp_path, name: str) -> sqlite3.Connection:
    scenario = ROOT / "scenarios" / "trendsim.yaml"
    config, plugin_cfg = load_scenario(scenario, SETS, {"llm": {"backend": "scripted", "instruments": "scripted"}, "seed": 5,
                                                        "population": {"personas": str(SMALL_PERSONAS), "size": 12}})
    asyncio.run(Simulation(config, plugin_cfg, tmp_path / name, source=scenario).run())
    return sqlite3.connect(tmp_path / name)


def test_the_intact_plugin_passes_every_check(tmp_path):
    conn = run(tmp_path, "ok.db")
    assert attack_exposures(conn)
    assert exposure_problems(conn) == state_problems(conn) == metric_problems(conn) == []


def test_attacker_comments_never_shown_fails_the_exposure_check(tmp_path, monkeypatch):
    page = pages.Visit.page

    def without_attacks(self):
        shown = page(self)
        if "comments" in shown:
            shown["comments"] = [c for c in shown["comments"] if not c["attack"]]
        return shown

    monkeypatch.setattr(pages.Visit, "page", without_attacks)
    problems = exposure_problems(run(tmp_path, "hidden.db"))
    assert problems == ["attackers posted comments, but no normal user was ever shown one"]


def test_a_metric_that_is_not_the_records_mean_fails_the_metric_check(tmp_path, monkeypatch):
    from simkit.plugins.trendsim import metrics

    spread = metrics.spread
    monkeypatch.setattr(metrics, "spread", lambda values: tuple(v - 0.01 for v in spread(values)))
    problems = metric_problems(run(tmp_path, "off.db"))
    assert any(p.startswith("emotion.avg is") for p in problems)


def test_a_state_that_is_not_the_answer_fails_the_state_check(tmp_path, monkeypatch):
    from simkit.plugins.trendsim import agents

    mind = agents.Mind.as_dict
    monkeypatch.setattr(agents.Mind, "as_dict", lambda self: {**mind(self), "emotion": 0.5})
    assert any("stored emotion" in p for p in state_problems(run(tmp_path, "reset.db")))
