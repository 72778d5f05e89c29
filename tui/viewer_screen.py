"""The large view of one image, drawn with the best protocol the terminal has."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from store.records import ImageRecord
from store.text import one_line
from widgets.thumbnails import large_image_class, load_picture

LARGE_PIXELS = 1024


class ViewerScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="viewer.close")]

    def __init__(self, record: ImageRecord, mode: str) -> None:
        super().__init__()
        self.record = record
        self.mode = mode

    def compose(self) -> ComposeResult:
        image_class = large_image_class(self.mode)
        with Vertical(id="viewer"):
            with Center(id="viewer-box"):
                picture = load_picture(self.record.path, LARGE_PIXELS) if image_class else None
                if image_class is not None and picture is not None:
                    yield image_class(picture, id="large-image")
                else:
                    yield Static("(image not shown: --images none, or the file cannot be read)",
                                 id="large-missing")
            yield Static(Text(f"#{self.record.id}  {self.record.width}×{self.record.height}  "
                              f"{one_line(self.record.prompt)}", overflow="ellipsis", no_wrap=True),
                         id="viewer-caption")

    def action_close(self) -> None:
        self.dismiss(None)
