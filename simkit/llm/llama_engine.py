"""A GGUF model in this process: one llama.cpp context driven by one worker thread.

The worker does continuous batching: up to `n_parallel` requests share the context, each in
its own KV-cache sequence, and every `llama_decode` carries one new token for each request
that is generating plus prompt tokens of requests that are starting. With `n_parallel=1`
requests simply run one after another. `llama_decode` releases the GIL, so the event loop
(progress display, other agents' bookkeeping) keeps running while the model computes.

Sampling per request: repetition penalty 1.15 over the last 64 tokens, top-k 40, top-p 0.95, min-p 0.05, temperature, then a seeded draw
(greedy at temperature 0). Structured requests carry a GBNF grammar, checked lazily as
llama.cpp's own `common_sampler` does: the sampled token is tested against the grammar
alone, and only when it is rejected is the grammar applied to the whole vocabulary (which
costs about as much as a decode step for a 49k-token vocabulary) before sampling again.

Prompt prefix reuse (`prefix_cache=True`, the default): a finished request leaves its
prompt's KV cache in its sequence, and the next request admitted there decodes only the
tokens after the longest prefix it shares with that prompt (at least its last token, whose
logits start the answer). Agents' prompts laid out stable-first (rules, persona, then the
changing state and page) share most of their tokens with the call before. Same request, same
answer: llama.cpp's sums depend on how a prompt is cut into batches, so prompts are always
read in chunks of `PROMPT_CHUNK` tokens at fixed positions (0-63, 64-127, ...) and a reused
prefix ends on a chunk boundary; a request then goes through exactly the same decodes whether
its prefix was cached or not (with `n_parallel=1`; batching requests together never had
that property).

The model is loaded without llama.cpp's extra buffer types unless `extra_buffers=True`
(`simkit.llm.cpu`: the AMX one segfaults). `LocalBackend` runs this engine in a child
process (`llama_proc.py`), so a native crash cannot take the simulation down silently.
"""

from __future__ import annotations

import ctypes
import logging
import math
import queue
import threading
import time
from typing import Any, Callable

import llama_cpp
import numpy as np
from llama_cpp import _internals as internals
from llama_cpp._logger import logger as _llama_logger
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from simkit.llm.cpu import model_params
from simkit.llm.llama_jobs import EngineError, GenResult, Job

__all__ = ["EngineError", "GenResult", "Job", "LlamaEngine"]

# llama.cpp logs every tensor it loads at INFO level; keep only its errors.
_llama_logger.setLevel(logging.ERROR)

# Used when a GGUF file carries no chat template: ChatML, which SmolLM2 and many others use.
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


# The repetition penalty: `llama_sampler_init_penalties(n_vocab, last_n, repeat, freq, present)`,
# the five-argument form the vendored llama.cpp declares (site-packages/include/llama.h) and
# llama-cpp-python binds. simkit once called it through a four-argument prototype; that left
# `last_n` to whatever the second integer register held, which differed between processes, so
# the same request and seed sampled different text in two processes (issue 20, item 12).
def _init_penalties(n_vocab: int, last_n: int, repeat: float, freq: float, present: float):
    return llama_cpp.llama_sampler_init_penalties(n_vocab, last_n, repeat, freq, present)


REPEAT_LAST_N = 64
REPEAT_PENALTY = 1.15  # without it SmolLM2 fills a string with one emoji until max_tokens
PROMPT_CHUNK = 64  # prompt tokens per decode, at fixed positions (see the module docstring)


