"""The panel procedure with controlled judges: when the debate runs and on what, who sees
what, arbitration, exclusion of answers that never parse, aggregation, records."""

from __future__ import annotations

import numpy as np
import pytest

from simkit.judges import (
    CHARACTERBOX,
    RECORD_KEYS,
    JudgeConfig,
    JudgeItem,
    JudgePanel,
    JudgeSpec,
    register_scripted,
)
from simkit.judges.scripted import sheet_keys
from tests.judges.conftest import (
    Host,
    RecordingBackend,
    judge_of,
    prompt,
    round_of,
    table,
    uniform,
)

RUBRIC = CHARACTERBOX[:3]
KA, BA, EE = (m.name for m in RUBRIC)
KEYS = [KA, BA, EE]
JUDGES = [JudgeSpec(id=f"j{n}", persona=f"Persona number {n}.") for n in (1, 2, 3)]
ITEM = JudgeItem(
    item_id="scene1/alice",
    subject="Alice",
    context="A tea party in a garden.",
    profile="Curious, polite, easily puzzled.",
    trajectory=[(1, "The Hatter pours tea.", "Alice: Thank you, but why is it always six o'clock?"),
                (2, "The Dormouse falls asleep.", "Alice pokes the Dormouse gently.")],
)


def config(**kw) -> JudgeConfig:
    return JudgeConfig(judges=JUDGES, **kw)


def scripted_host(**responders) -> Host:
    host = Host()
    register_scripted(host.backend)
    for purpose, fn in responders.items():
        host.backend.register(f"judge.{purpose}", fn)
    return host


def garbage(request, rng):
    return "I would say it is quite good overall."


# -- when the debate runs ------------------------------------------------------------------

@pytest.mark.parametrize("threshold, debated", [(1.0, True), (1.5, False)])
async def test_debate_runs_exactly_when_a_range_reaches_the_threshold(threshold, debated):
    scores = {"j1": {KA: 3, BA: 3, EE: 3}, "j2": {KA: 4, BA: 3, EE: 3}, "j3": {KA: 3, BA: 3, EE: 3}}
    host = scripted_host(score=table(scores), final=table(scores))
    verdict = await JudgePanel(host, config(disagreement={"per_metric_range": threshold}), RUBRIC).score(ITEM)
    assert bool(host.requests("judge.debate")) is debated
    assert bool(host.requests("judge.final")) is debated
    assert verdict.disputed == ([KA] if debated else [])
    assert verdict.calls.get("debate", 0) == (6 if debated else 0)  # 3 judges x 2 rounds


async def test_only_disputed_metrics_are_debated():
    scores = {"j1": {KA: 2, BA: 3, EE: 4}, "j2": {KA: 4, BA: 3, EE: 4}, "j3": {KA: 3, BA: 3, EE: 4}}
    settled = uniform({"j1": 3, "j2": 3, "j3": 3}, KEYS)
    host = scripted_host(score=table(scores), final=table(settled))
    verdict = await JudgePanel(host, config(), RUBRIC).score(ITEM)
    assert verdict.disputed == verdict.debated == [KA]
    for record in host.phase("debate") + host.phase("final"):
        assert record["metrics"] == [KA]
    for request in host.requests("judge.final"):
        assert [k for k, _, _ in sheet_keys(request)] == [KA]
    for request in host.requests("judge.debate"):
        assert f"disagree on {KA}." in prompt(request)
        assert BA not in prompt(request).split("Criteria:", 1)[1]
    assert verdict.source == {KA: "final", BA: "independent", EE: "independent"}


async def test_full_debate_debates_every_metric_even_without_dispute():
    same = uniform({"j1": 3, "j2": 3, "j3": 3}, KEYS)
    quiet, loud = scripted_host(score=table(same)), scripted_host(score=table(same), final=table(same))
    calm = await JudgePanel(quiet, config(), RUBRIC).score(ITEM)
    full = await JudgePanel(loud, config(full_debate=True), RUBRIC).score(ITEM)
    assert calm.debated == [] and calm.calls == {"independent": 3}
    assert full.disputed == [] and full.debated == KEYS
    assert full.calls == {"independent": 3, "debate": 6, "final": 3}


