"""How CDI runs look in `simkit replay`: every tool call with what it returned (an app's
inbox as a list of messages), the trigger of each action cycle, and the two interventions
marked: a guard's veto (the message was never delivered) and an instructor's instruction.
"""

from __future__ import annotations

from typing import Any

from simkit.replay.data import Event, Exposure
from simkit.replay.render import Block, Renderer, fields, group, items, section, text


def _message(m: dict[str, Any]) -> Block:
    head = f"#{m.get('id', '?')}  {m.get('from', '?')}" + (f" -> {m['to']}" if m.get("to") else "  (public)")
    body = f"{m['subject']}: {m.get('text', '')}" if m.get("subject") else m.get("text", "")
    return group([text(head, "bold"), text(body)])


def _content(content: Any) -> Block:
    if isinstance(content, list) and all(isinstance(m, dict) for m in content):
        if content and all("text" in m for m in content):
            return items([_message(m) for m in content])
        return items([fields(m) for m in content])
    if isinstance(content, dict) and content.get("status") == "delivered":
        return group([text(f"delivered on {content.get('app')}", "em"), _message(content.get("message", {}))])
    if isinstance(content, dict) and "text" in content:
        return _message(content)
    if isinstance(content, dict):
        return fields(content)
    return text(content)


class CDIRenderer(Renderer):
    """Tool calls, inboxes, vetoes and instructions of the sender and the recipient."""

    def exposure(self, exposure: Exposure) -> Block:
        x = exposure.items
        if not isinstance(x, dict):
            return super().exposure(exposure)
        if "trigger" in x:
            what = "; ".join(x.get("notifications") or []) or "no notification (proactive)"
            return text(f"action cycle {x.get('cycle')} (episode {x.get('episode')}), {x['trigger']}: {what}", "bold")
        if "instruction" in x:
            note = "" if x.get("parsed", True) else " (fallback: the instructor's answer did not parse)"
            return section(f"INSTRUCTION injected after {x.get('after_tool')}{note}", [text(x["instruction"], "em")])
        if "tool" in x and isinstance(x.get("result"), dict):
            result, args = x["result"], x.get("arguments") or {}
            title = f"{x['tool']}({', '.join(f'{k}={v!r}' for k, v in args.items())})"
            if result.get("vetoed"):
                return section(f"VETOED by the guard: {title}", [text("not delivered: " + str(result["vetoed"]), "warn")])
            if not result.get("ok"):
                return section(title, [text(str(result.get("content")), "warn")])
            return section(title, [_content(result.get("content"))])
        return super().exposure(exposure)

    def event(self, event: Event) -> Block:
        p = event.payload if isinstance(event.payload, dict) else {}
        if event.kind == "send":
            to = ", ".join(p.get("to") or []) or "public"
            body = f"{p['subject']}: {p.get('text', '')}" if p.get("subject") else p.get("text", "")
            return group([text(f"{p.get('app')}: {event.agent_id} -> {to} (message {p.get('msg_id')})", "bold"), text(body)])
        if event.kind == "veto":
            args = p.get("arguments") or {}
            body = args.get("message") or args.get("body") or args.get("content") or ""
            return group([text(f"VETOED {p.get('tool')} (never delivered); sensitive: {p.get('sensitive_data')}", "warn"), text(body)])
        if event.kind == "judge_unknown":
            return text(f"judge answer for {p.get('item_id')} did not parse: counted as unknown ({p.get('error')})", "warn")
        if event.kind == "attack_rewrite":
            return section(f"attack task rewritten for episode {p.get('episode')}", [text(p.get("task", ""), "em")])
        return super().event(event)
