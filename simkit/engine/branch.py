"""Counterfactual branches: a new run whose ticks up to a fork tick are its parent's, after
which a changed setting applies.

`create_branch` copies the parent's rows of ticks 0..T into a new run (its LLM calls marked
as answered from the store: the branch spends nothing on them), records the lineage
(`runs.parent_run_id`, `runs.fork_tick`, `runs.fork_json`) and leaves the new run as a
resumable one whose last committed tick is T. Running it is an ordinary resume: the engine
re-executes ticks 0..T with the parent's settings and every answer from the store, which
rebuilds the parent's world exactly, then calls the plugin's `fork(config, tick)` at the
start of tick T+1 with the changed settings, and continues. A resume of the branch later
goes the same way, so a branch is resumable after kill -9 like any run.

A plugin lists the settings that may change at a fork (`Plugin.fork_settings`, dotted keys
relative to the scenario, e.g. `trendsim.attack.share`, or prefixes such as `llm`); any other
change would alter ticks already played and is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils
from pydantic import BaseModel

from simkit.config import ScenarioConfig, apply_overrides, build_config, scenario_to_yaml_dict
from simkit.engine.records import agent_rows, new_run_id
from simkit.engine.registry import load_plugin
from simkit.errors import UsageError
from simkit.roles import check_roles
from simkit.store.reader import RunReader, open_db
from simkit.store.schema import ensure_schema
from simkit.store.writer import dumps, now_iso

# Keys of the stored config that never decide what happens in the simulated world.
NEUTRAL_KEYS = ("name", "description", "output")


@dataclass
class Fork:
    """Where a branch leaves its parent: ticks <= `tick` run with the parent's settings."""

    parent_run_id: str
    tick: int
    parent_config: ScenarioConfig
    parent_plugin_cfg: BaseModel
    sets: list[str]

    def to_json(self) -> str:
        return dumps({"parent_config": scenario_to_yaml_dict(self.parent_config), "set": self.sets})


def load_fork(db_path: Path, run_id: str) -> Fork | None:
    """The fork of `run_id` when it is a branch (read when a branch is run or resumed)."""
    if not Path(db_path).exists():
        return None
    db = open_db(db_path)
    try:
        if "runs" not in db.table_names() or "fork_json" not in db["runs"].columns_dict:
            return None
        row = db.execute("select parent_run_id, fork_tick, fork_json from runs where run_id = ?", [run_id]).fetchone()
    finally:
        db.conn.close()
    if row is None or not row[2]:
        return None
    data = json.loads(row[2])
    config, plugin_cfg = build_config(data["parent_config"], f"run {run_id} (parent)", load_plugin)
    return Fork(row[0], int(row[1]), config, plugin_cfg, list(data.get("set", [])))


