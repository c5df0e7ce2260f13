"""PersonaArena's judging as published: independent scores averaged, the arbiter on strong
disagreement only, the debate as an option; judge reliability over items; the persona
facts the checkpoints are judged against."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from simkit.errors import ConfigError
from simkit.judges.agreement import cronbach_alpha, rater_alpha
from simkit.judges.scripted import sheet_keys
from simkit.plugins.personaarena.config import STRONG_DISAGREEMENT
from tests.judges.conftest import judge_of
from tests.plugins.personaarena.helpers import run_episode

# critic and psychologist agree; public is 3 points below them on the first metric only
SPLIT = {"critic": 0, "psychologist": 1, "public": 0}


def split_scores(request, rng):
    keys = [k for k, _, _ in sheet_keys(request)]
    judge = judge_of(request)
    scores = {k: 4 - SPLIT[judge] % 2 for k in keys}  # a one-point spread: not strong
    if judge == "public":
        scores[keys[0]] = 1
    return {"critique": f"critique by {judge}", "scores": scores, "evidence": []}


def arbiter(request, rng):
    return {"rationale": "ruling", "scores": {k: 2 for k, _, _ in sheet_keys(request)}}


def recorded(conn: sqlite3.Connection) -> tuple[dict[str, list[float]], dict[str, float], dict[str, float], dict]:
    """From the database alone: independent scores per metric, the arbiter's, the panel's, the verdict event."""
    independent: dict[str, list[float]] = {}
    ruled: dict[str, float] = {}
    for phase, scores in conn.execute("select phase, scores_json from judgements"):
        for metric, value in json.loads(scores).items():
            if phase == "independent":
                independent.setdefault(metric, []).append(value)
            elif phase == "arbiter":
                ruled[metric] = value
    panel = {json.loads(labels)["metric"]: value for labels, value in conn.execute(
        "select labels_json, value from metrics where name = 'score' and tick = -1")
        if json.loads(labels).get("judge") == "panel"}
    [verdict] = [json.loads(p) for (p,) in conn.execute("select payload_json from events where kind = 'verdict'")]
    return independent, ruled, panel, verdict


async def test_final_scores_are_the_mean_of_the_independent_scores_except_where_the_arbiter_ruled(tmp_path):
    _, conn = await run_episode(tmp_path / "a.db", responders={"judge.score": split_scores, "judge.arbiter": arbiter})
    independent, ruled, panel, verdict = recorded(conn)
    phases = {p for (p,) in conn.execute("select distinct phase from judgements")}
    assert phases == {"independent", "arbiter"}  # no debate by default
    assert len(verdict["arbitrated"]) == 1 and set(ruled) == set(verdict["arbitrated"])
    for metric, values in independent.items():
        assert len(values) == 3
        expected = ruled[metric] if metric in ruled else float(np.mean(values))
        assert panel[metric] == pytest.approx(expected), metric
    [disputed] = verdict["arbitrated"]
    assert max(independent[disputed]) - min(independent[disputed]) >= STRONG_DISAGREEMENT
    assert all(max(v) - min(v) < STRONG_DISAGREEMENT for m, v in independent.items() if m != disputed)


async def test_the_debate_is_an_option(tmp_path):
    _, conn = await run_episode(tmp_path / "a.db", "personaarena.judge.debate=true",
                                responders={"judge.score": split_scores, "judge.arbiter": arbiter})
    phases = {p for (p,) in conn.execute("select distinct phase from judgements")}
    assert {"independent", "debate", "final"} <= phases


def test_alpha_takes_the_judges_as_raters_and_the_items_as_subjects():
    rng = np.random.default_rng(3)
    truth = rng.integers(1, 6, size=(10, 2))  # 10 items x 2 metrics
    rows = [{"item_id": f"run{i}", "metric": m, "judge_id": j, "score": float(np.clip(truth[i, k] + rng.integers(-1, 2), 1, 5))}
            for i in range(10) for k, m in enumerate(("KA", "IR")) for j in ("a", "b", "c")]
    alpha = rater_alpha(rows)
    matrix = np.array([[r["score"] for r in rows if (r["item_id"], r["metric"]) == (i, m)]
                       for i, m in sorted({(r["item_id"], r["metric"]) for r in rows})])
    assert matrix.shape == (20, 3)
    assert alpha["overall"] == (pytest.approx(cronbach_alpha(matrix)), 20)
    assert alpha["KA"][1] == 10 and alpha["overall"][0] > 0.5  # judges that agree on the items are reliable
    noise = [dict(r, score=float(rng.integers(1, 6))) for r in rows]
    assert rater_alpha(noise)["overall"][0] < alpha["overall"][0]


async def test_a_persona_without_values_or_experiences_is_refused(tmp_path):
    from tests.conftest import SMALL_PERSONAS

    lines = [json.loads(line) for line in SMALL_PERSONAS.read_text().splitlines()]
    for p in lines:
        p["facts"]["values"] = []
        p["facts"]["experiences"] = []
    bare = tmp_path / "bare.jsonl"
    bare.write_text("".join(json.dumps(p) + "\n" for p in lines))
    with pytest.raises(ConfigError, match=r"persona t\d+ has no values, experiences facts"):
        await run_episode(tmp_path / "a.db", f"population.personas={bare}")
