"""textual-image's Sixel widget, with the three faults it has in real terminals (xterm, mlterm) put right.

textual-image 0.12 is the last release for Python 3.11; these are fixed here, in a subclass, rather than in a
copy of it:

1. After drawing, it leaves the cursor on the row *below* the picture, so the rest of the picture's last text
   row is written one row too low and never repainted: closing a modal left a line of it per picture row
   (textual-image issue 146). The cursor is put back at the end of the picture's last row.
2. Each picture ends with a graphics new line (`-`), which moves the terminal's cursor below the picture; a
   picture reaching the screen's last row then scrolls the whole screen up one line. The last `-` is dropped,
   and the picture is cut to whole six-pixel bands (at most five pixel rows) so no band reaches past it.
3. Colour registers are defined inline, each right before its first use; xterm then draws some pixels with a
   register's previous colour (a wrong band at the top of a picture, streaks in photos). All registers are
   defined first, right after the raster attributes, as ImageMagick and libsixel write them.
4. Pictures are encoded while drawing, on the UI thread (15-25 ms each on a quiet machine, 40-160 ms under
   load), and again whenever a card shows another picture (the widget is composed anew): scrolling a grid of
   Sixel cards stalled the app for a second and showed old text with blank pictures. Pictures are encoded on
   a worker thread and kept (`ENCODED_KEPT`, shared by every widget); the cells stay blank until then.
"""
from __future__ import annotations

import re

from PIL import Image as PILImage
from rich.control import Control
from rich.segment import ControlType, Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.dom import NoScreen
from textual.geometry import Region
from textual.strip import Strip
from textual.worker import get_current_worker
from textual_image._geometry import ImageSize
from textual_image._pixeldata import PixelData
from textual_image._sixel import image_to_sixels
from textual_image._terminal import get_cell_size
from textual_image.widget.sixel import Image as SixelImage, _ImageSixelImpl, _NoopRenderable

from .lru import LRU

BAND = 6  # pixel rows per sixel band
_REGISTER = re.compile(r"#(\d+);2;\d+;\d+;\d+")
_RASTER = re.compile(r'"\d+;\d+;\d+;\d+')
_NULL = Style()
ENCODED_KEPT = 96  # encoded pictures kept, shared by every Sixel widget: several pages of cards (~20 KB each)
_encoded: LRU[tuple, tuple[PILImage.Image, str]] = LRU(ENCODED_KEPT)  # the picture is kept with its data, so
# its id (in the key) is not reused meanwhile


def encoded(key: tuple, image: PILImage.Image) -> str | None:
    """The Sixel data encoded before for this picture (the very object: `key` holds its id) at this size."""
    found = _encoded.get(key)
    return found[1] if found is not None and found[0] is image else None


def remember(key: tuple, image: PILImage.Image, sixel_data: str) -> None:
    _encoded.put(key, (image, sixel_data))


def clean_sixels(data: str) -> str:
    """A Sixel image with every colour register defined before any pixel, and no graphics new line at its end."""
    match = _RASTER.search(data)
    if match is None:
        return data
    head, body = data[:match.end()], data[match.end():]
    registers = "".join(m.group(0) for m in _REGISTER.finditer(body))
    body = _REGISTER.sub(r"#\1", body)
    if body.endswith("-\x1b\\"):
        body = body[:-3] + "\x1b\\"
    return head + registers + body


def encode(image: PILImage.Image, options=None, background=None) -> str:
    """The picture as Sixel data, cut to whole six-pixel bands (see the module's note)."""
    whole = image.height - image.height % BAND
    if 0 < whole < image.height:
        image = image.crop((0, 0, image.width, whole))
    return clean_sixels(image_to_sixels(image, options, background))


class _CleanSixelImpl(_ImageSixelImpl):
    # textual-image's own rule names another class (`_ImageData`), so the part kept its first size
    DEFAULT_CSS = "_CleanSixelImpl { width: 100%; height: 100%; }"
    _pending: tuple | None = None  # the key being encoded on a worker thread

    def render_lines(self, crop: Region) -> list[Strip]:
        """Blank cells under the picture, then the picture: text left there before (a modal's) is erased even
        where the picture does not reach (the last pixel rows, cut to whole bands). A picture not encoded yet
        is encoded on a thread (fix 4); its cells stay blank until then."""
        image = self.image  # a small PIL image: the app hands the widgets no files (widgets/thumbnails.py)
        try:
            if not isinstance(image, PILImage.Image) or not self.screen.is_active:
                return []
        except NoScreen:
            return []
        key = (id(image), crop, self.content_size, get_cell_size(), repr(self._sixel_options),
               self._get_background_rgba())
        blank = Strip.blank(crop.width, self.rich_style)
        sixel_data = encoded(key, image)
        if sixel_data is None:
            self._encode_later(key, image, crop)
            return [blank] * crop.height
        return [blank] * (crop.height - 1) + [Strip([*blank, *self._get_sixel_segments(sixel_data)], crop.width)]

    def _encode_later(self, key: tuple, image: PILImage.Image, crop: Region) -> None:
        if self._pending == key:
            return
        self._pending = key
        cell, background = key[3], key[5]
        # the size is taken here, from the widget; the worker touches no widget (this one may be gone by then)
        parent = self.parent
        assert isinstance(parent, SixelImage)  # composed by CleanSixelImage below (textual-image asserts it too)
        styled_width, styled_height = parent._get_styled_size()
        size = ImageSize(image.width, image.height, width=styled_width, height=styled_height).get_pixel_size(
            self.content_size.width, self.content_size.height, cell)
        self.run_worker(lambda: self._encode(key, image, size, crop, cell, background), thread=True,
                        exclusive=True, group="sixel-encode", exit_on_error=False)

    def _encode(self, key: tuple, image, size: tuple[int, int], crop: Region, cell, background) -> None:
        """On a worker thread: the picture (a PIL image) scaled, cut to what shows, encoded."""
        pixels = self._crop_image(PixelData(image).scaled(*size), crop, cell)
        sixel_data = encode(pixels.pil_image, self._sixel_options, background)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._encoded, key, image, sixel_data)

    def _encoded(self, key: tuple, image, sixel_data: str) -> None:
        remember(key, image, sixel_data)
        self._pending = None
        self.refresh()

    def _get_sixel_segments(self, sixel_data: str) -> list[Segment]:
        region = self.screen.find_widget(self).visible_region
        return [
            Segment(Control.move_to(region.x, region.y).segment.text, style=_NULL),
            Segment(sixel_data, style=_NULL, control=((ControlType.CURSOR_FORWARD, 0),)),
            # the end of the picture's last row, where the compositor goes on writing that row
            Segment(Control.move_to(region.right, region.bottom - 1).segment.text, style=_NULL),
        ]


class CleanSixelImage(SixelImage, Renderable=_NoopRenderable):
    """textual-image's Sixel widget drawing with `_CleanSixelImpl`."""

    def compose(self) -> ComposeResult:
        yield _CleanSixelImpl(self.image, self._sixel_options)
