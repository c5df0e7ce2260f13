"""Merge run databases: copy whole runs from other SQLite files into one, with no loss and
no duplicates. `simkit merge TARGET SOURCE...` and the parallel sweep use it.

A run is copied with every row of every table that carries `run_id` (the core tables and
any plugin table), in the source's row order, in one transaction per source file. A run
already in the target is skipped when the target's copy is finished or at least as far
along; an unfinished copy is replaced by a source copy that got further. Plugin tables
the target lacks are created with the source's definition; missing columns are added.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from simkit.errors import UsageError
from simkit.store.connect import open_for_writing, translated, write_transaction
from simkit.store.reader import open_db
from simkit.store.schema import TABLES, ensure_schema


@dataclass
class MergeReport:
    copied: list[str] = field(default_factory=list)  # run ids copied
    replaced: list[str] = field(default_factory=list)  # unfinished copies in the target replaced
    skipped: list[str] = field(default_factory=list)  # already in the target
    rows: int = 0


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA {schema}.table_info([{table}])")]


def _run_tables(conn: sqlite3.Connection, schema: str) -> dict[str, str]:
    """Tables of `schema` with a run_id column -> their CREATE statement."""
    out = {}
    for name, sql in conn.execute(f"select name, sql from {schema}.sqlite_master where type = 'table' order by name"):
        if not name.startswith("sqlite_") and "run_id" in _columns(conn, schema, name):
            out[name] = sql
    return out


def _key_columns(name: str, spec: dict) -> list[str]:
    """The columns a merge reads from a table: its key, and a run's progress."""
    pk = spec.get("pk") or ("run_id",)
    keys = [pk] if isinstance(pk, str) else list(pk)
    return keys + (["status", "last_tick"] if name == "runs" else [])


def _progress(row) -> tuple[int, int]:
    status, last_tick = row
    return (1 if status == "finished" else 0, -1 if last_tick is None else last_tick)


def merge_databases(target: Path, sources: list[Path]) -> MergeReport:
    """Copy the runs of `sources` into `target` (created if missing)."""
    for src in sources:
        if not Path(src).exists():
            raise UsageError(f"{src}: run database not found")
        if Path(src).resolve() == Path(target).resolve():
            raise UsageError(f"{src}: is the target database itself")
    for src in sources:
        open_db(Path(src)).close()  # one clear line for a file that is not a run database
    db = open_for_writing(Path(target))
    with write_transaction(db, target):
        ensure_schema(db)
    conn = db.conn
    report = MergeReport()
    try:
        for src in sources:
            _merge_one(conn, Path(src), Path(target), report)
    finally:
        db.close()
    return report


def _merge_one(conn: sqlite3.Connection, src: Path, target: Path, report: MergeReport) -> None:
    conn.execute("ATTACH DATABASE ? AS src", [str(src)])
    try:
        if "runs" not in _run_tables(conn, "src"):
            raise UsageError(f"{src}: not a simkit run database (no runs table)")
        tables = _run_tables(conn, "src")
        for name, spec in TABLES.items():
            if name in tables:
                lacking = [c for c in _key_columns(name, spec) if c not in _columns(conn, "src", name)]
                if lacking:
                    raise UsageError(f"{src}: table {name} lacks the column(s) {', '.join(lacking)}: not a simkit run database")
        # one transaction per source file; the DDL too, so a failed merge leaves the target as it was
        with translated(target), write_transaction(sqlite_utils.Database(conn), target):
            for name, sql in tables.items():
                mine = _columns(conn, "main", name)
                if not mine:
                    conn.execute(sql)  # a plugin table the target has not seen: same definition
                    continue
                for column in _columns(conn, "src", name):
                    if column not in mine:
                        conn.execute(f"ALTER TABLE main.[{name}] ADD COLUMN [{column}]")
            target_tables = _run_tables(conn, "main")
            for run_id, status, last_tick in conn.execute("select run_id, status, last_tick from src.runs order by rowid").fetchall():
                have = conn.execute("select status, last_tick from main.runs where run_id = ?", [run_id]).fetchone()
                if have is not None:
                    if have[0] == "finished" or _progress(have) >= _progress((status, last_tick)):
                        report.skipped.append(run_id)
                        continue
                    for name in target_tables:
                        conn.execute(f"DELETE FROM main.[{name}] WHERE run_id = ?", [run_id])
                    report.replaced.append(run_id)
                else:
                    report.copied.append(run_id)
                for name in tables:
                    cols = ", ".join(f"[{c}]" for c in _columns(conn, "src", name))
                    cur = conn.execute(
                        f"INSERT INTO main.[{name}] ({cols}) SELECT {cols} FROM src.[{name}] WHERE run_id = ? ORDER BY rowid",
                        [run_id],
                    )
                    report.rows += cur.rowcount
    finally:
        conn.execute("DETACH DATABASE src")
