"""The self-contained HTML report: one file, no network, safe to open whatever the run says.

The run is embedded as JSON in a `<script type="application/json">` block with `<`, `>` and
`&` escaped as `\\u003c`-style sequences, so no run text can close the block or open a tag;
the page's script reads it with `JSON.parse` and writes run text with `textContent` only.
A Content-Security-Policy allows nothing but the page's own hashed scripts and style, which
also forbids any network request. Metric series are drawn as interactive line charts by uPlot
(MIT, `templates/vendor/`), inlined like the rest; other runs' series can be overlaid.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import jinja2

from simkit import __version__
from simkit.replay.data import ReplayData
from simkit.replay.render import Renderer, renderer_for, value_block
from simkit.store.series import Series

TEMPLATES = Path(__file__).parent / "templates"
VENDOR = TEMPLATES / "vendor"
RUN_FIELDS = (
    "run_id", "scenario", "plugin", "status", "seed", "model", "started_at", "finished_at",
    "ticks_total", "last_tick", "llm_calls", "tokens_in", "tokens_out",
)


def embed_json(data: object) -> str:
    """JSON that cannot end its `<script>` element or start markup."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def report_data(data: ReplayData, renderer: Renderer) -> dict:
    """Everything the page shows, as JSON-safe lists (tuples keep the file small)."""
    ticks = data.ticks(data.first_tick, data.last_tick)
    events = [[e.tick, e.seq, e.agent_id, e.kind, e.sim_time, renderer.event(e)] for e in data.iter_events()]
    exposures = [[x.tick, x.agent_id, renderer.exposure(x)] for x in data.iter_exposures()]
    judgements = [[j.tick, j.seq, j.judge_id, j.phase, j.item_id, j.parsed_ok, renderer.judgement(j)]
                  for j in data.iter_judgements()]
    agents = {
        agent_id: {"kind": info["kind"], "persona": value_block(info["persona"]), "states": [], "calls": []}
        for agent_id, info in data.agents().items()
    }
    for tick, agent, state in data.iter_states():
        if agent in agents:
            agents[agent]["states"].append([tick, value_block(state)])
    for agent, call in data.iter_calls():
        if agent in agents:
            agents[agent]["calls"].append([
                call.tick, call.purpose, call.model, call.tokens_in, call.tokens_out, round(call.latency_ms, 1),
                call.cached, call.parsed_ok, [[m.get("role", ""), str(m.get("content", ""))] for m in call.messages],
                call.answer,
            ])
    return {
        "run": {k: data.run.get(k) for k in RUN_FIELDS},
        "ticks": [[t.tick, t.sim_time, t.active_agents] for t in ticks],
        "events": events,
        "exposures": exposures,
        "judgements": judgements,
        "judgement_facets": data.judgement_facets(),
        "agents": agents,
        "kinds": data.kinds(),
    }


def _natural(key: str) -> tuple:
    """Sort keys so that `x{n=2}` comes before `x{n=10}`."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", key))


def chart_specs(runs: list[ReplayData]) -> tuple[list[dict], list[tuple]]:
    """One chart per series of the first run with two or more values, each run's line on the
    x values of all (a run without a point there gets null); and the series with one value only."""
    main = runs[0]
    axis = main.axis
    per_run = [(d.run_id, d.series(), d.marks()) for d in runs]
    charts, once = [], []
    for key in sorted(per_run[0][1], key=_natural):
        first: Series = per_run[0][1][key]
        if len(first.values()) < 2:
            once.extend((key, t, v) for t, v in first.points)
            continue
        lines = [(rid, series[key]) for rid, series, _m in per_run if key in series]
        xs = sorted({x for _rid, s in lines for x in s.xs})
        ys = []
        for _rid, s in lines:
            at = {x: v for x, (_t, v) in zip(s.xs, s.points)}
            ys.append([at.get(x) for x in xs])
        marks = [[m.x, m.label + (f" ({rid})" if len(runs) > 1 else "")] for rid, _s, ms in per_run for m in ms]
        charts.append({"key": key, "name": first.name, "unit": axis.unit_of(first.name), "runs": [rid for rid, _s in lines],
                       "xs": xs, "ys": ys, "marks": marks})
    return charts, once


def build_report(data: ReplayData, renderer: Renderer | None = None, start_tick: int | None = None,
                 overlay: list[ReplayData] | None = None) -> str:
    """The report as one HTML string; it opens at `start_tick` (default: the first tick with
    events); the series of the `overlay` runs are drawn in the same charts."""
    renderer = renderer or renderer_for(data.plugin)
    payload = report_data(data, renderer)
    payload["start"] = start_tick
    charts, once = chart_specs([data, *(overlay or [])])
    payload["charts"] = charts
    payload["axis"] = data.axis.text
    payload["axis_title"] = data.axis.title
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, keep_trailing_newline=True)
    script = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    plotting = (VENDOR / "uPlot.iife.min.js").read_text(encoding="utf-8")
    charting = (TEMPLATES / "charts.js").read_text(encoding="utf-8")
    style = (TEMPLATES / "report.css").read_text(encoding="utf-8") + (VENDOR / "uPlot.min.css").read_text(encoding="utf-8")
    from simkit.engine.branch import branch_notes
    from simkit.engine.health import stored_warnings

    return env.get_template("report.html.j2").render(
        run=data.run,
        health=stored_warnings(data.run),
        lineage=branch_notes(data.reader, data.run),
        version=__version__,
        data_json=embed_json(payload),
        charts=charts,
        overlay=[d.run_id for d in overlay or []],
        axis=data.axis.text,
        once=once,
        first_tick=data.first_tick,
        last_tick=data.last_tick,
        final=data.final_metrics(),
        script=script,
        plotting=plotting,
        charting=charting,
        style=style,
        csp=(f"default-src 'none'; script-src {_csp_hash(script)} {_csp_hash(plotting)} {_csp_hash(charting)}; "
             f"style-src {_csp_hash(style)}; img-src data:"),
    )


def write_report(data: ReplayData, out: Path, start_tick: int | None = None, overlay: list[ReplayData] | None = None) -> int:
    """Write the report to `out`; returns its size in bytes."""
    html = build_report(data, start_tick=start_tick, overlay=overlay)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return len(html.encode("utf-8"))
