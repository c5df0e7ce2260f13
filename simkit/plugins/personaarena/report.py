"""The sweep report: a leaderboard of protagonist models with 95% confidence intervals.

One row per variant: the model under test (`llm.model`, else the run's model identity) and
the config keys that differ between the runs (e.g. `steer=false`); cells are means over its episodes (one persona each) of the panel's final
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


def _flat(node, prefix: str = "") -> dict[str, str]:
    if isinstance(node, dict):
        return {k: v for key, child in node.items() for k, v in _flat(child, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): json.dumps(node, sort_keys=True)}


def _text(encoded: str | None) -> str:
    """A config value as the YAML user wrote it (true, 0.3, text), '-' when absent."""
    if encoded is None:
        return "-"
    value = json.loads(encoded)
    return value if isinstance(value, str) else json.dumps(value)


# Keys that differ between the episodes of one variant: the seed, the persona it draws, names.
PER_EPISODE = ("seed", "name", "description", "output.db", "personaarena.persona")


def variants(reader, run_ids: list[str]) -> dict[str, str]:
    """Run -> its row of the leaderboard: the model under test, plus every other config key
    whose value differs between the runs (e.g. `steer=false`), so variants on one model are
    separate rows. The seed and the drawn persona vary within a row."""
    flat = {r: _flat(reader.config(r)) for r in run_ids}
    keys = sorted({k for f in flat.values() for k in f})
    varying = [k for k in keys if k not in PER_EPISODE and k not in ("llm.model", "llm.backend")
               and len({f.get(k) for f in flat.values()}) > 1]
    out = {}
    for r in run_ids:
        model = reader.config(r).get("llm", {}).get("model") or reader.run(r)["model"]
        extra = [f"{k.removeprefix('personaarena.')}={_text(flat[r].get(k))}" for k in varying]
        out[r] = ", ".join([model, *extra])
    return out


def episodes(reader, run_ids: list[str]) -> dict[str, list[dict]]:
    """Variant (model under test, plus the config keys that differ) -> one dict per finished
    episode: final panel scores, overall, turns, early stop."""
    out: dict[str, list[dict]] = defaultdict(list)
    finished = [r for r in run_ids if reader.run(r)["status"] == "finished"]
    label = variants(reader, finished)
    for run_id in finished:
        model = label[run_id]
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
    alpha = judge_alpha(reader, run_ids)
    if alpha:
        overall_alpha, n = alpha["overall"]
        console.print(f"judge reliability (Cronbach's alpha, the judges as raters, pooled over {n} item-metric cells of "
                      f"{len(run_ids)} episodes): " + ("undefined (too few items)" if overall_alpha is None else f"{overall_alpha:.2f}"))
    agreement = human_agreement_of(reader, run_ids)
    if agreement:
        cells = [f"{m} r={c.r:.2f} (n={c.n})" for m, c in agreement.items() if c is not None]
        console.print("agreement with human labels (Pearson, pooled over episodes): " + ("; ".join(cells) or "undefined (too few items)"))


def judge_alpha(reader, run_ids: list[str]) -> dict[str, tuple[float | None, int]]:
    """Alpha of the panel's independent scores with the judges as raters and the items (an
    episode's metrics) as subjects, pooled over the episodes (`agreement.rater_alpha`)."""
    from simkit.judges.agreement import rater_alpha

    rows = []
    for run_id in run_ids:
        for j in reader.db.query("select judge_id, scores_json from judgements where run_id = ? and phase = 'independent' "
                                 "and parsed_ok = 1", [run_id]):
            rows += [{"item_id": run_id, "judge_id": j["judge_id"], "metric": m, "score": v}
                     for m, v in json.loads(j["scores_json"]).items() if v is not None]
    return rater_alpha(rows) if rows else {}


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
