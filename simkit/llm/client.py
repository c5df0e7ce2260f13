"""`LLMClient`: the layers every backend shares.

- cache: every call is keyed by a hash of (model, messages, schema, params, sample slot);
  modes `off`, `use` (hits reused, misses called) and `replay` (a miss is an error);
- concurrency: one semaphore per client (= per endpoint), held only while a request is
  in flight, released while a retry waits;
- faults: per-call timeout, retries with exponential backoff and full jitter;
- structured output: pydantic model -> JSON schema -> validation, bounded repair by re-asking,
  then a `parse_failure` event and `Completion(ok=False)` so the plugin takes its fallback;
- accounting: tokens, latency, hits, retries, in-flight count (read by the progress display).

The sample slot is (agent id, n), n counting identical requests by the same agent in this
run, so two agents asking the same thing at temperature > 0 keep distinct answers, and a
rerun of the same config finds every answer in the cache.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import BaseModel, ValidationError

from simkit.errors import LLMUnavailable, ReplayMiss
from simkit.llm.base import (
    Backend,
    Completion,
    LLMRequest,
    Messages,
    PermanentLLMError,
    RawCompletion,
    TransientLLMError,
)
from simkit.llm.jsonfix import extract_json

CacheLookup = Callable[[str], "dict | None"]
CallSink = Callable[[dict], None]
EventSink = Callable[[str, str | None, dict], None]


@dataclass
class LLMStats:
    calls: int = 0  # requests answered by the backend (not the cache)
    cache_hits: int = 0
    in_flight: int = 0
    retries: int = 0
    parse_failures: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    started: float = field(default_factory=time.monotonic)

    def calls_per_second(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.calls / elapsed if elapsed > 0 else 0.0


def stable_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def request_hash(model: str, request: LLMRequest) -> str:
    """Hash of what determines an answer: model, messages, schema and sampling params."""
    payload = {
        "model": model,
        "messages": request.messages,
        "schema": request.schema_json,
        "params": {"temperature": request.temperature, "max_tokens": request.max_tokens},
    }
    return hashlib.sha256(stable_json(payload).encode()).hexdigest()


def slot_hash(base: str, slot: str) -> str:
    """The cache key: the request hash plus the sample slot (agent, n)."""
    return hashlib.sha256(f"{base}|{slot}".encode()).hexdigest()


class LLMClient:
    """One async `complete()` for agents, whatever the backend."""

    def __init__(
        self,
        backend: Backend,
        *,
        cache_mode: str = "use",
        max_concurrency: int = 8,
        timeout: float = 60.0,
        retries: int = 4,
        repair_attempts: int = 1,
        temperature: float = 0.7,
        max_tokens: int = 256,
        seed: int = 0,
        backoff_base: float = 0.5,
        backoff_cap: float = 20.0,
    ):
        self.backend = backend
        self.cache_mode = cache_mode
        self.timeout = timeout
        self.retries = retries
        self.repair_attempts = repair_attempts
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.seed = seed
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.stats = LLMStats()
        self.max_concurrency = max_concurrency
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._slots: dict[tuple[str | None, str], int] = defaultdict(int)
        self._jitter = random.Random(seed)  # jitter only shapes waiting, never results
        # Wired by the engine: where answers are looked up and where records go.
        self.lookup: CacheLookup = lambda _hash: None
        self.force_lookup = False  # set while a resume re-executes committed ticks
        self.record_call: CallSink = lambda _row: None
        self.record_event: EventSink = lambda _kind, _agent, _payload: None
        self.context: Callable[[], dict] = lambda: {}

    @property
    def model(self) -> str:
        return self.backend.model

    async def complete(
        self,
        messages: Messages,
        *,
        schema: type[BaseModel] | None = None,
        purpose: str = "chat",
        agent_id: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> Completion:
        """Ask once (plus bounded repairs). Never raises for a bad answer: check `.ok`."""
        if agent_id is None:
            agent_id = self.context().get("agent_id")
        request = LLMRequest(
            messages=list(messages),
            purpose=purpose,
            schema=schema,
            schema_json=schema_of(schema) if schema else None,
            temperature=self.temperature if temperature is None else temperature,
            max_tokens=self.max_tokens if max_tokens is None else max_tokens,
            agent_id=agent_id,
        )
        completion = await self._ask(request)
        attempt = 0
        while schema is not None and not completion.ok and attempt < self.repair_attempts:
            attempt += 1
            repair = LLMRequest(
                messages=request.messages
                + [
                    {"role": "assistant", "content": completion.text[:2000]},
                    {
                        "role": "user",
                        "content": "That answer was not valid JSON for the required schema "
                        f"({completion.error}). Answer again with only the JSON object.",
                    },
                ],
                purpose=f"{purpose}:repair",
                schema=schema,
                schema_json=request.schema_json,
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                agent_id=agent_id,
            )
            completion = await self._ask(repair)
        if schema is not None and not completion.ok:
            self.stats.parse_failures += 1
            self.record_event(
                "parse_failure",
                agent_id,
                {"purpose": purpose, "error": completion.error, "answer": completion.text[:500]},
            )
        return completion

    async def _ask(self, request: LLMRequest) -> Completion:
        base = request_hash(self.model, request)
        n = self._slots[(request.agent_id, base)]
        self._slots[(request.agent_id, base)] += 1
        key = slot_hash(base, f"{request.agent_id}#{n}")
        seed = int(key[:8], 16) ^ (self.seed & 0xFFFFFFFF)
        request = LLMRequest(**{**request.__dict__, "seed": seed})

        hit = None
        if self.cache_mode in ("use", "replay") or self.force_lookup:
            hit = self.lookup(key)
        if hit is not None:
            self.stats.cache_hits += 1
            raw = RawCompletion(text=hit["text"], tokens_in=hit["tokens_in"], tokens_out=hit["tokens_out"])
            return self._finish(request, key, raw, latency_ms=0.0, cached=True, attempts=0)
        if self.cache_mode == "replay" or self.force_lookup:
            raise ReplayMiss(
                f"cache mode replay: no stored answer for a '{request.purpose}' call of agent "
                f"{request.agent_id} (request {key[:12]}); run with llm.cache=use to call the model"
            )
        raw, latency_ms, attempts = await self._call_with_retries(request)
        return self._finish(request, key, raw, latency_ms=latency_ms, cached=False, attempts=attempts)

    async def _call_with_retries(self, request: LLMRequest) -> tuple[RawCompletion, float, int]:
        attempt = 0
        while True:
            attempt += 1
            async with self._semaphore:
                self.stats.in_flight += 1
                started = time.perf_counter()
                try:
                    raw = await asyncio.wait_for(self.backend.generate(request), self.timeout)
                    latency_ms = (time.perf_counter() - started) * 1000
                    self.stats.calls += 1
                    return raw, latency_ms, attempt
                except asyncio.TimeoutError:
                    error: Exception = TransientLLMError(f"timed out after {self.timeout:g}s")
                except TransientLLMError as exc:
                    error = exc
                except PermanentLLMError as exc:
                    raise LLMUnavailable(f"{self.backend.name} backend ({self.model}): {exc}") from None
                finally:
                    self.stats.in_flight -= 1
            if attempt > self.retries:
                raise LLMUnavailable(
                    f"{self.backend.name} backend ({self.model}): gave up after {attempt} attempts: {error}"
                )
            self.stats.retries += 1
            delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
            await asyncio.sleep(self._jitter.uniform(0, delay))  # full jitter, semaphore released

    def _finish(
        self, request: LLMRequest, key: str, raw: RawCompletion, *, latency_ms: float, cached: bool, attempts: int
    ) -> Completion:
        tokens_in = raw.tokens_in if raw.tokens_in is not None else estimate_tokens(request.messages)
        tokens_out = raw.tokens_out if raw.tokens_out is not None else max(1, len(raw.text) // 4)
        parsed, error = None, None
        if request.schema is not None:
            parsed, error = parse_structured(raw.text, request.schema)
        ok = error is None
        if not cached:
            self.stats.tokens_in += tokens_in
            self.stats.tokens_out += tokens_out
        self.record_call(
            {
                "purpose": request.purpose,
                "agent_id": request.agent_id,
                "request_hash": key,
                "model": self.model,
                "params_json": stable_json(
                    {"temperature": request.temperature, "max_tokens": request.max_tokens, "schema": request.schema_json}
                ),
                "messages_json": stable_json(request.messages),
                "response_json": stable_json({"text": raw.text}),
                "parsed_ok": int(ok),
                "tokens_in": tokens_in,
                "tokens_out": tokens_out,
                "latency_ms": round(latency_ms, 3),
                "cached": int(cached),
                "attempts": attempts,
            }
        )
        return Completion(
            text=raw.text,
            parsed=parsed,
            ok=ok,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            latency_ms=latency_ms,
            cached=cached,
            request_hash=key,
            error=error,
        )

    async def aclose(self) -> None:
        await self.backend.aclose()


@functools.cache
def schema_of(model: type[BaseModel]) -> dict:
    """JSON schema of a pydantic model; built once per model (it costs ~0.1 ms each time)."""
    return model.model_json_schema()


def estimate_tokens(messages: Messages) -> int:
    return max(1, sum(len(m.get("content", "")) for m in messages) // 4)


def parse_structured(text: str, schema: type[BaseModel]) -> tuple[BaseModel | None, str | None]:
    """Validate an answer against the schema; return (object, None) or (None, short reason)."""
    data = extract_json(text)
    if data is None:
        return None, "no JSON object found"
    try:
        return schema.model_validate(data), None
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(root)"
        return None, f"{where}: {first['msg']}"
