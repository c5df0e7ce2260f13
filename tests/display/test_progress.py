"""The live display of `simkit run`: at 80 columns nothing is cut, the phases show (judging in
`finish()` with its own call count), and a run that ended early says so."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from rich.console import Console

from simkit.config import parse_llm_flag
from simkit.display.progress import RunProgress, pack
from simkit.engine.runner import Simulation, load_scenario
from simkit.store.reader import RunReader

ROOT = Path(__file__).resolve().parents[2]


def frame(progress: RunProgress, width: int) -> tuple[str, list[str]]:
    console = Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)
    console.print(progress)
    return console.file.getvalue(), list(progress.last_fields)


def test_pack_keeps_fields_whole_and_fills_wide_lines():
    fields = ["alpha 1", "beta 22", "gamma 333", "delta 4444"]
    assert pack(fields, 20) == ["alpha 1  beta 22", "gamma 333", "delta 4444"]
    assert pack(fields, 200) == ["  ".join(fields)]


def test_characterbox_live_display_at_80_columns_never_cuts_a_field_and_shows_judging(tmp_path):
    config, plugin_cfg = load_scenario(ROOT / "scenarios" / "characterbox.yaml", [],
                                       {"llm": parse_llm_flag("scripted"), "output": {"db": str(tmp_path / "run.db")}})
    sim = Simulation(config, plugin_cfg, tmp_path / "run.db", source=ROOT / "scenarios" / "characterbox.yaml")
    progress = RunProgress(config.name, sim.status, sim.llm.stats)
    frames: list[tuple[str, str, list[str]]] = []

    def snap() -> None:
        for width in (80, 160):
            text, fields = frame(progress, width)
            frames.append((sim.status.phase, text, fields, width))

    async def main() -> None:
        async def watch() -> None:  # what rich's refresh would draw, several times a tick
            while True:
                snap()
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch())
        try:
            await sim.run(on_tick=lambda _s: snap())
        finally:
            watcher.cancel()
        snap()

    asyncio.run(main())
    for phase, text, fields, width in frames:
        lines = text.splitlines()
        assert all(len(line) <= width for line in lines), text
        joined = "\n".join(lines)
        for f in fields:
            assert f in joined, f"{f!r} cut at {width} columns:\n{text}"  # every field whole on one line
    phases = [p for p, *_ in frames]
    assert phases[0] == "setup" and "ticks" in phases and "finish" in phases and phases[-1] == "done"
    judging = [t for p, t, _f, _w in frames if p == "finish"]
    assert any("judging" in t and "judge call" in t for t in judging)
    assert any("parse failures" in t and "tokens" in t for _p, t, _f, w in frames if w == 80)
    wide = [t for p, t, _f, w in frames if w == 160 and p == "ticks"]
    narrow = [t for p, t, _f, w in frames if w == 80 and p == "ticks"]
    assert len(wide[-1].splitlines()) < len(narrow[-1].splitlines())  # more room, fewer lines


def test_a_run_that_ends_early_says_so(tmp_path):
    """PersonaArena stops when the checkpoints are covered; the summary says so instead of "N of M"."""
    from simkit.display.tables import summary_table

    config, plugin_cfg = load_scenario(ROOT / "scenarios" / "characterbox.yaml", ["characterbox.rounds=1"],
                                       {"llm": parse_llm_flag("scripted"), "output": {"db": str(tmp_path / "run.db")}})
    sim = Simulation(config, plugin_cfg, tmp_path / "run.db", source=ROOT / "scenarios" / "characterbox.yaml")
    asyncio.run(sim.run())
    run = RunReader.open(tmp_path / "run.db").run(sim.run_id)
    assert run["end_note"] == "ended early at tick 1 (all 1 rounds played)"
    console = Console(width=120, file=io.StringIO(), color_system=None)
    console.print(summary_table(run, []))
    assert "ended early at tick 1 (all 1 rounds played)" in console.file.getvalue()
