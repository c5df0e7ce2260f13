"""A round as the authors' code plays it: turn order, the reaction that uses up the
reactor's turn, the next round in completion order, state and scene updates recorded."""

from __future__ import annotations

import json

from simkit.plugins.characterbox import scripted
from tests.plugins.characterbox.helpers import simulate

HOLMES, WATSON, KING = "s1/c0", "s1/c1", "s1/c2"  # the file's character ids


def influence(request, rng):
    """Holmes's actions hit the King, Watson's hit Holmes, the King's nobody."""
    actor = scripted._DOES.search(scripted._user(request)).group(1)
    target = {"Sherlock Holmes": "The King of Bohemia", "Dr. Watson": "Sherlock Holmes"}.get(actor, actor)
    return {"target": target, "effect": f"{target} is jostled." if target != actor else ""}


def turns(con):
    return [(r["tick"], json.loads(r["payload_json"])) for r in con.execute("select tick, payload_json from events where kind = 'turn' order by tick, seq")]


async def test_reaction_uses_up_the_reactors_turn_and_next_round_follows_completion_order(tmp_path):
    sim, con = await simulate(tmp_path, {"characterbox.narrator.influence": influence}, scene_ids=[1], rounds=2)
    played = turns(con)
    assert [(t, p["character"]) for t, p in played] == [
        (0, "Sherlock Holmes"), (0, "Dr. Watson"),  # the King reacted to Holmes: his own turn is gone
        (1, "Sherlock Holmes"), (1, "Dr. Watson"),
    ]
    first, second = played[0][1], played[1][1]
    assert first["target"] == "The King of Bohemia" and first["turn_used"] is True
    assert second["target"] == "Sherlock Holmes" and second["turn_used"] is False  # Holmes had acted already
    # the King never took an action of his own, only reactions
    purposes = [r["purpose"] for r in con.execute("select purpose from llm_calls where agent_id = ?", [KING])]
    assert "characterbox.character.action" not in purposes and purposes.count("characterbox.character.reaction") == 2
    # the next round runs in this round's completion order: Holmes, the King (reacted), Watson
    assert sim.plugin.stages["s1"].order == [HOLMES, KING, WATSON]
    # the reactor's reaction call came right after the actor's influence call, inside the actor's turn
    calls = [(r["agent_id"], r["purpose"]) for r in con.execute("select agent_id, purpose from llm_calls where tick = 0 order by seq")]
    i = calls.index(("s1/narrator", "characterbox.narrator.influence"))
    assert calls[i + 1] == (KING, "characterbox.character.reaction")


def _update(request, rng):
    """The narrator's new position and state: a known function of who is updated."""
    who = scripted._first(scripted._WHO.search(scripted._user(request)))[0]
    return {"position": f"next to the fire ({who})", "state": f"state of {who}"}


def _scene(request, rng):
    return {"time": "later", "location": "the sitting room, now dark", "description": "The lamp is out."}


def _belief(request, rng):
    return {"belief": f"{scripted._me(request)} believes it"}


async def test_state_and_scene_updates_are_recorded(tmp_path):
    _sim, con = await simulate(tmp_path, {"characterbox.narrator.influence": influence, "characterbox.narrator.update_character": _update,
                                          "characterbox.narrator.update_scene": _scene, "characterbox.character.self_belief": _belief},
                               scene_ids=[1], rounds=2)
    states = list(con.execute("select tick, character, position, states from characterbox_states order by tick, rowid"))
    # Holmes's turn updates Holmes and the King, Watson's turn Watson and Holmes: 4 rows a round
    assert [(r["tick"], r["character"]) for r in states[:4]] == [
        (0, "Sherlock Holmes"), (0, "The King of Bohemia"), (0, "Dr. Watson"), (0, "Sherlock Holmes")]
    assert all((r["position"], r["states"]) == (f"next to the fire ({r['character']})", f"state of {r['character']}") for r in states)
    scenes = list(con.execute("select tick, round, description, summary from characterbox_scenes order by tick, rowid"))
    assert [r["round"] for r in scenes] == [0, 1, 2]  # the opening, then one per round (per_round mode)
    assert scenes[0]["summary"].startswith("The King of Bohemia: He closes the door")  # the file's opening beat
    assert [r["description"] for r in scenes[1:]] == ["The lamp is out."] * 2
    snapshot = json.loads(con.execute("select state_json from agent_state where agent_id = ? order by tick desc", [HOLMES]).fetchone()[0])
    assert snapshot["self_belief"] == "Sherlock Holmes believes it" and len(snapshot["memory"]) >= 6
    rounds = [json.loads(r[0]) for r in con.execute("select payload_json from events where kind = 'round' order by tick")]
    assert [p["round"] for p in rounds] == [1, 2] and all(p["scene_now"]["location"] == "the sitting room, now dark" for p in rounds)


