"""The virtualized card grid.

Only the cards that fit the screen exist (one pool of `ImageCard` widgets, sized
to the grid's rows and columns at the card size that shows the most; those the size shown
does not need stay mounted, hidden); scrolling rebinds them to other images. Rows
come from a `GridSource` a page at a time and are cached per page (`widgets/page_cache.py`),
so a library of 100,000 images costs no more than one of 100.

The count it is given may be an estimate (a `Count` that is not exact: a large result on PostgreSQL is
not counted exactly). Pages read then correct it: a short page is the result's end (the count is exact
from then on), a full last page means there are more (the count grows past it, "over N"), and an empty
page past the end has the source count exactly (in a worker). `Counted` says so.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass
from typing import Protocol

from rich.segment import Segment
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import get_current_worker

from store.records import Count, ImageRecord
from store.selection import Selection

from .workers import work
from .card import CardAction, ImageCard
from .page_cache import PageCache, PageKey
from .scroll_indicator import ScrollIndicator
from .thumbnail_cache import ThumbnailStrips
from .thumbnails import CachedHalfcellImage, fit_cells, grid_picture

PAGE_SIZE = 60
CARD_FRAME = 2  # cells of border across a card (left and right, top and bottom)
SPARES_AT_ONCE = 10  # hidden cards mounted after each paint (`_mount_spares`)
THUMBNAILS_TOLD_AFTER = 0.05  # seconds of thumbnails made before the cards are told (`_make_thumbnails`)
PAINT_AWAITED = 0.5  # seconds at most the thumbnail worker waits for the screen's pictures to be painted
CARD_LINES = 4  # the lines of a card besides its thumbnail and prompt: border (2), date, buttons


@dataclass(frozen=True)
class CardSize:
    """How cards are laid out at one size: as many columns as `min_width` allows, at most `max_columns`;
    then as many rows as fit cards tall enough for a square thumbnail as wide as the card."""

    name: str
    min_width: int
    max_columns: int
    prompt_lines: int
    thumb_rows_per_column: float = 0.5  # a square picture in half-block cells: twice as wide as tall


CARD_SIZES = {  # at 80×24 (a grid of 79×18 cells) and 160×48 (159×42):
    "small": CardSize("small", 13, 10, 1, 0.35),  # 6×2 cards, thumbnails 11 cells wide; 10×4, 13 wide
    "medium": CardSize("medium", 19, 5, 2),  # 4×1, 15 wide; 5×2, 27 wide
    "large": CardSize("large", 34, 3, 2),  # 2×1, 35 wide; 3×1, 49 wide
}
SIZE_NAMES = list(CARD_SIZES)
DEFAULT_CARD_SIZE = "medium"


@dataclass(frozen=True)
class OnScreen:
    """The cards on screen when a page was asked for: indexes [first, end), each card's thumbnail box in cells."""

    first: int
    end: int
    width: int
    height: int


class GridSource(Protocol):
    def count(self) -> int: ...

    def fetch(self, offset: int, limit: int) -> list[ImageRecord]: ...


