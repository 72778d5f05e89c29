"""Nothing the user owns is lost: a library folder knows its database, doctor removes only its own
orphans, imports and deletes of the same bytes never leave a record without its file, and a full
or read-only disk still reads and loses nothing. (Issue #10, items 1, 2, 4 and 6.)"""
from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from store.doctor import check
from store.errors import StoreError
from store.importer import ImportOptions, import_files
from store.library import Library
from store.records import Filters
from tui.cli import main

from .conftest import ROOT, write_png


def library_files(root: Path) -> list[Path]:
    return sorted(p for top in ("originals", "thumbs", "minis") for p in (root / top).rglob("*") if p.is_file())


def age(paths, seconds=3600):
    for path in paths:
        stamp = path.stat().st_mtime - seconds
        os.utime(path, (stamp, stamp), follow_symlinks=False)


@pytest.fixture
def filled(tmp_path, make_png):
    """A closed SQLite library of three images whose files are an hour old."""
    root = tmp_path / "lib"
    with Library(root, account="alice") as library:
        import_files(library, [make_png(), make_png(), make_png()])
    age(library_files(root))
    return root


# -- 1. a library folder knows its database --------------------------------------------------------

@pytest.mark.parametrize("damage", ["empty", "missing"])
def test_a_library_without_its_database_is_refused_and_doctor_removes_nothing(filled, capsys, damage):
    before = library_files(filled)
    if damage == "empty":
        (filled / "library.db").write_bytes(b"")
    else:
        (filled / "library.db").unlink()
    code = main(["doctor", "--library", str(filled)])
    err = capsys.readouterr().err
    assert code == 2 and "has lost its database file library.db (6 image files are still there)" in err
    assert library_files(filled) == before
    assert not (filled / "library.db").exists() or (filled / "library.db").stat().st_size == 0


def test_files_without_records_or_marker_are_refused(tmp_path, capsys):
    """A folder that happens to hold originals/ (a library made before markers, its database lost)."""
    folder = tmp_path / "pictures"
    mine = write_png(folder / "originals" / "holiday.png")
    write_png(folder / "thumbs" / "x" / "cat.png")
    age([mine])
    code = main(["doctor", "--library", str(folder)])
    assert code == 2 and "holds 2 image files but no records" in capsys.readouterr().err
    assert mine.exists() and not (folder / "library.db").exists()


def test_postgres_library_opened_without_its_url_is_refused(tmp_path, postgres_server, make_png, capsys):
    name, url = postgres_server.new_database()
    try:
        root = tmp_path / "team"
        with Library(root, account="alice", database_url=url) as library:
            import_files(library, [make_png()])
        age(library_files(root))
        before = library_files(root)
        assert not (root / "library.db").exists()
        code = main(["doctor", "--library", str(root)])
        err = capsys.readouterr().err
        assert code == 2 and "keeps its records in PostgreSQL" in err and "MYIMAGES_DATABASE_URL" in err
        assert "@" in err and "postgresql://postgres@127.0.0.1" in err  # the server, never a password
        assert library_files(root) == before and not (root / "library.db").exists()
        # and the database with another folder: never taken for a new library there
        code = main(["doctor", "--remove-missing", "--library", str(tmp_path / "elsewhere"), "--database-url", url])
        assert code == 2 and "belongs to another library folder" in capsys.readouterr().err
        with Library(root, account="alice", database_url=url) as library:
            assert library.total() == 1
    finally:
        from store import library as library_module

        db = library_module._DATABASES.pop(url, None)
        if db is not None:
            db.close()
        postgres_server.drop_database(name)


def test_a_sqlite_library_opened_with_a_postgres_url_is_refused(filled, capsys):
    code = main(["list", "--library", str(filled), "--database-url", "postgresql://u:secret@127.0.0.1:1/x"])
    err = capsys.readouterr().err
    assert code == 1 and "keeps its records in its own file library.db" in err and "secret" not in err


def test_another_librarys_database_is_refused(tmp_path, make_png, capsys):
    one, two = tmp_path / "one", tmp_path / "two"
    for root in (one, two):
        with Library(root) as library:
            import_files(library, [make_png()])
    shutil.copy(one / "library.db", two / "library.db")
    assert main(["list", "--library", str(two)]) == 1
    assert "holds the records of another library" in capsys.readouterr().err


def test_a_library_made_before_markers_is_adopted(filled):
    (filled / "library.json").unlink()
    con = sqlite3.connect(filled / "library.db")
    con.execute("DELETE FROM setting WHERE key='library_id'")
    con.commit()
    con.close()
    with Library(filled) as library:
        assert library.total() == 3
    assert (filled / "library.json").exists()
    with Library(filled) as library:
        assert library.total() == 3


