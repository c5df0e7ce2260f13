"""The generation pipeline: users' posts -> narrative persona -> quality filter -> Big Five.

Per user, three structured LLM calls on any backend:
1. `persona.narrative`: a narrative persona (name, demographics, interest groups, story,
   and 1-3 facts in each of the five groups: background, personality, values, interests,
   experiences);
2. `persona.judge`: a fidelity rating against the posts, plus the rule checks of `checks.py`;
3. `persona.ipip`: the persona answers all 50 IPIP items in character, in one call, the
   items in an order shuffled per persona; answers are scored with the standard key, and
   sheets that contradict themselves (agreeing with an item and its reversal) are rejected.

Users run concurrently. Each finished persona is appended to the bank at once, and each
rejected one to a side file with the stage and reason, so a crashed or interrupted run
resumes where it stopped: users already in either file are skipped. When every user is
done both files are rewritten in source order, so the result does not depend on timing.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Callable, Literal

import numpy as np
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, create_model

from simkit.agents.prompts import PromptLibrary
from simkit.errors import UsageError
from simkit.llm.client import LLMClient
from simkit.personas import checks, ipip
from simkit.personas.model import INTEREST_GROUPS, Demographics, Facts, Persona
from simkit.personas.sources import SourceUser

PROMPTS = PromptLibrary(Path(__file__).parent / "prompts")
PROMPT_FILES = ("narrative.j2", "judge.j2", "ipip_system.j2", "ipip.j2")


Statement = Annotated[str, Field(min_length=3, max_length=200)]


class DraftFacts(BaseModel):
    """The five fact groups (`simkit.personas.model.FACT_GROUPS`), 1-3 statements each."""

    background: list[Statement] = Field(min_length=1, max_length=3)
    personality: list[Statement] = Field(min_length=1, max_length=3)
    values: list[Statement] = Field(min_length=1, max_length=3)
    interests: list[Statement] = Field(min_length=1, max_length=3)
    experiences: list[Statement] = Field(min_length=1, max_length=3)


class NarrativeDraft(BaseModel):
    name: str = Field(min_length=1, max_length=60)
    age: int = Field(ge=13, le=100)
    gender: Literal["female", "male", "non-binary"]
    region: str = Field(min_length=1, max_length=80)
    occupation: str = Field(min_length=1, max_length=80)
    interests: list[Literal[INTEREST_GROUPS]] = Field(min_length=1, max_length=3)  # type: ignore[valid-type]
    narrative: str = Field(min_length=1, max_length=1600)
    facts: DraftFacts


FACT_FIELDS = ("age", "gender", "region", "occupation")


def known_facts(meta: dict) -> dict:
    """The source's facts that are valid draft values: the model is not asked for these."""
    facts = {}
    for key in FACT_FIELDS:
        if key in meta:
            info = NarrativeDraft.model_fields[key]
            try:
                facts[key] = TypeAdapter(Annotated[info.annotation, info]).validate_python(meta[key])
            except ValidationError:
                continue
    return facts


@functools.cache
def draft_schema(known: frozenset[str]) -> type[BaseModel]:
    """NarrativeDraft without the fields the source already knows."""
    fields = {name: (info.annotation, info) for name, info in NarrativeDraft.model_fields.items() if name not in known}
    return create_model("PersonaDraft", **fields)


class JudgeVerdict(BaseModel):
    fidelity: int = Field(ge=1, le=5)
    reason: str = Field(max_length=300)


IpipAnswers = create_model(
    "IpipAnswers", **{f"q{i:02d}": (int, Field(ge=1, le=5)) for i in range(1, len(ipip.ITEMS) + 1)}
)


@dataclass
class GenerateOptions:
    max_posts: int = 8
    max_chars: int = 2400  # of posts per prompt: fits a 2,048-token context with the answer
    min_fidelity: int = 3
    max_inconsistency: float = 1.1  # mean within-trait SD of keyed answers; random answering ~1.3
    min_narrative: int = 120
    max_narrative: int = 1600
    concurrency: int = 4
    seed: int = 0
    limit: int | None = None


@dataclass
class GenerateSummary:
    users: int
    resumed: int = 0  # users already done by an earlier run
    accepted: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # stage -> count, this run


def prompt_version() -> str:
    digest = hashlib.sha256()
    for name in PROMPT_FILES:
        digest.update((PROMPTS.folder / name).read_bytes())
    return digest.hexdigest()[:12]


def item_order(user_id: str, seed: int) -> list[ipip.Item]:
    """The per-persona shuffled order of the 50 items (stable for a user and seed)."""
    key = int.from_bytes(hashlib.sha256(f"{seed}:{user_id}".encode()).digest()[:8], "big")
    order = np.random.default_rng(key).permutation(len(ipip.ITEMS))
    return [ipip.ITEMS[i] for i in order]


class _Reject(Exception):
    def __init__(self, stage: str, reason: str, draft: dict | None = None):
        super().__init__(reason)
        self.stage, self.reason, self.draft = stage, reason, draft