class CardGrid(Widget, can_focus=True):
    """A focusable grid of image cards with a highlighted current card."""

    HELP_TITLE = "Moving in the grid"

    DEFAULT_CSS = """
    CardGrid { height: 1fr; width: 1fr; }
    CardGrid #cards { layout: grid; grid-gutter: 0; height: 1fr; width: 1fr; }
    CardGrid #grid-empty {
        width: 1fr; height: 1fr; content-align: center middle; text-align: center;
        color: $text-muted; display: none;
    }
    """

    BINDINGS = [
        Binding("up,k", "move(0,-1)", "Up", show=False, id="cards.up"),
        Binding("down,j", "move(0,1)", "Down", show=False, id="cards.down"),
        Binding("left,h", "move(-1,0)", "Left", show=False, id="cards.left"),
        Binding("right,l", "move(1,0)", "Right", show=False, id="cards.right"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="cards.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="cards.page_down"),
        Binding("home", "jump(0)", "First", show=False, id="cards.home"),
        Binding("end", "jump(-1)", "Last", show=False, id="cards.end"),
        Binding("shift+up", "extend(0,-1)", "Select up", show=False, id="cards.extend_up"),
        Binding("shift+down", "extend(0,1)", "Select down", show=False, id="cards.extend_down"),
        Binding("shift+left", "extend(-1,0)", "Select left", show=False, id="cards.extend_left"),
        Binding("shift+right", "extend(1,0)", "Select right", show=False, id="cards.extend_right"),
    ]

    cursor: reactive[int] = reactive(0, init=False)
    top_row: reactive[int] = reactive(0, init=False)

    @dataclass(eq=False)
    class Highlighted(Message):
        """The cursor is on another image (None: on a card whose page is still being read)."""

        grid: CardGrid
        record: ImageRecord | None

        @property
        def control(self) -> CardGrid:
            return self.grid

    @dataclass(eq=False)
    class ActionRequested(Message):
        """A card's button asked for an action on its image ("more": its ⋯ button, for the `hidden` ones)."""

        grid: CardGrid
        action: str
        record: ImageRecord
        hidden: tuple[CardAction, ...] = ()

        @property
        def control(self) -> CardGrid:
            return self.grid

    @dataclass(eq=False)
    class SelectionChanged(Message):
        """The selection changed; `count` images are selected now."""

        grid: CardGrid
        count: int

        @property
        def control(self) -> CardGrid:
            return self.grid

    @dataclass(eq=False)
    class Counted(Message):
        """The count changed after a page was read: the result's end was found (exact), or an estimate
        was short and the count grew (at least)."""

        grid: CardGrid
        count: Count

        @property
        def control(self) -> CardGrid:
            return self.grid

    @dataclass(eq=False)
    class ThumbnailsDrawn(Message):
        """Thumbnails were drawn into lines (in a worker), kept while they may be shown: thousands of objects
        that reference counting alone frees (tui/app.py need not have its garbage collector walk them)."""

        grid: CardGrid

        @property
        def control(self) -> CardGrid:
            return self.grid

    @dataclass(eq=False)
    class Opened(Message):
        """A card was opened (Enter or a double click)."""

        grid: CardGrid
        record: ImageRecord

        @property
        def control(self) -> CardGrid:
            return self.grid

    def __init__(self, actions: list[CardAction], image_class: type | None, *, id: str | None = None,
                 owner_visible: bool = False, card_size: str = DEFAULT_CARD_SIZE) -> None:
        super().__init__(id=id)
        self.card_size = card_size if card_size in CARD_SIZES else DEFAULT_CARD_SIZE  # the size laid out
        self._wanted_size: str | None = None  # a size asked for whose thumbnails are being drawn (`set_card_size`)
        self._switch = 0  # bumped at each size asked for: a switch prepared for an older one is dropped
        self.selectable = not owner_visible  # the public gallery (owners shown) is read only
        self.range_mode = False  # V: moving selects from the anchor to the cursor
        self._anchor: int | None = None  # where a range (V, shift+arrows) started
        self._range_base = Selection()  # what was selected before the range
        self.actions = actions
        self.image_class = image_class
        self.owner_visible = owner_visible
        self.source: GridSource | None = None
        self.count = Count(0)  # an estimate until a page finds the result's end (see the module's text)
        self._to_end: tuple[int, int] | None = None  # End on an estimate: (the result's generation, the cursor)
        self.columns = 1
        self.rows = 1
        # changed only by the selection's methods (see `selected`), each change a new Selection: one sorted array
        # that nothing changes, handed to dialogs and workers as it is (store/selection.py)
        self._selected = Selection()
        self._selection_changes = 0  # bumped at each change (`selection_changes`)
        # The ids a stack card (record.stack > 1) stands for, given by the screen that knows the library:
        # selecting the card selects them all, as select-all does (None: a card is its own image only).
        self.stack_members: Callable[[ImageRecord], Set[int]] | None = None
        self.empty_message = ""
        # Half-block thumbnails are drawn by the cards from lines made in a worker;
        # other picture widgets (Kitty, Sixel) get small pictures instead.
        self.draws_cells = image_class is not None and issubclass(image_class, CachedHalfcellImage)
        self.strips = ThumbnailStrips()
        self._pages = PageCache(PAGE_SIZE)
        self._cards: list[ImageCard] = []  # the cards on screen: the first of `_pool`
        self._pool: list[ImageCard] = []  # every card mounted, in slot order; those past `_cards` hidden
        self._pool_size = 0  # the cards the card size that shows the most needs here
        self._spares_wanted = False
        self._thumbnails_wanted = False

    def watch_has_focus(self, _has_focus: bool) -> None:
        # Textual restyles the widget and everything in it when its focus changes: here every card, 13 to 34 ms
        # at 160x48 each time the search box or a dropdown took the focus from the grid or gave it back (issue
        # 11), for nothing: no style of the cards depends on the grid's focus (none says `CardGrid:focus ...`).
        self.app.stylesheet.update_nodes([self], animate=True)

    def compose(self) -> ComposeResult:
        yield ScrollIndicator()
        yield Container(id="cards")
        yield Static("", id="grid-empty")

    # -- data --------------------------------------------------------------

    @property
    def total(self) -> int:
        """How many images the result holds (or is estimated to: `count`)."""
        return self.count.n

    def load(self, source: GridSource, total: int | Count, first_page: list[ImageRecord] | None = None,
             *, keep_position: bool = False, focus_index: int | None = None) -> None:
        """Show a new result. `first_page` may be handed over when a worker already read it. `total` may be
        an estimate (a Count not exact), corrected as pages are read (see the module's text)."""
        self.source = source
        self.count = total if isinstance(total, Count) else Count(total)
        self._pages.reset(first_page)
        if first_page is not None:
            self._correct_total(0, first_page)
        old_cursor = self.cursor
        if focus_index is not None:
            target = focus_index
        elif keep_position:
            target = old_cursor
        else:
            target = 0
        if not keep_position and focus_index is None:
            self.end_range()  # a new result: the range's indexes mean other images
        # The selection (ids) stays: a new search, a stack opened and closed, another order or filter add to it
        # ("the dragons, then the wyverns"); images deleted or gone elsewhere leave it (`deselect`), Esc clears it.
        # Shown and hidden by inline styles, not CSS classes: a class change restyles every card.
        self.set_class(self.total == 0, "-empty", update=False)
        self.query_one("#cards").display = self.total > 0
        self.query_one("#grid-empty").display = self.total == 0
        if self.total == 0:
            self.query_one("#grid-empty", Static).update(Text(self.empty_message))
        self._set_cursor(max(0, min(target, self.total - 1)), force=True)

    def record_at(self, index: int) -> ImageRecord | None:
        """The image at an index, or None: none there, or its page is still being read (see `is_loading`)."""
        if self.source is None or not 0 <= index < self.total:
            return None
        record = self._pages.get(index)
        if record is None:
            key = self._pages.request(index)
            if key is not None:
                self._fetch_page(self.source, key, self._on_screen() if self._is_on_screen(index) else None)
        return record

    def record_if_read(self, index: int) -> ImageRecord | None:
        """The image at an index if its page is in memory, else None; unlike `record_at` it never asks for a
        page (a range selected across pages not read is read in one worker instead)."""
        if self.source is None or not 0 <= index < self.total:
            return None
        return self._pages.get(index)

    def is_loading(self, index: int) -> bool:
        """The image at this index is being read (its card shows "Loading…")."""
        return self.source is not None and 0 <= index < self.total and self._pages.is_loading(index)

    def _is_on_screen(self, index: int) -> bool:
        first = self.top_row * self.columns
        return first <= index < first + len(self._cards)

    def _on_screen(self) -> OnScreen | None:
        """What a page's worker needs to draw the thumbnails of the cards on screen (None: the cards draw none)."""
        if not self.draws_cells or not self._cards:
            return None
        width, height = self._cards[0].thumb_box  # (every card is as large as the others)
        if width <= 0 or height <= 0:
            return None
        first = self.top_row * self.columns
        return OnScreen(first, first + len(self._cards), width, height)

    @work(thread=True, group="pages", exit_on_error=False)
    def _fetch_page(self, source: GridSource, key: PageKey, on_screen: OnScreen | None = None) -> None:
        """Read one page of records off the UI thread (a database round trip, more on PostgreSQL); when the page holds
        cards on screen, draw their thumbnails too before handing it over, so that those cards are painted once, with
        their pictures (End on a million images: "Loading…", then the records, then their pictures, three paints)."""
        size = self._pages.page_size
        try:
            rows = source.fetch(key[1] * size, size)
        except Exception:
            self.app.call_from_thread(self._pages.failed, key)  # asked again at the next repaint
            raise
        if on_screen is not None and self._make_on_screen(key[1] * size, rows, on_screen):
            self.post_message(self.ThumbnailsDrawn(self))
        self.app.call_from_thread(self._page_ready, key, rows)

    def _make_on_screen(self, start: int, rows: list[ImageRecord], on_screen: OnScreen) -> bool:
        """Draw the thumbnails of the records from index `start` that are on screen, for THUMBNAILS_TOLD_AFTER at
        most (slow pictures are left to the thumbnail worker, after the records are shown); True if any was made."""
        worker = get_current_worker()
        until = time.monotonic() + THUMBNAILS_TOLD_AFTER
        made = False
        for index in range(max(start, on_screen.first), min(start + len(rows), on_screen.end)):
            record = rows[index - start]
            key = (grid_picture(record), *fit_cells(on_screen.width, on_screen.height, record.width, record.height))
            if not self.strips.drawn(key):
                try:
                    self.strips.make(key)
                except Exception:  # noqa: BLE001 (the thumbnail worker draws it again and reports why it cannot)
                    return made
                made = True
            if worker.is_cancelled or time.monotonic() > until:
                break
        return made

    def _page_ready(self, key: PageKey, rows: list[ImageRecord]) -> None:
        if not self._pages.add(key, rows):
            return  # for a result no longer shown
        if self._correct_total(key[1], rows):
            self._total_changed()
        self._refresh_cards()
        if self._pages.page_of(self.cursor) == key[1]:
            self.post_message(self.Highlighted(self, self.record_at(self.cursor)))

    def _correct_total(self, page_number: int, rows: list[ImageRecord]) -> bool:
        """An estimated count set right by a page read: True when it changed."""
        if self.count.exact:
            return False
        size = self._pages.page_size
        end = page_number * size + len(rows)
        if rows and len(rows) < size or not rows and page_number == 0:  # the result ends here
            self.count = Count(end)
        elif not rows:  # past the end, which is somewhere before: counted exactly
            self._count_exactly(self.source, self._pages.generation)
            return False
        elif end >= self.total:  # the estimate was short: there is at least one more (its page is read next)
            self.count = Count(end + 1, exact=False, at_least=True)
        else:
            return False
        self.post_message(self.Counted(self, self.count))
        return True

    @work(thread=True, exclusive=True, group="count", exit_on_error=False)
    def _count_exactly(self, source: GridSource, generation: int) -> None:
        total = source.count()
        self.app.call_from_thread(self._counted_exactly, generation, total)

    def _counted_exactly(self, generation: int, total: int) -> None:
        if generation != self._pages.generation:
            return
        to_end, self._to_end = self._to_end, None
        if not self.count.exact:
            self.count = Count(total)
            self.post_message(self.Counted(self, self.count))
            self._total_changed()
            self._refresh_cards()
        if to_end is not None and to_end[0] == generation and self.cursor == to_end[1]:  # not moved since End
            self._set_cursor(self.total - 1)

    def _total_changed(self) -> None:
        self.set_class(self.total == 0, "-empty", update=False)
        self.query_one("#cards").display = self.total > 0
        self.query_one("#grid-empty").display = self.total == 0
        if self.total == 0:
            self.query_one("#grid-empty", Static).update(Text(self.empty_message))
        if self.cursor >= self.total:
            self._set_cursor(self.total - 1, force=True)

    def update_record(self, record: ImageRecord) -> None:
        """Replace a cached record (after a change that keeps it in the result)."""
        self._pages.replace(record)
        self._refresh_cards()

    @property
    def current(self) -> ImageRecord | None:
        return self.record_at(self.cursor)

    # -- selection: it changes here only, and each change is posted (SelectionChanged) ------------

    @property
    def selected(self) -> Selection:
        """The ids of the selected images: a Selection, which nothing changes (the methods below put another in
        its place), so that a dialog or a worker takes it as it is, a million ids copied by none."""
        return self._selected

    @property
    def selection_changes(self) -> int:
        """How many times the selection has changed: a new selection made from `selected` in a worker is handed
        back only when this has not moved meanwhile."""
        return self._selection_changes

    def toggle_selected(self, record: ImageRecord) -> None:
        """Select the card's image (a stack card: every image of its stack), or unselect it."""
        ids = self._ids_of(record)
        self._selected = self._selected - ids if record.id in self._selected else self._selected | ids
        self._selection_changed()

    def _ids_of(self, record: ImageRecord) -> Set[int]:
        """The images a card stands for: itself, or (a stack card) every image of its stack."""
        if record.stack > 1 and self.stack_members is not None:
            return {record.id, *self.stack_members(record)}
        return {record.id}

    def select_ids(self, ids: Iterable[int]) -> None:
        """Select these ids and no others (a Selection is taken as it is: a large one is made in a worker)."""
        self._selected = Selection.of(ids)
        self._selection_changed()

    def deselect(self, ids: Iterable[int]) -> None:
        """Drop these ids from the selection (images deleted or hidden elsewhere)."""
        left = self._selected - ids
        if left is not self._selected:
            self._selected = left
            self._selection_changed()

    def clear_selection(self) -> None:
        self.end_range()
        if self._selected:
            self._selected = Selection()  # (a million ids: one block freed, at once)
            self._selection_changed()

    def _selection_changed(self, *, refresh: bool = True) -> None:
        self._selection_changes += 1
        if refresh:
            self._refresh_cards()
        self.post_message(self.SelectionChanged(self, len(self._selected)))

    # -- ranges: shift+arrows, and V then any move ----------------------------

    def start_range(self) -> None:
        """V: from here, every move selects from this card to the cursor (V again or Esc ends it)."""
        if self.range_mode:
            self.end_range()
            return
        self.range_mode = True
        self._anchor, self._range_base = self.cursor, self._selected
        self._select_range()

    def end_range(self) -> None:
        self.range_mode = False
        self._anchor = None

    def action_extend(self, dx: int, dy: int) -> None:
        """Shift+arrows: move, selecting every card from where the range started."""
        if not self.selectable:
            self.action_move(dx, dy)
            return
        if self._anchor is None:
            self._anchor, self._range_base = self.cursor, self._selected
        self._move(dx, dy)
        self._select_range()

    def _moved(self) -> None:
        """After a plain move: a V range follows the cursor; a shift range ends."""
        if self.range_mode:
            self._select_range()
        else:
            self._anchor = None

    def _select_range(self) -> None:
        if self._anchor is None or not self.total:
            return
        low, high = sorted((self._anchor, self.cursor))
        records = [self.record_if_read(i) for i in range(low, high + 1)]
        known = [r for r in records if r is not None]
        if len(known) == len(records):
            self._range_read(self._pages.generation, self._anchor, {i for r in known for i in self._ids_of(r)})
        else:  # pages not read yet (a long jump): read the range's ids in a worker
            self._read_range(self.source, self._pages.generation, self._anchor, low, high)

    @work(thread=True, exclusive=True, group="range", exit_on_error=False)
    def _read_range(self, source: GridSource, generation: int, anchor: int, low: int, high: int) -> None:
        ids = Selection(i for record in source.fetch(low, high - low + 1) for i in self._ids_of(record))
        self.app.call_from_thread(self._range_read, generation, anchor, ids)

    def _range_read(self, generation: int, anchor: int, ids: Set[int]) -> None:
        if generation == self._pages.generation and anchor == self._anchor:
            self.select_ids(self._range_base | ids)

    # -- geometry ----------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._layout_cards()

    @property
    def wanted_size(self) -> str:
        """The card size asked for last: `card_size` once its thumbnails on screen are drawn (`set_card_size`)."""
        return self._wanted_size or self.card_size

    def set_card_size(self, name: str) -> None:
        """Lay the cards out again at another size (small, medium, large), keeping the current card. With
        half-block thumbnails, those of the cards the new size shows are drawn first, in a worker (for
        THUMBNAILS_TOLD_AFTER at most), so that its cards paint once, with their pictures: the first switch to
        small cards painted its 40 cards three times, without their pictures and then as they came (110-180 ms
        from the switch to every picture at 1,000,000 images, where a switch with them drawn takes 26-35)."""
        if name not in CARD_SIZES or name == self.wanted_size:
            return
        self._switch += 1  # (a switch under way is dropped)
        self._wanted_size = None
        if name == self.card_size:  # back to the size shown, before the switch was made
            return
        keys = [key for key in self._keys_at(name) if not self.strips.drawn(key)] if self.draws_cells else []
        if not keys:
            self.card_size = name
            self._layout_cards()
            return
        self._wanted_size = name
        columns, rows = self._geometry(name)[:2]
        # room for the new size's thumbnails beside the ones shown until the switch (`_layout_cards` sets it then)
        self.strips.keep_drawn(3 * max(columns * rows, len(self._cards)))
        self._prepare_size(self._switch, keys)

    @work(thread=True, exclusive=True, group="card-size", exit_on_error=False)
    def _prepare_size(self, switch: int, keys: list[tuple]) -> None:
        """(The worker.) The thumbnails the new size shows, drawn before its cards are; then the switch."""
        worker = get_current_worker()
        until = time.monotonic() + THUMBNAILS_TOLD_AFTER
        try:
            for key in keys:
                if worker.is_cancelled or time.monotonic() > until:
                    break  # (the rest: the thumbnail worker, after the cards are shown)
                self.strips.make(key, codes=True)  # (their terminal codes too: widgets/colour_codes.py)
        except Exception:  # noqa: BLE001 (the thumbnail worker draws it again and reports why it cannot)
            pass
        if not worker.is_cancelled:
            self.app.call_from_thread(self._size_prepared, switch)

    def _size_prepared(self, switch: int) -> None:
        if switch == self._switch and self._wanted_size is not None and self.is_attached:
            self.card_size, self._wanted_size = self._wanted_size, None
            self._layout_cards()

    def thumb_box_at(self, name: str) -> tuple[int, int]:
        """Columns and rows a card's thumbnail may take at a card size (`ImageCard.thumb_box` once laid out)."""
        _columns, _rows, card_width, card_height, _gutter, narrow = self._geometry(name)
        return (max(0, card_width - CARD_FRAME - (0 if narrow else 2)),
                max(0, card_height - CARD_LINES - CARD_SIZES[name].prompt_lines))

    def _keys_at(self, name: str) -> list[tuple]:
        """Thumbnail keys of the cards a card size would show, from the current card (those read)."""
        columns, rows = self._geometry(name)[:2]
        box_width, box_height = self.thumb_box_at(name)
        if box_width <= 0 or box_height <= 0:
            return []
        first = self._top_at(self.cursor, columns, rows) * columns
        records = (self.record_if_read(index) for index in range(first, first + columns * rows))
        return [(grid_picture(record), *fit_cells(box_width, box_height, record.width, record.height))
                for record in records if record is not None]

    def _geometry(self, name: str) -> tuple[int, int, int, int, int, bool]:
        """The layout at a card size on this grid: columns, rows, card width and height, the gutter, narrow."""
        size = CARD_SIZES[name]
        width = max(1, self.size.width - 1)
        height = max(1, self.size.height)
        columns = max(1, min(size.max_columns, width // size.min_width))
        # every card as wide as the others; the columns left over go between the cards where there is one for
        # each gap, else beside the last (given to one card, 79 columns made it narrower than the other three)
        card_width = width // columns
        gutter = int(1 < columns <= width - card_width * columns + 1)
        narrow = card_width < 28  # no padding beside the picture: room for every button
        thumb_width = card_width - CARD_FRAME - (0 if narrow else 2)
        card_height = CARD_LINES + size.prompt_lines + max(2, int(thumb_width * size.thumb_rows_per_column))
        rows = max(1, height // card_height)
        card_height = height // rows  # what is left over goes to the thumbnails
        return columns, rows, card_width, card_height, gutter, narrow

    def _layout_cards(self) -> None:
        size = CARD_SIZES[self.card_size]
        columns, rows, card_width, card_height, gutter, narrow = self._geometry(self.card_size)
        container = self.query_one("#cards", Container)
        container.styles.grid_size_columns = columns
        container.styles.grid_columns = str(card_width)
        container.styles.grid_gutter_vertical = gutter  # between columns
        container.styles.grid_size_rows = rows
        container.styles.grid_rows = str(card_height)
        self.columns, self.rows = columns, rows
        wanted = columns * rows
        self.strips.keep_drawn(3 * wanted)  # the screen and the ones a page up and down (`_make_thumbnails`)
        # The pool holds the cards of the size that shows the most here; those this size does not show stay
        # mounted, hidden and bound to nothing, so that a change of card size mounts none (issue 11: mounting
        # 30 cards, their styles and component classes, was half of the 53-87 ms that small cards took).
        self._pool_size = max(c * r for c, r, *_ in map(self._geometry, CARD_SIZES))
        with self.app.batch_update():
            if len(self._pool) > self._pool_size:  # a smaller terminal
                for card in self._pool[self._pool_size:]:
                    card.remove()
                del self._pool[self._pool_size:]
            for card in self._pool[wanted:]:
                if card.display:
                    card.show(None, None, selected=False, current=False)
                    card.display = False
            for card in self._pool[:wanted]:
                if not card.display:
                    card.display = True
            if len(self._pool) < wanted:  # the cards on screen are mounted now, the spare ones after a paint
                self._pool.extend(self._mount_cards(wanted - len(self._pool), shown=True))
            self._cards = self._pool[:wanted]
            for card in self._pool:
                card.set_prompt_lines(size.prompt_lines)
                card.set_padded(not narrow)
        if len(self._pool) < self._pool_size and not self._spares_wanted:
            self._spares_wanted = True
            self.call_after_refresh(self._mount_spares)
        self._set_cursor(self.cursor, force=True)

    def _mount_cards(self, count: int, *, shown: bool) -> list[ImageCard]:
        """Mount `count` more cards at the pool's end (laid out at the card size's geometry by `_layout_cards`)."""
        size = CARD_SIZES[self.card_size]
        narrow = self._geometry(self.card_size)[5]
        new = [ImageCard(i, self.actions, strips=self._card_strips if self.draws_cells else None,
                         image_class=None if self.draws_cells else self.image_class)
               for i in range(len(self._pool), len(self._pool) + count)]
        for card in new:
            card.set_prompt_lines(size.prompt_lines)
            card.set_padded(not narrow)
            if not shown:
                card.display = False
        self.query_one("#cards", Container).mount_all(new)
        return new

    def _mount_spares(self) -> None:
        """Mount the hidden cards another card size needs, a few after each paint (each is a stall of its own)."""
        self._spares_wanted = False
        if not self.is_attached:
            return
        count = min(SPARES_AT_ONCE, self._pool_size - len(self._pool))
        if count > 0:
            self._pool.extend(self._mount_cards(count, shown=False))
        if len(self._pool) < self._pool_size:
            self._spares_wanted = True
            self.call_after_refresh(self._mount_spares)

    @property
    def mounted_cards(self) -> int:
        """The card widgets mounted: those on screen and the hidden ones another card size shows."""
        return len(self.query(ImageCard))

    def _max_top(self) -> int:
        total_rows = -(-self.total // self.columns)
        return max(0, total_rows - self.rows)

    def _top_at(self, index: int, columns: int, rows: int) -> int:
        """The top row that shows the card at `index` with this many columns and rows, moving as little as can be."""
        row = index // columns
        top = self.top_row
        if row < top:
            top = row
        elif row >= top + rows:
            top = row - rows + 1
        return max(0, min(top, max(0, -(-self.total // columns) - rows)))

    def _set_cursor(self, index: int, force: bool = False) -> None:
        index = max(0, min(index, self.total - 1)) if self.total else 0
        top = self._top_at(index, self.columns, self.rows)
        changed = index != self.cursor
        self.set_reactive(CardGrid.cursor, index)
        self.set_reactive(CardGrid.top_row, top)
        self._refresh_cards()
        if changed or force:
            self.post_message(self.Highlighted(self, self.record_at(index)))

    def _refresh_cards(self) -> None:
        if not self._cards:
            return
        first = self.top_row * self.columns
        pictures = self.strips.pictures if self.image_class is not None and not self.draws_cells else None
        missing: list = []
        for slot, card in enumerate(self._cards):
            index = first + slot
            record = self.record_at(index)
            loading = record is None and self.is_loading(index)
            card.show(index if record or loading else None, record,
                      selected=record is not None and record.id in self._selected,
                      current=index == self.cursor, owner_visible=self.owner_visible, loading=loading,
                      picture=self._picture_of(record, missing) if pictures is not None and record else None)
        if self.draws_cells:
            self._want_thumbnails()
        elif missing:
            self._load_pictures(missing)
        step = len(self._cards)  # the records of the next and previous screens read ahead: PageDown shows at once
        for index in (first + step, first + 2 * step - 1, first - step, first - 1):
            if 0 <= index < self.total:
                self.record_at(index)
        indicator = self.query_one(ScrollIndicator)
        total_rows = max(1, -(-self.total // self.columns))
        indicator.fraction = self.rows / total_rows
        indicator.position = self.top_row / self._max_top() if self._max_top() else 0.0

    # -- thumbnails ------------------------------------------------------------

    def _picture_of(self, record: ImageRecord, missing: list):
        """A picture for the Kitty or Sixel widgets if it is in memory; else noted in `missing` for a worker."""
        found, picture = self.strips.pictures.peek(record.thumbnail_path)
        if not found:
            missing.append(record.thumbnail_path)
        return picture

    @work(thread=True, exclusive=True, group="pictures", exit_on_error=False)
    def _load_pictures(self, paths: list) -> None:
        """Read the thumbnails of the cards on screen (Kitty and Sixel modes), then show them."""
        worker = get_current_worker()
        for path in paths:
            if worker.is_cancelled:
                return
            self.strips.pictures.get(path)
        self.app.call_from_thread(self._refresh_cards)

    def _card_strips(self, path, width: int, height: int):
        """The cards' source of thumbnail lines: what is ready now; the rest is made in a worker."""
        strips = self.strips.get((path, width, height))
        if strips is None:
            self._want_thumbnails()
        return strips

    def _want_thumbnails(self) -> None:
        """After the next paint, make what the screen lacks and what is a page away."""
        if not self._thumbnails_wanted:
            self._thumbnails_wanted = True
            self.call_after_refresh(self._make_wanted_thumbnails)

    def _keys_for(self, first: int) -> list[tuple]:
        """Thumbnail keys (picture, columns, rows) of the cards from index `first`, slot by slot."""
        keys = []
        for slot, card in enumerate(self._cards):
            record = self.record_at(first + slot) if 0 <= first + slot < self.total else None
            if record is not None:
                width, height = card.thumb_cells(record)
                if width and height:
                    keys.append((grid_picture(record), width, height))
        return keys

    def _make_wanted_thumbnails(self) -> None:
        self._thumbnails_wanted = False
        step = self.rows * self.columns
        first = self.top_row * self.columns
        visible = [k for k in self._keys_for(first) if not self.strips.drawn(k)]
        ahead = [k for k in self._keys_for(first + step) + self._keys_for(first - step) if not self.strips.drawn(k)]
        if visible or ahead:
            self._make_thumbnails(visible, ahead)

    @work(thread=True, exclusive=True, group="thumbnails", exit_on_error=False)
    def _make_thumbnails(self, visible: list[tuple], ahead: list[tuple]) -> None:
        """Draw the thumbnails on screen, telling the cards as they come, then those a page away."""
        worker = get_current_worker()
        told = time.monotonic()
        try:
            for n, key in enumerate(visible):
                if worker.is_cancelled:
                    return
                self.strips.make(key)
                # the grid is told (a paint of the cards made) when all are made, or as they come when they are
                # slow (large pictures read): a screen of quick ones was painted three times, every 4 thumbnails
                if n == len(visible) - 1 or time.monotonic() - told >= THUMBNAILS_TOLD_AFTER:
                    told = time.monotonic()
                    self.app.call_from_thread(self._thumbnails_ready)
            if visible:  # the screen's pictures painted before those a page away are made: not both at once
                painted = threading.Event()
                # (posting a message is thread-safe: no round trip to the UI thread, nor one when it is closing)
                until = time.monotonic() + (PAINT_AWAITED if self.call_after_refresh(painted.set) else 0)
                while not painted.wait(0.01) and time.monotonic() < until:
                    if worker.is_cancelled:
                        return
            for key in ahead:
                if worker.is_cancelled:
                    return
                if not self.strips.drawn(key):
                    self.strips.make(key, codes=True)  # (a page away: off the screen's path, its codes made too)
        finally:
            self.post_message(self.ThumbnailsDrawn(self))

    def shown_thumbnails(self) -> list[list[list[Segment]]]:
        """The lines of the thumbnails the cards on screen show (drawn, kept): what a dialog's backdrop would dim."""
        shown = []
        for card in self._cards:
            if card.record is not None and card.display:
                lines = self.strips.get((grid_picture(card.record), *card.thumb_cells()))
                if lines is not None:
                    shown.append(lines)
        return shown

    def _thumbnails_ready(self) -> None:
        """Some thumbnails were made: the cards waiting for one of them draw again (not every card still waiting:
        the worker tells after every few, and a screen of new cards was drawn up to three times)."""
        for card in self._cards:
            key = card.thumbnail_key
            if key is not None and self.strips.drawn(key):
                card.thumbnails_ready()

    def scroll_rows(self, delta: int) -> None:
        top = max(0, min(self.top_row + delta, self._max_top()))
        if top == self.top_row:
            return
        shift = (top - self.top_row) * self.columns
        self.set_reactive(CardGrid.top_row, top)
        # keep the cursor on screen, in the same place relative to the view
        cursor = max(top * self.columns, min(self.cursor + shift, (top + self.rows) * self.columns - 1))
        self._set_cursor(min(cursor, self.total - 1))

    def on_scroll_indicator_clicked(self, message: ScrollIndicator.Clicked) -> None:
        message.stop()
        self.scroll_to_fraction(message.fraction)

    def scroll_to_fraction(self, fraction: float) -> None:
        top = round(max(0.0, min(1.0, fraction)) * self._max_top())
        self.scroll_rows(top - self.top_row)

    # -- input -------------------------------------------------------------

    def action_move(self, dx: int, dy: int) -> None:
        self._move(dx, dy)
        self._moved()

    def _move(self, dx: int, dy: int) -> None:
        if not self.total:
            return
        if dx:
            self._set_cursor(self.cursor + dx)
        else:
            target = self.cursor + dy * self.columns
            if 0 <= target < self.total:
                self._set_cursor(target)
            elif dy > 0 and self.cursor // self.columns < (self.total - 1) // self.columns:
                self._set_cursor(self.total - 1)  # a shorter last row

    def action_page(self, direction: int) -> None:
        if not self.total:
            return
        step = self.rows * self.columns
        self.set_reactive(CardGrid.top_row, max(0, min(self.top_row + direction * self.rows, self._max_top())))
        self._set_cursor(self.cursor + direction * step)
        self._moved()

    def action_jump(self, where: int) -> None:
        self._set_cursor(0 if where == 0 else self.total - 1)
        self._moved()
        if where != 0 and not self.count.exact and self.source is not None:
            # End on an estimate: the result is counted exactly (in a worker), and the cursor goes on to its last
            # card unless moved meanwhile. The page at the estimated end alone may not reach it (an estimate short
            # of the cards read "over 3,120 cards" after End: NEWUSER7 #24).
            self._to_end = (self._pages.generation, self.cursor)
            self._count_exactly(self.source, self._pages.generation)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.scroll_rows(1)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.scroll_rows(-1)

    @on(ImageCard.Clicked)
    def _card_clicked(self, event: ImageCard.Clicked) -> None:
        event.stop()
        self.focus()
        if event.card.index is not None:
            self._set_cursor(event.card.index)
            if event.toggle and event.card.record is not None:
                self.toggle_selected(event.card.record)
            elif event.double and event.card.record is not None:
                self.post_message(self.Opened(self, event.card.record))

    @on(ImageCard.ActionPressed)
    def _card_action(self, event: ImageCard.ActionPressed) -> None:
        event.stop()
        if event.card.index is not None and event.card.record is not None:
            self._set_cursor(event.card.index)
            hidden = tuple(event.card.hidden_actions) if event.action == "more" else ()
            self.post_message(self.ActionRequested(self, event.action, event.card.record, hidden))

