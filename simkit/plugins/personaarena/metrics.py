"""What a finished episode stores as metrics: the episode itself, the panel's scores (per
judge and final, labels `judge` and `metric`), and how far to trust the judges.

Names (labels in braces):
- `turns`, `early_stop` (1 when all five checkpoints were covered before `max_turns`),
  `coverage` (share of checkpoints covered), `checkpoint.turn` {checkpoint}: the line that
  covered it (NULL if never);
- `score` {judge, metric}: each judge's independent score, NULL for a judge whose answer
  never parsed; `score` {judge: panel, metric}: the verdict; `overall` (no labels, the mean
  of the eight, what the leaderboard ranks);
- `judge.excluded` {judge, phase}, `judge.disputed`, `judge.arbitrated`, `judge.calls` {phase};
- `judge.leniency` {judge}, `judge.human_r` {metric} with `judge.human_n` {metric}
  (agreement with the human labels, when given). Judge reliability (alpha with the judges
  as raters over items) needs many items: the leaderboard computes it over its episodes
  (`report.judge_alpha`), not each run over its three judges.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from simkit.judges import Verdict
from simkit.judges.agreement import human_agreement, leniency, load_labels, score_rows, verdict_rows
from simkit.plugins.personaarena.world import CHECKPOINTS, Episode

MetricFn = Callable[..., None]
PANEL = "panel"


def episode(metric: MetricFn, ep: Episode) -> None:
    metric("turns", ep.turns)
    metric("early_stop", float(ep.stop == "covered"))
    metric("coverage", len(ep.covered) / len(CHECKPOINTS))
    for c in CHECKPOINTS:
        metric("checkpoint.turn", ep.covered.get(c), {"checkpoint": c})


def verdict(metric: MetricFn, v: Verdict, records: Sequence[dict]) -> None:
    for rec in records:
        if rec["phase"] == "independent":
            for name, value in rec["scores"].items():
                metric("score", value if rec["parsed_ok"] else None, {"judge": rec["judge_id"], "metric": name})
    for name, value in v.scores.items():
        metric("score", value, {"judge": PANEL, "metric": name})
    metric("overall", v.overall)
    for judge, phase in sorted(v.excluded.items()):
        metric("judge.excluded", 1, {"judge": judge, "phase": phase})
    metric("judge.disputed", len(v.disputed))
    metric("judge.arbitrated", len(v.arbitrated))
    for phase, n in sorted(v.calls.items()):
        metric("judge.calls", n, {"phase": phase})


def agreement(metric: MetricFn, v: Verdict, records: Sequence[dict], human: Path | None) -> None:
    rows = score_rows(records)
    for judge, offset in leniency(rows).items():
        metric("judge.leniency", offset, {"judge": judge})
    if human is not None:
        for name, r in human_agreement(verdict_rows([v]), load_labels(human)).items():
            metric("judge.human_r", r.r if r else None, {"metric": name})
            metric("judge.human_n", r.n if r else None, {"metric": name})
