"""Every character of every scene is an agent, whatever its name's script: the authors' files
(a sample under tests/data/characterbox_authors, MIT) and simkit's edge cases in their layout
(names differing only in punctuation, Chinese, Japanese, Cyrillic and emoji names, a
one-character scene), played from one folder on the scripted backend and against an
OpenAI-compatible server on 127.0.0.1; the names are shown as written."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from simkit.plugins.characterbox.scenes import load_scene_file, load_scenes
from tests.conftest import run_cli
from tests.plugins.characterbox.helpers import PAPER, scenario_file
from tests.servers.fault_server import Faults, FaultServer

DATA = Path(__file__).parents[2] / "data"
SAMPLE, EDGE = DATA / "characterbox_authors", DATA / "characterbox_edge"
ENV = dict(os.environ, COLUMNS="200")


def test_all_twenty_authors_files_load_alone_and_as_one_folder(capsys):
    files = sorted(SAMPLE.rglob("*.json"))
    assert [f.parent.name for f in files].count("extracted_scenes") == 10 and len(files) == 20
    scenes = sum(len(load_scene_file(f).scenes) for f in files)
    assert len(load_scenes(SAMPLE)) == scenes
    warned = capsys.readouterr().err
    assert "generated_data/Harry_Potter.json: ignored fields the authors' loader ignores too: scenes[].characters[].dialogue" in warned
    assert "generated_data/The_Lord_of_the_Rings.json: ignored fields the authors' loader ignores too: scenes[].actions[].description" in warned
    assert warned.count("warning:") == 2 * 2  # one line per file, and each file was read twice


@pytest.mark.skipif(not os.environ.get("CHARACTERBOX_DATA"), reason="set CHARACTERBOX_DATA to the authors' data/ folder")
def test_the_authors_original_files_load():
    root = Path(os.environ["CHARACTERBOX_DATA"])
    files = sorted(root.rglob("*.json"))
    assert len(files) == 20
    for f in files:
        assert load_scene_file(f).scenes
    assert len(load_scenes(root)) == 1058


def folder(tmp_path: Path) -> Path:
    out = tmp_path / "scenes"
    shutil.copytree(SAMPLE, out, ignore=shutil.ignore_patterns("LICENSE", "*.md"))
    shutil.copy(EDGE / "edge_cases.json", out / "edge_cases.json")
    return out


def check_cast(db: Path, scenes: Path) -> None:
    """The agents of each scene are exactly the file's characters, by name."""
    con = sqlite3.connect(db)
    cast: dict[str, list[str]] = {}
    titles: dict[str, tuple] = {}
    for (meta,) in con.execute("select persona_json from agents where kind = 'character' order by rowid"):
        meta = json.loads(meta)
        cast.setdefault(meta["scene"], []).append(meta["name"])
        titles[meta["scene"]] = (meta["title"], meta["scene_id"])
    expected = load_scenes(scenes)
    assert len(cast) == len(expected)
    for n, (title, scene) in enumerate(expected, 1):
        assert titles[f"s{n}"] == (title, scene.id)
        assert cast[f"s{n}"] == [c.name for c in scene.characters], (title, scene.id)
    # names are shown as written: in the turns' script and the narrator's choices
    names = {c.name for _t, s in expected for c in s.characters}
    said = Counter(json.loads(p)["character"] for (p,) in con.execute("select payload_json from events where kind = 'turn'"))
    assert set(said) <= names and {"Anne!", "Anne?", "张三", "Анна", "さくら", "🦊 Fox", "Edda"} <= set(said) | {
        json.loads(p).get("target") for (p,) in con.execute("select payload_json from events where kind = 'turn'")}
    assert con.execute("select status from runs").fetchone()[0] == "finished"
    con.close()


SECTION = {"scene_ids": [], "rounds": 1, "judging": {"characters": False, "narrator_calls": 0}}


def test_a_folder_with_every_script_on_the_scripted_backend(tmp_path):
    scenes = folder(tmp_path)
    path = scenario_file(tmp_path, PAPER, scenes=str(scenes), **SECTION)
    out = run_cli(["run", str(path), "--quiet", "--llm", "scripted"], env=ENV, cwd=tmp_path)
    assert "finished" in out.stdout
    check_cast(tmp_path / "run.db", scenes)
    con = sqlite3.connect(tmp_path / "run.db")
    assert con.execute("select count(*) from llm_calls where parsed_ok = 0").fetchone()[0] == 0
    # the Chinese scene played with the Chinese prompt set
    (system,) = con.execute("select json_extract(messages_json, '$[0].content') from llm_calls where purpose like '%.action' "
                            "and messages_json like '%张三%' limit 1").fetchone()
    assert system.startswith("你是张三。")


def test_a_folder_with_every_script_against_an_openai_compatible_server(tmp_path):
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    shutil.copy(EDGE / "edge_cases.json", scenes / "edge_cases.json")
    shutil.copy(SAMPLE / "generated_data" / "西游记.json", scenes / "西游记.json")
    path = scenario_file(tmp_path, PAPER, scenes=str(scenes), **SECTION)
    with FaultServer(Faults()) as server:
        env = dict(ENV, OPENAI_API_KEY="sk-test")
        out = run_cli(["run", str(path), "--quiet", "--llm", "openai:stub-model", "--set", f"llm.base_url={server.base_url}"],
                      env=env, timeout=300)
    assert "finished" in out.stdout
    check_cast(tmp_path / "run.db", scenes)
