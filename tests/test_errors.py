"""Database and file errors reach the user as one sentence, never as a traceback."""
from __future__ import annotations

from datetime import datetime, timedelta

import peewee
import pytest

from store.errors import DatabaseFailed, FileFailed, LibraryLocked
from store.importer import ImportOptions, import_files
from store.library import Library
from store.records import Filters



def test_paged_search_with_a_count_hint_runs_on_both_back_ends(library, make_png):
    """The gallery pages a search with the count it has: PostgreSQL had no unary + for timestamps."""
    start = datetime(2026, 5, 1)
    for n, prompt in enumerate(["diamond sword", "ruby", "diamond shield"]):
        import_files(library, [make_png()], ImportOptions(prompt=prompt, generated_at=start + timedelta(days=n)))
    filters = Filters(search="diamond")
    count = library.count(filters)
    assert [r.prompt for r in library.page(filters, 0, 10, count_hint=count)] == ["diamond shield", "diamond sword"]
    assert [r.prompt for r in library.page(filters, 1, 10, count_hint=count)] == ["diamond sword"]


def _failing(exc):
    def fail(*args, **kwargs):
        raise exc
    return fail


@pytest.mark.parametrize("exc, kind, words", [
    (peewee.OperationalError("database is locked"), LibraryLocked, "busy"),
    (peewee.OperationalError("disk I/O error"), DatabaseFailed, "disk I/O error"),
    (peewee.DatabaseError("database disk image is malformed"), DatabaseFailed, "malformed"),
    (peewee.InterfaceError("connection already closed"), DatabaseFailed, "cannot be reached"),
    (peewee.IntegrityError("UNIQUE constraint failed"), DatabaseFailed, "UNIQUE"),
    (OSError(28, "No space left on device", "/lib/originals/ab"), FileFailed,
     "(/lib/originals/ab): the disk is full (No space left on device)"),
    (peewee.OperationalError('could not extend file "base/16384/2619": No space left on device'), DatabaseFailed,
     "database server's disk is full"),
    (PermissionError(13, "Permission denied", "/lib/thumbs/x"), FileFailed, "Permission denied"),
])
def test_driver_and_file_errors_become_store_errors(library, make_png, monkeypatch, exc, kind, words):
    import_files(library, [make_png()], ImportOptions(prompt="one"))
    (record,) = library.page()
    monkeypatch.setattr(peewee.Database, "execute_sql", _failing(exc))
    for call in (lambda: library.get(record.id), lambda: library.toggle_favorite(record.id),
                 lambda: library.page(Filters(search="one"), 0, 5, count_hint=1),
                 lambda: list(library.iter_images(Filters(search="zz"))), lambda: library.collections()):
        with pytest.raises(kind) as raised:
            call()
        message = str(raised.value)
        assert words in message and message.endswith(".") and "\n" not in message
        assert raised.value.__cause__ is exc


def test_psycopg2_errors_become_store_errors(library, monkeypatch):
    import psycopg2

    monkeypatch.setattr(peewee.Database, "execute_sql",
                        _failing(psycopg2.OperationalError("server closed the connection unexpectedly\nmore")))
    with pytest.raises(DatabaseFailed, match="cannot be reached: server closed the connection unexpectedly.$"):
        library.collections()


def test_a_postgresql_library_connects_again_after_the_server_drops_its_connections(
        tmp_path, make_png, postgres_server):
    """NEWUSER6 #2: after the server restarted, a thread whose connection had died said "connection already
    closed" at every later call, until the app was restarted. Each thread now connects again: reads and
    writes on this thread and on another one work once the server is there, and nothing is done twice."""
    from concurrent.futures import ThreadPoolExecutor

    import psycopg2

    name, url = postgres_server.new_database()
    lib = Library(tmp_path / "lib", account="alice", database_url=url)
    worker = ThreadPoolExecutor(max_workers=1)  # one thread that lives on, as the app's watcher does
    try:
        import_files(lib, [make_png(), make_png(colour=(1, 2, 3))], ImportOptions(prompt="kept"))
        first, second = lib.ids(Filters())

        def in_another_thread(call):
            return worker.submit(call).result()

        assert in_another_thread(lambda: lib.count(Filters())) == 2  # that thread has its own connection now

        def drop_connections():  # as a server restart or an administrator's kill does
            admin = psycopg2.connect(host="127.0.0.1", port=postgres_server.port, user="postgres", dbname=name)
            admin.autocommit = True
            with admin.cursor() as cursor:
                cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()")
                assert cursor.fetchone()[0] >= 2
            admin.close()

        drop_connections()
        lib.set_favorite([first])  # a write in a transaction: its BEGIN meets the dead connection
        assert lib.ids(Filters(search="is:fav")) == [first]
        assert in_another_thread(lambda: lib.ids(Filters(search="is:fav"))) == [first]
        drop_connections()
        assert lib.count(Filters()) == 2  # a read
        assert in_another_thread(lambda: lib.toggle_favorite(second)) is not None
        assert sorted(lib.ids(Filters(search="is:fav"))) == sorted([first, second])
    finally:
        worker.shutdown()
        lib.close()
        postgres_server.drop_database(name)


