"""Thumbnail pictures for cards: loading, caching, and the image widget to draw them.

Images reach textual-image as small PIL images (never the originals): every
render re-reads the pixels. Transparent images are laid on a checkerboard so a
cleaned image never looks like its source.
"""
from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from PIL import Image

# textual-image asks the terminal what it can do when imported; that must happen
# before the app starts reading input, so this module is imported early by tui.app.
from textual_image.widget import HalfcellImage, Image as AutoImage, SixelImage, TGPImage, UnicodeImage

GRID_PIXELS = 64  # thumbnails are shrunk to this before reaching the renderer
CHECKER = ((200, 200, 200), (245, 245, 245))

IMAGE_MODES = ("auto", "kitty", "sixel", "halfcell", "none")


def grid_image_class(mode: str):
    """The widget class for thumbnails in the scrolling grid.

    Graphics protocols smear and linger when a Textual grid scrolls (textual-image's
    own README), so `auto` draws coloured half-block cells there; the large view
    uses the best protocol instead. Forcing kitty or sixel is the user's choice.
    """
    return {"kitty": TGPImage, "sixel": SixelImage, "halfcell": HalfcellImage, "auto": HalfcellImage,
            "unicode": UnicodeImage}.get(mode)


def large_image_class(mode: str):
    return {"kitty": TGPImage, "sixel": SixelImage, "halfcell": HalfcellImage, "auto": AutoImage,
            "unicode": UnicodeImage}.get(mode)


def fit_cells(box_width: int, box_height: int, width: int, height: int) -> tuple[int, int]:
    """Cells (columns, rows) that show a width x height picture in a box, keeping its shape.

    A terminal cell is about twice as tall as it is wide: a square picture of
    N columns takes N/2 rows.
    """
    width, height = max(1, width), max(1, height)
    scale = min(box_width / width, 2 * box_height / height)
    return (max(1, min(box_width, round(width * scale))), max(1, min(box_height, round(height * scale / 2))))


def on_checkerboard(image: Image.Image, square: int = 4) -> Image.Image:
    """An RGBA image composited over a grey checkerboard (RGB result)."""
    if image.mode != "RGBA":
        return image.convert("RGB")
    board = Image.new("RGB", image.size, CHECKER[0])
    light = Image.new("RGB", (square, square), CHECKER[1])
    for y in range(0, image.height, square):
        for x in range((y // square) % 2 * square, image.width, square * 2):
            board.paste(light, (x, y))
    board.paste(image, (0, 0), image)
    return board


def load_picture(path: Path, max_side: int) -> Image.Image | None:
    """A small RGB picture of an image file, or None if it cannot be read."""
    try:
        with Image.open(path) as source:
            source.draft("RGB", (max_side * 2, max_side * 2))
            picture = source.copy()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    if picture.mode not in ("RGB", "RGBA"):
        picture = picture.convert("RGBA" if "transparency" in picture.info or "A" in picture.mode else "RGB")
    picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return on_checkerboard(picture, square=max(2, max_side // 16))


class ThumbnailCache:
    """Least-recently-used cache of grid pictures, keyed by thumbnail path."""

    def __init__(self, size: int = 400):
        self.size = size
        self._items: OrderedDict[Path, Image.Image | None] = OrderedDict()

    def get(self, path: Path) -> Image.Image | None:
        if path in self._items:
            self._items.move_to_end(path)
            return self._items[path]
        picture = load_picture(path, GRID_PIXELS)
        self._items[path] = picture
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return picture

    def forget(self, path: Path) -> None:
        self._items.pop(path, None)
