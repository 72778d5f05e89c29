"""Two workarounds for Textual 8.2 that kept drawn lines alive after their widget had gone (issue 11).

1. `StylesCache.get_inner_outer` (a widget's line cache) is an `lru_cache` on an instance method, so the
   cache's key holds the StylesCache itself: the last 1,024 line caches stay alive with every line they drew,
   after their widget was removed (Textual issue 6665, open). Each dialog, card and preview a session opened
   and closed left its lines there: at 160x48, ~90,000 objects more after each round of paging, searching and
   opening the info, large view, help and grid editor, which every garbage collection walked or froze.
   Here the cache is keyed by the two colours only (what the function reads), in one cache for all.

2. Textual's compositor cuts every line a widget draws at the edges of what covers it (`Strip.divide`); a line
   seen whole is "cut" into a list holding only itself, and Strip caches that list on itself: a reference
   cycle. `Strip.crop_extend` to a line's own width caches the line on itself as well. Every line so drawn was
   then garbage only the cycle collector could free, with its 7 caches and its Segments (tens of thousands of
   objects a minute of paging), and lines that lived through a full collection were frozen with it (tui/app.py)
   and stayed until the rare collection that walks everything. Here those two answers are not cached
   (answering them costs nothing): a line no widget holds is freed at once, by reference counting.

`install()` is run once by the app; each patch checks that Textual still has what it replaces.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Iterable, Sequence

from textual._styles_cache import StylesCache
from textual.strip import Strip

INNER_OUTER_KEPT = 1024  # colour pairs (Textual's own size, now for every widget together)

_installed = False


def _keyed_by_colours() -> None:
    method = StylesCache.__dict__.get("get_inner_outer")
    original = getattr(method, "__wrapped__", None)
    if original is None:  # no longer an lru_cache on the method (fixed in Textual): nothing to do
        return

    @lru_cache(INNER_OUTER_KEPT)
    def inner_outer(base_background, background):
        return original(None, base_background, background)  # reads the colours only

    def get_inner_outer(self, base_background, background):
        return inner_outer(base_background, background)

    get_inner_outer.__doc__ = original.__doc__
    StylesCache.get_inner_outer = get_inner_outer  # type: ignore[method-assign,assignment]


def _acyclic_strips() -> None:
    divide, crop_extend = Strip.divide, Strip.crop_extend

    def whole_divide(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
        cuts = [cut for cut in cuts if cut <= self.cell_length]
        if cuts == [self.cell_length]:
            return [self]
        return divide(self, cuts)

    def whole_crop_extend(self: Strip, start: int, end: int, style=None) -> Strip:
        if start == 0 and end == self.cell_length:
            return self  # what extend-then-crop gives, without caching it on itself
        return crop_extend(self, start, end, style)

    whole_divide.__doc__, whole_crop_extend.__doc__ = divide.__doc__, crop_extend.__doc__
    Strip.divide = whole_divide  # type: ignore[method-assign]
    Strip.crop_extend = whole_crop_extend  # type: ignore[method-assign]


def install() -> None:
    """Apply both workarounds (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    _keyed_by_colours()
    _acyclic_strips()
