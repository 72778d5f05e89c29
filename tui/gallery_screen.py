"""The main screen: filters, status line, bulk bar and the card grid."""
from __future__ import annotations

import random
import time
from collections.abc import Collection, Set
from dataclasses import replace
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import Reactive
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Header, Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from store.derived import require_may_save_from
from store.errors import NotFound, StoreError
from store.export import export_images
from store.files import output_folder
from store.library import Library
from store.pages import LibrarySource
from store.pieces import empty, in_order
from store.history import SearchHistory
from store.query import DEFAULT_SORT, SORT_NAMES, collection_term, parse
from store.selection import Selection
from store.records import FAVORITE_ALL, SCOPE_MINE, SCOPE_PUBLIC, CollectionRecord, Count, Filters, ImageRecord
from store.settings import default_downloads
from store.sources import SourceFiles
from store.text import fold, one_line, plural, printable, shell_path
from store.trash import Renamed, renamed_sentence
from widgets.workers import work
from widgets.card import CardAction, ImageCard
from widgets.card_grid import PAGE_SIZE, SIZE_NAMES, CardGrid
from widgets.filter_bar import ALL_COLLECTIONS, SEARCH_TIP, FilterBar
from widgets.key_bar import KeyBar
from widgets.search_history import SearchInput
from widgets.thumbnails import grid_image_class

from .card_menu import CardMenu
from .clipboard import copy_text
from .collections_screen import AddToCollectionScreen
from .compare_screen import CompareScreen
from .confirm_delete import ConfirmDeleteScreen
from .confirm_clean import CLEAN_ASKS_ABOVE, ConfirmCleanScreen
from .duplicates_screen import DuplicatesScreen
from .following import LibraryFollower, error_text, gone_sentence
from .grid_editor_screen import GridEditorResult, GridEditorScreen, editor_key
from .help_screen import keys_of, own_bindings, shown_keys
from .download_folder_screen import DownloadFolderScreen
from .import_screen import ImportScreen
from .info_screen import InfoScreen
from .progress_screen import JobOutcome, ProgressScreen, run_without_progress
from .prompt_screen import PromptScreen
from .sources_screen import open_sources
from .trash_screen import TrashScreen, chunked_job
from .viewer_screen import ViewerScreen

if TYPE_CHECKING:
    from .app import MyImagesApp

CARD_ACTIONS = [
    CardAction("favorite", "♡", "Favorite (f)", "♥"),
    CardAction("prompt", "📋", "View and copy the prompt (p)"),
    CardAction("clean", "🪄", "Clean background (b)"),
    CardAction("download", "⬇", "Download the PNG (s)"),
    CardAction("info", "ℹ", "Info (i)"),
    CardAction("grid", "🎯", "Create grid: cut the sheet into items (g)"),
    CardAction("delete", "🗑", "Delete (d)"),
    CardAction("collect", "📁", "Add to collection (a)"),
]
# The plain set (`--icons plain`, where a terminal draws emoji narrower than Textual counts them and the
# cards' borders shift): each button shows its key; a favorite's is upper case.
PLAIN_ICONS = {"favorite": ("f", "F"), "prompt": ("p", ""), "clean": ("b", ""), "download": ("s", ""),
               "info": ("i", ""), "grid": ("g", ""), "delete": ("d", ""), "collect": ("a", "")}
PUBLIC_NAMES = ("prompt", "download", "info", "grid")


def icon_samples() -> list[str]:
    """Every emoji the cards can show (the terminal is asked how wide it draws each)."""
    return [icon for a in CARD_ACTIONS for icon in (a.icon, a.icon_on) if icon]  # on the public gallery only reading actions exist


def card_actions(*, plain: bool = False, public: bool = False,
                 keys: dict[str, str] | None = None) -> list[CardAction]:
    """The cards' buttons. `plain`: each shows its key; `keys`: the key each action has now, as shown (a keymap
    moved it: `"gallery.favorite" = "ctrl+f"` left every card saying f, a key that did nothing then)."""
    actions = [a for a in CARD_ACTIONS if not public or a.name in PUBLIC_NAMES]
    if plain:
        actions = [CardAction(a.name, icon, a.tooltip, on) for a in actions
                   for icon, on in [plain_icon(a.name, (keys or {}).get(a.name))]]
    return actions


def plain_icon(name: str, shown: str | None) -> tuple[str, str]:
    """A plain button's icon and, for the favorite, its icon when on: the key that runs the action (`shown`, as the
    key bar shows it; "" when the keymap leaves it none, None when it is the one declared)."""
    letter, on = PLAIN_ICONS[name]
    if shown is None or shown == letter:
        return letter, on
    shown = shown or "·"  # no key: the button is clicked, and shows no key that would do nothing
    return shown, ((shown.upper() if shown.upper() != shown else "♥") if on else "")


DELETE_CHUNK = 50  # images deleted per transaction by a bulk delete
SELECT_AT_ONCE = 20_000  # images shown up to which select all and invert are made on the UI thread (a few ms)
UNDO_LEVELS = 20  # deletes made in a window that `u` walks back through, the last first
LOOKED_UP_ONE_BY_ONE = 50  # ids a dialog shows up to which the follower reads each (more: as the selection)
STILL_AT_WORK_AFTER = 1.5  # seconds after which one image's work not done yet is said (a library busy elsewhere)
GONE_NAMED = 5  # images gone elsewhere named per dialog closed for them (a million gone: not a notice each)
ARRIVED_LOOKED_UP = 50  # new images from a source whose places are looked up to say where they landed
# What acts on every selected card (in this order in the status line); the other actions, on the current one.
SELECTION_ACTIONS = ("download", "favorite", "delete", "collect", "clean")
WRITE_ACTIONS = {"favorite", "clean", "delete", "collect", "select", "select_all", "sources", "undo_delete", "trash",
                 "duplicates", "import", "select_range", "invert_selection"}
SELECTING = {"select", "select_all", "select_range", "invert_selection"}  # a read-only library still selects
READ_ONLY_NOTICE = 3  # seconds: a burst of write keys in the public gallery is told once
# the status line until the first result shows; past READING_SLOW seconds while the search index is made (a library
# opened with no index saved, or one too old to catch up: 1,000,000 images take 40 s on 2 quiet cores) it says so
READING = "Reading the library…"
INDEXING = "making its search index, once (about 4 s per 100,000 images)"
READING_SLOW = 2.0
FOCUS_GRID_AT_MOST = 0.9  # seconds after Enter in the search box: the grid gets the focus even without results
FOCUS_GRID_LATE = 4.0  # seconds a busy machine may add to that timer: the keys typed after Enter wait that long at most


