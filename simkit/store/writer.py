"""The single writer: everything a tick produced goes in with one transaction.

Rows are buffered in a `TickBuffer` while the tick runs. Each row carries an ordering key
(the slot of the agent activation that produced it), so rows produced by concurrent agents
are written in a deterministic order, never in completion order.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlite_utils

from simkit.store.schema import ensure_schema

Key = tuple


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class TickBuffer:
    """Rows of one tick, each with an ordering key; flushed by `RunWriter.commit_tick`."""

    events: list[tuple[Key, dict]] = field(default_factory=list)
    exposures: list[tuple[Key, dict]] = field(default_factory=list)
    llm_calls: list[tuple[Key, dict]] = field(default_factory=list)
    states: dict[str, Any] = field(default_factory=dict)
    metrics: list[dict] = field(default_factory=list)
    plugin_rows: dict[str, list[tuple[Key, dict]]] = field(default_factory=lambda: defaultdict(list))

    def clear(self) -> None:
        self.events.clear()
        self.exposures.clear()
        self.llm_calls.clear()
        self.states.clear()
        self.metrics.clear()
        self.plugin_rows.clear()


def _ordered(items: list[tuple[Key, dict]]) -> list[dict]:
    return [row for _key, row in sorted(items, key=lambda kv: kv[0])]


class RunWriter:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite_utils.Database(path)
        self.db.enable_wal()
        self.db.execute("PRAGMA synchronous=NORMAL")
        ensure_schema(self.db)

    def start_run(self, row: dict) -> None:
        with self.db.atomic():
            self.db["runs"].insert(row, replace=True)

    def add_agents(self, run_id: str, agents: list[dict]) -> None:
        with self.db.atomic():
            self.db["agents"].insert_all(({"run_id": run_id, **a} for a in agents), replace=True, batch_size=1000)

    def commit_tick(self, run_id: str, tick: int, sim_time: str, active: int, buf: TickBuffer, run_update: dict) -> None:
        """Write the whole tick, or (if anything fails) nothing of it."""
        base = {"run_id": run_id, "tick": tick}
        with self.db.atomic():
            for table, items in (("events", buf.events), ("exposures", buf.exposures), ("llm_calls", buf.llm_calls)):
                rows = [{**base, "seq": i, **row} for i, row in enumerate(_ordered(items))]
                if rows:
                    self.db[table].insert_all(rows, batch_size=500)
            if buf.states:
                self.db["agent_state"].insert_all(
                    ({**base, "agent_id": a, "state_json": dumps(s)} for a, s in sorted(buf.states.items())),
                    batch_size=500,
                    replace=True,
                )
            if buf.metrics:
                self.db["metrics"].insert_all(({**base, **m} for m in buf.metrics), batch_size=500)
            for table, items in sorted(buf.plugin_rows.items()):
                rows = [{**base, **row} for row in _ordered(items)]
                self.db[table].insert_all(rows, batch_size=500, alter=True)
            self.db["ticks"].insert(
                {**base, "sim_time": sim_time, "active_agents": active, "committed_at": now_iso()}, replace=True
            )
            self.db["runs"].update(run_id, {"last_tick": tick, **run_update})

    def write_metrics(self, run_id: str, tick: int, metrics: list[dict]) -> None:
        with self.db.atomic():
            self.db["metrics"].delete_where("run_id = ? AND tick = ?", [run_id, tick])
            self.db["metrics"].insert_all(({"run_id": run_id, "tick": tick, **m} for m in metrics), batch_size=500)

    def update_run(self, run_id: str, values: dict) -> None:
        with self.db.atomic():
            self.db["runs"].update(run_id, values)

    def close(self) -> None:
        self.db.close()
