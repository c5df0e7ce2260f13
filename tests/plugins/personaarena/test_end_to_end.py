"""PersonaArena through the CLI, as a user runs it: sweep, leaderboard, export, replay; and
one episode on the embedded model (slow)."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from simkit.engine.runner import Simulation, load_scenario
from simkit.plugins.personaarena.replay import PersonaArenaRenderer
from simkit.plugins.personaarena.report import human_agreement_of, leaderboard
from simkit.replay.data import ReplayData
from simkit.replay.render import plain, renderer_for
from simkit.store.reader import RunReader
from tests.conftest import ROOT, SMALL_PERSONAS, run_cli

SCENARIO = ROOT / "scenarios" / "personaarena.yaml"
POPULATION = [f"population.personas={SMALL_PERSONAS}", "population.size=12"]


def run_module(module: str, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc


def sets(*items: str) -> list[str]:
    return [arg for item in (*POPULATION, *items) for arg in ("--set", item)]


@pytest.fixture(scope="module")
def sweep_db(tmp_path_factory) -> tuple[Path, str]:
    """Two 'models' (steering on and off stand in for them: the scripted backend answers the
    same whatever the model is called) on the same three personas."""
    db = tmp_path_factory.mktemp("pa") / "sweep.db"
    proc = run_cli(["sweep", str(SCENARIO), "--llm", "scripted", "--out", str(db), "--seeds", "3", "--quiet",
                    *sets("personaarena.steer=true,false", "personaarena.max_turns=10")], env={**os.environ, "COLUMNS": "200"})
    return db, proc.stdout


def test_sweep_prints_a_leaderboard_with_intervals(sweep_db):
    _, out = sweep_db
    assert "PersonaArena leaderboard" in out and "95% CI" in out
    assert "±" in out and "scripted-v1" in out


def test_export_writes_sft_turns_and_same_persona_pairs(sweep_db, tmp_path):
    db, _ = sweep_db
    proc = run_module("simkit.plugins.personaarena.export", "--db", str(db), "--out", str(tmp_path), "--top", "2", "--pairs", "3")
    sft = [json.loads(line) for line in (tmp_path / "sft.jsonl").read_text().splitlines()]
    dpo = [json.loads(line) for line in (tmp_path / "dpo.jsonl").read_text().splitlines()]
    assert "sft.jsonl" in proc.stdout and sft and dpo
    assert len({row["run_id"] for row in sft}) == 2
    assert all(set(json.loads(row["output"])) >= {"belief", "desire", "intention", "action", "utterance"} for row in sft)
    conn = sqlite3.connect(db)
    persona = dict(conn.execute("select run_id, persona_id from agents where agent_id = 'protagonist'").fetchall())
    for row in dpo:
        assert persona[row["chosen_run"]] == persona[row["rejected_run"]] == row["persona_id"]
        assert row["gap"] > 0 and row["chosen"] != row["rejected"]


def test_png_leaderboard(sweep_db, tmp_path):
    db, _ = sweep_db
    run_module("simkit.plugins.personaarena.report", "--db", str(db), "--png", str(tmp_path / "board.png"))
    assert (tmp_path / "board.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_replay_shows_the_conversation_then_the_judges(sweep_db, tmp_path):
    db, _ = sweep_db
    run_id = sqlite3.connect(db).execute("select run_id from runs order by started_at limit 1").fetchone()[0]
    data = ReplayData.open(db, run_id)
    renderer = renderer_for(data.plugin)
    assert isinstance(renderer, PersonaArenaRenderer)
    shown = [(e.kind, plain(renderer.event(e))) for e in data.iter_events()]
    kinds = [k for k, _ in shown]
    assert kinds[0] == "scene" and kinds.index("episode_end") < kinds.index("verdict")
    assert "judge" not in kinds  # judge messages are stored once, in the judgements table
    line = next(text for k, text in shown if k == "line" and "belief" in text)
    assert "desire" in line and "intention" in line
    assert "[x] background" in next(text for k, text in shown if k == "episode_end")
    judged = list(data.iter_judgements())
    assert judged and {j.tick for j in judged} == {data.last_tick}  # finish() writes into the last tick
    assert data.judgements(data.last_tick).total == len(judged)
    views = [plain(renderer.judgement(j)) for j in judged]
    first = judged[0]
    assert first.phase == "independent" and views[0].startswith(f"{first.judge_id}: independent score")
    assert first.text in views[0] and all(f"{k} " in views[0] for k in first.scores)


def test_html_report_of_an_episode(sweep_db, tmp_path):
    db, _ = sweep_db
    run_id = sqlite3.connect(db).execute("select run_id from runs order by started_at limit 1").fetchone()[0]
    html = tmp_path / "r.html"
    run_cli(["replay", run_id, "--db", str(db), "--html", str(html)])
    page = html.read_text()
    assert "personaarena" in page and "independent score" in page  # the judges' messages, rendered by the plugin


@pytest.mark.slow
def test_an_episode_on_the_embedded_model_stores_every_judge_message(tmp_path):
    db = tmp_path / "local.db"
    run_cli(["run", str(SCENARIO), "--out", str(db), "--quiet",
             *sets("personaarena.max_turns=3", "personaarena.judge.max_debate_rounds=1")], timeout=1500)
    conn = sqlite3.connect(db)
    assert conn.execute("select status from runs").fetchone()[0] == "finished"
    judgements = conn.execute("select judge_id, phase, parsed_ok from judgements order by tick, seq").fetchall()
    assert [ph for _, ph, _ in judgements][:3] == ["independent"] * 3
    assert conn.execute("select count(*) from events where kind = 'judge'").fetchone()[0] == 0
    data = ReplayData.open(db, conn.execute("select run_id from runs").fetchone()[0])
    shown = data.judgements(data.last_tick).rows
    assert [(j.judge_id, j.phase, j.parsed_ok) for j in shown] == [(j, ph, bool(ok)) for j, ph, ok in judgements]
    models = {m for (m,) in conn.execute("select distinct model from llm_calls")}
    assert all(m.startswith("local:") for m in models)
    assert conn.execute("select count(*) from events where kind = 'verdict'").fetchone()[0] == 1


def test_human_labels_give_agreement_metrics_and_a_pooled_correlation(tmp_path):
    db, labels = tmp_path / "h.db", tmp_path / "labels.jsonl"
    ids = [f"pa-h{i}" for i in range(4)]
    labels.write_text("".join(json.dumps({"item_id": r, "metric": "immersion", "score": 2 + i % 3}) + "\n" for i, r in enumerate(ids)))
    for seed, run_id in enumerate(ids, 1):
        config, plugin_cfg = load_scenario(SCENARIO, [*POPULATION, f"personaarena.human_labels={labels}"],
                                           {"llm": {"backend": "scripted", "instruments": "scripted"}, "seed": seed})
        asyncio.run(Simulation(config, plugin_cfg, db, source=SCENARIO, run_id=run_id).run())
    conn = sqlite3.connect(db)
    names = {n for (n,) in conn.execute("select distinct name from metrics where tick = -1")}
    assert {"judge.human_r", "judge.human_n", "judge.alpha", "judge.leniency"} <= names
    pooled = human_agreement_of(RunReader.open(db), ids)
    assert set(pooled) == {"immersion", "overall"}
    console = Console(record=True, width=200)
    leaderboard(RunReader.open(db), ids, console)
    assert "agreement with human labels" in console.export_text()
