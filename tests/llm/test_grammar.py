"""JSON schema -> llama.cpp grammar (local backend) and numeric enums (json_object dialect)."""

from __future__ import annotations

from typing import Literal

import pytest
from llama_cpp import LlamaGrammar
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


def test_every_rule_compiles_in_llama_cpp():
    gbnf = schema_to_gbnf(Everything.model_json_schema())
    LlamaGrammar.from_string(gbnf, verbose=False)  # raises on a grammar llama.cpp cannot parse
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
def test_small_schemas(schema):
    LlamaGrammar.from_string(schema_to_gbnf(schema), verbose=False)