def test_doctor_removes_only_its_own_names_in_its_own_folders(filled, tmp_path):
    outside = tmp_path / "outside"
    precious = write_png(outside / "aa" / ("ab" * 32 + ".png"))  # a hash-like name, but not ours
    user_file = write_png(filled / "originals" / "notes" / "my drawing.png")
    odd_name = write_png(filled / "originals" / "ab" / "ab-copy.png")
    orphan = write_png(filled / "originals" / "cd" / ("cd" * 32 + ".png"))
    shutil.rmtree(filled / "thumbs")
    (filled / "thumbs").symlink_to(outside)
    age([precious, user_file, odd_name, orphan])
    with Library(filled) as library:
        report = check(library, min_age=60)
    assert precious.exists() and user_file.exists() and odd_name.exists()
    assert report.orphans_removed == [orphan] and not orphan.exists()
    assert user_file in report.left_alone and odd_name in report.left_alone
    assert report.not_walked == [filled / "thumbs"]
    assert any("is a link" in line for line in report.lines())


def test_doctor_waits_for_no_import(filled):
    """While another process is between writing files and committing their records, doctor removes nothing."""
    orphan = write_png(filled / "originals" / "cd" / ("cd" * 32 + ".png"))
    age([orphan])
    with Library(filled) as library:
        with Library(filled).files_lock.adding():  # what an import holds
            report = check(library, min_age=0)
        assert report.busy and orphan.exists() and not report.orphans_removed
        assert check(library, min_age=0).orphans_removed == [orphan]


def test_doctor_says_which_files_it_left_for_being_recent(filled):
    """NEWUSER6 #4: after a killed import, doctor said "0 orphan files removed" and left 29 files no record uses
    without a word (they were under its minimum age, as a running import's are). It now says so."""
    orphans = [write_png(filled / "originals" / "cd" / (f"cd{n}{n}" + "cd" * 30 + ".png")) for n in range(3)]
    used = next((filled / "originals").rglob("*.png"))
    with Library(filled) as library:
        report = check(library, min_age=600)
        assert all(p.exists() for p in orphans) and not report.orphans_removed
        assert sorted(report.recent) == sorted(orphans) and used not in report.recent
        assert ("3 files no record uses are less than 10 minutes old and were left (an import may be writing them): "
                "run `myimages doctor` again later") in report.lines()
        age(orphans)
        again = check(library, min_age=600)
        assert sorted(again.orphans_removed) == sorted(orphans) and not again.recent


# -- 2. doctor is per account -------------------------------------------------------------------------

def test_doctor_reports_and_repairs_only_the_acting_account(tmp_path, make_png):
    root = tmp_path / "lib"
    alice, bob = Library(root, account="alice"), Library(root, account="bob")
    import_files(alice, [make_png(), make_png()])
    import_files(bob, [make_png(), make_png()])
    bob.set_plan("premium")
    for record in bob.page() + alice.page()[:1]:
        record.path.unlink()
    report = check(alice, min_age=0, remove_missing=True)
    text = "\n".join(report.lines())
    bob_ids = [r.id for r in bob.page()]
    assert len(bob_ids) == 2
    assert report.missing_originals == report.records_removed and len(report.records_removed) == 1
    assert not any(f"#{i}" in text for i in bob_ids)
    assert bob.total() == 2 and alice.total() == 1


def test_remove_missing_refuses_when_every_image_is_missing(filled):
    for path in (filled / "originals").rglob("*.png"):
        path.unlink()
    with Library(filled) as library:
        report = check(library, min_age=0, remove_missing=True)
        assert len(report.missing_originals) == 3 and not report.records_removed
        assert "looks like the wrong library folder" in "\n".join(report.lines())
        assert library.total() == 3


# -- 4. a record never points at a missing file ---------------------------------------------------------

RACER = r"""
import sys
from pathlib import Path
from store.importer import ImportOptions, import_files
from store.library import Library
lib = Library(sys.argv[1], account=sys.argv[2])
files = sorted(Path(sys.argv[3]).iterdir())
for round in range(int(sys.argv[4])):
    import_files(lib, files, batch=8)
    ids = [r.id for r in lib.page(limit=1000)]
    lib.delete(ids[round % 2::2])
print("done")
"""


