"""TrendSim's headline results as `simkit reproduce` recipes (see simkit/reproduce/recipe.py).

Published numbers: Zhang et al., TrendSim, Findings of NAACL 2025 (arXiv 2412.12196v1),
read from the paper's tables; the page of each table was not recorded.
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


TOPICS = tuple(load_topics())  # every shipped topic, in the order of topics.yaml


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
        "topic": TOPICS,
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

def validity_cells(config: dict, subject: str) -> list[tuple[str, ...]]:
    """A run counts in its topic's group and in "All", once per judge and for the panel."""
    ts = config["trendsim"]
    judges = [j["id"] for j in (ts["validity"].get("judge") or {}).get("judges", [])] + ["panel"]
    group = load_topics()[ts["topic"]].sentiment
    return [(g, j) for g in (group, "All") for j in judges]


def negative_least_rational(get) -> bool | None:
    values = {g: get((g, "panel"), "rationality") for g in GROUPS}
    if any(v is None for v in values.values()):
        return None
    return values["negative"] == min(values.values())


VALIDITY = Recipe(
    name="trendsim-validity",
    plugin="trendsim",
    title="LLM-judged validity: attacker consistency and concealment, rationality and diversity of the discussion",
    paper=PAPER,
    table="Tables 2-3",
    page="§4, page not recorded",
    scenario="scenarios/trendsim_validity.yaml",
    profile=(),
    grid={
        "attack.share": ("0.3",),
        "topic": TOPICS,
    },
    instruments={"attacker": "GLM-3-turbo, the same model as the users",
                 "judge:gpt4": "GPT-4", "judge:glm4": "GLM-4", "judge:llama3": "Llama-3"},
    idle_roles={"censor": "no censorship"},
    subject="GLM-3-turbo plays the users and the attackers",
    cell_axes=("group", "judge"),
    cells=validity_cells,
    metrics=(
        MetricSpec("consistency", "validity.attacker.consistency", {"judge": "{judge}"}, paper="attacker Consistency"),
        MetricSpec("concealment", "validity.attacker.concealment", {"judge": "{judge}"}, paper="attacker Concealment"),
        MetricSpec("rationality", "validity.system.rationality", {"judge": "{judge}"}, paper="Rationality"),
        MetricSpec("diversity", "validity.system.diversity", {"judge": "{judge}"}, paper="Diversity"),
    ),
    published=(
        Published(("All", "panel"), "consistency", 0.837),
        Published(("All", "panel"), "concealment", 0.518),
        Published(("positive", "panel"), "rationality", 0.845),
        Published(("negative", "panel"), "rationality", 0.758),
        Published(("neutral", "panel"), "rationality", 0.816),
        Published(("All", "panel"), "rationality", 0.806),
        Published(("All", "panel"), "diversity", 0.766),
    ),
    findings=(
        Finding("negative topics' comment sections are the least rational", negative_least_rational),
    ),
    seeds=1,
    spread_kind="none printed",
    dry_run=("population.size=12",),
    notes=(
        "the panel is the mean of the three judges, as the paper averages its judges (no debate, no arbiter).",
        "concealment = 1 - the judges' malice score (the paper says only that malice was normalised).",
        "Table 1 (user behaviour and psychology consistency) is not judged yet; the attack degree of the paper's "
        "validity runs is not recorded in our notes (simkit uses PA-30).",
        "the judges' models are pinned in scenarios/trendsim_validity.yaml (trendsim.validity.judge.judges): point "
        "their base_url at your server there.",
    ),
)

RECIPES = [TABLE5, VALIDITY]
