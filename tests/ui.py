"""Helpers for driving the real app in tests: waits on conditions, never fixed sleeps."""
from __future__ import annotations

import asyncio
import html
import re
import threading
import time

from rich.cells import cell_len
from textual.drivers.headless_driver import HeadlessDriver


async def settle(pilot, app, rounds: int = 3) -> None:
    """Let the app finish what it started: the workers running now, and what their results start.

    Exclusive workers legitimately cancel each other (a newer thumbnail batch, a newer
    query), so a cancelled worker counts as finished here.
    """
    await pilot.pause()
    await keys_dealt_with(pilot, app)
    for _ in range(rounds):
        running = [w for w in app.workers if not w.is_finished]
        if not running:
            break
        await asyncio.gather(*(w.wait() for w in running), return_exceptions=True)
        await pilot.pause()
    await pilot.pause()


async def keys_dealt_with(pilot, app, timeout: float = 20.0) -> None:
    """Until every key typed so far has gone where it was typed (tui/key_order.py holds keys typed after Enter
    in a field until what the Enter set off has run)."""
    order = getattr(app, "key_order", None)
    start = time.monotonic()
    while order is not None and not order.idle:
        if time.monotonic() - start > timeout:
            raise AssertionError(f"keys still on their way after {timeout} s; {what_is_shown(app)}")
        await pilot.pause(0.005)


async def collections_read(pilot) -> None:
    """The collections dialog on top, its list as read last: it reads the collections and counts in a worker when
    it opens and after each change made in it (issue 11; a worker's answer is shown before it finishes)."""
    app = pilot.app
    await wait_until(pilot, lambda: getattr(app.screen, "loaded", False) and not any(
        worker.group == "collections-read" and not worker.is_finished for worker in app.workers))


async def wait_until(pilot, condition, timeout: float = 20.0) -> float:
    """Let the app run until `condition()` holds; returns the seconds it took (fails after `timeout`).

    The timeout is generous (it costs nothing when the condition comes): on a busy machine a worker's answer
    took over 5 s (a tab completion at load 9)."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout} s; {what_is_shown(pilot.app)}")
        await pilot.pause(0.02)
    return time.monotonic() - start


def what_is_shown(app) -> str:
    """For a wait that failed: the screen on top, the focused widget, the workers and what the screen shows
    (notices included)."""
    try:
        text = "\n".join(line.rstrip() for line in screen_lines(app) if line.strip())
    except Exception as error:  # noqa: BLE001 (a failure message only: say why there is no text)
        text = f"(no screenshot: {error!r})"
    return (f"screen {type(app.screen).__name__ if app.screen_stack else None}, focused {app.focused!r}, "
            f"workers {[(w.group, w.state.name) for w in app.workers]}\n{text}")


_SVG_TEXT = re.compile(r'<text [^>]*?x="([\d.]+)"[^>]*?clip-path="url\(#[^)]*?-line-(\d+)\)">([^<]*)</text>')


def screen_lines(app) -> list[str]:
    """What the screen shows, line by line, read from the public SVG screenshot (not Textual's internals)."""
    svg = app.export_screenshot()
    width, height = app.size
    char_width = 20 * 0.61  # rich's export_svg: character height 20, aspect ratio 0.61
    rows: list[dict[int, str]] = [{} for _ in range(height)]
    for x, line, text in _SVG_TEXT.findall(svg):
        if text != "\n":  # the end of each line as the console printed it
            rows[int(line)][round(float(x) / char_width)] = html.unescape(text).replace("\xa0", " ")
    result = []
    for row in rows:
        out, column = "", 0
        for start in sorted(row):
            out += " " * max(0, start - column) + row[start]
            column = start + cell_len(row[start])
        result.append(out + " " * max(0, width - column))
    return result


def screen_text(app) -> str:
    return "\n".join(screen_lines(app))


def notices(app) -> list[str]:
    """Record every notification the app shows from now on (through the public App.notify)."""
    shown: list[str] = []
    real = app.notify

    def notify(message, *args, **kwargs):
        shown.append(str(message))
        return real(message, *args, **kwargs)

    app.notify = notify
    return shown


_TERMINAL_OUTPUT = re.compile(r"\x1b\[(\d*);(\d*)H|(\x1b\[2J)|\x1b\[[0-9;?<=>]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
                              r"|\x1b[^\[\]]|(\n)|([^\x1b\n]+)")


class TerminalCopy(HeadlessDriver):
    """A driver for `app.run_test(headless=False)` that keeps the characters the app writes, where a terminal
    would show them (`app.driver_class = TerminalCopy`; the one running is `TerminalCopy.running`).

    Textual writes only the parts of the screen it finds changed: a part it misses stays as it was on a real
    terminal, and here, while a screenshot (`screen_lines`) is drawn afresh from what the app holds."""

    running: TerminalCopy | None = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        width, height = self._get_terminal_size()
        self.cells = [[" "] * width for _ in range(height)]
        self.x = self.y = 0
        TerminalCopy.running = self

    @property
    def is_headless(self) -> bool:
        return False  # the app writes to it

    def write(self, data: str) -> None:
        for move_row, move_column, clear, new_line, text in (m.groups() for m in _TERMINAL_OUTPUT.finditer(data)):
            if move_row is not None:
                self.y, self.x = int(move_row or 1) - 1, int(move_column or 1) - 1
            elif clear:
                self.cells = [[" "] * len(row) for row in self.cells]
            elif new_line:
                self.y, self.x = self.y + 1, 0
            elif text:
                for character in text:
                    width = cell_len(character)
                    if 0 <= self.y < len(self.cells) and 0 <= self.x < len(self.cells[self.y]):
                        self.cells[self.y][self.x] = character
                        for extra in range(1, width):  # a wide character covers the cells after it
                            if self.x + extra < len(self.cells[self.y]):
                                self.cells[self.y][self.x + extra] = ""
                    self.x += width

    def lines(self) -> list[str]:
        return ["".join(row) for row in self.cells]


class HeldCall:
    """A method of a class (a store call) whose next call after `hold()` waits until `release()` (at most 5 s), noting
    whether it ran on the UI thread (`threads`): what a test does while a worker's read is under way."""

    def __init__(self, monkeypatch, cls, name: str) -> None:
        self.entered, self.left, self._release = threading.Event(), threading.Event(), threading.Event()
        self.held = False
        self.threads: list[bool] = []
        real = getattr(cls, name)

        def call(obj, *args, **kwargs):
            if self.held:  # once
                self.held = False
                self.threads.append(threading.current_thread() is threading.main_thread())
                self.entered.set()
                self._release.wait(5)
                self.left.set()
            return real(obj, *args, **kwargs)

        monkeypatch.setattr(cls, name, call)

    def hold(self) -> None:
        self._release = threading.Event()
        self.entered.clear()
        self.left.clear()
        self.held = True

    def release(self) -> None:
        self._release.set()