class GalleryScreen(Screen):
    if TYPE_CHECKING:  # always on the My Images app (tui/app.py, which imports this module)
        app: MyImagesApp

    HELP_TITLE = "Gallery"
    BINDINGS = [
        Binding("slash", "focus_search", "Search", id="gallery.search"),
        Binding("o", "cycle_sort", "Order", id="gallery.sort"),
        Binding("escape", "back", "Back", id="gallery.back"),
        Binding("enter", "view", "View", id="gallery.view"),
        Binding("f", "favorite", "Favorite", id="gallery.favorite"),
        Binding("p", "prompt", "Prompt", id="gallery.prompt"),
        Binding("b", "clean", "Clean bg", id="gallery.clean"),
        Binding("s", "download", "Download", id="gallery.download"),
        Binding("ctrl+s", "download_folder", "Download folder", show=False, id="gallery.download_folder"),
        Binding("i", "info", "Info", id="gallery.info"),
        Binding("g", "grid", "Grid", id="gallery.grid"),
        Binding("d", "delete", "Delete", id="gallery.delete"),
        Binding("a", "collect", "Collection", id="gallery.collect"),
        Binding("y", "copy_path", "Copy path", show=False, id="gallery.copy_path"),
        Binding("Y", "copy_folder", "Copy folder", show=False, id="gallery.copy_folder"),
        Binding("space", "select", "Select", id="gallery.select"),
        Binding("ctrl+a", "select_all", "Select all", id="gallery.select_all"),
        Binding("V", "select_range", "Select a range", show=False, id="gallery.select_range"),
        Binding("asterisk", "invert_selection", "Invert selection", show=False, id="gallery.invert_selection"),
        Binding("v", "public_view", "Public gallery", id="gallery.public_view"),
        Binding("v", "my_view", "My images", id="gallery.my_view"),
        Binding("plus,equals_sign", "card_size(1)", "Bigger cards", show=False, id="gallery.bigger_cards"),
        Binding("minus", "card_size(-1)", "Smaller cards", show=False, id="gallery.smaller_cards"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="gallery.refresh"),
        Binding("w", "sources", "Sources", id="gallery.sources"),
        Binding("I", "import", "Import", id="gallery.import"),
        Binding("u", "undo_delete", "Undo delete", show=False, id="gallery.undo_delete"),
        Binding("t", "trash", "Trash", show=False, id="gallery.trash"),
        Binding("D", "duplicates", "Duplicates", show=False, id="gallery.duplicates"),
        Binding("c", "compare", "Compare", show=False, id="gallery.compare"),
        Binding("S", "toggle_stacks", "Stacks on/off", show=False, id="gallery.stacks"),
        Binding("q", "app.quit", "Quit", id="gallery.quit"),
    ]
    # Textual's own repaints the whole screen whenever the focus moves (its `focused` is a repainting reactive):
    # a full screen of cards, 15 to 28 ms at 160x48, each time the search box, a dropdown or the grid took the
    # focus (issue 11). What shows the focus (a border, a cursor, the cards' -current) is restyled and repainted
    # by the widgets concerned.
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    def __init__(self, library: Library, image_mode: str, *, public: bool = False, sort: str = DEFAULT_SORT,
                 stacks: bool = True) -> None:
        super().__init__()
        self.library = library
        self.image_mode = image_mode
        self.public = public
        self.scope = SCOPE_PUBLIC if public else SCOPE_MINE
        self.stacks = stacks  # batches (seed variations) shown as one stack card (S; the settings file's stacks)
        self._stack_cover: int | None = None  # an opened stack: the card Esc goes back to
        # the order: the settings file's, kept when changed
        if public and sort == "favorites":  # favorites are each account's own: not an order of the public gallery
            sort = DEFAULT_SORT
        self.filters = Filters(scope=self.scope, sort=sort, stacked=stacks)
        # an estimate ("about N") for a large result on PostgreSQL until the grid reads the result's end
        self.shown = Count(0)  # cards: a stack counts once
        self.images = Count(0)  # images the filters let through
        self.total = Count(0)
        self._warmed = False
        self._others: tuple[Count, list[str]] | None = None  # an empty library: the public gallery's count and owners
        self._answered = False  # a result has been shown (until then the status line says it is being read)
        self._query_started: float | None = None  # when the result on its way was asked for (`_ask`)
        self._pending: Filters | None = None  # the filters of the result asked for and not shown yet
        self._mounted_at = time.monotonic()
        self._focus_grid_when_shown = False  # Enter in the search box: the grid gets the focus with the results
        self._read_only_said, self._read_only_text = 0.0, ""
        self._failed = False  # the last search could not run: Enter and Ctrl+R run the filter bar's again
        self._card_alone = False  # a card's own button on a card outside the selection: it acts on that card alone
        self._deletes_running = 0  # deletes asked for here and not done yet
        self._undo_waiting = False  # u pressed while one ran: undone once it is done
        # changes made elsewhere (tui/following.py); its token: the library's when the grid was last loaded
        self.follower = LibraryFollower(self, library, group="changes", read=self._read_changes,
                                        apply=self._library_changed, seen=self._seen, ready=self._top_gallery,
                                        rereads=True)
        # the collections the dropdown lists, as last read by a change check
        self._collections: list[CollectionRecord] | None = None
        self.hint = ""  # what in the search cannot be read (the grid keeps the last good result)
        self.hint_listed = False
        self.highlight_words: tuple[str, ...] = ()  # the searched words, marked in the cards' prompts
        self._seed = random.randrange(1, 2**31)  # the random order's: stable until Random is picked again
        # this window's deletes, the last on top, each with where the cursor was (u goes back there): `u` walks
        # back through them as an editor's undo does (NEWUSER6 §7: it was one level deep and then said, untrue,
        # that no image was deleted here)
        self._undo: list[tuple[Selection, int | None]] = []
        self._undo_dropped = False  # deletes older than UNDO_LEVELS were let go (they stay in the trash)
        self._undone = False  # a delete made here was undone
        self._done_in_trash: dict[int, str] = {}  # id -> "restored" / "erased for good" in this window's trash view
        self._deleting: Set[int] = Selection()  # what a delete asked for here moves to the trash (no "was deleted" notice)
        self._select_keys: list[str] = []  # select all / invert keys whose worker is under way (`_select_shown`)

    def compose(self) -> ComposeResult:
        yield Header()
        yield FilterBar(id="filters", show_favorites=not self.public, show_collections=not self.public,
                        history=SearchHistory(self.library.root, self.library.account.name,
                                              lambda text: self.library.search_problem(text, self.scope)),
                        sort=self.filters.sort)
        # One line for the status and, while cards are selected, the bulk bar in its place: selecting
        # never changes the grid's height (the cards do not move).
        with Horizontal(id="status-row"):
            yield Static("", id="status")
            if not self.public:  # read only: nothing to select, nothing to act on
                with Horizontal(id="bulk-bar"):
                    yield Static("", id="bulk-count")
                    yield Button("Delete Selected", id="bulk-delete", variant="error", compact=True)
                    yield Button("Add to Collection", id="bulk-collect", variant="primary", compact=True)
                    yield Button("Clear Selection", id="bulk-clear", compact=True)
                    yield Static("", id="bulk-keys")
        yield CardGrid(card_actions(plain=self.app.plain_icons, public=self.public, keys=self._card_keys()),
                       grid_image_class(self.image_mode),
                       id="grid", owner_visible=self.public, card_size=self.app.settings.card_size)
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = "My Images"
        try:
            account = self.library.refresh_account()
        except StoreError as exc:  # the database is locked or unreachable: the rest is retried as it goes
            self._fail(exc)
            account = self.library.account
        if self.public:
            self.sub_title = "Public gallery — the images of every free account (read only)"
        else:
            self.sub_title = self._account_line(account)
        self._refresh_collections()
        self.grid.stack_members = self._stack_members
        self.set_focus(self.grid)
        self._mounted_at = time.monotonic()
        self.reload()
        self.set_timer(READING_SLOW + 0.1, self._update_status)  # still reading then: the status says why
        self.follower.start()

    def _stack_members(self, record: ImageRecord) -> set[int]:
        """Every image of a stack card's batch that the filters show (one indexed query: a batch is small), so
        that selecting the card selects them all, as select-all (every image of every stack) does."""
        try:
            return set(self.library.ids(replace(self.filters, batch=record.batch, stacked=False)))
        except StoreError as exc:
            self._fail(exc)
            return {record.id}

    @property
    def grid(self) -> CardGrid:
        return self.query_one("#grid", CardGrid)

    # -- loading results ---------------------------------------------------

    def reload(self, *, keep_position: bool = False, focus_index: int | None = None) -> None:
        self._ask(self.filters, keep_position, focus_index)

    def _ask(self, filters: Filters, *args, **kwargs) -> None:
        """run_query, its filters kept as the result on its way (`_run_filters` does not ask for it again), and
        when it was asked: still on its way READING_SLOW later, the status line says why (`_update_status`)."""
        self._pending, self._query_started = filters, time.monotonic()
        self.set_timer(READING_SLOW + 0.1, self._update_status)
        self.run_query(filters, *args, **kwargs)

    @work(thread=True, exclusive=True, group="query", exit_on_error=False)
    def run_query(self, filters: Filters, keep_position: bool, focus_index: int | None,
                  focus_id: int | None = None, follow_top: bool = False,
                  arrived: tuple[list[int], str, str] | None = None) -> None:
        """`follow_top`: the grid was at its first card, and stays there when images land above it (the new ones
        show). `arrived`: new images from a source and their notice, which says where they are once this result
        shows (NEWUSER5 §11: they landed above the view and nothing said so)."""
        worker = get_current_worker()
        where: int | None = None  # the first place of the new images in this result (None: not in it)
        try:
            with self.library.connection():
                problem = self.library.search_problem(filters.search, filters.scope)
                if problem:  # the grid keeps the last good result; the status line says what is wrong
                    self.app.call_from_thread(self._show_hint, problem, bool(parse(filters.search).error_more))
                    return
                token = self.library.change_token()  # before reading: none missed
                if focus_id is not None:  # keep the focused card, wherever it moved
                    found = self.library.position(focus_id, filters)
                    focus_index = found if found is not None else focus_index
                if keep_position:
                    shown, first = self.library.estimate(filters), None
                else:
                    shown, first = self.library.query(filters, 0, PAGE_SIZE)
                images = self.library.estimate(replace(filters, stacked=False)) if filters.stacked else shown
                total = self.library.estimate(Filters(scope=filters.scope)) if filters.active else images
                others = None
                if not self.public and not filters.active and total.n == 0:  # what a new teammate can look at
                    others = (self.library.estimate(Filters(scope=SCOPE_PUBLIC)), self.library.public_owners())
                if arrived is not None:  # (a few of them tell: a whole folder's are looked up one by one)
                    places = [self.library.position(i, filters) for i in arrived[0][:ARRIVED_LOOKED_UP]]
                    where = min((p for p in places if p is not None), default=None)
                if self.library.catalog is not None and self.library.catalog.behind:
                    # another process's latest changes are taken in a moment later: look again at the next tick
                    token = (self.library.catalog.version, -1)
        except NotFound:  # the collection filtered on was deleted meanwhile
            self.app.call_from_thread(self._set_collections, self.library.collections(), True)
            if arrived is not None:
                self.app.call_from_thread(self._new_images_notice, arrived[1], -1, arrived[2])
            return
        if not worker.is_cancelled:
            self.follower.token = token
            self.app.call_from_thread(self._show_result, filters, shown, total, first, keep_position, focus_index,
                                      images, follow_top, arrived, where, others)
        elif arrived is not None:  # a newer reload took its place: the notice still comes
            self.app.call_from_thread(self._new_images_notice, arrived[1], -1, arrived[2])

    def _set_collections(self, collections, answered: bool = False) -> None:
        """The collection dropdown refilled; the collection looked at gone (deleted elsewhere): said, and the
        dropdown goes back to All Images. One looked at renamed elsewhere: the dropdown and the status line take
        the new name; a search's `in:OLD` is the user's text, left as typed: the reload's hint says it names no
        collection, and a notice says what it was renamed to."""
        if answered:  # the answer to the query on its way (its collection was gone)
            self._pending = self._query_started = None
        bar = self.query_one("#filters", FilterBar)
        looked_at = self.filters.collection_id
        if looked_at is not None and looked_at != ALL_COLLECTIONS and all(c.id != looked_at for c in collections):
            self.notify("The collection you were looking at was deleted elsewhere: showing All Images.",
                        title="Collection gone", severity="warning")
        searched = {fold(" ".join(str(term.value).split())) for group in parse(self.filters.search).groups
                    for term in group if term.field == "in"}
        for collection in collections:
            old = bar.collection_name(collection.id)
            if old is not None and old != collection.name and fold(old) in searched:
                self.notify(f'"{one_line(old)}" was renamed "{one_line(collection.name)}" elsewhere: '
                            f"{one_line(collection_term(old))} finds it no more, "
                            f"{one_line(collection_term(collection.name))} does.",
                            title="Collection renamed", severity="warning", markup=False)
        bar.set_collections(collections)

    def _show_result(self, filters: Filters, shown: Count, total: Count, first: list[ImageRecord] | None,
                     keep_position: bool, focus_index: int | None, images: Count | None = None,
                     follow_top: bool = False, arrived: tuple[list[int], str, str] | None = None,
                     where: int | None = None, others: tuple[Count, list[str]] | None = None) -> None:
        if follow_top and self.grid.cursor == 0 and self.grid.top_row == 0:  # (not moved meanwhile)
            focus_index = 0
        self.filters = filters
        self._answered = True
        if filters == self._pending:  # a newer ask on its way keeps its own (its time, the index-wait timer)
            self._query_started, self._pending = None, None
        self.shown, self.total = shown, total
        self.images = shown if images is None else images
        self.hint, self._failed = "", False
        self._others = others
        self._set_highlight(parse(filters.search).words)
        grid = self.grid
        grid.empty_message = self._empty_message()
        grid.load(LibrarySource(self.library, filters, shown.hint), shown, first, keep_position=keep_position,
                  focus_index=focus_index)
        self._update_status()
        if arrived is not None:
            self._new_images_notice(arrived[1], where, arrived[2])
        self._focus_grid_now()  # after Enter in the search box
        if not self._warmed:
            self._warmed = True
            self.call_after_refresh(self.warm_up)

    @on(CardGrid.Counted, "#grid")
    def _counted(self, event: CardGrid.Counted) -> None:
        """The grid read the end of a result first counted by an estimate (or found the estimate short)."""
        count = event.count
        self.shown = count
        # a stacked result's count is of cards: its images' counts stay (the library's total took the cards'
        # count, "about 3,200 of 3,175 images · 3,175 cards": NEWUSER7 #24)
        if not self.filters.stacked:
            self.images = count
            if not self.filters.active:
                self.total = count
        elif not self.images.exact and self.images.n < count.n:  # an estimate below the cards: at least as many
            self.images = Count(count.n, exact=False, at_least=True)
            if not self.filters.active:
                self.total = self.images
        self._update_status()

    @work(thread=True, group="catalog", exit_on_error=False)
    def warm_up(self) -> None:
        """Build the search catalog once the first cards are on screen, so the first search is quick."""
        with self.library.connection():
            self.library.warm_up()

    # -- following the library -----------------------------------------------
    # Imports, deletions, favorites and plan changes made by another process (or
    # another user) show by themselves (tui/following.py): only a changed token
    # reloads the grid, keeping the focused card.

    def _top_gallery(self) -> bool:
        """The public gallery on top follows the library for both."""
        galleries = [s for s in self.app.screen_stack if isinstance(s, GalleryScreen)]
        return not galleries or galleries[-1] is self

    def _seen(self) -> tuple:
        # the selection and the dialogs' images as they are, read in the worker (`_read_changes`): with a million
        # images selected, a copy of the selection here took 56 ms of the UI thread at every poll, and the ids of a
        # collections dialog over them, put in a dict by id, 300-440 ms (issue 11)
        return self.follower.token, self._shown_elsewhere(), self.grid.selected

    def _shown_elsewhere(self) -> list[tuple[Screen, Collection[int]]]:
        """The screens above this one that show images (dialogs, the large view), each with the ids it shows (a
        dialog's, as it holds them: not copied)."""
        shown: list[tuple[Screen, Collection[int]]] = []
        stack = self.app.screen_stack
        for screen in stack[stack.index(self) + 1:] if self in stack else []:
            record = getattr(screen, "record", None)
            ids = (record.id,) if isinstance(record, ImageRecord) else getattr(screen, "image_ids", ())
            if ids:
                shown.append((screen, ids))
        return shown

    def _read_changes(self, seen: tuple, force: bool) -> tuple | None:
        """(In the follower's worker, the library changed since the grid was loaded.) What went of the images
        the screens above show and of the selection, the account and the collections; None when the grid would
        show the same."""
        since, shown, selected = seen
        catalog = self.library.catalog
        if not force and catalog is not None and since is not None and since[1] == -1:
            catalog.sync()  # the grid shows the catalog at version since[0]: it takes changes in when due
            if catalog.version == since[0]:
                return None  # nothing taken in yet (another process's, batched): the grid would show the same
        unselect = selected - self.library.own_existing(selected) if selected else Selection()
        showing: dict[int, list[Screen]] = {}  # the images gone that a screen above shows -> those screens
        for screen, ids in shown:
            if len(ids) <= LOOKED_UP_ONE_BY_ONE:  # (a public image too: `get`)
                missing: Collection[int] = [i for i in ids if not self._still_there(i)]
            else:  # a dialog over a selection (its own images): as the selection is looked at
                missing = ids & unselect if ids is selected else Selection(ids) - self.library.own_existing(ids)
            for image_id in list(islice(missing, GONE_NAMED)):
                showing.setdefault(image_id, []).append(screen)
        account = self.library.refresh_account()
        collections = None if self.public else self.library.collections()
        return list(showing), list(showing.values()), unselect, account, collections, force

    def _still_there(self, image_id: int) -> bool:
        """(In a worker.) The image can still be read here."""
        try:
            self.library.get(image_id)
        except NotFound:
            return False
        return True

    def _library_changed(self, token: tuple[int, int], answer: tuple) -> None:
        """Close the dialogs of images that went away, drop them from the selection, and reload the grid."""
        gone, screens, unselect, account, collections, force = answer
        # A large view on this gallery is not closed: it follows the grid, which is read again below.
        closing = {screen for group in screens for screen in group
                   if not (isinstance(screen, ViewerScreen) and screen.gallery is self)}
        for image_id, showing in zip(gone, screens):
            if image_id in self._deleting:
                continue  # deleted here (from a large view, say), not elsewhere
            # a linked image also goes when its file leaves its source folder (NEWUSER12 F8: "deleted elsewhere" alone
            # for a file rm'd in the generator's folder)
            text = gone_sentence(image_id)
            if any(screen in closing for screen in showing):
                self.notify(f"{text}; its dialog was closed.", title="Closed", severity="warning")
            else:  # this gallery's large view: it goes on with the next image
                self.notify(f"{text}; the large view shows the next one.", title="Image gone", severity="warning")
        while self.app.screen in closing:  # the dialogs showing a vanished image, from the top
            screen = self.app.screen
            closing.discard(screen)
            screen.dismiss(None)
        if not self.public:
            self.sub_title = self._account_line(account)
            if collections != self._collections:
                self._collections = collections
                self._set_collections(collections)
        self.grid.deselect(unselect | gone)
        if self.follower.token == token and not force:
            return  # a reload of this screen's own (after its own change) got there first
        if not force and any(w.node is self and w.group == "query" and not w.is_finished for w in self.app.workers):
            return  # a reload of its own is under way (with the card to focus): it would be cancelled; next tick
        current = self.grid.current
        self._ask(self.filters, True, None, current.id if current else None, self._at_top())

    def _at_top(self) -> bool:
        return self.grid.cursor == 0 and self.grid.top_row == 0

    def images_arrived(self, ids: list[int], text: str, title: str = "New images") -> None:
        """New images from a source folder (or images back): read the library again, then say where they are."""
        current = self.grid.current
        self._ask(self.filters, True, None, current.id if current else None, self._at_top(), (ids, text, title))

    def _new_images_notice(self, text: str, where: int | None = -1, title: str = "New images") -> None:
        """`where`: the first new image's place in the result shown (None: not in it; -1: not known)."""
        grid = self.grid
        first_shown = grid.top_row * grid.columns
        if where is None:
            text += " (not in this view: the search or the filters leave them out)"
        elif 0 <= where < first_shown:
            text += " (above the cards shown: Home shows them)" if where < grid.columns * grid.rows else \
                f" (above the cards shown, from card {where + 1:,})"
        elif where >= first_shown + grid.columns * grid.rows:
            text += f" (below the cards shown, from card {where + 1:,})"
        self.notify(text, title=title, markup=False)

    def action_refresh(self) -> None:
        """Read the library again now (it also follows changes by itself within a second or two); a search that
        could not run, run again."""
        if self._failed:
            self._run_filters(self.query_one("#filters", FilterBar).filters)
            return
        self.follower.check(force=True)

    def _empty_message(self) -> str:
        if self.public and self.total.n == 0:
            return "No public images yet: the images of free accounts appear here.\n\nPress v to go back."
        if self.total.n == 0 and not self.filters.active:
            start = ("Your library is empty.\n\nPress I to import a file or a folder of images, or w to follow the "
                     "folder your generator writes to.\n")
            public, owners = self._others or (None, [])
            if public is not None and public.n:  # a teammate's first look (new-user test 7 #27): the team's images
                names = [one_line(name) for name in owners[:3]] + (["others"] if len(owners) > 3 else [])
                whose = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
                return (start + f"The public gallery holds {public} {'image' if public.n == 1 else 'images'}"
                        + (f" of {whose}" if whose else "")
                        + ": press v to see them.\nOn the command line:  myimages import PATH…  ·  myimages list "
                        "--public")
            return start + "On the command line:  myimages import PATH…  (or try the demo library:  myimages --demo)"
        description = self.filters.describe(self._collection_name())
        return (f"No images match: {one_line(description)}.\n\n"
                "Clear the search (/ then delete the text) or set the dropdowns back to All Images.")

    def _collection_name(self) -> str | None:
        return self.query_one("#filters", FilterBar).collection_name(self.filters.collection_id)

    def _update_status(self) -> None:
        catalog = self.library.catalog
        indexing = catalog is not None and not catalog.ready
        if not self._answered and not self.hint:  # no answer yet: not "0 of 0 images", which reads as an empty library
            slow = indexing and time.monotonic() - self._mounted_at > READING_SLOW
            self.query_one("#status", Static).update(Text(f"{READING} {INDEXING}" if slow else READING), layout=False)
            return
        started = self._query_started
        if indexing and started is not None and time.monotonic() - started > READING_SLOW:  # a search waits for it
            self.query_one("#status", Static).update(
                Text(f"Searching… {INDEXING} · still showing {self.images} of {self.total} images"), layout=False)
            return
        text = f"{self.images} of {self.total} images"
        if self.filters.active:
            text += " · " + one_line(self.filters.describe(self._collection_name()))
        if self.filters.batch is not None:
            text += " (Esc goes back)"
        elif self.filters.stacked and self.shown.n < self.images.n:
            # "same settings": a batch may hold images of one seed too (made again), not only seed variations
            text += f" · {plural(self.shown, 'card')}: same settings stacked (S shows each)"
        sort = parse(self.filters.search).sort or self.filters.sort
        if sort != DEFAULT_SORT:
            text += f" · {SORT_NAMES.get(sort, sort)}"
        status = Text(text)
        if self.hint:  # the hint fits 80 columns; F1's search help lists every field and order it refers to
            hint = "⚠ " + one_line(self.hint)
            room = self.query_one("#status", Static).content_size.width
            more = " · F1 lists them" if self.hint_listed and len(hint) + 16 <= room else ""
            tail = f" · last result kept: {text}"  # one wording, the count left out when short of room (NEWUSER8 #13)
            if len(hint) + len(more) + len(tail) > room:  # the hint whole (it says what to change), the rest short
                tail = next((t for t in (" · last result kept", "") if len(hint) + len(more) + len(t) <= room), "")
            status = Text.assemble((hint, f"bold {self.app.current_theme.warning}"), f"{more}{tail}")
        elif isinstance(self.focused, SearchInput) and not self.focused.value:
            status.append(" · " + SEARCH_TIP)
        line = self.query_one("#status", Static)
        line.update(status, layout=False)  # one fixed line
        # a description longer than the line (many conditions): all of it under the mouse
        line.tooltip = text if len(status) > line.content_size.width and not self.hint else None
        if self.public:
            return
        count = len(self.grid.selected)
        bar = self.query_one("#bulk-bar")
        if bar.display != (count > 0):
            bar.display = count > 0
            self.query_one("#status").display = count == 0
        if count:
            self.query_one("#bulk-count", Static).update(f"{count:,} selected")
            self.query_one("#bulk-keys", Static).update(self._selection_keys(), layout=False)

    def _card_keys(self) -> dict[str, str]:
        """The first key of each card action's binding as bound now (the user's keymap too), as shown: "" for none."""
        keys: dict[str, str] = {}
        for binding in own_bindings(GalleryScreen):
            if binding.action in PLAIN_ICONS and binding.action not in keys:
                first = keys_of(self.app, binding)[:1]
                keys[binding.action] = self.app.get_key_display(Binding(first[0], "")) if first else ""
        return keys

    def _selection_keys(self) -> Text:
        """The keys that act on the selection, as bound now (the user's keymap too)."""
        keys = [shown_keys(self.app, b) for b in own_bindings(GalleryScreen) if b.action in SELECTION_ACTIONS]
        escape = "Esc goes back" if self.filters.batch is not None else "Esc clears"  # an opened stack: out first
        return Text(" ".join(keys) + f" act on them · {escape}", no_wrap=True, overflow="ellipsis")

    @on(FilterBar.Changed)
    def _filters_changed(self, event: FilterBar.Changed) -> None:
        self._run_filters(event.filters)

    def _run_filters(self, filters: Filters) -> None:
        """The filter bar's filters (the search, the dropdowns, the order) as the result to show: not asked again
        while the same result is on its way or shown (the bar's first Changed after on_mount's reload, one per
        dropdown: four queries at start-up, each a stacked count, 5 s at 1,000,000 images in one run in seven),
        unless the last query failed (Enter and Ctrl+R try it again)."""
        failed, self._failed = self._failed, False
        if filters.sort != self.filters.sort:
            self.app.remember(sort=filters.sort)  # the order the gallery opens with next time
        random_now = filters.sort == "random" or parse(filters.search).sort == "random"
        if random_now and not self.filters.seed:  # Random picked (again): a new shuffle, stable while it stays
            self._seed = random.randrange(1, 2**31)
        seed = self._seed if random_now else 0
        wanted = replace(filters, scope=self.scope, seed=seed, stacked=self.filters.stacked, batch=self.filters.batch)
        if not failed and wanted == (self._pending if self._pending is not None else self.filters):
            return
        self._ask(wanted, False, None)

    @on(Worker.StateChanged)
    def _query_failed(self, event: Worker.StateChanged) -> None:
        """A search that could not run (the database unreachable a moment: the app's notice says why) keeps the
        last result, and the status line says that Enter or Ctrl+R runs it again (new-user test 7 #23: the box
        said "owl" while the cards stayed "dragon", and neither key ran it again)."""
        if event.worker.group == "query" and event.worker.node is self and event.state == WorkerState.ERROR:
            self._failed, self._pending, self._query_started = True, None, None
            self.hint, self.hint_listed = "this search could not run: Enter or Ctrl+R tries again", False
            self._update_status()

    # -- the search language: hints, the order, highlighted matches ------------------

    def _show_hint(self, problem: str, listed_in_help: bool = False) -> None:
        self.hint, self._query_started, self._pending = problem, None, None
        self.hint_listed = listed_in_help  # the hint refers to every field or order: F1's search help lists them
        self._update_status()
        self._focus_grid_now()

    def _set_highlight(self, words: tuple[str, ...]) -> None:
        if words != self.highlight_words:
            self.highlight_words = words
            for card in self.grid.query(ImageCard):
                card.rehighlight()

    def action_card_size(self, step: int) -> None:
        """+ and -: the next card size up or down (small, medium, large), kept in the settings file."""
        grid = self.grid
        index = SIZE_NAMES.index(grid.wanted_size) + step  # (from a switch still drawing its thumbnails too)
        if not 0 <= index < len(SIZE_NAMES):
            self.notify(f"The cards are already {grid.wanted_size}: {'-' if step > 0 else '+'} makes them "
                        f"{'smaller' if step > 0 else 'bigger'}.", timeout=3)
            return
        grid.set_card_size(SIZE_NAMES[index])
        self.app.remember(card_size=grid.wanted_size)
        for screen in self.app.screen_stack:  # the gallery under the public one follows
            if isinstance(screen, GalleryScreen) and screen is not self:
                screen.grid.set_card_size(grid.wanted_size)

    def action_cycle_sort(self) -> None:
        self.query_one("#filters", FilterBar).cycle_sort()

    def on_descendant_focus(self) -> None:
        self._update_status()  # the search box shows a tip on the syntax while it is empty

    def on_descendant_blur(self) -> None:
        self._update_status()

    @on(FilterBar.Submitted)
    def _search_submitted(self, event: FilterBar.Submitted) -> None:
        """Enter in the search box: to the grid once it shows what was searched, so that the keys
        typed next (which wait for the focus to move: tui/key_order.py) act on those results."""
        if self._failed:  # the search typed could not run: Enter tries again
            self._run_filters(event.bar.filters)
        if event.bar.filters.search == self.filters.search:
            self.set_focus(self.grid)
        else:
            self._focus_grid_when_shown = True
            self.set_timer(FOCUS_GRID_AT_MOST, self._focus_grid_now)
            # the keys typed after Enter wait for the focus to move, however late the timer runs on a busy machine
            self.app.key_order.focus_moves_soon(FOCUS_GRID_AT_MOST + FOCUS_GRID_LATE)

    def _focus_grid_now(self) -> None:
        if self._focus_grid_when_shown:
            self._focus_grid_when_shown = False
            self.set_focus(self.grid)

    @on(CardGrid.SelectionChanged)
    def _selection_changed(self) -> None:
        self._update_status()

    @on(CardGrid.ActionRequested)
    async def _card_action(self, event: CardGrid.ActionRequested) -> None:
        if event.action == "more":  # a small card's ⋯: the buttons it has no room for, in a menu
            names = {a.name for a in event.hidden}
            keys = {key: b.action for b in self.BINDINGS if isinstance(b, Binding) and b.action in names
                    for key in keys_of(self.app, b)}  # the keys the menu names run its actions in it too
            self.app.push_screen(CardMenu(event.record.id, list(event.hidden), keys), self._menu_chosen)
            return
        if event.action in self.blocked:
            self.say_read_only()  # a write button where writing is refused: said, not silently ignored
            return
        await self._on_card(event.record.id, event.action)

    async def _menu_chosen(self, action: str | None) -> None:
        if action is None:
            return
        if action in self.blocked:
            self.say_read_only()
            return
        current = self.grid.current  # the card whose ⋯ was pressed
        if current is not None:
            await self._on_card(current.id, action)

    async def _on_card(self, image_id: int, action: str) -> None:
        """A card's button (or its ⋯ menu) acts on the selection when that card is part of it, else on that card
        alone: a ♡ clicked on a card outside the selection favorited the selected cards, 🗑 (or Delete in the menu
        titled "Image #52") asked to delete the selected #53 (NEWUSER13 #7)."""
        self._card_alone = image_id not in self.grid.selected
        try:
            await self.run_action(action)  # runs check_action first, as a key would
        finally:
            self._card_alone = False

    @on(CardGrid.Opened)
    def _opened(self) -> None:
        self.action_view()

    @on(CardGrid.Highlighted)
    def _highlighted(self) -> None:
        """A large view open on this gallery shows the image under the grid's cursor."""
        for screen in self.app.screen_stack:
            if isinstance(screen, ViewerScreen) and screen.gallery is self:
                screen.follow()

    # -- actions -----------------------------------------------------------

    def _current(self) -> ImageRecord | None:
        record = self.grid.current
        if record is None:
            self.notify("Still loading: try again in a moment." if self.grid.is_loading(self.grid.cursor)
                        else "No image here.", severity="warning")
        return record

    def _targets(self) -> Selection:
        """The selection if there is one, else the current image; none, said, while a select all is being made.
        The grid's own selection, as it is: nothing changes a Selection, and a copy of a million ids here (a list)
        took 31-40 ms of the UI thread at each d, s, f, b or a (issue 11)."""
        if self._select_keys:
            self.notify("Still selecting: try again in a moment.", severity="warning")
            return Selection()
        if self.grid.selected and not self._card_alone:
            return self.grid.selected
        record = self._current()
        return Selection((record.id,)) if record else Selection()

    def collections_changed_here(self) -> None:
        """A collection made, renamed or deleted in the collections dialog: the dropdown and the status line now
        (a change check read before is dropped: it would put the old names back, or say "elsewhere")."""
        self.follower.changed()
        self._refresh_collections()  # read in a worker, as at start-up: each collection's count (85 ms at 1,000,000)

    @work(thread=True, exclusive=True, group="collections", exit_on_error=False)
    def _refresh_collections(self) -> None:
        """The collection dropdown from the library (left as it is if the library cannot be read now), read off
        the UI thread: each collection's count (85 ms at start-up on 1,000,000 images)."""
        try:
            with self.library.connection():
                collections = self.library.collections()
        except StoreError as exc:
            self.app.call_from_thread(self._fail, exc)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_collections, collections)

    def _show_collections(self, collections) -> None:
        if self.is_attached:
            self._collections = collections
            self.query_one("#filters", FilterBar).set_collections(collections)
            self._update_status()

    def _succeeded(self, outcome: JobOutcome | None) -> TypeGuard[JobOutcome]:
        """A job's outcome to act on: not closed without one, not failed (said)."""
        if outcome is not None and outcome.error is not None:
            self._fail(outcome.error)
        return outcome is not None and outcome.error is None

    def _fail(self, exc: BaseException) -> None:
        self.notify(error_text(exc), title="Not done", severity="error", markup=False, timeout=12)  # time to read it

    def _account_line(self, account) -> str:
        """The header's subtitle: who you are, and a library you may not change said at once."""
        line = f"{one_line(account.name)} · {account.privacy_text}"
        return f"{line} · read only" if self.library.read_only else line

    @property
    def blocked(self) -> set[str]:
        """The actions this gallery refuses (said at once): every write in the public gallery; in a library
        this user may not change (or on a full disk), every write but selecting (downloads still work) and the trash."""
        if self.public:
            return WRITE_ACTIONS
        # the trash opens to look, and on a full disk to erase from it (which makes room: store/room.py)
        return WRITE_ACTIONS - SELECTING - {"trash"} if self.library.read_only else set()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.public and action == "public_view":
            return False
        if action in self.blocked:
            return False
        if not self.public and action == "my_view":
            return False
        return True

    def action_public_view(self) -> None:
        self.app.push_screen(GalleryScreen(self.library, self.image_mode, public=True, sort=self.filters.sort,
                                           stacks=self.stacks))

    _left = False  # the public gallery dismissed already (`action_my_view`)

    def action_my_view(self) -> None:
        """Back from the public gallery: once, and only from on top (`v v` at once dismissed it twice: the screen
        under it popped too, or the answer given again ended the app; fuzz seed 17, NEWUSER14)."""
        if self._left or self.app.screen is not self:
            return
        self._left = True
        self.dismiss()

    def action_focus_search(self) -> None:
        # At once, not with focus() (which waits for the keys already queued): everything
        # typed after "/", however fast it arrives, lands in the search box.
        self.set_focus(self.query_one("#search", Input))

    def action_back(self) -> None:
        if not self.grid.has_focus:
            self.set_focus(self.grid)
        elif self.filters.batch is not None:
            self.close_stack()  # out of an opened stack first: the selection made around it stays
        else:
            self.grid.clear_selection()

    # -- variation stacks (store/stacks.py) ---------------------------------------------

    def open_stack(self, record: ImageRecord) -> None:
        """Show the images of a stack (Esc comes back to the stack card)."""
        self._stack_cover = record.id
        self._ask(replace(self.filters, batch=record.batch, stacked=False), False, None)

    def close_stack(self) -> None:
        """Back to every image with the search, dropdowns and order in effect now: what was searched inside the
        stack (the search box shows it) stays searched, on the stack card when it is in the result."""
        cover, self._stack_cover = self._stack_cover, None
        self._ask(replace(self.filters, batch=None, stacked=self.stacks), False, 0, cover)

    def action_toggle_stacks(self) -> None:
        """Stacks on or off (kept in the settings file): a batch as one card, or each of its images."""
        self.stacks = not self.stacks
        self.app.remember(stacks=self.stacks)
        self.notify("Images of the same settings stacked: one card per batch." if self.stacks
                    else "Stacks off: every image has its card.", timeout=3)
        if self.filters.batch is None:
            current = self.grid.current
            self._ask(replace(self.filters, stacked=self.stacks), False, 0, current.id if current else None)

    def action_view(self) -> None:
        record = self._current()
        if record and record.stack > 1 and self.filters.batch is None:
            self.open_stack(record)
        elif record:
            self.app.push_screen(ViewerScreen(self, record, self.image_mode))

    def action_favorite(self) -> None:
        """One image: toggled. A selection: every image a favorite, or none if they all were."""
        if self.grid.selected and not self._card_alone:
            self.favorite_selection(self.grid.selected)  # (in order in the worker)
            return
        record = self._current()
        if record:
            self.toggle_favorite(record)

    def favorite_selection(self, ids: Collection[int]) -> None:
        def job(progress, cancelled):
            ordered = in_order(ids)
            value = self.library.favorites_among(ordered) < len(ordered)
            changed = self.library.set_favorite(ordered, value)
            progress(len(ids), len(ids))
            return value, changed

        def finished(outcome: JobOutcome | None) -> None:
            if not self._succeeded(outcome):
                return
            value, changed = outcome.result
            self.notify(f"{plural(changed, 'image')} "
                        f"{'marked as favorites' if value else 'no longer favorites'}.", title="Favorites")
            self.reload(keep_position=True)

        self._run_job(f"Favorites: {len(ids):,} images", job, len(ids), finished)

    def toggle_favorite(self, record: ImageRecord) -> ImageRecord | None:
        """Favorite or unfavorite one image; returns it as it is now (None if that failed)."""
        try:
            value = self.library.toggle_favorite(record.id)
        except StoreError as exc:
            self._fail(exc)
            return None
        record = replace(record, favorite=value)
        self.grid.update_record(record)
        if self.filters.favorite != FAVORITE_ALL:
            self.reload(keep_position=True)
        return record

    def action_prompt(self) -> None:
        record = self._current()
        if record:
            self.show_prompt(record)

    def show_prompt(self, record: ImageRecord) -> None:
        self.app.push_screen(PromptScreen(record, self.highlight_words))

    def action_copy_path(self) -> None:
        record = self._current()
        if record:
            self.copy_path(record)

    def action_copy_folder(self) -> None:
        record = self._current()
        if record:
            self.copy_path(record, folder=True)

    def copy_path(self, record: ImageRecord, *, folder: bool = False) -> None:
        """The image's file path (or its folder) to the clipboards, control characters removed; a name that is not
        UTF-8 in the shell's $'…' form (new-user test 8 #7: the byte was dropped, naming another file)."""
        path = record.path.parent if folder else record.path
        text = shell_path(str(path))
        said = copy_text(self.app, text, "Folder" if folder else "File path")
        if text != str(path):
            said += " Its name is not UTF-8: copied as a shell writes it."
        self.notify(f"{said}\n{one_line(text)}", title="Copied", markup=False)

    def action_info(self) -> None:
        record = self._current()
        if record:
            if record.also_at is None:
                self._info_with_files(record)  # its (other) files in the watched folders, read off the UI thread
            else:
                self.app.push_screen(InfoScreen(record))

    @work(thread=True, group="info", exclusive=True, exit_on_error=False)
    def _info_with_files(self, record: ImageRecord) -> None:
        try:
            record = replace(record, also_at=tuple(self.library.other_files(record)))
        except StoreError:
            pass  # shown with its one file
        self.app.call_from_thread(self._show_info, record)

    def _show_info(self, record: ImageRecord) -> None:
        self.app.push_screen(InfoScreen(record))

    def _run_job(self, title: str, job, total: int, finished) -> None:
        """Slow work off the UI thread: with a progress bar and Cancel for a selection, quietly for one image (and
        said if it takes long: a delete while another program held the library's write lock waited up to 30 s
        without a word, NEWUSER14 #5)."""
        if total > 1:
            self.app.push_screen(ProgressScreen(title, job, total=total), finished)
            return
        still = self.set_timer(STILL_AT_WORK_AFTER, lambda: self.notify(
            "Still at it: waiting for the library (another program may be writing to it; up to 30 s).",
            title="Waiting", markup=False))

        def ended(outcome: JobOutcome) -> None:
            still.stop()
            finished(outcome)

        self._run_quietly(job, ended)

    @work(thread=True, group="quick-job", exit_on_error=False)
    def _run_quietly(self, job, finished) -> None:
        self.app.call_from_thread(finished, run_without_progress(job))  # a failure is handed to `finished`

    def action_download(self) -> None:
        ids = self._targets()
        if ids:
            self.download(ids)

    def _download_folder_hint(self) -> str:
        """Once a run, after the first download: how to choose another folder (NEWUSER11 #8: "can I choose?")."""
        key = shown_keys(self.app, next(b for b in self.BINDINGS if isinstance(b, Binding)
                                        and b.id == "gallery.download_folder"))
        if self.app.download_folder_told or not key:
            return ""
        self.app.download_folder_told = True
        return f" ({key}: another download folder)"

    def action_download_folder(self) -> None:
        """Where downloads go, chosen in a dialog (kept in the settings file)."""
        def chosen(folder: Path | None) -> None:
            if folder is not None:
                self.app.choose_downloads(folder)

        self.app.push_screen(DownloadFolderScreen(self.app.downloads), chosen)

    def download(self, ids: Collection[int]) -> None:
        """One image to the downloads folder; several to a new folder of their own in it, with one summary."""
        downloads = self.app.downloads
        folder = downloads if len(ids) == 1 else downloads / time.strftime("selection-%Y-%m-%d-%H%M%S")

        def job(progress, cancelled):
            # the downloads folder is made if its parent exists (or with its parents: the default one); a missing
            # parent of a folder the user set is said, and nothing is made
            output_folder(downloads, parents=downloads == default_downloads())
            written = []
            for n, image_id in enumerate(in_order(ids)):
                if cancelled():
                    break
                written += export_images(self.library, [image_id], folder)
                progress(n + 1, len(ids), f"images · #{image_id}")
            return written

        def finished(outcome: JobOutcome | None) -> None:
            if not self._succeeded(outcome):
                return
            written = outcome.result
            if outcome.cancelled:
                self.notify(f"Cancelled: downloaded {len(written):,} of {len(ids):,} images to {folder}", markup=False)
            elif len(written) == 1:
                self.notify(f"Saved {written[0]}{self._download_folder_hint()}", title="Downloaded", markup=False)
            else:
                self.notify(f"Downloaded {len(written):,} images to {folder}{self._download_folder_hint()}",
                            title="Downloaded", markup=False)

        self._run_job(f"Downloading {len(ids):,} images", job, len(ids), finished)

    def action_delete(self) -> None:
        ids = self._targets()
        if ids:
            self.delete(ids)

    def delete(self, ids: Collection[int]) -> None:
        """To the trash after the question; the grid then reloads where it was (a large view shows the next)."""
        ids = Selection.of(ids)
        deleted: list[int] = []  # (the worker's: what it moved is handed over as a Selection, `moved`)
        moved: list[Selection] = []
        unreached: list[SourceFiles] = []  # files out of reach (a folder unmounted): they stay, only records go
        gone: list[int] = []  # deleted elsewhere while the question was open (NEWUSER13 #2): left out, said
        cursor = self.grid.cursor

        def trash(chunk: list[int]) -> list[int]:  # a transaction per chunk: cancel between them
            here = self.library.own_existing(chunk)
            if len(here) < len(chunk):  # the store refuses the whole chunk for one image not there ("in the trash")
                gone.extend(i for i in chunk if i not in here)
                chunk = [i for i in chunk if i in here]
                if not chunk:
                    return []
            files = self.library.source_files(chunk)
            self.library.trash(chunk)
            if files.absent:
                unreached.append(files)
            return chunk

        def finished(outcome: JobOutcome | None) -> None:
            if outcome is None:
                return
            if outcome.error is not None:
                self._fail(outcome.error)
            done = moved[0] if moved else Selection(deleted)
            n = len(done)
            self.grid.deselect(done | gone)  # (a million ids in sets here held the UI thread 244-308 ms: issue 11)
            if done:
                self._remember_delete(done, cursor)
            meanwhile = f" {plural(len(gone), 'image')} of the {len(ids):,} had been deleted elsewhere meanwhile " \
                f"(or {'is' if len(gone) == 1 else 'are'} no longer yours)." if gone else ""
            if outcome.cancelled:
                self.notify(f"Cancelled: moved {n:,} of {len(ids):,} images to the trash (u undoes).{meanwhile}")
            elif outcome.error is None:
                self.notify(f"Moved {plural(n, 'image')} to the trash: u undoes, t opens the trash.{meanwhile}")
            absent = sum(files.absent for files in unreached)
            if absent:
                folders = sorted({folder for files in unreached for folder in files.away})
                where = f" (not there: {printable(', '.join(folders))})" if folders else ""
                self.notify(f"{plural(absent, 'file')} of {'it' if n == 1 else 'them'} could not be reached{where}: "
                            f"{'it stays' if absent == 1 else 'they stay'} where {'it is' if absent == 1 else 'they are'}"
                            f"; only {'its record' if n == 1 else 'the records'} went to the trash.", severity="warning",
                            markup=False)
            self._refresh_collections()
            self.reload(keep_position=True)
            self._update_status()

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._deletes_running += 1

                def job(progress, cancelled):  # in order here: 66 ms and more of the UI thread
                    ordered = in_order(ids)
                    self._deleting = ids
                    try:
                        return chunked_job(ordered, trash, deleted, "deleted", DELETE_CHUNK)(progress, cancelled)
                    finally:  # what it moved as one array, and its lists freed a piece at a time, here
                        moved.append(Selection(deleted))
                        empty(deleted)
                        empty(ordered)

                self._run_job(f"Deleting {len(ids):,} images", job, len(ids),
                              lambda outcome: self._delete_ended(finished, outcome))

        record = None
        if len(ids) == 1:  # named in the question
            current = self.grid.current
            try:
                record = current if current is not None and current.id == ids[0] else self.library.get(ids[0])
            except StoreError as exc:
                self._fail(exc)
                return
        files = None if record is not None and not record.linked else lambda: self.library.source_files(ids)
        self.app.push_screen(ConfirmDeleteScreen(len(ids), record, files=files), answered)

    def action_collect(self) -> None:
        ids = self._targets()
        if not ids:
            return

        def closed(changed: bool | None) -> None:
            if changed:
                self._refresh_collections()
                self.reload(keep_position=True)

        # (the dialog reads in a worker: images deleted meanwhile, or not the account's own, it says and closes)
        self.app.push_screen(AddToCollectionScreen(self.library, ids, self.collections_changed_here), closed)

    def show_new_image(self, image_id: int) -> None:
        """Reload the grid and put the focus on an image that was just made."""
        self._refresh_collections()
        self._ask(self.filters, True, None, image_id)  # finds where it landed in the worker

    def action_clean(self) -> None:
        ids = self._targets()
        if len(ids) > CLEAN_ASKS_ABOVE:
            self.app.push_screen(ConfirmCleanScreen(len(ids)), lambda yes: self.clean(ids) if yes else None)
        elif ids:
            self.clean(ids)

    def clean(self, ids: Collection[int]) -> None:
        from store.background import clean_images

        def job(progress, cancelled):
            return clean_images(self.library, in_order(ids), cancelled=cancelled,
                                progress=lambda done, total, image_id: progress(done, total, f"images · #{image_id}"))

        def finished(outcome: JobOutcome | None) -> None:
            if outcome is None:
                return
            if outcome.error is not None:
                self._fail(outcome.error)
                return
            report = outcome.result
            for failure in report.failures():  # one or two, or one line for many
                self.notify(failure, title="Not cleaned", severity="error", markup=False)
            summary = report.summary()
            if summary:
                self.notify(summary, title="Cancelled" if report.cancelled else "Cleaned", markup=False,
                            severity="warning" if report.cancelled else "information")
            shown = report.created or report.existing or report.identical
            if shown:
                self.grid.clear_selection()
                self.show_new_image(shown[-1][1])

        title = "Removing the background" + (f" of {len(ids):,} images" if len(ids) > 1 else f" of #{next(iter(ids))}")
        self.app.push_screen(ProgressScreen(title, job, total=len(ids)), finished)

    def action_grid(self) -> None:
        record = self._current()
        if record:
            self.open_grid_editor(record)

    def open_grid_editor(self, record: ImageRecord) -> None:
        try:
            screen = GridEditorScreen(self.library, record, self.image_mode, self.app.downloads,
                                      save_refused=self._save_refused(record))
        except StoreError as exc:
            self._fail(exc)
            return

        def closed(result: GridEditorResult | None) -> None:
            if result and result.saved_ids:
                self.show_new_image(result.saved_ids[0])

        self.app.push_screen(screen, closed)

    def _save_refused(self, record: ImageRecord) -> str:
        """Why the grid editor may not save the items cut from `record` ("" if it may)."""
        try:
            require_may_save_from(self.library, record.id)
        except StoreError as exc:
            if self.public:
                return f"The public gallery is read only: {editor_key(self.app, 'grid.download')} downloads the items."
            return str(exc)
        return ""

    def action_select(self) -> None:
        record = self._current()
        if record:
            self.grid.toggle_selected(record)

    def action_sources(self) -> None:
        open_sources(self)

    def action_import(self) -> None:
        """The import dialog; afterwards the grid shows the first image imported."""

        def closed(imported: list[int] | None) -> None:
            if imported:
                self.show_new_image(imported[0])

        self.app.push_screen(ImportScreen(self.library), closed)

    def _remember_delete(self, ids: Collection[int], cursor: int | None) -> None:
        self._undo.append((Selection.of(ids), cursor))
        if len(self._undo) > UNDO_LEVELS:
            del self._undo[0]
            self._undo_dropped = True

    def _delete_ended(self, finished, outcome: JobOutcome | None) -> None:
        """A delete's end: what it says, then an undo asked for while it ran (`u` right after Delete said "Nothing
        to undo: no image was deleted here.", and the image stayed in the trash: NEWUSER13 #9)."""
        self._deletes_running -= 1
        finished(outcome)
        if self._undo_waiting and not self._deletes_running:
            self._undo_waiting = False
            self.action_undo_delete()

    def action_undo_delete(self) -> None:
        """Bring back what the last delete not undone yet moved to the trash, where it was (asked while a delete
        runs: once it is done)."""
        if self._deletes_running:
            self._undo_waiting = True
            return
        if not self._undo:
            if self._undo_dropped:
                self.notify(f"Nothing more to undo: u brings back the last {UNDO_LEVELS} deletes made here; the "
                            "older ones are in the trash (t).", timeout=6)
            else:
                self.notify("Nothing to undo: no image was deleted here." if not self._undone else
                            "Nothing more to undo: every delete made here was undone.", timeout=4)
            return
        ids, cursor = self._undo.pop()
        restored: list[int] = []
        back: list[int] = []  # restored elsewhere meanwhile (another instance, `myimages trash restore`)
        erased: list[int] = []  # erased elsewhere meanwhile

        renamed: Renamed = {}  # files put back beside another that took their old name: said plainly

        def restore(chunk: list[int]) -> list[int]:
            try:
                self.library.restore(chunk, renamed=renamed)
            except StoreError:  # some of them were erased or restored elsewhere meanwhile: the others
                in_trash = self.library.own_existing(chunk, trashed=True)
                outside = self.library.own_existing(chunk)
                back.extend(i for i in chunk if i in outside)
                erased.extend(i for i in chunk if i not in in_trash and i not in outside)
                chunk = [i for i in chunk if i in in_trash]
                self.library.restore(chunk, renamed=renamed)
            return chunk

        done: list[tuple[Selection, int, int | None]] = []  # (made in the worker) what is left, how many restored, the first

        def job(progress, cancelled):
            try:
                return chunked_job(ids, restore, restored, "restored", DELETE_CHUNK)(progress, cancelled)
            finally:  # (here: the old list of what was left, a set of them made for each id, froze the UI thread)
                done.append((ids - restored - back - erased, len(restored), restored[0] if restored else None))
                empty(restored)

        def finished(outcome: JobOutcome | None) -> None:
            if outcome is None:
                return
            left, count, first = done[0] if done else (ids - restored - back - erased, len(restored), None)
            if left:  # cancelled or failed: the rest is undone by the next u
                self._undo.append((left, cursor))
            else:
                self._undone = True
            more = " u again undoes the delete before it." if self._undo and not left else ""
            elsewhere = _undone_meanwhile(back, erased, self._done_in_trash)
            if count:  # back in place: the focus goes to the first one
                self.notify(f"Restored {plural(count, 'image')}." + (f" {elsewhere}" if elsewhere else "")
                            + more + (f" {renamed_sentence(renamed)}" if renamed else ""), markup=False,
                            timeout=10 if renamed else None)
            elif elsewhere and outcome.error is None:
                self.notify(f"Nothing to undo: {elsewhere}{more}", timeout=6)
            if outcome.error is not None:
                self._fail(outcome.error)
            self._refresh_collections()
            if count > 1 and cursor is not None:  # the cursor where it was (NEWUSER5 §3)
                self._ask(self.filters, True, cursor)
            else:  # one image: back in its place, the focus on it
                self._ask(self.filters, True, None, first)

        self._run_job(f"Restoring {len(ids):,} images", job, len(ids), finished)

    def action_trash(self) -> None:
        trash = TrashScreen(self.library, self.image_mode)
        read_only = self.library.read_only

        def closed(restored: bool | None) -> None:
            if self.library.read_only != read_only:  # erasing on a full disk opened it for writing (store/room.py)
                self.sub_title = self._account_line(self.library.account)
                self.refresh_bindings()
                writable_again = getattr(self.app, "library_writable_again", None)
                if writable_again is not None:  # the sources, not followed while it was read only
                    writable_again()
            self._done_in_trash.update({i: "restored" for i in trash.restored})  # undo says "in the trash"
            self._done_in_trash.update({i: "erased for good" for i in trash.erased})
            if restored:
                self._refresh_collections()
                self.reload(keep_position=True)

        self.app.push_screen(trash, closed)

    def action_compare(self) -> None:
        """Two images side by side with their settings (tui/compare_screen.py): the two selected, or the one
        selected and the current one."""
        selected = self.grid.selected
        ids = sorted(selected) if len(selected) <= 2 else []  # (a million sorted here held the UI thread 66 ms)
        current = self.grid.current
        if len(ids) == 1 and current is not None and current.id != ids[0]:
            ids.append(current.id)
        if self.public and current is not None:  # nothing can be selected here: the current one and the next
            neighbour = self.grid.record_at(self.grid.cursor + 1) or self.grid.record_at(self.grid.cursor - 1)
            ids = [current.id, neighbour.id] if neighbour is not None else []
        if len(ids) != 2:
            self.notify("Compare needs two images here." if self.public else
                        "Select two images (space on each), then c compares them.", timeout=5)
            return
        try:
            left, right = (self.library.get(i) for i in ids)
        except StoreError as exc:
            self._fail(exc)
            return
        self.app.push_screen(CompareScreen(self.library, self.filters, left, right, self.image_mode))

    def action_duplicates(self) -> None:
        """The duplicates view (tui/duplicates_screen.py); what it moved to the trash, u brings back here too."""
        def closed(trashed: list[int] | None) -> None:
            if trashed:
                self._remember_delete(trashed, None)
                self.grid.deselect(trashed)
                self._refresh_collections()
                self.reload(keep_position=True)
                self._update_status()

        self.app.push_screen(DuplicatesScreen(self.library, self.image_mode, self.app.settings.duplicate_distance),
                             closed)

    def action_select_range(self) -> None:
        """V: moves from here select every card up to the cursor; V again (or Esc) ends the range."""
        self.grid.start_range()
        if self.grid.range_mode:
            self.notify("Selecting a range: move to its other end (V or Esc ends it).", timeout=3)

    def action_invert_selection(self) -> None:
        """*: every image the filters show that is not selected, and none that is."""
        self.grid.end_range()
        self._select_shown("invert")

    def action_select_all(self) -> None:
        self._select_shown("all")

    def _select_shown(self, how: str) -> None:
        """Select all ("all") or invert the selection ("invert") in what the filters show. Above SELECT_AT_ONCE
        images shown, the ids are read and the new selection made in a worker (a million ids took a third of a
        second of the UI thread, issue 11): a select all or invert pressed meanwhile is done after the ones before
        it, on the same ids, and a key acting on the selection says to wait (`_targets`)."""
        if not self._select_keys and self.grid.total <= SELECT_AT_ONCE:  # a small result: at once, as keys come
            try:
                shown = self.library.selection(self.filters)
            except StoreError as exc:
                self._fail(exc)
                return
            self._select_keys = [how]
            self._shown_selected(self.grid.selection_changes, [how], *self._made_selection(shown, [how]))
            return
        self._select_keys.append(how)
        if len(self._select_keys) == 1:
            self._read_shown(self.filters)

    @work(thread=True, group="select-shown", exit_on_error=False)
    def _read_shown(self, filters: Filters) -> None:
        """(The worker.)"""
        try:
            with self.library.connection():
                # numpy's arrays (store/selection.py): as Python sets, a million ids held the interpreter, and so the
                # UI thread, 69-138 ms at each step, and the collector walked them
                shown = self.library.selection(filters)
            while not get_current_worker().is_cancelled:
                changes, keys = self.grid.selection_changes, list(self._select_keys)  # (read before the selection)
                selected, notices = self._made_selection(shown, keys)
                if self.app.call_from_thread(self._shown_selected, changes, keys, selected, notices):
                    return  # else the selection changed, or a key came, meanwhile: made again from it
        except Exception as exc:  # noqa: BLE001 - said on the UI thread, and the keys waiting dropped
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._shown_failed, exc)

    def _made_selection(self, shown: Selection, keys: list[str]) -> tuple[Selection, list[str]]:
        """The selection after the keys (select all, invert) on the ids shown, and what to say of it."""
        selected = self.grid.selected
        notices = []
        for how in keys:
            if how == "all":
                selected = selected | shown
                others = len(selected) - len(shown)  # selected in other results: they stay selected
                notices.append(f"{plural(len(shown), 'image')} selected"
                               + (f", {len(selected):,} in all." if others else "."))
            else:
                selected = selected ^ shown
        return selected, notices

    def _shown_selected(self, changes: int, keys: list[str], selected: Selection, notices: list[str]) -> bool:
        """The selection made in the worker, taken when it was made from the selection as it is and for every key
        pressed; False (the worker makes it again) otherwise."""
        if self.grid.selection_changes != changes or self._select_keys != keys:
            return False
        self._select_keys = []
        self.grid.select_ids(selected)
        for text in notices:
            self.notify(text)
        return True

    def _shown_failed(self, exc: BaseException) -> None:
        from .app import failure_text

        self._select_keys = []
        self.notify(failure_text(exc), title="Not done", severity="error", markup=False, timeout=12)

    def say_read_only(self) -> None:
        """Once for a burst of write keys, briefly; again at once when there is something new to say (a full
        disk has room again)."""
        now = time.monotonic()
        remedy = "" if self.public else self.library.read_only_remedy()  # a statvfs: no wait
        text = ("The public gallery is read only." if self.public else
                f"Read only: this library {self.library.read_only_reason}, nothing in it can be changed"
                + (f"; {remedy}." if remedy else "."))
        if now - self._read_only_said > READ_ONLY_NOTICE or text != self._read_only_text:
            self.notify(text, severity="warning", timeout=READ_ONLY_NOTICE, markup=False)
        self._read_only_said, self._read_only_text = now, text

    def on_key(self, event: events.Key) -> None:
        # A write key is not bound here (check_action): it reaches the screen unused.
        if any(event.key in WRITE_KEYS.get(action, ()) for action in self.blocked):
            event.stop()
            self.say_read_only()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if self.public:
            return
        if self.library.read_only and event.button.id in ("bulk-delete", "bulk-collect"):
            self.say_read_only()
            return
        if event.button.id == "bulk-delete":
            self.action_delete()
        elif event.button.id == "bulk-collect":
            self.action_collect()
        elif event.button.id == "bulk-clear":
            self.grid.clear_selection()


# The keys of the write actions: in the public gallery they say it is read only.
WRITE_KEYS: dict[str, set[str]] = {}  # action -> its keys
for _binding in own_bindings(GalleryScreen):
    if _binding.action in WRITE_ACTIONS:
        WRITE_KEYS.setdefault(_binding.action, set()).update(_binding.key.split(","))


def _undone_meanwhile(back: list[int], erased: list[int], in_trash: dict[int, str]) -> str:
    """What undo found done meanwhile, in this window's trash view (`in_trash`: id -> what it did there) or
    elsewhere (another instance, the command line), or "": "#7 was already restored elsewhere." /
    "2 images were already erased for good in the trash." """
    said = []
    for ids, what in ((back, "restored"), (erased, "erased for good")):
        here = [i for i in ids if in_trash.get(i) == what]
        for part, where in ((here, "in the trash"), ([i for i in ids if i not in here], "elsewhere")):
            if part:
                said.append((f"#{part[0]} was" if len(part) == 1 else f"{len(part):,} images were")
                            + f" already {what} {where}")
    return (" and ".join(said) + ".") if said else ""
