"""A few images large, one at a time (the duplicates view's Enter; the trash's, tui/trash_screen.py): ←/→ step
through them, Esc closes."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from store.records import ImageRecord, human_size
from store.text import one_line
from widgets.key_bar import KeyBar
from widgets.large_picture import LargePicture

from .dialog import Dialog


class PictureScreen(Dialog[None]):
    HELP_TITLE = "Large view"
    BINDINGS = [
        Binding("escape,enter,q", "close", "Close", id="picture.close"),
        Binding("left,h", "step(-1)", "Previous", id="picture.previous"),
        Binding("right,l", "step(1)", "Next", id="picture.next"),
        # A modal screen hides the app's keys: its help is bound here (the key bar ends with "? more").
        Binding("question_mark,f1", "app.help", "Help", show=False, id="picture.help"),
    ]

    def __init__(self, records: list[ImageRecord], index: int, mode: str) -> None:
        super().__init__()
        self.records = records
        self.index = index
        self.mode = mode

    def compose(self) -> ComposeResult:
        with Vertical(id="picture-view"):
            yield LargePicture(self.mode, self.records[self.index], id="picture-large")
            yield Static("", id="picture-caption")
        yield KeyBar(more_action="app.help")

    def on_mount(self) -> None:
        self._caption()

    def position(self) -> tuple[int, int]:
        """The place of the image shown among those ←/→ go through, and how many they are."""
        return self.index, len(self.records)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "step" and self.position()[1] <= 1:
            return False  # one image: no ←/→ on the bar (new-user test 8 #9)
        return True

    def _caption(self) -> None:
        record = self.records[self.index]
        index, total = self.position()
        self.query_one("#picture-caption", Static).update(Text.assemble(
            (f"{index + 1:,} / {total:,}", "bold"),
            f"  #{record.id}  {record.width}×{record.height} {record.ext.upper()} {human_size(record.file_size)}  ",
            one_line(record.prompt) or "(no prompt)", no_wrap=True, overflow="ellipsis"))

    def action_step(self, delta: int) -> None:
        index = max(0, min(len(self.records) - 1, self.index + delta))
        if index != self.index:
            self.index = index
            self.query_one("#picture-large", LargePicture).show(self.records[index])
            self._caption()