async def test_per_actor_mode_updates_the_scene_after_every_turn(tmp_path):
    _sim, con = await simulate(tmp_path, {"characterbox.narrator.influence": influence}, scene_ids=[1], rounds=1,
                               scene_update="per_actor")
    n = con.execute("select count(*) from llm_calls where purpose = 'characterbox.narrator.update_scene'").fetchone()[0]
    assert n == 2  # two turns (Holmes, Watson), none at the round's end
    assert all("scene_now" in p for _t, p in turns(con))


def _rating(request, rng):
    """A rater whose answer is a known function of the memory: its length, 1-10."""
    memory = scripted._user(request).split("Memory:", 1)[1].split("\n", 1)[0].strip()
    return {"rating": len(memory) % 10 + 1}


async def test_each_memory_keeps_the_rating_its_call_returned(tmp_path):
    sim, con = await simulate(tmp_path, {"characterbox.character.importance": _rating}, scene_ids=[6], rounds=1,
                              memory={"importance": "rated", "k": 3})
    rated = con.execute("select count(*) from llm_calls where purpose = 'characterbox.character.importance'").fetchone()[0]
    memories = [m for c in sim.plugin.stages["s1"].characters.values() for m in c.memory.items]
    assert rated == len(memories) > 0
    assert all(m.importance == len(m.text) % 10 + 1 for m in memories)


async def test_recency_memory_shows_the_newest_first_within_the_token_budget(tmp_path):
    sim, con = await simulate(tmp_path, scene_ids=[6], rounds=2, memory={"shown": "recency", "tokens": 700, "importance": "fixed"})
    victor = sim.plugin.stages["s1"].characters["s1/c0"]
    texts = [m.text for m in victor.memory.items]
    rows = [json.loads(r[0]) for r in con.execute(
        "select messages_json from llm_calls where agent_id = 's1/c0' and purpose like '%.action' order by tick, seq")]
    system = rows[-1][0]["content"]
    shown = [line[2:] for line in system.split("Your memories, newest first:\n", 1)[1].splitlines() if line.startswith("- ")]
    newest_first = texts[::-1]
    # a run of consecutive memories, newest first, ending at the newest memory the prompt could see
    assert shown and any(newest_first[o:o + len(shown)] == shown for o in range(len(texts)))
    assert sum(len(m["content"]) for m in rows[-1]) // 4 + 1 < 700  # the prompt with its memories stays under the budget
    assert len(shown) < len(texts)  # and the budget left older memories out


async def test_conclude_check_ends_the_run_when_the_narrator_says_so(tmp_path):
    said = {"n": 0}

    def concluded(request, rng):
        said["n"] += 1
        return {"concluded": said["n"] >= 2, "reason": "because the test says so"}

    sim, con = await simulate(tmp_path, {"characterbox.narrator.concluded": concluded}, scene_ids=[2], rounds=5, conclude_check=True)
    assert sim.plugin.round == 2
    assert con.execute("select count(*) from ticks").fetchone()[0] == 2


def _plots(request, rng):
    return {k: f"plot for {f['title']}" for k, f in request.schema_json["properties"].items()}


async def test_synopsis_by_character_model_or_narrator(tmp_path):
    plots = {"characterbox.character.synopsis": _plots, "characterbox.narrator.synopsis": _plots}
    _sim, con = await simulate(tmp_path / "c", plots, scene_ids=[6], rounds=1, synopsis="character")
    (agent,) = [r[0] for r in con.execute("select agent_id from llm_calls where purpose = 'characterbox.character.synopsis'")]
    assert agent == "s1/c0"  # the code has the first character's model write it (Victor Frankenstein)
    shown = [json.loads(r[0]) for r in con.execute("select items_json from exposures where agent_id like 's1/c%' and items_json like '%plot%' order by seq")]
    assert {s["plot"] for s in shown} <= {"plot for Victor Frankenstein", "plot for The Creature"} and shown
    assert shown[0]["plot"] == "plot for Victor Frankenstein"
    _sim, con = await simulate(tmp_path / "n", plots, scene_ids=[6], rounds=1, synopsis="narrator")
    assert con.execute("select agent_id from llm_calls where purpose = 'characterbox.narrator.synopsis'").fetchone()[0] == "s1/narrator"


async def test_a_clipped_answer_is_an_event_with_its_original_length(tmp_path):
    long = "x" * 450
    _sim, con = await simulate(tmp_path, {"characterbox.character.action": lambda r, g: {"action": long}}, scene_ids=[6], rounds=1)
    events = [json.loads(r[0]) for r in con.execute("select payload_json from events where kind = 'clipped'")]
    assert events and all(e == {"purpose": "characterbox.character.action", "fields": {"action": 450}} for e in events)
    turn = json.loads(con.execute("select payload_json from events where kind = 'turn'").fetchone()[0])
    assert turn["action"] == "x" * 200
