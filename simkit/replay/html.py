"""The self-contained HTML report: one file, no network, safe to open whatever the run says.

The run is embedded as JSON in a `<script type="application/json">` block with `<`, `>` and
`&` escaped as `\\u003c`-style sequences, so no run text can close the block or open a tag;
the page's script reads it with `JSON.parse` and writes run text with `textContent` only.
A Content-Security-Policy allows nothing but the page's own hashed script and style, which
also forbids any network request. Metric charts are inline SVG drawn here, at build time.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import jinja2

from simkit import __version__
from simkit.replay.data import ReplayData, Series
from simkit.replay.render import Renderer, renderer_for, value_block

TEMPLATES = Path(__file__).parent / "templates"
CHART_W, CHART_H = 320, 64
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


def chart(series: Series, first: int, last: int) -> dict:
    """An SVG polyline of one metric over ticks [first, last], with its range for the axis."""
    values = [v for _t, v in series.points]
    lo, hi = min(values), max(values)
    span_t, span_v = max(last - first, 1), (hi - lo) or 1.0
    points = " ".join(
        f"{(t - first) / span_t * CHART_W:.1f},{CHART_H - 4 - (v - lo) / span_v * (CHART_H - 8):.1f}"
        for t, v in series.points
    )
    return {"key": series.key, "points": points, "lo": lo, "hi": hi, "last": values[-1], "n": len(values)}


def build_report(data: ReplayData, renderer: Renderer | None = None, start_tick: int | None = None) -> str:
    """The report as one HTML string; it opens at `start_tick` (default: the first tick with events)."""
    renderer = renderer or renderer_for(data.plugin)
    payload = report_data(data, renderer)
    payload["start"] = start_tick
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, keep_trailing_newline=True)
    script = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    style = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    series = data.series().values()
    charts = [chart(s, data.first_tick, data.last_tick) for s in series if len(s.points) > 1]
    once = [(s.key, *s.points[0]) for s in series if len(s.points) == 1]  # a chart of one point says nothing
    from simkit.engine.branch import branch_notes
    from simkit.engine.health import stored_warnings

    return env.get_template("report.html.j2").render(
        run=data.run,
        health=stored_warnings(data.run),
        lineage=branch_notes(data.reader, data.run),
        version=__version__,
        data_json=embed_json(payload),
        charts=charts,
        once=once,
        first_tick=data.first_tick,
        last_tick=data.last_tick,
        final=data.final_metrics(),
        chart_w=CHART_W,
        chart_h=CHART_H,
        script=script,
        style=style,
        csp=f"default-src 'none'; script-src {_csp_hash(script)}; style-src {_csp_hash(style)}; img-src data:",
    )


def write_report(data: ReplayData, out: Path, start_tick: int | None = None) -> int:
    """Write the report to `out`; returns its size in bytes."""
    html = build_report(data, start_tick=start_tick)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return len(html.encode("utf-8"))
