"""PersonaArena's headline results as `simkit reproduce` recipes (see simkit/reproduce/recipe.py).

Published numbers: Shi et al., PersonaArena, arXiv 2605.17044 ((Findings of) ACL 2026), from
three third-party notes that agree with each other; the paper itself was not read, so no
page is known.
"""

from __future__ import annotations

import re

from simkit.reproduce.recipe import Cell, Finding, Lookup, MetricSpec, Published, Recipe, order, within

PAPER = "Shi et al., PersonaArena, arXiv 2605.17044"
LEADERBOARD = (  # model, average score, its ± as printed
    ("GPT-5.1", 3.963, 0.04), ("GPT-4.1", 3.948, 0.14), ("DeepSeek-V3.2", 3.902, 0.05),
    ("Qwen3-32B", 3.811, 0.06), ("Mistral-small3.2", 3.753, 0.11), ("Qwen3-8B", 3.363, 0.04),
)
EARLY, FULL = "early stop", "full episode"
POOLED = ("models run", "early stop vs full")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9.]", "", name.lower())


def model_label(subject: str) -> str:
    """The leaderboard's name for the model under test (`openai:gpt-4.1` -> `GPT-4.1`), else as given."""
    model = subject.split(":", 1)[-1].split("/")[-1]
    for name, _v, _s in LEADERBOARD:
        if _norm(name) == _norm(model):
            return name
    return model or subject


def cells(config: dict, subject: str) -> list[Cell]:
    return [(model_label(subject), EARLY if config["personaarena"]["early_stop"] else FULL)]


def saving(mean: Lookup, present: list[Cell]) -> dict[Cell, dict[str, float]]:
    """Per model with both variants: the share of LLM calls early stopping saved (simkit's
    stand-in for the paper's runtime) and the change of the overall score; pooled over models."""
    saved, delta = [], []
    for model in sorted({c[0] for c in present}):
        early, full = mean((model, EARLY), "llm.calls"), mean((model, FULL), "llm.calls")
        s_early, s_full = mean((model, EARLY), "overall"), mean((model, FULL), "overall")
        if early is not None and full:
            saved.append(100.0 * (1 - early / full))
        if s_early is not None and s_full is not None:
            delta.append(s_early - s_full)
    out: dict[str, float] = {}
    if saved:
        out["saving %"] = sum(saved) / len(saved)
    if delta:
        out["score change"] = sum(delta) / len(delta)
    return {POOLED: out} if out else {}


LEADERBOARD_RECIPE = Recipe(
    name="personaarena-leaderboard",
    plugin="personaarena",
    title="Persona role-play leaderboard (average of 8 judged metrics) and the early-stop saving",
    paper=PAPER,
    table="main results and appendix (early stop)",
    page="paper not read: numbers from third-party notes",
    scenario="scenarios/personaarena_paper.yaml",
    profile=(),
    grid={"personaarena.early_stop": ("true", "false")},
    instruments={
        "environment": "a fixed strong model (not named in the notes)",
        "npc": "a fixed strong model (not named in the notes)",
        "judge": "a panel of LLM judges (e.g. Qwen3-32B, GPT-4o, DeepSeek-R1 are discussed)",
        "arbiter": "a referee model (not named in the notes)",
    },
    subject="the model under test plays the protagonist",
    cell_axes=("model", "episodes"),
    cells=cells,
    metrics=(
        MetricSpec("overall", "overall", paper="average score (1-5)"),
        MetricSpec("turns", "turns", paper="episode length"),
        MetricSpec("coverage", "coverage", paper="checkpoints covered"),
        MetricSpec("llm.calls", "llm.llm_calls", paper="(simkit) LLM calls of the run"),
    ),
    published=(
        *(Published((name, EARLY), "overall", v, s) for name, v, s in LEADERBOARD),
        Published(POOLED, "saving %", low=33.7, high=56.6),
        Published(POOLED, "score change", low=-0.12, high=-0.05),
    ),
    findings=(
        Finding("ranking GPT-5.1 > GPT-4.1 > DeepSeek-V3.2 > Qwen3-32B > Mistral-small3.2 > Qwen3-8B "
                "(among the models run; needs two of them)", order("overall", [(n, EARLY) for n, _v, _s in LEADERBOARD])),
        Finding("early stop saves 33.7-56.6% (paper: runtime; simkit: LLM calls)", within("saving %", POOLED, 33.7, 56.6)),
        Finding("early stop costs 0.05-0.12 of the score", within("score change", POOLED, -0.12, -0.05)),
    ),
    seeds=10,
    spread_kind="± as printed in the notes (kind not stated)",
    derived=saving,
    dry_run=("personaarena.max_turns=8",),
    notes=(
        "several models under test: --llm openai:MODEL1,MODEL2 (finished runs in --out are reused).",
        "the eight metrics are partly inferred (simkit/plugins/personaarena/README.md); judges and arbiter are simkit's "
        "procedure, not the authors'.",
    ),
)

RECIPES = [LEADERBOARD_RECIPE]
