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
are dimmed once, not again by each dialog opened over them; issue 11; at most KEPT of them, the least recently seen
on a screen going one for each new one: `Blend`): the cells are the same as Textual's
(tests/test_dialogs.py compares them segment by segment). Anything unusual (a lower screen of another width, a
control segment) is drawn Textual's way.

The first dialog over a screen of new pictures still dimmed their colours at its first paint (about 20 ms of it at
160x48): `DimAhead` dims them before, while the app is idle after the screen changed, a few milliseconds at a time:
the thumbnails on screen soon after new ones were drawn (`dim_later`: from their own lines, 0.05 s without a key),
the rest of the screen (text, borders) once idle for longer (0.3 s: it reads the whole screen). The lines a backdrop
is made of are kept per look (`Look.last`): the next dialog over the same screen takes them, with what Textual's
line filters made of them (kept on each line).

The lines of the screen below are read from its compositor (`screen_lines`: `Screen._compositor.render_strips()`),
Textual's private API: its own `BackgroundScreen` reads them the same way, and Textual 8.2 has no public way to get
a screen's lines as drawn (`App.export_screenshot` reads the same attribute, for the top screen only, as SVG; each
widget's `render_lines` is public, but the screen's lines are those cut where widgets cover each other, which only
the compositor knows). `COMPOSITOR_READ` says whether this Textual still has it (tests/test_dialogs.py fails
loudly if not); without it a dialog draws the screen below Textual's way and nothing is dimmed ahead from the whole
screen (the thumbnails just drawn still are, from their own lines): slower, never a crash.
"""
from __future__ import annotations

import inspect
import operator
import time
from collections import OrderedDict, deque
from typing import TYPE_CHECKING, Callable, Iterable, Sequence
from rich.color import Color as RichColor, ColorType
from rich.color_triplet import ColorTriplet
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.color import Color, ColorParseError
from textual.css.styles import RulesMap
from textual.filter import ANSIToTruecolor, LineFilter
from textual.renderables.background_screen import BackgroundScreen
from textual.screen import Screen
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, RichVisual, Visual
from textual.widget import Widget

from .colour_codes import make_style_codes

if TYPE_CHECKING:
    from textual._compositor import Compositor
    from textual.app import App
    from textual.timer import Timer

DIALOG_ALPHA = 0.6  # a dialog's screen is its theme's background at 60% (Textual's ModalScreen: `$background 60%`)
AHEAD_AFTER = 0.3  # seconds without a key, a click or a change of the screen before its colours are dimmed ahead
AHEAD_SOON = 0.05  # the same for the thumbnails on screen once new ones are drawn (`dim_later`): no whole screen
AHEAD_COLLECT = 0.002  # seconds spent gathering the styles of thumbnails just drawn, in one turn of the event loop
DRAWN_QUEUED = 64  # thumbnails shown and waiting to be dimmed ahead (more: the whole screen's pass finds them)
AHEAD_SLICE = 0.004  # seconds of dimming ahead in one turn of the event loop (a key waits no longer)
AHEAD_BATCH = 64  # styles dimmed between two looks at the clock
AHEAD_PAUSE = 0.01  # seconds between two slices (the event loop's other work goes first)
KEPT = 20_000  # dimmed styles kept per dimming colour (a screen of thumbnails has some 4,000 colour pairs): past it,
# each new one drops the one least recently seen on a screen (`Blend.plain`), so none is dropped in bulk
COLOURS_KEPT = 2 * KEPT  # dimmed colours kept (`Blend.colours`): past it, each new one drops the oldest
LOOKS_KEPT = 4  # looks whose dimmed styles are kept (one, unless the theme changes)

_TRUECOLOR = ColorType.TRUECOLOR
_style_of = operator.itemgetter(1)  # a Segment's style
_drawn: deque[list[list[Segment]]] = deque(maxlen=DRAWN_QUEUED)  # thumbnails' lines shown (`dim_later`)
_HEX = [f"{value:02x}" for value in range(256)]
_installed = False


def _compositor_class() -> type[Compositor] | None:
    """Textual's compositor, if it still draws a screen's lines with `render_strips(size=None)` (what `screen_lines`
    reads); else None."""
    try:
        from textual._compositor import Compositor
    except ImportError:
        return None
    method = Compositor.__dict__.get("render_strips")
    try:
        drawn = callable(method) and list(inspect.signature(method).parameters) == ["self", "size"]
    except (TypeError, ValueError):
        drawn = False
    return Compositor if drawn else None


_Compositor = _compositor_class()
COMPOSITOR_READ = _Compositor is not None  # this Textual's screens' lines can be read (`screen_lines`)


def screen_lines(screen: Screen) -> list[Strip] | None:
    """The lines a screen shows, as its compositor draws them (Textual's private API, see the module), or None when
    this Textual has no such thing (the caller then does without)."""
    compositor: Compositor | None = getattr(screen, "_compositor", None)
    if _Compositor is None or type(compositor) is not _Compositor:
        return None
    lines = compositor.render_strips()
    return lines if type(lines) is list and (not lines or type(lines[0]) is Strip) else None


class Blend:
    """What one dimming colour makes of true colours and of styles of two true colours and nothing else (a thumbnail's
    cell): worked out once, kept for every look of that colour, by the dialogs drawn and ahead of them (`DimAhead`).

    At most KEPT styles, the least recently seen on a screen going first (`seen`), one for each new one: the kept
    styles were dropped all at once when they filled (every few screens of new pictures on a million images),
    which was a stall of its own while scrolling, so the thumbnails just shown were no longer dimmed soon once
    they were nearly full, and a dialog opened soon after scrolling that far dimmed them at its first paint."""

    def __init__(self, color: Color) -> None:
        self.color = color
        self.colours: OrderedDict[RichColor, RichColor] = OrderedDict()  # the oldest first (at most COLOURS_KEPT)
        # a style seen -> its dimmed style when it is of two true colours and nothing else, else None (a style a
        # dialog dims Textual's way): the least recently seen on a screen first
        self.plain: OrderedDict[RichStyle | None, RichStyle | None] = OrderedDict()
        # the dimmed styles in `plain` by their id (each is a style of its own), which Textual's ANSI filter leaves
        # as they are (true colours, not dim): told by identity (`AnsiSkipped`), not hashed by the dialog's paint
        self.stable: dict[int, RichStyle] = {}
        self.dropped = 0  # styles dropped, the least recently seen (past KEPT)
        # each channel's value blended with the dimming colour, as `Color.blend` does it (`_colour`)
        r2, g2, b2, factor = color.r, color.g, color.b, color.a
        self.channels = tuple([int(v + (other - v) * factor) for v in range(256)] for other in (r2, g2, b2))

    def plain_style(self, style: RichStyle | None) -> RichStyle | None:
        """A style of two true colours and nothing else, dimmed: the colours blended here (as `Color.blend` does) and
        kept, a Style made once. None for any other style."""
        plain = self.plain
        dimmed = plain.get(style)
        if dimmed is not None or style in plain:
            return dimmed
        fg = bg = None
        # (what `style == RichStyle.from_color(style.color, style.bgcolor)` says, Style's equality being that of
        # these fields, without making a style to compare: a third of the time of a new colour pair)
        if (style is not None and not style._attributes and not style._set_attributes and style._link is None
                and style._meta is None):
            fg, bg = self._colour(style._color), self._colour(style._bgcolor)
        if style is not None and fg is not None and bg is not None:
            dimmed = RichStyle.from_color(fg, bg)
            self.stable[id(dimmed)] = dimmed
            make_style_codes((dimmed,))  # its terminal codes too, as a paint would (colour_codes.py)
        plain[style] = dimmed
        if len(plain) > KEPT:  # the one least recently seen goes (one for one: never a pile freed at once)
            _, gone = plain.popitem(last=False)
            if gone is not None:
                del self.stable[id(gone)]
            self.dropped += 1
        return dimmed

    def seen(self, styles: Iterable[RichStyle | None]) -> list[RichStyle]:
        """The styles of a screen shown: those kept become the most recently seen (the last to go), the others are
        returned (to be dimmed)."""
        plain = self.plain
        touch = plain.move_to_end
        new = []
        for style in styles:
            if style in plain:
                touch(style)
            elif style is not None:
                new.append(style)
        return new

    def _colour(self, rich_color: RichColor | None) -> RichColor | None:
        if rich_color is None or rich_color.type is not _TRUECOLOR or rich_color.triplet is None:
            return None
        colours = self.colours
        dimmed = colours.get(rich_color)
        if dimmed is None:
            r1, g1, b1 = rich_color.triplet
            reds, greens, blues = self.channels
            r, g, b = reds[r1], greens[g1], blues[b1]
            dimmed = colours[rich_color] = RichColor("#" + _HEX[r] + _HEX[g] + _HEX[b], _TRUECOLOR, None,
                                                     ColorTriplet(r, g, b))
            if len(colours) > COLOURS_KEPT:
                colours.popitem(last=False)
        return dimmed


_blends: dict[Color, Blend] = {}  # the dimming colours seen, the last used last


def dim_later(lines: list[list[Segment]]) -> None:
    """Lines of a thumbnail just shown (the gallery gives those of its cards on screen once new ones are drawn):
    their colours are dimmed ahead soon (`DimAhead`), without the look at the whole screen a dimming ahead after
    another change takes."""
    _drawn.append(lines)


def blend_of(color: Color) -> Blend:
    kept = _blends.pop(color, None)
    if kept is None:
        kept = Blend(color)
    _blends[color] = kept
    while len(_blends) > LOOKS_KEPT:
        del _blends[next(iter(_blends))]
    return kept


class Look:
    """What one look (the dimming colour, the dialog screen's base style and link style) makes of each style: worked
    out once, kept for every dialog of that look. A style of two true colours under a base of nothing but colours is
    its colour's `Blend`'s (`plain`: what was dimmed ahead comes with it), any other the look's own (`own`, at most
    KEPT, the oldest going first)."""

    def __init__(self, look: tuple) -> None:
        color, base, _ = look
        plain_base = not (base.link or base.meta) and base == RichStyle.from_color(base.color, base.bgcolor)
        self.blend = blend_of(color) if plain_base and color.ansi is None and not color.auto else None
        blend = self.blend
        self.plain: dict[RichStyle | None, RichStyle | None] = blend.plain if blend is not None else {}
        self.own: OrderedDict[RichStyle | None, RichStyle] = OrderedDict()  # the other styles dimmed, the oldest first
        # the dimmed styles in `own` that Textual's ANSI filter leaves as they are, by id (`AnsiSkipped`), and how
        # many of `own` have each (Rich's Style addition may answer two with the same style)
        self.stable: dict[int, RichStyle] = {}
        self._uses: dict[int, int] = {}
        # the last backdrop drawn in this look, by any dialog: each line's segments below and its dimmed line. A
        # dialog whose screen below shows the same segments takes the same lines, and with them what Textual's
        # line filters made of them (kept on each line: `Strip.apply_filter`): 10-15 ms of each dialog's first
        # paint at 160x48 after the first dialog
        self.last: list[tuple[list[Segment], Strip]] = []

    def keep(self, style: RichStyle | None, dimmed: RichStyle) -> None:
        """A style this look dims Textual's way (not its blend's): kept in `own`, the oldest going past KEPT."""
        own = self.own
        if style in own:
            return
        own[style] = dimmed
        if _ansi_leaves(dimmed):
            self.stable[id(dimmed)] = dimmed
            self._uses[id(dimmed)] = self._uses.get(id(dimmed), 0) + 1
        if len(own) > KEPT:
            _, gone = own.popitem(last=False)
            uses = self._uses.get(id(gone), 0) - 1
            if uses > 0:
                self._uses[id(gone)] = uses
            elif uses == 0:
                del self._uses[id(gone)], self.stable[id(gone)]


_looks: dict[tuple, Look] = {}  # the looks seen, the last used last (the UI thread's)


def look_of(look: tuple) -> Look:
    kept = _looks.pop(look, None)
    if kept is None or (kept.blend is not None and _blends.get(kept.blend.color) is not kept.blend):
        kept = Look(look)  # (its colour's blend was dropped since, one of too many colours: the new one's)
    _looks[look] = kept
    while len(_looks) > LOOKS_KEPT:
        del _looks[next(iter(_looks))]
    return kept


def forget() -> None:
    """Drop every dimmed style kept (a test starts from none)."""
    _looks.clear()
    _blends.clear()
    _skipping.clear()
    _painting.look = None


class DimmedStyles:
    """One dialog screen's backdrop: its look's dimmed styles (`Look`, shared by the dialogs of that look), and the
    lines of the look's last paint (`Look.last`), whose segments a paint that finds the same ones again takes as they
    are."""

    def __init__(self) -> None:
        self.look: tuple | None = None
        self._look: Look | None = None

    @property
    def last(self) -> list[tuple[list[Segment], Strip]]:
        return self._look.last if self._look is not None else []

    @last.setter
    def last(self, lines: list[tuple[list[Segment], Strip]]) -> None:
        if self._look is not None:
            self._look.last = lines

    def of(self, look: tuple) -> Look:
        if look != self.look or self._look is None:
            self.look, self._look = look, look_of(look)
        _painting.look = self._look
        return self._look

    def dimmed(self, style: RichStyle | None) -> RichStyle:
        """What Textual draws for a segment of this style under the dialog: `BackgroundScreen`'s blend, then the
        screen's base style and links as `Widget.post_render` adds them (kept: the look's blend's or its own)."""
        assert self.look is not None and self._look is not None
        color, base, link = self.look
        blend = self._look.blend
        dimmed = blend.plain_style(style) if blend is not None else None
        if dimmed is None:
            (segment,) = BackgroundScreen.process_segments([Segment(" ", style)], color)
            dimmed = segment.style
            if base:
                dimmed = base + dimmed
            if link and dimmed is not None and "@click" in dimmed.meta:
                dimmed = dimmed + link
            assert dimmed is not None
            self._look.keep(style, dimmed)
        return dimmed


