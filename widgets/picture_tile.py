"""A small tile: a title line, a thumbnail and a few lines of text (the duplicates view's group members).

Like the grid's cards it draws its own lines; its thumbnail comes from a `StripSource` (drawn in a
worker by the screen that owns the tiles) and is blank until then. It never talks to the store:
a click posts `PictureTile.Clicked`.
"""
from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from store.records import ImageRecord

from .card import StripSource
from .rgb_lines import RGBLines
from .thumbnails import fit_cells, grid_picture


class PictureTile(RGBLines, Widget):
    DEFAULT_CSS = """
    PictureTile { border: round $panel-lighten-2; padding: 0 1; width: 26; height: 1fr; }
    PictureTile.-current { border: round $accent; background: $boost; }
    PictureTile.-marked { border: double $success; }
    PictureTile.-current.-marked { border: double $accent; }
    PictureTile > .picture-tile--title { text-style: bold; }
    PictureTile > .picture-tile--mark { color: $success; text-style: bold; }
    PictureTile > .picture-tile--muted { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"picture-tile--title", "picture-tile--mark", "picture-tile--muted"}

    @dataclass(eq=False)
    class Clicked(Message):
        """The tile was clicked (`double`: a double click)."""

        tile: PictureTile
        double: bool

        @property
        def control(self) -> PictureTile:
            return self.tile

    def __init__(self, record: ImageRecord, index: int, lines: list[str], *, strips: StripSource | None,
                 mark: str = "", id: str | None = None) -> None:
        """`lines`: what is said under the picture; `mark`: the title's badge while marked (-marked)."""
        super().__init__(id=id)
        self.record = record
        self.index = index
        self.lines = lines
        self.mark = mark
        self._strips = strips
        self.thumb_missing = False

    @property
    def marked(self) -> bool:
        return self.has_class("-marked")

    def set_state(self, *, current: bool, marked: bool) -> None:
        self.set_class(current, "-current")
        self.set_class(marked, "-marked")
        self.refresh()

    def thumb_cells(self) -> tuple[int, int]:
        """The thumbnail's size in cells (its shape kept) in the room the text leaves."""
        width, height = self.content_size
        rows = height - 1 - len(self.lines)
        if width <= 0 or rows <= 0:
            return 0, 0
        return fit_cells(width, rows, self.record.width, self.record.height)

    def thumbnails_ready(self) -> None:
        # always: lines drawn one at a time may have found the picture missing in an earlier frame and there
        # in a later one (thumb_missing then says False), which left a picture half drawn
        self.refresh()

    def _text(self, text: Text, width: int, base: Style) -> Strip:
        text = text.copy()
        text.truncate(width, overflow="ellipsis", pad=True)
        segments = [Segment(s.text, base + s.style if s.style else base) for s in text.render(self.app.console, end="")]
        return Strip(segments, width).crop_extend(0, width, base)

    def render_line(self, y: int) -> Strip:
        width, height = self.content_size
        base = self.rich_style
        if width <= 0:
            return Strip.blank(0)
        if y == 0:
            title = Text(f"#{self.record.id}", style=self.get_component_rich_style("picture-tile--title", partial=True))
            if self.marked and self.mark:
                title = Text.assemble((self.mark + " ", self.get_component_rich_style("picture-tile--mark",
                                                                                      partial=True)), title)
            return self._text(title, width, base)
        text_from = height - len(self.lines)
        if y >= text_from:
            return self._text(Text(self.lines[y - text_from]), width, base)
        columns, rows = self.thumb_cells()
        box = height - 1 - len(self.lines)
        top = 1 + (box - rows) // 2
        if not columns or not top <= y < top + rows:
            return Strip.blank(width, base)
        pictures = self._strips(grid_picture(self.record), columns, rows) if self._strips is not None else None
        if pictures is None:
            self.thumb_missing = self._strips is not None
            if self._strips is None and y == top + rows // 2:
                return self._text(Text(f"{self.record.width}×{self.record.height}".center(width),
                                       style=self.get_component_rich_style("picture-tile--muted", partial=True)),
                                  width, base)
            return Strip.blank(width, base)
        self.thumb_missing = False
        left = (width - columns) // 2
        segments = [Segment(" " * left, base), *pictures[y - top], Segment(" " * (width - left - columns), base)]
        return Strip(segments, width)

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Clicked(self, event.chain > 1))
