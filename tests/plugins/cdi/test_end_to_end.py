"""CDI through the CLI as a user runs it: the four-defense sweep and its table, the strategic
attacker, the failure export, the replay report; and one slow run on the embedded model."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import run_cli
from tests.plugins.cdi.helpers import cli_run, connect, finals, rows, write_yaml

DEFENSES = ("none", "prompting", "guarding", "cdi")


def test_sweep_prints_pp_hs_ad_with_intervals_for_the_four_defenses(tmp_path):
    path = write_yaml(tmp_path)
    proc = run_cli(["sweep", str(path), "--quiet", "--out", str(tmp_path / "s.db"),
                    "--set", "cdi.defense=none,prompting,guarding,cdi",
                    "--set", "cdi.scenario=custody-coordinator,hr-leave,volunteer-roster"],
                   env={**os.environ, "COLUMNS": "200"})
    lines = [l for l in proc.stdout.splitlines() if l.count("│") > 5]
    by_defense = {l.split("│")[1].strip(): [c.strip() for c in l.split("│")[1:-1]] for l in lines}
    assert set(by_defense) == set(DEFENSES) and "appropriate disclosure" in proc.stdout
    for cells in by_defense.values():
        assert cells[2] == "3" and "[" in cells[3] and float(cells[7]) > 0
    assert float(by_defense["none"][3].split()[0]) < float(by_defense["cdi"][3].split()[0])  # PP
    assert float(by_defense["guarding"][7]) > float(by_defense["none"][7])  # the guard costs calls


def test_strategic_attacker_rewrites_the_task_after_a_failed_episode(tmp_path):
    conn = cli_run(write_yaml(tmp_path), tmp_path / "a.db", "cdi.defense=prompting", "cdi.attacker=strategic", "cdi.optimizer_rounds=2")
    attacks = rows(conn, "select * from cdi_attacks")
    assert len(attacks) == 1 and "consent" in attacks[0]["task"]
    episodes = rows(conn, "select * from cdi_episodes order by episode")
    assert [e["scored"] for e in episodes] == [0, 1]
    per_episode = {json.loads(r["labels_json"])["episode"]: r["value"] for r in
                   rows(conn, "select * from metrics where name = 'disclosure.pp' and labels_json != '{}'")}
    assert per_episode[1] == 1.0 and per_episode[2] < 1.0 and finals(conn)["disclosure.pp"] == per_episode[2]
    second = rows(conn, "select messages_json from llm_calls where purpose = 'cdi.recipient' and tick > ?",
                  rows(conn, "select tick from cdi_attacks")[0]["tick"])
    assert second and all("consent" in r["messages_json"] for r in second)


def test_export_writes_the_context_before_the_first_leak(tmp_path):
    conn = cli_run(write_yaml(tmp_path), tmp_path / "e.db", "cdi.defense=none")
    (run_id,) = [r["run_id"] for r in rows(conn, "select run_id from runs")]
    out = tmp_path / "fail.jsonl"
    proc = subprocess.run([sys.executable, "-m", "simkit.plugins.cdi.export", run_id, "--db", str(tmp_path / "e.db"), "--out", str(out)],
                          capture_output=True, text=True, check=True)
    assert "1 failure environment" in proc.stdout
    (env,) = [json.loads(l) for l in out.read_text().splitlines()]
    first_leak = next(c for c in rows(conn, "select * from cdi_checks order by rowid") if json.loads(c["sensitive"]))
    assert env["item_id"] == first_leak["item_id"] and env["leaked"] == json.loads(first_leak["sensitive"])
    assert env["original_message"] not in env["sanitized_history"]  # the context stops before the leak
    assert "[Message from Lena Reyes]" in env["sanitized_history"]
    assert env["sender_messages"] and env["instructor_messages"][1]["content"].startswith("History of the agent Ruth Okafor")
    guarded = cli_run(write_yaml(tmp_path, "g.yaml"), tmp_path / "g.db", "cdi.defense=cdi")
    (safe_id,) = [r["run_id"] for r in rows(guarded, "select run_id from runs")]
    proc = subprocess.run([sys.executable, "-m", "simkit.plugins.cdi.export", safe_id, "--db", str(tmp_path / "g.db"), "--out", str(out)],
                          capture_output=True, text=True, check=True)
    assert "0 failure environments" in proc.stdout


def test_replay_report_marks_vetoes_and_instructions(tmp_path):
    for defense, mark in (("guarding", "VETOED"), ("cdi", "INSTRUCTION injected")):
        db = tmp_path / f"{defense}.db"
        conn = cli_run(write_yaml(tmp_path, f"{defense}.yaml"), db, f"cdi.defense={defense}")
        (run_id,) = [r["run_id"] for r in rows(conn, "select run_id from runs")]
        run_cli(["replay", run_id, "--db", str(db), "--html", str(tmp_path / f"{defense}.html")])
        from simkit.plugins.cdi.replay import CDIRenderer
        from simkit.replay.data import Exposure
        from simkit.replay.render import plain

        shown = [plain(CDIRenderer().exposure(Exposure(r["tick"], r["seq"], r["agent_id"], json.loads(r["items_json"]))))
                 for r in rows(conn, "select * from exposures where agent_id = 'sender' order by tick, seq")]
        assert any(s.startswith(mark) for s in shown)
        assert any(s.startswith("messenger_read(") and "Lena Reyes -> Ruth Okafor" in s for s in shown)


@pytest.mark.slow
def test_the_four_defenses_on_the_embedded_model(tmp_path):
    """One scenario, tiny limits: every run finishes and every call's answer parsed."""
    small = {"max_orchestrator_steps": 2, "sender": {"max_steps": 3, "max_cycles": 1, "timeout_steps": 0},
             "recipient": {"max_steps": 2, "max_cycles": 1, "timeout_steps": 1}}
    path = write_yaml(tmp_path, **small)
    proc = run_cli(["sweep", str(path), "--quiet", "--llm", "local", "--out", str(tmp_path / "local.db"),
                    "--set", "cdi.defense=none,prompting,guarding,cdi"], env={**os.environ, "COLUMNS": "200"}, timeout=3000)
    assert proc.stdout.count("done cdi.defense=") == 4
    conn = connect(tmp_path / "local.db")
    assert {r["status"] for r in rows(conn, "select status from runs")} == {"finished"}
    assert rows(conn, "select count(*) n from llm_calls where parsed_ok = 0")[0]["n"] == 0
    assert rows(conn, "select count(*) n from events where kind = 'parse_failure'")[0]["n"] == 0
