"""Sweeps: a grid of `--set key=v1,v2` axes, each point run into the same database."""

from __future__ import annotations

import itertools

from simkit.errors import UsageError


def expand_grid(axes: list[str]) -> list[dict[str, str]]:
    """`["a=1,2", "b=x"]` -> `[{"a": "1", "b": "x"}, {"a": "2", "b": "x"}]`."""
    keys, values = [], []
    for axis in axes:
        if "=" not in axis:
            raise UsageError(f"--set {axis}: expected key=v1,v2,...")
        key, raw = axis.split("=", 1)
        options = [v.strip() for v in raw.split(",")]
        if not key.strip() or not all(options):
            raise UsageError(f"--set {axis}: empty key or value")
        keys.append(key.strip())
        values.append(options)
    return [dict(zip(keys, combo)) for combo in itertools.product(*values)] or [{}]
