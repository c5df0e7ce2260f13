"""The tool-calling loop as a LangGraph graph: the model answers with tool calls, the tools
run, their results go back, until the model stops calling tools or the step budget is used.

Three hooks are where defenses go (CDI's intervention points):
- `system`: the system prompt text (prompting defenses edit it);
- `before(call, messages)`: runs before every `send` tool; returning a string vetoes the
  call, and the agent sees that string as the tool's error (a guard model's refusal) and
  may try again;
- `after(result, messages)`: runs after every `read` tool; messages it returns are appended
  to the conversation (an instructor's step-specific instruction).
Both hooks see the conversation so far. `tool_choice` may change per step (a function of
the step number): the CDI authors alternate a forced `think` step with an action step.
Every tool result is recorded with `observe` (the run's `ctx.observe`), so the database
holds exactly what the agent got back from each call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, TypedDict

from langgraph.graph import END, START, StateGraph

from simkit.agents.graph import compile_once
from simkit.agents.toolbox import ToolBox, ToolResult
from simkit.llm.base import Completion, Messages, ToolCall, ToolChoice
from simkit.llm.client import LLMClient
from simkit.llm.tools import tool_result

Before = Callable[[ToolCall, Messages], Awaitable["str | None"]]
After = Callable[[ToolResult, Messages], Awaitable["list[dict] | None"]]
Observe = Callable[[str, dict, Any], None]  # (tool, arguments, result)
Choice = Callable[[int], ToolChoice]  # step number (0-based) -> tool_choice


async def _no_veto(_call: ToolCall, _messages: Messages) -> str | None:
    return None


async def _no_instruction(_result: ToolResult, _messages: Messages) -> list[dict] | None:
    return None


@dataclass
class LoopResult:
    """What one run of the loop did: the conversation, every result, the vetoes."""

    messages: Messages
    results: list[ToolResult] = field(default_factory=list)
    vetoed: list[tuple[ToolCall, str]] = field(default_factory=list)
    steps: int = 0
    final_text: str = ""
    stopped_by: str = "answer"  # answer | budget | stop_tool | parse_failure


class LoopState(TypedDict, total=False):
    llm: LLMClient
    toolbox: ToolBox
    messages: Messages
    purpose: str
    max_steps: int
    before: Before
    after: After
    observe: Observe
    choice: Choice
    stop_tools: frozenset[str]
    result: LoopResult
    pending: list[ToolCall]


async def think(state: LoopState) -> dict:
    result = state["result"]
    answer: Completion = await state["llm"].complete(
        state["messages"], tools=state["toolbox"].specs, purpose=state["purpose"], tool_choice=state["choice"](result.steps)
    )
    result.steps += 1
    state["messages"].append(answer.assistant_message())
    if not answer.ok and not answer.tool_calls:
        result.stopped_by = "parse_failure"
    result.final_text = answer.text
    return {"pending": answer.tool_calls}


async def run_tools(state: LoopState) -> dict:
    toolbox, result, messages = state["toolbox"], state["result"], state["messages"]
    for call in state["pending"]:
        kind = toolbox.kind(call.name)
        veto = await state["before"](call, messages) if kind == "send" and not call.error else None
        if veto is not None:
            result.vetoed.append((call, veto))
            outcome = ToolResult(call, False, f"error: {veto}")
        else:
            outcome = await toolbox.run(call)
        result.results.append(outcome)
        state["observe"](call.name, call.arguments, outcome.as_dict() | ({"vetoed": veto} if veto else {}))
        messages.append(tool_result(call.id, call.name, outcome.content))
        if kind == "read" and outcome.ok:
            messages.extend(await state["after"](outcome, messages) or [])
        if call.name in state["stop_tools"] and outcome.ok:
            result.stopped_by = "stop_tool"
    return {"pending": []}


async def route_after_think(state: LoopState) -> str:
    return "run_tools" if state.get("pending") else END


async def route_after_tools(state: LoopState) -> str:
    result = state["result"]
    if result.stopped_by == "stop_tool":
        return END
    if result.steps >= state["max_steps"]:
        result.stopped_by = "budget"
        return END
    return "think"


@compile_once
def tool_loop_graph():
    g = StateGraph(LoopState)
    g.add_node("think", think)
    g.add_node("run_tools", run_tools)
    g.add_edge(START, "think")
    g.add_conditional_edges("think", route_after_think, ["run_tools", END])
    g.add_conditional_edges("run_tools", route_after_tools, ["think", END])
    return g.compile()


async def run_tool_loop(
    llm: LLMClient,
    toolbox: ToolBox,
    messages: Messages,
    *,
    observe: Observe,
    purpose: str = "tool_loop",
    max_steps: int = 8,
    before: Before = _no_veto,
    after: After = _no_instruction,
    stop_tools: tuple[str, ...] = (),
    tool_choice: ToolChoice | Choice = "auto",
) -> LoopResult:
    """Run the loop on a copy of `messages` until the model answers without tools, a stop
    tool succeeds, or `max_steps` model calls were made."""
    result = LoopResult(messages=list(messages))
    choice = tool_choice if callable(tool_choice) else (lambda _step: tool_choice)
    state: LoopState = {
        "llm": llm, "toolbox": toolbox, "messages": result.messages, "purpose": purpose, "max_steps": max_steps,
        "before": before, "after": after, "observe": observe, "choice": choice,
        "stop_tools": frozenset(stop_tools), "result": result,
    }
    await tool_loop_graph().ainvoke(state, {"recursion_limit": 4 * max_steps + 8})
    return result
