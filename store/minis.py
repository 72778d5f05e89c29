"""Mini thumbnails for a library older than them: each made from its thumbnail, in the background, once.

A library made before minis existed (files.MINI_SIZE: what the half-cell cards draw) has a thumbnail and no mini for
every picture; until it has one, a card reads the thumbnail instead (as before: ten times slower). The pass walks the
library's thumbnail folders (`thumbs/ab/`) in name order and makes the mini of every thumbnail that has none, from
the thumbnail, written atomically (a cancel or a kill leaves each mini whole or absent). It needs no database: it
sees every account's pictures, and whoever may write to the library (`Library.read_only` is False) makes them for
everyone (a shared PostgreSQL library's accounts; a read-only one reads the thumbnails).

After each folder the pass writes the last one done into MARK at the library's root (atomically), and "done" once
every folder was: the next start goes on from there, and a library that has them all is not walked again (a walk of
a million thumbnails' names costs a second of processor). Pictures stored since have their mini already
(`FileStore.store`, `put_thumbnail`); `doctor` makes any that went missing or got damaged.
"""
from __future__ import annotations

import errno
import os
import re
import time
from pathlib import Path
from typing import Callable

from .files import FileStore, write_bytes_atomic

MARK = ".minis-made"  # the pass's progress: the last thumbnail folder done, or DONE
DONE = "done"
_FOLDER = re.compile(r"[0-9a-f]{2}")
_NAME = re.compile(r"[0-9a-f]{64}\.png")


def progress(files: FileStore) -> str:
    """Where the pass stands: "" (not begun), the last folder done ("7f"), or DONE."""
    try:
        return (files.root / MARK).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def all_made(files: FileStore) -> bool:
    return progress(files) == DONE


def _names(folder: Path) -> set[str]:
    try:
        with os.scandir(folder) as entries:
            return {entry.name for entry in entries}
    except OSError:  # not there (yet)
        return set()


def make_missing(files: FileStore, cancel: Callable[[], bool] | None = None, share: float = 1.0) -> int:
    """Make the minis the library's thumbnails lack, from where the last pass stopped; how many were made.

    With `share` below 1 it rests after each mini so that it works at most that share of the time (the app's pass:
    the processor stays free for the app). Stops at once when `cancel()` answers True, or when the disk is full; the
    next pass goes on from the folder it was in. A mini that cannot be written for another reason is left out (the
    card reads the thumbnail; `doctor` makes it, or says why it cannot)."""
    is_cancelled = cancel or (lambda: False)
    done = progress(files)
    if done == DONE or not files.thumbs.is_dir():
        return 0
    folders = sorted(name for name in _names(files.thumbs) if _FOLDER.fullmatch(name) and name > done)
    made = 0
    for name in folders:
        if is_cancelled():
            return made
        have = _names(files.minis / name)
        for thumb in sorted(_names(files.thumbs / name)):
            if thumb in have or not _NAME.fullmatch(thumb):
                continue
            if is_cancelled():
                return made
            began = time.perf_counter()
            try:
                made += files.make_mini(thumb[:-4])
            except OSError as exc:  # a cache: the card reads the thumbnail meanwhile, `doctor` says why it cannot
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    return made  # a full disk: the next start goes on from this folder
                continue  # (a folder another account made that this one may not write to: the others are made)
            if share < 1.0:
                rest = (time.perf_counter() - began) * (1.0 - share) / share
                time.sleep(rest)  # (a mini takes 2 ms: a cancel is seen within 10 ms)
        write_bytes_atomic(files.root / MARK, name.encode("ascii"), durable=False)
    write_bytes_atomic(files.root / MARK, DONE.encode("ascii"), durable=False)
    return made