async def test_overall_std_disputes_what_judges_differ_on():
    scores = {"j1": {KA: 3, BA: 3, EE: 3}, "j2": {KA: 4, BA: 4, EE: 3}}
    judges = JUDGES[:2]
    host = scripted_host(score=table(scores), final=table(scores))
    rule = {"per_metric_range": 2.0, "overall_std": 0.3}  # judge means 3.0 and 3.67: std 0.33
    verdict = await JudgePanel(host, JudgeConfig(judges=judges, disagreement=rule), RUBRIC).score(ITEM)
    assert verdict.disputed == [KA, BA]
    rule["overall_std"] = 0.4
    other = await JudgePanel(scripted_host(score=table(scores)), JudgeConfig(judges=judges, disagreement=rule), RUBRIC).score(ITEM)
    assert other.disputed == []


# -- who sees what -------------------------------------------------------------------------

def debate_text(request, rng):
    return {"argument": f"ARG-{judge_of(request)}-R{round_of(request)}", "evidence": []}


@pytest.mark.parametrize("blind", [True, False])
async def test_final_statements_are_blind(blind):
    first = {"j1": {KA: 2, BA: 3, EE: 3}, "j2": {KA: 4, BA: 3, EE: 3}, "j3": {KA: 3, BA: 3, EE: 3}}
    host = scripted_host(score=table(first), final=table(first, text=lambda j: f"FINAL-{j}-SECRET"))
    await JudgePanel(host, config(blind_final=blind, arbiter=False), RUBRIC).score(ITEM)
    finals = host.requests("judge.final")
    assert [judge_of(r) for r in finals] == ["j1", "j2", "j3"]
    for judge in ("j1", "j2", "j3"):
        others = [r for r in host.backend.requests if r.agent_id != f"judge:{judge}"]
        leaked = [judge_of(r) for r in others if f"FINAL-{judge}-SECRET" in prompt(r)]
        record = next(r for r in host.phase("final") if r["judge_id"] == judge)
        if blind:
            assert leaked == []
            assert record["visible_to"] == [judge]
    if not blind:  # one_by_one without blindness: later judges hear earlier finals
        assert "FINAL-j1-SECRET" in prompt(finals[1]) and "FINAL-j1-SECRET" in prompt(finals[2])
        assert "FINAL-j2-SECRET" not in prompt(finals[0])
        assert host.phase("final")[0]["visible_to"] == ["j1", "j2", "j3"]


@pytest.mark.parametrize("strategy", ["one_by_one", "simultaneous", "simultaneous_summarizer"])
async def test_what_each_debate_turn_is_shown(strategy):
    first = {"j1": {KA: 2, BA: 3, EE: 3}, "j2": {KA: 4, BA: 3, EE: 3}, "j3": {KA: 3, BA: 3, EE: 3}}
    host = scripted_host(score=table(first), final=table(first), debate=debate_text,
                         summary=lambda request, rng: f"SUMMARY-R{round_of(request) if 'This is round' in prompt(request) else 'x'}")
    await JudgePanel(host, config(strategy=strategy), RUBRIC).score(ITEM)
    turns = {(judge_of(r), round_of(r)): prompt(r) for r in host.requests("judge.debate")}
    assert len(turns) == 6
    if strategy == "one_by_one":
        assert "ARG-j1-R1" in turns[("j2", 1)] and "ARG-j2-R1" not in turns[("j1", 1)]
    if strategy == "simultaneous":
        assert "ARG-j1-R1" not in turns[("j2", 1)]
        assert "ARG-j1-R1" in turns[("j2", 2)] and "ARG-j3-R1" in turns[("j1", 2)]
    if strategy == "simultaneous_summarizer":
        summaries = host.phase("summary")
        assert [r["round"] for r in summaries] == [1, 2]
        assert all("ARG-" not in text for text in turns.values())  # raw turns replaced by the summary
        assert "ARG-j1-R1" in prompt(host.requests("judge.summary")[0])
        assert summaries[0]["text"] in turns[("j1", 2)]
        assert all(r["visible_to"] == [r["judge_id"]] for r in host.phase("debate"))
    else:
        assert all(r["visible_to"] is None for r in host.phase("debate"))


