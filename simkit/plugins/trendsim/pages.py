"""The page state machine a visit walks through, and what each page shows the visitor.

    browsing --enter--> main --open_comment--> comment
       |                 |  <------back--------   |
     leave             leave              like_comment, reply (stay)
                   like_topic, comment, repost, more_comments (stay)

A visit ends on `leave` or after `max_actions` actions (4, counting `enter`, as in the
authors' code). An action that is not valid on the current page falls back to `back` on
a comment page and to `leave` elsewhere (the authors' fallback). `open_comment` and
`more_comments` are offered only when there is a comment to open or a next page to show.

A `Visit` sees the shared world plus its own actions that are not applied yet (its new
comment at the bottom, its likes), so within a visit the pages react to what the
visitor did, while the world itself changes only in `apply`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from simkit.plugins.trendsim.world import LikeCounts, World, promote

BROWSING, MAIN, COMMENT, END = "browsing", "main", "comment", "end"

ACTIONS: dict[str, tuple[str, ...]] = {
    BROWSING: ("enter", "leave"),
    MAIN: ("like_topic", "comment", "repost", "more_comments", "open_comment", "leave"),
    COMMENT: ("like_comment", "reply", "back"),
}
FALLBACK = {BROWSING: "leave", MAIN: "leave", COMMENT: "back"}
NEEDS_TEXT = frozenset({"comment", "reply"})
_OWN = 10**9  # ids of the visitor's own comments that are not published yet


@dataclass
class Step:
    """One action of a visit, as `apply` will receive it."""

    page: str
    action: str
    proposed: str | None
    cid: int | None = None
    text: str | None = None

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"page": self.page}
        if self.proposed is not None and self.proposed != self.action:
            out["proposed"] = self.proposed
        if self.cid is not None:
            out["cid"] = self.cid
        if self.text is not None:
            out["text"] = self.text
        return out


@dataclass
class Visit:
    world: World
    visitor: str
    page_size: int = 4
    max_actions: int = 4
    state: str = BROWSING
    offset: int = 0
    cid: int | None = None
    steps: list[Step] = field(default_factory=list)
    own_likes: Counter = field(default_factory=Counter)
    own_topic_likes: int = 0
    own_comments: list[str] = field(default_factory=list)
    own_replies: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    _ranking: list[int] | None = None

    # -- what the visitor can do ----------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.state == END or len(self.steps) >= self.max_actions

    @property
    def ranking(self) -> list[int]:
        return self._ranking if self._ranking is not None else self.world.ranking

    def shown_ids(self) -> list[int]:
        return self.ranking[self.offset : self.offset + self.page_size]

    def openable(self) -> list[int]:
        return [c for c in self.shown_ids() if c < _OWN]

    def valid_actions(self) -> tuple[str, ...]:
        actions = ACTIONS[self.state]
        if self.state == MAIN:
            if not self.openable():
                actions = tuple(a for a in actions if a != "open_comment")
            if self.offset + self.page_size >= len(self.ranking):
                actions = tuple(a for a in actions if a != "more_comments")
        return actions

    def resolve(self, proposed: str | None) -> str:
        """The action taken: the proposal if it is valid here, else the page's fallback."""
        return proposed if proposed in self.valid_actions() else FALLBACK[self.state]

    def resolve_comment(self, index: Any) -> int:
        """The comment an `open_comment` opens: its 1-based index on the page, or the first
        shown comment when the index is missing or out of range (the authors' fallback)."""
        openable = self.openable()
        if isinstance(index, int) and not isinstance(index, bool) and 1 <= index <= len(openable):
            return openable[index - 1]
        return openable[0]

    # -- what the visitor sees ------------------------------------------------------------
    def page(self) -> dict[str, Any]:
        """The current page as data (rendered by `page.j2`, recorded as the exposure)."""
        topic = self.world.topic
        if self.state == BROWSING:
            return {"page": BROWSING, "topic": topic.id, "title": topic.title, "brief": topic.brief}
        if self.state == MAIN:
            likes = LikeCounts(self.world.comments, self.own_likes)
            comments = []
            for rank, cid in enumerate(self.shown_ids(), start=self.offset + 1):
                if cid >= _OWN:
                    comments.append({"cid": None, "rank": rank, "author": self.visitor, "text": self.own_comments[cid - _OWN], "likes": 0, "replies": 0, "attack": None, "own": True})
                    continue
                c = self.world.comments[cid]
                comments.append(
                    {"cid": cid, "rank": rank, "author": c.author, "text": c.text, "likes": likes[cid],
                     "replies": len(c.replies) + len(self.own_replies.get(cid, [])), "attack": c.attack_type,
                     "own": c.author == self.visitor}
                )
            return {
                "page": MAIN, "topic": topic.id, "title": topic.title, "content": topic.content,
                "topic_likes": self.world.likes + self.own_topic_likes, "offset": self.offset,
                "total_comments": len(self.ranking), "comments": comments,
            }
        c = self.world.comments[self.cid]
        replies = [{"author": r.author, "text": r.text} for r in c.replies[: self.page_size]]
        replies += [{"author": self.visitor, "text": t} for t in self.own_replies.get(c.cid, [])]
        return {
            "page": COMMENT, "topic": topic.id, "title": topic.title, "cid": c.cid,
            "rank": self.ranking.index(c.cid) + 1, "author": c.author, "text": c.text,
            "likes": c.likes + self.own_likes[c.cid], "attack": c.attack_type,
            "replies": replies[: self.page_size],
        }

    # -- taking an action -----------------------------------------------------------------
    def take(self, proposed: str | None, *, text: str | None = None, index: Any = None) -> Step:
        """Resolve and perform one action on this visitor's view; returns the step to apply."""
        page, action = self.state, self.resolve(proposed)
        step = Step(page, action, proposed)
        if action == "enter":
            self.state = MAIN
        elif action == "leave":
            self.state = END
        elif action == "like_topic":
            self.own_topic_likes += 1
        elif action == "comment":
            step.text = text or ""
            self._own_ranking().append(_OWN + len(self.own_comments))
            self.own_comments.append(step.text)
        elif action == "more_comments":
            self.offset += self.page_size
        elif action == "open_comment":
            self.cid = step.cid = self.resolve_comment(index)
            self.state = COMMENT
        elif action == "like_comment":
            step.cid = self.cid
            self.own_likes[self.cid] += 1
            promote(self._own_ranking(), LikeCounts(self.world.comments, self.own_likes), self.cid)
        elif action == "reply":
            step.cid, step.text = self.cid, text or ""
            self.own_replies[self.cid].append(step.text)
        elif action == "back":
            self.state = MAIN
        self.steps.append(step)
        if len(self.steps) >= self.max_actions and self.state != END:
            self.state = END
        return step

    def _own_ranking(self) -> list[int]:
        if self._ranking is None:
            self._ranking = list(self.world.ranking)
        return self._ranking
