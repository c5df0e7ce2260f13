"""Instruction-tuning records from a run's LLM calls (`simkit export RUN --format sft`).

Every answered call is a (prompt, output) pair: the CharacterBox authors build their
character, narrator and reward-model training sets exactly so (LLaMA-Factory style
`instruction/input/output/history`). A record holds the call's system prompt as
`instruction`, its last user message as `input`, earlier turns as `history` pairs, the
answer text as `output`, and where it came from (`purpose`, `agent_id`, `run_id`,
`tick`). Calls whose answer did not validate and repair re-asks are left out, so every
output is one the run accepted.

Tool use is kept: an answer that calls tools has them in `tool_calls` (name and parsed
arguments) and as `output` (their JSON, when the answer has no text); earlier tool calls and
tool results appear in `history` as text, and `messages` holds the whole conversation in the
OpenAI chat format (assistant `tool_calls`, `tool` results) with the answer as its last turn,
for trainers that take tool-calling conversations (ShareGPT / OpenAI fine-tuning style).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from simkit.store.reader import RunReader


def _calls(tool_calls: list | None) -> list[dict]:
    """Tool calls as {name, arguments}, from the OpenAI message shape or the stored answer's."""
    out = []
    for call in tool_calls or []:
        fn = call.get("function") or call
        args = fn.get("arguments")
        try:
            args = json.loads(args) if isinstance(args, str) else args
        except json.JSONDecodeError:
            pass
        out.append({"name": fn.get("name", ""), "arguments": args})
    return out


def _text(message: dict) -> str:
    """A turn as text: its content; a tool call as `name(arguments)`; a tool result prefixed
    with the tool's name."""
    content = message.get("content") or ""
    if message.get("tool_calls"):
        calls = "; ".join(f"{c['name']}({json.dumps(c['arguments'], ensure_ascii=False)})" for c in _calls(message["tool_calls"]))
        content = f"{content}\n{calls}".strip()
    if message.get("role") == "tool":
        content = f"[{message.get('name') or 'tool'} result] {content}"
    return content


def sft_record(row: dict) -> dict:
    messages = json.loads(row["messages_json"])
    answer = json.loads(row["response_json"])
    calls = _calls(answer.get("tool_calls"))
    system = "\n\n".join(_text(m) for m in messages if m["role"] == "system")
    turns = [m for m in messages if m["role"] != "system"]
    last = turns[-1] if turns else {"content": ""}
    history, pending = [], None
    for m in turns[:-1]:
        if m["role"] in ("user", "tool"):
            pending = _text(m) if pending is None else f"{pending}\n{_text(m)}"
        elif m["role"] == "assistant" and pending is not None:
            history.append([pending, _text(m)])
            pending = None
    reply: dict = {"role": "assistant", "content": answer.get("text") or None}
    if calls:
        reply["tool_calls"] = [{"type": "function", "id": c.get("id", ""), "function": {"name": c.get("name", ""), "arguments": c.get("arguments", "")}}
                               for c in answer["tool_calls"]]
    return {
        "instruction": system,
        "input": _text(last),
        "output": answer.get("text") or (json.dumps(calls, ensure_ascii=False) if calls else ""),
        "history": history,
        "tool_calls": calls,
        "messages": messages + [reply],
        "purpose": row["purpose"],
        "agent_id": row["agent_id"],
        "run_id": row["run_id"],
        "tick": row["tick"],
    }


def sft_records(reader: RunReader, run_id: str, prefixes: Sequence[str] = ()) -> Iterator[dict]:
    """The run's accepted calls whose purpose starts with one of `prefixes` (all when empty)."""
    for row in reader.rows("llm_calls", run_id):
        purpose = row["purpose"] or ""
        if not row["parsed_ok"] or purpose.endswith(":repair"):
            continue
        if prefixes and not purpose.startswith(tuple(prefixes)):
            continue
        yield sft_record(row)


def write_sft(reader: RunReader, run_id: str, path: Path, prefixes: Sequence[str] = (), append: bool = False) -> int:
    n = 0
    with Path(path).open("a" if append else "w", encoding="utf-8") as fh:
        for record in sft_records(reader, run_id, prefixes):
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n
