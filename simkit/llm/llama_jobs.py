"""What goes in and out of a local model engine, without importing llama.cpp.

Shared by the engine (`llama_engine.py`, which runs in the model process) and the process
that drives it (`llama_proc.py`), which must not load llama.cpp itself.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable


class EngineError(Exception):
    """A request the engine cannot run (prompt too long, decode failure)."""

    def __init__(self, message: str, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


@dataclass
class GenResult:
    text: str
    tokens_in: int
    tokens_out: int
    queued_s: float
    run_s: float
    finish_reason: str = "stop"  # "length": cut off at max_tokens (or at the end of the context)


@dataclass
class Job:
    prompt: list[int]
    max_tokens: int
    temperature: float
    seed: int
    grammar: str | None
    done: Callable[[GenResult | Exception], None]
    cancelled: threading.Event = field(default_factory=threading.Event)
    submitted: float = field(default_factory=time.perf_counter)
    finished: bool = False  # answered in full (its prompt's KV cache may be kept for the next job)
