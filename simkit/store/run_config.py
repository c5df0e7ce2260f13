"""A run's stored config read as data: dotted keys, the keys a sweep varied, what makes two
runs the same experiment (used by `runs compare`, the sweep table, `simkit plot` and export)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

_NOT_SETTINGS = ("output", "name", "description")  # where a run is written and what it is called, not what it runs


def settings_fingerprint(config: dict) -> str:
    """A hash of what a run runs (its config without output paths, name and description)."""
    kept = {k: v for k, v in config.items() if k not in _NOT_SETTINGS}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()[:16]


def config_value(config: dict, key: str):
    """The value at a dotted key (`trendsim.attack.share`); a plugin key may be written
    without its plugin prefix (`attack.share`), as `--set` accepts it."""
    for path in (key, f"{config.get('plugin')}.{key}"):
        node = config
        for part in path.split("."):
            if isinstance(node, dict) and part in node:
                node = node[part]
            else:
                node = None
                break
        if node is not None:
            return node
    return None


def flatten(config: dict, prefix: str = "") -> dict[str, object]:
    """A nested config as dotted keys (`trendsim.attack.share`); lists stay values."""
    out: dict[str, object] = {}
    for k, v in config.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def swept_keys(configs: Sequence[dict]) -> list[str]:
    """The config keys whose values differ between these runs (a sweep's `--set` axes), the
    seed, output paths and names left out."""
    flat = [flatten(c) for c in configs]
    keys = sorted({k for f in flat for k in f})
    skip = ("seed", "name", "description", "output.")
    return [k for k in keys if not k.startswith(skip)
            and len({json.dumps(f.get(k), sort_keys=True, default=str) for f in flat}) > 1]


__all__ = ["config_value", "flatten", "settings_fingerprint", "swept_keys"]
