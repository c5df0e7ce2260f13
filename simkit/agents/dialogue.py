"""A dialogue transcript: who said or did what, when, and who could see it.

Scenes with several characters (CharacterBox), an episode between a protagonist and NPCs
(PersonaArena) and judges' debates all keep one: each line has a speaker, its text, an
optional physical action, a round, and the set of agents who may see it (None: everyone).
`view(agent)` is what that agent may know, `render(agent)` the prompt text of it, and
`messages(agent)` the chat messages with the agent's own lines as `assistant`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Iterable


@dataclass
class Line:
    speaker: str
    text: str = ""
    action: str = ""
    round: int = 0
    visible_to: frozenset[str] | None = None
    labels: dict = field(default_factory=dict)

    def visible(self, agent: str | None) -> bool:
        return agent is None or self.visible_to is None or agent == self.speaker or agent in self.visible_to

    def as_text(self) -> str:
        parts = [f"[{self.action}]" if self.action else "", self.text]
        return f"{self.speaker}: " + " ".join(p for p in parts if p)


class Transcript:
    def __init__(self, lines: Iterable[Line] = ()):
        self.lines: list[Line] = list(lines)

    def add(self, speaker: str, text: str = "", *, action: str = "", round: int = 0,
            visible_to: Iterable[str] | None = None, **labels) -> Line:
        line = Line(speaker, text, action, round, frozenset(visible_to) if visible_to is not None else None, labels)
        self.lines.append(line)
        return line

    def view(self, agent: str | None = None, *, last: int | None = None) -> list[Line]:
        """The lines `agent` may see (None: all), the newest `last` of them."""
        seen = [line for line in self.lines if line.visible(agent)]
        return seen[-last:] if last else seen

    def render(self, agent: str | None = None, *, last: int | None = None) -> str:
        return "\n".join(line.as_text() for line in self.view(agent, last=last))

    def messages(self, agent: str, *, last: int | None = None) -> list[dict[str, str]]:
        """The agent's own lines as `assistant`, everyone else's as `user` ("Name: text")."""
        return [
            {"role": "assistant" if line.speaker == agent else "user", "content": line.as_text()}
            for line in self.view(agent, last=last)
        ]

    def by(self, speaker: str) -> list[Line]:
        return [line for line in self.lines if line.speaker == speaker]

    def __len__(self) -> int:
        return len(self.lines)

    def as_list(self) -> list[dict]:
        out = []
        for line in self.lines:
            row = asdict(line)
            row["visible_to"] = sorted(line.visible_to) if line.visible_to is not None else None
            out.append(row)
        return out
