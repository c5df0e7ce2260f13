"""`profile: paper` fills what the scenario leaves out with the authors' settings, and a key
written in the scenario still wins; the language of a scene picks its prompt set."""

from __future__ import annotations

import json

from simkit.plugins.characterbox.config import PAPER, CharacterBoxConfig
from simkit.plugins.characterbox.scenes import language_of
from tests.plugins.characterbox.helpers import simulate


def test_the_paper_profile_sets_every_mechanic_unless_a_key_is_given():
    paper = CharacterBoxConfig.model_validate({"profile": "paper"})
    assert (paper.observation, paper.next_order, paper.update_evidence, paper.synopsis, paper.synopsis_role) == (
        "target", "authors", "exchange", "character", "follow")
    assert (paper.memory.shown, paper.memory.tokens, paper.memory.importance, paper.rounds) == ("recency", 2500, "rated", 3)
    mixed = CharacterBoxConfig.model_validate({"profile": "paper", "observation": "everyone", "memory": {"importance": "fixed"}})
    assert (mixed.observation, mixed.memory.importance, mixed.memory.shown) == ("everyone", "fixed", "recency")
    default = CharacterBoxConfig.model_validate({})
    assert all(getattr(default, k) != v for k, v in PAPER.items() if k in ("observation", "next_order", "update_evidence", "synopsis_role"))


def test_language_is_chinese_when_the_text_holds_an_ideograph():
    assert [language_of(t) for t in ("孙悟空大闹天宫", "The Matrix", "Neo 与 Trinity", "Анна", "")] == ["zh", "en", "zh", "en", "en"]


async def test_follow_shows_the_reference_as_guidance_with_the_earlier_references_as_history(tmp_path):
    def plots(request, rng):
        return {k: f"plot for {f['title']}" for k, f in request.schema_json["properties"].items()}

    _sim, con = await simulate(tmp_path, {"characterbox.character.synopsis": plots}, scene_ids=[6], rounds=2,
                               synopsis="character", synopsis_role="follow")
    prompts = [json.loads(r[0])[-1]["content"] for r in con.execute(
        "select messages_json from llm_calls where purpose = 'characterbox.character.synopsis' order by tick")]
    assert "Earlier action references" not in prompts[0]
    assert "1. Victor Frankenstein: plot for Victor Frankenstein; The Creature: plot for The Creature" in prompts[1]
    action = json.loads(con.execute("select messages_json from llm_calls where purpose = 'characterbox.character.action' limit 1").fetchone()[0])
    assert "Follow it." in action[-1]["content"] and "not an order" not in action[-1]["content"]
