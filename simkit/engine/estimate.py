"""`--estimate`: what a run will cost before it runs.

A dry run of the scenario on a stand-in backend: scripted answers (instant, no model) under
the real model's identity, so every request gets the cache key the real run would give it.
The dry run looks each key up in the run database first: a call already answered there is
counted as cached (it costs nothing), which also makes a rerun or a resumed run's committed
ticks free. A population larger than `DRY_POPULATION` is dry-run at that size and the
counts scaled by size / DRY_POPULATION (calls grow with the number of agents). Prices come
from `llm.price` or the shipped table (simkit/llm/prices.yaml) by model name.

On the scripted backend, an unscaled dry run is the run itself (same keys, same answers);
with a real model the call structure is the same but answers differ in length, so output
tokens are the dry run's and `max_tokens` bounds them (`output_max`).
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel

from simkit.config import LLMSettings, ScenarioConfig, build_config, scenario_to_yaml_dict
from simkit.engine.registry import load_plugin
from simkit.llm.scripted import ScriptedBackend

DRY_POPULATION = 50
PRICES = Path(__file__).resolve().parent.parent / "llm" / "prices.yaml"


@cache
def price_table() -> dict[str, tuple[float, float]]:
    data = yaml.safe_load(PRICES.read_text(encoding="utf-8")) or {}
    return {name: (float(p["input"]), float(p["output"])) for name, p in data.items()}


def price_of(settings: LLMSettings) -> tuple[float, float] | None:
    """USD per million (input, output) tokens of one role's model; None when unknown."""
    if settings.price is not None:
        return settings.price.input, settings.price.output
    if settings.backend in ("local", "scripted"):
        return 0.0, 0.0
    return price_table().get(settings.model or "")


def identity(settings: LLMSettings) -> str:
    """The model identity a backend puts in cache keys, without building or loading it."""
    if settings.backend == "scripted":
        return ScriptedBackend(model_name=settings.model).model
    if settings.backend == "local":
        from simkit.llm.local import LocalBackend

        return LocalBackend(settings.model).model
    return settings.model or "openai"


class StandIn(ScriptedBackend):
    """Scripted answers under another model's identity (so keys match the real run's)."""

    @property
    def model(self) -> str:
        return self.model_name or "scripted-v1"


@dataclass
class RoleCost:
    model: str
    calls: int = 0
    cached: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    output_max: int = 0
    price: tuple[float, float] | None = None

    @property
    def usd(self) -> float | None:
        if self.price is None:
            return None
        return (self.tokens_in * self.price[0] + self.tokens_out * self.price[1]) / 1e6


@dataclass
class Estimate:
    scale: float = 1.0
    dry_population: int = 0
    population: int = 0
    roles: dict[str, RoleCost] = field(default_factory=dict)  # by model identity

    def total(self, what: str) -> int:
        return int(sum(getattr(r, what) for r in self.roles.values()))

    @property
    def usd(self) -> float | None:
        costs = [r.usd for r in self.roles.values() if r.calls]
        return None if any(c is None for c in costs) else sum(c for c in costs if c is not None)

    def add(self, other: "Estimate") -> None:
        for key, r in other.roles.items():
            mine = self.roles.setdefault(key, RoleCost(r.model, price=r.price))
            for name in ("calls", "cached", "tokens_in", "tokens_out", "output_max"):
                setattr(mine, name, getattr(mine, name) + getattr(r, name))

    def lines(self) -> list[str]:
        out = []
        for r in self.roles.values():
            usd = "price unknown (set llm.price)" if r.usd is None else f"${r.usd:,.4f}"
            out.append(
                f"{r.model}: {r.calls:,} calls to make ({r.cached:,} answered from the cache), {r.tokens_in:,} tokens in / "
                f"{r.tokens_out:,} out (at most {r.output_max:,}), {usd}"
            )
        usd = self.usd
        total = f"${usd:,.4f}" if usd is not None else "unknown"
        out.append(
            f"total: {self.total('calls'):,} calls, {self.total('tokens_in'):,} tokens in / {self.total('tokens_out'):,} out, cost {total}"
        )
        if self.scale != 1.0:
            out.append(f"(dry run of {self.dry_population} of {self.population} agents, counts scaled x{self.scale:.3g})")
        return out


def _dry_config(config: ScenarioConfig, db: Path) -> tuple[ScenarioConfig, BaseModel, dict[str, LLMSettings]]:
    """The scenario on scripted backends named after the real models, into `db`."""
    data = scenario_to_yaml_dict(config)
    real = {"": config.llm.for_role("")} | {role: config.llm.for_role(role) for role in config.llm.roles}
    drop = ("base_url", "endpoints", "api_key_env", "dialect", "price")
    llm = {k: v for k, v in data["llm"].items() if k not in drop}
    llm.update(backend="scripted", model=identity(real[""]))
    llm["roles"] = {
        role: {**{k: v for k, v in spec.items() if k not in drop}, "backend": "scripted", "model": identity(real[role])}
        for role, spec in data["llm"]["roles"].items()
    }
    data["llm"] = llm
    data["output"] = {"db": str(db)}
    if getattr(load_plugin(config.plugin), "calls_scale_with_population", False):
        data["population"]["size"] = min(config.population.size, DRY_POPULATION)
    dry, plugin_cfg = build_config(data, f"{config.name} (estimate)", load_plugin)
    return dry, plugin_cfg, real


def estimate(config: ScenarioConfig, plugin_cfg: BaseModel | None = None, source: Path | None = None, db: Path | None = None) -> Estimate:
    """Dry-run `config` and return its expected calls, tokens and cost."""
    from simkit.engine.runner import Simulation
    from simkit.store.reader import RunReader, open_db

    real_db = Path(db or config.output.db)
    with tempfile.TemporaryDirectory(prefix="simkit-estimate-") as tmp:
        dry_db = Path(tmp) / "dry.db"
        dry, dry_plugin_cfg, real = _dry_config(config, dry_db)
        sim = Simulation(dry, dry_plugin_cfg, dry_db, source=source)
        for client in list(sim.ctx.llms._clients.values()):
            client.backend = StandIn(seed=dry.seed, model_name=client.backend.model_name)
        sim._register_responders()
        stored = RunReader(open_db(real_db)) if real_db.exists() else None
        own = sim.ctx.llms.hooks.lookup
        sim.ctx.llms.hooks.lookup = lambda key: own(key) or (stored.cached_answer(key) if stored else None)
        try:
            asyncio.run(sim.run())
        finally:
            if stored is not None:
                stored.db.conn.close()
        reader = RunReader.open(dry_db)
        by_model = {identity(s): s for s in real.values()}
        out = Estimate(population=config.population.size, dry_population=dry.population.size)
        out.scale = config.population.size / dry.population.size
        rows = reader.db.query(
            """select model, sum(cached = 0) as calls, sum(cached) as cached,
                      sum(case when cached = 0 then tokens_in else 0 end) as tin,
                      sum(case when cached = 0 then tokens_out else 0 end) as tout,
                      sum(case when cached = 0 then json_extract(params_json, '$.max_tokens') else 0 end) as omax
               from llm_calls where run_id = ? group by model order by model""",
            [sim.run_id],
        )
        for r in rows:
            settings = by_model.get(r["model"])
            out.roles[r["model"]] = RoleCost(
                r["model"], *(int(round((r[k] or 0) * out.scale)) for k in ("calls", "cached", "tin", "tout", "omax")),
                price=price_of(settings) if settings else None,
            )
        reader.db.conn.close()
    return out
