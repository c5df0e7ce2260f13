"""The store's promise: a tick is either fully in the database or not at all."""

from __future__ import annotations

import sqlite3

import pytest

from simkit.store.writer import RunWriter, TickBuffer


def buffer_with_rows() -> TickBuffer:
    buf = TickBuffer()
    buf.events.append(((1, 0), {"sim_time": "t", "agent_id": "a", "kind": "post", "payload_json": "{}"}))
    buf.exposures.append(((1, 0), {"sim_time": "t", "agent_id": "a", "items_json": "[]"}))
    buf.metrics.append({"name": "m", "value": 1.0, "labels_json": "{}"})
    return buf


def test_a_failure_inside_commit_leaves_no_trace_of_the_tick(tmp_path, monkeypatch):
    writer = RunWriter(tmp_path / "run.db")
    writer.start_run({"run_id": "r", "status": "running", "last_tick": None})
    writer.commit_tick("r", 0, "t0", 1, buffer_with_rows(), {})

    def crash(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(type(writer.db["ticks"]), "insert", crash)  # fails after events and exposures went in
    with pytest.raises(RuntimeError):
        writer.commit_tick("r", 1, "t1", 1, buffer_with_rows(), {})
    writer.close()

    con = sqlite3.connect(tmp_path / "run.db")
    for table in ("events", "exposures", "metrics"):
        assert con.execute(f"select count(*), max(tick) from {table}").fetchone() == (1, 0), table
    assert con.execute("select last_tick from runs").fetchone() == (0,)


def test_rows_of_concurrent_agents_are_written_in_key_order(tmp_path):
    writer = RunWriter(tmp_path / "run.db")
    writer.start_run({"run_id": "r", "status": "running"})
    buf = TickBuffer()
    for key, agent in [((1, 2, 0), "c"), ((1, 0, 1), "a2"), ((0, 0), "pre"), ((1, 0, 0), "a1")]:
        buf.events.append((key, {"sim_time": "t", "agent_id": agent, "kind": "k", "payload_json": "{}"}))
    writer.commit_tick("r", 0, "t0", 3, buf, {})
    rows = writer.db.execute("select seq, agent_id from events order by seq").fetchall()
    assert rows == [(0, "pre"), (1, "a1"), (2, "a2"), (3, "c")]


def test_finish_appends_after_the_last_tick_and_counts_its_calls(tmp_path):
    writer = RunWriter(tmp_path / "run.db")
    writer.start_run({"run_id": "r", "status": "running"})
    writer.commit_tick("r", 0, "t0", 1, buffer_with_rows(), {})
    judge = TickBuffer()
    judge.events.append(((3, 0), {"sim_time": "t", "agent_id": None, "kind": "judge", "payload_json": "{}"}))
    judge.llm_calls.append(((3, 1), {"agent_id": None, "purpose": "judge", "request_hash": "h", "model": "m",
                                     "params_json": "{}", "messages_json": "[]", "response_json": "{}",
                                     "parsed_ok": 1, "tokens_in": 7, "tokens_out": 3, "latency_ms": 1.0,
                                     "cached": 0, "attempts": 2}))
    judge.metrics.append({"name": "score", "value": 0.5, "labels_json": "{}"})
    totals = writer.commit_finish("r", 0, judge)
    assert totals["llm_calls"] == 1 and totals["retries"] == 1 and totals["tokens_in"] == 7
    db = writer.db
    assert db.execute("select seq, kind from events order by seq").fetchall() == [(0, "post"), (1, "judge")]
    finals = dict(db.execute("select name, value from metrics where tick = -1").fetchall())
    assert finals["score"] == 0.5 and finals["llm.llm_calls"] == 1
    assert db.execute("select status, llm_calls from runs").fetchone() == ("finished", 1)
