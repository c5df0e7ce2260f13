"""Recorded runs: the answers of a recipe's run kept as a small JSONL file, so a test (or a
reader without the model) can replay the run from them (`llm.cache: replay`: a request
without a recorded answer is an error) and check the printed comparison.

File layout, one JSON object per line: a header (`"kind": "header"`: recipe, the command's
arguments, the models, simkit version, a label saying what the recording is and is not),
then one `"kind": "answer"` line per distinct request of each run (the run's position in
the plan, its cache key, the answer text, tool calls, token counts), then one `"kind":
"row"` line per comparison row as printed. Answers are kept per run: a model may answer
the same request differently in two runs (the embedded model does, with its prompt cache).
"""

from __future__ import annotations

import json
from pathlib import Path

import simkit
from simkit.engine.runner import Simulation
from simkit.llm.base import Backend, LLMRequest, RawCompletion
from simkit.errors import ReplayMiss


class RecordedBackend(Backend):
    """Stands in for a recorded run's backend: same model identity (so the same cache keys),
    never asked (cache mode replay answers from the record or fails), loads nothing."""

    name = "recorded"

    def __init__(self, model: str):
        self._model = model

    @property
    def model(self) -> str:
        return self._model

    async def generate(self, request: LLMRequest) -> RawCompletion:
        raise ReplayMiss(f"no recorded answer for a '{request.purpose}' call of agent {request.agent_id}")


class ReplaySimulation(Simulation):
    """A run whose answers come from a record (or from its own earlier ticks on resume)."""

    answers: dict[str, dict] = {}

    def __init__(self, *args, answers: dict[str, dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.answers = answers
        for client in self.ctx.llms._clients.values():  # noqa: SLF001 - swap the model for the record
            client.backend = RecordedBackend(client.backend.model)

    def _cached_answer(self, key: str) -> dict | None:
        if self._reader is not None:
            row = self._reader.db.execute(
                "select response_json, tokens_in, tokens_out from llm_calls where request_hash = ? and run_id = ? limit 1",
                [key, self.run_id],
            ).fetchone()
            if row is not None:
                response = json.loads(row[0])
                return {"text": response["text"], "tool_calls": response.get("tool_calls") or [],
                        "tokens_in": row[1], "tokens_out": row[2]}
        return self.answers.get(key)


def write_record(path: Path, reader, run_ids: list[str], header: dict, rows: list[dict]) -> int:
    """Store the answers of `run_ids` and the comparison rows. Returns the number of answers."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps({"kind": "header", "simkit_version": simkit.__version__, **header}, ensure_ascii=False) + "\n")
        for index, run_id in enumerate(run_ids):
            seen: set[str] = set()
            for key, response, t_in, t_out in reader.db.execute(
                "select request_hash, response_json, tokens_in, tokens_out from llm_calls where run_id = ? order by tick, seq",
                [run_id],
            ):
                if key in seen:
                    continue
                seen.add(key)
                answer = json.loads(response)
                fh.write(json.dumps({"kind": "answer", "run": index, "key": key, "text": answer["text"],
                                     "tool_calls": answer.get("tool_calls") or [], "tokens_in": t_in, "tokens_out": t_out},
                                    ensure_ascii=False) + "\n")
                n += 1
        for row in rows:
            fh.write(json.dumps({"kind": "row", **row}, ensure_ascii=False) + "\n")
    return n


def read_record(path: Path) -> tuple[dict, dict[int, dict[str, dict]], list[dict]]:
    """(header, run position -> cache key -> answer, comparison rows) of a record file."""
    header: dict = {}
    answers: dict[int, dict[str, dict]] = {}
    rows: list[dict] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        kind = item.pop("kind")
        if kind == "header":
            header = item
        elif kind == "answer":
            answers.setdefault(item.pop("run"), {})[item.pop("key")] = item
        elif kind == "row":
            rows.append(item)
    return header, answers, rows
