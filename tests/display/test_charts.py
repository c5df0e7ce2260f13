"""The flagship outcome drawn: a TrendSim PA-30 run's hourly emotion as a line chart in the
HTML report (headless Chromium), and `simkit plot` figures whose axes say what they show."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from simkit.display.plot import figure_text, plot_metric
from simkit.store.reader import RunReader
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, COLUMNS="200")
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def pa30(tmp_path_factory) -> tuple[Path, list[str]]:
    """Three seeds of the PA-30 scenario and one clean run, scripted."""
    tmp = tmp_path_factory.mktemp("pa30")
    db = tmp / "runs.db"
    for seed in (1, 2, 3):
        run_cli(["run", str(ROOT / "scenarios" / "trendsim_pa30.yaml"), "--llm", "scripted", "--seed", str(seed),
                 "--out", str(db), "--quiet"], env=ENV, cwd=ROOT)
    run_cli(["run", str(ROOT / "scenarios" / "trendsim.yaml"), "--llm", "scripted", "--set", "population.size=10",
             "--out", str(db), "--quiet"], env=ENV, cwd=ROOT)
    ids = [r[0] for r in sqlite3.connect(db).execute("select run_id from runs order by started_at")]
    return db, ids


@pytest.mark.slow
def test_html_report_of_a_pa30_run_charts_hourly_emotion(pa30, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: the browser checks cannot run")
    from playwright.sync_api import sync_playwright

    db, ids = pa30
    out = tmp_path / "report.html"
    run_cli(["replay", ids[0], "--db", str(db), "--html", str(out), "--overlay", ids[1]], env=ENV)
    hours = sqlite3.connect(db).execute(
        "select count(*) from metrics where run_id = ? and name = 'emotion.avg' and labels_json like '{\"hour\":%'", [ids[0]]
    ).fetchone()[0]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors, requests = [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(out.as_uri())
        chart = page.locator('figure.chart[data-key="emotion.avg"]')
        chart.wait_for(timeout=10_000)
        assert int(chart.get_attribute("data-points")) == 2 * hours > 0  # both runs' hourly points
        assert "hours since the topic appeared" in page.inner_text("#metrics") and ids[1] in chart.inner_text()
        painted = page.evaluate("""() => {
            const c = document.querySelector('figure.chart[data-key="emotion.avg"] canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
            return n; }""")
        assert painted > 500  # lines, points and the attack mark were drawn
        plot = page.evaluate("window.simkitCharts.find(u => u.root.parentNode.dataset.key === 'emotion.avg').data.length")
        assert plot == 3  # x plus one series per run
        assert errors == [] and requests == [out.as_uri()]
        browser.close()


def test_plot_writes_a_png_whose_axes_are_labelled(pa30, tmp_path):
    db, ids = pa30
    out = tmp_path / "emotion.png"
    fig, lines = plot_metric(RunReader.open(db), ids, "emotion.avg", out, by="set:attack.share")
    text = figure_text(fig)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "time (hours since the topic appeared)" in text and "emotion.avg (0-1)" in text
    assert any("attack.share=0.3 (n=3 seeds)" in t for t in text) and any("attack.share=0.0 (n=1 seeds)" in t for t in text)
    assert any("95% Student-t interval of the mean over distinct seeds" in t for t in text)
    assert any(t.startswith("first attack comment") for t in text)
    share = {ln.label.split(" ")[0]: ln for ln in lines}
    assert share["attack.share=0.0"].low == [None] * len(share["attack.share=0.0"].xs)  # n = 1: no band


def test_plot_command_writes_svg_with_its_text(pa30, tmp_path):
    db, ids = pa30
    out = tmp_path / "emotion.svg"
    res = run_cli(["plot", *ids[:3], "--db", str(db), "--metric", "emotion.avg", "--out", str(out)], env=ENV)
    assert "3 lines from 3 runs" in res.stdout
    svg = out.read_text()
    assert "time (hours since the topic appeared)" in svg and ids[0] in svg
    bad = run_cli(["plot", ids[0], "--db", str(db), "--metric", "engagement.views", "--out", str(out)], env=ENV, check_rc=2)
    assert "it is a final metric" in bad.stderr
