"""`import simkit`: run, open, tables as DataFrames, compare, plot, and inside a running
event loop (as in Jupyter)."""

from __future__ import annotations

import asyncio

import pandas as pd

import simkit
from tests.research.conftest import SCENARIOS


def test_run_open_tables_compare_plot(tmp_path):
    db = tmp_path / "api.db"
    run = simkit.run(SCENARIOS / "trendsim.yaml", llm="scripted", out=db, sets={"population.size": 20, "attack.share": 0.1})
    assert run.status == "finished"
    for table in ("events", "exposures", "llm_calls", "metrics", "agents"):
        df = getattr(run, table)
        assert isinstance(df, pd.DataFrame) and len(df) > 0, table
        assert set(df["run_id"]) == {run.run_id}
    assert isinstance(run.judgements, pd.DataFrame)
    assert "trendsim_comments" in run.tables() and len(run.trendsim_comments) == run.final()["engagement.comments"]
    # the DataFrames hold what the database holds
    assert len(run.llm_calls) == run.info["llm_calls"] + run.info["cache_hits"]
    runs = simkit.open(db)
    assert len(runs) == 1 and runs[run.run_id[:12]].run_id == run.run_id
    other = simkit.run(SCENARIOS / "trendsim.yaml", llm="scripted", out=db, seed=2, sets={"population.size": 20})
    board = run.compare(other)
    assert list(board.columns) == [run.run_id, other.run_id] and "emotion.avg" in board.index
    assert board.attrs["divergence"][0].startswith("first differing event: tick ")
    ax = run.plot("emotion.avg", others=(other,))
    assert len(ax.get_lines()) == 2 and ax.get_ylabel() == "emotion.avg"
    series = run.series("emotion.avg")
    assert list(series["tick"]) == sorted(series["tick"]) and len(series) == 16  # hourly over 16 hours


def test_arun_and_run_inside_a_running_loop(tmp_path):
    async def notebook_cell():
        a = await simkit.arun(SCENARIOS / "cdi.yaml", llm="scripted", out=tmp_path / "a.db")
        b = simkit.run(SCENARIOS / "cdi.yaml", llm="scripted", out=tmp_path / "b.db")  # blocking, from inside the loop
        return a, b

    a, b = asyncio.run(notebook_cell())
    assert a.status == b.status == "finished"
    assert a.final() == b.final()


def test_sweep(tmp_path):
    runs = simkit.sweep(SCENARIOS / "cdi.yaml", {"cdi.defense": ["none", "guarding"]}, llm="scripted", out=tmp_path / "s.db")
    assert [r.config["cdi"]["defense"] for r in runs] == ["none", "guarding"]
    assert all(r.status == "finished" for r in runs)
