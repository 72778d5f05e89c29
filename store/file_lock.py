"""One lock per library folder: adding files and removing them never overlap.

Originals are shared by content: two records (of two accounts, or one deleted and
one being imported) may point to one file. A file may only be removed once no
record points to it, and "no record points to it" is only true while nobody is
between writing (or reusing) a file and committing the record that points to it.

- Writers hold the lock shared from the moment they look for an existing file
  until their records are committed: many imports run side by side.
- Removers (delete, doctor) hold it exclusively while they check the references
  and unlink: they wait for every import in flight to commit first.

It is a `flock` on `.files.lock` in the library folder, so it holds across
threads and processes (each holder opens the file itself). Never take it
exclusively while holding it shared in the same thread: that would wait forever.
"""
from __future__ import annotations

import fcntl
import os
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Iterator

LOCK_NAME = ".files.lock"


class FilesLock:
    def __init__(self, root: Path) -> None:
        self.path = root / LOCK_NAME

    def _open(self) -> int | None:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError:
            try:
                return os.open(self.path, os.O_RDONLY)
            except OSError:
                return None  # a folder we may not write: nothing is written or removed there either

    @contextmanager
    def _hold(self, mode: int) -> Iterator[bool]:
        fd = self._open()
        if fd is None:
            yield True
            return
        try:
            try:
                fcntl.flock(fd, mode)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def adding(self) -> AbstractContextManager[bool]:
        """Held while files are written or reused and their records committed."""
        return self._hold(fcntl.LOCK_SH)

    def removing(self, wait: bool = True) -> AbstractContextManager[bool]:
        """Held while references are checked and files removed; yields False if `wait` is off and it is taken."""
        return self._hold(fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)


@contextmanager
def held(path: Path, wait: bool = True) -> Iterator[bool]:
    """An exclusive `flock` on `path` (made if missing) across threads and processes, for the block; nothing
    to hold where the file cannot be made (a read-only folder): then whatever it guards is done unguarded.
    Yields whether it is held: with `wait` off, False at once when another holds it (the block still runs)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock
