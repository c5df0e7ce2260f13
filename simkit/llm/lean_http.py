"""`LeanHTTP`: the chat-completions POST of the openai backend without the SDK's request
machinery: HTTP/1.1 keep-alive connections on asyncio streams, one bytes request, one
JSON answer. Failures are raised as the `openai` exceptions the SDK would raise (built
through the SDK's own `_make_status_error_from_response`), so `OpenAIBackend._translate`
maps them unchanged.

Why: at 100 concurrent calls against a 200 ms endpoint the SDK path costs ~0.9-1.5 ms of
CPU per call on the event loop's one core (request options, header and URL models of its
httpx, then aiohttp); this path costs ~0.2 ms (bench/README.md). Used for `http://` base
URLs (vLLM, llama.cpp, Ollama on a cluster: where throughput matters); `https://` (OpenAI,
Azure: latencies of seconds) stays on the SDK. `SIMKIT_HTTP=lean|sdk|httpx` forces a choice.

Scope: JSON bodies, `Content-Length` or chunked answers, no compression (none is asked
for), no redirects, no proxies (set SIMKIT_HTTP=sdk behind a proxy).
"""

from __future__ import annotations

import asyncio
import json
import ssl
from typing import Any
from urllib.parse import urlsplit

import openai

try:  # the C JSON codec when it is there (a langgraph dependency); same JSON either way
    import orjson

    def _dumps(value: Any) -> bytes:
        return orjson.dumps(value)

    _loads = orjson.loads
except ModuleNotFoundError:  # pragma: no cover
    def _dumps(value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()

    _loads = json.loads


CONNECT_TIMEOUT = 10.0  # seconds to open a connection; the answer gets the rest of `timeout`


class _Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    def close(self) -> None:
        self.writer.close()


class LeanHTTP:
    """POST JSON to one server over a pool of keep-alive connections."""

    def __init__(self, base_url: str, api_key: str, timeout: float, sdk: "openai.AsyncOpenAI"):
        parts = urlsplit(base_url)
        self.base_url = base_url
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._sdk = sdk  # only to build its exceptions
        self._ssl = ssl.create_default_context() if self.https else None
        host = self.host if parts.port is None else f"{self.host}:{self.port}"
        self._head = (
            f"Host: {host}\r\nAuthorization: Bearer {api_key}\r\nContent-Type: application/json\r\n"
            "Accept: application/json\r\nUser-Agent: simkit\r\n"
        ).encode("latin-1")
        self._idle: list[_Conn] = []

    async def post(self, path: str, body: dict) -> Any:
        payload = _dumps(body)
        request = b"".join((
            f"POST {self.prefix}{path} HTTP/1.1\r\n".encode("latin-1"), self._head,
            b"Content-Length: ", str(len(payload)).encode(), b"\r\n\r\n", payload,
        ))
        try:
            async with asyncio.timeout(self.timeout):
                status, headers, data = await self._exchange(request)
        except TimeoutError:
            raise openai.APITimeoutError(request=self._request(path)) from None
        if status >= 400:
            raise self._status_error(path, status, headers, data)
        return _loads(data)

    async def _exchange(self, request: bytes) -> tuple[int, dict[str, str], bytes]:
        while self._idle:  # a kept-alive connection the server may have closed meanwhile
            conn = self._idle.pop()
            try:
                return await self._send(conn, request)
            except (ConnectionError, asyncio.IncompleteReadError, _Stale):
                conn.close()
        try:
            async with asyncio.timeout(min(CONNECT_TIMEOUT, self.timeout)):
                reader, writer = await asyncio.open_connection(self.host, self.port, ssl=self._ssl)
        except (OSError, TimeoutError) as exc:  # refused, unreachable, or no answer to the SYN
            if isinstance(exc, TimeoutError):
                exc = ConnectionError(f"no connection to {self.host}:{self.port} within {min(CONNECT_TIMEOUT, self.timeout):g}s")
            raise openai.APIConnectionError(request=self._request("")) from exc
        try:
            return await self._send(_Conn(reader, writer), request)
        except (ConnectionError, asyncio.IncompleteReadError, _Stale) as exc:
            raise openai.APIConnectionError(request=self._request("")) from exc

    async def _send(self, conn: _Conn, request: bytes) -> tuple[int, dict[str, str], bytes]:
        keep = False
        try:
            conn.writer.write(request)
            reader = conn.reader
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as exc:
                if not exc.partial:
                    raise _Stale() from None  # closed before answering: retry on a fresh one
                raise
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            if "content-length" in headers:
                data = await reader.readexactly(int(headers["content-length"]))
            elif headers.get("transfer-encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
                    if size == 0:
                        await reader.readuntil(b"\r\n")  # no trailers expected
                        break
                    chunks.append(await reader.readexactly(size))
                    await reader.readexactly(2)
                data = b"".join(chunks)
            else:
                data = await reader.read()
                headers["connection"] = "close"
            keep = headers.get("connection", "").lower() != "close"
            return status, headers, data
        finally:
            if keep:
                self._idle.append(conn)
            else:
                conn.close()

    def _request(self, path: str):
        return _httpx().Request("POST", f"{self.base_url}{path}")

    def _status_error(self, path: str, status: int, headers: dict, data: bytes) -> Exception:
        response = _httpx().Response(status, headers=headers, content=data, request=self._request(path))
        return self._sdk._make_status_error_from_response(response)

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _httpx():
    """The HTTP library the installed SDK builds its errors from (httpx, or httpx2 in newer SDKs)."""
    import openai._base_client as base

    return getattr(base, "httpx2", None) or getattr(base, "httpx")


class _Stale(Exception):
    """A pooled connection closed by the server before it answered."""
