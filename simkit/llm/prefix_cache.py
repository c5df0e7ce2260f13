"""How much of a run's input would a prefix cache serve: a reader of any run database.

Servers such as vLLM, SGLang and llama.cpp keep the KV cache of prompt prefixes they have
already read, and hosted APIs bill such "cached input" tokens at a fraction of the price.
What they can reuse is a prompt's *leading* part that matches a prompt sent earlier, in
whole blocks. This module replays a run's `llm_calls` in their stored order (tick, seq) and
counts, for every call, the leading blocks of its prompt that were already sent:

- `own`: by the same agent (a per-agent cache, or one server slot per agent);
- `any`: by anyone (one shared prefix cache, vLLM's automatic prefix caching).

A prompt is its messages in order (role, then content), split into blocks of `block` tokens
approximated as 4 characters each (vLLM's default block is 16 tokens); a block counts as
cached when the chain of hashes of it and every block before it was seen. Token counts are
the call's own `tokens_in`, scaled by the cached share of its characters.

`openai` applies the published rule of OpenAI's automatic caching on top of `any`: only prompts
of 1,024 tokens or more, cached in increments of 128 tokens.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class Price:
    """A list price per 1M tokens."""

    name: str
    input: float
    cached_input: float
    output: float


# OpenAI's published list price for gpt-4o-mini (USD per 1M tokens).
GPT_4O_MINI = Price("gpt-4o-mini", input=0.15, cached_input=0.075, output=0.60)


@dataclass
class PrefixShare:
    """Input tokens of a group of calls and how many sat in an already-sent prefix."""

    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    own: float = 0.0  # tokens in a prefix this agent sent before
    any: float = 0.0  # tokens in a prefix anyone sent before
    openai: float = 0.0  # `any` under OpenAI's rule (>= 1,024 tokens, 128-token increments)
    agent_steps: int = 0

    def share(self, which: str) -> float:
        return getattr(self, which) / self.tokens_in if self.tokens_in else 0.0

    def cost(self, price: Price, cached: str | None = None) -> float:
        """USD for these calls; `cached` names which cached count is billed at the cached price."""
        hit = getattr(self, cached) if cached else 0.0
        return ((self.tokens_in - hit) * price.input + hit * price.cached_input + self.tokens_out * price.output) / 1e6


@dataclass
class _Seen:
    any: set = field(default_factory=set)
    own: dict = field(default_factory=dict)


def prompt_text(messages: list[dict]) -> str:
    """The prompt as the model reads it, up to the chat template's markers."""
    return "".join(f"<|{m.get('role', '')}|>\n{m.get('content') or ''}\n" for m in messages)


def block_chain(text: str, block_chars: int) -> list[bytes]:
    """The chained hash of each full block (a block's hash covers every block before it)."""
    out, h = [], b""
    for start in range(0, len(text) - block_chars + 1, block_chars):
        h = hashlib.blake2b(h + text[start:start + block_chars].encode(), digest_size=12).digest()
        out.append(h)
    return out


def _leading_hits(chain: list[bytes], seen: set) -> int:
    n = 0
    for h in chain:
        if h not in seen:
            break
        n += 1
    return n


def analyse(db: Path, run_id: str | None = None, *, block: int = 16, by: str = "purpose") -> dict[str, PrefixShare]:
    """Prefix shares of one run (the latest if `run_id` is None), per purpose prefix
    (`by="purpose"`: the text before the first dot, e.g. `trendsim`) and in total (`"*"`)."""
    conn = sqlite3.connect(db)
    try:
        if run_id is None:
            row = conn.execute("select run_id from runs order by started_at desc limit 1").fetchone()
            if row is None:
                raise ValueError(f"{db}: no run in this file")
            run_id = row[0]
        rows = conn.execute(
            "select agent_id, purpose, messages_json, tokens_in, tokens_out, tick from llm_calls where run_id = ? order by tick, seq",
            [run_id],
        )
        seen = _Seen()
        groups: dict[str, PrefixShare] = {}
        steps: dict[str, set] = {}
        block_chars = block * CHARS_PER_TOKEN
        for agent, purpose, messages_json, tokens_in, tokens_out, tick in rows:
            text = prompt_text(json.loads(messages_json))
            chain = block_chain(text, block_chars)
            own_seen = seen.own.setdefault(agent, set())
            n_any = _leading_hits(chain, seen.any)
            n_own = _leading_hits(chain, own_seen)
            seen.any.update(chain)
            own_seen.update(chain)
            tokens_in = tokens_in or 0
            scale = tokens_in / max(1, len(text))
            any_tokens = n_any * block_chars * scale
            openai = (int(any_tokens) // 128) * 128 if tokens_in >= 1024 else 0
            for key in ("*", (purpose or "").split(".")[0] if by == "purpose" else purpose or ""):
                g = groups.setdefault(key, PrefixShare())
                g.calls += 1
                g.tokens_in += tokens_in
                g.tokens_out += tokens_out or 0
                g.own += n_own * block_chars * scale
                g.any += any_tokens
                g.openai += openai
                if agent is not None:
                    steps.setdefault(key, set()).add((tick, agent))
        for key, g in groups.items():
            g.agent_steps = len(steps.get(key, ()))
        return groups
    finally:
        conn.close()


__all__ = ["GPT_4O_MINI", "Price", "PrefixShare", "analyse", "block_chain", "prompt_text"]
