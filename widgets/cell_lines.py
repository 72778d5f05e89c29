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
    cells, most of the time the grid took to show a screen of pictures not drawn before)."""
    pixels = np.asarray(picture.convert("RGB").resize((width, 2 * height)), dtype=np.uint64)
    rgb = pixels[..., 0] << 16 | pixels[..., 1] << 8 | pixels[..., 2]
    cells = rgb[0::2] << 24 | rgb[1::2]  # (height, width): the foreground's 0xRRGGBB << 24 | the background's
    lines = []
    for row in cells:
        starts = np.flatnonzero(np.concatenate(([True], row[1:] != row[:-1])))
        runs = np.diff(starts, append=width).tolist()
        items: list = []
        for run, colours in zip(runs, row[starts].tolist()):
            items += ("▀" * run, colours)
        lines.append(tuple(items))
    return tuple(lines)


_tuple = tuple.__new__  # the named tuples below made without their generated __new__, a Python call each


def _color(rgb: int) -> Color:
    """The Color that Color.from_triplet makes (its name "#rrggbb", as ColorTriplet.hex writes it), made in a third of
    the time: a picture of varied colours has two new ones per cell, 1.2 of the 1.7 ms a thumbnail took to unpack."""
    triplet = _tuple(ColorTriplet, (rgb >> 16, rgb >> 8 & 0xFF, rgb & 0xFF))
    return _tuple(Color, (f"#{rgb:06x}", _TRUECOLOR, None, triplet))


def unpack(lines: Iterable[Line]) -> list[list[Segment]]:
    """Packed lines (a thumbnail's) as Segments again, one Style per colour pair among them."""
    styles: dict[Colours, Style] = {}
    colors: dict[int, Color] = {}

    def style_of(colours: Colours) -> Style | None:
        if colours is None:
            return None
        style = styles.get(colours)
        if style is None:
            if isinstance(colours, str):
                style = Style.parse(colours)
            else:
                fg, bg = colours >> 24, colours & 0xFFFFFF
                fg_color = colors.get(fg) or colors.setdefault(fg, _color(fg))
                bg_color = colors.get(bg) or colors.setdefault(bg, _color(bg))
                style = Style.from_color(fg_color, bg_color)
            styles[colours] = style
        return style

    return [[Segment(line[i], style_of(line[i + 1])) for i in range(0, len(line), 2)] for line in lines]
