"""Tool calls for backends that have none of their own (the embedded model, the scripted
backend, servers that refuse `tools`).

The request is rewritten into a structured one: the answer must be a JSON object that is
either `{"tool": NAME, "arguments": {...}}` for one of the tools (its arguments' schema
inlined) or, unless a tool call is required, `{"tool": "none", "message": "..."}`. The
local backend turns that schema into a llama.cpp grammar, so even a 135M model can only
answer with a well-formed call. Earlier tool calls and results in the conversation are
flattened into plain text the model's chat template can show.
"""

from __future__ import annotations

import json
from typing import Any

from simkit.llm.base import CHOICE_KEYWORDS, LLMRequest, Message, Messages, RawCompletion, ToolSpec, requires_call
from simkit.llm.jsonfix import extract_json

NO_TOOL = "none"


def answer_schema(tools: tuple[ToolSpec, ...], tool_choice: str) -> dict[str, Any]:
    """The JSON schema of an emulated answer: one tool call (of the named tool only, when
    `tool_choice` names one), or a plain message unless a call is required."""
    options: list[dict[str, Any]] = []
    defs: dict[str, Any] = {}
    if tool_choice not in CHOICE_KEYWORDS:
        tools = tuple(t for t in tools if t.name == tool_choice)
    for tool in tools:
        params = dict(tool.parameters_schema)
        defs.update(params.pop("$defs", {}))
        options.append(
            {
                "type": "object",
                "properties": {"tool": {"const": tool.name}, "arguments": params},
                "required": ["tool", "arguments"],
            }
        )
    if not requires_call(tool_choice):
        options.append(
            {
                "type": "object",
                "properties": {"tool": {"const": NO_TOOL}, "message": {"type": "string", "maxLength": 600}},
                "required": ["tool", "message"],
            }
        )
    schema: dict[str, Any] = {"anyOf": options} if len(options) > 1 else options[0]
    if defs:
        schema["$defs"] = defs
    return schema


def flatten(messages: Messages) -> Messages:
    """Tool calls and tool results as plain chat text (system/user/assistant roles only)."""
    out: Messages = []
    for m in messages:
        role = m.get("role")
        if role == "assistant" and m.get("tool_calls"):
            calls = [
                {"tool": c["function"]["name"], "arguments": json.loads(c["function"].get("arguments") or "{}")}
                for c in m["tool_calls"]
            ]
            text = json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)
            out.append({"role": "assistant", "content": text})
        elif role == "tool":
            out.append({"role": "user", "content": f"Result of {m.get('name') or 'the tool'}: {m.get('content') or ''}"})
        else:
            out.append({"role": role, "content": m.get("content") or ""})
    return out


def instructions(tools: tuple[ToolSpec, ...], tool_choice: str) -> str:
    lines = ["You can use these tools. Answer with one JSON object only."]
    if tool_choice not in CHOICE_KEYWORDS:
        lines[0] = f"Use the tool {tool_choice} now. Answer with one JSON object only."
        tools = tuple(t for t in tools if t.name == tool_choice)
    for tool in tools:
        fields = ", ".join(tool.parameters_schema.get("properties", {})) or "no arguments"
        lines.append(f'- {tool.name}: {tool.description} To use it: {{"tool": "{tool.name}", "arguments": {{{fields}}}}}')
    if not requires_call(tool_choice):
        lines.append(f'To answer without a tool: {{"tool": "{NO_TOOL}", "message": "..."}}')
    return "\n".join(lines)


def emulated(request: LLMRequest) -> LLMRequest:
    """The structured request that stands in for a tool-calling one."""
    messages = flatten(request.messages)
    note = instructions(request.tools, request.tool_choice)
    if messages and messages[0]["role"] == "system":
        messages[0] = {"role": "system", "content": f"{messages[0]['content']}\n\n{note}"}
    else:
        messages.insert(0, {"role": "system", "content": note})
    fields = {**request.__dict__, "messages": messages, "tools": (), "schema": None}
    fields["schema_json"] = answer_schema(request.tools, request.tool_choice)
    return LLMRequest(**fields)


def decoded(raw: RawCompletion, call_id: str) -> RawCompletion:
    """An emulated answer read back as text plus tool calls. An answer that is not one of
    the shapes stays text (the client reports the missing tool call if one was required)."""
    data = extract_json(raw.text)
    if not isinstance(data, dict) or "tool" not in data:
        return raw
    if data["tool"] == NO_TOOL:
        return RawCompletion(str(data.get("message", "")), raw.tokens_in, raw.tokens_out, [], raw.meta)
    arguments = data.get("arguments", {})
    call = {"id": call_id, "name": str(data["tool"]), "arguments": json.dumps(arguments, ensure_ascii=False, sort_keys=True)}
    return RawCompletion("", raw.tokens_in, raw.tokens_out, [call], raw.meta)


def tool_result(call_id: str, name: str, content: Any) -> Message:
    """The `tool` message that carries a tool's result back to the model."""
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False, sort_keys=True, default=str)
    return {"role": "tool", "tool_call_id": call_id, "name": name, "content": text}
