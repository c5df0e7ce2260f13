"""LangGraph cognition graphs, compiled once per agent type.

Compiling a StateGraph costs milliseconds; invoking a compiled one costs far less. Plugins
decorate the function that builds a graph with `compile_once`, so every agent of that type
shares one compiled graph and only its input state differs.

Write nodes and conditional edges as `async def`: LangGraph runs plain functions on a
thread pool, which costs more than the node itself at thousands of agents per tick.
"""

from __future__ import annotations

import functools
from typing import Callable, TypeVar

T = TypeVar("T")


def compile_once(builder: Callable[[], T]) -> Callable[[], T]:
    """Cache a zero-argument graph builder: the first call compiles, later calls reuse."""
    return functools.cache(builder)
