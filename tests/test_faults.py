"""Faults: disk full and read-only during import, export and clean; crashes; two processes at once."""
from __future__ import annotations

import errno
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from store import files as files_module
from store.doctor import check
from store.errors import StoreError
from store.export import export_images
from store.importer import import_files
from store.library import Library

from .conftest import ROOT, write_png


def full_disk(monkeypatch, error=errno.ENOSPC):
    """Every write into a file fails as a full (or read-only) disk makes it fail."""
    real = files_module.write_atomic

    def failing(path, write, **kwargs):
        def broken(handle):
            handle.write(b"partial")
            raise OSError(error, os.strerror(error))

        return real(path, broken, **kwargs)

    monkeypatch.setattr(files_module, "write_atomic", failing)


def snapshot(root):
    con = sqlite3.connect(root / "library.db")
    rows = con.execute("SELECT id, sha256, favorite FROM image ORDER BY id").fetchall()
    con.close()
    names = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "library.db" not in p.name)
    return rows, names


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EROFS])
def test_import_on_a_full_or_read_only_disk(tmp_path, make_png, monkeypatch, error):
    library = Library(tmp_path / "lib")
    import_files(library, [make_png()])
    before = snapshot(library.root)
    full_disk(monkeypatch, error)
    report = import_files(library, [make_png(), make_png()])
    assert not report.imported
    if error == errno.ENOSPC:  # the import stops at the first file: the next cannot fit either
        assert not report.failed and report.not_tried == 2
        assert report.stopped.startswith("the disk holding the library is full (")
    else:
        assert len(report.failed) == 2 and not report.stopped
        assert report.failed[0][1] == f"cannot write to the library: {os.strerror(error)}"
    assert snapshot(library.root) == before  # no record, no file, no temporary file left


def test_an_import_stops_once_the_disk_is_full_and_says_it_once(tmp_path, make_png, monkeypatch, capsys):
    """New-user test 7 #5: an import onto a disk that filled tried every remaining file and said "10 imported,
    0 duplicates, 2,990 failed", one identical line per file. It stops at the first file that does not fit."""
    import shutil
    from collections import namedtuple

    from store import images as images_module
    from tui import cli

    library_root = tmp_path / "lib"
    Library(library_root).close()
    folder = tmp_path / "many"
    for n in range(100):
        write_png(folder / f"{n:03d}.png", colour=(n, 2 * n, 50))
    real_usage, stored = shutil.disk_usage, []
    usage = namedtuple("usage", "total used free")

    def filling(path):  # room for 40 files, then 100 KB left
        stored.append(path)
        return real_usage(path) if len(stored) <= 40 else usage(10**9, 10**9 - 100 * 1024, 100 * 1024)

    monkeypatch.setattr(images_module.shutil, "disk_usage", filling)
    code = cli.main(["--library", str(library_root), "import", str(folder)])
    out, err = capsys.readouterr()
    assert code == 1 and "failed:" not in err
    assert out.strip().endswith("Stopped: the disk holding the library is full (100 KB free). 40 imported, "
                                "0 duplicates, 0 failed, 60 not tried")
    with Library(library_root) as library:
        assert library.total() == 40


def test_export_on_a_full_disk(tmp_path, make_png, monkeypatch):
    library = Library(tmp_path / "lib")
    import_files(library, [make_png()])
    full_disk(monkeypatch)
    with pytest.raises(StoreError, match="No space left on device"):
        export_images(library, [library.page()[0].id], tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_clean_on_a_full_disk(tmp_path, make_png, monkeypatch):
    from store.background import clean_images

    library = Library(tmp_path / "lib")
    import_files(library, [make_png(size=(64, 64))])
    before = snapshot(library.root)
    full_disk(monkeypatch)
    report = clean_images(library, [library.page()[0].id])
    assert not report.created and "No space left on device" in report.failed[0][1]
    assert snapshot(library.root) == before


# The children print "done total" after each step, so the test can kill them mid-work and know where.
IMPORTER = """
import sys
from store.library import Library
from store.importer import import_files
import_files(Library(sys.argv[1], account="alice"), [sys.argv[2]], batch=8,
             progress=lambda done, total, path: print(done, total, flush=True))
"""

DELETER = """
import sys
from store.library import Library
lib = Library(sys.argv[1], account="alice")
ids = [r.id for r in lib.iter_images()]
for start in range(0, len(ids), 10):
    lib.delete(ids[start:start + 10])
    print(min(start + 10, len(ids)), len(ids), flush=True)
"""


def kill_mid_work(args: list[str], at: float, timeout: float = 120) -> tuple[int, int]:
    """Run a child that prints "done total" lines; kill it (SIGKILL) once `done` passes `at` of `total`.

    Returns the last (done, total) it reported before it died: proof that the kill landed mid-work. (Not the
    line that decided the kill: on a busy machine the child goes on working, and reporting, until the kill lands;
    its lines written meanwhile are read after its death.)
    """
    proc = subprocess.Popen([sys.executable, "-c", *args], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ))
    done, total = 0, 0
    deadline = time.monotonic() + timeout
    try:
        for line in proc.stdout:
            done, total = map(int, line.split())
            if done >= at * total or time.monotonic() > deadline:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for line in proc.stdout.read().split("\n")[:-1]:  # what it reported between that line and its death
            done, total = map(int, line.split())  # (the last piece, a line the kill may have cut, is left out)
        proc.stdout.close()
    assert 0 < done < total, f"the kill did not land mid-work: {done} of {total}"
    return done, total


