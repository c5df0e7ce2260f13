"""The judged validity checks (Tables 2-3) as mechanics: every attacker comment is judged by
every judge on its own model, and the metrics are what the stored judgements imply."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict

import pytest

from tests.conftest import ROOT, SMALL_PERSONAS, run_cli


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    db = tmp_path_factory.mktemp("validity") / "v.db"
    run_cli(["run", str(ROOT / "scenarios" / "trendsim_validity.yaml"), "--llm", "scripted", "--quiet", "--out", str(db),
             "--set", f"population.personas={SMALL_PERSONAS}", "--set", "population.size=12", "--set", "attack.share=0.3"])
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return conn


def finals(conn) -> dict[tuple[str, str], float]:
    return {(r["name"], r["labels_json"]): r["value"] for r in conn.execute("select name, labels_json, value from metrics where tick = -1")}


def test_every_attacker_comment_is_judged_by_every_judge_on_its_own_model(judged):
    attack = {f"attack-comment:{r[0]}" for r in judged.execute("select cid from trendsim_comments where attack is not null")}
    rows = judged.execute("select item_id, judge_id, role, model from judgements where phase = 'independent'").fetchall()
    items = {r["item_id"] for r in rows}
    assert attack and items == attack | {"comment-section"}
    assert {(r["judge_id"], r["role"]) for r in rows} == {("gpt4", "judge:gpt4"), ("glm4", "judge:glm4"), ("llama3", "judge:llama3")}
    assert finals(judged)[("validity.attacker.items", "{}")] == len(attack)


def test_the_metrics_are_what_the_stored_judgements_imply(judged):
    scores: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for r in judged.execute("select item_id, judge_id, scores_json from judgements where phase = 'independent' and parsed_ok = 1"):
        prefix = "validity.system" if r["item_id"] == "comment-section" else "validity.attacker"
        for name, value in json.loads(r["scores_json"]).items():
            scores[(prefix, name, r["judge_id"])].append(value / 100)
    got = finals(judged)
    for (prefix, name, judge), values in scores.items():
        label = json.dumps({"judge": judge})
        assert got[(f"{prefix}.{name}", label)] == pytest.approx(sum(values) / len(values))
        if name == "malice":
            assert got[("validity.attacker.concealment", label)] == pytest.approx(1 - sum(values) / len(values))
    for name in ("consistency", "malice"):  # the panel: the mean of the judges, item by item
        per_item = defaultdict(list)
        for r in judged.execute("select item_id, scores_json from judgements where phase = 'independent' and item_id != 'comment-section'"):
            per_item[r["item_id"]].append(json.loads(r["scores_json"])[name])
        panel = sum(sum(v) / len(v) for v in per_item.values()) / len(per_item) / 100
        assert got[(f"validity.attacker.{name}", json.dumps({"judge": "panel"}))] == pytest.approx(panel)


def test_enabled_without_judges_is_one_line(tmp_path):
    proc = run_cli(["run", str(ROOT / "scenarios" / "trendsim.yaml"), "--llm", "scripted", "--set", "validity.enabled=true"],
                   cwd=tmp_path, check_rc=2)
    assert "trendsim.validity" in proc.stderr and "judge.judges" in proc.stderr
