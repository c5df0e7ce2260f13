"""TrendSim: one trending topic, a comment section ranked by likes, LLM users walking a
page state machine at rise-peak-decay visit times, and prototype-based attackers posting
poisoning comments. See README.md in this folder for the mapping to the paper."""

from simkit.plugins.trendsim.plugin import TrendSimPlugin

__all__ = ["TrendSimPlugin"]