def test_imports_and_deletes_of_the_same_bytes_in_two_processes(tmp_path):
    shared = tmp_path / "shared-files"
    for n in range(16):
        write_png(shared / f"{n}.png", colour=(n * 15, 5, 5))
    root = tmp_path / "lib"
    Library(root).close()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(root), name, str(shared), "25"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for name in ("alice", "bob")]
    for racer in racers:
        out, err = racer.communicate(timeout=300)
        assert racer.returncode == 0 and "done" in out, err
    con = sqlite3.connect(root / "library.db")
    rows = con.execute("SELECT sha256, ext FROM image").fetchall()
    con.close()
    assert rows
    lost = [r for r in rows if not (root / "originals" / r[0][:2] / f"{r[0]}.{r[1]}").exists()
            or not (root / "thumbs" / r[0][:2] / f"{r[0]}.png").exists()]
    assert lost == []


def test_a_delete_never_removes_a_file_an_import_is_about_to_reference(tmp_path, make_png, monkeypatch):
    """Bob deletes his last copy of some bytes while Alice's import has found the file but not yet committed."""
    from store.files import FileStore

    root = tmp_path / "lib"
    picture = make_png()
    alice, bob = Library(root, account="alice"), Library(root, account="bob")
    import_files(bob, [picture])
    bobs = bob.page()[0]
    stored, go = threading.Event(), threading.Event()
    real_store = FileStore.store

    def store_then_pause(self, *args, **kwargs):
        result = real_store(self, *args, **kwargs)
        stored.set()
        assert go.wait(30)
        return result

    monkeypatch.setattr(FileStore, "store", store_then_pause)
    importing = threading.Thread(target=import_files, args=(alice, [picture]))
    importing.start()
    assert stored.wait(30)
    deleting = threading.Thread(target=bob.delete, args=([bobs.id],))
    deleting.start()
    deleting.join(timeout=2)  # long enough for a delete that does not wait for the import to finish
    go.set()
    importing.join(30)
    deleting.join(30)
    assert bob.total() == 0 and alice.total() == 1
    assert alice.page()[0].path.exists() and alice.page()[0].thumbnail_path.exists()


def test_a_failed_commit_leaves_no_file(tmp_path, make_png, monkeypatch):
    with Library(tmp_path / "lib") as library:
        import_files(library, [make_png()])
        before = library_files(library.root)

        def broken(*args, **kwargs):
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(Library, "_insert_rows", broken)
        report = import_files(library, [make_png(), make_png()])
        assert not report.failed and report.not_tried == 2  # stopped: the next batch cannot fit either
        assert "disk holding the library database is full" in report.stopped
        assert library_files(library.root) == before


