"""Large collections of ids (a million selected images) handled a piece at a time.

One C-level operation on a million ids (sorting a list, building, copying or freeing a set) holds Python's
interpreter lock for tens of milliseconds, whatever thread runs it: the UI thread waits for it past the brief's
50 ms (issue 11). Done here in pieces of `PIECE` ids, in a worker, the interpreter changes hands between them.
"""
from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Iterator
from itertools import islice
from typing import Protocol

import numpy as np

PIECE = 10_000  # ids per C-level call: a few milliseconds of the interpreter each


def pieces(ids: Iterable[int], size: int | None = None) -> Iterator[list[int]]:
    """`ids` as lists of at most `size` (default PIECE) ids: itertools' batching recipe (batched: Python 3.12)."""
    it = iter(ids)
    while piece := list(islice(it, size or PIECE)):
        yield piece


def in_order(ids: Collection[int], unique: bool = False) -> list[int]:
    """The ids sorted (a new list; `unique`: each once), made a piece at a time: numpy sorts without the
    interpreter lock."""
    if len(ids) <= PIECE:
        return sorted(set(ids) if unique else ids)
    if hasattr(ids, "__array__"):  # numpy's (a Selection: store/selection.py): copied in one call, without a list
        array = np.array(ids, dtype=np.int64)
    else:
        array = np.empty(len(ids), dtype=np.int64)
        at = 0
        for piece in pieces(ids):
            array[at:at + len(piece)] = piece
            at += len(piece)
    array.sort()
    if unique:
        array = array[np.concatenate(([True], array[1:] != array[:-1]))]
    return listed(array)


class Sliced(Protocol):
    """A numpy array of ids, or what reads as one a slice at a time (catalog.Ordered)."""

    def __len__(self) -> int: ...

    def __getitem__(self, part: slice) -> np.ndarray: ...


def listed(array: Sliced) -> list[int]:
    """A numpy array of ids as a list, made a piece at a time (`tolist` of a million: one call, 20-40 ms)."""
    made: list[int] = []
    for start in range(0, len(array), PIECE):
        made.extend(array[start:start + PIECE].tolist())
    return made


def empty(ids: set[int] | list[int]) -> None:
    """Free what a set or list holds a piece at a time, with a pause between pieces (in a worker: freed whole, a
    million ids held the UI thread 54-85 ms, issue 11). The caller holds no other use of it."""
    while ids:
        if isinstance(ids, list):
            del ids[-PIECE:]
        else:
            for _ in range(min(PIECE, len(ids))):
                ids.pop()
        time.sleep(0.001)
