"""The agent layer's memory stream and dialogue transcript."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simkit.agents.dialogue import Transcript
from simkit.agents.memory import MemoryStream

T0 = datetime(2025, 1, 1, 9)


def test_relevance_finds_the_memory_about_the_query():
    m = MemoryStream(weights=(0.0, 0.0, 1.0))
    m.add("The lighthouse keeper hid the key under the stairs.", T0)
    m.add("It rained all morning in the harbour.", T0)
    m.add("Anna bought bread at the market.", T0)
    assert m.retrieve("where is the key hidden?", T0, k=1)[0].text.startswith("The lighthouse keeper")


def test_recency_and_importance_each_change_the_ranking():
    m = MemoryStream(weights=(1.0, 0.0, 0.0))
    old = m.add("old news", T0, importance=9)
    new = m.add("fresh news", T0 + timedelta(hours=30), importance=2)
    now = T0 + timedelta(hours=31)
    assert m.retrieve("news", now, k=1) == [new]
    m.weights = (0.0, 1.0, 0.0)
    assert m.retrieve("news", now, k=1) == [old]


def test_retrieving_a_memory_refreshes_its_recency():
    m = MemoryStream(weights=(1.0, 0.0, 0.0))
    a = m.add("first", T0)
    m.add("second", T0 + timedelta(hours=5))
    later = T0 + timedelta(hours=10)
    m.weights = (0.0, 0.0, 1.0)
    m.retrieve("first", later, k=1)
    m.weights = (1.0, 0.0, 0.0)
    assert m.retrieve("anything", later, k=1) == [a]


def test_importance_out_of_range_is_refused():
    with pytest.raises(ValueError):
        MemoryStream().add("x", T0, importance=11)


@given(st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=12), st.text(max_size=30), st.integers(1, 5))
def test_retrieve_returns_k_distinct_memories_best_first(texts, query, k):
    m = MemoryStream()
    for i, text in enumerate(texts):
        m.add(text, T0 + timedelta(minutes=i), importance=1 + i % 10)
    scores = m.scores(query, T0 + timedelta(hours=1))
    picked = m.retrieve(query, T0 + timedelta(hours=1), k=k)
    assert len(picked) == min(k, len(texts)) and len({id(p) for p in picked}) == len(picked)
    ranks = [scores[m.items.index(p)] for p in picked]
    assert ranks == sorted(ranks, reverse=True)


def test_transcript_visibility_and_roles():
    t = Transcript()
    t.add("Ada", "Hello.", action="waves", round=1)
    t.add("Bob", "psst, the key is mine", round=1, visible_to=["Cy"])
    t.add("Cy", "Who took the key?", round=2)
    assert [line.speaker for line in t.view("Ada")] == ["Ada", "Cy"]
    assert [line.speaker for line in t.view("Cy")] == ["Ada", "Bob", "Cy"]
    assert t.render("Ada") == "Ada: [waves] Hello.\nCy: Who took the key?"
    assert [m["role"] for m in t.messages("Cy")] == ["user", "user", "assistant"]
    assert t.as_list()[1]["visible_to"] == ["Cy"]
