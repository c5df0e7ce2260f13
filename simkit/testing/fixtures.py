"""pytest fixtures for a plugin's tests: `pytest_plugins = ["simkit.testing.fixtures"]`.

    def test_my_plugin_keeps_the_contract(plugin_check):
        plugin_check("scenarios/mine.yaml", sets=["population.size=3"]).check_all()
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simkit.testing import PluginCheck, ScriptedRun


@pytest.fixture
def plugin_check(tmp_path):
    """`plugin_check(scenario, sets=[...])` -> a `PluginCheck` writing into the test's tmp_path."""

    def make(scenario: str | Path, sets: list[str] | tuple[str, ...] = ()) -> PluginCheck:
        return PluginCheck(Path(scenario), tmp_path / Path(scenario).stem, list(sets))

    return make


@pytest.fixture
def scripted_run(plugin_check):
    """`scripted_run(scenario, sets=[...])` -> a finished `ScriptedRun` (db, run_id)."""

    def make(scenario: str | Path, sets: list[str] | tuple[str, ...] = ()) -> ScriptedRun:
        return plugin_check(scenario, sets).run()

    return make
