"""Copying text: the terminal's clipboard (OSC 52, works over SSH), tmux's paste buffer inside tmux, and a local one.

Whatever is copied loses its control characters first (`store.text.clipboard_safe`):
a prompt from someone else's file must not end a terminal's bracketed paste and run
as commands when the user pastes it.
"""
from __future__ import annotations

import os
import subprocess

from textual.app import App

from store.text import clipboard_safe


def copy_text(app: App, text: str, what: str = "Prompt") -> str:
    """Copy through every route that may work; returns what happened, for a notification."""
    text = clipboard_safe(text)
    app.copy_to_clipboard(text)  # OSC 52: the terminal puts it on the clipboard, even over SSH
    routes = ["terminal clipboard"]
    if _tmux_buffer(text):
        routes.append("tmux's paste buffer")
    try:
        import pyperclip

        pyperclip.copy(text)
        routes.append("system clipboard")
    except Exception:  # noqa: BLE001 - no local clipboard tool or no display (plain SSH)
        pass
    return f"{what} copied to the " + " and ".join(routes) + "."


def _tmux_buffer(text: str) -> bool:
    """In tmux, the text into tmux's paste buffer (prefix ] pastes it), `-w` also handing it on to the terminal's
    clipboard as tmux's set-clipboard allows. tmux's default (set-clipboard external) drops an application's own
    OSC 52: a copy in tmux reached no clipboard at all, and said it had (NEWUSER13 #5)."""
    if not os.environ.get("TMUX"):
        return False
    for command in (["tmux", "load-buffer", "-w", "-"], ["tmux", "load-buffer", "-"]):  # -w: tmux 3.2 or later
        try:
            subprocess.run(command, input=text.encode("utf-8", "replace"), capture_output=True, timeout=1, check=True)
            return True
        except (OSError, subprocess.SubprocessError):
            continue
    return False
