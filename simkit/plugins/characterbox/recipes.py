"""CharacterBox's headline results as `simkit reproduce` recipes (see simkit/reproduce/recipe.py).

Published numbers: Wang et al., CharacterBox, NAACL 2025 (pages 6372-6391), Tables 1 and 2,
read from the paper's tables; the page of each table was not recorded.
The runs use `scenarios/characterbox_paper.yaml` (the paper profile, with the narrator and
the judge pinned as the paper had them) and its per-language metrics (`lang`: en | zh).
"""

from __future__ import annotations

import re

from simkit.reproduce.recipe import Cell, Finding, Lookup, MetricSpec, Published, Recipe, order

PAPER = "Wang et al., CharacterBox, NAACL 2025"
METRICS = (("KA", "knowledge_accuracy"), ("BA", "behavioural_accuracy"), ("EE", "emotional_expression"),
           ("PT", "personality_traits"), ("IM", "immersion"), ("AD", "adaptability"), ("BC", "behavioural_coherence"))
AVERAGES = {  # model -> (EN average, ZH average), Table 1
    "GPT-4": (3.926, 4.342), "GPT-3.5": (3.593, 3.697), "Qwen2.5-14B": (3.490, 4.057), "Qwen2.5-7B": (3.294, 3.808),
    "Baichuan2-13B": (3.152, 3.508), "Llama-3-8B": (2.990, 3.200), "Baichuan2-7B": (2.841, 3.501),
    "Mistral-7B-v0.2": (2.819, 2.924), "Phi-3.5-mini": (2.654, 2.620),
}
GPT4_PER_METRIC = {"en": (3.796, 3.746, 3.789, 3.974, 4.088, 3.930, 4.158),
                   "zh": (4.252, 4.357, 4.096, 4.496, 4.530, 4.139, 4.522)}
ALPHA = {"fidelity": (0.958, 0.951), "human_likeness": (0.832, 0.862), "consistency": (0.945, 0.941)}  # Table 2 (EN, ZH)
ALIASES = {"gpt-4": ("gpt-4-1106-preview", "gpt-4-turbo"), "gpt-3.5": ("gpt-3.5-turbo-1106", "gpt-3.5-turbo")}
JUDGE = ("judge (Table 2)", "")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9.]", "", name.lower())


def model_label(subject: str) -> str:
    """Table 1's name for the model under test (`openai:qwen2.5-7b-instruct` -> `Qwen2.5-7B`), else as given."""
    model = _norm(subject.split(":", 1)[-1].split("/")[-1])
    for name in AVERAGES:
        names = (name.lower(), *ALIASES.get(name.lower(), ()))
        if any(model == _norm(n) or model == _norm(n) + "instruct" or model == _norm(n) + "chat" for n in names):
            return name
    return subject.split(":", 1)[-1] or subject


def cells(config: dict, subject: str) -> list[Cell]:
    """A run covers scenes of both languages: it counts in one cell per language (its metrics
    labelled with that language), and its judge's reliability in the judge's cells."""
    model = model_label(subject)
    return [(model, "en"), (model, "zh"), (JUDGE[0], "en"), (JUDGE[0], "zh")]


def _is_judge(cell: Cell) -> bool:
    return cell[0] == JUDGE[0]


METRIC_SPECS = (
    *(MetricSpec(abbr, f"score.{name}", {"lang": "{lang}"}, paper=name, only=lambda c: not _is_judge(c)) for abbr, name in METRICS),
    MetricSpec("average", "score.average", {"lang": "{lang}"}, paper="average of the 7", only=lambda c: not _is_judge(c)),
    *(MetricSpec(f"alpha {group}", "judge_alpha", {"group": group, "lang": "{lang}"}, paper="Cronbach's alpha", only=_is_judge)
      for group in ALPHA),
)


def higher_in_chinese(get: Lookup) -> bool | None:
    """Every model present scores a higher average in Chinese than in English."""
    seen = [(get((m, "en"), "average"), get((m, "zh"), "average")) for m in AVERAGES]
    pairs = [(en, zh) for en, zh in seen if en is not None and zh is not None]
    return None if not pairs else all(zh > en for en, zh in pairs)


def reliable(get: Lookup) -> bool | None:
    values = [get((JUDGE[0], lang), f"alpha {g}") for g in ALPHA for lang in ("en", "zh")]
    present = [v for v in values if v is not None]
    return None if not present else all(v >= 0.8 for v in present)


TABLE1 = Recipe(
    name="characterbox-table1",
    plugin="characterbox",
    title="Role-playing scores per model and language (7 metrics + average) and judge reliability",
    paper=PAPER,
    table="Tables 1-2",
    page="pp. 6372-6391, page of the tables not recorded",
    scenario="scenarios/characterbox_paper.yaml",
    profile=(),
    grid={},
    instruments={"narrator": "GPT-3.5-Turbo-1106", "judge": "GPT-4-Turbo-1106-preview"},
    subject="the 9 models of Table 1 play the characters",
    cell_axes=("model", "lang"),
    cells=cells,
    metrics=METRIC_SPECS,
    published=(
        *(Published(("GPT-4", lang), abbr, v) for lang, values in GPT4_PER_METRIC.items()
          for (abbr, _n), v in zip(METRICS, values)),
        *(Published((model, lang), "average", v) for model, pair in AVERAGES.items() for lang, v in zip(("en", "zh"), pair)),
        *(Published((JUDGE[0], lang), f"alpha {group}", v) for group, pair in ALPHA.items() for lang, v in zip(("en", "zh"), pair)),
    ),
    findings=(
        Finding("English ranking GPT-4 > GPT-3.5 > Qwen2.5-14B > Qwen2.5-7B > Baichuan2-13B > Llama-3-8B > Baichuan2-7B > "
                "Mistral-7B > Phi-3.5-mini (among the models run)", order("average", [(m, "en") for m in AVERAGES])),
        Finding("every model scores higher in Chinese than in English (except Phi-3.5-mini: 2.654 / 2.620)",
                lambda get: higher_in_chinese(lambda c, m: None if c[0] == "Phi-3.5-mini" else get(c, m))),
        Finding("the judge is reliable: Cronbach's alpha >= 0.8 in every metric group and language", reliable),
    ),
    seeds=1,
    spread_kind="the paper prints ± sd over scenes per metric; only the means are recorded here",
    dry_run=(),
    notes=(
        "the shipped scenes are 6 of the authors' files; the paper's 100 scenes: --set characterbox.scenes=CharacterBox/data.",
        "Table 3 (Pearson r with human experts) needs human labels: characterbox.human_labels, then judge_pearson.",
    ),
)

RECIPES = [TABLE1]
