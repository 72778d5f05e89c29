"""The duplicates view (D, or "Duplicates" in the palette): groups of images that are the same picture.

Finding the groups runs in a worker (the missing perceptual hashes first, then the comparison),
with a progress bar; Esc cancels. Each group shows its members (thumbnail, size, format, whether
it has a prompt) with the one to keep marked (the store's choice: the largest with metadata);
space (or a double click, or Keep) keeps another. d trashes the others of the group, A the others
of every group, each after a confirmation, through the store's merge: their favorites and
collections move to the kept one. u brings the last merge back. [ and ] make the threshold
stricter or looser. The screen answers with the ids it moved to the trash (the gallery's u
restores them too). Like the gallery, the view follows changes made elsewhere (tui/following.py): when a member
of a shown group has gone (trashed or erased in another instance or shell) the groups are found again, with a
notice naming it.
"""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, HorizontalScroll, Vertical
from textual.screen import Screen
from textual.widgets import Button, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from store.duplicates import Cancelled, DuplicateGroup, max_distance
from store.errors import NotFound, StoreError
from store.library import Library
from store.records import human_size
from store.settings import MAX_DUPLICATE_DISTANCE as MAX_DISTANCE  # the threshold's range, in bits
from store.text import plural
from widgets.workers import work
from widgets.key_bar import KeyBar
from widgets.picture_tile import PictureTile
from widgets.thumbnail_cache import ThumbnailStrips
from widgets.thumbnails import grid_image_class, grid_picture

from .confirm_delete import ConfirmDeleteScreen
from .dialog import AnsweredOnce
from .following import LibraryFollower, error_text
from .progress_screen import JobOutcome, ProgressScreen, run_without_progress
from .picture_screen import PictureScreen

# columns of a member's tile: at least its lines' ("1024×1024 PNG", "#12345 ★ keep": 13, within its border and
# padding), so that three members share 80 columns beside the list (26 columns each cut the second and hid the
# third: NEWUSER7 #21)
TILE_MIN, TILE_MAX = 17, 56


def gone_elsewhere(ids: list[int]) -> str:
    """ "#37 was moved to the trash or erased elsewhere" (or "#37 and #92 were …")."""
    named = " and ".join(f"#{i}" for i in ids[:3]) + (f" and {len(ids) - 3:,} more" if len(ids) > 3 else "")
    return f"{named} {'was' if len(ids) == 1 else 'were'} moved to the trash or erased elsewhere"


GROUP_ACTIONS = {"member", "keep", "view", "merge", "merge_all"}


class GroupList(OptionList, inherit_bindings=False):
    """The groups: an OptionList whose Enter is left to the screen (it views the image under the cursor)."""

    HELP_TITLE = "The list of groups"

    BINDINGS = [
        Binding("up", "cursor_up", "Previous group", show=False, id="duplicates.previous_group"),
        Binding("down", "cursor_down", "Next group", show=False, id="duplicates.next_group"),
        Binding("home", "first", "First group", show=False, id="duplicates.first_group"),
        Binding("end", "last", "Last group", show=False, id="duplicates.last_group"),
        Binding("pageup", "page_up", "Groups page up", show=False, id="duplicates.groups_page_up"),
        Binding("pagedown", "page_down", "Groups page down", show=False, id="duplicates.groups_page_down"),
    ]


def member_lines(record) -> list[str]:
    """What a member's tile says under its picture."""
    favorite = "  ♥" if record.favorite else ""
    return [f"{record.width}×{record.height} {record.ext.upper()}", human_size(record.file_size) + favorite,
            "has a prompt" if record.prompt.strip() else "no prompt"]


