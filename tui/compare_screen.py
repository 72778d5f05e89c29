"""Compare two images (c in the gallery, with two selected): side by side, as large as the terminal
allows, over a table of their settings with the differing ones highlighted (store/compare.py).

One side is active (its border lit): ←/→ (h/l) step it through the gallery's current result (its order
and filters), Tab makes the other side active, x swaps the sides; a click on a side makes it active and
its ◀ ▶ buttons step it (over the other side's image: never one image on both sides). Pictures are read and drawn in workers (widgets/large_picture.py), and so is
every step (a page of one record). Esc closes. Like the gallery, it follows changes made elsewhere
(tui/following.py): on a new change token a side whose image is gone (deleted, no longer shared) steps to the
image now at its place, with a notice; with no image left, the view closes.
"""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Static

from store.compare import WORD, SettingRow, compare
from store.errors import NotFound
from store.library import Library
from store.records import Filters, ImageRecord
from store.text import one_line
from widgets.workers import work
from widgets.key_bar import KeyBar
from widgets.large_picture import LargePicture

from .dialog import AnsweredOnce
from .following import LibraryFollower

SIDES = ("left", "right")
PROMPT_LINES = 2  # lines of each prompt in the table (the words row lists every change)


def _step_button(label: str, id: str) -> Button:
    button = Button(label, id=id, compact=True)
    button.can_focus = False  # the keys stay the screen's (Enter would press it)
    return button


class CompareSide(Vertical):
    """One side: its place in the result, ◀ ▶, and the picture. A click anywhere makes it the active side."""

    def __init__(self, side: str, mode: str) -> None:
        super().__init__(id=f"compare-{side}", classes="compare-side")
        self.side = side
        self.mode = mode

    def compose(self) -> ComposeResult:
        with Horizontal(classes="compare-caption"):
            yield _step_button("◀", f"{self.side}-previous")
            yield Static("", id=f"{self.side}-caption", classes="compare-place")
            yield _step_button("▶", f"{self.side}-next")
        yield LargePicture(self.mode, id=f"{self.side}-picture")

    def on_click(self) -> None:
        screen = self.screen
        if isinstance(screen, CompareScreen):
            screen.activate(self.side)


