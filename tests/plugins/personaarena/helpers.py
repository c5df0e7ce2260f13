"""Run one PersonaArena episode in-process on the scripted backend, with chosen responders,
and read back what it stored."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from simkit.engine.runner import Simulation, load_scenario
from tests.conftest import ROOT, SMALL_PERSONAS

SCENARIO = ROOT / "scenarios" / "personaarena.yaml"


def simulation(db: Path, *sets: str, run_id: str | None = None, responders: dict | None = None, llm: dict | None = None) -> Simulation:
    extra = {"llm": llm or {"backend": "scripted", "instruments": "scripted"}, "population": {"personas": str(SMALL_PERSONAS), "size": 12}}
    config, plugin_cfg = load_scenario(SCENARIO, list(sets), extra)
    sim = Simulation(config, plugin_cfg, db, source=SCENARIO, run_id=run_id)
    for backend in sim.ctx.llms.backends():
        for purpose, fn in (responders or {}).items():
            backend.register(purpose, fn)
    return sim


async def run_episode(db: Path, *sets: str, **kw) -> tuple[Simulation, sqlite3.Connection]:
    sim = simulation(db, *sets, **kw)
    await sim.run()
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return sim, conn


def events(conn: sqlite3.Connection, kind: str, run_id: str | None = None) -> list[dict]:
    sql = "select payload_json, agent_id from events where kind = ?" + (" and run_id = ?" if run_id else "") + " order by tick, seq"
    return [{**json.loads(r["payload_json"]), "_agent": r["agent_id"]} for r in conn.execute(sql, [kind, *([run_id] if run_id else [])])]


def finals(conn: sqlite3.Connection, run_id: str | None = None) -> dict[tuple[str, str], float | None]:
    """(name, labels_json) -> value of the final metrics."""
    sql = "select name, labels_json, value from metrics where tick = -1" + (" and run_id = ?" if run_id else "")
    return {(r["name"], r["labels_json"]): r["value"] for r in conn.execute(sql, [run_id] if run_id else [])}


def label(**labels) -> str:
    return json.dumps(labels, sort_keys=True, ensure_ascii=False)
