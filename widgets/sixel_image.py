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
"""
from __future__ import annotations

import re

from PIL import Image as PILImage
from rich.control import Control
from rich.segment import ControlType, Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from textual_image._sixel import image_to_sixels
from textual_image.widget.sixel import Image as SixelImage, _ImageSixelImpl, _NoopRenderable

BAND = 6  # pixel rows per sixel band
_REGISTER = re.compile(r"#(\d+);2;\d+;\d+;\d+")
_RASTER = re.compile(r'"\d+;\d+;\d+;\d+')
_NULL = Style()


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

    def render_lines(self, crop: Region) -> list[Strip]:
        """Blank cells under the picture, then the picture: text left there before (a modal's) is erased even
        where the picture does not reach (the last pixel rows, cut to whole bands)."""
        lines = super().render_lines(crop)
        if not lines:
            return lines
        blank = Strip.blank(crop.width, self.rich_style)
        last = lines[-1]
        return [blank] * (len(lines) - 1) + [Strip([*blank, *last], crop.width)]

    def _image_to_sixels(self, image, sixel_options=None, background=None) -> str:
        return encode(image, sixel_options, background)

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
