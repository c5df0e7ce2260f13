"""Build the configured backends and wrap them in `LLMClient`s, one per role.

Roles whose settings resolve to the same thing share one client (and so one concurrency
limit and one cache-slot counter); roles that differ only in sampling share one backend,
so two roles on the embedded model load it once.
"""

from __future__ import annotations

from simkit.config import LLMConfig, LLMSettings
from simkit.errors import LLMUnavailable
from simkit.llm.base import Backend
from simkit.llm.client import ClientHooks, LLMClient, LLMStats

# Settings that pick the model itself; the rest (sampling, retries, cache) is per client.
BACKEND_KEYS = ("backend", "model", "base_url", "api_key_env", "dialect", "timeout", "n_ctx", "n_threads", "n_parallel", "extra_buffers", "prefix_cache", "endpoints")


def make_backend(cfg: LLMSettings, seed: int) -> Backend:
    if cfg.backend == "scripted":
        from simkit.llm.scripted import ScriptedBackend

        return ScriptedBackend(seed=seed, model_name=cfg.model)
    if cfg.backend == "local":
        from simkit.llm.local import LocalBackend

        return LocalBackend.from_config(cfg)
    if cfg.endpoints:
        from simkit.llm.pool import EndpointPool

        return EndpointPool.from_config(cfg)
    from simkit.llm.openai_backend import OpenAIBackend

    return OpenAIBackend.from_config(cfg)


def make_client(
    cfg: LLMSettings, seed: int, backend: Backend | None = None, *, hooks: ClientHooks | None = None, stats: LLMStats | None = None
) -> LLMClient:
    backend = backend or make_backend(cfg, seed)
    concurrency, timeout = cfg.max_concurrency, cfg.timeout
    if cfg.endpoints and cfg.backend == "openai":
        # A pool bounds each endpoint itself; the client's limit is the pool's capacity, and
        # its timeout covers one turn on each endpoint (a call fails over before it retries).
        concurrency = sum(e.concurrency for e in cfg.endpoints)
        timeout = cfg.timeout * len(cfg.endpoints) + 1.0
    return LLMClient(
        backend,
        cache_mode=cfg.cache,
        max_concurrency=concurrency,
        timeout=timeout,
        deadline=cfg.deadline or 2 * timeout,
        retries=cfg.retries,
        repair_attempts=cfg.repair_attempts,
        temperature=cfg.temperature,
        max_tokens=cfg.max_tokens,
        seed=seed,
        hooks=hooks,
        stats=stats,
    )


class RoleClients:
    """The LLM client of every role of a run; all share the run's hooks and live counters."""

    def __init__(
        self,
        cfg: LLMConfig,
        seed: int,
        *,
        hooks: ClientHooks | None = None,
        stats: LLMStats | None = None,
        backend: Backend | None = None,
    ):
        self.cfg = cfg
        self.seed = seed
        self.hooks = hooks or ClientHooks()
        self.stats = stats or LLMStats()
        self._backends: dict[tuple, Backend] = {}
        self._clients: dict[str, LLMClient] = {}
        base = cfg.for_role("")
        if backend is not None:
            self._backends[self._backend_key(base)] = backend
        self.default = self._client(base)
        self._roles = {role: self._client(cfg.for_role(role)) for role in cfg.roles}

    @staticmethod
    def _backend_key(cfg: LLMSettings) -> tuple:
        value = cfg.model_dump(mode="json", include=set(BACKEND_KEYS))
        return tuple(str(value.get(k)) for k in BACKEND_KEYS)

    def _client(self, cfg: LLMSettings) -> LLMClient:
        key = cfg.model_dump_json()
        if key not in self._clients:
            bkey = self._backend_key(cfg)
            if bkey not in self._backends:
                self._backends[bkey] = make_backend(cfg, self.seed)
            self._clients[key] = make_client(cfg, self.seed, self._backends[bkey], hooks=self.hooks, stats=self.stats)
        return self._clients[key]

    def for_role(self, role: str) -> LLMClient:
        return self._roles.get(role, self.default)

    def models(self) -> dict[str, str]:
        """Role -> model identity, for the run record (`default` is the default role)."""
        return {"default": self.default.model, **{role: c.model for role, c in sorted(self._roles.items())}}

    def backends(self) -> list[Backend]:
        seen: list[Backend] = []
        for client in [self.default, *self._roles.values()]:
            if all(client.backend is not b for b in seen):
                seen.append(client.backend)
        return seen

    def keys_of(self, backend: Backend) -> list[str]:
        """The scenario keys that chose `backend`: `llm.model` for the subject, `llm.roles.R.model`
        for an instrument role, the panel judge's `llm.model` for role `judge:<id>`."""
        keys = ["llm.model"] if self.default.backend is backend else []
        for role, client in sorted(self._roles.items()):
            if client.backend is backend:
                judge = role.removeprefix("judge:")
                keys.append(f"llm.model of panel judge {judge}" if judge != role else f"llm.roles.{role}.model")
        return keys

    async def check(self) -> None:
        """Check every backend; a failure names the roles that use it (a role given a model
        name only the scripted backend knows, run with --llm local, says which role it is)."""
        for backend in self.backends():
            try:
                await backend.check()
            except LLMUnavailable as exc:
                keys = self.keys_of(backend) or ["llm.model"]
                message = str(exc).replace("set llm.model ", f"set {keys[0]} ")
                raise type(exc)(f"{', '.join(keys)}: {message}") from None

    async def aclose(self) -> None:
        """Close every backend, even when closing one of them fails."""
        errors = []
        for backend in self.backends():
            try:
                await backend.aclose()
            except Exception as exc:  # noqa: BLE001 - the others must still be closed
                errors.append(exc)
        if errors:
            raise errors[0]
