"""Replay viewer speed on large runs (not a timed test; prints a table).

1. Terminal viewer on a synthesized run with 1,000,000 events: time to open (database
   opened, first tick drawn) and time per step to the next tick, measured through textual's
   headless pilot. Two shapes: many small ticks, and few huge ones.
2. HTML report of a 10,000-event run: build time, file size, and load time in headless
   Chromium (navigation until the page's script has drawn the first tick).

Rows are synthesized straight into a database with the real schema (sqlite-utils), as the
engine would have written them; the run itself is not simulated.

    python bench/replay_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import sqlite_utils

from simkit.replay.data import Filters, ReplayData
from simkit.replay.html import write_report
from simkit.replay.tui import ReplayApp
from simkit.store.schema import ensure_schema

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
WORDS = "the vote is close and people share what they read about the topic today".split()


def synthesize(path: Path, run_id: str, ticks: int, events_per_tick: int, agents: int) -> None:
    """A run of `ticks` x `events_per_tick` events; every tenth event also has an exposure,
    an LLM call and a state snapshot; five metrics per tick."""
    db = sqlite_utils.Database(path)
    db.enable_wal()
    ensure_schema(db)
    db["runs"].insert({"run_id": run_id, "scenario": "bench", "plugin": "bench", "config_json": "{}", "seed": 0,
                       "status": "finished", "ticks_total": ticks, "last_tick": ticks - 1, "model": "synthetic"})
    db["agents"].insert_all(
        {"run_id": run_id, "agent_id": f"u{a:05d}", "kind": "user", "persona_id": f"p{a}",
         "persona_json": json.dumps({"name": f"User {a}", "narrative": " ".join(WORDS)})}
        for a in range(agents)
    )

    def text(n: int) -> str:
        return " ".join(WORDS[(n + k) % len(WORDS)] for k in range(12))

    def rows(kind: str):
        for t in range(ticks):
            when = f"2025-01-01T{t // 60 % 24:02d}:{t % 60:02d}:00"
            for s in range(events_per_tick):
                if kind != "events" and s % 10:
                    continue
                n = t * events_per_tick + s
                agent = f"u{n % agents:05d}"
                if kind == "events":
                    yield {"run_id": run_id, "tick": t, "seq": s, "sim_time": when, "agent_id": agent,
                           "kind": ("post", "like", "comment")[n % 3], "payload_json": json.dumps({"text": text(n), "n": n})}
                elif kind == "exposures":
                    yield {"run_id": run_id, "tick": t, "seq": s // 10, "sim_time": when, "agent_id": agent,
                           "items_json": json.dumps([text(n + k) for k in range(5)])}
                elif kind == "llm_calls":
                    yield {"run_id": run_id, "tick": t, "seq": s // 10, "agent_id": agent, "purpose": "act",
                           "request_hash": f"{n:x}", "model": "synthetic", "params_json": "{}",
                           "messages_json": json.dumps([{"role": "user", "content": text(n) * 4}]),
                           "response_json": json.dumps({"text": text(n + 1)}), "parsed_ok": 1, "tokens_in": 60,
                           "tokens_out": 12, "latency_ms": 20.0, "cached": 0, "attempts": 1}
                else:
                    yield {"run_id": run_id, "tick": t, "agent_id": agent, "state_json": json.dumps({"n": n})}

    with db.conn:
        for table in ("events", "exposures", "llm_calls", "agent_state"):
            db[table].insert_all(rows(table), batch_size=2000, replace=table == "agent_state")
        db["ticks"].insert_all({"run_id": run_id, "tick": t, "sim_time": f"2025-01-01T{t // 60 % 24:02d}:{t % 60:02d}:00",
                                "active_agents": events_per_tick, "committed_at": ""} for t in range(ticks))
        db["metrics"].insert_all({"run_id": run_id, "tick": t, "name": f"m{k}", "value": (t * (k + 1)) % 17, "labels_json": "{}"}
                                 for t in range(ticks) for k in range(5))
    db.close()


async def measure_viewer(path: Path, run_id: str, steps: int) -> dict:
    """Seconds to open the viewer (database opened, first tick drawn) and per step to the
    next tick, through the pilot: wall time, and this process's CPU time (the machine is
    shared, so wall time includes waiting for a core)."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    app = ReplayApp(ReplayData.open(path, run_id))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        result = {"open_wall": time.perf_counter() - wall0, "open_cpu": time.process_time() - cpu0, "wall": [], "cpu": [],
                  "idle_wall": [], "idle_cpu": []}
        for _ in range(steps):
            before = app.tick
            wall0, cpu0 = time.perf_counter(), time.process_time()
            await pilot.press("right")
            assert app.tick == before + 1
            result["wall"].append(time.perf_counter() - wall0)
            result["cpu"].append(time.process_time() - cpu0)
        for _ in range(steps):  # the pilot's own cost: a key bound to nothing
            wall0, cpu0 = time.perf_counter(), time.process_time()
            await pilot.press("x")
            result["idle_wall"].append(time.perf_counter() - wall0)
            result["idle_cpu"].append(time.process_time() - cpu0)
    return result


