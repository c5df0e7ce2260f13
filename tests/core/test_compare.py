"""`simkit runs compare` (leaderboard with 95% CIs) and `simkit export --format sft`, on a
hand-made run database."""

from __future__ import annotations

import json
import os

import pytest
import sqlite_utils
from scipy import stats

from simkit.display.compare import Stat, compare_runs
from simkit.errors import UsageError
from simkit.store.reader import RunReader
from simkit.store.sft import sft_records
from tests.conftest import run_cli

RUNS = {  # run id -> (model, {metric: value})
    "r1": ("model-a", {"score.average": 3.0, "score.immersion": 4.0}),
    "r2": ("model-a", {"score.average": 4.0, "score.immersion": 2.0}),
    "r3": ("model-a", {"score.average": 5.0, "score.immersion": None}),
    "r4": ("model-b", {"score.average": 2.0}),
}


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "runs.db"
    d = sqlite_utils.Database(path)
    for i, (run_id, (model, finals)) in enumerate(RUNS.items()):
        d["runs"].insert({"run_id": run_id, "scenario": "cb", "plugin": "characterbox", "model": model, "started_at": f"2025-01-0{i + 1}"})
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


def test_stat_is_mean_and_student_t_interval():
    s = Stat.of([3.0, 4.0, 5.0])
    assert s.mean == 4.0 and s.n == 3
    assert s.half_width == pytest.approx(stats.t.ppf(0.975, 2) * 1.0 / 3**0.5)
    assert Stat.of([2.0]).half_width is None and Stat.of([]).mean is None


def test_leaderboard_groups_by_model_and_ignores_labelled_and_per_tick_values(db):
    board = compare_runs(RunReader.open(db), ["r1", "r2", "r3", "r4"])
    assert [(key, n) for key, n, _ in board.rows] == [("model-a", 3), ("model-b", 1)]  # best first
    cells = board.rows[0][2]
    assert cells["score.average"].mean == 4.0 and cells["score.average"].n == 3
    assert cells["score.immersion"].mean == 3.0 and cells["score.immersion"].n == 2  # the NULL does not count
    assert board.metrics == ["score.average", "score.immersion"]
    with pytest.raises(UsageError, match="no final metric 'nope'"):
        compare_runs(RunReader.open(db), ["r1"], metrics=["nope"])


def test_compare_command_prints_table_and_writes_png(db, tmp_path):
    png = tmp_path / "board.png"
    out = run_cli(["runs", "compare", "r1", "r2", "r3", "r4", "--db", str(db), "--metric", "score.average", "--png", str(png)],
                  env=dict(os.environ, COLUMNS="150"))
    assert "model-a" in out.stdout and "4 ± 2.5" in out.stdout and "model-b" in out.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = run_cli(["runs", "compare", "r1", "--db", str(db), "--by", "colour"], check_rc=2)
    assert "colour" in bad.stderr


def test_sft_records_keep_accepted_calls_with_their_history(db):
    records = list(sft_records(RunReader.open(db), "r1", ["characterbox."]))
    assert [r["purpose"] for r in records] == ["characterbox.character.action"]  # no repair, no failed call, no judge
    (r,) = records
    assert r["instruction"] == "You are Alice." and r["input"] == "Again, as JSON." and r["history"] == [["Act.", "bad"]]
    assert r["output"] == '{"action": "waves"}' and r["agent_id"] == "s1/alice" and r["run_id"] == "r1"
    assert len(list(sft_records(RunReader.open(db), "r1"))) == 2
