"""Scenario YAML -> strict pydantic models.

Every error names the file and the dotted key path, so a typo in a 60-line scenario is
found in one look. Unknown keys are errors everywhere, including in a plugin's section
(validated by the plugin's own config model).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, ValidationInfo, field_validator, model_validator

from simkit.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(value: Any) -> timedelta:
    """Accept `90`, `"90s"`, `"5m"`, `"1.5h"`, `"1d"` or a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '30s', '5m' or '1h'")
    if isinstance(value, (int, float)):
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
        if value.startswith(("P", "-P")):  # ISO 8601, as stored in runs.config_json
            try:
                return TypeAdapter(timedelta).validate_python(value)
            except ValidationError:
                pass
    raise ValueError(f"expected a duration such as '30s', '5m' or '1h', got {value!r}")


class StrictModel(BaseModel):
    """Base for every config model: unknown keys are errors, values are not coerced loosely."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ClockConfig(StrictModel):
    start: datetime = datetime(2025, 1, 1, 6, 0)
    end: datetime = datetime(2025, 1, 1, 22, 0)
    tick: timedelta = timedelta(minutes=10)

    @field_validator("tick", mode="before")
    @classmethod
    def _tick(cls, value: Any) -> timedelta:
        return parse_duration(value)

    @model_validator(mode="after")
    def _order(self) -> "ClockConfig":
        if self.tick <= timedelta(0):
            raise ValueError("tick must be positive")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if (self.end - self.start) / self.tick > 10_000_000:
            raise ValueError("more than 10,000,000 ticks: use a longer tick")
        return self

    @property
    def n_ticks(self) -> int:
        span = self.end - self.start
        return int(-(-span // self.tick))  # ceiling division


class PopulationConfig(StrictModel):
    personas: Path = Path("personas/population.jsonl")
    size: int = Field(default=20, ge=1, le=1_000_000)
    # first: the file's first `size`; random: `size` distinct personas drawn with the run's seed;
    # replacement: `size` draws with replacement (a population larger than the file; the run's
    # config records it, and each agent keeps its persona's id, so repeats are visible)
    sampling: Literal["first", "random", "replacement"] = "first"


Backend = Literal["scripted", "local", "openai"]
CacheMode = Literal["off", "use", "replay"]
Dialect = Literal["auto", "json_schema", "json_object", "prompt"]


def check_base_url(value: str) -> str:
    """An OpenAI-compatible server's URL: http(s), a host, no spaces (`llm.base_url`, `llm.endpoints[].base_url`)."""
    if not re.match(r"^https?://[^/\s?#]+(/[^\s]*)?$", value):
        raise ValueError(f"expected an http(s) URL such as http://gpu01:8000/v1, got {value!r}")
    return value.rstrip("/")


class EndpointSettings(StrictModel):
    """One OpenAI-compatible server of an endpoint pool (`llm.endpoints`). Every endpoint of
    a pool serves the same logical model, `llm.model`, which is what the cache key holds."""

    base_url: str
    model: str | None = None  # the name this server knows the model by (default: llm.model)
    concurrency: int = Field(default=8, ge=1, le=10_000)
    weight: float = Field(default=1.0, gt=0, le=1000)
    api_key_env: str | None = None  # default: llm.api_key_env

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_base_url(value)


class Price(StrictModel):
    """USD per million tokens (`llm.price`), for `--estimate` and `--budget usd=X`."""

    input: float = Field(ge=0.0)
    output: float = Field(ge=0.0)


