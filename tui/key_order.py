"""Keys go where the user typed them, in the order typed, however fast they arrive.

Textual hands each key to the widget focused when the key arrives, and runs the
key's bindings only later, when the key comes back up from that widget. Keys
that arrive together (a paste, fast typing, a laggy SSH link) are therefore all
queued for one widget before the first of them has run:

- after "/" moves the focus to the search box, the rest of "/diamond" would come
  back from the grid and run the gallery's bindings (d deletes, i opens info);
- after Enter or Esc in a text field (bindings: they run when the key comes back),
  the next letters would already be typed into the field;
- a busy widget (a grid drawing a reload) hands its keys back late: the letters
  typed once "/" has moved the focus to the search box would land there before
  the ones still on their way back ("castle" typed as "astlec").

`KeyOrder` fixes all three: a key that comes back after the focus moved elsewhere
is delivered again, to the widget focused now, in its place; while a key that runs
bindings (any non-printable key) is on its way, the keys after it wait, then go
where the focus is once its bindings ran; and while a key is still on its way back
from a widget that has lost the focus, the keys typed after it wait for it.

"On its way" is known, not guessed from the time: each key handed to a widget is
followed up its ancestors by a callback queued behind it (`call_later`, which runs
after the messages already queued). Where the callback runs, the key has been
dealt with; once it has run in the App, a key that has not come back was kept by a
widget (a text field keeps the characters typed into it). A busy widget only delays
the keys typed after it, never reorders them.
"""
from __future__ import annotations

import time

from textual import events
from textual.app import App
from textual.dom import DOMNode
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input

# Enter, Esc or Tab in a text field: the focus moves through a few messages once the key's bindings ran
# (Input.Submitted, then the screen's handler). The next keys wait until those handlers have run (followed up
# the field's ancestors), and, while the field's screen has a worker under way, until the focus moves, this
# long at most after the bindings ran (the focus may stay: Enter on a path that is refused).
LEAVE_FIELD_AT_MOST = 1.0
FOCUS_POLL = 0.005  # seconds between looks at the focus while a worker of the field's screen is under way
LEAVE_FIELD_KEYS = {"enter", "escape", "tab", "shift+tab"}
# Keys wait for keys on their way; a key's way can only be lost with a widget removed meanwhile (the callback
# following it never runs): looked for this often while keys wait, and the waiting ends if that is so.
LOOK_AGAIN = 0.5
# The last resort (a key never resolved for a reason not foreseen): the keys waiting go on after this long.
WAIT_AT_MOST = 10.0


