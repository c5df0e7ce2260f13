"""The package's shape: no import circles, display code outside the engine, the LLM
accounting named once, per-role LLM settings checked against the plugin's roles."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

import simkit
from simkit.config import LLMConfig, build_config
from simkit.errors import ConfigError
from simkit.llm.client import COUNTERS, LLMStats
from simkit.llm.factory import RoleClients
from simkit.store.schema import TABLES

PACKAGE = Path(simkit.__file__).parent


def is_module(dotted: str) -> bool:
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def module_imports() -> nx.DiGraph:
    """simkit module -> simkit modules it imports anywhere (deferred imports inside
    functions included; only `if TYPE_CHECKING:` blocks are left out)."""
    graph = nx.DiGraph()
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        graph.add_node(name)
        tree = ast.parse(path.read_text())
        typing_only = {id(n) for b in ast.walk(tree) if isinstance(b, ast.If) and "TYPE_CHECKING" in ast.unparse(b.test) for n in ast.walk(b)}
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from pkg import submodule` depends on the submodule, not on pkg/__init__
                targets = [f"{node.module}.{a.name}" if is_module(f"{node.module}.{a.name}") else node.module for a in node.names]
            for target in targets:
                if target.startswith("simkit"):
                    graph.add_edge(name, target)
    return graph


def test_no_import_circles():
    cycles = list(nx.simple_cycles(module_imports()))
    assert cycles == []


def test_engine_has_no_display_code_and_plugins_base_imports_no_engine():
    graph = module_imports()
    engine = [n for n in graph if n.startswith("simkit.engine")]
    assert not any(t.startswith(("rich", "simkit.display")) for n in engine for t in graph.successors(n))
    for path in (PACKAGE / "engine").glob("*.py"):
        assert "import rich" not in path.read_text() and "from rich" not in path.read_text(), path.name
    assert not [t for t in graph.successors("simkit.plugins.base") if t.startswith("simkit.engine")]


def test_llm_counters_are_named_once_and_match_the_runs_table():
    assert set(LLMStats().totals()) == set(COUNTERS)
    assert set(COUNTERS) <= set(TABLES["runs"]["columns"])


def test_roles_resolve_over_the_default_and_share_a_backend_where_they_can():
    cfg = LLMConfig(backend="scripted", temperature=0.7, roles={"judge": {"temperature": 0.0}, "narrator": {"max_tokens": 64}})
    pool = RoleClients(cfg, seed=1)
    judge, narrator, other = pool.for_role("judge"), pool.for_role("narrator"), pool.for_role("npc")
    assert judge.temperature == 0.0 and narrator.max_tokens == 64 and narrator.temperature == 0.7
    assert other is pool.default and judge is not pool.default
    assert judge.backend is pool.default.backend is narrator.backend  # one model, loaded once
    assert judge.stats is pool.default.stats


def test_an_unknown_role_is_a_config_error_naming_the_key():
    from simkit.engine.registry import load_plugin

    from simkit.engine.runner import configure

    data = {"name": "t", "plugin": "trendsim", "llm": {"roles": {"narator": {"temperature": 0}}}}
    with pytest.raises(ConfigError, match=r"x.yaml: llm.roles.narator: unknown role for plugin trendsim \(its instrument roles: attacker, censor\)"):
        configure(data, "x.yaml")
    bad_value = {"name": "t", "plugin": "trendsim", "llm": {"roles": {"censor": {"temperature": 9}}}}
    with pytest.raises(ConfigError, match=r"llm.roles.censor.temperature"):
        build_config(bad_value, "x.yaml", load_plugin)


async def test_scripted_roles_with_different_model_names_answer_differently():
    cfg = LLMConfig(backend="scripted", roles={"judge": {"model": "judge-a"}})
    pool = RoleClients(cfg, seed=1)
    ask = [{"role": "user", "content": "rate this"}]
    default, judge = await pool.default.complete(ask), await pool.for_role("judge").complete(ask)
    assert pool.default.model == "scripted-v1" and judge.request_hash != default.request_hash
    assert pool.for_role("judge").model == "scripted-v1:judge-a"