def _ansi_leaves(style: RichStyle) -> bool:
    """Textual's ANSI filter (`ANSIToTruecolor.truecolor_style`) returns this style as it is: its colours are true
    colours and it is not dim with a colour."""
    color, bgcolor = style.color, style.bgcolor
    return ((color is None or color.triplet is not None) and (bgcolor is None or bgcolor.triplet is not None)
            and not (style.dim and color is not None))


class _Painting:
    look: Look | None = None  # the look of the backdrop drawn last (`DimmedStyles.of`): the one being filtered


_painting = _Painting()


class AnsiSkipped(LineFilter):
    """Textual's ANSI filter for dialogs' screens: a line made of dimmed styles it would leave as they are (the blend's
    and the look's `stable`, told by identity: the whole backdrop but for ANSI themes) is left as it is without a look
    at each segment (it looked each one up in a cache of 1,024 styles, too few for a screen of thumbnails); any other
    line goes through it. One per ANSI filter, shared by every dialog: what it made of a line is kept on the line
    (`Strip.apply_filter`), and the lines are shared by the dialogs of a look (`Look.last`)."""

    def __init__(self, ansi: ANSIToTruecolor) -> None:
        super().__init__(enabled=ansi.enabled)
        self._ansi = ansi

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        look = _painting.look
        if look is not None:
            # the styles' ids, less the blend's dimmed styles', then the look's own (in C, with no Style hashed: a
            # Python loop was 5 ms of a dialog's first paint)
            styles = set(map(id, map(_style_of, segments)))
            if look.blend is not None:
                styles = styles.difference(look.blend.stable)
            if not styles or look.stable.keys() >= styles:
                return segments
        return self._ansi.apply(segments, background)


