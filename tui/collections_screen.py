"""Add to collection: the account's collections as checkboxes, "Create New Collection", rename and delete.

Checking a box adds the image(s) to that collection at once, unchecking removes
them. For several images a box is checked when all of them are in it; one that some of them are in cycles
with space: all of them, none, then back to those it had. F2 renames
the highlighted collection, Ctrl+D (or Delete on the list) deletes it, asking first
when it holds images; its images stay in the library. The list follows collections
made, renamed or deleted elsewhere (tui/following.py).

The collections, their counts and which of the images each holds are read in a worker (counting a collection of a
million images takes tens of milliseconds): the dialog shows at once, saying it is reading them, and its name box
works meanwhile; so after each change made here, and the highlighted collection before F2 and Ctrl+D ask about it
(issue 11). The images are added and removed in a worker too, a
toggle after the other (ten thousand selected took the UI thread for as long as the write took): above BULK_ABOVE
images with the progress dialog and Cancel, which stops between two batches and says how far it got.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Callable

from textual.worker import get_current_worker

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, SelectionList, Static
from textual.widgets.selection_list import Selection

from store.errors import NotFound, StoreError, first_line
from store.library import Library
from store.records import CollectionRecord
from store.selection import Selection as Selected
from store.text import one_line, plural, quoted
from widgets.key_bar import KeyBar
from widgets.typing_goes_to import typing_goes_to

from .dialog import Dialog, Question
from .following import LibraryFollower, error_text
from .progress_screen import JobOutcome, ProgressScreen, run_without_progress


BULK_ABOVE = 500  # images written by one toggle above which the progress dialog shows (with Cancel)
WRITE_BATCH = 500  # images added or removed at a time (a cancel stops between two)
LINE_ROOM = 56  # characters of a collection's line in the dialog (72 columns, less its frame, the list's, the box)
NAME_AT_LEAST = 12  # of a long name, however long its count and state


class CollectionList(SelectionList[int]):
    """The checkboxes: ↓ on the last one goes on to "Create New Collection…", and a letter typed here starts a
    new collection's name there (its spaces then go into the name, never toggling a box; `?` is the help's)."""

    def on_key(self, event: events.Key) -> None:
        name_box = self.screen.query_one("#new-collection", Input)
        if event.key == "down" and (self.option_count == 0 or self.highlighted == self.option_count - 1):
            event.stop()
            event.prevent_default()
            name_box.focus()
        else:
            typing_goes_to(event, name_box)


@dataclass
class Write:
    """One toggle's write, planned on the UI thread and made in a worker: add (or remove) `images` to the collection;
    `kept` first reads which of the dialog's images it holds (a box some are in: its first step)."""

    collection_id: int
    adding: bool
    images: list[int] | Selected
    step: str | None  # the step a box some images were in goes to ("all", "none", "mixed"); None: a plain box
    kept: bool = False
    created: CollectionRecord | None = None  # a collection just made here, which the images go into


@dataclass
class Written:
    """What a write did: how many images changed, of how many it went through before it ended or was cancelled."""

    changed: int
    done: int
    kept: list[int] | None


def names(collections: list[str]) -> str:
    shown = [quoted(name) for name in collections]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


