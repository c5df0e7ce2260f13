"""Numeric bounds in JSON schemas, for servers whose grammar ignores them.

`enum_bounded_numbers` rewrites bounded integers and numbers as enums, the one constraint
every schema-to-grammar converter honours (used for the `json_object` dialect, i.e. the
llama.cpp Python server). No llama.cpp import here: the openai backend uses it too.
"""

from __future__ import annotations

import functools
import math
from typing import Any


def bounded(schema: dict) -> bool:
    has_lo = "minimum" in schema or "exclusiveMinimum" in schema
    has_hi = "maximum" in schema or "exclusiveMaximum" in schema
    return has_lo and has_hi


def enum_bounded_numbers(schema: Any, max_values: int = 101) -> Any:
    """A copy of `schema` in which bounded integers and numbers are spelled out as `enum`s.

    For servers whose stock grammar converter ignores numeric bounds (the llama.cpp Python
    server, with the `json_object` dialect): an enum is the one constraint every converter
    honours. Numbers get a round step giving at most `max_values` choices (0..1 -> 0.01).
    The answer is still validated against the original schema.
    """
    if isinstance(schema, list):
        return [enum_bounded_numbers(s, max_values) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: enum_bounded_numbers(v, max_values) for k, v in schema.items()}
    kind = out.get("type")
    if kind not in ("integer", "number") or "enum" in out or not bounded(out):
        return out
    lo = out.get("minimum", out.get("exclusiveMinimum"))
    hi = out.get("maximum", out.get("exclusiveMaximum"))
    if kind == "integer":
        values = list(range(math.ceil(lo), math.floor(hi) + 1))
    else:
        span = hi - lo
        if span <= 0:
            return out
        step = 10 ** math.ceil(math.log10(span / (max_values - 1)))
        digits = max(0, -int(math.floor(math.log10(step))))
        n = int(math.floor(span / step + 1e-9))
        values = [round(lo + k * step, digits) for k in range(n + 1)]
        values = [int(v) if float(v).is_integer() and digits == 0 else v for v in values]
    values = [v for v in values if (v > lo if "exclusiveMinimum" in out else v >= lo) and (v < hi if "exclusiveMaximum" in out else v <= hi)]
    if not values or len(values) > max_values:
        return out
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "type"):
        out.pop(key, None)
    out["enum"] = values
    return out


# -- how long an answer a grammar allows ------------------------------------------------------

@functools.lru_cache(maxsize=256)
def grammar_max_chars(gbnf: str, root: str = "root") -> int | None:
    """The most characters a text admitted by the GBNF grammar `gbnf` can have, or None when
    it is unbounded (a `*`, `+`, `{m,}` or a recursive rule over something non-empty).

    Literals count their characters, a character class or `.` one character. Used to give a
    grammar-constrained answer a token budget that fits it (`answer_token_budget`)."""
    rules = _parse_rules(gbnf)
    memo: dict[str, int | None] = {}
    visiting: set[str] = set()

    def rule(name: str) -> int | None:
        if name in memo:
            return memo[name]
        if name in visiting or name not in rules:
            return None  # recursion (nesting without bound) or an unknown rule
        visiting.add(name)
        value = _alternatives(rules[name], 0, rule)[0]
        visiting.discard(name)
        memo[name] = value
        return value

    return rule(root)


def answer_token_budget(gbnf: str, max_tokens: int, *, per_char: float = 1.0) -> int:
    """`max_tokens`, raised to the grammar's worst case when that is larger and bounded.

    The worst case is counted as one token per character (`per_char`): every token carries
    at least one character of ASCII text; multi-byte characters and `\\uXXXX` escapes can
    take more tokens than characters, and such an answer can still be cut (it is then
    reported as truncated, with finish_reason "length")."""
    chars = grammar_max_chars(gbnf)
    if chars is None:
        return max_tokens
    return max(max_tokens, math.ceil(chars * per_char))


def _parse_rules(gbnf: str) -> dict[str, str]:
    rules: dict[str, str] = {}
    name = None
    for line in gbnf.splitlines():
        if "::=" in line and not line.startswith((" ", "\t")):
            name, _, body = line.partition("::=")
            name = name.strip()
            rules[name] = body.strip()
        elif name is not None and line.strip() and not line.lstrip().startswith("#"):
            rules[name] += " " + line.strip()  # a rule continued on the next line
    return rules


def _plus(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b


def _alternatives(text: str, i: int, rule) -> tuple[int | None, int]:
    """Max length of `alt | alt | ...` starting at text[i], up to a `)` or the end."""
    best: int | None = 0
    while True:
        length, i = _sequence(text, i, rule)
        best = None if best is None or length is None else max(best, length)
        if i < len(text) and text[i] == "|":
            i += 1
            continue
        return best, i


def _sequence(text: str, i: int, rule) -> tuple[int | None, int]:
    total: int | None = 0
    n = len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n or text[i] in "|)":
            return total, i
        c = text[i]
        if c == '"':
            item, i = _literal(text, i)
        elif c == "[":
            j = i + 1
            while text[j] != "]":
                j += 2 if text[j] == "\\" else 1
            item, i = 1, j + 1
        elif c == ".":
            item, i = 1, i + 1
        elif c == "(":
            item, i = _alternatives(text, i + 1, rule)
            i += 1  # the ")"
        else:
            j = i
            while j < n and (text[j].isalnum() or text[j] in "-_"):
                j += 1
            if j == i:
                raise ValueError(f"cannot read the grammar at {text[i:i + 20]!r}")
            item, i = rule(text[i:j]), j
        # a quantifier
        if i < n and text[i] == "?":
            i += 1
        elif i < n and text[i] in "*+":
            item, i = (None if item != 0 else 0), i + 1
        elif i < n and text[i] == "{":
            j = text.index("}", i)
            lo, _, hi = text[i + 1 : j].partition(",")
            if "," not in text[i + 1 : j]:
                hi = lo
            item = (None if item != 0 else 0) if not hi.strip() else (None if item is None else item * int(hi))
            i = j + 1
        total = _plus(total, item)


_ESCAPE_DIGITS = {"x": 2, "u": 4, "U": 8}


def _literal(text: str, i: int) -> tuple[int, int]:
    """(characters, index after the closing quote) of the literal starting at text[i]."""
    j, count = i + 1, 0
    while text[j] != '"':
        if text[j] == "\\":
            j += 2 + _ESCAPE_DIGITS.get(text[j + 1], 0)
        else:
            j += 1
        count += 1
    return count, j + 1
