"""The `simkit` command line. Commands are thin: parse, call one function, print.

Errors the user can fix print one line (`error: ...`) and exit 2 for usage errors, 1 for
runtime failures; tracebacks only with `--debug`.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import click
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from simkit.errors import SimkitError, UsageError
from simkit.llm.secrets import redact

console = Console()
err_console = Console(stderr=True)


class SimkitGroup(click.Group):
    """Turns known errors into one line; `--debug` shows tracebacks."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SimkitError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            # escaped: a message's own brackets (the "[run ...: resume with ...]" hint) are text, not markup
            err_console.print(f"[bold red]error:[/] {escape(redact(str(exc)))}", highlight=False, markup=True, soft_wrap=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except KeyboardInterrupt:
            err_console.print("interrupted")
            sys.exit(130)
        except Exception as exc:  # a bug: still one line unless --debug
            if ctx.obj and ctx.obj.get("debug"):
                raise
            from simkit.store import connect

            mapped = connect.store_error(exc, getattr(exc, "filename", None) or connect.last_opened or "the run database")
            if mapped is not None:  # a file problem (disk full, damaged database): not a bug
                err_console.print(f"[bold red]error:[/] {escape(redact(str(mapped)))}", highlight=False, soft_wrap=True)
                sys.exit(mapped.exit_code)
            err_console.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {escape(redact(str(exc)))} "
                f"(for the traceback, rerun as: simkit --debug {escape(shlex.join(sys.argv[1:]) or 'COMMAND')})",
                highlight=False,
                soft_wrap=True,
            )
            sys.exit(1)


@click.group(cls=SimkitGroup)
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(package_name="simkit")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """simkit: LLM-driven social simulation with SQLite trajectories."""
    ctx.ensure_object(dict)["debug"] = debug


def _overrides(seed, llm, out, self_judging: bool = False) -> dict:
    from simkit.config import parse_llm_flag

    extra: dict = {}
    if seed is not None:
        extra["seed"] = seed
    if llm:
        extra["llm"] = parse_llm_flag(llm)
    if self_judging:  # the model under test plays the instruments too (simkit/roles.py)
        extra.setdefault("llm", {})["instruments"] = "same_as_subject"
    if out:
        extra["output"] = {"db": str(out)}
    return extra


def _execute(sim, *, resume: bool, quiet: bool, title: str):
    """Run a prepared simulation, with the live display when stdout is a terminal."""
    from simkit.display.live import execute

    return execute(sim, console, resume=resume, quiet=quiet, title=title)


