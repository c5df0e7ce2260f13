"""Agreement diagnostics against hand-computed values."""

from __future__ import annotations

import json

import numpy as np
import pytest

from simkit.judges import (
    CHARACTERBOX,
    JudgeConfig,
    JudgeItem,
    JudgePanel,
    JudgeSpec,
    register_scripted,
)
from simkit.judges.agreement import (
    cohen_kappa,
    cronbach_alpha,
    group_alpha,
    human_agreement,
    leniency,
    load_labels,
    score_rows,
    verdict_rows,
)
from tests.judges.conftest import Host


def row(item, metric, score, judge=None):
    out = {"item_id": item, "metric": metric, "score": score}
    if judge is not None:
        out["judge_id"] = judge
    return out


def test_leniency_is_the_mean_offset_from_the_panel_mean():
    rows = [
        row("i1", "m", 4, "easy"), row("i1", "m", 2, "hard"), row("i1", "m", 3, "mid"),  # mean 3
        row("i2", "m", 5, "easy"), row("i2", "m", 3, "hard"),  # mean 4
        row("i3", "m", 1, "mid"),  # one judge: no panel to compare with
    ]
    assert leniency(rows) == pytest.approx({"easy": 1.0, "hard": -1.0, "mid": 0.0})


def test_cronbach_alpha_by_hand():
    # item variances 1 and 7/3, total variance 19/3: alpha = 2 * (1 - (10/3) / (19/3)) = 18/19
    assert cronbach_alpha(np.array([[1, 2], [2, 3], [3, 5]])) == pytest.approx(18 / 19)
    assert cronbach_alpha(np.array([[1], [2], [3]])) is None
    assert cronbach_alpha(np.array([[3, 3], [3, 3]])) is None


def test_group_alpha_uses_the_rubric_groups():
    ka, ba, ee, pt = (m.name for m in CHARACTERBOX[:4])
    rows = []
    for item, (a, b) in {"i1": (1, 2), "i2": (2, 3), "i3": (3, 5)}.items():
        rows += [row(item, ka, a), row(item, ba, b), row(item, ee, 3), row(item, pt, 3)]
    rows.append(row("i4", ka, 5))  # incomplete unit: left out
    alphas = group_alpha(rows, CHARACTERBOX[:4])
    assert alphas["fidelity"] == pytest.approx(18 / 19)
    assert alphas["human_likeness"] is None  # no variance


def test_pearson_against_a_human_file(tmp_path):
    human = tmp_path / "human.jsonl"
    lines = [row("i1", "m", 1), row("i2", "m", 3), row("i3", "m", 2), row("i1", "n", 2), row("i2", "n", 4), row("i3", "n", 6)]
    human.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    ours = [row("i1", "m", 1, "j1"), row("i1", "m", 1, "j2"), row("i2", "m", 2, "j1"), row("i3", "m", 3, "j1"),
            row("i1", "n", 1, "j1"), row("i2", "n", 2, "j1"), row("i3", "n", 3, "j1")]
    result = human_agreement(ours, load_labels(human))
    # m: x = 1,2,3 vs y = 1,3,2 -> deviations (-1,0,1), (-1,1,0): r = 1 / 2
    assert result["m"].r == pytest.approx(0.5) and result["m"].n == 3
    assert result["n"].r == pytest.approx(1.0)
    # overall on item means: x = 1, 2, 3; y = 1.5, 3.5, 4 -> r = 2.5 / sqrt(2 * 3.5)
    assert result["overall"].r == pytest.approx(2.5 / np.sqrt(7))


def test_pearson_is_none_when_undefined():
    ours = [row("i1", "m", 3), row("i2", "m", 3), row("i3", "m", 3)]
    theirs = [row("i1", "m", 1), row("i2", "m", 2), row("i3", "m", 3)]
    assert human_agreement(ours, theirs)["m"] is None
    assert human_agreement(ours[:2], theirs[:2])["m"] is None


def test_load_labels_names_the_bad_line(tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_text('{"item_id": "i1", "metric": "m", "score": 3}\n{"item_id": "i2", "score": 4}\n')
    with pytest.raises(ValueError, match=r"h.jsonl:2: missing metric"):
        load_labels(path)


def test_cohen_kappa_by_hand():
    # observed 3/4; marginals (2, 2) and (1, 3): chance (2*1 + 2*3) / 16 = 1/2 -> kappa 1/2
    assert cohen_kappa(["A", "A", "B", "B"], ["A", "B", "B", "B"]) == pytest.approx(0.5)
    assert cohen_kappa(["A", "tie", "B"], ["A", "tie", "B"]) == pytest.approx(1.0)
    assert cohen_kappa(["A", "A"], ["A", "A"]) is None
    with pytest.raises(ValueError):
        cohen_kappa(["A"], [])


async def test_rows_from_records_and_verdicts_skip_what_never_parsed():
    host = Host()
    register_scripted(host.backend)
    judges = [JudgeSpec(id="ok", persona="p"), JudgeSpec(id="bad", persona="q")]
    base = host.backend.responders["judge.score"]
    host.backend.register("judge.score", lambda r, g: "nope" if r.agent_id == "judge:bad" else base(r, g))
    item = JudgeItem(item_id="i1", subject="S", trajectory="S waves and says hello to everyone in the room.")
    verdict = await JudgePanel(host, JudgeConfig(judges=judges), CHARACTERBOX).score(item)
    rows = score_rows(host.records)
    assert {r["judge_id"] for r in rows} == {"ok"} and len(rows) == len(CHARACTERBOX)
    assert verdict_rows([verdict]) == [row("i1", m.name, verdict.scores[m.name]) for m in CHARACTERBOX]
