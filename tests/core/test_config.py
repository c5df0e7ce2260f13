"""Scenario configuration: strict validation, clear errors, overrides; fuzzed with hypothesis."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simkit.config import parse_duration, parse_llm_flag
from simkit.engine.runner import load_scenario
from simkit.errors import ConfigError, UsageError

from tests.conftest import run_cli, townhall_yaml


def test_valid_file_loads_and_plugin_section_is_validated(townhall_site, tmp_path):
    config, plugin_cfg = load_scenario(townhall_yaml(tmp_path))
    assert config.plugin == "townhall"
    assert plugin_cfg.board_size == 3
    assert config.clock.tick == timedelta(minutes=10)


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda d: d.update(colour="red"), "colour: unknown key"),
        (lambda d: d["clock"].update(tick="soon"), "clock.tick"),
        (lambda d: d["llm"].update(temperature="hot"), "llm.temperature"),
        (lambda d: d["llm"].update(backend="gpt5"), "llm.backend"),
        (lambda d: d["townhall"].update(board_size=-1), "townhall.board_size"),
        (lambda d: d["townhall"].update(unknown=1), "townhall.unknown: unknown key"),
        (lambda d: d.update(plugin="nosuch"), "unknown plugin 'nosuch'"),
        (lambda d: d.pop("name"), "name: required key is missing"),
    ],
)
def test_bad_config_names_file_and_key_path(townhall_site, tmp_path, mutate, expected):
    path = townhall_yaml(tmp_path)
    data = yaml.safe_load(path.read_text())
    mutate(data)
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert expected in message


def test_set_overrides_reach_plugin_section_with_or_without_prefix(townhall_site, tmp_path):
    path = townhall_yaml(tmp_path)
    _, cfg = load_scenario(path, ["townhall.board_size=7"])
    assert cfg.board_size == 7
    _, cfg = load_scenario(path, ["board_size=9"])  # shorthand: not a top-level key
    assert cfg.board_size == 9
    config, _ = load_scenario(path, ["llm.temperature=0.1", "seed=42"])
    assert (config.llm.temperature, config.seed) == (0.1, 42)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(UsageError, match="file not found"):
        load_scenario(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"invalid YAML \(line"):
        load_scenario(bad)


def test_cli_usage_errors_are_one_line_exit_2(cli_env, tmp_path):
    path = townhall_yaml(tmp_path)
    proc = run_cli(["run", str(path), "--set", "townhall.board_size=oops"], env=cli_env, check_rc=2)
    assert "Traceback" not in proc.stderr
    lines = [l for l in proc.stderr.strip().splitlines() if l.strip()]
    assert len(lines) == 1 and "townhall.board_size" in lines[0]
    proc = run_cli(["run", str(tmp_path / "missing.yaml")], env=cli_env, check_rc=2)
    assert "file not found" in proc.stderr and "Traceback" not in proc.stderr
    data = yaml.safe_load(path.read_text())
    data["population"]["personas"] = str(tmp_path / "ghost.jsonl")
    path.write_text(yaml.safe_dump(data))
    proc = run_cli(["run", str(path)], env=cli_env, check_rc=2)
    assert "population.personas" in proc.stderr and "ghost.jsonl" in proc.stderr


@pytest.mark.parametrize("flag", ["bogus", "openai", "gpt:4"])
def test_bad_llm_flag(flag):
    with pytest.raises(ConfigError):
        parse_llm_flag(flag)


@given(st.one_of(st.integers(0, 10**6), st.from_regex(r"\A\d{1,5}(\.\d{1,2})?(ms|s|m|h|d)?\Z")))
def test_durations_parse_to_positive_or_zero(value):
    assert parse_duration(value).total_seconds() >= 0


# -- fuzzing: any YAML document ends in a ConfigError/UsageError or a valid config ---------

KEYS = ["name", "plugin", "seed", "clock", "population", "llm", "output", "townhall", "mode",
        "start", "end", "tick", "backend", "size", "personas", "temperature", "board_size", "x"]
leaf = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                 st.text(max_size=12), st.sampled_from(["townhall", "10m", "scripted", "2025-01-01T00:00:00"]))
tree = st.recursive(leaf, lambda kids: st.one_of(st.lists(kids, max_size=3),
                                                 st.dictionaries(st.sampled_from(KEYS), kids, max_size=5)), max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=st.dictionaries(st.sampled_from(KEYS), tree, max_size=8))
def test_fuzzed_configs_never_crash(townhall_site, tmp_path, doc):
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(doc))
    try:
        load_scenario(path)
    except UsageError as exc:  # ConfigError is a UsageError
        assert str(path) in str(exc)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_fuzzed_text_never_crashes(townhall_site, tmp_path, text):
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_scenario(path)
    except UsageError as exc:
        assert str(path) in str(exc)


def test_set_llm_cache_off_means_off_although_yaml_reads_false(townhall_site, tmp_path):
    config, _ = load_scenario(townhall_yaml(tmp_path), ["llm.cache=off"])
    assert config.llm.cache == "off"
    with pytest.raises(ConfigError, match="llm.cache"):
        load_scenario(townhall_yaml(tmp_path), ["llm.cache=true"])