@cli.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--seed", type=int, help="Override the scenario's seed.")
@click.option("--llm", "llm", metavar="BACKEND", help="scripted | local[:GGUF] | openai:MODEL")
@click.option("--out", type=click.Path(path_type=Path), help="Run database file (default: the scenario's output.db).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override any key, e.g. trendsim.attack.share=0.3.")
@click.option("--resume", "resume_id", metavar="RUN_ID", help="Continue an interrupted run after its last committed tick.")
@click.option("--quiet", is_flag=True, help="No live progress display.")
@click.option("--allow-self-judging", "self_judging", is_flag=True, help="Let the model under test play unpinned instruments (judges, narrator, ...): llm.instruments=same_as_subject.")
@click.option("--estimate", is_flag=True, help="Predict calls, tokens and cost from a scripted dry run; run nothing.")
@click.option("--budget", metavar="calls=N|tokens=N|usd=X", help="Stop at the end of the tick that reaches this spend.")
@click.option("--strict", is_flag=True, help="Exit non-zero (3) when a health check warns.")
def run(scenario: Path, seed, llm, out, sets, resume_id, quiet, self_judging, estimate, budget, strict) -> None:
    """Run a scenario and write its trajectory to SQLite.

    Example: simkit run scenarios/trendsim.yaml --llm scripted --set population.size=50
    """
    from simkit.display.tables import print_summary
    from simkit.engine.resume import resume_command, resume_config
    from simkit.engine.runner import Simulation, load_scenario
    from simkit.store.reader import RunReader

    config, plugin_cfg = load_scenario(scenario, list(sets), _overrides(seed, llm, out, self_judging))
    db_path = config.output.db
    if estimate:
        from simkit.engine.estimate import estimate as dry_estimate
        from simkit.research_cli import print_estimate

        print_estimate(console, dry_estimate(config, plugin_cfg, scenario, db_path), config.name)
        return
    changes: dict = {}
    if resume_id:
        reader = RunReader.open(db_path)
        row = reader.run(resume_id)
        resume_id = row["run_id"]
        settings = resume_config(json.loads(row["config_json"]), sets, seed, source=f"run {resume_id}")
        config, plugin_cfg, changes = settings.config, settings.plugin_cfg, settings.changes
        if llm:  # the backend may change on resume (e.g. the server moved), the answers may not
            config.llm = config.llm.model_copy(update=_overrides(None, llm, None)["llm"])
    from simkit.engine.budget import Budget
    from simkit.engine.estimate import price_of

    sim = Simulation(config, plugin_cfg, db_path, source=scenario, run_id=resume_id,
                     budget=Budget.parse(budget, price_of(config.llm.for_role(""))) if budget else None)
    sim.resume_changes = changes
    hint = resume_command(scenario, db_path, sim.run_id)
    try:
        result, wall = _execute(sim, resume=bool(resume_id), quiet=quiet, title=config.name)
    except KeyboardInterrupt:
        err_console.print(f"interrupted; committed ticks are kept. Resume with: {hint}", markup=False,
                          highlight=False, soft_wrap=True)
        sys.exit(130)
    except Exception as exc:
        raise run_failure(exc, sim, hint) from None
    reader = RunReader.open(result.db_path)
    print_summary(console, reader.run(result.run_id), reader.metrics(result.run_id), wall)
    console.print(f"trajectory: {escape(str(result.db_path))}  (simkit runs show {escape(result.run_id)} "
                  f"--db {escape(str(result.db_path))})", highlight=False, soft_wrap=True)
    from simkit.research_cli import report_end

    report_end(console, err_console, result, scenario, strict)


def run_failure(exc: Exception, sim, hint: str) -> BaseException:
    """The one-line error for a run that stopped: what went wrong, and how to resume it
    when it had started (its committed ticks are kept)."""
    from simkit.llm.secrets import redact
    from simkit.store.connect import store_error

    if not isinstance(exc, SimkitError):
        import sqlite3

        if not isinstance(exc, (sqlite3.Error, OSError)):
            return exc  # a bug: the group's handler prints it in one line (or the traceback with --debug)
        mapped = store_error(exc, sim.db_path)
        if mapped is None:
            return exc
        exc = mapped
    message = redact(str(exc), sim.config.llm)
    if isinstance(exc, UsageError):
        return type(exc)(message)
    if not sim.started:
        return type(exc)(f"{message} (the run had not started; run the same command again)")
    return type(exc)(f"{message} [run {sim.run_id}: committed ticks are kept; resume with {hint}]")

