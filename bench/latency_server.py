"""A lean OpenAI-compatible latency endpoint for benchmarks: one asyncio event loop, every
chat request answered after a fixed latency with one fixed schema-valid JSON answer.

The fault server (tests/servers/fault_server.py) runs a thread per connection and costs
~0.4 ms of CPU per call under the GIL; at 100 concurrent calls that queueing shows up in
the client's figures. This one costs ~0.05 ms, so what is measured is the client.

    python bench/latency_server.py --latency 0.2    # prints READY <port>
"""

from __future__ import annotations

import argparse
import asyncio
import json

ANSWER = json.dumps({"action": "like", "comment": "fine by me", "interest": 3, "trust": 0.5})


def _response(body: dict) -> bytes:
    prompt = sum(len(str(m.get("content", ""))) for m in body.get("messages") or [])
    payload = json.dumps({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": body.get("model", "bench"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt // 4 + 1, "completion_tokens": len(ANSWER) // 4, "total_tokens": prompt // 4 + 20},
    }).encode()
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(payload), payload)


MODELS = json.dumps({"object": "list", "data": [{"id": "bench", "object": "model"}]}).encode()


class Latency(asyncio.Protocol):
    latency = 0.2

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


async def serve(latency: float, port: int) -> None:
    Latency.latency = latency
    server = await asyncio.get_running_loop().create_server(Latency, "127.0.0.1", port, backlog=1024)
    print(f"READY {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await asyncio.sleep(900)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.latency, args.port))


if __name__ == "__main__":
    main()
