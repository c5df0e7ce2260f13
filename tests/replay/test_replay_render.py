"""Blocks, the generic renderer, and the plugin hook that both viewers use."""

from __future__ import annotations

import io

from rich.console import Console

from simkit.engine import registry
from simkit.replay.data import Event, Exposure, Judgement, ReplayData
from simkit.replay.html import report_data
from simkit.replay.render import Renderer, fields, group, items, plain, renderer_for, section, text, to_rich, value_block
from simkit.replay.tui import ReplayApp
from tests.replay.test_replay_tui import SIZE, screen_text


def rendered(block) -> str:
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(to_rich(block))
    return console.export_text()


def test_generic_views_of_payloads_and_exposures():
    event = Event(0, 0, "", "a1", "post", {"text": "hi", "tags": ["x", "y"], "meta": {"n": 1, "deep": [1, {"k": 2}]}})
    assert Renderer().event(event) == group([
        fields({"text": "hi", "tags": "x, y"}),
        section("meta", [group([fields({"n": "1"}), section("deep", [items([text("1"), fields({"k": "2"})], ordered=True)])])]),
    ])
    assert Renderer().event(Event(0, 0, "", None, "news", {"n": 1, "tags": []})) == fields({"n": "1", "tags": "(none)"})
    shown = Renderer().exposure(Exposure(0, 0, "a1", ["first", {"by": "b", "likes": 3}]))
    assert plain(shown) == "first | by: b  likes: 3"
    assert value_block([]) == {"text": "(nothing)", "style": "dim"}


def test_terminal_rendering_shows_markup_literally_and_numbers_items():
    out = rendered(section("page [red]x[/red]", [items([fields({"text": "[bold]hi[/bold]"}), value_block("two\nlines")], ordered=True)]))
    assert "page [red]x[/red]" in out and "text [bold]hi[/bold]" in out
    assert "2. two" in out and "   lines" in out


class TopicPage(Renderer):
    def event(self, event):
        return section(f"topic page seen by {event.agent_id}", [items([value_block(event.payload)], ordered=True)])

    def judgement(self, j):
        return text(f"verdict of {j.judge_id} on the topic page", "bold")


class Entry:
    def __init__(self, cls):
        self.cls = cls

    def load(self):
        return self.cls


def plugin_with(hook):
    return type("FakePlugin", (), {"replay_renderer": classmethod(hook)})


def test_a_plugin_renderer_is_used_and_a_broken_one_falls_back(monkeypatch):
    monkeypatch.setattr(registry, "available", lambda: {"synthetic": Entry(plugin_with(lambda cls: TopicPage()))})
    assert isinstance(renderer_for("synthetic"), TopicPage)
    assert type(renderer_for("not-installed")) is Renderer
    monkeypatch.setattr(registry, "available", lambda: {"synthetic": Entry(plugin_with(lambda cls: 1 / 0))})
    assert type(renderer_for("synthetic")) is Renderer


async def test_both_viewers_draw_the_plugin_renderer(monkeypatch, judged_run):
    monkeypatch.setattr(registry, "available", lambda: {"synthetic": Entry(plugin_with(lambda cls: TopicPage()))})
    data = ReplayData.open(judged_run.writer.path, judged_run.run_id)
    shown = report_data(data, renderer_for(data.plugin))
    assert shown["events"][0][5]["section"] == "topic page seen by a0"
    assert shown["judgements"][1][6] == text("verdict of critic on the topic page", "bold")
    app = ReplayApp(data)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "topic page seen by a0" in screen_text(app)
        await pilot.press("end", "j")
        await pilot.pause()
        assert "verdict of critic on the topic page" in screen_text(app)


def judgement(**changes) -> Judgement:
    base = {"tick": 4, "seq": 0, "item_id": "ep-1", "judge_id": "critic", "role": "judge", "phase": "independent",
            "round": 0, "metrics": ["immersion"], "text": "Vivid [bold]and[/bold] <b>in character</b>.",
            "scores": {"immersion": 4.0, "logic": 3.5}, "evidence": ["hello from a0"], "visible_to": ["critic"],
            "parsed_ok": True, "labels": {"quotes_found": 1}}
    return Judgement(**{**base, **changes})


def test_generic_view_of_a_judge_message():
    block = Renderer().judgement(judgement())
    assert block["section"] == "critic (judge): independent score, round 0"
    assert plain(block) == ("critic (judge): independent score, round 0: scores: immersion 4, logic 3.5 "
                            "Vivid [bold]and[/bold] <b>in character</b>. evidence: “hello from a0” item: ep-1  quotes_found: 1 "
                            "seen by: critic")
    out = rendered(block)
    assert "[bold]and[/bold]" in out and "<b>in character</b>" in out  # markup is text, in the terminal too
    debate = plain(Renderer().judgement(judgement(phase="debate", round=2, scores={}, evidence=[], labels={}, visible_to=None)))
    assert debate.startswith("critic (judge): debate, round 2: on: immersion Vivid") and "seen by" not in debate


def test_a_judge_message_that_never_parsed_says_so_first():
    block = Renderer().judgement(judgement(parsed_ok=False, scores={"immersion": None}, labels={"error": "not JSON"}, evidence=[]))
    first = block["body"][0]
    assert first == text("answer never parsed: this judge counts for nothing here (not JSON)", "warn")
    assert "immersion n/a" in plain(block) and "error:" not in plain(block)
    assert "bold red" in str(to_rich(first).style)
