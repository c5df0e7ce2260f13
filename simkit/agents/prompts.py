"""Prompts are template files (Jinja2), not strings buried in code.

Lay a prompt out for prefix caches: what is stable (rules, persona, scene) first, what
changes (state, page, recent events) last, so servers that keep the KV cache of a prompt
prefix (vLLM, SGLang, llama.cpp) and APIs that bill cached input cheaper reuse most of it
(`simkit/llm/prefix_cache.py` measures how much a run could).

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

    def render_block(self, name: str, block: str, **values) -> str:
        """One `{% block %}` of a template: a template can keep a call's stable part
        (`rules`) and its changing part (`ask`) in one file, rendered into separate places."""
        template = self.env.get_template(name)
        return "".join(template.blocks[block](template.new_context(values))).strip()

    def messages(self, system: str | None, user: str, **values) -> list[dict[str, str]]:
        """Render a system template (optional) and a user template into chat messages."""
        out = []
        if system:
            out.append({"role": "system", "content": self.render(system, **values)})
        out.append({"role": "user", "content": self.render(user, **values)})
        return out