class _Ways(dict):
    """The keys on their way (event id -> [order typed, widget focused when it arrived, the node its follower waits
    in]), with how many went to each widget: whether a key is on its way back from a widget that has lost the focus
    is then a look at each widget, not at each key. A burst of N keys (a paste without bracketed paste, typing over a
    laggy link) has up to N on their way, and a look at each of them for each key arriving made typing N characters
    cost N²/2 looks: 639 characters 200,000 (1.4 s), 17,000 characters typed into the search box minutes of a
    stalled app (NEWUSER13 #11)."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: dict[int, list] = {}  # id(widget) -> [widget, keys on their way from it]

    def __setitem__(self, key: int, entry: list) -> None:
        self.pop(key, None)
        super().__setitem__(key, entry)
        self.targets.setdefault(id(entry[1]), [entry[1], 0])[1] += 1

    def pop(self, key, *default):
        if key not in self:
            return super().pop(key, *default)
        entry = super().pop(key)
        slot = self.targets[id(entry[1])]
        slot[1] -= 1
        if not slot[1]:
            del self.targets[id(entry[1])]
        return entry

    def clear(self) -> None:
        super().clear()
        self.targets.clear()


class KeyOrder:
    def __init__(self, app: App) -> None:
        self.app = app
        # keys handed to a widget that have neither come back nor been kept by a widget:
        # event id -> [order typed, widget focused when it arrived, the node its follower waits in]
        self._on_the_way: _Ways = _Ways()
        self._resent: dict[int, int] = {}  # keys sent again (event id -> order typed): they go on in their place
        self._count = 0
        self._waiting_for: int | None = None  # the key event whose bindings have yet to run
        self._waiting_target: Widget | None = None  # where that key went
        self._held: list[tuple[int, events.Key]] = []  # (order typed, key)
        self._timer: Timer | None = None  # looks for lost ways while keys wait
        self._waiting_since = 0.0
        self._focus_promised_until = 0.0  # a screen said the focus moves soon (see `focus_moves_soon`)

    @property
    def idle(self) -> bool:
        """No key on its way, waiting or held: every key typed so far has been dealt with."""
        return not (self._on_the_way or self._resent or self._held or self._waiting_for is not None)

    def focus_moves_soon(self, at_most: float) -> None:
        """The key being handled moves the focus later (Enter in the search box: once the results show): the
        keys typed after it wait for that, `at_most` seconds at most, instead of LEAVE_FIELD_AT_MOST."""
        self._focus_promised_until = time.monotonic() + at_most

    def _focused(self):
        """The focused widget, or None while the app has no screen (starting or closing)."""
        return self.app.focused if self.app.screen_stack else None

    # -- the App's key handling calls these ------------------------------------------------------------

    def arriving(self, event: events.Key) -> bool:
        """A key from the terminal: False to let the App hand it on now, True if it waits its turn."""
        resent = id(event) in self._resent
        if resent:  # in its place among the keys typed
            order = self._resent.pop(id(event))
        else:
            self._count += 1
            order = self._count
        if self._waiting_for is not None or (not resent and (self._held or self._resent or self._strays())):
            self._held.append((order, event))
            self._look_later()
            return True
        focused = self._focused()
        self._on_the_way[id(event)] = [order, focused, None]
        if not event.is_printable:  # its bindings run when it comes back: the next keys wait for them
            self._waiting_for = id(event)
            self._waiting_target = focused
            self._focus_promised_until = 0.0
        elif resent and not self._resent:
            self._go_on()  # the keys typed meanwhile follow the last key sent again
        return False

    def handed_on(self, event: events.Key) -> None:
        """The App dealt with a key from the terminal: follow it up from the widget it was handed to (if a
        priority binding ran instead, it is done)."""
        if id(event) not in self._on_the_way:
            return
        if event.is_forwarded and self.app.screen_stack:
            self._follow(event, self.app.focused or self.app.screen)
        else:
            self._kept(event)

    def went_astray(self, event: events.Key) -> bool:
        """A key back from its widget: True if the focus left that widget meanwhile; it is then sent
        again, in its place among the keys typed, to the widget focused now."""
        entry = self._on_the_way.pop(id(event), None)
        if entry is None or not self._astray(entry[1]):
            return False
        self._held.append((entry[0], events.Key(event.key, event.character)))
        if self._waiting_for == id(event):
            self.release()  # sent again: its bindings run then
        else:
            self._go_on()
        return True

    def returned(self, event: events.Key) -> None:
        """A key's bindings ran: the keys typed after it go on once what the bindings started is done.

        Enter, Esc and Tab in a text field usually move the focus, through messages (Input.Submitted)
        that take a few hops: the next keys wait until the focus moves (LEAVE_FIELD_AT_MOST at most, or
        as long as a screen said with `focus_moves_soon`). After any other key they wait for the next
        refresh only (arrows and Backspace repeat fast)."""
        if self._waiting_for != id(event):
            return
        if event.key in LEAVE_FIELD_KEYS and isinstance(self._waiting_target, Input):
            self._follow_through(self._waiting_target, time.monotonic() + LEAVE_FIELD_AT_MOST, again=True)
        else:
            self.app.call_after_refresh(self.release)

    # -- following a key -------------------------------------------------------------------------------

    def _follow(self, event: events.Key, node: DOMNode) -> None:
        """Queue a look behind the key in `node`: when it runs, `node` has dealt with the key (and handed it
        on to its parent, unless it kept it)."""
        entry = self._on_the_way.get(id(event))
        if entry is None:
            return
        entry[2] = node
        if not node.call_later(self._followed, event, node):  # closed: the key went with it
            self._kept(event)

    def _followed(self, event: events.Key, node: DOMNode) -> None:
        if id(event) not in self._on_the_way:  # back in the App already
            return
        parent = node.parent
        if node is self.app or parent is None:
            self._kept(event)  # it never reached the App: a widget kept it
        else:
            self._follow(event, parent)

    def _kept(self, event: events.Key) -> None:
        """A key a widget kept for itself (or a priority binding ran): it will not come back."""
        self._on_the_way.pop(id(event), None)
        if self._waiting_for == id(event):
            self.release()
        else:
            self._go_on()

    def _astray(self, target: Widget | None) -> bool:
        """True if a key sent to `target` would now be sent elsewhere (the focus left it)."""
        focused = self._focused()
        return not (target is None or focused is None or focused is target or target in focused.ancestors)

    def _strays(self) -> list[int]:
        """The order of the keys still on their way back from a widget that has lost the focus since (each widget
        looked at once; the keys themselves only when one has lost it)."""
        lost = {key for key, (target, _) in self._on_the_way.targets.items() if self._astray(target)}
        return [entry[0] for entry in self._on_the_way.values() if id(entry[1]) in lost] if lost else []

    # -- letting the held keys go ------------------------------------------------------------------------

    def _follow_through(self, node: DOMNode, deadline: float, again: bool) -> None:
        """After Enter, Esc or Tab in a text field: follow what the key posted (Input.Submitted) up the field's
        ancestors, as `_follow` does a key. In each node the look is queued twice: once behind the messages
        already there, once more behind those their handlers posted to the node itself (the search box's
        Submitted posts the filter bar's). Once it has gone through the App, every handler has run and any
        focus they asked for has moved."""
        if self._waiting_for is None:
            return
        if self._focused() is not self._waiting_target:  # what the focus change sets off runs first (Blurred)
            self.app.call_after_refresh(self._release_for, self._waiting_for)
            return
        if again:
            queued = node.call_later(self._follow_through, node, deadline, False)
        elif node.parent is None:  # through the App
            self._release_when_settled(deadline)
            return
        else:
            queued = node.parent.call_later(self._follow_through, node.parent, deadline, True)
        if not queued:  # the node closed meanwhile (a dialog dismissed): the focus is elsewhere
            self.release()

    def _release_when_settled(self, deadline: float) -> None:
        """Every handler of the key has run and the focus is still in the field: the next keys go on after
        the next refresh, unless the field's screen has work under way that may move the focus once done
        (a worker: the sources dialog looks at a folder first) or a screen said the focus moves soon; those
        are waited for, until LEAVE_FIELD_AT_MOST after the key (or what the screen said)."""
        if self._waiting_for is None:
            return
        now = time.monotonic()
        if now < self._focus_promised_until or self._screen_busy():
            if self._focused() is not self._waiting_target or now > max(deadline, self._focus_promised_until):
                self.release()
            else:
                self.app.set_timer(FOCUS_POLL, lambda: self._release_when_settled(deadline))
        else:
            self.app.call_after_refresh(self._release_for, self._waiting_for)

    def _release_for(self, key_id: int) -> None:
        if self._waiting_for == key_id:
            self.release()

    def _screen_busy(self) -> bool:
        """A worker of the waited-for field's screen (or of a widget on it) is pending or running."""
        target = self._waiting_target
        if target is None or not target.is_attached:
            return False
        screen = target.screen
        for worker in self.app.workers:
            node = worker.node
            if not worker.is_finished and (node is screen or (isinstance(node, Widget) and screen in node.ancestors)):
                return True
        return False

    def release(self) -> None:
        """The key waited for has run its bindings (or will not): the next keys go on."""
        self._waiting_for = None
        self._focus_promised_until = 0.0
        self._waiting_since = time.monotonic()
        self._go_on()

    def _go_on(self) -> None:
        """Send the held keys on, in the order typed: those typed before the first key still on its way back
        from a widget that lost the focus; the others wait for it."""
        if self._waiting_for is not None or not self._held:
            return
        strays = self._strays()
        first_stray = min(strays) if strays else None
        held = sorted(self._held, key=lambda item: item[0])
        go = [item for item in held if first_stray is None or item[0] < first_stray]
        self._held = held[len(go):]
        if go:
            self._waiting_since = time.monotonic()
        for order, event in go:
            # sent by the App, whatever callback this runs in: a key bubbles no further than the node it was
            # sent by (Textual stops a message at its sender), so one sent from a dialog's callback never came back
            key = events.Key(event.key, event.character).set_sender(self.app)
            self._resent[id(key)] = order
            if not self.app.post_message(key):  # the app is closing
                self._resent.pop(id(key))

    def _look_later(self) -> None:
        if self._timer is None:
            self._waiting_since = time.monotonic()
            self._timer = self.app.set_interval(LOOK_AGAIN, self._look)

    def _look(self) -> None:
        """While keys wait: a key whose follower waits in a node that has closed since will not come back
        (nor will its follower run); after WAIT_AT_MOST every key waiting goes on."""
        if not self._held and self._waiting_for is None and not self._resent:
            if self._timer is not None:
                self._timer.stop()
            self._timer = None
            return
        if time.monotonic() - self._waiting_since > WAIT_AT_MOST:
            self.app.log.warning("keys waited too long for the keys before them; they go on")
            self._on_the_way.clear()
            self._resent.clear()
            self.release()
            self._waiting_since = time.monotonic()
            return
        for key_id, entry in list(self._on_the_way.items()):
            node = entry[2]
            if node is not None and not node.is_running:
                self._on_the_way.pop(key_id, None)
                if self._waiting_for == key_id:
                    self._waiting_for = None
        self._go_on()
