"""The library: one folder of files plus a database, seen by one acting account.

Everything the TUI and the command line do to images and collections goes
through a `Library`. Every read and write is scoped to the acting account.
"""
from __future__ import annotations

import errno
import functools
import inspect
import json
import os
import shutil
import sqlite3
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from peewee import JOIN, SQL, Case, Database, IntegrityError, NodeList, SqliteDatabase, Value, chunked, fn
from peewee import PeeweeException as PeeweeError
from playhouse.db_url import connect as connect_url

from . import settings
from .catalog import Catalog, Query
from .query import DEFAULT_SORT, SORTS, Parsed, parse
from .query_sql import order_by, where_clause
from .errors import Duplicate, NotFound, NotYours, StoreError, translate
from .file_lock import FilesLock
from .files import FileStore
from .identity import (
    MARKER,
    POSTGRESQL,
    SQLITE,
    Identity,
    claim_library_id,
    count_image_files,
    library_id,
    new_identity,
    read_marker,
    server_of,
    write_marker,
)
from .migrations import LATEST, is_postgres, migrate_to_latest, schema_version
from .stacks import batch_key
from .own_writes import CountingSqliteDatabase
from .models import PLANS, Account, Collection, Image, ImageCollection, database
from .records import (
    FAVORITES_ONLY,
    NON_FAVORITES,
    SCOPE_PUBLIC,
    AccountRecord,
    CollectionRecord,
    Filters,
    ImageRecord,
    to_local,
    utc_now,
)

DB_NAME = "library.db"
CATALOG_FILE = "catalog.bin"  # the search catalog as last saved (catalog.py); made again when missing
MAX_NAME = 100
FEW_MATCHES = 5000  # PostgreSQL: below this many matches a search's page is sorted, not walked in date order
BUSY_TIMEOUT_MS = 30_000
DISK_RESERVE = 512 * 1024  # bytes left free when storing a file: room for the database to commit
# What a stacked result groups by (SQL): the batch key, or the image alone when it is in no batch.
_STACK_KEY = Case(None, [(Image.batch.is_null() | (Image.batch == 0), 0 - Image.id)], Image.batch)


def default_account_name() -> str:
    """MYIMAGES_ACCOUNT, else `account` in the settings file, else the login name."""
    return settings.current().account


# One database object per location in a process: several Library objects on one
# library (one per account) share it, so they never wait on each other's locks.
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


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _may_write(root: Path, database_url: str | None) -> bool:
    """Whether this user may change the library: its folder and (SQLite) its database file."""
    if not os.access(root, os.W_OK):
        return False
    db_file = root / DB_NAME
    return bool(database_url) or not db_file.exists() or os.access(db_file, os.W_OK)


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


def _new_database(root: Path, url: str, read_only: bool = False) -> Database:
    if url:
        return connect_url(url)
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


def bulk_insert(db: Database, model, rows: list[dict[str, Any]], conflict: Sequence[str] = ()) -> None:
    """Insert many rows with one prepared statement (executemany): peewee builds SQL per row,
    which costs more than the insert itself on a large import or scan.

    `conflict`: the unique columns; a row that clashes there updates the other columns instead.
    Values go through each field's own conversion, so they are stored as peewee stores them.
    """
    if not rows:
        return
    fields = [model._meta.fields[name] for name in rows[0]]
    defaults = [f for f in model._meta.sorted_fields  # peewee fills these in itself, not the database
                if f.name not in rows[0] and f.default is not None and not f.primary_key]
    fields += defaults

    def quote(name: str) -> str:  # SQLite and PostgreSQL both quote names so
        return '"' + name.replace('"', '""') + '"'

    columns = ", ".join(quote(f.column_name) for f in fields)
    sql = (f"INSERT INTO {quote(model._meta.table_name)} ({columns}) "
           f"VALUES ({', '.join([db.param] * len(fields))})")
    if conflict:
        targets = [model._meta.fields[name].column_name for name in conflict]
        updates = ", ".join(f"{quote(f.column_name)} = EXCLUDED.{quote(f.column_name)}"
                            for f in fields if f.column_name not in targets)
        sql += f" ON CONFLICT ({', '.join(quote(t) for t in targets)}) DO UPDATE SET {updates}"
    fixed = [f.default() if callable(f.default) else f.default for f in defaults]
    given = fields[:len(fields) - len(defaults)]
    values = [[field.db_value(row[field.name]) for field in given] + [f.db_value(v) for f, v in zip(defaults, fixed)]
              for row in rows]
    cursor = db.cursor()
    for part in chunked(values, 500):
        cursor.executemany(sql, part)


