"""One image card: thumbnail, prompt, selection box and action buttons.

Cards are recycled by the grid: `show()` binds a card to another image.
The card never talks to the store; it posts messages the screen acts on.
"""
from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.css.scalar import Scalar
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget

from store.records import ImageRecord
from store.text import one_line

from .thumbnails import fit_cells


@dataclass(frozen=True)
class CardAction:
    name: str  # the screen action it runs: "favorite", "prompt", ...
    icon: str
    tooltip: str


class CardActions(Widget):
    """The card's action buttons drawn as one line: one 3-cell slot per action.

    One widget instead of eight Buttons keeps a screen of cards cheap to repaint.
    A click runs the action under the pointer; hovering shows its tooltip.
    """

    DEFAULT_CSS = """
    CardActions { height: 1; width: 1fr; }
    """
    SLOT = 3

    def __init__(self, actions: list[CardAction], *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.actions = actions
        self.favorite = False
        self._hover: int | None = None

    @property
    def icons(self) -> list[str]:
        return [self._icon(a) for a in self.actions]

    def _icon(self, action: CardAction) -> str:
        if action.name == "favorite":
            return "♥" if self.favorite else "♡"
        return action.icon

    def set_favorite(self, value: bool) -> None:
        if value != self.favorite:
            self.favorite = value
            self.refresh()

    def slot_of(self, name: str) -> int:
        return [a.name for a in self.actions].index(name)

    def render(self) -> Text:
        line = Text(no_wrap=True, overflow="crop")
        for index, action in enumerate(self.actions):
            icon = self._icon(action)
            cell = " " + icon + " " * (self.SLOT - 1 - cell_len(icon))
            style = "bold red" if action.name == "favorite" and self.favorite else ""
            if index == self._hover:
                style += " reverse"
            line.append(cell, style=style.strip())
        return line

    def _slot_at(self, x: int) -> int | None:
        index = x // self.SLOT
        return index if 0 <= index < len(self.actions) else None

    def on_mouse_move(self, event) -> None:
        index = self._slot_at(event.x)
        if index != self._hover:
            self._hover = index
            self.tooltip = self.actions[index].tooltip if index is not None else None
            self.refresh()

    def on_leave(self) -> None:
        self._hover = None
        self.refresh()

    def on_click(self, event) -> None:
        index = self._slot_at(event.x)
        if index is None:
            return
        event.stop()
        card = self.parent
        if isinstance(card, ImageCard) and card.record is not None:
            card.post_message(ImageCard.ActionPressed(card, self.actions[index].name))


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
        yield CardActions(self._actions, classes="card-actions")

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
        self.query_one(CardActions).set_favorite(record.favorite)

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

    def on_click(self, event) -> None:
        if self.record is not None:
            on_box = event.widget is not None and event.widget.id == "check"
            self.post_message(self.Clicked(self, event.chain > 1, on_box))
