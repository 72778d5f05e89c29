"""The catalog: every image of a SQLite library in memory, newest first, for fast filtering.

Searching prompts, filtering by favorite, owner and collection, counting and
paging are answered from a few numpy arrays instead of SQL: a substring test on
100,000 prompts takes a few milliseconds in Python, where SQLite needs a scan or
a trigram index that is slow for common words. Only the page shown is then read
from the database, by id.

It stays true to the database, whoever writes to it: triggers append the id of
every image inserted, changed or deleted (and every membership, collection or plan change) to
the `image_change` table, in the writer's own transaction. Before answering, the
catalog looks at the last change's number (one index look-up) and, when it moved,
reads the changes after the last one it has seen and patches itself; a catalog too
far behind (the table is trimmed) is built again. Changes this process made are
taken in at once; another process's at most every CATCH_UP_EVERY seconds, in one
batch (own_writes.py): an indexer committing 400 rows ten times a second would
otherwise make every search patch the arrays and search its prompts afresh. While
changes come in bulk (more than BULK_CHANGES a second: a folder of thousands of files
being indexed), every BULK_CATCH_UP_EVERY seconds instead, so that an open gallery
keeps its speed meanwhile; a few new files are still seen within a second.
"""
from __future__ import annotations

import json
import mmap
import math
import threading
import time
from dataclasses import dataclass, replace
from datetime import timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
from peewee import Database, PeeweeException, chunked

from .own_writes import own_writes
from .query import DEFAULT_SORT, Parsed, Term, as_number, id_bounds, lora_names
from .text import SORT_KEY_BYTES, fold, prompt_sort_key

CHANGE_TABLE = "image_change"
PLACE_AT_MOST = 20_000  # changed rows put in place (found by searchsorted, one copy of each column: 4,000 new
# rows into 120,000 take 27 ms of processor where sorting them in with the rest took 57); more are sorted in
KEEP_CHANGES = 20_000  # the change table is trimmed to about this many rows
CATCH_UP_EVERY = 1.0  # seconds: another process's changes are taken in at most this often (own ones at once)
BULK_CATCH_UP_EVERY = 5.0  # seconds, instead, while changes come in bulk (a source folder being indexed)
BULK_CHANGES = 100  # changes a second from which they come in bulk
# An update of any of these is a change the catalog (and an open gallery) must see: the search fields.
WATCHED_COLUMNS = ("owner_id, prompt, generated_at, favorite, negative_prompt, model, text_accuracy, width, height, "
                   "params, parent_id, derivation, source_name, trashed_at, batch")

# The log of changes, written by triggers (see migrations.py).
CHANGE_LOG_SQL = (
    f"CREATE TABLE IF NOT EXISTS {CHANGE_TABLE} (seq INTEGER PRIMARY KEY AUTOINCREMENT, image_id INTEGER)",
    f"CREATE TRIGGER IF NOT EXISTS image_change_ai AFTER INSERT ON image BEGIN "
    f"INSERT INTO {CHANGE_TABLE}(image_id) VALUES (new.id); END",
    f"CREATE TRIGGER IF NOT EXISTS image_change_ad AFTER DELETE ON image BEGIN "
    f"INSERT INTO {CHANGE_TABLE}(image_id) VALUES (old.id); END",
    f"CREATE TRIGGER IF NOT EXISTS image_change_au AFTER UPDATE OF {WATCHED_COLUMNS} ON image "
    f"BEGIN INSERT INTO {CHANGE_TABLE}(image_id) VALUES (new.id); END",
    f"CREATE TRIGGER IF NOT EXISTS image_change_mi AFTER INSERT ON image_collection BEGIN "
    f"INSERT INTO {CHANGE_TABLE}(image_id) VALUES (NULL); END",
    f"CREATE TRIGGER IF NOT EXISTS image_change_md AFTER DELETE ON image_collection BEGIN "
    f"INSERT INTO {CHANGE_TABLE}(image_id) VALUES (NULL); END",
    f"CREATE TRIGGER IF NOT EXISTS image_change_pu AFTER UPDATE OF plan ON account BEGIN "
    f"INSERT INTO {CHANGE_TABLE}(image_id) VALUES (NULL); END",
    # a collection made, renamed or deleted (an empty one too): the dropdowns and the collections dialog follow
    f"CREATE TRIGGER IF NOT EXISTS image_change_ci AFTER INSERT ON collection BEGIN "
    f"INSERT INTO {CHANGE_TABLE}(image_id) VALUES (NULL); END",
    f"CREATE TRIGGER IF NOT EXISTS image_change_cu AFTER UPDATE OF name ON collection BEGIN "
    f"INSERT INTO {CHANGE_TABLE}(image_id) VALUES (NULL); END",
    f"CREATE TRIGGER IF NOT EXISTS image_change_cd AFTER DELETE ON collection BEGIN "
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
    f"CREATE TRIGGER image_change_image AFTER INSERT OR DELETE OR UPDATE OF {WATCHED_COLUMNS} "
    f"ON image FOR EACH STATEMENT EXECUTE PROCEDURE {CHANGE_TABLE}_note()",
    "DROP TRIGGER IF EXISTS image_change_member ON image_collection",
    f"CREATE TRIGGER image_change_member AFTER INSERT OR DELETE ON image_collection "
    f"FOR EACH STATEMENT EXECUTE PROCEDURE {CHANGE_TABLE}_note()",
    "DROP TRIGGER IF EXISTS image_change_plan ON account",
    f"CREATE TRIGGER image_change_plan AFTER UPDATE OF plan ON account "
    f"FOR EACH STATEMENT EXECUTE PROCEDURE {CHANGE_TABLE}_note()",
    "DROP TRIGGER IF EXISTS image_change_collection ON collection",
    f"CREATE TRIGGER image_change_collection AFTER INSERT OR DELETE OR UPDATE OF name ON collection "
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


# What the catalog keeps of each image: the columns the query language filters and sorts on.
# Parameters are the columns SQLite derives from the JSON when a row is read (param_columns.py).
def _microseconds_sql(column: str) -> str:
    """A stored date (naive UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]") as microseconds since 1970, by SQLite."""
    return f"CAST(strftime('%s', {column}) AS INTEGER) * 1000000 + CAST(substr({column}, 21, 6) AS INTEGER)"


_COLUMNS = (
    f"id, owner_id, favorite, {_microseconds_sql('generated_at')}, prompt, model, negative_prompt, text_accuracy, "
    f"width, height, {_microseconds_sql('imported_at')}, "
    "COALESCE(parent_id, 0), derivation, "
    "seed, steps, sampler, lora_list, "
    "COALESCE(batch, 0)"
)
NO_SEED = np.iinfo(np.uint64).max  # a seed that is not recorded
NO_NUMBER = -1  # steps, width, height not recorded
DERIVED_KINDS = {"": 0, "cleaned": 1, "cell": 2, "other": 3}


def _microseconds(moment) -> int:
    """A naive-UTC datetime as microseconds since 1970 (how the catalog keeps dates: 8 bytes, not 26 of text)."""
    return int(moment.replace(tzinfo=timezone.utc).timestamp()) * 1_000_000 + moment.microsecond


def _derived_kind(derivation: str | None) -> int:
    if not derivation:
        return 0
    if derivation.startswith("cell"):
        return 2
    return 1 if "background" in derivation else 3


def _seed(value) -> int:
    try:
        number = int(str(value).strip()) if value is not None else -1
    except ValueError:
        return int(NO_SEED)
    return number if 0 <= number < NO_SEED else int(NO_SEED)


def _small(value, limit: int = 32_767) -> int:
    number = as_number(value)
    return int(min(number, limit)) if number is not None and number >= 0 else NO_NUMBER


def _cfg(value) -> float:
    number = as_number(value)
    return float(number) if number is not None else float("nan")


KEEP_OCCURRENCES = 4  # searches whose occurrences are kept for the next letter typed
KEEP_OCCURRENCES_UP_TO = 4_000_000  # occurrences (int32): 16 MB at most each
TAIL_AT_MOST = 50_000  # values searched as strings beside the blob before a new blob is made with them
KEEP_BYTES = 16 * 2**20  # each cache of answers (matches per text, occurrences) stays under this
KEEP_RESULTS_BYTES = 8 * 2**20  # results kept: the last whole library's ids (8 MB at 1,000,000) or many smaller


LARGE = 100_000  # images: from here the catalog's arrays are megabytes
MALLOC_MAP_FROM = 256 * 1024  # bytes: larger blocks (the arrays of a query) are mapped and given back when freed


def _give_back_large_blocks() -> None:
    """glibc serves a block from its heap once a block of that size was freed (its mmap threshold rises up to
    32 MB), and a heap keeps what was freed: a million-image catalog's masks and gathers (1-8 MB each, made
    and dropped by every query) then held about 20 MB more RSS for good. A fixed threshold maps every large
    block and unmaps it when freed. Done once, when a large catalog is read or built; nothing elsewhere."""
    global _gave_back
    if _gave_back:
        return
    _gave_back = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, MALLOC_MAP_FROM)  # M_MMAP_THRESHOLD (fixing it stops the rise)
        libc.mallopt(-1, 2 * MALLOC_MAP_FROM)  # M_TRIM_THRESHOLD: free heap tops above this go back
    except (OSError, AttributeError):  # not glibc: its own allocator's behaviour
        pass


_gave_back = False