class AddToCollectionScreen(Dialog[bool]):
    """Answers True when any membership changed. `collections_changed` is called at once when a collection is
    made, renamed or deleted here (the gallery's dropdown follows)."""

    HELP_TITLE = "Collections"
    BINDINGS = [
        Binding("escape", "close", "Done", id="collections.close"),
        Binding("f2", "rename", "Rename", id="collections.rename", tooltip="Rename the highlighted collection"),
        Binding("ctrl+d,delete", "delete", "Delete", id="collections.delete",
                tooltip="Delete the highlighted collection (its images stay)"),
        # a modal screen sees none of the app's keys but its priority ones: the help's, here (the list's typed
        # letters go to the name field, `?` is kept for it), and the palette's shown in the key bar
        Binding("question_mark,f1", "app.help", "Help", show=False, id="collections.help"),
        Binding("ctrl+p", "app.command_palette", "palette", show=False, id="collections.palette"),
    ]

    def __init__(self, library: Library, image_ids: Collection[int],
                 collections_changed: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.library = library
        # the gallery's selection as it is (nothing changes a Selection): a list of a million ids made here took
        # 50 ms of the UI thread (issue 11)
        self.image_ids = Selected.of(image_ids)
        self.changed = False
        self.collections_changed = collections_changed
        self.loaded = False  # the first read (in a worker, `_read_in_worker`) has been shown
        self._reading: int | None = None  # the version of the read under way (the follower waits for it)
        self._listed: list[CollectionRecord] = []  # as the list shows them, in its order
        self._membership: dict[int, int] = {}
        # Whether all the images are in each collection, as this dialog made it: each toggle flips it once, in
        # order (two quick spaces are two toggles, even if both are handled after the second one)
        self._all_in: dict[int, bool] = {}
        # A box some of the images are in cycles: all in it, none, and back as it was (new-user test 7 #12: a
        # second space emptied it, and the members it had before could not be got back): collection id ->
        # [the images that were in it, where the cycle is: "mixed", "all" or "none"]
        self._cycles: dict[int, list] = {}
        # the collections toggled (and writes planned: a collection made here), waiting for the write before them
        self._writes: list[int | Write] = []
        self._writing = False  # a toggle's write is under way (`_write_next`)
        self._asking = False  # the highlighted collection is being read for a rename or delete (`_current`)
        self.follower: LibraryFollower[None, tuple[list[CollectionRecord], dict[int, int]]] = LibraryFollower(
            self, library, group="collections-changes", read=lambda _seen, _force: self._read(), apply=self._followed,
            ready=lambda: self._reading is None)

    def compose(self) -> ComposeResult:
        n = len(self.image_ids)
        title = f"Add image #{self.image_ids[0]} to collections" if n == 1 else f"Add {n:,} images to collections"
        with Vertical(classes="dialog", id="collections-dialog"):
            yield Static(title, classes="title", markup=False)
            yield Static("space checks or unchecks; partly in: all, none, then as it was" if n > 1 else
                         "space checks or unchecks; changes apply at once", classes="hint")  # one line at 80x24
            yield Static("Reading the collections…", classes="hint", id="collections-loading")
            yield CollectionList(id="collection-list")
            yield Input(placeholder="Create New Collection… (type a name, Enter)", id="new-collection",
                        select_on_focus=False)  # a name begun in the list goes on there
            with Horizontal(classes="buttons"):
                yield Button("Rename…", id="rename-collection", disabled=True)  # until a collection is listed
                yield Button("Delete…", id="delete-collection", variant="error", disabled=True)
                yield Button("Done", id="done", variant="primary")
        yield KeyBar(more_action="app.help")

    def _read(self) -> tuple[list[CollectionRecord], dict[int, int]]:
        """The account's collections and how many of the images each holds (in a worker: ours, the follower's)."""
        return self.library.collections(), self.library.membership(self.image_ids)

    def _read_in_worker(self, then: Callable[[list[CollectionRecord], dict[int, int]], None] | None = None) -> None:
        """Read the collections and counts in a worker, then show them (`then`, by default `_show`). A read started
        before a later change of ours (or a newer read) is dropped when it comes back."""
        self.follower.changed()  # (a check of the follower's under way read before: dropped too)
        version = self._reading = self.follower.version
        self.run_worker(lambda: self._read_here(version, then or self._show), thread=True, exclusive=True,
                        group="collections-read", exit_on_error=False)

    def _read_here(self, version: int, then: Callable[[list[CollectionRecord], dict[int, int]], None]) -> None:
        """(The worker.)"""
        try:
            with self.library.connection():
                token = self.library.change_token()  # before reading: a change made meanwhile is followed
                answer = self._read()
        except StoreError as exc:
            self.app.call_from_thread(self._read_failed, version, exc)
            return
        except Exception as exc:  # noqa: BLE001 - said as the app says a failed worker's; the dialog not left waiting
            self.app.call_from_thread(self._read_failed, version, StoreError(f"Reading the collections failed: "
                                                                             f"{first_line(exc)}."))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._read_arrived, version, token, answer, then)

    def _read_arrived(self, version: int, token: tuple[int, int], answer: tuple[list[CollectionRecord], dict[int, int]],
                      then: Callable[[list[CollectionRecord], dict[int, int]], None]) -> None:
        if version != self.follower.version or not self.is_attached:
            return
        self._reading = None
        self.follower.read_at(token)
        if not self.loaded:
            self.loaded = True
            self.query_one("#collections-loading").display = False
        then(*answer)

    def _read_failed(self, version: int, exc: StoreError) -> None:
        """The images are gone or not the account's (deleted meanwhile, another account's): said; the dialog
        that had nothing to show yet closes."""
        if version != self.follower.version or not self.is_attached:
            return
        self._reading = None
        self.notify(error_text(exc), title="Not done", severity="error", markup=False, timeout=12)
        if not self.loaded:
            self.dismiss(False)

    def _selections(self, collections: list[CollectionRecord], membership: dict[int, int]) -> list[Selection[int]]:
        n = len(self.image_ids)
        return [Selection(self._prompt(c, membership.get(c.id, 0)), c.id, membership.get(c.id, 0) == n)
                for c in collections]

    def _prompt(self, collection, members: int) -> Text:
        """The collection's name and count; checked ones bold and marked in words too, not by colour alone. A
        long name is cut, not its count and state (NEWUSER7 #21: "… with a rather long name to test tru…" hid
        "(6,368 images)  ✓ all in it", and only the box's colour told checked from not)."""
        n = len(self.image_ids)
        count = plural(collection.count, "image")
        state = ""
        if members == n:
            state = "✓ in it" if n == 1 else "✓ all in it"
        elif members:
            state = f"{members:,} of {n:,} in it"
        tail = f"  ({count})" + (f"  {state}" if state else "")
        cut = Text(one_line(collection.name))  # in cells: a wide character takes two
        cut.truncate(max(NAME_AT_LEAST, LINE_ROOM - len(tail)), overflow="ellipsis")
        name = cut.plain
        if members == n:
            return Text.assemble((name, "bold"), f"  ({count})  ", (state, "bold"))
        if members:
            return Text.assemble(name, f"  ({count})  ", (state, "italic"))
        return Text.assemble(name, (f"  ({count})", "dim"))

    def _show(self, collections: list[CollectionRecord], membership: dict[int, int]) -> None:
        """The list as the library has it now, the highlighted collection kept where it is still listed (the
        first one at first). Only the names and counts change in place when the same collections are listed,
        checked as they were."""
        listing = self.query_one("#collection-list", SelectionList)
        n = len(self.image_ids)
        first = not self._all_in and not listing.option_count
        same = [c.id for c in collections] == [c.id for c in self._listed] and all(
            (membership.get(c.id, 0) == n) == (c.id in listing.selected) for c in collections)
        self._listed, self._membership = collections, membership
        if same:
            for at, collection in enumerate(collections):
                listing.replace_option_prompt_at_index(at, self._prompt(collection, membership.get(collection.id, 0)))
        else:
            index = listing.highlighted
            kept = listing.get_option_at_index(index).value if index is not None and index < listing.option_count \
                else None
            selections = self._selections(collections, membership)
            listing.clear_options()
            listing.add_options(selections)
            self._all_in = {selection.value: selection.initial_state for selection in selections}
            ids = [c.id for c in collections]
            if collections and (kept in ids or index is not None or first):
                listing.highlighted = ids.index(kept) if kept in ids else min(index or 0, len(ids) - 1)
        for button in self.query("#rename-collection, #delete-collection").results(Button):
            button.disabled = not collections
        if not collections and self.focused is listing:
            self.set_focus(self.query_one("#new-collection", Input))
        self.refresh_bindings()

    def _read_again(self, then: Callable[[list[CollectionRecord], dict[int, int]], None] | None = None) -> None:
        """After a change made here: the list from the library now, read in a worker (a read of the follower's
        under way is dropped: it read before)."""
        self._read_in_worker(then)

    def _followed(self, token: tuple[int, int], answer: tuple[list[CollectionRecord], dict[int, int]]) -> None:
        """(A change made elsewhere.) Collections deleted elsewhere leave the list, said in a short notice."""
        collections, membership = answer
        if (collections, membership) == (self._listed, self._membership):
            return
        self._say_gone({c.id for c in collections})
        self._show(collections, membership)

    def _say_gone(self, still: set[int]) -> None:
        gone = [c.name for c in self._listed if c.id not in still]
        if gone:
            self.notify(f"{names(gone)} {'was' if len(gone) == 1 else 'were'} deleted elsewhere: "
                        f"{'it is' if len(gone) == 1 else 'they are'} no longer listed.", title="Collection gone",
                        severity="warning", markup=False)

    def _made_here(self, then: Callable[[list[CollectionRecord], dict[int, int]], None] | None = None) -> None:
        """A collection made, renamed or deleted in this dialog: the list and the gallery's dropdown now."""
        self._read_again(then)
        if self.collections_changed is not None:
            self.collections_changed()

    def on_mount(self) -> None:
        # the list has the focus while it is read (a letter typed there goes on in the name box); with no
        # collection, the name box has it then (`_show`)
        self.set_focus(self.query_one("#collection-list", SelectionList))
        self._read_in_worker()
        self.follower.start()  # (it looks once the first read has given it its token)

    @on(SelectionList.SelectionToggled, "#collection-list")
    def _toggled(self, event: SelectionList.SelectionToggled) -> None:
        self._writes.append(event.selection.value)
        self._write_next()

    def _plan(self, collection_id: int) -> Write:
        """What the next toggle of this box writes, as the writes before it left it."""
        n = len(self.image_ids)
        members = self._membership.get(collection_id, 0)
        first = collection_id not in self._cycles and 0 < members < n and not self._all_in.get(collection_id, False)
        if first or collection_id in self._cycles:  # the next step of a box some of the images were in
            state = "mixed" if first else self._cycles[collection_id][1]
            if state == "mixed":
                return Write(collection_id, True, self.image_ids, "all", kept=first)
            if state == "all":
                return Write(collection_id, False, self.image_ids, "none")
            return Write(collection_id, True, self._cycles[collection_id][0], "mixed")
        return Write(collection_id, not self._all_in.get(collection_id, False), self.image_ids, None)

    def _write_next(self) -> None:
        """The next toggle's write, once the one before it has ended: in a worker, with the progress dialog when it
        is large."""
        if self._writing or not self._writes or not self.is_attached:
            return
        item = self._writes.pop(0)
        write = item if isinstance(item, Write) else self._plan(item)
        self._writing = True
        self.changed = True  # (the gallery reads again when the dialog closes, even before the write has ended)
        self.follower.changed()  # (a read under way is of before this write)
        library, verb = self.library, "added" if write.adding else "removed"

        def job(progress: Callable[[int, int, str], None], cancelled: Callable[[], bool]) -> Written:
            with library.connection():  # (the worker's own, closed at the end)
                kept = library.members_among(self.image_ids, write.collection_id) if write.kept else None
                change = library.add_to_collection if write.adding else library.remove_from_collection
                changed = done = 0
                total = len(write.images)
                for at in range(0, total, WRITE_BATCH):
                    if cancelled():
                        break
                    batch = write.images[at:at + WRITE_BATCH]
                    changed += change(batch, write.collection_id)  # (each batch its own transaction)
                    done += len(batch)
                    progress(done, total, f"images {verb}")
            return Written(changed, done, kept)

        def finished(outcome: JobOutcome | None) -> None:
            self._writing = False
            if outcome is not None and self.is_attached:
                self._written(write, outcome)
            self._write_next()

        if len(write.images) > BULK_ABOVE:
            name = write.created.name if write.created is not None else next(
                (c.name for c in self._listed if c.id == write.collection_id), None)
            where = quoted(name) if name is not None else "the collection"
            title = (f"Adding {len(write.images):,} images to {where}" if write.adding else
                     f"Removing {len(write.images):,} images from {where}")
            self.app.push_screen(ProgressScreen(title, job, total=len(write.images)), finished)
        else:
            self.run_worker(lambda: self.app.call_from_thread(finished, run_without_progress(job)), thread=True,
                            group="collections-write", exit_on_error=False)

    def _written(self, write: Write, outcome: JobOutcome) -> None:
        """Said: what the write did, or why it did not (the list then read again, as the library has it)."""
        if outcome.error is not None:
            if isinstance(outcome.error, NotFound):
                self._not_found(outcome.error)
            else:
                from .app import failure_text

                self.notify(failure_text(outcome.error), title="Not done", severity="error", markup=False)
                self._read_again()
            return
        written: Written = outcome.result
        cancelled = outcome.cancelled and written.done < len(write.images)  # (not a Cancel after the last batch)
        if write.created is not None:
            self._created(write.created, written, cancelled)
            return
        collection_id, n, to = write.collection_id, written.changed, "to" if write.adding else "from"
        if written.kept is not None:
            self._cycles[collection_id] = [written.kept, "mixed"]
        if cancelled:  # the box stays at its step: space again goes on with the same
            self.notify(f"Cancelled after {written.done:,} of {len(write.images):,} images: "
                        f"{'added' if write.adding else 'removed'} {plural(n, 'image')} {to} the collection; the rest "
                        "were not touched.", title="Cancelled", severity="warning", markup=False)
        elif write.step is not None:
            self._cycles[collection_id][1] = write.step
            self._all_in[collection_id] = write.step == "all"
            if write.step == "all":
                said = f"Added {plural(n, 'image')} to the collection: all {len(self.image_ids):,} are in it."
            elif write.step == "none":
                said = f"Removed {plural(n, 'image')} from the collection: none is in it."
            else:
                kept = write.images
                said = (f"Put back the {plural(len(kept), 'image')} that {'was' if len(kept) == 1 else 'were'} in it "
                        "when this dialog opened; space again adds them all.")
            self.notify(said, markup=False)
        else:
            self._all_in[collection_id] = write.adding
            if n:  # what this toggle did; nothing said when nothing changed
                self.notify(f"{'Added' if write.adding else 'Removed'} {plural(n, 'image')} {to} the collection.",
                            markup=False)
        self._read_again()

    def _not_found(self, exc: NotFound) -> None:
        """A collection acted on is gone (deleted elsewhere, before the list followed): said by its name, and the
        list read again. Anything else not found (an image deleted meanwhile) is said as the store says it."""

        def read(collections: list[CollectionRecord], membership: dict[int, int]) -> None:
            still = {c.id for c in collections}
            if all(c.id in still for c in self._listed):
                self.notify(error_text(exc), severity="error", markup=False)
            self._say_gone(still)
            self._show(collections, membership)

        self._read_in_worker(read)

    @on(Input.Submitted, "#new-collection")
    def _create(self, event: Input.Submitted) -> None:
        try:
            collection = self.library.create_collection(event.value)
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.changed = True
        event.input.value = ""
        if self.collections_changed is not None:
            self.collections_changed()  # (the gallery's dropdown)
        self._writes.append(Write(collection.id, True, self.image_ids, None, created=collection))
        self._write_next()

    def _created(self, collection: CollectionRecord, written: Written, cancelled: bool) -> None:
        """A collection made here has its images: said, and the list read again with it highlighted."""

        def read(collections: list[CollectionRecord], membership: dict[int, int]) -> None:
            self._show(collections, membership)
            listing = self.query_one("#collection-list", SelectionList)
            self.set_focus(listing)
            ids = [c.id for c in self._listed]
            if collection.id in ids:
                listing.highlighted = ids.index(collection.id)

        self._read_again(read)
        if cancelled:
            self.notify(f"Created {quoted(collection.name)}; cancelled after {written.done:,} of "
                        f"{len(self.image_ids):,} images: {plural(written.changed, 'image')} added to it, the rest "
                        "were not touched.", title="Cancelled", severity="warning", markup=False)
            return
        self._all_in[collection.id] = True
        added = "the image" if len(self.image_ids) == 1 else f"the {plural(len(self.image_ids), 'image')}"
        self.notify(f'Created {quoted(collection.name)} and added {added} to it.', markup=False)

    # -- rename and delete the highlighted collection ---------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("rename", "delete") and not self._listed:
            return None  # shown dimmed: no collection yet
        return True

    def _highlighted(self) -> CollectionRecord | None:
        listing = self.query_one("#collection-list", SelectionList)
        index = listing.highlighted
        if index is None or index >= listing.option_count:
            return None
        value = listing.get_option_at_index(index).value
        return next((c for c in self._listed if c.id == value), None)

    def _current(self, then: Callable[[CollectionRecord], None]) -> None:
        """`then` the highlighted collection as the library has it now (its count too), read in a worker (counting
        a collection of a million images takes tens of milliseconds); said instead when there is none or it was
        deleted elsewhere. One read at a time: a key pressed again while it runs is not a second question."""
        listed = self._highlighted()
        if listed is None:
            self.notify("No collection is highlighted: pick one in the list (↑ ↓) first.", markup=False)
            return
        if self._asking:
            return
        self._asking = True

        def read() -> None:
            try:
                with self.library.connection():
                    collection = self.library.collection(listed.id)
            except Exception as exc:  # noqa: BLE001 - said on the UI thread
                self.app.call_from_thread(self._current_arrived, listed, None, exc, then)
                return
            self.app.call_from_thread(self._current_arrived, listed, collection, None, then)

        self.run_worker(read, thread=True, group="collections-current", exit_on_error=False)

    def _current_arrived(self, listed: CollectionRecord, collection: CollectionRecord | None,
                         exc: BaseException | None, then: Callable[[CollectionRecord], None]) -> None:
        self._asking = False
        if not self.is_attached or self.app.screen is not self:  # closed, or another dialog over it meanwhile
            return
        if collection is not None:
            then(collection)
        elif isinstance(exc, NotFound):  # deleted elsewhere: said by its name, once (the list may have said it)
            if any(c.id == listed.id for c in self._listed):
                self._not_found(exc)
            else:
                self._read_again()
        else:
            from .app import failure_text

            self.notify(failure_text(exc), title="Not done", severity="error", markup=False)

    @on(Button.Pressed, "#rename-collection")
    def action_rename(self) -> None:
        self._current(self._ask_rename)

    def _ask_rename(self, collection: CollectionRecord) -> None:
        def renamed(record: CollectionRecord | None) -> None:
            if record is None:
                self._read_again()  # cancelled, or deleted elsewhere meanwhile (said by the rename dialog)
                return
            if record.name != collection.name:
                self.notify(f'Renamed {quoted(collection.name)} to {quoted(record.name)}.', markup=False)
            self._made_here()

        self.app.push_screen(RenameCollectionScreen(self.library, collection), renamed)

    @on(Button.Pressed, "#delete-collection")
    def action_delete(self) -> None:
        self._current(self._ask_delete)  # as the library has it now, with its images in the trash

    def _ask_delete(self, collection: CollectionRecord) -> None:
        trash = collection.trash_sentence()
        if collection.count == 0 and not trash:  # nothing in it to think twice about (nor does the command line)
            self._delete(collection)
            return
        images = plural(collection.count, "image")
        they = "It stays" if collection.count == 1 else "They stay"
        if collection.count:
            title = f"Delete the collection {quoted(collection.name)} ({images})?"
            text = (f"{they} in the library, with {'its' if collection.count == 1 else 'their'} favorites and "
                    "other collections: only the collection goes. This cannot be undone."
                    + (f" {trash}" if trash else ""))
        else:  # only images in the trash (new-user test 8 #6: "(0 images)? They stay in the library" read wrong)
            title = f"Delete the collection {quoted(collection.name)}?"
            text = f"It holds no image outside the trash. {trash} This cannot be undone."
        question = ConfirmDeleteCollectionScreen(title, text, "Delete collection", "delete")
        self.app.push_screen(question, lambda yes: self._delete(collection) if yes else None)

    def _delete(self, collection: CollectionRecord) -> None:
        """Deleted in a worker: its memberships go with it (a million rows for a collection of a million images,
        seconds of the UI thread); said when done, or why not (a collection gone meanwhile: by its name)."""

        def delete() -> None:
            try:
                with self.library.connection():
                    self.library.delete_collection(collection.id)
            except Exception as exc:  # noqa: BLE001 - said on the UI thread
                self.app.call_from_thread(self._delete_failed, exc)
                return
            self.app.call_from_thread(self._deleted, collection)

        self.run_worker(delete, thread=True, group="collections-delete", exit_on_error=False)

    def _delete_failed(self, exc: BaseException) -> None:
        if not self.is_attached:
            return
        if isinstance(exc, NotFound):
            self._not_found(exc)
            return
        from .app import failure_text

        self.notify(failure_text(exc), title="Not done", severity="error", markup=False)

    def _deleted(self, collection: CollectionRecord) -> None:
        kept = f"; its {plural(collection.count, 'image')} stay in the library" if collection.count > 1 else \
            "; its image stays in the library" if collection.count else \
            " (it held only images in the trash)" if collection.in_trash else " (it was empty)"
        trash = collection.trash_sentence()
        self.notify(f'Deleted the collection {quoted(collection.name)}{kept}.' + (f" {trash}" if trash else ""),
                    markup=False)
        self.changed = True
        if self.is_attached:
            self._made_here()
        elif self.collections_changed is not None:
            self.collections_changed()  # (the dialog closed meanwhile: the gallery's dropdown all the same)

    # -- closing --------------------------------------------------------------

    @on(Button.Pressed, "#done")
    def _done(self) -> None:
        self.dismiss(self.changed)

    def action_close(self) -> None:
        self.dismiss(self.changed)


