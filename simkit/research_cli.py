"""`simkit branch`, and the pieces `simkit run` / `simkit sweep` use for `--estimate`,
`--budget` and `--strict`: spend in the live display and the summary, health warnings.
Logic lives in simkit.engine.branch / budget / estimate / health; this is printing."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from simkit.errors import SimkitError, UsageError

console = Console()
err_console = Console(stderr=True)


# -- pieces for `run` and `sweep` ----------------------------------------------------------
def print_estimate(console: Console, est, label: str = "") -> None:
    console.print(f"[bold]estimate{(' ' + escape(label)) if label else ''}[/]", highlight=False)
    for line in est.lines():
        console.print("  " + escape(line), highlight=False, soft_wrap=True)


def sweep_estimate(console: Console, points) -> None:
    """`simkit sweep --estimate`: each grid point's estimate and the sweep's total."""
    from simkit.engine.estimate import Estimate, estimate
    from simkit.engine.runner import load_scenario

    total = Estimate()
    for p in points:
        config, plugin_cfg = load_scenario(Path(p.scenario), list(p.overrides), dict(p.extra))
        est = estimate(config, plugin_cfg, Path(p.scenario), Path(p.db))
        console.print(f"{escape(p.label)}: {escape(est.lines()[-1 if est.scale == 1.0 else -2])}", highlight=False, soft_wrap=True)
        total.add(est)
    console.print(f"[bold]sweep[/] {escape(total.lines()[-1])}", highlight=False, soft_wrap=True)


def report_end(console: Console, err: Console, result, scenario, strict: bool) -> None:
    """After the summary: the budget stop line, health warnings, `--strict`'s exit."""
    from simkit.store.reader import RunReader

    run = RunReader.open(result.db_path).run(result.run_id)
    console.print(spend_summary(run), highlight=False, soft_wrap=True)
    if run["status"] == "stopped: budget":
        err.print(
            f"stopped: {escape(run['error'] or 'budget')}; committed ticks are kept. Continue with: "
            f"simkit run {scenario} --resume {result.run_id} --budget LARGER",
            highlight=False, soft_wrap=True,
        )
    print_health(err, result.health)
    if strict and result.health:
        err.print(f"[bold red]error:[/] --strict: {len(result.health)} health warnings", highlight=False)
        sys.exit(3)


def spend_summary(run: dict) -> str:
    """`spent: ...` for the summary: the run's calls and tokens, priced when the price is known."""
    import json

    from simkit.config import LLMConfig
    from simkit.engine.budget import Budget, spend_line
    from simkit.engine.estimate import price_of

    spent = {k: run.get(k) or 0 for k in ("llm_calls", "tokens_in", "tokens_out")}
    price = price_of(LLMConfig.model_validate(json.loads(run["config_json"])["llm"]).for_role(""))
    text = "spent: " + spend_line(spent, Budget("usd", 1.0, *price) if price else None)
    return text + ("" if price else " (no price for this model: set llm.price to see the cost)")


def print_health(console: Console, warnings: list[str]) -> None:
    for w in warnings:
        console.print(f"[yellow]health:[/] {escape(w)}", highlight=False, soft_wrap=True)


def lineage_lines(reader, run_id: str) -> list[str]:
    """`runs show`: the run's ancestry, when it is a branch."""
    from simkit.engine.branch import lineage

    chain = lineage(reader, run_id)
    if len(chain) < 2:
        return []
    parts = [chain[0][0]] + [f"-> (after tick {t}) {rid}" for rid, t in chain[1:]]
    return ["lineage: " + " ".join(parts)]


def divergence_report(console: Console, reader, run_ids) -> None:
    """`runs compare PARENT BRANCH`: where a branch and its parent diverge."""
    from simkit.engine.branch import divergence_lines

    if len(run_ids) != 2:
        return
    a, b = (reader.run(r) for r in run_ids)
    if b.get("parent_run_id") != a["run_id"] and a.get("parent_run_id") != b["run_id"]:
        return
    for line in divergence_lines(reader, a["run_id"], b["run_id"]):
        console.print(escape(line), highlight=False, soft_wrap=True)


# -- simkit branch -------------------------------------------------------------------------
@click.command()
@click.argument("run_id")
@click.option("--db", type=click.Path(path_type=Path), default=Path("runs/simkit.db"), show_default=True, help="The parent run's database.")
@click.option("--at", "at", type=int, required=True, help="The last tick the branch shares with its parent.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="A setting that changes at the fork (repeatable).")
@click.option("--out", type=click.Path(path_type=Path), help="Database for the branch (default: the parent's).")
@click.option("--budget", metavar="calls=N|tokens=N|usd=X", help="Stop at the end of the tick that reaches this spend.")
@click.option("--strict", is_flag=True, help="Exit non-zero when a health check warns.")
@click.option("--quiet", is_flag=True, help="No live progress display.")
def branch(run_id: str, db: Path, at: int, sets, out, budget, strict, quiet) -> None:
    """A counterfactual branch of a run: ticks 0..AT are the parent's (no LLM call), then
    the changed settings apply and the run continues.

    Example: simkit branch trendsim-2025... --at 30 --set attack.share=0.5
    """
    from simkit import api
    from simkit.display.live import execute
    from simkit.display.tables import print_summary
    from simkit.engine.branch import create_branch
    from simkit.store.reader import RunReader

    new_id, target, changes = create_branch(db, run_id, at, list(sets), out=out)
    console.print(f"branch {new_id} of {run_id} after tick {at}: {', '.join(changes) or 'no change'}", highlight=False, soft_wrap=True)
    sim = api.simulation(resume=new_id, db=target, budget=budget)
    try:
        result, wall = execute(sim, console, resume=True, quiet=quiet, title=f"branch {new_id}")
    except SimkitError as exc:
        if isinstance(exc, UsageError):
            raise
        raise type(exc)(f"{exc} [run {new_id}: committed ticks are kept; resume with simkit run SCENARIO --resume {new_id} --out {target}]") from None
    reader = RunReader.open(result.db_path)
    print_summary(console, reader.run(result.run_id), reader.metrics(result.run_id), wall)
    console.print(f"trajectory: {result.db_path}  (simkit runs compare {run_id} {new_id} --db {result.db_path})", highlight=False, soft_wrap=True)
    report_end(console, err_console, result, "SCENARIO", strict)