class _Mapping:
    """A saved catalog's file, mapped: its arrays are views of it. When one is replaced by a copy in memory (a
    change patched in, values added to the blob), the kernel is told that this process needs its pages no more
    (`MADV_DONTNEED`): they would count in its RSS beside the copy until the file is unmapped. Always safe for a
    read-only file mapping: a page read again (an older array still held, by a save in progress) comes back
    from the file."""

    def __init__(self, data: mmap.mmap) -> None:
        self.data = data
        self.base = np.frombuffer(data, np.uint8).__array_interface__["data"][0]

    @staticmethod
    def touch(*arrays: np.ndarray) -> None:
        """Read a byte of every page of these arrays (views of the file), so that the first query does not stop at
        each page it reads to have it mapped (the blob of a million prompts: 23 ms of a word's first search under
        load, 4 ms once mapped), or read from disk if the page cache no longer holds it."""
        for array in arrays:
            if array.nbytes and array.flags.c_contiguous:
                flat = array.reshape(-1).view(np.uint8)
                int(flat[::mmap.PAGESIZE].sum())

    def release(self, *arrays: np.ndarray) -> None:
        for array in arrays:
            at = array.__array_interface__["data"][0] - self.base
            if not 0 <= at < len(self.data) or not array.nbytes:
                continue
            first = -(-at // mmap.PAGESIZE) * mmap.PAGESIZE  # the pages wholly inside the array
            end = (at + array.nbytes) // mmap.PAGESIZE * mmap.PAGESIZE
            if end > first:
                try:
                    self.data.madvise(mmap.MADV_DONTNEED, first, end - first)
                except (OSError, ValueError, AttributeError):  # no madvise here: the pages stay until unmapped
                    return


class _Memo(dict):
    """A conversion remembered per value (a column with few distinct values)."""

    def __init__(self, convert) -> None:
        super().__init__()
        self.convert = convert

    def __call__(self, value):
        try:
            return self[value]
        except KeyError:
            result = self[value] = self.convert(value)
            return result
        except TypeError:  # not hashable
            return self.convert(value)


class _Strings:
    """Distinct values of a text column, folded (text.fold: case and accents), each with a code; which contain a
    text, cached.

    Few values are tested one by one. Many (a library's prompts) are also kept as one UTF-8
    blob, values apart by NUL: a search finds the text's occurrences with numpy, anchored on
    its rarest byte, and maps them to values. The occurrences of recent searches are kept, so a
    search one letter longer (typing) only filters them.
    """

    BLOB_FROM = 20_000  # values: below this a plain loop is as fast

    def __init__(self) -> None:
        # Values kept as Python strings: all of them while few; once many are in the blob (`compact`),
        # only those added since (code = _base + index). Strings of a million prompts take 150 MB more
        # than their blob, and a saved catalog (`Catalog.save`) is loaded as the blob alone.
        self.values: list[str] = []
        self.codes: dict[str, int] = {}  # value -> code, for the values in `values`
        self._base = 0
        self._mapping: _Mapping | None = None  # the saved file these values were read from, if any
        self._matches: dict[str, np.ndarray] = {}
        self._blob = np.zeros(0, np.uint8)  # the values in `_blobbed`, each followed by a NUL
        self._starts = np.zeros(0, np.int64)  # where each value starts in the blob
        self._blobbed = 0
        self._frequency = np.zeros(256, np.int64)  # of each byte in the blob: the anchor is the rarest
        self._occurrences: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}  # (places, their values) of a search
        # The trigram index of blob[:_indexed] (see `_index`): each 3-byte sequence present, and where it occurs
        self._indexed = 0
        # Which of the 64 commonest bytes each value holds (made with the index, for its first len() values):
        # a search of one letter reads 8 bytes per value instead of scanning the blob.
        self._letters = np.zeros(0, np.uint64)
        self._letter_bit = np.full(256, 255, np.uint8)  # each byte's bit in `_letters`; 255: none
        self._tri_keys = np.zeros(0, np.uint32)
        self._tri_offsets = np.zeros(1, np.int64)
        self._tri_positions = np.zeros(0, np.int32)
        self._tri_values = np.zeros(0, np.int32)  # beside each place: the value it lies in
        # The word index of the same part of the blob (`_word_index`): each distinct word (a run of WORD_BYTES), the
        # values holding it; a search without a separator is the union of the words that contain it.
        self._words = np.zeros(0, np.uint8)  # the distinct words, each followed by a NUL
        self._word_starts = np.zeros(0, np.int64)
        self._word_offsets = np.zeros(1, np.int64)
        self._word_values = np.zeros(0, np.int32)
        self._lettered_asked = False
        self._lettered: _WordPart | None = None

    def __len__(self) -> int:
        return self._base + len(self.values)

    def code(self, value: str | None) -> int:
        """The value's code. A value already in the blob alone gets a code of its own again (two codes,
        one value: searches and orders do not mind, and a lookup of every blob value would cost more)."""
        folded = fold(value)
        code = self.codes.get(folded)
        if code is None:
            code = len(self)
            self.values.append(folded)
            self.codes[folded] = code
        return code

    def _few(self) -> bool:
        return self._base == 0 and len(self.values) < self.BLOB_FROM

    def containing(self, text: str) -> np.ndarray:
        found = self._matches.get(text)
        if found is not None and len(found) < len(self):  # values added since: test those alone
            if len(found) >= self._base:
                added = self.values[len(found) - self._base:]
                found = self._matches[text] = np.concatenate([found, np.fromiter((text in v for v in added), bool,
                                                                                 len(added))])
            else:
                found = None
        if found is None:
            if self._few():
                found = np.fromiter((text in v for v in self.values), bool, len(self.values))
            else:
                found = self._search(text)
            if len(self._matches) > 32 or (len(self._matches) + 1) * found.nbytes > KEEP_BYTES:
                self._matches.clear()
            self._matches[text] = found
        return found

    def rank_inputs(self) -> tuple:
        """What `_rank` needs, taken under the catalog's lock: arrays that are only replaced and a copy of the
        few strings, so the ranking itself (seconds on a million prompts) can run without the lock."""
        if self._few():
            return len(self), list(self.values), None, None, 0, []
        self._tail_in_blob()
        return len(self), None, self._blob, self._starts, self._blobbed, list(self._tail())

    def rank(self) -> np.ndarray:
        return _rank(self.rank_inputs())

    def prepare(self) -> None:
        """Make the search blob now (a build does it, off the keystroke path), and keep many values in it alone."""
        if not self._few():
            self._extend_blob()
            self._base, self.values, self.codes = len(self), [], {}
            self._matches.clear()
            self._index()

    def _tail(self) -> list[str]:
        """The values added since the blob was made (each has its string)."""
        return self.values[self._blobbed - self._base:]

    def _tail_in_blob(self) -> None:
        """Put the values added since the blob was made into it once they are many: a new blob is a copy of
        the whole (50 MB for a million prompts), so a few changed images are searched as strings beside it."""
        if len(self) - self._blobbed > TAIL_AT_MOST:
            self._extend_blob()

    def _extend_blob(self) -> None:
        if self._blobbed == len(self):
            return
        parts, slices = [self._blob], [np.zeros(0, np.int64)]
        for first in range(self._blobbed - self._base, len(self.values), 65_536):  # in slices: no second copy
            new = [v.encode() for v in self.values[first:first + 65_536]]
            parts.append(np.frombuffer(b"\0".join(new) + b"\0", np.uint8))
            slices.append(np.fromiter((len(b) + 1 for b in new), np.int64, len(new)))
            self._frequency += np.bincount(parts[-1], minlength=256)
        lengths = np.concatenate(slices)
        starts = len(self._blob) + np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        if self._mapping is not None:
            self._mapping.release(self._blob, self._starts)
        self._blob = np.concatenate(parts)
        self._starts = np.concatenate([self._starts, starts])
        self._blobbed = len(self)
        self._occurrences.clear()

    def saved(self) -> dict[str, np.ndarray]:
        """What `Catalog.save` writes of these values: the blob, where each starts, its byte counts, the trigram
        index. Arrays that are only ever replaced, never changed in place (the byte counts are copied), so a
        thread may write them while searches go on."""
        self._extend_blob()
        return {"blob": self._blob, "starts": self._starts, "frequency": self._frequency.copy(),
                "tri_keys": self._tri_keys, "tri_offsets": self._tri_offsets, "tri_positions": self._tri_positions,
                "tri_values": self._tri_values,
                "indexed": np.array([self._indexed], np.int64), "letters": self._letters,
                "letter_bit": self._letter_bit, "words": self._words, "word_starts": self._word_starts,
                "word_offsets": self._word_offsets, "word_values": self._word_values}

    def stale_index(self, saved: dict[str, np.ndarray]) -> bool:
        """Whether much of the blob `saved` holds was added after its trigram index was made."""
        size, indexed = len(saved["blob"]), int(saved["indexed"][0])
        return bool(indexed) and size - indexed > max(size // 20, 1_000_000)

    def reindexed(self, saved: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """`saved` with the trigram index of its whole blob (made without the catalog's lock), which these values
        take too while their blob still begins with that one (it only grows, by a new array)."""
        keys, offsets, positions, values = _trigram_index(saved["blob"], saved["starts"])
        letters, letter_bit = _letter_bits(saved["blob"], saved["starts"], saved["frequency"])
        words, word_starts, word_offsets, word_values = _word_index(saved["blob"], saved["starts"])
        saved = dict(saved, tri_keys=keys, tri_offsets=offsets, tri_positions=positions, tri_values=values,
                     indexed=np.array([len(saved["blob"])], np.int64), letters=letters, letter_bit=letter_bit,
                     words=words, word_starts=word_starts, word_offsets=word_offsets, word_values=word_values)
        return saved

    def take_index(self, saved: dict[str, np.ndarray]) -> None:
        """Use the index `reindexed` made of an earlier blob of these values (call with the catalog's lock): the
        blob only grows, so it still begins with that one; kept if it covers more than the index in use."""
        size = len(saved["blob"])
        if self._indexed < size <= len(self._blob):
            if self._mapping is not None:
                self._mapping.release(self._tri_keys, self._tri_offsets, self._tri_positions, self._tri_values,
                                      self._letters, *self._word_arrays())
            self._tri_keys, self._tri_offsets = saved["tri_keys"], saved["tri_offsets"]
            self._tri_positions, self._tri_values, self._indexed = saved["tri_positions"], saved["tri_values"], size
            self._occurrences.clear()
            self._letters, self._letter_bit = saved["letters"], saved["letter_bit"]
            self._take_words(saved)

    @classmethod
    def loaded(cls, arrays: dict[str, np.ndarray]) -> "_Strings":
        """The values `saved` wrote (arrays read from the file, not copied); few are made strings again."""
        strings = cls()
        strings._blob, strings._starts = arrays["blob"], arrays["starts"]
        strings._frequency = np.array(arrays["frequency"], np.int64)  # added to in place
        strings._base = strings._blobbed = len(strings._starts)
        strings._tri_keys, strings._tri_offsets = arrays["tri_keys"], arrays["tri_offsets"]
        strings._tri_positions, strings._indexed = arrays["tri_positions"], int(arrays["indexed"][0])
        strings._tri_values = arrays["tri_values"]
        strings._letters, strings._letter_bit = arrays["letters"], arrays["letter_bit"]
        strings._take_words(arrays)
        if len(strings._letters) > len(strings._starts) or len(strings._letter_bit) != 256:
            raise ValueError("a damaged letter index")
        if not (len(strings._word_offsets) == len(strings._word_starts) + 1
                and int(strings._word_offsets[-1]) == len(strings._word_values)
                and (not len(strings._word_starts) or int(strings._word_starts[-1]) < len(strings._words))
                and (not len(strings._word_values) or 0 <= int(strings._word_values.min())
                     and int(strings._word_values.max()) < len(strings._starts))):
            raise ValueError("a damaged word index")
        if not (len(strings._tri_offsets) == len(strings._tri_keys) + 1 and 0 <= strings._indexed <= len(strings._blob)
                and int(strings._tri_offsets[-1]) == len(strings._tri_positions) == len(strings._tri_values)):
            raise ValueError("a damaged trigram index")
        if strings._base < cls.BLOB_FROM:
            text = strings._blob.tobytes()
            ends = [int(e) - 1 for e in strings._starts[1:]] + [len(text) - 1]  # each value's NUL
            strings.values = [text[int(a):b].decode() for a, b in zip(strings._starts, ends)]
            strings.codes = {v: i for i, v in enumerate(strings.values)}
            strings._base = 0
        return strings

    def _find(self, pattern: bytes) -> tuple[np.ndarray, np.ndarray]:
        """Where `pattern` starts in the blob (sorted), and the value each such place lies in. Where the trigram
        index covers them, the places are checked against its lists alone (`_in_postings`): a search does not read
        the blob there (50 MB of a million prompts, which then need not be in memory)."""
        known = self._occurrences.get(pattern[:-1]) if len(pattern) > 1 else None
        blob, m = self._blob, len(pattern)
        indexed = m >= 3 and bool(self._indexed) and b"\0" not in pattern
        if known is not None:  # one letter more than a recent search
            places, values = known
            room = places + m <= len(blob)
            places, values = places[room], values[room]
            inside = int(np.searchsorted(places, self._indexed - m, "right")) if indexed else 0  # (sorted places)
            found, of_found = self._in_postings(places[:inside], values[:inside], pattern, [m - 3])
            rest, of_rest = _bytewise(blob, places[inside:], values[inside:], pattern, range(m - 1))
            found, values = np.concatenate([found, rest]), np.concatenate([of_found, of_rest])
        elif indexed:
            # the rarest trigram's places and their values (kept beside them by the index), then the trigrams
            # that cover the rest of the pattern, each at its offset from there
            anchor, (places, values) = min(((j, self._postings(pattern[j:j + 3])) for j in range(m - 2)),
                                           key=lambda item: len(item[1][0]))
            found = places.astype(np.int64) - anchor
            room = (found >= 0) & (found + m <= len(blob))
            found, values = self._in_postings(found[room], values[room], pattern,
                                              sorted({*range(0, m - 2, 3), m - 3} - {anchor}))
            if self._indexed < len(blob):  # values added since the index was made
                more = self._scan(pattern, self._indexed)
                found, values = np.concatenate([found, more]), np.concatenate([values, self._values_at(more)])
        else:
            found = self._scan(pattern, 0)
            values = self._values_at(found)
        if len(blob) < 2**31:
            found = found.astype(np.int32, copy=False)  # half the memory of what is kept
        values = values.astype(np.int32 if len(self._starts) < 2**31 else np.int64, copy=False)
        if found.size <= KEEP_OCCURRENCES_UP_TO:  # bounded: a common letter occurs millions of times
            if len(self._occurrences) >= KEEP_OCCURRENCES or found.nbytes + values.nbytes + sum(
                    p.nbytes + v.nbytes for p, v in self._occurrences.values()) > KEEP_BYTES:
                self._occurrences.clear()
            self._occurrences[pattern] = found, values
        return found, values

    def _in_postings(self, found: np.ndarray, values: np.ndarray, pattern: bytes,
                     offsets: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """The places of `found` (within the indexed part of the blob) where the pattern's trigram at each offset is
        in the index (found + offset among its places, a binary search in its list, read in order), and their
        values: trigrams covering every byte of the pattern make the match exact."""
        for offset in offsets:
            if not found.size:
                break
            places = self._postings(pattern[offset:offset + 3])[0]
            if not places.size:
                return found[:0], values[:0]
            wanted = (found + offset).astype(places.dtype, copy=False)
            at = np.searchsorted(places, wanted)
            np.minimum(at, len(places) - 1, out=at)
            hold = places[at] == wanted
            found, values = found[hold], values[hold]
        return found, values

    def _values_at(self, places: np.ndarray) -> np.ndarray:
        """The value each place of the blob lies in (a binary search each)."""
        return np.searchsorted(self._starts, places, "right") - 1

    def _scan(self, pattern: bytes, start: int) -> np.ndarray:
        """Where `pattern` starts in blob[start:], by a scan for its rarest byte (sorted)."""
        blob, m = self._blob, len(pattern)
        anchor = min(range(m), key=lambda j: self._frequency[pattern[j]])
        found = np.flatnonzero(blob[start:] == pattern[anchor]) + (start - anchor)
        found = found[(found >= start) & (found + m <= len(blob))]
        return _verified(blob, found, found, pattern, anchor, 1)[0]

    def _postings(self, trigram: bytes) -> tuple[np.ndarray, np.ndarray]:
        """The places (sorted) where these 3 bytes occur in the indexed part of the blob, and their values."""
        key = (trigram[0] << 16) | (trigram[1] << 8) | trigram[2]
        at = int(np.searchsorted(self._tri_keys, key))
        if at == len(self._tri_keys) or int(self._tri_keys[at]) != key:
            return self._tri_positions[:0], self._tri_values[:0]
        first, end = int(self._tri_offsets[at]), int(self._tri_offsets[at + 1])
        return self._tri_positions[first:end], self._tri_values[first:end]

    def _index(self) -> None:
        """Index every 3 bytes of the blob within a value (`_trigram_index`)."""
        if self._mapping is not None:
            self._mapping.release(self._tri_keys, self._tri_offsets, self._tri_positions, self._tri_values,
                                  self._letters, *self._word_arrays())
        self._tri_keys, self._tri_offsets, self._tri_positions, self._tri_values = _trigram_index(self._blob,
                                                                                                 self._starts)
        self._indexed = len(self._blob)
        self._letters, self._letter_bit = _letter_bits(self._blob, self._starts, self._frequency)
        self._take_words(dict(zip(("words", "word_starts", "word_offsets", "word_values"),
                                  _word_index(self._blob, self._starts))))
        self._occurrences.clear()

    def _give_back(self, *arrays: np.ndarray) -> None:
        """The pages of these arrays of the saved file, read through once, no longer kept in this process (read
        again from the file, mostly the system's cache, when a search wants them)."""
        if self._mapping is not None:
            self._mapping.release(*arrays)

    def _word_arrays(self) -> tuple[np.ndarray, ...]:
        return self._words, self._word_starts, self._word_offsets, self._word_values

    def _take_words(self, arrays: dict[str, np.ndarray]) -> None:
        self._words, self._word_starts = arrays["words"], arrays["word_starts"]
        self._word_offsets, self._word_values = arrays["word_offsets"], arrays["word_values"]
        self._lettered = None  # the words that are not all digits (`lettered_words`)
        self._lettered_asked = False  # since the words changed (`_lettered_if_asked_before`)

    def _by_words(self, pattern: bytes) -> bool:
        """Whether to search `pattern` through the word index: it lies within one word (word bytes alone), and it
        is common enough that its rarest trigram's places would cost more to check than a pass over the words (a
        binary search per place and trigram against a scan of the distinct words and a copy of their lists)."""
        if len(self._word_offsets) < 2 or not bool(_WORD_BYTE[np.frombuffer(pattern, np.uint8)].all()):
            return False
        return len(pattern) < 3 or not self._indexed or min(
            len(self._postings(pattern[j:j + 3])[0]) for j in range(len(pattern) - 2)) >= WORD_LISTS_FROM

    def lettered_words(self) -> "_WordPart":
        """The words with a byte that is not a digit, apart (made by `Catalog.prepare_orders`, and by the second
        search that wants them after the words change: `_lettered_if_asked_before`). Most distinct words of a large
        library are numbers (a million prompts each with its own number: 1,000,000 words of 1,000,051), and a
        pattern with a letter in it is never in one of them: it looks through these alone (50 words there, not
        6.9 MB)."""
        if self._lettered is None:
            self._lettered = _WordPart.lettered(self._words, self._word_starts)
            if self._mapping is not None and self._lettered.words is not None:  # read through once to make it: the
                self._mapping.release(self._words, self._word_starts)  # file's pages given back (14 MB at a million)
        return self._lettered

    def _lettered_if_asked_before(self) -> "_WordPart | None":
        """`lettered_words` once they are made or asked for before since the words changed; None the first time:
        making them reads every word several times, where that search looks through every word once (a command's
        one search, at 1,000,000 prompts: 6.9 MB once, where making them took 20-40 ms)."""
        if self._lettered is None and not self._lettered_asked:
            self._lettered_asked = True
            return None
        return self.lettered_words()

    def _with_word(self, pattern: bytes) -> np.ndarray:
        """The values of the indexed part of the blob that hold a word containing `pattern` (no separator in it:
        see `_search_blob`), each once or more: the union of those words' lists."""
        words, word_starts, m = self._words, self._word_starts, len(pattern)
        if not len(words):
            return self._word_values[:0]
        numbers, frequency = None, self._frequency  # (the blob's: a guide to the words' rarest byte)
        digits = bool(_DIGIT[np.frombuffer(pattern, np.uint8)].all())
        if not digits:  # never in a word of digits alone
            part = self._lettered_if_asked_before()
            if part is not None and part.words is not None:
                words, word_starts, numbers = part.words, part.starts, part.numbers
                frequency = part.frequency if part.frequency is not None else frequency
        anchor = min(range(m), key=lambda j: frequency[pattern[j]])
        found = np.flatnonzero(words == pattern[anchor]) - anchor
        found = found[(found >= 0) & (found + m <= len(words))]
        found = _verified(words, found, found, pattern, anchor, 1)[0]
        held = _distinct(np.searchsorted(word_starts, found, "right") - 1)  # the words it lies in (found is sorted)
        if numbers is not None:
            held = numbers[held]
        first, end = self._word_offsets[held], self._word_offsets[held + 1]
        lengths = end - first
        if len(held) == 1:
            values = self._word_values[int(first[0]):int(end[0])]
        else:
            places = np.repeat(first - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths) + np.arange(
                int(lengths.sum()))
            values = self._word_values[places]
        if digits:  # every word looked through, and many lists read ("16" in a million numbered prompts: 50,000 words
            self._give_back(*self._word_arrays())  # and their lists): their pages given back, 54 MB not kept
        return values

    def _holding(self, byte: int) -> np.ndarray:
        """Which values of the blob hold this byte: from the letter bits where they say, else one pass over it."""
        n = self._blobbed
        bit, known = int(self._letter_bit[byte]), len(self._letters)
        if not n or not self._frequency[byte]:  # in no value (its count in the blob: a letter nobody typed in a
            return np.zeros(n, bool)  # prompt, 'q' among a million, was a 130 ms pass over the 54 MB of text)
        if bit == 255 or not known:
            mask = np.logical_or.reduceat(self._blob == byte, self._starts)
            self._give_back(self._blob, self._starts)  # the text read once (a rare byte): not kept in memory
            return mask
        mask = np.empty(n, bool)
        np.not_equal(self._letters & np.uint64(1 << bit), 0, out=mask[:known])
        if known < n:  # values added since the letters were made
            first = int(self._starts[known])
            mask[known:] = np.logical_or.reduceat(self._blob[first:] == byte, self._starts[known:] - first)
        return mask

    def _search(self, text: str) -> np.ndarray:
        self._tail_in_blob()
        tail = self._tail()
        found = self._search_blob(text.encode())
        if tail:
            found = np.concatenate([found, np.fromiter((text in v for v in tail), bool, len(tail))])
        return found

    def _search_blob(self, pattern: bytes) -> np.ndarray:
        """Which values of the blob contain `pattern`."""
        n = self._blobbed
        if not pattern:
            return np.ones(n, bool)
        if len(pattern) == 1:  # one letter: in each value or not (its places are millions)
            return self._holding(pattern[0])
        mask = np.zeros(n, bool)
        if self._by_words(pattern):
            # within one word wherever it occurs: the values holding a word that contains it (a list per word,
            # no place of any trigram looked at), and the values added since the index was made
            mask[self._with_word(pattern)] = True
            if self._indexed < len(self._blob):
                mask[self._values_at(self._scan(pattern, self._indexed))] = True
            return mask
        mask[self._find(pattern)[1]] = True
        return mask


_INDEX_SLICE = 1 << 22  # bytes of the blob indexed at a time


def _distinct(ordered: np.ndarray) -> np.ndarray:
    """The distinct values of a sorted array, in order: what np.unique gives, without its sort, and without the
    import of numpy.ma its first call makes (20-60 ms on the first word searched in a process: the first query)."""
    if ordered.size < 2:
        return ordered
    first = np.empty(ordered.size, np.bool_)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


def _verified(blob: np.ndarray, found: np.ndarray, values: np.ndarray, pattern: bytes, anchor: int,
              known: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The places of `found` (each with room for the pattern) where the blob holds `pattern`, and their `values`;
    `known` bytes from `anchor` are already known to match. A few bytes are checked one by one; more, 8 at a time
    (an unaligned 64-bit view at every byte): a gather costs a cache miss at every place (136,000 places for a
    common word of a million prompts), one per 8 bytes instead of one per byte."""
    m = len(pattern)
    if m - known <= 2 or len(blob) < 8:
        return _bytewise(blob, found, values, pattern, range(anchor, anchor + known))
    windows = np.lib.stride_tricks.as_strided(blob, shape=(len(blob) - 7, 8), strides=(1, 1)).view("<u8")[:, 0]
    if m < 8:  # the pattern and what follows it, compared under a mask; the last places of the blob byte by byte
        near_end = found > len(blob) - 8
        tail, tail_values = _bytewise(blob, found[near_end], values[near_end], pattern, range(0))
        found, values = found[~near_end], values[~near_end]
        keep = np.uint64((1 << (8 * m)) - 1)
        hold = (windows[found] & keep) == np.uint64(int.from_bytes(pattern, "little"))
        found, values = found[hold], values[hold]
        if tail.size:
            found, values = np.concatenate([found, tail]), np.concatenate([values, tail_values])
        return found, values
    for at in sorted({*range(0, m - 7, 8), m - 8}):  # 8-byte pieces covering it (the last one overlapping)
        if found.size:
            hold = windows[found + at] == np.uint64(int.from_bytes(pattern[at:at + 8], "little"))
            found, values = found[hold], values[hold]
    return found, values


def _bytewise(blob: np.ndarray, found: np.ndarray, values: np.ndarray, pattern: bytes,
              known: range) -> tuple[np.ndarray, np.ndarray]:
    """`_verified` a byte at a time (the bytes in `known` are not checked)."""
    for j in range(len(pattern)):
        if j not in known and found.size:
            hold = blob[found + j] == pattern[j]
            found, values = found[hold], values[hold]
    return found, values


def _rank(inputs: tuple) -> np.ndarray:
    """Each value's place in prompt A-Z (`text.prompt_sort_key`: folded, its first SORT_KEY_BYTES bytes, compared
    by code point as SQL compares image.prompt_key; `_Strings.rank_inputs`). Values of one key have one place (their
    images go newest first). Many values are ranked with numpy by their first bytes, which are their key where those
    are ASCII and the value neither starts nor ends with whitespace or ends with a byte that is not ASCII (a folding
    there can only strip it); the others' keys are made one by one."""
    n, values, blob, starts, blobbed, tail = inputs
    heads = np.zeros((n, SORT_KEY_BYTES), np.uint8)

    def put(at: int, value: str) -> None:
        key = prompt_sort_key(value).encode()
        heads[at, :len(key)] = np.frombuffer(key, np.uint8)

    if values is not None:
        for at, value in enumerate(values):
            put(at, value)
    else:
        ends = np.append(starts[1:], len(blob)) - 1  # each value's NUL
        columns = np.arange(SORT_KEY_BYTES)
        space = np.zeros(256, bool)
        space[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True  # the ASCII str.strip() takes
        for first in range(0, blobbed, 65_536):  # in slices: the offsets of every byte at once would be 400 MB
            part = slice(first, min(first + 65_536, blobbed))
            where = starts[part, None] + columns
            head = np.where(where < ends[part, None], blob[np.minimum(where, len(blob) - 1)], 0)
            heads[part] = head
            last = blob[np.maximum(ends[part] - 1, 0)]
            folded = ((head >= 0x80).any(axis=1) | space[head[:, 0]] | (ends[part] == starts[part])
                      | space[last] | (last >= 0x80))
            for row in np.flatnonzero(folded) + first:
                heads[row] = 0
                put(int(row), bytes(blob[starts[row]:ends[row]]).decode(errors="replace"))
        for at, value in enumerate(tail, blobbed):  # values not in the blob yet
            put(at, value)
    keys = heads.view(f"S{SORT_KEY_BYTES}").ravel()
    ranked = np.argsort(keys, kind="stable")
    in_order = keys[ranked]
    rank = np.empty(n, np.int32)
    rank[ranked] = np.cumsum(np.r_[True, in_order[1:] != in_order[:-1]]) - 1 if n else 0
    return rank


def _letter_bits(blob: np.ndarray, starts: np.ndarray, frequency: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each value (each start), a 64-bit set of which of the blob's 64 commonest bytes it holds, and each
    byte's bit (255: not among them). Made over slices of 65,536 values."""
    common = [b for b in np.argsort(-frequency, kind="stable") if b != 0 and frequency[b] > 0][:64]
    letter_bit = np.full(256, 255, np.uint8)
    letter_bit[common] = np.arange(len(common), dtype=np.uint8)
    value_of_byte = np.zeros(256, np.uint64)
    value_of_byte[common] = np.left_shift(np.uint64(1), np.arange(len(common), dtype=np.uint64))
    letters = np.zeros(len(starts), np.uint64)
    for first in range(0, len(starts), 65_536):
        part = starts[first:first + 65_536]
        end = int(starts[first + 65_536]) if first + 65_536 < len(starts) else len(blob)
        letters[first:first + len(part)] = np.bitwise_or.reduceat(value_of_byte[blob[int(part[0]):end]],
                                                                  part - part[0])
    return letters, letter_bit


def _trigram_index(blob: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every 3 bytes of the blob within a value: for each such trigram present (keys, sorted), the sorted places it
    occurs (positions[offsets[k]:offsets[k + 1]]) and beside each place the value it lies in (values[...], the
    value starting at `starts`). A search of 3 bytes or more then starts from the places of its rarest trigram (a
    few thousand, typically) instead of scanning the blob (50 MB for a million prompts), and knows their values
    without a binary search each (10 ms for a common word). Made in slices of the blob: counted first, then each
    slice's places put in their trigram's part."""
    size = len(blob)
    nuls = sum(int(np.count_nonzero(blob[first:first + _INDEX_SLICE] == 0)) for first in range(0, size, _INDEX_SLICE))
    by_nuls = nuls == len(starts)  # each value ends at its NUL and holds none: its number is the NULs before it
    if size <= _INDEX_SLICE:  # one slice: its trigrams counted as they are (no table of every possible one)
        keys_present, counts_present = np.unique(_trigrams(blob, 0, size)[0], return_counts=True)
    else:
        counts = np.zeros(1 << 24, np.int64)
        for first in range(0, size, _INDEX_SLICE):
            counts += np.bincount(_trigrams(blob, first, min(first + _INDEX_SLICE, size))[0], minlength=1 << 24)
        keys_present = np.flatnonzero(counts).astype(np.uint32)
        counts_present = counts[keys_present]
        del counts
    offsets = np.zeros(len(keys_present) + 1, np.int64)
    np.cumsum(counts_present, out=offsets[1:])
    positions = np.empty(int(offsets[-1]), np.int32 if size < 2**31 else np.int64)
    values = np.empty(int(offsets[-1]), np.int32 if len(starts) < 2**31 else np.int64)
    fill = offsets[:-1].copy()
    before = 0  # NULs before the slice
    for first in range(0, size, _INDEX_SLICE):
        keys, places = _trigrams(blob, first, min(first + _INDEX_SLICE, size))
        if by_nuls:
            ended = np.cumsum(blob[first:first + _INDEX_SLICE] == 0, dtype=np.int64)
            of_places = before + ended[places - first]  # a place is never a NUL: the NULs before it
            before += int(ended[-1])
        else:
            of_places = np.searchsorted(starts, places, "right") - 1
        order = np.argsort(keys, kind="stable")  # places stay ascending within a trigram
        keys, places, of_places = keys[order], places[order], of_places[order]
        group = np.searchsorted(keys_present, keys)
        rank = np.arange(len(keys)) - np.searchsorted(keys, keys, "left")
        positions[fill[group] + rank] = places
        values[fill[group] + rank] = of_places
        fill += np.bincount(group, minlength=len(keys_present))
    return keys_present, offsets, positions, values


# The bytes of a word: ASCII letters and digits, and every byte of a character beyond ASCII (so a word never splits
# a character). Any other byte (space, punctuation, NUL) separates words. A pattern made of word bytes alone lies
# within one word wherever it occurs in a value: the values holding it are those holding a word that contains it.
_WORD_BYTE = np.zeros(256, bool)
_WORD_BYTE[[*range(48, 58), *range(65, 91), *range(97, 123), *range(128, 256)]] = True
_DIGIT = np.zeros(256, bool)
_DIGIT[48:58] = True
_WORD_HASH = np.uint64(0x9E3779B97F4A7C15)
_LONG_WORD = 256  # bytes: a longer word is told apart by its bytes alone (a loop per 8 bytes would be long)
WORD_LISTS_FROM = 30_000  # places of a pattern's rarest trigram from which the word index answers it (`_by_words`)


@dataclass
class _WordPart:
    """Some of the distinct words, as a blob of their own (each followed by a NUL, `starts` where each begins) and
    each one's number among all the words; `words` None when they are most of the words (no copy kept: a search
    looks through all of them)."""

    words: np.ndarray | None
    starts: np.ndarray
    numbers: np.ndarray
    frequency: np.ndarray | None = None  # of each byte in `words`

    @classmethod
    def lettered(cls, words: np.ndarray, starts: np.ndarray) -> "_WordPart":
        """The words with a byte that is not a digit."""
        none = cls(None, starts[:0], np.zeros(0, np.int64))
        if not len(starts):
            return none
        other = np.logical_or.reduceat(~_DIGIT[words] & (words != 0), starts)
        numbers = np.flatnonzero(other)
        ends = np.append(starts[1:], len(words))  # each word's end, its NUL included
        lengths = (ends - starts)[numbers]
        if int(lengths.sum()) * 2 > len(words):  # most of the bytes: no gain in a copy
            return none
        firsts = np.zeros(len(numbers), np.int64)
        np.cumsum(lengths[:-1], out=firsts[1:])
        places = np.repeat(starts[numbers] - firsts, lengths) + np.arange(int(lengths.sum()))
        part = words[places]
        return cls(part, firsts, numbers, np.bincount(part, minlength=256))


def _word_index(blob: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every distinct word of the blob's values (`_WORD_BYTE` runs): the words as a blob of their own (each
    followed by a NUL, `words_starts` where each begins) and for each the values holding it (ascending,
    values[offsets[k]:offsets[k + 1]]). Words are told apart by a hash of their 8-byte pieces, then checked piece
    by piece against the first word of their hash (the rare words whose hash another shares are then told apart
    by their bytes): exact, and a few seconds for a million prompts where a dictionary of words took 25."""
    size = len(blob)
    index: Any = np.int32 if size < 2**31 else np.int64
    word = np.concatenate([[False], _WORD_BYTE[blob], [False]])
    edges = np.flatnonzero(word[1:] != word[:-1])  # a word's first byte, then the byte after its last, in turn
    first, lengths = edges[0::2].astype(index), (edges[1::2] - edges[0::2]).astype(index)
    del word, edges
    of_value = (np.searchsorted(starts, first, "right") - 1).astype(np.int32)  # (values < 2^31: the id table's bound)
    padded = np.concatenate([blob, np.zeros(8, np.uint8)])
    windows = np.lib.stride_tricks.as_strided(padded, shape=(size, 8), strides=(1, 1)).view("<u8")[:, 0]
    shift = np.minimum(lengths, 8).astype(np.uint64) * np.uint64(8)
    masks = np.where(shift == 64, np.uint64(2**64 - 1), (np.uint64(1) << (shift % np.uint64(64))) - np.uint64(1))

    def piece(at: np.ndarray, k: int) -> np.ndarray:  # the k-th 8 bytes of the words `at` (zeros past their end)
        left = np.clip(lengths[at].astype(np.int64) - 8 * k, 0, 8).astype(np.uint64) * np.uint64(8)
        keep = np.where(left == 64, np.uint64(2**64 - 1), (np.uint64(1) << (left % np.uint64(64))) - np.uint64(1))
        return windows[first[at] + 8 * k] & keep

    hashes = windows[first] & masks
    longer = np.flatnonzero(lengths > 8)
    k = 1
    while longer.size and k < _LONG_WORD // 8:  # a longer word's hash is of its first _LONG_WORD bytes
        hashes[longer] = (hashes[longer] * _WORD_HASH) ^ piece(longer, k) ^ np.uint64(k)
        k += 1
        longer = longer[lengths[longer] > 8 * k]
    order = np.argsort(hashes)  # words of one hash side by side (no stable sort needed: any of them stands for all)
    hashes = hashes[order]
    starts_group = np.ones(len(hashes), bool)
    starts_group[1:] = hashes[1:] != hashes[:-1]
    del hashes
    ids = np.empty(len(order), np.int64)
    ids[order] = np.cumsum(starts_group) - 1
    representative = order[starts_group]
    del order, starts_group
    same = (lengths == lengths[representative[ids]]) & (lengths <= _LONG_WORD)
    at, k = np.flatnonzero(same), 0
    while at.size:  # each word's pieces against its group's first word's
        alike = piece(at, k) == piece(representative[ids[at]], k)
        same[at[~alike]] = False
        k += 1
        at = at[alike & (lengths[at] > 8 * k)]
    if not same.all():  # hashes shared by different words, and words over _LONG_WORD bytes: numbered by their bytes
        text = blob.tobytes()
        known: dict[bytes, int] = {}
        more: list[int] = []
        for place in np.flatnonzero(~same).tolist():
            key = text[int(first[place]):int(first[place]) + int(lengths[place])]
            if key not in known:
                known[key] = len(representative) + len(more)
                more.append(place)
            ids[place] = known[key]
        representative = np.concatenate([representative, np.array(more, np.int64)])
    count = len(representative)
    pairs = np.sort((ids << 32) | of_value.astype(np.int64))  # by word, then value (a word twice in a value: once)
    del ids, of_value
    fresh = np.ones(len(pairs), bool)
    fresh[1:] = pairs[1:] != pairs[:-1]
    pairs = pairs[fresh]
    ids, values = pairs >> 32, (pairs & 0xFFFFFFFF).astype(np.int32)
    del pairs, fresh
    offsets = np.zeros(count + 1, np.int64)
    np.cumsum(np.bincount(ids, minlength=count), out=offsets[1:])
    # the words' own blob: each word's bytes copied from its first place, then a NUL
    word_lengths = lengths[representative].astype(np.int64)
    word_starts = np.concatenate([[0], np.cumsum(word_lengths + 1)[:-1]]).astype(np.int64) if count else \
        np.zeros(0, np.int64)
    words = np.zeros(int(word_lengths.sum()) + count, np.uint8)
    within = np.arange(int(word_lengths.sum())) - np.repeat(np.cumsum(word_lengths) - word_lengths, word_lengths)
    words[np.repeat(word_starts, word_lengths) + within] = blob[np.repeat(first[representative].astype(np.int64),
                                                                          word_lengths) + within]
    return words, word_starts, offsets, values


def _trigrams(blob: np.ndarray, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """The trigrams (3 bytes as one number) starting at places first..last-1 of the blob that lie within
    a value (no NUL), and their places."""
    part = blob[first:last + 2].astype(np.uint32)
    if len(part) < 3:
        return np.zeros(0, np.uint32), np.zeros(0, np.int64)
    head, middle, tail = part[:-2], part[1:-1], part[2:]
    inside = np.flatnonzero((head != 0) & (middle != 0) & (tail != 0))
    inside = inside[inside < last - first]
    return (head[inside] << 16) | (middle[inside] << 8) | tail[inside], inside + first


# The arrays, in one order: (name, dtype). All are indexed alike (newest first).
_ARRAYS = (
    ("ids", np.int64), ("owners", np.int32), ("favorite", bool), ("dates", np.int64), ("codes", np.int32),
    ("models", np.int32), ("negatives", np.int32), ("cfg", np.float32), ("width", np.int32), ("height", np.int32),
    ("imported", np.int64), ("parents", np.int64), ("derived", np.int8), ("seeds", np.uint64), ("steps", np.int16),
    ("samplers", np.int32), ("loras", np.int32), ("batches", np.int64),
)


# The columns each kept order is made from (`Catalog._order_inputs`; "random SEED" reads the random one): an order
# stays when a change writes other columns only, every image in its place.
_ORDER_COLUMNS = {"imported": ("imported",), "prompt": ("codes",), "largest": ("width", "height"), "random": ("ids",)}


def _make_order(sort: str, inputs: tuple) -> np.ndarray:
    """The positions of every image in a kept order (`Catalog._order_inputs`); needs no lock."""
    if sort == "imported":
        (imported,) = inputs
        order = np.lexsort((np.arange(len(imported)), -imported))  # recently imported; ties newest first (position 0)
    elif sort == "prompt":  # the rank of each distinct prompt is not kept: only this order is
        codes, rank_inputs = inputs
        order = np.argsort(_rank(rank_inputs)[codes], kind="stable")
    elif sort == "largest":
        width, height = inputs
        order = np.argsort(-(width.astype(np.int64) * height.astype(np.int64)), kind="stable")
    else:  # random
        (ids,) = inputs
        order = np.argsort(random_keys(ids, 0), kind="stable")
    return order.astype(np.int32 if len(order) < 2**31 else np.int64, copy=False)


# Whole-number columns kept in the smallest type that holds their values (a catalog of 1,000,000 images: 22 MB
# less); a value that does not fit, patched in later, widens the column first.
_NARROW = frozenset({"ids", "owners", "models", "negatives", "width", "height", "parents", "samplers", "loras"})


def _narrowed(columns: list[np.ndarray]) -> list[np.ndarray]:
    out = []
    for (name, _), column in zip(_ARRAYS, columns):
        if name in _NARROW and column.size:
            low, high = int(column.min()), int(column.max())
            for dtype in (np.int8, np.int16, np.int32):
                if np.iinfo(dtype).min <= low and high <= np.iinfo(dtype).max:
                    column = column.astype(dtype)
                    break
        out.append(column)
    return out


def _holds(dtype: np.dtype, values: np.ndarray) -> bool:
    """Whether every value fits the type (values of a whole-number column)."""
    if not values.size or dtype.kind not in "iu":
        return True
    info = np.iinfo(dtype)
    return info.min <= int(values.min()) and int(values.max()) <= info.max


SCATTER_FROM = 4_096  # images: from here a word found in few prompts marks their images (`Catalog._prompt_mask`)
SCATTER_BELOW = 8  # ... when they are fewer than one image in this many (else a gather over every image is as fast)


def _stable_argsort(codes: np.ndarray) -> np.ndarray:
    """np.argsort(codes, kind="stable") for codes from 0 to 2^32 - 1, in two radix passes of 16 bits (numpy sorts
    16-bit keys by radix): 40 ms on a million codes where a merge sort takes 115."""
    low = np.argsort((codes & 0xFFFF).astype(np.uint16), kind="stable")
    if not len(codes) or int(codes.max()) < 0x10000:
        return low
    return low[np.argsort((codes[low] >> 16).astype(np.uint16), kind="stable")]


def _id_table(ids: np.ndarray) -> np.ndarray:
    """A table of each id's position in `ids` (-1: not there); empty when the ids are too high for one."""
    top = int(ids.max()) if len(ids) else -1
    if top >= 2**27 or int(ids.min()) < 0:  # 512 MB at most
        return np.zeros(0, np.int32)
    table = np.full(top + 1, -1, np.int32 if len(ids) < 2**31 else np.int64)
    table[ids] = np.arange(len(ids), dtype=table.dtype)
    return table


class _ImagesOf:
    """The inverse of a code column: for each code, the positions of the images that have it (ascending). With
    distinct prompts (each code one image) a table of one position per code, 4 bytes a prompt; else the positions
    grouped by code and where each code's group starts."""

    def __init__(self, codes: np.ndarray, values: int) -> None:
        kind = np.int32 if len(codes) < 2**31 else np.int64
        counts = np.bincount(codes, minlength=values)
        self.order: np.ndarray | None = None
        if not counts.size or int(counts.max()) <= 1:
            self.first = np.full(values, -1, kind)
            self.first[codes] = np.arange(len(codes), dtype=kind)
        else:
            self.first = np.zeros(values + 1, kind)  # where each code's group starts in `order`
            np.cumsum(counts, out=self.first[1:])
            self.order = _stable_argsort(codes).astype(kind, copy=False)

    @property
    def nbytes(self) -> int:
        return self.first.nbytes + (self.order.nbytes if self.order is not None else 0)

    def positions(self, codes: np.ndarray) -> np.ndarray:
        """The positions of the images of these codes (in no particular order)."""
        if self.order is None:
            found = self.first[codes]
            return found[found >= 0]
        starts = self.first[codes].astype(np.int64)
        lengths = self.first[codes + 1] - starts
        total = int(lengths.sum())
        if not total:
            return self.order[:0]
        ends = np.cumsum(lengths)
        return self.order[np.repeat(starts - (ends - lengths), lengths) + np.arange(total)]


class _Walk:
    """The positions of every image in a kept order, read a part at a time: the order itself (step 1, start 0), or a
    seed's walk through the one shuffle (place i is order[(step*i + start) mod n]: `scramble`), never made whole for
    a page. A sort change on a million images made every position and gathered every id (10-130 ms) for 60."""

    def __init__(self, order: np.ndarray, step: int = 1, start: int = 0) -> None:
        self.order, self.step, self.start = order, step, start

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, part: slice) -> np.ndarray:
        if self.step == 1 and self.start == 0:
            return self.order[part]
        places = np.arange(*part.indices(len(self.order)), dtype=np.int64)
        return self.order[(places * self.step + self.start) % len(self.order)]

    def whole(self) -> np.ndarray:
        return self[:]

    def place(self, position: int) -> int | None:
        """Where a position comes in the walk (None: not in it)."""
        at = np.flatnonzero(self.order == position)
        if not at.size:
            return None
        if self.step == 1 and self.start == 0:
            return int(at[0])
        n = len(self.order)
        return (int(at[0]) - self.start) * pow(self.step, -1, n) % n


class _FavoritesFirst:
    """The positions of every image favorites first, each part newest first (`_Walk`'s part-at-a-time reading): the
    favorites' positions, and a non-favorite's found from them (the r-th one is at r plus the favorites before it),
    never the million positions of the rest made for a page."""

    def __init__(self, favorite: np.ndarray) -> None:
        self.favorite = favorite
        self.first = np.flatnonzero(favorite)
        self.gaps = self.first - np.arange(len(self.first))  # the non-favorites before each favorite (not falling)
        self.nbytes = self.first.nbytes + self.gaps.nbytes

    def __len__(self) -> int:
        return len(self.favorite)

    def __getitem__(self, part: slice) -> np.ndarray:
        places = np.arange(*part.indices(len(self.favorite)), dtype=np.int64)
        rest = places - len(self.first)  # the r-th non-favorite, for the places past the favorites
        later = rest >= 0
        out = np.empty(len(places), np.int64)
        out[~later] = self.first[places[~later]]
        out[later] = rest[later] + np.searchsorted(self.gaps, rest[later], "right")
        return out

    def whole(self) -> np.ndarray:
        return np.concatenate([self.first, np.flatnonzero(~self.favorite)])

    def place(self, position: int) -> int | None:
        before = int(np.searchsorted(self.first, position))  # favorites before it
        return before if self.favorite[position] else len(self.first) + position - before


class _Matches:
    """The positions a condition lets through in an order, found a part at a time: the catalog's own order (newest
    first; `reverse`: oldest first), or a kept order (`walk`: the order's positions, or a seed's `_Walk` through the
    shuffle). A page near the start reads the order up to the page's last match (in growing pieces), and the whole is
    made only when asked further (then kept). A broad search on a million images made the positions of every match
    (2-10 ms) and gathered their ids for a page of 60; in a kept order it tested the condition at every place of the
    order (`order[mask[order]]`: 13-16 ms of processor for `ring sort:random` at a million)."""

    FIRST_PIECE = 1 << 14  # places of the mask read first; each next piece twice as many

    def __init__(self, mask: np.ndarray, reverse: bool = False, count: int | None = None,
                 walk: "np.ndarray | _Walk | None" = None) -> None:
        self.mask, self.reverse, self.walk = mask, reverse and walk is None, walk
        self.count = int(np.count_nonzero(mask)) if count is None else count
        self._whole: np.ndarray | None = None

    @classmethod
    def of(cls, mask: np.ndarray, reverse: bool = False, walk: "np.ndarray | _Walk | None" = None,
           count: int | None = None) -> "np.ndarray | _Matches":
        """The matches read a page at a time, or for few of them (their positions no larger than the mask: one image
        in 8 or fewer) their positions at once: a kept result then holds those, not a mask of every image."""
        count = int(np.count_nonzero(mask)) if count is None else count
        if count * 8 > len(mask):
            return cls(mask, reverse, count, walk)
        if walk is not None:
            order = walk.whole() if isinstance(walk, _Walk) else walk
            return order[mask[order]]
        positions = np.flatnonzero(mask)
        return positions[::-1] if reverse else positions

    @property
    def nbytes(self) -> int:
        return self.mask.nbytes + (self._whole.nbytes if self._whole is not None else 0)

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, part: slice) -> np.ndarray:
        start, stop, step = part.indices(self.count)
        if self._whole is None and step == 1 and stop <= 4 * self.FIRST_PIECE:
            return self._first(stop)[start:stop]
        return self.whole()[part]

    def _first(self, wanted: int) -> np.ndarray:
        """The first `wanted` positions (or all there are), from the start of the order."""
        mask, n = self.mask, len(self.mask)
        pieces, found, read, size = [], 0, 0, self.FIRST_PIECE
        while found < wanted and read < n:
            if self.walk is not None:  # the kept order's next places, those the condition holds for
                places = self.walk[read:read + size]
                piece = places[mask[places]]
            elif self.reverse:  # from the end of the mask backwards
                low = max(0, n - read - size)
                piece = np.flatnonzero(mask[low:n - read])[::-1] + low
            else:
                piece = np.flatnonzero(mask[read:read + size]) + read
            pieces.append(piece)
            found, read, size = found + len(piece), read + size, size * 2
        return np.concatenate(pieces) if pieces else np.zeros(0, np.int64)

    def whole(self) -> np.ndarray:
        if self._whole is None:
            if self.walk is not None:
                order = self.walk.whole() if isinstance(self.walk, _Walk) else self.walk
                self._whole = order[self.mask[order]]
            else:
                positions = np.flatnonzero(self.mask)
                self._whole = positions[::-1] if self.reverse else positions
        return self._whole

    def place(self, position: int) -> int | None:
        if not self.mask[position]:
            return None
        if self.walk is not None:
            at = np.flatnonzero(self.whole() == position)
            return int(at[0]) if at.size else None
        return int(np.count_nonzero(self.mask[position + 1:] if self.reverse else self.mask[:position]))


_LAZY = (_Walk, _FavoritesFirst, _Matches)  # positions read a part at a time


class Ordered:
    """A result read a page at a time (`Catalog.select`): its ids read through its positions' walk (every image in a
    kept order, or a condition's matches in the catalog's own order). The ids and a kept order are the catalog's,
    replaced and never changed."""

    def __init__(self, ids: np.ndarray, walk: "_Walk | _FavoritesFirst | _Matches") -> None:
        self._ids, self._walk = ids, walk

    @property
    def nbytes(self) -> int:
        """What it holds of its own (a kept order and the ids are the catalog's)."""
        return getattr(self._walk, "nbytes", 0)

    def __len__(self) -> int:
        return len(self._walk)

    def __getitem__(self, part: slice) -> np.ndarray:
        return self._ids[self._walk[part]]

    def tolist(self) -> list[int]:
        return self._ids[self._walk.whole()].tolist()

    def place(self, image_id: int, where: np.ndarray | None) -> int | None:
        """Where the image comes in the result (None: not in it); `where`: each id's position (`_id_positions`)."""
        if where is None:
            at = np.flatnonzero(self._ids == image_id)
            position = int(at[0]) if at.size else -1
        else:
            position = int(where[image_id]) if 0 <= image_id < len(where) else -1
        return None if position < 0 else self._walk.place(position)


@dataclass(frozen=True)
class Query:
    """What to select: all parts combine; None means no condition."""

    owners: tuple[int, ...]  # images of these accounts
    search: str = ""  # prompt contains this (any case), when `parsed` is None
    favorite: bool | None = None
    collection: int | None = None  # images in this collection
    parsed: Parsed | None = None  # the query language (store/query.py), names already resolved to ids
    sort: str = DEFAULT_SORT
    seed: int = 0  # the random order's
    stacked: bool = False  # one image (the first in the order) for each batch (store/stacks.py)
    batch: int | None = None  # only the images of this batch


SAVED_MAGIC = b"MYIMAGES-CATALOG"
SAVED_FORMAT = 6  # changes with _ARRAYS or the strings' arrays (6: values accent-folded): an older file is read no more
_STRINGS_PARTS = ("blob", "starts", "frequency", "tri_keys", "tri_offsets", "tri_positions", "tri_values", "indexed",
                  "letters", "letter_bit", "words", "word_starts", "word_offsets", "word_values")
SAVE_AFTER = KEEP_CHANGES // 2  # changes caught up since the file was written: write it again


@dataclass
class _Snapshot:
    """What `Catalog._write` writes, taken under the lock (`Catalog._snapshot`): arrays are replaced, never changed
    in place, so these references stay as they were."""

    arrays: dict[str, np.ndarray]  # the columns, by name (_ARRAYS)
    strings: dict[str, tuple[_Strings, dict[str, np.ndarray]]]  # "prompts", "models", ...: the values, what they save
    header: dict[str, Any]  # the file's JSON header: format, library, seq, change (the arrays' places added on writing)


def _codes_fit(columns: list[np.ndarray], prompts: "_Strings", strings: dict[str, "_Strings"]) -> bool:
    """Every code of a loaded catalog names a value it has (a damaged file must not fail a search later)."""
    names = [name for name, _ in _ARRAYS]
    checks = [(columns[names.index("codes")], prompts)] + [
        (columns[names.index(key)], strings[key]) for key in strings]
    return all(len(c) == 0 or (0 <= int(c.min()) and int(c.max()) < len(s)) for c, s in checks)


class Catalog:
    """The images of one SQLite database, newest first (by generation date, then id)."""

    # The columns (_ARRAYS), all indexed alike, newest first; set together by `_set_columns`, never changed in place.
    _ids: np.ndarray
    _owners: np.ndarray
    _favorite: np.ndarray
    _dates: np.ndarray  # generated, microseconds since 1970
    _codes: np.ndarray  # the prompt's code in `_prompt_strings`
    _models: np.ndarray  # codes in `_strings["models"]`, and so on
    _negatives: np.ndarray
    _cfg: np.ndarray
    _width: np.ndarray
    _height: np.ndarray
    _imported: np.ndarray
    _parents: np.ndarray
    _derived: np.ndarray  # DERIVED_KINDS
    _seeds: np.ndarray
    _steps: np.ndarray
    _samplers: np.ndarray
    _loras: np.ndarray
    _batches: np.ndarray

    def __init__(self, db: Database, saved: Path | None = None, may_save: bool = False) -> None:
        self.db = db
        self._mapping: _Mapping | None = None  # the saved file the arrays were read from, if any
        self.saved = saved  # the catalog's file (see `save`); None: never kept on disk
        self.may_save = may_save and saved is not None
        self._lock = threading.RLock()
        self._building = False  # a build (every row read) under way, in the thread holding the lock
        self._seq = -1  # the last change applied; -1: not built
        self._saved_seq = -1  # the change the file was written or read at
        self._saver: threading.Thread | None = None  # writing the file (save_soon)
        self._save_wanted = False
        self.catch_up_every = CATCH_UP_EVERY
        self.bulk_catch_up_every = BULK_CATCH_UP_EVERY
        self._bulk = False  # the last catch-up took in changes in bulk: the next one waits longer
        self.clock = time.monotonic
        self._caught_up_at = float("-inf")  # when the last catch-up (or build) read the log
        self._own_writes_seen = -1  # this process's write count at that moment
        self._newest = -1  # the last change in the log when last looked (may be ahead of _seq)
        self._set_columns(None)
        self._prompt_strings = _Strings()  # distinct prompts, folded (codes index these)
        self._strings = {"models": _Strings(), "negatives": _Strings(), "samplers": _Strings(), "loras": _Strings()}
        self._sizes: dict[Query, np.ndarray] = {}  # a stacked query's stack sizes, beside its result
        self._results: dict[Query, np.ndarray | Ordered] = {}
        self._counts: dict[Query, int] = {}  # by `_counted(query)`: the order left out
        self._member_masks: dict[int, np.ndarray] = {}  # by collection
        self._generation = 0  # counts changes of the arrays (`_forget`)
        self._orders: dict[str, np.ndarray] = {}  # a sort -> the positions of every image in that order
        self._images_of: _ImagesOf | None = None  # each prompt code's images (`_prompt_mask`), until a change
        self._images_of_asked = False  # since that change (`_images_with`)
        self._where: np.ndarray | None = None  # each id's position (`_id_positions`), until a change
        self._stacks: _Stacks | None = None  # each image's stack (`_stacks_now`), until a change

    def reopened(self, db: Database, may_save: bool) -> None:
        """The library's database opened again, for writing (a full disk: Library.open_for_erasing): read from
        `db` from now on; this process's writes through it are taken in at once."""
        with self._lock:
            self.db = db
            self.may_save = may_save and self.saved is not None
            self._own_writes_seen = -1

    def _set_columns(self, columns: list[np.ndarray] | None) -> None:
        if self._mapping is not None and columns is not None:
            kept = {id(c) for c in columns}
            self._mapping.release(*(c for c in self._columns() if id(c) not in kept))
        for index, (name, dtype) in enumerate(_ARRAYS):
            setattr(self, "_" + name, np.zeros(0, dtype) if columns is None else columns[index])

    def _columns(self) -> list[np.ndarray]:
        return [getattr(self, "_" + name) for name, _ in _ARRAYS]

    @property
    def nbytes(self) -> int:
        """Memory the arrays take (the distinct strings come on top)."""
        return sum(a.nbytes for a in self._columns())

    # -- keeping up with the database ---------------------------------------

    @property
    def version(self) -> int:
        return self._seq

    @property
    def behind(self) -> bool:
        """Whether the log held changes not yet taken in when last looked (another process's, batched)."""
        return self._newest > self._seq

    @property
    def ready(self) -> bool:
        """Built at least once (the first build reads every row: about 0.2 s per 100,000 images)."""
        return self._seq >= 0

    def _arrays(self, rows: list[tuple]) -> tuple[np.ndarray, ...]:
        """The catalog's columns for these rows (as _COLUMNS reads them)."""
        n = len(rows)
        models, negatives = self._strings["models"], self._strings["negatives"]
        samplers, loras = self._strings["samplers"], self._strings["loras"]
        cfg, steps = _Memo(_cfg), _Memo(_small)  # few distinct values: each converted once
        no_lora = loras.code("")
        return (
            np.fromiter((r[0] for r in rows), np.int64, n),
            np.fromiter((r[1] for r in rows), np.int32, n),
            np.fromiter((bool(r[2]) for r in rows), bool, n),
            np.fromiter((r[3] or 0 for r in rows), np.int64, n),
            np.fromiter((self._prompt_strings.code(r[4]) for r in rows), np.int32, n),
            np.fromiter((models.code(r[5]) for r in rows), np.int32, n),
            np.fromiter((negatives.code(r[6]) for r in rows), np.int32, n),
            np.fromiter((cfg(r[7]) for r in rows), np.float32, n),
            np.fromiter((r[8] or 0 for r in rows), np.int32, n),
            np.fromiter((r[9] or 0 for r in rows), np.int32, n),
            np.fromiter((r[10] or 0 for r in rows), np.int64, n),
            np.fromiter((r[11] or 0 for r in rows), np.int64, n),
            np.fromiter((_derived_kind(r[12]) for r in rows), np.int8, n),
            np.fromiter((r[13] if type(r[13]) is int and 0 <= r[13] < NO_SEED else _seed(r[13]) for r in rows),
                        np.uint64, n),
            np.fromiter((steps(r[14]) for r in rows), np.int16, n),
            np.fromiter((samplers.code(r[15] if isinstance(r[15], str) else "") for r in rows), np.int32, n),
            np.fromiter((loras.code(lora_names(r[4], r[16])) if r[16] or "<" in r[4] else no_lora for r in rows),
                        np.int32, n),
            np.fromiter((r[17] or 0 for r in rows), np.int64, n),
        )

    def _forget(self, changed: frozenset[str] | None = None) -> None:
        """Drop what was worked out from the arrays: results and counts always; the orders, each prompt's images,
        each id's position and the stacks only where a column they are made from changed (`changed`: the
        columns changed with every image in its place; None: any may have, images came, went or moved)."""
        self._generation += 1  # what was worked out from the arrays before is theirs, not these
        self._results.clear()
        self._counts.clear()
        self._member_masks.clear()
        self._sizes.clear()
        if changed is None:
            self._orders.clear()
            self._images_of = self._where = self._stacks = None
            self._images_of_asked = False
            return
        for sort in list(self._orders):
            if not changed.isdisjoint(_ORDER_COLUMNS[sort.split()[0]]):
                del self._orders[sort]
        if "codes" in changed:
            self._images_of, self._images_of_asked = None, False
        if "ids" in changed:
            self._where = None
        if "batches" in changed:
            self._stacks = None

    def _build(self) -> None:
        self._building = True
        try:
            self._build_now()
        finally:
            self._building = False

    def _build_now(self) -> None:
        self._prompt_strings = _Strings()
        self._strings = {name: _Strings() for name in self._strings}
        parts: list[tuple[np.ndarray, ...]] = []
        with self.db.atomic("DEFERRED"):  # one snapshot: the rows and the last change
            seq = self.db.execute_sql(f"SELECT COALESCE(MAX(seq), 0) FROM {CHANGE_TABLE}").fetchone()[0]
            cursor = self.db.execute_sql(  # in table order: sorted below; trashed images are not shown
                f"SELECT {_COLUMNS} FROM image WHERE trashed_at IS NULL")
            while rows := cursor.fetchmany(10_000):  # a chunk at a time: no list of every row
                parts.append(self._arrays(rows))
        empty = [np.zeros(0, dtype) for _, dtype in _ARRAYS]
        columns = [np.concatenate([p[i] for p in parts]) if parts else empty[i] for i in range(len(_ARRAYS))]
        parts.clear()
        order = np.lexsort((columns[0], columns[3]))[::-1]  # newest first, then the higher id
        self._set_columns(_narrowed([c[order] for c in columns]))
        self._mapping = None  # a file read before: unmapped once nothing holds its arrays
        self._seq = self._newest = seq
        if len(order) >= LARGE:
            _give_back_large_blocks()
        self._forget()
        for strings in (self._prompt_strings, *self._strings.values()):
            strings.prepare()  # the search blob now, not on the first key typed
        self._stacks_now()  # saved with the arrays: the gallery's first (stacked) count does not make them

    # -- kept on disk: a command answers without reading every row -----------

    def open_saved(self) -> bool:
        """Read the catalog from its file when it is not in memory yet (no rows read); True when it is now.
        While another thread builds it (40 s for 1,000,000 images), False at once: the caller asks SQL instead
        of waiting (the gallery's first page came only after the whole build). Another thread reading it from
        its file or catching up is waited for (milliseconds; SQL's count of a stacked view is seconds)."""
        while not self._lock.acquire(timeout=0.05):
            if self._building and self._seq < 0:
                return False
        try:
            if self._seq < 0:
                self._load()
            return self._seq >= 0
        finally:
            self._lock.release()

    def _library_id(self) -> str:
        row = self.db.execute_sql("SELECT value FROM setting WHERE key = 'library_id'").fetchone()
        return str(row[0]) if row else ""

    def _change_at(self, seq: int) -> list:
        """The change log's row `seq` as [present, image id]: tells this database's history from another's."""
        row = self.db.execute_sql(f"SELECT image_id FROM {CHANGE_TABLE} WHERE seq = ?", (seq,)).fetchone()
        return [row is not None, row[0] if row else None]

    def save(self) -> bool:
        """Write the catalog to its file now (temporary file + rename): one header, then every array as it is
        in memory. Another process (a command, the app's next start) reads it back with `open_saved`
        in milliseconds and catches up with the change log from there, instead of reading every row.
        Searches go on meanwhile: the lock is held only to take the arrays (never changed in place)."""
        with self._lock:
            snapshot = self._snapshot()
        return snapshot is not None and self._write(snapshot)

    def save_soon(self) -> None:
        """Save in a thread of its own (a build, or SAVE_AFTER changes caught up): writing 350 MB takes seconds,
        and the search that caught up must not wait for it. One save at a time; asked meanwhile, another follows
        with what the catalog holds then. The thread is not a daemon: a process ends after its save."""
        with self._lock:
            if not self.may_save or self._seq < 0:
                return
            self._save_wanted = True
            if self._saver is not None:
                return
            saver = threading.Thread(target=self._save_while_wanted, name="catalog-save")
            saver.start()  # started before it is shown: wait_saved, reading without the lock, never joins one that
            self._saver = saver  # is not yet (the thread clears it under this lock, so only after this line)

    def wait_saved(self, timeout: float | None = None) -> bool:
        """Wait for a save in progress (or asked for) to end; False if it is still going after `timeout`."""
        saver = self._saver  # not under the lock, held for a whole build or catch-up: a close would wait for those
        if saver is not None:
            saver.join(timeout)
            return not saver.is_alive()
        return True

    def _save_while_wanted(self) -> None:
        try:
            while True:
                with self.db.connection_context(), self._lock:
                    snapshot = self._snapshot() if self._save_wanted else None
                    self._save_wanted = False
                    if snapshot is None:
                        self._saver = None  # decided under the lock: a save asked from now starts a thread
                        return
                self._write(snapshot)
        except BaseException as error:  # noqa: BLE001 - re-raised below unless the database failed
            with self._lock:
                self._saver = None
            if not isinstance(error, PeeweeException):  # a database busy or gone while the header was read:
                raise  # the next change tries again

    def _snapshot(self) -> _Snapshot | None:
        """What `_write` needs, taken under the lock: the arrays (references: they are replaced, never changed)
        and the header, which reads the database. None when there is nothing to save."""
        if not self.may_save or self._seq < 0:
            return None
        arrays = {name: column for (name, _), column in zip(_ARRAYS, self._columns())}
        stacks = self._stacks
        if stacks is not None:  # (made from these arrays: dropped when the batch keys change)
            arrays[STACKS_ARRAY] = stacks.codes
        strings = {}
        for key, values in (("prompts", self._prompt_strings), *self._strings.items()):
            strings[key] = (values, values.saved())
        with self.db.atomic("DEFERRED"):
            header = {"format": SAVED_FORMAT, "library": self._library_id(), "seq": self._seq,
                      "change": self._change_at(self._seq), "arrays": []}
        if stacks is not None:
            header["stacks"] = stacks.count
        return _Snapshot(arrays, strings, header)

    def _write(self, snapshot: _Snapshot) -> bool:
        """Write a snapshot (no lock held): a trigram index that lags far behind its blob is made again first,
        here, and handed to the catalog's values if they are still the ones it was made for."""
        from .files import write_atomic

        if self.saved is None:  # never kept on disk (no snapshot is made then)
            return False
        arrays, header = dict(snapshot.arrays), snapshot.header
        for key, (values, saved) in snapshot.strings.items():
            if values.stale_index(saved):
                saved = values.reindexed(saved)
                with self._lock:
                    if values is (self._prompt_strings if key == "prompts" else self._strings.get(key)):
                        values.take_index(saved)
            arrays.update({f"{key}.{part}": a for part, a in saved.items()})
        offset = 0
        for name, array in arrays.items():
            header["arrays"].append([name, array.dtype.str, len(array), offset])
            offset += -(-array.nbytes // 64) * 64
        head = json.dumps(header).encode()
        start = -(-(len(SAVED_MAGIC) + 8 + len(head)) // 4096) * 4096

        def write(handle) -> None:
            handle.write(SAVED_MAGIC + start.to_bytes(8, "little") + head)
            handle.write(bytes(start - len(SAVED_MAGIC) - 8 - len(head)))
            for array in arrays.values():
                handle.write(np.ascontiguousarray(array).data)
                handle.write(bytes(-(-array.nbytes // 64) * 64 - array.nbytes))

        try:
            write_atomic(self.saved, write)
        except OSError:  # a full disk or a read-only folder: the catalog still works from memory
            return False
        with self._lock:
            self._saved_seq = max(self._saved_seq, header["seq"])
        return True

    def _load(self) -> bool:
        """The saved catalog, if it is this database's and the change log still reaches back to it."""
        if self.saved is None:  # never kept on disk
            return False
        try:
            with open(self.saved, "rb") as handle:
                data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # no file, or an empty one
            return False
        try:
            if data[:len(SAVED_MAGIC)] != SAVED_MAGIC:
                return False
            start = int.from_bytes(data[len(SAVED_MAGIC):len(SAVED_MAGIC) + 8], "little")
            header = json.loads(bytes(data[len(SAVED_MAGIC) + 8:start]).rstrip(b"\0"))
            if header.get("format") != SAVED_FORMAT:
                return False
            arrays = {name: np.frombuffer(data, np.dtype(dtype), count, start + at)
                      for name, dtype, count, at in header["arrays"]}
            seq = int(header["seq"])
            with self.db.atomic("DEFERRED"):
                if header["library"] != self._library_id():
                    return False
                oldest, newest = self.db.execute_sql(  # two look-ups (MIN and MAX in one SELECT read every row)
                    f"SELECT (SELECT MIN(seq) FROM {CHANGE_TABLE}), (SELECT COALESCE(MAX(seq), 0) FROM {CHANGE_TABLE})"
                ).fetchone()
                if newest < seq or (oldest is not None and oldest > seq + 1):
                    return False  # trimmed past it, or another history (a database restored from a copy)
                if oldest is not None and oldest <= seq and self._change_at(seq) != header["change"]:
                    return False
            prompts = _Strings.loaded({part: arrays[f"prompts.{part}"] for part in _STRINGS_PARTS})
            strings = {key: _Strings.loaded({part: arrays[f"{key}.{part}"] for part in _STRINGS_PARTS})
                       for key in self._strings}
            columns = [arrays[name] for name, _ in _ARRAYS]
            stacks = _Stacks.loaded(arrays.get(STACKS_ARRAY), header.get("stacks"), len(columns[0]))
        except (ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError):  # damaged: read every row instead
            return False
        if any(len(c) != len(columns[0]) for c in columns) or not _codes_fit(columns, prompts, strings):
            return False
        self._prompt_strings, self._strings = prompts, strings
        self._set_columns(columns)
        self._mapping = _Mapping(data)
        for values in (prompts, *strings.values()):
            values._mapping = self._mapping
            values._give_back(values._word_values)  # read whole by its check (`loaded`): 31 MB at a million prompts
        self._seq = self._saved_seq = seq
        if len(columns[0]) >= LARGE:
            _give_back_large_blocks()
        self._forget()
        self._stacks = stacks
        return True

    def sync(self, *, at_once: bool = False) -> None:
        """Catch up with the changes committed since the last catch-up: this process's at once, another
        process's once CATCH_UP_EVERY has passed since the last (or with `at_once`); meanwhile the
        catalog answers as it is."""
        with self._lock:
            own = own_writes(self.db)  # before reading: a commit after this moves it again
            if self._seq < 0:
                self._catch_up_at(own)
                if not self._load():
                    self._build()
                    self.save_soon()
                    return
                self._newest = self._seq
                at_once = True  # read from its file: the changes since then, now
            newest = self.db.execute_sql(f"SELECT COALESCE(MAX(seq), 0) FROM {CHANGE_TABLE}").fetchone()[0]
            self._newest = newest
            if newest == self._seq:
                return
            theirs = own == self._own_writes_seen
            if not at_once and theirs and self.clock() - self._caught_up_at < self.window \
                    and newest - self._seq < KEEP_CHANGES // 4:  # (never so far behind that it must build again)
                return  # another process's changes: taken in together, a moment later
            since = self.clock() - self._caught_up_at
            self._catch_up_at(own)
            with self.db.atomic("DEFERRED"):
                oldest, newest = self.db.execute_sql(  # two look-ups (MIN and MAX together scan the table)
                    f"SELECT (SELECT MIN(seq) FROM {CHANGE_TABLE}), "
                    f"(SELECT COALESCE(MAX(seq), 0) FROM {CHANGE_TABLE})").fetchone()
                if newest < self._seq or (oldest is not None and oldest > self._seq + 1):
                    self._seq = -1  # trimmed past what we have seen, or a different database file
                else:
                    changes = self.db.execute_sql(
                        f"SELECT seq, image_id FROM {CHANGE_TABLE} WHERE seq > ? ORDER BY seq", (self._seq,)
                    ).fetchall()
                    ids = sorted({i for _, i in changes if i is not None})
                    rows = []
                    for chunk in chunked(ids, 500):
                        rows += self.db.execute_sql(
                            f"SELECT {_COLUMNS} FROM image WHERE id IN ({','.join('?' * len(chunk))}) "
                            "AND trashed_at IS NULL", chunk
                        ).fetchall()
            if self._seq < 0:
                self._build()
                self.save_soon()
                return
            # a rate over at least a second: a catch-up a moment after the last (the window 0, as in tests, or a
            # scan's end taken in at once) saw a change or two in a few milliseconds, which is no bulk
            self._bulk = theirs and len(changes) > BULK_CHANGES * max(since, self.catch_up_every, 1.0)
            if changes:
                self._forget(self._patch(np.array(ids, np.int64), rows))
                self._seq = changes[-1][0]
                if self._seq - self._saved_seq > SAVE_AFTER and self._saver is None:  # before the log is trimmed
                    self.save_soon()  # past the file
            self._newest = max(self._newest, self._seq)

    def catch_up_next(self) -> None:
        """The next look takes in every change there is, whoever made it (a writer this process waited
        for, such as a scan in a child process, has finished: what it wrote shows at once)."""
        with self._lock:
            self._caught_up_at = float("-inf")

    @property
    def window(self) -> float:
        """Seconds another process's changes wait after a catch-up: longer while they come in bulk."""
        return self.bulk_catch_up_every if self._bulk else self.catch_up_every

    def _catch_up_at(self, own: int) -> None:
        self._caught_up_at = self.clock()
        self._own_writes_seen = own

    def _patch(self, changed: np.ndarray, rows: list[tuple]) -> frozenset[str] | None:
        """Drop the changed images, then put back the ones that still exist, in order; returns the names of the
        columns that changed when every image stayed in its place (None when images came, went or moved).

        Images that are all still there with the same date (a favorite, a collection, a plan or a prompt
        changed) keep their places: only the columns whose values changed are copied and written (a favorite
        at 1,000,000 images: the favorites' 1 MB, where dropping and putting back copied every column twice,
        200-400 ms of processor in each command run after it until the catalog's file is written again).
        Otherwise a few rows (an import, a deletion) go each to its place found by a binary search, with one
        copy of the columns; sorting the whole catalog again took a second on 1,000,000 images.
        """
        if not changed.size and not rows:  # no image's row: a plan or a collection (made, renamed or deleted)
            return frozenset()
        columns = self._columns()
        if changed.size:
            held = np.isin(self._ids, changed)
            in_place = self._patched_in_place(np.flatnonzero(held), changed, rows)
            if in_place is not None:
                return in_place
            keep = ~held
            if not keep.all():
                columns = [c[keep] for c in columns]
        if rows and len(rows) > PLACE_AT_MOST:
            columns = [np.concatenate([c, new]) for c, new in zip(columns, self._arrays(rows))]
            order = np.lexsort((columns[0], columns[3]))[::-1]  # newest first, then the higher id
            columns = [c[order] for c in columns]
        elif rows:
            arrays = self._arrays(rows)
            order = np.lexsort((arrays[0], arrays[3]))[::-1]
            new = [c[order] for c in arrays]
            ids, dates = columns[0][::-1], columns[3][::-1]  # oldest first: ascending for searchsorted
            low, high = np.searchsorted(dates, new[3], "left"), np.searchsorted(dates, new[3], "right")
            for k in np.flatnonzero(high > low):  # the same date as others: among them by id
                low[k] += np.searchsorted(ids[low[k]:high[k]], new[0][k])
            places = len(ids) - low
            columns = [np.insert(c if _holds(c.dtype, values) else c.astype(values.dtype), places, values)
                       for c, values in zip(columns, new)]
        self._set_columns(columns)
        return None

    def _patched_in_place(self, positions: np.ndarray, changed: np.ndarray,
                          rows: list[tuple]) -> frozenset[str] | None:
        """`_patch` where every changed image is still there (`rows`, one each) at its place (`positions`: where
        the catalog holds them), with the same date: the changed values written into copies of their columns.
        The names of the columns changed; None (nothing done) where an image came, went or moved."""
        if not rows or len(rows) != len(changed) or positions.size != len(changed) or len(rows) > PLACE_AT_MOST:
            return None
        arrays = self._arrays(rows)
        by_id = np.argsort(arrays[0])
        new = [a[by_id] for a in arrays]
        at = positions[np.argsort(self._ids[positions])]  # the places, in the order of their ids
        if not (np.array_equal(self._ids[at], new[0]) and np.array_equal(self._dates[at], new[3])):
            return None  # (an image's date changed: it moves)
        columns, names = self._columns(), []
        for index, ((name, _), column, values) in enumerate(zip(_ARRAYS, columns, new)):
            fits = _holds(column.dtype, values)
            if fits and np.array_equal(column[at], values.astype(column.dtype), equal_nan=column.dtype.kind == "f"):
                continue
            column = column.astype(column.dtype if fits else values.dtype)  # a copy: arrays are never changed in
            column[at] = values  # place (a search reads them without the lock); a value too wide widens it
            columns[index] = column
            names.append(name)
        self._set_columns(columns)
        return frozenset(names)

    # -- answering -----------------------------------------------------------

    def _prompt_matches(self, text: str) -> np.ndarray:
        """For each distinct prompt: does it contain `text` (folded: text.fold)?"""
        return self._prompt_strings.containing(text)

    def _prompt_mask(self, text: str) -> np.ndarray:
        """For each image: does its prompt contain `text` (case-folded)?"""
        return self._images_with(self._prompt_matches(text))

    def _images_with(self, matches: np.ndarray) -> np.ndarray:
        """For each image: is its prompt one of `matches` (a mask over the distinct prompts)? Few prompts go from
        them to their images (`_ImagesOf`) instead of a gather over every image's prompt code: fewer than one image
        in SCATTER_BELOW, or fewer than half where every prompt is one image's (distinct prompts: a position each,
        1-2 ms for 136,000 of a million against 4-5 for the gather). The first time after a change the gather
        (made ahead by `prepare_orders`, else by the second search: a command's one search does not make them)."""
        n = len(self._codes)
        if n < SCATTER_FROM:
            return matches[self._codes]
        if self._images_of is None and not self._images_of_asked:
            self._images_of_asked = True
            return matches[self._codes]
        found = np.flatnonzero(matches)
        images_of = self._images_of_prompts()
        if found.size * (SCATTER_BELOW if images_of.order is not None else 2) > n:
            return matches[self._codes]
        mask = np.zeros(n, np.bool_)
        mask[images_of.positions(found)] = True
        return mask

    def _images_of_prompts(self) -> "_ImagesOf":
        """The images of each prompt code (made when first needed after a change: 15 ms on a million images with
        distinct prompts; `prepare_orders` makes it ahead)."""
        if self._images_of is None:
            self._images_of = _ImagesOf(self._codes, len(self._prompt_strings))
        return self._images_of

    def _members(self, collection_id: int) -> np.ndarray:
        """Which images are in the collection (its ids read from the membership table's primary key; the mask
        kept until the catalog changes: a membership change is a change)."""
        kept = self._member_masks.get(collection_id)
        if kept is None:
            kept = self._having_ids(self._member_ids(collection_id))
            if len(self._member_masks) >= KEEP_MEMBERS:
                self._member_masks.clear()
            self._member_masks[collection_id] = kept
        return kept.copy()

    def _member_ids(self, collection_id: int) -> np.ndarray:
        members = self.db.execute_sql(
            "SELECT image_id FROM image_collection WHERE collection_id = ?", (collection_id,)).fetchall()
        return np.fromiter((m for (m,) in members), np.int64, len(members))

    def _members_ahead(self) -> None:
        """The members of the largest collections (KEEP_MEMBERS of them) read now, in the warm-up: the first search
        or filter on a collection read them from the database's pages, cold after a start (`in:bench` at a million
        images: 15 ms of its 22-30 ms of processor, 34-93 ms of wall time)."""
        with self._lock:
            generation, known = self._generation, set(self._member_masks)
        largest = [c for (c,) in self.db.execute_sql(
            "SELECT collection_id FROM image_collection GROUP BY collection_id ORDER BY COUNT(*) DESC LIMIT ?",
            (KEEP_MEMBERS,)).fetchall() if c not in known]
        members = {c: self._member_ids(c) for c in largest}
        with self._lock:
            for collection_id, ids in members.items():
                if self._generation != generation or len(self._member_masks) >= KEEP_MEMBERS:
                    return
                self._member_masks.setdefault(collection_id, self._having_ids(ids))

    def _having_ids(self, ids: np.ndarray) -> np.ndarray:
        """Which images have one of these ids: each id's position marked (`_id_positions`), not a pass over
        every image's id."""
        table = self._id_positions()
        if table is None or not ids.size:
            return np.isin(self._ids, ids)
        at = table[ids[(ids >= 0) & (ids < len(table))]]
        mask = np.zeros(self._ids.shape, np.bool_)
        mask[at[at >= 0]] = True
        return mask

    def _id_positions(self) -> np.ndarray | None:
        """Each id's position in the catalog (-1: none), a table as long as the highest id (4 MB for a million
        images), made when first needed after a change (and by `prepare_orders`); None above 2^27 ids."""
        if self._where is None and len(self._ids):
            self._where = _id_table(self._ids)
        return self._where if self._where is not None and len(self._where) else None

    @staticmethod
    def _in_range(values: np.ndarray, bounds: tuple, kind: Callable[[float], Any] = float) -> np.ndarray:
        low, high, low_in, high_in = bounds
        mask = np.ones(values.shape, np.bool_)
        if low is not None:
            mask &= (values >= kind(low)) if low_in else (values > kind(low))
        if high is not None:
            mask &= (values <= kind(high)) if high_in else (values < kind(high))
        return mask

    def _number(self, values: np.ndarray, bounds: tuple, missing) -> np.ndarray:
        low, high, low_in, high_in = bounds
        if values.dtype == np.uint64:  # seeds: exact whole numbers; bounds beyond 0..2^64-2 clamp
            low = None if low is None else int(np.ceil(low)) if low_in else int(np.floor(low)) + 1
            high = None if high is None else int(np.floor(high)) if high_in else int(np.ceil(high)) - 1
            if (low is not None and low >= int(NO_SEED)) or (high is not None and high < 0):
                return np.zeros(values.shape, bool)
            mask = values != missing
            if low is not None and low > 0:
                mask &= values >= np.uint64(low)
            if high is not None:
                mask &= values <= np.uint64(high)
            return mask
        kind: Callable[[float], Any]
        if values.dtype == np.float32:  # cfg: compare as the stored float32
            kind = np.float32
            mask = ~np.isnan(values)
        else:
            kind = float
            mask = values != missing
        return mask & self._in_range(values, (low, high, low_in, high_in), kind)

    def _term_mask(self, term: Term) -> np.ndarray:
        f, v = term.field, term.value
        if f == "prompt":
            return self._prompt_mask(v)
        if f in ("model", "negative", "sampler", "lora"):
            name = {"model": "models", "negative": "negatives", "sampler": "samplers", "lora": "loras"}[f]
            return self._strings[name].containing(v)[getattr(self, "_" + name)]
        if f == "owner":  # resolved to owner ids by the library
            return np.isin(self._owners, np.array(v, np.int32))
        if f == "in":  # resolved to a collection id (-1: none by that name)
            return self._members(v)
        if f in ("file", "source"):  # read when asked (rare, and file names are one per image)
            pattern = "%" + v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            patterns: tuple[str, ...] = (pattern,)
            if f == "file":  # the name it was read under, or any of its files' (one picture in many places)
                sql = ("SELECT id, '' FROM image WHERE source_name LIKE ? ESCAPE '\\' UNION ALL SELECT image_id, "
                       "relpath FROM source_file WHERE relpath LIKE ? ESCAPE '\\' AND image_id IS NOT NULL")
                patterns = (pattern, pattern)
                rows = self.db.execute_sql(sql, patterns).fetchall()
                found = [(m,) for m, relpath in rows if not relpath or v in relpath.rsplit("/", 1)[-1].casefold()]
                return self._having_ids(np.fromiter((m for (m,) in found), np.int64, len(found)))
            else:  # linked from a folder whose path holds it, or read from one (a copying source's images)
                sql = ("SELECT id FROM image WHERE location LIKE ? ESCAPE '\\' UNION SELECT f.image_id FROM "
                       "source_file f JOIN source s ON s.id = f.source_id WHERE s.path LIKE ? ESCAPE '\\' "
                       "AND f.image_id IS NOT NULL")
                patterns = (pattern, pattern)
            found = self.db.execute_sql(sql, patterns).fetchall()
            return self._having_ids(np.fromiter((m for (m,) in found), np.int64, len(found)))
        if f == "seed":
            return self._number(self._seeds, v, NO_SEED)
        if f == "steps":
            return self._number(self._steps, v, NO_NUMBER)
        if f == "cfg":
            return self._number(self._cfg, v, None)
        if f in ("width", "height"):
            return self._number(getattr(self, "_" + f), v, NO_NUMBER)
        if f == "id":  # a range, or a list of ids and ranges (id:9,15,20-30): the ids at once, each range after
            ranges = id_bounds(v)
            ids = [low for low, high, low_in, high_in in ranges if low == high and low_in and high_in and low < 2**62]
            mask = np.isin(self._ids, np.array(ids, np.int64))
            for bounds in ranges:
                if not (bounds[0] == bounds[1] and bounds[0] in ids):
                    mask |= self._number(self._ids, bounds, 0)
            return mask
        if f == "size":
            mask = np.ones(self._ids.shape, np.bool_)
            for values, bounds in zip((self._width, self._height), v):
                if bounds is not None:
                    mask &= self._number(values, bounds, NO_NUMBER)
            return mask
        if f in ("date", "imported"):  # [start, end): either end may be open
            values = self._dates if f == "date" else self._imported
            mask = np.ones(self._ids.shape, np.bool_)
            for bound, above in zip(v, (True, False)):
                if bound is not None:
                    mask &= (values >= _microseconds(bound)) if above else (values < _microseconds(bound))
            return mask
        if f == "is":
            if v == "fav":
                return self._favorite.copy()
            if v == "derived":
                return self._derived > 0
            return self._derived == DERIVED_KINDS[v]
        if f == "from":
            return self._parents == v
        return np.ones(self._ids.shape, bool)  # a field the catalog does not know holds for every image

    def _parsed_mask(self, parsed: Parsed) -> np.ndarray | None:
        """The images the query's groups let through (None: no condition). Its words are tested on the distinct
        prompts and combined there, then go to the images once (`_images_with`: a pass over every image each)."""
        result, words = None, None
        for group in parsed.groups:
            mask, prompts = None, None
            for term in group:
                if term.field == "prompt":  # the words combined over the distinct prompts, then to images once
                    matches = self._prompt_matches(term.value)
                    matches = ~matches if term.negate else matches
                    prompts = matches if prompts is None else prompts & matches
                    continue
                part = self._term_mask(term)
                if term.negate:
                    part = ~part
                mask = part if mask is None else mask & part
            if prompts is not None and mask is None:  # words alone ("ring | necklace"): over the prompts too
                words = prompts if words is None else words | prompts
                continue
            if prompts is not None:
                mask = mask & self._images_with(prompts)
            if mask is not None:
                result = mask if result is None else result | mask
        if words is not None:
            part = self._images_with(words)
            result = part if result is None else result | part
        return result

    # Orders kept as the positions of every image (4 bytes an image each, made once per change of the catalog):
    # only those that cannot be worked out from a query's matches alone.
    _KEPT_ORDERS = ("imported", "prompt", "largest", "random")

    def has_order(self, sort: str) -> bool:
        """Whether this kept order is made (a command's catalog read from its file has none: they are not saved)."""
        return sort in self._orders

    def _order(self, sort: str) -> np.ndarray:
        """The positions of every image in this order (cached until the catalog changes); "random" is one
        shuffle of the catalog, which a seed reads in an order of its own (`_positions`, `scramble`)."""
        order = self._orders.get(sort)
        if order is None:
            order = self._orders[sort] = _make_order(sort, self._order_inputs(sort))
        return order

    def _order_inputs(self, sort: str) -> tuple:
        """What `_make_order` reads (call with the lock): columns, which are replaced and never changed."""
        if sort == "imported":
            return (self._imported,)
        if sort == "prompt":
            return self._codes, self._prompt_strings.rank_inputs()
        if sort == "largest":
            return self._width, self._height
        if sort == "random":
            return (self._ids,)
        raise ValueError(sort)

    def _positions(self, mask: np.ndarray, sort: str,
                   seed: int) -> np.ndarray | slice | _Walk | _FavoritesFirst | _Matches:
        """The positions the mask lets through, in the order asked; a slice when that is every image in the
        catalog's own order (newest or oldest first with no condition: no array of a million positions); read a
        page at a time (`Ordered`) for every image in a kept order (a walk of it) and for the matches of a condition
        holding for more than one image in 8, in the catalog's own order or a kept one (`_Matches`)."""
        every = bool(mask.all())  # the whole library (one account's): the order as it is, not filtered
        if sort == "oldest":
            return slice(None, None, -1) if every else _Matches.of(mask, reverse=True)
        if sort == "favorites":  # favorites first, each part newest first
            if every:
                return _FavoritesFirst(self._favorite)
            positions = np.flatnonzero(mask)
            favorite = self._favorite[positions]
            return np.concatenate([positions[favorite], positions[~favorite]])
        if sort not in self._KEPT_ORDERS:
            return slice(None) if every else _Matches.of(mask)
        n = len(self._ids)
        count = None if every else int(np.count_nonzero(mask))
        if sort == "random" and seed and n > SHUFFLED_UP_TO and f"random {seed}" not in self._orders:
            walk = _Walk(self._order(sort), *_affine(n, seed))
            if count is None:  # the seed's walk through the shuffle, never made whole
                return walk
            if count * 8 > n:  # many: the walk read a part at a time, the condition tested on those places
                return _Matches(mask, count=count, walk=walk)
            if count * SORTED_BELOW < n:  # few: the shuffle's places they hold, in the walk's order
                shuffle = self._order(sort)
                held = np.flatnonzero(mask[shuffle])
                a, c = _affine(n, seed)
                return shuffle[held[np.argsort((held - c) % n * pow(a, -1, n) % n)]]
        order = self._seeded(seed) if sort == "random" and seed else self._order(sort)
        return _Walk(order) if count is None else _Matches.of(mask, walk=order, count=count)

    def _seeded(self, seed: int) -> np.ndarray:
        """The catalog's one shuffle read in the seed's own order (`scramble`), kept for the last seed asked until
        the catalog changes: a condition only leaves images out of it, so a search keeps the others' order."""
        key = f"random {seed}"
        order = self._orders.get(key)
        if order is None:
            for other in [k for k in self._orders if k.startswith("random ")]:
                del self._orders[other]
            shuffle = self._order("random")
            order = self._orders[key] = shuffle[scramble(len(shuffle), seed)]
        return order

    def prepare_orders(self) -> None:
        """Work out every order now (a background thread), so changing the order is quick; and map in the pages of
        a saved catalog's columns and letter sets that any query reads, so the first one is quick too."""
        self.sync()
        with self._lock:
            mapped = self._columns() + [self._prompt_strings._letters] if self._mapping is not None else []
        _Mapping.touch(*mapped)  # (arrays are replaced, never changed: no lock needed to read them)
        for sort in self._KEPT_ORDERS:  # each made without the lock (the prompt order takes seconds on a
            with self._lock:  # million images): a search meanwhile answers; kept if nothing changed since
                if sort in self._orders:
                    continue
                generation, inputs = self._generation, self._order_inputs(sort)
            order = _make_order(sort, inputs)
            with self._lock:
                if self._generation == generation:
                    self._orders.setdefault(sort, order)
        with self._lock:  # the prompt order read the start of every prompt in the file; a search reads them no
            if self._mapping is not None:  # more where the trigram index covers them: their pages given back (51 MB
                self._mapping.release(self._prompt_strings._blob, self._prompt_strings._starts)  # for a million)
        with self._lock:  # each image's stack; the words that are not numbers
            generation, batches = self._generation, self._batches
            self._prompt_strings.lettered_words()
        stacks = _Stacks(batches) if self._stacks is None else None
        with self._lock:
            if stacks is not None and self._generation == generation and self._stacks is None:
                self._stacks = stacks
        self._members_ahead()
        with self._lock:  # and each prompt's images, for word searches, and each id's position
            if self._images_of is not None or len(self._codes) < SCATTER_FROM:
                return
            generation, codes, values, ids = self._generation, self._codes, len(self._prompt_strings), self._ids
        images_of, where = _ImagesOf(codes, values), _id_table(ids)
        with self._lock:
            if self._generation == generation and self._images_of is None:
                self._images_of, self._where = images_of, where

    def select(self, query: Query) -> np.ndarray | Ordered:
        """The ids the query lets through, in its order (newest first by default; a read-only array, or for every
        image in a kept order an `Ordered`, read a page at a time: sliced, `len`, `tolist`, `place_of`)."""
        self.sync()
        with self._lock:
            kept = self._results.get(query)
            if kept is not None:
                return kept
            if len(query.owners) == 1:
                mask = self._owners == query.owners[0]
            else:
                mask = np.isin(self._owners, np.array(query.owners, np.int32))
            if query.parsed is not None:
                found = self._parsed_mask(query.parsed)
                if found is not None:
                    mask &= found
            else:
                text = fold(query.search.strip())
                if text:
                    mask &= self._prompt_mask(text)
            if query.favorite is not None:
                mask &= self._favorite if query.favorite else ~self._favorite
            if query.collection is not None:
                mask &= self._members(query.collection)
            if query.batch is not None:
                mask &= self._batches == query.batch
            positions = self._positions(mask, query.sort, query.seed)
            result: np.ndarray | Ordered
            if isinstance(positions, _LAZY):  # its ids read a page at a time
                result = Ordered(self._ids, positions)
            else:
                result = self._ids[positions]  # a slice: a view of the ids
            if not query.stacked:
                return self._keep(query, result)
            self._counts[_counted(replace(query, stacked=False))] = len(result)  # asked next: how many images
            stacks = self._stacks_now()
            if not stacks.count:  # nothing in the library stacks: the result as it is, still read a page at a time
                return self._keep(query, result)
            stacked = stacks.first_of_each(positions.whole() if isinstance(positions, _LAZY) else positions)
            if stacked is None:  # nothing in it stacks
                return self._keep(query, result)
            result = self._keep(query, self._ids[stacked[0]])
            stacked[1].flags.writeable = False
            self._sizes[query] = stacked[1]
            return result

    def _keep(self, query: Query, result: np.ndarray | Ordered) -> np.ndarray | Ordered:
        """The result kept for the same query again (read-only; `result` may be a view of the ids, which stay as they
        are); the kept ones dropped when there are many or they are large."""
        if isinstance(result, np.ndarray):
            result.flags.writeable = False
        if query not in self._results and (len(self._results) > 16 or result.nbytes + sum(
                r.nbytes for r in self._results.values()) > KEEP_RESULTS_BYTES):
            self._results.clear()
            self._sizes.clear()
        self._results[query] = result
        if len(self._counts) > 256:
            self._counts.clear()
        self._counts[_counted(query)] = len(result)
        return result

    def count(self, query: Query) -> int:
        """How many images (or cards, stacked) the query lets through: `len(select(query))`, kept apart from the
        results (which a large one pushes out), so that a count asked again, in any order, reads nothing."""
        self.sync()
        with self._lock:
            counted = self._counts.get(_counted(query))
            if counted is not None:
                return counted
        return len(self.select(query))

    def place_of(self, result: np.ndarray | Ordered, image_id: int) -> int | None:
        """Where an image comes in a result `select` gave (None: not in it)."""
        if isinstance(result, Ordered):
            with self._lock:
                where = self._id_positions()
            return result.place(image_id, where)
        at = np.flatnonzero(result == image_id)
        return int(at[0]) if at.size else None

    def _stacks_now(self) -> "_Stacks":
        """Each image's stack (made when first needed after a change, and by `prepare_orders`)."""
        if self._stacks is None:
            self._stacks = _Stacks(self._batches)
        return self._stacks

    def stack_sizes(self, query: Query) -> np.ndarray | None:
        """For a stacked query: how many images each of `select(query)`'s stands for (1: not a stack)."""
        self.select(query)
        with self._lock:
            return self._sizes.get(query)


def _counted(query: Query) -> Query:
    """The key of a query's count: the same for every order."""
    return replace(query, sort=DEFAULT_SORT, seed=0) if query.sort != DEFAULT_SORT or query.seed else query


STACKS_ARRAY = "stacks.codes"  # in the saved file: each image's stack (`_Stacks.codes`), with the header's "stacks"


class _Stacks:
    """Which images can stack: each image's stack as a small number (0, 1, 2, ...), or -1 for an image that stands
    alone (batch 0, no batch, or a batch of one image in the whole catalog). Made once per change of the arrays (a
    sort of the batch keys, 0.1 s on a million images), so that a stacked query is a few passes over its matches
    instead of a sort of their 64-bit keys each time (0.1-0.9 s on a million)."""

    def __init__(self, batches: np.ndarray | None) -> None:
        self.codes = np.zeros(0, np.int32)  # (none kept while nothing stacks: 4 MB at a million images)
        self.count = 0  # stacks of 2 images or more
        if batches is None:  # (`loaded`)
            return
        batched = np.flatnonzero(batches != 0)
        if batched.size < 2:
            return
        order = np.argsort(batches[batched])
        keys = batches[batched][order]
        starts = np.empty(len(keys), np.bool_)
        starts[0], starts[1:] = True, keys[1:] != keys[:-1]
        group = np.cumsum(starts) - 1  # each sorted image's batch, 0, 1, 2, ...
        sizes = np.bincount(group)
        stacked = sizes[group] > 1
        self.count = int((sizes > 1).sum())
        if not self.count:
            return
        renumbered = np.cumsum(sizes > 1) - 1  # the batches of 2 or more, numbered again from 0
        self.codes = np.full(len(batches), -1, np.int32)
        self.codes[batched[order[stacked]]] = renumbered[group[stacked]]

    @classmethod
    def loaded(cls, codes: np.ndarray | None, count: object, images: int) -> "_Stacks | None":
        """The stacks saved with the catalog's arrays (saved file's "stacks.codes" and header "stacks"), or None
        (a file saved before they were made, or not matching its arrays: made again when first needed)."""
        if codes is None or not isinstance(count, int) or count < 0 or codes.dtype != np.int32:
            return None
        if (len(codes) != images and len(codes) != 0) or (count > 0) != (len(codes) > 0):
            return None
        stacks = cls(None)
        stacks.codes, stacks.count = codes, count
        return stacks

    def first_of_each(self, positions: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray] | None:
        """The positions with only the first (in their order) of each stack left, and how many of the positions
        each stands for; None when none of them stack (the positions as they are, each standing for itself)."""
        if not self.count:
            return None
        codes = self.codes[positions]
        stackable = np.flatnonzero(codes >= 0)
        if not stackable.size:
            return None
        if isinstance(positions, slice):
            positions = np.arange(len(self.codes))[positions]
        stacks = codes[stackable]
        places = np.arange(len(stacks), dtype=np.int64)
        first = np.full(self.count, len(stacks), np.int64)
        np.minimum.at(first, stacks, places)  # each stack's first place among the positions
        is_first = first[stacks] == places
        keep = np.ones(len(positions), np.bool_)
        keep[stackable] = is_first
        sizes = np.ones(len(positions), np.int64)
        sizes[stackable[is_first]] = np.bincount(stacks, minlength=self.count)[stacks[is_first]]
        return positions[keep], sizes[keep]


KEEP_MEMBERS = 4  # collections whose members are kept as a mask of every image (1 MB each at a million images)
SHUFFLED_UP_TO = 100_000  # places a seed shuffles afresh (about 20 ms); beyond, an affine walk (a few ms)
SORTED_BELOW = 4  # beyond SHUFFLED_UP_TO, a condition letting fewer than one image in this many through sorts its
# matches by their place in the seed's walk (1-3 ms for 7,000, 10-15 for `ring`'s 136,000 of a million) instead of
# making the seed's whole order (30-60 ms of processor at a million; `ring sort:random` 43-66 -> 30-44 ms in all)


def scramble(n: int, seed: int) -> np.ndarray:
    """A seed's own order of n places (new-user test 4 item 7: a seed only moved the start of one shuffle), read
    through the catalog's one shuffle: up to SHUFFLED_UP_TO places a shuffle of its own (numpy's generator from
    the seed); beyond (a permutation of a million places takes about 0.25 s), place i is (a*i + c) mod n, with a
    (coprime to n, so every place once; one of about n/2 values) and c from the seed, so that neighbours in the
    seed's order are `a` places apart in the shuffle: another seed, another order."""
    if n <= SHUFFLED_UP_TO:
        return np.random.default_rng(seed & 0xFFFFFFFFFFFFFFFF).permutation(n)
    a, c = _affine(n, seed)
    return (np.arange(n, dtype=np.int64) * a + c) % n


def _affine(n: int, seed: int) -> tuple[int, int]:
    """The step a and start c of the seed's walk of n places (more than SHUFFLED_UP_TO): place i is (a*i + c) mod n."""
    mixed = int(random_keys(np.array([seed], np.int64), 1)[0])
    a, c = n // 4 + mixed % max(n // 2, 1), (mixed >> 32) % n  # a step far from 1 (and from n - 1)
    while math.gcd(a, n) != 1:
        a += 1
    return a % n, c


def random_keys(ids: np.ndarray, seed: int) -> np.ndarray:
    """A stable pseudo-random key per id (splitmix64 of id + seed): the same order for the same seed."""
    with np.errstate(over="ignore"):
        z = ids.astype(np.uint64) + np.uint64((seed * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))
