"""Square brackets are text: user- and model-provided strings never reach rich as markup."""

from __future__ import annotations

import io
import json
import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from simkit.display.safe import print_uncut
from simkit.display.tables import default_sweep_report, endpoint_table, summary_table
from tests.conftest import ROOT, run_cli

MARKUP = ["[/]", "[bold]x[/]", "[bold red]X[/]", "[link=http://a]b", "\\[", "[/bold]", "[#ff0000 on bold]"]
texts = st.one_of(st.sampled_from(MARKUP), st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30),
                  st.text(alphabet="[]/\\ abx=#:", max_size=20))


def render(renderable) -> str:
    console = Console(file=io.StringIO(), width=100, color_system=None, legacy_windows=False)
    print_uncut(console, renderable)
    return console.file.getvalue()


def run_row(**values) -> dict:
    row = {"run_id": "r", "scenario": "s", "plugin": "p", "seed": 1, "status": "finished", "error": None,
           "last_tick": 3, "ticks_total": 4, "model": "m", "llm_calls": 1, "cache_hits": 0, "retries": 0,
           "parse_failures": 0, "tokens_in": 1, "tokens_out": 1}
    return {**row, **values}


class Reader:
    def __init__(self, metrics):
        self._metrics = metrics

    def metrics(self, run_id, tick=None):
        return self._metrics

    def run(self, run_id):
        return {"run_id": run_id, "config_json": "{}", "seed": 1}


@settings(max_examples=150, deadline=None)
@given(run_id=texts, scenario=texts, model=texts, error=texts, metric=texts, label=texts)
def test_every_printer_shows_any_text_literally(run_id, scenario, model, error, metric, label):
    metrics = [{"tick": -1, "name": metric or "m", "value": 1.0, "labels_json": json.dumps({"k": label})},
               {"tick": -1, "name": "llm.endpoint.calls", "value": 2.0, "labels_json": json.dumps({"endpoint": label})}]
    run = run_row(run_id=run_id, scenario=scenario, model=model, error=error or None)
    out = render(summary_table(run, metrics))
    for value in (run_id, scenario, model):
        if value.isprintable() and value.strip() == value and len(value) < 20 and value:
            assert value in out
    render(endpoint_table(metrics))
    console = Console(file=io.StringIO(), width=100, color_system=None)
    default_sweep_report(Reader([{"name": metric or "m", "value": 1.0, "labels_json": "{}"}]), [run_id], console)
    if run_id.isprintable() and run_id.strip() == run_id and run_id and len(run_id) < 20:
        assert run_id in console.file.getvalue()


def test_bracketed_names_run_list_show_replay_and_export(tmp_path):
    import yaml

    people = [json.loads(line) for line in (ROOT / "tests" / "data" / "personas_small.jsonl").read_text().splitlines()[:2]]
    people[0]["name"] = "[bold]x[/]"
    personas = tmp_path / "people.jsonl"
    personas.write_text("".join(json.dumps(p) + "\n" for p in people))
    scene = json.loads((ROOT / "simkit" / "plugins" / "characterbox" / "data" / "scenes.json").read_text())
    scene["scenes"][0]["characters"][0]["name"] = "[bold]x[/]"
    scenes = tmp_path / "scenes.json"
    scenes.write_text(json.dumps(scene))
    db = tmp_path / "b.db"
    for plugin, extra in (("trendsim", ["--set", f"population.personas={personas}"]),
                          ("characterbox", ["--set", f"characterbox.scenes={scenes}", "--set", "characterbox.scene_ids=[1]"])):
        data = yaml.safe_load((ROOT / "scenarios" / f"{plugin}.yaml").read_text())
        data["name"] = "[/]"
        path = tmp_path / f"{plugin}.yaml"
        path.write_text(yaml.safe_dump(data))
        proc = run_cli(["run", str(path), "--llm", "scripted", "--set", "population.size=2", "--out", str(db), "--quiet", *extra])
        assert "[/]" in proc.stdout  # the summary shows the name as it is
    listed = run_cli(["runs", "list", "--db", str(db)])
    run_ids = [r for (r,) in sqlite3.connect(db).execute("select run_id from runs")]
    assert len(run_ids) == 2 and all("[" not in r and "/" not in r for r in run_ids)  # the name is sanitised in ids
    for run_id in run_ids:
        assert run_id in listed.stdout
        shown = run_cli(["runs", "show", run_id, "--db", str(db)])
        assert "[/]" in shown.stdout
        run_cli(["replay", run_id, "--db", str(db), "--html", str(tmp_path / f"{run_id}.html")])
        run_cli(["export", run_id, "--db", str(db), "--out", str(tmp_path / f"export-{run_id}")])
    exported = (tmp_path / f"export-{run_ids[1]}" / "llm_calls.jsonl").read_text()
    assert "[bold]x[/]" in exported
