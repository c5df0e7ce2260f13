"""The sweep report: a leaderboard of protagonist models with 95% confidence intervals.

One row per model under test (the default role's model: `llm.model`, else the run's model
identity); cells are means over its episodes (one persona each) of the panel's final
scores, the overall mean with a t-interval (PersonaArena reports "3.963 ± 0.04"), the
share of episodes that stopped early and their mean length. Optionally a PNG chart:

    python -m simkit.plugins.personaarena.report --db runs/simkit.db --png board.png [RUN_ID ...]
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import click
import numpy as np
from rich import box
from rich.table import Table
from rich.text import Text
from scipy import stats

from simkit.judges import PERSONAARENA

ABBREV = {"knowledge_accuracy": "KA", "behavioural_accuracy": "BA", "emotional_expression": "EE",
          "personality_traits": "PT", "immersion": "IM", "adaptability": "AD",
          "behavioural_coherence": "BC", "interaction_richness": "IR"}


def interval(values: list[float], level: float = 0.95) -> tuple[float, float | None]:
    """Mean and half-width of its t confidence interval (None for one value)."""
    mean = float(np.mean(values))
    if len(values) < 2:
        return mean, None
    half = float(stats.t.ppf(0.5 + level / 2, len(values) - 1) * stats.sem(values))
    return mean, half


def episodes(reader, run_ids: list[str]) -> dict[str, list[dict]]:
    """Model -> one dict per finished episode: final panel scores, overall, turns, early stop."""
    out: dict[str, list[dict]] = defaultdict(list)
    for run_id in run_ids:
        run = reader.run(run_id)
        if run["status"] != "finished":
            continue
        model = reader.config(run_id).get("llm", {}).get("model") or run["model"]
        row: dict = {"run_id": run_id, "persona": None}
        for m in reader.metrics(run_id, -1):
            labels = json.loads(m["labels_json"] or "{}")
            if m["name"] == "score" and labels.get("judge") == "panel":
                row[labels["metric"]] = m["value"]
            elif not labels and m["name"] in ("overall", "turns", "early_stop"):
                row[m["name"]] = m["value"]
        out[model].append(row)
    return dict(out)


def ranked(board: dict[str, list[dict]]) -> list[tuple[str, list[dict], float, float | None]]:
    rows = []
    for model, eps in board.items():
        values = [e["overall"] for e in eps if e.get("overall") is not None]
        mean, half = interval(values) if values else (float("nan"), None)
        rows.append((model, eps, mean, half))
    return sorted(rows, key=lambda r: (-r[2] if r[2] == r[2] else float("inf"), r[0]))


def _mean(eps: list[dict], key: str) -> str:
    values = [e[key] for e in eps if e.get(key) is not None]
    return f"{np.mean(values):.2f}" if values else "-"


def leaderboard(reader, run_ids: list[str], console) -> None:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True,
                  title="PersonaArena leaderboard", title_justify="left")
    for name in ("#", "model", "n", "overall", *ABBREV.values(), "early", "lines"):
        table.add_column(name, no_wrap=name != "model")
    for n, (model, eps, mean, half) in enumerate(ranked(episodes(reader, run_ids)), 1):
        overall = "-" if mean != mean else f"{mean:.3f}" + (f"±{half:.3f}" if half is not None else "")
        table.add_row(str(n), Text(str(model)), str(len(eps)), overall, *(_mean(eps, m.name) for m in PERSONAARENA),
                      _mean(eps, "early_stop"), _mean(eps, "turns"))
    console.print(table)
    console.print("panel scores 1-5; overall: mean ± 95% CI over n episodes; early: share stopped on coverage")
    agreement = human_agreement_of(reader, run_ids)
    if agreement:
        cells = [f"{m} r={c.r:.2f} (n={c.n})" for m, c in agreement.items() if c is not None]
        console.print("agreement with human labels (Pearson, pooled over episodes): " + ("; ".join(cells) or "undefined (too few items)"))


def human_agreement_of(reader, run_ids: list[str]) -> dict:
    """Pearson r of the panel's final scores against the human labels the runs name, pooled
    over the episodes (one episode alone has too few items for a correlation)."""
    from simkit.judges.agreement import human_agreement, load_labels

    files = {reader.config(r)["personaarena"].get("human_labels") for r in run_ids} - {None}
    if not files:
        return {}
    human = [row for f in sorted(files) for row in load_labels(f)]
    ours = [
        {"item_id": r, "metric": json.loads(m["labels_json"])["metric"], "score": m["value"]}
        for r in run_ids for m in reader.metrics(r, -1)
        if m["name"] == "score" and m["value"] is not None and json.loads(m["labels_json"]).get("judge") == "panel"
    ]
    return human_agreement(ours, human)


def leaderboard_png(reader, run_ids: list[str], path: Path) -> None:
    """Overall score per model with its confidence interval, best first."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in ranked(episodes(reader, run_ids)) if r[2] == r[2]]
    fig, ax = plt.subplots(figsize=(6, 0.5 * len(rows) + 1.5))
    ys = np.arange(len(rows))[::-1]
    ax.barh(ys, [r[2] for r in rows], xerr=[r[3] or 0 for r in rows], color="#4c72b0", capsize=4)
    ax.set_yticks(ys, [f"{r[0]} (n={len(r[1])})" for r in rows])
    ax.set_xlim(1, 5)
    ax.set_xlabel("overall panel score (1-5), 95% CI")
    ax.set_title("PersonaArena leaderboard")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


@click.command()
@click.argument("run_ids", nargs=-1)
@click.option("--db", type=click.Path(path_type=Path), default=Path("runs/simkit.db"), show_default=True)
@click.option("--png", type=click.Path(path_type=Path), help="Also write the chart to this PNG file.")
def main(run_ids: tuple[str, ...], db: Path, png: Path | None) -> None:
    """Print the leaderboard of PersonaArena runs in a database (all of them by default)."""
    from rich.console import Console

    from simkit.errors import SimkitError
    from simkit.store.reader import RunReader

    try:
        reader = RunReader.open(db)
        ids = [reader.run(r)["run_id"] for r in run_ids] or [r["run_id"] for r in reader.runs() if r["plugin"] == "personaarena"]
    except SimkitError as exc:
        raise click.ClickException(str(exc)) from None
    leaderboard(reader, ids, Console())
    if png:
        leaderboard_png(reader, ids, png)
        click.echo(f"{png}: {len(ids)} runs")


if __name__ == "__main__":
    main()
