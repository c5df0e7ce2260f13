"""A small OpenAI-compatible chat server on 127.0.0.1 that misbehaves on purpose.

    with FaultServer(Faults(latency=0.2, p_429=0.1, p_500=0.1)) as server:
        base_url = server.base_url            # http://127.0.0.1:PORT/v1

or, in another process (prints `READY <port>` when listening):

    python -m tests.servers.fault_server --latency 0.2 --p-429 0.1 --max-lifetime 600

Faults, drawn per request from a seeded generator: added latency, HTTP 429, HTTP 500,
"timeouts" (the answer is held back for `hang` seconds, longer than the client waits),
and malformed bodies (HTTP 200, content-type JSON, a truncated body); `status` forces one
HTTP status for every request. Structured-output
dialect behaviour is configurable like real servers:

    dialect="json_schema"  accepts json_schema and json_object (OpenAI, vLLM)
    dialect="json_object"  json_schema -> HTTP 500 "Input should be 'text' or 'json_object'"
                           (what the llama.cpp Python server answers)
    dialect="prompt"       any response_format -> HTTP 400 (servers that only read the prompt)

Answers to structured requests are schema-valid JSON (from `instance_from_schema`); with
the prompt dialect the schema is read from the prompt. The server stops itself after
`max_lifetime` seconds (the thread is a daemon either way).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from simkit.llm.scripted import instance_from_schema, sentence


@dataclass
class Faults:
    latency: float = 0.0
    p_429: float = 0.0
    p_500: float = 0.0
    p_timeout: float = 0.0
    hang: float = 30.0
    p_malformed: float = 0.0
    dialect: str = "json_schema"
    tools: str = "native"  # native: answers `tools` with `tool_calls`; reject: HTTP 400 (servers without tool calling)
    status: int = 0  # when set, every request gets this HTTP status (an error body)
    constant: bool = False  # every answer drawn with one fixed seed: schema-valid, the same for every call of a schema
    seed: int = 0
    per_request: bool = False  # answers drawn from the request itself: any server so configured answers alike
    max_lifetime: float = 900.0


@dataclass
class Stats:
    """What the server saw; read by tests (thread-safe enough: CPython counter updates under a lock)."""

    outcomes: Counter = field(default_factory=Counter)
    dialects: Counter = field(default_factory=Counter)
    auth_headers: set = field(default_factory=set)
    requests: int = 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler holding back a "timeout" answer must not delay stop()
    allow_reuse_address = True
    request_queue_size = 1024


class FaultServer:
    def __init__(self, faults: Faults | None = None, port: int = 0):
        self.faults = faults or Faults()
        self.stats = Stats()
        self._lock = threading.Lock()
        self._rng = np.random.default_rng(self.faults.seed)
        self._server = _Server(("127.0.0.1", port), self._handler_class())
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None
        self.dead = False  # stopped: kept-alive connections are dropped too

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "FaultServer":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        self._timer = threading.Timer(self.faults.max_lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        self.dead = True
        if self._timer is not None:
            self._timer.cancel()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FaultServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- decisions -----------------------------------------------------------------------

    def _draw(self) -> tuple[str, np.random.Generator]:
        f = self.faults
        with self._lock:
            u = float(self._rng.random())
            rng = np.random.default_rng(int(self._rng.integers(0, 2**63)))
            self.stats.requests += 1
        for name, p in (("429", f.p_429), ("500", f.p_500), ("timeout", f.p_timeout), ("malformed", f.p_malformed)):
            if u < p:
                return name, rng
            u -= p
        return "ok", rng

    def _count(self, outcome: str, dialect: str | None = None) -> None:
        with self._lock:
            self.stats.outcomes[outcome] += 1
            if dialect:
                self.stats.dialects[dialect] += 1

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _error(self, status: int, message: str, kind: str) -> None:
                self._send(status, json.dumps({"error": {"message": message, "type": kind}}).encode())

            def _note_auth(self) -> None:
                auth = self.headers.get("Authorization")
                if auth:
                    with server._lock:
                        server.stats.auth_headers.add(auth)

            def do_GET(self) -> None:
                if server.dead:
                    self.close_connection = True
                    return
                self._note_auth()
                if server.faults.status:
                    self._error(server.faults.status, f"forced status {server.faults.status}", "forced")
                elif self.path.rstrip("/").endswith("/models"):
                    self._send(200, json.dumps({"object": "list", "data": [{"id": "fault-model", "object": "model", "owned_by": "tests"}]}).encode())
                else:
                    self._error(404, f"no route {self.path}", "not_found")

            def do_POST(self) -> None:
                if server.dead:
                    self.close_connection = True
                    return
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                self._note_auth()
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._error(404, f"no route {self.path}", "not_found")
                    return
                try:
                    body = json.loads(raw)
                except ValueError:
                    self._error(400, "request body is not JSON", "invalid_request_error")
                    return
                server.handle_chat(self, body)

        return Handler

    # -- one chat request ----------------------------------------------------------------

    def handle_chat(self, handler, body: dict) -> None:
        f = self.faults
        outcome, rng = self._draw()
        if f.per_request:
            digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).digest()
            rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
        if f.latency:
            time.sleep(f.latency)
        if f.status:
            self._count(str(f.status))
            handler._error(f.status, f"forced status {f.status}", "forced")
            return
        fmt = body.get("response_format") or None
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        # Dialect rejections come first: a real server validates the request before generating.
        if kind == "json_schema" and f.dialect == "json_object":
            self._count("rejected", kind)
            detail = [{"type": "literal_error", "loc": ["body", "response_format", "type"],
                       "msg": "Input should be 'text' or 'json_object'", "input": "json_schema"}]
            handler._error(500, str(detail), "internal_server_error")
            return
        if kind not in (None, "text") and f.dialect == "prompt":
            self._count("rejected", kind)
            handler._error(400, f"response_format of type {kind} is not supported by this server", "invalid_request_error")
            return
        if body.get("tools") and f.tools == "reject":
            self._count("rejected", "tools")
            handler._error(400, "tools are not supported by this server", "invalid_request_error")
            return
        if outcome == "429":
            self._count(outcome)
            handler._error(429, "rate limited, slow down", "rate_limit_error")
            return
        if outcome == "500":
            self._count(outcome)
            handler._error(500, "the model crashed", "server_error")
            return
        if outcome == "timeout":
            self._count(outcome)
            time.sleep(f.hang)
        if outcome == "malformed":
            self._count(outcome)
            handler._send(200, b'{"id": "chatcmpl-broken", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assi')
            return
        schema = None
        if kind == "json_schema":
            schema = (fmt.get("json_schema") or {}).get("schema")
        elif kind == "json_object":
            schema = fmt.get("schema") or {"type": "object", "properties": {"answer": {"type": "string"}}}
        elif f.dialect == "prompt":
            schema = schema_from_prompt(body.get("messages") or [])
        self._count("ok", kind or ("prompt" if schema else "text"))
        if f.constant:
            rng = np.random.default_rng(0)
        text = json.dumps(instance_from_schema(schema, rng)) if schema else sentence(rng)
        message: dict[str, Any] = {"role": "assistant", "content": text}
        tools = body.get("tools") or []
        if tools and body.get("tool_choice") != "none":
            function = tools[int(rng.integers(len(tools)))]["function"]
            arguments = instance_from_schema(function.get("parameters") or {"type": "object"}, rng)
            message = {"role": "assistant", "content": None, "tool_calls": [
                {"id": f"call_{self.stats.requests}", "type": "function",
                 "function": {"name": function["name"], "arguments": json.dumps(arguments)}}]}
            text = json.dumps(arguments)
        prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages") or [])
        answer = {
            "id": f"chatcmpl-{self.stats.requests}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fault-model"),
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tools else "stop"}],
            "usage": {"prompt_tokens": prompt_chars // 4 + 1, "completion_tokens": len(text) // 4 + 1,
                      "total_tokens": prompt_chars // 4 + len(text) // 4 + 2},
        }
        handler._send(200, json.dumps(answer).encode())


def schema_from_prompt(messages: list[dict[str, Any]]) -> dict | None:
    """The JSON schema stated in the prompt ("... matches this JSON schema: {...}"), if any."""
    decoder = json.JSONDecoder()
    for message in messages:
        content = str(message.get("content", ""))
        at = content.find("JSON schema:")
        if at != -1:
            start = content.find("{", at)
            if start != -1:
                try:
                    return decoder.raw_decode(content, start)[0]
                except ValueError:
                    return None
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    for name, default in asdict(Faults()).items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(default), default=default)
    args = vars(parser.parse_args(argv))
    port = args.pop("port")
    server = FaultServer(Faults(**args), port=port).start()
    print(f"READY {server.port}", flush=True)
    try:
        while server._thread is not None and server._thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        server.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
