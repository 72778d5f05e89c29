"""The catalog: every image of a SQLite library in memory, newest first, for fast filtering.

Searching prompts, filtering by favorite, owner and collection, counting and
paging are answered from a few numpy arrays instead of SQL: a substring test on
100,000 prompts takes a few milliseconds in Python, where SQLite needs a scan or
a trigram index that is slow for common words. Only the page shown is then read
from the database, by id.

It stays true to the database, whoever writes to it: triggers append the id of
every image inserted, changed or deleted (and every membership or plan change) to
the `image_change` table, in the writer's own transaction. Before answering, the
catalog reads the changes after the last one it has seen and patches itself; a
catalog too far behind (the table is trimmed) is built again.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from peewee import Database

CHANGE_TABLE = "image_change"
KEEP_CHANGES = 20_000  # the change table is trimmed to about this many rows

# The log of changes, written by triggers (see migrations.py).
CHANGE_LOG_SQL = (
    f"CREATE TABLE IF NOT EXISTS {CHANGE_TABLE} (seq INTEGER PRIMARY KEY AUTOINCREMENT, image_id INTEGER)",
    f"CREATE TRIGGER IF NOT EXISTS image_change_ai AFTER INSERT ON image BEGIN "
    f"INSERT INTO {CHANGE_TABLE}(image_id) VALUES (new.id); END",
    f"CREATE TRIGGER IF NOT EXISTS image_change_ad AFTER DELETE ON image BEGIN "
    f"INSERT INTO {CHANGE_TABLE}(image_id) VALUES (old.id); END",
    f"CREATE TRIGGER IF NOT EXISTS image_change_au AFTER UPDATE OF owner_id, prompt, generated_at, favorite ON image "
    f"BEGIN INSERT INTO {CHANGE_TABLE}(image_id) VALUES (new.id); END",
    f"CREATE TRIGGER IF NOT EXISTS image_change_mi AFTER INSERT ON image_collection BEGIN "
    f"INSERT INTO {CHANGE_TABLE}(image_id) VALUES (NULL); END",
    f"CREATE TRIGGER IF NOT EXISTS image_change_md AFTER DELETE ON image_collection BEGIN "
    f"INSERT INTO {CHANGE_TABLE}(image_id) VALUES (NULL); END",
    f"CREATE TRIGGER IF NOT EXISTS image_change_pu AFTER UPDATE OF plan ON account BEGIN "
    f"INSERT INTO {CHANGE_TABLE}(image_id) VALUES (NULL); END",
    f"CREATE TRIGGER IF NOT EXISTS image_change_trim AFTER INSERT ON {CHANGE_TABLE} "
    f"WHEN new.seq % 1000 = 0 BEGIN DELETE FROM {CHANGE_TABLE} WHERE seq <= new.seq - {KEEP_CHANGES}; END",
)

# PostgreSQL keeps a log too, for open galleries to notice changes made elsewhere (no catalog there):
# one row per writing statement, trimmed to the last KEEP_POSTGRES_CHANGES rows.
KEEP_POSTGRES_CHANGES = 1000
POSTGRES_CHANGE_LOG_SQL = (
    f"CREATE TABLE IF NOT EXISTS {CHANGE_TABLE} (seq BIGSERIAL PRIMARY KEY, image_id BIGINT)",
    f"""CREATE OR REPLACE FUNCTION {CHANGE_TABLE}_note() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE n BIGINT;
    BEGIN
        INSERT INTO {CHANGE_TABLE}(image_id) VALUES (NULL) RETURNING seq INTO n;
        IF mod(n, 100) = 0 THEN
            DELETE FROM {CHANGE_TABLE} WHERE seq <= n - {KEEP_POSTGRES_CHANGES};
        END IF;
        RETURN NULL;
    END $$""",
    "DROP TRIGGER IF EXISTS image_change_image ON image",
    f"CREATE TRIGGER image_change_image AFTER INSERT OR DELETE OR UPDATE OF owner_id, prompt, generated_at, "
    f"favorite ON image FOR EACH STATEMENT EXECUTE PROCEDURE {CHANGE_TABLE}_note()",
    "DROP TRIGGER IF EXISTS image_change_member ON image_collection",
    f"CREATE TRIGGER image_change_member AFTER INSERT OR DELETE ON image_collection "
    f"FOR EACH STATEMENT EXECUTE PROCEDURE {CHANGE_TABLE}_note()",
    "DROP TRIGGER IF EXISTS image_change_plan ON account",
    f"CREATE TRIGGER image_change_plan AFTER UPDATE OF plan ON account "
    f"FOR EACH STATEMENT EXECUTE PROCEDURE {CHANGE_TABLE}_note()",
)


def change_token(db: Database, postgres: bool) -> tuple[int, int]:
    """A value that differs after any committed change to images, memberships or plans (by any process).

    SQLite: the last change's number (writers commit one at a time, in order).
    PostgreSQL: the last number and how many rows the log holds, so a writer that
    took a lower number but committed later still changes it. Both are index
    look-ups on a small table: free to ask every second on any library size.
    """
    if postgres:
        row = db.execute_sql(f"SELECT COALESCE(MAX(seq), 0), COUNT(*) FROM {CHANGE_TABLE}").fetchone()
        return int(row[0]), int(row[1])
    return int(db.execute_sql(f"SELECT COALESCE(MAX(seq), 0) FROM {CHANGE_TABLE}").fetchone()[0]), 0


_COLUMNS = "id, owner_id, favorite, generated_at, prompt"
_DATE_WIDTH = 26  # "YYYY-MM-DD HH:MM:SS.ffffff"


def _date_key(value) -> bytes:
    """A stored date as fixed-width bytes that sort like the dates."""
    text = str(value)
    if len(text) == 19:
        text += ".000000"
    return text.encode()[:_DATE_WIDTH]


@dataclass(frozen=True)
class Query:
    """What to select: all parts combine; None means no condition."""

    owners: tuple[int, ...]  # images of these accounts
    search: str = ""  # prompt contains this (any case)
    favorite: bool | None = None
    collection: int | None = None  # images in this collection


class Catalog:
    """The images of one SQLite database, newest first (by generation date, then id)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.RLock()
        self._seq = -1  # the last change applied; -1: not built
        self._ids = np.zeros(0, np.int64)
        self._owners = np.zeros(0, np.int32)
        self._favorite = np.zeros(0, bool)
        self._dates = np.zeros(0, f"S{_DATE_WIDTH}")
        self._codes = np.zeros(0, np.int32)  # index into _prompts
        self._prompts: list[str] = []  # distinct prompts, case-folded
        self._prompt_codes: dict[str, int] = {}
        self._matches: dict[str, np.ndarray] = {}  # search text -> which distinct prompts contain it
        self._results: dict[Query, np.ndarray] = {}

    # -- keeping up with the database ---------------------------------------

    @property
    def version(self) -> int:
        return self._seq

    @property
    def ready(self) -> bool:
        """Built at least once (the first build reads every row: about 0.2 s per 100,000 images)."""
        return self._seq >= 0

    def _code(self, prompt: str) -> int:
        folded = (prompt or "").casefold()
        code = self._prompt_codes.get(folded)
        if code is None:
            code = len(self._prompts)
            self._prompts.append(folded)
            self._prompt_codes[folded] = code
            self._matches.clear()
        return code

    def _build(self) -> None:
        self._prompts, self._prompt_codes, self._matches = [], {}, {}
        parts: list[tuple[np.ndarray, ...]] = []
        with self.db.atomic("DEFERRED"):  # one snapshot: the rows and the last change
            seq = self.db.execute_sql(f"SELECT COALESCE(MAX(seq), 0) FROM {CHANGE_TABLE}").fetchone()[0]
            cursor = self.db.execute_sql(f"SELECT {_COLUMNS} FROM image ORDER BY generated_at DESC, id DESC")
            while rows := cursor.fetchmany(10_000):  # a chunk at a time: no list of every row
                n = len(rows)
                parts.append((
                    np.fromiter((r[0] for r in rows), np.int64, n),
                    np.fromiter((r[1] for r in rows), np.int32, n),
                    np.fromiter((bool(r[2]) for r in rows), bool, n),
                    np.array([_date_key(r[3]) for r in rows], f"S{_DATE_WIDTH}"),
                    np.fromiter((self._code(r[4]) for r in rows), np.int32, n),
                ))
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, bool), np.zeros(0, f"S{_DATE_WIDTH}"),
                 np.zeros(0, np.int32))
        columns = [np.concatenate([p[i] for p in parts]) if parts else empty[i] for i in range(5)]
        self._ids, self._owners, self._favorite, self._dates, self._codes = columns
        self._seq = seq
        self._results.clear()

    def sync(self) -> None:
        """Catch up with every change committed since the last call (by any process)."""
        with self._lock:
            if self._seq < 0:
                self._build()
                return
            with self.db.atomic("DEFERRED"):
                oldest, newest = self.db.execute_sql(
                    f"SELECT MIN(seq), COALESCE(MAX(seq), 0) FROM {CHANGE_TABLE}").fetchone()
                if newest == self._seq:
                    return
                if newest < self._seq or (oldest is not None and oldest > self._seq + 1):
                    self._seq = -1  # trimmed past what we have seen, or a different database file
                else:
                    changes = self.db.execute_sql(
                        f"SELECT seq, image_id FROM {CHANGE_TABLE} WHERE seq > ? ORDER BY seq", (self._seq,)
                    ).fetchall()
                    ids = sorted({i for _, i in changes if i is not None})
                    rows = []
                    for start in range(0, len(ids), 500):
                        chunk = ids[start:start + 500]
                        rows += self.db.execute_sql(
                            f"SELECT {_COLUMNS} FROM image WHERE id IN ({','.join('?' * len(chunk))})", chunk
                        ).fetchall()
            if self._seq < 0:
                self._build()
                return
            self._patch(np.array(ids, np.int64), rows)
            self._seq = changes[-1][0]
            self._results.clear()

    def _patch(self, changed: np.ndarray, rows: list[tuple]) -> None:
        """Drop the changed images, then put back the ones that still exist, in order."""
        if changed.size:
            keep = ~np.isin(self._ids, changed)
            if not keep.all():
                self._ids, self._owners = self._ids[keep], self._owners[keep]
                self._favorite, self._dates, self._codes = self._favorite[keep], self._dates[keep], self._codes[keep]
        if not rows:
            return
        self._ids = np.concatenate([self._ids, np.array([r[0] for r in rows], np.int64)])
        self._owners = np.concatenate([self._owners, np.array([r[1] for r in rows], np.int32)])
        self._favorite = np.concatenate([self._favorite, np.array([bool(r[2]) for r in rows], bool)])
        self._dates = np.concatenate([self._dates, np.array([_date_key(r[3]) for r in rows], f"S{_DATE_WIDTH}")])
        self._codes = np.concatenate([self._codes, np.array([self._code(r[4]) for r in rows], np.int32)])
        order = np.lexsort((self._ids, self._dates))[::-1]  # newest first, then the higher id
        self._ids, self._owners = self._ids[order], self._owners[order]
        self._favorite, self._dates, self._codes = self._favorite[order], self._dates[order], self._codes[order]

    # -- answering -----------------------------------------------------------

    def _prompt_matches(self, text: str) -> np.ndarray:
        """For each distinct prompt: does it contain `text` (case-folded)?"""
        found = self._matches.get(text)
        if found is None:
            found = np.fromiter((text in p for p in self._prompts), bool, len(self._prompts))
            if len(self._matches) > 32:
                self._matches.clear()
            self._matches[text] = found
        return found

    def select(self, query: Query) -> np.ndarray:
        """The ids the query lets through, newest first (a read-only array)."""
        self.sync()
        with self._lock:
            result = self._results.get(query)
            if result is not None:
                return result
            if len(query.owners) == 1:
                mask = self._owners == query.owners[0]
            else:
                mask = np.isin(self._owners, np.array(query.owners, np.int32))
            text = query.search.strip().casefold()
            if text:
                mask &= self._prompt_matches(text)[self._codes]
            if query.favorite is not None:
                mask &= self._favorite if query.favorite else ~self._favorite
            if query.collection is not None:
                members = self.db.execute_sql(
                    "SELECT image_id FROM image_collection WHERE collection_id = ?", (query.collection,)
                ).fetchall()
                mask &= np.isin(self._ids, np.fromiter((m for (m,) in members), np.int64, len(members)))
            result = self._ids[mask]
            result.flags.writeable = False
            if len(self._results) > 16:
                self._results.clear()
            self._results[query] = result
            return result
