"""Subject and instrument roles: which model is under test, which models measure it.

A plugin's `subject_roles` play the model under test (`llm.model`, `--llm`, a sweep over
`llm.model`); every other role of its `llm_roles` is an instrument (a narrator, an
environment agent, NPCs, judges, an arbiter) and must be pinned under `llm.roles.<role>`
with its own `backend` (and model), so that comparing two subjects never changes who
measures them. `llm.instruments: same_as_subject` (`--allow-self-judging`) lets the
subject play the instruments instead, and the run says "self-judged"; `instruments:
scripted` (what `--llm scripted` sets) plays them with the scripted backend (a dry run).

A judge of a panel (`judge.judges[i]`) may name its own model under `llm:`; it becomes the
instrument role `judge:<id>`, with its own client, cache key, judgement rows and row in
`run_models`.
"""

from __future__ import annotations

from typing import Any, Iterator

from pydantic import BaseModel

from simkit.config import LLMConfig, LLMSettings, ScenarioConfig
from simkit.errors import ConfigError

PANEL_PREFIX = "judge:"


def instrument_roles(plugin_cls: type) -> tuple[str, ...]:
    """The plugin's roles that are not the model under test."""
    subjects = set(getattr(plugin_cls, "subject_roles", ()))
    return tuple(r for r in getattr(plugin_cls, "llm_roles", ()) if r not in subjects)


def _walk(node: Any, path: str) -> Iterator[tuple[str, BaseModel]]:
    """Every pydantic model inside a plugin config, with its dotted path."""
    if isinstance(node, BaseModel):
        yield path, node
        for name in type(node).model_fields:
            yield from _walk(getattr(node, name), f"{path}.{name}")
    elif isinstance(node, (list, tuple)):
        for i, item in enumerate(node):
            yield from _walk(item, f"{path}[{i}]")
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from _walk(item, f"{path}.{key}")


def judge_role_refs(plugin_cfg: BaseModel, section: str) -> tuple[dict[str, tuple[str, LLMSettings]], list[tuple[str, str]]]:
    """From a plugin config: the panel judges with their own model (role `judge:<id>` ->
    (where, settings)), and every other role a judge config names ((where, role))."""
    from simkit.judges.config import JudgeConfig, JudgeSpec
    from simkit.judges.disclosure import DisclosureConfig

    own: dict[str, tuple[str, LLMSettings]] = {}
    refs: list[tuple[str, str]] = []
    for where, model in _walk(plugin_cfg, section):
        if isinstance(model, JudgeSpec):
            if model.llm is not None:
                role = PANEL_PREFIX + model.id
                if role in own:
                    raise ConfigError(f"{where}: a judge with id {model.id!r} and its own llm is defined twice")
                own[role] = (f"{where}.llm", model.llm)
            else:
                refs.append((f"{where}.role", model.role))
        elif isinstance(model, JudgeConfig) and len(model.judges) > 1:  # one judge never disputes
            if model.arbiter.enabled:
                refs.append((f"{where}.arbiter.role", model.arbiter.role))
            if model.strategy == "simultaneous_summarizer" and model.debate:
                refs.append((f"{where}.summarizer_role", model.summarizer_role))
        elif isinstance(model, DisclosureConfig):
            refs.append((f"{where}.role", model.role))
    return own, refs


def _pin_hint(role: str) -> str:
    return f"{role}: {{backend: local}}"


def check_roles(scenario: ScenarioConfig, plugin_cls: type, plugin_cfg: BaseModel, source: str) -> None:
    """Validate `llm.roles` against the plugin's roles and the judge panels, add each panel
    judge's own model as role `judge:<id>`, and refuse unpinned instruments (exit 2)."""
    llm: LLMConfig = scenario.llm
    plugin = scenario.plugin
    subjects = tuple(getattr(plugin_cls, "subject_roles", ()))
    instruments = instrument_roles(plugin_cls)
    own, refs = judge_role_refs(plugin_cfg, plugin)
    for role in llm.roles:
        if role in subjects:
            raise ConfigError(
                f"{source}: llm.roles.{role}: {role} is the model under test; set it with the top-level llm keys "
                f"(llm.model, --llm), not under llm.roles"
            )
        if role not in instruments and role not in own:
            known = ", ".join(sorted(instruments)) or "none: it runs every call on the model under test"
            raise ConfigError(f"{source}: llm.roles.{role}: unknown role for plugin {plugin} (its instrument roles: {known})")
    for where, role in refs:
        if role not in instruments:
            known = ", ".join(sorted(instruments)) or "none"
            raise ConfigError(
                f"{source}: {where}: {role!r} is not an instrument role of plugin {plugin} (its instrument roles: {known}); "
                f"give the judge its own model with llm: {{backend: ..., model: ...}} instead"
            )
    roles = dict(llm.roles)
    for role, (where, settings) in own.items():
        if llm.instruments == "pinned" and "backend" not in settings.model_fields_set:
            raise ConfigError(f"{source}: {where}: set backend (and model) for this judge, e.g. llm: {{backend: openai, model: gpt-4o}}")
        roles[role] = settings
    if llm.instruments == "pinned":
        unpinned = [r for r in instruments if r not in roles or "backend" not in roles[r].model_fields_set]
        if unpinned:
            raise ConfigError(
                f"{source}: llm.roles: instrument role{'s' if len(unpinned) > 1 else ''} {', '.join(unpinned)} of plugin {plugin} "
                f"{'are' if len(unpinned) > 1 else 'is'} not pinned, so the model under test would play "
                f"{'them' if len(unpinned) > 1 else 'it'}; add under llm.roles: "
                + "; ".join(_pin_hint(r) for r in unpinned)
                + " (or your fixed model, e.g. {backend: openai, model: gpt-4o}), "
                "or set llm.instruments: same_as_subject (--allow-self-judging) to let the subject play them"
            )
    else:  # every instrument gets an entry, so each is resolved (and recorded) as the mode says
        for role in instruments:
            roles.setdefault(role, LLMSettings.model_construct(_fields_set=set()))
    llm.roles = roles


def self_judged(config_json: dict) -> bool:
    """True when the run's instruments were played by the model under test."""
    return (config_json.get("llm") or {}).get("instruments") == "same_as_subject"


def run_model_rows(run_id: str, plugin_cls: type, llm: LLMConfig, clients: Any) -> list[dict]:
    """One `run_models` row per role: the subject roles (or `default` when the plugin names
    none), then each instrument and each panel judge (`judge:<id>`). No keys, only URLs."""
    subjects = tuple(getattr(plugin_cls, "subject_roles", ())) or ("default",)
    instruments = list(instrument_roles(plugin_cls))
    instruments += sorted(r for r in llm.roles if r.startswith(PANEL_PREFIX))
    rows = []
    for kind, names in (("subject", subjects), ("instrument", instruments)):
        for role in names:
            settings = llm.subject() if kind == "subject" else llm.for_role(role)
            client = clients.for_role(role)
            url = settings.base_url
            if settings.endpoints:
                url = ",".join(e.base_url for e in settings.endpoints)
            rows.append({"run_id": run_id, "role": role, "kind": kind, "backend": settings.backend,
                         "model": client.model, "base_url": url if settings.backend == "openai" else None})
    return rows
