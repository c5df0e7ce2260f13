"""Each intervention point fires where the paper puts it, and only there: the prompting
text once in every sender system prompt, the guard before every outgoing send of the
sender (while its budget lasts), the instructor after every content read."""

from __future__ import annotations

import json

import pytest

from simkit.plugins.cdi.apps import CONTENT_READS
from tests.plugins.cdi.helpers import (
    api_run,
    cli_run,
    rows,
    tool_calls,
    write_yaml,
)

PROMPTING_MARK = "careful with privacy"
SENDS = ("messenger_send", "email_send", "social_post")


def calls(conn, purpose: str) -> list[dict]:
    return rows(conn, "select tick, seq, agent_id, messages_json, response_json from llm_calls where purpose = ? order by tick, seq", purpose)


def test_prompting_text_is_in_every_sender_system_prompt_once_and_nowhere_else(tmp_path):
    conn = cli_run(write_yaml(tmp_path), tmp_path / "p.db", "cdi.defense=prompting")
    sender = calls(conn, "cdi.sender")
    assert sender
    for call in sender:
        messages = json.loads(call["messages_json"])
        assert messages[0]["role"] == "system" and messages[0]["content"].count(PROMPTING_MARK) == 1
        assert all(PROMPTING_MARK not in (m.get("content") or "") for m in messages[1:])
    assert all(PROMPTING_MARK not in c["messages_json"] for c in calls(conn, "cdi.recipient"))
    assert not calls(conn, "cdi.guard") and not calls(conn, "cdi.instructor")
    none = api_run(write_yaml(tmp_path, "n.yaml"), tmp_path / "n.db", "cdi.defense=none")
    assert all(PROMPTING_MARK not in c["messages_json"] for c in calls(none, "cdi.sender"))


@pytest.mark.parametrize("scenario", ["custody-coordinator", "tenant-reference", "volunteer-roster"])
def test_guard_runs_before_every_send_of_the_sender_and_a_veto_is_never_delivered(tmp_path, scenario):
    conn = api_run(write_yaml(tmp_path), tmp_path / "g.db", "cdi.defense=guarding", "cdi.guard_budget=20", f"cdi.scenario={scenario}")
    sends = [c for c in tool_calls(conn, "sender") if c["tool"] in SENDS]
    guards = calls(conn, "cdi.guard")
    assert sends and len(guards) == len(sends)
    # each guard call screened exactly the send that follows it, in the same tick
    for guard, send in zip(guards, sends):
        assert guard["tick"] == send["tick"]
        proposed = json.loads(guard["messages_json"])[-1]["content"]
        text = send["arguments"].get("message") or send["arguments"].get("body") or send["arguments"]["content"]
        assert text in proposed
    vetoed = [c for c in sends if c["result"].get("vetoed")]
    assert vetoed, "the scripted guard blocks a message quoting facts of two categories"
    delivered = {r["text"] for r in rows(conn, "select text from cdi_messages")}
    seen_by_recipient = " ".join(r["items_json"] for r in rows(conn, "select items_json from exposures where agent_id = 'recipient'"))
    for call in vetoed:
        text = call["arguments"].get("message") or call["arguments"].get("body") or call["arguments"]["content"]
        assert text not in delivered and text not in seen_by_recipient
        assert "blocked by the guard" in call["result"]["content"]
    assert len(rows(conn, "select * from events where kind = 'veto'")) == len(vetoed)
    assert not calls(conn, "cdi.instructor") and all(c["agent_id"] == "guard" for c in guards)
    # the recipient's sends are never screened
    assert any(c["tool"] in SENDS for c in tool_calls(conn, "recipient"))


