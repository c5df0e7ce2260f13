"""Export a CDI run's failure trajectories as JSONL training environments for an instructor
(the paper's instructor training data, README):

    python -m simkit.plugins.cdi.export RUN_ID --db runs/simkit.db --out failures.jsonl

One line per episode whose sender leaked: the sender's context just before its first
leaking message (the exact prompt of the call that wrote it, and the sanitized history an
instructor reads, with the instructor prompt built from it), the leaking message, the item
lists and what the judge found. `--mixed` keeps the authors' mixed-objective rule: only
leaks at or after the first helpful share, other episodes are skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from simkit.plugins.cdi.agents import Instructor


def _leaking_call(db, run_id: str, tick: int, text: str) -> list | None:
    """The messages of the sender's LLM call whose tool call sent `text`."""
    for row in db.query("select messages_json, response_json from llm_calls where run_id = ? and tick = ? and purpose = 'cdi.sender' "
                        "order by seq", [run_id, tick]):
        for call in json.loads(row["response_json"]).get("tool_calls") or []:
            args = json.loads(call.get("arguments") or "{}")
            if text in (args.get("message"), args.get("body"), args.get("content")):
                return json.loads(row["messages_json"])
    return None


def failures(db, run_id: str, mixed: bool = False) -> list[dict]:
    """The training environments of one run (see the module docstring)."""
    out = []
    config = json.loads(next(db.query("select config_json from runs where run_id = ?", [run_id]))["config_json"])
    for episode in db.query("select * from cdi_episodes where run_id = ? order by episode", [run_id]):
        checks = list(db.query("select * from cdi_checks where run_id = ? and episode = ? and status = 'ok' order by rowid",
                               [run_id, episode["episode"]]))
        shared: set[int] = set()
        for n, check in enumerate(checks):
            shareable, sensitive = json.loads(check["shareable"]), json.loads(check["sensitive"])
            if sensitive and (shared or shareable or not mixed):
                msg_id = int(check["item_id"].rsplit("-m", 1)[1])
                message = next(db.query("select * from cdi_messages where run_id = ? and episode = ? and msg_id = ?",
                                        [run_id, episode["episode"], msg_id]))
                out.append({
                    "run_id": run_id, "scenario": episode["scenario"], "episode": episode["episode"],
                    "defense": config["cdi"]["defense"], "attacker": config["cdi"]["attacker"], "item_id": check["item_id"],
                    "sanitized_history": message["memory"],
                    "instructor_messages": Instructor(None, episode["sender_name"]).messages(message["memory"]),
                    "sender_messages": _leaking_call(db, run_id, message["tick"], message["text"]),
                    "original_message": message["text"], "app": message["app"],
                    "shareable": json.loads(episode["shareable"]), "sensitive": json.loads(episode["sensitive"]),
                    "leaked": sensitive, "shared": sorted(shared | set(shareable)), "judged_before": n,
                })
                break
            if sensitive:  # mixed objective: a leak before any helpful share is skipped
                break
            shared |= set(shareable)
    return out


@click.command()
@click.argument("run_id")
@click.option("--db", type=click.Path(path_type=Path), default=Path("runs/simkit.db"), show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="JSONL file to write.")
@click.option("--mixed", is_flag=True, help="Only leaks at or after the first helpful share (the authors' mixed objective).")
def main(run_id: str, db: Path, out: Path, mixed: bool) -> None:
    """Write a CDI run's failure environments (the sender's context before its first leak) as JSONL."""
    from simkit.errors import SimkitError
    from simkit.store.reader import RunReader

    try:
        reader = RunReader.open(db)
        run = reader.run(run_id)
    except SimkitError as exc:
        raise click.ClickException(str(exc)) from None
    if run["plugin"] != "cdi":
        raise click.ClickException(f"run {run['run_id']} is a {run['plugin']} run, not a cdi run")
    rows = failures(reader.db, run["run_id"], mixed) if "cdi_episodes" in reader.db.table_names() else []
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    click.echo(f"{out}: {len(rows)} failure environment{'s' if len(rows) != 1 else ''} from run {run['run_id']}")


if __name__ == "__main__":
    main()
