"""The embedded engine reuses the KV cache of a prompt prefix it read for the call before,
and a request still gets the answer it gets from a cold engine (same request, same answer)."""

from __future__ import annotations

import threading

import pytest

from simkit.llm.local import default_model_path

SCHEMA = {
    "type": "object",
    "properties": {"impression": {"type": "string", "maxLength": 80}, "action": {"type": "string", "enum": ["like", "leave", "comment"]}},
    "required": ["impression", "action"],
}
PERSONA = ("You are Ada, 34, a nurse living in the north. Interests: society, sports. "
           "Personality (Big Five, 1-5): openness 3.2, conscientiousness 4.1, extraversion 2.5. ") * 3
RULES = "You like browsing trending topics on social media. On each page, answer as JSON with an impression and an action."


def messages(i: int) -> list[dict]:
    return [{"role": "system", "content": f"{RULES}\n\n{PERSONA}"},
            {"role": "user", "content": f"Your emotion: {50 + i}\n\nPage: the marathon raised record donations; comment {i} thanks the volunteers."}]


def answer(engine, msgs, temperature: float):
    done, out = threading.Event(), {}

    def finish(result):
        out["r"] = result
        done.set()

    engine.start(msgs, SCHEMA, 48, temperature, 11, finish)
    assert done.wait(600)
    assert not isinstance(out["r"], Exception), out["r"]
    return out["r"]


@pytest.mark.slow
@pytest.mark.parametrize("temperature", [0.0, 0.7])
def test_prefix_reuse_skips_shared_tokens_and_keeps_the_cold_answer(temperature):
    from simkit.llm.llama_engine import LlamaEngine

    path = str(default_model_path())
    warm = LlamaEngine(path, n_threads=1, prefix_cache=True)
    try:
        answers = [answer(warm, messages(i), temperature) for i in range(3)]
        reused = warm.reused_tokens
    finally:
        warm.close()
    assert reused >= 2 * 64, "the second and third calls read the shared rules and persona again"
    cold = LlamaEngine(path, n_threads=1, prefix_cache=False)
    try:
        for i in (2, 1):  # other orders too: each request alone on a fresh cache
            assert answer(cold, messages(i), temperature).text == answers[i].text
        assert cold.reused_tokens == 0
    finally:
        cold.close()
