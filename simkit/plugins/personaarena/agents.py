"""Cognition of the two kinds of speaker, as one LangGraph graph compiled once: ask the
speaker's LLM for its structured turn, then settle it into a transcript line.

The protagonist (the model under test) answers belief, desire and intention before its
action and utterance (CharacterBox's BDI self-belief, folded into one call); an NPC (a
fixed model) answers an action and an utterance from its fixed self-belief. Documented
fallbacks: a protagonist answer that never parses keeps its previous beliefs and stays
silent for the turn; an NPC's nods and lets the protagonist go on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict


from simkit.agents.graph import compile_once, linear_graph
from simkit.agents.prompts import PromptLibrary
from simkit.llm.client import LLMClient

PROMPTS_DIR = Path(__file__).parent / "prompts"
PROMPTS = PromptLibrary(PROMPTS_DIR)


class TurnState(TypedDict, total=False):
    llm: LLMClient
    messages: list[dict[str, str]]
    schema: type
    purpose: str
    agent_id: str
    max_tokens: int
    fallback: dict[str, Any]
    answer: dict[str, Any]
    ok: bool


async def ask(state: TurnState) -> dict:
    completion = await state["llm"].complete(
        state["messages"], schema=state["schema"], purpose=state["purpose"], agent_id=state["agent_id"],
        max_tokens=state["max_tokens"],
    )
    if completion.ok:
        return {"answer": completion.parsed.model_dump(), "ok": True}
    return {"answer": dict(state["fallback"]), "ok": False}


async def settle(state: TurnState) -> dict:
    """Trim what the line carries; an empty utterance and action become the fallback's."""
    answer = {k: (v.strip() if isinstance(v, str) else v) for k, v in state["answer"].items()}
    if not answer.get("utterance") and not answer.get("action"):
        answer.update(action=state["fallback"].get("action", ""), utterance=state["fallback"].get("utterance", ""))
    return {"answer": answer}


@compile_once
def turn_graph():
    return linear_graph(TurnState, ask, settle)


async def take_turn(**state: Any) -> tuple[dict[str, Any], bool]:
    """Run one speaker's turn; returns its answer and whether the model's answer parsed."""
    out = await turn_graph().ainvoke(state)
    return out["answer"], out["ok"]
