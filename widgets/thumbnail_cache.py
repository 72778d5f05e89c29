"""The grid's thumbnails in memory: the small pictures read from the library's thumbnail files, and the same
drawn as half-block cells per size, each in a least-recently-used cache the thumbnail worker fills and drawing reads.
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image
from rich.segment import Segment
from rich.text import Text

from .cell_colours import draws_true_colour
from .colour_codes import make_codes
from .cell_lines import Line, halfcell, pack, unpack
from .lru import LRU
from .thumbnails import GRID_PIXELS, PICTURE_CACHE_SIZE, STRIP_CACHE_SIZE, CachedHalfcellImage, cell_console, load_picture

DRAWN_KEPT = 48  # thumbnails kept as Segments until told otherwise (`keep_drawn`)


class ThumbnailCache:
    """Least-recently-used cache of grid pictures, keyed by thumbnail path (or by the files to try in turn, a mini
    and its thumbnail: `thumbnails.grid_picture`)."""

    def __init__(self, size: int = PICTURE_CACHE_SIZE):
        self._items: LRU[Path | tuple[Path, ...], Image.Image | None] = LRU(size)  # filled from the thumbnail thread too

    def peek(self, path: Path | tuple[Path, ...]) -> tuple[bool, Image.Image | None]:
        """(True, picture) if it is in memory; (False, None) if it must be read first (`get`, in a worker)."""
        return self._items.lookup(path)

    def get(self, path: Path | tuple[Path, ...]) -> Image.Image | None:
        """The picture of a file, or of the first of several files that can be read (None: none can)."""
        known, picture = self._items.lookup(path)
        if not known:
            for one in path if isinstance(path, tuple) else (path,):
                picture = load_picture(one, GRID_PIXELS)
                if picture is not None:
                    break
            self._items.put(path, picture)
        return picture


class ThumbnailStrips:
    """Thumbnails drawn as coloured half-block cells (textual-image), kept per picture and size.

    Each thumbnail is a list of lines, each line a list of Segments exactly as wide as the thumbnail. Only the
    last `drawn_kept` made are kept so (about the screens the grid draws ahead); all `size` are kept as packed
    lines (`cell_lines`), data the garbage collector does not walk, made into Segments again by `make`.

    `get` is called while drawing and never waits; `make` reads and draws a thumbnail (or unpacks a packed
    one) and is meant for a background thread (the grid's thumbnail worker).
    """

    def __init__(self, size: int = STRIP_CACHE_SIZE, drawn_kept: int = DRAWN_KEPT):
        self.pictures = ThumbnailCache()
        self._packed: LRU[tuple, tuple[Line, ...]] = LRU(size)
        self._drawn: LRU[tuple, list[list[Segment]]] = LRU(drawn_kept)
        self._console = cell_console()  # drawing happens on worker threads, never on the app's console

    def keep_drawn(self, count: int) -> None:
        """Keep this many thumbnails as Segments (the grid: its cards on three screens)."""
        self._drawn.size = max(1, min(count, self._packed.size))

    def drawn(self, key: tuple) -> bool:
        """Whether the thumbnail is ready to draw (`get` has it)."""
        return self._drawn.lookup(key)[0]

    def packed(self, key: tuple) -> tuple[Line, ...] | None:
        """The thumbnail's lines as kept packed (`cell_lines`), if it was made."""
        return self._packed.get(key)

    def get(self, key: tuple) -> list[list[Segment]] | None:
        """The thumbnail's lines if they are ready to draw, else None (`make` them: a worker's job; a thumbnail
        kept only packed takes a few milliseconds to unpack, a screen of them too long for the UI thread)."""
        return self._drawn.get(key)

    def make(self, key: tuple, codes: bool = False) -> list[list[Segment]]:
        """The thumbnail's lines: unpacked if it is kept packed, else its picture read and drawn. With `codes`, their
        styles' terminal codes made too (colour_codes.py), for a thumbnail drawn ahead: the paint that shows it then
        has none to make (a screen of new thumbnails: 20-35 ms of a PageDown's paint on a million images). Not for
        those the screen waits for: made there, they lengthened End with small cards (99 -> 106-143 ms)."""
        known, packed = self._packed.lookup(key)
        if known and packed is not None:
            lines = unpack(packed)
            if codes:
                make_codes(lines)
            self._drawn.put(key, lines)
            return lines
        path, width, height = key
        picture = self.pictures.get(path)
        if picture is not None and draws_true_colour():
            packed = halfcell(picture, width, height)  # the pixels' colours as they are, straight to packed lines
        else:
            if picture is None:
                label = Text("(no picture)", style="dim", justify="center")
                label.truncate(width, pad=True)
                blank = [Segment(" " * width)]
                drawn = [blank] * (height // 2) + [list(label.render(self._console, end=""))] + \
                    [blank] * (height - height // 2 - 1)
            else:  # the 16 colours: textual-image and Rich's mapping (`cell_colours.for_terminal`)
                drawn = [list(Segment.simplify(strip))
                         for strip in CachedHalfcellImage.render_strips(self._console, picture, width, height)]
            packed = tuple(pack(line) for line in drawn)
        lines = unpack(packed)  # one Style per colour pair, not textual-image's one per cell
        if codes:
            make_codes(lines)
        self._packed.put(key, packed)
        self._drawn.put(key, lines)
        return lines
