"""Opening a library's database, the process-wide registry of open databases, and the store's boundary.

One database object per location in a process: several Library objects on one library (one per
account) share it, so they never wait on each other's locks. The models (models.py) use the
database bound on the calling thread: each public method of the Library façade is marked
`@boundary`, which binds its library's database for the call and turns database and file errors
into StoreErrors.
"""
from __future__ import annotations

import functools
import inspect
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence, TypeVar

from peewee import (CharField, Database, Field, ForeignKeyField, IntegerField, InterfaceError, OperationalError,
                    PostgresqlDatabase, SqliteDatabase, TextField, chunked)
from peewee import PeeweeException as PeeweeError
from playhouse.db_url import parse as parse_url
from playhouse.db_url import schemes as url_schemes

from . import settings
from .catalog import Catalog
from .errors import StoreError, translate
from .migrations import is_postgres
from .models import database
from .own_writes import CountingSqliteDatabase

if TYPE_CHECKING:
    from .accounts import Accounts

DB_NAME = "library.db"
CATALOG_FILE = "catalog.bin"  # the search catalog as last saved (catalog.py); made again when missing
BUSY_TIMEOUT_MS = 30_000

_DATABASES: dict[str, Database] = {}
_CATALOGS: dict[int, Catalog] = {}  # by id() of the database: one catalog per SQLite database
_OPEN_LOCK = threading.Lock()


def open_database(root: Path, database_url: str | None = None, read_only: bool = False) -> Database:
    url = database_url or settings.current().database_url
    key = url or str((root / DB_NAME).resolve()) + (" (read only)" if read_only else "")
    with _OPEN_LOCK:
        if key not in _DATABASES:
            _DATABASES[key] = _new_database(root, url, read_only)
        return _DATABASES[key]



def catalog_of(db: Database, saved: Path | None = None, may_save: bool = False) -> Catalog | None:
    """The in-memory catalog of a SQLite database (PostgreSQL searches with its trigram index), kept in
    the file `saved` (written when `may_save`) for the next process to start from."""
    if is_postgres(db):
        return None
    with _OPEN_LOCK:
        catalog = _CATALOGS.get(id(db))
        if catalog is None or catalog.db is not db:
            catalog = _CATALOGS[id(db)] = Catalog(db, saved, may_save)
        return catalog


def catalog_moved(old: Database, new: Database, may_save: bool) -> Catalog | None:
    """The catalog of `old` made the catalog of `new`, the same library's database opened again (for writing: a
    full disk, Library.open_for_erasing); None when `old` has none (or `new` has one already)."""
    with _OPEN_LOCK:
        catalog, theirs = _CATALOGS.get(id(old)), _CATALOGS.get(id(new))
        if catalog is None or catalog.db is not old or (theirs is not None and theirs.db is new):
            return None
        del _CATALOGS[id(old)]
        catalog.reopened(new, may_save)
        _CATALOGS[id(new)] = catalog
        return catalog


_GONE = ("server closed the connection", "terminating connection", "connection already closed",
         "connection has been closed", "could not receive data from server", "could not send data to server")


def _gone(exc: BaseException) -> bool:
    """Whether an error says the connection to the server is lost (a restart, a dropped link, an admin's kill)."""
    return isinstance(exc, (OperationalError, InterfaceError)) and any(w in str(exc).lower() for w in _GONE)


