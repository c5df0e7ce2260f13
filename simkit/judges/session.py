"""One presentation judged by the panel, phase by phase (spec: characterbox_personaarena.md §5.3).

1. critique (optional separate call, CharacterBox) and independent blind scoring;
2. the disagreement rule picks the disputed keys (all keys with `full_debate`);
3. with `debate` (ChatEval style), only those are debated, then each judge gives a final
   statement on them;
4. the arbiter settles the keys still disputed after the finals (or left without any valid
   final score), replacing only those; every other key keeps the panel's aggregate. Without
   `debate` (PersonaArena as published) the arbiter settles the disputed keys from the
   independent answers, and every other key is the mean of the independent scores.

A judge whose independent answer never parses sits out the debate and counts for nothing;
one whose final never parses is left out of the debated keys. Records go to the host in
a fixed order (phase, then judge order), whatever order the answers arrived in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from simkit.judges.aggregation import aggregate, overall, prefer
from simkit.judges.answers import arbiter_answer, bounds, score_answer
from simkit.judges.caller import Answer, Caller
from simkit.judges.config import JudgeConfig, JudgeSpec
from simkit.judges.debate import Debate, statement
from simkit.judges.disagreement import disputed_keys, spread
from simkit.judges.host import JudgeHost
from simkit.judges.sheet import Sheet
from simkit.judges.templates import PROMPTS
from simkit.judges.verdict import Source, Verdict, Vote

_SPACE = re.compile(r"\s+")


def normalized(text: str) -> str:
    return _SPACE.sub(" ", text).strip().strip("\"'“”‘’.… ").casefold()


def quotes_found(evidence: Iterable[str], case: str) -> int:
    """How many quotes occur in the material the judge was shown (whitespace and case aside)."""
    haystack = normalized(case)
    return sum(1 for quote in evidence if normalized(quote) and normalized(quote) in haystack)


class Session:
    def __init__(
        self, host: JudgeHost, config: JudgeConfig, sheet: Sheet, item_id: str, case: str, labels: dict[str, Any]
    ):
        self.host = host
        self.config = config
        self.sheet = sheet
        self.item_id = item_id
        self.case = case
        self.base_labels = labels
        self.role_of = {judge.id: judge.role for judge in config.judges}  # the LLM role that answers for a judge
        self.caller = Caller(
            host, temperature=config.temperature, max_tokens=config.max_tokens,
            max_parse_retries=config.max_parse_retries,
        )

    # -- the procedure --------------------------------------------------------------------
    async def run(self) -> Verdict:
        cfg = self.config
        keys = self.sheet.keys
        critiques = await self._critiques() if cfg.critique_call else {}
        votes = await self._independent(critiques)
        valid = [v for v in votes if v.ok]
        disputed = disputed_keys(valid, keys, cfg.disagreement)
        debated = (list(keys) if cfg.full_debate and len(valid) > 1 else disputed) if cfg.debate else []
        for vote in votes:
            self.record_vote(vote, 0, visible_to=None if debated and vote.ok else [vote.judge_id])

        excluded = {v.judge_id: "independent" for v in votes if not v.ok}
        notes = [f"judge {v.judge_id} excluded: its answer never parsed ({v.error})" for v in votes if not v.ok]
        scores = {k: aggregate((v.scores[k] for v in valid), cfg.aggregation) for k in keys}
        source: dict[str, Source | None] = {k: "independent" for k in keys}
        finals: list[Vote] = []
        arbitrated: list[str] = []
        if debated:
            judges = [j for j, v in zip(cfg.judges, votes) if v.ok]
            finals = await self._debate(judges, debated, valid)
            good = [f for f in finals if f.ok]
            for f in finals:
                if not f.ok:
                    excluded[f.judge_id] = "final"
                    notes.append(f"judge {f.judge_id} left out of {', '.join(debated)}: its final never parsed ({f.error})")
            for key in debated:
                scores[key] = aggregate((f.scores[key] for f in good), cfg.aggregation)
                source[key] = "final"
            unsettled = [
                k for k in debated
                if scores[k] is None or spread(f.scores[k] for f in good) >= cfg.disagreement.per_metric_range
            ]
            if unsettled:
                arbitrated = await self._settle(unsettled, valid, good, scores, source, notes)
        elif disputed:  # no debate (PersonaArena as published): the arbiter reads the independent answers
            arbitrated = await self._settle(disputed, valid, [], scores, source, notes)
        for key in keys:
            if scores[key] is None:
                source[key] = None
                notes.append(f"no score for {key}: no judge gave a valid one")
        return Verdict(
            item_id=self.item_id,
            scores=scores,
            overall=None if self.sheet.pairwise else overall(scores),
            method="arbitrated" if arbitrated else cfg.aggregation,
            disputed=disputed,
            debated=debated,
            arbitrated=arbitrated,
            source=source,
            excluded=excluded,
            calls=dict(self.caller.calls),
            notes=notes,
            votes=[*votes, *finals],
        )

    async def _debate(self, judges: list[JudgeSpec], keys: list[str], votes: list[Vote]) -> list[Vote]:
        """Discussion rounds on `keys`, then each judge's final statement on them."""
        debate = Debate(self, judges, keys, opening=[statement(v, keys, 0) for v in votes])
        await debate.discuss()
        return await debate.finals(votes)

    async def _settle(
        self, keys: list[str], votes: list[Vote], finals: list[Vote],
        scores: dict[str, float | None], source: dict[str, Source | None], notes: list[str],
    ) -> list[str]:
        """Let the arbiter replace the scores of `keys`; returns the keys it replaced."""
        if not self.config.arbiter.enabled:
            notes.append(f"still disputed after the finals, no arbiter: {', '.join(keys)}")
            return []
        ruling = await self._arbitrate(keys, votes, finals)
        if not ruling.ok:
            notes.append(f"the arbiter's answer never parsed ({ruling.error}); {', '.join(keys)} keep the panel's scores")
            return []
        for key in keys:
            scores[key] = float(getattr(ruling.parsed.scores, key))
            source[key] = "arbiter"
        return keys

    async def _critiques(self) -> dict[str, str]:
        async def one(judge: JudgeSpec) -> Answer:
            return await self.caller.ask("critique", judge.role, self.agent(judge.id), self.messages(judge, "critique.j2"))

        answers = await self.host.gather(*(one(j) for j in self.config.judges))
        for judge, answer in zip(self.config.judges, answers):
            self.record(
                judge_id=judge.id, role=judge.role, phase="critique", round=0, metrics=self.sheet.keys,
                text=answer.parsed, visible_to=[judge.id], parsed_ok=True,
            )
        return {judge.id: answer.parsed for judge, answer in zip(self.config.judges, answers)}

    async def _independent(self, critiques: dict[str, str]) -> list[Vote]:
        schema = score_answer(bounds(self.sheet.entries), self.config.critique_first)

        async def one(judge: JudgeSpec) -> Vote:
            messages = self.messages(
                judge, "score.j2", entries=self.sheet.entries, metrics=self.sheet.metrics,
                critique=critiques.get(judge.id, ""),
            )
            answer = await self.caller.ask("independent", judge.role, self.agent(judge.id), messages, schema)
            return self.vote(judge.id, "independent", answer, self.sheet.keys)

        return await self.host.gather(*(one(j) for j in self.config.judges))

    async def _arbitrate(self, keys: list[str], votes: Sequence[Vote], finals: Sequence[Vote]) -> Answer:
        entries = self.sheet.select(keys)
        final_of = {f.judge_id: f for f in finals}
        round = self.config.max_debate_rounds + 2 if self.config.debate else 1
        history = []
        for vote in votes:
            history.append(statement(vote, keys, 0))
            if vote.judge_id in final_of:
                history.append(statement(final_of[vote.judge_id], keys, round - 1))
        messages = PROMPTS.messages(
            "arbiter_system.j2", "arbiter.j2", case=self.case, entries=entries,
            metrics=self.sheet.metrics_of(keys), keys=keys, history=history, pairwise=self.sheet.pairwise,
        )
        answer = await self.caller.ask(
            "arbiter", self.config.arbiter.role, self.agent("arbiter"), messages, arbiter_answer(bounds(entries))
        )
        self.record(
            judge_id="arbiter", role=self.config.arbiter.role, phase="arbiter", round=round, metrics=keys,
            text=answer.parsed.rationale if answer.ok else answer.text[:500],
            scores=answer.parsed.scores.model_dump() if answer.ok else {k: None for k in keys},
            visible_to=[], parsed_ok=answer.ok, labels={} if answer.ok else {"error": answer.error},
        )
        return answer

    # -- helpers used by the phases and the debate ------------------------------------------
    @staticmethod
    def agent(judge_id: str) -> str:
        """The agent id of a judge's calls: its own cache slots."""
        return f"judge:{judge_id}"

    def messages(self, judge: JudgeSpec, template: str, **values: Any) -> list[dict[str, str]]:
        return PROMPTS.messages(
            "judge_system.j2", template, judge=judge, case=self.case, pairwise=self.sheet.pairwise,
            critique_first=self.config.critique_first, **values,
        )

    def vote(self, judge_id: str, phase: str, answer: Answer, keys: Sequence[str]) -> Vote:
        if not answer.ok:
            return Vote(judge_id=judge_id, phase=phase, scores={k: None for k in keys}, text=answer.text[:500],
                        evidence=[], ok=False, error=answer.error)
        parsed = answer.parsed
        return Vote(judge_id=judge_id, phase=phase, scores=parsed.scores.model_dump(), text=parsed.critique,
                    evidence=list(parsed.evidence), ok=True)

    def labels(self, evidence: Sequence[str], error: str | None) -> dict[str, Any]:
        return {"error": error} if error else {"quotes_found": quotes_found(evidence, self.case)}

    def record_vote(self, vote: Vote, round: int, visible_to: list[str] | None) -> None:
        labels = self.labels(vote.evidence, vote.error)
        if self.sheet.pairwise and vote.ok and vote.phase == "independent":
            labels["preference"] = self._preference(vote)
        self.record(
            judge_id=vote.judge_id, role=self.role_of.get(vote.judge_id, "judge"), phase=vote.phase, round=round, metrics=list(vote.scores),
            text=vote.text, scores=vote.scores, evidence=vote.evidence, visible_to=visible_to,
            parsed_ok=vote.ok, labels=labels,
        )

    def _preference(self, vote: Vote) -> str:
        """The candidate (A/B/tie) a judge's independent scores favour, summed over metrics."""
        first, second = (sum(vote.scores[e.key] for e in self.sheet.entries if e.position == n) for n in (1, 2))
        shown = self.base_labels["order"]  # "AB": A is candidate 1
        return {"A": shown[0], "B": shown[1], "tie": "tie"}[prefer(first, second)]

    def record(
        self, *, judge_id: str, role: str, phase: str, round: int, metrics: Sequence[str], text: str,
        visible_to: list[str] | None, parsed_ok: bool, scores: dict[str, float | None] | None = None,
        evidence: Sequence[str] = (), labels: dict[str, Any] | None = None,
    ) -> None:
        self.host.judgement({
            "item_id": self.item_id,
            "judge_id": judge_id,
            "role": role,
            "phase": phase,
            "round": round,
            "metrics": list(metrics),
            "text": text,
            "scores": {k: None if v is None else float(v) for k, v in (scores or {}).items()},
            "evidence": list(evidence),
            "visible_to": None if visible_to is None else list(visible_to),
            "parsed_ok": parsed_ok,
            "labels": {**self.base_labels, **(labels or {})},
            "model": self.host.llm_for(role).model,
        })
