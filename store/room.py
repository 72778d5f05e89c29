"""Room on a full disk: the library's disk reserve, and erasing images to make room (new-user test 8 #11).

Erasing images frees the room their files take, but SQLite must write before any file may go (the rows are
committed first, the files deleted after): its `-shm` file and the pages of the delete in its `-wal`. On a disk
that is full to the last block it cannot, and the library could not be used to make room at all. So a SQLite
library keeps `disk-reserve` in its folder: RESERVE_SIZE bytes of zeros, made when it opens for writing on a disk
with KEEP_FROM bytes free or more (a small disk keeps them for images), and after an erase that left twice its
size free. When an erase finds the disk full, the reserve goes (a file of that name, of zeros, no larger than
the reserve: nothing else is ever deleted), the database is opened for writing (a library opened read only on a
full disk, `Library.open_for_erasing`), and the erase is tried again, in halves when the whole does not fit.
"""
from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .errors import DiskFull, NoRoomToErase
from .files import DISK_RESERVE
from .text import plural

if TYPE_CHECKING:
    from .library import Library

RESERVE_FILE = "disk-reserve"
RESERVE_SIZE = DISK_RESERVE  # enough for SQLite to open and commit the erasing of a few images
KEEP_FROM = 8 * DISK_RESERVE  # free bytes a disk needs for the reserve to be made (4 MB)


def free_space(root: Path) -> int:
    try:
        return shutil.disk_usage(root).free
    except OSError:
        return 0


def keep_reserve(root: Path, needs: int = KEEP_FROM) -> bool:
    """Make the reserve when it is not there and the disk has room for it (`needs` free: KEEP_FROM when a library
    opens, twice the reserve after an erase made room); whether a file of its name is there."""
    path = root / RESERVE_FILE
    if os.path.lexists(path):
        return True
    if free_space(root) < needs:
        return False
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError:
        return False  # made meanwhile by another process, or the folder refuses: no reserve now
    try:
        try:
            os.posix_fallocate(fd, 0, RESERVE_SIZE)  # blocks taken, not a sparse file
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                raise
            os.write(fd, bytes(RESERVE_SIZE))
    except OSError:
        os.close(fd)
        path.unlink(missing_ok=True)  # made just now by this call: ours
        return False
    os.close(fd)
    return True


def has_reserve(root: Path) -> bool:
    """Whether the reserve is there (ours): on a disk that was full, an erase made room (Library.open_for_erasing)."""
    return _ours(root / RESERVE_FILE)


def release_reserve(root: Path) -> int:
    """Delete the reserve (when it is ours: see `_ours`); the bytes freed (0: there was none)."""
    path = root / RESERVE_FILE
    if not _ours(path):
        return 0
    size = path.stat().st_size
    path.unlink(missing_ok=True)
    return max(size, 1)


def _ours(path: Path) -> bool:
    """A regular file (not a link) no larger than the reserve, holding zeros only: what keep_reserve makes."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > RESERVE_SIZE:
            return False
        with open(path, "rb") as handle:
            return not handle.read(RESERVE_SIZE + 1).strip(b"\0")
    except OSError:
        return False


def no_room_sentence(root: Path, erased: int = 0, total: int = 0) -> str:
    """The disk has no room for the database to record an erase; `erased` of `total` were erased before it stopped
    (erasing in parts: each part that commits frees its files' room for the next, until one finds none)."""
    done = (f"{erased:,} of the {plural(total, 'image')} were erased, the other {total - erased:,} were not"
            if erased else "nothing was erased")
    return (f"The disk holding the library in {root} is full: even erasing images needs a little room for the "
            f"database to record it (about {RESERVE_SIZE // 1024} KB), and there is none{' left' if erased else ''}; "
            f"{done}: free some space on its disk, then try again.")


def erase(library: "Library", ids: list[int], erase_now: Callable[[list[int]], int]) -> int:
    """Erase these images with `erase_now` (rows first, then files), also on a full disk: the reserve makes room
    for the database when the disk has none. Returns how many were erased. NoRoomToErase when the disk has no
    room for some of them: its sentence says how many were erased, and `erased` which."""
    with library.open_for_erasing():  # a full disk: writable for the erase, the reserve given up if need be
        return _erase(library, ids, erase_now)


def _erase(library: "Library", ids: list[int], erase_now: Callable[[list[int]], int]) -> int:
    if library.uses_postgres:  # its database is on the server: a full disk there is not helped here
        with library.bound():
            return erase_now(ids)
    erased: list[int] = []
    try:
        return _in_parts(library, ids, erase_now, erased)
    except NoRoomToErase:
        raise NoRoomToErase(library.root, erased, len(ids)) from None
    finally:
        keep_reserve(library.root, 2 * RESERVE_SIZE)  # given up to make room: back once the erase freed enough


def _in_parts(library: "Library", ids: list[int], erase_now: Callable[[list[int]], int], erased: list[int]) -> int:
    """`erase_now(ids)`; on a full disk, again once the reserve is gone, then in halves (each half that commits
    frees its files' room for the next). The ids of each part that commits go into `erased`: when a later part
    finds no room (new-user test 10, K2: "nothing was erased" was said after earlier halves had been)."""
    try:
        with library.bound():
            n = erase_now(ids)
        erased.extend(ids)
        return n
    except DiskFull:
        if not ids:
            raise
        with library.bound():
            left = sorted(library.own_existing(ids, trashed=None))  # a commit after the erase failed: done
        if len(left) < len(ids):
            kept = set(left)
            erased.extend(i for i in ids if i not in kept)
            return len(ids) - len(left) + (_in_parts(library, left, erase_now, erased) if left else 0)
        if release_reserve(library.root):
            return _in_parts(library, ids, erase_now, erased)
        if len(ids) == 1:
            raise NoRoomToErase(library.root) from None
        half = len(ids) // 2
        first = _in_parts(library, ids[:half], erase_now, erased)
        return first + _in_parts(library, ids[half:], erase_now, erased)