# -- arbitration ---------------------------------------------------------------------------

def unsettled_panel(**kw):
    first = {"j1": {KA: 2, BA: 2, EE: 4}, "j2": {KA: 4, BA: 4, EE: 4}, "j3": {KA: 4, BA: 3, EE: 4}}
    final = {"j1": {KA: 2, BA: 3, EE: 4}, "j2": {KA: 4, BA: 3, EE: 4}, "j3": {KA: 4, BA: 3, EE: 4}}
    ruling = {"rationale": "RULING", "scores": None}

    def arbiter(request, rng):
        return {**ruling, "scores": {k: 1 for k, _, _ in sheet_keys(request)}}

    host = scripted_host(score=table(first), final=table(final), arbiter=arbiter)
    return host, JudgePanel(host, config(**kw), RUBRIC)


async def test_arbiter_replaces_only_metrics_still_disputed_after_the_finals():
    host, panel = unsettled_panel()
    verdict = await panel.score(ITEM)
    assert verdict.disputed == [KA, BA]
    assert verdict.arbitrated == [KA]
    [request] = host.requests("judge.arbiter")
    assert [k for k, _, _ in sheet_keys(request)] == [KA]
    assert request.agent_id == "judge:arbiter"
    assert verdict.scores == {KA: 1.0, BA: 3.0, EE: 4.0}
    assert verdict.source == {KA: "arbiter", BA: "final", EE: "independent"}
    assert verdict.method == "arbitrated"
    [record] = host.phase("arbiter")
    assert record["role"] == "arbiter" and record["text"] == "RULING" and record["scores"] == {KA: 1}
    assert "critique by j1" in prompt(request)  # it is shown the judges' reasons


async def test_without_arbiter_a_still_disputed_metric_keeps_the_panel_mean():
    host, panel = unsettled_panel(arbiter=False)
    verdict = await panel.score(ITEM)
    assert host.requests("judge.arbiter") == []
    assert verdict.scores[KA] == pytest.approx((2 + 4 + 4) / 3)
    assert verdict.method == "mean" and verdict.arbitrated == []
    assert any("still disputed" in note for note in verdict.notes)


# -- answers that never parse --------------------------------------------------------------

def with_bad_j3(good: dict, bad):
    def respond(request, rng):
        return bad(request, rng) if judge_of(request) == "j3" else table(good)(request, rng)
    return respond


@pytest.mark.parametrize("bad", [
    garbage,
    lambda request, rng: {"critique": "c", "scores": {KA: 6, BA: 3, EE: 3}, "evidence": []},  # out of range
    lambda request, rng: {"critique": "c", "scores": {KA: True, BA: 3, EE: 3}, "evidence": []},
    lambda request, rng: {"critique": "c", "scores": {KA: 3, BA: 3}, "evidence": []},  # a metric missing
])
async def test_a_judge_that_never_parses_is_recorded_and_excluded(bad):
    good = {"j1": {KA: 3, BA: 4, EE: 2}, "j2": {KA: 3, BA: 4, EE: 3}}
    host = scripted_host(score=with_bad_j3(good, bad))
    verdict = await JudgePanel(host, config(max_parse_retries=1, disagreement={"per_metric_range": 2}), RUBRIC).score(ITEM)
    assert verdict.excluded == {"j3": "independent"}
    assert verdict.scores == {KA: 3.0, BA: 4.0, EE: 2.5}
    j3 = [r for r in host.phase("independent") if r["judge_id"] == "j3"]
    assert len(j3) == 1 and j3[0]["parsed_ok"] is False
    assert j3[0]["scores"] == {KA: None, BA: None, EE: None}
    assert "error" in j3[0]["labels"]
    # one ask + one re-ask, each with the client's own repair
    assert len(host.requests("judge.score", agent="j3")) == 4
    assert verdict.calls["independent"] == 4


async def test_an_excluded_judge_takes_no_part_in_the_debate():
    good = {"j1": {KA: 2, BA: 4, EE: 2}, "j2": {KA: 4, BA: 4, EE: 2}}
    host = scripted_host(score=with_bad_j3(good, garbage), final=table(good))
    verdict = await JudgePanel(host, config(arbiter=False), RUBRIC).score(ITEM)
    assert verdict.debated == [KA]
    assert {judge_of(r) for r in host.requests("judge.debate")} == {"j1", "j2"}
    assert all("[j3," not in prompt(r) for r in host.requests("judge.final"))


