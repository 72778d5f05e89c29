"""The library: one folder of files plus a database, seen by one acting account.

`Library` is the store's one façade: everything the TUI and the command line do to images and
collections goes through it, and every read and write is scoped to the acting account. Its parts:

- opening (here): which database the folder belongs to, the schema, read-only and full disks;
  the databases themselves and the store's boundary: database.py
- accounts, and what the acting account owns and sees: accounts.py
- collections: image_collections.py
- reading (counts, pages, ids; the catalog or SQL): search.py
- adding, favorites and deleting: images.py
- watched folders, the trash, duplicates: thin methods here, the work in sources.py, trash.py,
  duplicates.py

Each public method is marked `@boundary` (database.py): it runs with this library's database bound
on the calling thread, and database and file errors come out of it as StoreErrors.
"""
from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from peewee import chunked

from . import room, settings
from .catalog import change_token
from .accounts import MAKE, ON_A_FULL_DISK, default_account_name
from .database import (
    _CATALOGS,
    _DATABASES,
    CATALOG_FILE,
    DB_NAME,
    DRIVER_ERRORS,
    boundary,
    bulk_insert,
    store_call,
    catalog_moved,
    catalog_of,
    open_database,
)
from .errors import DatabaseDamaged, NoRoomToErase, NoSuchAccount, StoreError, first_line, is_damage, os_reason, translate
from .file_lock import FilesLock
from .files import DISK_RESERVE, FileStore
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
from .images import Images, NewImage
from .migrations import LATEST, is_postgres, migrate_to_latest, schema_version
from .models import Image, database
from .search import Search

if TYPE_CHECKING:
    from .sources import SourceFiles, SourceRemoval

__all__ = [  # what callers import from here (the façade and what it is made with)
    "CATALOG_FILE", "DB_NAME", "DRIVER_ERRORS", "_CATALOGS", "_DATABASES", "Library", "NewImage",
    "bulk_insert", "catalog_of", "default_account_name", "open_database",
]


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


