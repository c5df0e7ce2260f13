"""Run databases for the viewer tests: a real townhall run made through the CLI, and small
runs written tick by tick with the engine's own writer (so a test controls every text)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from simkit.engine.recorder import judgement_row
from simkit.store.reader import RunReader
from simkit.store.writer import RunWriter, TickBuffer, dumps
from tests.conftest import run_cli, townhall_yaml

HOSTILE = '<script>window.__pwned = "script"</script><img src=x onerror="window.__pwned = \'img\'">'


@pytest.fixture(scope="session")
def townhall_run(townhall_site, tmp_path_factory) -> tuple[Path, str]:
    """A finished townhall run (6 agents, 6 ticks, scripted LLM): (db path, run id)."""
    tmp = tmp_path_factory.mktemp("townhall-run")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(townhall_site), os.environ.get("PYTHONPATH")]))}
    run_cli(["run", str(townhall_yaml(tmp)), "--quiet"], env=env)
    db = tmp / "run.db"
    return db, RunReader.open(db).runs()[0]["run_id"]


class RunBuilder:
    """Writes a run the way the engine does: one `commit_tick` per tick."""

    def __init__(self, path: Path, run_id: str = "synthetic-run", agents: int = 3, persona_text: str = "likes tea"):
        self.writer = RunWriter(path)
        self.run_id = run_id
        self.agents = [f"a{i}" for i in range(agents)]
        self.writer.start_run({
            "run_id": run_id, "scenario": "synthetic", "plugin": "synthetic", "config_json": "{}", "seed": 1,
            "simkit_version": "test", "model": "scripted-v1", "status": "running", "ticks_total": 100,
            "started_at": "2025-01-01T00:00:00",
        })
        self.writer.add_agents(run_id, [
            {"agent_id": a, "kind": "user", "persona_id": f"p{a}",
             "persona_json": dumps({"name": f"Name {a}", "narrative": f"{a} {persona_text}"})}
            for a in self.agents
        ])
        self.next_tick = 0

    def tick(self, said: str = "hello", answer: str | None = None, metric: float = 0.0, judgements: list[dict] = ()) -> int:
        """Commit one tick: each agent is shown the board, calls the LLM, posts; one world event;
        and the judge messages given (records as `ctx.judgement` takes them)."""
        t, buf = self.next_tick, TickBuffer()
        when = f"2025-01-01T{t // 60:02d}:{t % 60:02d}:00"
        for n, a in enumerate(self.agents):
            buf.exposures.append(((n, 0), {"sim_time": when, "agent_id": a, "items_json": dumps([f"board line {t}"])}))
            buf.llm_calls.append(((n, 1), {
                "agent_id": a, "purpose": "speak", "request_hash": f"h{t}{a}", "model": "scripted-v1",
                "params_json": "{}", "messages_json": dumps([{"role": "user", "content": f"tick {t}, say something"}]),
                "response_json": dumps({"text": answer or f'{{"text": "{said} from {a}"}}'}), "parsed_ok": 1,
                "tokens_in": 10, "tokens_out": 5, "latency_ms": 1.5, "cached": 0, "attempts": 1,
            }))
            buf.events.append(((n, 2), {"sim_time": when, "agent_id": a, "kind": "post",
                                         "payload_json": dumps({"text": f"{said} from {a} at {t}"})}))
            buf.states[a] = {"mood": t + n / 10}
        buf.events.append(((99,), {"sim_time": when, "agent_id": None, "kind": "news", "payload_json": dumps({"headline": f"day {t}"})}))
        buf.judgements.extend(((200, i), judgement_row(record)) for i, record in enumerate(judgements))
        buf.metrics.append({"name": "posts", "value": float(len(self.agents)), "labels_json": "{}"})
        buf.metrics.append({"name": "mood", "value": metric, "labels_json": "{}"})
        self.writer.commit_tick(self.run_id, t, when, len(self.agents), buf, {})
        self.next_tick += 1
        return t

    def finish(self) -> None:
        self.writer.write_metrics(self.run_id, -1, [{"name": "posts", "value": 9.0, "labels_json": "{}"}])
        self.writer.update_run(self.run_id, {"status": "finished"})

    def close(self) -> None:
        self.writer.close()


@pytest.fixture
def builder(tmp_path) -> RunBuilder:
    b = RunBuilder(tmp_path / "synthetic.db")
    yield b
    b.close()


@pytest.fixture
def small_run(builder) -> RunBuilder:
    """A finished run: 5 ticks, 3 agents; every agent says "bonjour" at tick 3, "hello" otherwise."""
    for t in range(5):
        builder.tick(said="bonjour" if t == 3 else "hello", metric=t * 0.25)
    builder.finish()
    return builder


def judge_record(judge_id: str, phase: str, text: str, **changes) -> dict:
    record = {"item_id": "synthetic-run", "judge_id": judge_id, "role": "judge", "phase": phase, "round": 0,
              "metrics": ["immersion", "fluency"], "text": text, "scores": {}, "evidence": [], "visible_to": None,
              "parsed_ok": True, "labels": {}}
    return {**record, **changes}


PANEL = [  # what a panel's finish() writes into the run's last tick
    judge_record("critic", "independent", "Vivid and in character.", scores={"immersion": 4.0, "fluency": 5.0},
                 evidence=["hello from a0 at 4"], labels={"quotes_found": 1}, visible_to=["critic", "public"]),
    judge_record("public", "independent", "Honestly it was rather good", scores={"immersion": None, "fluency": None},
                 parsed_ok=False, labels={"error": "answer is not JSON"}),
    judge_record("critic", "debate", "I stand by a 4: the greeting is warm.", round=1, metrics=["immersion"]),
    judge_record("arbiter", "arbiter", "Immersion is a 4: the critic quotes the text.", role="arbiter", round=3,
                 metrics=["immersion"], scores={"immersion": 4.0}, visible_to=[]),
]
CHECK = judge_record("disclosure", "disclosure", "Nothing sensitive in the message.", item_id="e0-m1", metrics=[],
                     labels={"status": "ok", "shareable": [0], "sensitive": []})


@pytest.fixture
def judged_run(builder) -> RunBuilder:
    """`small_run` with a disclosure check in tick 1 and a panel's messages in the last tick (4)."""
    for t in range(5):
        builder.tick(said="bonjour" if t == 3 else "hello", metric=t * 0.25,
                     judgements={1: [CHECK], 4: PANEL}.get(t, []))
    builder.finish()
    return builder
