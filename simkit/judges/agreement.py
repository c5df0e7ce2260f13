"""How far to trust the judges (spec §5.5): leniency per judge, Cronbach's alpha per metric
group (CharacterBox Table 2), alpha of the judges as raters over items (`rater_alpha`), Pearson r against human labels (CharacterBox Table 3,
PersonaArena's 0.683), Cohen's kappa of pairwise preferences (ChatEval).

Scores come as long rows `{"item_id", "metric", "score"}` (plus `"judge_id"` for one
judge's scores): `score_rows` flattens the host's judgement records, `verdict_rows` a
panel's verdicts; human labels are JSONL with the same three keys.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy import stats
from scipy.stats.contingency import crosstab

from simkit.judges.rubric import Metric
from simkit.judges.verdict import Verdict

Row = Mapping[str, object]


class Correlation(NamedTuple):
    r: float
    p: float
    n: int


def score_rows(records: Iterable[Mapping], phase: str = "independent") -> list[dict]:
    """One row per valid score in the judgement records of `phase`."""
    return [
        {"item_id": rec["item_id"], "judge_id": rec["judge_id"], "metric": metric, "score": float(score)}
        for rec in records
        if rec["phase"] == phase and rec["parsed_ok"]
        for metric, score in rec["scores"].items()
        if score is not None
    ]


def verdict_rows(verdicts: Iterable[Verdict]) -> list[dict]:
    return [
        {"item_id": v.item_id, "metric": metric, "score": score}
        for v in verdicts
        for metric, score in v.scores.items()
        if score is not None
    ]


def load_labels(path: str | Path) -> list[dict]:
    """Human labels, one JSON object a line: item_id, metric, score. A malformed file is a
    `ValueError` naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: {'is a directory, expected' if path.is_dir() else 'not found; expected'} a JSONL file of human labels")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a UTF-8 text file (expected JSONL human labels)") from None
    rows = []
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise ValueError(f"{path}:{n}: expected a JSON object with item_id, metric and score")
        missing = {"item_id", "metric", "score"} - set(row)
        if missing:
            raise ValueError(f"{path}:{n}: missing {', '.join(sorted(missing))}")
        try:
            score = float(row["score"])
        except (TypeError, ValueError):
            raise ValueError(f"{path}:{n}: score {row['score']!r} is not a number") from None
        rows.append({"item_id": str(row["item_id"]), "metric": str(row["metric"]), "score": score})
    return rows


def leniency(rows: Iterable[Row]) -> dict[str, float]:
    """Each judge's mean offset from the panel mean, over the (item, metric) cells at least two
    judges scored: positive means lenient (PersonaArena: DeepSeek-R1), negative strict."""
    cells: dict[tuple, dict[str, float]] = defaultdict(dict)
    for row in rows:
        cells[(row["item_id"], row["metric"])][str(row["judge_id"])] = float(row["score"])
    offsets: dict[str, list[float]] = defaultdict(list)
    for by_judge in cells.values():
        if len(by_judge) < 2:
            continue
        mean = float(np.mean(list(by_judge.values())))
        for judge, score in by_judge.items():
            offsets[judge].append(score - mean)
    return {judge: float(np.mean(values)) for judge, values in sorted(offsets.items())}


def cronbach_alpha(matrix: np.ndarray) -> float | None:
    """Alpha of a (subjects x items) score matrix; None when it is undefined (fewer than two
    items or subjects, or no variance in the total)."""
    matrix = np.asarray(matrix, dtype=float)
    n, k = matrix.shape
    if k < 2 or n < 2:
        return None
    total = matrix.sum(axis=1).var(ddof=1)
    if total == 0:
        return None
    return float(k / (k - 1) * (1 - matrix.var(axis=0, ddof=1).sum() / total))


