"""A dialog whose body scrolls by keyboard, whichever of its widgets has the focus."""
from __future__ import annotations

from typing import TypeVar

from textual.binding import Binding
from textual.containers import VerticalScroll

from .dialog import Dialog

Result = TypeVar("Result")


class ScrollingModal(Dialog[Result]):
    """The dialog's VerticalScroll follows the arrows, PageUp/PageDown and Home/End even while a
    button has the focus (buttons take none of these keys); its buttons stay below it, on screen."""

    BINDINGS = [
        Binding("up", "scroll_body('up')", "Scroll up", show=False, id="dialog.scroll_up"),
        Binding("down", "scroll_body('down')", "Scroll down", show=False, id="dialog.scroll_down"),
        Binding("pageup", "scroll_body('page_up')", "Page up", show=False, id="dialog.page_up"),
        Binding("pagedown", "scroll_body('page_down')", "Page down", show=False, id="dialog.page_down"),
        Binding("home", "scroll_body('home')", "Top", show=False, id="dialog.top"),
        Binding("end", "scroll_body('end')", "Bottom", show=False, id="dialog.bottom"),
    ]

    def action_scroll_body(self, how: str) -> None:
        for body in self.query(VerticalScroll).results(VerticalScroll):
            getattr(body, f"scroll_{how}")(animate=False)
            return


class ReadingDialog(ScrollingModal[None]):
    """A dialog to read (info, help): its one button, Close, has the focus; the button or the close key
    (the subclass's binding) close it."""

    AUTO_FOCUS = "#close"  # (not the scrolling body first: each focus change styled every widget in it again)

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#close"))

    def on_button_pressed(self) -> None:
        self.dismiss(None)
