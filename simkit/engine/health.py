"""Health checks: what makes a run worthless for research, said in one line each.

Generic checks read the run's rows; a plugin adds its own through `Plugin.health_checks`.
The warnings go into `runs.health_json`, the run summary and the HTML report; `--strict`
turns any warning into a non-zero exit. Thresholds are deliberately loose: a warning means
"look at this before you use the numbers", never "this run failed".
"""

from __future__ import annotations

import json
from typing import Any

PARSE_FAILURE_SHARE = 0.2  # structured answers that could not be read (the fallback was taken)
SAME_ANSWER_MIN_CALLS = 8  # a purpose answered this often, always with the same text, by more than one agent
NULL_METRIC_SHARE = 0.5


def generic_checks(db: Any, run_id: str) -> list[str]:
    warnings: list[str] = []
    q = lambda sql, *args: db.execute(sql, [run_id, *args]).fetchall()  # noqa: E731

    # 1. parse failures: answers that did not fit the schema, so the plugin's fallback ran
    (structured,) = q("select count(*) from llm_calls where run_id = ? and json_extract(params_json, '$.schema') is not null")[0]
    (failures,) = q("select count(*) from events where run_id = ? and kind = 'parse_failure'")[0]
    if structured and failures / structured > PARSE_FAILURE_SHARE:
        warnings.append(
            f"parse failures: {failures} of {structured} structured answers ({failures / structured:.0%}) could not be read "
            "and took the fallback"
        )

    # 2. an agent kind none of whose agents ever acted (called the model or caused an event)
    kinds = q(
        """select a.kind, count(*) as n,
                  sum(exists(select 1 from llm_calls c where c.run_id = a.run_id and c.agent_id = a.agent_id)
                      or exists(select 1 from events e where e.run_id = a.run_id and e.agent_id = a.agent_id)) as acted
           from agents a where a.run_id = ? group by a.kind"""
    )
    for kind, n, acted in kinds:
        if n and not acted:
            warnings.append(f"agents: none of the {n} '{kind}' agents ever acted")

    # 3. every agent gave the same answer: a purpose asked often, by several agents, one text
    for purpose, calls, agents, texts in q(
        """select purpose, count(*), count(distinct agent_id), count(distinct response_json)
           from llm_calls where run_id = ? group by purpose"""
    ):
        if calls >= SAME_ANSWER_MIN_CALLS and agents > 1 and texts == 1:
            warnings.append(f"same answer: all {calls} '{purpose}' answers of {agents} agents are identical")

    # 4. an empty interaction: agents were there, nobody did anything
    (n_agents,) = q("select count(*) from agents where run_id = ?")[0]
    (acts,) = q("select count(*) from events where run_id = ? and agent_id is not null and kind != 'parse_failure'")[0]
    if n_agents and not acts:
        warnings.append("empty interaction: no agent event was recorded in the whole run")

    # 5. judges whose answers never parse
    for judge, n, ok in q("select coalesce(judge_id, role), count(*), sum(parsed_ok) from judgements where run_id = ? group by 1"):
        if n and not ok:
            warnings.append(f"judge {judge}: none of its {n} answers could be read")

    # 6. a metric that is NULL for most of its items (ticks, labels); one undefined value (the
    # spread of a single score) is not "most items"
    for name, n, nulls in q(
        "select name, count(*), sum(value is null) from metrics where run_id = ? and name not like 'llm.%' group by name"
    ):
        if n >= 2 and nulls / n > NULL_METRIC_SHARE:
            warnings.append(f"metric {name}: NULL for {nulls} of {n} items")
    return warnings


def run_checks(db: Any, run_id: str, plugin: Any = None, reader: Any = None) -> list[str]:
    """Generic and plugin checks; a failing plugin check is itself a warning, never a crash."""
    warnings = generic_checks(db, run_id)
    if plugin is not None:
        # metrics whose NULL is an outcome, not a failure (PersonaArena: a checkpoint never covered)
        outcome_nulls = tuple(f"metric {name}: NULL" for name in getattr(plugin, "null_is_outcome", ()))
        warnings = [w for w in warnings if not w.startswith(outcome_nulls)] if outcome_nulls else warnings
        try:
            warnings += list(plugin.health_checks(reader, run_id))
        except Exception as exc:  # noqa: BLE001 - a check must not lose the run
            warnings.append(f"{getattr(plugin, 'name', 'plugin')} health check failed: {type(exc).__name__}: {exc}")
    return warnings


def stored_warnings(run: dict) -> list[str]:
    return json.loads(run.get("health_json") or "[]")
