"""The rows of a filtered query, a page at a time: the card grid's data (widgets/card_grid.py `load`).

The grid asks for pages from a worker thread of its own; each page is read on a connection opened and
closed for it, so no thread keeps one it no longer uses.
"""
from __future__ import annotations

from .library import Library
from .records import Filters, ImageRecord


class LibrarySource:
    """The grid's rows: one filtered query on the library."""

    def __init__(self, library: Library, filters: Filters, total: int | None):
        self.library = library
        self.filters = filters
        self.total = total  # how many there are (or are estimated to be: None where unknown), for page plans

    def count(self) -> int:
        """Exactly (the grid asks when an estimated count was too high: store/search.py `estimate`)."""
        with self.library.db.connection_context():
            return self.library.count(self.filters)

    def fetch(self, offset: int, limit: int) -> list[ImageRecord]:
        """Called by the grid's page worker (a thread of its own: a connection of its own)."""
        with self.library.db.connection_context():
            return self.library.page(self.filters, offset, limit, count_hint=self.total)
