"""LLM judges shared by the scenario plugins: rubric scoring by a panel (critique, independent
scores, debate on disputed metrics, blind finals, arbiter), pairwise comparison, the CDI
disclosure judge, and agreement diagnostics. See README.md."""

from simkit.judges.config import ArbiterSpec, Disagreement, JudgeConfig, JudgeSpec, keep_defaults
from simkit.judges.disclosure import (
    Disclosure,
    DisclosureConfig,
    DisclosureItem,
    DisclosureJudge,
    DisclosureMetrics,
    RunDisclosure,
    disclosure_metrics,
)
from simkit.judges.host import RECORD_KEYS, JudgeHost
from simkit.judges.item import JudgeItem, Step
from simkit.judges.panel import JudgePanel
from simkit.judges.rubric import (
    CHARACTERBOX,
    GRICE,
    PERSONAARENA,
    RUBRICS,
    Metric,
    Rubric,
)
from simkit.judges.scripted import RESPONDERS, register_scripted
from simkit.judges.verdict import PairVerdict, Verdict, Vote

__all__ = [
    "CHARACTERBOX",
    "GRICE",
    "PERSONAARENA",
    "RECORD_KEYS",
    "RESPONDERS",
    "RUBRICS",
    "ArbiterSpec",
    "Disagreement",
    "Disclosure",
    "DisclosureConfig",
    "DisclosureItem",
    "DisclosureJudge",
    "DisclosureMetrics",
    "JudgeConfig",
    "keep_defaults",
    "JudgeHost",
    "JudgeItem",
    "JudgePanel",
    "JudgeSpec",
    "Metric",
    "PairVerdict",
    "Rubric",
    "RunDisclosure",
    "Step",
    "Verdict",
    "Vote",
    "disclosure_metrics",
    "register_scripted",
]
