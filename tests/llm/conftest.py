"""Fixtures for the LLM backend tests: the fault-injecting stub server (per test) and the
real llama.cpp server (once per session, only when a slow test asks for it)."""

from __future__ import annotations

import pytest

from simkit.llm.local import default_model_path
from tests.servers.fault_server import FaultServer, Faults
from tests.servers.llama_server import LlamaServer


@pytest.fixture
def fault_server():
    """`fault_server(**faults)` starts a stub on 127.0.0.1; all are stopped after the test."""
    started: list[FaultServer] = []

    def start(**faults) -> FaultServer:
        server = FaultServer(Faults(**faults)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def llama_server():
    """`python -m llama_cpp.server` serving the default SmolLM2 GGUF on a free port."""
    with LlamaServer(default_model_path(), n_threads=1) as server:
        yield server
