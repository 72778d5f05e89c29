"""The trash's list: one line a trashed image, however many there are (a million draws like ten).

Only the lines on screen are drawn (Textual's line API), from pages of rows read in a worker as they come into
view (`fetch(offset, limit)`, the store's `TrashPages`); a line whose page is not read yet says so. Each line has
a check box (☐/☑: a click on it, or space, selects), the image's number, when it was deleted and when it will be
erased (on wide lists), and its prompt.

The selection (`TrashSelection`) is either some images by id, or every image in the trash up to a moment (ctrl+a:
the newest delete then) but some: select-all holds no id of the images it selects, so a million-image trash is
selected as fast as ten. The widget posts `Highlighted` when the cursor's image changes, `SelectionChanged` and
`Opened` (a double click); the screen does the rest.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from store.text import one_line
from store.trash import TrashedImage

from .workers import work

PAGE = 100  # rows read at a time
KEEP = 12  # pages kept (the ones near the cursor are read again when they were dropped)
CHECK_WIDTH = 2  # "☐ ": a click there toggles the image
WIDE = 80  # from this width on a line shows when the image will be erased too
NARROW = 60  # below this width a line shows the day it was deleted without the year


@dataclass
class TrashSelection:
    """Some images (`ids`), or with `until` set every image deleted to the trash up to then but `ids`."""

    ids: set[int] = field(default_factory=set)
    until: datetime | None = None  # select-all: every image deleted at this time or before (local, aware)
    total: int = 0  # select-all: how many there were then

    @property
    def everything(self) -> bool:
        return self.until is not None

    def __contains__(self, item: TrashedImage) -> bool:
        if self.until is not None:
            return item.trashed_at <= self.until and item.record.id not in self.ids
        return item.record.id in self.ids

    def __len__(self) -> int:
        return max(0, self.total - len(self.ids)) if self.until is not None else len(self.ids)

    def __bool__(self) -> bool:
        return len(self) > 0


def columns(item: TrashedImage, width: int) -> Text:
    """The line of one image, without its check box: number, deleted, (erased on), prompt."""
    prompt = one_line(item.record.prompt) or "(no prompt)"
    if width < NARROW:  # the day and month only (the year, and the day it is erased, are beside the list)
        parts = [f"#{item.record.id:<6}", f"{item.trashed_at:%d %b %H:%M}"]
    else:
        parts = [f"#{item.record.id:<7}", f"{item.trashed_at:%Y-%m-%d %H:%M}"]
    if width >= WIDE:
        parts.append(f"{item.expires_at:%Y-%m-%d}")
    return Text("  ".join(parts) + "  " + prompt, no_wrap=True, overflow="ellipsis")


def header(width: int) -> str:
    """The column names over the lines, aligned with `columns` (after the check box)."""
    if width < NARROW:
        return f"{'Image':<7}  {'Deleted':<12}  Prompt"
    return f"{'Image':<8}  {'Deleted':<16}  " + (f"{'Erased on':<10}  " if width >= WIDE else "") + "Prompt"


class TrashHeader(Static):
    """The column names over the list, after a check box for the whole trash: a click on it selects every image
    (ctrl+a), or clears the selection when there is one."""

    DEFAULT_CSS = """
    TrashHeader { height: 1; color: $text-muted; text-style: bold; }
    """

    class BoxClicked(Message):
        pass

    def show(self, width: int, everything: bool) -> None:
        self.update(Text(("☑ " if everything else "☐ ") + header(width), no_wrap=True, overflow="ellipsis"))
        self.tooltip = "Clear the selection" if everything else "Select the whole trash (ctrl+a)"

    def on_click(self, event: events.Click) -> None:
        if event.x < CHECK_WIDTH:
            event.stop()
            self.post_message(self.BoxClicked())


class TrashList(ScrollView, can_focus=True):
    HELP_TITLE = "Moving in the trash's list"

    DEFAULT_CSS = """
    TrashList { height: 1fr; width: 1fr; overflow-x: hidden; scrollbar-size-vertical: 1; }
    TrashList > .trash-list--cursor { background: $block-cursor-blurred-background; }
    TrashList:focus > .trash-list--cursor { background: $block-cursor-background; color: $block-cursor-foreground;
                                            text-style: bold; }
    TrashList > .trash-list--check { color: $text-muted; }
    TrashList > .trash-list--checked { color: $success; text-style: bold; }
    TrashList > .trash-list--loading { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"trash-list--cursor", "trash-list--check", "trash-list--checked", "trash-list--loading"}

    BINDINGS = [
        Binding("up,k", "move(-1)", "Up", show=False, id="trash_list.up"),
        Binding("down,j", "move(1)", "Down", show=False, id="trash_list.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="trash_list.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="trash_list.page_down"),
        Binding("home", "jump(0)", "First", show=False, id="trash_list.home"),
        Binding("end", "jump(-1)", "Last", show=False, id="trash_list.end"),
    ]

    cursor: reactive[int] = reactive(0, init=False)

    @dataclass
    class Highlighted(Message):
        """The cursor is on another image (None: the list is empty, or its page is not read yet)."""

        item: TrashedImage | None

    class SelectionChanged(Message):
        pass

    @dataclass
    class Opened(Message):
        """A double click on an image."""

        item: TrashedImage

    def __init__(self, fetch: Callable[[int, int], list[TrashedImage]], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.fetch = fetch
        self.total = 0
        self.selection = TrashSelection()
        self._pages: dict[int, list[TrashedImage]] = {}
        self._asked: set[tuple[int, int]] = set()  # (generation, page) being read
        self._generation = 0
        self._highlighted: int | None = None  # the id last posted as highlighted

    # -- what is shown -------------------------------------------------------------

    def load(self, total: int, pages: dict[int, list[TrashedImage]], cursor: int = 0) -> None:
        """A new count and the pages read with it (by the screen's worker: {page number: its rows}); the cursor at
        `cursor` (kept in range)."""
        self._generation += 1
        self.total = total
        self._pages = dict(pages)
        self._asked.clear()
        self.virtual_size = Size(0, total)
        self.set_reactive(TrashList.cursor, max(0, min(cursor, total - 1)))
        self._show_cursor()
        self.refresh()
        self._post_highlighted(force=True)

    def item_at(self, index: int) -> TrashedImage | None:
        """The image at this place, when its page is read (None: not yet, or no such place)."""
        if not 0 <= index < self.total:
            return None
        page = self._pages.get(index // PAGE)
        offset = index % PAGE
        return page[offset] if page is not None and offset < len(page) else None

    @property
    def current(self) -> TrashedImage | None:
        return self.item_at(self.cursor)

    def is_loading(self, index: int) -> bool:
        return 0 <= index < self.total and self.item_at(index) is None

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if index >= self.total:
            return Strip.blank(width, self.rich_style)
        item = self.item_at(index)
        base = self.rich_style
        if index == self.cursor:
            base += self.get_component_rich_style("trash-list--cursor")
        if item is None:
            self._want(index // PAGE)
            text = Text("  …", style=self.get_component_rich_style("trash-list--loading"))
            check = Text("")
        else:
            chosen = item in self.selection
            check = Text("☑ " if chosen else "☐ ", style=self.get_component_rich_style(
                "trash-list--checked" if chosen else "trash-list--check"))
            text = columns(item, width)
        line = Text.assemble(check, text, no_wrap=True, overflow="ellipsis")
        line.truncate(width, overflow="ellipsis", pad=True)
        segments = [Segment(s.text, base + s.style if isinstance(s.style, Style) else base)
                    for s in line.render(self.app.console)]
        return Strip(segments, width).crop(0, width).simplify()

    def want(self, index: int) -> None:
        """Read the page of this place if it is not read yet (one not drawn: a large view steps through the list)."""
        if self.is_loading(index):
            self._want(index // PAGE)

    def _want(self, page: int) -> None:
        key = (self._generation, page)
        if key not in self._asked:
            self._asked.add(key)
            self._read(key)

    @work(thread=True, group="trash-pages", exit_on_error=False)
    def _read(self, key: tuple[int, int]) -> None:
        try:
            rows = self.fetch(key[1] * PAGE, PAGE)
        except Exception:
            self.app.call_from_thread(self._asked.discard, key)  # asked again at the next repaint
            raise
        self.app.call_from_thread(self._page_read, key, rows)

    def _page_read(self, key: tuple[int, int], rows: list[TrashedImage]) -> None:
        if key[0] != self._generation:
            return  # for a list no longer shown
        self._asked.discard(key)
        self._pages[key[1]] = rows
        if len(self._pages) > KEEP:  # the pages furthest from the cursor go
            here = self.cursor // PAGE
            for page in sorted(self._pages, key=lambda p: -abs(p - here))[:len(self._pages) - KEEP]:
                del self._pages[page]
        self.refresh()
        self._post_highlighted()

    def _post_highlighted(self, force: bool = False) -> None:
        item = self.current
        now = item.record.id if item is not None else None
        if force or now != self._highlighted:
            self._highlighted = now
            self.post_message(self.Highlighted(item))

    # -- the cursor ----------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        self._show_cursor()
        self.refresh()
        self._post_highlighted()

    def _show_cursor(self) -> None:
        if self.total:
            self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, force=True, immediate=True)

    def move_to(self, index: int) -> None:
        if self.total:
            self.cursor = max(0, min(index, self.total - 1))

    def action_move(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * max(1, self.scrollable_content_region.height - 1))

    def action_jump(self, where: int) -> None:
        self.move_to(self.total - 1 if where < 0 else where)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(0, self.total)
        self._show_cursor()

    # -- the selection -------------------------------------------------------------

    def toggle(self, item: TrashedImage) -> None:
        selection = self.selection
        if selection.everything:  # a select-all: `ids` are those left out of it
            if item.trashed_at <= selection.until:  # type: ignore[operator]
                selection.ids.symmetric_difference_update({item.record.id})
            if not selection:
                self.selection = TrashSelection()
        else:
            selection.ids.symmetric_difference_update({item.record.id})
        self._selection_changed()

    def select_everything(self, until: datetime, total: int) -> None:
        self.selection = TrashSelection(until=until, total=total)
        self._selection_changed()

    def set_selection(self, selection: TrashSelection) -> None:
        self.selection = selection
        self._selection_changed()

    def clear_selection(self) -> None:
        if self.selection:
            self.selection = TrashSelection()
            self._selection_changed()

    def _selection_changed(self) -> None:
        self.refresh()
        self.post_message(self.SelectionChanged())

    # -- the mouse -----------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        index = self.scroll_offset.y + event.y
        item = self.item_at(index)
        if item is None:
            return
        event.stop()
        if event.x < CHECK_WIDTH:  # the check box
            self.toggle(item)
            return
        self.move_to(index)
        if event.chain == 2:
            self.post_message(self.Opened(item))
