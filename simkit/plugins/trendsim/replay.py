"""How TrendSim runs look in `simkit replay`: each exposure drawn as the page the user saw.

The exposures hold the page as data (`pages.Visit.page`, minus the topic's long texts), so
the viewers can show the comment ranking exactly as it was on screen: rank, author, likes,
replies, and a warning mark on attacker comments.
"""

from __future__ import annotations

from typing import Any

from simkit.replay.data import Exposure
from simkit.replay.render import Block, Renderer, fields, group, items, section, text


def _comment_line(c: dict[str, Any]) -> Block:
    who = c.get("author") or "?"
    marks = []
    if c.get("attack"):
        marks.append(f"ATTACKER ({c['attack']})")
    if c.get("own"):
        marks.append("own, not yet published")
    head = f"#{c.get('rank', '?')}  {who}  {c.get('likes', 0)} likes  {c.get('replies', 0)} replies"
    if marks:
        head += "  " + ", ".join(marks)
    return group([text(head, "warn" if c.get("attack") else "bold"), text(c.get("text", ""))])


class TrendSimRenderer(Renderer):
    """Browsing, main and comment pages, as the visitor saw them."""

    def exposure(self, exposure: Exposure) -> Block:
        page = exposure.items
        if not isinstance(page, dict) or "page" not in page:
            return super().exposure(exposure)
        kind = page["page"]
        if kind == "browsing":
            return section(f"browsing page: {page.get('topic', '')}", [text("title and brief of the topic", "dim")])
        if kind == "main":
            shown = page.get("comments") or []
            first = page.get("offset", 0) + 1
            span = f"comments {first}-{first + len(shown) - 1} of {page.get('total_comments', 0)}" if shown else "no comments yet"
            return section(
                f"main page: {page.get('topic', '')}  ({page.get('topic_likes', 0)} topic likes, {span})",
                [items([_comment_line(c) for c in shown]) if shown else text("(no comments)", "dim")],
            )
        if kind == "comment":
            replies = page.get("replies") or []
            return section(
                f"comment page: {page.get('topic', '')}",
                [
                    _comment_line({**page, "replies": len(replies)}),
                    section("replies", [items([fields({r.get("author", "?"): r.get("text", "")}) for r in replies], ordered=True)])
                    if replies
                    else text("(no replies)", "dim"),
                ],
            )
        return super().exposure(exposure)
