"""The paper's layout from a sweep over two models, and the judge's reliability: the table
says what the stored per-scene scores imply; Pearson r is what scipy computes from the
judge's scores and a labels file; alpha per group is Cronbach's formula on the scores."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import numpy as np
import yaml
from scipy import stats

from simkit.judges import CHARACTERBOX
from simkit.judges.agreement import cronbach_alpha
from tests.conftest import SMALL_PERSONAS, run_cli
from tests.plugins.characterbox.helpers import PAPER, simulate

EDGE = Path(__file__).parents[2] / "data" / "characterbox_edge"
ENV = dict(os.environ, COLUMNS="220")
METRICS = [m.name for m in CHARACTERBOX]


def test_a_sweep_over_two_models_prints_the_paper_layout(tmp_path):
    data = yaml.safe_load(PAPER.read_text())
    data["population"]["personas"] = str(SMALL_PERSONAS)
    data["characterbox"].update(scenes=str(EDGE), rounds=1)
    for role in data["llm"]["roles"].values():
        role["backend"] = "scripted"  # the instruments, scripted too: a dry run
    path = tmp_path / "paper.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    out = run_cli(["sweep", str(path), "--llm", "scripted", "--set", "llm.model=model-a,model-b", "--out", str(tmp_path / "s.db"),
                   "--quiet"], env=ENV, cwd=tmp_path).stdout
    header = next(line for line in out.splitlines() if " KA " in line)
    assert header.split()[:12] == ["lang", "model", "scenes", "KA", "BA", "EE", "PT", "IM", "AD", "BC", "avg", "avg"]
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in (["English"], ["Chinese"]) and len(line.split()) > 8]
    assert sorted((r[0], r[1]) for r in rows) == [("Chinese", "model-a"), ("Chinese", "model-b"), ("English", "model-a"), ("English", "model-b")]
    # each cell is the mean ± sd over the scenes the database holds
    con = sqlite3.connect(tmp_path / "s.db")
    runs = dict(con.execute("select json_extract(config_json, '$.llm.model'), run_id from runs"))
    for lang, model, n, *cells in rows:
        scenes: dict[str, dict[str, float]] = {}
        for labels, value in con.execute("select labels_json, value from metrics where run_id = ? and name = 'score_by_scene'", [runs[model]]):
            labels = json.loads(labels)
            if labels["lang"] == {"English": "en", "Chinese": "zh"}[lang]:
                scenes.setdefault(labels["scene"], {})[labels["metric"]] = value
        assert int(n) == len(scenes) == (3 if lang == "English" else 1)
        for metric, cell in zip([*METRICS, "average"], cells):
            values = [s[metric] for s in scenes.values()]
            want = f"{np.mean(values):.2f}" + (f"±{np.std(values, ddof=1):.2f}" if len(values) > 1 else "")
            assert cell == want, (lang, model, metric)
    assert "Cronbach's alpha per metric group" in out


async def test_pearson_against_human_labels_and_alpha_per_group(tmp_path):
    labels = tmp_path / "human.jsonl"
    # the human raters' scores: any numbers; r is computed against whatever the judge said
    rng = np.random.default_rng(0)
    scene_title = "simkit public-domain scenes"
    cast = {1: ["Sherlock Holmes", "Dr. Watson", "The King of Bohemia"], 2: ["Elizabeth Bennet", "Mr. Darcy"]}
    human = [{"item_id": f"{scene_title}/{sid}/{name}", "metric": m, "score": int(rng.integers(1, 6))}
             for sid, names in cast.items() for name in names for m in METRICS]
    labels.write_text("\n".join(json.dumps(h) for h in human))
    _sim, con = await simulate(tmp_path, scene_ids=[1, 2], rounds=1, human_labels=str(labels))
    judge = {}
    for lab, value in con.execute("select labels_json, value from metrics where name = 'score_by_character'"):
        lab = json.loads(lab)
        sid = 1 if lab["scene"] == "s1" else 2
        judge[(f"{scene_title}/{sid}/{lab['character']}", lab["metric"])] = value
    got = {json.loads(lab)["metric"]: value for lab, value in con.execute("select labels_json, value from metrics where name = 'judge_pearson'")}
    for metric in METRICS:
        x = [judge[(h["item_id"], metric)] for h in human if h["metric"] == metric]
        y = [h["score"] for h in human if h["metric"] == metric]
        want = stats.pearsonr(x, y).statistic if np.ptp(x) and np.ptp(y) else None
        assert got[metric] == (None if want is None else pytest_approx(want))
    groups = {}
    for m in CHARACTERBOX:
        groups.setdefault(m.group, []).append(m.name)
    alpha = {json.loads(lab)["group"]: value for lab, value in con.execute("select labels_json, value from metrics where name = 'judge_alpha'")}
    items = sorted({i for i, _m in judge})
    for group, names in groups.items():
        matrix = np.array([[judge[(i, n)] for n in names] for i in items])
        want = cronbach_alpha(matrix)
        assert (alpha[group] is None and want is None) or abs(alpha[group] - want) < 1e-9


def pytest_approx(value):
    import pytest

    return pytest.approx(value, abs=1e-9)


async def test_alpha_across_judges_is_cronbach_over_the_judges_independent_scores(tmp_path):
    judges = {"judges": [{"id": "a", "persona": "A strict reader."}, {"id": "b", "persona": "A lenient reader."}], "critique_call": False,
              "arbiter": {"enabled": False}, "debate": False}
    _sim, con = await simulate(tmp_path, scene_ids=[1, 5], rounds=1, judge=judges, judging={"characters": True, "narrator_calls": 0})
    cells: dict[tuple[str, str], dict[str, float]] = {}
    for item, judge, scores in con.execute("select item_id, judge_id, scores_json from judgements where phase = 'independent' and parsed_ok = 1"):
        for metric, score in json.loads(scores).items():
            if score is not None:
                cells.setdefault((item, metric), {})[judge] = score
    matrix = np.array([[by["a"], by["b"]] for by in cells.values() if len(by) == 2])
    (got,) = [v for lab, v in con.execute("select labels_json, value from metrics where name = 'judge_alpha_across_judges'")
              if json.loads(lab) == {"lang": "en"}]
    assert len(matrix) == 7 * 7  # 3 + 4 characters, seven metrics, both judges
    want = cronbach_alpha(matrix)
    assert want is not None and abs(got - want) < 1e-9
