"""`simkit export`: every table of a run, several runs (a sweep) as one tidy set with the seed
and swept keys as columns, Parquet, the plugin export hook, and sft records with tool calls."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, COLUMNS="200")


@pytest.fixture(scope="module")
def sweep_db(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("sweep")
    db = tmp / "sweep.db"
    run_cli(["sweep", str(ROOT / "scenarios" / "trendsim.yaml"), "--llm", "scripted", "--set", "attack.share=0,0.3",
             "--seeds", "2", "--out", str(db), "--quiet"], env=ENV, cwd=ROOT)
    return db


def table_counts(db: Path, run_ids: list[str]) -> dict[str, int]:
    con = sqlite3.connect(db)
    names = [r[0] for r in con.execute("select name from sqlite_master where type = 'table'")]
    marks = ",".join("?" * len(run_ids))
    return {n: con.execute(f"select count(*) from [{n}] where run_id in ({marks})", run_ids).fetchone()[0] for n in names}


def test_export_runs_of_a_sweep_writes_one_csv_per_table_with_swept_keys(sweep_db, tmp_path):
    out = tmp_path / "csv"
    run_cli(["export", "--runs", "all", "--db", str(sweep_db), "--format", "csv", "--out", str(out)], env=ENV)
    run_ids = [r[0] for r in sqlite3.connect(sweep_db).execute("select run_id from runs")]
    assert len(run_ids) == 4
    counts = table_counts(sweep_db, run_ids)
    for table in ("runs", "agents", "ticks", "events", "exposures", "llm_calls", "agent_state", "metrics", "judgements",
                  "trendsim_comments"):
        rows = list(csv.DictReader((out / f"{table}.csv").open(encoding="utf-8")))
        assert len(rows) == counts[table], table  # every row of every run, nothing else
        if rows:
            assert {"run_id", "seed", "set:trendsim.attack.share"} <= set(rows[0]), table
    metrics = list(csv.DictReader((out / "metrics.csv").open(encoding="utf-8")))
    shares = {(r["run_id"], r["set:trendsim.attack.share"], r["seed"]) for r in metrics}
    assert sorted((s, seed) for _rid, s, seed in shares) == [("0.0", "1"), ("0.0", "2"), ("0.3", "1"), ("0.3", "2")]
    runs = list(csv.DictReader((out / "runs.csv").open(encoding="utf-8")))
    assert all(json.loads(r["config_json"])["plugin"] == "trendsim" for r in runs)  # the run record with its config
    edges = list(csv.DictReader((out / "trendsim_network_edges.csv").open(encoding="utf-8")))  # the plugin's export hook
    assert all({"source", "target", "weight"} <= set(e) for e in edges)


def test_export_one_run_as_jsonl_and_parquet(sweep_db, tmp_path):
    (run_id,) = sqlite3.connect(sweep_db).execute("select run_id from runs order by started_at limit 1").fetchone()
    run_cli(["export", run_id, "--db", str(sweep_db), "--format", "jsonl", "--out", str(tmp_path / "j")], env=ENV)
    states = [json.loads(line) for line in (tmp_path / "j" / "agent_state.jsonl").open()]
    assert states and all(s["run_id"] == run_id and "seed" not in s for s in states)  # one run: no sweep columns
    import pyarrow.parquet as pq

    run_cli(["export", run_id, "--db", str(sweep_db), "--format", "parquet", "--out", str(tmp_path / "p")], env=ENV)
    table = pq.read_table(tmp_path / "p" / "metrics.parquet")
    assert table.num_rows == table_counts(sweep_db, [run_id])["metrics"]
    bad = run_cli(["export", "--db", str(sweep_db)], env=ENV, check_rc=2)
    assert "give one RUN_ID or --runs" in bad.stderr


def test_sft_export_of_a_cdi_run_holds_its_tool_calls(tmp_path):
    db = tmp_path / "cdi.db"
    run_cli(["run", str(ROOT / "scenarios" / "cdi.yaml"), "--llm", "scripted", "--out", str(db), "--quiet"], env=ENV, cwd=ROOT)
    (run_id,) = sqlite3.connect(db).execute("select run_id from runs").fetchone()
    run_cli(["export", run_id, "--db", str(db), "--format", "sft", "--out", str(tmp_path / "sft")], env=ENV)
    records = [json.loads(line) for line in (tmp_path / "sft" / "sft.jsonl").open()]
    stored = sqlite3.connect(db).execute("select response_json from llm_calls where run_id = ? and parsed_ok = 1", [run_id]).fetchall()
    with_calls = [json.loads(r[0]) for r in stored if json.loads(r[0]).get("tool_calls")]
    assert with_calls and len([r for r in records if r["tool_calls"]]) == len(with_calls)
    assert all(r["output"] for r in records)  # no empty record
    rec = next(r for r in records if r["tool_calls"])
    assert json.loads(rec["output"]) == rec["tool_calls"] and rec["messages"][-1]["tool_calls"]
    tool_turns = [m for r in records for m in r["messages"] if m["role"] == "tool"]
    assert tool_turns and any("result]" in h[0] for r in records for h in r["history"])  # tool results kept as text too