class LLMSettings(StrictModel):
    """How one model is reached and sampled. A role's entry under `llm.roles` has the same
    keys; the ones it sets override the default role's."""

    backend: Backend = "local"
    model: str | None = None
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    dialect: Dialect = "auto"
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(default=256, ge=1, le=32768)
    max_concurrency: int = Field(default=8, ge=1, le=10_000)
    timeout: float = Field(default=60.0, gt=0)
    retries: int = Field(default=4, ge=0, le=20)
    # Seconds one call may take across all its attempts and backoff waits (default 2 x
    # timeout): a hung endpoint gives up within it, however many retries are left.
    deadline: float | None = Field(default=None, gt=0)
    repair_attempts: int = Field(default=1, ge=0, le=5)
    cache: CacheMode = "use"
    n_ctx: int = Field(default=2048, ge=256, le=131072)
    n_threads: int | None = Field(default=None, ge=1, le=256)
    n_parallel: int = Field(default=1, ge=1, le=64)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        return None if value is None else check_base_url(value)

    @field_validator("cache", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        """YAML 1.1 reads a bare `off` as false (`--set llm.cache=off`): it means "off"."""
        return "off" if value is False else value
    # local: load with llama.cpp's extra (weight-repacking) buffer types. Off by default: the
    # AMX one segfaults on Xeons with AMX (llama.cpp issue 20824); on other x86 CPUs it only
    # speeds up Q4_0/Q4_K/IQ4_NL files, not the default Q4_1 model (bench/README.md).
    extra_buffers: bool = False
    # local: keep the KV cache of the last prompt and read only what a new prompt adds to the
    # prefix they share (answers are the same either way; off only to measure what it saves)
    prefix_cache: bool = True
    # openai: a pool of servers for one logical model (simkit/llm/pool.py); when set,
    # base_url is not used and the client's concurrency is the sum of the endpoints'.
    endpoints: list[EndpointSettings] | None = None
    # USD per million tokens; unset: the shipped table (simkit/llm/prices.yaml) by model name
    price: Price | None = None

    @model_validator(mode="before")
    @classmethod
    def _pool_means_openai(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("endpoints") and "backend" not in data:
            data = {**data, "backend": "openai"}  # a pool is always OpenAI-compatible servers
        return data

    @field_validator("endpoints")
    @classmethod
    def _pool(cls, endpoints: "list[EndpointSettings] | None", info: ValidationInfo) -> "list[EndpointSettings] | None":
        if endpoints is None:
            return None
        if not endpoints:
            raise ValueError("list at least one endpoint, or leave the key out")
        backend = info.data.get("backend")
        if backend == "local":
            raise ValueError("the local backend runs in-process; a pool of servers needs backend: openai")
        if backend == "openai" and not info.data.get("model"):
            raise ValueError("set llm.model too: the logical model every endpoint serves (and the cache key)")
        urls = [e.base_url for e in endpoints]
        dup = next((u for u in urls if urls.count(u) > 1), None)
        if dup:
            raise ValueError(f"{dup} is listed twice")
        return endpoints


# The keys that say which model answers (and where): an instrument pinned under
# `llm.roles.<role>` takes these from its own entry only, never from the subject.
MODEL_KEYS = ("backend", "model", "base_url", "api_key_env", "dialect", "endpoints", "price")
Instruments = Literal["pinned", "same_as_subject", "scripted"]


class LLMConfig(LLMSettings):
    """The subject's model (the model under test: `llm.model`, `--llm`) and, under `roles`,
    the instruments' models, e.g. `roles: {narrator: {backend: openai, model: gpt-4o}}`.
    Which roles a plugin has is its `llm_roles`, which are subjects its `subject_roles`;
    `simkit.roles.check_roles` rejects any other name and any unpinned instrument.

    `instruments` says how the instrument roles get their model:
    - `pinned` (default): each from its own `llm.roles.<role>` entry, which must set `backend`;
      its model keys (`MODEL_KEYS`) are never inherited from the subject, the rest
      (temperature, max_tokens, timeout, ...) is, unless the entry sets it;
    - `same_as_subject`: the subject's model plays them too (a self-judged run);
    - `scripted`: the scripted backend plays them (what `--llm scripted` sets: a dry run)."""

    instruments: Instruments = "pinned"
    roles: dict[str, LLMSettings] = Field(default_factory=dict)

    def subject(self) -> LLMSettings:
        """The subject's settings (the top-level `llm` keys)."""
        return LLMSettings.model_validate(self.model_dump(exclude={"roles", "instruments"}))

    def for_role(self, role: str) -> LLMSettings:
        """The settings `role` runs with. A role without an entry is the subject; a role with
        one is an instrument, resolved as `instruments` says (see the class docstring)."""
        override = self.roles.get(role)
        base = self.subject()
        if override is None:
            return base
        keys = set(override.model_fields_set)
        if self.instruments == "same_as_subject":
            keys -= set(MODEL_KEYS)
        elif self.instruments == "scripted":
            keys -= set(MODEL_KEYS)
            base = base.model_copy(update={"backend": "scripted", "model": None, "base_url": None, "endpoints": None})
        elif "backend" in keys:  # pinned: the role names its whole model
            defaults = LLMSettings()
            base = base.model_copy(update={k: getattr(defaults, k) for k in MODEL_KEYS})
        return base.model_copy(update={k: getattr(override, k) for k in keys})


class OutputConfig(StrictModel):
    db: Path = Path("runs/simkit.db")


class ScenarioConfig(StrictModel):
    """A whole scenario. `plugin_config` holds the plugin's own section, already validated."""

    name: str
    plugin: str
    description: str = ""
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    mode: Literal["synchronous", "sequential", "plugin"] = "plugin"
    clock: ClockConfig = ClockConfig()
    population: PopulationConfig = PopulationConfig()
    llm: LLMConfig = LLMConfig()
    output: OutputConfig = OutputConfig()
    plugin_config: dict[str, Any] = Field(default_factory=dict, alias="settings")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


TOP_LEVEL_KEYS = set(ScenarioConfig.model_fields) - {"plugin_config"}


def _loc(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def format_validation_error(source: str, err: ValidationError, prefix: str = "") -> str:
    """One line per problem: `file: key.path: message`; the first line is what users see."""
    lines = []
    for item in err.errors():
        path = _loc(tuple(p for p in (prefix,) if p) + tuple(item["loc"]))
        msg = item["msg"]
        if item["type"] == "extra_forbidden":
            msg = "unknown key"
        elif item["type"] == "missing":
            msg = "required key is missing"
        lines.append(f"{source}: {path}: {msg}")
    return "; ".join(lines)


def set_dotted(data: dict, dotted: str, raw_value: str) -> None:
    """Apply one `--set a.b.c=value` override; the value is parsed as YAML (so 0.3 is a float)."""
    keys = dotted.split(".")
    if not all(keys):
        raise ConfigError(f"--set {dotted}={raw_value}: empty key in the path")
    try:
        value = yaml.safe_load(raw_value) if raw_value != "" else ""
    except yaml.YAMLError:
        value = raw_value
    node = data
    for i, key in enumerate(keys[:-1]):
        child = node.get(key)
        if child is None:
            child = node[key] = {}
        if not isinstance(child, dict):
            raise ConfigError(f"--set {dotted}: {'.'.join(keys[: i + 1])} is not a mapping")
        node = child
    node[keys[-1]] = value


def read_yaml(path: Path) -> dict:
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, expected a scenario YAML file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}: invalid YAML{where}: {problem}") from None
    if data is None:
        raise ConfigError(f"{path}: the file is empty")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of keys, got {type(data).__name__}")
    return data


def build_config(data: dict, source: str, plugin_resolver) -> tuple[ScenarioConfig, BaseModel]:
    """Validate a raw mapping. The plugin's section lives under the plugin's name
    (e.g. `trendsim:`) and is validated by that plugin's `config_model`. The LLM roles are
    checked after this, by `simkit.roles.check_roles` (`simkit.engine.runner.configure`)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: top level must be a mapping")
    data = dict(data)
    for key in data:
        if not isinstance(key, str):
            raise ConfigError(f"{source}: {key!r}: keys must be strings")
    plugin_name = data.get("plugin")
    if not isinstance(plugin_name, str) or not plugin_name:
        raise ConfigError(f"{source}: plugin: required key is missing (the scenario plugin to run, e.g. trendsim)")
    plugin_cls = plugin_resolver(plugin_name, source)
    section = data.pop(plugin_name, {})
    if section is None:
        section = {}
    if not isinstance(section, dict):
        raise ConfigError(f"{source}: {plugin_name}: must be a mapping of the plugin's settings")
    unknown = [k for k in data if k not in TOP_LEVEL_KEYS]
    if unknown:
        raise ConfigError(
            f"{source}: {unknown[0]}: unknown key (top-level keys are {', '.join(sorted(TOP_LEVEL_KEYS))}, "
            f"plus the plugin's section '{plugin_name}')"
        )
    try:
        scenario = ScenarioConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(source, err)) from None
    try:
        plugin_cfg = plugin_cls.config_model.model_validate(section)
    except ValidationError as err:
        raise ConfigError(format_validation_error(source, err, prefix=plugin_name)) from None
    scenario.plugin_config = plugin_cfg.model_dump(mode="json")
    return scenario, plugin_cfg


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Apply `--set` items. A key that is not a top-level key is taken to be in the plugin's
    section, so `--set attack.share=0.3` means `--set trendsim.attack.share=0.3`."""
    plugin = data.get("plugin")
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set {item}: expected dotted.key=value")
        key, value = item.split("=", 1)
        key = key.strip()
        head = key.split(".", 1)[0]
        if isinstance(plugin, str) and head not in TOP_LEVEL_KEYS and head != plugin:
            key = f"{plugin}.{key}"
        set_dotted(data, key, value)
    return data


def parse_llm_flag(flag: str) -> dict[str, Any]:
    """`--llm scripted`, `--llm local`, `--llm local:/path/model.gguf`, `--llm openai:gpt-4o-mini`:
    the subject's model. `scripted` also sets `instruments: scripted` (a dry run)."""
    backend, _, model = flag.partition(":")
    if backend not in ("scripted", "local", "openai"):
        raise ConfigError(f"--llm {flag}: backend must be scripted, local[:GGUF] or openai:MODEL")
    if backend == "openai" and not model:
        raise ConfigError(f"--llm {flag}: name the model, e.g. openai:gpt-4o-mini")
    out: dict[str, Any] = {"backend": backend}
    if backend == "scripted":  # a dry run: every instrument is scripted too, nothing is loaded
        out["instruments"] = "scripted"
    if model:
        out["model"] = model
    elif backend != "openai":
        out["model"] = None
    return out


def scenario_to_yaml_dict(config: ScenarioConfig) -> dict:
    """The resolved config as it is stored in `runs.config_json` (plugin section under its name).
    A role keeps only the keys it set, so it still inherits the rest from the default role."""
    out = config.model_dump(mode="json", by_alias=False, exclude={"plugin_config"})
    out["llm"]["roles"] = {name: role.model_dump(mode="json", exclude_unset=True) for name, role in config.llm.roles.items()}
    out[config.plugin] = config.plugin_config
    return out
