"""The paper profile against facts recorded by running the authors' `simulator.py`
(Paitesanshi/CharacterBox@5c19141, config/play.yaml, 3 rounds) on five scenes of their data
(English and Chinese, one to four characters) with a stand-in LLM: fixed answers per call
type, the most-affected character chosen by `influence_target` from the actor's name and the
cast. The fixture holds no prompt text: per round the acting queue, every LLM call as
(purpose, actor, target) in order, and what each acting or reacting character was shown
(the opening beat, and whose action, line, effect). simkit plays the same scenes with the
same answers; a deliberate deviation (everyone hears every line) must fail the check.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from simkit.plugins.characterbox import scripted
from tests.plugins.characterbox.helpers import PAPER, simulate

HERE = Path(__file__).parent
FACTS = json.loads((HERE / "fixtures" / "authors_simulator.json").read_text(encoding="utf-8"))
SAMPLE = HERE.parents[1] / "data" / "characterbox_authors"
TAG = re.compile(r"⟪([a-z]+)(?: ([^⟫]*))?⟫")


def influence_target(actor: str, cast: list[str]) -> str:
    """The stand-in's choice of the most-affected character (the actor itself: nobody)."""
    n, i = len(cast), cast.index(actor)
    return cast[(i + 1 + int(hashlib.md5(actor.encode("utf-8")).hexdigest(), 16) % n) % n]


def _influence(request, rng):
    names = request.schema_json["properties"]["target"]["enum"]
    actor = TAG.search(scripted._first(scripted._DOES.search(scripted._user(request)))[1]).group(2)
    target = influence_target(actor, names)
    return {"target": target, "effect": f"⟪effect {actor}>{target}⟫"}


STAND_IN = {
    "characterbox.character.self_belief": lambda r, g: {"belief": "belief"},
    "characterbox.character.env_belief": lambda r, g: {"belief": "belief"},
    "characterbox.character.synopsis": lambda r, g: {k: "goes on" for k in r.schema_json["properties"]},
    "characterbox.character.action": lambda r, g: {"action": f"{scripted._me(r)} moves ⟪act {scripted._me(r)}⟫"},
    "characterbox.character.dialogue": lambda r, g: {"dialogue": f"words ⟪say {scripted._me(r)}⟫"},
    "characterbox.character.reaction": lambda r, g: {"reaction": f"{scripted._me(r)} flinches ⟪react {scripted._me(r)}⟫"},
    "characterbox.character.importance": lambda r, g: {"rating": 5},
    "characterbox.narrator.influence": _influence,
    "characterbox.narrator.result": lambda r, g: {"result": "⟪result⟫"},
    "characterbox.narrator.update_character": lambda r, g: {"position": "here", "state": "calm"},
    "characterbox.narrator.update_scene": lambda r, g: {"time": "t", "location": "l", "description": "d"},
    "characterbox.narrator.summary": lambda r, g: {"summary": "summary"},
}


def _scenes() -> list[dict]:
    out = []
    for fact in FACTS["scenes"]:
        work = json.loads((SAMPLE / fact["file"]).read_text(encoding="utf-8"))
        out.append(next(s for s in work["scenes"] if s["id"] == fact["scene_id"]))
    return out


def _tags(text: str, opening: str) -> list[str]:
    found = ["opening"] if opening and opening in text else []
    return found + [m.group(1) + (f":{m.group(2)}" if m.group(2) else "") for m in TAG.finditer(text)]


def played(sim, con, scenes: list[dict]) -> list[dict]:
    """What simkit did, in the fixture's terms, per scene of the run (s1, s2, ...)."""
    names = {a: c.name for stage in sim.plugin.stages.values() for a, c in stage.characters.items()}
    out = []
    for n, scene in enumerate(scenes, 1):
        key, opening = f"s{n}", (scene["actions"][0]["action"] if scene["actions"] else "")
        rounds: dict[int, dict] = {}
        for row in con.execute("select tick, agent_id, purpose, messages_json, response_json from llm_calls where agent_id like ? order by tick, seq", [f"{key}/%"]):
            purpose = row["purpose"].rsplit(".", 1)[1]
            user = json.loads(row["messages_json"])[-1]["content"]
            actor, target = names.get(row["agent_id"]), None
            if purpose == "influence":
                actor, target = TAG.search(user).group(2), json.loads(json.loads(row["response_json"])["text"])["target"]
            elif purpose == "result":
                tags = dict(m.groups() for m in TAG.finditer(user))
                actor, target = tags["act"], tags["react"]
            elif purpose == "update_character":
                actor = scripted._first(scripted._WHO.search(user))[0]
            rounds.setdefault(row["tick"], {"calls": [], "observed": []})["calls"].append([purpose, actor, target])
        for row in con.execute("select tick, agent_id, items_json from exposures where agent_id like ? order by tick, seq", [f"{key}/%"]):
            shown = json.loads(row["items_json"])
            purpose = "reaction" if "reacting_to" in shown else "action"
            rounds[row["tick"]]["observed"].append([purpose, names[row["agent_id"]], _tags(shown["observation"], opening)])
        orders = [json.loads(r[0])["next_order"] for r in con.execute("select payload_json from events where kind = 'round' and agent_id = ? order by tick", [f"{key}/narrator"])]
        cast = [c["name"].strip() for c in scene["characters"]]
        out.append({"rounds": [{"order": order, **rounds[t]} for t, order in enumerate([cast, *orders[:-1]])], "next_order": orders[-1]})
    return out


def expected() -> list[dict]:
    return [{"rounds": f["rounds"], "next_order": f["next_order"]} for f in FACTS["scenes"]]


async def _run(tmp_path, **section) -> list[dict]:
    scenes = _scenes()
    path = tmp_path / "scenes.json"
    path.write_text(json.dumps({"title": "conformance", "scenes": scenes}, ensure_ascii=False), encoding="utf-8")
    sim, con = await simulate(tmp_path, STAND_IN, PAPER, scenes=str(path), judging={"characters": False, "narrator_calls": 0},
                              **section)
    return played(sim, con, scenes)


async def test_the_paper_profile_plays_as_the_authors_simulator(tmp_path):
    ours = await _run(tmp_path)
    for fact, mine in zip(expected(), ours):
        for r, (want, got) in enumerate(zip(fact["rounds"], mine["rounds"]), 1):
            assert got["order"] == want["order"], f"round {r}: acting order"
            assert got["observed"] == want["observed"], f"round {r}: what each character was shown"
            assert got["calls"] == want["calls"], f"round {r}: calls (purpose, actor, target)"
        assert mine["next_order"] == fact["next_order"]


@pytest.mark.parametrize("deviation", [{"observation": "everyone"}, {"next_order": "completion"}])
async def test_a_deviation_from_the_authors_code_fails_the_facts(tmp_path, deviation):
    assert await _run(tmp_path, **deviation) != expected()
