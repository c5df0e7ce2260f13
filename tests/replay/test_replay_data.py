"""The read-only run model: per-tick queries, filters, paging, agents, metrics, judge
messages, live runs, files from before the judgements table."""

from __future__ import annotations

import sqlite3

import pytest

from simkit.engine.recorder import judgement_row
from simkit.errors import UsageError
from simkit.replay.data import Filters, JudgementFilters, ReplayData
from simkit.store.writer import TickBuffer
from tests.replay.conftest import PANEL


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
    with pytest.raises(UsageError, match="not a SQLite (run )?database"):
        ReplayData.open(tmp_path / "notes.db", "x")


def test_judge_messages_of_a_tick_come_in_order_with_their_fields(judged_run):
    data = open_run(judged_run)
    page = data.judgements(4)
    assert [(j.judge_id, j.phase, j.round) for j in page.rows] == [
        ("critic", "independent", 0), ("public", "independent", 0), ("critic", "debate", 1), ("arbiter", "arbiter", 3)]
    critic, public, _, arbiter = page.rows
    assert critic.scores == {"immersion": 4.0, "fluency": 5.0} and critic.evidence == ["hello from a0 at 4"]
    assert critic.visible_to == ["critic", "public"] and critic.labels == {"quotes_found": 1} and critic.parsed_ok
    assert public.parsed_ok is False and public.scores == {"immersion": None, "fluency": None}
    assert public.labels == {"error": "answer is not JSON"}
    assert arbiter.role == "arbiter" and arbiter.visible_to == [] and arbiter.metrics == ["immersion"]
    assert page.total == 4 and data.judgements(0).total == 0
    assert [j.item_id for j in data.judgements(1).rows] == ["e0-m1"]


def test_judgement_filters_paging_counts_and_next_tick(judged_run):
    data = open_run(judged_run)
    assert [j.phase for j in data.judgements(4, JudgementFilters(judge="critic")).rows] == ["independent", "debate"]
    assert [j.judge_id for j in data.judgements(4, JudgementFilters(phase="independent")).rows] == ["critic", "public"]
    assert data.judgements(4, JudgementFilters(item="e0-m1")).total == 0
    assert [j.judge_id for j in data.judgements(4, JudgementFilters(text="GREETING IS")).rows] == ["critic"]
    assert data.judgements(4, JudgementFilters(text="not json")).total == 1  # labels are searched too
    assert data.judgements(4, JudgementFilters(text="hello from a0")).total == 1  # and the evidence
    second = data.judgements(4, offset=2, limit=2)
    assert ([j.judge_id for j in second.rows], second.total) == (["critic", "arbiter"], 4)
    assert data.judgements(4, limit=3).total == 4
    assert data.judgement_counts(0, 4) == {1: 1, 4: 4}
    assert data.judgement_counts(0, 4, JudgementFilters(judge="critic")) == {4: 2}
    assert data.next_judgement(-1) == 1 and data.next_judgement(1) == 4 and data.next_judgement(4) is None
    assert data.next_judgement(4, JudgementFilters(phase="disclosure"), step=-1) == 1
    assert data.judgement_facets() == {"judge": ["disclosure", "critic", "public", "arbiter"],
                                       "phase": ["disclosure", "independent", "debate", "arbiter"],
                                       "item": ["e0-m1", "synthetic-run"]}
    assert [(j.tick, j.seq) for j in data.iter_judgements()] == [(1, 0), (4, 0), (4, 1), (4, 2), (4, 3)]


def test_judge_messages_written_into_the_last_tick_of_a_live_run_are_counted(builder):
    builder.tick()
    data = open_run(builder)
    assert data.judgement_counts(0, 0) == {}
    builder.writer.commit_tick(builder.run_id, 0, "2025-01-01T00:00:00", 3, _buffer_of(PANEL), {})  # what finish() does
    builder.finish()
    assert data.refresh() is True
    assert data.judgement_counts(0, 0) == {0: 4} and data.judgements(0).total == 4


def _buffer_of(records) -> TickBuffer:
    buf = TickBuffer()
    buf.judgements.extend(((i,), judgement_row(r)) for i, r in enumerate(records))
    return buf


def test_a_database_from_before_the_judgements_table_reads_as_a_run_without_judges(judged_run):
    judged_run.close()
    conn = sqlite3.connect(judged_run.writer.path)
    conn.execute("drop table judgements")
    conn.commit()
    conn.close()
    data = open_run(judged_run)
    assert data.has_judgements is False and data.events(4).total == 4
    assert data.judgements(4).rows == [] and data.judgements(4).total == 0
    assert data.judgement_counts(0, 4) == {} and data.next_judgement(-1) is None
    assert data.judgement_facets() == {"judge": [], "phase": [], "item": []} and list(data.iter_judgements()) == []
