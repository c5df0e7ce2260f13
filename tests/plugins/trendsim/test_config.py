"""The `trendsim:` section: defaults match the paper, mistakes are caught with their key."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from simkit.plugins.trendsim.config import TrendSimConfig


def test_defaults_are_the_papers_settings():
    cfg = TrendSimConfig()
    assert (cfg.max_actions_per_visit, cfg.page_size) == (4, 4)
    assert (cfg.kernel.t_peak, cfg.kernel.alpha, cfg.kernel.span) == (5.0, 1.0, 10.0)
    assert cfg.attack.period == timedelta(hours=4) and cfg.attack.share == 0
    assert not cfg.censorship.enabled  # on in the authors' shipped config, off here (documented)


def test_durations_accept_yaml_spellings_and_stored_iso():
    cfg = TrendSimConfig.model_validate({"attack": {"period": "90m"}, "code_window": "PT2H"})
    assert cfg.attack.period == timedelta(minutes=90) and cfg.code_window == timedelta(hours=2)
    again = TrendSimConfig.model_validate(cfg.model_dump(mode="json"))
    assert again == cfg


@pytest.mark.parametrize(
    "section, where",
    [
        ({"attack": {"shares": 0.3}}, ("attack", "shares")),
        ({"attack": {"share": 1.0}}, ("attack", "share")),
        ({"attack": {"mix": {"antisocial": 0, "trolling": 0, "rumor": 0}}}, ("attack", "mix")),
        ({"attack": {"mix": {"spam": 1}}}, ("attack", "mix", "spam")),
        ({"topic": "moon-landing"}, ("topic",)),
        ({"kernel": {"t_peak": 10}}, ("kernel",)),
        ({"cognition": "chain-of-thought"}, ("cognition",)),
        ({"censorship": {"start_fraction": 1.5}}, ("censorship", "start_fraction")),
    ],
)
def test_mistakes_name_their_key(section, where):
    with pytest.raises(ValidationError) as err:
        TrendSimConfig.model_validate(section)
    assert tuple(err.value.errors()[0]["loc"][: len(where)]) == where


@pytest.mark.parametrize("name, share", [("trendsim", 0.0), ("trendsim_pa10", 0.1), ("trendsim_pa30", 0.3), ("trendsim_pa50", 0.5)])
def test_shipped_scenarios_validate_with_exact_attack_shares(name, share):
    from simkit.engine.runner import load_scenario
    from simkit.plugins.trendsim.plugin import attacker_counts
    from tests.conftest import ROOT

    config, cfg = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    assert config.llm.backend == "local" and cfg.cognition == "fused" and cfg.attack.share == share
    n = config.population.size
    assert sum(attacker_counts(n, share, cfg.attack.mix).values()) == pytest.approx(share * n)