def measure_html(path: Path, run_id: str, out: Path) -> dict:
    t0 = time.perf_counter()
    size = write_report(ReplayData.open(path, run_id), out)
    built = time.perf_counter() - t0
    result = {"build_s": built, "size_bytes": size, "load_s": None}
    if not CHROMIUM.exists():
        return result
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        loads = []
        for _ in range(3):
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            t0 = time.perf_counter()
            page.goto(out.as_uri())
            page.wait_for_selector("body[data-ready='1']")
            loads.append(time.perf_counter() - t0)
            page.close()
        browser.close()
    result["load_s"] = statistics.median(loads)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100,000 events instead of 1,000,000 (a smoke run)")
    args = parser.parse_args()
    total = 100_000 if args.quick else 1_000_000
    shapes = [("many ticks", 1000, total // 1000), ("few huge ticks", 10, total // 10)]
    with tempfile.TemporaryDirectory(prefix="simkit-replay-bench-") as tmp:
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"{'run':<40} {'open wall/cpu (s)':>18} {'step median wall/cpu (ms)':>26} {'step max wall (ms)':>19}"
              f" {'no-op key wall/cpu (ms)':>24}")
        for label, ticks, per_tick in shapes:
            db = Path(tmp) / f"{ticks}.db"
            t0 = time.perf_counter()
            synthesize(db, "bench", ticks, per_tick, agents=2000)
            made = time.perf_counter() - t0
            m = asyncio.run(measure_viewer(db, "bench", min(ticks - 1, 30)))
            name = f"{ticks * per_tick:,} events, {label} ({ticks}x{per_tick:,})"
            step = f"{statistics.median(m['wall']) * 1000:.0f} / {statistics.median(m['cpu']) * 1000:.0f}"
            idle = f"{statistics.median(m['idle_wall']) * 1000:.0f} / {statistics.median(m['idle_cpu']) * 1000:.0f}"
            print(f"{name:<40} {m['open_wall']:>9.2f} / {m['open_cpu']:<6.2f} {step:>26} {max(m['wall']) * 1000:>19.0f}"
                  f" {idle:>24}   (synthesized in {made:.0f} s, {db.stat().st_size / 1e6:.0f} MB)", flush=True)
            data = ReplayData.open(db, "bench")
            t0 = time.perf_counter()
            data.kinds()
            kinds = time.perf_counter() - t0
            t0 = time.perf_counter()
            data.next_match(0, Filters(text="no such text"))  # worst case: no tick matches
            search = time.perf_counter() - t0
            print(f"{'':<40} first kind filter (k) {kinds:.2f} s, search with no match (n) {search:.2f} s", flush=True)
            db.unlink()
        db = Path(tmp) / "html.db"
        synthesize(db, "bench", 100, 100, agents=200)
        html = measure_html(db, "bench", Path(tmp) / "report.html")
        load = f"{html['load_s']:.2f} s" if html["load_s"] is not None else "n/a (no /usr/bin/chromium)"
        print(f"\nHTML report, 10,000 events (100x100, 1,000 LLM calls): size {html['size_bytes'] / 1e6:.2f} MB, "
              f"build {html['build_s']:.2f} s, load in Chromium {load}")


if __name__ == "__main__":
    main()
