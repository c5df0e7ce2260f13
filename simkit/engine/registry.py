"""Scenario plugins are found through the entry-point group `simkit.scenarios`; the engine
never imports a plugin by name, so a third-party package adds a scenario by declaring one."""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

from simkit.errors import ConfigError

GROUP = "simkit.scenarios"


def available() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def load_plugin(name: str, source: str = "config"):
    eps = available()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none installed"
        raise ConfigError(f"{source}: plugin: unknown plugin {name!r} (installed: {known})")
    try:
        cls = eps[name].load()
    except Exception as exc:  # a broken third-party package must not give a traceback
        raise ConfigError(f"{source}: plugin: {name!r} failed to load: {type(exc).__name__}: {exc}") from None
    return cls
