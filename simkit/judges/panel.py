"""`JudgePanel`: score one item (`score`) or compare two (`compare`) with a panel of judges.

The panel is the one judge procedure the plugins share: CharacterBox's single judge is a
panel of one (no disagreement is possible, so there is no debate), PersonaArena's is
several judges with an arbiter, ChatEval's pairwise mode is `compare` with both
presentation orders summed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from simkit.judges.aggregation import combine_orders, overall, prefer
from simkit.judges.config import JudgeConfig
from simkit.judges.host import JudgeHost
from simkit.judges.item import JudgeItem
from simkit.judges.rubric import Metric
from simkit.judges.session import Session
from simkit.judges.sheet import Sheet
from simkit.judges.templates import PROMPTS
from simkit.judges.verdict import PairVerdict, Verdict


class JudgePanel:
    def __init__(self, host: JudgeHost, config: JudgeConfig, rubric: Sequence[Metric]):
        names = [m.name for m in rubric]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"a rubric needs distinct metric names, got {names}")
        self.host = host
        self.config = config
        self.rubric = tuple(rubric)

    async def score(self, item: JudgeItem) -> Verdict:
        if self.config.mode != "absolute":
            raise ValueError("this panel is configured for pairwise judging (mode: pairwise): call compare()")
        case = PROMPTS.render("case.j2", first=item, second=None)
        return await Session(self.host, self.config, Sheet(self.rubric), item.item_id, case, {}).run()

    async def compare(self, a: JudgeItem, b: JudgeItem) -> PairVerdict:
        """A vs B; with `pairwise_swap` also B vs A, so a judge's taste for a position cancels."""
        if self.config.mode != "pairwise":
            raise ValueError("this panel is configured for absolute scoring (mode: absolute): call score()")
        pair_id = f"{a.item_id} vs {b.item_id}"
        shown = {"AB": (a, b), "BA": (b, a)} if self.config.pairwise_swap else {"AB": (a, b)}
        orders: dict[str, Verdict] = {}
        for order, (first, second) in shown.items():
            case = PROMPTS.render("case.j2", first=first, second=second)
            labels = {"order": order, "candidates": {"1": first.item_id, "2": second.item_id}}
            orders[order] = await Session(self.host, self.config, Sheet(self.rubric, pairwise=True), pair_id, case, labels).run()
        scores = combine_orders(self.rubric, {order: v.scores for order, v in orders.items()})
        totals = {c: overall(scores[c]) for c in ("A", "B")}
        calls = sum((Counter(v.calls) for v in orders.values()), Counter())
        return PairVerdict(
            item_id=pair_id, a=a.item_id, b=b.item_id, orders=orders, scores=scores, overall=totals,
            preference=prefer(totals["A"], totals["B"]),
            per_metric={m.name: prefer(scores["A"][m.name], scores["B"][m.name]) for m in self.rubric},
            calls=dict(calls),
        )
