"""Matched words shown in a prompt: the searched words (store.query.Parsed.words) styled where they occur."""
from __future__ import annotations

from typing import Iterable

from rich.style import Style
from rich.text import Text

from store.text import folded_spans

MATCH_STYLE = Style(bold=True, underline=True)


def highlight(text: Text, words: Iterable[str], style: Style | str = MATCH_STYLE) -> Text:
    """Style every occurrence of each word (folded, as the search folds: case and accents, store.text.fold) in
    `text`, in place, at its places in the text as shown ("eclair" marks "Éclair"); returns it."""
    words = [w for w in words if w]
    if not words:
        return text
    plain = text.plain
    for word in words:
        for start, end in folded_spans(plain, word):
            text.stylize(style, start, end)
    return text
