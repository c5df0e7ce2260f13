"""`simkit runs compare` (leaderboard with labelled 95% CIs over distinct seeds, grouping,
two-group differences) and `simkit export --format sft`, on a hand-made run database."""

from __future__ import annotations

import csv
import json
import os

import pytest
import sqlite_utils
from scipy import stats

from simkit.display.compare import compare_runs
from simkit.display.stats import difference, interval
from simkit.errors import UsageError
from simkit.store.reader import RunReader
from simkit.store.sft import sft_records
from tests.conftest import run_cli

RUNS = {  # run id -> (model, seed, {metric: value})
    "r1": ("model-a", 1, {"score.average": 3.0, "score.immersion": 4.0}),
    "r2": ("model-a", 2, {"score.average": 4.0, "score.immersion": 2.0}),
    "r3": ("model-a", 3, {"score.average": 5.0, "score.immersion": None}),
    "r4": ("model-b", 1, {"score.average": 2.0}),
}


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "runs.db"
    d = sqlite_utils.Database(path)
    for i, (run_id, (model, seed, finals)) in enumerate(RUNS.items()):
        config = {"plugin": "characterbox", "seed": seed, "llm": {"model": model}, "characterbox": {"rounds": 2 + seed % 2}}
        d["runs"].insert({"run_id": run_id, "scenario": "cb", "plugin": "characterbox", "model": model, "seed": seed,
                          "config_json": json.dumps(config), "started_at": f"2025-01-0{i + 1}"})
        for name, value in finals.items():
            d["metrics"].insert({"run_id": run_id, "tick": -1, "name": name, "value": value, "labels_json": "{}"})
        d["metrics"].insert({"run_id": run_id, "tick": -1, "name": "score_by_scene", "value": 1.0, "labels_json": '{"scene": "s1"}'})
        d["metrics"].insert({"run_id": run_id, "tick": 0, "name": "score.average", "value": 99.0, "labels_json": "{}"})
    messages = [{"role": "system", "content": "You are Alice."}, {"role": "user", "content": "Act."},
                {"role": "assistant", "content": "bad"}, {"role": "user", "content": "Again, as JSON."}]
    for seq, (purpose, ok) in enumerate([("characterbox.character.action", 1), ("characterbox.character.action:repair", 1),
                                         ("characterbox.narrator.result", 0), ("judge.score", 1)]):
        d["llm_calls"].insert({"run_id": "r1", "tick": 0, "seq": seq, "agent_id": "s1/alice", "purpose": purpose, "parsed_ok": ok,
                               "messages_json": json.dumps(messages), "response_json": json.dumps({"text": '{"action": "waves"}'})})
    return path


def add_rerun(path, of: str, new: str) -> None:
    """A copy of run `of` under another id: the same settings and seed, as a rerun makes."""
    d = sqlite_utils.Database(path)
    (row,) = d.query("select * from runs where run_id = ?", [of])
    d["runs"].insert({**row, "run_id": new, "started_at": "2025-02-01"})
    for m in d.query("select * from metrics where run_id = ?", [of]):
        d["metrics"].insert({**m, "run_id": new})


def test_interval_is_mean_and_student_t_interval_and_says_so():
    s = interval([3.0, 4.0, 5.0])
    assert s.mean == 4.0 and s.n == 3
    assert s.half_width == pytest.approx(stats.t.ppf(0.975, 2) * 1.0 / 3**0.5)
    assert s.label == "95% t-CI of the mean over 3 seeds"
    one = interval([2.0])
    assert one.half_width is None and one.text() == "2" and "no interval" in one.label
    assert interval([]).mean is None


def test_welch_difference_matches_scipy():
    a, b = [1.0, 2.0, 3.0, 4.0], [3.0, 5.0, 4.0, 6.5]
    d = difference("a", a, "b", b)
    ref = stats.ttest_ind(b, a, equal_var=False)
    assert d.diff == pytest.approx(2.125) and d.p == pytest.approx(ref.pvalue)
    assert (d.low, d.high) == pytest.approx(tuple(ref.confidence_interval(0.95)))
    assert d.test == "Welch's t" and "n=4 and 4" in d.label
    boot = difference("a", a, "b", b, test="bootstrap")
    assert boot.low < boot.diff < boot.high and boot.test.startswith("bootstrap")


def test_leaderboard_groups_by_model_and_ignores_per_tick_values(db):
    board = compare_runs(RunReader.open(db), ["r1", "r2", "r3", "r4"])
    assert [(key, n) for key, n, _ in board.rows] == [("model-a", 3), ("model-b", 1)]  # best first
    cells = board.rows[0][2]
    assert cells["score.average"].mean == 4.0 and cells["score.average"].n == 3
    assert cells["score.immersion"].mean == 3.0 and cells["score.immersion"].n == 2  # the NULL does not count
    assert board.metrics == ["score.average", "score.immersion"]
    with pytest.raises(UsageError, match="no final metric 'nope'"):
        compare_runs(RunReader.open(db), ["r1"], metrics=["nope"])