async def test_when_every_judge_fails_the_metric_has_no_score():
    host = scripted_host(score=garbage)
    verdict = await JudgePanel(host, config(max_parse_retries=0), RUBRIC).score(ITEM)
    assert verdict.scores == {KA: None, BA: None, EE: None}
    assert verdict.overall is None
    assert set(verdict.excluded) == {"j1", "j2", "j3"}
    assert all(any(f"no score for {k}" in n for n in verdict.notes) for k in KEYS)
    assert host.requests("judge.debate") == []


async def test_a_final_that_never_parses_is_left_out_of_the_debated_metric():
    first = {"j1": {KA: 2, BA: 3, EE: 3}, "j2": {KA: 4, BA: 3, EE: 3}, "j3": {KA: 4, BA: 3, EE: 3}}
    final = {"j1": {KA: 3}, "j3": {KA: 4}}

    def finals(request, rng):
        return garbage(request, rng) if judge_of(request) == "j2" else table(final)(request, rng)

    host = scripted_host(score=table(first), final=finals)
    verdict = await JudgePanel(host, config(arbiter=False), RUBRIC).score(ITEM)
    assert verdict.excluded == {"j2": "final"}
    assert verdict.scores[KA] == 3.5
    assert verdict.scores[BA] == 3.0  # j2's independent score still counts where nothing was debated


# -- aggregation and the single-judge procedure ---------------------------------------------

@pytest.mark.parametrize("how, expected", [("mean", {KA: 8 / 3, BA: 3.0, EE: 4.0}), ("median", {KA: 2.0, BA: 3.0, EE: 4.0})])
async def test_aggregation(how, expected):
    scores = {"j1": {KA: 1, BA: 2, EE: 4}, "j2": {KA: 2, BA: 3, EE: 4}, "j3": {KA: 5, BA: 4, EE: 4}}
    host = scripted_host(score=table(scores))
    verdict = await JudgePanel(host, config(aggregation=how, disagreement={"per_metric_range": 5}), RUBRIC).score(ITEM)
    assert verdict.scores == pytest.approx(expected)
    assert verdict.overall == pytest.approx(np.mean(list(expected.values())))
    assert verdict.method == how


async def test_the_characterbox_judge_is_a_panel_of_one_with_a_critique_call():
    one = JudgeSpec(id="gpt4", persona="An expert on the novel.")
    host = scripted_host(critique=lambda request, rng: "CRITIQUE-TEXT",
                         score=table({"gpt4": {KA: 4, BA: 3, EE: 5}}))
    verdict = await JudgePanel(host, JudgeConfig(judges=[one], critique_call=True, full_debate=True), RUBRIC).score(ITEM)
    requests = host.backend.requests
    assert [r.purpose for r in requests] == ["judge.critique", "judge.score"]
    assert all(r.temperature == 0.0 for r in requests)
    assert "CRITIQUE-TEXT" in prompt(requests[1]) and "CRITIQUE-TEXT" not in prompt(requests[0])
    assert verdict.scores == {KA: 4.0, BA: 3.0, EE: 5.0} and verdict.overall == 4.0
    assert [r["phase"] for r in host.records] == ["critique", "independent"]


async def test_each_role_gets_its_own_client():
    judges = [JudgeSpec(id="a", persona="p", role="big"), JudgeSpec(id="b", persona="q")]
    host, _ = unsettled_panel()
    first = {"a": {KA: 1, BA: 3, EE: 3}, "b": {KA: 5, BA: 3, EE: 3}}
    host.backend.register("judge.score", table(first))
    host.backend.register("judge.final", table(first))
    cfg = JudgeConfig(judges=judges, strategy="simultaneous_summarizer", arbiter={"role": "referee"}, summarizer_role="small")
    await JudgePanel(host, cfg, RUBRIC).score(ITEM)
    assert set(host.roles) == {"big", "judge", "referee", "small"}
    assert {r.agent_id for r in host.backend.requests} == {"judge:a", "judge:b", "judge:summarizer", "judge:arbiter"}


