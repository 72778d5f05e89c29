"""Copying text: the terminal's clipboard (OSC 52, works over SSH) and a local one.

Whatever is copied loses its control characters first (`store.text.clipboard_safe`):
a prompt from someone else's file must not end a terminal's bracketed paste and run
as commands when the user pastes it.
"""
from __future__ import annotations

from textual.app import App

from store.text import clipboard_safe


def copy_text(app: App, text: str, what: str = "Prompt") -> str:
    """Copy through every route that may work; returns what happened, for a notification."""
    text = clipboard_safe(text)
    app.copy_to_clipboard(text)  # OSC 52: the terminal puts it on the clipboard, even over SSH
    routes = ["terminal clipboard"]
    try:
        import pyperclip

        pyperclip.copy(text)
        routes.append("system clipboard")
    except Exception:  # noqa: BLE001 - no local clipboard tool or no display (plain SSH)
        pass
    return f"{what} copied to the " + " and ".join(routes) + "."