def test_labelled_metrics_are_comparable_and_the_name_list_is_never_cut_silently(db):
    board = compare_runs(RunReader.open(db), ["r1", "r2"], metrics=["score_by_scene{scene=s1}"])
    assert board.rows[0][2]["score_by_scene{scene=s1}"].mean == 1.0
    d = sqlite_utils.Database(db)
    for i in range(20):
        d["metrics"].insert({"run_id": "r1", "tick": -1, "name": f"extra.{i:02d}", "value": 1.0, "labels_json": "{}"})
    with pytest.raises(UsageError, match=r"and \d+ more \(simkit runs show"):
        compare_runs(RunReader.open(db), ["r1"], metrics=["nope"])


def test_identical_reruns_count_once(db, tmp_path):
    add_rerun(db, "r4", "r4-again")
    board = compare_runs(RunReader.open(db), ["r4", "r4-again"], metrics=["score.average"])
    (g,) = board.groups
    assert len(g.runs) == 1 and g.reruns == {"r4": ["r4-again"]}
    cell = board.cells[g.key]["score.average"]
    assert cell.n == 1 and cell.half_width is None  # one replicate: no "± 0"
    csv_path = tmp_path / "board.csv"
    out = run_cli(["runs", "compare", "r4", "r4-again", "--db", str(db), "--csv", str(csv_path)], env=dict(os.environ, COLUMNS="150"))
    assert "± 0" not in out.stdout and "r4-again repeats r4 (same settings and seed): counted once" in out.stdout
    rows = list(csv.DictReader(csv_path.open()))
    assert rows[0]["n"] == "1" and rows[0]["identical_reruns"] == "1" and "no interval" in rows[0]["interval"]


def test_group_by_a_config_key_and_by_role(db):
    board = compare_runs(RunReader.open(db), ["r1", "r2", "r3", "r4"], by="set:rounds", metrics=["score.average"])
    groups = {g.key: sorted(r["run_id"] for r in g.runs) for g in board.groups}
    assert groups == {"rounds=3": ["r1", "r3", "r4"], "rounds=2": ["r2"]}  # 2 + seed % 2
    by_role = compare_runs(RunReader.open(db), ["r1", "r4"], by="role:narrator", metrics=["score.average"])
    assert sorted(g.key for g in by_role.groups) == ["model-a", "model-b"]  # no run_models table: the config's model
    d = sqlite_utils.Database(db)
    d["run_models"].insert_all([
        {"run_id": "r1", "role": "narrator", "kind": "instrument", "backend": "openai", "model": "judge-x", "base_url": None},
        {"run_id": "r4", "role": "narrator", "kind": "instrument", "backend": "openai", "model": "judge-x", "base_url": None},
    ])
    by_role = compare_runs(RunReader.open(db), ["r1", "r4"], by="role:narrator", metrics=["score.average"])
    assert [g.key for g in by_role.groups] == ["judge-x"]


def test_compare_command_prints_labelled_table_difference_csv_and_png(db, tmp_path):
    png, table = tmp_path / "board.png", tmp_path / "board.csv"
    out = run_cli(["runs", "compare", "r1", "r2", "r3", "r4", "--db", str(db), "--metric", "score.average", "--png", str(png),
                   "--csv", str(table)], env=dict(os.environ, COLUMNS="150"))
    assert "model-a" in out.stdout and "4 ± 2.5" in out.stdout and "model-b" in out.stdout
    assert "± : half-width of the 95% Student-t interval of the mean over n replicates (distinct seeds" in out.stdout
    assert "difference model-b − model-a" in out.stdout and "Welch's t" in out.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.DictReader(table.open()))
    assert rows[0]["group"] == "model-a" and rows[0]["interval"] == "95% t-CI of the mean over 3 seeds"
    assert rows[-1]["group"] == "model-b − model-a" and "Welch's t" in rows[-1]["interval"]
    bad = run_cli(["runs", "compare", "r1", "--db", str(db), "--by", "colour"], check_rc=2)
    assert "colour" in bad.stderr


def test_sft_records_keep_accepted_calls_with_their_history(db):
    records = list(sft_records(RunReader.open(db), "r1", ["characterbox."]))
    assert [r["purpose"] for r in records] == ["characterbox.character.action"]  # no repair, no failed call, no judge
    (r,) = records
    assert r["instruction"] == "You are Alice." and r["input"] == "Again, as JSON." and r["history"] == [["Act.", "bad"]]
    assert r["output"] == '{"action": "waves"}' and r["agent_id"] == "s1/alice" and r["run_id"] == "r1"
    assert len(list(sft_records(RunReader.open(db), "r1"))) == 2
