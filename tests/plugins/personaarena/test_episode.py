"""The episode: early stop on checkpoint coverage, the environment agent's speaker choice
and its fallback, per-role clients, judge messages stored and unparsable judges excluded."""

from __future__ import annotations

import itertools
import json

import pytest

import simkit.llm.factory as factory
from simkit.judges.scripted import score as scripted_score
from simkit.llm.scripted import ScriptedBackend
from simkit.plugins.personaarena.replay import PersonaArenaRenderer
from simkit.plugins.personaarena.world import CHECKPOINTS
from simkit.replay.data import JudgementFilters, ReplayData
from simkit.replay.render import plain
from tests.plugins.personaarena.helpers import events, finals, label, run_episode


async def test_early_stop_when_every_checkpoint_is_covered(tmp_path):
    sim, conn = await run_episode(tmp_path / "a.db", "max_turns=12")
    end = events(conn, "episode_end")[0]
    assert end["stop"] == "covered" and end["covered"] == list(CHECKPOINTS)
    assert end["turns"] < 12
    assert len(events(conn, "line")) == end["turns"]
    assert events(conn, "coverage")[-1]["missing"] == []
    metrics = finals(conn)
    assert metrics[("early_stop", "{}")] == 1 and metrics[("coverage", "{}")] == 1


async def test_without_early_stop_the_episode_runs_to_max_turns(tmp_path):
    _, conn = await run_episode(tmp_path / "a.db", "max_turns=12", "early_stop=false")
    end = events(conn, "episode_end")[0]
    assert (end["stop"], end["turns"]) == ("max_turns", 12)
    assert finals(conn)[("early_stop", "{}")] == 0


async def test_a_line_covering_everything_ends_the_episode_at_once(tmp_path):
    everything = {"personaarena.track": lambda req, rng: {"shown": list(CHECKPOINTS), "evidence": "all of it"}}
    _, conn = await run_episode(tmp_path / "a.db", "max_turns=12", responders=everything)
    lines = events(conn, "line")
    assert lines[-1]["_agent"] == "protagonist"
    assert [line["_agent"] for line in lines].count("protagonist") == 1
    assert finals(conn)[("checkpoint.turn", label(checkpoint="values"))] == len(lines)


async def test_the_environment_agents_pick_is_who_speaks(tmp_path):
    order = ["npc-2", "npc-2", "protagonist", "npc-1", "protagonist", "npc-2"]
    picks = iter(order)
    responders = {"personaarena.pick": lambda req, rng: {"speaker": next(picks), "reason": "scripted", "cue": ""}}
    _, conn = await run_episode(tmp_path / "a.db", "max_turns=6", "early_stop=false", responders=responders)
    assert [line["_agent"] for line in events(conn, "line")] == order
    assert [p["speaker"] for p in events(conn, "pick")] == order
    assert not any(p["fallback"] for p in events(conn, "pick"))


async def test_a_pick_that_never_parses_falls_back_deterministically(tmp_path):
    garbage = {"personaarena.pick": lambda req, rng: {"speaker": "the narrator", "reason": 3}}
    _, conn = await run_episode(tmp_path / "a.db", "max_turns=6", "early_stop=false", responders=garbage)
    picks = events(conn, "pick")
    assert all(p["fallback"] for p in picks)
    speakers = [line["_agent"] for line in events(conn, "line")]
    assert speakers == ["protagonist", "npc-1", "protagonist", "npc-2", "protagonist", "npc-1"]
    assert conn.execute("select count(*) from events where kind = 'parse_failure'").fetchone()[0] >= len(picks)


async def test_each_role_calls_its_own_model(tmp_path, monkeypatch):
    """The model column of every call names the model of its purpose's role."""

    class Named(ScriptedBackend):
        def __init__(self, seed, name):
            super().__init__(seed)
            self.name_ = name

        @property
        def model(self):
            return f"scripted-{self.name_}"

    real = factory.make_backend
    monkeypatch.setattr(factory, "make_backend", lambda cfg, seed: Named(seed, cfg.model) if cfg.backend == "scripted" else real(cfg, seed))
    roles = {r: {"backend": "scripted", "model": r} for r in ("environment", "npc", "judge", "arbiter")}  # pinned
    _, conn = await run_episode(tmp_path / "a.db", "max_turns=6", llm={"backend": "scripted", "model": "tested", "roles": roles},
                                responders={"judge.score": disputed_scores, "judge.final": disputed_scores})
    by_purpose = {(p, m) for p, m in conn.execute("select distinct purpose, model from llm_calls")}
    expected = {
        "personaarena.scene": "environment", "personaarena.pick": "environment", "personaarena.track": "environment",
        "personaarena.npc": "npc", "personaarena.protagonist": "tested",
        "judge.score": "judge", "judge.debate": "judge", "judge.final": "judge", "judge.arbiter": "arbiter",
    }
    assert {p for p, _ in by_purpose} == set(expected)
    assert by_purpose == {(p, f"scripted-{m}") for p, m in expected.items()}


def disputed_scores(request, rng):
    """Judges that disagree by two points on every metric, so the debate and arbiter run."""
    answer = scripted_score(request, rng)
    judge = request.agent_id.split(":", 1)[1]
    answer["scores"] = {k: {"critic": 1, "psychologist": 3, "public": 5}[judge] for k in answer["scores"]}
    return answer


