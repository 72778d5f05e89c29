"""A selection of images: their ids in one sorted numpy array that nothing changes once made (a change makes
another).

Held as a Python set, a million selected ids cost the UI thread tens of milliseconds each time the set was copied
(handed to the delete question, the collections dialog or a worker), freed (Esc, a delete's end) or walked by the
garbage collector (issue 11). As one array, a selection is handed over as it is (nothing changes it: the grid,
a dialog and a worker may hold the same one), freed at once (one block of memory) and never walked (the
collector tracks no array of numbers); a card's check is a binary search, a toggle or a range copies the array
(8 MB at a million: 1-2 ms), and select all's union and invert's difference are numpy's, in a worker.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Set
from typing import Any, overload

import numpy as np

from .pieces import PIECE, pieces

_NONE = np.empty(0, dtype=np.int64)
_NONE.flags.writeable = False


def _sorted_ids(ids: Iterable[int]) -> np.ndarray:
    """Any ids as a sorted array, each once (a list or set of them made into one a piece at a time)."""
    if isinstance(ids, Selection):
        return ids.array
    if isinstance(ids, np.ndarray):
        array = ids.astype(np.int64)  # (a copy: sorted in place below)
    elif isinstance(ids, (list, tuple, set, frozenset, range)) and len(ids) <= PIECE:
        array = np.fromiter(ids, dtype=np.int64, count=len(ids))
    else:
        parts = [np.array(piece, dtype=np.int64) for piece in pieces(ids)]
        array = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    array.sort()
    if len(array) > 1:
        array = array[np.concatenate(([True], array[1:] != array[:-1]))]
    return array


class Selection(Set[int]):
    """Selected image ids, read only: a set (`in`, `len`, `==`, `|`, `-`, `&`, `^`) whose changes make new ones.
    Iterated in id order, a piece at a time; `selection[0]` is the smallest id."""

    __slots__ = ("_ids",)

    def __init__(self, ids: Iterable[int] = ()) -> None:
        array = _NONE if isinstance(ids, tuple) and not ids else _sorted_ids(ids)
        if array.flags.writeable:
            array.flags.writeable = False
        self._ids = array

    @classmethod
    def of(cls, ids: Iterable[int]) -> Selection:
        """`ids` as a selection: a selection as it is (nothing copied), anything else sorted into a new one."""
        return ids if isinstance(ids, Selection) else cls(ids)

    @classmethod
    def _made(cls, array: np.ndarray) -> Selection:
        """A selection of an array already sorted, each id once (taken as it is)."""
        made = cls.__new__(cls)
        array.flags.writeable = False
        made._ids = array
        return made

    @property
    def array(self) -> np.ndarray:
        """The ids, sorted, each once (read only)."""
        return self._ids

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self._ids if dtype is None else self._ids.astype(dtype)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, image_id: object) -> bool:
        if not isinstance(image_id, (int, np.integer)) or not len(self._ids):
            return False
        at = int(np.searchsorted(self._ids, image_id))
        return at < len(self._ids) and self._ids[at] == image_id

    def __iter__(self) -> Iterator[int]:
        for start in range(0, len(self._ids), PIECE):  # a piece at a time: a worker lets the UI thread in between
            yield from self._ids[start:start + PIECE].tolist()

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> list[int]: ...

    def __getitem__(self, index: int | slice) -> int | list[int]:
        """The ids in id order: `[0]` the smallest, `[a:b]` a list of them."""
        return self._ids[index].tolist() if isinstance(index, slice) else int(self._ids[index])

    def __repr__(self) -> str:
        shown = ", ".join(map(str, self._ids[:5].tolist())) + (", …" if len(self._ids) > 5 else "")
        return f"Selection({len(self._ids):,} ids: {shown})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Selection):
            return other is self or bool(np.array_equal(self._ids, other._ids))
        if isinstance(other, Set):
            return len(self) == len(other) and all(i in self for i in other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def _places(self, other: np.ndarray) -> np.ndarray:
        """Where the ids of `other` (sorted, each once) that this selection holds are in it: each looked up."""
        at = np.searchsorted(self._ids, other)
        hit = at < len(self._ids)
        at = at[hit]
        return at[self._ids[at] == other[hit]]

    def _found_of(self, other: np.ndarray) -> np.ndarray:
        """Which ids of `other` (sorted, each once, a few) this selection holds, as a mask over `other`."""
        at = np.searchsorted(self._ids, other)
        held = at < len(self._ids)
        held[held] = self._ids[at[held]] == other[held]
        return held

    def _found(self, other: np.ndarray) -> np.ndarray:
        """Which of this selection's ids are in `other` (sorted, each once), as a mask."""
        if len(other) * 16 < len(self._ids):  # a few: each looked up (a pass over all of them per id otherwise)
            mask = np.zeros(len(self._ids), dtype=bool)
            mask[self._places(other)] = True
            return mask
        return np.isin(self._ids, other, assume_unique=True)

    def __or__(self, other: Iterable[int]) -> Selection:  # type: ignore[override]
        theirs = _sorted_ids(other)
        if not len(theirs):
            return self
        if len(theirs) * 16 < len(self._ids):  # a few (a card toggled): put in their places, one copy
            new = theirs[~self._found_of(theirs)]
            return Selection._made(np.insert(self._ids, np.searchsorted(self._ids, new), new)) if len(new) else self
        merged = np.concatenate((self._ids, theirs))
        merged.sort(kind="stable")  # two sorted runs: merged
        return Selection._made(merged[np.concatenate(([True], merged[1:] != merged[:-1]))])

    __ror__ = __or__
    union = __or__

    def __sub__(self, other: Iterable[int]) -> Selection:  # type: ignore[override]
        theirs = _sorted_ids(other)
        if not len(theirs) or not len(self._ids):
            return self
        if len(theirs) == len(self._ids) and np.array_equal(theirs, self._ids):  # (a delete of all: 1 ms, not 20)
            return Selection()
        if len(theirs) * 16 < len(self._ids):  # a few (a card toggled): taken from their places, one copy
            at = self._places(theirs)
            return Selection._made(np.delete(self._ids, at)) if len(at) else self
        found = self._found(theirs)
        return Selection._made(self._ids[~found]) if found.any() else self

    difference = __sub__

    def __and__(self, other: Iterable[int]) -> Selection:  # type: ignore[override]
        return Selection._made(self._ids[self._found(_sorted_ids(other))])

    __rand__ = __and__
    intersection = __and__

    def __xor__(self, other: Iterable[int]) -> Selection:  # type: ignore[override]
        theirs = Selection.of(other)
        return (self - theirs) | (theirs - self)

    __rxor__ = __xor__
    symmetric_difference = __xor__

    def __rsub__(self, other: Iterable[int]) -> Selection:
        return Selection(other) - self

    def isdisjoint(self, other: Iterable[int]) -> bool:
        return not len(self & other)