@cli.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--set", "sets", multiple=True, metavar="KEY=V1,V2", help="A grid axis: a key and comma-separated values.")
@click.option("--seeds", type=int, default=1, show_default=True, help="Seeds per grid point (seed, seed+1, ...).")
@click.option("--llm", "llm", metavar="BACKEND", help="scripted | local[:GGUF] | openai:MODEL")
@click.option("--out", type=click.Path(path_type=Path), help="One database for the whole sweep.")
@click.option("--jobs", type=int, default=1, show_default=True, help="Grid points run at once (worker processes; Ray: CPUs of a local cluster).")
@click.option("--executor", type=click.Choice(["serial", "process", "ray"]), help="Where points run (default: serial, or process with --jobs > 1).")
@click.option("--retries", type=int, default=2, show_default=True, help="Times a failed grid point is tried again (it resumes).")
@click.option("--quiet", is_flag=True, help="No live progress display.")
@click.option("--allow-self-judging", "self_judging", is_flag=True, help="Let the model under test play unpinned instruments (judges, narrator, ...): llm.instruments=same_as_subject.")
@click.option("--estimate", is_flag=True, help="Predict each point's calls, tokens and cost; run nothing.")
def sweep(scenario: Path, sets, seeds, llm, out, jobs, executor, retries, quiet, self_judging, estimate) -> None:
    """Run a grid of variants into one database, then compare them. Run the same command
    again to resume: finished points are kept, the others resume.

    Example: simkit sweep scenarios/trendsim.yaml --set trendsim.attack.share=0,0.1,0.3,0.5 --seeds 2 --jobs 2
    """
    from simkit.display.tables import default_sweep_report
    from simkit.engine.executors import Driver, run_point
    from simkit.engine.registry import load_plugin
    from simkit.engine.sweep import plan_sweep
    from simkit.store.reader import RunReader

    if jobs < 1 or retries < 0:
        raise UsageError("--jobs must be at least 1 and --retries at least 0")
    executor = executor or ("process" if jobs > 1 else "serial")
    points, base_config = plan_sweep(scenario, list(sets), seeds, _overrides(None, llm, out, self_judging))
    db = base_config.output.db
    if estimate:
        from simkit.research_cli import sweep_estimate

        sweep_estimate(console, points)
        return

    def say(what: str, r) -> None:
        if what == "done":
            console.print(f"[green]done[/] {escape(r.label)} -> {escape(r.run_id)} ({r.wall:.1f} s)", highlight=False, soft_wrap=True)
        else:
            err_console.print(f"[yellow]{what}[/] {escape(r.label)} (attempt {r.attempt}): {escape(r.error or '')}",
                              highlight=False, soft_wrap=True)

    results = {}
    if executor == "serial":
        for point in points:
            for attempt in range(1, retries + 2):
                try:
                    r = run_point(point, lambda sim, resume, title: _execute(sim, resume=resume, quiet=quiet, title=title))
                    break
                except UsageError:
                    raise
                except SimkitError as exc:
                    from simkit.engine.executors import PointResult

                    r = PointResult(point.key, point.label, "failed", error=str(exc), attempt=attempt)
                    say("retry" if attempt <= retries else "failed", r)
            results[point.key] = r
            if r.status == "finished":
                say("done", r)
    else:
        results = Driver(db, retries=retries, say=say).run(points, executor, jobs)
    failed = [results[p.key] for p in points if results.get(p.key) is None or results[p.key].status != "finished"]
    run_ids = [results[p.key].run_id for p in points if results.get(p.key) and results[p.key].status == "finished"]
    plugin_cls = load_plugin(base_config.plugin, str(scenario))
    if run_ids:
        (plugin_cls.sweep_report or default_sweep_report)(RunReader.open(db), run_ids, console)
    if failed:
        raise SimkitError(
            f"{len(failed)} of {len(points)} grid points failed ({failed[0].label}: {failed[0].error}); "
            "run the same command again to resume them"
        )


@cli.command()
@click.argument("target", type=click.Path(path_type=Path))
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
def merge(target: Path, sources: tuple[Path, ...]) -> None:
    """Copy every run of SOURCES into TARGET (created if missing): no loss, no duplicates.

    Example: simkit merge runs/sweep.db runs/sweep.db.parts/*.db
    """
    from simkit.store.merge import merge_databases

    report = merge_databases(target, list(sources))
    console.print(
        f"{target}: {len(report.copied)} runs copied, {len(report.replaced)} unfinished copies replaced, "
        f"{len(report.skipped)} already there ({report.rows:,} rows)",
        soft_wrap=True, highlight=False, markup=False,
    )


@cli.group()
def runs() -> None:
    """List and inspect runs in a database."""


@runs.command("list")
@click.option("--db", type=click.Path(path_type=Path), default=Path("runs/simkit.db"), show_default=True)
def runs_list(db: Path) -> None:
    """One line per run."""
    from simkit.store.reader import RunReader

    from simkit.display.safe import print_uncut, plain
    from simkit.display.tables import instruments_label

    table = Table("run_id", "status", "ticks", "calls", "cached", "tokens", "started (UTC)", "instruments", box=box.SIMPLE)
    for column in table.columns:
        column.no_wrap = True
    for r in RunReader.open(db).runs():
        last = r["last_tick"]
        done = (last + 1) if last is not None else 0
        early = r.get("end_note") and r["status"] == "finished"
        table.add_row(
            plain(r["run_id"]), plain(r["status"]), f"{done} (ended early)" if early else f"{done}/{r['ticks_total']}",
            str(r["llm_calls"] or 0), str(r["cache_hits"] or 0),
            f"{(r['tokens_in'] or 0) + (r['tokens_out'] or 0):,}", plain((r["started_at"] or "")[5:16].replace("T", " ")),
            plain(instruments_label(r)),
        )
    print_uncut(console, table)  # run ids are copied from here: never cut to the terminal's width