# -- records -------------------------------------------------------------------------------

async def test_records_have_the_agreed_keys_and_judge_order_whatever_finishes_first():
    first = {"j1": {KA: 2, BA: 3, EE: 3}, "j2": {KA: 4, BA: 3, EE: 3}, "j3": {KA: 3, BA: 3, EE: 3}}
    delays = {"judge:j1": 0.03, "judge:j2": 0.015, "judge:j3": 0.0}  # j3 answers first
    host = Host(RecordingBackend(delays=delays))
    register_scripted(host.backend)
    host.backend.register("judge.score", table(first))
    await JudgePanel(host, config(strategy="simultaneous", critique_call=True), RUBRIC).score(ITEM)
    assert all(tuple(r) == RECORD_KEYS for r in host.records)
    answered = [judge_of(r) for r in host.backend.answered if r.purpose == "judge.score"]
    assert answered == ["j3", "j2", "j1"]
    order = [(r["phase"], r["round"], r["judge_id"]) for r in host.records]
    expected = (
        [("critique", 0, j) for j in ("j1", "j2", "j3")]
        + [("independent", 0, j) for j in ("j1", "j2", "j3")]
        + [("debate", r, j) for r in (1, 2) for j in ("j1", "j2", "j3")]
        + [("final", 3, j) for j in ("j1", "j2", "j3")]
    )
    assert order[: len(expected)] == expected
    assert all(r["item_id"] == ITEM.item_id and isinstance(r["parsed_ok"], bool) for r in host.records)


async def test_independent_votes_are_private_unless_a_debate_shows_them():
    same = uniform({"j1": 3, "j2": 3, "j3": 3}, KEYS)
    host = scripted_host(score=table(same))
    await JudgePanel(host, config(), RUBRIC).score(ITEM)
    assert [r["visible_to"] for r in host.phase("independent")] == [["j1"], ["j2"], ["j3"]]


async def test_mode_decides_which_call_is_allowed():
    host = scripted_host()
    with pytest.raises(ValueError, match="compare"):
        await JudgePanel(host, config(mode="pairwise"), RUBRIC).score(ITEM)
    with pytest.raises(ValueError, match="score"):
        await JudgePanel(host, config(), RUBRIC).compare(ITEM, ITEM)


async def test_an_arbiter_that_never_parses_leaves_the_panel_scores():
    host, panel = unsettled_panel()
    host.backend.register("judge.arbiter", garbage)
    verdict = await panel.score(ITEM)
    assert verdict.scores[KA] == pytest.approx(10 / 3) and verdict.source[KA] == "final"
    assert verdict.method == "mean" and verdict.arbitrated == []
    assert host.phase("arbiter")[0]["parsed_ok"] is False
    assert any("arbiter's answer never parsed" in note for note in verdict.notes)


async def test_zero_debate_rounds_go_straight_to_the_finals():
    first = {"j1": {KA: 2, BA: 3, EE: 3}, "j2": {KA: 4, BA: 3, EE: 3}, "j3": {KA: 3, BA: 3, EE: 3}}
    host = scripted_host(score=table(first), final=table(uniform({"j1": 3, "j2": 3, "j3": 3}, KEYS)))
    verdict = await JudgePanel(host, config(max_debate_rounds=0), RUBRIC).score(ITEM)
    assert verdict.calls == {"independent": 3, "final": 3}
    assert [r["round"] for r in host.phase("final")] == [1, 1, 1]
    assert "[j2, before the discussion] scores: knowledge_accuracy=4" in prompt(host.requests("judge.final")[0])


@pytest.mark.parametrize("critique_first, order", [(True, ["critique", "scores", "evidence"]),
                                                   (False, ["scores", "evidence", "critique"])])
async def test_critique_first_decides_the_order_the_answer_is_written_in(critique_first, order):
    host = scripted_host()
    await JudgePanel(host, config(critique_first=critique_first), RUBRIC).score(ITEM)
    request = host.requests("judge.score")[0]
    assert list(request.schema_json["properties"]) == order
    assert all(r["parsed_ok"] for r in host.records)
