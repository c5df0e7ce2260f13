"""How events, exposures and judge messages look in both viewers, and the hook plugins use
to change it.

A renderer returns *blocks*: plain JSON-safe dicts, so one renderer serves both viewers.
The terminal viewer turns blocks into rich renderables (as `Text`, never markup); the HTML
report builds DOM nodes from them with `textContent`, never `innerHTML`. Run text can hold
anything (`<script>`, `[bold]`), and neither viewer interprets it.

Block shapes:
    {"text": str, "style": "bold" | "dim" | "em" | "warn" | None}
    {"fields": [[key, value], ...]}            key/value rows
    {"list": [block, ...], "ordered": bool}    items, numbered when ordered
    {"section": title, "body": [block, ...]}   a titled box
    {"group": [block, ...]}                    blocks one under the other

Plugin hook: a plugin class may define a classmethod `replay_renderer()` returning a
`Renderer` (usually a subclass overriding `event`, `exposure` and/or `judgement`). Without one, or when
the plugin is not installed where the run is viewed, the generic renderer is used.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from simkit.replay.data import Event, Exposure, Judgement

Block = dict[str, Any]

STYLES = {"bold": "bold", "dim": "dim", "em": "italic", "warn": "bold red", None: ""}


def text(value: Any, style: str | None = None) -> Block:
    return {"text": value if isinstance(value, str) else _compact(value), "style": style}


def fields(pairs: list[tuple[str, Any]] | dict) -> Block:
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return {"fields": [[str(k), v if isinstance(v, str) else _compact(v)] for k, v in items]}


def items(blocks: list[Block], ordered: bool = False) -> Block:
    return {"list": blocks, "ordered": ordered}


def section(title: str, body: list[Block]) -> Block:
    return {"section": title, "body": body}


def group(blocks: list[Block]) -> Block:
    return {"group": blocks}


def _compact(value: Any) -> str:
    if value == [] or value == {}:
        return "(none)"
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict) and all(isinstance(v, (str, int, float)) for v in value.values()):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "" if value is None else str(value)


def _nested(value: Any) -> bool:
    """Too deep for one field line: a list of objects, or an object holding objects or lists."""
    if isinstance(value, list):
        return any(isinstance(v, dict) for v in value)
    return isinstance(value, dict) and any(isinstance(v, (dict, list)) for v in value.values())


def value_block(value: Any) -> Block:
    """A generic view of any JSON value: dicts as fields (nested parts as titled sections),
    lists as numbered items, the rest as text."""
    if isinstance(value, dict):
        if not value:
            return text("(empty)", "dim")
        flat = [(k, v) for k, v in value.items() if not _nested(v)]
        deep = [section(k, [value_block(v)]) for k, v in value.items() if _nested(v)]
        return group(([fields(flat)] if flat else []) + deep) if deep else fields(flat)
    if isinstance(value, list):
        return items([value_block(v) for v in value], ordered=True) if value else text("(nothing)", "dim")
    return text(value)


PHASES = {
    "critique": "critique", "independent": "independent score", "debate": "debate", "summary": "debate summary",
    "final": "final statement", "arbiter": "arbiter's ruling", "disclosure": "disclosure check",
}


def score_text(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def judgement_title(j: Judgement) -> str:
    """`critic (judge): independent score, round 0`."""
    return f"{j.judge_id or '(judge)'} ({j.role or 'judge'}): {PHASES.get(j.phase, j.phase or 'message')}, round {j.round}"


class Renderer:
    """The generic renderer: payloads as key/value fields, exposures as numbered items, judge
    messages as a titled box (judge, role, phase, round) with the scores, the text, the
    evidence quoted, and the labels."""

    def event(self, event: Event) -> Block:
        return value_block(event.payload)

    def exposure(self, exposure: Exposure) -> Block:
        return value_block(exposure.items)

    def judgement(self, j: Judgement) -> Block:
        body: list[Block] = []
        labels = dict(j.labels)
        if not j.parsed_ok:
            error = labels.pop("error", None)
            body.append(text("answer never parsed: this judge counts for nothing here"
                             + (f" ({error})" if error else ""), "warn"))
        if j.scores:
            body.append(fields({"scores": ", ".join(f"{k} {score_text(v)}" for k, v in j.scores.items())}))
        elif j.metrics:
            body.append(fields({"on": ", ".join(j.metrics)}))
        body.append(text(j.text) if j.text else text("(no text)", "dim"))
        if j.evidence:
            body.append(section("evidence", [items([text(f"“{q}”", "em") for q in j.evidence])]))
        if j.item_id or labels:
            body.append(fields(([("item", j.item_id)] if j.item_id else []) + list(labels.items())))
        if j.visible_to is not None:
            body.append(text("seen by: " + (", ".join(j.visible_to) or "no judge"), "dim"))
        return section(judgement_title(j), body)


def renderer_for(plugin: str) -> Renderer:
    """The plugin's renderer if it is installed and provides one, else the generic one."""
    from simkit.engine.registry import available

    entry = available().get(plugin)
    try:
        hook = getattr(entry.load(), "replay_renderer", None) if entry else None
        found = hook() if hook else None
    except Exception:  # a broken plugin must not stop anyone from looking at its runs
        found = None
    return found if isinstance(found, Renderer) else Renderer()


def plain(block: Block) -> str:
    """The block's text on one line (summaries, text search)."""
    if "text" in block:
        return block["text"]
    if "fields" in block:
        return "  ".join(f"{k}: {v}" for k, v in block["fields"])
    if "list" in block:
        return " | ".join(plain(b) for b in block["list"])
    if "group" in block:
        return "  ".join(plain(b) for b in block["group"])
    return f"{block['section']}: " + " ".join(plain(b) for b in block["body"])


def to_rich(block: Block) -> RenderableType:
    """A rich renderable of the block; run text is always a `Text`, never parsed as markup.
    Blocks without sections become one `Text` (cheap to lay out on every step)."""
    if "section" in block:
        return Panel(Group(*(to_rich(b) for b in block["body"])), title=Text(block["section"]), title_align="left")
    if "group" in block:
        return Group(*(to_rich(b) for b in block["group"]))
    if "list" in block and any(_boxed(child) for child in block["list"]):
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim", no_wrap=True, justify="right")
        grid.add_column()
        for marker, child in zip(_markers(block), block["list"]):
            grid.add_row(Text(marker), to_rich(child))
        return grid
    return _as_text(block)


def _boxed(block: Block) -> bool:
    return "section" in block or "group" in block or any(_boxed(child) for child in block.get("list", []))


def _markers(block: Block) -> list[str]:
    return [f"{n}." if block.get("ordered") else "•" for n in range(1, len(block["list"]) + 1)]


def _as_text(block: Block) -> Text:
    if "text" in block:
        return Text(block["text"], style=STYLES.get(block.get("style"), ""))
    if "fields" in block:
        return Text("\n").join(Text.assemble((key, "bold"), " ", value) for key, value in block["fields"])
    lines = []
    for marker, child in zip(_markers(block), block["list"]):
        for i, line in enumerate(_as_text(child).split("\n")):
            lines.append(Text.assemble((marker if i == 0 else " " * len(marker), "dim"), " ", line))
    return Text("\n").join(lines)
