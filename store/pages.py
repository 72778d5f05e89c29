"""The rows of a filtered query, a page at a time: the card grid's data (widgets/card_grid.py `load`).

The grid asks for pages from a worker thread of its own; each page is read on a connection opened and
closed for it, so no thread keeps one it no longer uses.
"""
from __future__ import annotations

import threading

from .library import Library
from .records import Filters, ImageRecord, PageMark


FAR = 5000  # rows past the nearest page read: a jump that counts the result (PostgreSQL, `LibrarySource.fetch`)


class LibrarySource:
    """The grid's rows: one filtered query on the library. Where a page read along an index ended is kept (its
    mark, store/search.py `page_after`), so a page after it (PageDown, scrolling on) is read from there instead
    of counting past every card before it (seconds deep into a million images on PostgreSQL)."""

    def __init__(self, library: Library, filters: Filters, total: int | None):
        self.library = library
        self.filters = filters
        self.total = total  # how many there are (or are estimated to be: None where unknown), for page plans
        self._marks: dict[int, PageMark] = {}  # by the index just past each page read (pages read by threads)
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._exact: int | None = None

    def count(self) -> int:
        """Exactly (the grid asks on End and when an estimated count was too high: store/search.py `estimate`);
        kept, so that a page near the end is read from there. Counted once: End asks in the grid's worker while
        a far page's `fetch` may ask in another, and a million matches take a while to count."""
        with self._count_lock:
            if self._exact is None:
                with self.library.db.connection_context():
                    self._exact = self.library.count(self.filters)
            self.total = self._exact
            return self._exact

    def fetch(self, offset: int, limit: int) -> list[ImageRecord]:
        """Called by the grid's page worker (a thread of its own: a connection of its own). A page FAR rows or more
        past the nearest read before it (End, a jump of the scroll bar) on a result counted by an estimate has it
        counted exactly first (once): a page nearer the end than that is read from the end, the order reversed
        (`page_after`), where the walk would pass every row before it."""
        with self._lock:
            mark = self._marks.get(max((at for at in self._marks if at <= offset), default=-1))
        if self.total is None and self.library.uses_postgres and offset - (mark.offset if mark else 0) >= FAR:
            self.count()
        with self.library.db.connection_context():
            rows, end = self.library.page_after(self.filters, offset, limit, count_hint=self.total, mark=mark)
        if end is not None:
            with self._lock:
                self._marks[end.offset] = end
        return rows
