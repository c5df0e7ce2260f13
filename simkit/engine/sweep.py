"""Sweeps: a grid of `--set key=v1,v2` axes, each point run into the same database."""

from __future__ import annotations

import itertools

from rich.table import Table

from simkit.engine.progress import format_value
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


def default_sweep_report(reader, run_ids: list[str], console) -> None:
    """One row per run, one column per final metric without labels."""
    finals = {rid: {m["name"]: m["value"] for m in reader.metrics(rid, -1) if m["labels_json"] in ("{}", None)} for rid in run_ids}
    names = sorted({n for f in finals.values() for n in f if not n.startswith("llm.")})[:8]
    table = Table("run", *names)
    for rid in run_ids:
        table.add_row(rid, *(format_value(finals[rid].get(n)) for n in names))
    console.print(table)
