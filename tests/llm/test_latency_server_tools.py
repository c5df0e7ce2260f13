"""The benchmarks' stand-in endpoint (`bench/latency_server.py --schema-answers`) answers a
request that offers tools with a tool call the client accepts: a forced tool is the one
called, the arguments validate, and the same prompt gets the same call."""

from __future__ import annotations

from pydantic import BaseModel, Field

from bench.scale_bench import start_server
from simkit.llm.base import ToolSpec
from simkit.llm.client import LLMClient
from simkit.llm.openai_backend import OpenAIBackend


class Send(BaseModel):
    to: str = Field(max_length=40)
    text: str = Field(min_length=1, max_length=100)


class Read(BaseModel):
    index: int = Field(ge=0, le=9)


TOOLS = [ToolSpec("send", "Send a message.", Send), ToolSpec("read", "Read a note.", Read)]


async def test_schema_answers_call_a_valid_tool_the_same_way_every_time():
    proc, url = start_server(0.0)
    try:
        client = LLMClient(OpenAIBackend("bench", base_url=url), cache_mode="off")
        ask = [{"role": "user", "content": "tell Sam the time"}]
        first = await client.complete(ask, tools=TOOLS)
        again = await client.complete(ask, tools=TOOLS)
        forced = await client.complete(ask, tools=TOOLS, tool_choice="read")
        plain = await client.complete(ask)
        await client.aclose()
    finally:
        proc.terminate()
        proc.wait()
    call = first.tool_calls[0]
    assert call.name in ("send", "read") and call.parsed is not None
    assert [(c.name, c.arguments) for c in again.tool_calls] == [(call.name, call.arguments)]
    assert forced.tool_calls[0].name == "read" and 0 <= forced.tool_calls[0].parsed.index <= 9
    assert not plain.tool_calls and plain.text
