"""JSON schema -> llama.cpp GBNF grammar, with the bounds small models get wrong.

llama-cpp-python's converter (`llama_cpp.llama_grammar.SchemaConverter`) enforces structure,
enums and string lengths, but not numeric bounds: SmolLM2 happily answers `"interest": 800`
for an `integer` in 1..5, and validation fails. `BoundedSchemaConverter` adds them:

- an integer range of at most `MAX_INT_ALTERNATIVES` values becomes a choice of literals;
- a number range with integer-valued ends (0..1, -1..1, 1..5, 0..100, ...) becomes an
  integer part in range plus at most `FRACTION_DIGITS` decimals (the upper end only as `.0`);
- string characters exclude raw control characters (which `json.loads` rejects),
  characters outside the BMP (emoji, which small models repeat until the token limit) and
  `\\uXXXX` escapes (6 characters for one: they would blow the answer's token budget);
- `maxLength` strings use the grammar's native `{m,n}` repetition instead of nested optionals.

Anything else is left to the stock converter (and to validation plus repair in the client).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any

from llama_cpp.llama_grammar import PRIMITIVE_RULES, SchemaConverter

from simkit.llm.schema_bounds import bounded as _bounded

MAX_INT_ALTERNATIVES = 201
FRACTION_DIGITS = 3


# A JSON string character: no raw control characters (json.loads rejects them), the short
# escapes, and nothing beyond the Basic Multilingual Plane: emoji cost SmolLM2 3-4 tokens
# each and it repeats one until `max_tokens` cuts the JSON off. No `\uXXXX` escapes (a
# character outside ASCII is written as itself): one character of a `maxLength` string is
# then at most 2 characters of JSON, which keeps the answer's worst case within the token
# budget (`simkit.llm.schema_bounds.answer_token_budget`).
SAFE_CHAR = r'''[^"\\\x7F\x00-\x1F\U00010000-\U0010FFFF] | "\\" ["\\/bfnrt]'''


class BoundedSchemaConverter(SchemaConverter):
    def _add_primitive(self, name: str, rule):
        if name == "char":
            return self._add_rule("char", SAFE_CHAR)
        return super()._add_primitive(name, rule)

    def visit(self, schema: dict, name: str) -> str:
        kind = schema.get("type")
        rule_name = name or "root"
        if kind == "integer" and _bounded(schema):
            rule = _integer_rule(schema)
            if rule is not None:
                return self._add_rule(rule_name, rule)
        if kind == "number" and _bounded(schema):
            rule = _number_rule(schema)
            if rule is not None:
                return self._add_rule(rule_name, rule)
        if kind == "string" and "maxLength" in schema and not any(k in schema for k in ("pattern", "format", "enum", "const")):
            char = self._add_primitive("char", PRIMITIVE_RULES["char"])
            lo, hi = int(schema.get("minLength", 0)), int(schema["maxLength"])
            return self._add_rule(rule_name, f'"\\"" {char}{{{lo},{max(lo, hi)}}} "\\"" space')
        return super().visit(schema, name)


def _integer_rule(schema: dict) -> str | None:
    lo = schema.get("minimum")
    if lo is None:
        lo = math.floor(schema["exclusiveMinimum"]) + 1
    hi = schema.get("maximum")
    if hi is None:
        hi = math.ceil(schema["exclusiveMaximum"]) - 1
    lo, hi = math.ceil(lo), math.floor(hi)
    if hi < lo or hi - lo + 1 > MAX_INT_ALTERNATIVES:
        return None
    return "(" + " | ".join(f'"{v}"' for v in range(lo, hi + 1)) + ') space'


def _number_rule(schema: dict) -> str | None:
    """Decimals between two integer-valued bounds; exclusive bounds are kept approximately
    (the bound itself is left out, the values just inside it are allowed)."""
    lo = schema.get("minimum", schema.get("exclusiveMinimum"))
    hi = schema.get("maximum", schema.get("exclusiveMaximum"))
    if lo is None or hi is None or lo != int(lo) or hi != int(hi) or hi <= lo:
        return None
    lo, hi = int(lo), int(hi)
    if hi - lo > MAX_INT_ALTERNATIVES:
        return None
    frac = f'("." [0-9]{{1,{FRACTION_DIGITS}}})?'
    zero_frac = f'("." "0"{{1,{FRACTION_DIGITS}}})?'
    options = []
    # Non-negative part: integer parts max(lo,0)..hi-1 take any fraction; hi only .0
    if hi > 0:
        parts = range(max(lo, 0), hi)
        if parts:
            options.append("(" + " | ".join(f'"{p}"' for p in parts) + ") " + frac)
        if "exclusiveMaximum" not in schema:
            options.append(f'"{hi}" {zero_frac}')
    # Negative part (only when the range straddles zero): -(0..|lo|-1) with a fraction, -|lo| only .0
    if lo < 0:
        if hi < 0:
            return None
        options.append('"-" (' + " | ".join(f'"{p}"' for p in range(0, -lo)) + ") " + frac)
        if "exclusiveMinimum" not in schema:
            options.append(f'"-{-lo}" {zero_frac}')
    if not options:
        return None
    return "(" + " | ".join(options) + ") space"


@lru_cache(maxsize=256)
def _gbnf_cached(schema_text: str) -> str:
    converter = BoundedSchemaConverter(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)
    schema = converter.resolve_refs(json.loads(schema_text), "schema")
    converter.visit(schema, "")
    return converter.format_grammar()


def schema_to_gbnf(schema: dict[str, Any]) -> str:
    """The GBNF grammar (root rule `root`) that only admits JSON valid for `schema`."""
    return _gbnf_cached(json.dumps(schema))  # key order kept: it is the answer's field order

