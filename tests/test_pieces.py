"""store/pieces.py: a million ids sorted, copied and freed a piece at a time give what the one call gives."""
from __future__ import annotations

import random

import numpy as np

from store import pieces


def test_pieces_give_what_one_call_gives(monkeypatch):
    monkeypatch.setattr(pieces, "PIECE", 4)
    rng = random.Random(7)
    ids = [rng.randrange(100) for _ in range(57)]  # duplicates among them
    assert pieces.in_order(ids) == sorted(ids)
    assert pieces.in_order(ids, unique=True) == sorted(set(ids))
    assert pieces.in_order(ids[:3], unique=True) == sorted(set(ids[:3]))
    assert pieces.set_of(ids) == set(ids)
    assert pieces.listed(np.array(ids)) == ids
    assert [len(piece) for piece in pieces.pieces(range(10))] == [4, 4, 2]
    as_set, as_list = set(ids), list(ids)
    pieces.empty(as_set)
    pieces.empty(as_list)
    assert as_set == set() and as_list == []
