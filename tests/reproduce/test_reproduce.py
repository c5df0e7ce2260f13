"""`simkit reproduce` as a user runs it: the recipe list, each recipe's scripted dry run
(printed beside the published numbers, in the paper's layout), the refusal of unpinned
instruments, resuming, and the table equal to what the stored runs imply."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import yaml

from simkit.reproduce.plan import instrument_roles, make_plan
from simkit.reproduce.recipe import all_recipes
from tests.conftest import ROOT, run_cli

ENV = {**os.environ, "COLUMNS": "250"}
RECIPES = all_recipes()


def reproduce(*args: str, cwd: Path, check_rc: int | None = 0):
    return run_cli(["reproduce", *args], env=ENV, cwd=cwd, check_rc=check_rc, timeout=900)


def read_csv(path: Path) -> list[dict]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def trendsim_dry(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reproduce")
    proc = reproduce("trendsim-table5", "--llm", "scripted", "--out", "t5.db", cwd=folder)
    return folder, proc.stdout


def test_list_names_each_recipe_with_its_paper_table(tmp_path):
    out = reproduce("--list", cwd=tmp_path).stdout
    assert {"trendsim-table5", "personaarena-leaderboard"} <= set(RECIPES)
    for recipe in RECIPES.values():
        assert recipe.name in out and recipe.table in out


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_finding_holds_in_the_published_numbers(name):
    """The recipe's transcription of the paper agrees with the paper's own claims."""
    recipe = RECIPES[name]
    for finding in recipe.findings:
        assert finding.check(recipe.published_value) is True, finding.text


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_instrument_role_is_accounted_for(name):
    from simkit.engine.registry import load_plugin

    recipe = RECIPES[name]
    roles = set(instrument_roles(load_plugin(recipe.plugin)))
    named = {r for r in recipe.instruments if not r.startswith("judge:")}  # panel judges with their own model
    assert roles == named | set(recipe.idle_roles)


def test_trendsim_dry_run_prints_the_paper_layout_beside_the_published_numbers(trendsim_dry):
    folder, out = trendsim_dry
    assert "MECHANICS ONLY" in out
    lines = out.split("published findings")[0].splitlines()
    header = next(line for line in lines if "emotion.avg" in line and "degree" in line)
    columns = [c.strip() for c in header.strip("┃").split("┃")]
    assert columns[:6] == ["group", "degree", "emotion.avg", "emotion.div", "social_confidence.avg", "social_confidence.div"]
    rows = [(line.split("│")[1].strip(), line.split("│")[2].strip()) for line in lines
            if line.startswith("│") and line.split("│")[1].strip()]
    assert rows == [(g, d) for g in ("positive", "negative", "neutral", "All") for d in ("SE", "PA-10", "PA-30", "PA-50")]
    for text in ("paper 0.886±0.057", "paper 0.653", "paper 0.131"):
        assert text in out
    assert "published findings" in out and "positive topics lose the most emotion" in out
    assert (folder / "t5.csv").exists() and (folder / "t5.png").read_bytes()[:4] == b"\x89PNG"


def test_the_table_equals_what_the_stored_runs_imply(trendsim_dry):
    """Recomputed from the run database alone: runs grouped by their topic's sentiment (and
    all together) and attack share, the mean of each run's final metric."""
    folder, _ = trendsim_dry
    conn = sqlite3.connect(folder / "t5.db")
    sentiment = {k: v["sentiment"] for k, v in yaml.safe_load(
        (ROOT / "simkit/plugins/trendsim/data/topics.yaml").read_text()).items()}
    expected: dict[tuple, list[float]] = defaultdict(list)
    for run_id, config in conn.execute("select run_id, config_json from runs"):
        ts = json.loads(config)["trendsim"]
        share = ts["attack"]["share"]
        degree = "SE" if share == 0 else f"PA-{round(share * 100)}"
        for name, value in conn.execute("select name, value from metrics where run_id = ? and tick = -1 and labels_json = '{}'",
                                        [run_id]):
            for group in (sentiment[ts["topic"]], "All"):
                expected[(group, degree, name)].append(value)
    rows = [r for r in read_csv(folder / "t5.csv") if not r["metric"].startswith("finding")]
    assert len(rows) == 16 * 5
    for row in rows:
        values = expected[(row["group"], row["degree"], row["metric"])]
        assert int(row["simkit_runs"]) == len(values) == (6 if row["group"] == "All" else 2)
        assert float(row["simkit_mean"]) == pytest.approx(np.mean(values), abs=1e-6)


