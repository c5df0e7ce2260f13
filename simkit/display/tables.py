"""The tables `simkit` prints: a run's summary, and the generic comparison of a sweep."""

from __future__ import annotations

import json
from collections import defaultdict

from rich.console import Console
from rich.table import Table

from simkit.display.safe import plain


def format_value(value: float | None) -> str:
    """Counts as integers with separators, everything else to 4 significant digits; a NaN
    (stored by SQLite as NULL) as n/a."""
    if value is None or value != value:
        return "n/a"
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.4g}"


def summary_table(run: dict, metrics: list[dict], wall_seconds: float | None = None, max_metrics: int = 24) -> Table:
    table = Table(title=plain(f"run {run['run_id']}"), show_header=False, title_justify="left")
    table.add_column("what", style="bold", overflow="fold")
    table.add_column("value")
    table.add_row("scenario", plain(f"{run['scenario']} (plugin {run['plugin']}, seed {run['seed']})"))
    table.add_row("status", plain(str(run["status"]) + (f": {run['error']}" if run.get("error") else "")))
    last = run.get("last_tick")
    if run.get("end_note") and run.get("status") == "finished":
        table.add_row("ticks", plain(f"{run['end_note']}; the clock allowed {run['ticks_total']}"))
    else:
        table.add_row("ticks", f"{(last + 1) if last is not None else 0} of {run['ticks_total']}")
    table.add_row("model", plain(str(run["model"]) + instruments_note(run)))
    table.add_row(
        "LLM calls",
        f"{run['llm_calls'] or 0} called, {run['cache_hits'] or 0} from cache, {run['retries'] or 0} retries, "
        f"{run['parse_failures'] or 0} parse failures",
    )
    table.add_row("tokens", f"{run['tokens_in'] or 0:,} in / {run['tokens_out'] or 0:,} out")
    if wall_seconds is not None:
        table.add_row("wall time", f"{wall_seconds:.1f} s")
    shown = [m for m in metrics if m["tick"] == -1 and not m["name"].startswith("llm.")]
    for m in shown[:max_metrics]:
        labels = json.loads(m["labels_json"] or "{}")
        name = m["name"] + ("{" + ",".join(f"{k}={v}" for k, v in labels.items()) + "}" if labels else "")
        table.add_row(plain(name), format_value(m["value"]))
    if len(shown) > max_metrics:
        table.add_row("...", plain(f"{len(shown) - max_metrics} more metrics: simkit runs show {run['run_id']}"))
    return table


INSTRUMENTS = {"pinned": ("pinned", ""),
               "same_as_subject": ("self-judged", "the model under test also played the instruments"),
               "scripted": ("dry run", "every instrument scripted")}


def instruments_label(run: dict) -> str:
    """How the run's instruments (judges, narrator, ...) got their model: pinned, self-judged
    or dry run (`llm.instruments` in the stored config)."""
    mode = (json.loads(run.get("config_json") or "{}").get("llm") or {}).get("instruments", "pinned")
    return INSTRUMENTS.get(mode, (mode, ""))[0]


def instruments_note(run: dict) -> str:
    label = instruments_label(run)
    why = dict(INSTRUMENTS.values()).get(label, "")
    return f" ({label}: {why})" if why else ""


def models_table(rows: list[dict]) -> Table | None:
    """A run's `run_models`: every role's kind, backend, model and endpoint."""
    if not rows:
        return None
    table = Table("role", "kind", "backend", "model", "endpoint", title="models", title_justify="left")
    for r in rows:
        table.add_row(plain(r["role"]), plain(r["kind"]), plain(r["backend"] or ""), plain(r["model"] or ""), plain(r["base_url"] or ""))
    return table


def print_summary(console: Console, run: dict, metrics: list[dict], wall_seconds: float | None = None) -> None:
    console.print(summary_table(run, metrics, wall_seconds))
    endpoints = endpoint_table(metrics)
    if endpoints is not None:  # the run used an endpoint pool
        console.print(endpoints)


def default_sweep_report(reader, run_ids: list[str], console: Console) -> None:
    """One row per grid point (the swept keys' values), one column per final metric (labelled
    ones as `name{k=v}`): the mean over the point's seeds with its labelled 95% t-interval."""
    from simkit.display.compare import final_values, interval_note
    from simkit.display.stats import group_runs, interval
    from simkit.store.run_config import config_value, swept_keys

    configs = {rid: json.loads(reader.run(rid)["config_json"] or "{}") for rid in run_ids}
    keys = swept_keys(list(configs.values()))
    point = {rid: ", ".join(f"{config_value(c, k)}" for k in keys) for rid, c in configs.items()}
    groups = group_runs(reader, run_ids, "run", key_of=(lambda run: point[run["run_id"]]) if keys else None)
    finals = {r["run_id"]: final_values(reader, r["run_id"]) for g in groups for r in g.runs}
    found = sorted({n for f in finals.values() for n in f}, key=lambda k: ("{" in k, k))
    names = found[:8]
    table = Table(title="sweep: final metrics per grid point", title_justify="left")
    for header in [", ".join(keys) if keys else "run", "n", *names]:
        table.add_column(plain(header))
    for g in groups:
        cells = [interval([finals[r["run_id"]].get(n) for r in g.runs], over=g.over).text(4) for n in names]
        table.add_row(plain(g.key), str(len(g.runs)), *cells)
    console.print(table)
    console.print(interval_note(), highlight=False, soft_wrap=True)
    if len(found) > len(names):
        console.print(f"{len(found) - len(names)} more final metrics not shown (of {len(found)}): "
                      "simkit runs compare RUN... --by set:KEY --metric NAME", highlight=False, soft_wrap=True)


def endpoint_table(metrics: list[dict]) -> Table | None:
    """The run's `llm.endpoint.*` final metrics as one row per endpoint, or None without a pool."""
    rows: dict[str, dict[str, float]] = defaultdict(dict)
    for m in metrics:
        if m["tick"] == -1 and m["name"].startswith("llm.endpoint."):
            url = json.loads(m["labels_json"] or "{}").get("endpoint", "?")
            rows[url][m["name"].removeprefix("llm.endpoint.")] = m["value"]
    if not rows:
        return None
    table = Table("endpoint", "calls", "errors", "mean latency ms", "taken out", title="endpoints", title_justify="left")
    for url, r in rows.items():
        table.add_row(plain(url), format_value(r.get("calls")), format_value(r.get("errors")),
                      f"{r.get('latency_ms') or 0:.0f}", format_value(r.get("ejections")))
    return table
