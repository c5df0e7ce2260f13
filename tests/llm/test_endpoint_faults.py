"""How the openai backend gives up, against real sockets on 127.0.0.1: a hung endpoint (a
socket that accepts and never answers) within the call's deadline, a refused connection
(a closed port) said to be refused, an HTTP error body shown once, no unclosed HTTP
session after a one-line error, and a `ToolsRejected` that cannot loop. Both transports:
the lean one (`http://`) and the SDK's (aiohttp or httpx)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from simkit.errors import LLMUnavailable
from simkit.llm.base import Backend, LLMRequest, RawCompletion, ToolSpec, ToolsRejected
from simkit.llm.client import LLMClient
from simkit.llm.openai_backend import OpenAIBackend
from tests.servers.llama_server import free_port

ROOT = Path(__file__).resolve().parents[2]
HI = [{"role": "user", "content": "hi"}]


class HungServer:
    """Accepts connections, reads nothing, answers nothing."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                self.accepted.append(self.sock.accept()[0])
            except (socket.timeout, OSError):
                pass

    def close(self):
        self._stop.set()
        self._thread.join()
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def hung():
    server = HungServer()
    yield server
    server.close()


@pytest.fixture(params=["lean", "sdk"])
def transport(request, monkeypatch):
    monkeypatch.setenv("SIMKIT_HTTP", request.param)
    return request.param


def client_for(url: str, *, timeout: float, retries: int = 4, deadline: float | None = None) -> LLMClient:
    backend = OpenAIBackend("stub-model", base_url=url, timeout=timeout)
    return LLMClient(backend, cache_mode="off", timeout=timeout, retries=retries, deadline=deadline,
                     backoff_base=0.05, backoff_cap=0.2)


async def test_a_hung_endpoint_gives_up_within_the_deadline_naming_the_url(hung, transport):
    # timeout 0.4 s and 4 retries: without a deadline 5 x 0.4 s plus backoff; the default
    # deadline is 2 x timeout, whatever the retries.
    client = client_for(hung.url, timeout=0.4, retries=4)
    started = time.monotonic()
    with pytest.raises(LLMUnavailable) as info:
        await client.complete(HI)
    elapsed = time.monotonic() - started
    assert 0.75 <= elapsed < 1.2, elapsed
    message = str(info.value)
    assert hung.url in message and "did not answer within" in message and "deadline" in message
    assert "\n" not in message
    await client.aclose()


async def test_an_explicit_deadline_bounds_the_call(hung, transport):
    client = client_for(hung.url, timeout=5.0, retries=20, deadline=0.5)
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match="0.5s deadline"):
        await client.complete(HI)
    assert time.monotonic() - started < 0.9
    await client.aclose()


async def test_fast_failures_are_still_retried_inside_the_deadline(fault_server, transport):
    server = fault_server(status=503)
    client = client_for(server.base_url, timeout=2.0, retries=3)
    with pytest.raises(LLMUnavailable, match="gave up after 4 attempts: HTTP 503"):
        await client.complete(HI)
    assert client.stats.retries == 3
    await client.aclose()


async def test_a_refused_connection_is_reported_as_refused(transport):
    url = f"http://127.0.0.1:{free_port()}/v1"
    client = client_for(url, timeout=2.0, retries=1)
    with pytest.raises(LLMUnavailable) as info:
        await client.complete(HI)
    message = str(info.value)
    assert "connection refused" in message and url in message
    assert "Timeout" not in message
    with pytest.raises(LLMUnavailable, match="connection refused"):
        await client.backend.check()
    await client.aclose()


async def test_an_http_error_body_appears_once(fault_server, transport):
    server = fault_server(status=400)
    client = client_for(server.base_url, timeout=2.0)
    with pytest.raises(LLMUnavailable) as info:
        await client.complete(HI)
    message = str(info.value)
    assert message.count("forced status 400") == 1, message
    assert f"HTTP 400 from {server.base_url}" in message
    await client.aclose()