class ConfirmDeleteCollectionScreen(Question):
    """Deleting a collection that holds images: asks first, naming it and its count (Cancel focused)."""

    NAME = "collection"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="delete-collection.cancel")]


class RenameCollectionScreen(Dialog[CollectionRecord | None]):
    """The new name of a collection, its current one to edit. A name refused (taken, empty) is said here and
    the dialog stays; answers the renamed collection, or None."""

    BINDINGS = [Binding("escape", "close", "Cancel", id="rename-collection.close")]

    def __init__(self, library: Library, collection: CollectionRecord) -> None:
        super().__init__()
        self.library = library
        self.collection = collection
        self._renaming = False  # the rename's worker is under way

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="rename-collection-dialog"):
            yield Static(f'Rename the collection {quoted(self.collection.name)}', classes="title", markup=False)
            yield Input(self.collection.name, id="collection-name")
            yield Static("", id="rename-note", classes="hint", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Rename", id="rename", variant="primary")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#collection-name", Input))

    @on(Input.Submitted, "#collection-name")
    @on(Button.Pressed, "#rename")
    def _rename(self) -> None:
        """Renamed in a worker (the store reads the collection's count first: tens of milliseconds for a million
        images, issue 11); Enter again meanwhile renames nothing more."""
        if self._renaming:
            return
        self._renaming = True
        self.query_one("#rename", Button).disabled = True
        name = self.query_one("#collection-name", Input).value

        def rename() -> None:
            try:
                with self.library.connection():
                    record = self.library.rename_collection(self.collection.id, name)
            except Exception as exc:  # noqa: BLE001 - said on the UI thread
                self.app.call_from_thread(self._renamed, None, exc)
                return
            self.app.call_from_thread(self._renamed, record, None)

        self.run_worker(rename, thread=True, group="collection-rename", exit_on_error=False)

    def _renamed(self, record: CollectionRecord | None, exc: BaseException | None) -> None:
        self._renaming = False
        if not self.is_attached:
            return
        self.query_one("#rename", Button).disabled = False
        if record is not None:
            self.dismiss(record)
        elif isinstance(exc, NotFound):
            self.notify(f'{quoted(self.collection.name)} was deleted elsewhere: there is nothing to rename.',
                        title="Collection gone", severity="warning", markup=False)
            self.dismiss(None)
        else:  # a name taken, empty or too long: said here, nothing changed
            from .app import failure_text

            note = self.query_one("#rename-note", Static)
            note.update(Text(failure_text(exc), style="bold red"))
            self.set_focus(self.query_one("#collection-name", Input))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
