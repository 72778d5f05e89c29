"""The question before cleaning many images at once (new-user test 7 #10): each result is a new image, and
`ctrl+a` then `b` by mistake started minutes of work and hundreds of new cards without a word."""
from __future__ import annotations

from textual.binding import Binding

from .dialog import Question

CLEAN_ASKS_ABOVE = 5  # images: cleaning more at once asks first


class ConfirmCleanScreen(Question):
    """Cancel focused, Esc cancels; True to clean (dialog.Question)."""

    NAME = "clean"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="clean.cancel")]

    def __init__(self, count: int) -> None:
        super().__init__(
            f"Remove the background of {count:,} images?",
            f"Each result is a new image beside its original ({count:,} new images); the originals stay. "
            "On many images this takes a while: Esc in the progress dialog stops it, and the copies made so far "
            "stay (is:cleaned imported:today finds them).",
            f"Clean {count:,}", "clean")
