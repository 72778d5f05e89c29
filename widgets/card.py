"""One image card: thumbnail, prompt, selection box and action buttons.

Cards are recycled by the grid: `show()` binds a card to another image.
The card never talks to the store; it posts messages the screen acts on.
"""
from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.css.scalar import Scalar
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button

from store.records import ImageRecord
from store.text import one_line

from .thumbnails import fit_cells


@dataclass(frozen=True)
class CardAction:
    name: str  # the screen action it runs: "favorite", "prompt", ...
    icon: str
    tooltip: str


class ActionButton(Button):
    """A one-cell icon button; clicking works, focus stays on the grid."""

    ALLOW_SELECT = False

    def __init__(self, action: CardAction):
        super().__init__(action.icon, id=f"act-{action.name}", classes="card-action", compact=True)
        self.action_name = action.name
        self.can_focus = False
        self.tooltip = action.tooltip


class CardText(Widget):
    """A line of plain text; changing it repaints only this widget (no layout pass)."""

    DEFAULT_CSS = "CardText { height: 1; }"

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = text

    def set_text(self, text: str) -> None:
        if text != self.text:
            self.text = text
            self.refresh()

    def render(self) -> Text:
        return Text(self.text, no_wrap=True, overflow="ellipsis")


class CardPrompt(CardText):
    """The prompt in at most `height` lines, cut with an ellipsis to the space there is."""

    DEFAULT_CSS = "CardPrompt { height: 2; }"

    def render(self) -> Text:
        width, height = max(1, self.size.width), max(1, self.size.height)
        lines = Text(self.text).wrap(self.app.console, width, overflow="fold")
        if len(lines) > height:
            kept = lines[:height]
            last = kept[-1]
            last.truncate(width - 1)
            last.rstrip()
            last.append("…")
            lines = kept
        return Text("\n").join(lines)


class ImageCard(Widget):
    DEFAULT_CSS = """
    ImageCard {
        border: round $panel-lighten-2;
        padding: 0 1;
        height: 1fr;
        width: 1fr;
        layout: vertical;
    }
    ImageCard.-current { border: round $accent; background: $boost; }
    ImageCard.-selected { border: double $success; }
    ImageCard.-current.-selected { border: double $accent; }
    ImageCard.-empty { visibility: hidden; }
    ImageCard .card-top { height: 1; }
    ImageCard #check { width: 4; }
    ImageCard #when { width: 1fr; color: $text-muted; text-align: right; }
    ImageCard #thumb-box { height: 1fr; align: center middle; }
    ImageCard #thumb { width: 1; height: 1; }
    ImageCard #no-thumb { width: 100%; height: 1fr; content-align: center middle; color: $text-muted; }
    ImageCard #prompt { color: $text; }
    ImageCard .card-actions { height: 1; }
    ImageCard .card-action {
        width: 3; min-width: 3; height: 1; border: none; padding: 0; margin: 0;
        background: transparent; color: $text;
    }
    ImageCard .card-action:hover { background: $accent 40%; }
    ImageCard #act-favorite.-on { color: $error; }
    """

    class ActionPressed(Message):
        """A card's button was clicked."""

        def __init__(self, card: "ImageCard", action: str) -> None:
            super().__init__()
            self.card = card
            self.action = action

    class Clicked(Message):
        def __init__(self, card: "ImageCard", double: bool, toggle: bool) -> None:
            super().__init__()
            self.card = card
            self.double = double
            self.toggle = toggle  # the click was on the selection box

    def __init__(self, slot: int, actions: list[CardAction], image_class: type | None) -> None:
        super().__init__(id=f"card-{slot}")
        self.slot = slot
        self.index: int | None = None
        self.record: ImageRecord | None = None
        self._actions = actions
        self._image_class = image_class

    def compose(self) -> ComposeResult:
        with Horizontal(classes="card-top"):
            yield CardText("☐", id="check")
            yield CardText("", id="when")
        with Horizontal(id="thumb-box"):
            if self._image_class is not None:
                yield self._image_class(None, id="thumb")
            else:
                yield CardText("", id="no-thumb")
        yield CardPrompt(id="prompt")
        with Horizontal(classes="card-actions"):
            for action in self._actions:
                yield ActionButton(action)

    def show(self, index: int | None, record: ImageRecord | None, picture, *, selected: bool, current: bool,
             owner_visible: bool = False) -> None:
        """Bind the card to an image (or to nothing: an empty, hidden card)."""
        self.index = index
        self.record = record
        self.set_class(record is None, "-empty")
        self.set_class(current and record is not None, "-current")
        self.set_class(selected and record is not None, "-selected")
        if record is None:
            return
        self.query_one("#check", CardText).set_text("☑" if selected else "☐")
        when = record.generated_at.strftime("%Y-%m-%d")
        if owner_visible:
            when = f"{one_line(record.owner)} · {when}"
        self.query_one("#when", CardText).set_text(when)
        self.query_one("#prompt", CardPrompt).set_text(one_line(record.prompt) or "(no prompt)")
        if self._image_class is not None:
            thumb = self.query_one("#thumb")
            if hasattr(thumb, "show"):
                thumb.show(picture, record.thumbnail_path)
            elif thumb.image is not picture:
                thumb.image = picture
            self._fit_thumb()
        else:
            self.query_one("#no-thumb", CardText).set_text(f"#{record.id}  {record.width}×{record.height}")
        for button in self.query(ActionButton):
            if button.action_name == "favorite":
                label = "♥" if record.favorite else "♡"
                if str(button.label) != label:
                    button.label = label
                button.set_class(record.favorite, "-on")
                button.tooltip = "Unfavorite (f)" if record.favorite else "Favorite (f)"

    def _fit_thumb(self) -> None:
        """Size the picture to its box, keeping the image's shape (a cell is twice as tall as wide)."""
        if self.record is None or self._image_class is None:
            return
        box = self.query_one("#thumb-box").size
        if box.width <= 0 or box.height <= 0:
            return
        thumb = self.query_one("#thumb")
        width, height = fit_cells(box.width, box.height, self.record.width, self.record.height)
        if (thumb.styles.width, thumb.styles.height) != (Scalar.parse(str(width)), Scalar.parse(str(height))):
            thumb.styles.width, thumb.styles.height = width, height

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_thumb)

    @on(Button.Pressed, ".card-action")
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if self.record is not None:
            self.post_message(self.ActionPressed(self, event.button.action_name))

    def on_click(self, event) -> None:
        if self.record is not None:
            on_box = event.widget is not None and event.widget.id == "check"
            self.post_message(self.Clicked(self, event.chain > 1, on_box))
