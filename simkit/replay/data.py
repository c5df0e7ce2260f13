"""A read-only model of one run for the viewers: ticks, events, exposures, judge messages,
agents, metrics.

Everything is queried per tick (or per agent) through the (run_id, tick, seq) primary keys
and the (run_id, agent_id) indexes, with a page size, so a run with a million events opens
and steps as fast as a small one. Nothing is cached that a run still being written could
change: `refresh()` re-reads the last committed tick, and each query sees the latest commit.
A file written before the `judgements` table existed reads as a run without judge messages.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from simkit.errors import UsageError
from simkit.store.reader import RunReader
from simkit.store.series import Mark, Series, TimeAxis, axis_of, marks_of, metric_key, read_series

PAGE = 500


@dataclass(frozen=True)
class Filters:
    """What the user narrowed the view to; empty fields match everything."""

    agent: str = ""
    kind: str = ""
    text: str = ""

    def __bool__(self) -> bool:
        return bool(self.agent or self.kind or self.text)

    def where(self, with_kind: bool = True, text_column: str = "payload_json") -> tuple[str, list]:
        """SQL conditions (to AND onto `run_id = ? and ...`) and their parameters."""
        sql, params = "", []
        if self.agent:
            sql += " and agent_id = ?"
            params.append(self.agent)
        if self.kind and with_kind:
            sql += " and kind = ?"
            params.append(self.kind)
        if self.text:
            sql += f" and instr(lower({text_column}), ?) > 0"
            params.append(self.text.lower())
        return sql, params


@dataclass(frozen=True)
class JudgementFilters:
    """What the user narrowed the judge messages to; empty fields match everything. The text
    is searched in the message, its evidence and labels, and the judge and item ids."""

    judge: str = ""
    phase: str = ""
    item: str = ""
    text: str = ""

    def __bool__(self) -> bool:
        return bool(self.judge or self.phase or self.item or self.text)

    def where(self) -> tuple[str, list]:
        sql, params = "", []
        for column, value in (("judge_id", self.judge), ("phase", self.phase), ("item_id", self.item)):
            if value:
                sql += f" and {column} = ?"
                params.append(value)
        if self.text:
            sql += (" and instr(lower(coalesce(text, '') || ' ' || coalesce(evidence_json, '') || ' ' ||"
                    " coalesce(labels_json, '') || ' ' || coalesce(judge_id, '') || ' ' || coalesce(item_id, '')), ?) > 0")
            params.append(self.text.lower())
        return sql, params


@dataclass(frozen=True)
class Tick:
    tick: int
    sim_time: str
    active_agents: int


@dataclass(frozen=True)
class Event:
    tick: int
    seq: int
    sim_time: str
    agent_id: str | None
    kind: str
    payload: Any


@dataclass(frozen=True)
class Exposure:
    tick: int
    seq: int
    agent_id: str
    items: Any


@dataclass(frozen=True)
class Judgement:
    """One judge message (a `judgements` row; see simkit/judges/README.md, "Records")."""

    tick: int
    seq: int
    item_id: str
    judge_id: str
    role: str
    phase: str
    round: int
    metrics: list[str]
    text: str
    scores: dict[str, float | None]
    evidence: list[str]
    visible_to: list[str] | None  # None: every judge saw it
    parsed_ok: bool
    labels: dict[str, Any]


JUDGEMENT_COLUMNS = ("tick, seq, item_id, judge_id, role, phase, round, metrics_json, text, scores_json, evidence_json,"
                     " visible_to_json, parsed_ok, labels_json")


def _judgement(row) -> Judgement:
    tick, seq, item, judge, role, phase, rnd, metrics, txt, scores, evidence, visible, ok, labels = row
    return Judgement(
        tick, seq, item or "", judge or "", role or "", phase or "", rnd or 0, _loads(metrics) or [], txt or "",
        _loads(scores) or {}, _loads(evidence) or [], _loads(visible), bool(ok), _loads(labels) or {},
    )


@dataclass(frozen=True)
class LLMCall:
    tick: int
    seq: int
    purpose: str
    model: str
    messages: list[dict]
    answer: str
    parsed_ok: bool
    tokens_in: int
    tokens_out: int
    latency_ms: float
    cached: bool
    attempts: int


@dataclass(frozen=True)
class Page:
    """One page of rows plus the total that matched, so a viewer can say "1-500 of 90,000"."""

    rows: list
    total: int
    offset: int


def _loads(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text  # a viewer shows what is there, even if it is not JSON


class ReplayData:
    """The run `run_id` in the database at `path`, read-only."""

    def __init__(self, reader: RunReader, run_id: str):
        self.reader = reader
        self.db = reader.db
        self.run = reader.run(run_id)
        self.run_id: str = self.run["run_id"]
        self.last_tick = -1
        self.first_tick = 0
        self._kinds: list[str] | None = None
        self._agents: dict[str, dict] | None = None
        self._counts: dict[tuple[str, Filters | JudgementFilters], dict[int, int]] = {}
        self.has_judgements = False
        self._axis: TimeAxis | None = None
        self.refresh()

    @classmethod
    def open(cls, path: Path, run_id: str) -> "ReplayData":
        """Raises `UsageError` (one line for the user) when the file or run does not exist."""
        reader = RunReader.open(Path(path))
        try:
            tables = reader.db.table_names()
        except sqlite3.DatabaseError as exc:
            raise UsageError(f"{path}: not a SQLite database ({exc})") from None
        if "runs" not in tables:
            raise UsageError(f"{path}: not a simkit run database (no runs table)")
        return cls(reader, run_id)

    # -- the run and its ticks --------------------------------------------------------------
    def refresh(self) -> bool:
        """Re-read the run row and the last committed tick; True if anything new arrived."""
        before = (self.last_tick, self.run.get("status"))
        self.run = self.reader.run(self.run_id)
        lo, hi = self.db.execute("select min(tick), max(tick) from ticks where run_id = ?", [self.run_id]).fetchone()
        self.first_tick = lo if lo is not None else 0
        self.last_tick = hi if hi is not None else -1
        if not self.has_judgements:  # an older file gains the table when a newer simkit resumes it
            self.has_judgements = self.db.execute(
                "select count(*) from sqlite_master where type = 'table' and name = 'judgements'").fetchone()[0] > 0
        changed = (self.last_tick, self.run.get("status")) != before
        if changed:  # the run's last tick may have grown (finish() appends to it): count it again
            for known in self._counts.values():
                known.pop(before[0], None)
        return changed

    @property
    def plugin(self) -> str:
        return self.run["plugin"]

    @property
    def live(self) -> bool:
        """The run has not reached a final status yet (it may still be being written)."""
        return self.run.get("status") not in ("finished", "failed", "interrupted")

    def ticks(self, start: int, stop: int) -> list[Tick]:
        """Committed ticks in [start, stop]."""
        rows = self.db.execute(
            "select tick, sim_time, active_agents from ticks where run_id = ? and tick between ? and ? order by tick",
            [self.run_id, start, stop],
        )
        return [Tick(t, s or "", a or 0) for t, s, a in rows]

    def tick(self, tick: int) -> Tick | None:
        found = self.ticks(tick, tick)
        return found[0] if found else None

    def event_counts(self, start: int, stop: int, filters: Filters = Filters()) -> dict[int, int]:
        """Events per tick in [start, stop] that match `filters` (for the timeline).

        A committed tick never changes, so each count is computed once per filter; a tick of
        100,000 events costs milliseconds to count, and the timeline asks on every step."""
        return self._tick_counts("events", filters, start, stop)

    def judgement_counts(self, start: int, stop: int, filters: JudgementFilters = JudgementFilters()) -> dict[int, int]:
        """Judge messages per tick in [start, stop] that match `filters` (for the timeline)."""
        if not self.has_judgements:
            return {}
        return self._tick_counts("judgements", filters, start, stop)

    def _tick_counts(self, table: str, filters: Filters | JudgementFilters, start: int, stop: int) -> dict[int, int]:
        key = (table, filters)
        if key not in self._counts and len(self._counts) >= 16:
            self._counts.clear()
        known = self._counts.setdefault(key, {})
        stop = min(stop, self.last_tick)  # a tick not committed yet must not be cached as empty
        missing = [t for t in range(start, stop + 1) if t not in known]
        if missing:
            cond, params = filters.where()
            rows = self.db.execute(
                f"select tick, count(*) from {table} where run_id = ? and tick between ? and ?{cond} group by tick",
                [self.run_id, missing[0], missing[-1], *params],
            )
            known.update({t: 0 for t in missing})
            known.update(rows.fetchall())
        return {t: known[t] for t in range(start, stop + 1) if known[t]}

    def next_match(self, tick: int, filters: Filters, step: int = 1) -> int | None:
        """The nearest tick after (step=1) or before (step=-1) `tick` with an event matching `filters`."""
        return self._next("events", tick, filters, step)

    def next_judgement(self, tick: int, filters: JudgementFilters = JudgementFilters(), step: int = 1) -> int | None:
        """The nearest tick after (step=1) or before (step=-1) `tick` with a judge message matching `filters`."""
        return self._next("judgements", tick, filters, step) if self.has_judgements else None

    def _next(self, table: str, tick: int, filters: Filters | JudgementFilters, step: int) -> int | None:
        cond, params = filters.where()
        op, agg = (">", "min") if step > 0 else ("<", "max")
        row = self.db.execute(
            f"select {agg}(tick) from {table} where run_id = ? and tick {op} ?{cond}", [self.run_id, tick, *params]
        ).fetchone()
        return row[0]

    # -- what happened in a tick --------------------------------------------------------------
    def events(self, tick: int, filters: Filters = Filters(), offset: int = 0, limit: int = PAGE) -> Page:
        cond, params = filters.where()
        base = f"from events where run_id = ? and tick = ?{cond}"
        args = [self.run_id, tick, *params]
        rows = self.db.execute(
            f"select tick, seq, sim_time, agent_id, kind, payload_json {base} order by seq limit ? offset ?",
            [*args, limit, offset],
        )
        events = [Event(t, s, st or "", a, k, _loads(p)) for t, s, st, a, k, p in rows]
        total = self._count(base, args, len(events), offset, limit)
        return Page(events, total, offset)

    def exposures(self, tick: int, filters: Filters = Filters(), offset: int = 0, limit: int = PAGE) -> Page:
        """What agents were shown in `tick` (the agent and text filters apply; event kind does not)."""
        cond, params = filters.where(with_kind=False, text_column="items_json")
        base = f"from exposures where run_id = ? and tick = ?{cond}"
        args = [self.run_id, tick, *params]
        rows = self.db.execute(
            f"select tick, seq, agent_id, items_json {base} order by seq limit ? offset ?", [*args, limit, offset]
        )
        found = [Exposure(t, s, a, _loads(i)) for t, s, a, i in rows]
        return Page(found, self._count(base, args, len(found), offset, limit), offset)

    def judgements(self, tick: int, filters: JudgementFilters = JudgementFilters(), offset: int = 0,
                   limit: int = PAGE) -> Page:
        """The judge messages recorded in `tick` (a run's judges write in `finish()`, so theirs
        are in the last tick), in the order they were recorded."""
        if not self.has_judgements:
            return Page([], 0, offset)
        cond, params = filters.where()
        base = f"from judgements where run_id = ? and tick = ?{cond}"
        args = [self.run_id, tick, *params]
        rows = self.db.execute(f"select {JUDGEMENT_COLUMNS} {base} order by seq limit ? offset ?", [*args, limit, offset])
        found = [_judgement(row) for row in rows]
        return Page(found, self._count(base, args, len(found), offset, limit), offset)

    def judgement_facets(self) -> dict[str, list[str]]:
        """The run's judge ids, phases and item ids (what the judgement filters can pick), each
        in order of first appearance. A run has tens to thousands of judge messages: cheap."""
        if not self.has_judgements:
            return {"judge": [], "phase": [], "item": []}
        rows = self.db.execute(
            "select judge_id, phase, item_id from judgements where run_id = ? order by tick, seq", [self.run_id]
        ).fetchall()
        return {name: list(dict.fromkeys(r[i] for r in rows)) for i, name in enumerate(("judge", "phase", "item"))}

    def _count(self, base: str, args: list, got: int, offset: int, limit: int) -> int:
        if got < limit:  # the page is the rest: no second query needed
            return offset + got
        return self.db.execute(f"select count(*) {base}", args).fetchone()[0]

    def kinds(self) -> list[str]:
        """Event kinds of the run. This scans all its events (seconds at a million, from a cold
        cache), so it runs on a connection of its own: a viewer can call it from a worker
        thread and keep stepping meanwhile."""
        if self._kinds is None:
            path = self.db.execute("PRAGMA database_list").fetchone()[2]
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                rows = conn.execute("select distinct kind from events where run_id = ? order by kind", [self.run_id])
                self._kinds = [r[0] for r in rows]
            finally:
                conn.close()
        return self._kinds

    # -- agents ---------------------------------------------------------------------------------
    def agents(self) -> dict[str, dict]:
        """agent_id -> {"kind", "persona_id", "persona"}."""
        if self._agents is None:
            rows = self.db.execute(
                "select agent_id, kind, persona_id, persona_json from agents where run_id = ? order by agent_id",
                [self.run_id],
            )
            self._agents = {a: {"kind": k, "persona_id": p, "persona": _loads(j)} for a, k, p, j in rows}
        return self._agents

    def agent(self, agent_id: str) -> dict:
        info = self.agents().get(agent_id)
        if info is None:
            raise UsageError(f"agent {agent_id!r} is not in run {self.run_id}")
        return info

    def agent_states(self, agent_id: str) -> list[tuple[int, Any]]:
        """The agent's state snapshots over time, as (tick, state)."""
        rows = self.db.execute(
            "select tick, state_json from agent_state where run_id = ? and agent_id = ? order by tick",
            [self.run_id, agent_id],
        )
        return [(t, _loads(s)) for t, s in rows]

    def agent_calls(self, agent_id: str, tick: int | None = None, offset: int = 0, limit: int = PAGE) -> Page:
        """The agent's LLM calls (in one tick, or all of them), oldest first."""
        base = "from llm_calls where run_id = ? and agent_id = ?"
        args: list = [self.run_id, agent_id]
        if tick is not None:
            base += " and tick = ?"
            args.append(tick)
        rows = self.db.execute(
            "select tick, seq, purpose, model, messages_json, response_json, parsed_ok, tokens_in, tokens_out,"
            f" latency_ms, cached, attempts {base} order by tick, seq limit ? offset ?",
            [*args, limit, offset],
        )
        calls = [_call(row) for row in rows]
        return Page(calls, self._count(base, args, len(calls), offset, limit), offset)

    # -- whole-run iterators (the HTML report embeds a run; keep those runs modest) -------------
    def iter_events(self) -> Iterator[Event]:
        rows = self.db.execute(
            "select tick, seq, sim_time, agent_id, kind, payload_json from events where run_id = ? order by tick, seq",
            [self.run_id],
        )
        for t, s, st, a, k, p in rows:
            yield Event(t, s, st or "", a, k, _loads(p))

    def iter_exposures(self) -> Iterator[Exposure]:
        rows = self.db.execute(
            "select tick, seq, agent_id, items_json from exposures where run_id = ? order by tick, seq", [self.run_id]
        )
        for t, s, a, i in rows:
            yield Exposure(t, s, a, _loads(i))

    def iter_judgements(self) -> Iterator[Judgement]:
        if not self.has_judgements:
            return
        rows = self.db.execute(f"select {JUDGEMENT_COLUMNS} from judgements where run_id = ? order by tick, seq", [self.run_id])
        for row in rows:
            yield _judgement(row)

    def iter_states(self) -> Iterator[tuple[int, str, Any]]:
        """Every state snapshot as (tick, agent_id, state)."""
        rows = self.db.execute(
            "select tick, agent_id, state_json from agent_state where run_id = ? order by tick, agent_id", [self.run_id]
        )
        for t, a, s in rows:
            yield t, a, _loads(s)

    def iter_calls(self) -> Iterator[tuple[str | None, LLMCall]]:
        """Every LLM call of the run with its agent, in (tick, seq) order (for the HTML report)."""
        rows = self.db.execute(
            "select agent_id, tick, seq, purpose, model, messages_json, response_json, parsed_ok, tokens_in,"
            " tokens_out, latency_ms, cached, attempts from llm_calls where run_id = ? order by tick, seq",
            [self.run_id],
        )
        for row in rows:
            yield row[0], _call(row[1:])

    # -- metrics --------------------------------------------------------------------------------
    def series(self, since: int = 0) -> dict[str, Series]:
        """Per-tick metrics from tick `since` on, keyed by name{labels}, on the plugin's time
        axis (`simkit.store.series`)."""
        return read_series(self.db, self.run_id, self.axis, since)

    @property
    def axis(self) -> TimeAxis:
        if self._axis is None:
            self._axis = axis_of(self.plugin)
        return self._axis

    def marks(self) -> list[Mark]:
        return marks_of(self.plugin, self.db, self.run_id)

    def final_metrics(self) -> dict[str, float]:
        """The run's final metrics (stored at tick -1 when the run finished)."""
        rows = self.db.execute(
            "select name, labels_json, value from metrics where run_id = ? and tick = -1 order by name, labels_json",
            [self.run_id],
        )
        return {metric_key(n, _loads(lab) or {}): v for n, lab, v in rows}


def _call(row) -> LLMCall:
    tick, seq, purpose, model, messages, response, ok, tin, tout, latency, cached, attempts = row
    answer = _loads(response)
    return LLMCall(
        tick, seq, purpose or "", model or "", _loads(messages) or [],
        answer.get("text", "") if isinstance(answer, dict) else str(answer or ""),
        bool(ok), tin or 0, tout or 0, latency or 0.0, bool(cached), attempts or 1,
    )