# -- 6. a full or read-only disk ------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small disk needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode:
        pytest.skip(f"the kernel refused a tmpfs mount: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def noisy_png(path: Path, seed: int) -> Path:
    """About 270 KB of PNG that does not compress."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3)).save(path)
    return path


def test_import_onto_a_small_disk_takes_what_fits(small_disk, tmp_path, capsys):
    sources = [noisy_png(tmp_path / "in" / f"{n:02}.png", n) for n in range(12)]
    assert 250_000 < sources[0].stat().st_size < 300_000
    root = small_disk / "lib"
    report = import_files(Library(root), sources)
    # it stops at the first file that does not fit (each takes an original, a thumbnail and a mini: 4 of them fit)
    assert 4 <= len(report.imported) < 12 and not report.failed
    assert report.not_tried == 12 - len(report.imported) and "disk holding the library is full" in report.stopped
    with Library(root) as library:  # no orphan: every file is a record's
        files = {p.name.split(".")[0] for p in library_files(root)}
        assert files == {r.sha256 for r in library.page(limit=100)}
    # the disk is full now: reading still works
    filler = small_disk / "filler"
    try:
        with open(filler, "wb") as handle:  # the last blocks (the import may have taken them all: then even
            while True:                      # this file cannot be made)
                handle.write(b"\0" * 65536)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    capsys.readouterr()
    assert main(["list", "--library", str(root)]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == len(report.imported)
    assert main(["doctor", "--library", str(root)]) == 0
    assert "database integrity: ok" in capsys.readouterr().out


def fill_disk(mount: Path) -> Path:
    """Write zeros until the disk is full; the file that took the last blocks."""
    filler = mount / "filler"
    try:
        with open(filler, "wb") as handle:
            while True:
                handle.write(b"\0" * 65536)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    return filler


def test_a_library_opened_on_a_full_disk_says_what_to_do_and_when_there_is_room_again(small_disk, make_png):
    """New-user test 7 #4: an app started on a full disk said "Read only: this library is on a full disk, nothing
    in it can be changed." for as long as it ran, also once space was freed. It says what to do, and that there
    is room again once there is."""
    root = small_disk / "lib"
    with Library(root) as library:
        import_files(library, [make_png()])
        first = library.page()[0].id
    filler = fill_disk(small_disk)
    library = Library(root)
    assert library.read_only and library.read_only_reason == "is on a full disk"
    with pytest.raises(StoreError) as refused:
        library.toggle_favorite(first)
    assert str(refused.value).endswith("not change it; free some space on its disk, or erase images in the trash to "
                                       "free theirs (t in the app, `myimages trash empty`), then open the library again.")
    filler.unlink()
    with pytest.raises(StoreError) as refused:
        library.toggle_favorite(first)
    assert "; there is room again (" in str(refused.value)
    assert str(refused.value).endswith("KB free): open the library again to change it.")
    library.close()
    with Library(root) as again:
        assert not again.read_only and again.toggle_favorite(first) is True


def test_a_read_only_library_reads_and_refuses_writes_plainly(small_disk, make_png, tmp_path, capsys):
    root = small_disk / "lib"
    with Library(root, account="alice") as library:
        import_files(library, [make_png()])
        library.create_collection("Keep")
        first = library.page()[0].id
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    assert main(["list", "--library", str(root)]) == 0 and capsys.readouterr().out.strip()
    assert main(["info", str(first), "--library", str(root)]) == 0
    out = tmp_path / "out"
    assert main(["export", str(first), "--to", str(out), "--library", str(root)]) == 0
    assert len(list(out.iterdir())) == 1
    capsys.readouterr()
    assert main(["favorite", str(first), "--library", str(root)]) == 1
    assert "is read-only for you" in capsys.readouterr().err
    assert main(["list", "--library", str(root), "--account", "carol"]) == 0  # a new name only sees the public
    with Library(root) as library:
        assert library.read_only and library.count(Filters(search="")) == 1
        with pytest.raises(StoreError, match="read-only"):
            library.delete([first])


@pytest.mark.skipif(os.geteuid() != 0, reason="creating system users needs root")
def test_another_users_library_is_read_only_for_a_second_user():
    """Alice's own library (umask 022): Bob may read it; browsing, info, search and export work for him."""
    import store.export  # noqa: F401 - the forked users may not read the interpreter's folder
    from PIL import Image

    from .system_users import shared_folder, temporary_team

    Image.init()
    with temporary_team("alice", "bob") as team:
        alice, bob = team.users
        shared = shared_folder(team)
        library = shared / "alices-library"
        picture = write_png(shared / "in" / "ring.png")
        os.chmod(picture.parent, 0o755)
        os.chmod(picture, 0o644)
        done = alice.run(main, ["import", "--library", str(library), str(picture), "--prompt", "a ruby ring"],
                         umask=0o022)
        assert done.code == 0, done
        seen = bob.run(main, ["list", "--public", "--search", "ruby", "--library", str(library)], umask=0o022)
        assert seen.code == 0 and "a ruby ring" in seen.stdout, seen
        info = bob.run(main, ["info", "1", "--library", str(library)], umask=0o022)
        assert info.code == 0 and "a ruby ring" in info.stdout, info
        exported = bob.run(main, ["export", "1", "--to", str(bob.home / "out"), "--library", str(library)],
                           umask=0o022)
        assert exported.code == 0, exported
        refused = bob.run(main, ["collection", "create", "Mine", "--library", str(library)], umask=0o022)
        assert refused.code == 1 and "is read-only for you" in refused.stderr, refused
        assert sorted(p.name for p in library.iterdir()) == [".files.lock", "disk-reserve", "library.db",
                                                              "library.json", "minis", "originals", "thumbs"]


async def test_the_app_browses_a_read_only_library_and_says_so_on_a_write(small_disk, make_png):
    from tui.app import MyImagesApp

    from .ui import notices, settle, wait_until

    root = small_disk / "lib"
    with Library(root) as library:
        import_files(library, [make_png(), make_png()])
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    library = Library(root)
    app = MyImagesApp(library, images="none")
    async with app.run_test(size=(80, 24)) as pilot:
        shown = notices(app)
        await settle(pilot, app)
        await pilot.press("right", "f")
        await wait_until(pilot, lambda: any("read-only" in text for text in shown))
        await pilot.press("/", "x")
        await settle(pilot, app)
        assert app.is_running
    assert library.count(Filters(favorite="favorites")) == 0


async def test_the_app_on_a_full_disk_says_what_to_do_and_when_there_is_room_again(small_disk, make_png):
    from tui.app import MyImagesApp

    from .ui import notices, settle, wait_until

    root = small_disk / "lib"
    with Library(root) as library:
        import_files(library, [make_png(), make_png()])
    filler = fill_disk(small_disk)
    library = Library(root)
    app = MyImagesApp(library, images="none")
    async with app.run_test(size=(80, 24)) as pilot:
        shown = notices(app)
        await settle(pilot, app)
        await pilot.press("f")
        await wait_until(pilot, lambda: any("free some space on its disk, or erase images in the trash" in text
                                            for text in shown))
        filler.unlink()
        await pilot.press("f")  # said at once, though a burst of write keys is told once: it has news
        await wait_until(pilot, lambda: any("open the library again to change it." in text for text in shown))
    library.close()


def read_only_app(root: Path):
    """The library in `root`, which opens read only, and the app on it: (library, app)."""
    from tui.app import MyImagesApp

    library = Library(root)
    assert library.read_only
    return library, MyImagesApp(library, images="none")


def noisy_library(mount: Path, tmp_path: Path, images: int) -> tuple[Path, list[int], dict[int, list[Path]]]:
    """A library on `mount` (made 6 MB) with `images` pictures of about 480 KB that do not compress, all but the
    last in the trash: (its folder, the ids, each trashed image's files)."""
    subprocess.run(["mount", "-o", "remount,size=6m", str(mount)], check=True)
    from PIL import Image

    sources = []
    for n in range(images):
        sources.append(tmp_path / "in" / f"noise{n}.png")
        sources[-1].parent.mkdir(parents=True, exist_ok=True)
        Image.frombytes("RGB", (400, 400), os.urandom(400 * 400 * 3)).save(sources[-1])
    root = mount / "lib"
    with Library(root) as library:
        assert not import_files(library, sources).failed
        ids = sorted(library.ids())
        library.trash(ids[:-1])
        files = {item.record.id: [item.record.path, item.record.thumbnail_path] for item in library.trashed()}
    assert all(path.exists() for paths in files.values() for path in paths) and len(files) == images - 1
    return root, ids, files


def test_on_a_full_disk_the_trash_is_erased_to_make_room(small_disk, tmp_path, capsys):
    """New-user test 8 #11: on a full disk neither `trash empty` nor `delete --permanent` (nor the app) could erase
    the library's own trash: "free some space", with no way to. The library keeps a reserve (disk-reserve, 512 KB
    of its own) that gives SQLite the room to commit the erase first; the files go after. Fails without (exit 1,
    "you can browse, search and download, not change it")."""
    root, ids, files = noisy_library(small_disk, tmp_path, 4)
    reserve = root / "disk-reserve"
    assert reserve.stat().st_size == 512 * 1024 and not reserve.read_bytes().strip(b"\0")
    fill_disk(small_disk)
    capsys.readouterr()
    assert main(["delete", "--permanent", str(ids[0]), str(ids[1]), "--yes", "--library", str(root)]) == 0
    assert capsys.readouterr().out.startswith("2 images deleted (erased)")
    assert not any(path.exists() for path in files[ids[0]] + files[ids[1]])  # their files went, after the commit
    assert all(path.exists() for path in files[ids[2]])
    assert reserve.exists()  # made again: the erase freed more than twice its size
    fill_disk(small_disk)  # full again: a library opened now is read only, and its trash can still be erased
    library = Library(root)
    assert library.read_only and [item.record.id for item in library.trashed()] == [ids[2]]
    assert library.empty_trash() == 1 and not library.read_only
    assert not any(path.exists() for path in files[ids[2]]) and library.ids() == [ids[3]] and library.trashed() == []
    assert library.get(ids[3]).path.exists()
    library.close()
    with Library(root) as library:
        report = check(library, min_age=0)
        assert report.integrity == "ok" and report.clean


def test_on_a_full_disk_without_the_reserve_an_erase_says_so_and_changes_nothing(small_disk, tmp_path, capsys):
    root, ids, files = noisy_library(small_disk, tmp_path, 2)
    (root / "disk-reserve").unlink()  # a library older than the reserve, on a disk that filled before it opened
    fill_disk(small_disk)
    capsys.readouterr()
    assert main(["trash", "empty", "--yes", "--library", str(root)]) == 1
    err = capsys.readouterr().err
    assert "is full: even erasing images needs a little room for the database to record it" in err, err
    assert "nothing was erased: free some space on its disk, then try again." in err
    assert all(path.exists() for path in files[ids[0]])
    with Library(root) as library:
        assert [item.record.id for item in library.trashed()] == [ids[0]]


def test_an_erase_on_a_full_disk_leaves_the_library_writable_only_when_it_made_room(small_disk, make_png):
    """Library.open_for_erasing left a library opened read only on a full disk writable for the rest of the session,
    however little the erase freed: after erasing a small image (the reserve given up to record it, the disk full
    again) an import or a favourite went on to fail on the disk. The library is writable for the erase alone (for the
    thread erasing; another thread meanwhile is refused), and after it only when the erase made room (the disk
    reserve is back); else read only again, with the same sentence. Fails without (read_only was False after it)."""
    subprocess.run(["mount", "-o", "remount,size=6m", str(small_disk)], check=True)  # room for the reserve
    root = small_disk / "lib"
    with Library(root) as library:
        import_files(library, [make_png(), make_png(), make_png()])
        ids = sorted(library.ids())
        library.trash(ids[:2])
    assert (root / "disk-reserve").exists()
    fill_disk(small_disk)
    library = Library(root)
    assert library.read_only and library.read_only_reason == "is on a full disk"
    seen_by_another_thread: list[bool] = []
    real = library._erase_now

    def erase_now(part):
        thread = threading.Thread(target=lambda: seen_by_another_thread.append(library.read_only))
        thread.start()
        thread.join()
        assert not library.read_only  # this thread erases
        return real(part)

    library._erase_now = erase_now  # type: ignore[method-assign]
    assert library.delete_forever([ids[0]]) == 1  # a small image: the reserve went to record it, and is not back
    assert seen_by_another_thread == [True]
    assert not (root / "disk-reserve").exists()
    assert library.read_only and library.read_only_reason == "is on a full disk"
    with pytest.raises(StoreError, match="is on a full disk: you can browse"):
        library.toggle_favorite(ids[2])
    (small_disk / "filler").unlink()  # room again: the next erase makes the reserve again, and the library writable
    assert library.delete_forever([ids[1]]) == 1
    assert (root / "disk-reserve").exists() and not library.read_only
    assert library.toggle_favorite(ids[2]) is True
    library.close()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_the_app_on_a_full_disk_opens_the_trash_and_empties_it(small_disk, tmp_path, size):
    """New-user test 8 #11: on a full disk `t` did not open the trash (the read-only notice instead). It opens, Empty
    trash erases (which makes room) and the library is no longer read only. Fails without (t refused)."""
    from tui.confirm_delete import ConfirmDeleteScreen
    from tui.trash_screen import TrashScreen

    from .ui import notices, settle, wait_until

    root, ids, files = noisy_library(small_disk, tmp_path, 3)
    fill_disk(small_disk)
    library, app = read_only_app(root)
    async with app.run_test(size=size) as pilot:
        shown = notices(app)
        await settle(pilot, app)
        assert "read only" in app.screen.sub_title
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and app.screen.loaded)
        await settle(pilot, app)
        await pilot.press("r")  # a restore needs room: said, nothing asked
        await wait_until(pilot, lambda: any("is on a full disk" in text for text in shown))
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDeleteScreen))
        await settle(pilot, app)
        await pilot.click("#delete")
        await wait_until(pilot, lambda: any(text.startswith("Emptied the trash: 2 images erased. That made room: the "
                                                            "library is no longer read only.") for text in shown))
        await wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and app.screen.trash_list.total == 0)
        await settle(pilot, app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, TrashScreen))
        await settle(pilot, app)
        assert "read only" not in app.screen.sub_title
    assert not any(path.exists() for paths in files.values() for path in paths) and library.ids() == [ids[2]]
    library.close()


