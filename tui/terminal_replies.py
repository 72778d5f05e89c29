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
else goes on as typed (a `[` typed alone waits `BURST` seconds).

Textual gives no hook before its input parser (the driver's input thread makes the keys), so this works on keys.
"""
from __future__ import annotations

from textual import constants, events
from textual.app import App
from textual.timer import Timer

BURST = 0.03  # seconds between two keys of one answer at most (the parser makes them together; typing is slower)
# ... but the end of a string answer (ESC \) is given out alone, when the parser gives up on it: ESCAPE_DELAY later
STRING_END_WAIT = 0.15
LONGEST = 256  # characters in an answer at most
CSI_PARAMETERS = set("0123456789;:?>=<$ ")
STRING_KINDS = {"P", "_", "]"}  # DCS (XTVERSION), APC (Kitty graphics), OSC (colours)


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
    """Sits in front of the app's key handling (`MyImagesApp.on_event`)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._held: list[events.Key] = []
        self._passing: set[int] = set()  # keys let go after being held: not held again when they come back
        self._timer: Timer | None = None
        self.dropped: list[str] = []  # the answers dropped (the last few), for the log and the tests

    def arriving(self, event: events.Key) -> list[events.Key]:
        """A key from the terminal: the keys to hand on now, in order (none while it may begin an answer; the
        keys held before it when they turn out not to be one)."""
        if id(event) in self._passing:
            self._passing.discard(id(event))
            return [event]
        character = event.character or ""
        let_go: list[events.Key] = []
        if self._held:
            held = "".join(key.character or "" for key in self._held)
            if len(character) == 1 and event.time - self._held[-1].time <= self._wait(held):
                text = held + character
                complete = is_complete(text)
                if complete is None:
                    self._hold(event)
                    return []
                if complete:
                    self._drop(text)
                    return []
            self._stop()
            let_go, self._held = self._held, []
        if character in ("[", "^"):
            self._hold(event)
            return let_go
        return [*let_go, event]

    @staticmethod
    def _wait(held: str) -> float:
        """How long the next key of an answer may take after `held`."""
        string = held[:1] == "^" and held[1:2] in STRING_KINDS and len(held) > 2
        return constants.ESCAPE_DELAY + STRING_END_WAIT if string else BURST

    def _hold(self, event: events.Key) -> None:
        self._held.append(event)
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.app.set_timer(self._wait("".join(key.character or "" for key in self._held)),
                                         self._release)

    def _drop(self, text: str) -> None:
        self._stop()
        self._held = []
        self.dropped = [*self.dropped[-9:], text]
        self.app.log.system(f"a late terminal answer dropped: {text!r}")

    def _stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _release(self) -> None:
        """Nothing came after the held keys: not an answer; they go on, in order, as typed."""
        self._stop()
        held, self._held = self._held, []
        for key in held:
            again = events.Key(key.key, key.character)
            self._passing.add(id(again))
            self.app.post_message(again)
