"""A dialog's backdrop, the screen under it dimmed, drawn without working out every cell's colours again (issue 11).

A dialog (a ModalScreen) has a translucent background (`$background 60%`): Textual draws under it the screen below,
every segment's colours blended with that background (`BackgroundScreen`: two Textual Colors, a blend and a rich
Style per segment, then the screen's own style added, through Rich's rendering into lines). The gallery at 160x48
is some 7,000 segments (a thumbnail is a segment per cell, most of them colours of their own), and a dialog's first
paint drew it twice (the screen shown, then its size given): 95-160 ms of the UI thread at 100,000 images, every
dialog (info, prompt, delete, collections, help, trash, progress).

Here the same lines are made from the lower screen's lines, each distinct style dimmed once (a thumbnail's two
colours blended with integer arithmetic where the result is plain colours, Textual's own code for any other style)
and kept for the next paint and the next dialog of the same look (every dialog has the same: a thumbnail's colours
are dimmed once, not again by each dialog opened over them; issue 11): the cells are the same as Textual's
(tests/test_dialogs.py compares them segment by segment). Anything unusual (a lower screen of another width, a
control segment) is drawn Textual's way.
"""
from __future__ import annotations

import operator
from typing import Sequence
from rich.color import Color as RichColor, ColorType
from rich.color_triplet import ColorTriplet
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.color import Color
from textual.css.styles import RulesMap
from textual.filter import ANSIToTruecolor, LineFilter
from textual.renderables.background_screen import BackgroundScreen
from textual.screen import Screen
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, RichVisual, Visual
from textual.widget import Widget

KEPT = 20_000  # dimmed styles kept between paints (a screen of thumbnails has some 4,000 colour pairs)
LOOKS_KEPT = 4  # looks whose dimmed styles are kept (one, unless the theme changes)

_TRUECOLOR = ColorType.TRUECOLOR
_HEX = [f"{value:02x}" for value in range(256)]
_installed = False


class Look:
    """What one look (the dimming colour, the dialog screen's base style and link style) makes of each style and
    colour: worked out once, kept for every dialog of that look (at most KEPT styles)."""

    def __init__(self, look: tuple) -> None:
        self.styles: dict[RichStyle | None, RichStyle] = {}
        self.colours: dict[RichColor, RichColor] = {}
        self.stable: set[RichStyle] = set()  # dimmed styles Textual's ANSI filter leaves as they are (`AnsiSkipped`)
        color, base, _ = look
        self.plain_base = not (base.link or base.meta) and base == RichStyle.from_color(base.color, base.bgcolor)
        # each channel's value blended with the dimming colour, as `Color.blend` does it (`_colour`)
        r2, g2, b2, factor = color.r, color.g, color.b, color.a
        self.channels = tuple([int(v + (other - v) * factor) for v in range(256)] for other in (r2, g2, b2))


_looks: dict[tuple, Look] = {}  # the looks seen, the last used last (the UI thread's)


def look_of(look: tuple) -> Look:
    kept = _looks.pop(look, None)
    if kept is None or len(kept.styles) > KEPT:
        kept = Look(look)
    _looks[look] = kept
    while len(_looks) > LOOKS_KEPT:
        del _looks[next(iter(_looks))]
    return kept


class DimmedStyles:
    """One dialog screen's backdrop: its look's dimmed styles (`Look`, shared by the dialogs of that look), and the
    lines of its last paint, whose segments a paint that finds the same ones again takes as they are."""

    def __init__(self) -> None:
        self.look: tuple | None = None
        self._look: Look | None = None
        self.last: list[tuple[list[Segment], Strip]] = []  # the last paint: each line's segments and its dimmed line
        self.filters: dict[LineFilter, LineFilter] = {}  # Textual's ANSI filter -> this screen's `AnsiSkipped`

    @property
    def stable(self) -> set[RichStyle]:
        return self._look.stable if self._look is not None else set()

    def of(self, look: tuple) -> dict[RichStyle | None, RichStyle]:
        if look != self.look or self._look is None or len(self._look.styles) > KEPT:
            if look != self.look:
                self.last = []
            self.look, self._look = look, look_of(look)
        return self._look.styles

    def dimmed(self, style: RichStyle | None) -> RichStyle:
        """What Textual draws for a segment of this style under the dialog: `BackgroundScreen`'s blend, then the
        screen's base style and links as `Widget.post_render` adds them."""
        assert self.look is not None and self._look is not None
        color, base, link = self.look
        dimmed = self._plain(style, color) if self._look.plain_base and color.ansi is None and not color.auto else None
        if dimmed is None:
            (segment,) = BackgroundScreen.process_segments([Segment(" ", style)], color)
            dimmed = segment.style
            if base:
                dimmed = base + dimmed
            if link and dimmed is not None and "@click" in dimmed.meta:
                dimmed = dimmed + link
            assert dimmed is not None
        if _ansi_leaves(dimmed):
            self._look.stable.add(dimmed)
        return dimmed

    def _plain(self, style: RichStyle | None, color: Color) -> RichStyle | None:
        """A style of two true colours and nothing else under a base of nothing but colours (a thumbnail's cell under
        a dialog): the same result, the colours blended here (as `Color.blend` does) and kept, a Style made once."""
        if style is None or style != RichStyle.from_color(style.color, style.bgcolor):
            return None
        fg, bg = self._colour(style.color, color), self._colour(style.bgcolor, color)
        if fg is None or bg is None:
            return None
        return RichStyle.from_color(fg, bg)

    def _colour(self, rich_color: RichColor | None, color: Color) -> RichColor | None:
        if rich_color is None or rich_color.type is not _TRUECOLOR or rich_color.triplet is None:
            return None
        assert self._look is not None
        colours = self._look.colours
        dimmed = colours.get(rich_color)
        if dimmed is None:
            r1, g1, b1 = rich_color.triplet
            reds, greens, blues = self._look.channels
            r, g, b = reds[r1], greens[g1], blues[b1]
            dimmed = colours[rich_color] = RichColor("#" + _HEX[r] + _HEX[g] + _HEX[b], _TRUECOLOR, None,
                                                     ColorTriplet(r, g, b))
        return dimmed


