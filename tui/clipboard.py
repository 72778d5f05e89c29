"""Copying text: the terminal's clipboard (OSC 52, works over SSH) and a local one."""
from __future__ import annotations

from textual.app import App


def copy_text(app: App, text: str) -> str:
    """Copy through every route that may work; returns what happened, for a notification."""
    app.copy_to_clipboard(text)  # OSC 52: the terminal puts it on the clipboard, even over SSH
    routes = ["terminal clipboard"]
    try:
        import pyperclip

        pyperclip.copy(text)
        routes.append("system clipboard")
    except Exception:  # noqa: BLE001 - no local clipboard tool or no display (plain SSH)
        pass
    return "Prompt copied to the " + " and ".join(routes) + "."
