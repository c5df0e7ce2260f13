"""Helpers of the branch, budget, estimate, health and API tests: small scripted runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from simkit import api

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    """Shipped scenarios name their persona file relative to the repository."""
    monkeypatch.chdir(ROOT)


def scripted_run(name: str, db: Path, sets: dict | None = None, **kw) -> api.Run:
    return api.run(SCENARIOS / f"{name}.yaml", llm="scripted", out=db, sets=sets or {}, **kw)


def rows(db: Path, table: str, run_id: str, where: str = "1", drop: tuple[str, ...] = ("run_id",)) -> list[tuple]:
    """A run's rows of `table` as tuples without `drop` columns, in a stable order."""
    conn = sqlite3.connect(db)
    cols = [r[1] for r in conn.execute(f"pragma table_info([{table}])") if r[1] not in drop]
    out = conn.execute(f"select {', '.join(cols)} from [{table}] where run_id = ? and {where} order by {', '.join(cols)}", [run_id]).fetchall()
    conn.close()
    return out
