"""Widgets whose colours are all RGB skip Textual's ANSI-to-RGB line filter.

Textual passes every line of every widget through `ANSIToTruecolor`, which looks
at each segment's style to turn ANSI colours into the theme's RGB ones. A card,
a thumbnail or a large picture has a segment per cell and only RGB colours (the
theme's and the picture's), so the filter changes nothing there yet was a
seventh of drawing a screen of cards. Other filters (NO_COLOR's monochrome) stay.
"""
from __future__ import annotations

from textual.filter import ANSIToTruecolor, LineFilter
from textual.widget import Widget


class RGBLines(Widget):
    """Mix in before Widget: this widget's lines hold no ANSI colours."""

    def get_line_filters(self) -> list[LineFilter]:
        return [f for f in super().get_line_filters() if not isinstance(f, ANSIToTruecolor)]
