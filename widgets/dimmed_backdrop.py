"""A dialog's backdrop, the screen under it dimmed, drawn without working out every cell's colours again (issue 11).

A dialog (a ModalScreen) has a translucent background (`$background 60%`): Textual draws under it the screen below,
every segment's colours blended with that background (`BackgroundScreen`: two Textual Colors, a blend and a rich
Style per segment, then the screen's own style added, through Rich's rendering into lines). The gallery at 160x48
is some 7,000 segments (a thumbnail is a segment per cell, most of them colours of their own), and a dialog's first
paint drew it twice (the screen shown, then its size given): 95-160 ms of the UI thread at 100,000 images, every
dialog (info, prompt, delete, collections, help, trash, progress).

Here the same lines are made from the lower screen's lines, each distinct style dimmed once per paint (a thumbnail's
two colours blended with integer arithmetic where the result is plain colours, Textual's own code for any other
style) and kept for the next paint of the same dialog: the cells are the same as Textual's (tests/test_dialogs.py
compares them segment by segment). Anything unusual (a lower screen of another width, a control segment) is drawn
Textual's way.
"""
from __future__ import annotations

from rich.color import Color as RichColor, ColorType
from rich.color_triplet import ColorTriplet
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.color import Color
from textual.css.styles import RulesMap
from textual.renderables.background_screen import BackgroundScreen
from textual.screen import Screen
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, RichVisual, Visual
from textual.widget import Widget

KEPT = 20_000  # dimmed styles kept between paints (a screen of thumbnails has some 4,000 colour pairs)

_TRUECOLOR = ColorType.TRUECOLOR
_installed = False


class DimmedStyles:
    """The dimmed style of each style drawn under a dialog, for one look (the dimming colour, the dialog screen's
    base style and link style): worked out once, kept while the look stays (at most KEPT)."""

    def __init__(self) -> None:
        self.look: tuple | None = None
        self._styles: dict[RichStyle | None, RichStyle] = {}
        self._colours: dict[RichColor, RichColor] = {}

    def of(self, look: tuple) -> dict[RichStyle | None, RichStyle]:
        if look != self.look or len(self._styles) > KEPT:
            self.look, self._styles, self._colours = look, {}, {}
        return self._styles

    def dimmed(self, style: RichStyle | None) -> RichStyle:
        """What Textual draws for a segment of this style under the dialog: `BackgroundScreen`'s blend, then the
        screen's base style and links as `Widget.post_render` adds them."""
        assert self.look is not None
        color, base, link = self.look
        plain = self._plain(style, color, base) if color.ansi is None and not color.auto else None
        if plain is not None:
            return plain
        (segment,) = BackgroundScreen.process_segments([Segment(" ", style)], color)
        dimmed = segment.style
        if base:
            dimmed = base + dimmed
        if link and dimmed is not None and "@click" in dimmed.meta:
            dimmed = dimmed + link
        assert dimmed is not None
        return dimmed

    def _plain(self, style: RichStyle | None, color: Color, base: RichStyle) -> RichStyle | None:
        """A style of two true colours and nothing else under a base of nothing but colours (a thumbnail's cell under
        a dialog): the same result, the colours blended here (as `Color.blend` does) and kept, a Style made once."""
        if (style is None or style != RichStyle.from_color(style.color, style.bgcolor) or base.link or base.meta
                or base != RichStyle.from_color(base.color, base.bgcolor)):
            return None
        fg, bg = self._colour(style.color, color), self._colour(style.bgcolor, color)
        if fg is None or bg is None:
            return None
        return RichStyle.from_color(fg, bg)

    def _colour(self, rich_color: RichColor | None, color: Color) -> RichColor | None:
        if rich_color is None or rich_color.type is not _TRUECOLOR or rich_color.triplet is None:
            return None
        dimmed = self._colours.get(rich_color)
        if dimmed is None:
            r1, g1, b1 = rich_color.triplet
            r2, g2, b2, factor, _, _ = color
            r, g, b = int(r1 + (r2 - r1) * factor), int(g1 + (g2 - g1) * factor), int(b1 + (b2 - b1) * factor)
            dimmed = self._colours[rich_color] = RichColor(f"#{r:02x}{g:02x}{b:02x}", _TRUECOLOR, None,
                                                           ColorTriplet(r, g, b))
        return dimmed


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
        strips = []
        for line in lines:
            if line.cell_length != width:  # cropped or left short by Rich: drawn Textual's way
                return self._textual().render_strips(width, height, style, options)
            segments = []
            for text, segment_style, control in line:
                if control or "\n" in text:
                    return self._textual().render_strips(width, height, style, options)
                new = styles.get(segment_style)
                if new is None:
                    new = styles[segment_style] = dimmed(segment_style)
                segments.append(Segment(text, new))
            strips.append(Strip(segments, width))
        return strips

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

    def render_dimmed(self: Screen):
        renderable = render(self)
        if type(renderable) is BackgroundScreen:
            styles = self.__dict__.setdefault("_dimmed_styles", DimmedStyles())
            return DimmedScreen(self, renderable.screen, renderable.color, styles)
        return renderable

    render_dimmed.__doc__ = render.__doc__
    Screen.render = render_dimmed  # type: ignore[method-assign]
