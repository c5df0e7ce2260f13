"""TrendSim's replay renderer: the page as the user saw it, attacker comments marked."""

from __future__ import annotations

from simkit.plugins.trendsim.replay import TrendSimRenderer
from simkit.replay.data import Exposure
from simkit.replay.render import plain, renderer_for

MAIN = {
    "page": "main", "topic": "marathon-hospital", "topic_likes": 3, "offset": 4, "total_comments": 6,
    "comments": [
        {"cid": 7, "rank": 5, "author": "u0003", "text": "Great news <b>", "likes": 2, "replies": 1, "attack": None, "own": False},
        {"cid": 2, "rank": 6, "author": "attacker-0001", "text": "It is all staged", "likes": 0, "replies": 0, "attack": "rumor", "own": False},
    ],
}


def test_installed_plugin_provides_the_renderer():
    assert isinstance(renderer_for("trendsim"), TrendSimRenderer)


def test_main_page_shows_ranking_span_and_marks_attackers():
    block = TrendSimRenderer().exposure(Exposure(tick=3, seq=0, agent_id="u0001", items=MAIN))
    line = plain(block)
    assert "comments 5-6 of 6" in line and "3 topic likes" in line
    assert line.index("#5  u0003") < line.index("#6  attacker-0001")
    assert "ATTACKER (rumor)" in line and "Great news <b>" in line
    assert "ATTACKER" not in line.split("#6")[0]


def test_comment_page_lists_replies_and_unknown_items_fall_back():
    page = {"page": "comment", "topic": "t", "cid": 2, "rank": 1, "author": "attacker-0001", "text": "x",
            "likes": 4, "attack": "trolling", "replies": [{"author": "u0009", "text": "calm down"}]}
    line = plain(TrendSimRenderer().exposure(Exposure(tick=1, seq=0, agent_id="u", items=page)))
    assert "ATTACKER (trolling)" in line and "u0009: calm down" in line and "1 replies" in line
    other = plain(TrendSimRenderer().exposure(Exposure(tick=1, seq=0, agent_id="u", items=["a", "b"])))
    assert "a" in other and "b" in other
