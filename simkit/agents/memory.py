"""A memory stream scored by recency, importance and relevance (Generative Agents, the
scheme CharacterBox's characters use).

Each memory has a sim time, an importance (1-10, usually rated by the agent's own LLM when
the memory is written) and a last-access time. `retrieve(query, now, k)` scores every
memory as a weighted sum of three parts, each min-max normalised over the stream:
- recency: `decay ** hours since last access` (0.995 per hour by default);
- importance: the rating;
- relevance: BM25 of the memory's text against the query (`bm25s`), so it needs no
  embedding model and runs offline; pass `relevance=` to use embeddings instead.
Retrieved memories count as accessed (their recency is refreshed), as in the paper.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Callable

import bm25s
import numpy as np

Relevance = Callable[[str, list[str]], np.ndarray]  # (query, texts) -> one score per text


def bm25_relevance(query: str, texts: list[str]) -> np.ndarray:
    """BM25 scores of `texts` for `query` (English stop words dropped)."""
    corpus = bm25s.tokenize(texts, stopwords="en", show_progress=False)
    (tokens,) = bm25s.tokenize([query], stopwords="en", show_progress=False, return_ids=False)
    if not tokens or not corpus.vocab:  # nothing but stop words on one side: no evidence either way
        return np.zeros(len(texts))
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    return np.asarray(retriever.get_scores(tokens), dtype=float)


def _unit(values: np.ndarray) -> np.ndarray:
    span = values.max() - values.min() if len(values) else 0.0
    return (values - values.min()) / span if span > 0 else np.zeros_like(values)


@dataclass
class Memory:
    text: str
    created: datetime
    importance: float = 5.0
    kind: str = "observation"
    last_access: datetime | None = None

    def as_dict(self) -> dict:
        out = asdict(self)
        out["created"] = self.created.isoformat()
        out["last_access"] = self.last_access.isoformat() if self.last_access else None
        return out


class MemoryStream:
    def __init__(
        self,
        *,
        decay: float = 0.995,
        weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
        relevance: Relevance = bm25_relevance,
    ):
        self.items: list[Memory] = []
        self.decay = decay
        self.weights = weights
        self.relevance = relevance

    def add(self, text: str, when: datetime, importance: float = 5.0, kind: str = "observation") -> Memory:
        if not 1 <= importance <= 10:
            raise ValueError(f"importance must be in 1..10, got {importance}")
        memory = Memory(text, when, float(importance), kind, when)
        self.items.append(memory)
        return memory

    def scores(self, query: str, now: datetime) -> np.ndarray:
        """The retrieval score of every memory, in stream order."""
        if not self.items:
            return np.zeros(0)
        hours = np.array([max(0.0, (now - (m.last_access or m.created)).total_seconds() / 3600) for m in self.items])
        recency = self.decay**hours
        importance = np.array([m.importance for m in self.items])
        relevance = self.relevance(query, [m.text for m in self.items])
        w_rec, w_imp, w_rel = self.weights
        return w_rec * _unit(recency) + w_imp * _unit(importance) + w_rel * _unit(relevance)

    def retrieve(self, query: str, now: datetime, k: int = 5) -> list[Memory]:
        """The `k` best memories for `query`, best first (ties: the newer first)."""
        scores = self.scores(query, now)
        order = sorted(range(len(self.items)), key=lambda i: (-scores[i], -i))[:k]
        picked = [self.items[i] for i in order]
        for memory in picked:
            memory.last_access = now
        return picked

    def recent(self, n: int = 5) -> list[Memory]:
        return self.items[-n:]

    def __len__(self) -> int:
        return len(self.items)

    def as_list(self) -> list[dict]:
        """For `ctx.save_state` (replay and drill-down show an agent's memories)."""
        return [m.as_dict() for m in self.items]
