"""Matched words shown in a prompt: the searched words (store.query.Parsed.words) styled where they occur."""
from __future__ import annotations

from typing import Iterable

from rich.style import Style
from rich.text import Text

MATCH_STYLE = Style(bold=True, underline=True)


def highlight(text: Text, words: Iterable[str], style: Style | str = MATCH_STYLE) -> Text:
    """Style every occurrence of each word (case-insensitive) in `text`, in place; returns it."""
    words = [w for w in words if w]
    if not words:
        return text
    plain = text.plain
    folded = plain.casefold()
    if len(folded) != len(plain):  # ß -> ss and the like: find on lower(), which keeps the places
        folded = plain.lower()
        if len(folded) != len(plain):
            return text
    for word in words:
        start = folded.find(word)
        while start >= 0:
            text.stylize(style, start, start + len(word))
            start = folded.find(word, start + len(word))
    return text
