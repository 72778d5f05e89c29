"""The base of the app's dialogs (frogmouth's dialogs, posting's modals do the same).

A dialog is a ModalScreen that answers its caller with `dismiss(value)`. Closing it answers None: its close
key (Escape, bound by each dialog with an id of its own, so a keymap can change it) runs `close`. Dialogs that
answer something else when closed (what was imported, whether anything changed) override `action_close`.
The questions (ConfirmDeleteScreen, Question) and the progress dialog bind Escape to `cancel` instead:
a question answers False, the progress dialog cancels its job and stays until the job has stopped.

Ctrl+C, the key a terminal user stops things with, does in every one of them what its Escape does (`Modal`'s
`dialog.stop`); with text selected with the mouse it copies it instead, as Textual's Ctrl+C does (NEWUSER13: in a
question it did nothing and said nothing).

Every one of them is a `Modal`: laid out and drawn once at its first paint (issue 11), not twice.
"""
from __future__ import annotations

from asyncio import InvalidStateError
from typing import TYPE_CHECKING, Generic, TypeVar

from textual import events
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Static

Result = TypeVar("Result")


if TYPE_CHECKING:
    _Answering = Screen
else:  # (a mixin, not a Screen: Textual's CSS follows a class's first DOM base, here ModalScreen or Screen)
    _Answering = Generic


class AnsweredOnce(_Answering[Result]):
    """A screen (every dialog, the compare and duplicates views) whose answer is given once, whatever asks twice.
    Put before the Screen class: `class Modal(AnsweredOnce[Result], ModalScreen[Result])`.

    Two answers queued one behind the other (two clicks on a button, Enter twice at once, a click and Esc) gave the
    answer again, already given (InvalidStateError: the app ended; the slow fuzz run, seed 13), and would pop the
    screen under this one. And Textual's `dismiss` gives the answer, then pops the screen on top, whichever it is: a
    screen dismissed from under another (the help opened from it; a follower closing a view whose images went
    elsewhere) stayed on the stack answered, the one over it popped instead; shown again, its Esc answered again
    (seed 12). Now a second answer does nothing, and an answered screen shown again closes on its Esc. NEWUSER14."""

    _answered = False  # dismissed already (`dismiss`)

    def dismiss(self, result: Result | None = None) -> AwaitComplete:
        if self._answered:
            return AwaitComplete()
        self._answered = True
        try:
            return super().dismiss(result)
        except InvalidStateError:  # answered already, from under another screen: closed now
            return self.app.pop_screen() if self.app.screen is self else AwaitComplete()

    # (Textual calls each class's own handler of an event: this one as well as a subclass's)
    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        self._answered = False  # shown (again): it may be dismissed


