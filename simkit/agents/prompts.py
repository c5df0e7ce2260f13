"""Prompts are template files (Jinja2), not strings buried in code.

`PromptLibrary(folder).render("perceive.j2", persona=..., page=...)` renders with
StrictUndefined, so a missing variable is an error at the first call, not a silent blank.
"""

from __future__ import annotations

from pathlib import Path

import jinja2


class PromptLibrary:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.folder)),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            autoescape=False,
            auto_reload=False,  # templates are package files: no stat() of the file on every render
        )

    def render(self, name: str, **values) -> str:
        return self.env.get_template(name).render(**values).strip()

    def messages(self, system: str | None, user: str, **values) -> list[dict[str, str]]:
        """Render a system template (optional) and a user template into chat messages."""
        out = []
        if system:
            out.append({"role": "system", "content": self.render(system, **values)})
        out.append({"role": "user", "content": self.render(user, **values)})
        return out
