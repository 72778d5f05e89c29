"""Thumbnail lines kept as plain data the garbage collector does not walk, made into Segments again to draw.

A thumbnail drawn as half-block cells is a Segment per run of cells, each with a rich Style holding two Colors
(each with its ColorTriplet): about six objects the collector tracks per run. The grid kept 160 drawn
thumbnails that way, and at 160x48 they were 130,000 of the app's 230,000 tracked objects, walked by every
full collection on the UI thread and by the deep one after a long pause (issue 11).

Packed, a line is a plain tuple `(text, colours, text, colours, ...)`: `colours` is an int (the foreground's
0xRRGGBB shifted 24 bits left, or'ed with the background's) for a picture's cells, a style's text for anything
else (a label's "dim"), or None. CPython's collector stops tracking a tuple of only strings, ints and None at
the first collection that sees it, and then a tuple of such tuples.
"""
from __future__ import annotations

from typing import Iterable, Union

import numpy as np
from PIL import Image
from rich.color import Color, ColorType
from rich.color_triplet import ColorTriplet
from rich.segment import Segment
from rich.style import Style

Line = tuple  # (text, colours, text, colours, ...): see the module's text
Colours = Union[int, str, None]

_TRUECOLOR = ColorType.TRUECOLOR


def _rgb(color: Color | None) -> int | None:
    """A true colour as 0xRRGGBB (None for any other kind)."""
    if color is None or color.type is not _TRUECOLOR or color.triplet is None:
        return None
    red, green, blue = color.triplet
    return red << 16 | green << 8 | blue


def colours_of(style: Style | None) -> Colours:
    """What a packed line keeps of a segment's style (see the module's text)."""
    if style is None:
        return None
    fg, bg = _rgb(style.color), _rgb(style.bgcolor)
    if fg is not None and bg is not None and style == Style.from_color(style.color, style.bgcolor):
        return fg << 24 | bg
    return str(style)


def pack(segments: Iterable[Segment]) -> Line:
    """A line of Segments as plain data."""
    items: list = []
    for text, style, _ in segments:
        items += (text, colours_of(style))
    return tuple(items)


def halfcell(picture: Image.Image, width: int, height: int) -> tuple[Line, ...]:
    """A picture drawn in `width` x `height` half-block cells ("▀", the upper pixel the foreground, the lower one
    the background), packed: what textual-image's half-cell renderer gives, simplified and packed (the picture scaled
    to width x 2*height with Pillow's default filter, a run of cells of one colour pair one item), made from the
    pixels in a few array operations instead of a rich Style and two Colors per cell (3.6 ms a thumbnail of 27x14
    cells, most of the time the grid took to show a screen of pictures not drawn before); the runs of every row are
    found at once, not row by row (half the time on a picture of varied colours, 0.22 -> 0.11 ms at 21x14 cells)."""
    rgb_picture = picture if picture.mode == "RGB" else picture.convert("RGB")
    pixels = np.asarray(rgb_picture.resize((width, 2 * height)), dtype=np.uint64)
    rgb = pixels[..., 0] << 16 | pixels[..., 1] << 8 | pixels[..., 2]
    cells = rgb[0::2] << 24 | rgb[1::2]  # (height, width): the foreground's 0xRRGGBB << 24 | the background's
    # every run of the picture at once: where a row starts or its colours change, and how far to the next such place
    # (a row's last run ends where the next row starts: every row starts one)
    starts = np.ones(cells.shape, dtype=bool)
    starts[:, 1:] = cells[:, 1:] != cells[:, :-1]
    places = np.flatnonzero(starts)
    runs = np.diff(places, append=cells.size).tolist()
    colours = cells.ravel()[places].tolist()
    ends = np.cumsum(starts.sum(axis=1)).tolist()
    lines = []
    first = 0
    for end in ends:
        items: list = []
        for run, pair in zip(runs[first:end], colours[first:end]):
            items += ("▀" * run, pair)
        lines.append(tuple(items))
        first = end
    return tuple(lines)


_MISSING = object()
_tuple = tuple.__new__  # the named tuples below made without their generated __new__, a Python call each


def _color(rgb: int) -> Color:
    """The Color that Color.from_triplet makes (its name "#rrggbb", as ColorTriplet.hex writes it), made in a third of
    the time: a picture of varied colours has two new ones per cell, 1.2 of the 1.7 ms a thumbnail took to unpack."""
    triplet = _tuple(ColorTriplet, (rgb >> 16, rgb >> 8 & 0xFF, rgb & 0xFF))
    return _tuple(Color, (f"#{rgb:06x}", _TRUECOLOR, None, triplet))


def unpack(lines: Iterable[Line]) -> list[list[Segment]]:
    """Packed lines (a thumbnail's) as Segments again, one Style per colour pair among them. One loop with nothing
    called per run but what makes a new Style, Color or Segment (each Segment without its generated __new__): a
    picture of varied colours has a new colour pair in most of its runs (300 at 21x14 cells)."""
    styles: dict[Colours, Style | None] = {None: None}
    colors: dict[int, Color] = {}
    from_color = Style.from_color
    made = []
    for line in lines:
        segments = []
        for i in range(0, len(line), 2):
            colours = line[i + 1]
            style = styles.get(colours, _MISSING)
            if style is _MISSING:
                if isinstance(colours, str):
                    style = Style.parse(colours)
                else:
                    fg, bg = colours >> 24, colours & 0xFFFFFF
                    fg_color = colors.get(fg)
                    if fg_color is None:
                        fg_color = colors[fg] = _color(fg)
                    bg_color = colors.get(bg)
                    if bg_color is None:
                        bg_color = colors[bg] = _color(bg)
                    style = from_color(fg_color, bg_color)
                styles[colours] = style
            segments.append(_tuple(Segment, (line[i], style, None)))
        made.append(segments)
    return made