def changed_keys(before: Any, after: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two config mappings."""
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            out += changed_keys(before.get(key), after.get(key), f"{prefix}.{key}" if prefix else str(key))
        return out
    return [] if before == after else [prefix]


def allowed(key: str, patterns: tuple[str, ...]) -> bool:
    return any(key == p or key.startswith(p + ".") for p in patterns)


def check_fork_change(plugin_cls, before: dict, after: dict) -> list[str]:
    """The changed keys, or a UsageError naming the first one the plugin does not allow."""
    changes = [k for k in changed_keys(before, after) if k.split(".")[0] not in NEUTRAL_KEYS]
    patterns = tuple(getattr(plugin_cls, "fork_settings", ()))
    for key in changes:
        if not allowed(key, patterns):
            may = ", ".join(patterns) or "none"
            raise UsageError(
                f"--set {key}: cannot change at a fork: it would alter ticks already played "
                f"(settings {plugin_cls.name} may change at a fork: {may})"
            )
    return changes


def _copy_table(dst: sqlite_utils.Database, table: str, cols: list[str], parent: str, branch: str, tick: int) -> int:
    """Copy `parent`'s rows of `table` (ticks 0..`tick` where the table has ticks) as `branch`'s."""
    select = []
    for c in cols:
        if c == "run_id":
            select.append("?")
        elif table == "llm_calls" and c == "cached":
            select.append("1")  # answered from the store: nothing spent
        elif table == "llm_calls" and c in ("latency_ms", "attempts"):
            select.append("0")
        else:
            select.append(f"[{c}]")
    where = "run_id = ?" + (" and tick between 0 and ?" if "tick" in cols else "")
    args: list[Any] = [branch, parent] + ([tick] if "tick" in cols else [])
    names = ", ".join(f"[{c}]" for c in cols)
    cur = dst.execute(f"insert into main.[{table}] ({names}) select {', '.join(select)} from parent.[{table}] where {where} order by rowid", args)
    return cur.rowcount


def create_branch(
    parent_db: Path, parent_id: str, at: int, sets: list[str], *, out: Path | None = None, run_id: str | None = None
) -> tuple[str, Path, list[str]]:
    """Create the branch run; returns (run id, database, changed keys). Running it is a resume."""
    reader = RunReader.open(parent_db)
    parent = reader.run(parent_id)
    parent_id = parent["run_id"]
    stored = json.loads(parent["config_json"])
    plugin_cls = load_plugin(parent["plugin"], f"run {parent_id}")
    last = parent["last_tick"]
    if at < 0:
        raise UsageError(f"--at {at}: the fork tick must be 0 or later")
    if last is None or at > last:
        raise UsageError(f"--at {at}: run {parent_id} has committed ticks 0..{last if last is not None else -1} only")
    if at >= parent["ticks_total"] - 1:
        raise UsageError(f"--at {at}: run {parent_id} has {parent['ticks_total']} ticks; fork before its last one")
    if parent["status"] == "finished" and at >= last:
        raise UsageError(f"--at {at}: tick {last} holds {parent_id}'s end-of-run work; fork at an earlier tick")
    new = apply_overrides(json.loads(parent["config_json"]), list(sets))
    config, plugin_cfg = build_config(new, f"branch of {parent_id}", load_plugin)
    check_roles(config, plugin_cls, plugin_cfg, f"branch of {parent_id}")
    parent_config, parent_plugin_cfg = build_config(stored, f"run {parent_id}", load_plugin)
    changes = check_fork_change(plugin_cls, scenario_to_yaml_dict(parent_config), scenario_to_yaml_dict(config))
    reader.db.conn.close()

    target = Path(out) if out else Path(parent_db)
    run_id = run_id or new_run_id(f"{config.name}-branch")
    fork = Fork(parent_id, at, parent_config, parent_plugin_cfg, list(sets))
    target.parent.mkdir(parents=True, exist_ok=True)
    dst = sqlite_utils.Database(target)
    dst.execute("PRAGMA busy_timeout=30000")
    ensure_schema(dst)
    dst.execute("attach database ? as parent", [str(Path(parent_db).resolve())])
    try:
        with dst.conn:
            tables = [r[0] for r in dst.execute("select name from parent.sqlite_master where type = 'table'").fetchall()]
            for table in tables:
                if table == "runs" or table.startswith("sqlite_"):
                    continue
                cols = [r[1] for r in dst.execute(f"pragma parent.table_info([{table}])").fetchall()]
                if "run_id" not in cols:
                    continue
                if table not in dst.table_names():
                    sql = dst.execute("select sql from parent.sqlite_master where name = ?", [table]).fetchone()[0]
                    dst.execute(sql)
                mine = set(dst[table].columns_dict)
                _copy_table(dst, table, [c for c in cols if c in mine], parent_id, run_id, at)
            row = {k: v for k, v in parent.items()}
            row.update(
                run_id=run_id, scenario=config.name, config_json=dumps(scenario_to_yaml_dict(config)),
                status="branched", started_at=now_iso(), finished_at=None, last_tick=at, error=None,
                parent_run_id=parent_id, fork_tick=at, fork_json=fork.to_json(),
                llm_calls=0, cache_hits=0, retries=0, parse_failures=0, tokens_in=0, tokens_out=0,
            )
            mine = set(dst["runs"].columns_dict)
            names = [k for k in row if k in mine]
            dst.execute(
                f"insert into main.runs ({', '.join(names)}) values ({', '.join('?' * len(names))})",
                [row[k] for k in names],
            )
    finally:
        dst.execute("detach database parent")
        dst.conn.close()
    return run_id, target, changes


def lineage(reader: RunReader, run_id: str) -> list[tuple[str, int | None]]:
    """The run and its ancestors, oldest first: [(run id, tick it forked at), ...]."""
    chain: list[tuple[str, int | None]] = []
    current: str | None = run_id
    while current:
        try:
            row = reader.run(current)
        except UsageError:  # the parent lives in another database
            chain.append((current, None))
            break
        chain.append((row["run_id"], row.get("fork_tick")))
        current = row.get("parent_run_id")
    return list(reversed(chain))


# -- where two runs diverge ----------------------------------------------------------------
def _event_key(row: dict) -> tuple:
    return (row["tick"], row["seq"], row["sim_time"], row["agent_id"], row["kind"], row["payload_json"])


def first_divergence(reader: RunReader, a: str, b: str) -> dict | None:
    """The first event (in tick, seq order) where runs `a` and `b` differ, or None when
    their events are the same. Returns {tick, seq, a: event|None, b: event|None}."""
    query = "select tick, seq, sim_time, agent_id, kind, payload_json from events where run_id = ? order by tick, seq"
    ita = iter(reader.db.query(query, [a]))
    itb = iter(reader.db.query(query, [b]))
    while True:
        ra, rb = next(ita, None), next(itb, None)
        if ra is None and rb is None:
            return None
        if ra is None or rb is None or _event_key(ra) != _event_key(rb):
            first = min((r for r in (ra, rb) if r is not None), key=lambda r: (r["tick"], r["seq"]))
            return {"tick": first["tick"], "seq": first["seq"], "a": ra, "b": rb}


def metric_differences(reader: RunReader, a: str, b: str) -> list[dict]:
    """Per tick and metric, the two runs' values and b - a (ticks >= 0, unlabelled and labelled)."""
    rows = reader.db.query(
        """select tick, name, labels_json, max(case when run_id = ? then value end) as a,
                  max(case when run_id = ? then value end) as b
           from metrics where run_id in (?, ?) and tick >= 0
           group by tick, name, labels_json order by tick, name, labels_json""",
        [a, b, a, b],
    )
    out = []
    for r in rows:
        diff = None if r["a"] is None or r["b"] is None else r["b"] - r["a"]
        out.append({**r, "diff": diff})
    return out


def divergence_lines(reader: RunReader, a: str, b: str, max_ticks: int = 5) -> list[str]:
    """Plain lines saying where two runs diverge: the first differing event and the ticks
    whose metrics differ (for `runs compare` and the replay viewers)."""
    lines = []
    first = first_divergence(reader, a, b)
    if first is None:
        lines.append(f"{a} and {b}: identical events")
    else:
        def show(e: dict | None) -> str:
            return "(no event)" if e is None else f"{e['kind']} by {e['agent_id'] or '-'}: {e['payload_json'][:100]}"

        lines.append(f"first differing event: tick {first['tick']} #{first['seq']}")
        lines.append(f"  {a}: {show(first['a'])}")
        lines.append(f"  {b}: {show(first['b'])}")
    diffs = [d for d in metric_differences(reader, a, b) if d["a"] != d["b"]]
    if diffs:
        ticks = sorted({d["tick"] for d in diffs})
        lines.append(f"metrics differ at {len(ticks)} ticks, first {ticks[0]}:")
        for t in ticks[:max_ticks]:
            parts = []
            for d in [d for d in diffs if d["tick"] == t][:3]:
                labels = json.loads(d["labels_json"] or "{}")
                name = d["name"] + ("{" + ",".join(f"{k}={v}" for k, v in labels.items()) + "}" if labels else "")
                value = "n/a" if d["diff"] is None else f"{d['diff']:+.4g}"
                parts.append(f"{name} {value}")
            lines.append(f"  tick {t}: " + ", ".join(parts))
        if len(ticks) > max_ticks:
            lines.append(f"  ... {len(ticks) - max_ticks} more ticks (Run.divergence() or the metrics table has them all)")
    else:
        lines.append("per-tick metrics: no difference")
    return lines


# -- running a branch ----------------------------------------------------------------------
def fork_hook(sim, writer):
    """The loop's `before_tick` for a branch: at the start of tick fork.tick + 1, switch to
    the branch's settings (new LLM clients when `llm` changed, the plugin's `fork()`), record
    a `fork` event, store any agents the fork added."""
    from simkit.llm.factory import RoleClients

    fork: Fork = sim.fork

    async def before_tick(tick) -> None:
        if tick.index != fork.tick + 1:
            return
        ctx = sim.ctx
        if sim.config.llm != fork.parent_config.llm:
            old = ctx.llms
            ctx.llms = RoleClients(sim.config.llm, sim.config.seed, hooks=old.hooks, stats=old.stats)
            sim.retired_llms.append(old)
            sim._register_responders()
            await ctx.llms.check()
            if not ctx.recorder.replaying:  # the branch's models from here on (runs show, compare --by model)
                from simkit.roles import run_model_rows

                with writer.atomic():
                    writer.db["runs"].update(sim.run_id, {"model": ctx.llm.model})
                    writer.db["run_models"].delete_where("run_id = ?", [sim.run_id])
                    writer.db["run_models"].insert_all(run_model_rows(sim.run_id, sim.plugin_cls, sim.config.llm, ctx.llms))
        added = await sim.plugin.fork(sim.plugin_cfg, tick) or []
        sim.plugin.config = sim.plugin_cfg
        ctx.emit("fork", {"parent": fork.parent_run_id, "after_tick": fork.tick, "set": fork.sets})
        if added and not ctx.recorder.replaying:
            writer.add_agents(sim.run_id, agent_rows(added))

    return before_tick


def branch_notes(reader: RunReader, run: dict) -> list[str]:
    """For a branch: its fork, and where it diverges from its parent (for the replay report)."""
    parent = run.get("parent_run_id")
    if not parent:
        return []
    sets = json.loads(run.get("fork_json") or "{}").get("set", [])
    head = f"branch of {parent} after tick {run.get('fork_tick')}" + (f": {', '.join(sets)}" if sets else "")
    try:
        reader.run(parent)
    except UsageError:
        return [head, "(the parent is in another database)"]
    return [head, *divergence_lines(reader, parent, run["run_id"])]
