"""What the terminal's graphics protocol support is really worth, checked once before the app starts.

textual-image picks the Kitty graphics protocol when the terminal answers its query. kitty answers from
0.20 on, but draws textual-image's pictures (Unicode placeholders) only from 0.28: kitty 0.26.5 (Debian 12)
shows a wall of boxes instead, and takes a second or two per page. The terminal's name and version come from
XTVERSION (`CSI > 0 q`, answered `DCS > | kitty(0.26.5) ST`).
"""
from __future__ import annotations

import os
import re
import sys

import textual_image._terminal as _terminal
from textual_image._terminal import TerminalError, capture_terminal_response

PLACEHOLDERS_FROM = (0, 28)  # the first kitty release that draws Unicode placeholders
ANSWER_WAIT = 1.0  # seconds: a terminal that has just started, or one over SSH, can be slow to answer
QUERY_WAIT = 0.5  # seconds for each of textual-image's own questions (it gives 0.1)
_VERSION = re.compile(r"kitty\((\d+)\.(\d+)(?:\.(\d+))?\)")


def wait_for_the_terminal(timeout: float = ANSWER_WAIT) -> bool:
    """Ask the terminal its attributes (DA1, which every terminal answers) and wait up to `timeout` for the answer.

    textual-image then asks its own questions with 0.1 s to answer; a terminal that has just started (kitty
    takes longer than that) or one over a slow SSH link answers after that, so textual-image falls back to
    half-block cells and the late answer reaches the app as keys (`?` opened the help). Once this first answer
    has come, the next ones come at once. True if it answered."""
    stdout = sys.__stdout__
    if stdout is None or sys.__stdin__ is None or not stdout.isatty() or not sys.__stdin__.isatty():
        return False
    try:
        with capture_terminal_response("\x1b[?", "c", timeout):
            stdout.write("\x1b[c")
            stdout.flush()
    except (TerminalError, TimeoutError, OSError):
        return False
    return True


_patient: object = None  # the patient version of textual-image's question `patient_queries` put in


def patient_queries() -> None:
    """Give textual-image's own questions (Sixel? Kitty graphics?) `QUERY_WAIT` to be answered instead of 0.1 s.

    Under load (two busy cores) kitty answered textual-image's attribute question after 0.1 s: the app took the
    terminal for one without graphics, and the late answer (`ESC [ ? 62 ; c`) came in as keys, `?` opening the
    help. Must run before `textual_image.renderable` is imported (it asks at import)."""
    global _patient
    original = _terminal.capture_terminal_response
    if original is _patient:  # put in already
        return

    def capture(start_marker: str, end_marker: str, timeout: float | None = None):
        return original(start_marker, end_marker, None if timeout is None else max(timeout, QUERY_WAIT))

    _terminal.capture_terminal_response = _patient = capture


def cell_widths(samples: list[str], timeout: float = ANSWER_WAIT) -> list[int] | None:
    """How many cells the terminal moves its cursor for each sample (a cursor-position question after each), or
    None when it does not answer. Written at the start of a line and erased, before the app takes the screen."""
    stdout = sys.__stdout__
    if stdout is None or sys.__stdin__ is None or not stdout.isatty() or not sys.__stdin__.isatty():
        return None
    widths = []
    try:
        for sample in samples:
            with capture_terminal_response("\x1b[", "R", timeout) as response:
                stdout.write("\r" + sample + "\x1b[6n")
                stdout.flush()
            widths.append(int(response.sequence[2:-1].split(";")[1]) - 1)
    except (TerminalError, TimeoutError, OSError, IndexError, ValueError):
        return None
    finally:
        stdout.write("\r\x1b[K")
        stdout.flush()
    return widths


# terminals with no emoji glyphs at all: the Linux text console draws them as blanks or diamonds, and a terminal
# that calls itself dumb (or an old VT) draws none either (NEWUSER7 #21: `--icons auto` chose emoji there)
NO_EMOJI_TERMS = ("linux", "dumb", "vt100", "vt102", "vt220")


def auto_icons(environ, fit) -> str:
    """What `--icons auto` picks: "plain" (each button shows its key) where the terminal has no emoji (its TERM
    says so: nothing is asked) or draws them narrower than Textual counts them (`fit()`, asking it: `emoji_fit`),
    else "emoji"."""
    if environ.get("TERM", "").split("-")[0] in NO_EMOJI_TERMS:
        return "plain"
    return "plain" if fit() is False else "emoji"


def emoji_fit(samples: list[str]) -> bool | None:
    """Does the terminal draw each sample as many cells wide as Textual counts it? None: it did not say.
    mlterm 3.9 draws 🪄 (Unicode 13) one cell wide where Textual counts two: a card's border moved."""
    from rich.cells import cell_len

    widths = cell_widths(samples)
    return None if widths is None else widths == [cell_len(sample) for sample in samples]


def terminal_version(timeout: float = ANSWER_WAIT) -> str | None:
    """The terminal's XTVERSION answer ("kitty(0.26.5)", "XTerm(379)"), or None when it does not answer."""
    stdout = sys.__stdout__
    if stdout is None or sys.__stdin__ is None or not stdout.isatty() or not sys.__stdin__.isatty():
        return None
    try:
        with capture_terminal_response("\x1bP>|", "\x1b\\", timeout) as response:
            stdout.write("\x1b[>0q")
            stdout.flush()
    except (TerminalError, TimeoutError, OSError):
        return None
    return response.sequence[len("\x1bP>|"):-len("\x1b\\")]


def kitty_version(answer: str | None) -> tuple[int, ...] | None:
    match = _VERSION.search(answer or "")
    return tuple(int(part or 0) for part in match.groups()) if match else None


def kitty_in_the_grid(answer: str | None) -> bool:
    """`auto` shows real pixels in the scrolling grid only where that was seen clean in every scenario (scrolling,
    modals, relayout): a kitty that says its version and is 0.28 or later (the Kitty protocol with Unicode
    placeholders). Everywhere else, other kitties and other terminals included, the grid stays half-block."""
    version = kitty_version(answer)
    return version is not None and version >= PLACEHOLDERS_FROM


def kitty_draws_placeholders(answer: str | None, environ=os.environ) -> bool:
    """False for a kitty older than 0.28, or a kitty that would not say its version (TERM=xterm-kitty)."""
    version = kitty_version(answer)
    if version is not None:
        return version >= PLACEHOLDERS_FROM
    return not (environ.get("TERM") == "xterm-kitty" or environ.get("KITTY_WINDOW_ID"))
