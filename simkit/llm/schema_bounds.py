"""Numeric bounds in JSON schemas, for servers whose grammar ignores them.

`enum_bounded_numbers` rewrites bounded integers and numbers as enums, the one constraint
every schema-to-grammar converter honours (used for the `json_object` dialect, i.e. the
llama.cpp Python server). No llama.cpp import here: the openai backend uses it too.
"""

from __future__ import annotations

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
