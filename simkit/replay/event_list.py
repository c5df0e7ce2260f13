"""`EventList`: the events (or judge messages) of a tick as fixed-width rows with a cursor.

Built on textual's line API: only the visible rows are drawn, each as one `Text`, so a page
of hundreds of events costs a few milliseconds per step (a `DataTable` measures and lays
out every cell). Row text is always `Text`, never markup.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

COLUMNS = (("#", 6), ("time", 9), ("agent", 12), ("kind", 12), ("what happened", 0))
JUDGEMENT_COLUMNS = (("#", 6), ("judge", 14), ("phase", 13), ("round", 6), ("ok", 4), ("what was said", 0))


def header(columns: tuple[tuple[str, int], ...] = COLUMNS) -> Text:
    return Text("".join(_cell(name, width) for name, width in columns), style="bold", no_wrap=True)


def _cell(value: str, width: int) -> str:
    if not width:
        return value
    return (value if len(value) < width else value[: width - 2] + "…").ljust(width)


class EventList(ScrollView, can_focus=True):
    """Rows of (seq, time, agent, kind, summary), or of other `columns`; up/down move the
    cursor, while left/right and home/end are left to the viewer (they move through ticks)."""

    BINDINGS = [
        Binding("left", "app.step(-1)", show=False),
        Binding("right", "app.step(1)", show=False),
        Binding("home", "app.goto_first", show=False),
        Binding("end", "app.goto_last", show=False),
        Binding("up", "move(-1)", show=False),
        Binding("down", "move(1)", show=False),
        Binding("pageup", "move(-10)", show=False),
        Binding("pagedown", "move(10)", show=False),
    ]
    cursor: reactive[int] = reactive(0)

    class Highlighted(Message):
        """The cursor moved to row `index`."""

        def __init__(self, index: int):
            super().__init__()
            self.index = index

    def __init__(self, columns: tuple[tuple[str, int], ...] = COLUMNS, **kwargs):
        super().__init__(**kwargs)
        self.columns = columns
        self.rows: list[tuple[str, ...]] = []
        self._lines: list[Text] = []
        self._strips: dict[int, Strip] = {}  # rows drawn so far (scrolling and cursor moves redraw them)

    def set_rows(self, rows: list[tuple[str, ...]]) -> None:
        """Replace the rows; the cursor goes back to the first one."""
        self.rows = rows
        self._strips: dict[int, Strip] = {}
        self._lines = [Text("".join(_cell(v, w) for v, (_n, w) in zip(row, self.columns)), no_wrap=True) for row in rows]
        width = max((len(line.plain) for line in self._lines), default=0)
        self.virtual_size = Size(width, len(rows))
        self.scroll_to(0, 0, animate=False)
        self.set_reactive(EventList.cursor, 0)
        self.refresh()

    def action_move(self, delta: int) -> None:
        if self.rows:
            self.cursor = min(max(self.cursor + delta, 0), len(self.rows) - 1)

    def watch_cursor(self, old: int, new: int) -> None:
        self.scroll_to_region(Region(0, new, 1, 1), animate=False)
        self.refresh()
        self.post_message(self.Highlighted(new))

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y
        if index >= len(self._lines):
            return Strip.blank(width)
        strip = self._strips.get(index)
        if strip is None:
            strip = self._strips[index] = Strip(list(self._lines[index].render(self.app.console)))
        style = Style()
        if index == self.cursor:
            style = Style(reverse=True, bold=True) if self.has_focus else Style(underline=True)
            strip = strip.apply_style(style)
        return strip.crop_extend(scroll_x, scroll_x + width, style)
