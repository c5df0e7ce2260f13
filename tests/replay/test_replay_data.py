"""The read-only run model: per-tick queries, filters, paging, agents, metrics, live runs."""

from __future__ import annotations

import sqlite3

import pytest

from simkit.errors import UsageError
from simkit.replay.data import Filters, ReplayData


def open_run(builder) -> ReplayData:
    return ReplayData.open(builder.writer.path, builder.run_id)


def test_events_of_a_tick_come_in_order_with_their_payloads(small_run):
    data = open_run(small_run)
    assert (data.first_tick, data.last_tick) == (0, 4)
    page = data.events(3)
    assert [(e.agent_id, e.kind) for e in page.rows] == [("a0", "post"), ("a1", "post"), ("a2", "post"), (None, "news")]
    assert page.rows[1].payload == {"text": "bonjour from a1 at 3"}
    assert page.total == 4


def test_filters_narrow_events_and_exposures(small_run):
    data = open_run(small_run)
    assert [e.seq for e in data.events(2, Filters(agent="a2")).rows] == [2]
    assert [e.kind for e in data.events(2, Filters(kind="news")).rows] == ["news"]
    assert data.events(2, Filters(text="BONJOUR")).total == 0
    assert data.events(3, Filters(text="BONJOUR")).total == 3
    assert [x.agent_id for x in data.exposures(1, Filters(agent="a1")).rows] == ["a1"]
    assert data.exposures(1, Filters(kind="news")).total == 3  # exposures have no kind: the kind filter keeps them


def test_next_match_jumps_to_the_nearest_matching_tick_both_ways(small_run):
    data = open_run(small_run)
    assert data.next_match(0, Filters(text="bonjour")) == 3
    assert data.next_match(4, Filters(text="bonjour"), step=-1) == 3
    assert data.next_match(3, Filters(text="bonjour")) is None
    assert data.event_counts(0, 4, Filters(text="bonjour")) == {3: 3}


def test_pages_report_the_total_of_a_long_tick(small_run):
    data = open_run(small_run)
    first, second = data.events(0, limit=3), data.events(0, offset=3, limit=3)
    assert (len(first.rows), first.total) == (3, 4)
    assert ([e.kind for e in second.rows], second.total, second.offset) == (["news"], 4, 3)


def test_agent_drill_down_has_persona_states_and_calls(small_run):
    data = open_run(small_run)
    assert data.agent("a1")["persona"]["name"] == "Name a1"
    assert data.agent_states("a1") == [(t, {"mood": t + 0.1}) for t in range(5)]
    calls = data.agent_calls("a1")
    assert calls.total == 5 and calls.rows[2].messages == [{"role": "user", "content": "tick 2, say something"}]
    assert calls.rows[2].answer == '{"text": "hello from a1"}'
    assert [c.tick for c in data.agent_calls("a1", tick=3).rows] == [3]
    with pytest.raises(UsageError, match="agent 'zz'"):
        data.agent("zz")


def test_metric_series_and_final_values(small_run):
    data = open_run(small_run)
    series = data.series()
    assert series["mood"].points == [(t, t * 0.25) for t in range(5)]
    assert series["mood"].value_at(2) == 0.5 and series["mood"].value_at(-5) is None
    assert data.final_metrics() == {"posts": 9.0}
    assert data.kinds() == ["news", "post"]


def test_a_run_still_being_written_is_followed(builder):
    builder.tick()
    data = open_run(builder)
    assert data.live and data.last_tick == 0
    assert data.refresh() is False
    assert data.event_counts(0, 5) == {0: 4}
    builder.tick(said="later")
    assert data.refresh() is True
    assert data.last_tick == 1 and data.events(1, Filters(text="later")).total == 3
    assert data.event_counts(0, 5) == {0: 4, 1: 4}
    builder.finish()
    assert data.refresh() is True and not data.live


def test_a_prefix_of_the_run_id_is_enough(small_run):
    assert ReplayData.open(small_run.writer.path, "synth").run_id == "synthetic-run"


def test_bad_input_is_one_clear_error(small_run, tmp_path):
    with pytest.raises(UsageError, match="run 'nope' not found"):
        ReplayData.open(small_run.writer.path, "nope")
    with pytest.raises(UsageError, match="run database not found"):
        ReplayData.open(tmp_path / "missing.db", "x")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("create table t (x)").connection.close()
    with pytest.raises(UsageError, match="not a simkit run database"):
        ReplayData.open(other, "x")
    (tmp_path / "notes.db").write_text("not a database at all, just text " * 100)
    with pytest.raises(UsageError, match="not a SQLite database"):
        ReplayData.open(tmp_path / "notes.db", "x")
