"""Readers of the run database: run listing, resume lookups, cache lookups, export, replay."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Iterator

import sqlite_utils

from simkit.errors import UsageError
from simkit.store import connect
from simkit.store.connect import translated, wait_seconds


def open_db(path: Path, readonly: bool = True) -> sqlite_utils.Database:
    """A run database for reading; one clear line when `path` is missing or is not one."""
    path = Path(path)
    connect.last_opened = path
    if not path.exists():
        raise UsageError(f"{path}: run database not found (use --db to name another file)")
    if path.is_dir():
        raise UsageError(f"{path}: is a directory, expected a run database file")
    with translated(path):
        if readonly:
            conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True, check_same_thread=False, timeout=wait_seconds())
            db = sqlite_utils.Database(conn)
        else:
            db = sqlite_utils.Database(sqlite3.connect(str(path), timeout=wait_seconds(), check_same_thread=False))
        names = db.table_names()  # reads the header: a text file or a damaged one fails here
    if "runs" not in names and names:
        raise UsageError(f"{path}: not a simkit run database (it has no runs table)")
    return db


class RunReader:
    def __init__(self, db: sqlite_utils.Database):
        self.db = db

    @classmethod
    def open(cls, path: Path) -> "RunReader":
        return cls(open_db(path))

    def runs(self) -> list[dict]:
        if "runs" not in self.db.table_names():
            return []
        return list(self.db.query("select * from runs order by started_at"))

    def run(self, run_id: str) -> dict:
        rows = list(self.db.query("select * from runs where run_id = ?", [run_id]))
        if not rows:
            matches = [r["run_id"] for r in self.runs() if r["run_id"].startswith(run_id)]
            if len(matches) == 1:
                return self.run(matches[0])
            if matches:
                shown = ", ".join(matches[:10]) + (f" and {len(matches) - 10} more" if len(matches) > 10 else "")
                raise UsageError(f"run id prefix {run_id!r} matches {len(matches)} runs: {shown}; give more of the id")
            known = ", ".join(r["run_id"] for r in self.runs()[-5:]) or "none"
            raise UsageError(f"run {run_id!r} not found in {self.db.conn.execute('PRAGMA database_list').fetchone()[2]} (recent runs: {known})")
        return rows[0]

    def config(self, run_id: str) -> dict:
        return json.loads(self.run(run_id)["config_json"])

    def run_models(self, run_id: str) -> list[dict]:
        """Every role's model (`run_models`): the subject's first, then the instruments'."""
        if "run_models" not in self.db.table_names():
            return []
        return list(self.db.query(
            "select role, kind, backend, model, base_url from run_models where run_id = ? "
            "order by kind = 'instrument', rowid", [run_id]))

    def metrics(self, run_id: str, tick: int | None = None) -> list[dict]:
        if tick is None:
            return list(self.db.query("select * from metrics where run_id = ? order by tick, name, labels_json", [run_id]))
        return list(
            self.db.query("select * from metrics where run_id = ? and tick = ? order by name, labels_json", [run_id, tick])
        )

    def rows(self, table: str, run_id: str) -> Iterator[dict]:
        order = {"events": "tick, seq", "exposures": "tick, seq", "llm_calls": "tick, seq", "metrics": "tick, name"}
        yield from self.db.query(f"select * from [{table}] where run_id = ? order by {order.get(table, 'rowid')}", [run_id])

    def cached_answer(self, request_hash: str) -> dict | None:
        row = self.db.execute(
            "select response_json, tokens_in, tokens_out from llm_calls where request_hash = ? limit 1", [request_hash]
        ).fetchone()
        if row is None:
            return None
        response = json.loads(row[0])
        return {"text": response["text"], "tool_calls": response.get("tool_calls") or [], "tokens_in": row[1], "tokens_out": row[2]}