def group_alpha(rows: Iterable[Row], rubric: Sequence[Metric]) -> dict[str, float | None]:
    """Cronbach's alpha of each metric group, the metrics as items and each scored unit (item,
    or item and judge) as a subject; units missing a metric of the group are left out."""
    table: dict[tuple, dict[str, float]] = defaultdict(dict)
    for row in rows:
        table[(row["item_id"], row.get("judge_id"))][str(row["metric"])] = float(row["score"])
    groups: dict[str, list[str]] = defaultdict(list)
    for metric in rubric:
        groups[metric.group].append(metric.name)
    out = {}
    for group, names in groups.items():
        complete = [[scores[name] for name in names] for scores in table.values() if all(n in scores for n in names)]
        out[group] = cronbach_alpha(np.array(complete).reshape(len(complete), len(names)))
    return out


def rater_alpha(rows: Iterable[Row]) -> dict[str, tuple[float | None, int]]:
    """Judge reliability over items: Cronbach's alpha with the judges as raters (columns) and
    the scored items as subjects (rows), pooled over all the items the rows hold (e.g. every
    episode of a leaderboard). "overall" takes each (item, metric) cell as a subject; each
    metric alone takes its items. Only cells every judge scored count. Returns name ->
    (alpha or None when undefined, number of subjects)."""
    cells: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for row in rows:
        cells[(str(row["item_id"]), str(row["metric"]))][str(row["judge_id"])] = float(row["score"])
    judges = sorted({j for by_judge in cells.values() for j in by_judge})
    complete = {cell: [by_judge[j] for j in judges] for cell, by_judge in cells.items() if len(by_judge) == len(judges)}

    def alpha(keys: list[tuple[str, str]]) -> tuple[float | None, int]:
        matrix = np.array([complete[k] for k in keys]).reshape(len(keys), len(judges))
        return cronbach_alpha(matrix), len(keys)

    out = {"overall": alpha(sorted(complete))}
    for metric in sorted({m for _, m in complete}):
        out[metric] = alpha(sorted(k for k in complete if k[1] == metric))
    return out


def _means(rows: Iterable[Row]) -> dict[tuple[str, str], float]:
    """Mean score per (item, metric): several judges or annotators become one value."""
    cells: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in rows:
        cells[(str(row["item_id"]), str(row["metric"]))].append(float(row["score"]))
    return {cell: float(np.mean(values)) for cell, values in cells.items()}


def _pearson(x: list[float], y: list[float]) -> Correlation | None:
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    result = stats.pearsonr(x, y)
    return Correlation(float(result.statistic), float(result.pvalue), len(x))


def human_agreement(rows: Iterable[Row], human: Iterable[Row]) -> dict[str, Correlation | None]:
    """Pearson r per metric between judge scores and human labels on the cells both have, and
    "overall" on each item's mean over those shared metrics. None when undefined (fewer
    than three items, or one side constant)."""
    ours, theirs = _means(rows), _means(human)
    shared = sorted(set(ours) & set(theirs))
    out: dict[str, Correlation | None] = {}
    for metric in sorted({m for _, m in shared}):
        cells = [c for c in shared if c[1] == metric]
        out[metric] = _pearson([ours[c] for c in cells], [theirs[c] for c in cells])
    per_item: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for cell in shared:
        per_item[cell[0]].append(cell)
    items = sorted(per_item)
    out["overall"] = _pearson(
        [float(np.mean([ours[c] for c in per_item[i]])) for i in items],
        [float(np.mean([theirs[c] for c in per_item[i]])) for i in items],
    )
    return out


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters' labels (e.g. panel vs human preferences A/B/tie);
    None when chance agreement is already total."""
    if len(a) != len(b) or not a:
        raise ValueError("cohen_kappa needs two label sequences of the same, non-zero length")
    levels = sorted(set(a) | set(b))
    table = crosstab(list(a), list(b), levels=(levels, levels)).count.astype(float)
    n = table.sum()
    observed = np.trace(table) / n
    expected = float(table.sum(axis=1) @ table.sum(axis=0)) / n**2
    if expected == 1:
        return None
    return float((observed - expected) / (1 - expected))