class _Slot:
    """One request in flight: its KV sequence, samplers and output so far."""

    def __init__(self, seq: int, job: Job, engine: "LlamaEngine"):
        self.seq = seq
        self.job = job
        self.pending = list(job.prompt)  # prompt tokens not yet decoded
        self.n_past = 0
        self.out: list[int] = []
        self.last: int | None = None  # sampled token still to be decoded
        self.started = time.perf_counter()
        self.chain = internals.LlamaSampler()
        if job.temperature <= 0:
            self.chain.add_greedy()
        else:
            llama_cpp.llama_sampler_chain_add(
                self.chain.sampler, _init_penalties(engine.n_vocab, REPEAT_LAST_N, REPEAT_PENALTY, 0.0, 0.0))
            self.chain.add_top_k(40)
            self.chain.add_top_p(0.95, 1)
            self.chain.add_min_p(0.05, 1)
            self.chain.add_temp(job.temperature)
            self.chain.add_dist(job.seed & 0xFFFFFFFF)
        self.grammar = None
        if job.grammar is not None:
            self.grammar = llama_cpp.llama_sampler_init_grammar(engine.vocab, job.grammar.encode(), b"root")
            if not self.grammar:
                raise EngineError("llama.cpp rejected the grammar built from the answer schema")

    def close(self) -> None:
        self.chain.close()
        if self.grammar:
            llama_cpp.llama_sampler_free(self.grammar)
            self.grammar = None


