"""TrendSim's headline results as `simkit reproduce` recipes (see simkit/reproduce/recipe.py).

Published numbers: Zhang et al., TrendSim, Findings of NAACL 2025 (arXiv 2412.12196v1),
as recorded in the project's research notes; the page of each table was not recorded.
"""

from __future__ import annotations

from simkit.plugins.trendsim.report import degree
from simkit.plugins.trendsim.world import load_topics
from simkit.reproduce.recipe import Finding, MetricSpec, Published, Recipe, largest_drop, lower

PAPER = "Zhang et al., TrendSim, Findings of NAACL 2025"
GROUPS = ("positive", "negative", "neutral")
DEGREES = ("SE", "PA-10", "PA-30", "PA-50")


def table5_cells(config: dict, subject: str) -> list[tuple[str, ...]]:
    """A run counts in its topic's sentiment group and in "All", at its attack degree."""
    ts = config["trendsim"]
    d = degree(float(ts["attack"]["share"]))
    return [(load_topics()[ts["topic"]].sentiment, d), ("All", d)]


def _row(group: str, metric: str, values: tuple, spreads: tuple = (None,) * 4) -> list[Published]:
    return [Published((group, d), metric, v, s) for d, v, s in zip(DEGREES, values, spreads)]


TABLE5 = Recipe(
    name="trendsim-table5",
    plugin="trendsim",
    title="Final emotion and social confidence of normal users under poisoning attacks",
    paper=PAPER,
    table="Table 5",
    page="§5 Problem 1, page not recorded",
    scenario="scenarios/trendsim_paper.yaml",
    profile=(),
    grid={
        "attack.share": ("0", "0.1", "0.3", "0.5"),
        "topic": ("marathon-hospital", "rescued-hikers", "factory-layoffs", "bridge-collapse", "timezone-change", "library-hours"),
    },
    instruments={"attacker": "GLM-3-turbo, the same model as the users"},
    idle_roles={"censor": "Table 5 runs without censorship"},
    subject="GLM-3-turbo plays the 1,000 normal users",
    cell_axes=("group", "degree"),
    cells=table5_cells,
    metrics=(
        MetricSpec("emotion.avg", "emotion.avg", paper="Emotion Average"),
        MetricSpec("emotion.div", "emotion.div", paper="Emotion Divergence"),
        MetricSpec("social_confidence.avg", "social_confidence.avg", paper="Social Confidence Average"),
        MetricSpec("social_confidence.div", "social_confidence.div", paper="Social Confidence Divergence"),
        MetricSpec("attack.exposure_share", "attack.exposure_share", paper="(beyond the paper) attacker share of comments shown"),
    ),
    published=(
        *_row("positive", "emotion.avg", (0.886, 0.812, 0.819, 0.813), (0.057, 0.145, 0.081, 0.048)),
        *_row("positive", "emotion.div", (0.140, 0.151, 0.180, 0.190)),
        *_row("positive", "social_confidence.avg", (0.905, 0.836, 0.845, 0.836), (0.040, 0.126, 0.068, 0.035)),
        *_row("positive", "social_confidence.div", (0.109, 0.132, 0.152, 0.168)),
        *_row("negative", "emotion.avg", (0.443, 0.429, 0.430, 0.442)),
        *_row("negative", "social_confidence.avg", (0.457, 0.441, 0.443, 0.457)),
        *_row("neutral", "emotion.avg", (0.525, 0.509, 0.509, 0.490)),
        *_row("neutral", "social_confidence.avg", (0.570, 0.550, 0.552, 0.523)),
        *_row("All", "emotion.avg", (0.653, 0.614, 0.617, 0.610)),
        *_row("All", "emotion.div", (0.117, 0.119, 0.132, 0.131)),
        *_row("All", "social_confidence.avg", (0.681, 0.643, 0.647, 0.635)),
        *_row("All", "social_confidence.div", (0.109, 0.117, 0.126, 0.131)),
    ),
    findings=(
        Finding("attacks lower emotion: All, PA-50 below SE", lower("emotion.avg", ("All", "PA-50"), ("All", "SE"))),
        Finding("attacks lower social confidence: All, PA-50 below SE",
                lower("social_confidence.avg", ("All", "PA-50"), ("All", "SE"))),
        Finding("attacks raise divergence: All, emotion div. PA-50 above SE", lower("emotion.div", ("All", "SE"), ("All", "PA-50"))),
        Finding("positive topics lose the most emotion from SE to PA-50", largest_drop("emotion.avg", GROUPS, "SE", "PA-50")),
        Finding("not proportional: All, PA-10 lowers emotion at least as much as PA-30",
                lower("emotion.avg", ("All", "PA-10"), ("All", "PA-30"))),
    ),
    seeds=1,
    spread_kind="std across the topics of a group (given for the positive group's averages only in our notes)",
    dry_run=("population.size=12",),
    notes=(
        "the paper's attackers ran on the users' model: --allow-self-judging reproduces that (labelled self-judged).",
        "simkit's topics are 6 English topics written for simkit (2 per sentiment group); the paper used 10 Weibo topics.",
        "simkit's population is its own 250 personas (the paper: 1,000 Weibo users); users who never visit keep 0.5, "
        "and are averaged in (the paper does not say).",
        "the negative and neutral groups' divergences are printed in our notes only as ranges (0.065-0.071, 0.104-0.120 "
        "for emotion), so they are not compared cell by cell.",
    ),
)

RECIPES = [TABLE5]
