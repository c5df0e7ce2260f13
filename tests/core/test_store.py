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
