"""Run CharacterBox in-process on the scripted backend, with responders a test chooses."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import yaml

from simkit.engine.runner import Simulation, load_scenario
from simkit.llm.scripted import ScriptedBackend
from tests.conftest import ROOT, SMALL_PERSONAS

SCENARIO = ROOT / "scenarios" / "characterbox.yaml"
PAPER = ROOT / "scenarios" / "characterbox_paper.yaml"


def scenario_file(tmp_path: Path, scenario: Path = SCENARIO, **section) -> Path:
    """A shipped scenario on the scripted backend, writing to tmp_path/run.db."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    data = yaml.safe_load(scenario.read_text())
    data["llm"] = {"backend": "scripted", "instruments": "scripted", "roles": {}}  # a dry run, as --llm scripted
    data["population"] = {"personas": str(SMALL_PERSONAS), "size": 1}
    data["output"] = {"db": str(tmp_path / "run.db")}
    data["characterbox"].update(section)
    path = tmp_path / "characterbox.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


async def simulate(tmp_path: Path, responders: dict | None = None, scenario: Path = SCENARIO,
                   **section) -> tuple[Simulation, sqlite3.Connection]:
    path = scenario_file(tmp_path, scenario, **section)
    config, plugin_cfg = load_scenario(path)
    sim = Simulation(config, plugin_cfg, tmp_path / "run.db", source=path, backend=ScriptedBackend(config.seed))
    for backend in sim.ctx.llms.backends():
        for purpose, fn in (responders or {}).items():
            backend.register(purpose, fn)
    await sim.run()
    con = sqlite3.connect(tmp_path / "run.db")
    con.row_factory = sqlite3.Row
    return sim, con


def finals(con: sqlite3.Connection, name: str) -> dict[str, float | None]:
    """labels_json -> value of a final metric (plain name when unlabelled)."""
    return {r["labels_json"]: r["value"] for r in con.execute("select labels_json, value from metrics where tick = -1 and name = ?", [name])}
