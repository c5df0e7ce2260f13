"""What turning off llama.cpp's extra buffer types costs on a CPU without AMX.

simkit loads every GGUF with `use_extra_bufts = False` (the AMX buffer type segfaults,
simkit/llm/cpu.py). On other x86 CPUs the extra buffer types are the CPU REPACK layouts,
which llama.cpp uses for Q4_0, Q4_K, IQ4_NL (and a few more) on AVX2, not for Q4_1. So
this measures the default SmolLM2 Q4_1 file and a Q4_0 copy of it (requantized here with
llama.cpp's own quantizer), each loaded with extra buffer types on and off, side by side in
interleaved rounds on the same requests:

    prompt   a ~225-token TrendSim-like agent prompt read, one token out (ms per call)
    decode   ms per generated token, from 64-token free-text answers (the prompt time taken out)

The engine is `LlamaEngine` in this process (no model process: this is about llama.cpp's
kernels). "repacked" is the CPU_REPACK buffer llama.cpp reports at load.

    python bench/extra_buffers.py [--rounds 3] [--calls 4] [--threads 1]
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from contextlib import redirect_stderr
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from llm_throughput import requests  # noqa: E402

from simkit.llm.llama_jobs import Job  # noqa: E402
from simkit.llm.local import default_model_path  # noqa: E402

QUANTIZE = """
import ctypes, sys, llama_cpp
p = llama_cpp.llama_model_quantize_default_params()
p.ftype, p.allow_requantize, p.nthread = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0, True, 2
sys.exit(llama_cpp.llama_model_quantize(sys.argv[1].encode(), sys.argv[2].encode(), ctypes.byref(p)))
"""


def q4_0_copy(folder: Path) -> Path:
    out = folder / "SmolLM2-135M-Instruct.Q4_0.gguf"
    subprocess.run([sys.executable, "-c", QUANTIZE, str(default_model_path()), str(out)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


def load(path: Path, extra: bool, threads: int):
    """A LlamaEngine, and the size of the repacked buffer llama.cpp reported while loading it."""
    from llama_cpp._logger import logger

    from simkit.llm.llama_engine import LlamaEngine

    log = io.StringIO()
    logger.setLevel(logging.INFO)
    try:
        with redirect_stderr(log):
            engine = LlamaEngine(str(path), n_threads=threads, extra_buffers=extra)
    finally:
        logger.setLevel(logging.ERROR)
    repacked = [line.split("=")[-1].strip() for line in log.getvalue().splitlines() if "REPACK model buffer size" in line]
    return engine, (repacked[0] if repacked else "none")


def run(engine, prompt: list[int], max_tokens: int) -> tuple[float, int]:
    box: list = []
    finished = threading.Event()
    engine.submit(Job(prompt, max_tokens, 0.0, 0, None, lambda result: (box.append(result), finished.set())))
    finished.wait()
    result = box[0]
    return result.run_s, result.tokens_out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print("$ python bench/extra_buffers.py " + " ".join(sys.argv[1:]))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, {args.threads} thread(s), "
          f"{args.rounds} interleaved rounds of {args.calls} calls; medians")
    with tempfile.TemporaryDirectory() as tmp:
        models = {"Q4_1 (default)": default_model_path(), "Q4_0 copy": q4_0_copy(Path(tmp))}
        engines = {}
        for name, path in models.items():
            for extra in (False, True):
                engines[(name, extra)] = load(path, extra, args.threads)
        prompts = {}
        prompt_ms: dict = {key: [] for key in engines}
        token_ms: dict = {key: [] for key in engines}
        for _ in range(args.rounds):
            for key, (engine, _) in engines.items():
                for i, messages in enumerate(requests(args.calls)):
                    prompt = prompts.setdefault((key[0], i), engine.tokenize(engine.format_chat(messages)))
                    read_s, _ = run(engine, prompt, 1)
                    total_s, n = run(engine, prompt, 64)
                    prompt_ms[key].append(read_s * 1000)
                    if n > 1:
                        token_ms[key].append((total_s - read_s) * 1000 / (n - 1))
        print(f"\n{'model':<16} {'extra bufts':>11} {'repacked':>10} {'prompt ms':>10} {'decode ms/tok':>14} {'prompt x':>9} {'decode x':>9}")
        for name in models:
            base_p = statistics.median(prompt_ms[(name, False)])
            base_t = statistics.median(token_ms[(name, False)])
            for extra in (False, True):
                p = statistics.median(prompt_ms[(name, extra)])
                t = statistics.median(token_ms[(name, extra)])
                print(f"{name:<16} {'on' if extra else 'off':>11} {engines[(name, extra)][1]:>10} {p:>10.1f} {t:>14.2f} "
                      f"{p / base_p:>9.2f} {t / base_t:>9.2f}")
        print("(x: time relative to extra buffer types off, the simkit default; below 1 means 'on' is faster)")
        for engine, _ in engines.values():
            engine.close()


if __name__ == "__main__":
    main()