def test_running_again_reuses_the_finished_runs(trendsim_dry):
    folder, first = trendsim_dry
    before = sqlite3.connect(folder / "t5.db").execute("select count(*) from runs").fetchone()[0]
    table = (folder / "t5.csv").read_text()
    again = reproduce("trendsim-table5", "--llm", "scripted", "--out", "t5.db", cwd=folder).stdout
    assert sqlite3.connect(folder / "t5.db").execute("select count(*) from runs").fetchone()[0] == before == 24
    assert (folder / "t5.csv").read_text() == table
    assert again.count("done ") == 24


def test_parallel_points_give_the_serial_table(tmp_path):
    small = ("--grid", "topic=marathon-hospital,factory-layoffs", "--grid", "attack.share=0,0.5")
    reproduce("trendsim-table5", "--llm", "scripted", "--out", "s.db", *small, cwd=tmp_path)
    reproduce("trendsim-table5", "--llm", "scripted", "--out", "p.db", "--jobs", "2", *small, cwd=tmp_path)
    serial, parallel = read_csv(tmp_path / "s.csv"), read_csv(tmp_path / "p.csv")
    assert [r["simkit_mean"] for r in serial] == [r["simkit_mean"] for r in parallel]
    assert sum(1 for r in parallel if r["simkit_mean"] not in ("-", "")) == 6 * 5


@pytest.mark.parametrize("name, roles", [("trendsim-table5", ["attacker"]),
                                         ("personaarena-leaderboard", ["environment", "npc", "judge", "arbiter"])])
def test_a_recipe_with_unpinned_instruments_refuses_to_run(name, roles, tmp_path):
    proc = reproduce(name, "--llm", "openai:some-model", cwd=tmp_path, check_rc=2)
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1 and "instrument roles not pinned" in err
    for role in roles:
        assert f"--instrument {role}=openai:MODEL" in err
    assert not list(tmp_path.glob("runs/*.db"))  # nothing ran


def test_pinned_instruments_pass_the_check(tmp_path):
    plan = make_plan(RECIPES["trendsim-table5"], llm="openai:some-model", instruments=("attacker=openai:other-model",),
                     out=tmp_path / "x.db")
    assert len(plan.points) == 24 and not plan.scripted
    with pytest.raises(Exception, match="no instrument role 'narrator'"):
        make_plan(RECIPES["trendsim-table5"], llm="openai:m", instruments=("narrator=openai:m",))


def test_personaarena_dry_run_lines_up_with_the_leaderboard(tmp_path):
    out = reproduce("personaarena-leaderboard", "--llm", "scripted", "--seeds", "2", "--out", "pa.db", cwd=tmp_path).stdout
    assert "MECHANICS ONLY" in out
    for text in ("GPT-5.1", "3.963±0.040", "Qwen3-8B", "[33.7, 56.6]", "early stop vs full"):
        assert text in out
    rows = read_csv(tmp_path / "pa.csv")
    ours = {(r["model"], r["episodes"]): r for r in rows if r["metric"] == "overall" and r["simkit_runs"] not in ("", "0")}
    assert set(ours) == {("scripted", "early stop"), ("scripted", "full episode")}
    assert all(int(r["simkit_runs"]) == 2 for r in ours.values())


@pytest.mark.parametrize("name", sorted(set(RECIPES) - {"trendsim-table5", "personaarena-leaderboard"}))
def test_the_other_recipes_dry_run_beside_their_published_numbers(name, tmp_path):
    recipe = RECIPES[name]
    if not (ROOT / recipe.scenario).exists():
        pytest.skip(f"{recipe.scenario} is not in this checkout yet")
    out = reproduce(name, "--llm", "scripted", "--seeds", "1", "--out", "d.db", cwd=tmp_path).stdout
    assert "MECHANICS ONLY" in out and "published findings" in out
    rows = read_csv(tmp_path / "d.csv")
    published = [r for r in rows if r["published"] not in ("", "-") and not r["metric"].startswith("finding")]
    assert len(published) == len(recipe.published)
    assert any(r["simkit_mean"] not in ("", "-") for r in rows)
