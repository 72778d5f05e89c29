"""Thumbnail pictures for cards: loading, caching, and the image widget to draw them.

Images reach textual-image as small PIL images (never the originals): every
render re-reads the pixels. Transparent images are laid on a checkerboard so a
cleaned image never looks like its source.
"""
from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from rich.console import Console
from rich.segment import Segment
from textual.strip import Strip
from textual.widget import Widget

from store.errors import folder_gone
from store.files import MINI_SIZE
from store.records import ImageRecord

# textual-image asks the terminal what it can do when imported; that must happen
# before the app starts reading input, so this module is imported early by tui.app.
# First wait for the terminal to answer at all (see `wait_for_the_terminal`).
from .graphics_support import (  # isort: skip
    kitty_draws_placeholders, kitty_in_the_grid, patient_queries, terminal_version, wait_for_the_terminal)

wait_for_the_terminal()
patient_queries()

from textual_image.renderable import Image as AutoRenderable  # noqa: E402
from textual_image.renderable.halfcell import Image as HalfcellRenderable  # noqa: E402
from textual_image.renderable.tgp import Image as TGPRenderable  # noqa: E402
from textual_image.widget import HalfcellImage, Image as AutoImage, SixelImage, TGPImage  # noqa: E402
# the class every textual-image widget is (its package exports it under no name of its own)
from textual_image.widget._base import Image as PictureWidget  # noqa: E402

from .cell_colours import for_terminal  # noqa: E402
from .colour_codes import make_codes  # noqa: E402
from .rgb_lines import RGBLines  # noqa: E402
from .sixel_image import CleanSixelImage  # noqa: E402

# textual-image chose the Kitty protocol: ask the terminal's version now, before Textual reads the input
TERMINAL_VERSION = terminal_version() if AutoRenderable is TGPRenderable else None
AUTO_FALLS_BACK = AutoRenderable is TGPRenderable and not kitty_draws_placeholders(TERMINAL_VERSION)
# and real pixels in the grid too where that is known to be clean (a kitty 0.28 or later)
AUTO_GRID_KITTY = AutoRenderable is TGPRenderable and kitty_in_the_grid(TERMINAL_VERSION)

GRID_PIXELS = MINI_SIZE  # thumbnails are shrunk to this before reaching the renderer (a mini is so already)
STRIP_CACHE_SIZE = 160  # drawn thumbnails kept: several screens of 15 to 40 cards (about 100 KB each)
PICTURE_CACHE_SIZE = 120  # small pictures kept to draw again at another size
CHECKER = ((200, 200, 200), (245, 245, 245))