_skipping: dict[LineFilter, AnsiSkipped] = {}  # Textual's ANSI filters -> theirs for dialogs (`AnsiSkipped`)


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
        kept = self._styles.of(look)
        plain, own, dimmed = kept.plain.get, kept.own.get, self._styles.dimmed
        # (what Textual's BackgroundScreen renders too: the lower screen's compositor, the whole screen)
        lines = screen_lines(self._below)
        if lines is None:  # (this Textual draws its screens otherwise: see the module)
            self._styles.last = []
            return self._textual().render_strips(width, height, style, options)
        lines = lines[:height]
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
                new = plain(segment_style)  # (a thumbnail's cell: its blend's)
                if new is None:
                    new = own(segment_style)
                    if new is None:
                        new = dimmed(segment_style)
                segments.append(Segment(text, new))
            made.append((below, Strip(segments, width)))
        self._styles.last = made
        return [strip for _, strip in made]

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return self._textual().get_optimal_width(rules, container_width)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return self._textual().get_height(rules, width)


class DimAhead:
    """The colours of the screen shown dimmed before a dialog asks for them (issue 11): the first dialog over the
    gallery dimmed its colours at its first paint (2,800 colour pairs of the bench's pictures at 160x48, about 20 ms
    of that one stall). Once the app has been idle for AHEAD_AFTER after the screen changed (`changed`: thumbnails
    drawn, another screen shown), the styles of its lines not dimmed yet are dimmed in slices of AHEAD_SLICE, each
    in a turn of the event loop of its own; a key, a click or a change of the screen drops what is left (it starts
    again once idle). They go into the `Blend` of the colour a dialog dims with (`dialog_colour`), which every look
    of that colour takes: the dialog's first paint then only looks them up. The same blend as a dialog's, so the
    same colours. Only the screens `wanted` (the gallery): a large picture's thousands of colours, dimmed ahead at
    each image viewed, would soon push the gallery's out of the blend (KEPT)."""

    def __init__(self, app: App, last_input: Callable[[], float], wanted: Callable[[Screen], bool]) -> None:
        self._app = app
        self._last_input = last_input  # when the last key or mouse event came (time.monotonic)
        self._wanted = wanted  # the screens whose colours are dimmed ahead
        self._timer: Timer | None = None
        self._todo: list[RichStyle] = []
        self._screen: Screen | None = None  # the screen the styles being dimmed are of
        self._blend: Blend | None = None
        self._colours: dict[str, Color | None] = {}  # the theme -> its dialogs' dimming colour
        self._whole_due = False  # the whole screen's styles are to be dimmed ahead (after a change), not only new
        # thumbnails'
        self.passes = 0  # passes that finished: the styles of the screen, as it was then, dimmed

    @property
    def busy(self) -> bool:
        """A pass is waiting for the app to be idle, or under way."""
        return self._timer is not None

    @property
    def pending(self) -> bool:
        """Styles of the screen, or thumbnails drawn, wait to be dimmed ahead."""
        return bool(_drawn) or bool(self._todo)

    def changed(self) -> None:
        """What the screen shows changed: what was left to dim is dropped; dimmed again once the app is idle (the
        thumbnails just drawn first, `dim_later`: AHEAD_SOON, then the whole screen: AHEAD_AFTER)."""
        self._todo = []
        self._whole_due = True
        self._later(AHEAD_SOON if _drawn else AHEAD_AFTER, self._begin)

    def _later(self, delay: float, then: Callable[[], None]) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self._app.set_timer(delay, then)

    def _idle(self, after: float) -> bool:
        """Nothing typed or clicked for `after` seconds (or else the pass starts again that long after it)."""
        wait = after - (time.monotonic() - self._last_input())
        if wait > 0:
            self._todo = []
            self._later(wait, self._begin)
            return False
        return True

    def dialog_colour(self) -> Color | None:
        """The colour a dialog dims the screen under it with in this theme (Textual's ModalScreen: `$background 60%`;
        none when dialogs are not translucent, in ANSI colours)."""
        app = self._app
        if app.ansi_color:
            return None
        if app.theme not in self._colours:
            try:
                color: Color | None = Color.parse(app.get_css_variables()["background"]).with_alpha(DIALOG_ALPHA)
            except (KeyError, ColorParseError):
                color = None
            self._colours[app.theme] = color if color is not None and color.ansi is None and not color.auto else None
        return self._colours[app.theme]

    def _begin(self) -> None:
        self._timer = None
        soon = bool(_drawn)
        if not self._idle(AHEAD_SOON if soon else AHEAD_AFTER):
            return
        stack = self._app.screen_stack
        screen = stack[-1] if stack else None  # (none: the app is ending)
        color = self.dialog_colour()
        if screen is None or color is None or not self._wanted(screen) or screen.styles.background.a < 1:
            return  # (a dialog has dimmed what is under it)
        blend = blend_of(color)
        styles: set[RichStyle | None] = set()
        if soon:  # the thumbnails drawn since: their lines' styles (a card's cells are the thumbnail's own)
            end = time.perf_counter() + AHEAD_COLLECT
            while _drawn and time.perf_counter() < end:
                for line in _drawn.popleft():
                    styles.update([style for _, style, _ in line])
        else:  # the whole screen: the same lines a dialog's backdrop draws (`DimmedScreen`)
            self._whole_due = False
            lines = screen_lines(screen)
            if lines is None:  # (this Textual draws its screens otherwise: the thumbnails' lines only; the module)
                return
            styles = {style for strip in lines for _, style, _ in strip}
        self._todo = blend.seen(styles)  # (those kept are now the last to go)
        self._screen, self._blend = screen, blend
        self._later(AHEAD_PAUSE, self._step)

    def _step(self) -> None:
        self._timer = None
        if not self._idle(AHEAD_SOON):
            return
        todo, blend = self._todo, self._blend
        stack = self._app.screen_stack
        if not stack or stack[-1] is not self._screen or blend is None or _blends.get(blend.color) is not blend:
            self._todo = []  # another screen, or the blend was dropped (another theme)
            return
        end = time.perf_counter() + AHEAD_SLICE
        while todo and time.perf_counter() < end:
            for style in todo[-AHEAD_BATCH:]:
                blend.plain_style(style)
            del todo[-AHEAD_BATCH:]
        if todo:
            self._later(AHEAD_PAUSE, self._step)
        elif _drawn:  # more thumbnails: theirs next
            self._later(AHEAD_PAUSE, self._begin)
        elif self._whole_due:  # then the rest of the screen (its text, its borders), once idle for longer
            self._later(AHEAD_AFTER, self._begin)
        else:
            self.passes += 1


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
        return [_skipping.setdefault(f, AnsiSkipped(f)) if type(f) is ANSIToTruecolor else f for f in filters]

    render_dimmed.__doc__, line_filters.__doc__ = render.__doc__, get_line_filters.__doc__
    Screen.render = render_dimmed  # type: ignore[method-assign]
    Screen.get_line_filters = line_filters  # type: ignore[method-assign]


def _styles_of(screen: Widget) -> DimmedStyles:
    """A dialog screen's dimmed styles (they go with it)."""
    styles = screen.__dict__.get("_dimmed_styles")
    if styles is None:
        styles = screen.__dict__["_dimmed_styles"] = DimmedStyles()
    return styles
