"""simkit: an engine for LLM-driven social simulation.

`import simkit` gives the notebook API (simkit/api.py): `simkit.run`, `simkit.arun`,
`simkit.open`, `simkit.branch`, `simkit.estimate`, `simkit.sweep`; loaded on first use, so
the command line does not pay for it."""

__version__ = "0.1.0"

_API = ("run", "arun", "open", "branch", "estimate", "sweep", "load", "Run", "Runs")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        import importlib  # on first use: the engine's modules import this package for __version__

        return getattr(importlib.import_module("simkit.api"), name)
    raise AttributeError(f"module 'simkit' has no attribute {name!r}")
