"""A recorded run replays from its answers (`llm.cache: replay`: no model is loaded, a
request without a recorded answer is an error) and prints the recorded comparison.

The shipped record is of the embedded SmolLM2-135M: its answers are noise, so it checks the
record-and-replay mechanics, nothing about the paper. A record of a capable model (made with
`simkit reproduce NAME --llm openai:MODEL ... --record`) replays the same way."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from simkit.reproduce.record import read_record
from tests.conftest import ROOT, run_cli

RECORDS = sorted((ROOT / "simkit" / "plugins").glob("*/recorded/*.jsonl"))


def test_a_record_is_shipped_and_labelled():
    assert RECORDS, "no recorded run in simkit/plugins/*/recorded/"
    for path in RECORDS:
        header, answers, rows = read_record(path)
        assert header["label"] and answers and rows
        if header["llm"].startswith("local"):
            assert "135M" in header["label"] and "nothing about the paper" in header["label"]


@pytest.mark.parametrize("record", RECORDS, ids=[p.name for p in RECORDS])
def test_a_recorded_run_replays_to_the_recorded_comparison(record, tmp_path):
    header, _answers, rows = read_record(record)
    proc = run_cli(["reproduce", header["recipe"], "--replay", str(record), "--out", "replay.db"],
                   env={**os.environ, "COLUMNS": "250"}, cwd=tmp_path, timeout=600)
    assert "replayed comparison matches the recording" in proc.stdout
    for row in rows:
        if row["mean"] is not None:
            assert f"{row['mean']:.3f}" in proc.stdout
    import sqlite3

    conn = sqlite3.connect(tmp_path / "replay.db")
    assert conn.execute("select count(*) from llm_calls where cached = 0").fetchone()[0] == 0  # every answer from the record
    assert {json.loads(c)["llm"]["cache"] for (c,) in conn.execute("select config_json from runs")} == {"replay"}


def test_a_record_missing_an_answer_fails_in_one_line(tmp_path):
    if not RECORDS:
        pytest.skip("no record")
    lines = RECORDS[0].read_text().splitlines()
    cut = tmp_path / "cut.jsonl"
    first_answer = next(i for i, line in enumerate(lines) if '"kind": "answer"' in line)
    cut.write_text("\n".join(lines[:first_answer] + lines[first_answer + 1:]) + "\n")
    header = json.loads(lines[0])
    proc = run_cli(["reproduce", header["recipe"], "--replay", str(cut), "--out", "cut.db"], cwd=tmp_path, check_rc=None)
    assert proc.returncode == 1 and "replay" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
