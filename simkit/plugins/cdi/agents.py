"""One agent's action cycle: the canonical loop (`run_tool_loop`) with CDI's three
intervention points (trendsim_cdi.md B4.2), and the models behind them.

- prompting: text in the system prompt, rendered once per cycle (`system.j2`);
- guarding: `Guard.check` runs before every outgoing send while the cycle's veto budget
  lasts; a veto is the tool's error, the message is never delivered, the agent may retry;
- CDI: `Instructor.instruct` runs after every content read and its instruction is
  appended as a user message ("## Instruction: ...") before the agent's next step.
Guard and instructor read `sanitize(trace)`: the task, the background and every message
the agent read or sent, without thoughts, triggers or vetoed sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from simkit.agents.prompts import PromptLibrary
from simkit.llm.base import Messages, ToolCall
from simkit.llm.client import LLMClient

PROMPTS_DIR = Path(__file__).parent / "prompts"
PROMPTS = PromptLibrary(PROMPTS_DIR)
FALLBACK_INSTRUCTION = "Monitor notifications and take necessary actions in response."
VETO = "This message was blocked by the guard agent because it would lead to a privacy violation."


class GuardAnswer(BaseModel):
    information_shared_or_implied: str = Field(max_length=200)
    sensitive_data: str = Field(max_length=150)
    block: bool


class InstructorAnswer(BaseModel):
    privacy_risk_analysis: str = Field(max_length=200)
    information_could_be_shared: str = Field(max_length=150)
    instruction: str = Field(min_length=1, max_length=300)


class OptimizerAnswer(BaseModel):
    reflection: str = Field(max_length=200)
    task: str = Field(min_length=10, max_length=500)


@dataclass
class Mind:
    """What one agent carries from cycle to cycle: its conversation, the trace guard and
    instructor read, how many cycles it ran, whether its task is still on."""

    history: Messages = field(default_factory=list)
    trace: list[dict[str, Any]] = field(default_factory=list)
    cycles: int = 0
    last_cycle_tick: int = -1
    active: bool = True
    budget: int = 0  # vetoes left in the running cycle

    def keep(self, messages: Messages, limit: int) -> None:
        """Keep the last `limit` messages (0: all, as the authors keep every earlier cycle),
        cut where a user message starts (a tool result never loses the call it answers)."""
        kept = list(messages[-limit:]) if limit else list(messages)
        while kept and kept[0].get("role") != "user":
            kept = kept[1:]
        self.history = kept


def sanitize(task: str, background: str, trace: list[dict[str, Any]], me: str) -> str:
    """The flattened history guard and instructor see (B4.2 `sanitize`): reads and sends
    only, each message once, vetoed and failed sends dropped."""
    lines = [f"[Task] {task}", f"[Background] {background}"]
    seen: set[tuple[str, int]] = set()

    def message(app: str, m: dict) -> None:
        key = (app, int(m.get("id", 0)))
        if key in seen:
            return
        seen.add(key)
        text = f"{m['subject']}: {m['text']}" if m.get("subject") else m.get("text", "")
        if app == "social":
            lines.append(f"[Post created] {text}" if m.get("from") == me else f"[Post from {m.get('from')}] {text}")
        else:
            noun = "Email" if app == "email" else "Message"
            if m.get("from") == me:
                lines.append(f"[{noun} to {m.get('to', '?')}] {text}")
            else:
                lines.append(f"[{noun} from {m.get('from', '?')}] {text}")

    for entry in trace:
        if not entry["ok"]:
            continue
        tool, content = entry["tool"], entry["content"]
        if tool in ("messenger_read", "social_read") and isinstance(content, list):
            for m in content:
                message(tool.split("_")[0], m)
        elif tool == "email_read" and isinstance(content, dict):
            message("email", content)
        elif tool == "notes_read" and isinstance(content, dict):
            lines.append(f"[Note {content.get('title', '')}] {content.get('body', '')}")
        elif tool in ("messenger_send", "email_send", "social_post") and isinstance(content, dict) and "message" in content:
            message(content["app"], content["message"])
    return "\n".join(lines)


class Guard:
    """A guard model that may veto an outgoing send (B5 Guarding)."""

    def __init__(self, llm: LLMClient, name: str):
        self.llm, self.name = llm, name

    async def check(self, memory: str, call: ToolCall, app: str, to: str) -> tuple[bool, GuardAnswer | None]:
        """(block, answer); an answer that cannot be read lets the message through."""
        args = call.arguments
        text = args.get("message") or args.get("content") or args.get("body") or ""
        if args.get("subject"):
            text = f"{args['subject']}: {text}"
        msgs = PROMPTS.messages("guard_system.j2", "guard.j2", who=self.name, memory=memory, app=app, to=to, message=text)
        answer = await self.llm.complete(msgs, schema=GuardAnswer, purpose="cdi.guard", agent_id="guard", max_tokens=160)
        return (bool(answer.parsed.block), answer.parsed) if answer.ok else (False, None)


class Instructor:
    """An instructor model that writes a step-specific instruction (B5 CDI)."""

    def __init__(self, llm: LLMClient, name: str):
        self.llm, self.name = llm, name

    def messages(self, memory: str) -> Messages:
        return PROMPTS.messages("instructor_system.j2", "instructor.j2", who=self.name, memory=memory)

    async def instruct(self, memory: str) -> tuple[str, bool]:
        """(instruction, parsed); the authors' fallback instruction when it does not parse."""
        answer = await self.llm.complete(self.messages(memory), schema=InstructorAnswer, purpose="cdi.instructor",
                                         agent_id="instructor", max_tokens=256)
        return (answer.parsed.instruction, True) if answer.ok else (FALLBACK_INSTRUCTION, False)


def trace_entry(tool: str, arguments: dict, outcome: Any) -> dict[str, Any]:
    """One observed tool call as the trace keeps it."""
    return {"tool": tool, "arguments": arguments, "ok": bool(outcome.get("ok")), "content": outcome.get("content"),
            "vetoed": outcome.get("vetoed")}

