"""A Strip that does not keep itself alive, so that the lines a card drew are freed as soon as it draws new ones.

Textual's compositor cuts every line a widget draws at the edges of what covers it (`Strip.divide`); a line
seen whole is "cut" into a list holding only itself, and Strip caches that list on itself: a reference cycle.
Every line a card ever drew was then garbage only the cycle collector could free, with its 7 caches and its
Segments: tens of thousands of objects a minute of paging, and full collections of 40 to 200 ms on the UI thread
to free them (issue 11). Here the whole line is not cached (answering it costs nothing): a line no card holds
is freed at once, by reference counting.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from textual.strip import Strip


class AcyclicStrip(Strip):
    """A Strip whose `divide` at its own end answers itself without caching it on itself."""

    def divide(self, cuts: Iterable[int]) -> Sequence[Strip]:
        cuts = list(cuts)
        if cuts == [self.cell_length]:
            return [self]
        return super().divide(cuts)
