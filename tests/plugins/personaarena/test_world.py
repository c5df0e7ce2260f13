"""World helpers and the config: properties of the deterministic fallbacks, strict keys."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simkit.errors import ConfigError
from simkit.personas.model import Persona
from simkit.plugins.personaarena.answers import pick_model, scene_model
from simkit.plugins.personaarena.world import PROTAGONIST, Episode, default_scene, distinct_names
from tests.plugins.personaarena.helpers import simulation

PERSONA = Persona(id="p1", name="Ada Lovelace", narrative="A mathematician.")
NAMES = st.lists(st.sampled_from(["", " ", "Ada Lovelace", "ada lovelace", "Sam", "Maya", "Maya ", "Tom"]), min_size=1, max_size=3)


@given(NAMES)
def test_npc_names_are_distinct_and_never_the_protagonists(names):
    out = distinct_names(PERSONA.name, names)
    assert len(out) == len(names)
    folded = [n.casefold() for n in out]
    assert len(set(folded)) == len(folded) and PERSONA.name.casefold() not in folded and all(out)


@given(st.integers(1, 3), st.lists(st.integers(0, 3), max_size=12))
def test_fallback_speaker_is_in_the_cast_and_alternates_with_the_protagonist(n_npcs, sequence):
    ep = Episode(PERSONA, default_scene(PERSONA, n_npcs))
    for k in sequence:
        agent = ep.speakers[k % len(ep.speakers)]
        ep.transcript.add(ep.name_of(agent), "hello", agent=agent)
    pick = ep.fallback_speaker()
    assert pick in ep.speakers
    last = ep.transcript.lines[-1].labels["agent"] if sequence else None
    assert (pick == PROTAGONIST) == (last != PROTAGONIST)


def test_answer_schemas_bound_the_cast_and_the_npc_count():
    Pick = pick_model(("protagonist", "npc-1"))
    assert Pick.model_validate({"speaker": "npc-1", "reason": "r"}).cue == ""
    with pytest.raises(ValueError):
        Pick.model_validate({"speaker": "npc-7", "reason": "r"})
    npc = {"name": "Sam", "relation": "friend", "description": "d", "self_belief": "b"}
    base = {"event": "e", "time": "t", "location": "l", "description": "d", "opening": "o"}
    Scene = scene_model(2, 3)
    assert len(Scene.model_validate({**base, "npcs": [npc, npc]}).npcs) == 2
    for count in (1, 4):
        with pytest.raises(ValueError):
            Scene.model_validate({**base, "npcs": [npc] * count})


@pytest.mark.parametrize("sets, message", [
    (["personaarena.max_turnz=3"], "personaarena.max_turnz"),
    (["personaarena.min_npcs=3", "personaarena.max_npcs=2"], "min_npcs (3) is above max_npcs (2)"),
    (["llm.roles.narrator.model=x"], "llm.roles.narrator: unknown role"),
])
def test_bad_config_is_one_line_naming_the_file_and_key(tmp_path, sets, message):
    with pytest.raises(ConfigError) as err:
        simulation(tmp_path / "a.db", *sets)
    assert "personaarena.yaml" in str(err.value) and message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("sets, message", [
    (["persona=nobody"], "personaarena.persona: 'nobody' is not in the population"),
    (["human_labels=/nonexistent/labels.jsonl"], "personaarena.human_labels: .*/nonexistent/labels.jsonl: not found"),
])
async def test_bad_references_fail_at_setup(tmp_path, sets, message):
    with pytest.raises(ConfigError, match=message):
        await simulation(tmp_path / "a.db", *sets).run()
