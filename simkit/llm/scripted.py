"""The scripted backend: deterministic, seeded, schema-valid answers without a model.

For tests, benchmarks and dry runs. A plugin can register a responder per call purpose
(`responders={"reflect": fn}`), which reads the prompt (persona, observation) and answers
the way a plausible agent would; any other structured call gets a schema-valid instance
drawn from a generator seeded by the request, and a plain-text call gets a short sentence.
The same request always gets the same answer.

Tool calls reach it emulated (`simkit.llm.tools`): the request's schema is the choice of
`{"tool": NAME, "arguments": {...}}` or `{"tool": "none", "message": ...}`, so a responder
for a tool-using purpose returns one of those, and without one a call of a tool drawn by
the seeded generator, with schema-valid arguments, is the answer.
"""

from __future__ import annotations

import json
import string
from typing import Any, Callable

import numpy as np

from simkit.llm.base import Backend, LLMRequest, RawCompletion, text_of

Responder = Callable[[LLMRequest, np.random.Generator], Any]

_WORDS = (
    "people think this matters more than it looks and the details are worth a closer look "
    "today news topic really interesting agree disagree maybe later see comments"
).split()


class ScriptedBackend(Backend):
    name = "scripted"

    def __init__(self, seed: int = 0, responders: dict[str, Responder] | None = None, model_name: str | None = None):
        self.seed = seed
        self.responders: dict[str, Responder] = dict(responders or {})
        self.model_name = model_name  # `llm.model` of a scripted role: a distinct model identity, so a sweep over
        # models (or two roles) on the scripted backend gets distinct cache keys and answers

    @property
    def model(self) -> str:
        return f"scripted-v1:{self.model_name}" if self.model_name else "scripted-v1"

    def register(self, purpose: str, responder: Responder) -> None:
        self.responders[purpose] = responder

    async def generate(self, request: LLMRequest) -> RawCompletion:
        rng = np.random.default_rng([self.seed, request.seed])  # request.seed already depends on the model
        responder = self.responders.get(request.purpose.removesuffix(":repair"))
        if responder is not None:
            answer = responder(request, rng)
        elif request.schema_json is not None:
            answer = instance_from_schema(request.schema_json, rng)
        else:
            answer = sentence(rng)
        text = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
        tokens_in = sum(len(text_of(m)) for m in request.messages) // 4 + 1
        return RawCompletion(text=text, tokens_in=tokens_in, tokens_out=len(text) // 4 + 1)


def sentence(rng: np.random.Generator, n_words: int | None = None) -> str:
    n = n_words or int(rng.integers(5, 12))
    words = [str(_WORDS[int(i)]) for i in rng.integers(0, len(_WORDS), n)]
    return " ".join(words).capitalize() + "."


def instance_from_schema(schema: dict, rng: np.random.Generator, root: dict | None = None) -> Any:
    """A random value valid for a (pydantic-generated) JSON schema."""
    root = root or schema
    if "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        return instance_from_schema(root.get("$defs", {})[name], rng, root)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][int(rng.integers(0, len(schema["enum"])))]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            pick = int(rng.integers(0, len(options))) if len(options) > 1 else 0
            return instance_from_schema(options[pick], rng, root)
    if "allOf" in schema:
        return instance_from_schema(schema["allOf"][0], rng, root)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: instance_from_schema(sub, rng, root) for name, sub in props.items()}
    if kind == "array":
        lo = schema.get("minItems", 1)
        hi = max(lo, min(schema.get("maxItems", lo + 2), lo + 3))
        return [instance_from_schema(schema.get("items", {}), rng, root) for _ in range(int(rng.integers(lo, hi + 1)))]
    if kind == "integer":
        lo = int(schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1 if "exclusiveMinimum" in schema else 0))
        hi = int(schema.get("maximum", schema.get("exclusiveMaximum", lo + 11) - 1 if "exclusiveMaximum" in schema else lo + 10))
        return int(rng.integers(lo, max(lo, hi) + 1))
    if kind == "number":
        lo = float(schema.get("minimum", schema.get("exclusiveMinimum", 0.0)))
        hi = float(schema.get("maximum", schema.get("exclusiveMaximum", lo + 1.0)))
        return round(float(rng.uniform(lo, hi)), 3)
    if kind == "boolean":
        return bool(rng.integers(0, 2))
    if kind == "string":
        lo, hi = schema.get("minLength", 0), schema.get("maxLength", 120)
        text = sentence(rng)
        if len(text) < lo:
            text = text + "".join(rng.choice(list(string.ascii_lowercase), lo - len(text)))
        return text[:hi]
    return None