async def test_every_judge_message_is_stored_and_shown(tmp_path):
    sim, conn = await run_episode(tmp_path / "a.db", "max_turns=6", responders={"judge.score": disputed_scores,
                                  "judge.final": disputed_scores})
    rows = conn.execute("select judge_id, phase, parsed_ok, text, scores_json from judgements order by tick, seq").fetchall()
    phases = [r["phase"] for r in rows]
    rounds = sim.plugin.config.judge.max_debate_rounds
    assert phases == ["independent"] * 3 + ["debate"] * 3 * rounds + ["final"] * 3 + ["arbiter"]
    assert all(r["parsed_ok"] and r["text"] for r in rows)
    assert events(conn, "judge") == []  # stored once, in the judgements table
    data = ReplayData.open(tmp_path / "a.db", sim.run_id)
    shown = data.judgements(data.last_tick).rows
    assert [(j.judge_id, j.phase, j.text) for j in shown] == [(r["judge_id"], r["phase"], r["text"]) for r in rows]
    views = [plain(PersonaArenaRenderer().judgement(j)) for j in shown]
    assert views[0].startswith("critic: independent score") and "immersion 1" in views[0]
    assert views[3].startswith("critic: debate, round 1") and views[-1].startswith("arbiter: arbiter's ruling")
    verdict = events(conn, "verdict")[0]
    assert verdict["method"] == "arbitrated" and set(verdict["arbitrated"]) == set(verdict["disputed"])
    metrics = finals(conn)
    assert metrics[("score", label(judge="critic", metric="immersion"))] == 1
    assert metrics[("score", label(judge="panel", metric="immersion"))] == verdict["scores"]["immersion"]
    assert metrics[("judge.leniency", label(judge="critic"))] == pytest.approx(-2)
    assert metrics[("judge.calls", label(phase="arbiter"))] == 1


async def test_a_judge_answer_that_never_parses_is_recorded_and_excluded(tmp_path):
    def critic_rambles(request, rng):
        if request.agent_id == "judge:critic":
            return "Honestly, it was rather good."
        return scripted_score(request, rng)

    _, conn = await run_episode(tmp_path / "a.db", "max_turns=6", responders={"judge.score": critic_rambles})
    row = conn.execute("select parsed_ok, text, labels_json from judgements where judge_id = 'critic' and phase = 'independent'").fetchone()
    assert row["parsed_ok"] == 0 and "rather good" in row["text"] and "error" in json.loads(row["labels_json"])
    data = ReplayData.open(tmp_path / "a.db", conn.execute("select run_id from runs").fetchone()[0])
    critic = data.judgements(data.last_tick, JudgementFilters(judge="critic")).rows
    assert [(j.phase, j.parsed_ok) for j in critic] == [("independent", False)]
    view = plain(PersonaArenaRenderer().judgement(critic[0]))
    assert "answer never parsed: excluded" in view and "rather good" in view
    assert conn.execute("select count(*) from judgements where judge_id = 'critic' and phase != 'independent'").fetchone()[0] == 0
    metrics = finals(conn)
    assert metrics[("judge.excluded", label(judge="critic", phase="independent"))] == 1
    assert metrics[("score", label(judge="critic", metric="immersion"))] is None
    others = [metrics[("score", label(judge=j, metric="immersion"))] for j in ("psychologist", "public")]
    verdict = events(conn, "verdict")[0]
    if not verdict["disputed"]:
        assert verdict["scores"]["immersion"] == pytest.approx(sum(others) / 2)
    assert ("judge.leniency", label(judge="critic")) not in metrics


async def test_same_seed_same_episode(tmp_path):
    digests = []
    for name in ("a.db", "b.db"):
        _, conn = await run_episode(tmp_path / name, "max_turns=8")
        digests.append([tuple(r) for r in conn.execute("select tick, seq, agent_id, kind, payload_json from events order by tick, seq")])
    assert digests[0] == digests[1]


async def test_steering_covers_checkpoints_sooner(tmp_path):
    _, steered = await run_episode(tmp_path / "a.db", "max_turns=16")
    _, unsteered = await run_episode(tmp_path / "b.db", "max_turns=16", "steer=false")
    turns = [events(c, "episode_end")[0]["turns"] for c in (steered, unsteered)]
    assert turns[0] < turns[1]
    assert all(p["cue"] == "" for p in events(unsteered, "pick"))


@pytest.mark.parametrize("turns_per_tick", [1, 3])
async def test_lines_per_tick(tmp_path, turns_per_tick):
    _, conn = await run_episode(tmp_path / "a.db", "max_turns=6", "early_stop=false", f"turns_per_tick={turns_per_tick}")
    ticks = [r[0] for r in conn.execute("select tick from events where kind = 'line' order by tick")]
    assert [len(list(g)) for _, g in itertools.groupby(ticks)] == [turns_per_tick] * (6 // turns_per_tick)


async def test_a_pick_that_never_gives_the_protagonist_the_floor_is_overruled(tmp_path):
    always = {"personaarena.pick": lambda req, rng: {"speaker": "npc-1", "reason": "scripted", "cue": "say hi"}}
    _, conn = await run_episode(tmp_path / "a.db", "max_turns=9", "early_stop=false", "max_npc_streak=2", responders=always)
    speakers = [line["_agent"] for line in events(conn, "line")]
    assert speakers == ["npc-1", "npc-1", "protagonist"] * 3
    assert [p["overruled"] for p in events(conn, "pick")] == [False, False, True] * 3
