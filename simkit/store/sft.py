"""Instruction-tuning records from a run's LLM calls (`simkit export RUN --format sft`).

Every answered call is a (prompt, output) pair: the CharacterBox authors build their
character, narrator and reward-model training sets exactly so (LLaMA-Factory style
`instruction/input/output/history`). A record holds the call's system prompt as
`instruction`, its last user message as `input`, earlier turns as `history` pairs, the
answer text as `output`, and where it came from (`purpose`, `agent_id`, `run_id`,
`tick`). Calls whose answer did not validate and repair re-asks are left out, so every
output is one the run accepted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from simkit.store.reader import RunReader


def _text(message: dict) -> str:
    return message.get("content") or ""


def sft_record(row: dict) -> dict:
    messages = json.loads(row["messages_json"])
    system = "\n\n".join(_text(m) for m in messages if m["role"] == "system")
    turns = [m for m in messages if m["role"] != "system"]
    last = turns[-1] if turns else {"content": ""}
    history, pending = [], None
    for m in turns[:-1]:
        if m["role"] == "user":
            pending = _text(m)
        elif m["role"] == "assistant" and pending is not None:
            history.append([pending, _text(m)])
            pending = None
    return {
        "instruction": system,
        "input": _text(last),
        "output": json.loads(row["response_json"])["text"],
        "history": history,
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


def write_sft(reader: RunReader, run_id: str, path: Path, prefixes: Sequence[str] = ()) -> int:
    n = 0
    with Path(path).open("w", encoding="utf-8") as fh:
        for record in sft_records(reader, run_id, prefixes):
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n
