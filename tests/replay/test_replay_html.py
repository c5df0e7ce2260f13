"""The HTML report in headless Chromium: it renders, filters, drills down, needs no network,
and run text (persona, LLM answers, events, metric names) is shown, never executed."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simkit.replay.data import ReplayData
from simkit.replay.html import embed_json, write_report
from tests.conftest import require_chromium
from tests.replay.conftest import HOSTILE, RunBuilder, judge_record

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
needs_browser = pytest.mark.slow  # a real Chromium per module


@given(st.text())
def test_embedded_json_cannot_open_markup_and_round_trips(text):
    embedded = embed_json({"x": text, "y": [text]})
    assert not set("<>&") & set(embedded)
    assert json.loads(embedded) == {"x": text, "y": [text]}


@pytest.fixture(scope="module")
def browser():
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium), args=ARGS)
        yield b
        b.close()


class Page:
    """A report opened in a fresh page; records console errors, dialogs and every request."""

    def __init__(self, browser, path: Path):
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("body[data-ready='1']", timeout=10_000)

    def column(self, selector: str, attr: str) -> list[str]:
        return self.page.eval_on_selector_all(selector, f"els => els.map(e => e.getAttribute('{attr}'))")


def report(builder_or_db, run_id: str, out: Path) -> Path:
    write_report(ReplayData.open(builder_or_db, run_id), out)
    return out


@needs_browser
def test_report_of_a_real_run_renders_offline_with_charts(browser, townhall_run, tmp_path):
    db, run_id = townhall_run
    data = ReplayData.open(db, run_id)
    out = report(db, run_id, tmp_path / "report.html")
    view = Page(browser, out)
    page = view.page
    assert view.errors == [] and view.requests == [out.as_uri()]  # nothing but the file itself
    assert run_id in page.inner_text("header")
    assert page.locator("#timeline button").count() == data.last_tick + 1
    assert page.locator("#events tbody tr").count() == data.events(0).total
    chart = page.locator('figure.chart[data-key="mood.mean"]')
    assert chart.locator("canvas").count() >= 1 and int(chart.get_attribute("data-points")) >= 2
    page.click("#next")
    assert page.inner_text("#tick-title").startswith("Tick 1")
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#tick-title").startswith("Tick 2")
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    png = shot.read_bytes()
    width, height = struct.unpack(">II", png[16:24])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and width >= 1400 and height >= 600 and len(png) > 30_000
    page.close()


@needs_browser
def test_filters_narrow_the_events_and_mark_matching_ticks(browser, small_run, tmp_path):
    view = Page(browser, report(small_run.writer.path, small_run.run_id, tmp_path / "r.html"))
    page = view.page
    page.select_option("#f-agent", "a1")
    assert view.column("#events tbody tr", "data-agent") == ["a1"]
    assert page.locator("#exposures .exposure").count() == 1
    page.select_option("#f-agent", "")
    page.select_option("#f-kind", "news")
    assert view.column("#events tbody tr", "data-kind") == ["news"]
    page.click("#f-clear")
    page.fill("#f-text", "bonjour")
    assert page.inner_text("#match-info") == "1 of 5 ticks match"
    assert page.locator("#events tbody tr").count() == 0
    page.click("#timeline button.hit")
    assert page.inner_text("#tick-title").startswith("Tick 3")
    assert page.locator("#events tbody tr").count() == 3
    assert page.inner_text("#event-count") == "3 of 4"
    assert view.errors == []
    page.close()


@needs_browser
def test_agent_drill_down_lists_persona_states_and_calls(browser, small_run, tmp_path):
    view = Page(browser, report(small_run.writer.path, small_run.run_id, tmp_path / "r.html"))
    page = view.page
    page.click("#events tbody tr:nth-child(2) .agent-link")
    panel = page.locator("#agent-view")
    assert panel.is_visible()
    assert "Name a1" in panel.inner_text() and "a1 likes tea" in panel.inner_text()
    assert page.locator("#agent-states tr").count() == 5
    assert page.inner_text("#agent-call-count") == "5"
    page.keyboard.press("Escape")
    assert not panel.is_visible()
    page.close()


@needs_browser
@pytest.mark.parametrize("csp", [True, False], ids=["with-csp", "csp-removed"])
def test_hostile_run_text_is_shown_never_executed(browser, tmp_path, csp):
    """Escaping alone must hold: the same page with its Content-Security-Policy removed is safe too."""
    run = RunBuilder(tmp_path / "hostile.db", run_id="hostile", persona_text=HOSTILE)
    for _ in range(2):
        run.tick(said=HOSTILE, answer=HOSTILE)
    run.writer.write_metrics("hostile", -1, [{"name": HOSTILE, "value": 1.0, "labels_json": "{}"}])
    run.close()
    out = report(tmp_path / "hostile.db", "hostile", tmp_path / "hostile.html")
    source = out.read_text(encoding="utf-8")
    assert len(re.findall(r"<script", source, re.I)) == 4  # the JSON block, the page's script, uPlot, the charts
    if not csp:
        out.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", source), encoding="utf-8")
    view = Page(browser, out)
    page = view.page
    page.click("#events tbody tr:first-child .agent-link")
    for details in page.locator("#agent-calls details").all():
        details.click()
    page.click("#next")
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert view.dialogs == [] and page.locator("img").count() == 0
    text = page.inner_text("body")
    assert text.count(HOSTILE) >= 3 + 2 + 1  # events, answers shown as text; the persona; the metric name
    page.close()


@needs_browser
def test_judge_messages_of_a_tick_are_shown_and_filtered(browser, judged_run, tmp_path):
    view = Page(browser, report(judged_run.writer.path, judged_run.run_id, tmp_path / "r.html"))
    page = view.page
    assert page.locator("#judgements-box").is_visible()
    assert page.inner_text("#judgements") == "none in this tick (recorded in tick 1, 4)"
    assert page.inner_text("#timeline button[data-tick='4'] .judged") == "⚖4"
    page.click("#timeline button[data-tick='4']")
    assert view.column("#judgements .judgement", "data-judge") == ["critic", "public", "critic", "arbiter"]
    assert view.column("#judgements .judgement", "data-ok") == ["1", "0", "1", "1"]
    critic = page.inner_text("#judgements .judgement:nth-child(1)")
    assert "critic (judge): independent score, round 0" in critic and "fluency 5, immersion 4" in critic
    assert "“hello from a0 at 4”" in critic and "Vivid and in character." in critic
    assert "answer never parsed" in page.inner_text("#judgements .judgement[data-ok='0']")
    page.select_option("#f-judge", "critic")
    assert view.column("#judgements .judgement", "data-phase") == ["independent", "debate"]
    assert page.inner_text("#judgement-count") == "2 of 4"
    page.select_option("#f-phase", "debate")
    assert view.column("#judgements .judgement", "data-phase") == ["debate"]
    page.click("#f-clear")
    page.fill("#f-text", "greeting")  # the search covers judge messages: only the last tick matches
    assert page.inner_text("#match-info") == "1 of 5 ticks match"
    assert view.column("#judgements .judgement", "data-judge") == ["critic"]
    page.select_option("#f-item", "e0-m1")
    assert page.inner_text("#judgements") == "none matches the filters"
    assert view.errors == []
    page.close()


@needs_browser
def test_a_run_without_judges_has_no_judgements_section(browser, small_run, tmp_path):
    view = Page(browser, report(small_run.writer.path, small_run.run_id, tmp_path / "r.html"))
    assert not view.page.locator("#judgements-box").is_visible() and view.errors == []
    view.page.close()


@needs_browser
@pytest.mark.parametrize("csp", [True, False], ids=["with-csp", "csp-removed"])
def test_hostile_judge_text_is_shown_never_executed(browser, tmp_path, csp):
    """A critique, its evidence, labels and even the judge id holding markup: shown as text."""
    run = RunBuilder(tmp_path / "hostile.db", run_id="hostile")
    run.tick()
    run.tick(judgements=[
        judge_record("critic", "independent", HOSTILE, scores={HOSTILE: 3.0}, evidence=[HOSTILE], labels={"note": HOSTILE}),
        judge_record(HOSTILE, "final", HOSTILE, parsed_ok=False, labels={"error": HOSTILE}, item_id=HOSTILE),
    ])
    run.close()
    out = report(tmp_path / "hostile.db", "hostile", tmp_path / "hostile.html")
    source = out.read_text(encoding="utf-8")
    assert len(re.findall(r"<script", source, re.I)) == 4  # the JSON block, the page's script, uPlot, the charts
    if not csp:
        out.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", source), encoding="utf-8")
    view = Page(browser, out)
    page = view.page
    page.click("#next")
    page.select_option("#f-judge", HOSTILE)  # the filter options carry the text too
    page.select_option("#f-judge", "")
    page.wait_for_timeout(300)
    assert page.locator("#judgements .judgement").count() == 2
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert view.dialogs == [] and page.locator("img").count() == 0 and page.locator("#judgements script").count() == 0
    assert page.inner_text("#judgements").count(HOSTILE) >= 7  # critique, score key, quote, label; judge, text, item, error
    page.close()
