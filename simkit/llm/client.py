"""`LLMClient`: the layers every backend shares.

- cache: every call is keyed by a hash of (model, messages, schema, params, sample slot);
  modes `off`, `use` (hits reused, misses called) and `replay` (a miss is an error);
- concurrency: one semaphore per client (= per endpoint), held only while a request is
  in flight, released while a retry waits;
- faults: per-attempt timeout, retries with exponential backoff and full jitter, and a
  deadline per call across all its attempts and waits (a hung endpoint gives up within it);
- structured output: pydantic model -> JSON schema -> validation, bounded repair by re-asking,
  then a `parse_failure` event and `Completion(ok=False)` so the plugin takes its fallback;
- tool calls: `tools=[ToolSpec...]` are sent natively where the backend can, emulated with a
  structured answer where it cannot (`simkit.llm.tools`); arguments are validated per call;
- accounting: tokens, latency, hits, retries, in-flight count (read by the progress display).

The client is built with its collaborators (`ClientHooks`: where cached answers are looked
up, where call rows and events go, which agent is calling); the engine supplies them.

The sample slot is (agent id, n), n counting identical requests by the same agent in this
run, so two agents asking the same thing at temperature > 0 keep distinct answers, and a
rerun of the same config finds every answer in the cache. The run seed is part of the key
too: a sweep over seeds draws a fresh sample per seed instead of reusing seed 1's answers.
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
from simkit.llm import tools as emulation
from simkit.llm.base import (
    CHOICE_KEYWORDS,
    Backend,
    Completion,
    LLMRequest,
    Messages,
    PermanentLLMError,
    RawCompletion,
    ToolCall,
    ToolChoice,
    ToolSpec,
    ToolsRejected,
    TransientLLMError,
    requires_call,
    text_of,
)
from simkit.llm.jsonfix import extract_json
from simkit.memo import per_object

CacheLookup = Callable[[str], "dict | None"]
CallSink = Callable[[dict], None]
EventSink = Callable[[str, str | None, dict], None]

# The run's LLM accounting, as named in the `runs` table and the `llm.*` final metrics.
COUNTERS = ("llm_calls", "cache_hits", "retries", "parse_failures", "tokens_in", "tokens_out")


@dataclass
class ClientHooks:
    """What the client needs from the run it serves; the defaults serve a client on its own
    (no cache, nothing recorded)."""

    lookup: CacheLookup = lambda _key: None
    record_call: CallSink = lambda _row: None
    record_event: EventSink = lambda _kind, _agent, _payload: None
    current_agent: Callable[[], "str | None"] = lambda: None
    replaying: Callable[[], bool] = lambda: False  # a resume re-executing committed ticks: answers must be stored


@dataclass
class LLMStats:
    """Live counters (one object can be shared by the clients of all roles of a run)."""

    llm_calls: int = 0  # requests answered by the backend (not the cache)
    cache_hits: int = 0
    retries: int = 0
    parse_failures: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    in_flight: int = 0
    started: float = field(default_factory=time.monotonic)

    def totals(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTERS}

    def calls_per_second(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.llm_calls / elapsed if elapsed > 0 else 0.0


def stable_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def request_hash(model: str, request: LLMRequest, messages_json: str | None = None) -> str:
    """Hash of what determines an answer: model, messages, schema and sampling params.

    The hashed text is `stable_json` of {messages, model, params, schema[, tool_choice,
    tools]}, put together from its parts (keys in sorted order) so that the messages are
    serialized once per call (the call's record reuses them) and a schema once per model:
    the same bytes as serializing the whole dict."""
    params = stable_json({"max_tokens": request.max_tokens, "temperature": request.temperature})
    text = (f'{{"messages":{messages_json or stable_json(request.messages)},"model":{stable_json(model)},'
            f'"params":{params},"schema":{schema_text(request.schema_json)}')
    if request.tools:  # only then, so the keys of tool-free calls stay what they always were
        tools = [tool.openai() for tool in request.tools]
        text += f',"tool_choice":{stable_json(request.tool_choice)},"tools":{stable_json(tools)}'
    return hashlib.sha256((text + "}").encode()).hexdigest()


@per_object(limit=10_000)
def schema_text(schema_json: dict | None) -> str:
    """`stable_json` of a schema, once per schema object (`schema_of` hands out one per model)."""
    return stable_json(schema_json)


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
        deadline: float | None = None,
        retries: int = 4,
        repair_attempts: int = 1,
        temperature: float = 0.7,
        max_tokens: int = 256,
        seed: int = 0,
        backoff_base: float = 0.5,
        backoff_cap: float = 20.0,
        hooks: ClientHooks | None = None,
        stats: LLMStats | None = None,
    ):
        self.backend = backend
        self.cache_mode = cache_mode
        self.timeout = timeout
        self.deadline = deadline if deadline is not None else 2 * timeout
        self.retries = retries
        self.repair_attempts = repair_attempts
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.seed = seed
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.hooks = hooks or ClientHooks()
        self.stats = stats or LLMStats()
        self.max_concurrency = max_concurrency
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._slots: dict[tuple[str | None, str], int] = defaultdict(int)
        self._jitter = random.Random(seed)  # jitter only shapes waiting, never results

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
        tools: "list[ToolSpec] | tuple[ToolSpec, ...] | None" = None,
        tool_choice: ToolChoice = "auto",
    ) -> Completion:
        """Ask once (plus bounded repairs). Never raises for a bad answer: check `.ok`.
        With `tools`, the answer's `tool_calls` hold the calls the model asked for, each with
        its validated arguments or an error to show the model."""
        if agent_id is None:
            agent_id = self.hooks.current_agent()
        if tools and tool_choice not in CHOICE_KEYWORDS and all(t.name != tool_choice for t in tools):
            raise ValueError(f"tool_choice {tool_choice!r} is neither auto/required/none nor one of the tools")
        request = LLMRequest(
            messages=list(messages),
            purpose=purpose,
            schema=schema,
            schema_json=schema_of(schema) if schema else None,
            temperature=self.temperature if temperature is None else temperature,
            max_tokens=self.max_tokens if max_tokens is None else max_tokens,
            agent_id=agent_id,
            tools=tuple(tools or ()),
            tool_choice=tool_choice,
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
        completion.asks = attempt + 1
        if schema is not None and not completion.ok:
            self.stats.parse_failures += 1
            self.hooks.record_event(
                "parse_failure",
                agent_id,
                {"purpose": purpose, "error": completion.error, "answer": completion.text[:500]},
            )
        return completion

    async def _ask(self, request: LLMRequest) -> Completion:
        messages_json = stable_json(request.messages)
        base = request_hash(self.model, request, messages_json)
        n = self._slots[(request.agent_id, base)]
        self._slots[(request.agent_id, base)] += 1
        slot = slot_hash(base, f"{request.agent_id}#{n}")
        # The run seed is part of the cache key: another seed is another sample, not a
        # cache hit of the first run's answer (the sampling seed mixes it in too).
        key = slot_hash(slot, f"seed={self.seed}")
        seed = int(slot[:8], 16) ^ (self.seed & 0xFFFFFFFF)
        request = LLMRequest(**{**request.__dict__, "seed": seed})

        hit = None
        replaying = self.hooks.replaying()
        if self.cache_mode in ("use", "replay") or replaying:
            hit = self.hooks.lookup(key)
        if hit is not None:
            self.stats.cache_hits += 1
            raw = RawCompletion(
                text=hit["text"], tokens_in=hit["tokens_in"], tokens_out=hit["tokens_out"], tool_calls=hit.get("tool_calls") or []
            )
            return self._finish(request, key, raw, messages_json, latency_ms=0.0, cached=True, attempts=0)
        if self.cache_mode == "replay" or replaying:
            raise ReplayMiss(
                f"cache mode replay: no stored answer for a '{request.purpose}' call of agent "
                f"{request.agent_id} (request {key[:12]}); run with llm.cache=use to call the model"
            )
        raw, latency_ms, attempts = await self._call_with_retries(request, key)
        return self._finish(request, key, raw, messages_json, latency_ms=latency_ms, cached=False, attempts=attempts)

    async def _generate(self, request: LLMRequest, key: str) -> RawCompletion:
        """The backend's answer; tool calls emulated when the backend has none of its own."""
        if request.tools and not self.backend.native_tools:
            raw = await self.backend.generate(emulation.emulated(request))
            return emulation.decoded(raw, f"call_{key[:12]}")
        return await self.backend.generate(request)

    async def _call_with_retries(self, request: LLMRequest, key: str) -> tuple[RawCompletion, float, int]:
        """Attempts until one answers, `retries` are used up or the attempts and the backoff
        waits between them have taken `deadline` seconds (each attempt gets at most what is
        left). Time queued for a concurrency slot does not count: that is load, not a fault."""
        attempt = 0
        used = 0.0  # seconds of the deadline spent in attempts and backoff waits
        tools_rejected = False
        while True:
            attempt += 1
            async with self._semaphore:
                self.stats.in_flight += 1
                started = time.perf_counter()
                limit = min(self.timeout, max(0.0, self.deadline - used))
                try:
                    # not `wait_for`: on Python 3.11 it wraps the call in a new task, queued
                    # behind every other ready one, so a wave's requests all left only after
                    # the whole wave had been prepared (bench/README.md, "Requests left only after
                    # the whole wave was prepared")
                    async with asyncio.timeout(limit):
                        raw = await self._generate(request, key)
                    latency_ms = (time.perf_counter() - started) * 1000
                    self.stats.llm_calls += 1
                    return raw, latency_ms, attempt
                except asyncio.TimeoutError:
                    error: Exception = TransientLLMError(f"{self._where()} did not answer within {limit:.3g}s")
                except TransientLLMError as exc:
                    error = exc
                except ToolsRejected as exc:
                    if tools_rejected or not self.backend.native_tools:
                        # Emulated calls were refused too: nothing left to fall back to.
                        raise LLMUnavailable(f"{self.backend.name} backend ({self.model}): {exc}") from None
                    tools_rejected = True
                    self.backend.native_tools = False  # remembered for the rest of the run
                    attempt -= 1
                    continue
                except PermanentLLMError as exc:
                    raise LLMUnavailable(f"{self.backend.name} backend ({self.model}): {exc}") from None
                finally:
                    self.stats.in_flight -= 1
                    used += time.perf_counter() - started
            delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
            wait = self._jitter.uniform(0, delay)  # full jitter
            if attempt > self.retries or used + wait >= self.deadline:
                why = (f"after {attempt} attempts" if attempt > self.retries else
                       f"at the {self.deadline:g}s deadline (llm.deadline) after {attempt} attempt{'s' if attempt > 1 else ''}")
                raise LLMUnavailable(f"{self.backend.name} backend ({self.model}): gave up {why}: {error}")
            self.stats.retries += 1
            used += wait
            await asyncio.sleep(wait)  # the semaphore is released while waiting

    def _where(self) -> str:
        """The endpoint(s) a call went to, for error messages."""
        url = getattr(self.backend, "base_url", None)
        if url:
            return str(url)
        endpoints = getattr(self.backend, "endpoints", None)
        if endpoints:
            return ", ".join(str(e.url) for e in endpoints)
        return f"the {self.backend.name} backend"

    def _finish(
        self, request: LLMRequest, key: str, raw: RawCompletion, messages_json: str, *, latency_ms: float, cached: bool,
        attempts: int,
    ) -> Completion:
        tokens_in = raw.tokens_in if raw.tokens_in is not None else estimate_tokens(request.messages)
        tokens_out = raw.tokens_out if raw.tokens_out is not None else max(1, len(raw.text) // 4)
        parsed, error = None, None
        if request.schema is not None:
            parsed, error = parse_structured(raw.text, request.schema)
            if error is not None and raw.meta.get("finish_reason") == "length":
                error = truncation_error(tokens_out)
        calls = [parse_tool_call(c, request.tools) for c in raw.tool_calls]
        if request.tools and requires_call(request.tool_choice):
            if not calls:
                error = "the answer called no tool, and a tool call was required"
            elif request.tool_choice != "required" and calls[0].name != request.tool_choice:
                error = f"the answer called {calls[0].name}, and {request.tool_choice} was required"
        ok = error is None
        response: dict[str, Any] = {"text": raw.text}
        if raw.tool_calls:
            response["tool_calls"] = raw.tool_calls
        if not cached:
            self.stats.tokens_in += tokens_in
            self.stats.tokens_out += tokens_out
        self.hooks.record_call(
            {
                "purpose": request.purpose,
                "agent_id": request.agent_id,
                "request_hash": key,
                "model": self.model,
                "params_json": f'{{"max_tokens":{stable_json(request.max_tokens)},"schema":{schema_text(request.schema_json)},'
                               f'"temperature":{stable_json(request.temperature)}}}',
                "messages_json": messages_json,
                "response_json": stable_json(response),
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
            tool_calls=calls,
        )

    async def aclose(self) -> None:
        await self.backend.aclose()


@functools.cache
def schema_of(model: type[BaseModel]) -> dict:
    """JSON schema of a pydantic model; built once per model (it costs ~0.1 ms each time)."""
    return model.model_json_schema()


def estimate_tokens(messages: Messages) -> int:
    return max(1, sum(len(text_of(m)) for m in messages) // 4)


def parse_tool_call(raw: dict, tools: tuple[ToolSpec, ...]) -> ToolCall:
    """A wire tool call with its arguments validated against the tool's model. A call of an
    unknown tool, or with arguments that are not valid, carries an error, never raises."""
    name = str(raw.get("name", ""))
    text = raw.get("arguments") or "{}"
    arguments = extract_json(text) if isinstance(text, str) else text
    call = ToolCall(id=str(raw.get("id") or ""), name=name, arguments=arguments if isinstance(arguments, dict) else {})
    tool = next((t for t in tools if t.name == name), None)
    if tool is None:
        call.error = f"unknown tool {name!r}; the tools are: {', '.join(t.name for t in tools)}"
    elif not isinstance(arguments, dict):
        call.error = "the arguments are not a JSON object"
    else:
        try:
            call.parsed = tool.parameters.model_validate(arguments)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(arguments)"
            call.error = f"invalid arguments for {name}: {where}: {first['msg']}"
    return call


def truncation_error(tokens_out: int) -> str:
    """Why an answer cut off at the token limit does not parse: it was cut, not malformed."""
    return (
        f"the answer was cut off at the token limit after {tokens_out} tokens (finish_reason length) "
        "before its JSON was complete; raise llm.max_tokens or tighten the schema's maxLength"
    )


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
