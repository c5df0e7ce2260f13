"""Checks of TrendSim's mechanics on a stored run, each returning the problems it finds.

They read only the run database (what was shown, what the model was asked and answered,
what was stored), so they hold for any backend, and a broken mechanic (attacker comments
never shown, a prompt that leaves them out, a state that is not the answer, a metric that
is not the records' mean) makes them report a problem.
"""

from __future__ import annotations

import json
import sqlite3

import numpy as np


def _rows(conn: sqlite3.Connection, sql: str, *args) -> list[sqlite3.Row]:
    conn.row_factory = sqlite3.Row
    return conn.execute(sql, args).fetchall()


def users_and_attackers(conn: sqlite3.Connection) -> tuple[set[str], set[str]]:
    kinds = _rows(conn, "select agent_id, kind from agents")
    return {r["agent_id"] for r in kinds if r["kind"] == "user"}, {r["agent_id"] for r in kinds if r["kind"] == "attacker"}


def attack_exposures(conn: sqlite3.Connection) -> list[tuple[sqlite3.Row, dict]]:
    """(exposure row, attacker comment shown) for every attacker comment shown to a normal user."""
    users, _ = users_and_attackers(conn)
    out = []
    for row in _rows(conn, "select tick, seq, agent_id, items_json from exposures order by tick, seq"):
        page = json.loads(row["items_json"])
        if row["agent_id"] in users and page.get("page") == "main":
            out.extend((row, c) for c in page["comments"] if c["attack"])
    return out


def exposure_problems(conn: sqlite3.Connection) -> list[str]:
    """Attacker comments reach normal users: shown on their pages, in the prompt of their next
    call, and the visit ends in a stored state."""
    users, attackers = users_and_attackers(conn)
    problems = []
    comments = {r["cid"]: r for r in _rows(conn, "select cid, author, attack, text, censored, tick from trendsim_comments")}
    exposures = attack_exposures(conn)
    if attackers and comments and any(c["attack"] for c in comments.values()) and not exposures:
        problems.append("attackers posted comments, but no normal user was ever shown one")
    prompts: dict[tuple[int, str], list[str]] = {}
    for r in _rows(conn, "select tick, agent_id, messages_json from llm_calls"):
        text = "\n".join(m.get("content") or "" for m in json.loads(r["messages_json"]))
        prompts.setdefault((r["tick"], r["agent_id"]), []).append(text)
    states = {(r["tick"], r["agent_id"]) for r in _rows(conn, "select tick, agent_id from agent_state")}
    for row, shown in exposures:
        stored = comments.get(shown["cid"])
        where = f"tick {row['tick']} seq {row['seq']} ({row['agent_id']})"
        if stored is None or stored["author"] not in attackers or stored["censored"]:
            problems.append(f"{where}: shown comment {shown['cid']} is not a published attacker comment")
            continue
        if stored["tick"] > row["tick"]:
            problems.append(f"{where}: shown comment {shown['cid']} before it was posted")
        if not any(stored["text"] in p for p in prompts.get((row["tick"], row["agent_id"]), [])):
            problems.append(f"{where}: attacker comment {shown['cid']} is not in any prompt of the user at that tick")
        if (row["tick"], row["agent_id"]) not in states:
            problems.append(f"{where}: the visit that showed it stored no state")
    return problems


def _last_answers(conn: sqlite3.Connection) -> dict[tuple[int, str], dict[str, float]]:
    """(tick, user) -> emotion and social confidence the user's last parsed answers gave at that tick."""
    out: dict[tuple[int, str], dict[str, float]] = {}
    for r in _rows(conn, "select tick, agent_id, purpose, response_json, parsed_ok from llm_calls where parsed_ok = 1 "
                         "order by tick, seq"):
        if r["purpose"] not in ("trendsim.step", "trendsim.reflect.emotion", "trendsim.reflect.confidence"):
            continue
        answer = json.loads(json.loads(r["response_json"])["text"])
        slot = out.setdefault((r["tick"], r["agent_id"]), {})
        for key in ("emotion", "social_confidence"):
            if key in answer:
                slot[key] = min(100, max(0, answer[key])) / 100
    return out


def state_problems(conn: sqlite3.Connection) -> list[str]:
    """A user's stored state after a visit is what its last answers of that visit said."""
    answers = _last_answers(conn)
    problems = []
    for r in _rows(conn, "select tick, agent_id, state_json from agent_state"):
        state, said = json.loads(r["state_json"]), answers.get((r["tick"], r["agent_id"]), {})
        for key, value in said.items():
            if abs(state[key] - value) > 1e-9:
                problems.append(f"tick {r['tick']} {r['agent_id']}: stored {key} {state[key]} but the answer said {value}")
    return problems


def final_states(conn: sqlite3.Connection) -> dict[str, dict]:
    users, _ = users_and_attackers(conn)
    out = {u: {"emotion": 0.5, "social_confidence": 0.5} for u in users}  # never visited: the initial state
    for r in _rows(conn, "select agent_id, state_json from agent_state order by tick"):
        if r["agent_id"] in users:
            out[r["agent_id"]] = json.loads(r["state_json"])
    return out


def metric_problems(conn: sqlite3.Connection) -> list[str]:
    """The final outcome metrics equal the mean and population std of the users' stored final
    states, and the exposure share equals the share of attacker comments among those shown."""
    finals = {r["name"]: r["value"] for r in _rows(conn, "select name, value from metrics where tick = -1 and labels_json = '{}'")}
    states = final_states(conn)
    problems = []
    for name in ("emotion", "social_confidence"):
        values = np.array([s[name] for s in states.values()])
        for suffix, expected in (("avg", values.mean()), ("div", values.std())):
            if abs(finals[f"{name}.{suffix}"] - expected) > 1e-9:
                problems.append(f"{name}.{suffix} is {finals[f'{name}.{suffix}']}, the stored states give {expected}")
    users, _ = users_and_attackers(conn)
    shown = attack = 0
    for r in _rows(conn, "select agent_id, items_json from exposures"):
        page = json.loads(r["items_json"])
        if r["agent_id"] in users and page.get("page") == "main":
            shown += len(page["comments"])
            attack += sum(1 for c in page["comments"] if c["attack"])
    if shown and abs(finals["attack.exposure_share"] - attack / shown) > 1e-9:
        problems.append(f"attack.exposure_share is {finals['attack.exposure_share']}, the exposures give {attack / shown}")
    return problems


def all_problems(conn: sqlite3.Connection) -> list[str]:
    return exposure_problems(conn) + state_problems(conn) + metric_problems(conn)
