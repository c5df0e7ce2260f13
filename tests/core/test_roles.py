"""Subject and instrument roles (simkit/roles.py): a sweep over the model under test never
changes who measures it; every role's model is in the run record; a panel of judges on
three endpoints sends each judge's calls to its own endpoint."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import pytest
import yaml

from simkit.config import LLMConfig
from simkit.engine.runner import Simulation, configure, load_scenario
from simkit.errors import ConfigError
from tests.conftest import ROOT, SMALL_PERSONAS, run_cli
from tests.servers.fault_server import FaultServer

INSTRUMENTS = ("environment", "npc", "judge", "arbiter")
WIDE = {**os.environ, "COLUMNS": "200"}


def pa_yaml(folder: Path, llm: dict, **section) -> Path:
    data = yaml.safe_load((ROOT / "scenarios" / "personaarena.yaml").read_text())
    data["llm"] = llm
    data["population"] = {"personas": str(SMALL_PERSONAS), "size": 12}
    data["output"] = {"db": str(folder / "run.db")}
    data["personaarena"].update(section)
    path = folder / "pa.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run_models(db: Path) -> dict[str, dict[str, tuple]]:
    conn = sqlite3.connect(db)
    out: dict[str, dict[str, tuple]] = {}
    for run_id, role, kind, backend, model in conn.execute("select run_id, role, kind, backend, model from run_models"):
        out.setdefault(run_id, {})[role] = (kind, backend, model)
    return out


def test_a_sweep_over_the_subject_needs_pinned_instruments_and_keeps_them_fixed(tmp_path):
    unpinned = pa_yaml(tmp_path, {"backend": "scripted"})
    proc = run_cli(["sweep", str(unpinned), "--quiet", "--set", "llm.model=A,B"], check_rc=2)
    line = proc.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in proc.stderr
    assert "instrument roles environment, npc, judge, arbiter of plugin personaarena are not pinned" in line
    assert "judge: {backend: local}" in line and "same_as_subject" in line
    assert not (tmp_path / "run.db").exists()

    pinned = {"backend": "scripted", "roles": {r: {"backend": "scripted", "model": f"fixed-{r}"} for r in INSTRUMENTS}}
    run_cli(["sweep", str(pa_yaml(tmp_path, pinned)), "--quiet", "--set", "llm.model=A,B"])
    models = run_models(tmp_path / "run.db")
    assert len(models) == 2
    subjects = sorted(m["protagonist"] for m in models.values())
    assert subjects == [("subject", "scripted", "scripted-v1:A"), ("subject", "scripted", "scripted-v1:B")]
    for m in models.values():  # the instruments are the same in both rows
        assert {r: m[r] for r in INSTRUMENTS} == {r: ("instrument", "scripted", f"scripted-v1:fixed-{r}") for r in INSTRUMENTS}
    conn = sqlite3.connect(tmp_path / "run.db")
    judged = set(conn.execute("select distinct model from judgements where role = 'judge'"))
    assert judged == {("scripted-v1:fixed-judge",)}
    ids = [r for (r,) in conn.execute("select run_id from runs")]
    board = run_cli(["runs", "compare", *ids, "--db", str(tmp_path / "run.db"), "--by", "model"],
                    env=WIDE).stdout
    assert "scripted-v1:A" in board and "scripted-v1:B" in board


def test_self_judging_is_an_explicit_choice_and_is_said_in_words(tmp_path):
    path = pa_yaml(tmp_path, {"backend": "scripted", "model": "A"})
    out = run_cli(["run", str(path), "--quiet", "--allow-self-judging"], env=WIDE).stdout
    assert "self-judged" in out
    [(run_id, models)] = run_models(tmp_path / "run.db").items()
    assert {role: m[2] for role, m in models.items()} == dict.fromkeys(("protagonist", *INSTRUMENTS), "scripted-v1:A")
    listing = run_cli(["runs", "list", "--db", str(tmp_path / "run.db")], env=WIDE).stdout
    assert "self-judged" in listing
    shown = run_cli(["runs", "show", run_id, "--db", str(tmp_path / "run.db")], env=WIDE).stdout
    assert "instrument" in shown and "protagonist" in shown


def test_llm_scripted_is_a_dry_run_for_every_role_of_a_pinned_scenario():
    from simkit.config import parse_llm_flag

    for name in ("personaarena", "characterbox", "cdi", "trendsim"):
        config, _ = load_scenario(ROOT / "scenarios" / f"{name}.yaml", [], {"llm": parse_llm_flag("scripted")})
        assert config.llm.instruments == "scripted"
        assert {config.llm.for_role(r).backend for r in config.llm.roles} == {"scripted"}
        config, _ = load_scenario(ROOT / "scenarios" / f"{name}.yaml", [], {"llm": parse_llm_flag("openai:gpt-x")})
        assert config.llm.subject().model == "gpt-x"
        assert {config.llm.for_role(r).backend for r in config.llm.roles} == {"local"}  # pinned: not the subject's


def test_a_pinned_instrument_never_inherits_the_subjects_model():
    cfg = LLMConfig(backend="openai", model="subject-x", base_url="http://a:1/v1", temperature=0.9,
                    roles={"judge": {"backend": "local", "temperature": 0.0}, "npc": {"backend": "openai", "model": "npc-y"}})
    judge, npc = cfg.for_role("judge"), cfg.for_role("npc")
    assert (judge.backend, judge.model, judge.base_url, judge.temperature) == ("local", None, None, 0.0)
    assert (npc.model, npc.base_url, npc.temperature) == ("npc-y", None, 0.9)


@pytest.mark.parametrize("roles, message", [
    ({"protagonist": {"backend": "local"}}, "llm.roles.protagonist: protagonist is the model under test"),
    ({"judge_b": {"backend": "local"}}, "llm.roles.judge_b: unknown role for plugin personaarena"),
])
def test_role_names_are_checked(roles, message):
    data = {"name": "t", "plugin": "personaarena", "llm": {"backend": "scripted", "instruments": "scripted", "roles": roles}}
    with pytest.raises(ConfigError, match=message):
        configure(data, "x.yaml")


def test_a_judge_spec_naming_an_unknown_role_is_a_config_error_not_a_fallback():
    data = {"name": "t", "plugin": "personaarena", "llm": {"backend": "scripted", "instruments": "scripted"},
            "personaarena": {"judge": {"judges": [{"id": "a", "persona": "p", "role": "judge_b"}]}}}
    with pytest.raises(ConfigError, match=r"personaarena.judge.judges\[0\].role: 'judge_b' is not an instrument role"):
        configure(data, "x.yaml")
    data["personaarena"]["judge"]["judges"][0] = {"id": "a", "persona": "p", "llm": {"model": "m"}}
    data["llm"]["instruments"] = "pinned"
    data["llm"]["roles"] = {r: {"backend": "scripted"} for r in INSTRUMENTS}
    with pytest.raises(ConfigError, match=r"personaarena.judge.judges\[0\].llm: set backend"):
        configure(data, "x.yaml")


def test_three_judges_on_three_endpoints(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMKIT_TEST_KEY", "test-key")
    servers = [FaultServer().start() for _ in range(3)]
    try:
        judges = [{"id": f"j{i}", "persona": f"Judge number {i}.",
                   "llm": {"backend": "openai", "model": f"judge-model-{i}", "base_url": s.base_url, "api_key_env": "SIMKIT_TEST_KEY"}}
                  for i, s in enumerate(servers)]
        llm = {"backend": "scripted", "roles": {r: {"backend": "scripted", "model": r} for r in INSTRUMENTS}}
        path = pa_yaml(tmp_path, llm, judge={"judges": judges, "max_parse_retries": 0})
        config, plugin_cfg = load_scenario(path)
        asyncio.run(Simulation(config, plugin_cfg, tmp_path / "run.db", source=path).run())
    finally:
        for s in servers:
            s.stop()
    conn = sqlite3.connect(tmp_path / "run.db")
    for i, server in enumerate(servers):
        model = f"judge-model-{i}"
        sent = conn.execute("select count(*) from llm_calls where model = ? and cached = 0", [model]).fetchone()[0]
        assert sent >= 1 and server.stats.requests == sent  # each judge's calls went to its own endpoint, all of them
        rows = conn.execute("select distinct judge_id, role, model from judgements where judge_id = ?", [f"j{i}"]).fetchall()
        assert rows == [(f"j{i}", f"judge:j{i}", model)]
    models = dict(conn.execute("select role, base_url from run_models where role like 'judge:%'").fetchall())
    assert models == {f"judge:j{i}": s.base_url for i, s in enumerate(servers)}
