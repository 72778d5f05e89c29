"""The mouse pointer leaving the terminal's window, as far as the app can tell.

Terminals report the pointer's moves only inside their window and say nothing when it leaves (xterm 379 under
Xvfb: a card button's tooltip, "Favorite (f)", and its highlight stayed after the pointer left). Textual
clears hover and tooltips when a move lands outside every widget; the app sends it that move itself:

- when the terminal loses the focus (it says so: Textual enables focus reports);
- when the widget under the pointer shows a tooltip and the pointer has not moved for `POINTER_IDLE` seconds,
  as desktop tooltips hide themselves after a few seconds. The next move brings both back.
"""
from __future__ import annotations

import time

from textual import events
from textual.app import App

POINTER_IDLE = 4.0  # seconds without a move before a tooltip is taken for one the pointer left behind
CHECK_EVERY = 0.5


class PointerLeave:
    def __init__(self, app: App) -> None:
        self.app = app
        self._moved = time.monotonic()

    def start(self) -> None:
        self.app.set_interval(CHECK_EVERY, self._check)

    def moved(self, event: events.MouseMove) -> None:
        width, height = self.app.size
        if 0 <= event.x < width and 0 <= event.y < height:
            self._moved = time.monotonic()

    def _check(self) -> None:
        widget = self.app.mouse_over
        if widget is not None and widget.tooltip is not None and time.monotonic() - self._moved > POINTER_IDLE:
            self.left()

    def left(self) -> None:
        """Tell Textual the pointer is outside the window: a move to the cell past the bottom-right corner."""
        if self.app.mouse_over is None:
            return
        width, height = self.app.size
        self.app.post_message(events.MouseMove(None, width, height, 0, 0, 0, False, False, False,
                                               screen_x=width, screen_y=height))
