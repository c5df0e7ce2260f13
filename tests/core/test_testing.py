"""simkit.testing's checks fail for a plugin that breaks them (each test breaks one thing in a
subclass of the example townhall plugin, served under the name `townhall`)."""

from __future__ import annotations

import random

import pytest

from simkit.engine import runner
from simkit.testing import PluginCheck
from tests.conftest import EXAMPLE, SMALL_PERSONAS

SETS = [f"population.personas={SMALL_PERSONAS}", "population.size=3"]


@pytest.fixture
def serve(townhall_site, monkeypatch):
    """`serve(cls)`: scenarios naming plugin `townhall` get `cls` (in this process)."""
    def install(cls):
        real = runner.load_plugin
        monkeypatch.setattr(runner, "load_plugin", lambda name, source="config": cls if name == "townhall" else real(name, source))
    return install


def townhall():
    from simkit_townhall import TownHall

    return TownHall


def test_a_plugin_that_keeps_the_contract_passes(serve, tmp_path):
    serve(townhall())
    check = PluginCheck(EXAMPLE / "townhall.yaml", tmp_path, SETS)
    run = check.assert_deterministic()
    check.assert_replays(run)
    check.assert_exports(run)


def test_global_randomness_breaks_determinism(serve, tmp_path):
    class Unseeded(townhall()):
        async def end_tick(self, tick):
            await super().end_tick(tick)
            self.ctx.metric("noise", random.random())  # not ctx.rng: differs between runs

    serve(Unseeded)
    with pytest.raises(AssertionError, match="two runs of one seed: table metrics differs"):
        PluginCheck(EXAMPLE / "townhall.yaml", tmp_path, SETS).assert_deterministic()


def test_an_infinite_metric_breaks_null_metrics(serve, tmp_path):
    """(A NaN is stored as NULL by SQLite; an infinity is stored as is.)"""
    class DividesByZero(townhall()):
        async def finish(self):
            await super().finish()
            self.ctx.metric("ratio", float("inf"))  # x/0 when nothing parsed: must be None

    serve(DividesByZero)
    with pytest.raises(AssertionError, match="finite numbers or NULL"):
        PluginCheck(EXAMPLE / "townhall.yaml", tmp_path, SETS).assert_null_metrics()


def test_a_resume_that_forgets_the_world_is_caught(townhall_site, tmp_path):
    """A run killed and resumed from a database whose committed ticks were altered differs."""
    check = PluginCheck(EXAMPLE / "townhall.yaml", tmp_path, SETS)
    reference = check.run("reference")
    killed = check.kill_after(2)
    import sqlite3

    with sqlite3.connect(killed.db) as conn:  # what a resume that re-ran tick 0 differently leaves
        conn.execute("update events set payload_json = '{}' where tick = 0")
    resumed = check.resume(killed)
    from simkit.testing import assert_same_trajectory

    with pytest.raises(AssertionError, match="table events differs"):
        assert_same_trajectory(reference, resumed, "resume")