@runs.command("show")
@click.argument("run_id")
@click.option("--db", type=click.Path(path_type=Path), default=Path("runs/simkit.db"), show_default=True)
@click.option("--all-metrics", is_flag=True, help="Show every final metric, not the first 24.")
def runs_show(run_id: str, db: Path, all_metrics: bool) -> None:
    """Config, status, ticks, tokens and metrics of one run (a unique prefix of the id is enough)."""
    import yaml

    from simkit.display.tables import models_table, summary_table
    from simkit.store.reader import RunReader

    reader = RunReader.open(db)
    run = reader.run(run_id)
    console.print(summary_table(run, reader.metrics(run["run_id"]), max_metrics=10_000 if all_metrics else 24))
    models = models_table(reader.run_models(run["run_id"]))
    if models is not None:
        console.print(models)
    from simkit.engine.health import stored_warnings
    from simkit.research_cli import lineage_lines, print_health

    for line in lineage_lines(reader, run["run_id"]):
        console.print(escape(line), highlight=False, soft_wrap=True)
    print_health(console, stored_warnings(run))
    console.print("[bold]config[/]")
    console.print(yaml.safe_dump(json.loads(run["config_json"]), sort_keys=False, allow_unicode=True).rstrip(),
                  highlight=False, markup=False, soft_wrap=True)


@runs.command("compare")
@click.argument("run_ids", nargs=-1)
@click.option("--db", type=click.Path(path_type=Path), default=Path("runs/simkit.db"), show_default=True)
@click.option("--by", default="model", show_default=True, metavar="model|role:NAME|scenario|run|set:KEY",
              help="Group runs by the subject model, a role's model, scenario, run, or a config key (e.g. set:attack.share).")
@click.option("--metric", "metrics", multiple=True, help="A final metric to show, labelled ones as name{k=v} (repeatable; default: the first 8).")
@click.option("--test", type=click.Choice(["welch", "bootstrap"]), default="welch", show_default=True,
              help="With two groups: the test behind the difference's interval and p.")
@click.option("--csv", "csv_out", type=click.Path(path_type=Path), help="Also write the table (and the difference) as tidy CSV.")
@click.option("--png", type=click.Path(path_type=Path), help="Also draw the leaderboard as a bar chart.")
def runs_compare(run_ids: tuple[str, ...], db: Path, by: str, metrics: tuple[str, ...], test: str, csv_out: Path | None,
                 png: Path | None) -> None:
    """Leaderboard of runs: per final metric the mean, 95% CI and n over distinct seeds
    (identical reruns count once); with two groups, their difference and a named test, e.g.
    `simkit runs compare RUN_A RUN_B RUN_C --by set:attack.share --metric emotion.avg`.
    Without RUN_IDS: every run of the file (a sweep)."""
    from simkit.display.compare import (compare_runs, difference_table, interval_note, leaderboard_table, reruns_note,
                                        write_csv, write_png)
    from simkit.store.reader import RunReader

    reader = RunReader.open(db)
    board = compare_runs(reader, run_ids or [r["run_id"] for r in reader.runs()], by=by, metrics=metrics)
    console.print(leaderboard_table(board))
    console.print(interval_note(), highlight=False, soft_wrap=True)
    for line in reruns_note(board):
        console.print(escape(line), highlight=False, soft_wrap=True)
    diff = difference_table(board, test)
    if diff is not None:
        console.print(diff)
    from simkit.research_cli import divergence_report

    divergence_report(console, reader, run_ids)
    if csv_out:
        write_csv(board, csv_out, test)
        console.print(f"{csv_out}: {len(board.groups)} groups x {len(board.metrics)} metrics")
    if png:
        write_png(board, png)
        console.print(f"{png}: {len(board.groups)} groups x {len(board.metrics)} metrics")


