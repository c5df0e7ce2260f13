"""The debate on disputed keys and the final statements, under ChatEval's three strategies.

- `one_by_one`: judges speak in a fixed order; each sees everything said before its turn,
  this round included;
- `simultaneous`: judges speak in parallel; each sees only earlier rounds;
- `simultaneous_summarizer`: as simultaneous, but after each round a summarizer condenses
  it and judges see the opening positions plus that summary instead of the raw turns.

Final statements are blind by default (ChatEval's blind judge): made in parallel, each
judge's final goes into no other judge's prompt. With `blind_final=False` and one_by_one,
later judges hear earlier finals. Every turn is recorded with `visible_to`: the judges
whose prompts contained it (None: all of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from simkit.judges.answers import Argument, bounds, score_answer
from simkit.judges.caller import Answer
from simkit.judges.config import JudgeSpec
from simkit.judges.templates import PROMPTS
from simkit.judges.verdict import Vote

if TYPE_CHECKING:
    from simkit.judges.session import Session


@dataclass
class Message:
    """A statement as other judges are shown it."""

    author: str
    kind: Literal["position", "argument", "summary", "final"]
    round: int
    text: str
    scores: dict[str, int | None] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)


def statement(vote: Vote, keys: Sequence[str], round: int) -> Message:
    """A scored vote restricted to `keys`, as a message."""
    kind = "position" if vote.phase == "independent" else "final"
    return Message(vote.judge_id, kind, round, vote.text, {k: vote.scores[k] for k in keys}, list(vote.evidence))


class Debate:
    def __init__(self, session: Session, judges: Sequence[JudgeSpec], keys: Sequence[str], opening: list[Message]):
        self.session = session
        self.config = session.config
        self.judges = list(judges)
        self.keys = list(keys)
        self.entries = session.sheet.select(keys)
        self.metrics = session.sheet.metrics_of(keys)
        self.opening = opening
        self.spoken: list[Message] = []
        self.summary: Message | None = None

    @property
    def summarized(self) -> bool:
        return self.config.strategy == "simultaneous_summarizer"

    def seen(self) -> list[Message]:
        """What a judge speaking now is shown."""
        if self.summarized:
            return [*self.opening, *([self.summary] if self.summary else [])]
        return [*self.opening, *self.spoken]

    async def discuss(self) -> None:
        for round in range(1, self.config.max_debate_rounds + 1):
            if self.config.strategy == "one_by_one":
                for judge in self.judges:
                    self._keep(judge, round, await self._argue(judge, round, self.seen()))
                continue
            seen = self.seen()
            answers = await self.session.host.gather(*(self._argue(j, round, seen) for j in self.judges))
            before = len(self.spoken)
            for judge, answer in zip(self.judges, answers):
                self._keep(judge, round, answer)
            if self.summarized:
                await self._summarize(round, self.spoken[before:])

    async def finals(self, votes: Sequence[Vote]) -> list[Vote]:
        """Each judge's final scores on the debated keys, in judge order."""
        own = {vote.judge_id: vote for vote in votes}
        round = self.config.max_debate_rounds + 1
        if self.config.blind_final or self.config.strategy != "one_by_one":
            seen = self.seen()
            answers = await self.session.host.gather(*(self._final(j, seen, own[j.id]) for j in self.judges))
            finals = [self.session.vote(j.id, "final", a, self.keys) for j, a in zip(self.judges, answers)]
            for vote in finals:
                self.session.record_vote(vote, round, visible_to=[vote.judge_id])
            return finals
        finals = []
        for i, judge in enumerate(self.judges):
            vote = self.session.vote(judge.id, "final", await self._final(judge, self.seen(), own[judge.id]), self.keys)
            hearers = [j.id for j in self.judges[i + 1:]] if vote.ok else []
            self.session.record_vote(vote, round, visible_to=[judge.id, *hearers])
            if vote.ok:
                self.spoken.append(statement(vote, self.keys, round))
            finals.append(vote)
        return finals

    async def _argue(self, judge: JudgeSpec, round: int, seen: list[Message]) -> Answer:
        messages = self.session.messages(
            judge, "debate.j2", entries=self.entries, metrics=self.metrics, keys=self.keys,
            history=seen, round=round, rounds=self.config.max_debate_rounds,
        )
        return await self.session.caller.ask("debate", judge.role, self.session.agent(judge.id), messages, Argument)

    def _keep(self, judge: JudgeSpec, round: int, answer: Answer) -> None:
        """Record a debate turn; a valid one joins what the others will be shown."""
        parsed = answer.parsed if answer.ok else None
        if parsed is not None:
            self.spoken.append(Message(judge.id, "argument", round, parsed.argument, evidence=list(parsed.evidence)))
        public = parsed is not None and not self.summarized
        self.session.record(
            judge_id=judge.id, role=judge.role, phase="debate", round=round, metrics=self.keys,
            text=parsed.argument if parsed else answer.text[:500],
            evidence=parsed.evidence if parsed else [],
            visible_to=None if public else [judge.id], parsed_ok=answer.ok,
            labels=self.session.labels(parsed.evidence if parsed else [], answer.error),
        )

    async def _summarize(self, round: int, new: list[Message]) -> None:
        messages = PROMPTS.messages(
            "summary_system.j2", "summary.j2", summary=self.summary.text if self.summary else "",
            history=new, keys=self.keys, round=round,
        )
        answer = await self.session.caller.ask(
            "summary", self.config.summarizer_role, self.session.agent("summarizer"), messages
        )
        self.summary = Message("summarizer", "summary", round, answer.parsed)
        self.session.record(
            judge_id="summarizer", role=self.config.summarizer_role, phase="summary", round=round, metrics=self.keys,
            text=answer.parsed, visible_to=None, parsed_ok=True,
        )

    async def _final(self, judge: JudgeSpec, seen: list[Message], own: Vote) -> Answer:
        schema = score_answer(bounds(self.entries), self.config.critique_first)
        messages = self.session.messages(
            judge, "final.j2", entries=self.entries, metrics=self.metrics, keys=self.keys, history=seen,
            own={k: own.scores[k] for k in self.keys}, blind=self.config.blind_final,
        )
        return await self.session.caller.ask("final", judge.role, self.session.agent(judge.id), messages, schema)
