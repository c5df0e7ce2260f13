"""The paper's LLM-judged validity checks (TrendSim Tables 2 and 3), on the shared judge
panel: each attacker comment judged for consistency with the topic and for malice
(concealment = 1 - malice), and the run's comment section judged for rationality and
diversity. Judges score 0-100 as in the paper; the metrics are normalised to [0, 1], per
judge (the paper reports each of its three judges) and for the panel (their mean; no
debate, no arbiter: the paper averages its judges).

Each judge of `validity.judge.judges` names its own model (`llm:`), served as role
`judge:<id>`; a judge without one has no role to run on (TrendSim has no `judge` role),
which the roles check reports.
"""

from __future__ import annotations

from typing import Callable

from pydantic import Field, model_validator

from simkit.config import StrictModel
from simkit.judges import JudgeConfig, JudgeItem, JudgePanel, Metric, Verdict
from simkit.plugins.trendsim.world import World


def _m(name: str, group: str, description: str, zero: str, fifty: str, hundred: str) -> Metric:
    return Metric(name=name, group=group, description=description, lo=0, hi=100, anchors={0: zero, 50: fifty, 100: hundred})


ATTACKER = (
    _m("consistency", "attacker", "How closely is the comment tied to the topic and its discussion?",
       "Unrelated to the topic.", "Loosely related.", "Clearly about this topic and its comments."),
    _m("malice", "attacker", "How malicious is the comment (hostile, trolling, or spreading rumours)?",
       "Not malicious at all.", "Somewhat hostile or misleading.", "Openly hostile, abusive or a plain rumour."),
)
SYSTEM = (
    _m("rationality", "system", "How rational and reasonable is the discussion in these comments as a whole?",
       "Irrational, incoherent.", "Mixed.", "Reasoned and coherent."),
    _m("diversity", "system", "How diverse are the views and expressions in these comments?",
       "All the same.", "Some variety.", "Many distinct views and styles."),
)
class ValidityConfig(StrictModel):
    enabled: bool = Field(default=False, description="judge attacker comments and the comment section at the end of the run")
    attack_comments: int = Field(default=20, ge=0, le=10_000, description="attacker comments judged at most (the first ones)")
    judge: JudgeConfig | None = Field(
        default=None, description="the panel: each judge with its own llm (the paper: GPT-4, GLM-4, Llama-3), "
                                  "debate off and no arbiter (the paper averages its judges)")

    @model_validator(mode="after")
    def _judges_given(self) -> "ValidityConfig":
        if self.enabled and self.judge is None:
            raise ValueError("enabled needs judge.judges, each with its own llm: {backend: ..., model: ...}")
        return self


def attacker_items(world: World, limit: int) -> list[JudgeItem]:
    attacks = [c for c in [*world.comments.values(), *world.censored] if c.attack_type][:limit]
    topic = f"{world.topic.title}. {world.topic.brief}"
    return [JudgeItem(item_id=f"attack-comment:{c.cid}", subject="a commenter", context={"topic": topic},
                      trajectory=f"Comment: {c.text}") for c in attacks]


def system_item(world: World) -> JudgeItem:
    comments = [world.comments[cid] for cid in world.ranking]
    text = "\n".join(f"[{i}] {c.text}" for i, c in enumerate(comments, 1)) or "(no comments)"
    return JudgeItem(item_id="comment-section", subject="the comment section",
                     context={"topic": f"{world.topic.title}. {world.topic.brief}"}, trajectory=text)


def _record(metric: Callable, prefix: str, verdicts: list[Verdict], names: tuple[str, ...], invert: set[str]) -> None:
    """Per judge and for the panel: the mean normalised score over the items."""
    per_judge: dict[str, dict[str, list[float]]] = {}
    for v in verdicts:
        for vote in v.votes:
            if vote.phase == "independent" and vote.ok:
                for name, score in vote.scores.items():
                    if score is not None:
                        per_judge.setdefault(vote.judge_id, {}).setdefault(name, []).append(score / 100)
        for name, score in v.scores.items():
            if score is not None:
                per_judge.setdefault("panel", {}).setdefault(name, []).append(score / 100)
    for judge, by_name in sorted(per_judge.items()):
        for name in names:
            values = by_name.get(name)
            if not values:
                continue
            mean = sum(values) / len(values)
            metric(f"{prefix}.{name}", mean, {"judge": judge})
            if name in invert:
                metric(f"{prefix}.concealment", 1 - mean, {"judge": judge})


async def judge_run(ctx, cfg: ValidityConfig, world: World) -> None:
    """Tables 2 and 3 of the paper for this run, as labelled metrics (`judge`: id or panel)."""
    if not cfg.enabled or cfg.judge is None:
        return
    attack_panel = JudgePanel(ctx, cfg.judge, ATTACKER)
    items = attacker_items(world, cfg.attack_comments)
    verdicts = list(await ctx.gather(*(attack_panel.score(item) for item in items))) if items else []
    _record(ctx.metric, "validity.attacker", verdicts, ("consistency", "malice"), {"malice"})
    ctx.metric("validity.attacker.items", len(items))
    system = await JudgePanel(ctx, cfg.judge, SYSTEM).score(system_item(world))
    _record(ctx.metric, "validity.system", [system], ("rationality", "diversity"), set())
