"""The embedded model answers the same request and seed with the same bytes in any fresh
process: alone or after other requests, with the machine busy or idle,
with a different environment. (The cause of the old divergence: the repetition-penalty
sampler was called through a prototype with one argument too few, so its window was
whatever a register held; simkit/llm/llama_engine.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import json, sys, threading
    from simkit.llm.llama_engine import LlamaEngine
    from simkit.llm.local import default_model_path

    threads, history = int(sys.argv[1]), int(sys.argv[2])
    engine = LlamaEngine(str(default_model_path()), n_ctx=1024, n_threads=threads)

    def ask(messages, seed, schema=None, n=40, temperature=0.7):
        done, box = threading.Event(), {}
        engine.start(messages, schema, n, temperature, seed, lambda r: (box.update(r=r), done.set()))
        done.wait()
        return box["r"].text

    for i in range(history):
        ask([{"role": "user", "content": f"Tell a story about {i} dragons."}], i, n=16)
    request = [{"role": "system", "content": "You are a resident of a small town."},
               {"role": "user", "content": "What do you think of the new bus line? Answer in two sentences."}]
    schema = {"type": "object", "properties": {"opinion": {"type": "string", "maxLength": 80},
              "score": {"type": "integer", "minimum": 1, "maximum": 5}}, "required": ["opinion", "score"]}
    print(json.dumps([ask(request, 7), ask(request, 11, schema=schema)]))
    engine.close()
    """
)


def answer(threads: int, history: int, env: dict) -> str:
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(threads), str(history)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip().splitlines()[-1]


def test_same_request_same_bytes_in_two_fresh_processes_under_different_load():
    quiet = answer(1, 0, dict(os.environ))
    texts = json.loads(quiet)
    assert all(texts)
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])  # the machine is busy for the second one
    try:
        busy = answer(1, 2, {**os.environ, "SIMKIT_PADDING": "x" * 5000})
    finally:
        hog.kill()
        hog.wait()
    assert busy.encode() == quiet.encode()