async def empty_the_trash(pilot, app) -> None:
    """`t`, `e` and the question's Delete: the trash emptied as a user does."""
    from tui.confirm_delete import ConfirmDeleteScreen
    from tui.trash_screen import TrashScreen

    from .ui import settle, wait_until

    await pilot.press("t")
    await wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and app.screen.loaded)
    await settle(pilot, app)
    await pilot.press("e")
    await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDeleteScreen))
    await settle(pilot, app)
    await pilot.click("#delete")


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_an_app_that_opened_on_a_full_disk_follows_its_sources_once_an_erase_made_room(small_disk, tmp_path,
                                                                                            size):
    """New-user test 10, K3: an app that opened a library read only (a full disk) never watched its source folders,
    and went on not watching them after Empty trash made room and the library writable: a new file of the generator
    never came in until the app was restarted. It follows them from then on. Fails without (the file never comes)."""
    from tui.trash_screen import TrashScreen

    from .ui import notices, settle, wait_until

    root, ids, files = noisy_library(small_disk, tmp_path, 3)
    out = tmp_path / "out"
    write_png(out / "first.png", colour=(10, 200, 30))
    with Library(root) as library:
        library.add_source(out)
        assert library.total() == 2
    fill_disk(small_disk)
    library, app = read_only_app(root)
    async with app.run_test(size=size) as pilot:
        shown = notices(app)
        await settle(pilot, app)
        await empty_the_trash(pilot, app)
        await wait_until(pilot, lambda: any("the library is no longer read only" in text for text in shown))
        await wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and app.screen.trash_list.total == 0)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, TrashScreen))
        await wait_until(pilot, lambda: app.watcher is not None and app.watcher.ready.is_set())
        write_png(out / "second.png", colour=(200, 10, 30))  # the generator writes another
        await wait_until(pilot, lambda: any("1 new image from" in text for text in shown), timeout=30)
        assert library.total() == 3
    library.close()


