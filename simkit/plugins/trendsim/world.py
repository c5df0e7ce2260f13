"""The platform: one trending topic and its comment section, a single global list ranked
by likes (ties: the older comment first), with replies under each comment.

There is no follower graph: every user sees the same topic and the same ranking
("centralized dissemination"). Reposts only count. Censored comments are kept apart and
never shown.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import yaml

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Topic:
    id: str
    sentiment: str
    title: str
    brief: str
    content: str


@functools.cache
def load_topics() -> dict[str, Topic]:
    raw = yaml.safe_load((DATA / "topics.yaml").read_text(encoding="utf-8"))
    return {
        tid: Topic(tid, t["sentiment"], t["title"], t["brief"], " ".join(t["content"].split()))
        for tid, t in raw.items()
    }


@dataclass
class Reply:
    author: str
    text: str
    sim_time: str


@dataclass
class Comment:
    cid: int
    author: str
    text: str
    sim_time: str
    attack_type: str | None = None  # None for normal users' comments
    likes: int = 0
    replies: list[Reply] = field(default_factory=list)
    best_rank: int = 0  # the best (smallest) 1-based position it ever held


def outranks(a: int, b: int, likes: Mapping[int, int]) -> bool:
    """Comment `a` sorts before `b`: more likes, or as many and older (smaller id)."""
    return (likes[a], -a) > (likes[b], -b)


def promote(ranking: list[int], likes: Mapping[int, int], cid: int) -> int:
    """Move `cid` up after its like count grew; returns its new 1-based rank."""
    i = ranking.index(cid)
    while i > 0 and outranks(cid, ranking[i - 1], likes):
        ranking[i - 1], ranking[i] = ranking[i], ranking[i - 1]
        i -= 1
    return i + 1


class LikeCounts(Mapping[int, int]):
    """Comment id -> likes, read from the comments (so `promote` works on the world and views)."""

    def __init__(self, comments: Mapping[int, Comment], extra: Mapping[int, int] | None = None):
        self.comments = comments
        self.extra = extra or {}

    def __getitem__(self, cid: int) -> int:
        return self.comments[cid].likes + self.extra.get(cid, 0) if cid in self.comments else self.extra.get(cid, 0)

    def __iter__(self):
        return iter(self.comments)

    def __len__(self) -> int:
        return len(self.comments)


class World:
    def __init__(self, topic: Topic):
        self.topic = topic
        self.comments: dict[int, Comment] = {}
        self.ranking: list[int] = []  # comment ids, best first
        self.censored: list[Comment] = []
        self.views = 0
        self.likes = 0
        self.reposts = 0
        self._next_cid = 1

    def new_comment(self, author: str, text: str, sim_time: str, attack_type: str | None) -> Comment:
        comment = Comment(self._next_cid, author, text, sim_time, attack_type)
        self._next_cid += 1
        return comment

    def publish(self, comment: Comment) -> int:
        """Append a new comment at the bottom (no likes yet, newest); returns its rank."""
        self.comments[comment.cid] = comment
        self.ranking.append(comment.cid)
        comment.best_rank = len(self.ranking)
        return comment.best_rank

    def censor(self, comment: Comment) -> None:
        self.censored.append(comment)

    def like_comment(self, cid: int) -> int:
        comment = self.comments[cid]
        comment.likes += 1
        rank = promote(self.ranking, LikeCounts(self.comments), cid)
        comment.best_rank = min(comment.best_rank, rank)
        return rank

    def reply(self, cid: int, author: str, text: str, sim_time: str) -> None:
        self.comments[cid].replies.append(Reply(author, text, sim_time))
