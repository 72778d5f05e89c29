"""The grid's thumbnails in memory: the small pictures read from the library's thumbnail files, and the same
drawn as half-block cells per size, each in a least-recently-used cache the thumbnail worker fills and drawing reads.
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from .lru import LRU
from .thumbnails import GRID_PIXELS, PICTURE_CACHE_SIZE, STRIP_CACHE_SIZE, CachedHalfcellImage, cell_console, load_picture


class ThumbnailCache:
    """Least-recently-used cache of grid pictures, keyed by thumbnail path."""

    def __init__(self, size: int = PICTURE_CACHE_SIZE):
        self._items: LRU[Path, Image.Image | None] = LRU(size)  # filled from the grid's thumbnail thread too

    def peek(self, path: Path) -> tuple[bool, Image.Image | None]:
        """(True, picture) if it is in memory; (False, None) if it must be read first (`get`, in a worker)."""
        return self._items.lookup(path)

    def get(self, path: Path) -> Image.Image | None:
        known, picture = self._items.lookup(path)
        if not known:
            picture = load_picture(path, GRID_PIXELS)
            self._items.put(path, picture)
        return picture


class ThumbnailStrips:
    """Thumbnails drawn as coloured half-block cells (textual-image), kept per picture and size.

    Each thumbnail is a list of lines, each line a list of Segments exactly as
    wide as the thumbnail.

    `get` is called while drawing and never waits; `make` reads and draws a
    thumbnail and is meant for a background thread (the grid's thumbnail worker).
    """

    def __init__(self, size: int = STRIP_CACHE_SIZE):
        self.pictures = ThumbnailCache()
        self._items: LRU[tuple, list[list[Segment]]] = LRU(size)
        self._styles: dict[Style, Style] = {}
        self._console = cell_console()  # drawing happens on worker threads, never on the app's console

    def _compact(self, strip: Strip) -> list[Segment]:
        """The line's segments with one shared Style per colour pair and runs of it merged.

        A drawn thumbnail is a few hundred cells, each with its own Style and two
        Colors; sharing them (and keeping segments, not Strips with their caches)
        keeps the cache small and the garbage collector's work (it walks every
        object) short.
        """
        styles = self._styles
        if len(styles) > 50_000:
            styles.clear()
        return list(Segment.simplify(Segment(text, styles.setdefault(style, style) if style is not None else None)
                                     for text, style, _ in strip))

    def get(self, key: tuple) -> list[list[Segment]] | None:
        return self._items.get(key)

    def make(self, key: tuple) -> list[list[Segment]]:
        path, width, height = key
        picture = self.pictures.get(path)
        if picture is None:
            label = Text("(no picture)", style="dim", justify="center")
            label.truncate(width, pad=True)
            blank = [Segment(" " * width)]
            strips = [blank] * (height // 2) + [list(label.render(self._console, end=""))] + \
                [blank] * (height - height // 2 - 1)
        else:
            strips = [self._compact(strip)
                      for strip in CachedHalfcellImage.render_strips(self._console, picture, width, height)]
        self._items.put(key, strips)
        return strips
