"""Search input and the favorite, collection and order dropdowns above the grid."""
from __future__ import annotations

import time
from typing import Any, cast
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Select

from store.history import SearchHistory
from store.query import DEFAULT_SORT, SORT_NAMES, SORTS, parse, without_sort
from store.records import FAVORITE_ALL, FAVORITES_ONLY, NON_FAVORITES, CollectionRecord, Filters
from store.text import one_line

from .search_history import SearchInput

FAVORITE_OPTIONS = [("All Images", FAVORITE_ALL), ("Favorites Only", FAVORITES_ONLY),
                    ("Non-Favorites", NON_FAVORITES)]
ALL_COLLECTIONS = -1  # the "All Images" entry of the collection dropdown
SEARCH_TIP = ('F1 help · words -not "a phrase" a|b model: seed:>9 steps: cfg: size:WxH date:7d in:NAME is:fav lora: '
              'sort: ↑↓ history')
SORT_OPTIONS = [(SORT_NAMES[s][:1].upper() + SORT_NAMES[s][1:], s) for s in SORTS]  # "Prompt A–Z" as the status says
# What a closed dropdown shows on a narrow bar (its box's title says what it is; the open list keeps the long
# names): at 80 columns the long ones took all but 15 columns of the row from the search box.
SHORT_LABELS: dict[str, dict[Any, str]] = {
    "#favorite-filter": {FAVORITE_ALL: "All", FAVORITES_ONLY: "Only", NON_FAVORITES: "None"},
    "#collection-filter": {ALL_COLLECTIONS: "All"},
    "#sort-order": {"newest": "Newest", "oldest": "Oldest", "imported": "Imported", "prompt": "Prompt A–Z",
                    "largest": "Largest", "random": "Random", "favorites": "Favorites"},
}
NARROW_BELOW = 120  # the bar's width under which the dropdowns are narrow and show the short labels
# Searches at most once in this time while keys come faster (a held key, a burst of typing): the first key
# searches at once and the value the box holds then is searched when the time is up. (It waited this long after
# every key before: 40 of the 60-100 ms from a key to its result on screen.)
SEARCH_EVERY = 0.04


