"""The run database schema (README: "The run database"). Every row carries `run_id`, so several
runs can share one file. Plugin tables are named `<plugin>_<thing>` and carry `tick`."""

from __future__ import annotations

import sqlite_utils

TABLES: dict[str, dict] = {
    "runs": dict(
        columns={
            "run_id": str, "scenario": str, "plugin": str, "config_json": str, "seed": int,
            "simkit_version": str, "model": str, "prompt_hashes_json": str, "status": str,
            "started_at": str, "finished_at": str, "ticks_total": int, "last_tick": int,
            "tokens_in": int, "tokens_out": int, "llm_calls": int, "cache_hits": int,
            "retries": int, "parse_failures": int, "error": str, "host": str,
            "end_note": str,  # "ended early at tick N (reason)" when the plugin ended the run before the clock
            # a branch (simkit/engine/branch.py): its parent, the last tick it shares, the parent's settings
            "parent_run_id": str, "fork_tick": int, "fork_json": str,
            # health checks (simkit/engine/health.py): a JSON list of warnings
            "health_json": str,
        },
        pk="run_id",
    ),
    # Every role's model (simkit/roles.py): the subject's and each instrument's, panel judges
    # as `judge:<id>`; endpoints without keys. Written with the run header.
    "run_models": dict(
        columns={"run_id": str, "role": str, "kind": str, "backend": str, "model": str, "base_url": str},
        pk=("run_id", "role"),
    ),
    "agents": dict(
        columns={"run_id": str, "agent_id": str, "kind": str, "persona_id": str, "persona_json": str},
        pk=("run_id", "agent_id"),
    ),
    "ticks": dict(
        columns={"run_id": str, "tick": int, "sim_time": str, "active_agents": int, "committed_at": str},
        pk=("run_id", "tick"),
    ),
    "events": dict(
        columns={"run_id": str, "tick": int, "seq": int, "sim_time": str, "agent_id": str, "kind": str, "payload_json": str},
        pk=("run_id", "tick", "seq"),
    ),
    "exposures": dict(
        # source: "shown" (a page, a scene) or "tool:NAME" (what one tool call returned)
        columns={"run_id": str, "tick": int, "seq": int, "sim_time": str, "agent_id": str, "source": str, "items_json": str},
        pk=("run_id", "tick", "seq"),
    ),
    "llm_calls": dict(
        columns={
            "run_id": str, "tick": int, "seq": int, "agent_id": str, "purpose": str, "request_hash": str,
            "model": str, "params_json": str, "messages_json": str, "response_json": str, "parsed_ok": int,
            "tokens_in": int, "tokens_out": int, "latency_ms": float, "cached": int, "attempts": int,
        },
        pk=("run_id", "tick", "seq"),
    ),
    "agent_state": dict(
        columns={"run_id": str, "tick": int, "agent_id": str, "state_json": str},
        pk=("run_id", "tick", "agent_id"),
    ),
    "metrics": dict(
        columns={"run_id": str, "tick": int, "name": str, "value": float, "labels_json": str},
    ),
    # One judge message each: its scores with the critique, evidence and labels behind them.
    "judgements": dict(
        columns={
            "run_id": str, "tick": int, "seq": int, "item_id": str, "judge_id": str, "role": str, "phase": str,
            "round": int, "metrics_json": str, "text": str, "scores_json": str, "evidence_json": str,
            "visible_to_json": str, "parsed_ok": int, "labels_json": str, "model": str,
        },
        pk=("run_id", "tick", "seq"),
    ),
    # One row per `--resume`: after which committed tick, and the endpoint settings changed for it.
    "resumes": dict(
        columns={"run_id": str, "after_tick": int, "resumed_at": str, "changes_json": str},
    ),
}

INDEXES = [
    ("events", ["run_id", "agent_id"]),
    ("exposures", ["run_id", "agent_id"]),
    ("llm_calls", ["run_id", "agent_id"]),
    ("llm_calls", ["request_hash"]),
    ("agent_state", ["run_id", "agent_id"]),
    ("metrics", ["run_id", "tick"]),
    ("metrics", ["run_id", "name"]),
    ("judgements", ["run_id", "item_id"]),
]


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create missing tables and indexes; safe to call on an existing file."""
    for name, spec in TABLES.items():
        table = db.table(name)
        table.create(spec["columns"], pk=spec.get("pk"), if_not_exists=True)
        missing = {c: t for c, t in spec["columns"].items() if c not in table.columns_dict}
        if missing:  # a file written by an older simkit
            for column, kind in missing.items():
                table.add_column(column, kind)
    for name, cols in INDEXES:
        db.table(name).create_index(cols, if_not_exists=True)
