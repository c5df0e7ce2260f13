"""LangGraph cognition graphs, compiled once per agent type.

Compiling a StateGraph costs milliseconds; invoking a compiled one costs far less. Plugins
decorate the function that builds a graph with `compile_once`, so every agent of that type
shares one compiled graph and only its input state differs.

Write nodes and conditional edges as `async def`: LangGraph runs plain functions on a
thread pool, which costs more than the node itself at thousands of agents per tick.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

from langgraph.graph import END, START, StateGraph

T = TypeVar("T")


def compile_once(builder: Callable[[], T]) -> Callable[[], T]:
    """Cache a zero-argument graph builder: the first call compiles, later calls reuse."""
    return functools.cache(builder)


def linear_graph(state: type, *nodes: Callable) -> Any:
    """Compile a graph that runs `nodes` once each, in order (START -> first -> ... -> END);
    each node is named after its function."""
    graph: StateGraph = StateGraph(state)
    names = [node.__name__.lstrip("_") for node in nodes]
    for name, node in zip(names, nodes):
        graph.add_node(name, node)
    for a, b in zip([START, *names], [*names, END]):
        graph.add_edge(a, b)
    return graph.compile()
