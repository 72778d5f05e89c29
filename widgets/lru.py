"""A small least-recently-used map that threads may share (the grid's thumbnail worker fills what drawing reads)."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, Hashable, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_MISSING = object()


class LRU(Generic[K, V]):
    """At most `size` entries; reading one makes it the newest, adding one past the size drops the oldest."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, key: K) -> tuple[bool, V | None]:
        """(True, value) if the key is kept (its value may be None), else (False, None)."""
        with self._lock:
            value = self._items.get(key, _MISSING)
            if value is _MISSING:
                return False, None
            self._items.move_to_end(key)
            return True, value  # type: ignore[return-value]

    def get(self, key: K) -> V | None:
        return self.lookup(key)[1]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __contains__(self, key: object) -> bool:
        """Whether the key is kept (it stays as old as it was)."""
        with self._lock:
            return key in self._items

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
