"""Terminal answers that come too late are dropped, not typed.

Before the app starts, the terminal is asked what it is and what it can draw (widgets/graphics_support.py,
textual-image): its attributes (DA1, `ESC [ ? 62 ; c`), its name and version (XTVERSION, `ESC P > | kitty(0.26.5)
ESC \\`), Kitty graphics (`ESC _ G i=31;OK ESC \\`), its cell size (`ESC [ 6 ; 17 ; 8 t`). An answer that arrives
after the app has started (a terminal that has just started, a slow SSH link) reaches Textual's input parser,
which does not know it: it gives it to the app as keys, `[ ? 6 2 ; c` or `^ P > | k i t t y ...`; `?` opened
the help, and the rest was typed into the search box.

Such keys come all at once (the parser hands out the whole sequence when it gives up on it), in a shape no one
types: `[`, then parameters, then a final letter; or `^` then `P`, `_` or `]`, and text up to a backslash.
`LateReplies` holds a key that may begin one, and the keys right behind it; a whole answer is dropped, anything
else goes on as typed, in order (a `[` or `^` typed last goes on `BURST` seconds later).

It sits in the driver's input thread, where the parser's keys come out (`Driver.process_message`, public): there
the keys' order and timing are the terminal's, before the app's own handling of fast typing (tui/key_order.py)
sees them. Textual gives no hook before its parser.

The wait for the rest of an answer is a timer (`start_timer`, a `threading.Timer` by default); a test gives one it
runs itself, so that a pause of the test's own thread is not taken for the terminal's silence.
"""
from __future__ import annotations

import threading
from functools import partial
from typing import Callable

from textual import constants, events
from textual.driver import Driver
from textual.message import Message

BURST = 0.03  # seconds between two keys of one answer at most (the parser makes them together; typing is slower)
# ... but the end of a string answer (ESC \) is given out alone, when the parser gives up on it: ESCAPE_DELAY later
STRING_END_WAIT = 0.15
LONGEST = 256  # characters in an answer at most
CSI_PARAMETERS = set("0123456789;:?>=<$ ")
STRING_KINDS = {"P", "_", "]"}  # DCS (XTVERSION), APC (Kitty graphics), OSC (colours)


# starts a timer: calls the callback after the delay (seconds) unless the function it returns is called first
StartTimer = Callable[[float, Callable[[], None]], Callable[[], None]]


def start_thread_timer(delay: float, callback: Callable[[], None]) -> Callable[[], None]:
    """The real timer: a daemon thread that calls `callback` after `delay` seconds; returns its cancel."""
    timer = threading.Timer(delay, callback)
    timer.daemon = True
    timer.start()
    return timer.cancel


def is_complete(text: str) -> bool | None:
    """True: `text` (the characters of held keys) is a whole terminal answer; None: it may become one; False: it
    cannot be one."""
    if text.startswith("^"):
        text = text[1:]
        if not text:
            return None
        if text[0] in STRING_KINDS:  # ... ST (ESC \, its ESC lost or shown as ^) or BEL
            if len(text) > 2 and (text.endswith("\\") or text.endswith("\x07")):
                return True
            return None if len(text) < LONGEST else False
    if not text.startswith("["):
        return False
    body = text[1:]
    if not body:
        return None
    if all(character in CSI_PARAMETERS for character in body):
        return None if len(body) < LONGEST else False
    parameters, final = body[:-1], body[-1]
    # answers end in a letter (c, R, t, n, y, u); brackets and the like end typed or pasted text ("[1]")
    return (any(c.isdigit() for c in parameters) and all(c in CSI_PARAMETERS for c in parameters)
            and final.isascii() and final.isalpha())


class LateReplies:
    """Takes the input thread's messages in order and sends them on (`send`), less terminal answers."""

    def __init__(self, send: Callable[[Message], object], start_timer: StartTimer = start_thread_timer) -> None:
        self._send = send
        self._start_timer = start_timer
        self._held: list[events.Key] = []
        self._lock = threading.Lock()  # the input thread and the release timer's thread
        self._cancel_timer: Callable[[], None] | None = None
        self._round = 0  # which hold a release timer belongs to
        self.dropped: list[str] = []  # the answers dropped (the last ten), for the tests

    def process(self, message: Message) -> None:
        with self._lock:
            for item in self._take(message):
                self._send(item)

    def _take(self, message: Message) -> list[Message]:
        if not isinstance(message, events.Key):
            return [*self._let_go(), message]  # a mouse move, a resize: what was held goes first
        character = message.character or ""
        let_go: list[Message] = []
        if self._held:
            held = "".join(key.character or "" for key in self._held)
            if len(character) == 1 and message.time - self._held[-1].time <= self._wait(held):
                text = held + character
                complete = is_complete(text)
                if complete is None:
                    self._hold(message)
                    return []
                if complete:
                    self._drop(text)
                    return []
            let_go = self._let_go()
        if character in ("[", "^"):
            self._hold(message)
            return let_go
        return [*let_go, message]

    @staticmethod
    def _wait(held: str) -> float:
        """How long the next key of an answer may take after `held`."""
        string = held[:1] == "^" and held[1:2] in STRING_KINDS and len(held) > 2
        return constants.ESCAPE_DELAY + STRING_END_WAIT if string else BURST

    def _hold(self, key: events.Key) -> None:
        self._held.append(key)
        self._round += 1
        if self._cancel_timer is not None:
            self._cancel_timer()
        held = "".join(item.character or "" for item in self._held)
        self._cancel_timer = self._start_timer(self._wait(held), partial(self._release, self._round))

    def _let_go(self) -> list[Message]:
        self._round += 1  # a timer already running lets nothing go
        if self._cancel_timer is not None:
            self._cancel_timer()
            self._cancel_timer = None
        held, self._held = self._held, []
        return list(held)

    def _drop(self, text: str) -> None:
        self._let_go()
        self.dropped = [*self.dropped[-9:], text]

    def _release(self, round_: int) -> None:
        """Nothing came after the held keys: not an answer; they go on as typed."""
        with self._lock:
            if round_ != self._round:
                return
            for key in self._let_go():
                self._send(key)


def dropping_late_answers(driver_class: type[Driver]) -> type[Driver]:
    """The app's driver class with `LateReplies` between its input parser and the app."""

    # mypy takes no base class chosen at run time (Textual picks the driver for the platform and the mode)
    class LateAnswersDropped(driver_class):  # type: ignore[valid-type, misc]
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.late_replies = LateReplies(partial(driver_class.process_message, self))

        def process_message(self, message: Message) -> None:
            self.late_replies.process(message)

    LateAnswersDropped.__name__ = f"{driver_class.__name__}LateAnswersDropped"
    return LateAnswersDropped
