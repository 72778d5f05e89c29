"""A Static showing a Rich renderable drawn once per width (issue 11).

Textual draws a Rich renderable in a Static of automatic height twice: once to count its lines (the height), once
to draw them. For a table that is most of a dialog's first paint: the help's tables of keys and its search syntax
(60 ms of 80 at 160x48), the info dialog's rows. A renderable given a `key` (what it shows, as data) is drawn once
per width and look for every widget of that key: the help opened again draws none of its tables (15-20 ms of its
first paint at 160x48)."""
from __future__ import annotations

from typing import Hashable

from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, RichVisual, Visual
from textual.widgets import Static

from .lru import LRU

_KEPT: LRU[tuple, list[Strip]] = LRU(32)  # (key, width, look) -> the lines of a renderable given a key


def forget() -> None:
    """Drop the drawings kept for keys (a test starts from none)."""
    _KEPT.clear()


class RenderedOnce(Visual):
    """A Rich renderable drawn once per width: its height is the number of lines of that drawing. Textual drew a
    Rich table twice, once to count its lines (the scrolling list's height) and once to draw it; the help's
    tables of keys and the search syntax are most of its first paint (issue 11: 60 ms of 80 at 160x48)."""

    def __init__(self, widget: Static, renderable, key: Hashable | None = None) -> None:
        self._widget = widget
        self._rich = RichVisual(widget, renderable)
        self._key = key  # what the renderable shows (as data): its drawings are kept for every widget of that key
        # the last two drawings: a scrolling dialog is laid out with and without its scroll bar, in turn
        self._drawn: dict[tuple[int, Style], list[Strip]] = {}

    def _strips(self, width: int, style: Style) -> list[Strip]:
        strips = self._drawn.get((width, style))
        if strips is None:
            if len(self._drawn) >= 2:
                del self._drawn[next(iter(self._drawn))]
            kept = (self._key, width, style) if self._key is not None else None
            strips = _KEPT.get(kept) if kept is not None else None
            if strips is None:
                strips = self._rich.render_strips(width, None, style, None)  # type: ignore[arg-type]
                if kept is not None:
                    _KEPT.put(kept, strips)
            self._drawn[width, style] = strips
        return strips

    def render_strips(self, width: int, height: int | None, style: Style, options: RenderOptions) -> list[Strip]:
        return list(self._strips(width, style)[:height])

    def get_height(self, rules: RulesMap, width: int) -> int:
        return len(self._strips(width, self._widget.visual_style))

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return self._rich.get_optimal_width(rules, container_width)


class RichOnce(Static):
    """A Static showing a Rich renderable drawn once per width (`RenderedOnce`); with a `key` (what it shows, as
    hashable data), once per width and look for all of that key."""

    def __init__(self, renderable, *, key: Hashable | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self._once = RenderedOnce(self, renderable, key)

    def render(self) -> Visual:
        return self._once