class Library(Images, Search):
    """One library seen by one account: the methods of its parts (accounts.py, image_collections.py,
    search.py, images.py) and the opening, sources, trash and duplicates below."""

    def __init__(self, root: Path | str, account: str | None = None, database_url: str | None = None,
                 unknown_account: str = MAKE, downloads: Path | str | None = None):
        """`unknown_account`: what an account name the library does not know does (accounts.py MAKE, REFUSE,
        STAND_IN): made (the default), refused with NoSuchAccount, or stood in for, made nowhere. `downloads`: the
        downloads folder of the program using it, when not the settings' (`--downloads DIR`; the app sets the one
        it writes to, `downloads` below)."""
        self.root = Path(root).expanduser()
        # where this program writes copies of the library's images: a source's scan and an import leave it out
        # (importer.downloads_folder); None: the settings' `downloads`
        self.downloads = Path(downloads).expanduser() if downloads else None
        self.database_url = database_url or settings.current().database_url or None
        marker = read_marker(self.root)
        self._refuse_wrong_back_end(marker)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot create the library folder {self.root}: {os_reason(exc)}.") from exc
        self._erasing = threading.local()  # erasing on a full disk: writable for that thread (open_for_erasing)
        self._opened_for_erasing = False  # the database opened again, for writing, by a first erase on a full disk
        self.read_only = not _may_write(self.root, self.database_url)
        self.read_only_reason = "is read-only for you"
        self.files = FileStore(self.root)
        self.files_lock = FilesLock(self.root)
        self.catalog = None  # made once the database is open (close() may run before: a full disk)
        self._erases_on_open = 0  # deletions of source files a kill interrupted, finished on opening
        self._moves_on_open = 0  # moves of linked files into or out of the trash a kill interrupted, likewise
        self._refuse_missing_database(marker)
        self._create_database_file()
        try:
            self._connect(marker)
        except StoreError:
            raise
        except Exception as exc:  # noqa: BLE001 - a corrupt or unreadable database file
            if is_damage(exc):
                raise self._damaged(exc) from exc
            if not self._disk_is_full(exc):
                raise StoreError(f"Cannot open the library database in {self.root}: {first_line(exc)}.") from exc
            # SQLite cannot even make its shared-memory file: read the library as it is, change nothing
            self.close()
            self.read_only, self.read_only_reason = True, ON_A_FULL_DISK
            try:
                self._connect(marker)
            except Exception as again:  # noqa: BLE001
                raise StoreError(f"Cannot open the library database in {self.root}: {first_line(again)}.") from again
        try:
            with database.bound(self.db):
                self.account = self._ensure_account(account or default_account_name(), unknown_account)
                self.catalog = catalog_of(self.db, self.root / CATALOG_FILE, may_save=not self.read_only)
                if not self.read_only:
                    self._finish_trash_moves()
            if not self.read_only and not self.database_url:
                room.keep_reserve(self.root)  # room to erase images on a full disk, later (store/room.py)
        except NoSuchAccount:
            self.close()
            raise
        except DRIVER_ERRORS as exc:  # the first reads past the schema's: a file damaged in its middle shows here
            self.close()
            raise (self._damaged(exc) if is_damage(exc) else translate(exc)) from exc

    def _damaged(self, exc: BaseException) -> DatabaseDamaged:
        """The sentence for a library whose database file is damaged, with what to do."""
        where = self._where_records_are()
        if self.database_url:
            return DatabaseDamaged(f"The library database {where} is damaged ({first_line(exc)}): nothing was "
                                   "changed. Ask whoever runs the server to restore it from a backup.")
        damaged = DatabaseDamaged(f"The library database {where} is damaged ({first_line(exc)}): nothing was "
                                  "changed. Restore it from a backup, or recover what it holds into a new file with "
                                  f"`sqlite3 {where} .recover | sqlite3 recovered.db` and put that in its place; "
                                  "`myimages doctor` says what SQLite finds.")
        damaged.path = self.root / DB_NAME
        return damaged

    def _finish_trash_moves(self) -> None:
        """Moves of linked files into or out of the trash that a kill interrupted are done on opening."""
        from . import trash

        from . import sources

        try:
            self._moves_on_open = trash._finish(self)  # doctor (finish_trash_moves) says how many
        except (StoreError, *DRIVER_ERRORS):  # noqa: BLE001 - never keeps a library from opening; doctor says
            pass
        try:
            self._erases_on_open = sources.finish_erases(self)  # doctor (finish_erases) says how many
        except (StoreError, *DRIVER_ERRORS):  # noqa: BLE001
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
        database.initialize(self.db)  # what code outside a library's call sees: the library opened last
        self.db.connect(reuse_if_open=True)
        with database.bound(self.db):
            self.identity = self._open_schema(marker)

    @contextmanager
    def open_for_erasing(self) -> Iterator[None]:
        """For an erase in a library opened read only on a full disk: erasing images frees their room (store/room.py).
        Its database is opened for writing (once; SQLite needs a little room to open for writing and commit, which the
        library's disk reserve gives when the disk has none), and the library is writable for the erase alone: for
        the thread erasing, while the block runs (another thread's import or change meanwhile is refused, as before
        the erase). After it the library stays writable only if the erase made room: the disk reserve is there again
        (room.keep_reserve, at the end of the erase, makes it with twice its size free); else it is read only again
        (one erase, however little it freed, left it writable for the rest of the session). StoreError: the read-only
        sentence for a library this user may not change; room.no_room_sentence when no room can be found. Not a store
        call: it changes the database the calls use."""
        if not self.read_only:
            yield
            return
        self._check_erasable()
        if not self._opened_for_erasing:
            db = self._writable_database()
            if db is None and room.release_reserve(self.root):
                db = self._writable_database()
            if db is None:
                raise NoRoomToErase(self.root)
            old, self.db = self.db, db
            database.initialize(db)
            if self.catalog is not None:
                self.catalog = catalog_moved(old, db, may_save=True) or catalog_of(db, self.root / CATALOG_FILE, True)
            if not old.is_closed():
                old.close()  # this thread's connection; another thread's ends with its unit of work
            self._opened_for_erasing = True
        self._erasing.now = True
        try:
            yield
        finally:
            self._erasing.now = False
            if room.has_reserve(self.root):  # room made: writable from now on, for every thread
                self.read_only, self.read_only_reason = False, "is read-only for you"

    def _writable_database(self):
        """This library's database opened for writing (its -shm and -wal made), or None when the disk has no room."""
        db = open_database(self.root, self.database_url)
        try:
            db.connect(reuse_if_open=True)
            db.execute_sql("SELECT count(*) FROM sqlite_master").fetchone()  # the first read makes the -shm file
        except DRIVER_ERRORS:
            if not db.is_closed():
                db.close()
            return None
        return db

    def _disk_is_full(self, exc: Exception) -> bool:
        if self.database_url or self.read_only or "disk" not in str(exc).lower():
            return False
        try:
            return shutil.disk_usage(self.root).free < DISK_RESERVE
        except OSError:
            return False

    # -- which database this folder belongs to (see identity.py) -----------------------------------

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

    # -- lifecycle ---------------------------------------------------------------------------------

    @boundary
    def require_open(self) -> None:
        """Nothing to do but be called: the library's database becomes the one the models use outside a
        library's call (store modules that use the models across several calls bind it with `bound`)."""

    def bound(self):
        """A block in which the models use this library's database on this thread, and database errors
        come out as StoreErrors: for store modules that work on the models themselves (doctor, reparse)."""
        return store_call(self.db)

    def close(self) -> None:
        if self.catalog is not None:
            self.catalog.wait_saved()  # its file is written whole before the library counts as closed
        if not self.db.is_closed():
            self.db.close()

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def uses_postgres(self) -> bool:
        return is_postgres(self.db)

    # -- for views that read in worker threads ------------------------------------------------------

    @contextmanager
    def connection(self) -> Iterator[None]:
        """A block with a connection of this thread's own to the library's database, closed at its end: for
        worker threads, so that a thread left idle keeps none open. It is one unit of work: the names a query
        gives (in:COLLECTION) are looked up once in it (Search.looking_up_once)."""
        with self.db.connection_context(), self.looking_up_once():
            yield

    @boundary
    def change_token(self) -> tuple[int, int]:
        """A value that differs after any committed change to images, memberships or plans, by any process
        (catalog.change_token): the same value twice means nothing to read again."""
        return change_token(self.db, self.uses_postgres)

    # -- watched source folders (the work is in sources.py) ----------------------------------------

    @boundary
    def add_source(self, folder: Path | str, mode: str = "link", progress=None, cancel=None,
                   forget_if_cancelled: bool = False, forgetting=None):
        """Follow a folder: its images become the account's (linked where they are, or copied); scans it now.
        `forget_if_cancelled`: once `cancel()` stops the scan, the folder is not a source after all
        (`forgetting()` is called as that begins)."""
        from . import sources

        return sources.add_source(self, folder, mode, progress=progress, cancel=cancel,
                                  forget_if_cancelled=forget_if_cancelled, forgetting=forgetting)

    @boundary
    def check_source(self, folder: Path | str, mode: str | None = None) -> Path:
        """The folder add_source would follow, resolved; StoreError with the reason it would refuse it
        (AlreadyFollowed: a source holds it already). `mode`: the one it would be followed in ("link" or
        "copy"), checked against the sources it would take in (None: not checked)."""
        from . import sources

        return sources.check_new_source(self, folder, mode)

    @boundary
    def forget_added(self, folder: Path | str, taking_in=()) -> bool:
        """After a cancelled add: the folder is no source, unless it took in the sources `taking_in` (asked with
        sources_taken_in before the add) already; then it stays followed. Whether it is no source now."""
        from . import sources

        return sources.forget_add(self, folder, taking_in)

    @boundary
    def source_shared_note(self, folder: Path | str) -> str:
        """One sentence when another account follows this folder (or one holding it, or inside it): its files are
        theirs too, and this account's deletes leave them in place; '' otherwise."""
        from . import sources

        return sources.shared_note(self, Path(folder))

    @boundary
    def sources_taken_in(self, folder: Path | str):
        """The account's sources inside `folder` (a folder check_source accepted) that adding it takes in."""
        from . import sources

        return sources.taken_in(self, Path(folder))

    @boundary
    def source_caution(self, folder: Path | str, importing: bool = False) -> str:
        """For a folder check_source accepted: why following it (or, `importing`, importing it with its folders) may
        be far more than meant (the home folder, the filesystem's root, a folder holding the library), one sentence
        to ask about; '' if nothing."""
        from . import sources

        return sources.source_caution(self, Path(folder), importing)

    @boundary
    def source_holding(self, folder: Path | str) -> Path | None:
        """The account's watched folder that `folder` is or is inside of (files written there join the library
        as new images); None when none (or it is the downloads folder, which scans skip)."""
        from . import sources

        return sources.source_holding(self, Path(folder))

    @boundary
    def sources(self):
        from . import sources

        return sources.list_sources(self)

    @boundary
    def scan_sources(self, folder: Path | str | None = None, progress=None, cancel=None, wait: bool = True):
        """Rescan one source (or all): reads only what is new or changed. Returns a ScanReport per source.
        With `wait` off, a source another scan holds now is skipped, its report `busy`."""
        from . import sources

        if folder is None:
            return sources.scan_all(self, progress=progress, cancel=cancel)
        return [sources.scan_folder(self, folder, progress=progress, cancel=cancel, wait=wait)]

    @boundary
    def scan_paths(self, paths: Sequence[Path], wait: bool = True):
        """Look at just these paths (a watcher's events); returns a ScanReport per source they touch. With
        `wait` off, the paths of a source another scan holds now come back in its report's `waiting`."""
        from . import sources

        by_source: dict[int, tuple[Any, list[Path]]] = {}
        for path in paths:
            row = sources.source_of(self, Path(path))
            if row is not None:
                by_source.setdefault(row.id, (row, []))[1].append(Path(path))
        return sources.scan_many(self, list(by_source.values()), wait=wait)

    @boundary
    def remove_source(self, folder: Path | str) -> int:
        """Stop following a folder; its linked images' records go (the files stay). Returns how many went."""
        from . import sources

        return sources.remove_source(self, folder)

    @boundary
    def source_removal(self, folder: Path | str) -> "SourceRemoval":
        """What removing a source does (to ask first): how many images it drops from the library (`drops`: its
        linked images no other source has), and how many of its other images stay and why (the library's own
        copy, another source, the trash)."""
        from . import sources

        return sources.removal(self, sources.find_source(self, folder))

    @boundary
    def source_files(self, image_ids: Iterable[int]) -> "SourceFiles":
        """The files in watched folders that deleting these images takes with them (moved into the library's
        trash, or erased): how many, and the first few paths, to say in a question or a summary."""
        from . import sources

        return sources.source_files(self, image_ids)

    @boundary
    def make_thumbnails(self, cancel=None, limit: int | None = None) -> int:
        """Thumbnails for linked images that have none yet (newest first)."""
        from . import sources

        return sources.make_thumbnails(self, cancel=cancel, limit=limit)

    @boundary
    def walk_thumbnails(self, walk, limit: int = 20, cancel=None) -> int:
        """A few more thumbnails for linked images, where `walk` (sources.ThumbnailWalk) stopped last time."""
        return walk.step(self, limit, cancel)

    # -- the trash (the work is in trash.py) -------------------------------------------------------

    @boundary
    def trash(self, image_ids: Iterable[int]) -> int:
        """Move images to the trash: hidden everywhere, restorable for trash_days() days."""
        from . import trash

        self._check_writable()
        return len(trash.trash(self, image_ids))

    @boundary
    def restore(self, image_ids: Iterable[int], adopted: dict[int, str] | None = None, renamed=None) -> int:
        """Bring trashed images back exactly: record, files, favorite, collections, place in the order. A linked
        image whose folder is no longer followed comes back as the library's own copy: added to `adopted`
        ({id: folder}, to say so; trash.restore); a file put back under a new name (its old one taken meanwhile)
        goes into `renamed` (trash.renamed_sentence says it)."""
        from . import trash

        self._check_writable()
        return len(trash.restore(self, image_ids, adopted, renamed))

    @boundary
    def trashed(self, offset: int = 0, limit: int | None = None):
        """The account's trashed images (TrashedImage), the most recently deleted first (`limit` of them from
        `offset`: a page)."""
        from . import trash

        return trash.trashed(self, offset, limit)

    @boundary
    def trash_position(self, image_id: int) -> int | None:
        """The place of a trashed image in the trash's order, or None when it is not in the trash."""
        from . import trash

        return trash.trash_position(self, image_id)

    @boundary
    def newest_trashed(self):
        """When the last delete to the trash was (local, aware), or None: the trash is empty."""
        from . import trash

        return trash.newest_trashed(self)

    @boundary
    def count_trashed(self, until=None, excluding: Iterable[int] = ()) -> int:
        """Trashed images deleted at `until` or before (all without it), less those `excluding`."""
        from . import trash

        return trash.count_trashed(self, until, excluding)

    @boundary
    def trashed_ids_after(self, after: int, size: int, until=None) -> list[int]:
        """A batch of trashed ids above `after` (trash.walk_ids walks them all, a batch at a time)."""
        from . import trash

        return trash.trashed_ids_after(self, after, size, until)

    @boundary
    def trash_count(self) -> int:
        return Image.select().where(self._mine(), Image.trashed_at.is_null(False)).count()

    @boundary
    def trashed_ids(self) -> list[int]:
        """The ids of the account's trashed images."""
        from . import trash

        return trash.trashed_ids(self)

    @boundary
    def delete_forever(self, image_ids: Iterable[int]) -> int:
        """Erase images that are in the trash (NotFound for one that is not); on a full disk too (store/room.py)."""
        self._check_erasable()
        return self.delete(self._own_ids(image_ids, trashed=True))

    @boundary
    def empty_trash(self, older_than_days: float | None = None) -> int:
        """Erase every trashed image (or those trashed more than `older_than_days` ago); returns how many. On a full
        disk too (store/room.py)."""
        from . import trash

        self._check_erasable()
        ids = trash.trashed_ids(self, older_than_days)
        done: list[int] = []
        for chunk in chunked(ids, 500):
            try:
                self.delete(chunk)
            except NoRoomToErase as exc:  # the disk filled: how many of all were erased, not of this chunk
                if not done:
                    raise
                raise NoRoomToErase(self.root, done + exc.erased, len(ids)) from None
            done.extend(chunk)
        return len(ids)

    @boundary
    def expire_trash(self) -> int:
        """Erase what has been in the trash longer than trash_days() (start-up and doctor)."""
        from . import trash

        if self.read_only:
            return 0
        return self.empty_trash(trash.trash_days())

    @boundary
    def expire_lost(self) -> int:
        """Forget linked pictures gone from their folders for longer than trash_days() (sources.expire_lost:
        doctor, and every full rescan of the sources)."""
        from . import sources

        return sources.expire_lost(self)

    @boundary
    def finish_trash_moves(self) -> int:
        """Finish moves of linked files into or out of the trash that a kill interrupted."""
        from . import trash

        if self.read_only:
            return 0
        # (a killed delete or restore was finished on opening without a word: NEWUSER6 §12)
        done, self._moves_on_open = trash.finish_moves(self) + self._moves_on_open, 0
        return done

    @boundary
    def finish_erases(self) -> int:
        """Finish deleting the source files of linked images erased for good when a kill stopped it."""
        from . import sources

        if self.read_only:
            return 0
        done, self._erases_on_open = sources.finish_erases(self) + self._erases_on_open, 0
        return done

    # -- duplicates and near-duplicates (the work is in duplicates.py) -----------------------------

    @boundary
    def fill_perceptual_hashes(self, progress=None, cancel=None, share: float = 1.0) -> int:
        """Make the perceptual hash of images that have none yet (an older library; run in the background,
        working at most `share` of the time)."""
        from . import duplicates

        self._check_writable()
        return duplicates.fill_hashes(self, progress=progress, cancel=cancel, share=share)

    @boundary
    def make_minis(self, cancel=None, share: float = 1.0) -> int:
        """Make the mini thumbnails an older library lacks (store/minis.py; run in the background, working at most
        `share` of the time); 0 at once when the library is read-only for this account (the thumbnails are read)."""
        from . import minis

        if self.read_only:
            return 0
        return minis.make_missing(self.files, cancel=cancel, share=share)

    @boundary
    def fill_batches(self, cancel=None) -> int:
        """Make the batch key (variation stacks) of images that have none yet (an older library)."""
        from . import stacks

        self._check_writable()
        return stacks.fill_batches(self, cancel=cancel)

    @boundary
    def duplicates(self, distance: int | None = None, progress=None, cancel=None):
        """Groups (DuplicateGroup) of the account's images that are the same picture in other files
        (`progress(done, total)`, and `cancel()` raising duplicates.Cancelled when it answers True)."""
        from . import duplicates

        return duplicates.find_groups(self, distance, progress=progress, cancel=cancel)

    @boundary
    def merge_duplicates(self, keep: int, others: Iterable[int]) -> int:
        """Move `others` to the trash; their favorite and collections go to `keep`."""
        from . import duplicates

        self._check_writable()
        return duplicates.merge_into(self, int(keep), [int(i) for i in others])
