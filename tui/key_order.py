"""Keys go where the user typed them, in the order typed, however fast they arrive.

Textual hands each key to the widget focused when the key arrives, and runs the
key's bindings only later, when the key comes back up from that widget. Keys
that arrive together (a paste, fast typing, a laggy SSH link) are therefore all
queued for one widget before the first of them has run:

- after "/" moves the focus to the search box, the rest of "/diamond" would come
  back from the grid and run the gallery's bindings (d deletes, i opens info);
- after Enter or Esc in a text field (bindings: they run when the key comes back),
  the next letters would already be typed into the field.

`KeyOrder` fixes both: a key that comes back after the focus moved elsewhere is
delivered again, to the widget focused now; and while a key that runs bindings
(any non-printable key) is on its way, the keys after it wait, then go where the
focus is once its bindings ran.
"""
from __future__ import annotations

from collections import OrderedDict

from textual import events
from textual.app import App
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input

HOLD_AT_MOST = 0.1  # seconds: a key a widget keeps for itself never comes back; the next ones go on then
# Enter, Esc or Tab in a text field: the focus moves through a few messages, which on a loaded machine
# (or a busy app) can take longer than HOLD_AT_MOST; the next keys wait for it, a second at most.
LEAVE_FIELD_AT_MOST = 1.0
FOCUS_POLL = 0.005  # seconds between looks at the focus after Enter/Esc/Tab in a text field
LEAVE_FIELD_KEYS = {"enter", "escape", "tab", "shift+tab"}
REMEMBERED = 256


class KeyOrder:
    def __init__(self, app: App) -> None:
        self.app = app
        self._targets: OrderedDict[int, tuple[int, Widget | None]] = OrderedDict()  # event id -> (order, widget)
        self._count = 0
        self._waiting_for: int | None = None  # the key event whose bindings have yet to run
        self._waiting_target: Widget | None = None  # where that key went
        self._held: list[tuple[int, events.Key]] = []  # (order typed, key)
        self._timer: Timer | None = None

    def _focused(self):
        """The focused widget, or None while the app has no screen (starting or closing)."""
        return self.app.focused if self.app.screen_stack else None

    def arriving(self, event: events.Key) -> bool:
        """A key from the terminal: False to let the App hand it on now, True if it waits its turn."""
        self._count += 1
        if self._waiting_for is not None:
            self._held.append((self._count, event))
            return True
        self._targets[id(event)] = (self._count, self._focused())
        while len(self._targets) > REMEMBERED:  # keys widgets kept for themselves never come back
            self._targets.popitem(last=False)
        if not event.is_printable:  # its bindings run when it comes back: the next keys wait for them
            self._waiting_for = id(event)
            self._waiting_target = self._focused()
            leaving = event.key in LEAVE_FIELD_KEYS and isinstance(self._focused(), Input)
            self._timer = self.app.set_timer(LEAVE_FIELD_AT_MOST if leaving else HOLD_AT_MOST, self.release)
        return False

    def handed_on(self, event: events.Key) -> None:
        """The App dealt with a key from the terminal: if no widget got it (a priority binding), go on."""
        if not event.is_forwarded and self._waiting_for == id(event):
            self.release()

    def went_astray(self, event: events.Key) -> bool:
        """A key back from its widget: True if the focus left that widget meanwhile; it is then sent
        again, in its place among the keys typed, to the widget focused now."""
        order, target = self._targets.pop(id(event), (0, None))
        focused = self._focused()
        if target is None or focused is None or focused is target or target in focused.ancestors:
            return False
        self._held.append((order, events.Key(event.key, event.character)))
        if self._waiting_for == id(event):
            self.release()  # sent again: its bindings run then
        elif self._waiting_for is None:
            self._post_held()
        return True

    def returned(self, event: events.Key) -> None:
        """A key's bindings ran: the keys typed after it go on once what the bindings started is done.

        Enter, Esc and Tab in a text field usually move the focus, through messages (Input.Submitted)
        that take a few hops: the next keys wait until the focus moves (HOLD_AT_MOST at most). After
        any other key they wait for the next refresh only (arrows and Backspace repeat fast)."""
        if self._waiting_for != id(event):
            return
        if event.key in LEAVE_FIELD_KEYS and isinstance(self._waiting_target, Input):
            self._release_when_focus_moves()
        else:
            self.app.call_after_refresh(self.release)

    def _release_when_focus_moves(self) -> None:
        if self._waiting_for is None:
            return
        if self._focused() is not self._waiting_target:
            self.release()
        else:
            self.app.set_timer(FOCUS_POLL, self._release_when_focus_moves)

    def release(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._waiting_for = None
        self._post_held()

    def _post_held(self) -> None:
        held, self._held = sorted(self._held, key=lambda item: item[0]), []
        for _, event in held:
            self.app.post_message(events.Key(event.key, event.character))
