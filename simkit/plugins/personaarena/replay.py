"""How PersonaArena runs look in `simkit replay`: the episode as a conversation.

The scene first (event, time, place, cast), then each line with its speaker, the
environment agent's pick and cue before it and, after a protagonist line, its
belief-desire-intention and the checkpoint coverage so far; after the episode the verdict.
The judges' messages (independent critiques and scores, the debate, the blind finals, the
arbiter's ruling) come from the `judgements` table through `judgement()`, in the last tick.
What each speaker was shown (its exposure) is the transcript.
"""

from __future__ import annotations

from simkit.replay.data import Event, Exposure, Judgement
from simkit.replay.render import Block, Renderer, fields, group, items, section, text
from simkit.plugins.personaarena.world import CHECKPOINTS

PHASES = {"independent": "independent score", "debate": "debate", "final": "final (blind)",
          "arbiter": "arbiter's ruling", "critique": "critique", "summary": "summary"}


def coverage_bar(covered: list[str]) -> str:
    return "  ".join(f"[{'x' if c in covered else ' '}] {c}" for c in CHECKPOINTS)


def _scores(scores: dict) -> str:
    return ", ".join(f"{k} {'-' if v is None else v}" for k, v in scores.items())


class PersonaArenaRenderer(Renderer):
    def event(self, event: Event) -> Block:
        p, kind = event.payload, event.kind
        if not isinstance(p, dict):
            return super().event(event)
        if kind == "scene":
            cast = [text(f"{n['name']} ({n['relation']}): {n['description']}") for n in p.get("npcs", [])]
            head = fields({"event": p.get("event", ""), "time": p.get("time", ""), "place": p.get("location", ""),
                           "setting": p.get("description", ""), "opening": p.get("opening", "")})
            body = [head, section("NPCs", [items(cast)])]
            if p.get("fallback"):
                body.insert(0, text("default scene: the environment agent's answer did not parse", "warn"))
            return section("scene", body)
        if kind == "pick":
            note = f"next: {p.get('speaker')} - {p.get('reason', '')}"
            if p.get("overruled"):
                note += f" (overruled: {p.get('speaker')} had waited too long)"
            blocks = [text(note, "warn" if p.get("fallback") else "dim")]
            if p.get("cue"):
                blocks.append(text(f"cue: {p['cue']}", "em"))
            return group(blocks)
        if kind == "line":
            said = f"{p.get('speaker', event.agent_id)}: " + (f"[{p['action']}] " if p.get("action") else "") + p.get("utterance", "")
            blocks = [text(said, "bold")]
            if "belief" in p:
                blocks.append(fields({"belief": p["belief"], "desire": p["desire"], "intention": p["intention"]}))
            if not p.get("parsed", True):
                blocks.append(text("fallback line: the answer did not parse", "warn"))
            return group(blocks)
        if kind == "coverage":
            blocks = [text(coverage_bar(p.get("covered", [])))]
            if p.get("new"):
                blocks.append(text(f"new: {', '.join(p['new'])} - {p.get('evidence', '')}", "em"))
            return group(blocks)
        if kind == "episode_end":
            return section(f"episode ended ({p.get('stop')}) after {p.get('turns')} lines",
                           [text(coverage_bar(p.get("covered", [])))])
        if kind == "verdict":
            overall = p.get("overall")
            head = f"verdict ({p.get('method')}): overall {'-' if overall is None else f'{overall:.2f}'}"
            blocks = [text(_scores(p.get("scores", {})), "bold")]
            if p.get("disputed"):
                blocks.append(text(f"disputed: {', '.join(p['disputed'])}; arbitrated: {', '.join(p.get('arbitrated') or []) or 'none'}"))
            blocks += [text(n, "dim") for n in p.get("notes", [])]
            return section(head, blocks)
        return super().event(event)

    def judgement(self, j: Judgement) -> Block:
        """A panel message: who, in which phase; the excluded judge marked; the scores on the
        rubric, the critique or argument, and the quotes it rests on (with how many of them
        occur in the conversation)."""
        if j.judge_id == "arbiter":
            who = "arbiter"
        else:
            who = j.judge_id + ("" if j.role in ("judge", "") else f" ({j.role})")
        phase = PHASES.get(j.phase, j.phase)
        if j.phase == "final" and (j.visible_to is None or len(j.visible_to) > 1):
            phase = "final"  # blind_final: false, later judges heard it
        title = f"{who}: {phase}" + (f", round {j.round}" if j.phase in ("debate", "summary") else "")
        blocks: list[Block] = []
        if not j.parsed_ok:
            blocks.append(text(f"answer never parsed: excluded ({j.labels.get('error', 'no reason recorded')})", "warn"))
        if j.scores:
            blocks.append(text(_scores(j.scores), "bold"))
        elif j.metrics:
            blocks.append(text(f"on {', '.join(j.metrics)}", "dim"))
        blocks.append(text(j.text or "(no text)"))
        if j.evidence:
            found = j.labels.get("quotes_found")
            head = "quotes" + (f" ({found} of {len(j.evidence)} found in the conversation)" if found is not None else "")
            blocks.append(section(head, [items([text(f"“{q}”", "em") for q in j.evidence])]))
        return section(title, blocks)

    def exposure(self, exposure: Exposure) -> Block:
        shown = exposure.items
        if not isinstance(shown, dict) or "transcript" not in shown:
            return super().exposure(exposure)
        blocks = [text(shown["transcript"] or "(nothing said yet)")]
        if shown.get("cue"):
            blocks.append(text(f"cue: {shown['cue']}", "em"))
        return section(f"{exposure.agent_id} was shown", blocks)
