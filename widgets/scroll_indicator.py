"""The grid's scroll bar: one column showing where the visible rows are in the whole result; a click goes there."""
from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from .rgb_lines import RGBLines


class ScrollIndicator(RGBLines, Widget):
    """A one-column bar showing where the visible rows are in the whole result."""

    DEFAULT_CSS = """
    ScrollIndicator { width: 1; height: 1fr; dock: right; }
    """

    position = reactive(0.0)
    fraction = reactive(1.0)

    def render_line(self, y: int) -> Strip:
        height = self.size.height
        if height <= 0:
            return Strip.blank(1)
        thumb = max(1, round(height * min(1.0, self.fraction)))
        start = round((height - thumb) * self.position)
        on_thumb = start <= y < start + thumb
        style = Style(bgcolor="#808080" if on_thumb else "#303030")  # grey50, grey19 as RGB
        return Strip([Segment(" ", style)])

    @dataclass(eq=False)
    class Clicked(Message):
        """Go to this place in the whole result (0 the top, 1 the bottom)."""

        indicator: ScrollIndicator
        fraction: float

        @property
        def control(self) -> ScrollIndicator:
            return self.indicator

    def on_click(self, event: events.Click) -> None:
        if self.size.height > 0:
            self.post_message(self.Clicked(self, event.y / max(1, self.size.height - 1)))
