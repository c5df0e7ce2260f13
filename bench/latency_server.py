"""A lean OpenAI-compatible latency endpoint for benchmarks: one asyncio event loop, every
chat request answered after a fixed latency with one fixed schema-valid JSON answer.

The fault server (tests/servers/fault_server.py) runs a thread per connection and costs
~0.4 ms of CPU per call under the GIL; at 100 concurrent calls that queueing shows up in
the client's figures. This one costs ~0.05 ms, so what is measured is the client.

    python bench/latency_server.py --latency 0.2    # prints READY <port>

With `--schema-answers`, a structured request gets an answer built from its own JSON schema
(an enum value picked by a hash of the prompt, the shortest valid string, the minimum
number), so a plugin's answers parse and its agents behave as with a model that always
follows the format; the choice depends only on the prompt, so reruns are identical. A
request that offers tools gets a tool call the same way: the forced tool, or one picked by
the hash, with arguments built from its parameter schema (CDI's agents act only by tools).

With `--text-answer TEXT`, a request without a JSON schema gets TEXT instead of the fixed
JSON answer: for code that reads free text (e.g. the first digit or integer of the reply),
such as the authors' TrendSim code (`bench/authors_trendsim.py` uses `--text-answer 0`:
the first option of every menu, and 0 wherever a number is read).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json

ANSWER = json.dumps({"action": "like", "comment": "fine by me", "interest": 3, "trust": 0.5})


def _schema_of(body: dict) -> dict | None:
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return (fmt.get("json_schema") or {}).get("schema")
    if fmt.get("type") == "json_object":
        return fmt.get("schema")
    return None


def instance(schema: dict, defs: dict, pick: int) -> object:
    """A minimal value valid under `schema`; `pick` chooses among enum values."""
    if "$ref" in schema:
        return instance(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, pick)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return instance(schema[key][0], defs, pick)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][pick % len(schema["enum"])]
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "object":
        props = schema.get("properties") or {}
        return {k: instance(v, defs, pick // 3 + i) for i, (k, v) in enumerate(props.items())}
    if kind == "array":
        return [instance(schema.get("items") or {}, defs, pick) for _ in range(schema.get("minItems", 0))]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        high = schema.get("maximum", low + 100)
        value = low + pick % (max(1, int(high - low)) + 1)
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return bool(pick % 2)
    if kind == "null":
        return None
    text = "fine by me"
    low, high = schema.get("minLength", 0), schema.get("maxLength", 1000)
    return (text + " " * max(0, low - len(text)))[: max(low, min(high, len(text)))]


def _pick(body: dict) -> int:
    prompt = json.dumps(body.get("messages"), sort_keys=True).encode()
    return int.from_bytes(hashlib.blake2b(prompt, digest_size=4).digest(), "big")


def _answer(body: dict) -> str:
    schema = _schema_of(body) if Latency.schema_answers else None
    if not schema:
        return ANSWER if Latency.text_answer is None else Latency.text_answer
    return json.dumps(instance(schema, schema.get("$defs") or {}, _pick(body)))


def _tool_call(body: dict) -> list[dict] | None:
    """With --schema-answers, a request offering tools (and not forbidding them) gets one call."""
    tools = [t["function"] for t in body.get("tools") or [] if t.get("type") == "function"]
    choice = body.get("tool_choice", "auto")
    if not (Latency.schema_answers and tools) or choice == "none":
        return None
    pick = _pick(body)
    forced = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
    tool = next((t for t in tools if t["name"] == forced), None) or tools[pick % len(tools)]
    params = tool.get("parameters") or {}
    args = instance(params, params.get("$defs") or {}, pick // 7) if params.get("properties") else {}
    return [{"id": f"call_{pick:08x}", "type": "function", "function": {"name": tool["name"], "arguments": json.dumps(args)}}]


def _response(body: dict) -> bytes:
    prompt = sum(len(str(m.get("content", ""))) for m in body.get("messages") or [])
    calls = _tool_call(body)
    answer = json.dumps([c["function"] for c in calls]) if calls else _answer(body)
    message = {"role": "assistant", "content": None, "tool_calls": calls} if calls else {"role": "assistant", "content": answer}
    payload = json.dumps({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": body.get("model", "bench"),
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": {"prompt_tokens": prompt // 4 + 1, "completion_tokens": len(answer) // 4, "total_tokens": prompt // 4 + 20},
    }).encode()
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(payload), payload)


MODELS = json.dumps({"object": "list", "data": [{"id": "bench", "object": "model"}]}).encode()


class Latency(asyncio.Protocol):
    latency = 0.2
    schema_answers = False
    text_answer: str | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buf) < end + 4 + length:
                return
            body, self.buf = self.buf[end + 4:end + 4 + length], self.buf[end + 4 + length:]
            if head.startswith("GET"):
                out = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(MODELS), MODELS)
                self.transport.write(out)
                continue
            answer = _response(json.loads(body))
            asyncio.get_running_loop().call_later(self.latency, self._write, answer)

    def _write(self, data: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(data)


async def serve(latency: float, port: int, schema_answers: bool = False, lifetime: float = 900,
                text_answer: str | None = None) -> None:
    Latency.latency = latency
    Latency.schema_answers = schema_answers
    Latency.text_answer = text_answer
    server = await asyncio.get_running_loop().create_server(Latency, "127.0.0.1", port, backlog=1024)
    print(f"READY {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await asyncio.sleep(lifetime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--schema-answers", action="store_true", help="answer structured requests from their schema")
    parser.add_argument("--text-answer", default=None, help="the reply to a request without a JSON schema (default: a fixed JSON answer)")
    parser.add_argument("--lifetime", type=float, default=900, help="seconds before the server exits by itself")
    args = parser.parse_args()
    asyncio.run(serve(args.latency, args.port, args.schema_answers, args.lifetime, args.text_answer))


if __name__ == "__main__":
    main()