def trash_that_fills_the_disk(tmp_path, make_png, monkeypatch, images: int = 4) -> tuple[Path, list[int]]:
    """A library whose trash holds `images` images, on a disk that (as the store sees it) has room to record the
    erase of one image at a time, and none for the third: the database's commit says the disk is full for more
    than one image at once, or for that one. Its folder and the trashed ids, oldest first."""
    from store.errors import DatabaseDiskFull
    from store.images import Images

    root = tmp_path / "lib"
    with Library(root) as library:
        import_files(library, [make_png() for _ in range(images)])
        ids = sorted(library.ids())
        library.trash(ids)
    real = Images._erase_now

    def erase_now(self, part):
        if len(part) > 1 or ids[2] in part:
            raise DatabaseDiskFull("The disk holding the library database is full: nothing was saved.")
        return real(self, part)

    monkeypatch.setattr(Images, "_erase_now", erase_now)
    return root, ids


def test_an_erase_the_disk_stops_part_way_says_how_many_it_erased(tmp_path, make_png, monkeypatch, capsys):
    """New-user test 10, K2: on a full disk an erase is tried in halves, each half that commits making room for
    the next; when a later half found no room the whole said "nothing was erased", though the earlier halves had
    been erased for good. It says how many of how many, and the trash holds the others. Fails without ("nothing was
    erased")."""
    root, ids = trash_that_fills_the_disk(tmp_path, make_png, monkeypatch)
    capsys.readouterr()
    assert main(["trash", "empty", "--yes", "--library", str(root)]) == 1
    err = capsys.readouterr().err
    assert "2 of the 4 images were erased, the other 2 were not: free some space on its disk, then try again." in err
    assert "nothing was erased" not in err
    with Library(root) as library:
        assert sorted(item.record.id for item in library.trashed()) == ids[2:]


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_the_trash_says_how_many_an_erase_stopped_by_the_disk_erased(tmp_path, make_png, monkeypatch, size):
    """New-user test 10, K2, in the app: Empty trash on a disk that filled part-way said "nothing was erased" (a
    second try of the rest found no room either) though half the trash was gone, or "Emptied the trash". It says how
    many of how many were erased; the list holds the others. Fails without ("nothing was erased")."""
    from tui.app import MyImagesApp
    from tui.trash_screen import TrashScreen

    from .ui import notices, settle, wait_until

    root, ids = trash_that_fills_the_disk(tmp_path, make_png, monkeypatch)
    library = Library(root)
    app = MyImagesApp(library, images="none")
    async with app.run_test(size=size) as pilot:
        shown = notices(app)
        await settle(pilot, app)
        await empty_the_trash(pilot, app)
        await wait_until(pilot, lambda: any("were erased" in text or "nothing was erased" in text for text in shown))
        said = " ".join(shown)
        assert "2 of the 4 images were erased, the other 2 were not" in said, shown
        assert "nothing was erased" not in said and "Emptied the trash" not in said
        await wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and app.screen.trash_list.total == 2)
    assert sorted(item.record.id for item in library.trashed()) == ids[2:]
    library.close()


