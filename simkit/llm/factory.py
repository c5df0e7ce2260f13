"""Build the configured backend and wrap it in an `LLMClient`."""

from __future__ import annotations

from simkit.config import LLMConfig
from simkit.llm.base import Backend
from simkit.llm.client import LLMClient


def make_backend(cfg: LLMConfig, seed: int) -> Backend:
    if cfg.backend == "scripted":
        from simkit.llm.scripted import ScriptedBackend

        return ScriptedBackend(seed=seed)
    if cfg.backend == "local":
        from simkit.llm.local import LocalBackend

        return LocalBackend.from_config(cfg)
    from simkit.llm.openai_backend import OpenAIBackend

    return OpenAIBackend.from_config(cfg)


def make_client(cfg: LLMConfig, seed: int, backend: Backend | None = None) -> LLMClient:
    return LLMClient(
        backend or make_backend(cfg, seed),
        cache_mode=cfg.cache,
        max_concurrency=cfg.max_concurrency,
        timeout=cfg.timeout,
        retries=cfg.retries,
        repair_attempts=cfg.repair_attempts,
        temperature=cfg.temperature,
        max_tokens=cfg.max_tokens,
        seed=seed,
    )
