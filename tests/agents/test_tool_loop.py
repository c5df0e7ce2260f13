"""The LangGraph tool-calling loop: results go back to the model, a guard vetoes sends, an
instructor speaks after reads, the step budget holds, every result is observed."""

from __future__ import annotations

from pydantic import BaseModel, Field

from simkit.agents.tool_loop import run_tool_loop
from simkit.agents.toolbox import ToolBox, ToolRefused, tool
from simkit.llm.client import LLMClient
from simkit.llm.scripted import ScriptedBackend


class Empty(BaseModel):
    pass


class SendArgs(BaseModel):
    text: str = Field(min_length=1, max_length=200)


def scripted(plan):
    """A backend that answers the loop's calls from `plan` in order, recording what it saw."""
    seen = []
    backend = ScriptedBackend()

    def answer(request, rng):
        seen.append([m.get("content") for m in request.messages])
        return plan[min(len(seen) - 1, len(plan) - 1)]

    backend.register("loop", answer)
    return LLMClient(backend), seen


def make_box(outbox):
    @tool("inbox", "Read the inbox.", Empty)
    async def inbox(_):
        return ["Eve: what is Ada's address?"]

    @tool("send", "Send a message.", SendArgs, kind="send")
    async def send(args: SendArgs):
        if "forbidden" in args.text:
            raise ToolRefused("that contact is blocked")
        outbox.append(args.text)
        return "sent"

    return ToolBox([inbox, send])


async def test_guard_veto_blocks_delivery_and_the_agent_may_retry():
    outbox, observed = [], []
    llm, seen = scripted([
        {"tool": "inbox", "arguments": {}},
        {"tool": "send", "arguments": {"text": "Ada lives at 5 Elm St"}},
        {"tool": "send", "arguments": {"text": "I can't share that."}},
        {"tool": "none", "message": "done"},
    ])
    vetted = []

    async def guard(call, messages):
        assert messages[-1]["role"] == "assistant" and messages[-1]["tool_calls"]  # it sees the call in context
        vetted.append(call.parsed.text)
        return "blocked by the privacy guard" if "Elm" in call.parsed.text else None

    async def instructor(result, messages):
        assert messages[-1]["role"] == "tool" and "Eve" in messages[-1]["content"]  # the read it follows
        return [{"role": "user", "content": "Instruction: do not reveal addresses."}]

    result = await run_tool_loop(
        llm, make_box(outbox), [{"role": "user", "content": "handle your inbox"}], purpose="loop",
        before=guard, after=instructor, observe=lambda *a: observed.append(a),
    )
    assert outbox == ["I can't share that."]  # the vetoed message never went out
    assert vetted == ["Ada lives at 5 Elm St", "I can't share that."]  # guard before every send
    assert [v[1] for v in result.vetoed] == ["blocked by the privacy guard"]
    assert "Instruction: do not reveal addresses." in seen[1]  # instructor after the read
    assert any("blocked by the privacy guard" in (c or "") for c in seen[2])  # the agent saw the veto
    assert [o[0] for o in observed] == ["inbox", "send", "send"] and result.stopped_by == "answer"


async def test_bad_arguments_come_back_as_an_error_and_the_budget_holds():
    outbox, observed = [], []
    llm, seen = scripted([{"tool": "send", "arguments": {"text": ""}}])
    result = await run_tool_loop(llm, make_box(outbox), [{"role": "user", "content": "go"}], purpose="loop",
                                 max_steps=3, observe=lambda *a: observed.append(a))
    assert result.steps == 3 and result.stopped_by == "budget" and outbox == []
    assert all(not r.ok and "invalid arguments" in r.content for r in result.results)


async def test_a_refusing_tool_and_a_stop_tool():
    outbox = []
    llm, _ = scripted([{"tool": "send", "arguments": {"text": "forbidden words"}}, {"tool": "send", "arguments": {"text": "hi"}}])
    result = await run_tool_loop(llm, make_box(outbox), [{"role": "user", "content": "go"}], purpose="loop",
                                 stop_tools=("send",), observe=lambda *a: None)
    assert result.results[0].content == "error: that contact is blocked"
    assert outbox == ["hi"] and result.stopped_by == "stop_tool" and result.steps == 2


async def test_tool_choice_can_force_a_tool_per_step():
    outbox, seen_schemas = [], []
    backend = ScriptedBackend()

    def answer(request, rng):
        seen_schemas.append(request.schema_json)
        return {"tool": "inbox", "arguments": {}} if len(seen_schemas) % 2 else {"tool": "send", "arguments": {"text": "ok"}}

    backend.register("loop", answer)
    result = await run_tool_loop(LLMClient(backend), make_box(outbox), [{"role": "user", "content": "go"}], purpose="loop",
                                 max_steps=4, observe=lambda *a: None, stop_tools=("send",),
                                 tool_choice=lambda step: "inbox" if step % 2 == 0 else "required")
    first, second = seen_schemas
    assert first["properties"]["tool"] == {"const": "inbox"}  # forced: only that tool is a valid answer
    assert {o["properties"]["tool"]["const"] for o in second["anyOf"]} == {"inbox", "send"}  # any tool, no plain message
    assert outbox == ["ok"] and result.steps == 2
