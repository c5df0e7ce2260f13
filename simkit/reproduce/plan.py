"""From a recipe and the command's flags to the grid points to run: the paper profile, the
grid (narrowed by `--grid`), the subject model, the instruments pinned, seeds. Refuses a
plan whose instruments are not pinned: the model under test must never judge, narrate or
attack for itself without the user saying so."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from simkit.config import parse_llm_flag, read_yaml, set_dotted
from simkit.engine.sweep import PointJob, plan_sweep
from simkit.errors import UsageError
from simkit.reproduce.recipe import Recipe, project_root
from simkit.roles import instrument_roles


@dataclass
class Plan:
    recipe: Recipe
    points: list[PointJob]
    db: Path
    scripted: bool  # a dry run: mechanics only
    subject: str  # the model under test as the user named it


def pinned_roles(data: dict) -> set[str]:
    """The roles a raw scenario mapping pins: an `llm.roles` entry that sets its own backend
    (the roles rule, simkit/roles.py)."""
    roles = (data.get("llm") or {}).get("roles") or {}
    return {r for r, entry in roles.items() if isinstance(entry, dict) and "backend" in entry}


def _llm_sets(flag: str, prefix: str) -> list[str]:
    parsed = parse_llm_flag(flag)
    out = [f"{prefix}.backend={parsed['backend']}"]
    if parsed.get("model"):
        out.append(f"{prefix}.model={parsed['model']}")
    return out


def scenario_path(recipe: Recipe) -> Path:
    path = Path(recipe.scenario)
    if path.exists():
        return path
    candidate = project_root() / recipe.scenario
    if not candidate.exists():
        raise UsageError(f"reproduce {recipe.name}: its paper profile {recipe.scenario} is not in this checkout")
    return candidate


def make_plan(
    recipe: Recipe,
    *,
    llm: str | None,
    instruments: tuple[str, ...] = (),
    sets: tuple[str, ...] = (),
    grid: tuple[str, ...] = (),
    seeds: int | None = None,
    out: Path | None = None,
    allow_self_judging: bool = False,
) -> Plan:
    """The points to run. `llm` sets the subject; `instruments` are `ROLE=BACKEND[:MODEL]`;
    `grid` items `KEY=V1,V2` replace one of the recipe's axes (a smaller grid)."""
    from simkit.engine.registry import load_plugin

    if not llm:
        raise UsageError(f"reproduce {recipe.name}: name the model under test with --llm (scripted | local[:GGUF] | openai:MODEL)")
    scenario = scenario_path(recipe)
    plugin_cls = load_plugin(recipe.plugin, recipe.name)
    roles = instrument_roles(plugin_cls)
    scripted = llm.split(":", 1)[0] == "scripted"

    overrides: list[str] = list(recipe.profile)
    if scripted:  # `--llm scripted` scripts every instrument too (llm.instruments: scripted): nothing is loaded
        overrides += list(recipe.dry_run)
    if allow_self_judging and not scripted:
        overrides.append("llm.instruments=same_as_subject")
    given: dict[str, str] = {}
    for item in instruments:
        role, sep, flag = item.partition("=")
        if not sep or not flag:
            raise UsageError(f"--instrument {item}: expected ROLE=BACKEND[:MODEL], e.g. judge=openai:gpt-4o")
        if role not in roles:
            raise UsageError(f"--instrument {item}: {recipe.plugin} has no instrument role {role!r} "
                             f"(its instruments: {', '.join(roles) or 'none'})")
        given[role] = flag
        overrides += _llm_sets(flag, f"llm.roles.{role}")
    overrides += list(sets)

    axes = {key: [str(v) for v in values] for key, values in recipe.grid.items()}
    for item in grid:
        key, sep, raw = item.partition("=")
        if not sep or key not in axes:
            known = ", ".join(axes) or "none"
            raise UsageError(f"--grid {item}: expected one of the recipe's axes as KEY=V1,V2 (its axes: {known})")
        axes[key] = [v.strip() for v in raw.split(",") if v.strip()]
    backend, _, models = llm.partition(":")
    subjects = [m.strip() for m in models.split(",") if m.strip()]
    if len(subjects) > 1:  # several models under test: one more axis
        axes["llm.model"] = subjects
        llm = f"{backend}:{subjects[0]}"
    # The llm section is resolved here, whole (the scenario's, the subject, then every llm.*
    # override), and handed to each point as its llm section: the sweep's base config must be
    # valid on its own, and an instrument pinned by a flag is part of it.
    llm_section = copy.deepcopy(read_yaml(scenario).get("llm") or {})
    llm_section.update(parse_llm_flag(llm))
    holder = {"llm": llm_section}
    rest = []
    for item in overrides:
        key, sep, value = item.partition("=")
        if sep and key.strip().startswith("llm."):
            set_dotted(holder, key.strip(), value)
        else:
            rest.append(item)
    axis_items = [f"{k}={','.join(v)}" for k, v in axes.items()] + rest
    extra: dict = {"llm": holder["llm"]}
    if out is not None:
        extra["output"] = {"db": str(out)}
    if not scripted and not allow_self_judging:  # before the engine's own check: this one names the paper's models
        missing = [r for r in roles if r not in pinned_roles(holder)]
        if missing:
            lines = "; ".join(f"{r} (the paper used {recipe.instruments.get(r, 'an unstated model')})" for r in missing)
            flags = " ".join(f"--instrument {r}=openai:MODEL" for r in missing)
            raise UsageError(
                f"reproduce {recipe.name}: instrument roles not pinned: {lines}. The model under test must not "
                f"stand in for them: add {flags} (or llm.roles.<role>: {{backend: ..., model: ...}} in {recipe.scenario}), "
                "or pass --allow-self-judging to let the subject's model play them"
            )
    points, base = plan_sweep(scenario, axis_items, seeds or recipe.seeds, extra)
    return Plan(recipe, points, Path(base.output.db), scripted, llm)
