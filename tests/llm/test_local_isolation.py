"""The local model loads without llama.cpp's extra buffer types (the AMX one segfaults), and
runs in a child process whose death is one clear error: killed on purpose here with SIGSEGV
(what the AMX crash looks like) and SIGKILL (the OOM killer), in the backend and in a CLI
run that is then resumed to completion."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simkit.config import LLMConfig
from simkit.llm.base import LLMRequest
from simkit.llm.local import LocalBackend, default_model_path
from simkit.llm.llama_proc import ModelProcessDied
from tests.conftest import SMALL_PERSONAS, run_cli, townhall_yaml

SIGNALS = [pytest.param(signal.SIGSEGV, id="SIGSEGV"), pytest.param(signal.SIGKILL, id="SIGKILL")]


class _Loaded(Exception):
    pass


def test_loader_passes_use_extra_bufts_false_unless_asked(monkeypatch):
    import simkit.llm.llama_engine as llama_engine

    seen = []

    def fake_model(path_model, params, verbose):
        seen.append(params.use_extra_bufts)
        raise _Loaded

    monkeypatch.setattr(llama_engine.internals, "LlamaModel", fake_model)
    for cfg in (LLMConfig(), LLMConfig(extra_buffers=True)):
        backend = LocalBackend.from_config(cfg)
        backend.isolated = False  # load in this process, where the fake model can see the params
        with pytest.raises(_Loaded):
            backend._load()
    assert seen == [False, True]
    assert LLMConfig().extra_buffers is False


@pytest.mark.slow
async def test_the_model_process_loads_without_extra_buffer_types():
    backend = LocalBackend()
    await backend.check()
    assert backend._engine.settings()["use_extra_bufts"] is False
    assert "AVX" in backend.system_info or "CPU" in backend.system_info
    await backend.aclose()


def test_plain_llama_loads_without_extra_buffer_types_after_the_patch():
    """What the llama.cpp server launcher relies on; in a fresh interpreter so this process
    keeps llama_cpp's own defaults."""
    code = (
        "import llama_cpp; from simkit.llm.cpu import disable_extra_buffers_by_default as d; "
        "assert llama_cpp.llama_model_default_params().use_extra_bufts is True; d(); d(); "
        f"m = llama_cpp.Llama({str(default_model_path())!r}, vocab_only=True, verbose=False); "
        "print(m.model_params.use_extra_bufts)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("sig", SIGNALS)
@pytest.mark.slow
async def test_a_killed_model_process_fails_every_request_with_one_clear_line(sig):
    backend = LocalBackend()
    await backend.check()
    engine = backend._engine
    request = LLMRequest(messages=[{"role": "user", "content": "Tell me a long story about a lighthouse."}],
                         max_tokens=400, temperature=0.7, seed=3)
    call = asyncio.create_task(backend.generate(request))
    await asyncio.sleep(0.3)
    assert not call.done()
    os.kill(engine.pid, sig)
    with pytest.raises(ModelProcessDied) as info:
        await asyncio.wait_for(call, 30)
    message = str(info.value)
    assert "\n" not in message
    assert f"died with signal {sig.name} ({int(sig)}) while generating" in message
    assert "llama.cpp CPU features: " in message and "not reported" not in message
    assert "simkit doctor" in message
    with pytest.raises(ModelProcessDied, match=sig.name):  # later calls fail at once, same line
        await asyncio.wait_for(backend.generate(request), 5)
    await backend.aclose()


def _model_process(cli: subprocess.Popen, timeout: float = 60) -> int:
    """The pid of the llama.cpp child process of a running `simkit run`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for task in Path(f"/proc/{cli.pid}/task").iterdir():
            children = (task / "children").read_text().split()
            if children:
                return int(children[0])
        time.sleep(0.05)
    raise AssertionError("simkit run started no model process")


def _committed_ticks(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute("select count(*) from ticks").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


@pytest.mark.slow
@pytest.mark.parametrize("sig", SIGNALS)
def test_a_run_whose_model_process_dies_says_so_in_one_line_and_resumes(cli_env, tmp_path, sig):
    scenario = townhall_yaml(
        tmp_path,
        clock={"start": "2025-01-01T09:00:00", "end": "2025-01-01T09:50:00", "tick": "10m"},
        population={"personas": str(SMALL_PERSONAS), "size": 2},
        llm={"backend": "local", "max_tokens": 48},
    )
    db = tmp_path / "run.db"
    cli = subprocess.Popen([sys.executable, "-m", "simkit.cli", "run", str(scenario), "--quiet"], env=cli_env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        child = _model_process(cli)
        deadline = time.monotonic() + 300
        while _committed_ticks(db) < 1 and cli.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert cli.poll() is None, "the run ended before the model process could be killed"
        os.kill(child, sig)
        out, err = cli.communicate(timeout=120)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    conn = sqlite3.connect(db)
    run_id, status, error, ticks_total = conn.execute("select run_id, status, error, ticks_total from runs").fetchone()
    kept = conn.execute("select count(*) from ticks where run_id = ?", [run_id]).fetchone()[0]
    conn.close()
    line = err.strip()
    assert cli.returncode == 1, (out, err)
    assert "\n" not in line and "Traceback" not in err, err
    assert f"died with signal {sig.name} ({int(sig)})" in line
    assert f"simkit run {scenario} --out " in line and f"--resume {run_id}" in line
    assert status == "failed" and sig.name in error
    assert 1 <= kept < ticks_total

    run_cli(["run", str(scenario), "--quiet", "--resume", run_id], env=cli_env, timeout=600)
    conn = sqlite3.connect(db)
    status, last_tick = conn.execute("select status, last_tick from runs where run_id = ?", [run_id]).fetchone()
    ticks = [t for (t,) in conn.execute("select tick from ticks where run_id = ? order by tick", [run_id])]
    assert status == "finished" and ticks == list(range(ticks_total)) and last_tick == ticks_total - 1