def test_a_postgresql_connection_is_kept_for_the_next_unit_of_work_but_never_a_dead_one(
        tmp_path, make_png, postgres_server):
    """The app reads each search in a `Library.connection()` block on a worker thread of its own, which connected
    anew every time: a new server process, whose first plans on the image table read its indexes' descriptions
    (18 ms more a search at load 4, bench/README.md). A block's connection now serves the next block, on any
    thread; blocks at once each have their own, and at most IDLE_KEPT are kept after; one the server dropped
    meanwhile is not used again: the next block connects anew and answers."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import psycopg2

    from store.database import IDLE_KEPT

    name, url = postgres_server.new_database()
    lib = Library(tmp_path / "lib", account="alice", database_url=url)

    def server_processes(terminate: bool = False) -> set[int]:
        admin = psycopg2.connect(host="127.0.0.1", port=postgres_server.port, user="postgres", dbname="postgres")
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f"SELECT pid{', pg_terminate_backend(pid)' if terminate else ''} FROM pg_stat_activity "
                           "WHERE datname = %s", (name,))
            pids = {row[0] for row in cursor.fetchall()}
        admin.close()
        return pids

    def unit(together: threading.Barrier | None = None) -> int:
        with lib.connection():
            assert lib.count(Filters(search="kept")) == 1
            if together is not None:
                together.wait(timeout=30)  # every block open at once
            return lib.db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]

    def on_new_threads(count: int = 1) -> list[int]:  # a thread for each unit, as the app's thread workers
        together = threading.Barrier(count) if count > 1 else None
        with ThreadPoolExecutor(max_workers=count) as workers:
            return [f.result() for f in [workers.submit(unit, together) for _ in range(count)]]

    try:
        import_files(lib, [make_png()], ImportOptions(prompt="kept"))
        lib.close()  # this thread's connection given back
        (first,) = on_new_threads()
        assert on_new_threads() == [first]  # fails without: a server process of its own for every block
        at_once = on_new_threads(IDLE_KEPT + 1)
        assert len(set(at_once)) == IDLE_KEPT + 1
        assert len(server_processes()) == IDLE_KEPT  # the others closed
        dropped = server_processes(terminate=True)  # as a server restart or an administrator's kill does
        (again,) = on_new_threads()
        assert again not in dropped
    finally:
        lib.close()
        lib.db.close_idle()
        postgres_server.drop_database(name)


def test_a_locked_sqlite_library_says_busy(tmp_path, make_png):
    """A real lock held by another connection, with a short wait: LibraryLocked, not OperationalError."""
    import sqlite3

    lib = Library(tmp_path / "locked", account="alice")
    import_files(lib, [make_png()], ImportOptions(prompt="one"))
    (record,) = lib.page()
    lib.db.close()
    lib.db.init(lib.db.database, timeout=0.05, pragmas={"busy_timeout": 50, "journal_mode": "wal"})
    holder = sqlite3.connect(tmp_path / "locked" / "library.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(LibraryLocked):
            lib.toggle_favorite(record.id)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert lib.toggle_favorite(record.id) is True
    lib.close()


def test_a_full_sqlite_library_says_the_disk_is_full_and_changes_nothing(tmp_path, make_png):
    """New-user test 7 #3: with the disk full under an open library, `f` and `d` said "The library database
    failed: cannot rollback - no transaction is active." SQLite rolls a transaction back itself when it cannot
    grow the database (SQLITE_FULL), and peewee's rollback then failed and hid the reason. The database is held
    at its size here (max_page_count, on every connection), as a full disk holds it."""
    from store.database import store_call

    lib = Library(tmp_path / "full", account="alice")
    import_files(lib, [make_png() for _ in range(3)], ImportOptions(prompt="one"))
    ids = lib.ids()
    lib.db.execute_sql("CREATE TABLE scratch (x TEXT)")
    pages = lib.db.execute_sql("PRAGMA page_count").fetchone()[0]
    lib.db.pragma("max_page_count", pages, permanent=True)
    with pytest.raises(DatabaseFailed) as full:  # a write of one statement: SQLite undoes the statement
        for filled in range(10_000):  # fill what room the pages have left
            lib.create_collection(f"{filled:05d} " + "x" * 90)
    said = ("The disk holding the library database is full: nothing was saved; free some space (erasing images in "
            "the trash frees theirs) and try again.")  # the trash can be erased on a full disk (new-user test 8 #11)
    assert str(full.value) == said
    names = {c.name for c in lib.collections()}
    with pytest.raises(DatabaseFailed) as refused:  # a transaction of several: SQLite undoes all of it
        with store_call(lib.db), lib.db.atomic():
            lib.db.execute_sql("INSERT INTO scratch VALUES ('first')")
            for _ in range(100):
                lib.db.execute_sql("INSERT INTO scratch VALUES (?)", ("x" * 4000,))
    assert str(refused.value) == said
    assert lib.db.execute_sql("SELECT count(*) FROM scratch").fetchone()[0] == 0
    assert sorted(lib.ids()) == sorted(ids) and {c.name for c in lib.collections()} == names
    lib.db.pragma("max_page_count", 1_000_000, permanent=True)  # space again: writes go through
    assert lib.set_favorite(ids) == len(ids)
    lib.close()


def test_programming_errors_are_not_hidden(library, monkeypatch):
    monkeypatch.setattr(peewee.Database, "execute_sql", _failing(KeyError("bug")))
    with pytest.raises(KeyError):
        library.collections()


def test_command_line_never_prints_a_traceback_for_database_errors(tmp_path, make_png, capsys, monkeypatch):
    """The database fails after the library opened (a lock, a lost server): one line on stderr, exit 1."""
    from tui import cli

    root = tmp_path / "lib"
    lib = Library(root, account="alice")
    import_files(lib, [make_png()], ImportOptions(prompt="one"))
    lib.close()
    real = peewee.Database.execute_sql

    def locked_on_images(self, sql, *args, **kwargs):
        if 'FROM "image"' in sql:
            raise peewee.OperationalError("database is locked")
        return real(self, sql, *args, **kwargs)

    monkeypatch.setattr(peewee.Database, "execute_sql", locked_on_images)
    for args in (["list"], ["info", "1"], ["favorite", "1"]):
        code = cli.main(["--library", str(root), *args])
        err = capsys.readouterr().err
        assert code == 1, args
        assert err.startswith("myimages: The library is busy") and len(err.strip().splitlines()) == 1


def test_command_line_file_errors_are_one_line(tmp_path, make_png, capsys, monkeypatch):
    from tui import cli

    root = tmp_path / "lib"
    lib = Library(root, account="alice")
    import_files(lib, [make_png()], ImportOptions(prompt="one"))
    (record,) = lib.page()
    lib.close()
    target = tmp_path / "out"
    target.write_text("a file where a folder should be")
    code = cli.main(["--library", str(root), "export", str(record.id), "--to", str(target / "sub")])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("myimages: ") and "Traceback" not in err



def test_command_line_file_errors_outside_the_store_are_one_line(capsys, monkeypatch):
    from tui import cli

    def full_disk(args):
        raise OSError(28, "No space left on device", "/downloads/1-x.png")

    monkeypatch.setitem(cli.COMMANDS, "list", full_disk)
    assert cli.main(["list"]) == 1
    assert capsys.readouterr().err == ("myimages: A file could not be written (/downloads/1-x.png): the disk is "
                                       "full (No space left on device); free some space and try again.\n")
