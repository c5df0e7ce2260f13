"""The terminal viewer driven with textual's pilot: keys pressed, screen text asserted."""

from __future__ import annotations

import html
import re
import time
from collections import defaultdict

from simkit.replay.data import ReplayData
from simkit.replay.tui import AgentScreen, ReplayApp

SIZE = (170, 48)


def screen_text(app) -> str:
    """The visible screen as plain text lines (from textual's SVG screenshot)."""
    svg = app.export_screenshot()
    lines: dict[int, list[tuple[float, str]]] = defaultdict(list)
    for m in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="([\d.]+)" '
                         r'clip-path="url\(#[^)]*-line-(\d+)\)">([^<]*)</text>', svg):
        lines[int(m[3])].append((float(m[1]), html.unescape(m[4])))
    out = []
    for n in sorted(lines):
        row = ""
        for x, text in sorted(lines[n]):
            col = round(x / 12.2)
            row = row.ljust(col) + text
        out.append(row.replace("\xa0", " "))
    return "\n".join(out)


async def wait_for(pilot, condition, timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds (timers fire late on a busy machine)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


def status(app) -> str:
    return screen_text(app).splitlines()[0]


def event_rows(app) -> list[list[str]]:
    return [list(row) for row in app.query_one("#events").rows]


async def test_steps_through_ticks_and_jumps(small_run):
    app = ReplayApp(ReplayData.open(small_run.writer.path, small_run.run_id))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = screen_text(app)
        assert "synthetic-run" in screen and "tick 0 of 0-4" in screen
        assert "hello from a0 at 0" in screen  # the event list
        assert "board line 0" in screen  # what the agents were shown
        await pilot.press("right", "right")
        assert "tick 2 of 0-4" in status(app)
        await pilot.press("left")
        assert "tick 1 of 0-4" in status(app)
        await pilot.press("g", *"4", "enter")
        await pilot.pause()
        assert "tick 4 of 0-4" in status(app)
        assert [r[2] for r in event_rows(app)] == ["a0", "a1", "a2", "(world)"]
        await pilot.press("right")  # already at the last tick: stays
        assert "tick 4 of 0-4" in status(app)
        await pilot.press("home")
        assert "tick 0 of 0-4" in status(app)


async def test_filters_by_agent_kind_and_text(small_run):
    app = ReplayApp(ReplayData.open(small_run.writer.path, small_run.run_id))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f", *"a1", "enter")
        await pilot.pause()
        assert [r[2] for r in event_rows(app)] == ["a1"]
        assert "filter: agent=a1" in status(app)
        await pilot.press("c", "k")  # kinds (read in a worker) cycle: news, post, all
        await wait_for(pilot, lambda: [r[3] for r in event_rows(app)] == ["news"])
        await pilot.press("k")
        assert [r[3] for r in event_rows(app)] == ["post", "post", "post"]
        await pilot.press("c", "slash", *"bonjour", "enter")
        await pilot.pause()
        assert event_rows(app) == [] and "events of tick 0: none" in screen_text(app)
        await pilot.press("n")  # the next tick where the search matches
        assert "tick 3 of 0-4" in status(app)
        assert all("bonjour" in r[4] for r in event_rows(app)) and len(event_rows(app)) == 3


async def test_agent_drill_down_shows_persona_states_and_llm_calls(small_run):
    app = ReplayApp(ReplayData.open(small_run.writer.path, small_run.run_id), start_tick=2)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("down", "a")  # the second event: agent a1
        await pilot.pause()
        assert isinstance(app.screen, AgentScreen)
        screen = screen_text(app)
        assert "agent a1" in screen and "Name a1" in screen and "a1 likes tea" in screen
        assert "LLM calls (5)" in screen and "tick 0, say something" in screen and "10→5 tokens" in screen
        await pilot.press("escape")
        assert not isinstance(app.screen, AgentScreen) and "tick 2 of 0-4" in status(app)


async def test_play_advances_until_the_end_of_a_finished_run(small_run):
    app = ReplayApp(ReplayData.open(small_run.writer.path, small_run.run_id))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        assert "playing 1 ticks/s" in status(app)
        await pilot.press("plus", "plus")
        assert "playing 5 ticks/s" in status(app)
        await wait_for(pilot, lambda: "playing" not in status(app))
        assert "tick 4 of 0-4" in status(app)


async def test_metrics_panel_shows_the_value_at_the_selected_tick(small_run):
    app = ReplayApp(ReplayData.open(small_run.writer.path, small_run.run_id), start_tick=3)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert re.search(r"mood .*0\.75 @t3", screen_text(app))


async def test_follows_a_run_while_it_is_written(builder):
    app = ReplayApp(ReplayData.open(builder.writer.path, builder.run_id), poll_seconds=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "no tick committed yet" in status(app) and "following" in status(app)
        builder.tick()
        await wait_for(pilot, lambda: "tick 0 of 0-0" in status(app))
        builder.tick(said="fresh")
        builder.tick(said="fresher")
        await wait_for(pilot, lambda: "tick 2 of 0-2" in status(app))
        assert "fresher from a0 at 2" in screen_text(app)


async def test_a_real_plugin_run_through_the_viewer(townhall_run):
    db, run_id = townhall_run
    data = ReplayData.open(db, run_id)
    app = ReplayApp(data)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("end")
        assert "tick 5 of 0-5" in status(app) and "[finished]" in status(app)
        assert len(event_rows(app)) == data.events(5).total
        assert "was shown" in screen_text(app) and "mood.mean" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert "persona" in screen_text(app) and "answer" in screen_text(app)


def judgement_rows(app) -> list[list[str]]:
    return [list(row) for row in app.query_one("#judgements").rows]


async def test_judge_messages_view_with_filters_search_and_jumps(judged_run):
    app = ReplayApp(ReplayData.open(judged_run.writer.path, judged_run.run_id))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert re.search(r"│ +1 00:01 +4 +1 +│", screen_text(app))  # the timeline counts judge messages
        await pilot.press("j")
        await pilot.pause()
        assert "judge messages" in status(app)
        assert "judge messages of tick 0: none  (nearest in tick 1: n / N)" in screen_text(app)
        await pilot.press("n", "n")  # tick 1 (a disclosure check), then the last tick (the panel)
        assert "tick 4 of 0-4" in status(app)
        assert [r[1:5] for r in judgement_rows(app)] == [
            ["critic", "independent", "0", "yes"], ["public", "independent", "0", "NO"],
            ["critic", "debate", "1", "yes"], ["arbiter", "arbiter", "3", "yes"]]
        screen = screen_text(app)
        assert "critic (judge): independent score, round 0" in screen  # the selected message in full
        assert "scores fluency 5, immersion 4" in screen and "“hello from a0 at 4”" in screen
        await pilot.press("down")
        screen = screen_text(app)
        assert "public (judge): independent score" in screen and "answer never parsed" in screen
        assert "scores fluency n/a, immersion n/a" in screen
        await pilot.press("f", *"critic", "enter")
        await pilot.pause()
        assert [r[2] for r in judgement_rows(app)] == ["independent", "debate"] and "filter: judge=critic" in status(app)
        await pilot.press("k")  # phases cycle in order of appearance: disclosure, independent, ...
        assert judgement_rows(app) == [] and "phase=disclosure" in status(app)
        await pilot.press("k")
        assert [r[1] for r in judgement_rows(app)] == ["critic"]
        await pilot.press("c", "slash", *"greeting", "enter")
        await pilot.pause()
        assert [r[2] for r in judgement_rows(app)] == ["debate"]
        await pilot.press("j")  # back to the events: the same search applies to them
        await pilot.pause()
        assert event_rows(app) == [] and "events of tick 4: none" in screen_text(app)
        await pilot.press("c")
        assert len(event_rows(app)) == 4 and "4 judge messages (j shows them)" in screen_text(app)


async def test_a_run_without_judges_says_so(small_run):
    app = ReplayApp(ReplayData.open(small_run.writer.path, small_run.run_id))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j")
        await pilot.pause()
        assert judgement_rows(app) == [] and "(this run has no judge messages)" in screen_text(app)
        assert "no judge message selected" in screen_text(app)
