"""This process's own writes to a SQLite library, counted: the catalog takes those in at once.

The in-memory catalog (catalog.py) follows the change log. Changes made by another
process (an indexing child, `myimages import` in another terminal) are taken in at
most every `CATCH_UP_EVERY` seconds, in one batch, so that a search stays quick while
someone writes a few hundred rows ten times a second. Changes this process made
itself are seen by its very next query (a favorite set in the app shows at once): the
database object counts its commits (and statements that commit on their own), and a
catalog catches up whenever that count moved.

A bulk writer in this process (a scan of a source folder) may write `quietly()`: its
commits are not counted, so the catalog batches them like another process's, and
they are counted once when it is done.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from peewee import Database, SqliteDatabase


class CountingSqliteDatabase(SqliteDatabase):
    """A SqliteDatabase that counts the commits of its connections (this process) that changed rows."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.writes = 0
        self._local = threading.local()  # per thread (each has its own connection): quiet depth, rows seen
        self._count_lock = threading.Lock()

    def _note(self) -> None:
        """Count a commit if this thread's connection changed rows since it was last looked at."""
        conn = self._state.conn
        if conn is None:
            return
        total = conn.total_changes  # rows this connection inserted, changed or deleted, ever
        seen = getattr(self._local, "seen", None)
        if seen == (id(conn), total):
            return  # a read: nothing to take in
        self._local.seen = (id(conn), total)
        if total == 0 or getattr(self._local, "depth", 0):
            return
        with self._count_lock:  # after the commit: a catalog that reads the new count sees the change
            self.writes += 1

    def commit(self):
        result = super().commit()
        self._note()
        return result

    def execute_sql(self, sql, params=None):
        cursor = super().execute_sql(sql, params)
        if self.transaction_depth() == 0:
            self._note()  # outside a transaction a statement commits by itself
        return cursor


def own_writes(db: Database) -> int:
    """How many commits this process made to `db` (0 for a database that does not count them)."""
    return getattr(db, "writes", 0)


@contextmanager
def quietly(db: Database) -> Iterator[None]:
    """Commits of this thread inside are batched by catalogs like another process's; counted once at the end."""
    if not isinstance(db, CountingSqliteDatabase):
        yield
        return
    local = db._local
    local.depth = getattr(local, "depth", 0) + 1
    try:
        yield
    finally:
        local.depth -= 1
        with db._count_lock:
            db.writes += 1
