"""Export PersonaArena episodes for fine-tuning the protagonist model (the paper's SFT and DPO):

    python -m simkit.plugins.personaarena.export --db runs/simkit.db --out export/ [--top 50] [--pairs 50] [RUN_ID ...]

- `sft.jsonl`: every protagonist turn of the `--top` highest-scoring episodes, one object a
  line: `instruction` (system prompt), `input` (turn prompt), `output` (the answer), with the
  run, persona and score (PersonaArena: 1,228 action-level instances from 50 trajectories).
- `dpo.jsonl`: for the `--pairs` pairs of episodes on the same persona with the largest
  score gap, one object per turn both episodes have: `prompt` (the better episode's
  messages of that turn), `chosen` and `rejected` answers (665 pairs from 50 trajectory
  pairs in the paper). After the first turn the two episodes' contexts differ, so the
  rejected answer answers its own episode's prompt; `rejected_prompt` keeps it.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import click


def episodes(db, run_ids: list[str]) -> list[dict]:
    """Finished episodes with their persona, overall score and protagonist turns in order."""
    out = []
    for run_id in run_ids:
        overall = db.execute(
            "select value from metrics where run_id = ? and tick = -1 and name = 'overall' and labels_json = '{}'", [run_id]
        ).fetchone()
        persona = db.execute("select persona_id from agents where run_id = ? and agent_id = 'protagonist'", [run_id]).fetchone()
        if not overall or overall[0] is None or not persona:
            continue
        turns = [
            {"messages": json.loads(m), "answer": json.loads(r)["text"]}
            for m, r in db.execute(
                "select messages_json, response_json from llm_calls where run_id = ? and purpose = 'personaarena.protagonist'"
                " and parsed_ok = 1 order by tick, seq", [run_id])
        ]
        out.append({"run_id": run_id, "persona_id": persona[0], "score": overall[0], "turns": turns})
    return out


def sft_rows(eps: list[dict], top: int) -> list[dict]:
    best = sorted(eps, key=lambda e: (-e["score"], e["run_id"]))[:top]
    return [
        {"instruction": t["messages"][0]["content"], "input": t["messages"][-1]["content"], "output": t["answer"],
         "run_id": e["run_id"], "persona_id": e["persona_id"], "score": e["score"]}
        for e in best for t in e["turns"]
    ]


def dpo_rows(eps: list[dict], pairs: int) -> list[dict]:
    candidates = []
    for a, b in itertools.combinations(eps, 2):
        if a["persona_id"] == b["persona_id"] and a["score"] != b["score"]:
            chosen, rejected = (a, b) if a["score"] > b["score"] else (b, a)
            candidates.append((chosen["score"] - rejected["score"], chosen, rejected))
    candidates.sort(key=lambda c: (-c[0], c[1]["run_id"], c[2]["run_id"]))
    return [
        {"prompt": good["messages"], "chosen": good["answer"], "rejected": bad["answer"],
         "rejected_prompt": bad["messages"], "turn": k + 1, "persona_id": chosen["persona_id"], "gap": gap,
         "chosen_run": chosen["run_id"], "rejected_run": rejected["run_id"]}
        for gap, chosen, rejected in candidates[:pairs]
        for k, (good, bad) in enumerate(zip(chosen["turns"], rejected["turns"]))
        if good["answer"] != bad["answer"]  # an identical turn carries no preference
    ]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


@click.command()
@click.argument("run_ids", nargs=-1)
@click.option("--db", type=click.Path(path_type=Path), default=Path("runs/simkit.db"), show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("export"), show_default=True, help="Output folder.")
@click.option("--top", type=int, default=50, show_default=True, help="Episodes for sft.jsonl.")
@click.option("--pairs", type=int, default=50, show_default=True, help="Same-persona episode pairs for dpo.jsonl.")
def main(run_ids: tuple[str, ...], db: Path, out: Path, top: int, pairs: int) -> None:
    """Write sft.jsonl (top episodes' protagonist turns) and dpo.jsonl (same-persona preference pairs)."""
    from simkit.errors import SimkitError
    from simkit.store.reader import RunReader

    try:
        reader = RunReader.open(db)
        ids = [reader.run(r)["run_id"] for r in run_ids] or [r["run_id"] for r in reader.runs() if r["plugin"] == "personaarena"]
    except SimkitError as exc:
        raise click.ClickException(str(exc)) from None
    eps = episodes(reader.db, ids)
    out.mkdir(parents=True, exist_ok=True)
    sft, dpo = sft_rows(eps, top), dpo_rows(eps, pairs)
    write_jsonl(out / "sft.jsonl", sft)
    write_jsonl(out / "dpo.jsonl", dpo)
    click.echo(f"{out / 'sft.jsonl'}: {len(sft)} turns; {out / 'dpo.jsonl'}: {len(dpo)} pairs ({len(eps)} episodes)")


if __name__ == "__main__":
    main()
