"""`EndpointPool`: one logical model served by several OpenAI-compatible endpoints.

    llm:
      model: qwen2.5-7b                  # the logical model: the cache key, the run record
      endpoints:
        - {base_url: http://gpu01:8000/v1, concurrency: 64}
        - {base_url: http://gpu02:8000/v1, concurrency: 64, weight: 2}
        - {base_url: https://api.example/v1, model: Qwen/Qwen2.5-7B-Instruct, api_key_env: EXAMPLE_KEY}

The pool is a `Backend`, so the client's cache, retries and accounting are unchanged and
the cache key is the logical model: a run on one endpoint and on four finds the same
cached answers. Which endpoint answered is a scheduling outcome (like a latency), never
part of an answer.

- Routing: a call goes to the healthy endpoint with the most free capacity,
  `weight x (concurrency - in flight)`; ties go to the endpoint listed first. When every
  endpoint is full the call waits for a free slot.
- Failover: a call that fails on one endpoint with a transient error (connection refused,
  429, 5xx, timeout, garbled body) is sent at once to another endpoint it has not tried;
  only when every endpoint failed does the client see the error (and retry with backoff).
- Health: `FAILS_TO_EJECT` consecutive failures take an endpoint out for a back-off period
  (2 s, doubling up to 60 s); when it ends one health probe (`GET /models`) puts it back or
  doubles the back-off. If every endpoint is out, calls go to the one due back first.
- Per-endpoint counters (`EndpointStats`): calls, errors, latency, times taken out; shown
  live and stored as final metrics `llm.endpoint.*{endpoint=URL}`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from simkit.config import LLMSettings
from simkit.errors import LLMUnavailable, UsageError
from simkit.llm.base import Backend, LLMRequest, RawCompletion, TransientLLMError
from simkit.llm.openai_backend import OpenAIBackend

log = logging.getLogger(__name__)

FAILS_TO_EJECT = 3
BACKOFF_FIRST = 2.0
BACKOFF_CAP = 60.0
PROBE_TIMEOUT = 5.0


@dataclass
class EndpointStats:
    """Counters of one endpoint (live; read by the progress display and the run's metrics)."""

    calls: int = 0  # answered
    errors: int = 0  # transient failures (each one failed over or retried)
    latency_ms: float = 0.0  # summed over answered calls
    ejections: int = 0  # times taken out of the pool
    in_flight: int = 0
    last_error: str = ""

    def mean_latency_ms(self) -> float:
        return self.latency_ms / self.calls if self.calls else 0.0


@dataclass
class Endpoint:
    backend: OpenAIBackend
    concurrency: int
    weight: float
    stats: EndpointStats = field(default_factory=EndpointStats)
    consecutive_failures: int = 0
    down_until: float = 0.0  # monotonic; 0 = in the pool
    backoff: float = field(default_factory=lambda: BACKOFF_FIRST)  # seconds out, next time
    probing: bool = False

    @property
    def url(self) -> str:
        return self.backend.base_url

    @property
    def down(self) -> bool:
        return self.down_until > 0

    def free(self) -> int:
        return self.concurrency - self.stats.in_flight


class EndpointPool(Backend):
    name = "openai"
    native_tools = True

    def __init__(self, model: str, endpoints: list[Endpoint], *, attempt_timeout: float = 60.0, probe_timeout: float = PROBE_TIMEOUT):
        if not endpoints:
            raise UsageError("llm.endpoints: list at least one endpoint")
        self._model = model
        self.endpoints = endpoints
        self.attempt_timeout = attempt_timeout  # one endpoint's turn; the client's timeout covers all turns
        self.probe_timeout = probe_timeout
        self._freed = asyncio.Event()
        self._probes: set[asyncio.Task] = set()

    @classmethod
    def from_config(cls, cfg: LLMSettings) -> "EndpointPool":
        if not cfg.model:
            raise UsageError("llm.model: an endpoint pool needs the logical model name")
        endpoints = [
            Endpoint(
                OpenAIBackend(
                    e.model or cfg.model,
                    base_url=e.base_url,
                    api_key_env=e.api_key_env or cfg.api_key_env,
                    dialect=cfg.dialect,
                    timeout=cfg.timeout,
                    max_concurrency=e.concurrency,
                ),
                e.concurrency,
                e.weight,
            )
            for e in cfg.endpoints or []
        ]
        return cls(cfg.model, endpoints, attempt_timeout=cfg.timeout)

    @property
    def model(self) -> str:
        return self._model

    @property
    def capacity(self) -> int:
        return sum(e.concurrency for e in self.endpoints)

    # -- routing ---------------------------------------------------------------------------

    def _pick(self, tried: set[int]) -> int | None:
        """Index of the endpoint for the next attempt; None when all untried ones are full.
        Raises TransientLLMError when every endpoint has been tried."""
        now = time.monotonic()
        for e in self.endpoints:
            if e.down and now >= e.down_until and not e.probing:
                self._start_probe(e)
        untried = [i for i in range(len(self.endpoints)) if i not in tried]
        if not untried:
            raise TransientLLMError("every endpoint failed: " + "; ".join(
                f"{self.endpoints[i].url}: {self.endpoints[i].stats.last_error}" for i in sorted(tried)))
        healthy = [i for i in untried if not self.endpoints[i].down]
        if not healthy:
            # All left are out of the pool: try the one due back first (a call is a probe too).
            if any(not e.down for e in self.endpoints):
                raise TransientLLMError("every endpoint in the pool failed: " + "; ".join(
                    f"{self.endpoints[i].url}: {self.endpoints[i].stats.last_error}" for i in sorted(tried)))
            healthy = [min(untried, key=lambda i: self.endpoints[i].down_until)]
        free = [i for i in healthy if self.endpoints[i].free() > 0]
        if not free:
            return None
        return max(free, key=lambda i: (self.endpoints[i].weight * self.endpoints[i].free(), -i))

    async def generate(self, request: LLMRequest) -> RawCompletion:
        tried: set[int] = set()
        while True:
            index = self._pick(tried)
            if index is None:
                self._freed.clear()
                await self._freed.wait()
                continue
            tried.add(index)
            endpoint = self.endpoints[index]
            endpoint.stats.in_flight += 1
            started = time.perf_counter()
            ok = False
            try:
                async with asyncio.timeout(self.attempt_timeout):  # inline, unlike wait_for (client.py)
                    raw = await endpoint.backend.generate(request)
                ok = True
            except asyncio.TimeoutError:
                self._failed(endpoint, f"no answer within {self.attempt_timeout:g}s")
                continue
            except TransientLLMError as exc:
                self._failed(endpoint, str(exc))
                continue
            except asyncio.CancelledError:  # the client's timeout: this endpoint hung
                self._failed(endpoint, "no answer before the client's timeout")
                raise
            finally:
                endpoint.stats.in_flight -= 1
                self._freed.set()
                if ok:
                    endpoint.stats.calls += 1
                    endpoint.stats.latency_ms += (time.perf_counter() - started) * 1000
                    endpoint.consecutive_failures = 0
                    if endpoint.down:  # it answered: back in the pool
                        endpoint.down_until, endpoint.backoff = 0.0, BACKOFF_FIRST
            raw.meta["endpoint"] = endpoint.url
            return raw

    def _failed(self, endpoint: Endpoint, error: str) -> None:
        endpoint.stats.errors += 1
        endpoint.stats.last_error = error
        endpoint.consecutive_failures += 1
        if endpoint.consecutive_failures >= FAILS_TO_EJECT and not endpoint.down:
            self._eject(endpoint)

    def _eject(self, endpoint: Endpoint) -> None:
        endpoint.stats.ejections += 1
        endpoint.down_until = time.monotonic() + endpoint.backoff
        log.warning("endpoint %s taken out for %.0fs: %s", endpoint.url, endpoint.backoff, endpoint.stats.last_error)

    # -- health ----------------------------------------------------------------------------

    def _start_probe(self, endpoint: Endpoint) -> None:
        endpoint.probing = True
        task = asyncio.get_running_loop().create_task(self._probe(endpoint))
        self._probes.add(task)
        task.add_done_callback(self._probes.discard)

    async def _probe(self, endpoint: Endpoint) -> None:
        try:
            error = await endpoint.backend.probe(self.probe_timeout)
            if not endpoint.down:
                return  # a call already brought it back
            if error is None:
                log.info("endpoint %s is back", endpoint.url)
                endpoint.down_until, endpoint.backoff, endpoint.consecutive_failures = 0.0, BACKOFF_FIRST, 0
                self._freed.set()
            else:
                endpoint.stats.last_error = error
                endpoint.backoff = min(BACKOFF_CAP, endpoint.backoff * 2)
                endpoint.down_until = time.monotonic() + endpoint.backoff
        finally:
            endpoint.probing = False

    async def check(self) -> None:
        """Start only if at least one endpoint answers; the others start out of the pool.
        A refused key on any endpoint is a configuration error and stops the run."""
        errors = await asyncio.gather(*(e.backend.probe(min(10.0, e.backend.timeout), strict=True) for e in self.endpoints))
        for endpoint, error in zip(self.endpoints, errors):
            if error is not None:
                endpoint.stats.last_error = error
                self._eject(endpoint)
        if all(e is not None for e in errors):
            await self.aclose()
            raise LLMUnavailable(f"openai backend: none of the {len(self.endpoints)} endpoints answers: {errors[0]}")

    async def aclose(self) -> None:
        for task in list(self._probes):
            task.cancel()
        for endpoint in self.endpoints:
            await endpoint.backend.aclose()

    # -- reporting -------------------------------------------------------------------------

    def endpoint_stats(self) -> list[dict]:
        """One dict per endpoint, in listed order: url, state, in flight and the counters."""
        now = time.monotonic()
        out = []
        for e in self.endpoints:
            s = e.stats
            state = f"out {max(0.0, e.down_until - now):.0f}s" if e.down else "up"
            out.append({
                "endpoint": e.url, "state": state, "in_flight": s.in_flight, "calls": s.calls, "errors": s.errors,
                "mean_latency_ms": s.mean_latency_ms(), "ejections": s.ejections, "last_error": s.last_error,
            })
        return out

    def final_metrics(self) -> list[dict]:
        """`llm.endpoint.{calls,errors,latency_ms,ejections}{endpoint=URL}` for the run's final metrics."""
        import json

        rows = []
        for s in self.endpoint_stats():
            labels = json.dumps({"endpoint": s["endpoint"]}, sort_keys=True)
            for name, key in (("calls", "calls"), ("errors", "errors"), ("latency_ms", "mean_latency_ms"), ("ejections", "ejections")):
                rows.append({"name": f"llm.endpoint.{name}", "value": float(s[key]), "labels_json": labels})
        return rows
