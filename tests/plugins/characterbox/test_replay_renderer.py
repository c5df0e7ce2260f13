"""CharacterBox's replay renderer: a run reads as a script."""

from __future__ import annotations

from simkit.plugins.characterbox.replay import CharacterBoxRenderer
from simkit.replay.data import Event, Exposure
from simkit.replay.render import plain, renderer_for

TURN = {"round": 2, "scene": "s1", "character": "Alice", "action": "Alice sets down her cup.", "dialogue": "No room? <b>",
        "target": "The Hatter", "effect": "The Hatter is splashed.", "reaction": "The Hatter jumps up.", "turn_used": True,
        "result": "Tea runs across the cloth.", "updates": {"Alice": {"position": "standing", "state": "cross"}},
        "scene_now": {"time": "six", "location": "the table", "description": "A wet cloth."}}


def event(kind, payload):
    return Event(tick=1, seq=0, sim_time="", agent_id="s1/alice", kind=kind, payload=payload)


def test_installed_plugin_provides_the_renderer():
    assert isinstance(renderer_for("characterbox"), CharacterBoxRenderer)


def test_a_turn_reads_as_actor_line_and_narrator_verdict():
    line = plain(CharacterBoxRenderer().event(event("turn", TURN)))
    assert line.startswith("round 2 (s1): Alice")
    assert line.index("[Alice] Alice sets down her cup.") < line.index('Alice: "No room? <b>"') < line.index("affects: The Hatter")
    assert "uses up their turn this round" in line and "[The Hatter] The Hatter jumps up." in line
    assert "result: Tea runs across the cloth." in line and "Alice: standing; cross" in line and "A wet cloth." in line
    alone = plain(CharacterBoxRenderer().event(event("turn", {**TURN, "target": None, "effect": "", "scene_now": None})))
    assert "affects nobody else" in alone and "uses up" not in alone


def test_round_end_shows_the_scene_and_summary_and_others_fall_back():
    block = CharacterBoxRenderer().event(event("round", {"round": 1, "scene": "s1", "summary": "They argued.",
                                                         "scene_now": {"time": "t", "location": "l", "description": "d"},
                                                         "concluded": True, "conclusion": "Alice left."}))
    line = plain(block)
    assert line.startswith("end of round 1 (s1)") and "They argued." in line and "story concluded: Alice left." in line
    assert "purpose" in plain(CharacterBoxRenderer().event(event("parse_failure", {"purpose": "x"})))
    shown = plain(CharacterBoxRenderer().exposure(Exposure(tick=0, seq=0, agent_id="a", items={"observation": "", "reacting_to": "Bob"})))
    assert shown.startswith("reacting to Bob") and "(nothing new)" in shown
