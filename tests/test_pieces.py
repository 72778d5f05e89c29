"""store/pieces.py: a million ids sorted, copied and freed a piece at a time give what the one call gives;
store/selection.py: a Selection answers as a set of the same ids would."""
from __future__ import annotations

import random

import numpy as np

from store import pieces
from store.selection import Selection


def test_pieces_give_what_one_call_gives(monkeypatch):
    monkeypatch.setattr(pieces, "PIECE", 4)
    rng = random.Random(7)
    ids = [rng.randrange(100) for _ in range(57)]  # duplicates among them
    assert pieces.in_order(ids) == sorted(ids)
    assert pieces.in_order(ids, unique=True) == sorted(set(ids))
    assert pieces.in_order(ids[:3], unique=True) == sorted(set(ids[:3]))
    assert pieces.in_order(Selection(ids)) == sorted(set(ids))  # (numpy's copy, no list made first)
    assert pieces.listed(np.array(ids)) == ids
    assert [len(piece) for piece in pieces.pieces(range(10))] == [4, 4, 2]
    as_set, as_list = set(ids), list(ids)
    pieces.empty(as_set)
    pieces.empty(as_list)
    assert as_set == set() and as_list == []


def test_a_selection_answers_as_a_set_would():
    """Every operation the app uses, on few ids and on many (each looked up, or a pass over all), against a set."""
    rng = random.Random(11)
    for _ in range(300):
        a = set(rng.sample(range(400), rng.choice([0, 1, 3, 40, 300])))
        b = set(rng.sample(range(400), rng.choice([0, 1, 5, 60, 350])))
        selection = Selection(a)
        assert len(selection) == len(a) and selection == a and list(selection) == sorted(a)
        assert all((i in selection) == (i in a) for i in range(-1, 401)) and "7" not in selection
        for other in (b, Selection(b), sorted(b)):
            assert (selection | other) == a | b and (selection - other) == a - b
            assert (selection & other) == a & b and (selection ^ other) == a ^ b
        assert (b - selection) == b - a and (selection == b) == (a == b)
        assert Selection.of(selection) is selection and (selection - a) == set()
        if a:
            assert selection[0] == min(a) and selection[:2] == sorted(a)[:2]
    assert not Selection() and Selection(np.array([3, 1, 3])) == {1, 3}