def test_a_database_damaged_in_its_middle_is_one_sentence_everywhere(tmp_path, make_png, capsys):
    """New-user test 7 #17: a library.db whose middle was overwritten (a bad sector, a broken copy) ended `list`,
    `doctor` and the app in a peewee.DatabaseError traceback: only the first read was guarded. Each says it in one
    sentence, changes nothing, and doctor says what SQLite's own check finds (exit 1: something needs you)."""
    from store.errors import DatabaseDamaged

    root = tmp_path / "lib"
    with Library(root) as library:
        import_files(library, [make_png() for _ in range(30)], ImportOptions(prompt="a long prompt " * 20))
    database_file = root / "library.db"
    data = bytearray(database_file.read_bytes())
    data[8192:20000] = b"U" * (20000 - 8192)
    database_file.write_bytes(bytes(data))
    names = sorted(p.name for p in root.iterdir())
    with pytest.raises(DatabaseDamaged) as damaged:
        Library(root)
    said = str(damaged.value)
    assert said.startswith(f"The library database {database_file} is damaged (database disk image is malformed): "
                           "nothing was changed. Restore it from a backup")
    assert said.endswith(f"`sqlite3 {database_file} .recover | sqlite3 recovered.db` and put that in its place; "
                         "`myimages doctor` says what SQLite finds.")
    for command, code in ((["list"], 1), (["doctor"], 1), (["info", "1"], 1)):
        assert main([*command, "--library", str(root)]) == code
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        if command == ["doctor"]:  # which does not send the user to doctor (new-user test 8 #8)
            assert out.startswith("database integrity:\n  ")
            assert err == f"myimages: {said.replace('; `myimages doctor` says what SQLite finds', '')}\n"
        else:
            assert err == f"myimages: {said}\n"
    assert database_file.read_bytes() == bytes(data)
    wal = root / "library.db-wal"  # SQLite's own files of an open (the damage keeps its last close from removing them)
    assert not wal.exists() or wal.stat().st_size == 0
    assert sorted(p.name for p in root.iterdir() if p.name not in {"library.db-shm", wal.name}) == names


