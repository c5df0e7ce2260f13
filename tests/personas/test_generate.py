"""The generation pipeline on the scripted backend: personas, rejects with reasons, resume."""

import json

import pytest

from simkit.config import LLMConfig
from simkit.errors import LLMUnavailable
from simkit.llm.factory import make_client
from simkit.personas import scripted
from simkit.personas.generate import GenerateOptions, generate, item_order, rejected_path
from simkit.personas.model import INTEREST_GROUPS, load_personas
from simkit.personas.sources import SourceUser

ANXIOUS = [
    "Couldn't sleep again, kept replaying a conversation from work in my head. Why do I do this.",
    "Got an email that just said 'can we talk tomorrow' and now I'm going to be anxious all night.",
    "Stayed in again, my social battery was empty after the match.",
    "Finished the book for book club, the museum trip is next week.",
]
CALM = [
    "Flight got cancelled, rebooked for tomorrow, grabbed dinner at the airport. These things happen.",
    "Had friends over for a party and then karaoke until late. The more the merrier!",
    "Set up a home server and wrote a script to back up my photos.",
    "Rough week at work but I slept fine. Tomorrow is a new day.",
]


def users(k=6):
    out = []
    for i in range(k):
        posts = ANXIOUS if i % 2 == 0 else CALM
        out.append(SourceUser(f"u{i}", list(posts), {"age": 20 + i, "gender": "female", "region": "Leeds, UK",
                                                      "occupation": "nurse"}))
    return out


def client(seed=0):
    c = make_client(LLMConfig(backend="scripted"), seed)
    scripted.register(c.backend)
    return c


async def test_personas_have_demographics_interests_and_big_five_measured_in_character(tmp_path):
    out = tmp_path / "bank.jsonl"
    summary = await generate(users(), out, client(), GenerateOptions(), source="posts.jsonl")
    assert (summary.accepted, summary.rejected) == (6, 0)
    bank = load_personas(out)
    assert [p.id for p in bank] == [f"u{i}" for i in range(6)]  # source order, whatever finished first
    for p in bank:
        assert p.demographics.age == int(p.id[1:]) + 20  # known facts come from the source
        assert p.interests and set(p.interests) <= set(INTEREST_GROUPS)
        assert p.big_five is not None and 0 <= p.quality <= 1
        assert len(p.provenance["ipip"]["answers"]) == 50
        assert p.provenance["model"] == "scripted-v1"
        assert p.facts.missing() == []  # the five groups PersonaArena's checkpoints are judged against
        assert str(p.demographics.age) in p.facts.background[0]
    anxious = [p.big_five for p in bank if int(p.id[1:]) % 2 == 0]
    calm = [p.big_five for p in bank if int(p.id[1:]) % 2 == 1]
    assert min(b.N for b in anxious) > max(b.N for b in calm)  # the posts' tone reaches the scores
    assert min(b.E for b in calm) > max(b.E for b in anxious)


def test_items_are_shuffled_per_persona_but_stable():
    a, b = item_order("u1", 0), item_order("u2", 0)
    assert sorted(i.code for i in a) == sorted(i.code for i in b)
    assert [i.code for i in a] != [i.code for i in b]
    assert [i.code for i in a] == [i.code for i in item_order("u1", 0)]


async def test_rejected_personas_go_to_a_side_file_with_the_reason(tmp_path):
    c = client()

    def leaky(request, rng):
        answer = scripted.narrative(request, rng)
        if "sam.101@example.com" in request.messages[-1]["content"]:
            answer["narrative"] += " Reach her at sam.101@example.com for bike sales."
        return answer

    def strict_judge(request, rng):
        text = request.messages[-1]["content"]
        return {"fidelity": 1, "reason": "Ignores the posts."} if "karaoke" in text else scripted.judge(request, rng)

    c.backend.register("persona.narrative", leaky)
    c.backend.register("persona.judge", strict_judge)
    people = users(4)
    people[0].posts.append("Selling my old bike. Email me at sam.101@example.com if you're interested.")
    out = tmp_path / "bank.jsonl"
    summary = await generate(people, out, c, GenerateOptions(), source="s")
    rejects = {r["user_id"]: r for r in map(json.loads, rejected_path(out).read_text().splitlines())}
    assert summary.accepted == 1 and summary.reasons == {"rules": 1, "judge": 2}
    assert rejects["u0"]["stage"] == "rules"
    assert rejects["u0"]["reason"] == "contains an email address (sam.101@example.com) copied from the posts"
    assert rejects["u1"]["reason"] == "fidelity 1 < 3: Ignores the posts."
    assert rejects["u1"]["draft"]["name"]  # the draft is kept for inspection
    assert [p.id for p in load_personas(out)] == ["u2"]


async def test_contradictory_questionnaires_are_rejected(tmp_path):
    c = client()
    c.backend.register("persona.ipip", lambda request, rng: {f"q{i:02d}": 5 for i in range(1, 50)} | {"q50": 4})
    summary = await generate(users(2), tmp_path / "bank.jsonl", c, GenerateOptions(), source="s")
    assert summary.reasons == {"ipip": 2}
    reason = json.loads(rejected_path(tmp_path / "bank.jsonl").read_text().splitlines()[0])["reason"]
    assert reason.startswith("self-contradicting answers (inconsistency")


async def test_a_crashed_run_resumes_where_it_stopped(tmp_path):
    out = tmp_path / "bank.jsonl"
    c = client()
    calls = {"n": 0}

    def dies_on_the_fifth_user(request, rng):
        calls["n"] += 1
        if calls["n"] == 5:
            raise LLMUnavailable("server went away")
        return scripted.narrative(request, rng)

    c.backend.register("persona.narrative", dies_on_the_fifth_user)
    with pytest.raises(LLMUnavailable):
        await generate(users(8), out, c, GenerateOptions(concurrency=1), source="s")
    first = [p.id for p in load_personas(out)]
    assert first[:4] == ["u0", "u1", "u2", "u3"] and "u4" not in first  # finished work is kept
    with out.open("a") as fh:  # a kill -9 in the middle of a write leaves half a line
        fh.write('{"id": "u4", "name": "Half')

    fresh = client()
    asked = []
    fresh.backend.register("persona.narrative", lambda r, rng: asked.append(1) or scripted.narrative(r, rng))
    summary = await generate(users(8), out, fresh, GenerateOptions(concurrency=3), source="s")
    assert (summary.resumed, summary.accepted) == (len(first), 8 - len(first))
    assert len(asked) == 8 - len(first)  # only the users not done before
    bank = load_personas(out)
    assert [p.id for p in bank] == [f"u{i}" for i in range(8)]

    again = await generate(users(8), out, client(), GenerateOptions(), source="s")
    assert (again.resumed, again.accepted, again.rejected) == (8, 0, 0)


async def test_the_same_seed_gives_the_same_bank(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    await generate(users(), a, client(seed=3), GenerateOptions(concurrency=4), source="s")
    await generate(users(), b, client(seed=3), GenerateOptions(concurrency=1), source="s")
    assert a.read_text() == b.read_text()