class DuplicatesScreen(AnsweredOnce[list[int]], Screen[list[int]]):
    HELP_TITLE = "Duplicates"
    BINDINGS = [
        Binding("escape", "close", "Back", id="duplicates.close"),
        Binding("left,h", "member(-1)", "Previous image", show=False, id="duplicates.previous"),
        Binding("right,l", "member(1)", "Next image", show=False, id="duplicates.next"),
        Binding("space", "keep", "Keep this one", id="duplicates.keep"),
        Binding("enter", "view", "View", id="duplicates.view"),
        Binding("d", "merge", "Trash the others", id="duplicates.merge"),
        Binding("A", "merge_all", "Trash others in all groups", id="duplicates.merge_all"),
        Binding("u", "undo", "Undo", id="duplicates.undo"),
        Binding("left_square_bracket", "threshold(-1)", "Stricter", id="duplicates.stricter"),
        Binding("right_square_bracket", "threshold(1)", "Looser", id="duplicates.looser"),
        Binding("ctrl+r", "refresh", "Find again", show=False, id="duplicates.refresh"),
    ]

    def __init__(self, library: Library, image_mode: str, distance: int | None = None) -> None:
        super().__init__()
        self.library = library
        self.image_mode = image_mode
        self.distance = max_distance() if distance is None else distance
        self.groups: list[DuplicateGroup] = []
        self.keepers: dict[int, int] = {}  # group's first id -> the id chosen to keep
        self.member = 0  # the member under the cursor in the shown group
        self.loaded = False
        self.trashed: list[int] = []  # everything this view moved to the trash
        self._last_merge: list[int] = []  # what u brings back
        self._strips = ThumbnailStrips() if grid_image_class(image_mode) is not None else None
        self._thumbs_wanted = False
        self.tiles: list[PictureTile] = []  # the shown group's members
        self._caption = ""  # the shown group's caption (what fits of its members is said before it)
        self._busy = False  # a merge or an undo is running: no check for changes made elsewhere now
        self._extent: tuple[int, int] | None = None  # own images' count and top id when the groups were found
        self.follower = LibraryFollower(
            self, library, group="duplicates-changes", apply=self._followed,
            seen=lambda: [r.id for g in self.groups for r in g.records],
            read=self._gone,
            ready=lambda: self.loaded and not self._busy)

    def compose(self) -> ComposeResult:
        with Vertical(id="dup-view"):
            yield Static("Duplicates", id="dup-title", classes="title")
            with Vertical(id="dup-loading"):
                yield ProgressBar(id="dup-progress", show_eta=False)
                yield Static("Reading pictures…", id="dup-progress-text")
            yield Static("", id="dup-empty")
            with Horizontal(id="dup-body"):
                yield GroupList(id="dup-groups")
                with Vertical(id="dup-side"):
                    yield Static("", id="dup-caption")
                    yield HorizontalScroll(id="dup-tiles")
            with Horizontal(id="dup-buttons"):
                yield Button("Keep this one", id="dup-keep", compact=True, variant="primary")
                yield Button("Trash the others", id="dup-merge", compact=True, variant="error")
                yield Button("Trash others in all groups", id="dup-merge-all", compact=True, variant="error")
                yield Button("Back", id="dup-close", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self._show_state()
        self.set_focus(self.query_one("#dup-groups", OptionList))
        self.find()
        self.follower.start()

    # -- finding the groups, in a worker ------------------------------------------

    @work(thread=True, exclusive=True, group="duplicates", exit_on_error=False)
    def find(self, focus_group: int = 0) -> None:
        worker = get_current_worker()

        def cancelled() -> bool:
            return worker.is_cancelled

        def progress(what: str):
            def tell(done: int, total: int) -> None:
                if not worker.is_cancelled:
                    self.app.call_from_thread(self._progress, what, done, total)
            return tell

        with self.library.connection():
            if not self.library.read_only:
                self.library.fill_perceptual_hashes(progress=progress("Reading pictures"), cancel=cancelled)
            token = self.library.change_token()  # before comparing: no change missed
            extent = self.library.own_extent()
            try:
                groups = self.library.duplicates(self.distance, progress=progress("Comparing"), cancel=cancelled)
            except Cancelled:
                return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._found, groups, focus_group, token, extent)

    def _progress(self, what: str, done: int, total: int) -> None:
        if self.loaded:
            return
        self.query_one("#dup-progress", ProgressBar).update(total=max(total, 1), progress=done)
        self.query_one("#dup-progress-text", Static).update(
            f"{what}: {done:,} of {total:,}" if what == "Reading pictures" else f"{what}… (Esc stops)")

    def _found(self, groups: list[DuplicateGroup], focus_group: int, token: tuple[int, int] | None = None,
               extent: tuple[int, int] | None = None) -> None:
        self.groups = groups
        if token is not None:  # found here, newer than what a check under way read
            self.follower.read_at(token)
            self._extent = extent
        else:  # groups changed here (a merge): a check under way would take its members for gone elsewhere
            self.follower.changed()
        self.keepers = {g.records[0].id: g.keep.id for g in groups}
        self.loaded = True
        options = self.query_one("#dup-groups", OptionList)
        options.clear_options()
        options.add_options([Option(self._group_label(n, g), id=str(n)) for n, g in enumerate(groups)])
        if groups:
            options.highlighted = min(focus_group, len(groups) - 1)
        self._show_state()
        self.set_focus(options)  # hidden while loading, it lost the focus
        self._show_group()

    def _gone(self, shown: list[int], force: bool) -> tuple[list[int], tuple[int, int]]:
        """(In the follower's worker.) The members shown that are no longer there, and the account's images'
        count and top id (images imported or restored elsewhere may make new groups: NEWUSER6 #5)."""
        present = self.library.own_existing(shown)
        return [i for i in shown if i not in present], self.library.own_extent()

    def _followed(self, token: tuple[int, int], answer: tuple[list[int], tuple[int, int]]) -> None:
        gone, extent = answer
        if not self.loaded:
            return
        if gone:
            why = gone_elsewhere(gone)
        elif self._extent is not None and extent != self._extent:
            why = "Images were imported or brought back from the trash elsewhere"
        else:
            return
        self.notify(f"{why}: the groups are found again.", title="Duplicates changed", timeout=6)
        self._reload(self.query_one("#dup-groups", OptionList).highlighted or 0)

    def action_refresh(self) -> None:
        """Find the groups again now (ctrl+r, as in the gallery)."""
        if self.loaded and not self._busy:
            self._reload(self.query_one("#dup-groups", OptionList).highlighted or 0)

    @staticmethod
    def _group_label(n: int, group: DuplicateGroup) -> Text:
        # one line each: cut with an ellipsis where the list is too narrow (it wrapped onto two)
        return Text(f"{n + 1}. {len(group.records):,} images, ≤{group.distance} bits", no_wrap=True,
                    overflow="ellipsis")

    # -- what is shown --------------------------------------------------------------

    @property
    def group(self) -> DuplicateGroup | None:
        index = self.query_one("#dup-groups", OptionList).highlighted
        if index is None or not 0 <= index < len(self.groups):
            return None
        return self.groups[index]

    def keeper_of(self, group: DuplicateGroup) -> int:
        return self.keepers.get(group.records[0].id, group.keep.id)

    def _show_state(self) -> None:
        loading, empty = not self.loaded, self.loaded and not self.groups
        self.query_one("#dup-loading").display = loading
        self.query_one("#dup-empty").display = empty
        self.query_one("#dup-body").display = not loading and not empty
        for button in ("#dup-keep", "#dup-merge", "#dup-merge-all"):
            self.query_one(button, Button).display = bool(self.groups)
            self.query_one(button, Button).disabled = self.library.read_only
        self.refresh_bindings()
        threshold = f"within {self.distance} bits ([ ] change)"
        if loading:
            title = f"Duplicates: looking for the same picture in other files, {threshold}"
        elif empty:
            title = f"Duplicates: none {threshold}"
        else:
            n = sum(len(g.others) for g in self.groups)
            title = f"Duplicates: {plural(len(self.groups), 'group')}, {plural(n, 'more image')} {threshold}"
        self.query_one("#dup-title", Static).update(Text(title))
        if empty:
            self.query_one("#dup-empty", Static).update(Text(
                "No duplicates: none of your images is the same picture as another (re-encoded, resized, in "
                f"another format) within {self.distance} bits.\n\n] looks again with a looser threshold; "
                "Esc goes back."))

    def _show_group(self) -> None:
        group = self.group
        tiles = self.query_one("#dup-tiles", HorizontalScroll)
        with self.app.batch_update():
            tiles.remove_children()
            self.tiles = []
            if group is None:
                return
            self.member = max(0, min(self.member, len(group.records) - 1))
            keep = self.keeper_of(group)
            source = self._strip_source if self._strips is not None else None
            self.tiles = [PictureTile(r, n, member_lines(r), strips=source, mark="★ keep")
                          for n, r in enumerate(group.records)]
            tiles.mount_all(self.tiles)
        self.call_after_refresh(self._mark_tiles)
        index = self.groups.index(group)
        others = len(group.records) - 1
        caption = (f"Group {index + 1:,} of {len(self.groups):,}: keeping #{keep}; d moves the other {others} to the "
                   f"trash ({'its' if others == 1 else 'their'} favorites and collections go to #{keep}). "
                   "Space keeps another.")
        kept = next(r for r in group.records if r.id == keep)
        prompted = [r.id for r in group.records if r.prompt.strip()]
        if not kept.prompt.strip() and prompted:  # the metadata stays with the file: say what would go
            caption += f" #{keep} has no prompt; #{prompted[0]} has one."
        self._caption = caption
        self.query_one("#dup-caption", Static).update(Text(caption))

    def _size_tiles(self) -> None:
        """The members share the width, each whole: as many as have TILE_MIN columns, the others a scroll away
        (← →), which the caption says."""
        if not self.tiles:
            return
        room = self.query_one("#dup-tiles").size.width
        shown = max(1, min(len(self.tiles), room // TILE_MIN))
        width = max(TILE_MIN, min(TILE_MAX, room // shown))
        for tile in self.tiles:
            tile.styles.width = width
        hidden = f"{shown} of {len(self.tiles)} shown, ← → for the others. " if shown < len(self.tiles) else ""
        self.query_one("#dup-caption", Static).update(Text(hidden + self._caption))

    def on_resize(self) -> None:
        self.call_after_refresh(self._size_tiles)

    def _mark_tiles(self) -> None:
        self._size_tiles()
        group = self.group
        if group is None:
            return
        keep = self.keeper_of(group)
        for tile in self.tiles:
            tile.set_state(current=tile.index == self.member, marked=tile.record.id == keep)
            if tile.index == self.member:
                tile.scroll_visible(animate=False)

    @on(OptionList.OptionHighlighted, "#dup-groups")
    def _group_highlighted(self) -> None:
        self.member = 0
        self._show_group()

    @on(OptionList.OptionSelected, "#dup-groups")
    def _group_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()  # a click on a group only shows it

    @on(PictureTile.Clicked)
    def _tile_clicked(self, event: PictureTile.Clicked) -> None:
        self.member = event.tile.index
        self._mark_tiles()
        if event.double:
            self.action_keep()

    # -- thumbnails, drawn in a worker ------------------------------------------------

    def _strip_source(self, path, width: int, height: int):
        if self._strips is None:  # no pictures (--images none): the tiles are given no source
            return None
        strips = self._strips.get((path, width, height))
        if strips is None and not self._thumbs_wanted:
            self._thumbs_wanted = True
            self.call_after_refresh(self._want_thumbnails)
        return strips

    def _want_thumbnails(self) -> None:
        self._thumbs_wanted = False
        if self._strips is None:
            return
        keys = []
        for tile in self.tiles:
            columns, rows = tile.thumb_cells()
            if columns and rows and not self._strips.drawn((grid_picture(tile.record), columns, rows)):
                keys.append((grid_picture(tile.record), columns, rows))
        if keys:
            self._make_thumbnails(self._strips, keys)

    @work(thread=True, exclusive=True, group="duplicate-thumbnails", exit_on_error=False)
    def _make_thumbnails(self, strips: ThumbnailStrips, keys: list[tuple]) -> None:
        worker = get_current_worker()
        for key in keys:
            if worker.is_cancelled:
                return
            strips.make(key)
        self.app.call_from_thread(self._thumbnails_ready)

    def _thumbnails_ready(self) -> None:
        for tile in self.tiles:
            tile.thumbnails_ready()

    # -- actions -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in GROUP_ACTIONS and not self.groups:
            return False  # nothing to act on (loading, or none): not shown in the key bar
        return True

    def action_member(self, delta: int) -> None:
        group = self.group
        if group is not None:
            self.member = max(0, min(self.member + delta, len(group.records) - 1))
            self._mark_tiles()

    def action_keep(self) -> None:
        group = self.group
        if group is None:
            return
        self.keepers[group.records[0].id] = group.records[self.member].id
        self._show_group()

    def action_view(self) -> None:
        group = self.group
        if group is not None:
            self.app.push_screen(PictureScreen(group.records, self.member, self.image_mode))

    def _writable(self) -> bool:
        if self.library.read_only:
            self.notify(f"The library {self.library.read_only_reason}: nothing can be moved to the trash.",
                        severity="warning")
            return False
        return True

    def action_merge(self) -> None:
        group = self.group
        if group is None or not self._writable():
            return
        keep = self.keeper_of(group)
        others = [r.id for r in group.records if r.id != keep]
        question = (f"Keep #{keep} and move the other {plural(len(others), 'image')} of this "
                    f"group to the trash? Favorites and collections go to #{keep}.")
        self._confirm(question, [(keep, others)])

    def action_merge_all(self) -> None:
        if not self.groups or not self._writable():
            return
        todo = []
        for group in self.groups:
            keep = self.keeper_of(group)
            todo.append((keep, [r.id for r in group.records if r.id != keep]))
        n = sum(len(others) for _, others in todo)
        question = (f"Keep one image of each of the {len(todo):,} groups (the marked one) and move the other {n:,} to "
                    "the trash? Favorites and collections go to the kept ones.")
        self._confirm(question, todo)

    def _confirm(self, question: str, todo: list[tuple[int, list[int]]]) -> None:
        n = sum(len(others) for _, others in todo)
        going = {i for _, others in todo for i in others}
        linked = any(r.linked for group in self.groups for r in group.records if r.id in going)

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._merge(todo)

        self.app.push_screen(ConfirmDeleteScreen(
            n, question=question, files=(lambda: self.library.source_files(going)) if linked else None,
            button="Move to trash"), answered)

    def _merge(self, todo: list[tuple[int, list[int]]]) -> None:
        done: list[int] = []
        extent: list[tuple[int, int]] = []
        self._busy = True  # what goes to the trash here is not "gone elsewhere"

        def job(progress, cancelled) -> list[int]:
            with self.library.connection():
                for n, (keep, others) in enumerate(todo):
                    if cancelled():
                        break
                    try:
                        self.library.merge_duplicates(keep, others)
                    except NotFound:  # trashed or erased elsewhere since the groups were found: name it
                        present = self.library.own_existing([keep, *others])
                        gone = [i for i in [keep, *others] if i not in present]
                        if not gone:
                            raise
                        raise StoreError(f"{gone_elsewhere(gone)}; nothing of its group was moved. "
                                         "The groups are found again.") from None
                    done.extend(others)
                    progress(n + 1, len(todo), f"groups · kept #{keep}")
                extent.append(self.library.own_extent())  # what this merge left: not a change made elsewhere
            return done

        def finished(outcome: JobOutcome | None) -> None:
            self._busy = False
            if extent:
                self._extent = extent[0]
            if outcome is None:
                return
            self.trashed.extend(done)
            if done:
                self._last_merge = list(done)
                n = len(done)
                self.notify(f"Moved {plural(n, 'image')} to the trash: u brings "
                            f"{'it' if n == 1 else 'them'} back.")
            if outcome.error is not None:
                self.notify(error_text(outcome.error), title="Not done", severity="error", markup=False, timeout=12)
            gone = set(done)
            index = self.query_one("#dup-groups", OptionList).highlighted or 0
            if outcome.error is not None:
                self._reload(index)
                return
            self._found([g for g in self.groups if not gone & {r.id for r in g.records}], index)

        if len(todo) > 1:
            self.app.push_screen(ProgressScreen(f"Trashing the others of {len(todo):,} groups", job,
                                                total=len(todo)), finished)
        else:
            self._merge_quietly(job, finished)

    @work(thread=True, group="duplicates-merge", exit_on_error=False)
    def _merge_quietly(self, job, finished) -> None:
        self.app.call_from_thread(finished, run_without_progress(job))

    def action_undo(self) -> None:
        ids = self._last_merge
        if not ids:
            self.notify("Nothing to undo here.", timeout=4)
            return
        self._last_merge = []
        self._restore(ids)

    @work(thread=True, group="duplicates-merge", exit_on_error=False)
    def _restore(self, ids: list[int]) -> None:
        try:
            with self.library.connection():
                n = self.library.restore(ids)
        except StoreError as exc:
            self.app.call_from_thread(self.notify, error_text(exc), title="Not done", severity="error", markup=False)
            return
        self.app.call_from_thread(self._restored, ids, n)

    def _restored(self, ids: list[int], n: int) -> None:
        self.trashed = [i for i in self.trashed if i not in set(ids)]
        self.notify(f"Restored {plural(n, 'image')}.")
        self._reload(self.query_one("#dup-groups", OptionList).highlighted or 0)

    def action_threshold(self, delta: int) -> None:
        distance = max(0, min(MAX_DISTANCE, self.distance + delta))
        if distance == self.distance:
            self.notify(f"The threshold is between 0 and {MAX_DISTANCE} bits.", timeout=3)
            return
        self.distance = distance
        remember = getattr(self.app, "remember", None)
        if remember is not None:  # kept in the settings file (duplicate_distance) for next time
            remember(duplicate_distance=distance)
        self._reload(0)

    def _reload(self, focus_group: int) -> None:
        self.loaded = False
        self.groups = []
        self._show_state()
        self.find(focus_group)

    def action_close(self) -> None:
        self.workers.cancel_group(self, "duplicates")
        self.dismiss(list(self.trashed))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        action = {"dup-keep": self.action_keep, "dup-merge": self.action_merge, "dup-merge-all": self.action_merge_all,
                  "dup-close": self.action_close}.get(event.button.id or "")
        if action is not None:
            action()