class CompareScreen(AnsweredOnce[None], Screen[None]):
    HELP_TITLE = "Compare"
    BINDINGS = [
        Binding("escape,q", "close", "Back", id="compare.close"),
        Binding("left,h", "step(-1)", "Previous", id="compare.previous"),
        Binding("right,l", "step(1)", "Next", id="compare.next"),
        Binding("tab", "other_side", "Other side", priority=True, id="compare.other_side"),
        Binding("x", "swap", "Swap sides", id="compare.swap"),
    ]

    def __init__(self, library: Library, filters: Filters, left: ImageRecord, right: ImageRecord,
                 mode: str) -> None:
        super().__init__()
        self.library = library
        self.filters = filters
        self.mode = mode
        self.records = {"left": left, "right": right}
        self.places: dict[str, int | None] = {"left": None, "right": None}  # index in the result (None: not in it)
        self.total = 0
        self.active = "left"
        # changes made elsewhere; its version counts every change of the sides here (a swap, a step, the first
        # placing): a worker's answer about sides that changed while it read is stale, and is not applied
        self.follower = LibraryFollower(self, library, group="compare-changes", read=self._read_changes,
                                        apply=self._followed, seen=lambda: (dict(self.records), dict(self.places)))

    def compose(self) -> ComposeResult:
        with Horizontal(id="compare-sides"):
            for side in SIDES:
                yield CompareSide(side, self.mode)
        with VerticalScroll(id="compare-settings", can_focus=False):
            yield Static("", id="compare-table")
        yield KeyBar()

    def on_mount(self) -> None:
        self._show_captions()
        self.find_places(self.follower.version)  # then the pictures and the table, the first in the result left
        self.follower.start()

    # -- the result the sides step through, read in workers ---------------------------

    @work(thread=True, exclusive=True, group="compare-places", exit_on_error=False)
    def find_places(self, changes: int) -> None:
        with self.library.connection():
            token = self.library.change_token()  # before reading: no change missed
            total = self.library.count(self.filters)
            places = {side: self.library.position(record.id, self.filters) for side, record in self.records.items()}
        self.app.call_from_thread(self._placed, token, total, places, changes)

    def _placed(self, token: tuple[int, int], total: int, places: dict[str, int | None], changes: int) -> None:
        if changes != self.follower.version:  # the sides changed meanwhile (a swap): place them again
            self.find_places(self.follower.version)
            return
        self.follower.read_at(token)
        self.total = total
        self.places.update(places)
        left, right = places["left"], places["right"]
        if left is not None and right is not None and right < left:
            self.records = {"left": self.records["right"], "right": self.records["left"]}
            self.places = {"left": right, "right": left}
        self._show()

    @work(thread=True, exclusive=True, group="compare-step", exit_on_error=False)
    def fetch(self, side: str, index: int) -> None:
        with self.library.connection():
            found = self.library.page(self.filters, index, 1)
        if found:
            self.app.call_from_thread(self._stepped, side, index, found[0])

    def _stepped(self, side: str, index: int, record: ImageRecord) -> None:
        self.follower.changed()
        self.records[side] = record
        self.places[side] = index
        self._show()

    def _read_changes(self, seen: tuple[dict[str, ImageRecord], dict[str, int | None]], force: bool) -> tuple:
        """(In the follower's worker.) The sides as the library has them now, from the sides shown (`seen`)."""
        records, places = seen
        total = self.library.count(self.filters)
        gone = []
        for side, record in list(records.items()):
            try:
                records[side] = self.library.get(record.id)
            except NotFound:
                gone.append(record.id)
                at = min(places[side] or 0, total - 1)
                found = self.library.page(self.filters, at, 1) if total else []
                other = records["right" if side == "left" else "left"]
                if found and found[0].id == other.id and total > 1:  # the other side's: the one beside it
                    found = self.library.page(self.filters, at + 1 if at + 1 < total else at - 1, 1)
                if found:
                    records[side] = found[0]
            places[side] = self.library.position(records[side].id, self.filters) if total else None
        return total, records, places, gone

    def _followed(self, token: tuple[int, int], answer: tuple) -> None:
        """Show what another process changed: a side whose image went shows the one now at its place."""
        total, records, places, gone = answer
        if gone and not total:
            self.notify(f"{self._named(gone)} deleted elsewhere or no longer shared with you; no image is left "
                        "to compare.", title="Image gone", timeout=6)
            self.dismiss(None)
            return
        if gone:
            self.notify(f"{self._named(gone)} deleted elsewhere or no longer shared with you; "
                        f"{'that side shows' if len(gone) == 1 else 'the sides show'} the next one.",
                        title="Image gone", timeout=6)
        self.records, self.places, self.total = records, places, total
        self._show()

    @staticmethod
    def _named(ids: list[int]) -> str:
        return f"Image #{ids[0]} was" if len(ids) == 1 else f"Images {' and '.join(f'#{i}' for i in ids)} were"

    # -- what is shown ------------------------------------------------------------------

    def _show(self) -> None:
        for side in SIDES:
            self.query_one(f"#{side}-picture", LargePicture).show(self.records[side])
            self.query_one(f"#compare-{side}").set_class(side == self.active, "-active")
        self._show_captions()
        self.query_one("#compare-table", Static).update(self.settings_table(compare(self.records["left"],
                                                                                      self.records["right"])))

    def _show_captions(self) -> None:
        for side in SIDES:
            record, place = self.records[side], self.places[side]
            where = f"{place + 1:,} / {self.total:,}" if place is not None and self.total else \
                "…" if not self.total else "not in the result"
            caption = Text.assemble((f"#{record.id}", "bold"), f" · {where}", no_wrap=True, overflow="ellipsis")
            self.query_one(f"#{side}-caption", Static).update(caption)

    def settings_table(self, rows: list[SettingRow]) -> Table:
        table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
        table.add_column("setting", no_wrap=True, width=9)
        table.add_column("left", ratio=1, overflow="fold")
        table.add_column("right", ratio=1, overflow="fold")
        width = max(10, (self.size.width - 13) // 2)
        for row in rows:
            label = Text(row.label, style="bold yellow" if row.differs else "dim")
            left, right = Text(one_line(row.left) or "—"), Text(one_line(row.right) or "—")
            if row.label in ("Prompt", "Negative"):
                lines = PROMPT_LINES if row.label == "Prompt" else 1  # words wrap: a little less than the lines
                left = _marked(one_line(row.left), row.removed, "bold red", width * lines - width // 3)
                right = _marked(one_line(row.right), row.added, "bold green", width * lines - width // 3)
            elif row.differs:
                left.stylize("yellow")
                right.stylize("yellow")
            else:
                left.stylize("dim")
                right.stylize("dim")
            table.add_row(label, left, right)
            if row.label == "Prompt" and row.differs:
                table.add_row(Text("Words", style="bold yellow"),
                              Text("− " + " ".join(row.removed), style="red") if row.removed else Text("—", "dim"),
                              Text("+ " + " ".join(row.added), style="green") if row.added else Text("—", "dim"))
        return table

    # -- keys and clicks ------------------------------------------------------------------

    def activate(self, side: str) -> None:
        if side != self.active:
            self.active = side
            for name in SIDES:
                self.query_one(f"#compare-{name}").set_class(name == side, "-active")

    def action_other_side(self) -> None:
        self.activate("right" if self.active == "left" else "left")

    def action_step(self, delta: int, side: str | None = None) -> None:
        side = side or self.active
        place = self.places[side]
        if place is None:
            self.notify("This image is not in the gallery's current result: nothing to step through.", timeout=4)
            return
        index = place + delta
        if index == self.places["right" if side == "left" else "left"]:
            index += delta  # never one image on both sides (every row alike): over the other side's to the next
        if not 0 <= index < self.total:
            self.notify("The first image of the result." if index < 0 else "The last image of the result.",
                        timeout=2)
            return
        self.fetch(side, index)

    def action_swap(self) -> None:
        self.follower.changed()
        self.records = {"left": self.records["right"], "right": self.records["left"]}
        self.places = {"left": self.places["right"], "right": self.places["left"]}
        self._show()

    def action_close(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        event.stop()
        side, _, what = (event.button.id or "").partition("-")
        if side in SIDES:
            self.activate(side)
            self.action_step(-1 if what == "previous" else 1, side)

    def on_resize(self) -> None:
        if self.total:
            self._show()


def _marked(text: str, marked: tuple[str, ...], style: str, limit: int) -> Text:
    """A prompt cut to `limit` characters with the given words (case-folded) styled where they stand."""
    shown = text if len(text) <= limit else text[: max(1, limit - 1)] + "…"
    result = Text(shown or "—", style="" if shown else "dim")
    wanted = set(marked)
    for match in WORD.finditer(shown):
        if match.group(0).casefold() in wanted:
            result.stylize(style, match.start(), match.end())
    return result
