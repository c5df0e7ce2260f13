"""TrendSim's measurements, written with `ctx.metric`.

The paper's outcome metrics: emotion and social confidence of the normal users, their
average and divergence (population std), at the end of the run and hour by hour, overall
and by interest group. Beyond the paper: engagement counters, how often users were shown
attacker comments (from the exposures recorded on topic pages) and the best rank each
attacker comment reached, censorship counts, and the interaction network's attention on
attackers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable

import networkx as nx
import numpy as np

from simkit.plugins.trendsim.network import attention_share
from simkit.plugins.trendsim.world import World

Metric = Callable[..., None]
OUTCOMES = ("emotion", "social_confidence")


@dataclass
class Tally:
    """Counters kept while actions are applied."""

    visits: int = 0  # normal users' visits, their steps (one page, one action each) and LLM cost
    agent_steps: int = 0
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    comment_likes: int = 0
    comments: int = 0
    replies: int = 0
    impressions: int = 0  # comments shown to normal users on topic pages
    attack_impressions: int = 0  # of which written by attackers
    censored_user: int = 0
    censored_attack: int = 0


def spread(values: Iterable[float]) -> tuple[float, float]:
    """(average, divergence): mean and population std; (nan, nan) for no values."""
    arr = np.asarray(list(values), dtype=float)
    if arr.size == 0:
        return float("nan"), float("nan")
    return float(arr.mean()), float(arr.std())


def outcomes(metric: Metric, states: list[tuple[str, dict]], labels: dict | None = None) -> None:
    """Emotion and social confidence, overall and per interest group.
    `states`: (interest group, state with `emotion` and `social_confidence`) per normal user."""
    labels = labels or {}
    for name in OUTCOMES:
        avg, div = spread(s[name] for _g, s in states)
        metric(f"{name}.avg", avg, labels)
        metric(f"{name}.div", div, labels)
    groups: dict[str, list[dict]] = defaultdict(list)
    for group, state in states:
        groups[group].append(state)
    for group in sorted(groups):
        for name in OUTCOMES:
            avg, div = spread(s[name] for s in groups[group])
            metric(f"user_group.{name}.avg", avg, {**labels, "group": group})
            metric(f"user_group.{name}.div", div, {**labels, "group": group})


def engagement(metric: Metric, world: World, tally: Tally) -> None:
    metric("engagement.visits", tally.visits)
    metric("engagement.views", world.views)
    metric("engagement.topic_likes", world.likes)
    metric("engagement.reposts", world.reposts)
    metric("engagement.comments", tally.comments)
    metric("engagement.comment_likes", tally.comment_likes)
    metric("engagement.replies", tally.replies)


def cost(metric: Metric, tally: Tally) -> None:
    """The users' cognition cost per agent-step (compare `cognition: faithful` and `fused`)."""
    steps = max(1, tally.agent_steps)
    metric("cost.agent_steps", tally.agent_steps)
    metric("cost.calls_per_step", tally.calls / steps)
    metric("cost.tokens_in_per_step", tally.tokens_in / steps)
    metric("cost.tokens_out_per_step", tally.tokens_out / steps)


def attack(metric: Metric, world: World, tally: Tally, n_attackers: int) -> None:
    """Attacker counts and visibility; only the share and the count when there are none."""
    metric("attack.attackers", n_attackers)
    metric("attack.exposure_share", tally.attack_impressions / tally.impressions if tally.impressions else 0.0)
    if not n_attackers:
        return
    attack_comments = [c for c in world.comments.values() if c.attack_type]
    metric("attack.comments", len(attack_comments) + tally.censored_attack)
    metric("attack.censored", tally.censored_attack)
    metric("attack.impressions", tally.attack_impressions)
    if attack_comments:  # NaN would be stored as NULL
        metric("attack.best_rank", min(c.best_rank for c in attack_comments))
    for c in attack_comments:
        metric("visibility.attack_comment_rank", c.best_rank, {"cid": c.cid, "type": c.attack_type, "likes": c.likes})


def censorship(metric: Metric, tally: Tally) -> None:
    metric("censorship.removed", tally.censored_user + tally.censored_attack)
    metric("censorship.removed_user_comments", tally.censored_user)


def network(metric: Metric, graph: nx.DiGraph, n_attackers: int) -> None:
    metric("network.edges", graph.number_of_edges())
    if n_attackers:
        metric("attack.attention_share", attention_share(graph))


__all__ = ["Tally", "attack", "censorship", "cost", "engagement", "network", "outcomes", "spread"]
