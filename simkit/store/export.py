"""`simkit export`: every table of one run, or of several runs (a sweep) as one tidy set.

Written per table, one file each (CSV, JSONL or Parquet): the run record with its config
(`runs`), `run_models` when the file has it, `agents`, `ticks`, `events`, `exposures`,
`llm_calls`, `agent_state`, `metrics`, `judgements`, every plugin table (`<plugin>_<thing>`)
and the tables a plugin derives in its export hook (`Plugin.export_tables`, e.g. TrendSim's
interaction network as edges). Each row carries its `run_id`; with several runs, each row
also carries the runs' seed and every config key that differs between them (the swept
`--set` keys, as `set:KEY` columns), so the files concatenate into one data set.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from simkit.store.run_config import config_value, swept_keys
from simkit.errors import UsageError
from simkit.store.series import plugin_class

CORE_TABLES = ("runs", "run_models", "agents", "ticks", "events", "exposures", "llm_calls", "agent_state", "metrics",
               "judgements")
FORMATS = ("csv", "jsonl", "parquet")
ORDER = {"events": "tick, seq", "exposures": "tick, seq", "llm_calls": "tick, seq", "judgements": "tick, seq",
         "metrics": "tick, name, labels_json", "ticks": "tick", "agent_state": "tick, agent_id"}


@dataclass
class Written:
    table: str
    path: Path
    rows: int


def run_tables(db) -> list[str]:
    """The core tables the file has, then every other table with a `run_id` column (plugin tables)."""
    names = db.table_names()
    plugin = sorted(n for n in names if n not in CORE_TABLES and "run_id" in db[n].columns_dict)
    return [n for n in CORE_TABLES if n in names] + plugin


def select_runs(reader, spec: Sequence[str]) -> list[str]:
    """Run ids from ids or unique prefixes; `all` is every run of the file."""
    if list(spec) == ["all"]:
        ids = [r["run_id"] for r in reader.runs()]
        if not ids:
            raise UsageError("--runs all: the database holds no runs")
        return ids
    return [reader.run(s)["run_id"] for s in spec]


def _rows(reader, table: str, run_id: str) -> Iterator[dict]:
    order = ORDER.get(table, "rowid")
    if table == "runs":
        order = "rowid"
    yield from reader.db.query(f"select * from [{table}] where run_id = ? order by {order}", [run_id])


def _hook_tables(reader, run_id: str, plugin: str) -> dict[str, Iterable[dict]]:
    cls = plugin_class(plugin)
    hook = getattr(cls, "export_tables", None) if cls is not None else None
    if hook is None:
        return {}
    return {name if name.startswith(f"{plugin}_") else f"{plugin}_{name}": rows
            for name, rows in (hook(reader.db, run_id) or {}).items()}


class _Sink:
    """One output file, rows appended as they come; CSV and Parquet take the union of columns."""

    def __init__(self, path: Path, fmt: str):
        self.path, self.fmt, self.rows = path, fmt, 0
        self._buffer: list[dict] = []
        self._fh = path.open("w", encoding="utf-8", newline="") if fmt == "jsonl" else None

    def add(self, row: dict) -> None:
        self.rows += 1
        if self._fh is not None:
            self._fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        else:
            self._buffer.append(row)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            return
        columns: dict[str, None] = {}
        for row in self._buffer:
            columns.update(dict.fromkeys(row))
        if self.fmt == "csv":
            with self.path.open("w", encoding="utf-8", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=list(columns))
                w.writeheader()
                w.writerows(self._buffer)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            data = {c: [_cell(r.get(c)) for r in self._buffer] for c in columns}
            pq.write_table(pa.table(data), self.path)


def _cell(value):
    return json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, (dict, list)) else value


def export_runs(reader, run_ids: Sequence[str], out: Path, fmt: str = "csv",
                tables: Sequence[str] | None = None) -> list[Written]:
    """Write every table of the runs into `out` (one file per table); returns what was written."""
    if fmt not in FORMATS:
        raise UsageError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    out.mkdir(parents=True, exist_ok=True)
    runs = {rid: reader.run(rid) for rid in run_ids}
    configs = {rid: json.loads(r["config_json"] or "{}") for rid, r in runs.items()}
    keys = swept_keys(list(configs.values())) if len(run_ids) > 1 else []
    extra = {rid: ({"seed": runs[rid]["seed"]} if len(run_ids) > 1 else {})
             | {f"set:{k}": _cell(config_value(configs[rid], k)) for k in keys} for rid in run_ids}
    sinks: dict[str, _Sink] = {}

    def sink(table: str) -> _Sink:
        if table not in sinks:
            sinks[table] = _Sink(out / f"{table}.{fmt}", fmt)
        return sinks[table]

    names = list(tables) if tables else run_tables(reader.db)
    for table in names:
        if table not in reader.db.table_names():
            raise UsageError(f"--table: no table {table!r} in this database (it has: {', '.join(run_tables(reader.db))})")
        s = sink(table)
        for rid in run_ids:
            for row in _rows(reader, table, rid):
                s.add({**row, **{k: v for k, v in extra[rid].items() if k not in row}})
    if not tables:
        for rid in run_ids:
            for table, rows in _hook_tables(reader, rid, runs[rid]["plugin"]).items():
                s = sink(table)
                for row in rows:
                    s.add({"run_id": rid, **row, **extra[rid]})
    for s in sinks.values():
        s.close()
    return [Written(t, s.path, s.rows) for t, s in sinks.items()]


__all__ = ["CORE_TABLES", "FORMATS", "Written", "export_runs", "run_tables", "select_runs"]