class FilterBar(Horizontal):
    DEFAULT_CSS = """
    FilterBar { height: 3; padding: 0 1; }
    FilterBar #search { width: 2fr; min-width: 16; }
    /* The closed dropdowns as wide as their longest value ("Favorites Only", "Recently imported"; the
       collection's "All Images"): at 80 columns the search box gives up the room ("All Imag… ▼" before). */
    FilterBar #favorite-filter { width: 20; }
    FilterBar #collection-filter { width: 1fr; min-width: 16; max-width: 26; }
    FilterBar #sort-order { width: 23; }
    /* One line inside the box, cut with an ellipsis: a long value never wraps and breaks the box. */
    FilterBar SelectCurrent { padding: 0 1; }
    FilterBar SelectCurrent Static#label { text-wrap: nowrap; text-overflow: ellipsis; }
    FilterBar SelectCurrent { border-title-color: $text-muted; border-title-align: left; }
    /* The open list as wide as its longest choice (at least the box's width): at 80 columns the choices
       wrapped in a list as narrow as the box ("All / Images", "Non-Favor / ites"); moved left to stay on screen. */
    FilterBar Select > SelectOverlay { width: auto; min-width: 100%; max-width: 60; constrain: inside inside; }
    /* Narrow (80 columns): each dropdown as wide as its title ("Collection" needs 16) and its short values, the
       search box gets the rest (31 columns at 80, where it had 19). */
    FilterBar.-narrow #search { padding: 0 1; }
    FilterBar.-narrow #favorite-filter { width: 15; }
    FilterBar.-narrow #collection-filter { width: 16; min-width: 16; }
    FilterBar.-narrow #sort-order { width: 16; }
    """

    @dataclass(eq=False)
    class Changed(Message):
        """The filters changed (a search at most every SEARCH_EVERY)."""

        bar: FilterBar
        filters: Filters

        @property
        def control(self) -> FilterBar:
            return self.bar

    def __init__(self, *, id: str | None = None, show_favorites: bool = True, show_collections: bool = True,
                 history: SearchHistory | None = None, sort: str = DEFAULT_SORT):
        super().__init__(id=id)
        self.sort = sort  # the order it opens with
        self.history = history
        self._timer: Timer | None = None  # a search due (SEARCH_EVERY)
        self._searched_at = float("-inf")
        self._collections: list[CollectionRecord] = []
        self.show_favorites = show_favorites  # off in the public gallery: favorites are the viewer's own, and so
        self.show_collections = show_collections  # are collections (no "favorites first" order there either)
        self.sorts = SORTS if show_favorites else tuple(s for s in SORTS if s != "favorites")
        if self.sort not in self.sorts:
            self.sort = DEFAULT_SORT

    def compose(self) -> ComposeResult:
        yield SearchInput(self.history, id="search", placeholder="Search…  (/)  ring -blurry seed:>100"
                          + (" is:fav" if self.show_favorites else " model:xl"))
        if self.show_favorites:
            yield Select(FAVORITE_OPTIONS, value=FAVORITE_ALL, allow_blank=False, id="favorite-filter")
        if self.show_collections:
            yield Select([("All Images", ALL_COLLECTIONS)], value=ALL_COLLECTIONS, allow_blank=False,
                         id="collection-filter")
        yield Select([o for o in SORT_OPTIONS if o[1] in self.sorts], value=self.sort, allow_blank=False,
                     id="sort-order")

    def on_mount(self) -> None:
        # Each dropdown's box says what it filters by.
        for selector, title in (("#favorite-filter", "Favorites"), ("#collection-filter", "Collection"),
                                ("#sort-order", "Order (o)")):
            for current in self.query(f"{selector} > SelectCurrent"):
                current.border_title = title
        for selector in SHORT_LABELS:
            for select in self.query(f"{selector}").results(Select):
                self.watch(select, "value", self._relabel_on_change(select), init=False)

    def on_resize(self) -> None:
        narrow = self.size.width < NARROW_BELOW
        if narrow != self.has_class("-narrow"):
            self.set_class(narrow, "-narrow")
            for selector in SHORT_LABELS:
                for select in self.query(f"{selector}").results(Select):
                    self._label(select)

    def _relabel_on_change(self, select: Select):
        def relabel() -> None:  # (after Select's own watcher, which shows the long label)
            self._label(select)
        return relabel

    def _label(self, select: Select) -> None:
        """The closed dropdown shows its value's short label on a narrow bar, the long one else."""
        value = select.selection
        long = next((prompt for prompt, v in self._options_of(select) if v == value), None)
        short = SHORT_LABELS.get(f"#{select.id}", {}).get(value)
        label = short if short is not None and self.has_class("-narrow") else long
        if label is not None:
            for current in select.query("SelectCurrent"):  # Textual exports no type for it: updated as a Static is
                cast(Any, current).update(label)

    def _options_of(self, select: Select) -> list[tuple[Any, Any]]:
        if select.id == "favorite-filter":
            return FAVORITE_OPTIONS
        if select.id == "sort-order":
            return SORT_OPTIONS
        return [(Text("All Images"), ALL_COLLECTIONS)] + [
            (Text(f"{one_line(c.name)} ({c.count:,})"), c.id) for c in self._collections]

    @property
    def filters(self) -> Filters:
        search = self.query_one("#search", Input).value
        favorite = FAVORITE_ALL
        collection = None
        # (each Select is made with allow_blank=False: its `selection` is never None)
        if self.show_favorites:
            favorites: Select[str] = self.query_one("#favorite-filter", Select)
            favorite = favorites.selection or FAVORITE_ALL
        if self.show_collections:
            collections: Select[int] = self.query_one("#collection-filter", Select)
            value = collections.selection
            collection = None if value is None or value == ALL_COLLECTIONS else value
        sorts: Select[str] = self.query_one("#sort-order", Select)
        return Filters(search=search, favorite=favorite, collection_id=collection, sort=sorts.selection or DEFAULT_SORT)

    def cycle_sort(self) -> None:
        """The next order (the `o` key)."""
        select = self.query_one("#sort-order", Select)
        select.value = self.sorts[(self.sorts.index(select.value) + 1) % len(self.sorts)]  # posts Select.Changed

    def remember_search(self) -> None:
        """Keep the search in the history (Enter, or leaving the box)."""
        self.query_one("#search", SearchInput).remember()

    def collection_name(self, collection_id: int | None) -> str | None:
        for c in self._collections:
            if c.id == collection_id:
                return c.name
        return None

    def set_collections(self, collections: list[CollectionRecord]) -> None:
        """Refill the collection dropdown, keeping the choice if it still exists."""
        if not self.show_collections:
            return
        self._collections = list(collections)
        select = self.query_one("#collection-filter", Select)
        current = select.value
        options = self._options_of(select)
        with self.prevent(Select.Changed):
            select.set_options(options)
            select.value = current if any(c.id == current for c in collections) else ALL_COLLECTIONS
        self._label(select)
        if current not in (ALL_COLLECTIONS, select.value):
            self._emit()

    def clear(self) -> None:
        with self.prevent(Input.Changed, Select.Changed):
            self.query_one("#search", Input).value = ""
            if self.show_favorites:
                self.query_one("#favorite-filter", Select).value = FAVORITE_ALL
            if self.show_collections:
                self.query_one("#collection-filter", Select).value = ALL_COLLECTIONS
        self._emit()

    def _emit(self) -> None:
        self._follow_search_sort()
        self.post_message(self.Changed(self, self.filters))

    def _follow_search_sort(self) -> None:
        """One order in effect, shown in one place: a sort:NAME typed in the search sets the Order dropdown (and so
        the order kept for the next start), as if picked there."""
        parsed = parse(self.query_one("#search", Input).value)  # (a query it cannot read changes nothing yet)
        select = self.query_one("#sort-order", Select)
        if not parsed.error and parsed.sort in self.sorts and select.value != parsed.sort:
            with self.prevent(Select.Changed):
                select.value = parsed.sort

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:  # a search is due shortly: it reads what the box holds then
            return
        since = time.monotonic() - self._searched_at
        if since >= SEARCH_EVERY:
            self._emit_search()
        else:
            self._timer = self.set_timer(SEARCH_EVERY - since, self._emit_search)

    def _emit_search(self) -> None:
        self._timer = None
        self._searched_at = time.monotonic()
        self._emit()

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._timer is not None:  # typed since the last search: search now (else it is on screen already)
            self._timer.stop()
            self._emit_search()
        self.remember_search()
        self.post_message(self.Submitted(self))

    @dataclass(eq=False)
    class Submitted(Message):
        """Enter in the search box: the user wants to go to the results."""

        bar: FilterBar

        @property
        def control(self) -> FilterBar:
            return self.bar

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "sort-order":  # `o` or the dropdown: the search box stops naming another order
            box = self.query_one("#search", Input)
            if without_sort(box.value) != box.value:
                with self.prevent(Input.Changed):
                    box.value = without_sort(box.value)
                if self._timer is not None:  # the search due reads the box now
                    self._timer.stop()
                    self._timer = None
        self._emit()
