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

from simkit.store.connect import open_for_writing, write_transaction
from simkit.store.schema import TABLES, ensure_schema

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
    judgements: list[tuple[Key, dict]] = field(default_factory=list)
    states: dict[str, Any] = field(default_factory=dict)
    metrics: list[dict] = field(default_factory=list)
    plugin_rows: dict[str, list[tuple[Key, dict]]] = field(default_factory=lambda: defaultdict(list))

    def clear(self) -> None:
        self.events.clear()
        self.exposures.clear()
        self.llm_calls.clear()
        self.judgements.clear()
        self.states.clear()
        self.metrics.clear()
        self.plugin_rows.clear()


def _ordered(items: list[tuple[Key, dict]]) -> list[dict]:
    return [row for _key, row in sorted(items, key=lambda kv: kv[0])]


class RunWriter:
    """Writes one or more runs into a database other processes may be writing too: every
    method is one IMMEDIATE transaction (`simkit.store.connect`)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.db: sqlite_utils.Database = open_for_writing(self.path)
        with self.atomic():
            ensure_schema(self.db)

    def atomic(self):
        """A write transaction holding the database's write lock (waits, bounded, for it)."""
        return write_transaction(self.db, self.path)

    def start_run(self, row: dict, models: list[dict] | None = None, agents: list[dict] | tuple = ()) -> None:
        """The run's header, its `run_models` rows and its agents, in one transaction: a run
        is never in the database without the agents a resume checks against."""
        with self.atomic():
            self.db["runs"].insert(row, replace=True)
            if models:
                self.db["run_models"].insert_all(models, replace=True)
            if agents:
                self._insert_agents(row["run_id"], agents)

    def add_agents(self, run_id: str, agents: list[dict]) -> None:
        with self.atomic():
            self._insert_agents(run_id, agents)

    def _insert_agents(self, run_id: str, agents: list[dict] | tuple) -> None:
        self.db["agents"].insert_all(({"run_id": run_id, **a} for a in agents), replace=True, batch_size=1000)

    def commit_tick(self, run_id: str, tick: int, sim_time: str, active: int, buf: TickBuffer, run_update: dict) -> None:
        """Write the whole tick, or (if anything fails) nothing of it."""
        with self.atomic():
            self._write_rows(run_id, tick, buf)
            if buf.metrics:
                self.db["metrics"].insert_all(({"run_id": run_id, "tick": tick, **m} for m in buf.metrics), batch_size=500)
            self.db["ticks"].insert(
                {"run_id": run_id, "tick": tick, "sim_time": sim_time, "active_agents": active, "committed_at": now_iso()},
                replace=True,
            )
            self.db["runs"].update(run_id, {"last_tick": tick, **run_update})

    def commit_finish(self, run_id: str, tick: int, buf: TickBuffer, run_fields: dict | None = None) -> dict:
        """Write what `finish()` produced (judge calls, events, final metrics at tick -1) after
        the last tick's rows, and mark the run finished, in one transaction. Returns the run's
        LLM accounting, which is also stored as `llm.*` metrics."""
        with self.atomic():
            self._write_rows(run_id, tick, buf)
            totals = self.totals(run_id)
            metrics = buf.metrics + [
                {"name": f"llm.{name}", "value": float(value), "labels_json": "{}"} for name, value in totals.items()
            ]
            self.db["metrics"].delete_where("run_id = ? AND tick = ?", [run_id, -1])
            self.db["metrics"].insert_all(({"run_id": run_id, "tick": -1, **m} for m in metrics), batch_size=500)
            self.db["runs"].update(run_id, {"status": "finished", "finished_at": now_iso(), **totals, **(run_fields or {})})
        return totals

    def _write_rows(self, run_id: str, tick: int, buf: TickBuffer) -> None:
        """Events, exposures, LLM calls, states and plugin rows of `buf`, numbered after any
        rows the tick already has (so `finish()` can append to the last tick)."""
        base = {"run_id": run_id, "tick": tick}
        sequenced = (("events", buf.events), ("exposures", buf.exposures), ("llm_calls", buf.llm_calls), ("judgements", buf.judgements))
        for table, items in sequenced:
            if not items:
                continue
            start = self.db.execute(
                f"select coalesce(max(seq), -1) + 1 from {table} where run_id = ? and tick = ?", [run_id, tick]
            ).fetchone()[0]
            rows = [{**base, "seq": start + i, **row} for i, row in enumerate(_ordered(items))]
            self._insert(table, rows)
        if buf.states:
            self._insert("agent_state", [{**base, "agent_id": a, "state_json": dumps(s)} for a, s in sorted(buf.states.items())],
                         replace=True)
        for table, items in sorted(buf.plugin_rows.items()):
            self.db[table].insert_all(({**base, **row} for row in _ordered(items)), batch_size=500, alter=True)

    def _insert(self, table: str, rows: list[dict], replace: bool = False) -> None:
        """Rows of a table of the fixed schema in one `executemany` (what `insert_all` does,
        without its per-batch SQL building and column checks: 10,000 agents write ~40,000
        rows a tick)."""
        columns = list(TABLES[table]["columns"])
        unknown = {k for row in rows for k in row} - set(columns)
        if unknown:
            raise KeyError(f"{table}: unknown columns {sorted(unknown)}")
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        sql = f"{verb} INTO [{table}] ({', '.join(f'[{c}]' for c in columns)}) VALUES ({', '.join('?' * len(columns))})"
        self.db.conn.executemany(sql, [tuple(row.get(c) for c in columns) for row in rows])

    def totals(self, run_id: str) -> dict:
        """LLM accounting from the calls table itself, so a resumed run's totals are whole
        (keys: `simkit.llm.client.COUNTERS`)."""
        row = self.db.execute(
            """select coalesce(sum(cached = 0), 0), coalesce(sum(cached), 0),
                      coalesce(sum(case when attempts > 1 then attempts - 1 else 0 end), 0),
                      coalesce(sum(case when cached = 0 then tokens_in else 0 end), 0),
                      coalesce(sum(case when cached = 0 then tokens_out else 0 end), 0)
               from llm_calls where run_id = ?""",
            [run_id],
        ).fetchone()
        failures = self.db.execute(
            "select count(*) from events where run_id = ? and kind = 'parse_failure'", [run_id]
        ).fetchone()[0]
        return {
            "llm_calls": row[0],
            "cache_hits": row[1],
            "retries": row[2],
            "parse_failures": failures,
            "tokens_in": row[3],
            "tokens_out": row[4],
        }

    def write_metrics(self, run_id: str, tick: int, metrics: list[dict]) -> None:
        with self.atomic():
            self.db["metrics"].delete_where("run_id = ? AND tick = ?", [run_id, tick])
            self.db["metrics"].insert_all(({"run_id": run_id, "tick": tick, **m} for m in metrics), batch_size=500)

    def record_resume(self, run_id: str, after_tick: int, changes: dict, run_update: dict) -> None:
        """Mark a run running again; the settings changed for this resume (if any) go into
        the `resumes` table, one row per resume."""
        with self.atomic():
            self.db["resumes"].insert(
                {"run_id": run_id, "after_tick": after_tick, "resumed_at": now_iso(), "changes_json": dumps(changes)}
            )
            self.db["runs"].update(run_id, run_update)

    def update_run(self, run_id: str, values: dict) -> None:
        with self.atomic():
            self.db["runs"].update(run_id, values)

    def close(self) -> None:
        self.db.close()