class AlwaysRejectsTools(Backend):
    """Refuses tools natively and when emulated: an endpoint that fails either way."""

    name = "rejecting"
    native_tools = True

    def __init__(self):
        self.calls = 0

    @property
    def model(self) -> str:
        return "rejecting-1"

    async def generate(self, request: LLMRequest) -> RawCompletion:
        self.calls += 1
        raise ToolsRejected("this endpoint does not accept tools")


async def test_tools_rejected_twice_ends_the_call_instead_of_looping():
    from pydantic import BaseModel

    class Args(BaseModel):
        city: str

    backend = AlwaysRejectsTools()
    client = LLMClient(backend, cache_mode="off", retries=4)
    tools = [ToolSpec(name="weather", description="the weather", parameters=Args)]
    with pytest.raises(LLMUnavailable, match="does not accept tools"):
        await asyncio.wait_for(client.complete(HI, tools=tools), 5)
    assert backend.calls == 2  # native, then emulated; then it stops
    assert backend.native_tools is False


async def test_tools_rejected_by_a_real_server_falls_back_to_emulation(fault_server, transport):
    from pydantic import BaseModel

    class Args(BaseModel):
        city: str

    server = fault_server(tools="reject")
    client = client_for(server.base_url, timeout=2.0)
    answer = await asyncio.wait_for(
        client.complete(HI, tools=[ToolSpec(name="weather", description="the weather", parameters=Args)]), 10)
    assert answer.text or answer.tool_calls
    assert client.backend.native_tools is False
    await client.aclose()


def run_cli(args: list[str], env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-W", "default", "-m", "simkit.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("http", ["sdk", "lean"])
def test_one_line_errors_leave_no_unclosed_session(fault_server, hung, tmp_path, http):
    """A run that stops on an endpoint error, a hung endpoint, or a database it cannot open
    after the endpoint check passed: one line, and no "Unclosed client session"."""
    env = {**os.environ, "SIMKIT_HTTP": http, "PYTHONPATH": str(ROOT), "PYTHONASYNCIODEBUG": "0"}
    (tmp_path / "a-file").write_text("not a directory")
    base = ["run", str(ROOT / "scenarios" / "trendsim.yaml"), "--llm", "openai:stub-model",
            "--set", "population.size=2", "--set", "llm.timeout=0.5"]
    cases = {
        "HTTP 400": (fault_server(status=400).base_url, tmp_path / "a.db"),
        "did not answer within": (hung.url, tmp_path / "b.db"),
        "a-file": (fault_server().base_url, tmp_path / "a-file" / "c.db"),
    }
    for words, (url, out) in cases.items():
        done = run_cli([*base, "--set", f"llm.base_url={url}", "--out", str(out)], env, tmp_path)
        assert done.returncode != 0, done.stdout
        assert words in done.stderr, done.stderr
        assert "Unclosed" not in done.stderr + done.stdout, done.stderr
        assert "Traceback" not in done.stderr, done.stderr


async def test_a_pool_of_hung_endpoints_gives_up_within_the_documented_bound(transport):
    """With a pool, `timeout` counts once per endpoint: deadline = 2 x (timeout x n + 1)."""
    from simkit.config import LLMSettings
    from simkit.llm.factory import make_client

    servers = [HungServer(), HungServer()]
    try:
        cfg = LLMSettings(backend="openai", model="stub-model", timeout=0.3, retries=20,
                          endpoints=[{"base_url": s.url} for s in servers])
        client = make_client(cfg, 1)
        assert client.deadline == pytest.approx(2 * (0.3 * 2 + 1))
        started = time.monotonic()
        with pytest.raises(LLMUnavailable) as info:
            await client.complete(HI)
        assert time.monotonic() - started < client.deadline + 0.5
        assert all(s.url in str(info.value) for s in servers)
        await client.aclose()
    finally:
        for server in servers:
            server.close()
