"""Printing user- and model-provided text through rich without it being read as markup.

A scenario named `[/]` or a character named `[bold]x[/]` is text: every such string goes
into a table or a line as a `rich.text.Text` (`plain`), never as a markup string.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.text import Text


def plain(value: Any, style: str = "") -> Text:
    """`value` as literal text (None as an empty string)."""
    return Text("" if value is None else str(value), style=style)


def print_uncut(console: Console, renderable: RenderableType) -> None:
    """Print at the renderable's natural width even when the terminal (or the 80 columns
    of a pipe) is narrower: lines wrap on screen but no cell is cut or folded."""
    natural = Measurement.get(console, console.options.update_width(100_000), renderable).maximum
    saved = console._width  # print(width=...) is capped at the console's width, so widen the console itself
    console.width = max(console.width, natural)
    try:
        console.print(renderable, crop=False)
    finally:
        console._width = saved