class CachedHalfcellImage(RGBLines, Widget):
    """textual-image's half-block renderer, with the rendered lines kept for the picture and size shown.

    Rendering a picture into coloured cells is the costly part of drawing it; every repaint reuses
    the lines instead (and `prepare` takes lines drawn beforehand in a worker).
    """

    DEFAULT_CSS = "CachedHalfcellImage { width: 16; height: 8; }"

    @staticmethod
    def render_strips(console, picture: Image.Image, width: int, height: int) -> list[Strip]:
        renderable = HalfcellRenderable(for_terminal(picture), width=width, height=height)
        segments = list(console.render(renderable, console.options.update(width=width, height=height)))
        strips = [Strip(line, width) for line in list(Segment.split_and_crop_lines(segments, width, pad=True, include_new_lines=False))[:height]]
        make_codes(strips)  # (drawn in a worker: there, not by the UI thread's paint; widgets/colour_codes.py)
        return strips

    def __init__(self, image: Image.Image | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._picture = image

    @property
    def image(self) -> Image.Image | None:
        return self._picture

    @image.setter
    def image(self, picture: Image.Image | None) -> None:
        self.show(picture)

    def prepare(self, strips: list[Strip]) -> None:
        """Take lines drawn beforehand (in a worker, see `render_strips`) and take their size."""
        width, height = (strips[0].cell_length if strips else 0), len(strips)
        self._own = (self._picture, (width, height), strips)
        self.styles.width, self.styles.height = width, height

    def on_unmount(self) -> None:
        vars(self).pop("_own", None)  # its lines go now by reference counting, not with the widget (tui/app.py)

    def show(self, picture: Image.Image | None) -> None:
        """Show a picture (its lines are drawn at the next repaint, or taken from `prepare`)."""
        if picture is self._picture:
            return
        self._picture = picture
        self.refresh()

    def _strips(self, picture: Image.Image, width: int, height: int) -> list[Strip]:
        mine = getattr(self, "_own", None)  # this picture's lines, at this size, kept on the widget
        if mine is not None and mine[0] is picture and mine[1] == (width, height):
            return mine[2]
        strips = self.render_strips(self.app.console, picture, width, height)
        self._own = (picture, (width, height), strips)
        return strips

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        picture = self._picture
        if picture is None or width <= 0 or height <= 0:
            return Strip.blank(width)
        strips = self._strips(picture, width, height)
        return strips[y] if y < len(strips) else Strip.blank(width)


def grid_image_class(mode: str):
    """The widget class for thumbnails in the scrolling grid.

    Graphics protocols smear and linger when a Textual grid scrolls (textual-image's
    own README), so `auto` draws coloured half-block cells there, except on a kitty
    0.28 or later, where the Kitty protocol was seen clean (`AUTO_GRID_KITTY`); the
    large view uses the best protocol. Forcing kitty or sixel is the user's choice.
    """
    auto = TGPImage if AUTO_GRID_KITTY else CachedHalfcellImage
    return {"kitty": TGPImage, "sixel": CleanSixelImage, "halfcell": CachedHalfcellImage, "auto": auto}.get(mode)


def large_image_class(mode: str) -> type[PictureWidget] | None:
    best: type[PictureWidget] = (CleanSixelImage if AutoImage is SixelImage else HalfcellImage if AUTO_FALLS_BACK
                                 else AutoImage)
    classes: dict[str, type[PictureWidget]] = {"kitty": TGPImage, "sixel": CleanSixelImage, "halfcell": HalfcellImage,
                                               "auto": best}
    return classes.get(mode)


def large_draws_cells(mode: str) -> bool:
    """The large view draws half-block cells (forced, or what `auto` chose): they can be drawn in a worker."""
    return mode == "halfcell" or (mode == "auto" and (AutoRenderable is HalfcellRenderable or AUTO_FALLS_BACK))


def cell_console() -> Console:
    """A console of its own for drawing cells on a worker thread, never the app's."""
    return Console(width=400, height=200, color_system="truecolor", force_terminal=True, legacy_windows=False,
                   file=io.StringIO())


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


def grid_picture(record: ImageRecord) -> Path | tuple[Path, ...]:
    """What a half-cell card reads for its record's picture (the first element of its thumbnail keys): the mini, made
    to the size the grid draws (GRID_PIXELS) and read ten times faster than the thumbnail, then the thumbnail where
    the mini is not made yet or cannot be read (`ThumbnailCache.get` tries them in turn). The Kitty and Sixel modes
    read the thumbnail."""
    return record.thumbnail_path if record.mini_path is None else (record.mini_path, record.thumbnail_path)


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


PICTURES_OFF = "(image not shown: pictures are off, --images none)"


def why_not_shown(path: Path) -> str:
    """Why a picture `load_picture` gave None for is not shown, in one line (read again to find out: called only
    after a failure, in a worker). It said "--images none, or the file cannot be read" for both."""
    try:
        with Image.open(path) as source:
            source.load()
    except FileNotFoundError:
        gone = folder_gone(path)  # a source folder renamed or not mounted: said so, not "missing"
        return f"(image not shown: {gone})" if gone else f"(image not shown: its file is missing: {path})"
    except Image.DecompressionBombError:
        return "(image not shown: the picture is too large to open safely)"
    except OSError as exc:
        if exc.strerror:
            return f"(image not shown: its file cannot be read: {exc.strerror})"
        return "(image not shown: its file is not a picture that can be read)"
    except ValueError:
        return "(image not shown: its file is not a picture that can be read)"
    return "(image not shown: its file cannot be read)"


def load_full_picture(path: Path) -> Image.Image | None:
    """The whole picture at its own size (RGB; transparency on the checkerboard), or None if unreadable."""
    try:
        with Image.open(path) as source:
            picture = source.copy()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    if picture.mode not in ("RGB", "RGBA"):
        picture = picture.convert("RGBA" if "transparency" in picture.info or "A" in picture.mode else "RGB")
    return on_checkerboard(picture, square=8)


def cell_pixels(draws_cells: bool) -> tuple[int, int]:
    """The picture pixels one terminal cell shows at 1:1: half-block cells are 1 x 2; a graphics protocol
    (Kitty, Sixel) shows the terminal's own cell size, as textual-image measured it (VT340's 10 x 20 when the
    terminal does not say)."""
    if draws_cells:
        return 1, 2
    try:
        from textual_image._terminal import get_cell_size  # textual-image's own measure; no public one

        size = get_cell_size()
        return max(1, size.width), max(1, size.height)
    except Exception:  # noqa: BLE001 - no terminal (tests, a pipe)
        return 10, 20


def zoom_window(picture_size: tuple[int, int], box_cells: tuple[int, int], cell: tuple[int, int],
                centre: tuple[float, float]) -> tuple[int, int, int, int]:
    """The part of a picture a box shows at 1:1, around `centre` (fractions of the picture), clamped inside
    it: (left, top, right, bottom) in picture pixels."""
    width, height = picture_size
    view_w = min(width, max(1, box_cells[0] * cell[0]))
    view_h = min(height, max(1, box_cells[1] * cell[1]))
    left = round(centre[0] * width - view_w / 2)
    top = round(centre[1] * height - view_h / 2)
    left = max(0, min(left, width - view_w))
    top = max(0, min(top, height - view_h))
    return left, top, left + view_w, top + view_h
