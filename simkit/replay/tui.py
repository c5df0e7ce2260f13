"""The terminal viewer: step through a run tick by tick, filter it, drill into agents, read
the judges' messages (`j` switches the list between events and judge messages).

Each step runs a handful of indexed queries for the new tick (see `data.py`), so the viewer
is as quick on a million-event run as on a small one. A timer re-reads the last committed
tick, so a run still being written grows under the viewer; with follow on (`F`), the view
moves to each new tick as it is committed.
"""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, Label, Sparkline, Static

from simkit.replay.data import (
    Event,
    Filters,
    Judgement,
    JudgementFilters,
    ReplayData,
    Series,
)
from simkit.replay.event_list import JUDGEMENT_COLUMNS, EventList, header
from simkit.replay.render import Renderer, plain, renderer_for, to_rich, value_block

SPEEDS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0)
EVENT_PAGE = 200
SUMMARY_CHARS = 200
SHOWN_EXPOSURES = 12


class Prompt(ModalScreen[str | None]):
    """A one-line question (jump to tick, agent filter, search); Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, question: str, value: str = ""):
        super().__init__()
        self.question = question
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Label(self.question)
            yield Input(value=self.value, id="prompt-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class AgentScreen(Screen):
    """One agent: persona, state snapshots over time, and every LLM call with its messages."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "back")]
    CALLS_SHOWN = 100

    def __init__(self, data: ReplayData, agent_id: str, tick: int):
        super().__init__()
        self.data, self.agent_id, self.tick = data, agent_id, tick

    def compose(self) -> ComposeResult:
        data, agent_id = self.data, self.agent_id
        info = data.agents().get(agent_id)
        title = f"agent {agent_id}" + (f" · {info['kind']}" if info else "")
        yield Static(Text(title, style="bold"), id="agent-title")
        with VerticalScroll(id="agent-body"):
            persona = info["persona"] if info else None
            yield Static(Panel(to_rich(value_block(persona)), title="persona", title_align="left"), id="agent-persona")
            states = Table(box=None, expand=True)
            states.add_column("tick", width=6)
            states.add_column("state")
            for tick, state in data.agent_states(agent_id):
                states.add_row(Text(str(tick), style="bold" if tick == self.tick else ""), to_rich(value_block(state)))
            yield Static(Panel(states, title="state over time", title_align="left"), id="agent-states")
            calls = data.agent_calls(agent_id, limit=self.CALLS_SHOWN)
            shown = f"{len(calls.rows)} of {calls.total}" if calls.total > len(calls.rows) else str(calls.total)
            yield Static(Panel(Group(*(_call_view(c) for c in calls.rows)) if calls.rows else Text("none", style="dim"),
                               title=f"LLM calls ({shown})", title_align="left"), id="agent-calls")
        yield Footer()


def _summary(block) -> str:
    """One line for the list: a titled box without its title (the columns say who and when)."""
    if "section" in block:
        return " ".join(plain(b) for b in block["body"])
    return plain(block)


def _call_view(call) -> Panel:
    """One LLM call: its messages, the answer, and the accounting."""
    parts = []
    for message in call.messages:
        parts.append(Text(str(message.get("role", "")), style="bold dim"))
        parts.append(Text(str(message.get("content", ""))))
    parts.append(Text("answer", style="bold green" if call.parsed_ok else "bold red"))
    parts.append(Text(call.answer))
    title = (f"t{call.tick} · {call.purpose} · {call.model} · {call.tokens_in}→{call.tokens_out} tokens · "
             f"{call.latency_ms:.0f} ms" + (" · cached" if call.cached else "") + ("" if call.parsed_ok else " · parse failed"))
    return Panel(Group(*parts), title=Text(title), title_align="left")


def _fit(key: str, width: int) -> str:
    """A series key cut in the middle, so both the metric and its labels stay readable."""
    if len(key) <= width:
        return key
    head = (width - 1) // 2
    return key[:head] + "…" + key[-(width - 1 - head):]


