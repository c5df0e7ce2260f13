"""`--budget calls=N|tokens=N|usd=X`: stop a run cleanly at the end of the tick in which its
LLM spend reaches the budget. The spend counts the whole run (earlier sessions of a resumed
run included) and only answers a model gave (cache hits cost nothing). The run is left
`stopped: budget` with its ticks committed; `--resume` with a larger budget continues it
to the trajectory an uninterrupted run has (resume re-executes committed ticks from the store).
"""

from __future__ import annotations

from dataclasses import dataclass

from simkit.errors import UsageError

KINDS = ("calls", "tokens", "usd")


@dataclass
class Budget:
    kind: str
    limit: float
    price_in: float = 0.0  # USD per million input tokens (usd budgets)
    price_out: float = 0.0

    @classmethod
    def parse(cls, text: str, price: tuple[float, float] | None = None) -> "Budget":
        kind, sep, value = text.partition("=")
        kind = kind.strip()
        if not sep or kind not in KINDS:
            raise UsageError(f"--budget {text}: expected calls=N, tokens=N or usd=X")
        try:
            limit = float(value)
        except ValueError:
            raise UsageError(f"--budget {text}: {value!r} is not a number") from None
        if limit <= 0:
            raise UsageError(f"--budget {text}: the budget must be positive")
        if kind == "usd" and price is None:
            raise UsageError(f"--budget {text}: no price for this model; set llm.price: {{input: USD_PER_M, output: USD_PER_M}}")
        p_in, p_out = price or (0.0, 0.0)
        return cls(kind, limit, p_in, p_out)

    def usd(self, spent: dict) -> float:
        return (spent.get("tokens_in", 0) * self.price_in + spent.get("tokens_out", 0) * self.price_out) / 1e6

    def amount(self, spent: dict) -> float:
        if self.kind == "calls":
            return float(spent.get("llm_calls", 0))
        if self.kind == "tokens":
            return float(spent.get("tokens_in", 0) + spent.get("tokens_out", 0))
        return self.usd(spent)

    def reached(self, spent: dict) -> bool:
        return self.amount(spent) >= self.limit

    def describe(self) -> str:
        return f"usd={self.limit:g}" if self.kind == "usd" else f"{self.kind}={int(self.limit)}"

    def message(self, spent: dict) -> str:
        return f"budget {self.describe()} reached: {spend_line(spent, self if self.kind == 'usd' else None)}"

    def check_start(self, spent: dict, run_id: str) -> None:
        """A resume whose budget is already used up would run one more tick; say so instead."""
        if self.reached(spent):
            raise UsageError(
                f"--budget {self.describe()}: run {run_id} has already spent {spend_line(spent, self if self.kind == 'usd' else None)}; "
                "resume with a larger budget"
            )


def spend_line(spent: dict, priced: Budget | None = None) -> str:
    """`57 calls, 12,345 tokens in / 2,345 out` (plus `$0.0042` when priced)."""
    text = f"{spent.get('llm_calls', 0):,} calls, {spent.get('tokens_in', 0):,} tokens in / {spent.get('tokens_out', 0):,} out"
    if priced is not None and (priced.price_in or priced.price_out):
        text += f", ${priced.usd(spent):.4f}"
    return text
