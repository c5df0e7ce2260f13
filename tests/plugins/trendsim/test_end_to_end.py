"""TrendSim through the CLI, as a user runs it, on the scripted backend."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest
import yaml

from tests.conftest import ROOT, SMALL_PERSONAS, run_cli

N_PERSONAS = 30


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A scenario file and a 30-persona population (the small test personas, repeated)."""
    folder = tmp_path_factory.mktemp("trendsim")
    base = [json.loads(line) for line in SMALL_PERSONAS.read_text().splitlines() if line.strip()]
    with (folder / "personas.jsonl").open("w") as fh:
        for i in range(N_PERSONAS):
            persona = dict(base[i % len(base)], id=f"p{i:03d}")
            fh.write(json.dumps(persona) + "\n")
    data = yaml.safe_load((ROOT / "scenarios" / "trendsim.yaml").read_text())
    data["population"] = {"personas": str(folder / "personas.jsonl"), "size": N_PERSONAS}
    data["llm"] = {"backend": "scripted", "instruments": "scripted"}  # a dry run, as --llm scripted
    (folder / "trendsim.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


def run(workdir: Path, db: str, *sets: str, seed: int = 5) -> sqlite3.Connection:
    args = ["run", str(workdir / "trendsim.yaml"), "--quiet", "--seed", str(seed), "--out", str(workdir / db)]
    for item in sets:
        args += ["--set", item]
    run_cli(args, cwd=workdir)
    conn = sqlite3.connect(workdir / db)
    conn.row_factory = sqlite3.Row
    return conn


def finals(conn: sqlite3.Connection) -> dict[str, float]:
    return {r["name"]: r["value"] for r in conn.execute("select name, value from metrics where tick = -1 and labels_json = '{}'")}


def user_emotions(conn: sqlite3.Connection) -> dict[str, float]:
    """Each normal user's emotion after their last visit."""
    out = {}
    for row in conn.execute("select agent_id, state_json from agent_state order by tick"):
        out[row["agent_id"]] = json.loads(row["state_json"])["emotion"]
    return out


@pytest.fixture(scope="module")
def clean(workdir):
    return run(workdir, "clean.db", "attack.share=0")


@pytest.fixture(scope="module")
def attacked(workdir):
    return run(workdir, "attack.db", "attack.share=0.3")


def test_attack_lowers_final_emotion_because_users_saw_attacker_comments(clean, attacked):
    f_clean, f_attack = finals(clean), finals(attacked)
    assert f_attack["attack.attackers"] == 9 and f_clean["attack.attackers"] == 0
    assert f_attack["emotion.avg"] < f_clean["emotion.avg"] - 0.03
    assert f_attack["social_confidence.avg"] < f_clean["social_confidence.avg"] - 0.03

    # Users were shown attacker comments: the exposures say so, page by page.
    attackers = {r[0] for r in attacked.execute("select agent_id from agents where kind = 'attacker'")}
    shown, shown_attack, exposed = 0, 0, set()
    for row in attacked.execute("select agent_id, items_json from exposures"):
        page = json.loads(row["items_json"])
        if row["agent_id"] in attackers or page["page"] != "main":
            continue
        for comment in page["comments"]:
            shown += 1
            if comment["attack"]:
                shown_attack += 1
                exposed.add(row["agent_id"])
                assert comment["author"] in attackers
    assert shown_attack > 0
    assert f_attack["attack.exposure_share"] == pytest.approx(shown_attack / shown)

    # ... and those users, not the others, carry the drop against the clean run.
    before, after = user_emotions(clean), user_emotions(attacked)
    drop = [before[u] - after[u] for u in exposed if u in before]
    assert len(drop) >= 5 and sum(drop) / len(drop) > 0.03


@pytest.mark.parametrize("variant", ["cognition=faithful", "mode=synchronous"])
def test_the_attack_effect_holds_in_faithful_cognition_and_synchronous_mode(workdir, variant):
    name = variant.replace("=", "-")
    clean = finals(run(workdir, f"{name}-clean.db", "attack.share=0", variant, "population.size=20"))
    attacked = finals(run(workdir, f"{name}-attack.db", "attack.share=0.3", variant, "population.size=20"))
    assert attacked["attack.exposure_share"] > 0
    assert attacked["emotion.avg"] < clean["emotion.avg"] - 0.03


def test_the_run_records_its_prompt_templates(clean):
    hashes = json.loads(clean.execute("select prompt_hashes_json from runs").fetchone()[0])
    assert {"fused.j2", "persona.j2", "attack.j2", "censor.j2", "reflect_emotion.j2"} <= set(hashes)


def test_clean_run_shows_no_attacker_comments(clean):
    for (items,) in clean.execute("select items_json from exposures"):
        page = json.loads(items)
        assert all(c["attack"] is None for c in page.get("comments", []))
    assert finals(clean)["attack.exposure_share"] == 0


def test_runs_are_deterministic_for_a_seed(workdir, attacked):
    again = run(workdir, "attack-again.db", "attack.share=0.3")
    columns = "tick, seq, sim_time, agent_id, kind, payload_json"
    for table, cols in (("events", columns), ("exposures", "tick, seq, sim_time, agent_id, items_json")):
        first = [tuple(r) for r in attacked.execute(f"select {cols} from {table} order by tick, seq")]
        second = [tuple(r) for r in again.execute(f"select {cols} from {table} order by tick, seq")]
        assert first == second and len(first) > 100
    other_seed = run(workdir, "attack-seed6.db", "attack.share=0.3", seed=6)
    assert [tuple(r) for r in other_seed.execute(f"select {columns} from events order by tick, seq")] != first


def test_graphml_export_rebuilds_the_interaction_network(workdir, attacked):
    run_id = attacked.execute("select run_id from runs").fetchone()[0]
    out = workdir / "net.graphml"
    proc = subprocess.run(
        [sys.executable, "-m", "simkit.plugins.trendsim.export", run_id, "--db", str(workdir / "attack.db"), "--out", str(out)],
        capture_output=True, text=True, check=True,
    )
    graph = nx.read_graphml(out)
    assert graph.number_of_nodes() == N_PERSONAS
    assert {graph.nodes[n]["kind"] for n in graph} == {"user", "attacker"}
    likes = attacked.execute("select count(*) from events where kind = 'like_comment'").fetchone()[0]
    replies = attacked.execute("select count(*) from events where kind = 'reply'").fetchone()[0]
    assert sum(w for _u, _v, w in graph.edges(data="weight")) == likes + replies
    assert f"{finals(attacked)['attack.attention_share']:.3f}" in proc.stdout


def test_sweep_prints_a_table5_shaped_comparison(workdir):
    proc = run_cli(
        ["sweep", str(workdir / "trendsim.yaml"), "--quiet", "--set", "attack.share=0,0.3",
         "--set", "topic=marathon-hospital,factory-layoffs", "--out", str(workdir / "sweep.db")],
        cwd=workdir, env={**__import__("os").environ, "COLUMNS": "200"},
    )
    out = proc.stdout
    assert "Table 5" in out
    for group in ("positive", "negative", "All"):
        assert any(line.split("│")[1].strip() == group for line in out.splitlines() if line.count("│") > 3)
    rows = [line for line in out.splitlines() if "PA-30" in line or " SE " in line]
    assert len(rows) == 6


def test_a_misspelt_setting_is_one_line_naming_the_key(workdir):
    proc = run_cli(["run", str(workdir / "trendsim.yaml"), "--set", "attack.shares=0.3"], cwd=workdir, check_rc=2)
    assert "trendsim.attack.shares: unknown key" in proc.stderr
    proc = run_cli(["run", str(workdir / "trendsim.yaml"), "--set", "topic=moon-landing"], cwd=workdir, check_rc=2)
    assert "trendsim.topic" in proc.stderr and "marathon-hospital" in proc.stderr


def test_a_run_cut_after_tick_50_resumes_to_the_same_trajectory(workdir, attacked):
    """As if killed after tick 50: the engine replays the committed ticks (rebuilding the
    comment ranking, the users' states and the visit schedule) and continues identically."""
    import shutil

    shutil.copy(workdir / "attack.db", workdir / "cut.db")
    cut = sqlite3.connect(workdir / "cut.db")
    (run_id,) = cut.execute("select run_id from runs").fetchone()
    tables = {
        "events": "tick, seq, sim_time, agent_id, kind, payload_json",
        "exposures": "tick, seq, sim_time, agent_id, items_json",
        "agent_state": "tick, agent_id, state_json",
        "llm_calls": "tick, seq, agent_id, purpose, request_hash, response_json",
        "metrics": "tick, name, value, labels_json",
        "trendsim_comments": "tick, cid, author, attack, text, censored, rank",
    }
    with cut:
        for table in (*tables, "ticks"):
            cut.execute(f"delete from {table} where tick > 50 or tick < 0")
        cut.execute("update runs set status = 'running', last_tick = 50, finished_at = null")
    cut.close()
    run_cli(["run", str(workdir / "trendsim.yaml"), "--quiet", "--seed", "5", "--set", "attack.share=0.3",
             "--out", str(workdir / "cut.db"), "--resume", run_id], cwd=workdir)
    resumed = sqlite3.connect(workdir / "cut.db")
    for table, cols in tables.items():
        query = f"select {cols} from {table} order by {cols}"
        assert [tuple(r) for r in resumed.execute(query)] == [tuple(r) for r in attacked.execute(query)], table


def test_censorship_from_midway_hides_flagged_comments_only_after_it_starts(workdir):
    conn = run(workdir, "censor.db", "attack.share=0.3", "censorship.enabled=true", "censorship.start_fraction=0.5")
    times = dict(conn.execute("select cid, sim_time from trendsim_comments"))
    censored = {cid for (cid,) in conn.execute("select cid from trendsim_comments where censored = 1")}
    assert censored and all(times[c] >= "2025-03-01T14:00:00" for c in censored)  # 06:00 + 0.5 x 16 h
    shown = {c["cid"] for (items,) in conn.execute("select items_json from exposures") for c in json.loads(items).get("comments", [])}
    assert not shown & censored
    assert finals(conn)["censorship.removed"] == len(censored)
    assert conn.execute("select count(*) from llm_calls where purpose = 'trendsim.censor'").fetchone()[0] == sum(
        1 for t in times.values() if t >= "2025-03-01T14:00:00"
    )  # one verdict per comment after the start; replies are never sent to the censor


def test_code_time_mode_keeps_user_visits_in_the_first_four_hours(workdir):
    conn = run(workdir, "code.db", "attack.share=0.3", "time_mode=code")
    users = "select agent_id from agents where kind = 'user'"
    latest = conn.execute(f"select max(sim_time) from events where kind = 'enter' and agent_id in ({users})").fetchone()[0]
    assert latest < "2025-03-01T10:05:00"  # 06:00 + 4 h, plus the time a visit takes
    attacker_late = conn.execute(f"select count(*) from events where kind = 'comment' and sim_time > '2025-03-01T14:00:00' and agent_id not in ({users})").fetchone()[0]
    assert attacker_late > 0  # attackers keep coming every 4 hours
