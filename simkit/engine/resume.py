"""What may change when a run is resumed: how its models are reached, never what they answer.

A resumed run re-executes its committed ticks from the database and continues; to end with
the trajectory of an uninterrupted run, everything that shapes an answer (model, sampling,
prompts, population, seed, the plugin's settings) must be what the run started with. What
only says *where* and *how patiently* a model is reached may change, e.g. when the server
died or moved: `llm.base_url`, `llm.endpoints`, `llm.api_key_env`, `llm.timeout`,
`llm.retries`, `llm.max_concurrency` (and the same keys of any role under `llm.roles`).
`resume_config` applies such `--set` items to the stored config and refuses anything else in
one line naming the keys. `simkit run --resume` and `simkit branch` (research) both use it.
"""

from __future__ import annotations

import copy
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from simkit.config import ScenarioConfig, apply_overrides, build_config, scenario_to_yaml_dict
from simkit.engine.registry import load_plugin
from simkit.errors import UsageError

# Keys of an `llm:` block (the default role's or one under `llm.roles`) that do not change an answer.
ENDPOINT_KEYS = ("base_url", "endpoints", "api_key_env", "timeout", "deadline", "retries", "max_concurrency")


@dataclass
class ResumeSettings:
    config: ScenarioConfig
    plugin_cfg: BaseModel
    changes: dict[str, Any] = field(default_factory=dict)  # dotted key -> new value

    @property
    def stored_config(self) -> dict:
        return scenario_to_yaml_dict(self.config)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):  # an empty mapping holds no keys (a role added on resume)
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def changeable(key: str) -> bool:
    """Whether dotted `key` of a resolved config may differ on resume."""
    parts = key.split(".")
    if parts[:1] == ["output"]:
        return True  # where the database is: the one being resumed
    if parts[:1] != ["llm"]:
        return False
    rest = parts[1:]
    if rest[:1] == ["roles"] and len(rest) >= 3:
        rest = rest[2:]
    return bool(rest) and rest[0] in ENDPOINT_KEYS


def resume_config(stored: dict, sets: list[str] | tuple[str, ...] = (), seed: int | None = None, source: str = "run") -> ResumeSettings:
    """The stored config with `sets` applied; `UsageError` (one line, exit 2) when a set or
    `seed` would change the trajectory. Items that leave a value as stored are accepted, so
    the command a run was started with may be repeated with `--resume`."""
    before = build_config(copy.deepcopy(stored), source, load_plugin)[0]
    data = copy.deepcopy(stored)
    if seed is not None:
        data["seed"] = seed
    apply_overrides(data, list(sets))
    config, plugin_cfg = build_config(data, f"{source} (resumed)", load_plugin)
    old = _flatten(scenario_to_yaml_dict(before))
    new = _flatten(scenario_to_yaml_dict(config))
    diff = sorted(k for k in set(old) | set(new) if _canon(old.get(k)) != _canon(new.get(k)))
    refused = [k for k in diff if not changeable(k)]
    if refused:
        shown = ", ".join(refused[:6]) + (f" and {len(refused) - 6} more" if len(refused) > 6 else "")
        raise UsageError(
            f"--resume: {shown} cannot change on resume (it would change the trajectory); only where and how "
            f"models are reached may: llm.{{{','.join(ENDPOINT_KEYS)}}} (also under llm.roles.NAME)"
        )
    changes = {k: new.get(k) for k in diff if not k.startswith("output.")}
    return ResumeSettings(config, plugin_cfg, changes)


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def resume_command(scenario: Path | str, db: Path | str, run_id: str) -> str:
    """The command that resumes `run_id`, naming its database so it works from any folder."""
    return " ".join(shlex.quote(str(part)) for part in ("simkit", "run", scenario, "--out", db, "--resume", run_id))
