"""The share of a run's input tokens that sits in an already-sent prefix, and what it saves.

Works on any run database (`simkit/llm/prefix_cache.py` says how it counts):

    python bench/prefix_share.py runs/a.db [runs/b.db ...] [--run RUN_ID] [--block 16]

Per purpose group (`trendsim`, `cbox`, ...; `*` is all calls): calls, input tokens, the share
of input tokens in a prefix the same agent sent before (`own`), that anyone sent before
(`any`), the same under OpenAI's caching rule (`openai`: prompts of 1,024+ tokens, 128-token
increments), and the cost per agent-step (an agent's calls in one tick) at gpt-4o-mini's list
price without cached-input pricing, with it for every `any` token (a vLLM-like server with
cached-input billing) and under OpenAI's rule.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simkit.llm.prefix_cache import GPT_4O_MINI, analyse  # noqa: E402


def table(db: Path, run_id: str | None, block: int) -> list[str]:
    price = GPT_4O_MINI
    lines = [f"{db.name}: block {block} tokens; price {price.name} ${price.input}/${price.cached_input}/${price.output} per 1M (input/cached/output)"]
    lines.append(f"  {'group':16s} {'calls':>7s} {'tok in':>10s} {'in/call':>8s} {'own':>6s} {'any':>6s} {'openai':>6s}"
                 f" {'steps':>6s} {'$/1k steps':>10s} {'cached any':>10s} {'openai':>8s}")
    for key, g in sorted(analyse(db, run_id, block=block).items()):
        steps = max(1, g.agent_steps)
        lines.append(
            f"  {key:16s} {g.calls:7d} {g.tokens_in:10,d} {g.tokens_in / max(1, g.calls):8.0f} {g.share('own'):6.1%} {g.share('any'):6.1%}"
            f" {g.share('openai'):6.1%} {g.agent_steps:6d} {1000 * g.cost(price) / steps:10.4f}"
            f" {1000 * g.cost(price, 'any') / steps:10.4f} {1000 * g.cost(price, 'openai') / steps:8.4f}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", nargs="+", type=Path)
    parser.add_argument("--run", default=None, help="run id (default: the latest run of each file)")
    parser.add_argument("--block", type=int, default=16, help="cache block in tokens (vLLM: 16)")
    args = parser.parse_args()
    for db in args.db:
        print("\n".join(table(db, args.run, args.block)))


if __name__ == "__main__":
    main()