async def make_persona(client: LLMClient, user: SourceUser, opts: GenerateOptions, source: str) -> Persona:
    """Run the three steps for one user; raises `_Reject` with the stage and reason."""
    posts = user.trimmed(opts.max_posts, opts.max_chars)
    facts = known_facts(user.meta)
    asked = await client.complete(
        PROMPTS.messages(None, "narrative.j2", posts=posts, facts=facts),
        schema=draft_schema(frozenset(facts)), purpose="persona.narrative", agent_id=user.user_id, max_tokens=600,
    )
    if not asked.ok:
        raise _Reject("narrative", f"the model's answer did not validate ({asked.error})")
    draft = NarrativeDraft(**facts, **asked.parsed.model_dump())
    snapshot = draft.model_dump()
    problem = checks.rule_problems(draft, user.posts, user.meta, opts.min_narrative, opts.max_narrative)
    if problem:
        raise _Reject("rules", problem, snapshot)

    judged = await client.complete(
        PROMPTS.messages(None, "judge.j2", posts=posts, persona=draft),
        schema=JudgeVerdict, purpose="persona.judge", agent_id=user.user_id, temperature=0.0, max_tokens=160,
    )
    if not judged.ok:
        raise _Reject("judge", f"the judge's answer did not validate ({judged.error})", snapshot)
    verdict: JudgeVerdict = judged.parsed
    if verdict.fidelity < opts.min_fidelity:
        raise _Reject("judge", f"fidelity {verdict.fidelity} < {opts.min_fidelity}: {verdict.reason}", snapshot)

    order = item_order(user.user_id, opts.seed)
    answered = await client.complete(
        PROMPTS.messages("ipip_system.j2", "ipip.j2", persona=draft,
                         items=[(k, item.text) for k, item in enumerate(order, 1)]),
        schema=IpipAnswers, purpose="persona.ipip", agent_id=user.user_id, temperature=0.0, max_tokens=450,
    )
    if not answered.ok:
        raise _Reject("ipip", f"the questionnaire answer did not validate ({answered.error})", snapshot)
    raw = answered.parsed.model_dump()
    answers = {item.code: raw[f"q{k:02d}"] for k, item in enumerate(order, 1)}
    spread = ipip.inconsistency(answers)
    if len(set(answers.values())) == 1:
        raise _Reject("ipip", f"answered every item {answers['E1']}: no information", snapshot)
    if spread > opts.max_inconsistency:
        raise _Reject("ipip", f"self-contradicting answers (inconsistency {spread} > {opts.max_inconsistency})", snapshot)

    return Persona(
        id=user.user_id,
        name=draft.name,
        demographics=Demographics(age=draft.age, gender=draft.gender, region=draft.region, occupation=draft.occupation),
        interests=list(dict.fromkeys(draft.interests)),
        narrative=draft.narrative,
        facts=Facts(**draft.facts.model_dump()),
        big_five=ipip.score(answers),
        quality=round((verdict.fidelity - 1) / 4, 3),
        provenance={
            "source": source,
            "user_id": user.user_id,
            "posts_used": len(posts),
            "model": client.model,
            "prompts": prompt_version(),
            "judge": {"fidelity": verdict.fidelity, "reason": verdict.reason},
            "ipip": {"answers": {c: answers[c] for c in ipip.ITEM_CODES}, "inconsistency": spread},
        },
    )


def finished_ids(path: Path) -> list[str]:
    """User ids already written to a bank or side file. A last line cut short by a crash is
    dropped from the file, so the user it belonged to is simply done again."""
    if not path.exists():
        return []
    ids, good_bytes = [], 0
    with path.open("rb") as fh:
        for lineno, line in enumerate(fh, 1):
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                if line.endswith(b"\n"):
                    raise UsageError(f"{path}:{lineno}: not valid JSON; fix or remove the line to resume") from None
                break
            if not line.endswith(b"\n"):
                break
            ids.append(str(record.get("provenance", {}).get("user_id", record.get("user_id", record.get("id")))))
            good_bytes += len(line)
    if good_bytes < path.stat().st_size:
        with path.open("r+b") as fh:
            fh.truncate(good_bytes)
    return ids


def _sort_by_source(path: Path, order: dict[str, int]) -> None:
    if not path.exists():
        return
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def key(line: str) -> int:
        record = json.loads(line)
        uid = str(record.get("provenance", {}).get("user_id", record.get("user_id", record.get("id"))))
        return order.get(uid, len(order))

    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("".join(line + "\n" for line in sorted(lines, key=key)), encoding="utf-8")
    os.replace(tmp, path)


def rejected_path(out: Path) -> Path:
    return out.with_name(out.stem + ".rejected.jsonl")


async def generate(
    users: list[SourceUser],
    out: Path,
    client: LLMClient,
    opts: GenerateOptions,
    *,
    source: str,
    on_progress: Callable[[GenerateSummary], None] = lambda _s: None,
) -> GenerateSummary:
    """Make personas for every user not yet in `out` or its rejected side file."""
    out = Path(out)
    side = rejected_path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = set(finished_ids(out)) | set(finished_ids(side))
    todo = [u for u in users if u.user_id not in done]
    if opts.limit is not None:
        todo = todo[: opts.limit]
    summary = GenerateSummary(users=len(users), resumed=sum(u.user_id in done for u in users))
    on_progress(summary)
    gate = asyncio.Semaphore(opts.concurrency)

    with out.open("a", encoding="utf-8") as bank, side.open("a", encoding="utf-8") as rejects:

        async def one(user: SourceUser) -> None:
            async with gate:
                try:
                    persona = await make_persona(client, user, opts, source)
                except _Reject as rej:
                    record = {"user_id": user.user_id, "stage": rej.stage, "reason": rej.reason}
                    if rej.draft:
                        record["draft"] = rej.draft
                    rejects.write(json.dumps(record, ensure_ascii=False) + "\n")
                    rejects.flush()
                    summary.rejected += 1
                    summary.reasons[rej.stage] = summary.reasons.get(rej.stage, 0) + 1
                else:
                    bank.write(persona.model_dump_json(exclude_none=True) + "\n")
                    bank.flush()
                    summary.accepted += 1
                on_progress(summary)

        tasks = [asyncio.create_task(one(u)) for u in todo]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    if summary.resumed + summary.accepted + summary.rejected == len(users):
        order = {u.user_id: i for i, u in enumerate(users)}
        _sort_by_source(out, order)
        _sort_by_source(side, order)
    return summary