def test_a_new_sqlite_database_follows_the_umask(tmp_path):
    old = os.umask(0o002)
    try:
        Library(tmp_path / "team").close()
    finally:
        os.umask(old)
    assert (tmp_path / "team" / "library.db").stat().st_mode & 0o777 == 0o664


def test_import_into_a_collection_named_like_an_id(tmp_path, make_png):
    with Library(tmp_path / "lib") as library:
        first = library.create_collection("Swords")
        import_files(library, [make_png()], ImportOptions(collection=str(first.id)))
        names = sorted(c.name for c in library.collections())
        assert names == [str(first.id), "Swords"] and library.collection("Swords").count == 0


@pytest.fixture
def read_only_root(tmp_path, make_png):
    """A library with two images that this user may read but not change: chmod for a user; as root (whom
    chmod does not stop) a small disk remounted read-only."""
    if os.geteuid() == 0:
        mount = tmp_path / "disk"
        mount.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
                          capture_output=True).returncode:
            pytest.skip("root, and the kernel refused a tmpfs mount to make a read-only library")
        root = mount / "lib"
    else:
        root = tmp_path / "lib"
    with Library(root) as library:
        import_files(library, [make_png(), make_png()])
        library.create_collection("Keep")
    if os.geteuid() == 0:
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
    else:
        for path in [root / "library.db", root]:
            os.chmod(path, 0o555 if path.is_dir() else 0o444)
    yield root
    if os.geteuid() == 0:
        subprocess.run(["umount", "-l", str(mount)], check=False)
    else:
        os.chmod(root, 0o755)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_a_read_only_library_says_so_at_once(read_only_root, size):
    """The header marks it; every write key (and the card buttons) says "read only" before any question or
    dialog; selecting, downloading and looking in the trash still work."""
    from tui.gallery_screen import GalleryScreen
    from tui.trash_screen import TrashScreen

    from .ui import notices, screen_text, settle, wait_until

    library, app = read_only_app(read_only_root)
    async with app.run_test(size=size) as pilot:
        shown = notices(app)
        await settle(pilot, app)
        assert "read only" in screen_text(app).splitlines()[0]
        for key in ["d", "I", "a", "b", "w", "f"]:
            shown.clear()
            app.screen._read_only_said = 0.0  # each key is said (a burst is said once)
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, GalleryScreen), key  # no question, no dialog first
            assert any("Read only: this library is read-only for you" in text for text in shown), (key, shown)
        await pilot.press("t")  # the trash opens, to look (new-user test 8 #11): its changes say "read-only" there
        await wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and app.screen.loaded)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen))
        await pilot.press("space", "ctrl+a")
        assert app.screen.grid.selected
        await pilot.press("enter", "f")  # the large view too
        await pilot.pause()
        assert any("Read only" in text for text in shown)
    assert library.count(Filters(favorite="favorites")) == 0 and library.total() == 2
    library.close()
