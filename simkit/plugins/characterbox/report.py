"""The paper's table layout (CharacterBox Table 1): one row per model under test and language,
the seven metrics and their average, each the mean ± sd over scenes (pooled over the model's
runs), then the average's 95% interval over runs; and the judge's reliability (Table 2:
Cronbach's alpha per metric group; Table 3: Pearson r against human labels). It is the
sweep report of `simkit sweep`, and a command of its own:

    python -m simkit.plugins.characterbox.report --db runs/simkit.db [RUN_ID ...]
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import click
import numpy as np
from rich import box
from rich.table import Table
from scipy import stats

from simkit.judges import CHARACTERBOX

ABBREV = {"knowledge_accuracy": "KA", "behavioural_accuracy": "BA", "emotional_expression": "EE",
          "personality_traits": "PT", "immersion": "IM", "adaptability": "AD", "behavioural_coherence": "BC"}
METRICS = [m.name for m in CHARACTERBOX] + ["average"]
LANGS = {"en": "English", "zh": "Chinese"}


def model_of(reader, run_id: str) -> str:
    """The model under test: `llm.model` of the run's scenario, else the run's model identity."""
    return reader.config(run_id).get("llm", {}).get("model") or reader.run(run_id)["model"]


def collect(reader, run_ids: list[str]) -> dict[tuple[str, str], dict]:
    """(model, lang) -> {"scenes": [metric -> value per scene], "runs": [average per run],
    "alpha": {group: [per run]}, "pearson": {metric: [per run]}}."""
    out: dict[tuple[str, str], dict] = defaultdict(lambda: {"scenes": [], "runs": [], "alpha": defaultdict(list)})
    pearson: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for run_id in run_ids:
        if reader.run(run_id)["status"] != "finished":
            continue
        model = model_of(reader, run_id)
        scenes: dict[tuple[str, str], dict[str, float | None]] = defaultdict(dict)
        for m in reader.metrics(run_id, -1):
            labels = json.loads(m["labels_json"] or "{}")
            if m["name"] == "score_by_scene" and "lang" in labels:
                scenes[(labels["lang"], labels["scene"])][labels["metric"]] = m["value"]
            elif m["name"] == "score.average" and "lang" in labels and m["value"] is not None:
                out[(model, labels["lang"])]["runs"].append(m["value"])
            elif m["name"] == "judge_alpha" and m["value"] is not None:
                out[(model, labels["lang"])]["alpha"][labels["group"]].append(m["value"])
            elif m["name"] == "judge_pearson" and m["value"] is not None:
                pearson[model][labels["metric"]].append(m["value"])
        for (lang, _scene), row in scenes.items():
            out[(model, lang)]["scenes"].append(row)
    for (model, _lang), cell in out.items():
        cell["pearson"] = pearson.get(model, {})
    return dict(out)


def mean_sd(values: list[float]) -> str:
    if not values:
        return "-"
    sd = f"±{np.std(values, ddof=1):.2f}" if len(values) > 1 else ""
    return f"{np.mean(values):.2f}{sd}"


def interval(values: list[float]) -> str:
    """Mean with the half-width of its 95% t interval over runs."""
    if not values:
        return "-"
    if len(values) < 2:
        return f"{values[0]:.3f} (1 run)"
    half = stats.t.ppf(0.975, len(values) - 1) * stats.sem(values)
    return f"{np.mean(values):.3f} ± {half:.3f}" if half == half else f"{np.mean(values):.3f}"


def paper_table(reader, run_ids: list[str], console) -> None:
    cells = collect(reader, run_ids)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True, title_justify="left",
                  title="CharacterBox (paper Table 1 layout): mean ± sd over scenes")
    for name in ("lang", "model", "scenes", *ABBREV.values(), "avg", "avg 95% CI (runs)"):
        table.add_column(name, no_wrap=name not in ("model",))
    for lang in sorted({lang for _m, lang in cells}, key=lambda k: (k not in LANGS, list(LANGS).index(k) if k in LANGS else 0, k)):
        rows = [(model, c) for (model, l), c in cells.items() if l == lang]
        rows.sort(key=lambda mc: -np.mean([s["average"] for s in mc[1]["scenes"] if s.get("average") is not None] or [0]))
        for model, c in rows:
            values = [mean_sd([s[m] for s in c["scenes"] if s.get(m) is not None]) for m in METRICS]
            table.add_row(LANGS.get(lang, lang), model, str(len(c["scenes"])), *values, interval(c["runs"]))
        table.add_section()
    console.print(table)
    alpha = [(lang, model, c["alpha"]) for (model, lang), c in sorted(cells.items()) if c["alpha"]]
    if alpha:
        groups = list(dict.fromkeys(m.group for m in CHARACTERBOX))
        rel = Table("lang", "model", *groups, box=box.SIMPLE_HEAD, title_justify="left",
                    title="judge reliability (Table 2): Cronbach's alpha per metric group, mean over runs")
        for lang, model, by_group in alpha:
            rel.add_row(LANGS.get(lang, lang), model, *(f"{np.mean(by_group[g]):.3f}" if by_group.get(g) else "-" for g in groups))
        console.print(rel)
    pearson = {model: c["pearson"] for (model, _l), c in cells.items() if c["pearson"]}
    if pearson:
        cols = [*ABBREV, "overall"]
        agree = Table("model", *(ABBREV.get(m, m) for m in cols), box=box.SIMPLE_HEAD, title_justify="left",
                      title="agreement with human labels (Table 3): Pearson r, mean over runs")
        for model, by_metric in sorted(pearson.items()):
            agree.add_row(model, *(f"{np.mean(by_metric[m]):.3f}" if by_metric.get(m) else "-" for m in cols))
        console.print(agree)


@click.command()
@click.argument("run_ids", nargs=-1)
@click.option("--db", type=click.Path(path_type=Path), default=Path("runs/simkit.db"), show_default=True)
def main(run_ids: tuple[str, ...], db: Path) -> None:
    """Print the paper's table for CharacterBox runs in a database (all of them by default)."""
    from rich.console import Console

    from simkit.errors import SimkitError
    from simkit.store.reader import RunReader

    try:
        reader = RunReader.open(db)
        ids = [reader.run(r)["run_id"] for r in run_ids] or [r["run_id"] for r in reader.runs() if r["plugin"] == "characterbox"]
    except SimkitError as exc:
        raise click.ClickException(str(exc)) from None
    paper_table(reader, ids, Console())


if __name__ == "__main__":
    main()
