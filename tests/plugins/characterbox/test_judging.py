"""The judges through the shared panel: seven scores per character, aggregated to scenes and
to the model; Gricean scores per narrator call; failed answers retried, then recorded."""

from __future__ import annotations

import json
import re

import pytest

from simkit.judges.scripted import sheet_keys
from simkit.plugins.characterbox.metrics import by_kind, combine
from tests.plugins.characterbox.helpers import finals, simulate

SEVEN = ["knowledge_accuracy", "behavioural_accuracy", "emotional_expression", "personality_traits",
         "immersion", "adaptability", "behavioural_coherence"]
# scene 2: Elizabeth Bennet, Mr. Darcy; scene 6: Victor Frankenstein, The Creature
FIXED = {"Elizabeth Bennet": 5, "Mr. Darcy": 2, "Victor Frankenstein": 4, "The Creature": 1}


def fixed_scores(request, rng):
    """Every metric of a character gets that character's number; immersion one less (min 1)."""
    asked = "\n".join(m["content"] for m in request.messages if m["role"] == "user")
    subject = re.search(r"^Subject: (.*)$", asked, re.MULTILINE).group(1)
    base = FIXED.get(subject, 3)
    scores = {k: max(lo, base - 1) if k == "immersion" else base for k, lo, _hi in sheet_keys(request)}
    return {"critique": "Fixed for the test.", "scores": scores, "evidence": []}


def test_combine_and_by_kind_by_hand():
    rows = [{"a": 4, "b": 2}, {"a": 2, "b": None}, {"a": 3, "b": 5}]
    assert combine(rows, ["a", "b"]) == {"a": 3.0, "b": 3.5, "average": 3.25}
    assert combine([{"a": None}], ["a"]) == {"a": None, "average": None}
    kinds = by_kind([("influence", {"a": 1}), ("result", {"a": 5}), ("influence", {"a": 2})], ["a"])
    assert kinds == {"influence": {"a": 1.5, "average": 1.5}, "result": {"a": 5.0, "average": 5.0}}


async def test_scene_and_model_scores_are_means_of_hand_computed_scores(tmp_path):
    _sim, con = await simulate(tmp_path, {"judge.score": fixed_scores}, scene_ids=[2, 6], rounds=1,
                               judging={"characters": True, "narrator_calls": 0})
    by_char = {(json.loads(k)["character"], json.loads(k)["metric"]): v for k, v in finals(con, "score_by_character").items()}
    assert by_char[("Mr. Darcy", "adaptability")] == 2 and by_char[("Mr. Darcy", "immersion")] == 1
    assert by_char[("Mr. Darcy", "average")] == pytest.approx((6 * 2 + 1) / 7)
    scene = {(json.loads(k)["scene"], json.loads(k)["metric"]): v for k, v in finals(con, "score_by_scene").items()}
    assert scene[("s1", "adaptability")] == pytest.approx(3.5)  # (5 + 2) / 2: Pride and Prejudice
    assert scene[("s2", "adaptability")] == pytest.approx(2.5)  # (4 + 1) / 2: Frankenstein
    assert scene[("s1", "immersion")] == pytest.approx(2.5)  # (4 + 1) / 2
    assert scene[("s2", "immersion")] == pytest.approx(2.0)  # (3 + 1) / 2: the Creature's 0 is held at the scale's 1
    assert scene[("s1", "average")] == pytest.approx((6 * 3.5 + 2.5) / 7)
    model = {name: con.execute("select value from metrics where tick = -1 and name = ?", [f"score.{name}"]).fetchone()[0]
             for name in [*SEVEN, "average"]}
    assert model["adaptability"] == pytest.approx(3.0)
    assert model["immersion"] == pytest.approx((2.5 + 2.0) / 2)
    assert model["average"] == pytest.approx((6 * 3.0 + 2.25) / 7)
    # the critique came first, in its own call, as in the authors' evaluate.py
    phases = [r[0] for r in con.execute("select phase from judgements where item_id = 's1/c1' order by seq")]
    assert phases == ["critique", "independent"]


async def test_unparseable_judge_answers_are_retried_then_recorded_as_missing(tmp_path):
    def broken(request, rng):
        return {"critique": "no numbers", "scores": {"knowledge_accuracy": 9}, "evidence": []}

    _sim, con = await simulate(tmp_path, {"judge.score": broken}, scene_ids=[6], rounds=1,
                               judging={"characters": True, "narrator_calls": 1})
    # one judge, 1 + 3 re-asks, each with the client's one repair: 8 scoring calls per item, 3 items
    assert con.execute("select count(*) from llm_calls where purpose like 'judge.score%'").fetchone()[0] == 3 * 8
    rows = list(con.execute("select item_id, parsed_ok, labels_json from judgements where phase = 'independent'"))
    assert len(rows) == 3 and all(r["parsed_ok"] == 0 and "error" in json.loads(r["labels_json"]) for r in rows)
    assert set(finals(con, "score.average").values()) == {None}
    assert all(v is None for v in finals(con, "score_by_character").values())
    assert con.execute("select count(*) from events where kind = 'parse_failure'").fetchone()[0] == 3 * 4


async def test_a_judge_answer_that_parses_on_a_re_ask_counts(tmp_path):
    seen = {"n": 0}

    def flaky(request, rng):
        seen["n"] += 1
        if seen["n"] <= 2:  # the first answer and its repair fail; the judge's re-ask succeeds
            return "not json at all"
        return fixed_scores(request, rng)

    _sim, con = await simulate(tmp_path, {"judge.score": flaky}, scene_ids=[6], rounds=1,
                               judging={"characters": True, "narrator_calls": 0})
    values = finals(con, "score_by_character")
    victor = {json.loads(k)["metric"]: v for k, v in values.items() if json.loads(k)["character"] == "Victor Frankenstein"}
    assert victor["adaptability"] == 4
    assert con.execute("select count(*) from judgements where phase = 'independent' and parsed_ok = 1").fetchone()[0] == 2


async def test_narrator_calls_scored_on_the_four_maxims_per_call_type(tmp_path):
    _sim, con = await simulate(tmp_path, scene_ids=[6], rounds=1, judging={"characters": False, "narrator_calls": None})
    n_narrator = con.execute("select count(*) from llm_calls where purpose like 'characterbox.narrator.%'").fetchone()[0]
    assert con.execute("select count(*) from judgements where item_id like 's1/narrator#%'").fetchone()[0] == n_narrator
    per_call = {(json.loads(k)["call"], json.loads(k)["metric"]) for k in finals(con, "score_narrator_call")}
    assert ("influence", "quantity") in per_call and ("summary", "manner") in per_call
    for maxim in ("quantity", "quality", "relevance", "manner", "average"):
        (value,) = finals(con, f"score_narrator.{maxim}").values()
        assert 1 <= value <= 5
    assert not finals(con, "score.average")  # characters not judged
