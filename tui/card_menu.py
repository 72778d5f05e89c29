"""The ⋯ button's menu: the actions a card has no room to show as buttons (small cards, narrow terminals).

Each is listed with its icon, what it does and its key (the keys work on the current card without the menu, and
in the menu: `d` there chose nothing and said nothing, NEWUSER13 #8); Enter, a click or its key runs it on the card
whose ⋯ was pressed, Escape closes.
"""
from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from widgets.card import CardAction

from .dialog import Dialog


class CardMenu(Dialog[str]):
    """Answers the chosen action's name (None when closed)."""

    BINDINGS = [Binding("escape", "close", "Close", id="card_menu.close")]

    def __init__(self, image_id: int, actions: list[CardAction], keys: dict[str, str] | None = None) -> None:
        super().__init__()
        self.image_id = image_id
        self.actions = list(actions)
        self.keys = dict(keys or {})  # a key -> the action of the menu it runs (as the gallery's keymap has them)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="card-menu"):
            yield Static(f"Image #{self.image_id}: more actions", classes="title", markup=False)
            yield OptionList(*(Option(f"{a.icon}  {a.tooltip}", id=a.name) for a in self.actions), id="card-menu-list")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_key(self, event: events.Key) -> None:
        if event.key in self.keys:
            event.stop()
            self.dismiss(self.keys[event.key])

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
