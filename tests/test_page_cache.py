"""The card grid's page cache (widgets/page_cache.py): each page asked for once, a new result's pages apart from
an older one's, only the pages near the last one read kept."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from store.records import ImageRecord
from widgets.page_cache import PageCache

MOMENT = datetime(2026, 1, 1, tzinfo=timezone.utc)
TEMPLATE = ImageRecord(id=0, owner="alice", prompt="", negative_prompt="", model="", text_accuracy="",
                       generated_at=MOMENT, imported_at=MOMENT, width=1, height=1, file_size=1, sha256="", ext="png",
                       favorite=False, params={}, source_name="", parent_id=None, derivation="", path=Path("x.png"),
                       thumbnail_path=Path("x.jpg"))


def page(first: int, size: int = 3) -> list[ImageRecord]:
    return [replace(TEMPLATE, id=i, prompt=f"image {i}") for i in range(first, first + size)]


def test_a_page_is_asked_for_once_and_read_into_place():
    cache = PageCache(3)
    cache.reset()
    assert cache.get(4) is None
    key = cache.request(4)
    assert key == (1, 1) and cache.is_loading(5) and not cache.is_loading(0)
    assert cache.request(3) is None  # being read: not asked for again
    assert cache.add(key, page(3))
    assert [cache.get(i).id for i in (3, 4, 5)] == [3, 4, 5] and not cache.is_loading(4)
    assert cache.request(4) is None  # read already
    cache.add(cache.request(6), page(6, 1))  # the last page, short
    assert cache.get(7) is None and cache.request(7) is None


def test_a_failed_read_is_asked_for_again():
    cache = PageCache(3)
    key = cache.request(0)
    cache.failed(key)
    assert not cache.is_loading(0) and cache.request(0) == key


def test_a_page_read_for_an_older_result_is_dropped():
    cache = PageCache(3)
    old = cache.request(0)
    cache.reset(page(100))  # a new result, its first page read already
    assert cache.get(0).id == 100 and cache.request(1) is None
    assert not cache.add(old, page(0))
    assert cache.get(0).id == 100 and len(cache) == 1
    assert cache.request(3) == (cache.generation, 1)  # the new result's next page


def test_only_the_pages_nearest_the_last_read_are_kept():
    cache = PageCache(2, keep=3)
    for number in range(6):
        cache.add(cache.request(number * 2), page(number * 2, 2))
    assert len(cache) == 3
    assert [cache.get(i) is not None for i in range(0, 12, 2)] == [False, False, False, True, True, True]
    cache.add(cache.request(0), page(0, 2))  # back to the start: the far end goes
    assert [cache.get(i) is not None for i in range(0, 12, 2)] == [True, False, False, True, True, False]


def test_a_changed_record_replaces_the_kept_one():
    cache = PageCache(3)
    cache.add(cache.request(0), page(0))
    cache.replace(replace(cache.get(1), favorite=True))
    assert cache.get(1).favorite and not cache.get(0).favorite
