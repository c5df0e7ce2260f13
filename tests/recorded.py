"""Metamorphic tests on recorded runs: edit the answers a run stored, run the same config
again from that database (the cache answers every request it has seen with the edited
answer), and see where a metric goes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Callable


def edit_answers(db: Path, purposes: tuple[str, ...], edit: Callable[[dict], dict]) -> int:
    """Rewrite the parsed answers of calls whose purpose is in `purposes`; returns how many."""
    conn = sqlite3.connect(db)
    n = 0
    with conn:
        for rowid, response in conn.execute(
            f"select rowid, response_json from llm_calls where purpose in ({','.join('?' * len(purposes))})", purposes
        ).fetchall():
            outer = json.loads(response)
            outer["text"] = json.dumps(edit(json.loads(outer["text"])))
            conn.execute("update llm_calls set response_json = ? where rowid = ?", [json.dumps(outer), rowid])
            n += 1
    conn.close()
    return n


def copy_db(src: Path, dst: Path) -> Path:
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    return dst


def final_metric(db: Path, run_id: str, name: str, labels: str = "{}") -> float:
    conn = sqlite3.connect(db)
    (value,) = conn.execute("select value from metrics where run_id = ? and tick = -1 and name = ? and labels_json = ?",
                            [run_id, name, labels]).fetchone()
    return value


def latest_run(db: Path) -> str:
    return sqlite3.connect(db).execute("select run_id from runs order by rowid desc limit 1").fetchone()[0]