def _check_name(kind: str, name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise StoreError(f"A {kind} name cannot be empty.")
    if len(name) > MAX_NAME:
        raise StoreError(f"A {kind} name can have at most {MAX_NAME} characters.")
    return name


@dataclass
class NewImage:
    """Everything needed to add one image (files already made, not yet stored)."""

    sha256: str
    ext: str
    data: bytes
    thumbnail: bytes
    width: int
    height: int
    prompt: str = ""
    negative_prompt: str = ""
    model: str = ""
    text_accuracy: str = ""
    generated_at: Any = None  # naive UTC datetime
    params: dict[str, Any] | None = None
    source_name: str = ""
    parent_id: int | None = None
    derivation: str = ""
    location: str = ""  # a file in a watched source folder, linked where it is: no copy is stored (data unused)
    file_size: int | None = None  # when `data` is not given (linked files)
    phash: str | None = None  # perceptual hash (duplicates.py); None: made later by fill_perceptual_hashes


class Library:
    def __init__(self, root: Path | str, account: str | None = None, database_url: str | None = None):
        self.root = Path(root).expanduser()
        self.database_url = database_url or settings.current().database_url or None
        marker = read_marker(self.root)
        self._refuse_wrong_back_end(marker)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot create the library folder {self.root}: {exc.strerror}.") from exc
        self.read_only = not _may_write(self.root, self.database_url)
        self.read_only_reason = "is read-only for you"
        self.files = FileStore(self.root)
        self.files_lock = FilesLock(self.root)
        self._refuse_missing_database(marker)
        self._create_database_file()
        try:
            self._connect(marker)
        except StoreError:
            raise
        except Exception as exc:  # noqa: BLE001 - a corrupt or unreadable database file
            if not self._disk_is_full(exc):
                raise StoreError(f"Cannot open the library database in {self.root}: {exc}.") from exc
            # SQLite cannot even make its shared-memory file: read the library as it is, change nothing
            self.close()
            self.read_only, self.read_only_reason = True, "is on a full disk"
            try:
                self._connect(marker)
            except Exception as again:  # noqa: BLE001
                raise StoreError(f"Cannot open the library database in {self.root}: {again}.") from again
        self.account = self._ensure_account(account or default_account_name())
        self.catalog = catalog_of(self.db, self.root / CATALOG_FILE, may_save=not self.read_only)
        if not self.read_only:
            self._finish_trash_moves()

    def _finish_trash_moves(self) -> None:
        """Moves of linked files into or out of the trash that a kill interrupted are done on opening."""
        from . import trash

        try:
            trash._finish(self)
        except (StoreError, *DRIVER_ERRORS):  # noqa: BLE001 - never keeps a library from opening; doctor says
            pass

    def _create_database_file(self) -> None:
        """A new library.db gets 0666 less the umask, like every other file (SQLite would make it 0644):
        a team sharing a SQLite library in a group folder can then all write it (its -wal and -shm follow it)."""
        if self.database_url or self.read_only:
            return
        try:
            os.close(os.open(self.root / DB_NAME, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            pass
        except OSError as exc:
            raise StoreError(f"Cannot create {self.root / DB_NAME}: {exc.strerror or exc}.") from exc

    def _connect(self, marker: Identity | None) -> None:
        self.db = open_database(self.root, self.database_url, read_only=self.read_only)
        database.initialize(self.db)
        self.db.connect(reuse_if_open=True)
        self.identity = self._open_schema(marker)

    def _disk_is_full(self, exc: Exception) -> bool:
        if self.database_url or self.read_only or "disk" not in str(exc).lower():
            return False
        try:
            return shutil.disk_usage(self.root).free < DISK_RESERVE
        except OSError:
            return False

    # -- which database this folder belongs to (see identity.py) --------------

    def _where_records_are(self) -> str:
        if self.database_url:
            return f"the PostgreSQL database {server_of(self.database_url)}"
        return str(self.root / DB_NAME)

    def _refuse_wrong_back_end(self, marker: Identity | None) -> None:
        if marker is None:
            return
        if marker.database == POSTGRESQL and not self.database_url:
            raise StoreError(f"The library in {self.root} keeps its records in PostgreSQL ({marker.server}): "
                             "set MYIMAGES_DATABASE_URL (or --database-url) to open it.")
        if marker.database == SQLITE and self.database_url:
            raise StoreError(f"The library in {self.root} keeps its records in its own file {DB_NAME}, not in "
                             "PostgreSQL: unset MYIMAGES_DATABASE_URL (or drop --database-url) to open it.")

    def _refuse_missing_database(self, marker: Identity | None) -> None:
        """Never make a new, empty database beside a library's files (SQLite would, on connecting)."""
        if self.database_url:
            return
        db_file = self.root / DB_NAME
        wal = self.root / (DB_NAME + "-wal")
        if _size(db_file) or _size(wal):
            return
        if marker is not None:
            raise StoreError(f"The library in {self.root} has lost its database file {DB_NAME} "
                             f"({count_image_files(self.root):,} image files are still there): restore {DB_NAME} "
                             "from a backup; nothing was changed.")
        files = count_image_files(self.root)
        if files:
            raise StoreError(f"{self.root} holds {files:,} image files but no records ({DB_NAME} is missing or "
                             "empty): restore it from a backup, or set MYIMAGES_DATABASE_URL if this library keeps "
                             "its records in PostgreSQL; nothing was changed.")

    def _open_schema(self, marker: Identity | None) -> Identity:
        """Check (or, for a new library, make) the schema and the folder's identity; migrate when needed."""
        version = schema_version(self.db)
        stored = library_id(self.db) if version is not None else None
        where = self._where_records_are()
        if marker is not None:
            if version is None:
                raise StoreError(f"The library in {self.root} keeps its records in {marker.describe()}, but "
                                 f"{where} holds none: check MYIMAGES_DATABASE_URL; nothing was changed.")
            if stored != marker.library_id:
                raise StoreError(f"{where} holds the records of another library than the one in {self.root}: "
                                 "check MYIMAGES_DATABASE_URL and the library folder; nothing was changed.")
            self._migrate(version)
            return marker
        if version is None:
            files = count_image_files(self.root)
            if files:
                raise StoreError(f"{self.root} holds {files:,} image files but {where} holds no records: check "
                                 "MYIMAGES_DATABASE_URL and the library folder; nothing was changed.")
        elif stored is not None and self.database_url:
            raise StoreError(f"{where} belongs to another library folder than {self.root} (which has no "
                             f"{MARKER}): point --library or MYIMAGES_LIBRARY at the folder that holds its "
                             f"{MARKER}; nothing was changed.")
        self._migrate(version)
        identity = new_identity(self.database_url)
        if self.read_only:
            return identity if stored is None else Identity(stored, identity.database, identity.server)
        identity = Identity(claim_library_id(self.db, identity.library_id), identity.database, identity.server)
        write_marker(self.root, identity)
        return identity

    def _migrate(self, version: int | None) -> None:
        if version == LATEST:
            return  # nothing to write: a full disk or a read-only library still opens
        if self.read_only:
            what = "is not a library yet" if version is None else "needs an upgrade to this version of My Images"
            raise StoreError(f"{self.root} {what}, and you may not write there: ask its owner to open it once.")
        migrate_to_latest(self.db)

    # -- watched source folders (the work is in sources.py) --------------------

    def add_source(self, folder: Path | str, mode: str = "link", progress=None, cancel=None):
        """Follow a folder: its images become the account's (linked where they are, or copied); scans it now."""
        from . import sources

        return sources.add_source(self, folder, mode, progress=progress, cancel=cancel)

    def sources(self):
        from . import sources

        return sources.list_sources(self)

    def scan_sources(self, folder: Path | str | None = None, progress=None, cancel=None):
        """Rescan one source (or all): reads only what is new or changed. Returns a ScanReport per source."""
        from . import sources

        if folder is None:
            return sources.scan_all(self, progress=progress, cancel=cancel)
        return [sources.scan_folder(self, folder, progress=progress, cancel=cancel)]

    def scan_paths(self, paths: Sequence[Path]):
        """Look at just these paths (a watcher's events); returns a ScanReport per source they touch."""
        from . import sources

        by_source: dict[int, tuple[Any, list[Path]]] = {}
        for path in paths:
            row = sources.source_of(self, Path(path))
            if row is not None:
                by_source.setdefault(row.id, (row, []))[1].append(Path(path))
        return [sources.scan_source(self, row, only=found) for row, found in by_source.values()]

    def remove_source(self, folder: Path | str) -> int:
        """Stop following a folder; its linked images' records go (the files stay). Returns how many went."""
        from . import sources

        return sources.remove_source(self, folder)

    def source_images(self, folder: Path | str) -> int:
        """How many of the account's images a source holds (to say what removing it drops)."""
        from . import sources

        row = sources.find_source(self, folder)
        return sources.count_images(self, row)

    def make_thumbnails(self, cancel=None, limit: int | None = None) -> int:
        """Thumbnails for linked images that have none yet (newest first)."""
        from . import sources

        return sources.make_thumbnails(self, cancel=cancel, limit=limit)

    def require_writable(self) -> None:
        """Raise the read-only sentence unless this user may change the library."""
        self._check_writable()

    def ids_by_hash(self, hashes: Sequence[str]) -> dict[str, int]:
        """The account's images with these contents: {sha256: id}."""
        return self._ids_by_hash(hashes)

    def forget(self, image_ids: Sequence[int]) -> None:
        """Drop records whose files are not the library's to delete (linked files gone, a source removed):
        their memberships go with them, and thumbnails no record uses any more; no source file is touched."""
        self._check_writable()
        ids = [int(i) for i in image_ids]
        self._delete_rows(ids)

    def require_open(self) -> None:
        """Nothing to do but be called: the store boundary binds this library's database (for store modules)."""

    def _check_writable(self) -> None:
        if self.read_only:
            raise StoreError(f"The library in {self.root} {self.read_only_reason}: you can browse, search and "
                             "download, not change it.")

    # -- lifecycle ---------------------------------------------------------

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()

    def _activate(self) -> None:
        """Point the models at this library's database (several libraries in one process)."""
        if database.obj is not self.db:
            database.initialize(self.db)

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def uses_postgres(self) -> bool:
        return is_postgres(self.db)

    def _ensure_account(self, name: str) -> AccountRecord:
        name = _check_name("account", name)
        row = Account.get_or_none(Account.name == name)
        if row is None and self.read_only:
            return AccountRecord(0, name, "free")  # no images of its own; it sees the public ones
        if row is None:
            try:
                with self.db.atomic():
                    row = Account.create(name=name, plan="free", created_at=utc_now())
            except IntegrityError:  # another process made it a moment ago
                row = Account.get(Account.name == name)
        return AccountRecord(row.id, row.name, row.plan)

    def refresh_account(self) -> AccountRecord:
        if self.account.id == 0:
            return self.account
        row = Account.get_by_id(self.account.id)
        self.account = AccountRecord(row.id, row.name, row.plan)
        return self.account

    # -- queries -----------------------------------------------------------

    def _mine(self):
        return Image.owner == self.account.id

    @staticmethod
    def _public():
        """Images of free accounts: public. Visibility follows the owner's plan, nothing per image."""
        return Image.owner.in_(Account.select(Account.id).where(Account.plan == "free"))

    def _visible(self):
        """What the acting account may read: its own images and every public one."""
        return self._mine() | self._public()

    def _search_clause(self, text: str):
        """PostgreSQL: ILIKE, served by the pg_trgm index (SQLite libraries search the catalog)."""
        text = text.strip()
        if not text:
            return None
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return NodeList((Image.prompt, SQL("ILIKE"), Value(pattern)))

    def parsed(self, filters: Filters) -> Parsed:
        """The filters' search in the query language (store/query.py), collection and owner names
        resolved to ids. Parts that cannot be read are left out (`search_problem` says what they are)."""
        parsed = parse(filters.search)
        if not any(t.field in ("in", "owner") for group in parsed.groups for t in group):
            return parsed
        from dataclasses import replace

        names = None
        groups = []
        for group in parsed.groups:
            terms = []
            for term in group:
                if term.field == "in":
                    row = self._collection_row(term.value)
                    term = replace(term, value=row.id if row is not None else -1)
                elif term.field == "owner":
                    if names is None:
                        names = list(Account.select(Account.id, Account.name).tuples())
                    term = replace(term, value=tuple(i for i, n in names if term.value in n.casefold()))
                terms.append(term)
            groups.append(tuple(terms))
        return replace(parsed, groups=tuple(groups))

    def search_problem(self, text: str) -> str:
        """One sentence about what in a search cannot be read or found, or "" when it is all good."""
        parsed = parse(text)
        if parsed.error:
            return parsed.error
        for group in parsed.groups:
            for term in group:
                if term.field == "in" and self._collection_row(term.value) is None:
                    names = ", ".join(c.name for c in self.collections()[:5])
                    return f'No collection named "{term.value}"' + (f" (yours: {names})." if names else ".")
        return ""

    @staticmethod
    def _sort(filters: Filters) -> str:
        sort = parse(filters.search).sort or filters.sort
        return sort if sort in SORTS else DEFAULT_SORT

    def _order(self, filters: Filters) -> list:
        return order_by(self._sort(filters), filters.seed)

    def _where(self, filters: Filters):
        clauses = [self._public() if filters.scope == SCOPE_PUBLIC else self._mine(), Image.trashed_at.is_null()]
        search = where_clause(self.parsed(filters), self.account.id)
        if search is not None:
            clauses.append(search)
        if filters.favorite == FAVORITES_ONLY:
            clauses.append(Image.favorite == True)  # noqa: E712 - peewee expression
        elif filters.favorite == NON_FAVORITES:
            clauses.append(Image.favorite == False)  # noqa: E712
        if filters.collection_id is not None:
            self._own_collection(filters.collection_id)
            members = ImageCollection.select(ImageCollection.image).where(
                ImageCollection.collection == filters.collection_id
            )
            clauses.append(Image.id.in_(members))
        if filters.batch is not None:
            clauses.append(Image.batch == filters.batch)
        return clauses

    def _selected(self, filters: Filters):
        """The catalog's answer (ids, newest first), or None to ask SQL (see `_catalog_query`)."""
        query = self._catalog_query(filters)
        return None if query is None else self.catalog.select(query)

    def _catalog_query(self, filters: Filters) -> Query | None:
        """The catalog's query for these filters, or None to ask SQL.

        SQL answers on PostgreSQL, and on SQLite before the catalog is built (and none was
        saved) when there is no search: as fast there, and start-up does not wait for the build.
        """
        parsed = self.parsed(filters)
        sort = self._sort(filters)
        if self.catalog is None:
            return None
        if parsed.empty and sort == DEFAULT_SORT and not filters.stacked and filters.batch is None \
                and not self.catalog.open_saved():
            return None  # SQL's date index until the catalog is built (a saved one is read in milliseconds)
        if filters.scope == SCOPE_PUBLIC:
            owners = tuple(a for (a,) in Account.select(Account.id).where(Account.plan == "free").tuples())
        else:
            owners = (self.account.id,)
        if filters.collection_id is not None:
            self._own_collection(filters.collection_id)
        favorite = {FAVORITES_ONLY: True, NON_FAVORITES: False}.get(filters.favorite)
        return Query(owners, "", favorite, filters.collection_id, parsed, sort, filters.seed if sort == "random" else 0,
                     filters.stacked, filters.batch)

    def count(self, filters: Filters | None = None) -> int:
        """How many images the filters let through."""
        filters = filters or Filters()
        selected = self._selected(filters)
        if selected is not None:
            return len(selected)
        if filters.stacked:  # a batch counts once
            return Image.select(fn.COUNT(fn.DISTINCT(_STACK_KEY))).where(*self._where(filters)).scalar() or 0
        return Image.select(fn.COUNT(Image.id)).where(*self._where(filters)).scalar() or 0

    def total(self) -> int:
        """How many images the account has, unfiltered."""
        return self.count(Filters())

    def query(self, filters: Filters | None = None, offset: int = 0, limit: int = 50) -> tuple[int, list[ImageRecord]]:
        """The count and one page together: the count picks the faster plan for the page."""
        filters = filters or Filters()
        count = self.count(filters)
        return count, self.page(filters, offset, limit, count_hint=count)

    def warm_up(self) -> None:
        """Build or refresh the catalog now, and its sort orders (call it from a background thread)."""
        if self.catalog is not None:
            self.catalog.sync()
            self.catalog.prepare_orders()

    def _select(self):
        return Image.select(Image, Account.name).join(Account, on=(Image.owner == Account.id), attr="owner_account")

    def _records_by_id(self, ids: Sequence[int]) -> list[ImageRecord]:
        """Records of these images, in the order given."""
        if not len(ids):
            return []
        wanted = [int(i) for i in ids]
        rows = {}
        for start in range(0, len(wanted), 500):
            rows.update((r.id, r) for r in self._select().where(Image.id.in_(wanted[start:start + 500])))
        return self._records([rows[i] for i in wanted if i in rows])

    def page(self, filters: Filters | None = None, offset: int = 0, limit: int = 50,
             count_hint: int | None = None) -> list[ImageRecord]:
        """One page of images, newest first (by generation date, then id).

        On PostgreSQL, a search that matches few images (count_hint) reads and
        sorts the matches rather than walking the whole date index looking for them.
        """
        filters = filters or Filters()
        offset, limit = max(0, offset), max(0, limit)
        query = self._catalog_query(filters)
        if query is not None:
            records = self._records_by_id(self.catalog.select(query)[offset:offset + limit])
            if filters.stacked:
                sizes = self.catalog.stack_sizes(query)[offset:offset + limit]
                for record, size in zip(records, sizes.tolist()):
                    record.stack = size
            return records
        if filters.stacked:
            found = self._stacked_sql(filters, offset, limit)
            records = self._records_by_id([i for i, _ in found])
            for record, (_, size) in zip(records, found):
                record.stack = size
            return records
        few = count_hint is not None and count_hint <= FEW_MATCHES and bool(filters.search.strip())
        # COALESCE(x, x) keeps PostgreSQL's planner off the date index (both back ends accept it)
        newest = fn.COALESCE(Image.generated_at, Image.generated_at).desc() if few else Image.generated_at.desc()
        order = [newest, Image.id.desc()] if self._sort(filters) == DEFAULT_SORT else self._order(filters)
        query = (
            self._select()
            .where(*self._where(filters))
            .order_by(*order)
            .offset(offset)
            .limit(limit)
        )
        return self._records(query)

    def _stacked_sql(self, filters: Filters, offset: int = 0, limit: int | None = None) -> list[tuple[int, int]]:
        """(id, stack size) of a stacked result, in its order, by SQL (PostgreSQL): each batch's first image
        in the order stands for it (a window over the batch key), where it stands in the order."""
        order = [Image.generated_at.desc(), Image.id.desc()] if self._sort(filters) == DEFAULT_SORT \
            else self._order(filters)
        inner = (Image.select(Image.id.alias("sid"),
                              fn.ROW_NUMBER().over(partition_by=[_STACK_KEY], order_by=order).alias("rn"),
                              fn.COUNT(Image.id).over(partition_by=[_STACK_KEY]).alias("n"),
                              fn.ROW_NUMBER().over(order_by=order).alias("pos"))
                 .where(*self._where(filters)).alias("stacked"))
        query = (Image.select(inner.c.sid, inner.c.n).from_(inner).where(inner.c.rn == 1)
                 .order_by(inner.c.pos).offset(offset))
        if limit is not None:
            query = query.limit(limit)
        return [(int(i), int(n)) for i, n in query.tuples()]

    def iter_images(self, filters: Filters | None = None, batch: int = 500) -> Iterator[ImageRecord]:
        """Every image the filters let through (every one of a stack), newest first, read a batch at a time."""
        filters = replace(filters or Filters(), stacked=False)
        selected = self._selected(filters)
        if selected is not None:
            for start in range(0, len(selected), batch):
                yield from self._records_by_id(selected[start:start + batch])
            return
        clauses = self._where(filters)
        if self._sort(filters) != DEFAULT_SORT:  # other orders: a page at a time
            offset = 0
            while rows := list(self._select().where(*clauses).order_by(*self._order(filters))
                               .offset(offset).limit(batch)):
                yield from self._records(rows)
                offset += len(rows)
            return
        last: tuple[Any, int] | None = None
        while True:
            query = self._select().where(*clauses)
            if last is not None:
                query = query.where(
                    (Image.generated_at < last[0]) | ((Image.generated_at == last[0]) & (Image.id < last[1]))
                )
            rows = list(query.order_by(Image.generated_at.desc(), Image.id.desc()).limit(batch))
            if not rows:
                return
            yield from self._records(rows)
            last = (rows[-1].generated_at, rows[-1].id)

    def ids(self, filters: Filters | None = None) -> list[int]:
        """The ids the filters let through, newest first (for "select all"): every image of a stack."""
        filters = replace(filters or Filters(), stacked=False)
        selected = self._selected(filters)
        if selected is not None:
            return selected.tolist()
        query = (
            Image.select(Image.id)
            .where(*self._where(filters))
            .order_by(*self._order(filters))
            .tuples()
        )
        return [i for (i,) in query]

    def get(self, image_id: int) -> ImageRecord:
        """One image the account may read (its own or a public one); NotFound for anything else."""
        rows = list(self._select().where(self._visible(), Image.id == image_id, Image.trashed_at.is_null()))
        if not rows:
            raise NotFound(f"No image #{image_id}.")
        return self._records(rows)[0]

    def position(self, image_id: int, filters: Filters | None = None) -> int | None:
        """The index of an image in the filtered, newest-first order (None if not shown)."""
        filters = filters or Filters()
        selected = self._selected(filters)
        if selected is not None:
            where = np.flatnonzero(selected == image_id)
            return int(where[0]) if where.size else None
        if filters.stacked:
            ids = [i for i, _ in self._stacked_sql(filters)]
            return ids.index(image_id) if image_id in ids else None
        if self._sort(filters) != DEFAULT_SORT:
            ids = self.ids(filters)
            return ids.index(image_id) if image_id in ids else None
        try:
            row = Image.get((Image.id == image_id) & self._visible())
        except Image.DoesNotExist:
            return None
        clauses = self._where(filters)
        if not Image.select().where(*clauses, Image.id == image_id).exists():
            return None
        return Image.select().where(
            *clauses,
            (Image.generated_at > row.generated_at) | ((Image.generated_at == row.generated_at) & (Image.id > row.id)),
        ).count()

    def _records(self, rows: Iterable[Image]) -> list[ImageRecord]:
        rows = list(rows)
        names = self._collections_of([r.id for r in rows])
        return [self._record(r, names.get(r.id, [])) for r in rows]

    def _record(self, row: Image, collections: list[str]) -> ImageRecord:
        try:
            params = json.loads(row.params or "{}")
        except ValueError:
            params = {}
        owner = getattr(row, "owner_account", None)
        return ImageRecord(
            id=row.id,
            owner=owner.name if owner is not None else self.account.name,
            prompt=row.prompt,
            negative_prompt=row.negative_prompt,
            model=row.model,
            text_accuracy=row.text_accuracy,
            generated_at=to_local(row.generated_at),
            imported_at=to_local(row.imported_at),
            width=row.width,
            height=row.height,
            file_size=row.file_size,
            sha256=row.sha256,
            ext=row.ext,
            favorite=bool(row.favorite),
            params=params if isinstance(params, dict) else {},
            source_name=row.source_name,
            parent_id=row.parent_id,
            derivation=row.derivation,
            path=Path(row.location) if row.location else self.files.original_path(row.sha256, row.ext),
            thumbnail_path=self._thumbnail_of(row),
            collections=collections,
            linked=bool(row.location),
            batch=row.batch or 0,
        )

    def _thumbnail_of(self, row: Image) -> Path:
        """The library's thumbnail; for a linked image not yet given one, its file (the grid shrinks it)."""
        thumbnail = self.files.thumbnail_path(row.sha256)
        if row.location and not thumbnail.exists():
            return Path(row.location)
        return thumbnail

    def _collections_of(self, ids: Sequence[int]) -> dict[int, list[str]]:
        if not ids:
            return {}
        query = (
            ImageCollection.select(ImageCollection.image, Collection.name)
            .join(Collection)
            .where(ImageCollection.image.in_(list(ids)), Collection.owner == self.account.id)
            .order_by(Collection.name)
            .tuples()
        )
        result: dict[int, list[str]] = {}
        for image_id, name in query:
            result.setdefault(image_id, []).append(name)
        return result

    def _own_ids(self, image_ids: Iterable[int], trashed: bool | None = False) -> list[int]:
        """The ids, all of them the account's own; NotFound names the first that is not.

        `trashed`: False, images not in the trash (a trashed image is not found); True, only
        trashed ones; None, either."""
        wanted = list(dict.fromkeys(int(i) for i in image_ids))
        found = self.own_existing(wanted, trashed)
        for image_id in wanted:
            if image_id not in found:
                if trashed and Image.select().where(self._mine(), Image.id == image_id).exists():
                    raise NotFound(f"Image #{image_id} is not in the trash.")
                if Image.select().where(Image.id == image_id, self._public(), Image.trashed_at.is_null()).exists():
                    raise NotYours(f"Image #{image_id} belongs to another account: you can view and "
                                   "download it, not change it.")
                raise NotFound(f"No image #{image_id}.")
        return wanted

    def own_existing(self, image_ids: Iterable[int], trashed: bool | None = False) -> set[int]:
        """Those of the ids that are the account's own images (no error for the rest); `trashed` as in
        `_own_ids`: by default only images outside the trash."""
        state = [] if trashed is None else [Image.trashed_at.is_null(not trashed)]
        found: set[int] = set()
        for chunk in chunked(list(dict.fromkeys(int(i) for i in image_ids)), 500):
            found.update(i for (i,) in Image.select(Image.id).where(self._mine(), Image.id.in_(chunk), *state).tuples())
        return found

    def require_own(self, image_id: int) -> None:
        """Raise unless the image is the acting account's own."""
        self._own_ids([image_id])

    # -- favorites ---------------------------------------------------------

    def set_favorite(self, image_ids: Iterable[int], value: bool = True) -> int:
        self._check_writable()
        ids = self._own_ids(image_ids)
        with self.db.atomic():
            for start in range(0, len(ids), 500):
                Image.update(favorite=value).where(self._mine(), Image.id.in_(ids[start:start + 500])).execute()
        return len(ids)

    def favorites_among(self, image_ids: Iterable[int]) -> int:
        """How many of these images (the account's own, not in the trash) are favorites."""
        ids = sorted(set(image_ids))
        count = 0
        for start in range(0, len(ids), 500):
            count += Image.select().where(self._mine(), Image.favorite == True,  # noqa: E712 - SQL
                                          Image.trashed_at.is_null(), Image.id.in_(ids[start:start + 500])).count()
        return count

    def toggle_favorite(self, image_id: int) -> bool:
        self._check_writable()
        with self.db.atomic():
            row = Image.get_or_none((Image.id == image_id) & self._mine() & Image.trashed_at.is_null())
            if row is None:
                self._own_ids([image_id])  # raises the right error
            value = not row.favorite
            Image.update(favorite=value).where(Image.id == image_id).execute()
        return value

    # -- deleting ----------------------------------------------------------

    def delete(self, image_ids: Iterable[int]) -> int:
        """Erase images (in the trash or not), their memberships and (when nothing else uses them) their files.

        The database commits first; files go after, so a crash in between
        leaves only orphan files, which `doctor` removes. A linked image's file
        in its source folder is deleted too, if it is still the file that was
        read (same size and modification time); otherwise it is left, and said.
        """
        from . import sources

        from . import trash

        self._check_writable()
        ids = self._own_ids(image_ids, trashed=None)
        in_the_open = [i for chunk in chunked(ids, 500) for (i,) in Image.select(Image.id).where(
            Image.id.in_(chunk), Image.trashed_at.is_null()).tuples()]
        linked = sources.linked_paths(self, in_the_open)  # a trashed one's file is in the trash folder
        in_trash = trash.trash_files_of(self, ids)
        self._delete_rows(ids)
        for path in in_trash:  # the trash folder's copies of linked files: the library's own now
            path.unlink(missing_ok=True)
        problems = sources.delete_linked_files(self, linked)
        if problems:
            raise StoreError(f"Deleted {len(ids)} image{'' if len(ids) == 1 else 's'}, but {problems[0]}"
                             + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "") + ".")
        return len(ids)

    def _delete_rows(self, ids: list[int]) -> None:
        files: set[tuple[str, str]] = set()
        with self.db.atomic():
            for chunk in chunked(ids, 500):
                files.update(Image.select(Image.sha256, Image.ext).where(Image.id.in_(chunk)).tuples())
                ImageCollection.delete().where(ImageCollection.image.in_(chunk)).execute()
                Image.update(parent=None).where(Image.parent.in_(chunk)).execute()
                Image.delete().where(self._mine(), Image.id.in_(chunk)).execute()
        self._remove_unreferenced(files)

    def _remove_unreferenced(self, files: Iterable[tuple[str, str]]) -> None:
        """Remove these files where no record (of any account) points to them any more.

        Under the files lock: no import is between reusing one of them and
        committing the record that points to it.
        """
        files = list(files)
        if not files:
            return
        with self.files_lock.removing():
            for chunk in chunked(files, 500):
                used = {h for (h,) in Image.select(Image.sha256).where(
                    Image.sha256.in_([sha256 for sha256, _ in chunk])).distinct().tuples()}
                for sha256, ext in chunk:
                    if sha256 not in used:
                        self.files.remove(sha256, ext)

    # -- the trash (the work is in trash.py) -----------------------------------

    def trash(self, image_ids: Iterable[int]) -> int:
        """Move images to the trash: hidden everywhere, restorable for trash_days() days."""
        from . import trash

        self._check_writable()
        return len(trash.trash(self, image_ids))

    def restore(self, image_ids: Iterable[int]) -> int:
        """Bring trashed images back exactly: record, files, favorite, collections, place in the order."""
        from . import trash

        self._check_writable()
        return len(trash.restore(self, image_ids))

    def trashed(self):
        """The account's trashed images (TrashedImage), the most recently deleted first."""
        from . import trash

        return trash.trashed(self)

    def trash_count(self) -> int:
        return Image.select().where(self._mine(), Image.trashed_at.is_null(False)).count()

    def delete_forever(self, image_ids: Iterable[int]) -> int:
        """Erase images that are in the trash (NotFound for one that is not)."""
        self._check_writable()
        return self.delete(self._own_ids(image_ids, trashed=True))

    def empty_trash(self, older_than_days: float | None = None) -> int:
        """Erase every trashed image (or those trashed more than `older_than_days` ago); returns how many."""
        from . import trash

        self._check_writable()
        ids = trash.trashed_ids(self, older_than_days)
        for start in range(0, len(ids), 500):
            self.delete(ids[start:start + 500])
        return len(ids)

    def expire_trash(self) -> int:
        """Erase what has been in the trash longer than trash_days() (start-up and doctor)."""
        from . import trash

        if self.read_only:
            return 0
        return self.empty_trash(trash.trash_days())

    def finish_trash_moves(self) -> int:
        """Finish moves of linked files into or out of the trash that a kill interrupted."""
        from . import trash

        if self.read_only:
            return 0
        return trash.finish_moves(self)

    # -- duplicates and near-duplicates (the work is in duplicates.py) --------

    def fill_perceptual_hashes(self, progress=None, cancel=None) -> int:
        """Make the perceptual hash of images that have none yet (an older library; run in the background)."""
        from . import duplicates

        self._check_writable()
        return duplicates.fill_hashes(self, progress=progress, cancel=cancel)

    def fill_batches(self, cancel=None) -> int:
        """Make the batch key (variation stacks) of images that have none yet (an older library)."""
        from . import stacks

        self._check_writable()
        return stacks.fill_batches(self, cancel=cancel)

    def duplicates(self, distance: int | None = None, progress=None, cancel=None):
        """Groups (DuplicateGroup) of the account's images that are the same picture in other files
        (`progress(done, total)`, and `cancel()` raising duplicates.Cancelled when it answers True)."""
        from . import duplicates

        return duplicates.find_groups(self, distance, progress=progress, cancel=cancel)

    def merge_duplicates(self, keep: int, others: Iterable[int]) -> int:
        """Move `others` to the trash; their favorite and collections go to `keep`."""
        from . import duplicates

        self._check_writable()
        return duplicates.merge_into(self, int(keep), [int(i) for i in others])

    # -- collections -------------------------------------------------------

    def collections(self) -> list[CollectionRecord]:
        count = fn.COUNT(Image.id)
        query = (
            Collection.select(Collection.id, Collection.name, count.alias("n"))
            .join(ImageCollection, JOIN.LEFT_OUTER)
            .join(Image, JOIN.LEFT_OUTER, on=((ImageCollection.image == Image.id) & Image.trashed_at.is_null()))
            .where(Collection.owner == self.account.id)
            .group_by(Collection.id, Collection.name)
            .order_by(fn.LOWER(Collection.name))
        )
        return [CollectionRecord(c.id, c.name, c.n) for c in query]

    def _own_collection(self, collection_id: int) -> Collection:
        row = Collection.get_or_none((Collection.id == collection_id) & (Collection.owner == self.account.id))
        if row is None:
            raise NotFound(f"No collection #{collection_id}.")
        return row

    def collection(self, name_or_id: str | int) -> CollectionRecord:
        """A collection by exact name (any case), else by id: an int, or a string of digits that names none.

        Names come first: "1" is the collection named "1" when there is one, never collection #1.
        """
        row = self._collection_row(name_or_id)
        if row is None:
            raise NotFound(f'No collection "{name_or_id}".')
        count = (ImageCollection.select().join(Image).where(ImageCollection.collection == row.id,
                                                            Image.trashed_at.is_null()).count())
        return CollectionRecord(row.id, row.name, count)

    def _collection_row(self, name_or_id: str | int) -> Collection | None:
        """The account's collection `collection` names (without counting its images: a search resolves
        `in:NAME` with it on every query)."""
        row = None
        if isinstance(name_or_id, str):
            name = " ".join(name_or_id.split())
            row = Collection.get_or_none(
                (fn.LOWER(Collection.name) == name.lower()) & (Collection.owner == self.account.id)
            )
        number = name_or_id if isinstance(name_or_id, int) else (
            int(name_or_id) if name_or_id.isascii() and name_or_id.isdigit() else None)
        if row is None and number is not None and 0 < number < 2**63:
            row = Collection.get_or_none((Collection.id == number) & (Collection.owner == self.account.id))
        return row

    def create_collection(self, name: str) -> CollectionRecord:
        self._check_writable()
        name = _check_name("collection", name)
        try:
            with self.db.atomic():
                taken = Collection.select().where(
                    (fn.LOWER(Collection.name) == name.lower()) & (Collection.owner == self.account.id)
                ).exists()
                if taken:
                    raise Duplicate(f'A collection named "{name}" already exists.')
                row = Collection.create(owner=self.account.id, name=name, created_at=utc_now())
        except IntegrityError as exc:
            raise Duplicate(f'A collection named "{name}" already exists.') from exc
        return CollectionRecord(row.id, row.name, 0)

    def ensure_collection(self, name: str) -> CollectionRecord:
        """The collection of this name (never one whose id happens to be the name), made if needed."""
        wanted = " ".join((name or "").split()).lower()
        for _attempt in range(2):
            row = Collection.get_or_none((fn.LOWER(Collection.name) == wanted) & (Collection.owner == self.account.id))
            if row is not None:
                return self.collection(row.id)
            try:
                return self.create_collection(name)
            except Duplicate:  # made by another process in between
                continue
        return self.collection(name)

    def rename_collection(self, name_or_id: str | int, new_name: str) -> CollectionRecord:
        self._check_writable()
        current = self.collection(name_or_id)
        new_name = _check_name("collection", new_name)
        with self.db.atomic():
            clash = Collection.select().where(
                (fn.LOWER(Collection.name) == new_name.lower())
                & (Collection.owner == self.account.id)
                & (Collection.id != current.id)
            ).exists()
            if clash:
                raise Duplicate(f'A collection named "{new_name}" already exists.')
            Collection.update(name=new_name).where(Collection.id == current.id).execute()
        return CollectionRecord(current.id, new_name, current.count)

    def delete_collection(self, name_or_id: str | int) -> CollectionRecord:
        """Delete a collection; its images stay in the library."""
        self._check_writable()
        current = self.collection(name_or_id)
        with self.db.atomic():
            ImageCollection.delete().where(ImageCollection.collection == current.id).execute()
            Collection.delete().where(Collection.id == current.id).execute()
        return current

    def collection_ids_of(self, image_id: int) -> list[int]:
        self._own_ids([image_id])
        query = (ImageCollection.select(ImageCollection.collection).join(Collection)
                 .where(ImageCollection.image == image_id, Collection.owner == self.account.id).tuples())
        return [c for (c,) in query]

    def add_to_collection(self, image_ids: Iterable[int], collection_id: int) -> int:
        """Add images to a collection; returns how many were not in it before."""
        self._check_writable()
        self._own_collection(collection_id)
        ids = self._own_ids(image_ids)
        added = 0
        with self.db.atomic():
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                present = set(
                    i for (i,) in ImageCollection.select(ImageCollection.image)
                    .where(ImageCollection.collection == collection_id, ImageCollection.image.in_(chunk)).tuples()
                )
                rows = [{"image": i, "collection": collection_id} for i in chunk if i not in present]
                if rows:
                    ImageCollection.insert_many(rows).on_conflict_ignore().execute()
                added += len(rows)
        return added

    def remove_from_collection(self, image_ids: Iterable[int], collection_id: int) -> int:
        self._check_writable()
        self._own_collection(collection_id)
        ids = self._own_ids(image_ids)
        removed = 0
        with self.db.atomic():
            for start in range(0, len(ids), 500):
                removed += ImageCollection.delete().where(
                    ImageCollection.collection == collection_id, ImageCollection.image.in_(ids[start:start + 500])
                ).execute()
        return removed

    def membership(self, image_ids: Iterable[int]) -> dict[int, int]:
        """For each collection id, how many of these images are in it."""
        ids = self._own_ids(image_ids)
        result: dict[int, int] = {}
        for start in range(0, len(ids), 500):
            query = (
                ImageCollection.select(ImageCollection.collection, fn.COUNT(ImageCollection.image))
                .join(Collection)
                .where(ImageCollection.image.in_(ids[start:start + 500]), Collection.owner == self.account.id)
                .group_by(ImageCollection.collection)
                .tuples()
            )
            for collection_id, n in query:
                result[collection_id] = result.get(collection_id, 0) + n
        return result

    # -- adding images -----------------------------------------------------

    def find_by_hash(self, sha256: str) -> int | None:
        row = Image.select(Image.id).where(self._mine(), Image.sha256 == sha256).first()
        return row.id if row else None

    def _ids_by_hash(self, hashes: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        # plain SQL: peewee's building of a 500-value IN list costs more than the look-up (large scans)
        for part in chunked(list(dict.fromkeys(hashes)), 500):
            marks = ", ".join([self.db.param] * len(part))
            found.update(self.db.execute_sql(
                f'SELECT "sha256", "id" FROM "image" WHERE "owner_id" = {self.db.param} AND "sha256" IN ({marks})',
                [self.account.id, *part]).fetchall())
        return found

    def add_images(self, items: Sequence[NewImage], collection_ids: Sequence[int] = (),
                   failed: list[tuple[int, str]] | None = None) -> list[tuple[int, bool]]:
        """Store files, then rows; returns (id, created) per item, created False for a duplicate.

        Files are written first (atomically), under the files lock shared, which
        is held until the rows commit: a delete or `doctor` never removes a file
        between this finding (or writing) it and its record being committed.

        With `failed` given, an item whose file cannot be written (a full disk)
        is left out and (its index, the reason) added there, and the others
        are stored; the result then holds the stored items only. Without it,
        the first failure raises and nothing is stored. Files written for
        items that end up not stored are removed again.
        """
        self._check_writable()
        for cid in collection_ids:
            self._own_collection(cid)
        parents = [item.parent_id for item in items if item.parent_id is not None]
        if parents:
            self._own_ids(parents)
        written: list[tuple[str, str]] = []
        try:
            with self.files_lock.adding():
                present = self._ids_by_hash([item.sha256 for item in items])
                stored = self._store_files(items, present, written, failed)
                results = self._insert_rows(stored, collection_ids)
            written.clear()  # committed: the files are referenced now
        finally:
            self._remove_unreferenced(written)
        return results

    def _store_files(self, items: Sequence[NewImage], present: dict[str, int],
                     written: list[tuple[str, str]], failed: list[tuple[int, str]] | None) -> list[NewImage]:
        stored: list[NewImage] = []
        for index, item in enumerate(items):
            if item.sha256 not in present and not item.location:
                try:
                    free = shutil.disk_usage(self.root).free
                    if free < len(item.data) + len(item.thumbnail) + DISK_RESERVE:
                        raise OSError(errno.ENOSPC, f"not enough free disk space ({free // 1024:,} KB free)")
                    if self.files.store(item.sha256, item.ext, item.data, item.thumbnail):
                        written.append((item.sha256, item.ext))
                except OSError as exc:
                    written.append((item.sha256, item.ext))  # an original may be in place: removed if unused
                    if failed is None:
                        raise
                    failed.append((index, f"cannot write to the library: {exc.strerror or exc}"))
                    continue
            stored.append(item)
        return stored

    def _insert_rows(self, items: Sequence[NewImage], collection_ids: Sequence[int]) -> list[tuple[int, bool]]:
        now = utc_now()
        with self.db.atomic():
            present = self._ids_by_hash([item.sha256 for item in items])  # again, inside the lock
            if present:  # imported again while in the trash: it comes back (a linked one comes back by restore)
                for chunk in chunked(list(present.values()), 500):
                    Image.update(trashed_at=None).where(Image.id.in_(chunk), Image.trashed_at.is_null(False),
                                                        Image.location == "").execute()
            rows, seen = [], set(present)
            for item in items:
                if item.sha256 in seen:
                    continue
                seen.add(item.sha256)
                rows.append({
                    "owner": self.account.id,
                    "prompt": item.prompt,
                    "negative_prompt": item.negative_prompt,
                    "model": item.model,
                    "text_accuracy": item.text_accuracy,
                    "generated_at": item.generated_at or now,
                    "imported_at": now,
                    "width": item.width,
                    "height": item.height,
                    "file_size": len(item.data) if item.file_size is None else item.file_size,
                    "sha256": item.sha256,
                    "ext": item.ext,
                    "params": json.dumps(item.params or {}, ensure_ascii=False, default=str),
                    "source_name": item.source_name,
                    "parent": item.parent_id,
                    "derivation": item.derivation,
                    "location": item.location,
                    "phash": item.phash or "",  # "": made later (fill_perceptual_hashes)
                    "batch": batch_key(self.account.id, item.prompt, item.negative_prompt, item.model,
                                       item.text_accuracy, item.width, item.height, item.params,
                                       derived=bool(item.derivation or item.parent_id)),
                })
            bulk_insert(self.db, Image, rows)
            new_ids = self._ids_by_hash([row["sha256"] for row in rows])
            results: list[tuple[int, bool]] = []
            created: set[str] = set()
            for item in items:
                if item.sha256 in present:
                    results.append((present[item.sha256], False))
                elif item.sha256 in created:
                    results.append((new_ids[item.sha256], False))  # the same file twice in one batch
                else:
                    created.add(item.sha256)
                    results.append((new_ids[item.sha256], True))
            ids = list(dict.fromkeys(i for i, _ in results))
            for cid in collection_ids:
                links = [{"image": i, "collection": cid} for i in ids]
                for chunk in chunked(links, 500):
                    ImageCollection.insert_many(chunk).on_conflict_ignore().execute()
        return results

    # -- accounts ----------------------------------------------------------

    def accounts(self) -> list[AccountRecord]:
        return [AccountRecord(a.id, a.name, a.plan) for a in Account.select().order_by(Account.name)]

    def create_account(self, name: str) -> AccountRecord:
        """A new free account (for example for a new user of a shared library)."""
        self._check_writable()
        name = _check_name("account", name)
        if Account.select().where(Account.name == name).exists():
            raise Duplicate(f'An account named "{name}" already exists.')
        return self._ensure_account(name)

    def set_plan(self, plan: str) -> AccountRecord:
        """Change the acting account's plan: all its images turn public (free) or private (premium) at once."""
        self._check_writable()
        if plan not in PLANS:
            raise StoreError(f"A plan is one of: {', '.join(PLANS)}.")
        with self.db.atomic():
            Account.update(plan=plan).where(Account.id == self.account.id).execute()
        return self.refresh_account()


# -- the store's boundary ------------------------------------------------------
#
# Every public method of Library goes through `_store_boundary`: it points the
# models at this library's database, and turns database and file errors
# (peewee, sqlite3, psycopg2, OSError) into StoreErrors with one sentence for
# the user (LibraryLocked for a lock held too long). Callers above the store
# (the TUI, the command line) therefore only ever handle StoreError.

try:  # PostgreSQL's driver raises its own errors where peewee does not wrap them
    from psycopg2 import Error as _PsycopgError
except ImportError:  # pragma: no cover - psycopg2 is a dependency
    _PsycopgError = PeeweeError
DRIVER_ERRORS = (PeeweeError, sqlite3.Error, _PsycopgError, OSError)


def _store_boundary(method):
    if inspect.isgeneratorfunction(method):
        @functools.wraps(method)
        def generator(self, *args, **kwargs):
            self._activate()
            try:
                yield from method(self, *args, **kwargs)
            except StoreError:
                raise
            except DRIVER_ERRORS as exc:
                raise translate(exc) from exc

        return generator

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        self._activate()
        try:
            return method(self, *args, **kwargs)
        except StoreError:
            raise
        except DRIVER_ERRORS as exc:
            raise translate(exc) from exc

    return wrapper


for _name, _value in list(vars(Library).items()):
    if inspect.isfunction(_value) and not _name.startswith("_") and _name != "close":
        setattr(Library, _name, _store_boundary(_value))
