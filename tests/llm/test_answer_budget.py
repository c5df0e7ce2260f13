"""The embedded model's token budget fits its own schemas, and a cut answer is reported as cut.

No model is loaded: the grammar's worst case is computed from its text, the grammar is
compiled against the default GGUF's vocabulary only (as in test_grammar.py), the engine's job
is built with a stand-in tokenizer, and truncation comes from a backend that answers with
finish_reason "length"."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from pydantic import BaseModel, Field

from simkit.llm.base import Backend, LLMRequest, RawCompletion
from simkit.llm.client import ClientHooks, LLMClient
from simkit.llm.grammar import schema_to_gbnf
from simkit.llm.schema_bounds import answer_token_budget, grammar_max_chars
from tests.llm.test_grammar import compile_in_llama_cpp, vocab  # noqa: F401 - the vocab fixture

ROOT = Path(__file__).resolve().parents[2]


class Post(BaseModel):
    text: str = Field(max_length=200)
    mood: float = Field(ge=0, le=1)
    stars: int = Field(ge=1, le=5)


# The longest answer the grammar of Post admits: every optional space taken, every one of
# the 200 characters a two-character escape, the longest number.
LONGEST_POST = '{ "text" : "' + "\\n" * 200 + '" , "mood" : 0.999 , "stars" : 5 } '


def test_grammar_max_chars_of_hand_written_grammars():
    assert grammar_max_chars('root ::= "ab" [a-z]{0,5} x?\nx ::= "\\x41" | "hello"') == 12
    assert grammar_max_chars('root ::= "a" x\nx ::= "b" x | ""') is None  # recursive
    assert grammar_max_chars('root ::= ("ab" | "c")*') is None  # unbounded repetition
    assert grammar_max_chars('root ::= space\nspace ::= | " " | "\\n"{1,2} [ \\t]{0,20}') == 22


def test_the_worst_case_is_the_longest_answer_the_compiled_grammar_admits(vocab):  # noqa: F811
    gbnf = schema_to_gbnf(Post.model_json_schema())
    assert Post.model_validate(json.loads(LONGEST_POST)).text == "\n" * 200
    assert grammar_max_chars(gbnf) == len(LONGEST_POST) == 447
    admits = compile_in_llama_cpp(vocab, gbnf)
    try:
        assert admits.admits(LONGEST_POST)
    finally:
        admits.free()
    # one character more does not fit, and \uXXXX escapes (6 characters for one) are out
    for longer in (LONGEST_POST.replace('"text" : "', '"text" : "x', 1),
                   '{"text":"caf\\u00e9","mood":0.5,"stars":1}'):
        compiled = compile_in_llama_cpp(vocab, gbnf)
        try:
            assert not compiled.admits(longer), longer
        finally:
            compiled.free()
    raw = compile_in_llama_cpp(vocab, gbnf)
    try:
        assert raw.admits('{"text":"café","mood":0.5,"stars":1}')  # written as itself
    finally:
        raw.free()


def test_the_budget_is_raised_to_the_worst_case_only_when_bounded():
    gbnf = schema_to_gbnf(Post.model_json_schema())
    assert answer_token_budget(gbnf, 256) == 447
    assert answer_token_budget(gbnf, 1000) == 1000  # a larger budget is kept
    free = schema_to_gbnf({"type": "object", "properties": {"note": {"type": "string"}}, "required": ["note"]})
    assert grammar_max_chars(free) is None
    assert answer_token_budget(free, 256) == 256


def test_the_engine_gives_a_structured_job_the_grammar_budget():
    from simkit.llm.llama_engine import LlamaEngine

    class Stand:  # what chat_job uses of the engine, without a model
        def format_chat(self, messages):
            return "".join(m["content"] for m in messages)

        def tokenize(self, text):
            return list(range(len(text)))

    def job(schema):
        return LlamaEngine.chat_job(Stand(), [{"role": "user", "content": "hi"}], schema, 256, 0.7, 1, lambda _r: None)

    assert job(Post.model_json_schema()).max_tokens == 447
    assert job(None).max_tokens == 256  # free text: the configured budget


def test_the_default_trendsim_step_fits_its_budget(tmp_path):
    """The issue's case: the step schema allows 620 characters of strings; its worst case is
    bounded, and it fits the default context (2048) next to the step's prompt."""
    from simkit.testing import PluginCheck

    run = PluginCheck(ROOT / "scenarios" / "trendsim.yaml", tmp_path, sets=["population.size=2"]).run()
    db = sqlite3.connect(run.db)
    schemas = {row[0] for row in db.execute(
        "SELECT json_extract(params_json, '$.schema') FROM llm_calls WHERE purpose = 'trendsim.step'")}
    assert schemas  # the step's schema varies with what the user sees (a post to comment on or not)
    longest = 0
    for text in schemas:
        schema = json.loads(text)
        strings = sum(p.get("maxLength", 0) for p in schema["properties"].values())
        worst = grammar_max_chars(schema_to_gbnf(schema))
        assert worst is not None and 2 * strings < worst < 2048 - 300, (strings, worst)  # room for a ~230-token prompt
        assert answer_token_budget(schema_to_gbnf(schema), 256) == worst
        longest = max(longest, strings)
    assert longest == 620


class CutOff(Backend):
    """Answers with the first tokens of a JSON object, cut at the limit (finish_reason length)."""

    name = "cutoff"

    @property
    def model(self) -> str:
        return "cutoff-1"

    async def generate(self, request: LLMRequest) -> RawCompletion:
        return RawCompletion(text='{"text": "11,11,11,11,11,11,11', tokens_in=10, tokens_out=request.max_tokens,
                             meta={"finish_reason": "length"})


class Garbled(CutOff):
    async def generate(self, request: LLMRequest) -> RawCompletion:
        return RawCompletion(text="no json here", tokens_in=10, tokens_out=4, meta={"finish_reason": "stop"})


async def test_a_cut_answer_is_reported_as_truncation_not_as_missing_json():
    events = []
    hooks = ClientHooks(record_event=lambda kind, agent, payload: events.append((kind, payload)))
    client = LLMClient(CutOff(), cache_mode="off", max_tokens=12, repair_attempts=0, hooks=hooks)
    answer = await client.complete([{"role": "user", "content": "post"}], schema=Post)
    assert not answer.ok
    assert "cut off at the token limit after 12 tokens (finish_reason length)" in answer.error
    assert "no JSON object found" not in answer.error
    assert events[0][0] == "parse_failure" and "finish_reason length" in events[0][1]["error"]
    # an answer that ended by itself is still "no JSON object found"
    client = LLMClient(Garbled(), cache_mode="off", repair_attempts=0)
    answer = await client.complete([{"role": "user", "content": "post"}], schema=Post)
    assert answer.error == "no JSON object found"
