"""`simkit merge` / `merge_databases`: whole runs copied with every table's rows (plugin
tables included), nothing lost, nothing duplicated, an unfinished copy replaced."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from simkit.errors import UsageError
from simkit.store.merge import merge_databases
from tests.conftest import ROOT, run_cli

SCENARIO = ROOT / "scenarios" / "trendsim.yaml"


def rows(db: Path, run_id: str | None = None) -> dict[str, list]:
    conn = sqlite3.connect(db)
    tables = [n for (n,) in conn.execute("select name from sqlite_master where type = 'table' order by name")]
    out = {}
    for t in tables:
        where, args = ("where run_id = ?", [run_id]) if run_id else ("", [])
        out[t] = conn.execute(f"select * from [{t}] {where} order by rowid", args).fetchall()
    conn.close()
    return out


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("merge")
    for name, share in (("a", 0), ("b", 0.3)):
        run_cli(["run", str(SCENARIO), "--llm", "scripted", "--quiet", "--out", str(folder / f"{name}.db"),
                 "--set", "population.size=6", "--set", f"attack.share={share}"], timeout=180)
    return folder / "a.db", folder / "b.db"


def test_merge_by_hand_copies_every_row_once(two_runs, tmp_path):
    a, b = two_runs
    target = tmp_path / "all.db"
    proc = run_cli(["merge", str(target), str(a), str(b)], timeout=60)
    assert "2 runs copied" in proc.stdout
    merged = rows(target)
    assert any(t.startswith("trendsim_") for t in merged)  # plugin tables came along
    for src in (a, b):
        (run_id,) = sqlite3.connect(src).execute("select run_id from runs").fetchone()
        theirs, mine = rows(src), rows(target, run_id)
        for table, content in theirs.items():
            if content and table in mine:
                assert mine[table] == content, table
        assert set(t for t, c in theirs.items() if c) <= set(mine)
    again = run_cli(["merge", str(target), str(a), str(b)], timeout=60)
    assert "0 runs copied" in again.stdout and "2 already there" in again.stdout
    assert rows(target) == merged  # no duplicates


def test_an_unfinished_copy_is_replaced_by_a_finished_one(two_runs, tmp_path):
    a, _ = two_runs
    partial = tmp_path / "partial.db"
    shutil.copy(a, partial)
    conn = sqlite3.connect(partial)
    (run_id,) = conn.execute("select run_id from runs").fetchone()
    for (table,) in conn.execute("select name from sqlite_master where type='table' and name != 'runs'").fetchall():
        cols = [r[1] for r in conn.execute(f"pragma table_info([{table}])")]
        if "tick" in cols:
            conn.execute(f"delete from [{table}] where tick > 3 or tick < 0")
    conn.execute("update runs set status = 'failed', last_tick = 3, finished_at = null where run_id = ?", [run_id])
    conn.commit()
    conn.close()
    report = merge_databases(tmp_path / "t.db", [partial])
    assert report.copied == [run_id]
    report = merge_databases(tmp_path / "t.db", [a])
    assert report.replaced == [run_id]
    assert rows(tmp_path / "t.db", run_id)["events"] == rows(a, run_id)["events"]
    report = merge_databases(tmp_path / "t.db", [partial])  # the finished copy is kept
    assert report.skipped == [run_id]
    assert rows(tmp_path / "t.db", run_id)["ticks"] == rows(a, run_id)["ticks"]


def test_merge_errors_are_one_line(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        merge_databases(tmp_path / "t.db", [tmp_path / "missing.db"])
    proc = run_cli(["merge", str(tmp_path / "t.db"), str(tmp_path / "missing.db")], check_rc=2, timeout=60)
    assert proc.stderr.strip().count("\n") == 0 and "missing.db" in proc.stderr
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("create table x (a)").connection.commit()
    with pytest.raises(UsageError, match="not a simkit run database"):
        merge_databases(tmp_path / "t.db", [other])
