"""`simkit reproduce`: run a paper's headline experiment from its recipe and print simkit's
numbers beside the published ones."""

from __future__ import annotations

import re
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from simkit.errors import UsageError

console = Console()


def _recipe(name: str):
    from simkit.reproduce.recipe import all_recipes

    recipes = all_recipes()
    if name not in recipes:
        raise UsageError(f"reproduce: no recipe {name!r} (recipes: {', '.join(recipes) or 'none'}; see simkit reproduce --list)")
    return recipes[name]


def _list() -> None:
    from simkit.reproduce.recipe import all_recipes

    table = Table("recipe", "paper table", "what", "grid points", "instruments (the paper's model)", title="recipes",
                  title_justify="left")
    for r in all_recipes().values():
        points = 1
        for values in r.grid.values():
            points *= len(values)
        instruments = "; ".join(f"{role}: {what}" for role, what in r.instruments.items()) or "none"
        table.add_row(r.name, f"{r.table} ({r.page})", r.title, f"{points} x {r.seeds} seed(s)", instruments)
    console.print(table)


def record_path(recipe, model: str) -> Path:
    from simkit.engine.registry import available

    package = available()[recipe.plugin].value.split(":", 1)[0]
    import importlib

    folder = Path(importlib.import_module(package).__file__).parent / "recorded"
    slug = re.sub(r"[^A-Za-z0-9.-]+", "-", model).strip("-").lower()
    return folder / f"{recipe.name}.{slug}.jsonl"


@click.command()
@click.argument("name", required=False)
@click.option("--list", "list_", is_flag=True, help="Name every recipe with its paper table.")
@click.option("--llm", "llm", metavar="BACKEND", help="The model under test: scripted (a dry run) | local[:GGUF] | openai:MODEL[,MODEL2...] (models as a grid axis)")
@click.option("--instrument", "instruments", multiple=True, metavar="ROLE=BACKEND[:MODEL]",
              help="Pin an instrument role (judge, narrator, ...), e.g. judge=openai:gpt-4o (repeatable).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a scenario key for every point.")
@click.option("--grid", "grid", multiple=True, metavar="KEY=V1,V2", help="Replace one of the recipe's grid axes (a smaller grid).")
@click.option("--seeds", type=int, help="Seeds per grid point (default: the recipe's).")
@click.option("--out", type=click.Path(path_type=Path), help="Database of the runs (default runs/reproduce-NAME.db).")
@click.option("--jobs", type=int, default=1, show_default=True, help="Grid points run at once (worker processes).")
@click.option("--csv", "csv_out", type=click.Path(path_type=Path), help="Comparison as CSV (default: next to the database).")
@click.option("--png", "png_out", type=click.Path(path_type=Path), help="Comparison chart (default: next to the database).")
@click.option("--allow-self-judging", is_flag=True, help="Let the model under test play unpinned instruments (labelled).")
@click.option("--record", is_flag=True, help="Store the run's answers and comparison in the plugin's recorded/ folder.")
@click.option("--replay", "replay", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Run from a recorded file's answers (llm.cache: replay) and check the comparison against it.")
def reproduce(name, list_, llm, instruments, sets, grid, seeds, out, jobs, csv_out, png_out, allow_self_judging, record, replay) -> None:
    """Run a paper's headline experiment (a recipe) and print simkit's numbers, with 95%
    intervals, beside the published ones, the difference, and whether each published finding
    holds. `--llm scripted` is a dry run that checks the mechanics only.

    Example: simkit reproduce trendsim-table5 --llm openai:gpt-4o-mini --instrument attacker=openai:gpt-4o-mini
    """
    from simkit.reproduce.compare import DRY_RUN, compare, print_comparison, write_csv, write_png
    from simkit.reproduce.plan import make_plan
    from simkit.reproduce.run import run_plan
    from simkit.store.reader import RunReader

    if list_:
        _list()
        return
    if not name:
        raise UsageError("reproduce: name a recipe (simkit reproduce --list shows them)")
    if jobs < 1:
        raise UsageError("--jobs must be at least 1")
    recipe = _recipe(name)
    answers = recorded_rows = None
    if replay is not None:
        from simkit.reproduce.record import read_record

        if llm or instruments or grid or seeds:
            raise UsageError("--replay takes the model, instruments, grid and seeds from the record; leave those flags out")
        header, answers, recorded_rows = read_record(replay)
        if header.get("recipe") != name:
            raise UsageError(f"--replay {replay}: a record of {header.get('recipe')!r}, not {name!r}")
        llm, instruments = header["llm"], tuple(header.get("instruments", ()))
        sets = (*header.get("sets", ()), *sets, "llm.cache=replay")
        grid, seeds = tuple(header.get("grid", ())), header.get("seeds")
        console.print(f"replaying {replay.name}: {header.get('label', '')}", highlight=False, soft_wrap=True)
    out = out or Path("runs") / f"reproduce-{name}.db"
    out.parent.mkdir(parents=True, exist_ok=True)
    plan = make_plan(recipe, llm=llm, instruments=tuple(instruments), sets=tuple(sets), grid=tuple(grid), seeds=seeds,
                     out=out, allow_self_judging=allow_self_judging)
    console.print(f"{recipe.name}: {len(plan.points)} runs into {plan.db}"
                  + (" (scripted dry run: mechanics only)" if plan.scripted else ""), highlight=False)

    def say(what, r) -> None:
        console.print(f"[green]{what}[/] {escape(r.label)} -> {r.run_id}", highlight=False, soft_wrap=True)

    run_ids = run_plan(plan, jobs=jobs, say=say, answers=answers)
    label = DRY_RUN if plan.scripted else f"{llm}" + (" (self-judged: instruments on the subject's model)" if allow_self_judging else "")
    reader = RunReader.open(plan.db)
    comp = compare(reader, run_ids, recipe, label)
    print_comparison(console, comp)
    csv_out = csv_out or plan.db.with_suffix(".csv")
    png_out = png_out or plan.db.with_suffix(".png")
    write_csv(comp, csv_out)
    write_png(comp, png_out)
    console.print(f"wrote {csv_out} and {png_out}", highlight=False)
    rows = [{"cell": list(r.cell), "metric": r.metric, "mean": r.stat.mean, "n": r.stat.n} for r in comp.rows]
    if record:
        from simkit.reproduce.record import write_record

        path = record_path(recipe, llm)
        header = {"recipe": name, "llm": llm, "instruments": list(instruments), "sets": [s for s in sets],
                  "grid": list(grid), "seeds": seeds or recipe.seeds, "models": comp.models,
                  "label": recorded_label(llm)}
        n = write_record(path, reader, run_ids, header, rows)
        console.print(f"recorded {n} answers and {len(rows)} rows in {path.name}", highlight=False)
    if recorded_rows is not None:
        same = _same_rows(rows, recorded_rows)
        console.print("replayed comparison matches the recording" if same else "[red]replayed comparison differs from the recording[/]")
        if not same:
            raise SystemExit(1)


def recorded_label(llm: str) -> str:
    if llm.split(":", 1)[0] == "local":
        return ("embedded SmolLM2-135M: a 135M model's answers are noise, so this recording checks that a recorded run "
                "replays and prints the same comparison, nothing about the paper")
    return f"recorded answers of {llm}"


def _same_rows(a: list[dict], b: list[dict]) -> bool:
    def key(rows):
        return [(tuple(r["cell"]), r["metric"], None if r["mean"] is None else round(r["mean"], 9), r["n"]) for r in rows]

    return key(a) == key(b)