class ReconnectingPostgres(PostgresqlDatabase):
    """A PostgreSQL database whose connections come back after the server restarts or drops them.

    Each thread keeps its own connection, and one that died stays dead: before, every later call on that
    thread said "connection already closed" until the app was restarted (NEWUSER6 #2), while threads that
    had not used theirs yet worked. Now a connection the driver knows is gone is opened again before the next
    statement, and a BEGIN or a read that fails because the connection was gone runs once more on a new one
    (it never reached a server that can answer it). A write outside a transaction, and anything inside one,
    is not run again (it may have been done, or what the transaction did is gone with it): that call fails
    with one sentence, and the next one connects again. peewee's ReconnectMixin retries every statement
    outside a transaction, writes too, and does not look at the driver's own closed flag: not used for that.

    A connection closed at the end of a unit of work (`Library.connection()`) is kept for the next one, on any
    thread (`_connect`, `_close`: at most IDLE_KEPT of them), where it was closed. playhouse.pool's pool keeps
    every connection a thread takes until that thread closes it, so a thread that ends without closing its own
    would hold a server process until the app exits: not used for that.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idle: list[tuple[float, Any]] = []  # (when it was given back, connection), the latest last
        self._idle_lock = threading.Lock()
        self._serial_reads = threading.local()  # `serial`: per thread, as each thread has its connection

    def _connect(self) -> Any:
        """A connection a unit of work gave back (`_close`) if one is kept and still answers, else a new one. The
        app's workers each read in a `Library.connection()` block on a thread of their own: every search connected
        anew, and a new server process plans its first statements on the image table without its caches (its
        ~25 indexes' descriptions): 18 ms more for each search at load 4 (bench/README.md)."""
        now = time.monotonic()
        while True:
            with self._idle_lock:
                if not self._idle:
                    break
                given_back, conn = self._idle.pop()  # the latest: its server process's caches the warmest
            if now - given_back < IDLE_KEPT_S and _answers(conn):
                return conn
            _close_quietly(conn)
        return super()._connect()

    def _close(self, conn: Any) -> None:
        """Kept for the next unit of work (at most IDLE_KEPT, each for IDLE_KEPT_S) when it is sound and outside a
        transaction, else closed. A thread that ends without closing its connection drops it as before (nothing
        else holds it)."""
        import psycopg2.extensions

        if not getattr(conn, "closed", True) and \
                conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            with self._idle_lock:
                if len(self._idle) < IDLE_KEPT:
                    self._idle.append((time.monotonic(), conn))
                    return
        super()._close(conn)

    def close_idle(self) -> None:
        """Close the connections kept for later (the process is done with the library)."""
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for _, conn in idle:
            _close_quietly(conn)

    def _fresh(self) -> None:
        if not self.in_transaction() and not self.is_closed() and getattr(self.connection(), "closed", False):
            self.close()  # the next statement connects again

    @contextmanager
    def serial(self) -> Iterator[None]:
        """A block whose reads on this thread are planned without parallel workers (search.py `_serial`): each
        SELECT goes with `SET LOCAL max_parallel_workers_per_gather = 0` before it in the same message, which holds
        for that statement alone (the message's own transaction) or, inside a transaction, to its end. One round
        trip for a read, where a transaction around the block took three more (BEGIN, SET LOCAL, COMMIT): on a
        busy server each is a wait for a processor, 5-10 ms at load 8 (bench/README.md)."""
        before = getattr(self._serial_reads, "on", False)
        self._serial_reads.on = True
        try:
            yield
        finally:
            self._serial_reads.on = before

    def execute_sql(self, sql, params=None, *args, **kwargs):
        self._fresh()
        reads = str(sql).lstrip()[:6].upper() == "SELECT"
        sent = SERIAL_READ + sql if reads and getattr(self._serial_reads, "on", False) else sql
        try:
            return super().execute_sql(sent, params, *args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            if not reads or self.in_transaction() or not _gone(exc):
                raise
            self.close()
            return super().execute_sql(sent, params, *args, **kwargs)

    def begin(self, *args, **kwargs):
        self._fresh()
        try:
            return super().begin(*args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            if not _gone(exc):
                raise
            self.close()
            return super().begin(*args, **kwargs)


SERIAL_READ = "SET LOCAL max_parallel_workers_per_gather = 0; "  # (ReconnectingPostgres.serial)

# PostgreSQL: connections a process keeps after a unit of work for the next one (ReconnectingPostgres._close), and
# for how long: each is a server process (and one of the server's max_connections, 100 by default) held while idle
IDLE_KEPT = 2
IDLE_KEPT_S = 300.0


def _answers(conn: Any) -> bool:
    """Whether a kept connection is sound: outside a transaction and answering (one round trip; a server restart or
    an administrator's kill leaves it dead with nothing said)."""
    import psycopg2.extensions

    try:
        if conn.closed or conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            return False
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - any failure: not used again
        return False


def _close_quietly(conn: Any) -> None:
    try:
        conn.close()
    except Exception:  # noqa: BLE001 - a dead connection may fail to close: it is dropped either way
        pass


def _connect_postgres(url: str) -> Database:
    options = parse_url(url)
    return ReconnectingPostgres(options.pop("database"), **options)


def _new_database(root: Path, url: str, read_only: bool = False) -> Database:
    if url:
        if url_schemes.get(url.split(":", 1)[0]) is not PostgresqlDatabase:
            raise StoreError(f"{url.split(':', 1)[0]!r} databases are not supported: give a postgresql:// URL.")
        return _connect_postgres(url)
    if read_only:
        return _read_only_sqlite(root / DB_NAME)
    return CountingSqliteDatabase(  # counts this process's commits, which its catalog takes in at once
        str(root / DB_NAME),
        pragmas={
            "journal_mode": "wal",
            "foreign_keys": 1,
            "cache_size": -8_000,  # 8 MB per connection (each worker thread has one); the catalog does the scanning
            "synchronous": "normal",
            "busy_timeout": BUSY_TIMEOUT_MS,
        },
        timeout=BUSY_TIMEOUT_MS / 1000,
        lock_type="IMMEDIATE",  # writers queue for the lock instead of failing on upgrade
    )


def _read_only_sqlite(path: Path) -> Database:
    """A library the user may read but not write (another user's, a read-only mount).

    `mode=ro` reads a WAL database while its owner writes to it, but needs the
    owner's -shm file; when there is none (nobody has it open) and the folder
    cannot take one, the file is opened as immutable, which then holds.
    """
    from urllib.parse import quote

    uri = "file:" + quote(str(path.resolve()))
    options = {"cache_size": -8_000, "busy_timeout": BUSY_TIMEOUT_MS, "query_only": 1}
    db = SqliteDatabase(uri + "?mode=ro", uri=True, pragmas=options, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        db.connect()
        db.execute_sql("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except Exception:  # noqa: BLE001 - no -shm to share: fall back to an immutable read
        db.close()
    return SqliteDatabase(uri + "?immutable=1", uri=True, pragmas=options, timeout=BUSY_TIMEOUT_MS / 1000)


BULK_CACHE_KB = 64 * 1024  # SQLite page cache of a connection writing in bulk (a large scan), instead of 8 MB


@contextmanager
def bulk_writing(db: Database) -> Iterator[None]:
    """A larger page cache for this thread's SQLite connection while it writes many rows: the indexes of a
    large library (the content hashes go in at random places) outgrow 8 MB, and every transaction then read
    their pages again and wrote them out twice. Back to its size after."""
    if not isinstance(db, SqliteDatabase):
        yield
        return
    before = db.execute_sql("PRAGMA cache_size").fetchone()[0]
    db.execute_sql(f"PRAGMA cache_size = {-BULK_CACHE_KB}")
    try:
        yield
    finally:
        db.execute_sql(f"PRAGMA cache_size = {int(before)}")


def _stored_as(field) -> type | None:
    """The Python type whose values `field.db_value` returns unchanged (None: none is known to)."""
    if isinstance(field, ForeignKeyField):
        return _stored_as(field.rel_field)
    if isinstance(field, IntegerField) and type(field).db_value is Field.db_value:  # AutoField, BigIntegerField too
        return int
    if isinstance(field, (CharField, TextField)) and type(field).db_value is Field.db_value:
        return str
    return None


def bulk_insert(db: Database, model, rows: list[dict[str, Any]], conflict: Sequence[str] = (),
                keep_existing: bool = False, returning: str = "") -> list:
    """Insert many rows with few statements (SQLite: up to 500 rows in one; PostgreSQL: one prepared statement,
    executemany): peewee builds SQL per row, which costs more than the insert itself on a large import or scan.

    `conflict`: the unique columns; a row that clashes there updates the other columns instead, or with
    `keep_existing` is left out (the row there stays as it is).
    `returning`: a column whose values, for the rows this call wrote, are returned (RETURNING: with
    `keep_existing`, the rows not left out; PostgreSQL then sends up to 500 rows a statement too); else [].
    Values go through each field's own conversion, so they are stored as peewee stores them.
    """
    if not rows:
        return []
    fields = [model._meta.fields[name] for name in rows[0]]
    defaults = [f for f in model._meta.sorted_fields  # peewee fills these in itself, not the database
                if f.name not in rows[0] and f.default is not None and not f.primary_key]
    fields += defaults

    def quote(name: str) -> str:  # SQLite and PostgreSQL both quote names so
        return '"' + name.replace('"', '""') + '"'

    columns = ", ".join(quote(f.column_name) for f in fields)
    one = f"({', '.join([db.param] * len(fields))})"

    def statement(count: int) -> str:
        sql = f"INSERT INTO {quote(model._meta.table_name)} ({columns}) VALUES {', '.join([one] * count)}"
        if conflict:
            targets = [model._meta.fields[name].column_name for name in conflict]
            updates = ", ".join(f"{quote(f.column_name)} = EXCLUDED.{quote(f.column_name)}"
                                for f in fields if f.column_name not in targets)
            sql += f" ON CONFLICT ({', '.join(quote(t) for t in targets)}) " + (
                "DO NOTHING" if keep_existing else f"DO UPDATE SET {updates}")
        if returning:
            sql += f" RETURNING {quote(model._meta.fields[returning].column_name)}"
        return sql

    fixed = [f.db_value(f.default() if callable(f.default) else f.default) for f in defaults]
    given = [(field.name, _stored_as(field), field.db_value) for field in fields[:len(fields) - len(defaults)]]
    # a value already of the type stored (most) goes as it is: the field's conversion per value was a large
    # part of a scan's recording
    values = [[value if value is None or type(value) is kind else convert(value)
               for value, (_, kind, convert) in zip([row[name] for name, _, _ in given], given)] + fixed
              for row in rows]
    cursor = db.cursor()
    written: list = []
    if isinstance(db, SqliteDatabase) or returning:  # (executemany returns no rows)
        # many rows per statement: SQLite keeps a statement journal (the pages a statement changed, to undo
        # that statement alone) for each statement in a transaction that has triggers or foreign keys; per row
        # that journal was most of a large scan's time (writes to temporary files)
        per = max(1, min(500, db.connection().getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(fields))) \
            if isinstance(db, SqliteDatabase) else 500
        for part in chunked(values, per):
            cursor.execute(statement(len(part)), [value for row in part for value in row])
            if returning:
                written += [value for (value,) in cursor.fetchall()]
        return written
    sql = statement(1)
    for part in chunked(values, 500):
        cursor.executemany(sql, part)
    return written


# -- the store's boundary ------------------------------------------------------
#
# Every public method of the Library façade is marked `@boundary`: it binds the models to this
# library's database on the calling thread for the call, and turns database and file errors
# (peewee, sqlite3, psycopg2, OSError) into StoreErrors with one sentence for the user
# (LibraryLocked for a lock held too long). Callers above the store (the TUI, the command line)
# therefore only ever handle StoreError.

try:  # PostgreSQL's driver raises its own errors where peewee does not wrap them
    from psycopg2 import Error as _PsycopgError
except ImportError:  # pragma: no cover - psycopg2 is a dependency
    _PsycopgError = PeeweeError
DRIVER_ERRORS = (PeeweeError, sqlite3.Error, _PsycopgError, OSError)

Method = TypeVar("Method", bound=Callable[..., Any])


@contextmanager
def store_call(db: Database) -> Iterator[None]:
    """Run a block as a store call: the models use `db` on this thread, driver errors become StoreErrors."""
    with database.bound(db):
        try:
            yield
        except StoreError:
            raise
        except DRIVER_ERRORS as exc:
            raise translate(exc) from exc


def boundary(method: Method) -> Method:
    """A public method of the Library façade: it runs as a `store_call` on its library's database.

    A generator (iter_images) is bound again for each step, as its caller may use another
    library between two steps."""
    if inspect.isgeneratorfunction(method):
        @functools.wraps(method)
        def generator(self: Accounts, *args: Any, **kwargs: Any) -> Iterator[Any]:
            steps = method(self, *args, **kwargs)
            try:
                while True:
                    with store_call(self.db):
                        try:
                            item = next(steps)
                        except StopIteration:
                            return
                    yield item
            finally:
                with store_call(self.db):
                    steps.close()

        return generator  # type: ignore[return-value]

    @functools.wraps(method)
    def wrapper(self: Accounts, *args: Any, **kwargs: Any) -> Any:
        with store_call(self.db):
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