def _ansi_leaves(style: RichStyle) -> bool:
    """Textual's ANSI filter (`ANSIToTruecolor.truecolor_style`) returns this style as it is: its colours are true
    colours and it is not dim with a colour."""
    color, bgcolor = style.color, style.bgcolor
    return ((color is None or color.triplet is not None) and (bgcolor is None or bgcolor.triplet is not None)
            and not (style.dim and color is not None))


class AnsiSkipped(LineFilter):
    """Textual's ANSI filter for a dialog's screen: a line made of dimmed styles it would leave as they are
    (`DimmedStyles.stable`, the whole backdrop but for ANSI themes) is left as it is without a look at each segment
    (it looked each one up in a cache of 1,024 styles, too few for a screen of thumbnails); any other line goes
    through it."""

    def __init__(self, ansi: ANSIToTruecolor, styles: DimmedStyles) -> None:
        super().__init__(enabled=ansi.enabled)
        self._ansi = ansi
        self._styles = styles

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        stable = self._styles.stable
        if all(style in stable for _, style, _ in segments):
            return segments
        return self._ansi.apply(segments, background)


class DimmedScreen(Visual):
    """The screen under a dialog, dimmed: what Textual's `BackgroundScreen` draws, made quicker (see the module)."""

    def __init__(self, widget: Widget, below: Screen, color: Color, styles: DimmedStyles) -> None:
        self._widget = widget
        self._below = below
        self._color = color
        self._styles = styles

    def _textual(self) -> RichVisual:
        return RichVisual(self._widget, BackgroundScreen(self._below, self._color))

    def render_strips(self, width: int, height: int | None, style: Style, options: RenderOptions) -> list[Strip]:
        widget = self._widget
        link = widget.link_style if widget.auto_links else None
        look = (self._color, style.rich_style, link)
        styles = self._styles.of(look)
        dimmed = self._styles.dimmed
        # (what Textual's BackgroundScreen renders too: the lower screen's compositor, the whole screen)
        lines = self._below._compositor.render_strips()[:height]
        last = self._styles.last
        made: list[tuple[list[Segment], Strip]] = []
        for y, line in enumerate(lines):
            if line.cell_length != width:  # cropped or left short by Rich: drawn Textual's way
                self._styles.last = []
                return self._textual().render_strips(width, height, style, options)
            below = list(line)
            if y < len(last) and len(last[y][0]) == len(below) and all(map(operator.is_, last[y][0], below)):
                made.append(last[y])  # the same segments as at the last paint: the same line
                continue
            segments = []
            for text, segment_style, control in below:
                if control or "\n" in text:
                    self._styles.last = []
                    return self._textual().render_strips(width, height, style, options)
                new = styles.get(segment_style)
                if new is None:
                    new = styles[segment_style] = dimmed(segment_style)
                segments.append(Segment(text, new))
            made.append((below, Strip(segments, width)))
        self._styles.last = made
        return [strip for _, strip in made]

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return self._textual().get_optimal_width(rules, container_width)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return self._textual().get_height(rules, width)


def install() -> None:
    """Screens draw the screen under them through `DimmedScreen` (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    render = Screen.render
    get_line_filters = Screen.get_line_filters

    def render_dimmed(self: Screen):
        renderable = render(self)
        if type(renderable) is BackgroundScreen:
            return DimmedScreen(self, renderable.screen, renderable.color, _styles_of(self))
        return renderable

    def line_filters(self: Widget) -> Sequence[LineFilter]:
        filters = get_line_filters(self)
        if self.styles.background.a >= 1:  # opaque: no backdrop
            return filters
        styles = _styles_of(self)  # (a Screen: the method is set on Screen)
        return [styles.filters.setdefault(f, AnsiSkipped(f, styles)) if type(f) is ANSIToTruecolor else f
                for f in filters]

    render_dimmed.__doc__, line_filters.__doc__ = render.__doc__, get_line_filters.__doc__
    Screen.render = render_dimmed  # type: ignore[method-assign]
    Screen.get_line_filters = line_filters  # type: ignore[method-assign]


def _styles_of(screen: Widget) -> DimmedStyles:
    """A dialog screen's dimmed styles (they go with it)."""
    styles = screen.__dict__.get("_dimmed_styles")
    if styles is None:
        styles = screen.__dict__["_dimmed_styles"] = DimmedStyles()
    return styles
