"""One image card: selection box, date, thumbnail, prompt and action buttons.

A card is one widget that draws its own lines (no child widgets), so a screen
of cards is cheap to lay out, restyle and repaint. Cards are recycled by the
grid: `show()` binds a card to another image. The card never talks to the
store; it posts messages the grid and the screen act on.

Layout of the content area (inside the border and padding):
    line 0              ☐ / ☑ on the left, the date (and owner) on the right
    lines 1 … h-4       the thumbnail, centred, keeping its shape
    lines h-3, h-2      the prompt, cut with an ellipsis (one line on small cards)
    line h-1            the action buttons: 3 cells each where every one fits so; else each icon as wide as it
                        is drawn, a space after every one-cell icon (and more where there is room), and a ⋯
                        button for those that do not fit (it asks for "more": the screen offers the rest in a menu)

A button answers a click only on the cells drawn for it (`button_places`): where icons sit side by side, a
click one cell off lands on nothing rather than on the neighbour, and drawing and clicking use one layout.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Offset, Region, Size
from textual.message import Message
from textual.strip import Strip
from textual.style import Style as TextualStyle
from textual.widget import Widget

from store.records import ImageRecord
from store.text import one_line

from .highlight import highlight
from .rgb_lines import RGBLines
from .thumbnails import PictureWidget, fit_cells, grid_picture

SLOT = 3  # cells per action button when the card is wide enough for every button at that width
PROMPT_LINES = 2  # lines of prompt on a card (small cards: `prompt_lines` = 1)
STACK_MARK = "▤ "  # before the number of images a stack card stands for
PROMPT_CHARS = 2000  # a prompt is cut to this before it is laid out (prompts can be megabytes)


@dataclass(frozen=True)
class CardAction:
    name: str  # the screen action it runs: "favorite", "prompt", ...
    icon: str
    tooltip: str
    icon_on: str = ""  # the favorite button's icon when the image is a favorite


MORE = CardAction("more", "⋯", "More actions (the buttons that do not fit on this card)")


@dataclass(frozen=True)
class ButtonPlace:
    """Where one button is on the actions row, in cells of the card's content: clicks on [start, end) are its,
    its icon is drawn at `icon_at`."""

    action: CardAction
    start: int
    end: int
    icon_at: int


def button_places(actions: list[CardAction], icons: list[str], width: int) -> list[ButtonPlace]:
    """The actions row's buttons at a content width: 3-cell slots (icon in the middle) where all fit so; else
    the icons at their drawn widths with a space after every one-cell icon (♡ ⬇ ℹ 🗑: terminals often draw such
    a glyph wider than its cell, over whatever comes next) or key name ("^f"), and never three icons in a row
    without one; the cells left go to the other gaps first, spread evenly (a space of two or more is split between its neighbours'
    click areas, one cell is nobody's); as many buttons as fit so, and, if not all do, ⋯ last for the rest."""
    count = len(actions)
    if count and width >= SLOT * count:
        return [ButtonPlace(a, i * SLOT, i * SLOT + SLOT, i * SLOT + 1) for i, a in enumerate(actions)]
    widths = [cell_len(icon) for icon in icons]

    def row(shown: int) -> list[tuple[CardAction, int]]:  # the buttons drawn when `shown` have their own
        buttons = list(zip(actions[:shown], widths[:shown]))
        return buttons + [(MORE, cell_len(MORE.icon))] * (shown < count)

    # a space after a one-cell icon, and after a key's name (a plain icon a keymap gave: "^fp" read as one)
    apart = [glyphs == 1 or icon.isascii() for icon, glyphs in zip(icons, widths)]

    def spaces(buttons: list[tuple[CardAction, int]]) -> list[int]:  # the spaces after each but the last one
        gaps: list[int] = []
        for index in range(len(buttons) - 1):  # after those, and after two icons that touch
            gaps.append(int(apart[index] or (bool(gaps) and gaps[-1] == 0)))
        return gaps

    def needs(buttons: list[tuple[CardAction, int]]) -> int:
        return sum(w for _, w in buttons) + sum(spaces(buttons))

    shown = count
    while shown > 0 and needs(row(shown)) > width:
        shown -= 1
    buttons = row(shown)
    gaps = spaces(buttons)
    spare = max(0, width - needs(buttons))
    for kind in (0, 1):  # the spare cells: to the gaps with no space yet (spread evenly), then to every gap
        chosen = [i for i, g in enumerate(gaps) if g == 0] if kind == 0 else list(range(len(gaps)))
        given = min(spare, len(chosen)) if kind == 0 else spare
        for n, i in enumerate(chosen):  # gap n of the chosen gets its even share (rounded up: the first gets one)
            gaps[i] += -(-given * (n + 1) // len(chosen)) - -(-given * n // len(chosen))
        spare -= given
    places: list[ButtonPlace] = []
    x = 0
    spans = []
    for index, (action, glyphs) in enumerate(buttons):
        spans.append((action, x, x + glyphs))
        x += glyphs + (gaps[index] if index < len(gaps) else 0)
    for index, (action, start, end) in enumerate(spans):
        left = start - spans[index - 1][2] if index else 0  # the gap before it
        right = spans[index + 1][1] - end if index + 1 < len(spans) else 0
        places.append(ButtonPlace(action, start - left // 2, end + right // 2, start))
    return places


# Thumbnail lines (each a list of Segments) for a picture at a size, or None while they are being made.
StripSource = Callable[[object, int, int], "list[list[Segment]] | None"]


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def card_date(record: ImageRecord, room: int, owner: bool = False) -> str:
    """The card's date (after its owner in the public gallery) in `room` columns: 2026-11-26 where it fits, else
    26 Nov (small cards at 80 columns cut the ISO date to "2026-11-…": the day, the useful part, was gone). The
    owner's name gives way before the date does."""
    when = record.generated_at
    dates = (when.strftime("%Y-%m-%d"), f"{when.day} {MONTHS[when.month - 1]}")
    if not owner:
        return next((d for d in dates if len(d) <= room), dates[-1])
    name = one_line(record.owner[:200])
    for d in dates:
        if cell_len(f"{name} · {d}") <= room:
            return f"{name} · {d}"
    left = room - len(f" · {dates[-1]}")
    if left < 2:  # not even one letter of the name and its "…"
        return dates[-1]
    cut = Text(name)
    cut.truncate(left, overflow="ellipsis")
    return f"{cut.plain} · {dates[-1]}"


class ImageCard(RGBLines, Widget):
    DEFAULT_CSS = """
    ImageCard {
        border: round $panel-lighten-2;
        padding: 0 1;
        height: 1fr;
        width: 1fr;
    }
    ImageCard.-current { border: round $accent; background: $boost; }
    ImageCard.-selected { border: double $success; }
    ImageCard.-current.-selected { border: double $accent; }
    ImageCard > .image-card--muted { color: $text-muted; }
    ImageCard > .image-card--favorite { color: $error; text-style: bold; }
    ImageCard > .image-card--hover { text-style: reverse; }
    ImageCard > .image-card--check { color: $success; text-style: bold; }
    ImageCard > .image-card--match { color: $warning; text-style: bold underline; }
    ImageCard > .image-card--stack { color: $accent; text-style: bold; }
    ImageCard #thumb { position: absolute; }
    """
    COMPONENT_CLASSES = {"image-card--muted", "image-card--favorite", "image-card--hover", "image-card--check",
                         "image-card--match", "image-card--stack"}

    @dataclass(eq=False)
    class ActionPressed(Message):
        """A card's button was clicked."""

        card: ImageCard
        action: str

        @property
        def control(self) -> ImageCard:
            return self.card

    @dataclass(eq=False)
    class Clicked(Message):
        """The card was clicked (`double`: a double click; `toggle`: on its selection box)."""

        card: ImageCard
        double: bool
        toggle: bool

        @property
        def control(self) -> ImageCard:
            return self.card

    def __init__(self, slot: int, actions: list[CardAction], *, strips: StripSource | None = None,
                 image_class: type | None = None) -> None:
        """`strips` draws thumbnails as cells; `image_class` puts a picture widget (Kitty, Sixel) there instead."""
        super().__init__(id=f"card-{slot}")
        self.slot = slot
        self.index: int | None = None
        self.record: ImageRecord | None = None
        self.selected = False
        self.owner_visible = False
        self._actions = actions
        self._strips = strips
        self._image_class = image_class
        # (a class drawing cells comes with `strips`: the picture widget is a graphics protocol's)
        self._picture_widget: PictureWidget | None = image_class(None, id="thumb") \
            if image_class is not None and strips is None else None
        self._hover: int | None = None  # the button under the pointer (its place in `_places()`)
        self._places_for: tuple | None = None  # (width, icons) `_places_cache` was laid out for
        self._places_cache: list[ButtonPlace] = []
        self._content_for: Size | None = None  # the card size `_content` was worked out for
        self._content = Size(0, 0)
        self._lines: list[Strip] | None = None  # the content drawn, for _lines_size
        self._lines_size: Size | None = None
        self._framed: list[Strip] | None = None  # the whole card (border, padding, content) made from `_lines`
        self._framed_from: list[Strip] | None = None  # the content lines `_framed` was made from
        self._framed_for: tuple | None = None  # (size, colours, border, padding) `_framed` was made for
        self._prompt_lines: list[Text] = []
        self._thumb_missing = False
        self.loading_record = False  # bound to an index whose record is still being read
        self.prompt_lines = PROMPT_LINES
        self._padded = True  # the CSS's padding (`set_padded`)

    # -- binding -----------------------------------------------------------

    def show(self, index: int | None, record: ImageRecord | None, *, selected: bool, current: bool,
             owner_visible: bool = False, picture=None, loading: bool = False) -> None:
        """Bind the card to an image (or to nothing: an empty, hidden card; or one that says "Loading…")."""
        same = (record == self.record and selected == self.selected and owner_visible == self.owner_visible
                and not self._thumb_missing and loading == self.loading_record)
        self.index = index
        self.record = record
        self.selected = selected
        self.owner_visible = owner_visible
        self.loading_record = loading and record is None
        empty = record is None and not self.loading_record
        if self.has_class("-empty") != empty:  # no restyle of the card
            self.set_class(empty, "-empty", update=False)
            if self._picture_widget is not None:  # its picture goes with it
                self.visible = not empty
            # else it draws as what is under it (`render_lines`): hiding it asked Textual for a new layout of the
            # whole screen, each time a result's last page left cards empty or filled them again
            self.refresh()
        self.set_class(current and record is not None, "-current")
        self.set_class(selected and record is not None, "-selected")
        if self._picture_widget is not None and record is not None:
            self._show_picture(picture)
        if not same:
            self._lines = None
            self.refresh()

    def set_padded(self, padded: bool) -> None:
        """A column of padding either side of the content (the CSS's), or none (narrow cards: room for every
        button). An inline style, set only where it changes: a CSS class on the grid restyled every card."""
        if padded != self._padded:
            self._padded = padded
            self.styles.padding = None if padded else 0
            self._content_for = None
            self._lines = None

    def set_prompt_lines(self, lines: int) -> None:
        """Lines of prompt under the thumbnail (the card size's)."""
        if lines != self.prompt_lines:
            self.prompt_lines = lines
            self._lines = None
            self.refresh()

    def rehighlight(self) -> None:
        """The searched words changed: draw the prompt again."""
        if self.record is not None:
            self._lines = None
            self.refresh()

    @property
    def thumbnail_key(self) -> tuple | None:
        """The thumbnail this card waits for (picture, columns, rows), or None: it waits for none."""
        if not self._thumb_missing or self.record is None:
            return None
        return (grid_picture(self.record), *self.thumb_cells())

    def thumbnails_ready(self) -> None:
        """New thumbnail lines were made: draw again if this card was waiting for one."""
        if self._thumb_missing:
            self._lines = None
            self.refresh()

    @property
    def icons(self) -> list[str]:
        return [self._icon(a) for a in self._actions]

    def _icon(self, action: CardAction) -> str:
        if action.name == "favorite":
            return (action.icon_on or "♥") if self.record is not None and self.record.favorite else action.icon
        return action.icon

    # -- geometry --------------------------------------------------------------

    @property
    def thumb_box(self) -> tuple[int, int]:
        """Columns and rows the thumbnail may take."""
        width, height = self._content_size()
        return max(0, width), max(0, height - 2 - self.prompt_lines)

    def thumb_cells(self, record: ImageRecord | None = None) -> tuple[int, int]:
        """The thumbnail's size in cells (keeping the picture's shape) for this card's image, or another."""
        record = record or self.record
        if record is None:
            return 0, 0
        box_width, box_height = self.thumb_box
        if box_width <= 0 or box_height <= 0:
            return 0, 0
        return fit_cells(box_width, box_height, record.width, record.height)

    @property
    def actions_row(self) -> int:
        return self._content_size().height - 1

    def _places(self) -> list[ButtonPlace]:
        """The buttons as drawn now (laid out again when the width or an icon changes)."""
        icons = self.icons
        key = (self._content_size().width, tuple(icons))
        if self._places_for != key:
            self._places_for = key
            self._places_cache = button_places(self._actions, icons, key[0])
        return self._places_cache

    @property
    def shown_actions(self) -> list[str]:
        """The names of the buttons on the card ("more" for ⋯)."""
        return [place.action.name for place in self._places()]

    @property
    def hidden_actions(self) -> list[CardAction]:
        """The actions with no button of their own on this card (⋯ offers them)."""
        shown = set(self.shown_actions)
        return [a for a in self._actions if a.name not in shown]

    def action_offset(self, name: str) -> Offset:
        """Where its icon is drawn (the first cell), relative to the card: tests and help use it."""
        place = next(p for p in self._places() if p.action.name == name)
        left, top = self.gutter.top_left
        return Offset(left + place.icon_at, top + self.actions_row)

    @property
    def check_offset(self) -> Offset:
        left, top = self.gutter.top_left
        return Offset(left, top)

    @property
    def prompt_text(self) -> str:
        """The prompt as shown (its lines joined by newlines)."""
        self._render_lines()
        return "\n".join(line.plain for line in self._prompt_lines)

    @property
    def header_text(self) -> str:
        return self._header().plain

    # -- drawing ---------------------------------------------------------------

    def _content_size(self) -> Size:
        """`content_size`, worked out again only when the card's size or styles change: Textual computes it from
        the styles' padding and border at each call, and drawing a card asked for it a dozen times."""
        size = self.size
        if self._content_for != size:
            self._content_for = size
            self._content = self.content_size
        return self._content

    def on_resize(self) -> None:
        self.refresh()
        if self._picture_widget is not None and self.record is not None:
            self._place_picture()

    _styles: dict[tuple, Style] = {}  # (theme, component, card background) -> its style, shared by every card

    def _style(self, component: str) -> Style:
        """A component's style over this card's background (muted text is blended with it). The same for every
        card of one background, so worked out once per theme: drawing a screen of cards looked them up 40-60
        times, a quarter of the drawing."""
        key = (self.app.theme, component, self.styles.background)
        style = self._styles.get(key)
        if style is None:
            partial = component != "image-card--muted"  # muted text is blended with the card's background
            style = self._styles[key] = self.get_component_rich_style(component, partial=partial)
        return style

    def _header(self) -> Text:
        record = self.record
        width = self._content_size().width
        check = Text("☑" if self.selected else "☐", style=self._style("image-card--check")
                     if self.selected else "")
        if self.owner_visible:  # the public gallery (owners shown) is read only: nothing to select
            check = Text(" ")
        if record is None:
            return check
        if record.stack > 1:  # a stack of seed variations (store/stacks.py): how many images it stands for
            check = Text.assemble(check, (f" {STACK_MARK}{record.stack}",
                                          self._style("image-card--stack")))
        room = max(0, width - 1 - check.cell_len)
        date = Text(card_date(record, room, self.owner_visible), style=self._style("image-card--muted"))
        date.truncate(room, overflow="ellipsis")
        header = Text.assemble(check, " " * max(1, width - check.cell_len - date.cell_len), date)
        header.truncate(width)
        return header

    def _prompt(self, width: int) -> list[Text]:
        record = self.record
        text = one_line(record.prompt[:PROMPT_CHARS]) if record else ""
        prompt = Text(text or "(no prompt)")
        words = getattr(self.screen, "highlight_words", ())  # the words searched for, shown where they match
        if words and text:
            highlight(prompt, words, self._style("image-card--match"))
        lines = list(prompt.wrap(self.app.console, max(1, width), overflow="fold"))
        if len(lines) > self.prompt_lines:
            lines = lines[:self.prompt_lines]
            last = lines[-1]
            last.truncate(width - 1)
            last.rstrip()
            last.append("…")
        return lines

    _action_strips: dict[tuple, Strip] = {}  # the buttons' line, alike on most cards: made once per look

    def _actions_strip(self, width: int, base: Style) -> Strip:
        favorite = self.record is not None and self.record.favorite
        key = (self.app.theme, self.styles.background, width, base, tuple(self.icons), favorite, self._hover)
        strip = self._action_strips.get(key)
        if strip is None:
            if len(self._action_strips) > 256:  # themes, sizes and hovers come and go
                self._action_strips.clear()
            strip = self._action_strips[key] = self._text_strip(self._actions_line(), width, base)
        return strip

    def _actions_line(self) -> Text:
        line = Text(no_wrap=True, overflow="crop")
        favorite = self._style("image-card--favorite")
        hover = self._style("image-card--hover")
        x = 0
        for index, place in enumerate(self._places()):
            action = place.action
            line.append(" " * (place.start - x))
            style = Style()
            if action.name == "favorite" and self.record is not None and self.record.favorite:
                style += favorite
            if index == self._hover:
                style += hover
            icon = self._icon(action)
            line.append(" " * (place.icon_at - place.start) + icon
                        + " " * max(0, place.end - place.icon_at - cell_len(icon)), style=style)
            x = place.end
        return line

    def _text_strip(self, text: Text, width: int, base: Style) -> Strip:
        text = text.copy()
        text.truncate(width, pad=True)
        segments = [Segment(s.text, base + s.style if s.style else base) for s in text.render(self.app.console, end="")]
        # (crop_extend would cache the line on itself when it is the width already: a cycle, see textual_leaks)
        return Strip(segments, width).adjust_cell_length(width, base)

    def _render_lines(self) -> list[Strip]:
        size = self._content_size()
        if self._lines is not None and self._lines_size == size:
            return self._lines
        self._lines_size = size
        width, height = size
        base = self.rich_style
        blank = Strip.blank(width, base)
        self._prompt_lines = self._prompt(width) if width > 0 else []
        self._thumb_missing = False
        if self.record is None or width <= 0 or height <= 0:
            self._lines = [blank] * max(0, height)
            if self.loading_record and height > 0:
                self._lines[height // 2] = self._text_strip(
                    Text("Loading…".center(width)), width, self._style("image-card--muted"))
            return self._lines
        lines = [self._text_strip(self._header(), width, base)]
        box_width, box_height = self.thumb_box
        thumb = [blank] * box_height
        if self._strips is not None and box_height > 0:
            cells_w, cells_h = self.thumb_cells()
            pictures = self._strips(grid_picture(self.record), cells_w, cells_h)
            if pictures is None:
                self._thumb_missing = True
            else:
                left, top = (box_width - cells_w) // 2, (box_height - cells_h) // 2
                pad_left = [Segment(" " * left, base)]
                pad_right = [Segment(" " * (box_width - left - cells_w), base)]
                for row, segments in enumerate(pictures[:box_height - top]):
                    thumb[top + row] = Strip(pad_left + segments + pad_right, box_width)
        elif self._strips is None and self._image_class is None and box_height > 0:
            info = f"#{self.record.id}  {self.record.width}×{self.record.height}"
            thumb[box_height // 2] = self._text_strip(
                Text(info.center(width)), width, self._style("image-card--muted"))
        lines += thumb
        lines += [self._text_strip(t, width, base) for t in self._prompt_lines]
        lines += [blank] * (self.prompt_lines - len(self._prompt_lines))
        lines.append(self._actions_strip(width, base))
        self._lines = (lines + [blank] * height)[:height]
        return self._lines

    def render_line(self, y: int) -> Strip:
        lines = self._render_lines()
        return lines[y] if 0 <= y < len(lines) else Strip.blank(self._content_size().width, self.rich_style)

    # -- the whole card: border and padding drawn here, not line by line by Textual -----

    # the borders the card's styles use (its CSS and the themes'); any other look is left to Textual
    _BOXES = {"round": ("╭─╮", "│", "╰─╯"), "double": ("╔═╗", "║", "╚═╝")}

    def render_lines(self, crop: Region) -> list[Strip]:
        """The card's lines, its border and padding included, made once from its content lines and kept until
        they change. Textual frames a widget's content line by line (border, padding, background, effects) at
        each repaint, which was half of the time a screen of new cards took to draw (issue 11: a search, a
        filter or a page drew for 60-80 ms on the UI thread). The result is the same cells as Textual's: the
        snapshot tests compare them."""
        if self.has_class("-empty") and self._picture_widget is None:  # bound to nothing: what is under it
            blank = Strip.blank(crop.width, TextualStyle(background=self.background_colors[0]).rich_style)
            return [blank] * crop.height
        framed = self._framed_lines()
        if framed is None:  # a look this does not draw (another border, opacity, a title): Textual's way
            return super().render_lines(crop)
        background = self.background_colors[1]
        strips = framed[crop.y:crop.bottom]
        for line_filter in self.get_line_filters():
            strips = [strip.apply_filter(line_filter, background) for strip in strips]
        if crop.x or crop.right != self.outer_size.width:
            strips = [strip.crop(crop.x, crop.right) for strip in strips]
        return strips

    def _framed_lines(self) -> list[Strip] | None:
        styles = self.styles
        (top, top_color), (right, right_color), (bottom, bottom_color), (left, left_color) = styles.border
        box = self._BOXES.get(top)
        width, height = self.outer_size
        if (box is None or not top == right == bottom == left or any(kind for kind, _ in styles.outline)
                or styles.opacity != 1 or styles.text_opacity != 1 or styles.tint.a or styles.hatch not in (None, "none")
                or self.border_title or self.border_subtitle or width < 2 or height < 2):
            return None
        lines = self._render_lines()
        base_background, background = self.background_colors
        key = (width, height, base_background, background, top, top_color, left_color, right_color, bottom_color,
               styles.padding)
        if self._framed is not None and self._framed_from is lines and self._framed_for == key:
            return self._framed
        pad_top, _, pad_bottom, _ = styles.padding
        top_line, blank_line, bottom_line, left_side, right_side, inner_style, content_width = self._frame_parts(key)
        blank = Strip(blank_line, width)  # (lines of its own: a card's lines are freed when it drops them)
        framed: list[Strip] = [Strip(top_line, width)]
        framed += [blank] * pad_top
        for y in range(max(0, height - 2 - pad_top - pad_bottom)):
            line = lines[y] if y < len(lines) else Strip.blank(content_width, inner_style)
            line = line.adjust_cell_length(content_width, inner_style)
            framed.append(Strip([*left_side, *line, *right_side], width))
        framed += [blank] * pad_bottom
        if height > 1:
            framed.append(Strip(bottom_line, width))
        self._framed, self._framed_from, self._framed_for = framed[:height], lines, key
        return self._framed

    _frames: dict[tuple, tuple] = {}  # a frame's segments by look (`_framed_lines`' key), shared by every card

    @classmethod
    def _frame_parts(cls, key: tuple) -> tuple:
        """The segments of a card's frame for a look (size, colours, border, padding): of its top line, a blank line
        and its bottom line, either side of a content line; the inner style and the content width. The same for
        every card of that look, so made once (each card worked out its styles and segments at each drawing)."""
        parts = cls._frames.get(key)
        if parts is not None:
            return parts
        width, _, base_background, background, top, top_color, left_color, right_color, bottom_color, padding = key
        box = cls._BOXES[top]
        inner = TextualStyle(background=base_background + background)
        inner_style = inner.rich_style

        def edge(color) -> Style:
            return (inner + TextualStyle(foreground=base_background + color)).rich_style

        _, pad_right, _, pad_left = padding
        content_width = max(0, width - 2 - pad_left - pad_right)
        left_side = [Segment(box[1], edge(left_color))] + ([Segment(" " * pad_left, inner_style)] if pad_left else [])
        right_side = ([Segment(" " * pad_right, inner_style)] if pad_right else []) + [Segment(box[1], edge(right_color))]
        blank = [*left_side[:1], Segment(" " * (width - 2), inner_style), right_side[-1]]
        top_line = [Segment(box[0][0], edge(top_color)), Segment(box[0][1] * max(0, width - 2), edge(top_color)),
                    Segment(box[0][2], edge(top_color))]
        bottom_line = [Segment(box[2][0], edge(bottom_color)), Segment(box[2][1] * max(0, width - 2), edge(bottom_color)),
                       Segment(box[2][2], edge(bottom_color))]
        if len(cls._frames) > 64:  # themes and sizes come and go
            cls._frames.clear()
        parts = cls._frames[key] = (top_line, blank, bottom_line, left_side, right_side, inner_style, content_width)
        return parts

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._content_for = None  # the padding or border may have changed
        self._lines = None  # colours changed (class, theme)

    # -- a picture widget (Kitty, Sixel) over the thumbnail area ----------------

    def compose(self):
        # made with the card, so a card bound (`show`) by a relayout before it is mounted has it already
        if self._picture_widget is not None:
            yield self._picture_widget

    def _show_picture(self, picture) -> None:
        widget = self._picture_widget
        assert widget is not None  # only cards with a picture widget show pictures in it
        if widget.image is not picture:
            widget.image = picture
        self._place_picture()

    def _place_picture(self) -> None:
        width, height = self.thumb_cells()
        box_width, box_height = self.thumb_box
        widget = self._picture_widget
        assert widget is not None
        # not drawn before the card has its size: xterm keeps showing a first, one-cell Sixel picture at a
        # place even after a full-size one is drawn there
        widget.display = width > 0 and height > 0
        widget.styles.width, widget.styles.height = max(1, width), max(1, height)
        widget.styles.offset = ((box_width - width) // 2, 1 + (box_height - height) // 2)

    # -- mouse -------------------------------------------------------------------

    def _slot_at(self, offset: Offset | None) -> int | None:
        """The button (its place in `_places()`) whose cells hold `offset`, if any."""
        if offset is None or offset.y != self.actions_row:
            return None
        return next((i for i, p in enumerate(self._places()) if p.start <= offset.x < p.end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self.record is None:  # an empty card, or one still loading: no buttons
            return
        index = self._slot_at(event.get_content_offset(self))
        if index != self._hover:
            self._hover = index
            self.tooltip = self._places()[index].action.tooltip if index is not None else None
            self._lines = None
            self.refresh()

    def on_leave(self) -> None:
        if self._hover is not None:
            self._hover = None
            self.tooltip = None
            self._lines = None
            self.refresh()

    def on_click(self, event: events.Click) -> None:
        if self.record is None:
            return
        event.stop()
        offset = event.get_content_offset(self)
        index = self._slot_at(offset)
        if index is not None:
            self.post_message(self.ActionPressed(self, self._places()[index].action.name))
            return
        on_box = offset is not None and offset.y == 0 and offset.x < 2 and not self.owner_visible
        self.post_message(self.Clicked(self, event.chain > 1, on_box))
