"""`simkit cdi`: the CDI plugin's commands.

- `simkit cdi search`: the authors' offline attack search (search_control.py --goal attack)
  as one recorded run with `cdi.attacker=search`: k trajectories per round, an optimizer
  rewriting the attack task between rounds, up to R rounds; every call is in the run's
  `llm_calls` (and is the cache a repeated search reads). The best round's task (lowest
  PP) is written into a scenario file, which an ordinary sweep evaluates on fresh runs.
- `simkit cdi table`: the paper's table (printed and CSV) for runs already in a database.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click

from simkit.errors import UsageError


@click.group()
def cdi() -> None:
    """CDI (contextual privacy defenses): attack search and the paper's table."""


def best_round(rounds: list[dict]) -> dict:
    """The round with the lowest PP (an unscored round never wins); ties: the earliest."""
    return min(rounds, key=lambda r: (1.0 if r["pp"] is None else r["pp"], r["round"]) if r["scored"] else (2.0, r["round"]))


@cdi.command()
@click.argument("scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--write", "write_to", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The scenario file (JSON) to write with the found attack.")
@click.option("--trajectories", "-k", type=click.IntRange(1, 50), default=5, show_default=True, help="Episodes per round.")
@click.option("--rounds", "-r", type=click.IntRange(1, 50), default=10, show_default=True, help="Search rounds at most.")
@click.option("--target-pp", type=click.FloatRange(0, 1), default=0.0, show_default=True, help="Stop once a round's PP is this low.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a scenario key (e.g. cdi.scenario=ID).")
@click.option("--llm", help="scripted | local[:GGUF] | openai:MODEL (the sender).")
@click.option("--out", type=click.Path(path_type=Path), help="Run database (default: the scenario's output.db).")
@click.option("--resume", "resume_id", metavar="RUN_ID", help="Resume an interrupted search run (same arguments as before).")
def search(scenario: Path, write_to: Path, trajectories: int, rounds: int, target_pp: float, sets, llm, out, resume_id) -> None:
    """Search an attack on one scenario offline, then write it into a scenario file.

    Example: simkit cdi search scenarios/cdi_paper.yaml --set cdi.scenario=custody-coordinator -k 5 -r 10 --write attacked.json
    then:    simkit sweep scenarios/cdi_paper.yaml --set cdi.scenarios=attacked.json --set cdi.defense=none,prompting,guarding,cdi
    """
    from rich.console import Console
    from rich.table import Table

    from simkit.config import parse_llm_flag
    from simkit.engine.runner import Simulation, load_scenario
    from simkit.plugins.cdi.scenario import load_scenarios
    from simkit.store.reader import RunReader

    overrides = [*sets, "cdi.attacker=search", f"cdi.search.trajectories={trajectories}", f"cdi.search.rounds={rounds}",
                 f"cdi.search.target_pp={target_pp}"]
    extra: dict = {}
    if llm:
        extra["llm"] = parse_llm_flag(llm)
    if out:
        extra["output"] = {"db": str(out)}
    config, plugin_cfg = load_scenario(scenario, overrides, extra)
    if config.plugin != "cdi":
        raise UsageError(f"{scenario}: plugin is {config.plugin!r}; simkit cdi search needs a cdi scenario")
    ticks = rounds * trajectories * plugin_cfg.max_orchestrator_steps + 2  # room for every episode
    clock = config.clock
    extra["clock"] = {"end": (clock.start + clock.tick * max(ticks, clock.n_ticks)).isoformat()}
    config, plugin_cfg = load_scenario(scenario, overrides, extra)
    db = Path(config.output.db)
    db.parent.mkdir(parents=True, exist_ok=True)
    if resume_id:
        resume_id = RunReader.open(db).run(resume_id)["run_id"]
    sim = Simulation(config, plugin_cfg, db, source=scenario, run_id=resume_id)
    try:
        result = asyncio.run(sim.run(resume=resume_id is not None))
    except KeyboardInterrupt:
        raise UsageError(f"search interrupted; resume it: simkit cdi search ... --resume {sim.run_id}") from None
    reader = RunReader.open(db)
    found = list(reader.db.query("select * from cdi_search where run_id = ? order by round", [result.run_id])) \
        if "cdi_search" in reader.db.table_names() else []
    if not found:
        raise UsageError(f"run {result.run_id} finished without a scored search round (clock too short?)")
    console = Console()
    table = Table("round", "PP", "scored", "sensitive revealed", "attack task", title=f"Attack search, run {result.run_id}",
                  title_justify="left")
    for r in found:
        table.add_row(str(r["round"]), "-" if r["pp"] is None else f"{r['pp']:.3f}", f"{r['scored']}/{len(json.loads(r['episodes']))}",
                      str(r["leaked"]), r["task"])
    console.print(table)
    best = best_round(found)
    scenarios = load_scenarios(plugin_cfg.scenarios)
    base = scenarios[plugin_cfg.scenario] if plugin_cfg.scenario else next(iter(scenarios.values()))
    pp = "-" if best["pp"] is None else f"{best['pp']:.3f}"
    written = base.model_copy(update={
        "id": f"{base.id}-searched", "recipient_task": best["task"], "id_note": "",
        "provenance": (f"attack found by simkit cdi search, run {result.run_id}, round {best['round']} "
                       f"(PP {pp} over {best['scored']} scored trajectories), from scenario {base.id}"),
    })
    write_to.write_text(json.dumps(written.model_dump(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    console.print(f"{write_to}: scenario {written.id}, attack of round {best['round']} (PP {pp})", highlight=False, soft_wrap=True)


@cdi.command()
@click.option("--db", type=click.Path(path_type=Path), default=Path("runs/simkit.db"), show_default=True)
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the rows as CSV.")
@click.argument("run_ids", nargs=-1)
def table(db: Path, csv_out: Path | None, run_ids: tuple[str, ...]) -> None:
    """Print the paper's table (defense x attacker: PP / HS / AD with 95% intervals, runs
    scored and left out, calls and tokens) for RUN_IDS, or every finished cdi run in DB."""
    from rich.console import Console

    from simkit.plugins.cdi.report import print_table, table_rows, write_csv
    from simkit.store.reader import RunReader

    reader = RunReader.open(db)
    ids = [reader.run(r)["run_id"] for r in run_ids] or [
        r["run_id"] for r in reader.runs() if r["status"] == "finished" and json.loads(r["config_json"]).get("plugin") == "cdi"]
    if not ids:
        raise UsageError(f"{db}: no finished cdi run")
    rows = table_rows(reader, ids)
    print_table(rows, Console())
    if csv_out:
        write_csv(rows, csv_out)
        click.echo(f"CSV: {csv_out}")
