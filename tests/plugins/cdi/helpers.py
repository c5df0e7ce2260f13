"""Helpers for the CDI tests: a scenario file on the scripted backend, runs through the CLI
or in-process (where a test can swap one scripted responder), and row readers."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import yaml

from tests.conftest import ROOT, SMALL_PERSONAS, run_cli


def write_yaml(folder: Path, name: str = "cdi.yaml", **cdi) -> Path:
    data = yaml.safe_load((ROOT / "scenarios" / "cdi.yaml").read_text())
    data["population"] = {"personas": str(SMALL_PERSONAS), "size": 1}
    data["llm"] = {"backend": "scripted", "instruments": "scripted"}  # a dry run, as --llm scripted
    data["output"] = {"db": str(folder / "run.db")}
    data["cdi"].update(cdi)
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def cli_run(path: Path, db: Path, *sets: str) -> sqlite3.Connection:
    args = ["run", str(path), "--quiet", "--out", str(db)]
    for item in sets:
        args += ["--set", item]
    run_cli(args)
    return connect(db)


def api_run(path: Path, db: Path, *sets: str, responders: dict | None = None) -> sqlite3.Connection:
    """Run in this process; `responders` replace scripted answers for some purposes."""
    from simkit.engine.runner import Simulation, load_scenario

    config, plugin_cfg = load_scenario(path, list(sets))
    sim = Simulation(config, plugin_cfg, db, source=path)
    for backend in sim.ctx.llms.backends():
        for purpose, fn in (responders or {}).items():
            backend.register(purpose, fn)
    asyncio.run(sim.run())
    return connect(db)


def connect(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return conn


def rows(conn: sqlite3.Connection, sql: str, *params) -> list[dict]:
    return [dict(r) for r in conn.execute(sql, params)]


def tool_calls(conn: sqlite3.Connection, agent: str) -> list[dict]:
    """Every tool call of `agent`, in order, as observed (exposures with source tool:NAME)."""
    out = []
    for r in conn.execute("select tick, seq, source, items_json from exposures where agent_id = ? and source like 'tool:%' order by tick, seq", [agent]):
        out.append({"tick": r["tick"], "seq": r["seq"], **json.loads(r["items_json"])})
    return out


def finals(conn: sqlite3.Connection) -> dict:
    return {r["name"]: r["value"] for r in conn.execute("select name, value from metrics where tick = -1 and labels_json = '{}'")}

