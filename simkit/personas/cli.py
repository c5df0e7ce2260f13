"""`simkit personas generate | align | inspect`: thin commands over the persona modules."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import click
import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

console = Console()


@click.group()
def personas() -> None:
    """Generate persona banks from posts, align them to a Big Five reference, inspect them."""


@personas.command()
@click.option("--source", required=True, type=click.Path(path_type=Path), help="Users' posts (JSONL, or Blog Authorship Corpus folder/CSV).")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Persona bank to write (JSONL); rejects go to OUT.rejected.jsonl.")
@click.option("--format", "fmt", default="auto", show_default=True, type=click.Choice(["auto", "simkit", "blog-xml", "blog-csv"]))
@click.option("--llm", "llm", default="local", show_default=True, metavar="BACKEND", help="scripted | local[:GGUF] | openai:MODEL")
@click.option("--base-url", help="For openai: the server's base URL (any OpenAI-compatible endpoint).")
@click.option("--timeout", type=click.FloatRange(0, min_open=True), default=300, show_default=True, help="Seconds one LLM call may take.")
@click.option("--limit", type=click.IntRange(0), help="Process at most this many users this time (resume later for the rest).")
@click.option("--concurrency", type=click.IntRange(1, 256), default=4, show_default=True, help="Users in flight at once (the local model batches up to 8).")
@click.option("--min-fidelity", type=click.IntRange(1, 5), default=3, show_default=True, help="Judge rating (1-5) a persona needs.")
@click.option("--max-inconsistency", type=click.FloatRange(0), default=1.1, show_default=True, help="Largest mean within-trait SD of keyed IPIP answers.")
@click.option("--max-posts", type=click.IntRange(1), default=8, show_default=True, help="Posts per user shown to the model.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def generate(source, out, fmt, llm, base_url, timeout, limit, concurrency, min_fidelity, max_inconsistency, max_posts, seed, quiet):
    """Make a persona bank from users' posts: narrative, quality filter, IPIP-50 Big Five.

    Resumable: run the same command again after a crash or Ctrl-C to continue.

    Example: simkit personas generate --source personas/source_posts.jsonl --out personas/bank.jsonl
    """
    from simkit.config import LLMConfig, parse_llm_flag
    from simkit.llm.factory import make_client
    from simkit.personas import scripted
    from simkit.personas.generate import GenerateOptions, generate as run_pipeline, rejected_path
    from simkit.personas.sources import read_source

    users = read_source(source, fmt, max_posts)
    # n_parallel: the local model batches up to this many requests in one context
    settings = {**parse_llm_flag(llm), "max_concurrency": concurrency, "n_parallel": min(concurrency, 8),
                "timeout": timeout}
    if base_url:
        settings["base_url"] = base_url
    client = make_client(LLMConfig(**settings), seed)
    if client.backend.name == "scripted":
        scripted.register(client.backend)
    opts = GenerateOptions(max_posts=max_posts, min_fidelity=min_fidelity, max_inconsistency=max_inconsistency,
                           concurrency=concurrency, seed=seed, limit=limit)
    progress = Progress(
        TextColumn("[bold]personas"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console, disable=quiet or not console.is_terminal,
    )

    def on_progress(s):
        progress.update(task, completed=s.accepted + s.rejected,
                        detail=f"kept {s.accepted} rejected {s.rejected} | LLM calls {client.stats.llm_calls} "
                               f"tokens {client.stats.tokens_in + client.stats.tokens_out:,}")

    async def main():
        try:
            await client.backend.check()
            return await run_pipeline(users, out, client, opts, source=Path(source).name, on_progress=on_progress)
        finally:
            await client.aclose()

    with progress:
        # the work this call will do: at most --limit users (after those a previous call finished)
        task = progress.add_task("generate", total=min(len(users), limit) if limit else len(users), detail="")
        summary = asyncio.run(main())
    left = summary.users - summary.resumed - summary.accepted - summary.rejected
    console.print(
        f"{summary.users} users: {summary.resumed} done earlier, {summary.accepted} kept and "
        f"{summary.rejected} rejected now{f', {left} left (run again to continue)' if left else ''}"
    )
    if summary.reasons:
        console.print("rejected by stage: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.reasons.items())))
    console.print(f"bank: {out}  rejected: {rejected_path(Path(out))}  "
                  f"({client.stats.llm_calls} LLM calls, {client.stats.tokens_in + client.stats.tokens_out:,} tokens)")
    if summary.accepted == 0 and summary.resumed == 0 and summary.rejected > 0:
        from simkit.errors import SimkitError

        raise SimkitError(f"no persona kept: all {summary.rejected} were rejected (reasons in {rejected_path(Path(out))}); "
                          "the bank is empty. A larger model (--llm openai:MODEL) writes usable personas")


@personas.command()
@click.option("--bank", required=True, type=click.Path(path_type=Path), help="Persona bank with Big Five scores (JSONL).")
@click.option("--reference", type=click.Path(path_type=Path), help="Aggregates (.json) or a sample of scores (.csv/.jsonl). Default: the shipped IPIP-50 reference.")
@click.option("--model", type=click.Choice(["copula", "mvn"]), default="copula", show_default=True, help="How aggregate statistics become a distribution.")
@click.option("--n", "n", required=True, type=int, help="Personas to choose (distinct).")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Aligned set to write (JSONL).")
@click.option("--method", type=click.Choice(["is", "is+ot"]), default="is+ot", show_default=True, help="Importance sampling alone, or followed by optimal-transport refinement.")
@click.option("--subpopulation", "where", multiple=True, metavar="KEY=VALUES", help="region=UK,Ireland | age=18-34 | interests=sports | gender=female | occupation=nurse (repeatable).")
@click.option("--plot", type=click.Path(path_type=Path), help="Trait histogram PNG (default: OUT with .png).")
@click.option("--report-json", type=click.Path(path_type=Path), help="Also write the report as JSON.")
@click.option("--seed", type=int, default=0, show_default=True)
def align(bank, reference, model, n, out, method, where, plot, report_json, seed):
    """Choose N distinct personas whose Big Five scores follow the reference, and report.

    Example: simkit personas align --bank personas/bank.jsonl --n 60 --out personas/population.jsonl
    """
    from simkit.personas.model import load_personas, write_personas
    from simkit.personas.population import align_personas
    from simkit.personas.reference import load_reference
    from simkit.personas.subpopulation import parse_constraint

    constraints = [parse_constraint(w) for w in where]
    ref = load_reference(reference, model)
    bank_personas = load_personas(bank)
    plot = plot or Path(out).with_suffix(".png")
    result = align_personas(bank_personas, ref, n, constraints=constraints, method=method, seed=seed,
                            plot=plot, where=str(bank))
    write_personas(out, result.personas)
    a = result.alignment
    if constraints:
        console.print(f"subpopulation {' and '.join(map(str, constraints))}: {result.matched} of "
                      f"{result.bank_size} personas match")
    console.print(
        f"pool {result.matched} -> {n} personas ({method}) against {ref.label}\n"
        f"effective sample size {a.ess:.0f} ({a.ess / result.matched:.0%} of the pool), "
        f"tail k {a.tail_k:.2f}, saturated {a.saturated}, deficit {a.deficit:.1f}"
    )
    if a.ess < n:
        console.print(f"[yellow]warning:[/] the effective sample size ({a.ess:.0f}) is below n ({n}): the pool "
                      "cannot support an aligned set this large; expect a residual bias")
    console.print(result.report.table())
    _print_uncovered(result.report.uncovered, n)
    console.print(f"aligned set: {out}  histograms: {plot}")
    if report_json:
        Path(report_json).write_text(json.dumps({**result.report.as_dict(), "ess": a.ess, "tail_k": a.tail_k,
                                                 "saturated": a.saturated, "deficit": a.deficit}, indent=2))


def _print_uncovered(regions, n: int, where: str = "the pool") -> None:
    for r in regions:
        console.print(
            f"[yellow]uncovered:[/] {r.description}: {r.reference_share:.0%} of the reference, "
            f"{r.pool_count} in {where}; a reference sample of {n} would hold ~{r.needed:.0f}",
            highlight=False,
        )


@personas.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--reference", type=click.Path(path_type=Path), help="Default: the shipped IPIP-50 reference.")
@click.option("--model", type=click.Choice(["copula", "mvn"]), default="copula", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def inspect(file, reference, model, seed):
    """Counts, a trait summary and the distances of a persona file to the reference.

    Example: simkit personas inspect personas/population.jsonl
    """
    from simkit.personas import report as reporting
    from simkit.personas.model import TRAITS, load_personas
    from simkit.personas.population import trait_summary
    from simkit.personas.reference import load_reference

    people = load_personas(file)
    scored = [p for p in people if p.big_five is not None]
    console.print(f"{file}: {len(people)} personas, {len(scored)} with Big Five scores")
    ages = [p.demographics.age for p in people if p.demographics.age is not None]
    if ages:
        console.print(f"age: median {int(np.median(ages))}, range {min(ages)}-{max(ages)}")
    for label, counter in (
        ("gender", Counter(p.demographics.gender or "?" for p in people)),
        ("interests", Counter(i for p in people for i in p.interests)),
        ("regions", Counter((p.demographics.region or "?").split(",")[-1].strip() for p in people)),
    ):
        console.print(f"{label}: " + ", ".join(f"{k} {v}" for k, v in counter.most_common(8)), highlight=False)
    if not scored:
        return
    ref = load_reference(reference, model)
    summary = trait_summary(scored)
    table = Table("trait", "mean", "sd", "p25", "median", "p75", "reference mean", "reference sd", title="Big Five (1-5)")
    ref_rows = ref.sample(20_000, np.random.default_rng(seed))
    for k, t in enumerate(TRAITS):
        s = summary[t]
        table.add_row(t, *(f"{s[c]:.2f}" for c in ("mean", "sd", "p25", "median", "p75")),
                      f"{ref_rows[:, k].mean():.2f}", f"{ref_rows[:, k].std():.2f}")
    console.print(table)
    rows = np.asarray([p.big_five.as_tuple() for p in scored])
    if len(rows) < 2:
        return
    rep = reporting.build_report({"this file": rows}, rows, ref, len(rows), np.random.default_rng(seed))
    console.print(rep.table(title=f"distance to {ref.label}"))
    _print_uncovered(rep.uncovered, len(rows), "this file")
