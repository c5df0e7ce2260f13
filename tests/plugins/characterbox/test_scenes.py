"""Scene files in the authors' layout: the shipped scenes, and bad files as one clear line."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.errors import ConfigError
from simkit.plugins.characterbox.config import DATA
from simkit.plugins.characterbox.scenes import load_scene_file, load_scenes

SHIPPED = json.loads((DATA / "scenes.json").read_text())
SCENE_FIELDS = ("id", "event", "time", "location", "description", "characters")
CHARACTER_FIELDS = ("name", "description", "position", "states")


def write(tmp_path, data, name="scenes.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_shipped_scenes_are_five_or_more_with_two_to_four_characters_and_an_opening_beat():
    scenes = load_scenes(DATA / "scenes.json")
    assert len(scenes) >= 5
    for _title, scene in scenes:
        assert 2 <= len(scene.characters) <= 4 and scene.actions and scene.plot
        assert "public domain" in scene.chunk.text


@settings(max_examples=60, deadline=None)
@given(scene=st.integers(0, len(SHIPPED["scenes"]) - 1), field=st.sampled_from(SCENE_FIELDS))
def test_a_missing_scene_field_names_file_and_field(tmp_path_factory, scene, field):
    data = copy.deepcopy(SHIPPED)
    del data["scenes"][scene][field]
    path = write(tmp_path_factory.mktemp("s"), data)
    with pytest.raises(ConfigError) as err:
        load_scene_file(path)
    assert str(err.value) == f"{path}: scenes[{scene}].{field}: missing field"


@settings(max_examples=60, deadline=None)
@given(data=st.data(), field=st.sampled_from(CHARACTER_FIELDS))
def test_a_missing_character_field_names_file_and_field(tmp_path_factory, data, field):
    scene = data.draw(st.integers(0, len(SHIPPED["scenes"]) - 1))
    who = data.draw(st.integers(0, len(SHIPPED["scenes"][scene]["characters"]) - 1))
    bad = copy.deepcopy(SHIPPED)
    del bad["scenes"][scene]["characters"][who][field]
    path = write(tmp_path_factory.mktemp("c"), bad)
    with pytest.raises(ConfigError) as err:
        load_scene_file(path)
    assert str(err.value) == f"{path}: scenes[{scene}].characters[{who}].{field}: missing field"


def test_two_characters_sharing_an_id_is_one_line_naming_both(tmp_path):
    data = copy.deepcopy(SHIPPED)
    data["scenes"][0]["characters"][1]["id"] = data["scenes"][0]["characters"][0]["id"]
    a, b = (c["name"] for c in data["scenes"][0]["characters"][:2])
    with pytest.raises(ConfigError) as err:
        load_scene_file(write(tmp_path, data))
    assert str(err.value) == f"{tmp_path / 'scenes.json'}: scenes[0]: characters: {a!r} and {b!r} share the id 0"


@settings(max_examples=40, deadline=None)
@given(names=st.lists(st.text(st.characters(categories=["L", "N", "Zs"]), min_size=1, max_size=12).filter(str.strip),
                      min_size=2, max_size=5))
def test_any_names_load_unless_one_is_given_twice(tmp_path_factory, names):
    scene = copy.deepcopy(SHIPPED["scenes"][0])
    scene["characters"] = [{"name": n, "description": "d", "position": "p", "states": "s"} for n in names]
    scene["actions"] = []
    path = write(tmp_path_factory.mktemp("n"), {"title": "t", "scenes": [scene]})
    folded = [n.strip().casefold() for n in names]
    if len(set(folded)) == len(folded):
        (loaded,) = load_scene_file(path).scenes
        assert [c.name for c in loaded.characters] == [n.strip() for n in names]
    else:
        with pytest.raises(ConfigError, match=r"scenes\[0\]: characters\[\d\]\.name: .* (is named twice|are one name)"):
            load_scene_file(path)


def test_unknown_fields_are_ignored_with_one_warning_per_file(tmp_path, capsys):
    """As the authors' loader does (pydantic v1 drops extras): e.g. generated_data/Harry_Potter.json's
    characters[].dialogue and The_Lord_of_the_Rings.json's actions[].description."""
    data = copy.deepcopy(SHIPPED)
    data["scenes"][2]["weather"] = "rain"
    data["scenes"][1]["characters"][0]["dialogue"] = "Hello."
    data["scenes"][3]["characters"][1]["dialogue"] = "Hi."
    data["scenes"][0]["actions"][0]["description"] = "a beat"
    path = write(tmp_path, data)
    work = load_scene_file(path)
    assert [s.id for s in work.scenes] == [s["id"] for s in SHIPPED["scenes"]]
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"warning: {path}: ignored fields the authors' loader ignores too: "
                   "scenes[].actions[].description, scenes[].characters[].dialogue, scenes[].weather"]
    load_scene_file(write(tmp_path, SHIPPED, "clean.json"))
    assert capsys.readouterr().err == ""


def test_bad_json_missing_file_and_unknown_speaker(tmp_path):
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ConfigError, match="broken.json: not a JSON scene file"):
        load_scene_file(tmp_path / "broken.json")
    with pytest.raises(ConfigError, match="nowhere.json: scene file not found"):
        load_scene_file(tmp_path / "nowhere.json")
    data = copy.deepcopy(SHIPPED)
    data["scenes"][0]["actions"][0]["character"] = "Moriarty"
    with pytest.raises(ConfigError, match=r"actions\[0\]\.character: 'Moriarty' is not a character of the scene"):
        load_scene_file(write(tmp_path, data))


def test_a_folder_of_work_files_and_selection_by_id(tmp_path):
    one = {"title": "A", "scenes": SHIPPED["scenes"][:2]}
    two = {"title": "B", "scenes": SHIPPED["scenes"][2:3]}
    write(tmp_path, one, "a.json"), write(tmp_path, two, "b.json")
    assert [(t, s.id) for t, s in load_scenes(tmp_path)] == [("A", 1), ("A", 2), ("B", 3)]
    assert [s.id for _, s in load_scenes(tmp_path, [3, 1])] == [1, 3]
    with pytest.raises(ConfigError, match="no scene with id 9"):
        load_scenes(tmp_path, [9])


def test_authors_layout_keys_load():
    """A scene as the authors' extracted files write it (ids, gender, actions with ids, chunk)."""
    scene = SHIPPED["scenes"][1]
    assert set(scene) == {"id", "event", "time", "location", "description", "characters", "actions", "plot", "chunk"}
    assert set(scene["characters"][0]) == {"id", "name", "gender", "description", "position", "states"}
    assert set(scene["actions"][0]) == {"action_id", "character", "character_id", "action", "dialogue"}
