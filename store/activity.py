"""When the user last worked in this process (a key, a click, a search typed): a scan running in a child
process (store/scan_child.py) gives way to the user for a moment after (QUIET_FOR), then takes its full share
of the processor again. The app notes every key and mouse event here; the store never notes on its own (the
app's own background reloads are not the user)."""
from __future__ import annotations

import time

QUIET_FOR = 2.0  # seconds after the user's last key or click during which a scan in a child gives way

_last = float("-inf")


def note() -> None:
    """The user did something just now."""
    global _last
    _last = time.monotonic()


def in_use() -> bool:
    """Whether the user did something within the last QUIET_FOR seconds."""
    return time.monotonic() - _last < QUIET_FOR
