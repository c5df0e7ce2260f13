"""The plugin contract, checked over every registered plugin (simkit.testing): two runs of one
seed record the same trajectory, a run killed with SIGKILL and resumed records the
uninterrupted one, a run whose every answer fails to parse finishes with finite-or-NULL
metrics, and every run replays (HTML and terminal viewer) and exports. Scripted backend,
small settings: a few seconds per plugin."""

from __future__ import annotations

import pytest

from simkit.engine.registry import available
from simkit.testing import PluginCheck
from tests.conftest import EXAMPLE, NOTES_EXAMPLE, ROOT, SMALL_PERSONAS

# Every plugin this repository registers (pyproject entry points and the two examples), with the
# scenario it is checked on and the settings that keep the check small.
SCENARIOS = {
    "trendsim": (ROOT / "scenarios" / "trendsim.yaml", ["population.size=3", "clock.end=2025-03-01T08:00:00"]),
    "characterbox": (ROOT / "scenarios" / "characterbox.yaml", []),
    "personaarena": (ROOT / "scenarios" / "personaarena.yaml", ["population.size=2"]),
    "cdi": (ROOT / "scenarios" / "cdi.yaml", []),
    "townhall": (EXAMPLE / "townhall.yaml", [f"population.personas={SMALL_PERSONAS}", "population.size=3"]),
    "notes": (NOTES_EXAMPLE / "notes.yaml", [f"population.personas={SMALL_PERSONAS}"]),
}


def test_every_registered_plugin_has_a_contract_scenario(townhall_site):
    missing = sorted(set(available()) - set(SCENARIOS))
    assert not missing, f"registered plugins without a contract scenario in {__file__}: {missing}"
    assert set(SCENARIOS) <= set(available()), sorted(set(SCENARIOS) - set(available()))


@pytest.mark.parametrize("plugin", sorted(SCENARIOS))
def test_plugin_keeps_the_contract(plugin, townhall_site, tmp_path):
    scenario, sets = SCENARIOS[plugin]
    PluginCheck(scenario, tmp_path, sets).check_all()
