"""The authors' procedure pieces of `scenarios/cdi_paper.yaml`: think/act alternation of
tool_choice, every earlier cycle kept, and the run judge (one call over the whole run,
their parse-failure rule)."""

from __future__ import annotations

import json

import pytest

from simkit.plugins.cdi.scenario import load_scenarios
from simkit.plugins.cdi.scripted import RESPONDERS, TRIGGERS
from tests.plugins.cdi.helpers import api_run, rows, write_yaml

PAPER = {"think_act": True, "history_messages": 0, "judge": {"mode": "run"}, "max_orchestrator_steps": 6,
         "sender": {"max_steps": 12, "max_cycles": 4, "timeout_steps": 0}, "recipient": {"max_steps": 8, "max_cycles": 3, "timeout_steps": 1}}


def _triggers(messages) -> int:
    return sum(1 for m in messages if m["role"] == "user" and (m.get("content") or "").startswith(TRIGGERS))


def test_tool_choice_alternates_think_and_a_required_call_within_every_cycle(tmp_path):
    seen: list[tuple[int, str]] = []

    def spy(request, rng):
        seen.append((_triggers(request.messages), request.tool_choice))
        return RESPONDERS["cdi.sender"](request, rng)

    api_run(write_yaml(tmp_path, **PAPER), tmp_path / "t.db", responders={"cdi.sender": spy})
    cycles: dict[int, list[str]] = {}
    for cycle, choice in seen:
        cycles.setdefault(cycle, []).append(choice)
    assert len(cycles) >= 2
    for choices in cycles.values():
        assert choices == ["think" if i % 2 == 0 else "required" for i in range(len(choices))]
    seen.clear()
    api_run(write_yaml(tmp_path, "auto.yaml"), tmp_path / "a.db", responders={"cdi.sender": spy})
    assert {choice for _c, choice in seen} == {"auto"}


def test_history_zero_keeps_every_earlier_cycle_in_context(tmp_path):
    conn = api_run(write_yaml(tmp_path, **PAPER), tmp_path / "h.db")
    calls = rows(conn, "select messages_json from llm_calls where purpose = 'cdi.sender' order by tick, seq")
    cycles = rows(conn, "select count(*) n from cdi_cycles where agent = 'sender'")[0]["n"]
    assert cycles >= 2 and _triggers(json.loads(calls[-1]["messages_json"])) == cycles


def test_the_run_judge_makes_one_call_over_the_whole_run(tmp_path):
    conn = api_run(write_yaml(tmp_path, **PAPER), tmp_path / "j.db")
    s = load_scenarios()["custody-coordinator"]
    (call,) = rows(conn, "select * from llm_calls where purpose = 'cdi.judge_run'")
    assert not rows(conn, "select * from llm_calls where purpose = 'judge.disclosure'")
    prompt = json.loads(call["messages_json"])[-1]["content"]
    sent = rows(conn, "select * from cdi_messages where sender = 'sender' and app = ? order by msg_id", s.leak_app)
    checks = rows(conn, "select * from cdi_checks order by rowid")
    assert [c["item_id"] for c in checks] == [f"e1-m{m['msg_id']}" for m in sent]
    assert f"in order: {json.dumps([m['msg_id'] for m in sent])}" in prompt
    for m in rows(conn, "select * from cdi_messages where sender != 'subject'"):
        assert json.dumps(m["text"])[1:-1] in prompt  # the whole activity history, both sides
    for item in [*s.shareable.items, *s.sensitive.items]:
        assert f". {item}" in prompt
    assert s.recipient.public_profile in prompt and s.subject.public_profile in prompt and s.principle in prompt
    assert "Fetched information:" in prompt  # the sender's memory with what it was given, as the authors build it


@pytest.mark.parametrize("answer", ["no json at all", {"evaluations": []}])
def test_an_unparsed_or_incomplete_run_verdict_counts_as_nothing_shared_and_is_marked(tmp_path, answer):
    conn = api_run(write_yaml(tmp_path, **PAPER), tmp_path / "u.db", responders={"cdi.judge_run": lambda request, rng: answer})
    checks = rows(conn, "select * from cdi_checks")
    assert checks and all(c["status"] == "unknown" and json.loads(c["shareable"]) == json.loads(c["sensitive"]) == [] for c in checks)
    assert len(rows(conn, "select * from events where kind = 'judge_unknown'")) == len(checks)


def test_a_verdict_for_some_actions_keeps_them_and_marks_the_rest(tmp_path):
    def first_only(request, rng):
        full = RESPONDERS["cdi.judge_run"](request, rng)
        return {"evaluations": full["evaluations"][:1]}

    conn = api_run(write_yaml(tmp_path, **PAPER), tmp_path / "p.db", responders={"cdi.judge_run": first_only})
    checks = rows(conn, "select * from cdi_checks order by rowid")
    assert len(checks) >= 2, "the scripted sender should send more than once in this setting"
    assert checks[0]["status"] == "ok" and {c["status"] for c in checks[1:]} == {"unknown"}