class LlamaEngine:
    """Owns the model, the context and the worker thread. `submit()` is thread-safe."""

    def __init__(
        self, path: str, *, n_ctx: int = 2048, n_threads: int = 2, n_parallel: int = 1, n_batch: int = 512,
        extra_buffers: bool = False, prefix_cache: bool = True,
    ):
        self.path = path
        self.prefix_cache = prefix_cache
        self._kv: list[list[int]] = [[] for _ in range(n_parallel)]  # tokens whose KV each sequence holds
        self.reused_tokens = 0  # prompt tokens not decoded again thanks to the prefix cache
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.n_parallel = n_parallel
        self.n_batch = n_batch
        llama_cpp.llama_backend_init()
        params = model_params(extra_buffers)
        self.use_extra_bufts = bool(params.use_extra_bufts)
        self.model = internals.LlamaModel(path_model=path, params=params, verbose=True)
        self.vocab = self.model.vocab
        self.n_vocab = self.model.n_vocab()
        cparams = llama_cpp.llama_context_default_params()
        cparams.n_ctx = n_ctx * n_parallel
        cparams.n_batch = n_batch
        cparams.n_ubatch = n_batch
        cparams.n_seq_max = n_parallel
        cparams.kv_unified = False
        cparams.n_threads = n_threads
        cparams.n_threads_batch = n_threads
        self.ctx = internals.LlamaContext(model=self.model, params=cparams, verbose=True)
        self.batch = internals.LlamaBatch(n_tokens=n_batch, embd=0, n_seq_max=1, verbose=True)
        self.formatter = self._chat_formatter()
        self._candidates = internals.LlamaTokenDataArray(n_vocab=self.n_vocab)
        self._one = (llama_cpp.llama_token_data * 1)()
        self._one_arr = llama_cpp.llama_token_data_array(data=self._one, size=1, selected=-1, sorted=False)
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="simkit-llama", daemon=True)
        self._thread.start()

    # -- prompt side ---------------------------------------------------------------------

    def _chat_formatter(self) -> Jinja2ChatFormatter:
        meta = self.model.metadata()
        template = meta.get("tokenizer.chat_template") or CHATML
        eos = self.model.token_eos()
        bos = self.model.token_bos()
        return Jinja2ChatFormatter(
            template=template,
            eos_token=self.model.token_get_text(eos) if eos != -1 else "",
            bos_token=self.model.token_get_text(bos) if bos != -1 else "",
            stop_token_ids=[eos],
        )

    def format_chat(self, messages: list[dict[str, str]]) -> str:
        """The prompt text the model sees (the GGUF's own chat template, generation prompt added)."""
        return self.formatter(messages=messages).prompt

    def tokenize(self, text: str) -> list[int]:
        # The chat template writes BOS itself when the model wants one; special tokens parse.
        return self.model.tokenize(text.encode("utf-8"), False, True)

    def settings(self) -> dict[str, Any]:
        """How this engine was loaded (for `simkit doctor` and tests)."""
        return {"n_ctx": self.n_ctx, "n_threads": self.n_threads, "n_parallel": self.n_parallel,
                "use_extra_bufts": self.use_extra_bufts, "prefix_cache": self.prefix_cache,
                "reused_tokens": self.reused_tokens}

    def chat_job(
        self, messages: list[dict[str, str]], schema_json: dict[str, Any] | None, max_tokens: int,
        temperature: float, seed: int, done: Callable[[GenResult | Exception], None],
    ) -> Job:
        """A job for these chat messages: the GGUF's chat template, tokens, and the grammar
        of the answer's JSON schema (None for free text). A structured answer's token budget
        is raised to its grammar's worst case, so that a schema-valid answer is never cut off
        (`answer_token_budget`; the context size still caps it)."""
        from simkit.llm.grammar import schema_to_gbnf
        from simkit.llm.schema_bounds import answer_token_budget

        prompt = self.tokenize(self.format_chat(messages))
        grammar = schema_to_gbnf(schema_json) if schema_json is not None else None
        if grammar is not None:
            max_tokens = answer_token_budget(grammar, max_tokens)
        return Job(prompt, max_tokens, temperature, seed, grammar, done)

    def start(self, messages, schema_json, max_tokens, temperature, seed, done) -> Callable[[], None]:
        """Queue a chat request; `done` is called from the worker thread with a GenResult or
        an EngineError. Returns the function that cancels it."""
        job = self.chat_job(messages, schema_json, max_tokens, temperature, seed, done)
        self.submit(job)
        return job.cancelled.set

    # -- the worker ----------------------------------------------------------------------

    def submit(self, job: Job) -> None:
        if not self._thread.is_alive():
            raise EngineError("the local model worker has stopped")
        self._queue.put(job)

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=60)
        if not self._thread.is_alive():
            self.batch.close()
            self.ctx.close()
            self.model.close()

    def _run(self) -> None:
        slots: list[_Slot | None] = [None] * self.n_parallel
        stopping = False
        while True:
            busy = any(slots)
            # Admit new requests into free sequences (block only when idle).
            while not stopping and None in slots:
                try:
                    job = self._queue.get(block=not busy)
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                    break
                seq = self._free_seq(slots, job.prompt)
                slot = self._admit(seq, job)
                if slot is not None:
                    slots[seq] = slot
                    busy = True
            for i, slot in enumerate(slots):
                if slot is not None and slot.job.cancelled.is_set():
                    self._release(slots, i)
            if not any(slots):
                if stopping:
                    break
                continue
            try:
                self._step(slots)
            except Exception as exc:  # a decode failure fails the requests in flight, not the worker
                for i, slot in enumerate(slots):
                    if slot is not None:
                        slot.job.done(EngineError(f"llama.cpp decode failed: {exc}", retryable=True))
                        self._release(slots, i)
        while True:  # fail whatever is still queued
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job.done(EngineError("the local model was closed", retryable=False))

    def _admit(self, seq: int, job: Job) -> _Slot | None:
        if job.cancelled.is_set():
            return None
        n = len(job.prompt)
        if n + 1 >= self.n_ctx:
            job.done(EngineError(f"the prompt has {n} tokens, more than llm.n_ctx={self.n_ctx} allows; raise llm.n_ctx"))
            return None
        job.max_tokens = max(1, min(job.max_tokens, self.n_ctx - n - 1))
        try:
            slot = _Slot(seq, job, self)
        except EngineError as exc:
            job.done(exc)
            return None
        keep = min(_shared(self._kv[seq], job.prompt), n - 1) if self.prefix_cache else 0
        keep -= keep % PROMPT_CHUNK
        llama_cpp.llama_memory_seq_rm(self.ctx.memory, seq, keep, -1)
        self._kv[seq] = list(job.prompt)
        del slot.pending[:keep]
        slot.n_past = keep
        self.reused_tokens += keep
        return slot

    def _free_seq(self, slots: list["_Slot | None"], prompt: list[int]) -> int:
        """The free sequence whose cached prompt shares the longest prefix with `prompt`."""
        free = [i for i, s in enumerate(slots) if s is None]
        return max(free, key=lambda i: (_shared(self._kv[i], prompt), -i))

    def _release(self, slots: list[_Slot | None], i: int) -> None:
        slot = slots[i]
        if slot is not None:
            slot.close()
            if self.prefix_cache and slot.job.finished:
                # keep the prompt's KV for the next request; drop the answer's tokens
                llama_cpp.llama_memory_seq_rm(self.ctx.memory, slot.seq, len(slot.job.prompt), -1)
            else:
                llama_cpp.llama_memory_seq_rm(self.ctx.memory, slot.seq, -1, -1)
                self._kv[slot.seq] = []
        slots[i] = None

    def _step(self, slots: list[_Slot | None]) -> None:
        """One llama_decode: a token for each generating request, then prompt chunks."""
        b = self.batch.batch
        n = 0
        wants: list[tuple[int, int]] = []  # (slot index, batch index of its logits)
        for i, slot in enumerate(slots):
            if slot is not None and slot.last is not None:
                b.token[n], b.pos[n], b.n_seq_id[n], b.logits[n] = slot.last, slot.n_past, 1, True
                b.seq_id[n][0] = slot.seq
                slot.n_past += 1
                slot.last = None
                wants.append((i, n))
                n += 1
        for i, slot in enumerate(slots):
            if slot is None or not slot.pending or n >= self.n_batch:
                continue
            take = slot.pending[: min(self.n_batch - n, PROMPT_CHUNK - slot.n_past % PROMPT_CHUNK)]
            del slot.pending[: len(take)]
            for k, tok in enumerate(take):
                b.token[n], b.pos[n], b.n_seq_id[n], b.logits[n] = tok, slot.n_past + k, 1, False
                b.seq_id[n][0] = slot.seq
                n += 1
            slot.n_past += len(take)
            if not slot.pending:
                b.logits[n - 1] = True
                wants.append((i, n - 1))
        b.n_tokens = n
        if n == 0:
            return
        rc = llama_cpp.llama_decode(self.ctx.ctx, b)
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")
        for i, idx in wants:
            slot = slots[i]
            assert slot is not None
            tok = self._sample(slot, idx)
            if llama_cpp.llama_vocab_is_eog(self.vocab, tok):
                self._finish(slots, i)
                continue
            slot.out.append(tok)
            if len(slot.out) >= slot.job.max_tokens:
                self._finish(slots, i, "length")
            else:
                slot.last = tok

    def _sample(self, slot: _Slot, idx: int) -> int:
        tok = llama_cpp.llama_sampler_sample(slot.chain.sampler, self.ctx.ctx, idx)
        if slot.grammar is None:
            return tok
        one = self._one[0]
        one.id, one.logit, one.p = tok, 0.0, 0.0
        self._one_arr.size, self._one_arr.selected = 1, -1
        llama_cpp.llama_sampler_apply(slot.grammar, ctypes.byref(self._one_arr))
        if math.isinf(self._one[0].logit):  # rejected: constrain the whole vocabulary, sample again
            logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self.ctx.ctx, idx), shape=(self.n_vocab,))
            cand = self._candidates
            cand.copy_logits(logits)
            cand.candidates.selected = -1
            llama_cpp.llama_sampler_apply(slot.grammar, ctypes.byref(cand.candidates))
            llama_cpp.llama_sampler_apply(slot.chain.sampler, ctypes.byref(cand.candidates))
            tok = int(cand.candidates_data.id[cand.candidates.selected])
            llama_cpp.llama_sampler_accept(slot.chain.sampler, tok)
        llama_cpp.llama_sampler_accept(slot.grammar, tok)
        return tok

    def _finish(self, slots: list[_Slot | None], i: int, reason: str = "stop") -> None:
        slot = slots[i]
        assert slot is not None
        slot.job.finished = True
        text = self.model.detokenize(slot.out, special=False).decode("utf-8", errors="replace")
        now = time.perf_counter()
        slot.job.done(
            GenResult(
                text=text,
                tokens_in=len(slot.job.prompt),
                tokens_out=len(slot.out),
                queued_s=slot.started - slot.job.submitted,
                run_s=now - slot.started,
                finish_reason=reason,
            )
        )
        self._release(slots, i)


def _shared(a: list[int], b: list[int]) -> int:
    """How many leading tokens `a` and `b` have in common."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i