class Modal(AnsweredOnce[Result], ModalScreen[Result]):
    """A ModalScreen laid out and drawn once when it is shown (issue 11).

    Textual lays a screen out when it is shown, and that layout sends the screen a Resize (it was "shown" at
    that size), on which Textual laid it out and drew it again at the same size, with every screen under it
    laid out again too; only then did it set the classes of `HORIZONTAL_BREAKPOINTS` (the trash's), which
    restyled the dialog and laid it out a third time. All of it in one go on the UI thread: the dialog's
    widgets and the dimmed gallery under it drawn two or three times at its first paint. Here the breakpoint
    classes are set before anything is laid out, and a Resize to the size this screen and those drawn under it
    (`_drawn_with`) are already laid out at is not acted on (what changed since asks for its own layout, as it
    does any time). A real change of the terminal's size goes the way Textual takes it."""

    # Textual's Ctrl+C in a screen copies the text selected with the mouse, and without any does nothing (a modal
    # screen does not reach the app's "press ctrl+q to quit" either): here it also cancels or closes, as Escape does
    BINDINGS = [Binding("ctrl+c", "stop", "Same as Esc; copies selected text", show=False, id="dialog.stop")]

    _resumed = False

    async def action_stop(self) -> None:
        """Ctrl+C: the text selected with the mouse copied (Textual's Ctrl+C, which this binding replaces), else what
        Escape does here (`escape_action`), whichever key the user's keymap gives that now."""
        selected = self.get_selected_text()
        if selected:
            self.app.copy_to_clipboard(selected)
        else:
            await self.run_action(self.escape_action())

    @classmethod
    def escape_action(cls) -> str:
        """The action this dialog binds Escape to (`close`, `cancel`), from its bindings and its bases'; one that
        binds none: a question's `cancel`, any other dialog's `close`."""
        for klass in cls.__mro__:
            for binding in vars(klass).get("BINDINGS", ()):
                if isinstance(binding, Binding) and "escape" in (key.strip() for key in binding.key.split(",")):
                    return binding.action
        return "cancel" if hasattr(cls, "action_cancel") else "close"

    # (Textual calls each class's own handler of an event, these before Screen's and Widget's)
    async def _on_compose(self, event: events.Compose) -> None:
        self._set_breakpoints(self.app.size)

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        if not self._resumed:  # styled as it was mounted, a moment ago: not all of it again
            self._resumed = True
            event.refresh_styles = False

    async def _on_resize(self, event: events.Resize) -> None:
        if all(screen.outer_size == event.size for screen in self._drawn_with()):
            event.stop()
            event.prevent_default()  # (Screen's own handler: the layout again)
            self._set_breakpoints(event.size)

    def _drawn_with(self) -> list[Screen]:
        """This screen and those a Resize lays out with it: the screens under it down to the first opaque one (as
        Textual draws and resizes them). A screen hidden under an opaque one is not (it keeps its old size after a
        change of the terminal's size until it is shown again, when Textual lays it out): its size says nothing of
        this one's."""
        stack = self.app.screen_stack
        screens: list[Screen] = [self]
        for screen in reversed(stack[:stack.index(self)] if self in stack else []):
            screens.append(screen)
            if screen.styles.background.a >= 1:
                break
        return screens

    def _set_breakpoints(self, size: Size) -> None:
        """The classes of the screen's (or the app's) breakpoints at this size, as Textual sets them on a
        Resize."""
        horizontal = (self.app.HORIZONTAL_BREAKPOINTS if self.HORIZONTAL_BREAKPOINTS is None
                      else self.HORIZONTAL_BREAKPOINTS) or []
        vertical = (self.app.VERTICAL_BREAKPOINTS if self.VERTICAL_BREAKPOINTS is None
                    else self.VERTICAL_BREAKPOINTS) or []
        classes = {name: False for _, name in horizontal + vertical}
        for dimension, breakpoints in ((size.width, horizontal), (size.height, vertical)):
            for at, name in sorted(breakpoints, reverse=True):
                if dimension >= at:
                    classes[name] = True
                    break
        if classes:
            self.update_classes(classes, animate=False)


class Dialog(Modal[Result]):
    def action_close(self) -> None:
        """Close without an answer: the caller gets None."""
        self.dismiss(None)


class Question(Modal[bool]):
    """A question, Cancel focused (Esc cancels, bound by each question with an id of its own): True for the `yes`
    button. `NAME` names its box and its text (`NAME-question-dialog`, `NAME-question`)."""

    NAME = "question"
    AUTO_FOCUS = "#cancel"

    def __init__(self, title: str, text: str, yes: str, yes_id: str) -> None:
        super().__init__()
        self.title_text, self.text, self.yes, self.yes_id = title, text, yes, yes_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog question", id=f"{self.NAME}-question-dialog"):
            yield Static(self.title_text, classes="title", markup=False)
            yield Static(self.text, id=f"{self.NAME}-question", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button(self.yes, id=self.yes_id, variant="error")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#cancel", Button))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == self.yes_id)

    def action_cancel(self) -> None:
        self.dismiss(False)