class ReplayApp(App):
    """`simkit replay RUN_ID`."""

    CSS_PATH = "templates/tui.css"
    TITLE = "simkit replay"
    BINDINGS = [
        Binding("right,l", "step(1)", "next"),
        Binding("left,h", "step(-1)", "prev"),
        Binding("home", "goto_first", "first", show=False),
        Binding("end", "goto_last", "last", show=False),
        Binding("g", "jump", "jump"),
        Binding("space", "play", "play/pause"),
        Binding("plus,equals_sign", "speed(1)", "faster", show=False),
        Binding("minus", "speed(-1)", "slower", show=False),
        Binding("f", "filter_agent", "agent"),
        Binding("k", "cycle_kind", "kind"),
        Binding("j", "toggle_view", "events/judges"),
        Binding("i", "filter_item", "item", show=False),
        Binding("slash", "search", "search"),
        Binding("n", "next_match(1)", "next match"),
        Binding("N", "next_match(-1)", "prev match", show=False),
        Binding("c", "clear_filters", "clear"),
        Binding("a,enter", "agent", "agent view"),
        Binding("right_square_bracket", "page(1)", "more events", show=False),
        Binding("left_square_bracket", "page(-1)", "earlier events", show=False),
        Binding("F", "toggle_follow", "follow", show=False),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, data: ReplayData, start_tick: int | None = None, renderer: Renderer | None = None,
                 poll_seconds: float = 1.0):
        super().__init__()
        self.data = data
        self.renderer = renderer or renderer_for(data.plugin)
        if start_tick is None:  # the first tick where something happened
            start_tick = data.next_match(data.first_tick - 1, Filters())
        self.tick = data.first_tick if start_tick is None else min(max(start_tick, data.first_tick), max(data.last_tick, 0))
        self.filters = Filters()
        self.offset = 0
        self.events: list[Event] = []
        self.view = "events"  # or "judgements": what the list in the middle shows
        self.jfilters = JudgementFilters()
        self.judgements: list[Judgement] = []
        self.detail_of: Event | Judgement | None = None
        self.kinds: list[str] | None = None
        self.speed = 1.0
        self.player = None
        self.follow = data.live
        self.poll_seconds = poll_seconds
        self.series: dict[str, Series] = {}
        self.sparklines: dict[str, tuple[Sparkline, Static]] = {}

    # -- layout -----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(id="status")
        with Horizontal(id="main"):
            yield Static(id="timeline")
            with Vertical(id="middle"):
                with Vertical(id="events-box"):
                    yield Static(header(), id="events-header")
                    yield EventList(id="events")
                    yield Static(header(JUDGEMENT_COLUMNS), id="judgements-header")
                    yield EventList(JUDGEMENT_COLUMNS, id="judgements")
                yield Static(id="page-info")
                with VerticalScroll(id="exposures-box"):
                    yield Static(id="exposures")
            with VerticalScroll(id="detail-box"):
                yield Static(id="detail")
        with VerticalScroll(id="metrics"):
            yield Static(id="metrics-note")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#events", EventList)
        self.query_one("#events-box").border_title = "events"
        self.query_one("#timeline").border_title = "timeline"
        self.query_one("#exposures-box").border_title = "exposures: what each agent was shown"
        self.query_one("#detail-box").border_title = "event"
        self.query_one("#metrics").border_title = "metrics"
        self.query_one("#judgements-header").display = False
        self.query_one("#judgements").display = False
        self.metrics_note = self.query_one("#metrics-note", Static)
        self.series = self.data.series()
        self._build_metrics()
        self.show_tick()
        table.focus()
        self.set_interval(self.poll_seconds, self.poll)

    # -- drawing ------------------------------------------------------------------------------
    def show_tick(self) -> None:
        """Redraw everything that depends on the current tick and filters (one screen update)."""
        with self.batch_update():
            self._draw_tick()

    def _draw_tick(self) -> None:
        data, tick = self.data, self.tick
        if self.view == "judgements":
            page = data.judgements(tick, self.jfilters, self.offset, EVENT_PAGE)
            self.judgements = page.rows
            self.query_one("#judgements", EventList).set_rows([
                (str(j.seq), j.judge_id, j.phase, str(j.round), "yes" if j.parsed_ok else "NO",
                 _summary(self.renderer.judgement(j))[:SUMMARY_CHARS])
                for j in self.judgements
            ])
            what, note = "judge messages", "" if page.rows else self._where_judged()
        else:
            page = data.events(tick, self.filters, self.offset, EVENT_PAGE)
            self.events = page.rows
            self.query_one("#events", EventList).set_rows([
                (str(e.seq), e.sim_time[11:19], e.agent_id or "(world)", e.kind, plain(self.renderer.event(e))[:SUMMARY_CHARS])
                for e in self.events
            ])
            judged = data.judgement_counts(tick, tick).get(tick, 0)
            what, note = "events", f"  · {judged:,} judge messages (j shows them)" if judged else ""
        shown = f"{page.offset + 1}-{page.offset + len(page.rows)} of {page.total:,}" if page.rows else "none"
        more = "  ([ / ] for more)" if page.total > EVENT_PAGE else ""
        self.query_one("#page-info", Static).update(Text(f"{what} of tick {tick}: {shown}{more}{note}", style="dim"), layout=False)
        self._show_exposures()
        self._show_detail()
        self._show_timeline()
        self._show_status()
        self._show_metric_values()

    def _show_status(self) -> None:
        run, data = self.data.run, self.data
        info = data.tick(self.tick)
        parts = [
            (f"{run['scenario']} ", "bold"), (f"{data.run_id}  ", "dim"),
            (f"tick {self.tick} of {data.first_tick}-{data.last_tick}" if data.last_tick >= 0 else "no tick committed yet", "bold"),
            (f"  {info.sim_time if info else ''}  {info.active_agents if info else 0} active", ""),
            (f"  [{run['status']}]", "green" if run["status"] == "finished" else "yellow"),
        ]
        if self.player is not None:
            parts.append((f"  ▶ playing {self.speed:g} ticks/s", "bold magenta"))
        if self.follow and data.live:
            parts.append(("  following", "cyan"))
        if self.view == "judgements":
            parts.append(("  judge messages", "bold cyan"))
            f = self.jfilters
            shown = ", ".join(x for x in (f"judge={f.judge}" * bool(f.judge), f"phase={f.phase}" * bool(f.phase),
                                          f"item={f.item}" * bool(f.item), f"text={f.text!r}" * bool(f.text)) if x)
        else:
            f = self.filters
            shown = ", ".join(x for x in (f"agent={f.agent}" * bool(f.agent), f"kind={f.kind}" * bool(f.kind),
                                          f"text={f.text!r}" * bool(f.text)) if x)
        if shown:
            parts.append((f"  filter: {shown}", "bold yellow"))
        self.query_one("#status", Static).update(Text.assemble(*parts), layout=False)

    def _show_timeline(self) -> None:
        widget = self.query_one("#timeline", Static)
        half = max((widget.size.height or 20) - 1, 4) // 2
        start = max(self.data.first_tick, self.tick - half)
        stop = min(self.data.last_tick, start + 2 * half)
        counts = self.data.event_counts(start, stop, self.filters)
        judged = self.data.judgement_counts(start, stop, self.jfilters)
        lines = [Text(f"{'tick':>6} {'time':<5} {'events':>7} {'judge':>5}", style="bold")]
        for t in self.data.ticks(start, stop):
            n, m = counts.get(t.tick, 0), judged.get(t.tick, 0)
            shown = m if self.view == "judgements" else n
            style = "reverse bold" if t.tick == self.tick else ("dim" if not shown else "")
            lines.append(Text(f"{t.tick:>6} {t.sim_time[11:16]:<5} {n:>7,} {m or '':>5}", style=style))
        widget.update(Text("\n").join(lines), layout=False)

    def _show_exposures(self) -> None:
        page = self.data.exposures(self.tick, self.filters, 0, SHOWN_EXPOSURES)
        parts = []
        for x in page.rows:
            parts.append(Text.assemble((x.agent_id, "bold cyan"), (" was shown:", "dim")))
            parts.append(to_rich(self.renderer.exposure(x)))
        if page.total > len(page.rows):
            parts.append(Text(f"… {page.total - len(page.rows):,} more (filter by agent with f)", style="dim"))
        self.query_one("#exposures", Static).update(Group(*parts) if parts else Text("nothing recorded", style="dim"))

    def _show_detail(self) -> None:
        widget = self.query_one("#detail", Static)
        if self.view == "judgements":
            self.query_one("#detail-box").border_title = "judge message"
            j = self.detail_of = self.selected_judgement()
            if j is None:
                widget.update(Text("no judge message selected", style="dim"))
                return
            head = Text.assemble((f"tick {j.tick} #{j.seq}  ", "dim"), (j.judge_id, "bold cyan"), ("  "), (j.phase, "bold"),
                                 (f"  item {j.item_id}" if j.item_id else "", "dim"))
            widget.update(Group(head, to_rich(self.renderer.judgement(j))))
            return
        self.query_one("#detail-box").border_title = "event"
        event = self.detail_of = self.selected_event()
        if event is None:
            widget.update(Text("no event selected", style="dim"))
            return
        head = Text.assemble((f"tick {event.tick} #{event.seq}  ", "dim"), (event.agent_id or "(world)", "bold cyan"),
                             ("  "), (event.kind, "bold"))
        parts = [head, to_rich(self.renderer.event(event))]
        if event.agent_id:
            calls = self.data.agent_calls(event.agent_id, tick=event.tick, limit=5)
            parts += [_call_view(c) for c in calls.rows]
        widget.update(Group(*parts))

    def _build_metrics(self) -> None:
        """One sparkline per series of two or more points; a series recorded at one tick only
        (e.g. a per-hour label) is counted, not drawn."""
        box = self.query_one("#metrics", VerticalScroll)
        once = 0
        for key, series in self.series.items():
            values = series.values()  # a NULL value (not computable at that tick) is left out
            if len(values) < 2:
                once += 1
            elif key in self.sparklines:
                self.sparklines[key][0].data = values
            else:
                spark = Sparkline(values, summary_function=max)
                value = Static(classes="metric-value")
                self.sparklines[key] = (spark, value)
                box.mount(Horizontal(Label(Text(_fit(key, 39)), classes="metric-name"), spark, value, classes="metric"),
                          before=self.metrics_note)
        note = f"{once} series recorded at one tick only (simkit runs show, or the HTML report, lists them)" if once else ""
        if not self.series:
            note = "no per-tick metrics"
        self.metrics_note.update(Text(note, style="dim"))
        self.metrics_note.display = bool(note)

    def _show_metric_values(self) -> None:
        for key, (_spark, value) in self.sparklines.items():
            v = self.series[key].value_at(self.tick)
            value.update(Text(f"{v:.4g} @t{self.tick}" if v is not None else "–"), layout=False)

    def selected_event(self) -> Event | None:
        if not self.events:
            return None
        return self.events[min(max(self.query_one("#events", EventList).cursor, 0), len(self.events) - 1)]

    def selected_judgement(self) -> Judgement | None:
        if not self.judgements:
            return None
        return self.judgements[min(max(self.query_one("#judgements", EventList).cursor, 0), len(self.judgements) - 1)]

    def _selected(self) -> Event | Judgement | None:
        return self.selected_judgement() if self.view == "judgements" else self.selected_event()

    def _where_judged(self) -> str:
        """Where the nearest judge messages are, for a tick without any."""
        before = self.data.next_judgement(self.tick, self.jfilters, -1)
        after = self.data.next_judgement(self.tick, self.jfilters, 1)
        found = [str(t) for t in (before, after) if t is not None]
        if not found:
            return "  (no judge message in this run matches)" if self.jfilters else "  (this run has no judge messages)"
        return f"  (nearest in tick {' and '.join(found)}: n / N)"

    def on_event_list_highlighted(self, _event: EventList.Highlighted) -> None:
        if self._selected() != self.detail_of:
            self._show_detail()

    # -- following a live run -------------------------------------------------------------------
    def poll(self) -> None:
        was_last = self.tick >= self.data.last_tick
        known = self.data.last_tick
        if not self.data.refresh():
            return
        if self.data.last_tick > known:
            self.series = self.data.series()
        self._build_metrics()
        if self.follow and was_last and self.player is None:
            self.goto(self.data.last_tick)
        else:
            self._show_timeline()
            self._show_status()

    # -- actions --------------------------------------------------------------------------------
    def goto(self, tick: int) -> None:
        tick = min(max(tick, self.data.first_tick), max(self.data.last_tick, self.data.first_tick))
        if tick != self.tick:
            self.tick, self.offset = tick, 0
        self.show_tick()

    def action_step(self, delta: int) -> None:
        self.goto(self.tick + delta)

    def action_goto_first(self) -> None:
        self.goto(self.data.first_tick)

    def action_goto_last(self) -> None:
        self.goto(self.data.last_tick)

    def action_page(self, delta: int) -> None:
        if self.view == "judgements":
            total = self.data.judgements(self.tick, self.jfilters, 0, 1).total
        else:
            total = self.data.events(self.tick, self.filters, 0, 1).total
        self.offset = min(max(self.offset + delta * EVENT_PAGE, 0), max(total - 1, 0) // EVENT_PAGE * EVENT_PAGE)
        self.show_tick()

    def action_jump(self) -> None:
        def done(answer: str | None) -> None:
            if answer:
                try:
                    self.goto(int(answer))
                except ValueError:
                    self.notify(f"not a tick number: {answer}", severity="error")

        self.push_screen(Prompt(f"jump to tick ({self.data.first_tick}-{self.data.last_tick}):"), done)

    def action_play(self) -> None:
        if self.player is not None:
            self.player.stop()
            self.player = None
        else:
            self.player = self.set_interval(1 / self.speed, self._play_step)
        self._show_status()

    def _play_step(self) -> None:
        if self.tick >= self.data.last_tick:
            if not self.data.live:
                self.action_play()  # the end of a finished run: stop
            return
        self.goto(self.tick + 1)

    def action_speed(self, delta: int) -> None:
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else 1
        self.speed = SPEEDS[min(max(i + delta, 0), len(SPEEDS) - 1)]
        if self.player is not None:
            self.player.stop()
            self.player = self.set_interval(1 / self.speed, self._play_step)
        self._show_status()

    def _set_filters(self, **changes) -> None:
        fields = {"agent": self.filters.agent, "kind": self.filters.kind, "text": self.filters.text}
        self.filters = Filters(**{**fields, **{k: v for k, v in changes.items() if k in fields}})
        jfields = {"judge": self.jfilters.judge, "phase": self.jfilters.phase, "item": self.jfilters.item, "text": self.jfilters.text}
        self.jfilters = JudgementFilters(**{**jfields, **{k: v for k, v in changes.items() if k in jfields}})
        self.offset = 0
        self.show_tick()

    def action_toggle_view(self) -> None:
        """Switch the list between the tick's events and its judge messages."""
        self.view = "events" if self.view == "judgements" else "judgements"
        judging = self.view == "judgements"
        for name, shown in (("events", not judging), ("judgements", judging)):
            self.query_one(f"#{name}-header").display = shown
            self.query_one(f"#{name}").display = shown
        self.query_one("#events-box").border_title = "judge messages" if judging else "events"
        self.offset = 0
        self.show_tick()
        self.query_one("#judgements" if judging else "#events", EventList).focus()

    def _filter_judgements(self, key: str, question: str, default: str) -> None:
        known = self.data.judgement_facets()[key]

        def done(answer: str | None) -> None:
            if answer is None:
                return
            if answer and answer not in known:
                self.notify(f"no {key} {answer!r} among this run's judge messages", severity="error")
                return
            self._set_filters(**{key: answer})

        self.push_screen(Prompt(f"{question} (empty: all; known: {', '.join(known[:8]) or 'none'}):", default), done)

    def action_filter_item(self) -> None:
        j = self.selected_judgement()
        self._filter_judgements("item", "filter judge messages by item", self.jfilters.item or (j.item_id if j else ""))

    def action_filter_agent(self) -> None:
        if self.view == "judgements":
            j = self.selected_judgement()
            self._filter_judgements("judge", "filter by judge id", self.jfilters.judge or (j.judge_id if j else ""))
            return
        event = self.selected_event()
        default = self.filters.agent or (event.agent_id if event and event.agent_id else "")

        def done(answer: str | None) -> None:
            if answer is None:
                return
            if answer and answer not in self.data.agents():
                self.notify(f"no agent {answer!r} in this run", severity="error")
                return
            self._set_filters(agent=answer)

        self.push_screen(Prompt("filter by agent id (empty: all agents):", default), done)

    def action_cycle_kind(self) -> None:
        """Next event kind (the first press reads the run's kinds in a worker thread); in the
        judgements view, the next phase."""
        if self.view == "judgements":
            phases = ["", *self.data.judgement_facets()["phase"]]
            i = phases.index(self.jfilters.phase) if self.jfilters.phase in phases else 0
            self._set_filters(phase=phases[(i + 1) % len(phases)])
            return
        if self.kinds is None:
            self.notify("reading the event kinds of the run…")
            self.run_worker(self._read_kinds, thread=True, exclusive=True, group="kinds")
            return
        kinds = ["", *self.kinds]
        i = kinds.index(self.filters.kind) if self.filters.kind in kinds else 0
        self._set_filters(kind=kinds[(i + 1) % len(kinds)])

    def _read_kinds(self) -> None:
        kinds = self.data.kinds()

        def ready() -> None:
            self.kinds = kinds
            self.action_cycle_kind()

        self.call_from_thread(ready)

    def action_search(self) -> None:
        def done(answer: str | None) -> None:
            if answer is not None:
                self._set_filters(text=answer)

        self.push_screen(Prompt("search text in events, exposures and judge messages (empty: clear):", self.filters.text), done)

    def action_next_match(self, step: int) -> None:
        if self.view == "judgements":
            found = self.data.next_judgement(self.tick, self.jfilters, step)
            if found is None:
                self.notify("no more matching ticks" if self.jfilters else "no more ticks with judge messages")
                return
            self.goto(found)
            return
        found = self.data.next_match(self.tick, self.filters, step)
        if found is None:
            self.notify("no more matching ticks" if self.filters else "no more ticks with events")
            return
        self.goto(found)

    def action_clear_filters(self) -> None:
        self._set_filters(agent="", kind="", text="", judge="", phase="", item="")

    def action_agent(self) -> None:
        if self.view == "judgements":
            self.notify("judges are not agents of the run: j goes back to the events", severity="warning")
            return
        event = self.selected_event()
        agent = self.filters.agent or (event.agent_id if event else None)
        if not agent:
            self.notify("select an event of an agent first", severity="warning")
            return
        self.push_screen(AgentScreen(self.data, agent, self.tick))

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow
        self._show_status()