def test_a_used_up_guard_budget_lets_sends_through_unscreened(tmp_path):
    conn = api_run(write_yaml(tmp_path), tmp_path / "b.db", "cdi.defense=guarding", "cdi.guard_budget=0")
    assert not calls(conn, "cdi.guard")
    sends = [c for c in tool_calls(conn, "sender") if c["tool"] in SENDS]
    delivered = {r["text"] for r in rows(conn, "select text from cdi_messages where sender = 'sender'")}
    assert sends and all((c["arguments"].get("message") or c["arguments"].get("body") or c["arguments"]["content"]) in delivered
                         for c in sends)
    one = api_run(write_yaml(tmp_path, "one.yaml"), tmp_path / "one.db", "cdi.defense=guarding", "cdi.guard_budget=1")
    per_cycle = rows(one, "select episode, cycle, sum(block) blocks from cdi_guard group by episode, cycle")
    assert per_cycle and all(r["blocks"] <= 1 for r in per_cycle)


def test_instructor_speaks_after_every_content_read_and_the_sender_sees_it_next(tmp_path):
    conn = api_run(write_yaml(tmp_path), tmp_path / "c.db", "cdi.defense=cdi")
    reads = [c for c in tool_calls(conn, "sender") if c["tool"] in CONTENT_READS and c["result"]["ok"]]
    instructions = rows(conn, "select * from cdi_instructions order by rowid")
    assert reads and len(instructions) == len(reads) == len(calls(conn, "cdi.instructor"))
    assert [i["after_tool"] for i in instructions] == [r["tool"] for r in reads]
    sender_calls = calls(conn, "cdi.sender")
    for instruction in instructions:
        injected = f"## Instruction:\n{instruction['instruction']}"
        assert any(m.get("content") == injected for c in sender_calls for m in json.loads(c["messages_json"]))
    # the recipient reads too, and gets no instruction
    assert any(c["tool"] in CONTENT_READS for c in tool_calls(conn, "recipient"))
    assert all(c["agent_id"] == "recipient" for c in calls(conn, "cdi.recipient"))
    assert not any(m.get("content", "").startswith("## Instruction") for c in calls(conn, "cdi.recipient")
                   for m in json.loads(c["messages_json"]) if m.get("content"))
    assert all(c["agent_id"] == "instructor" for c in calls(conn, "cdi.instructor"))


def test_an_instructor_answer_that_does_not_parse_falls_back_to_the_authors_instruction(tmp_path):
    conn = api_run(write_yaml(tmp_path), tmp_path / "f.db", "cdi.defense=cdi",
                   responders={"cdi.instructor": lambda request, rng: "no idea"})
    instructions = rows(conn, "select * from cdi_instructions")
    assert instructions and all(i["parsed"] == 0 for i in instructions)
    assert {i["instruction"] for i in instructions} == {"Monitor notifications and take necessary actions in response."}
    assert rows(conn, "select * from events where kind = 'parse_failure'")


def test_bad_tool_arguments_come_back_as_an_error_the_agent_sees(tmp_path):
    def clumsy(request, rng):
        tried = any("Result of email_read" in (m.get("content") or "") for m in request.messages)
        if not tried:
            return {"tool": "messenger_read", "arguments": {"max_count": 999}}
        return {"tool": "end_action_cycle", "arguments": {}}

    conn = api_run(write_yaml(tmp_path), tmp_path / "t.db", responders={"cdi.sender": clumsy})
    errors = [c for c in tool_calls(conn, "sender") if not c["result"]["ok"]]
    assert errors and "max_count" in errors[0]["result"]["content"]
    assert rows(conn, "select status from runs")[0]["status"] == "finished"


@pytest.mark.parametrize(("defense", "purpose"), [("guarding", "cdi.guard"), ("cdi", "cdi.instructor")])
def test_guard_and_instructor_see_the_recipients_public_profile(tmp_path, defense, purpose):
    """Their [Background] is the sender's whole memory, as the authors pass it: who the
    recipient is (its public profile) is what a contextual-integrity judgement needs."""
    from simkit.plugins.cdi.scenario import load_scenarios

    s = load_scenarios()["custody-coordinator"]
    conn = api_run(write_yaml(tmp_path), tmp_path / "v.db", f"cdi.defense={defense}")
    prompts = calls(conn, purpose)
    assert prompts
    for call in prompts:
        text = "\n".join(m["content"] for m in json.loads(call["messages_json"]) if m["role"] == "user")
        background = text.split("[Background] ", 1)[1]
        assert s.recipient.public_profile in background and s.subject.public_profile in background
        assert s.sender.background in background