@cli.command()
@click.argument("run_id", required=False)
@click.option("--db", type=click.Path(path_type=Path), default=Path("runs/simkit.db"), show_default=True)
@click.option("--runs", "runs_spec", metavar="ID,ID,...|all",
              help="Several runs (ids or unique prefixes, comma-separated) or all of the file (a sweep) into one tidy set.")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet", "sft"]), default="jsonl", show_default=True)
@click.option("--table", "tables", multiple=True, help="Only this table (repeatable; default: every table the runs have).")
@click.option("--out", type=click.Path(path_type=Path), help="Folder for the files (default runs/export-RUN_ID, or runs/export).")
@click.option("--purpose", "purposes", multiple=True, help="sft: only calls whose purpose starts with this (repeatable).")
def export(run_id: str | None, db: Path, runs_spec: str | None, fmt: str, tables: tuple[str, ...], out: Path | None,
           purposes: tuple[str, ...]) -> None:
    """Write every table of a run (runs with its config, agents, ticks, events, exposures,
    llm_calls, agent_state, metrics, judgements, the plugin's tables) as CSV, JSONL or Parquet,
    one file per table; with --runs, several runs in the same files, with each run's seed and
    swept keys as columns. `--format sft`: the LLM calls as instruction-tuning records.

    Example: simkit export --runs all --db runs/sweep.db --format csv --out runs/sweep-csv
    """
    from simkit.store.export import export_runs, select_runs
    from simkit.store.reader import RunReader

    if bool(run_id) == bool(runs_spec):
        raise UsageError("export: give one RUN_ID or --runs ID,ID,... (or --runs all)")
    reader = RunReader.open(db)
    run_ids = select_runs(reader, [run_id] if run_id else [s.strip() for s in runs_spec.split(",") if s.strip()])
    out = out or Path("runs") / (f"export-{run_ids[0]}" if run_id else "export")
    if fmt == "sft":
        from simkit.store.sft import write_sft

        out.mkdir(parents=True, exist_ok=True)
        n = sum(write_sft(reader, rid, out / "sft.jsonl", purposes, append=i > 0) for i, rid in enumerate(run_ids))
        console.print(f"{out / 'sft.jsonl'}: {n} records", markup=False, highlight=False, soft_wrap=True)
        return
    for w in export_runs(reader, run_ids, out, fmt, tables):
        console.print(f"{escape(str(w.path))}: {w.rows} rows", highlight=False, soft_wrap=True)


@cli.command()
def plugins() -> None:
    """List the installed scenario plugins (entry-point group simkit.scenarios)."""
    from simkit.engine.registry import available

    table = Table("plugin", "provided by")
    for name, ep in sorted(available().items()):
        table.add_row(name, ep.value)
    console.print(table)


@cli.command()
@click.option("--model", metavar="GGUF", help="A GGUF file (default: the embedded SmolLM2 model).")
@click.option("--threads", type=int, help="llama.cpp threads (default: half the cores).")
@click.option("--extra-buffers", is_flag=True, help="Load with llama.cpp's extra buffer types, as llm.extra_buffers: true does.")
def doctor(model, threads, extra_buffers) -> None:
    """Check this machine for the embedded model: CPU features, model file, a 5-token generation, OpenAI variables."""
    from simkit.llm.doctor import run_doctor

    sys.exit(run_doctor(model, threads, extra_buffers, say=click.echo))


# Command groups that live with their feature (one module each).
def _add_feature_commands() -> None:
    import importlib

    for module, attr in (("simkit.personas.cli", "personas"), ("simkit.replay.cli", "replay"),
                         ("simkit.display.cli", "plot"), ("simkit.llm.serve", "serve"), ("simkit.plugins.cdi.cli", "cdi"),
                         ("simkit.research_cli", "branch"), ("simkit.reproduce.cli", "reproduce")):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        cli.add_command(getattr(mod, attr))


_add_feature_commands()


def main() -> None:
    cli(prog_name="simkit")


if __name__ == "__main__":
    main()
