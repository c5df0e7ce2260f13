"""`simkit doctor`: what this machine offers the embedded model, in a few lines.

For when the local backend dies (`ModelProcessDied`) or crawls: the CPU features llama.cpp
sees, the model file, a 5-token generation and its speed, and whether the variables the
`openai` backend reads are set. Every llama.cpp step runs in a child process, so a CPU that
crashes llama.cpp gives a line saying so rather than killing the doctor. Secrets are never
printed: the key only as set or not, the base URL without credentials, path or query.
"""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from simkit.errors import SimkitError

PROMPT = [{"role": "user", "content": "Say hello in five words."}]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _llama_system_info() -> tuple[str | None, str]:
    """llama.cpp's system info, read in a child process: (info, problem)."""
    code = "from simkit.llm.cpu import system_info; print(system_info())"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    if proc.returncode == 0:
        return proc.stdout.strip(), ""
    if proc.returncode < 0:
        import signal

        return None, f"llama.cpp died with signal {signal.Signals(-proc.returncode).name} while starting"
    last = (proc.stderr.strip().splitlines() or [""])[-1]
    return None, f"llama.cpp could not start (exit code {proc.returncode}): {last}"


def _base_url(value: str) -> str:
    parts = urlsplit(value)
    if not parts.scheme or not parts.hostname:
        return "set (not a URL)"
    port = f":{parts.port}" if parts.port else ""
    return f"set ({parts.scheme}://{parts.hostname}{port}/...)"


async def _generate(model: str | None, n_threads: int | None, extra_buffers: bool, say: Callable[[str], None]) -> bool:
    from simkit.llm.base import LLMRequest
    from simkit.llm.local import LocalBackend, check_gguf

    backend = LocalBackend(model, n_threads=n_threads, extra_buffers=extra_buffers)
    try:
        path = backend.path
        say(f"model: {path}" + (f" ({path.stat().st_size / 2**20:.1f} MiB)" if path.is_file() else ""))
        check_gguf(path)
        started = time.perf_counter()
        await backend.check()
        engine = backend._engine
        settings = engine.settings()
        say(f"model process: pid {engine.pid}, loaded in {time.perf_counter() - started:.1f} s, "
            f"{settings['n_threads']} thread(s), use_extra_bufts={settings['use_extra_bufts']}")
        started = time.perf_counter()
        answer = await backend.generate(LLMRequest(messages=PROMPT, max_tokens=5, temperature=0.0, seed=0))
        wall = time.perf_counter() - started
        run_s = answer.meta.get("run_s") or wall
        say(f"generation: {answer.tokens_out} tokens in {run_s:.2f} s ({answer.tokens_out / run_s:.1f} tokens/s, "
            f"reading the {answer.tokens_in}-token prompt included): {answer.text!r}")
        return True
    except SimkitError as exc:
        say(f"generation: FAILED: {exc}")
        return False
    finally:
        await backend.aclose()


def run_doctor(model: str | None = None, n_threads: int | None = None, extra_buffers: bool = False,
               say: Callable[[str], None] = print) -> int:
    """Print the report line by line; 0 when the embedded model generated, else 1."""
    from simkit.llm.cpu import cpu_features, has_amx

    say(f"simkit {_version('simkit')}, llama-cpp-python {_version('llama-cpp-python')}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}")
    say(f"CPU: {_cpu_name()}, {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} cores")
    info, problem = _llama_system_info()
    ok = info is not None
    if info is None:
        say(f"llama.cpp CPU features: unknown: {problem}")
    else:
        features = cpu_features(info)
        say(f"llama.cpp CPU features: {' '.join(features) or info}")
        amx = "AMX reported: its extra buffer type crashes llama.cpp" if has_amx(features) else "no AMX"
        say(f"extra buffer types: {'on (llm.extra_buffers: true)' if extra_buffers else 'off (llm.extra_buffers: false)'}; {amx}")
        ok = asyncio.run(_generate(model, n_threads, extra_buffers, say)) and ok
    key = os.environ.get("OPENAI_API_KEY")
    say(f"OPENAI_API_KEY: {'set (value not shown)' if key else 'not set'}")
    url = os.environ.get("OPENAI_BASE_URL")
    say(f"OPENAI_BASE_URL: {_base_url(url) if url else 'not set'}")
    say("ok" if ok else "problems found (see above)")
    return 0 if ok else 1
