"""Metric series: a plugin's time axis turns `{hour: N}` snapshots into one series; NULL values
(a metric the plugin could not compute at that tick) render in both viewers; the HTML report
charts the series (checked in Chromium in test_replay_html.py)."""

from __future__ import annotations

import json

from simkit.replay.data import ReplayData
from simkit.replay.html import build_report, chart_specs
from simkit.replay.tui import ReplayApp
from simkit.store.series import TimeAxis, read_series


def test_an_axis_label_makes_hourly_snapshots_one_series_sorted_by_number(builder):
    for t in range(12):
        builder.tick(metric=float(t))
    builder.finish()
    db = builder.writer.db
    for t, hour in ((3, 1), (7, 2), (11, 10)):  # as TrendSim stores them: hour labels, 10 after 2
        db["metrics"].insert({"run_id": builder.run_id, "tick": t, "name": "emotion.avg", "value": hour / 10,
                              "labels_json": json.dumps({"hour": hour})})
        db["metrics"].insert({"run_id": builder.run_id, "tick": t, "name": "emotion.avg", "value": 0.5,
                              "labels_json": json.dumps({"hour": hour, "group": "sports"})})
    series = read_series(db.conn, builder.run_id, TimeAxis(label="hour", title="time", unit="h"))
    assert series["emotion.avg"].xs == [1.0, 2.0, 10.0] and series["emotion.avg"].values() == [0.1, 0.2, 1.0]
    assert series["emotion.avg{group=sports}"].xs == [1.0, 2.0, 10.0]
    assert series["mood"].xs == [float(t) for t in range(12)]  # no hour label: over ticks
    assert series["emotion.avg"].value_at(8) == 0.2


def test_null_metric_values_render_in_both_viewers(builder):
    for t in range(5):
        builder.tick(metric=None if t in (1, 3) else t * 0.25)
    builder.finish()
    data = ReplayData.open(builder.writer.path, builder.run_id)
    assert data.series()["mood"].values() == [0.0, 0.5, 1.0]
    charts, _once = chart_specs([data])
    mood = next(c for c in charts if c["key"] == "mood")
    assert mood["ys"] == [[0.0, None, 0.5, None, 1.0]]
    assert "mood" in build_report(data)


async def test_null_metric_values_in_the_terminal_viewer(builder):
    for t in range(5):
        builder.tick(metric=None if t in (1, 3) else t * 0.25)
    builder.finish()
    app = ReplayApp(ReplayData.open(builder.writer.path, builder.run_id))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("right")
        await pilot.pause(0.1)
        assert "mood" in app.sparklines
        assert list(app.sparklines["mood"][0].data) == [0.0, 0.5, 1.0]


async def test_terminal_viewer_at_120x40_keeps_labelled_series_apart(builder):
    for t in range(4):
        builder.tick(metric=t * 0.1)
    db = builder.writer.db
    for t in range(4):
        for group in ("entertainment", "technology"):
            db["metrics"].insert({"run_id": builder.run_id, "tick": t, "name": "user_group.social_confidence.avg",
                                  "value": t / 10, "labels_json": json.dumps({"group": group})})
    builder.finish()
    from tests.replay.test_replay_tui import screen_text

    app = ReplayApp(ReplayData.open(builder.writer.path, builder.run_id))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "=entertainment}" in text and "=technology}" in text  # the labels stay visible
        assert all(len(line.rstrip()) <= 120 for line in text.splitlines())
        await pilot.press("j")
        await pilot.pause(0.2)
        head = next(line for line in screen_text(app).splitlines() if "#     judge" in line)
        assert "round ok" in head  # the judge messages' header is one line
