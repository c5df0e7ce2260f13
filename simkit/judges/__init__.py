"""LLM judges shared by the scenario plugins: rubric scoring by a panel (critique, independent
scores, debate on disputed metrics, blind finals, arbiter), pairwise comparison. See README.md."""

from simkit.judges.config import ArbiterSpec, Disagreement, JudgeConfig, JudgeSpec
from simkit.judges.host import RECORD_KEYS, JudgeHost
from simkit.judges.item import JudgeItem, Step
from simkit.judges.panel import JudgePanel
from simkit.judges.rubric import CHARACTERBOX, GRICE, PERSONAARENA, RUBRICS, Metric, Rubric
from simkit.judges.scripted import RESPONDERS, register_scripted
from simkit.judges.verdict import PairVerdict, Verdict, Vote

__all__ = [
    "ArbiterSpec", "CHARACTERBOX", "Disagreement", "GRICE", "JudgeConfig", "JudgeHost", "JudgeItem", "JudgePanel",
    "JudgeSpec", "Metric", "PERSONAARENA", "PairVerdict", "RECORD_KEYS", "RESPONDERS", "RUBRICS", "Rubric",
    "Step", "Verdict", "Vote", "register_scripted",
]