def assert_consistent(root):
    library = Library(root, account="alice")
    assert library.db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    for record in library.iter_images():
        assert record.path.exists() and record.thumbnail_path.exists(), record.id
    for path in root.rglob("*"):
        if path.is_file() and path.parent.name != root.name and not path.name.startswith(".tmp-"):
            # a file under a final name is whole: its name is the hash of its content (originals)
            if path.parent.parent.name == "originals":
                import hashlib

                assert hashlib.sha256(path.read_bytes()).hexdigest() == path.stem
    report = check(library, min_age=0)
    assert report.integrity == "ok" and not report.missing_originals
    assert check(library, min_age=0).clean
    count = library.total()
    library.close()
    return count


MANY = 1000  # files in the import that gets killed


@pytest.fixture(scope="module")
def many_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("many")
    for i in range(MANY):
        write_png(folder / f"f{i:04d}.png", size=(200, 200), colour=(i % 256, i // 256, (i * 13) % 256))
    return folder


@pytest.mark.parametrize("attempt", [0, 1, pytest.param(2, marks=pytest.mark.slow)])
def test_killed_during_import_and_bulk_delete(tmp_path, many_files, attempt):
    rng = random.Random(attempt)
    root = tmp_path / "lib"
    Library(root, account="alice").close()
    read, total = kill_mid_work([IMPORTER, str(root), str(many_files)], at=rng.uniform(0.1, 0.8))
    assert total == MANY
    imported = assert_consistent(root)
    # files are committed 8 at a time: all but the last batch reported are in, and not every file
    assert read - 8 <= imported < MANY
    # finish the import, then kill a bulk delete half way
    import_files(Library(root, account="alice"), [many_files])
    assert assert_consistent(root) == MANY
    deleted, total = kill_mid_work([DELETER, str(root)], at=rng.uniform(0.1, 0.8))
    assert total == MANY
    left = assert_consistent(root)
    # every delete reported is committed, and not every image went
    assert 0 < left <= MANY - deleted


CLEANER = """
import sys
from store.library import Library
from store.background import clean_images
lib = Library(sys.argv[1], account="alice")
ids = [r.id for r in lib.iter_images()]
clean_images(lib, ids, progress=lambda done, total, image_id: print(done, total, flush=True))
"""

GRID_SAVER = """
import sys
from store.library import Library
from store import grid
from store.derived import open_original
lib = Library(sys.argv[1], account="alice")
records = list(lib.iter_images())
for n, record in enumerate(records):
    layout = grid.layout_for(open_original(lib, record.id), 4, 4)
    grid.cut(lib, record.id, layout, layout.cells, trimmed=True, save=True)
    print(n + 1, len(records), flush=True)
"""


@pytest.mark.parametrize("script, attempt", [("clean", 0), pytest.param("clean", 1, marks=pytest.mark.slow),
                                             ("grid", 0), pytest.param("grid", 1, marks=pytest.mark.slow)])
def test_killed_during_bulk_clean_and_grid_save(tmp_path, many_files, script, attempt):
    rng = random.Random(attempt + 10)
    root = tmp_path / "lib"
    import_files(Library(root, account="alice"), sorted(many_files.iterdir())[:40])
    code = CLEANER if script == "clean" else GRID_SAVER
    done, total = kill_mid_work([code, str(root)], at=rng.uniform(0.1, 0.6))
    assert total == 40
    assert assert_consistent(root) >= 40
    library = Library(root, account="alice")
    for record in library.iter_images():
        if record.parent_id is not None:
            assert library.get(record.parent_id)  # derived images point at their source


WRITER = """
import sys, time, random
from store.library import Library
lib = Library(sys.argv[1], account="alice")
rng = random.Random(1)
end = time.time() + float(sys.argv[2])
changes = 0
col = lib.ensure_collection("Busy")
favorites, members, deleted = {}, {}, set()
while time.time() < end:
    ids = [r.id for r in lib.page(offset=0, limit=50)]
    if not ids:
        continue
    choice = rng.random()
    target = rng.choice(ids)
    if choice < 0.5:
        favorites[target] = lib.toggle_favorite(target)
    elif choice < 0.8:
        lib.add_to_collection([target], col.id)
        members[target] = True
    elif choice < 0.97:
        lib.remove_from_collection([target], col.id)
        members[target] = False
    else:
        lib.delete([target])
        deleted.add(target)
    changes += 1
import json
print(json.dumps({"changes": changes, "favorites": favorites, "members": members, "deleted": sorted(deleted)}))
"""


@pytest.mark.slow  # two processes on one library also run in test_data_safety.py (imports and deletes)
def test_two_processes_on_one_library(tmp_path, many_files):
    root = tmp_path / "lib"
    lib = Library(root, account="alice")
    import_files(lib, sorted(many_files.iterdir())[:60])
    lib.close()
    seconds = "30"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(root), seconds], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    importer = subprocess.Popen([sys.executable, "-c", IMPORTER, str(root), str(many_files)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = writer.communicate(timeout=120)
    imp_out, imp_err = importer.communicate(timeout=300)
    assert writer.returncode == 0, err
    assert importer.returncode == 0, imp_err
    assert "locked" not in err + imp_err
    done = json.loads(out.strip().splitlines()[-1])
    assert done["changes"] > 50
    # (a deleted image may come back when the importer reaches its file again)
    assert MANY - len(done["deleted"]) <= assert_consistent(root) <= MANY
    # no change was lost: the library holds the last state the writer set
    lib = Library(root, account="alice")
    for image_id in done["deleted"]:
        with pytest.raises(StoreError):
            lib.get(image_id)
    for image_id, favorite in done["favorites"].items():
        if int(image_id) not in done["deleted"]:
            assert lib.get(int(image_id)).favorite == favorite
    for image_id, member in done["members"].items():
        if int(image_id) not in done["deleted"]:
            assert ("Busy" in lib.get(int(image_id)).collections) == member


# Issue 16: the trash. The child moves every image to the trash (or back), 5 at a time.
TRASHER = """
import sys
from store.library import Library
lib = Library(sys.argv[1], account="alice")
restore = sys.argv[2] == "restore"
ids = [t.record.id for t in lib.trashed()] if restore else [r.id for r in lib.iter_images()]
for start in range(0, len(ids), 5):
    (lib.restore if restore else lib.trash)(ids[start:start + 5])
    print(min(start + 5, len(ids)), len(ids), flush=True)
"""


def assert_whole_in_or_out_of_the_trash(root) -> tuple[int, int]:
    """Every image is either in the trash or not, with all its files where that state says.

    Opening the library finishes the file moves a kill interrupted (the records say what is left to do).
    Returns (images in the trash, images out of it)."""
    from store.models import Image, TrashFile

    library = Library(root, account="alice")
    library.require_open()
    moves = {}
    for image_id, original, trashed, moved in TrashFile.select(
            TrashFile.image, TrashFile.original, TrashFile.trashed, TrashFile.moved).tuples():
        moves.setdefault(image_id, []).append((Path(original), root / trashed, moved))
    in_trash = out = 0
    for image_id, trashed_at, location, sha256, ext in Image.select(
            Image.id, Image.trashed_at, Image.location, Image.sha256, Image.ext).tuples():
        if trashed_at is None:
            out += 1
            assert image_id not in moves, image_id  # a restore's moves are done and forgotten
            path = Path(location) if location else library.files.original_path(sha256, ext)
            assert path.exists() and (root / "trash") not in path.parents, image_id
        else:
            in_trash += 1
            if location:  # linked: its file is in the trash folder, not in the source any more
                assert [(o.exists(), t.exists(), m) for o, t, m in moves[image_id]] == [(False, True, True)], image_id
                assert Path(location) == moves[image_id][0][1]
            else:
                assert library.files.original_path(sha256, ext).exists(), image_id
    known = {t for _, t, _ in sum(moves.values(), [])}
    leftovers = [p for p in (root / "trash").iterdir() if p not in known] if (root / "trash").exists() else []
    assert not [p for p in leftovers if not p.name.startswith(".tmp-")], leftovers
    library.close()
    return in_trash, out


@pytest.mark.parametrize("attempt", range(2))
def test_killed_while_moving_to_the_trash_and_back(tmp_path, many_files, attempt):
    rng = random.Random(attempt + 20)
    root = tmp_path / "lib"
    library = Library(root, account="alice")
    import_files(library, sorted(many_files.iterdir())[:200])
    outputs = tmp_path / "outputs"  # linked images: their files move into the library's trash folder
    for i in range(100):
        write_png(outputs / f"day{i % 3}" / f"g{i:03d}.png", size=(64, 64), colour=(i, 255 - i, 77))
    library.add_source(outputs)
    library.close()
    total = 300
    for direction in ("trash", "restore"):
        done, reported = kill_mid_work([TRASHER, str(root), direction], at=rng.uniform(0.1, 0.8))
        assert reported == total
        in_trash, out = assert_whole_in_or_out_of_the_trash(root)
        moved = in_trash if direction == "trash" else out
        # every chunk reported is in its new state, at most the one being worked on more, and not every image
        assert done <= moved <= done + 5 and in_trash + out == total and moved < total
        assert assert_consistent(root) == out
        if direction == "trash":  # the rest to the trash, then kill a restore half way
            rest = Library(root, account="alice")
            rest.trash(rest.ids())
            rest.close()
    # a scan of the source meanwhile drops nothing: trashed linked images keep their records
    again = Library(root, account="alice")
    again.scan_sources()
    again.restore([t.record.id for t in again.trashed()])
    assert again.total() == total and len(list(outputs.rglob("*.png"))) == 100
    again.close()


ERASER = """
import pathlib, sys, threading
from store.library import Library
lib = Library(sys.argv[1], account="alice")
ids = lib.ids()
unlink, folder, done = pathlib.Path.unlink, pathlib.Path(sys.argv[2]), [0]

def reporting_unlink(path, missing_ok=False):  # each file of the source folder deleted: said (the kill's mark)
    unlink(path, missing_ok=missing_ok)
    if folder in path.parents:
        done[0] += 1
        print(done[0], len(ids), flush=True)
        if done[0] * 10 >= len(ids) * 3:  # 30 %: the kill is on its way; it lands here, mid-work, however late
            threading.Event().wait()  # (120 unlinks take milliseconds: under load CI saw all done before it)

pathlib.Path.unlink = reporting_unlink
lib.delete(ids)
"""


def test_killed_while_deleting_linked_files_for_good(tmp_path):
    """NEWUSER6 #3: `delete --permanent` killed while it deleted the source files left the rest in the folder
    for good: no image, no trash, doctor silent, and a scan called them unchanged. The files to delete are
    marked in the transaction that erases the images, and the next opening (or doctor) finishes the job."""
    from store.models import SourceFile

    root, outputs = tmp_path / "lib", tmp_path / "outputs"
    for i in range(120):
        write_png(outputs / f"g{i:03d}.png", size=(48, 48), colour=(i, 255 - i, 7))
    library = Library(root, account="alice")
    library.add_source(outputs)
    assert library.total() == 120
    library.close()
    done, total = kill_mid_work([ERASER, str(root), str(outputs)], at=0.3)
    left = len(list(outputs.iterdir()))  # the rest is still there (one more may have gone before its line)
    assert total == 120 and 120 - done - 1 <= left <= 120 - done
    again = Library(root, account="alice")  # the next command: opening finishes the deletion
    assert again.total() == 0 and list(outputs.iterdir()) == []
    report = check(again, min_age=0)
    assert f"{left} interrupted deletions of files in source folders finished" in "\n".join(report.lines())
    assert not SourceFile.select().where(SourceFile.image.is_null()).exists()
    write_png(outputs / "new.png", size=(48, 48), colour=(1, 2, 3))  # the folder is followed as before
    (scan,) = again.scan_sources()
    assert len(scan.added) == 1 and again.total() == 1
    again.close()
