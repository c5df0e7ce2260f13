"""How CharacterBox runs look in `simkit replay`: a script. Each turn reads as round,
actor, action and line, the narrator's verdict (who was affected and how, the reaction,
whether it used up the reactor's turn, the result, new positions and states), and each
round's end as the scene as it now stands with the plot summary.
"""

from __future__ import annotations

from simkit.replay.data import Event, Exposure
from simkit.replay.render import Block, Renderer, fields, group, items, section, text


def _scene(scene: dict) -> Block:
    return fields([("time", scene.get("time", "")), ("location", scene.get("location", "")), ("description", scene.get("description", ""))])


class CharacterBoxRenderer(Renderer):
    def event(self, event: Event) -> Block:
        p = event.payload
        if not isinstance(p, dict):
            return super().event(event)
        if event.kind == "turn" and "character" in p:
            return self._turn(p)
        if event.kind == "round" and "summary" in p:
            body = [text(p["summary"], "em"), section("scene now", [_scene(p.get("scene_now") or {})])]
            if "concluded" in p:
                body.append(text(("story concluded: " if p["concluded"] else "not concluded: ") + (p.get("conclusion") or ""), "dim"))
            return section(f"end of round {p.get('round')} ({p.get('scene')})", body)
        return super().event(event)

    def _turn(self, p: dict) -> Block:
        who = p["character"]
        lines: list[Block] = [text(f"[{who}] {p.get('action', '')}", "bold")]
        if p.get("dialogue"):
            lines.append(text(f'{who}: "{p["dialogue"]}"'))
        narrator: list[Block] = []
        if p.get("target"):
            used = "  (uses up their turn this round)" if p.get("turn_used") else ""
            narrator.append(fields([("affects", p["target"] + used), ("effect", p.get("effect", ""))]))
            narrator.append(text(f"[{p['target']}] {p.get('reaction', '')}", "bold"))
            if p.get("result"):
                narrator.append(fields([("result", p["result"])]))
        else:
            narrator.append(text("affects nobody else" + (f": {p['effect']}" if p.get("effect") else ""), "dim"))
        updates = p.get("updates") or {}
        if updates:
            narrator.append(items([fields([(name, f"{u.get('position', '')}; {u.get('state', '')}")]) for name, u in updates.items()]))
        if p.get("scene_now"):
            narrator.append(section("scene now", [_scene(p["scene_now"])]))
        return section(f"round {p.get('round')} ({p.get('scene')}): {who}", [group(lines), section("narrator", narrator)])

    def exposure(self, exposure: Exposure) -> Block:
        shown = exposure.items
        if isinstance(shown, dict) and "observation" in shown:
            title = f"reacting to {shown['reacting_to']}" if shown.get("reacting_to") else "before acting"
            body = [text(shown["observation"] or "(nothing new)")]
            if shown.get("plot"):
                body.append(fields([("action reference", shown["plot"])]))
            if shown.get("scene"):
                body.append(section("scene", [_scene(shown["scene"])]))
            return section(title, body)
        return super().exposure(exposure)
