"""Add to collection: the account's collections as checkboxes, and "Create New Collection".

Checking a box adds the image(s) to that collection at once, unchecking removes
them. For several images a box is checked when all of them are in it.
"""
from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, SelectionList, Static
from textual.widgets.selection_list import Selection

from store.errors import StoreError
from store.library import Library
from store.text import one_line, plural
from widgets.typing_goes_to import typing_goes_to

from .dialog import Dialog


class CollectionList(SelectionList[int]):
    """The checkboxes: ↓ on the last one goes on to "Create New Collection…", and a letter typed here starts a
    new collection's name there (its spaces then go into the name, never toggling a box)."""

    def on_key(self, event: events.Key) -> None:
        name_box = self.screen.query_one("#new-collection", Input)
        if event.key == "down" and (self.option_count == 0 or self.highlighted == self.option_count - 1):
            event.stop()
            event.prevent_default()
            name_box.focus()
        else:
            typing_goes_to(event, name_box)


class AddToCollectionScreen(Dialog[bool]):
    """Answers True when any membership changed."""

    BINDINGS = [Binding("escape", "close", "Done", id="collections.close")]

    def __init__(self, library: Library, image_ids: list[int]) -> None:
        super().__init__()
        self.library = library
        self.image_ids = list(image_ids)
        self.changed = False
        # Read now, so that a StoreError (an image deleted meanwhile, another account's) reaches
        # the caller, which shows it, instead of failing while the dialog is drawn.
        self._initial = self._selections()
        # Whether all the images are in each collection, as this dialog made it: each toggle flips it once, in
        # order (two quick spaces are two toggles, even if both are handled after the second one)
        self._all_in = {selection.value: selection.initial_state for selection in self._initial}

    def compose(self) -> ComposeResult:
        n = len(self.image_ids)
        title = f"Add image #{self.image_ids[0]} to collections" if n == 1 else f"Add {n:,} images to collections"
        with Vertical(classes="dialog", id="collections-dialog"):
            yield Static(title, classes="title", markup=False)
            yield Static("space checks or unchecks; changes apply at once", classes="hint")
            yield CollectionList(*self._initial, id="collection-list")
            yield Input(placeholder="Create New Collection… (type a name, Enter)", id="new-collection",
                        select_on_focus=False)  # a name begun in the list goes on there
            with Horizontal(classes="buttons"):
                yield Button("Done", id="done", variant="primary")

    def _selections(self) -> list[Selection[int]]:
        membership = self.library.membership(self.image_ids)
        n = len(self.image_ids)
        return [Selection(self._prompt(c, membership.get(c.id, 0)), c.id, membership.get(c.id, 0) == n)
                for c in self.library.collections()]

    def _prompt(self, collection, members: int) -> Text:
        """The collection's name and count; checked ones bold and marked in words too, not by colour alone."""
        n = len(self.image_ids)
        count = plural(collection.count, "image")
        if members == n:
            return Text.assemble((one_line(collection.name), "bold"), f"  ({count})  ",
                                 ("✓ in it" if n == 1 else "✓ all in it", "bold"))
        if members:
            return Text.assemble(one_line(collection.name), f"  ({count})  ", (f"{members:,} of {n:,} in it", "italic"))
        return Text.assemble(one_line(collection.name), (f"  ({count})", "dim"))

    def _show_counts(self) -> None:
        """After a change: every collection's count and state as the library has them now."""
        listing = self.query_one("#collection-list", SelectionList)
        membership = self.library.membership(self.image_ids)
        by_id = {c.id: c for c in self.library.collections()}
        for index in range(listing.option_count):
            collection = by_id.get(listing.get_option_at_index(index).value)
            if collection is not None:
                listing.replace_option_prompt_at_index(index, self._prompt(collection, membership.get(collection.id, 0)))

    def on_mount(self) -> None:
        listing = self.query_one("#collection-list", SelectionList)
        self.set_focus(listing if listing.option_count else self.query_one("#new-collection", Input))

    @on(SelectionList.SelectionToggled, "#collection-list")
    def _toggled(self, event: SelectionList.SelectionToggled) -> None:
        collection_id = event.selection.value
        adding = not self._all_in.get(collection_id, False)
        try:
            if adding:
                n = self.library.add_to_collection(self.image_ids, collection_id)
            else:
                n = self.library.remove_from_collection(self.image_ids, collection_id)
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self._all_in[collection_id] = adding
        if n:  # what this toggle did; nothing said when nothing changed
            self.notify(f"{'Added' if adding else 'Removed'} {plural(n, 'image')} "
                        f"{'to' if adding else 'from'} the collection.", markup=False)
            self.changed = True
        try:
            self._show_counts()
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)

    @on(Input.Submitted, "#new-collection")
    def _create(self, event: Input.Submitted) -> None:
        try:
            collection = self.library.create_collection(event.value)
            self.library.add_to_collection(self.image_ids, collection.id)
            selections = self._selections()
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.changed = True
        event.input.value = ""
        listing = self.query_one("#collection-list", SelectionList)
        listing.clear_options()
        listing.add_options(selections)
        self._all_in = {selection.value: selection.initial_state for selection in selections}
        self.set_focus(listing)
        self.notify(f'Created "{one_line(collection.name)}" and added the image(s) to it.', markup=False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.changed)

    def action_close(self) -> None:
        self.dismiss(self.changed)
