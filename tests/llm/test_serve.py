"""`simkit serve`: the embedded model over the OpenAI API, loaded without extra buffer types,
answering a chat completion on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import run_cli
from tests.servers.llama_server import free_port

pytestmark = pytest.mark.slow


def test_simkit_serve_answers_on_the_openai_api(tmp_path):
    port, log = free_port(), (tmp_path / "serve.log").open("w+b")
    proc = subprocess.Popen([sys.executable, "-m", "simkit.cli", "serve", "--port", str(port), "--threads", "1",
                             "--n-ctx", "1024"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base, deadline, models = f"http://127.0.0.1:{port}/v1", time.monotonic() + 300, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{base}/models", timeout=2) as resp:
                    models = json.load(resp)
                    break
            except OSError:
                time.sleep(0.3)
        assert models is not None, "simkit serve did not answer"
        assert [m["id"] for m in models["data"]] == ["smollm2"]
        body = json.dumps({"model": "smollm2", "messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 4,
                           "temperature": 0}).encode()
        req = urllib.request.Request(f"{base}/chat/completions", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            answer = json.load(resp)
        assert answer["choices"][0]["message"]["role"] == "assistant" and answer["usage"]["completion_tokens"] >= 1
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        log.seek(0)
        out = log.read().decode(errors="replace")
    assert "loaded with use_extra_bufts=False" in out and f"on http://127.0.0.1:{port}/v1" in out


def test_simkit_serve_names_a_missing_model_file(tmp_path):
    res = run_cli(["serve", "--model", str(tmp_path / "none.gguf")], check_rc=2)
    assert "none.gguf: no such file" in res.stderr
