"""JSON schema -> llama.cpp grammar (local backend) and numeric enums (json_object dialect).

The grammar is compiled by llama.cpp itself (`llama_sampler_init_grammar`, as the engine does):
`LlamaGrammar.from_string` in the pinned llama-cpp-python only stores the string. Compiling needs
a vocabulary, read from the default GGUF with `vocab_only` (no weights: about a second)."""

from __future__ import annotations

import ctypes
import json
import math
from typing import Literal

import llama_cpp
import pytest
from pydantic import BaseModel, Field

from simkit.llm.grammar import schema_to_gbnf
from simkit.llm.schema_bounds import enum_bounded_numbers


class Inner(BaseModel):
    label: Literal["a", "b"]
    weight: float = Field(ge=0, le=100)


class Everything(BaseModel):
    action: Literal["like", "comment", "share", "skip"]
    comment: str = Field(max_length=120)
    free: str
    interest: int = Field(ge=1, le=5)
    trust: float = Field(ge=0, le=1)
    stance: float = Field(ge=-1, le=1)
    big: int = Field(ge=0, le=1_000_000)
    odd: float = Field(gt=0, lt=1)
    tags: list[str] = Field(max_length=3)
    inner: Inner
    maybe: int | None = None


@pytest.fixture(scope="module")
def vocab():
    from simkit.llm.local import default_model_path

    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    model = llama_cpp.llama_model_load_from_file(str(default_model_path()).encode(), params)
    assert model, "llama.cpp could not read the default GGUF's vocabulary"
    yield llama_cpp.llama_model_get_vocab(model)
    llama_cpp.llama_model_free(model)


class Compiled:
    """A grammar compiled by llama.cpp; `admits(text)` feeds the text's tokens one by one, as the
    engine's lazy check does, and says whether the grammar accepted every one."""

    def __init__(self, vocab, gbnf: str):
        self.vocab = vocab
        self.sampler = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode(), b"root")

    def tokens(self, text: str) -> list[int]:
        data = text.encode()
        buf = (llama_cpp.llama_token * (len(data) + 8))()
        n = llama_cpp.llama_tokenize(self.vocab, data, len(data), buf, len(buf), False, False)
        assert n >= 0
        return list(buf[:n])

    def admits(self, text: str) -> bool:
        one = (llama_cpp.llama_token_data * 1)()
        arr = llama_cpp.llama_token_data_array(data=one, size=1, selected=-1, sorted=False)
        for tok in self.tokens(text):
            one[0].id, one[0].logit, one[0].p = tok, 0.0, 0.0
            arr.size, arr.selected = 1, -1
            llama_cpp.llama_sampler_apply(self.sampler, ctypes.byref(arr))
            if math.isinf(one[0].logit):
                return False
            llama_cpp.llama_sampler_accept(self.sampler, tok)
        return True

    def free(self) -> None:
        if self.sampler:
            llama_cpp.llama_sampler_free(self.sampler)


def compile_in_llama_cpp(vocab, gbnf: str) -> Compiled:
    compiled = Compiled(vocab, gbnf)
    assert compiled.sampler, f"llama.cpp rejected the grammar:\n{gbnf}"
    return compiled


VALID = {
    "action": "comment", "comment": "fine", "free": "x", "interest": 3, "trust": 0.25, "stance": -1,
    "big": 12, "odd": 0.5, "tags": ["a"], "inner": {"label": "b", "weight": 100}, "maybe": None,
}


def test_a_broken_grammar_is_rejected(vocab):
    """The check below can fail: llama.cpp refuses an undefined rule and an unclosed group."""
    assert not Compiled(vocab, "root ::= missing").sampler
    assert not Compiled(vocab, 'root ::= "a" | (').sampler


def test_every_rule_compiles_in_llama_cpp(vocab):
    gbnf = schema_to_gbnf(Everything.model_json_schema())
    ok = compile_in_llama_cpp(vocab, gbnf)
    try:
        assert ok.admits(json.dumps(VALID, separators=(",", ":")))
    finally:
        ok.free()
    for bad in ({**VALID, "interest": 6}, {**VALID, "action": "shout"}, {**VALID, "comment": "x" * 121}):
        compiled = compile_in_llama_cpp(vocab, gbnf)
        try:
            assert not compiled.admits(json.dumps(bad, separators=(",", ":"))), bad
        finally:
            compiled.free()
    rules = dict(line.split(" ::= ", 1) for line in gbnf.splitlines())
    assert rules["interest"] == '("1" | "2" | "3" | "4" | "5") space'
    assert rules["trust"] == '(("0") ("." [0-9]{1,3})? | "1" ("." "0"{1,3})?) space'
    assert '"-1" ("." "0"{1,3})?' in rules["stance"]
    assert rules["comment"] == '"\\"" char{0,120} "\\"" space'
    assert "\\x00-\\x1F" in rules["char"] and "\\U00010000-\\U0010FFFF" in rules["char"]
    assert rules["root"].index("action-kv") < rules["root"].index("comment-kv") < rules["root"].index("inner-kv")


def test_numeric_bounds_become_enums_for_grammar_servers():
    sent = enum_bounded_numbers(Everything.model_json_schema())
    props = sent["properties"]
    assert props["interest"] == {"title": "Interest", "enum": [1, 2, 3, 4, 5]}
    assert props["trust"]["enum"][:3] == [0.0, 0.01, 0.02] and props["trust"]["enum"][-1] == 1.0
    assert props["stance"]["enum"][0] == -1.0 and len(props["stance"]["enum"]) == 21
    assert 0.0 not in props["odd"]["enum"] and 1.0 not in props["odd"]["enum"]
    assert props["big"] == Everything.model_json_schema()["properties"]["big"]  # too many values: unchanged
    assert sent["$defs"]["Inner"]["properties"]["weight"]["enum"][-1] == 100
    assert all(0 < v < 1 for v in props["odd"]["enum"])


@pytest.mark.parametrize("schema", [Inner.model_json_schema(), {"type": "object", "properties": {}}])
def test_small_schemas(vocab, schema):
    compile_in_llama_cpp(vocab, schema_to_gbnf(schema)).free()
