"""The card grid's pages: the records of the result shown, read a page at a time and kept near where it is.

The grid asks for the record at an index; a page not read yet is asked for once (`request`) and read by the grid's
worker, which hands it back (`add`). A new result (`reset`) starts a new generation: a page read for an older one
is dropped when it comes. Only the `keep` pages nearest the last one read are kept, so scrolling far through a
library of a million images holds no more than scrolling through a hundred. No Textual here: the grid does the
reading (in a worker) and the drawing.
"""
from __future__ import annotations

from store.records import ImageRecord

KEEP_PAGES = 20  # pages kept: the nearest to the one read last

PageKey = tuple[int, int]  # (generation, page number): one page of one result


class PageCache:
    def __init__(self, page_size: int, keep: int = KEEP_PAGES) -> None:
        self.page_size = page_size
        self.keep = keep
        self.generation = 0  # bumped by every new result: pages read for an older one are dropped
        self._pages: dict[int, list[ImageRecord]] = {}
        self._loading: set[PageKey] = set()  # being read

    def __len__(self) -> int:
        """How many pages are kept."""
        return len(self._pages)

    def reset(self, first_page: list[ImageRecord] | None = None) -> None:
        """A new result; its first page when it was read already."""
        self.generation += 1
        self._pages = {0: first_page} if first_page is not None else {}

    def page_of(self, index: int) -> int:
        return index // self.page_size

    def get(self, index: int) -> ImageRecord | None:
        """The record at an index; None when its page is not read yet (or the page ends before it)."""
        page_number, offset = divmod(index, self.page_size)
        page = self._pages.get(page_number)
        return page[offset] if page is not None and offset < len(page) else None

    def request(self, index: int) -> PageKey | None:
        """The page to read for this index, or None: read already, or being read."""
        page_number = self.page_of(index)
        key = (self.generation, page_number)
        if page_number in self._pages or key in self._loading:
            return None
        self._loading.add(key)
        return key

    def is_loading(self, index: int) -> bool:
        return (self.generation, self.page_of(index)) in self._loading

    def failed(self, key: PageKey) -> None:
        """Reading the page failed: it is asked for again next time."""
        self._loading.discard(key)

    def add(self, key: PageKey, rows: list[ImageRecord]) -> bool:
        """A page read; False (and nothing kept) when it is for an older result."""
        self._loading.discard(key)
        generation, page_number = key
        if generation != self.generation:
            return False
        self._pages[page_number] = rows
        if len(self._pages) > self.keep:  # keep memory flat while scrolling far
            for old in sorted(self._pages, key=lambda k: abs(k - page_number))[self.keep:]:
                del self._pages[old]
        return True

    def replace(self, record: ImageRecord) -> None:
        """Put a changed record in place of the one kept with its id (it stays in the result)."""
        for page in self._pages.values():
            for i, old in enumerate(page):
                if old.id == record.id:
                    page[i] = record
