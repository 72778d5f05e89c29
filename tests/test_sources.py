"""Watched source folders (issue 13): real folders and real files, on SQLite and PostgreSQL."""
from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from store.doctor import check
from store.errors import AlreadyFollowed, NotFound, StoreError
from store.importer import import_files
from store.library import Library
from store.records import FAVORITES_ONLY, Filters
from store.sources import SHARED_LEFT, is_complete, png_text
from store.watcher import SourceWatcher

from .conftest import REAL_METADATA, png_bytes


def a1111(prompt: str, n: int) -> bytes:
    return png_bytes(colour=(n * 7 % 256, n * 13 % 256, 90),
                     text={"parameters": f"{prompt}\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: {n}, "
                                         f"Model: dreamshaper"})


def put(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def outputs(tmp_path):
    folder = tmp_path / "outputs"
    put(folder, "a.png", a1111("a red diamond", 1))
    put(folder, "day2/b.png", a1111("a blue ring", 2))
    put(folder, "day2/notes.txt", b"not an image")
    broken = put(folder, "broken.png", b"\x89PNG\r\n\x1a\n" + b"junk" * 10)  # cut short an hour ago
    os.utime(broken, (broken.stat().st_mtime - 3600,) * 2)
    return folder


def prompts(library, **filters):
    return sorted(r.prompt for r in library.page(Filters(**filters), limit=100))


def test_a_source_is_indexed_in_place(library, outputs):
    report = library.add_source(outputs)
    assert len(report.added) == 2 and [p.name for p, _ in report.bad] == ["broken.png"]
    assert prompts(library) == ["a blue ring", "a red diamond"]
    record = next(r for r in library.page() if r.prompt == "a red diamond")
    assert record.linked and record.path == outputs.resolve() / "a.png" and record.model == "dreamshaper"
    assert not list((library.root / "originals").rglob("*.png"))  # nothing copied
    assert library.make_thumbnails() == 2 and library.get(record.id).thumbnail_path.parent.parent.name == "thumbs"
    (source,) = library.sources()
    assert (source.mode, source.images, source.files) == ("link", 2, 3)
    assert source.bad[0][0] == "broken.png" and source.scanned_at is not None
    again = library.scan_sources()[0]
    assert not again.added and not again.bad and again.unchanged == 3  # a bad file is reported once


def test_rename_move_and_delete_outside_keep_favorites_and_collections(library, outputs):
    library.add_source(outputs)
    ring = next(r for r in library.page() if r.prompt == "a blue ring")
    library.set_favorite([ring.id])
    keep = library.create_collection("Keep")
    library.add_to_collection([ring.id], keep.id)
    (outputs / "day2" / "b.png").rename(outputs / "moved.png")
    report = library.scan_sources()[0]
    assert not report.added and report.removed == 0 and report.moved == 1 and report.known == 0
    assert "1 moved" in report.summary()
    moved = library.get(ring.id)
    assert moved.favorite and moved.collections == ["Keep"] and moved.path == outputs.resolve() / "moved.png"
    data = (outputs / "moved.png").read_bytes()
    (outputs / "moved.png").unlink()
    assert library.scan_sources()[0].removed == 1
    assert prompts(library) == ["a red diamond"]
    with pytest.raises(NotFound):
        library.get(ring.id)
    put(outputs, "later/back.png", data)  # the same content comes back
    assert len(library.scan_sources()[0].added) == 1
    back = library.page(Filters(favorite=FAVORITES_ONLY))
    assert [r.prompt for r in back] == ["a blue ring"] and back[0].collections == ["Keep"]


@pytest.mark.parametrize("thumbnails", [False, True], ids=["no-thumbnail", "thumbnail"])
def test_a_file_rewritten_in_place_keeps_its_image_favorite_and_collections(library, outputs, thumbnails):
    """A tagger or optimiser rewrites a watched file at its own place (same name and pixels, one more chunk, a temp
    file renamed over it): it was a new image with a new id, and the favorite and collections were gone for good.
    Now its image is updated (new content hash, size, metadata) and keeps its id, favorite and collections; also
    when the library has the old picture's thumbnail to compare the new one with (the same picture)."""
    library.add_source(outputs)
    if thumbnails:
        assert library.make_thumbnails() == 2
    ring = next(r for r in library.page() if r.prompt == "a blue ring")
    library.set_favorite([ring.id])
    library.add_to_collection([ring.id], library.create_collection("Keep").id)
    before = library.get(ring.id)
    path = outputs / "day2" / "b.png"
    tagged = png_bytes(colour=(2 * 7 % 256, 2 * 13 % 256, 90), text={
        "parameters": "a blue ring, tagged\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 2, Model: dreamshaper",
        "Comment": "tagged by my tagger"})
    put(outputs, "day2/.b.tmp", tagged).replace(path)
    report = library.scan_sources()[0]
    assert (report.updated, report.added, report.removed) == (1, [], 0) and "1 image changed in place" in report.summary()
    after = library.get(ring.id)
    assert after.favorite and after.collections == ["Keep"] and after.prompt == "a blue ring, tagged"
    assert after.sha256 != before.sha256 and after.path == path.resolve() and library.total() == 2


@pytest.mark.parametrize("thumbnails,seed", [(False, 77), (False, None), (True, 2)],
                         ids=["by-seed", "by-prompt", "by-pixels"])
def test_a_file_rewritten_with_another_picture_is_a_new_image_and_the_old_one_keeps_its_favorite(
        library, outputs, thumbnails, seed):
    """NEWUSER7 #26: a name a generator uses again (latest.png) written over with another picture kept the old
    image's id, favorite and collections: the new picture, never looked at, was a favorite in "Keep", and the old one
    left without a word. Now the new picture is a new image, the old one leaves as a deleted file's does (favorite
    and collections kept for its return) and the scan says so. With the old picture's thumbnail the pixels decide
    (here the same seed, another colour); without it, the seed the generator recorded (another seed), or the prompt
    when there is no seed to compare."""
    library.add_source(outputs)
    ring = next(r for r in library.page() if r.prompt == "a blue ring")
    library.set_favorite([ring.id])
    library.add_to_collection([ring.id], library.create_collection("Keep").id)
    if thumbnails:
        assert library.make_thumbnails() == 2
    path = outputs / "day2" / "b.png"
    old = path.read_bytes()
    settings = "" if seed is None else f"\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: {seed}, Model: dreamshaper"
    other = png_bytes(colour=(10, 200, 240), text={"parameters": "PICTURE B a throwaway" + settings})
    put(outputs, "day2/.b.tmp", other).replace(path)
    report = library.scan_sources()[0]
    (new,) = report.added
    assert new != ring.id and (report.updated, report.removed) == (0, 1)
    assert report.replaced == [(path.resolve(), ring.id, new)]
    assert report.summary().startswith(f"b.png now holds another picture, #{new}: #{ring.id}, the picture it held, "
                                       "left the library (its favorite and collections come back with it if its file "
                                       "comes back). 1 new image, 1 gone")
    fresh = library.get(new)
    assert fresh.prompt == "PICTURE B a throwaway" and not fresh.favorite and fresh.collections == []
    with pytest.raises(NotFound):
        library.get(ring.id)
    put(outputs, "day3/b-again.png", old)  # the old picture comes back: as it was
    assert library.scan_sources()[0].back == 1
    back = library.get(ring.id)
    assert back.favorite and back.collections == ["Keep"] and back.prompt == "a blue ring"


def test_a_rewritten_file_is_decoded_outside_the_write_transaction(library, outputs, monkeypatch):
    """Telling another picture from the same one decodes the new file (a tagger's pass: thousands of them); SQLite's
    write transaction holds the write lock from its start, so the decoding comes before it, and a touched file (the
    same bytes) is not decoded at all."""
    from store import sources

    library.add_source(outputs)
    assert library.make_thumbnails() == 2
    seen: list[bool] = []
    real = sources._another_picture

    def watched(library_, *args):
        seen.append(library_.db.in_transaction())
        return real(library_, *args)

    monkeypatch.setattr(sources, "_another_picture", watched)
    path = outputs / "day2" / "b.png"
    os.utime(path, (time.time() + 5,) * 2)  # touched: the same bytes
    library.scan_sources()
    assert seen == []
    put(outputs, "day2/.b.tmp", png_bytes(colour=(10, 200, 240))).replace(path)
    assert library.scan_sources()[0].replaced and seen == [False]


def test_a_file_moved_between_two_sources_keeps_its_image(library, outputs, tmp_path):
    """New-user test item 5: a move from one source to another, seen by the watcher (both paths in one look,
    the folder that lost the file first) or by a rescan of all (the other folder first), gave the image a new
    id and import date: the file's going was settled before its arrival was seen."""
    other = tmp_path / "other"
    other.mkdir()
    library.add_source(outputs)
    library.add_source(other)
    ring = next(r for r in library.page() if r.prompt == "a blue ring")
    library.set_favorite([ring.id])
    arrived = other / "b.png"
    (outputs / "day2" / "b.png").rename(arrived)
    reports = library.scan_paths([outputs / "day2" / "b.png", arrived])
    moved = library.get(ring.id)
    assert moved.favorite and moved.path == arrived.resolve() and moved.imported_at == ring.imported_at
    assert [(r.source.name, r.moved, r.removed, r.known, r.added) for r in reports] == [
        ("outputs", 0, 0, 0, []), ("other", 1, 0, 0, [])]  # said where it arrived
    back = outputs / "back.png"
    arrived.rename(back)
    reports = library.scan_sources()  # "other" is scanned before "outputs"
    assert [r.source.name for r in reports] == ["other", "outputs"]
    assert library.get(ring.id).path == back.resolve() and library.total() == 2
    assert [(r.moved, r.removed, r.added) for r in reports] == [(0, 0, []), (1, 0, [])]


def test_delete_in_the_app_deletes_the_file_and_names_a_changed_one(library, outputs):
    library.add_source(outputs)
    diamond = next(r for r in library.page() if r.prompt == "a red diamond")
    library.delete([diamond.id])
    assert not (outputs / "a.png").exists()
    assert library.scan_sources()[0].added == []
    ring = next(r for r in library.page() if r.prompt == "a blue ring")
    os.utime(ring.path, ns=(1, 1))  # touched since it was read: not provably the same file
    with pytest.raises(StoreError, match="was not deleted: it changed since it was read"):
        library.delete([ring.id])
    assert ring.path.exists() and library.total() == 0
    assert any("deleted in My Images" in reason for _f, reason in library.sources()[0].bad)


@pytest.fixture
def imported_twin(library, outputs, tmp_path):
    """An imported image (the library's own copy) whose same picture is also a file in a watched folder."""
    from store.importer import ImportOptions, import_files

    picture = put(tmp_path / "gen", "castle.png", a1111("a castle", 9))
    ((_, image_id),) = import_files(library, [picture], ImportOptions()).imported
    library.add_source(outputs)
    twin = put(outputs, "c3.png", picture.read_bytes())
    assert library.scan_sources()[0].known == 1
    record = library.get(image_id)
    assert not record.linked and record.path.is_file()
    return SimpleNamespace(id=image_id, twin=twin, copy=record.path)


def test_an_imported_image_keeps_its_copy_and_never_moves_a_twin_in_a_source(library, imported_twin, outputs):
    """New-user test item 1: trashing an imported image moved the same picture's file out of the watched
    folder, restoring pointed the image at that file, and once the file went the image and its copy went too."""
    me = imported_twin
    library.trash([me.id])
    assert me.twin.is_file() and not list((library.root / "trash").glob("*"))  # nothing moved out of the folder
    library.restore([me.id])
    record = library.get(me.id)
    assert not record.linked and record.path == me.copy and me.copy.is_file()
    me.twin.unlink()  # the twin deleted outside: the imported image stays, with its copy
    report = library.scan_sources()[0]
    assert report.removed == 0 and library.get(me.id).path == me.copy and me.copy.is_file()
    # item 11: this said "1 moved"
    assert (report.moved, report.kept) == (0, 1) and "1 file gone (its image stays in the library)" in report.summary()
    assert check(library, min_age=0).missing_originals == []


def test_info_names_an_imported_images_file_in_a_watched_folder(library, imported_twin, capsys):
    """New-user test 10 #2: an imported image (the library's own copy) whose picture is also a file in a watched
    folder: `file:c3` found it, `source list` counted it, but `info` (and `--json` `paths`) named only the library's
    copy, so nothing said where that file is. It is "Also at", on SQLite and PostgreSQL. Fails without (none)."""
    from tui.cli import main

    me = imported_twin
    record = library.get(me.id)
    assert record.path == me.copy and record.also_at == (me.twin.resolve(),)
    assert ("Also at", str(me.twin.resolve())) in record.info_rows()
    assert [r.id for r in library.page(Filters(search="file:c3"))] == [me.id]
    cli = ["--library", str(library.root), "--account", "alice"] + (
        ["--database-url", library.database_url] if library.database_url else [])
    capsys.readouterr()
    assert main(["info", str(me.id), "--json", *cli]) == 0
    assert json.loads(capsys.readouterr().out)["paths"] == [str(me.copy), str(me.twin.resolve())]


def test_erasing_an_imported_image_leaves_a_twin_in_a_source(library, imported_twin, outputs):
    """New-user test item 2: `delete --permanent` of an imported image erased the identical file in a
    watched folder. The library's copy is erased; the twin stays, said once in `source list`, not taken in again."""
    me = imported_twin
    library.trash([me.id])
    library.delete([me.id])  # delete forever, from the trash (as `delete --permanent` does)
    assert me.twin.is_file() and not me.copy.exists()
    assert any(f == "c3.png" and "left here" in reason for f, reason in library.sources()[0].bad)
    again = library.scan_sources()[0]
    assert not again.added and not again.bad and library.total() == 2
    os.utime(me.twin, ns=(1, 1))  # changed since: read again, an image of the folder like any other
    assert len(library.scan_sources()[0].added) == 1 and me.twin.is_file()


def test_an_imported_image_in_the_trash_stays_there_when_its_picture_comes_into_a_source(library, imported_twin,
                                                                                        outputs, tmp_path):
    """Trashing is the user's word: the same picture written (or changed) in a watched folder, linked or copying,
    does not bring the imported image back; the scan says it is in the trash. Restored, it is the imported image
    with its own copy, and the files in the folders are untouched."""
    me = imported_twin
    library.trash([me.id])
    data = me.copy.read_bytes()
    again = put(outputs, "later/again.png", data)
    os.utime(me.twin, ns=(1, 1))  # the twin changed on disk (a touch): read again
    copies = put(tmp_path / "copies", "same.png", data).parent
    reports = library.scan_sources() + [library.add_source(copies, mode="copy")]
    assert [t.record.id for t in library.trashed()] == [me.id] and library.total() == 2
    assert [(r.in_trash, r.known, r.added) for r in reports] == [(2, 0, []), (1, 0, [])]
    assert reports[0].summary() == "Nothing new: 2 images in the trash (left there), 3 unchanged"
    library.restore([me.id])
    record = library.get(me.id)
    assert not record.linked and record.path == me.copy and again.is_file() and me.twin.is_file()
    assert library.total() == 3


def test_a_linked_image_in_the_trash_stays_there_and_a_new_file_of_it_is_left_when_it_is_erased(library, outputs):
    """A linked image trashed (its file moved into the library's trash), then the same picture written into the
    folder: the scan says it is in the trash (it said '1 file gone, its image stays'); erased for good, the new
    file stays where it is and `source list` says why (it was left unread and unsaid, as if not there)."""
    library.add_source(outputs)
    diamond = next(r for r in library.page() if r.prompt == "a red diamond")
    data = diamond.path.read_bytes()
    library.trash([diamond.id])
    again = put(outputs, "again.png", data)
    report = library.scan_sources()[0]
    assert (report.in_trash, report.kept, report.removed) == (1, 0, 0)
    assert report.summary() == "Nothing new: 1 image in the trash (left there), 2 unchanged"
    library.delete([diamond.id])
    assert again.is_file() and library.total() == 1
    assert [f for f, reason in library.sources()[0].bad if "left here" in reason] == ["again.png"]


def test_an_image_pointed_at_a_twin_by_an_older_version_keeps_its_copy(library, imported_twin, outputs):
    """Libraries that went through item 1's trash and restore before the fix: the record points at the twin
    while the library still holds the imported copy. Neither a delete nor the twin's going loses that copy."""
    from store.models import Image

    me = imported_twin
    with library.bound():
        Image.update(location=str(me.twin)).where(Image.id == me.id).execute()
    library.trash([me.id])
    assert me.twin.is_file() and not library.trashed()[0].record.linked
    library.restore([me.id])
    with library.bound():
        Image.update(location=str(me.twin)).where(Image.id == me.id).execute()
    me.twin.unlink()
    assert library.scan_sources()[0].removed == 0
    record = library.get(me.id)
    assert not record.linked and record.path == me.copy and me.copy.is_file()
    with library.bound():  # doctor finds one whose twin went while nothing scanned
        Image.update(location=str(me.twin)).where(Image.id == me.id).execute()
    report = check(library, min_age=0)
    assert report.adopted == [me.id] and report.missing_linked == [] and not library.get(me.id).linked
    assert any("the library's own copy again: #" in line for line in report.lines())


def test_command_line_delete_says_what_happens_to_files_in_source_folders(tmp_path, outputs, capsys, monkeypatch):
    """New-user test item 13: `delete` of several images asked without saying that files of watched folders
    move into the library's trash (or, --permanent, are deleted)."""
    from tui.cli import main

    library = ["--library", str(tmp_path / "lib")]
    assert main(["source", "add", str(outputs), *library]) == 0
    picture = put(tmp_path / "gen", "own.png", a1111("my own", 5))
    assert main(["import", str(picture), *library]) == 0
    capsys.readouterr()
    asked: list[str] = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda question: asked.append(question) or "n")
    assert main(["delete", "1", "2", "3", *library]) == 1
    assert "2 files in your source folders (of 2 images) move into the library's trash: " in asked[-1]
    assert main(["delete", "1", "--permanent", *library]) == 1
    assert f"Its file in your source folder is deleted too: {outputs.resolve()}" in asked[-1]
    assert main(["delete", "1", "2", "--yes", *library]) == 0
    assert "2 images deleted: moved to the trash; 2 files moved out of your source folders: " \
           f"{outputs.resolve() / 'a.png'}, {outputs.resolve() / 'day2' / 'b.png'} (" in capsys.readouterr().out
    assert main(["delete", "3", *library]) == 1 and "source folder" not in asked[-1]  # imported: nothing moves


def test_deleting_an_image_whose_folder_is_not_there_says_its_file_stays(tmp_path, outputs, capsys, monkeypatch):
    """New-user test 5 item 5: with its source folder moved away (a disk unmounted), deleting a linked image said
    its file moves into the library's trash, and nothing moved. The question and the summary say the file cannot be
    reached and stays; only the record goes to the trash, and the file is whole when the folder is back."""
    from tui.cli import main

    library = ["--library", str(tmp_path / "lib")]
    assert main(["source", "add", str(outputs), *library]) == 0
    before = (outputs / "a.png").read_bytes()
    away = outputs.rename(tmp_path / "unplugged")
    capsys.readouterr()
    asked: list[str] = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda question: asked.append(question) or "y")
    assert main(["delete", "1", *library]) == 0
    unreached = (f"Its file cannot be reached: its source folder {outputs.resolve()} is not there (moved, or a disk "
                 "not mounted). Only the record goes to the trash; the file stays where it is.")
    assert unreached in asked[-1] and "moves into the library's trash" not in asked[-1]
    out = capsys.readouterr().out
    assert "1 image deleted: moved to the trash (" in out and unreached in out and "moved out of" not in out
    assert not list((tmp_path / "lib" / "trash").glob("*"))  # nothing moved
    away.rename(outputs)
    assert (outputs / "a.png").read_bytes() == before


def test_deleting_an_image_of_several_files_names_every_file(tmp_path, capsys, monkeypatch):
    """New-user test 3 item 1: one picture in three files of two sources is one image; deleting it takes all
    three (or it would come back at the next scan), and every question and summary counted and named only one."""
    from tui.cli import main

    library = ["--library", str(tmp_path / "lib")]
    data = a1111("a cyan square", 4)
    first, second = tmp_path / "src1", tmp_path / "src4"
    files = [put(first, "cyan.png", data), put(first, "best/my-favorite-cyan.png", data),
             put(second, "cyan-backup.png", data)]
    assert main(["source", "add", str(first), *library]) == 0 and main(["source", "add", str(second), *library]) == 0
    capsys.readouterr()
    asked: list[str] = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda question: asked.append(question) or "n")
    named = ", ".join(str(p.resolve()) for p in sorted(files))
    assert main(["delete", "1", *library]) == 1
    assert f"Its 3 files in your source folders (the same picture in each) move into the library's trash: " \
           f"{named}." in asked[-1]
    assert main(["delete", "1", "--permanent", *library]) == 1
    assert f"Its 3 files in your source folders (the same picture in each) are deleted too: {named}." in asked[-1]
    assert main(["delete", "1", "--yes", *library]) == 0
    assert f"1 image deleted: moved to the trash; 3 files moved out of your source folders: {named} (" \
           in capsys.readouterr().out
    assert not any(p.exists() for p in files)
    assert main(["trash", "empty", *library]) == 1  # the trash's question names them too
    assert "Its 3 files from your source folders (the same picture in each), in the library's trash since the " \
           f"image was deleted, are erased too: {named}." in asked[-1]
    assert main(["trash", "empty", "--yes", *library]) == 0
    assert f"1 image erased; 3 files erased from the trash, once in your source folders: {named}" \
           in capsys.readouterr().out
    with Library(tmp_path / "lib") as lib:  # four files, two images: "and 1 more"
        put(first, "pair/x.png", a1111("x", 5))
        put(first, "pair/y.png", a1111("x", 5))
        put(second, "z.png", a1111("z", 6))
        put(second, "w.png", a1111("z", 6))
        lib.scan_sources()
        ids = [r.id for r in lib.page()]
        going = lib.source_files(ids)
        assert (going.count, going.images, going.trashed, len(going.first)) == (4, 2, 0, 3)
        assert going.named().endswith(" and 1 more")
        assert going.sentence(2, erase=False).startswith("4 files in your source folders (of 2 images) move ")


@pytest.mark.parametrize("copy", [False, True])
def test_ctrl_c_cancels_a_command_line_source_add(tmp_path, outputs, capsys, monkeypatch, copy):
    """New-user test 3 item 3: Ctrl+C during `source add` left the folder a source (0 images, never scanned),
    and the watcher then took in all of it. Now it cancels the add as the app's Cancel does."""
    import contextlib
    import signal

    from tui.cli import main

    pressed = []

    def press_once(done, total, path=None):  # one Ctrl+C: a second one means "now" (a KeyboardInterrupt that can
        if not pressed:  # land anywhere, e.g. in another library's gc callback, where Python ignores it)
            pressed.append(done)
            signal.raise_signal(signal.SIGINT)

    @contextlib.contextmanager
    def interrupting_bar(label):  # the user's Ctrl+C, as the scan shows its progress
        yield press_once

    monkeypatch.setattr("tui.cli_sources.progress_bar", interrupting_bar)
    library = ["--library", str(tmp_path / "lib")]
    assert main(["source", "add", *(["--copy"] if copy else []), str(outputs), *library]) == 130
    out = capsys.readouterr()
    kept = " (the images copied so far stay in the library)" if copy else ""
    assert f"Adding {outputs.resolve()} was cancelled: it is not a source{kept}." in out.out
    assert "will not be a source" in out.err
    with Library(tmp_path / "lib") as lib:
        assert lib.sources() == [] and (lib.total() > 0) == copy  # a copy stays; a link goes with its source


def test_an_empty_file_is_a_skipped_file_after_a_few_seconds(library, tmp_path):
    """New-user test 3 item 6: `watch` said "1 still being written" at every event about a 0-byte file that
    `source list` called "skipped: empty file". Empty for a few seconds, it is a bad file, said once."""
    folder = tmp_path / "src"
    put(folder, "a.png", a1111("an apple", 1))
    fresh = put(folder, "fresh.png", b"")  # a generator that has just opened it: being written
    old = put(folder, "empty.png", b"")
    os.utime(old, (time.time() - 10,) * 2)
    report = library.add_source(folder)
    assert report.waiting == [fresh.resolve()] and [(p.name, r) for p, r in report.bad] == [("empty.png", "empty file")]
    assert "1 skipped, 1 still being written" in report.summary()
    os.utime(fresh, (time.time() - 10,) * 2)
    again = library.scan_sources()[0]
    assert again.waiting == [] and [p.name for p, _ in again.bad] == ["fresh.png"]  # said once each
    assert library.scan_sources()[0].bad == [] and "still being written" not in library.scan_sources()[0].summary()


def test_a_picture_cut_short_is_a_skipped_file_with_its_reason_and_taken_in_once_whole(library, tmp_path):
    """NEWUSER6 §6: a PNG cut short (a generator or a copy that died), left so past the minute's wait, was linked
    from its header alone: an image with "(no picture)" that `import` refused ("damaged image data (image file is
    truncated)") and doctor did not name. Now it is a skipped file with import's reason, said once, taken in when
    written whole; doctor names a linked image whose file cannot be decoded."""
    folder = tmp_path / "src"
    whole = a1111("a lantern festival", 5)
    cut = put(folder, "cut.png", whole[:whole.index(b"IDAT") + 12])  # the header and its text, part of the pixels
    os.utime(cut, (time.time() - 120,) * 2)
    put(folder, "ok.png", a1111("a whole picture", 6))
    reason = "damaged image data (image file is truncated)"
    assert [r for _, r in import_files(library, [cut]).failed] == [reason]  # what import says of it
    report = library.add_source(folder)
    assert [(p.name, r) for p, r in report.bad] == [("cut.png", reason)] and prompts(library) == ["a whole picture"]
    assert library.sources()[0].bad == [("cut.png", reason)]
    assert library.scan_sources()[0].bad == []  # said once
    cut.write_bytes(whole)  # written again, whole
    again = library.scan_sources()[0]
    assert len(again.added) == 1 and prompts(library) == ["a lantern festival", "a whole picture"]
    # one linked while it was cut short (before this change): doctor names it, and changes nothing
    lantern = next(r for r in library.page() if r.prompt == "a lantern festival")
    library.files.thumbnail_path(lantern.sha256).unlink(missing_ok=True)
    cut.write_bytes(whole[:whole.index(b"IDAT") + 12])
    doctor = check(library)
    assert doctor.damaged == [lantern.id] and not doctor.clean
    assert any(f"cannot be decoded (damaged, perhaps cut short): #{lantern.id}" in line for line in doctor.lines())
    assert cut.exists() and library.get(lantern.id).path == cut


def test_a_linked_image_in_a_source_is_skipped_and_said(library, outputs, tmp_path):
    """New-user test 3 item 12: a symbolic link to an image in a source folder was ignored without a word. It is
    not followed (a delete must never go through it to a file outside the sources); it is a skipped file, said."""
    outside = put(tmp_path / "outside", "blue.png", a1111("a blue link target", 31))
    library.add_source(outputs)
    (outputs / "link.png").symlink_to(outside)
    (outputs / "folder-link").symlink_to(outside.parent, target_is_directory=True)  # a folder link: not followed
    report = library.scan_sources()[0]
    assert [p.name for p, _ in report.bad] == ["link.png"] and not report.added
    assert report.bad[0][1].startswith("a symbolic link: not followed")
    assert "1 skipped" in report.summary()
    (source,) = library.sources()
    assert ("link.png", report.bad[0][1]) in source.bad and source.images == 2
    assert library.scan_sources()[0].bad == []  # said once
    assert library.scan_paths([outputs / "link.png"])[0].bad == []  # the watcher's look at it: the same
    assert outside.is_file() and "a blue link target" not in prompts(library)


def test_copy_mode_imports_and_two_places_show_once(library, outputs, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(outputs, other)
    report = library.add_source(other, mode="copy")
    assert len(report.added) == 2
    assert len(list((library.root / "originals").rglob("*.png"))) == 2
    report = library.add_source(outputs)  # the same pictures again, linked: one image each
    assert not report.added and report.known == 2 and library.total() == 2
    shutil.rmtree(other)  # a source folder gone (or a disk unmounted): said, nothing dropped
    report = library.scan_sources()[0]
    assert "Cannot read the source folder" in report.summary() and library.total() == 2


def test_a_linked_picture_a_copying_source_also_holds_gets_its_copy(library, outputs, tmp_path):
    """Linked first, then held by a --copy source too (or imported): the library stores its copy and the image
    is the library's own, so the in-place file (and the copying source's) may go and the picture stays; the
    file in the watched folder is a twin, which trashing leaves where it is. In the trash meanwhile, it gets
    its copy too and is the library's own once restored."""
    library.add_source(outputs)
    ring = next(r for r in library.page() if r.prompt == "a blue ring")
    diamond = next(r for r in library.page() if r.prompt == "a red diamond")
    copies = tmp_path / "copies"
    shutil.copytree(outputs, copies)
    library.trash([diamond.id])  # its file moves into the library's trash folder
    report = library.add_source(copies, mode="copy")
    assert not report.added and report.known == 1 and report.in_trash == 1
    record = library.get(ring.id)
    assert not record.linked and record.path.is_file() and record.path.is_relative_to(library.root / "originals")
    (outputs / "day2" / "b.png").unlink()
    shutil.rmtree(copies)
    library.scan_sources()
    assert library.get(ring.id).path == record.path and record.path.read_bytes() == a1111("a blue ring", 2)
    library.restore([diamond.id])
    back = library.get(diamond.id)
    assert (outputs / "a.png").is_file() and not back.linked and back.path.is_file()
    library.trash([diamond.id])
    assert (outputs / "a.png").is_file()  # a twin now: trashing the image leaves the user's file in place


def test_a_source_is_refused_plainly(library, outputs, tmp_path, monkeypatch):
    library.add_source(outputs)
    for folder, words in ((tmp_path / "nowhere", "No folder"), (outputs, "already one of your sources"),
                          (outputs / "day2", "is inside"),
                          (library.root, "library folder"), (outputs / "a.png", "not a folder")):
        with pytest.raises(StoreError, match=words):
            library.add_source(folder)
    with pytest.raises(StoreError, match="holds"):  # a folder holding it is refused only when it cannot take it in
        library.add_source(tmp_path, mode="copy")
    with pytest.raises(NotFound):
        library.remove_source(tmp_path / "nowhere")
    monkeypatch.chdir(outputs)  # a relative path refused: where it was looked for
    with pytest.raises(StoreError, match=f"^No folder {outputs}/day3[.]$"):
        library.add_source("day3")


def test_a_very_wide_folder_is_asked_about_and_the_library_in_it_is_skipped(tmp_path, monkeypatch):
    """The home folder, /, a folder holding the home folder or the library: a sentence to ask about (the
    command line and the dialog ask with it); followed anyway, the scan and the watcher's events leave
    the library's own files out (its originals and thumbnails are no source's images), and another
    library's folder too; the library folder itself and its thumbnails are refused."""
    from store.importer import import_files

    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    library = Library(home / "lib", account="alice")
    put(tmp_path, "in-library.png", a1111("imported", 1))
    import_files(library, [tmp_path / "in-library.png"])
    other = Library(home / "other-lib", account="alice")
    import_files(other, [put(tmp_path, "elsewhere.png", a1111("another library's", 2))])
    other.close()
    put(home, "pictures/mine.png", a1111("in my pictures", 3))
    assert library.source_caution(library.check_source(home / "pictures")) == ""
    for folder, words in ((home, f"{home} is your home folder"), (tmp_path, f"holds your home folder ({home})"),
                          (Path("/"), "/ is the root of the filesystem")):
        assert words in library.source_caution(library.check_source(folder))
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))
    assert f"holds the library folder {library.root}" in library.source_caution(home)

    def no_home():
        raise RuntimeError("Could not determine home directory.")

    with monkeypatch.context() as no_home_here:  # no home folder to be found: the other reasons still hold
        no_home_here.setattr(Path, "home", no_home)
        assert f"holds the library folder {library.root}" in library.source_caution(home)
    for folder, words in ((library.root, "is the library folder itself"),
                          (library.root / "thumbs", "is inside the library folder"),
                          (home / "other-lib" / "originals", "inside the folder of another library")):
        with pytest.raises(StoreError, match=words):
            library.check_source(folder)
    report = library.add_source(home)
    assert len(report.added) == 1 and not report.known and prompts(library) == ["imported", "in my pictures"]
    newest = library.page()[0]
    assert newest.linked and newest.path == home / "pictures" / "mine.png"
    thumbnail = next((library.root / "thumbs").rglob("*.png"))
    original = next((library.root / "originals").rglob("*.png"))
    elsewhere = next((home / "other-lib" / "originals").rglob("*.png"))
    reports = library.scan_paths([thumbnail, original, elsewhere])  # the watcher's events there: nothing read
    assert reports and not any(r.added or r.known or r.bad or r.unchanged for r in reports)
    assert library.total() == 2 and library.scan_sources()[0].unchanged == 1


def test_a_mounted_disk_or_a_folder_of_far_more_than_pictures_is_asked_about(tmp_path, monkeypatch, capsys):
    """A big data disk elsewhere: the top of a mounted disk, a folder holding one, or a folder a bounded look
    finds holding many more other files than images, is asked about like the home folder, on the command line
    (and in the dialog, test_sources_ui.py); an output folder of pictures (with a text file each) is not."""
    from store import sources
    from tui.cli import main

    monkeypatch.setattr(sources, "WIDE_OTHERS", 40)
    library = Library(tmp_path / "lib", account="alice")
    data = tmp_path / "data"
    for n in range(45):
        put(data, f"project{n % 3}/notes{n}.txt", b"words")
    put(data, "project0/icon.png", a1111("an icon", 1))
    forge = tmp_path / "forge"
    for n in range(90):  # Forge's "save a text file beside each image"
        put(forge, f"day{n % 2}/{n // 2}.{'png' if n % 4 < 2 else 'txt'}", b"")
    assert library.source_caution(forge) == ""
    said = library.source_caution(library.check_source(data))
    assert said.startswith(f"{data} looks like far more than a generator's output folder: a quick look found "
                           "45 files that are not images and 1 image: every image in it") and said.endswith(".")
    look = sources.look_at(forge, entries=30)  # bounded: stops (here after a folder), and says so
    assert not look.finished and look.images + look.others < 90
    mounted = [p for p in (Path("/dev/shm"), Path("/dev/pts"), Path("/run")) if os.path.ismount(p)]
    if mounted:  # real mount points (a container or CI machine without them checks the rest)
        assert f"{mounted[0]} is the top of a mounted disk" in library.source_caution(mounted[0])
        assert sources.look_at(mounted[0].parent).mount in {str(p) for p in mounted}
    library.close()
    assert main(["source", "add", str(data), "--library", str(tmp_path / "lib")]) == 1  # no terminal: refused
    assert "looks like far more than" in capsys.readouterr().err and not Library(tmp_path / "lib").sources()


def test_remove_source_drops_its_images_and_touches_no_file(library, outputs):
    library.add_source(outputs)
    before = sorted(p for p in outputs.rglob("*"))
    assert library.remove_source(outputs) == 2
    assert library.total() == 0 and library.sources() == []
    assert sorted(p for p in outputs.rglob("*")) == before


def test_sources_belong_to_their_account(library, outputs):
    library.add_source(outputs)
    bob = Library(library.root, account="bob", database_url=library.database_url)
    assert bob.sources() == [] and bob.total() == 0
    library.set_plan("premium")
    assert bob.count(Filters(scope="public")) == 0
    bob.add_source(outputs)  # bob may follow the same folder: his own records
    assert bob.total() == 2 and library.total() == 2


def test_doctor_reports_linked_files_that_are_gone(library, outputs):
    library.add_source(outputs)
    (outputs / "a.png").unlink()
    report = check(library, min_age=0)
    assert len(report.missing_linked) == 1 and any("not where" in line for line in report.lines())
    assert report.missing_originals == []


def test_doctor_says_linked_images_of_a_folder_not_there_stay(library, outputs, tmp_path):
    """New-user test 5 item 12: with a source folder unplugged, doctor called its images' files "not where they
    were" and advised a scan that "drops the gone", which drops nothing for a folder not there."""
    library.add_source(outputs)
    away = outputs.rename(tmp_path / "unplugged")
    lines = check(library, min_age=0).lines()
    said = [line for line in lines if str(outputs.resolve()) in line]
    assert len(said) == 1 and said[0].startswith(f"2 of your linked images are in {outputs.resolve()}, which is not "
                                                 "there") and "stay in the library until the folder is back" in said[0]
    assert not any("drops the gone" in line for line in lines)
    assert library.scan_sources()[0].problem and library.total() == 2  # as said: nothing dropped
    away.rename(outputs)
    assert not check(library, min_age=0).away


def test_real_generator_files_in_a_source(library, tmp_path):
    """Linked files are read without decoding their pixels: exactly what an import reads, on every real file."""
    folder = tmp_path / "real"
    shutil.copytree(REAL_METADATA, folder, ignore=shutil.ignore_patterns("*.md", "edge"))
    shutil.copytree(Path(__file__).parent / "fixtures" / "generators", folder / "generators",
                    ignore=shutil.ignore_patterns("*.md"))
    files = sorted(p for p in folder.rglob("*.*"))
    report = library.add_source(folder)
    assert len(report.added) == len(files) and not report.bad
    copied = Library(library.root.parent / "copied", account="alice", database_url=None)
    from store.importer import import_files

    import_files(copied, files)

    def reading(lib):
        return {r.source_name: (r.prompt, r.negative_prompt, r.model, r.text_accuracy, r.width, r.height,
                                r.generated_at, {k: v for k, v in r.params.items()})
                for r in lib.page(limit=100)}

    assert reading(library) == reading(copied)


def test_half_written_files_wait(tmp_path):
    data = a1111("a slow write", 3)
    assert is_complete(data) and png_text(data).text["parameters"].startswith("a slow write")
    for cut in (0, 10, len(data) // 2, len(data) - 1):
        assert not is_complete(data[:cut])


def test_half_written_gif_and_avif_files_wait(tmp_path):
    """GIF and AVIF are followed in sources too (13b949e): one cut short while its generator writes it waits for the
    rest (a GIF's trailer, an AVIF's last box), as a PNG, JPEG or WebP does, instead of being said bad once. Fails
    without (a cut file counted complete)."""
    import io

    from PIL import Image

    from store.formats import AVIF

    frames = [Image.new("RGB", (24, 16), colour) for colour in ("red", "blue")]
    kinds = ["GIF"] + (["AVIF"] if AVIF else [])
    for kind in kinds:
        out = io.BytesIO()
        frames[0].save(out, kind, **({"save_all": True, "append_images": frames[1:]} if kind == "GIF" else {}))
        data = out.getvalue()
        assert is_complete(data), kind
        for cut in (10, len(data) // 2, len(data) - 1):
            assert not is_complete(data[:cut]), (kind, cut)


def tiff_files() -> dict[str, bytes]:
    """TIFFs as Pillow writes them (its first directory first) and as libtiff does (LZW, deflate, JPEG: its directory
    last), two pages, and a BigTIFF."""
    import io

    from PIL import Image

    picture = Image.radial_gradient("L").convert("RGB").resize((120, 80))
    files = {}
    for name, options in (("raw", {}), ("lzw", {"compression": "tiff_lzw"}),
                          ("deflate", {"compression": "tiff_adobe_deflate"}), ("jpeg", {"compression": "jpeg"}),
                          ("pages", {"save_all": True, "append_images": [picture.rotate(90)]}),
                          ("big", {"big_tiff": True})):
        out = io.BytesIO()
        picture.save(out, "TIFF", **options)
        files[name] = out.getvalue()
    return files


def test_half_written_tiff_files_wait():
    """A TIFF's parts may be anywhere in it: it is whole when its directories, their values and its strips or tiles
    all lie inside the file. Fails without (any TIFF counted complete: one caught half written was said damaged)."""
    for name, data in tiff_files().items():
        assert is_complete(data) is True, name
        # (Pillow's pages end on 4 bytes no part needs: a file without them is whole)
        for cut in (4, 8, 12, 40, len(data) // 3, len(data) // 2, len(data) - 5):
            assert is_complete(data[:cut]) is False, (name, cut)
        start = 8 if name == "big" else 4  # libtiff's header before its directory is written: no offset yet
        assert is_complete(data[:start] + bytes(start) + data[2 * start:]) is False, name
    assert is_complete(b"") is False and is_complete(b"II") is None and is_complete(b"not a picture") is None


def test_a_half_written_tiff_or_unknown_file_waits_until_it_stops_changing(library, tmp_path):
    """A TIFF caught half written by a watched source was read, said damaged ("not an image Pillow can read") and
    read again only once it changed; a PNG or JPEG waited. Now a TIFF waits for its missing parts as they do (up to
    a minute unchanged), and a file whose first bytes name no format yet, or that is no picture at all, is read
    again until it has not changed for a few seconds: only then is it said bad. Fails without (each said bad at
    once)."""
    tiffs = tiff_files()
    for mode, data in (("link", tiffs["lzw"]), ("copy", tiffs["deflate"])):
        folder = tmp_path / mode
        folder.mkdir()
        library.add_source(folder, mode=mode)
        slow = put(folder, "slow.tiff", data[:len(data) // 2])
        first = put(folder, "first.tiff", data[:2])  # its first two bytes: no format yet
        junk = put(folder, "junk.png", b"a text file named as a picture")
        report = library.scan_paths([slow, first, junk])[0]
        assert sorted(p.name for p in report.waiting) == ["first.tiff", "junk.png", "slow.tiff"], mode
        assert not report.bad and not report.added, (mode, report.bad)
        with open(slow, "ab") as handle:
            handle.write(data[len(data) // 2:])
        first.write_bytes(data)
        for path in (first, junk):
            os.utime(path, (time.time() - 10,) * 2)  # unchanged for a while now
        report = library.scan_paths([slow, first, junk])[0]
        assert len(report.added) == 1 and report.known == 1 and not report.waiting, (mode, report)
        assert [(p.name, r) for p, r in report.bad] == [("junk.png", "not an image Pillow can read")], mode
    # one still cut short once it has not changed for the minute: decoded, and skipped with its reason
    cut = put(tmp_path / "link", "cut.tiff", tiffs["raw"][:len(tiffs["raw"]) // 2])
    assert library.scan_paths([cut])[0].waiting == [cut]
    os.utime(cut, (time.time() - 120,) * 2)
    report = library.scan_paths([cut])[0]
    assert not report.waiting and [p.name for p, _ in report.bad] == ["cut.tiff"], report


def test_a_half_written_file_is_read_once_complete(library, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    library.add_source(folder)
    data = a1111("written in two goes", 4)
    path = put(folder, "slow.png", data[: len(data) // 2])
    report = library.scan_paths([path])[0]
    assert report.waiting == [path] and not report.added and not report.bad
    with open(path, "ab") as handle:
        handle.write(data[len(data) // 2:])
    report = library.scan_paths([path])[0]
    assert len(report.added) == 1 and prompts(library) == ["written in two goes"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a second user")
def test_a_folder_the_user_cannot_read_is_refused(tmp_path):
    import store.sources  # noqa: F401 - loaded before the fork
    from tui.cli import main

    from .system_users import shared_folder, temporary_team

    with temporary_team("alice") as team:
        (alice,) = team.users
        shared = shared_folder(team)
        private = shared / "private"
        private.mkdir(mode=0o700)
        result = alice.run(main, ["source", "add", str(private), "--library", str(shared / "lib")])
        assert result.code == 1 and "You may not read the folder" in result.stderr, result


# -- the watcher ----------------------------------------------------------------------------------

def wait_for(condition, timeout=10.0):
    """Wait on a condition (checked every 50 ms), failing after `timeout` seconds."""
    tick = threading.Event()
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s")
        tick.wait(0.05)


def test_a_file_written_into_a_folder_just_added_before_its_watch_began_is_found(tmp_path):
    """A folder added while the watcher runs: what is written into it between its first scan and the moment
    its watch is in place is read when the watch begins (it was missed until it changed again: the gallery's
    add-a-source test, a new file never shown)."""
    first, added = tmp_path / "first", tmp_path / "added"
    first.mkdir()
    added.mkdir()
    library = Library(tmp_path / "lib")
    library.add_source(first)
    watcher = SourceWatcher(Library(tmp_path / "lib"), lambda _reports: None).start()
    try:
        assert watcher.ready.wait(10)
        library.add_source(added)  # its first scan: nothing there yet
        put(added, "meanwhile.png", a1111("written before the watch", 6))  # before the watcher knows of it
        watcher.sources_changed()
        wait_for(lambda: library.total() == 1, 5)
        assert library.page()[0].path.name == "meanwhile.png"
    finally:
        watcher.stop()


def test_a_file_written_while_the_rescan_at_start_runs_is_read_at_once(tmp_path):
    """The rescan of every source when watching begins (3-4 s for 100,000 files; in the app a child process,
    which takes a moment to start) held the watcher: a file written right after start waited for it (about 5 s
    in the new-user test). Now it runs beside the watch, and a look at a few paths does not wait for the
    rescan's hold on their folder."""
    from store.file_lock import held

    folder = tmp_path / "out"
    put(folder, "old.png", a1111("there before", 1))
    library = Library(tmp_path / "lib")
    library.add_source(folder)
    watching = Library(tmp_path / "lib")
    lock = watching.root / f".scanning-{watching.sources()[0].id}.lock"
    begun, finish = threading.Event(), threading.Event()
    rescan = watching.scan_sources

    def slow_rescan(*args, **kwargs):  # as long as a big folder's, holding the folder as a real one does
        with held(lock):
            begun.set()
            finish.wait(20)
        return rescan(*args, **kwargs)

    watching.scan_sources = slow_rescan
    watcher = SourceWatcher(watching, lambda _reports: None).start()
    try:
        assert begun.wait(10)  # the watch is in place, the rescan under way
        put(folder, "fresh.png", a1111("written right after start", 2))
        wait_for(lambda: library.total() == 2, 10)
        assert not watcher.ready.is_set()  # read while the rescan still runs
        finish.set()
        assert watcher.ready.wait(10)
    finally:
        finish.set()
        watcher.stop()


@pytest.mark.parametrize("polling", [False, True])
def test_the_watcher_follows_new_moved_and_deleted_files(tmp_path, polling):
    folder, other = tmp_path / "out", tmp_path / "zz-other"  # scanned after "out" (a full rescan goes by path)
    folder.mkdir()
    other.mkdir()
    library = Library(tmp_path / "lib")
    library.add_source(folder)
    library.add_source(other)
    seen, notices = [], []
    watcher = SourceWatcher(Library(tmp_path / "lib"), seen.append, notices.append, force_polling=polling,
                            poll_every=0.3).start()
    try:
        assert watcher.ready.wait(10)
        data = a1111("a new one", 5)
        path = put(folder, "new.png", data[:100])  # a writer still at work
        wait_for(lambda: path in watcher.waiting, 5)
        assert library.total() == 0
        with open(path, "ab") as handle:
            handle.write(data[100:])
        wait_for(lambda: library.total() == 1, 5)
        image = library.page()[0]
        library.set_favorite([image.id])
        path.rename(folder / "renamed.png")
        wait_for(lambda: library.get(image.id).path.name == "renamed.png", 5)
        assert library.get(image.id).favorite
        (folder / "renamed.png").rename(other / "moved.png")  # into another source: the same image (item 5)
        wait_for(lambda: library.total() == 1 and library.page()[0].path.name == "moved.png", 5)
        moved = library.get(image.id)
        assert moved.favorite and moved.imported_at == image.imported_at
        (other / "moved.png").rename(tmp_path / "moved.png")  # out of the sources, then back (a new-user test)
        wait_for(lambda: library.total() == 0, 5)
        (tmp_path / "moved.png").rename(folder / "back.png")
        wait_for(lambda: library.total() == 1, 5)
        back = library.page()[0]
        assert (back.id, back.favorite, back.imported_at) == (image.id, True, image.imported_at)  # its image again
        wait_for(lambda: any(r.back == 1 and r.added == [image.id] for batch in seen for r in batch), 5)
        (folder / "back.png").unlink()
        wait_for(lambda: library.total() == 0, 5)
        assert not notices
    finally:
        watcher.stop()


def test_a_missing_source_folder_leaves_the_others_watched_and_is_followed_once_back(tmp_path, monkeypatch,
                                                                                     capsys):
    """One source folder not there (moved away, a disk unmounted): the others are still watched by the system
    (watchfiles refused the missing path, and every folder was polled every 2 s with a cryptic notice); it is
    said once, listed as not there, and followed again (its files read) once it is back."""
    import store.watcher

    monkeypatch.setattr(store.watcher, "CHECK_SOURCES_EVERY", 0.2)
    here, away = tmp_path / "here", tmp_path / "disk"
    here.mkdir()
    put(away, "old.png", a1111("on the disk", 1))
    library = Library(tmp_path / "lib")
    library.add_source(here)
    library.add_source(away)
    away.rename(tmp_path / "unmounted")
    assert [s.missing for s in library.sources()] == [True, False]  # sorted by path: disk, here
    from tui.cli import main

    main(["source", "list", "--library", str(tmp_path / "lib")])
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith(f"{away}  (link, 1 image, ") and listed[0].endswith(", the folder is not there)")
    assert listed[1].endswith(", not watched now)")
    seen, notices = [], []
    watcher = SourceWatcher(Library(tmp_path / "lib"), seen.append, notices.append).start()
    try:
        assert watcher.ready.wait(10)
        put(here, "new.png", a1111("written here", 2))
        wait_for(lambda: library.total() == 2, 5)
        assert not watcher.polling and not notices and watcher.missing == [str(away)]
        problems = [r.problem for reports in seen for r in reports if r.problem]
        assert len(problems) == 1 and str(away) in problems[0]
        (tmp_path / "unmounted").rename(away)  # back, with a file written meanwhile
        put(away, "while-away.png", a1111("written elsewhere", 3))
        wait_for(lambda: library.total() == 3, 10)
        put(away, "later.png", a1111("written once back", 4))
        wait_for(lambda: library.total() == 4, 5)
        assert not library.sources()[0].missing and not watcher.polling
    finally:
        watcher.stop()


def test_a_mount_point_source_whose_disk_is_not_mounted_keeps_its_images(tmp_path, monkeypatch, capsys):
    """A source folder that is a mount point (an external disk, a share) stays when its disk is unmounted, empty:
    a scan dropped every image as deleted (new ids when the disk came back, the gallery empty meanwhile). Now it
    is not there, as a folder that is gone: said, nothing changed, not watched, read again once the disk is back.
    (Mounting simulated: os.path.ismount answers for the folder, the files leave it as an unmount takes them.)"""
    import store.watcher
    from tui.cli import main

    monkeypatch.setattr(store.watcher, "CHECK_SOURCES_EVERY", 0.2)
    disk, elsewhere = tmp_path / "disk", tmp_path / "on-the-disk"
    mounted = {str(disk)}
    real_ismount = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda p: str(p) in mounted or real_ismount(p))
    put(disk, "a.png", a1111("on the disk", 1))
    put(disk, "sub/b.png", a1111("deeper on the disk", 2))
    library = Library(tmp_path / "lib")
    library.add_source(disk)
    ids = sorted(library.ids())
    library.set_favorite(ids[:1])
    elsewhere.mkdir()
    for entry in list(disk.iterdir()):  # unmounted: the mount point stays, empty
        entry.rename(elsewhere / entry.name)
    mounted.clear()
    assert main(["source", "scan", "--library", str(tmp_path / "lib")]) == 1
    assert f"No disk is mounted on the source folder {disk} now" in capsys.readouterr().out
    assert sorted(library.ids()) == ids and library.sources()[0].missing
    watcher = SourceWatcher(Library(tmp_path / "lib"), lambda _: None, lambda _: None).start()
    try:
        assert watcher.ready.wait(10)
        assert watcher.missing == [str(disk)] and sorted(library.ids()) == ids
        for entry in list(elsewhere.iterdir()):  # mounted again
            entry.rename(disk / entry.name)
        mounted.add(str(disk))
        wait_for(lambda: watcher.folders == [str(disk)], 10)
        assert sorted(library.ids()) == ids and library.get(ids[0]).favorite
        (disk / "a.png").unlink()  # a file deleted for real: its image goes
        wait_for(lambda: library.total() == 1, 10)
        (disk / "sub" / "b.png").unlink()  # the last one too: an emptied folder that is mounted is read as it is
        wait_for(lambda: library.total() == 0, 10)
    finally:
        watcher.stop()


def sources_at(tmp_path, *names):
    """A library following empty folders of these names; (the library, the folders)."""
    library = Library(tmp_path / "lib")
    folders = [tmp_path / name for name in names]
    for folder in folders:
        folder.mkdir()
        library.add_source(folder)
    return library, folders


def test_polling_says_a_missing_folder_once(tmp_path):
    library, (here, away) = sources_at(tmp_path, "here", "away")
    away.rmdir()
    seen = []
    watcher = SourceWatcher(Library(tmp_path / "lib"), seen.append, force_polling=True, poll_every=0.05).start()
    try:
        assert watcher.ready.wait(10)
        put(here, "new.png", a1111("polled", 5))
        wait_for(lambda: library.total() == 1, 5)
        put(here, "newer.png", a1111("polled again", 6))
        wait_for(lambda: library.total() == 2, 5)  # several rescans meanwhile
        assert len([r for reports in seen for r in reports if r.problem]) == 1
    finally:
        watcher.stop()


@pytest.mark.exclusive  # the limit is the whole machine's: no other test may watch meanwhile
def test_the_watch_limit_falls_back_to_polling(tmp_path):
    limit_file = Path("/proc/sys/fs/inotify/max_user_watches")
    if os.geteuid() != 0 or not os.access(limit_file, os.W_OK):
        pytest.skip("lowering the inotify limit needs root")
    folder = tmp_path / "out"
    for n in range(40):
        (folder / f"day{n}").mkdir(parents=True)
    library = Library(tmp_path / "lib")
    library.add_source(folder)
    notices = []
    old = limit_file.read_text()
    try:
        limit_file.write_text("20")
    except OSError as exc:
        pytest.skip(f"the kernel refused a lower inotify limit: {exc.strerror}")
    try:
        watcher = SourceWatcher(Library(tmp_path / "lib"), on_notice=notices.append, poll_every=0.3).start()
        wait_for(lambda: watcher.polling, 10)
    finally:
        limit_file.write_text(old)
    try:
        assert "limit of watched folders is reached (fs.inotify.max_user_watches = 20)" in notices[0]
        put(folder, "day3/new.png", a1111("found by polling", 6))
        wait_for(lambda: library.total() == 1, 5)
    finally:
        watcher.stop()


def test_a_folder_that_cannot_be_watched_is_named_in_words(tmp_path, monkeypatch):
    """NEWUSER12 F2: one unreadable folder in a source made the app say "The source folders cannot be watched
    (Permission denied (os error 13) about ["/…/2026-11-29"]): they are rescanned every 2 s instead.": watchfiles'
    own text, a JSON list in it. The folder is named and the reason said in words. (Made by watchfiles as root is
    not refused: its error is raised here as watchfiles raises it.)"""
    import watchfiles

    folder = tmp_path / "out"
    put(folder, "day2/a.png", a1111("a heron", 1))
    library = Library(tmp_path / "lib")
    library.add_source(folder)
    day2 = str((folder / "day2").resolve())

    def refused(*args, **kwargs):
        raise PermissionError(f'Permission denied (os error 13) about ["{day2}"]')

    monkeypatch.setattr(watchfiles, "watch", refused)
    real_scandir, real_scan = os.scandir, Library.scan_sources
    scans: list[int] = []

    def scandir(path=".", *args):  # as its mode does to anyone but root
        if str(path) == day2:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path, *args)

    def scan_sources(self, *args, **kwargs):
        scans.append(1)
        return real_scan(self, *args, **kwargs)

    monkeypatch.setattr("store.sources.os.scandir", scandir)
    monkeypatch.setattr(Library, "scan_sources", scan_sources)
    notices: list[str] = []
    reports: list = []
    watcher = SourceWatcher(Library(tmp_path / "lib"), on_reports=reports.extend, on_notice=notices.append,
                            poll_every=0.3).start()
    try:
        wait_for(lambda: watcher.polling and len(scans) >= 4, 15)  # a few rescans, every 0.3 s
    finally:
        watcher.stop()
    assert notices == [f"{day2} cannot be watched (permission denied): the source folders are rescanned every 0.3 s "
                       "instead."]
    # the folder that cannot be read is said once, not at every rescan while it lasts
    assert [report.unreadable for report in reports if report.unreadable] == [[(Path(day2), "Permission denied", 1)]]


def test_source_add_of_a_folder_followed_already_is_nothing_to_do_as_one_inside_it(tmp_path, outputs, capsys):
    """NEWUSER12 F10: `source add` of a folder followed already said "myimages: … is already one of your
    sources." on stderr and exited 1, while a folder inside it was said on stdout with exit 0: both change
    nothing, and a script could not tell them from a failure alike."""
    from tui.cli import main

    lib = ["--library", str(tmp_path / "cli-lib")]
    assert main(["source", "add", str(outputs), *lib]) == 0
    capsys.readouterr()
    for folder in (outputs, outputs / "day2"):
        assert main(["source", "add", str(folder), *lib]) == 0
        out, err = capsys.readouterr()
        assert err == "" and out.rstrip().endswith("which you follow already: its images are in your library and new "
                                                   "ones come in as they are written; nothing changed."
                                                   if folder != outputs else
                                                   "is already one of your sources: its images are in your library "
                                                   "and new ones come in as they are written; nothing changed.")


# -- the command line ------------------------------------------------------------------------------

def test_source_commands(tmp_path, outputs, capsys):
    import json

    from tui.cli import main

    lib = ["--library", str(tmp_path / "cli-lib")]
    assert main(["source", "add", str(outputs), *lib]) == 0
    out, err = capsys.readouterr()
    assert "2 new images" in out and "1 skipped" in out and "broken.png" in err
    assert main(["source", "list", "--json", *lib]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["images"] == 2 and listed["mode"] == "link" and listed["bad"][0]["file"] == "broken.png"
    assert listed["watched"] is False
    put(outputs, "c.png", a1111("a third", 9))
    assert main(["source", "scan", *lib]) == 0 and "1 new image" in capsys.readouterr().out
    assert main(["source", "remove", str(outputs), *lib]) == 1  # no terminal to ask on: refused
    assert "--yes" in capsys.readouterr().err
    assert main(["source", "remove", str(outputs), "--yes", *lib]) == 0
    assert "3 images dropped" in capsys.readouterr().out and (outputs / "c.png").exists()
    assert main(["source", "scan", str(outputs), *lib]) == 1
    assert "is not one of your sources" in capsys.readouterr().err


def test_removing_a_source_asks_only_about_the_images_it_drops(tmp_path, outputs, capsys, monkeypatch):
    """`source remove` asks (and the dialog says) how many images leave: a copying source's images are the
    library's own and stay, so it stops following without asking; a linked one another source has too stays."""
    from tui.cli import main

    lib = ["--library", str(tmp_path / "lib")]
    library = Library(tmp_path / "lib")
    copied = tmp_path / "copied"
    put(copied, "x.png", a1111("copied in", 21))
    put(copied, "y.png", a1111("copied too", 22))
    library.add_source(copied, "copy")
    library.add_source(outputs)  # a red diamond, a blue ring
    other = tmp_path / "other"
    put(other, "same.png", (outputs / "a.png").read_bytes())
    library.add_source(other)
    assert library.source_removal(copied).drops == 0 and library.source_removal(other).drops == 0
    assert library.source_removal(outputs).drops == 1  # the ring; the diamond is in `other` too
    assert main(["source", "remove", str(copied), *lib]) == 0  # no terminal, no --yes: nothing to ask
    assert "0 images dropped" in capsys.readouterr().out and library.total() == 4
    assert main(["source", "remove", str(outputs), *lib]) == 1
    assert "its 1 image would leave the library" in capsys.readouterr().err and library.total() == 4
    # new-user test 3 item 5: `source list` counts more images than the question drops; it says why the others stay
    assert main(["import", str(outputs / "day2" / "b.png"), *lib]) == 0  # the ring: the library's own copy now
    put(outputs, "c.png", a1111("a green cube", 23))
    assert main(["source", "scan", str(outputs), *lib]) == 0
    asked: list[str] = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda question: asked.append(question) or "n")
    assert main(["source", "remove", str(outputs), *lib]) == 1
    assert "drop its 1 image from the library? If you follow a folder with these pictures again (the folder renamed, " \
           "or this one with --copy), they come back with their ids, favorites and collections. 2 stay: the library " \
           "has its own copy of 1, another source holds 1. No file is touched." in asked[-1]


def test_source_add_asks_before_following_the_home_folder(tmp_path, monkeypatch, capsys):
    """`source add ~`: refused in one sentence with no terminal to ask on and no --yes, asked on a terminal
    (N changes nothing), followed at once with --yes."""
    import sys

    from tui.cli import main

    home = tmp_path / "home"
    put(home, "pictures/a.png", a1111("mine", 1))
    monkeypatch.setenv("HOME", str(home))
    lib = ["--library", str(tmp_path / "lib")]
    assert main(["source", "add", "~", *lib]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{home} is your home folder" in err and "add --yes" in err
    assert Library(tmp_path / "lib").sources() == []
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    answers, asked = iter(["", "y"]), []
    monkeypatch.setattr("builtins.input", lambda question: (asked.append(question), next(answers))[1])
    assert main(["source", "add", "~", *lib]) == 1 and "Nothing changed." in capsys.readouterr().out
    assert Library(tmp_path / "lib").sources() == []
    assert main(["source", "add", "~", *lib]) == 0 and "1 new image" in capsys.readouterr().out
    assert len(asked) == 2 and "is your home folder" in asked[0] and asked[0].endswith("Follow it? [y/N] ")
    assert main(["source", "remove", "~", "--yes", *lib]) == 0
    assert main(["source", "add", "~", "--yes", *lib]) == 0 and len(asked) == 2  # not asked
    assert "1 image back" in capsys.readouterr().out  # the image the remove dropped (item 6 of new-user test 7)


def test_watch_follows_until_stopped(tmp_path, outputs):
    import signal
    import subprocess
    import sys

    from .conftest import ROOT

    root = tmp_path / "lib"
    Library(root).add_source(outputs)
    unplugged = tmp_path / "disk" / "out"
    unplugged.mkdir(parents=True)
    Library(root).add_source(unplugged)
    unplugged.rmdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT), MYIMAGES_LIBRARY=str(root))
    watch = subprocess.Popen([sys.executable, "-m", "tui.cli", "watch"], env=env, cwd=ROOT, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(3):  # the start's scan may say the folder not there first
            said = watch.stdout.readline()
            if said.startswith("Watching") or not said:
                break
        assert said == f"Watching {outputs.resolve()}; not there now, followed once back: {unplugged} " \
                       "(ctrl+c to stop).\n"
        library = Library(root)
        assert library.sources()[0].watched
        put(outputs, "later.png", a1111("written while watched", 11))
        wait_for(lambda: library.total() == 3, 10)
        assert "written while watched" in [r.prompt for r in library.page()][0]
    finally:
        watch.send_signal(signal.SIGTERM)
        out, err = watch.communicate(timeout=20)
    assert watch.returncode == 0 and "Stopped watching." in out, err
    assert not Library(root).sources()[0].watched


@pytest.fixture
def read_apart(monkeypatch):
    """Every scan reads through reader processes, three files a batch (as a scan of thousands does);
    reading in this process fails, so a test passes only if the readers did the reading."""
    import store.read_child as read_child
    import store.sources as sources

    started = []
    real_popen = read_child.subprocess.Popen

    def popen(*args, **kwargs):
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    def not_here(*args, **kwargs):
        raise AssertionError("read in the scanning process")

    monkeypatch.setattr(sources, "READ_APART_FROM", 1)
    monkeypatch.setattr(sources, "BATCH", 3)
    monkeypatch.setattr(read_child.subprocess, "Popen", popen)
    readers = SimpleNamespace(started=started, read_batch=sources.read_batch)
    monkeypatch.setattr(sources, "read_batch", not_here)
    return readers


def test_many_files_are_read_by_reader_processes(tmp_path, read_apart):
    library = Library(tmp_path / "lib", account="alice")
    folder = tmp_path / "outputs"
    for n in range(10):
        put(folder, f"day{n % 3}/{n}.png", a1111(f"pear {n}", n))
    put(folder, "copy.png", a1111("pear 4", 4))  # the same picture twice: one image
    broken = put(folder, "broken.png", b"\x89PNG\r\n\x1a\n" + b"junk" * 10)
    os.utime(broken, (broken.stat().st_mtime - 3600,) * 2)
    put(folder, "writing.png", a1111("still being written", 99)[:-12])  # no IEND yet: waits
    report = library.add_source(folder)
    assert read_apart.started and all(r.poll() is not None for r in read_apart.started)  # none left running
    assert len(report.added) == 10 and report.known == 1
    assert [p.name for p, _ in report.bad] == ["broken.png"] and [p.name for p in report.waiting] == ["writing.png"]
    assert prompts(library) == sorted(f"pear {n}" for n in range(10))
    assert library.get(report.added[0]).model == "dreamshaper"


def test_a_reader_that_dies_leaves_nothing_unread(tmp_path, read_apart, monkeypatch):
    import store.read_child as read_child
    import store.sources as sources

    monkeypatch.setattr(sources, "read_batch", read_apart.read_batch)  # the fallback reads here
    monkeypatch.setattr(read_child.sys, "executable", "/bin/false")  # each reader exits at once
    library = Library(tmp_path / "lib", account="alice")
    folder = tmp_path / "outputs"
    for n in range(8):
        put(folder, f"{n}.png", a1111(f"plum {n}", n))
    report = library.add_source(folder)
    assert read_apart.started and len(report.added) == 8 and prompts(library) == sorted(f"plum {n}" for n in range(8))


def test_cancel_stops_the_readers(tmp_path, read_apart):
    library = Library(tmp_path / "lib", account="alice")
    folder = tmp_path / "outputs"
    for n in range(30):
        put(folder, f"{n:02}.png", a1111(f"fig {n}", n))
    batches = []
    report = library.add_source(folder, progress=lambda done, total: batches.append(done),
                                cancel=lambda: any(batches))  # once a batch is read ("0 of 30" comes first: 3b6ad17)
    assert report.cancelled and batches == [0, 3] and library.count() == 3
    assert read_apart.started and all(r.poll() is not None for r in read_apart.started)


def test_readers_of_a_scan_the_app_started_yield_the_processor(tmp_path, read_apart, monkeypatch):
    """A scan the app runs (store/scan_child.py) reads at the lowest priority, on cores nothing else wants
    (SCHED_IDLE), so the open gallery keeps its speed; it still reads every file."""
    import subprocess
    import sys

    import store.read_child as read_child

    monkeypatch.setattr(read_child, "IN_BACKGROUND", True)
    library = Library(tmp_path / "lib", account="alice")
    folder = tmp_path / "outputs"
    for n in range(7):
        put(folder, f"{n}.png", a1111(f"date {n}", n))
    report = library.add_source(folder)
    assert len(report.added) == 7 and read_apart.started
    assert all(reader.args[-1] == "background" for reader in read_apart.started)
    said = subprocess.run([sys.executable, "-c", "import os; from store.read_child import yield_to_others; "
                           "yield_to_others(); print(os.sched_getscheduler(0))"],
                          cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, check=True)
    assert int(said.stdout) == os.SCHED_IDLE


def test_thumbnails_are_made_a_few_at_a_time_and_each_image_is_looked_at_once(tmp_path, monkeypatch):
    """The watcher's background thumbnails: each step goes on where the last stopped; once every linked image
    has one, a step looks at none of them again (it walked all of them, and asked the disk for each thumbnail,
    a few times a second), and a walk after new images looks at those only."""
    import store.sources as sources

    monkeypatch.setattr(sources.ThumbnailWalk, "LOOK_AT", 3)
    looked = []
    real = sources._thumbnail
    monkeypatch.setattr(sources, "_thumbnail", lambda *args: looked.append(args[1]) or real(*args))
    library = Library(tmp_path / "lib", account="alice")
    folder = tmp_path / "outputs"
    for n in range(7):
        put(folder, f"{n}.png", a1111(f"lime {n}", n))
    library.add_source(folder)
    walk = sources.ThumbnailWalk()
    assert [library.walk_thumbnails(walk, limit=2) for _ in range(5)] == [2, 2, 2, 1, 0]
    assert sorted(looked) == sorted(r.sha256 for r in library.page()) and len(set(looked)) == 7
    assert all(r.thumbnail_path.exists() for r in library.page())
    looked.clear()
    assert library.walk_thumbnails(walk) == 0 and looked == []
    put(folder, "new.png", a1111("lime new", 99))
    (report,) = library.scan_sources()
    assert library.walk_thumbnails(walk) == 1 and looked == [library.get(report.added[0]).sha256]


def source_with_files(tmp_path, count=4):
    library = Library(tmp_path / "lib", account="alice")
    folder = tmp_path / "outputs"
    folder.mkdir()
    library.add_source(folder)
    for n in range(count):
        put(folder, f"{n}.png", a1111(f"kiwi {n}", n))
    return library, folder


def beside_a_paused_scan(library, other):
    """Run `other()` in a thread while a scan of every source waits after its first batch; `other` must wait
    for the scan. Returns (the scan's reports, or the StoreError it raised; what `other` returned)."""
    first_read, go_on, out = threading.Event(), threading.Event(), {}

    def scan():
        def progress(done, total):
            first_read.set()
            go_on.wait(10)

        try:
            out["scan"] = library.scan_sources(progress=progress)
        except StoreError as exc:
            out["scan"] = exc

    def beside():
        out["other"] = other()

    a = threading.Thread(target=scan)
    a.start()
    assert first_read.wait(10)
    b = threading.Thread(target=beside)
    b.start()
    b.join(0.5)
    assert b.is_alive()  # waiting for the scan
    go_on.set()
    a.join(10)
    b.join(10)
    return out["scan"], out["other"]


def test_one_scan_of_a_source_at_a_time(tmp_path):
    """A second scan of a folder being scanned (the watcher noticing a folder the dialog is adding) waits
    for the first, then reads nothing again."""
    library, _folder = source_with_files(tmp_path)
    (first,), (second,) = beside_a_paused_scan(library,
                                               lambda: Library(library.root, account="alice").scan_sources())
    assert len(first.added) == 4
    assert not second.added and not second.known and second.unchanged == 4


def test_a_source_removed_during_its_scan_is_removed_whole(tmp_path):
    """Removing a source waits for a scan of it that is running (a cancelled add's undo beside the watcher's
    rescan), so none of the scan's images stays behind without its source; a scan that starts with a source
    already gone reads nothing (it failed: "FOREIGN KEY constraint failed", shown as an error)."""
    from store import sources

    library, folder = source_with_files(tmp_path)
    stale = sources.find_source(library, folder)
    scanned, removed = beside_a_paused_scan(library,
                                            lambda: Library(library.root, account="alice").remove_source(folder))
    assert not isinstance(scanned, StoreError) and removed == 4
    assert library.sources() == [] and library.total() == 0
    report = sources.scan_source(library, stale)  # begun with the source already gone
    assert not report.added and not report.changed


def test_an_unexpected_error_reading_an_added_folder_leaves_the_watcher_running(tmp_path, monkeypatch):
    """Any failure reading a folder just added is said, and the watcher goes on (it ended its thread)."""
    library, (first,) = sources_at(tmp_path, "first")
    notices = []
    watched = Library(tmp_path / "lib")
    watcher = SourceWatcher(watched, lambda _reports: None, notices.append, thumbnails=False).start()
    try:
        assert watcher.ready.wait(10)
        real = watched.scan_sources

        def broken(folder=None, *args, **kwargs):
            if folder is not None:
                raise RuntimeError("a bad moment")
            return real(folder, *args, **kwargs)

        monkeypatch.setattr(watched, "scan_sources", broken)
        added = tmp_path / "added"
        added.mkdir()
        library.add_source(added)
        watcher.sources_changed()
        wait_for(lambda: any("a bad moment" in text for text in notices), 5)
        put(first, "after.png", a1111("after the bad moment", 3))
        wait_for(lambda: library.total() == 1, 5)
        assert watcher.running
    finally:
        watcher.stop()


def test_a_scan_stopped_between_an_image_and_its_file_record_leaves_neither(tmp_path, monkeypatch):
    """A linked image and the record of its file commit together: a scan killed in between (a cancelled add's
    child) left images no source held, which removing the source could not find."""
    from store import sources

    library = Library(tmp_path / "lib", account="alice")
    folder = tmp_path / "outputs"
    for n in range(3):
        put(folder, f"{n}.png", a1111(f"plum {n}", n))

    def killed(*_args, **_kwargs):
        raise SystemExit("killed")

    monkeypatch.setattr(sources, "bulk_insert", killed)  # the file records' insert: after the images'
    with pytest.raises(SystemExit):
        library.add_source(folder)
    monkeypatch.undo()
    assert library.total() == 0
    library.remove_source(folder)
    assert library.sources() == [] and library.total() == 0


def test_a_cancelled_add_can_leave_no_source_behind(tmp_path):
    """The app's add: Cancel, and the folder is not followed; forgotten by the add itself while it still holds
    the folder, so no other scan of it can slip in between."""
    library = Library(tmp_path / "lib", account="alice")
    folder = tmp_path / "outputs"
    for n in range(3):
        put(folder, f"{n}.png", a1111(f"fig {n}", n))
    report = library.add_source(folder, cancel=lambda: True, forget_if_cancelled=True)
    assert report.cancelled is False or library.sources() == []
    assert library.sources() == [] and library.total() == 0
    assert len(list(folder.iterdir())) == 3


def test_the_watcher_is_not_held_up_by_a_folder_another_scan_holds(tmp_path):
    """A folder added while the watcher runs is read again once its watch is in place, but not while another
    scan holds it (its add, another program): the watcher waited there, and no other folder's new file came
    in meanwhile. It reads it once the other scan is done."""
    from store import sources
    from store.file_lock import held

    library, (other,) = sources_at(tmp_path, "other")
    busy = tmp_path / "busy"
    busy.mkdir()
    watcher = SourceWatcher(Library(tmp_path / "lib"), lambda _reports: None, thumbnails=False).start()
    try:
        assert watcher.ready.wait(10)
        library.add_source(busy)
        with held(library.root / f".scanning-{sources.find_source(library, busy).id}.lock"):  # another scan
            put(busy, "meanwhile.png", a1111("written before its watch", 1))
            watcher.sources_changed()
            wait_for(lambda: str(busy) in watcher.folders, 5)
            put(other, "second.png", a1111("in the other folder", 2))
            wait_for(lambda: library.total() == 1, 5)
            assert library.page()[0].path.name == "second.png"
        wait_for(lambda: library.total() == 2, 5)
    finally:
        watcher.stop()


@pytest.mark.parametrize("counts, said", [
    (dict(known=2), "Nothing new: 2 images were already in the library"),
    (dict(added=[5, 6], unchanged=3), "2 new images, 3 unchanged"),
    (dict(known=1, unchanged=4), "Nothing new: 1 image was already in the library, 4 unchanged"),
    ({}, "No images in the folder"),
    (dict(kept=1), "Nothing new: 1 file gone (its image stays in the library)"),
    (dict(kept=2, removed=1), "Nothing new: 1 gone, 2 files gone (their images stay in the library)"),
    (dict(in_trash=1), "Nothing new: 1 image in the trash (left there)"),
])
def test_a_scan_says_only_what_happened(counts, said):
    from store.sources import ScanReport

    assert ScanReport(Path("out"), **counts).summary() == said



def test_a_file_put_back_by_a_restore_is_not_said_to_be_already_in_the_library(library, outputs, monkeypatch):
    """New-user test 3 item 13: `watch` printed "Nothing new: 2 images were already in the library" when the app
    restored a trashed image into the folder (the scan read the file between the restore's move and its record).
    The image's own file at its own place is unchanged, and a watch says nothing about it."""
    from store import trash

    library.add_source(outputs)
    diamond = next(r for r in library.page() if r.prompt == "a red diamond")
    library.trash([diamond.id])
    library.scan_sources()  # the watch sees the file leave the folder
    monkeypatch.setattr(trash, "_relink", lambda *args: None)  # the scan comes before the restore records it
    library.restore([diamond.id])
    assert diamond.path.is_file()
    report = library.scan_sources()[0]
    assert (report.known, report.added, report.removed) == (0, [], 0) and not report.changed, report.summary()
    copy = put(outputs, "copy.png", diamond.path.read_bytes())  # a copy elsewhere is still said
    report = library.scan_sources()[0]
    assert report.known == 1 and "1 image was already in the library" in report.summary()
    assert copy.is_file()


def test_the_downloads_folder_is_no_source_and_a_source_holding_it_skips_it(tmp_path, outputs, monkeypatch, capsys):
    """NEWUSER4 #19: downloads (s, the grid editor) and exports into a watched folder came back as new images."""
    from store.export import export_images
    from store.sources import find_source, scan_many
    from tui.cli import main

    downloads = outputs / "downloads"
    downloads.mkdir()
    monkeypatch.setenv("MYIMAGES_DOWNLOADS", str(downloads))
    library = Library(tmp_path / "dl-lib", account="alice")
    for folder in (downloads, downloads / "sub"):
        folder.mkdir(exist_ok=True)
        with pytest.raises(StoreError, match=f"^{folder} is (inside )?the downloads folder [(]{downloads}[)], where "):
            library.add_source(folder)
    library.add_source(outputs)
    before = library.ids()
    (written,) = export_images(library, before[:1], downloads)
    assert not library.scan_sources()[0].added  # a whole scan
    assert not scan_many(library, [(find_source(library, outputs), [written])])[0].added  # the watcher's look
    assert library.ids() == before
    library.close()
    assert main(["export", str(before[0]), "--to", str(outputs / "exports"), "--library", str(tmp_path / "dl-lib")]) == 0
    assert capsys.readouterr().err == (f"myimages: {outputs / 'exports'} is in your source folder {outputs}: the files "
                                       "exported will join your library as new images (the downloads folder is never "
                                       "read as a source).\n")
    assert main(["export", str(before[0]), "--to", str(downloads), "--library", str(tmp_path / "dl-lib")]) == 0
    assert capsys.readouterr().err == ""


def test_a_large_scan_records_linked_files_five_batches_at_a_time_and_fewer_once_cancelled():
    """Batches of linked files are recorded together (one transaction: each index page written once for all),
    but a cancel records what was read at once; the readers are stopped when the grouping stops."""
    from store import sources

    closed = []

    def batches(count):
        try:
            for n in range(count):
                yield [n]
        finally:
            closed.append(True)

    read = []
    assert list(sources._together(batches(12), 5, lambda: False, read.append)) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9],
                                                                                   [10, 11]]
    assert read == [1] * 12  # the progress goes on batch by batch
    cancel = {"now": False}
    grouped = sources._together(batches(12), 5, lambda: cancel["now"], read.append)
    assert next(grouped) == [0, 1, 2, 3, 4]
    cancel["now"] = True
    assert next(grouped) == [5]
    grouped.close()
    assert closed == [True, True]


def test_a_large_scan_writes_with_a_larger_page_cache_and_gives_it_back(tmp_path):
    from store.database import BULK_CACHE_KB, bulk_writing

    library = Library(tmp_path / "lib", account="alice")
    size = library.db.execute_sql("PRAGMA cache_size").fetchone()[0]
    with bulk_writing(library.db):
        assert library.db.execute_sql("PRAGMA cache_size").fetchone()[0] == -BULK_CACHE_KB
    assert library.db.execute_sql("PRAGMA cache_size").fetchone()[0] == size != -BULK_CACHE_KB


def test_a_scan_the_app_starts_runs_in_a_session_of_its_own(tmp_path, monkeypatch):
    """Where Linux shares the processor between sessions first (autogroups), a scan child in the app's session
    took its share from the app's, whatever its niceness: it runs in a session of its own, as high as the app's."""
    import subprocess
    import sys

    import store.scan_child as scan_child

    started = []
    real_popen = subprocess.Popen

    def popen(*args, **kwargs):
        started.append(kwargs)
        return real_popen(*args, **kwargs)

    monkeypatch.setattr(scan_child.subprocess, "Popen", popen)
    library = Library(tmp_path / "lib", account="alice")
    folder = tmp_path / "outputs"
    put(folder, "0.png", a1111("session 0", 0))
    reports = scan_child.run_in_child(library, folder)
    assert len(reports[0].added) == 1 and started[0]["start_new_session"] is True
    if not os.path.exists("/proc/self/autogroup"):
        return
    with open("/proc/self/autogroup") as group:
        fields = group.read().split()  # "/autogroup-25 nice 0"; empty where autogroups are turned off (a container)
    if len(fields) != 3:
        return
    our_group, _, ours = fields
    said = real_popen([sys.executable, "-c", "from store.scan_child import session_like_the_app; "
                       "session_like_the_app(); print(open('/proc/self/autogroup').read())"],
                      cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.PIPE, text=True,
                      start_new_session=True).communicate()[0]
    assert said.split()[0] != our_group and said.split()[-1] == ours


def test_a_file_name_that_is_not_utf8_is_copied_and_imported_under_its_name_escaped(library, tmp_path):
    """A Latin-1 name (`caf\\xe9.png`, from an old archive) broke `source add`/`scan` with a UnicodeEncodeError: a
    folder copied in takes it in (its name kept as the image's with the byte escaped); `import` likewise. (A
    linking source follows it where it is: test_a_linked_file_whose_name_is_not_utf8_is_followed_...)"""
    folder = tmp_path / "latin"
    folder.mkdir()
    raw(folder, b"caf\xe9.png").write_bytes(a1111("a latin cafe", 1))
    put(folder, "ok.png", a1111("a plain name", 2))
    report = library.add_source(folder, mode="copy")
    assert len(report.added) == 2 and not report.bad
    cafe = next(r for r in library.page() if r.prompt == "a latin cafe")
    assert library.get(cafe.id).source_name == "caf\\xe9.png" and not cafe.linked
    assert library.scan_sources()[0].unchanged == 2
    imported = tmp_path / "imp"
    imported.mkdir()
    raw(imported, b"y\xe4k.png").write_bytes(a1111("a latin yak", 3))
    assert len(import_files(library, [imported]).imported) == 1
    assert "a latin yak" in prompts(library)


def test_a_file_name_that_is_not_utf8_leaves_the_watcher_watching(tmp_path):
    """watchfiles cannot hand on a notification of a name that is not UTF-8: its watch ended, and with it the
    watching of every source in the app and in `myimages watch`. Now the watch begins again and reads again what
    came with it: the file is taken in (it is followed like any other), and the next file is read."""
    folder = tmp_path / "out"
    folder.mkdir()
    library = Library(tmp_path / "lib")
    library.add_source(folder)
    reports, notices = [], []
    watcher = SourceWatcher(Library(tmp_path / "lib"), reports.append, notices.append).start()
    try:
        assert watcher.ready.wait(10)
        raw(folder, b"caf\xe9.png").write_bytes(a1111("a latin cafe", 1))
        wait_for(lambda: library.total() == 1, 10)
        put(folder, "after.png", a1111("written after it", 2))
        wait_for(lambda: library.total() == 2, 10)
        assert watcher.running and not notices and not library.sources()[0].bad
        assert os.fsencode(next(r for r in library.page() if r.prompt == "a latin cafe").path).endswith(b"/caf\xe9.png")
    finally:
        watcher.stop()


def test_a_folder_whose_name_is_not_utf8_leaves_the_sources_followed(tmp_path):
    """New-user test 8 #18: a folder whose name is not UTF-8 inside a watched source (out/dossier-\\xe9t\\xe9) ended
    every watch before it began (watchfiles reads each name as it sets the watch up), so the watch was made again
    for good and no file ever came in from any source, without a word. After a few such tries it says so and
    rescans the sources every few seconds: the files come in."""
    folder = tmp_path / "out"
    folder.mkdir()
    inner = raw(folder, b"dossier-\xe9t\xe9")
    inner.mkdir()
    library = Library(tmp_path / "lib")
    library.add_source(folder)
    reports, notices = [], []
    watcher = SourceWatcher(Library(tmp_path / "lib"), reports.append, notices.append, poll_every=0.5).start()
    try:
        assert watcher.ready.wait(20)
        put(folder, "after.png", a1111("written after it", 2))
        wait_for(lambda: library.total() == 1, 20)
        raw(inner, b"\xe9t\xe9.png").write_bytes(a1111("a summer one", 3))
        wait_for(lambda: library.total() == 2, 20)
        assert watcher.polling and len(notices) == 1 and "not UTF-8" in notices[0]
    finally:
        watcher.stop()


def test_a_scan_child_gives_way_while_the_user_works_and_takes_its_share_again_after(tmp_path, monkeypatch):
    """The app tells its scan child when the user works (a key or a click within activity.QUIET_FOR) and when
    the user has left it alone; the child's session runs GIVE_WAY lower meanwhile, at the app's level after.
    The session's niceness is a plain file here, the clock the test's."""
    import io

    from store import activity
    from store.scan_child import GIVE_WAY, GiveWay, tell

    now = [1000.0]
    monkeypatch.setattr(activity.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(activity, "_last", float("-inf"))
    pipe = io.StringIO()
    told = tell(pipe, activity.in_use(), False)
    assert pipe.getvalue() == "" and told is False  # nobody works: nothing said
    activity.note()  # a key
    now[0] += activity.QUIET_FOR / 2
    told = tell(pipe, activity.in_use(), told)
    told = tell(pipe, activity.in_use(), told)  # said once, not at every look
    assert pipe.getvalue() == "1\n" and told is True
    now[0] += activity.QUIET_FOR
    told = tell(pipe, activity.in_use(), told)
    assert pipe.getvalue() == "1\n0\n" and told is False
    pipe.close()
    assert tell(pipe, True, told) is None  # the child has ended: nothing more is said

    group = tmp_path / "autogroup"
    group.write_text("untouched")
    way = GiveWay(2, group=str(group))
    way.follow(io.StringIO("1\n0\n1\n")).join(5)
    assert group.read_text() == str(2 + GIVE_WAY) == str(way.niceness)
    way.told(False)
    assert group.read_text() == "2"
    assert GiveWay(15).lowered == 19  # never past the lowest
    nothing = GiveWay(None, group=str(group))  # no sessions with a niceness: what is told is dropped
    nothing.told(True)
    assert group.read_text() == "2"
    refused = GiveWay(2, group=str(tmp_path / "no" / "autogroup"))
    refused.told(True)
    assert refused.niceness == 2 and refused.group is None


def test_a_scan_child_follows_what_the_app_says_about_the_user(tmp_path, monkeypatch):
    """The child the app starts reads what the app says on its stdin (with its session's niceness where
    sessions have one), and the app's scan tells it when the user works."""
    import store.read_child as read_child
    import store.scan_child as scan_child
    from store import activity

    followed: list[tuple[int, int]] = []
    monkeypatch.setattr(read_child, "IN_BACKGROUND", False)  # the child's main sets it: back after the test
    monkeypatch.setattr(scan_child.os, "nice", lambda n: 0)  # this test's process keeps its own priority
    monkeypatch.setattr(scan_child, "session_like_the_app", lambda: 3)
    monkeypatch.setattr(scan_child.GiveWay, "follow", lambda way, lines: followed.append((way.normal, way.lowered)))
    monkeypatch.setattr(scan_child.signal, "signal", lambda *args: None)
    folder = tmp_path / "outputs"
    put(folder, "0.png", a1111("give way 0", 0))
    assert scan_child.main([str(tmp_path / "lib"), "alice", "--add", str(folder), "--nice", "10"]) == 0
    assert followed == [(3, 3 + scan_child.GIVE_WAY)]
    monkeypatch.undo()

    said: list[str] = []
    real_tell = scan_child.tell
    monkeypatch.setattr(scan_child, "tell", lambda pipe, in_use, told: (said.append(in_use),
                                                                          real_tell(pipe, in_use, told))[1])
    activity.note()
    library = Library(tmp_path / "lib2", account="alice")
    reports = scan_child.run_in_child(library, folder)
    assert len(reports[0].added) == 1 and said and said[0] is True
    said.clear()
    activity.note()  # a cancelled scan: the user waits for it to stop (a cancelled add undoes itself), no giving way
    scan_child.run_in_child(library, cancel=lambda: True)
    assert said[0] is True and said[-1] is False


def test_a_mount_point_source_holding_its_files_without_a_disk_is_a_plain_folder_again(tmp_path, monkeypatch, capsys):
    """The mount-point flag (schema 19) was never cleared: a source added as the top of a disk whose files later
    live in a plain folder at that place (copied off the disk, a share made local) stayed 'not there' for good,
    never read again. A folder with no disk mounted that holds the source's own files is read as a plain folder
    and the flag goes; an empty mount point (the unmounted disk) is still not there."""
    from store.models import Source
    from tui.cli import main

    disk = tmp_path / "disk"
    mounted = {str(disk)}
    real_ismount = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda p: str(p) in mounted or real_ismount(p))
    put(disk, "a.png", a1111("on the disk", 1))
    library = Library(tmp_path / "lib")
    library.add_source(disk)
    assert Source.get().mounted
    mounted.clear()  # no disk there now, but its files are (copied to the internal disk)
    assert not library.sources()[0].missing
    put(disk, "b.png", a1111("written since", 2))
    assert main(["source", "scan", "--library", str(tmp_path / "lib")]) == 0
    assert "1 new image" in capsys.readouterr().out
    assert not Source.get().mounted and library.total() == 2
    (disk / "a.png").unlink()
    (disk / "b.png").unlink()
    assert main(["source", "scan", "--library", str(tmp_path / "lib")]) == 0  # a plain folder emptied: read as it is
    assert library.total() == 0
    mounted.add(str(disk))  # a disk mounted there again: the flag comes back (the scan sets it)
    assert main(["source", "scan", "--library", str(tmp_path / "lib")]) == 0
    assert Source.get().mounted


def test_a_trashed_image_of_a_removed_source_is_counted_and_restored_as_the_librarys_own(library, outputs):
    """New-user test 5 §11 (both back ends): the removal question counts an image whose file went from the folder
    into the trash; restored after the removal, it is the library's own copy, not a file put back in a folder that
    nothing follows."""
    library.add_source(outputs)
    gem = next(r.id for r in library.page(Filters(), limit=10) if r.prompt == "a red diamond")
    library.trash([gem])
    assert not (outputs / "a.png").exists()
    going = library.source_removal(outputs)
    assert going.drops == 1 and going.trashed == 1 and "1 is in the trash" in going.stay()
    assert library.remove_source(outputs) == 1
    adopted: dict[int, str] = {}
    assert library.restore([gem], adopted) == 1 and adopted == {gem: str(outputs)}
    record = library.get(gem)
    assert not record.linked and record.path.is_file() and record.path.is_relative_to(library.root / "originals")
    assert not (outputs / "a.png").exists() and not any((library.root / "trash").iterdir())


@pytest.fixture
def nested(tmp_path):
    """~/out holding ~/out/today: three pictures in today (one in a sub-folder), one in out beside it."""
    out = tmp_path / "out"
    today = out / "today"
    put(today, "a.png", a1111("an inner apple", 11))
    put(today, "b.png", a1111("an inner bell", 12))
    put(today, "sub/c.png", a1111("an inner coin", 13))
    put(out, "x.png", a1111("an outer xylophone", 14))
    return out, today


def test_following_a_folder_holding_a_source_takes_it_in_with_its_images(library, nested):
    """Following a parent of a followed folder: the user had to remove the inner source first, and its images
    came back as new ones (new ids, favorites and collections gone). Now the inner source is taken in: its images
    keep their ids, favorites, collections and dates, its file records are the parent's, nothing is read twice,
    the trash still knows its trashed image; one sentence says so. Fails without (refused: 'remove that source
    first')."""
    out, today = nested
    library.add_source(today)
    by_prompt = {r.prompt: r for r in library.page()}
    apple, bell, coin = by_prompt["an inner apple"], by_prompt["an inner bell"], by_prompt["an inner coin"]
    library.set_favorite([apple.id])
    keep = library.create_collection("Keep")
    library.add_to_collection([bell.id], keep.id)
    library.trash([coin.id])  # its file moves into the library's trash
    assert not (today / "sub" / "c.png").exists()
    assert library.sources_taken_in(library.check_source(out, "link")) == [today.resolve()]
    report = library.add_source(out)
    (xylophone,) = [library.get(i) for i in report.added]
    assert xylophone.prompt == "an outer xylophone" and report.taken_in == [(str(today.resolve()), 3)]
    assert report.summary().startswith(f"{today.resolve()}, followed already, is now part of {out.resolve()}: its 3 "
                                       "images keep their favorites and collections. 1 new image")
    assert [(s.path, s.images) for s in library.sources()] == [(out.resolve(), 3)]  # the trashed one: in the trash
    after = {r.prompt: r for r in library.page()}
    assert {p: r.id for p, r in after.items()} == {"an inner apple": apple.id, "an inner bell": bell.id,
                                                   "an outer xylophone": xylophone.id}
    assert after["an inner apple"].favorite and after["an inner bell"].collections == ["Keep"]
    assert after["an inner apple"].imported_at == apple.imported_at and library.total() == 3
    assert library.restore([coin.id]) == 1  # back into its folder, recorded in the parent
    assert (today / "sub" / "c.png").is_file() and library.get(coin.id).path == today.resolve() / "sub" / "c.png"
    again = library.scan_sources()[0]
    assert (again.added, again.removed, again.moved, again.known, again.unchanged) == ([], 0, 0, 0, 4)
    put(today, "d.png", a1111("a later dove", 15))  # the parent follows the inner folder now
    (dove,) = library.scan_sources()[0].added
    assert library.get(dove).path == today.resolve() / "d.png"
    (today / "a.png").unlink()  # a file gone from it: its image leaves, as any source's
    assert library.scan_sources()[0].removed == 1


def test_a_folder_inside_a_source_is_followed_already_and_nothing_changes(library, nested):
    out, today = nested
    library.add_source(out)
    with pytest.raises(AlreadyFollowed, match=f"^{today.resolve()} is inside {out.resolve()}, which you follow "
                                              "already: its images are in your library"):
        library.add_source(today)
    assert [s.path for s in library.sources()] == [out.resolve()] and library.total() == 4


def test_a_source_followed_otherwise_is_not_taken_in_and_the_sentence_says_what_to_do(library, nested, monkeypatch):
    out, today = nested
    library.add_source(today, mode="copy")
    with pytest.raises(StoreError, match="add .* copying too .* or remove .* first [(]its copied images stay[)][.]$"):
        library.add_source(out)
    library.remove_source(today)
    library.add_source(today)
    with pytest.raises(StoreError, match="add .* linked too .* to take it in with its favorites and collections[.]$"):
        library.add_source(out, mode="copy")
    favorite = library.page()[0].id
    library.set_favorite([favorite])
    shutil.move(today, out / "elsewhere")  # not there now: its images are kept until it is back
    with pytest.raises(StoreError) as refused:
        library.add_source(out)
    # NEWUSER8 #15: it said only "add it once it is back", for a folder renamed inside the one added
    assert str(refused.value) == (
        f"{out.resolve()} holds {today.resolve()}, which you follow but which is not there now. Renamed or moved it? "
        f"Stop following it (myimages source remove {today.resolve()} --yes, or Remove in the sources dialog, w), then "
        f"add {out.resolve()}: its images found in it come back with their favorites and collections. Its disk not "
        "mounted? Add it once it is back.")
    assert [s.path for s in library.sources()] == [today.resolve()] and library.total() == 3
    library.remove_source(today)  # the way the sentence gives works
    library.add_source(out)
    assert library.get(favorite).favorite and library.total() == 4


def test_a_cancelled_add_of_a_folder_holding_a_source_leaves_that_source_as_it_was(library, nested):
    out, today = nested
    library.add_source(today)
    library.set_favorite([r.id for r in library.page()])
    ids = sorted(r.id for r in library.page())
    report = library.add_source(out, cancel=lambda: True, forget_if_cancelled=True)
    assert not report.taken_in
    assert [s.path for s in library.sources()] == [today.resolve()]
    assert sorted(r.id for r in library.page(Filters(favorite=FAVORITES_ONLY))) == ids
    assert library.forget_added(out, [today.resolve()])  # what the app and the command line do after: nothing


TAKE_IN = """
import sys, time
from store import sources
from store.library import Library
sources.BATCH = 4  # batches of a few files: the kill lands between them
step = sys.argv[2]
if step == "transaction":  # killed inside the transaction that takes the inner source in
    rebase = sources._rebase

    def rebase_and_die(*args):
        rebase(*args)
        print(1, 2, flush=True)
        time.sleep(60)

    sources._rebase = rebase_and_die
library = Library(sys.argv[1], account="alice")
library.add_source(sys.argv[3], progress=(lambda done, total: print(done, total, flush=True)) if step == "scan" else None)
"""


@pytest.mark.parametrize("step", ["scan", "transaction"])
def test_an_add_taking_a_source_in_killed_half_way_leaves_it_whole(tmp_path, nested, step):
    """A real child process killed while it reads the outer folder, or inside the transaction that takes the inner
    source in: the inner source is as it was (ids, favorite), and the next scan finishes the take-in."""
    from .test_faults import kill_mid_work

    out, today = nested
    for n in range(40):
        put(out, f"many/{n:02d}.png", a1111("an outer file", 100 + n))
    root = tmp_path / "lib"
    library = Library(root, account="alice")
    library.add_source(today)
    library.set_favorite([r.id for r in library.page()])
    ids = sorted(r.id for r in library.page())
    library.close()
    kill_mid_work([TAKE_IN, str(root), step, str(out)], at=0.3)
    library = Library(root, account="alice")
    followed = [s.path for s in library.sources()]
    assert today.resolve() in followed  # the old state: the inner one followed (the outer one perhaps, beside it)
    if step == "transaction":  # its scan was over: the outer folder is followed, the inner one not taken in
        assert followed == [out.resolve(), today.resolve()] and library.total() == 44
    assert sorted(r.id for r in library.page(Filters(favorite=FAVORITES_ONLY))) == ids
    (report,) = [r for r in library.scan_sources() if r.source == out.resolve()] or [None]
    if report is None:  # killed before the outer folder was recorded
        report = library.add_source(out)
    assert report.taken_in == [(str(today.resolve()), 3)]
    assert [s.path for s in library.sources()] == [out.resolve()] and library.total() == 44
    assert sorted(r.id for r in library.page(Filters(favorite=FAVORITES_ONLY))) == ids
    doctor = check(library, min_age=0)  # (it makes the linked images' thumbnails: not yet made)
    assert doctor.integrity == "ok" and not (doctor.missing_originals or doctor.unreadable or doctor.damaged)
    library.close()


def test_source_add_of_a_parent_takes_the_inner_source_in_and_of_a_child_says_it_is_followed(tmp_path, nested,
                                                                                           capsys):
    """The command line: `source add PARENT` takes the inner source in, in one sentence (it refused: 'remove
    that source first', fails without); `source add CHILD` of a followed folder says it is followed already and
    changes nothing (it was an error, exit 1); a mode that cannot take it in: one sentence, exit 1."""
    from tui.cli import main

    out, today = nested
    lib = ["--library", str(tmp_path / "cli-lib")]
    assert main(["source", "add", str(today), *lib]) == 0
    capsys.readouterr()
    library = Library(tmp_path / "cli-lib")
    ids = sorted(r.id for r in library.page())
    library.close()
    assert main(["source", "add", str(out), "--copy", *lib]) == 1
    assert "linked too" in capsys.readouterr().err
    assert main(["source", "add", str(out), *lib]) == 0
    said = capsys.readouterr().out
    assert f"{today.resolve()}, followed already, is now part of {out.resolve()}: its 3 images keep their favorites " \
           "and collections. 1 new image" in said, said
    assert main(["source", "add", str(today / "sub"), *lib]) == 0
    assert capsys.readouterr().out.startswith(f"{(today / 'sub').resolve()} is inside {out.resolve()}, which you "
                                              "follow already")
    assert main(["source", "list", "--json", *lib]) == 0
    assert [s["path"] for s in json.loads(capsys.readouterr().out)] == [str(out.resolve())]
    library = Library(tmp_path / "cli-lib")
    assert set(ids) < {r.id for r in library.page()} and library.total() == 4
    library.close()


def test_a_file_that_leaves_its_folder_and_comes_back_is_its_image_again(library, outputs, tmp_path):
    """New-user test: a file moved out of a watched folder and back (or deleted and written again) was imported as a
    new image: a new id and import date (its favorite and collections came back by its content, its id did not).
    Now the same picture coming back, at its place or elsewhere in the sources, is that image again: its id,
    import and generation dates, favorite and collections. Fails without (a new id)."""
    library.add_source(outputs)
    library.warm_up()  # SQLite: searches answered by the catalog, which must take the old id in again
    ring = next(r for r in library.page() if r.prompt == "a blue ring")
    diamond = next(r for r in library.page() if r.prompt == "a red diamond")
    library.set_favorite([ring.id])
    library.add_to_collection([ring.id], library.create_collection("Keep").id)
    from PIL import Image as PILImage

    from store import grid

    with PILImage.open(ring.path) as picture:
        layout = grid.layout_for(picture, rows=1, cols=2)
    (cell,) = grid.cut(library, ring.id, layout, [(0, 0)], trimmed=False, save=True).saved_ids
    away = tmp_path / "away"
    away.mkdir()
    shutil.move(outputs / "day2" / "b.png", away / "b.png")  # out of the folder (mv keeps the file's dates)
    shutil.move(outputs / "a.png", away / "a.png")
    assert library.scan_sources()[0].removed == 2 and library.total() == 1  # the cell: the library's own
    assert library.get(cell).parent_id is None
    shutil.move(away / "b.png", outputs / "day2" / "b.png")  # back at its place
    shutil.copy(away / "a.png", outputs / "elsewhere.png")  # back elsewhere in the source, a new file of it
    report = library.scan_sources()[0]
    assert sorted(report.added) == sorted([ring.id, diamond.id]) and report.back == 2
    assert report.summary() == "Nothing new: 2 images back (their file came back: their number, favorite and " \
                               "collections kept), 1 unchanged"
    back = library.get(ring.id)
    assert back.favorite and back.collections == ["Keep"] and back.imported_at == ring.imported_at
    assert back.generated_at == ring.generated_at and back.path == (outputs / "day2" / "b.png").resolve()
    assert library.get(cell).parent_id == ring.id  # its derived image is its own again
    assert library.get(diamond.id).path == (outputs / "elsewhere.png").resolve()
    assert library.get(diamond.id).imported_at == diamond.imported_at and not library.get(diamond.id).favorite
    assert sorted(r.id for r in library.page(Filters(search="blue ring"))) == sorted([ring.id, cell])  # searched
    library.trash([diamond.id])  # a picture in the trash stays there when a file of it comes (as before)
    put(outputs, "again.png", (away / "a.png").read_bytes())
    assert library.scan_sources()[0].in_trash == 1 and library.trashed_ids() == [diamond.id]
    assert library.total() == 2


def test_a_library_of_schema_21_keeps_its_lost_favorites_and_gains_the_lost_images_records(tmp_path, outputs):
    """Schema 22: lost_image gains `record` (what a dropped linked image was, for its return). A library of schema
    21 with a lost favorite opens, and that favorite still comes back with its picture (as a new id: its record was
    not kept then)."""
    import sqlite3

    from store.migrations import LATEST

    library = Library(tmp_path / "lib")
    library.add_source(outputs)
    ring = next(r for r in library.page() if r.prompt == "a blue ring")
    library.set_favorite([ring.id])
    data = (outputs / "day2" / "b.png").read_bytes()
    (outputs / "day2" / "b.png").unlink()
    library.scan_sources()
    library.close()
    con = sqlite3.connect(tmp_path / "lib" / "library.db")
    con.execute("ALTER TABLE lost_image DROP COLUMN record")
    con.execute("UPDATE setting SET value = '21' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    library = Library(tmp_path / "lib")
    assert library.db.execute_sql("SELECT value FROM setting WHERE key='schema_version'").fetchone()[0] == str(LATEST)
    put(outputs, "back.png", data)
    (new,) = library.scan_sources()[0].added
    assert new != ring.id and library.get(new).favorite
    library.close()


def raw(folder: Path, name: bytes) -> Path:
    """A path under `folder` whose name is these bytes (perhaps not UTF-8), as Python names it."""
    return Path(os.fsdecode(bytes(folder) + b"/" + name))


def test_a_linked_file_whose_name_is_not_utf8_is_followed_and_kept_as_it_is(library, tmp_path, capsys):
    """A Latin-1 name (`caf\\xe9.png`, from an old archive) in a linking source was skipped ('its name is not
    UTF-8: rename it'). Now it is an image like any other, on SQLite and PostgreSQL: its path kept to the byte
    (stored escaped, read back as it was: models.PathField), shown with U+FFFD; rescans find it unchanged, a move
    into a folder whose name is not UTF-8 keeps its image, the trash takes its file and puts it back. Files whose
    UTF-8 names look like the escaped forms stay apart. Fails without (skipped)."""
    folder = tmp_path / "latin"
    folder.mkdir()
    cafe = raw(folder, b"caf\xe9.png")
    cafe.write_bytes(a1111("a latin cafe", 1))
    put(folder, "caf%E9.png", a1111("a percent name", 2))  # what the escaped form looks like, as a real name
    put(folder, "caf\\xe9.png", a1111("a backslash name", 3))
    report = library.add_source(folder)
    assert len(report.added) == 3 and not report.bad and library.sources()[0].bad == []
    by_prompt = {r.prompt: r for r in library.page()}
    record = by_prompt["a latin cafe"]
    assert os.fsencode(record.path) == bytes(folder.resolve()) + b"/caf\xe9.png" and record.path.is_file()
    assert by_prompt["a percent name"].path.name == "caf%E9.png"
    assert record.as_json()["path"].endswith("/caf\ufffd.png")
    library.set_favorite([record.id])
    again = library.scan_sources()[0]
    assert (again.added, again.removed, again.unchanged) == ([], 0, 3)
    away = raw(folder, b"d\xe9j\xe0")
    away.mkdir()
    cafe.rename(raw(away, b"caf\xe9.png"))
    moved = library.scan_sources()[0]
    assert moved.moved == 1 and not moved.added
    back = library.get(record.id)
    assert back.favorite and os.fsencode(back.path) == bytes(folder.resolve()) + b"/d\xe9j\xe0/caf\xe9.png"
    library.trash([record.id])
    assert not back.path.exists()
    assert library.restore([record.id]) == 1 and back.path.is_file()
    assert library.scan_sources()[0].unchanged == 3
    gone = raw(folder, b"n\xe9w.png")
    gone.write_bytes(a1111("a latin new one", 4))
    (new,) = library.scan_sources()[0].added
    library.trash([new])
    assert library.delete_forever([new]) == 1 and not gone.exists()  # deleted for good: its file too
    assert library.scan_sources()[0].unchanged == 3
    if not library.uses_postgres:  # kept as it was, in text any database holds
        stored = {r for (r,) in library.db.execute_sql("SELECT relpath FROM source_file").fetchall()}
        assert stored == {"/d%E9j%E0//caf%E9.png", "caf%E9.png", "caf\\xe9.png"}, stored
        from tui.cli import main

        capsys.readouterr()
        assert main(["list", "--json", "--library", str(library.root)]) == 0
        listed = json.loads(capsys.readouterr().out)
        assert sorted(Path(r["path"]).name for r in listed) == ["caf%E9.png", "caf\\xe9.png", "caf\ufffd.png"]


def test_a_running_watch_follows_the_folder_that_took_in_its_source(tmp_path, nested):
    """`source add ~/out` on the command line while the app (or `myimages watch`) watches ~/out/today: the watch
    learns of it (its look at the sources, every CHECK_SOURCES_EVERY seconds), watches ~/out instead, and files
    written in either folder come in."""
    out, today = nested
    library = Library(tmp_path / "lib")
    library.add_source(today)
    notices: list[str] = []
    watcher = SourceWatcher(Library(tmp_path / "lib"), None, notices.append).start()
    try:
        assert watcher.ready.wait(10)
        assert watcher.folders == [str(today.resolve())]
        Library(tmp_path / "lib").add_source(out)  # another program
        wait_for(lambda: watcher.folders == [str(out.resolve())], 20)
        put(out, "later/y.png", a1111("a later yak", 31))
        put(today, "z.png", a1111("a later zebra", 32))
        wait_for(lambda: library.total() == 6, 10)
        assert not notices and [s.path for s in library.sources()] == [out.resolve()]
    finally:
        watcher.stop()


def test_moving_a_source_by_removing_it_and_adding_the_new_path_keeps_its_images(library, outputs, tmp_path, capsys,
                                                                                 monkeypatch):
    """New-user test 7 item 6 (data loss): a watched folder renamed on disk, `source remove OLD`, `source add NEW`:
    every favorite and collection of its images was gone for good, new ids, and the question did not say what went.
    Now removing a source remembers what each dropped image was (as for a file that left its folder): following a
    folder with those pictures again (renamed, or the same one with --copy) brings each back with its id, dates,
    favorite and collections; the question counts them and says so. On SQLite and PostgreSQL. Fails without (new ids,
    no favorite)."""
    from tui.cli import main

    cli = ["--library", str(library.root), "--account", "alice"] + (
        ["--database-url", library.database_url] if library.database_url else [])
    library.add_source(outputs)
    library.warm_up()  # SQLite: searches answered by the catalog, which must take the old ids in again
    ring = next(r for r in library.page() if r.prompt == "a blue ring")
    diamond = next(r for r in library.page() if r.prompt == "a red diamond")
    library.set_favorite([ring.id, diamond.id])
    keepers = library.create_collection("Keepers").id
    library.add_to_collection([ring.id], keepers)
    moved = outputs.rename(tmp_path / "renamed")
    going = library.source_removal(outputs)
    assert (going.drops, going.favorites, going.collected, going.collections) == (2, 2, 1, ("Keepers",))
    assert going.curation() == "2 of them are favorites, 1 is in the collection Keepers."
    asked: list[str] = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda question: asked.append(question) or "n")
    assert main(["source", "remove", str(outputs), *cli]) == 1 and library.total() == 2
    assert "drop its 2 images from the library? 2 of them are favorites, 1 is in the collection Keepers. If you " \
           "follow a folder with these pictures again (the folder renamed, or this one with --copy), they come " \
           "back with their ids, favorites and collections. No file is touched." in asked[-1]
    capsys.readouterr()
    assert main(["source", "remove", str(outputs), "--yes", *cli]) == 0
    assert "2 images dropped from the library, no file touched. If you follow a folder with these pictures again" \
           in capsys.readouterr().out and library.total() == 0
    assert main(["source", "add", str(moved), *cli]) == 0
    assert "2 images back" in capsys.readouterr().out
    back = library.get(ring.id)
    assert back.favorite and back.collections == ["Keepers"] and back.imported_at == ring.imported_at
    assert back.path == (moved / "day2" / "b.png").resolve() and library.get(diamond.id).favorite
    assert sorted(r.id for r in library.page(Filters(search="in:Keepers"))) == [ring.id]  # searched
    # the same folder again, to copy it now: the same images, the library's own
    library.remove_source(moved)
    library.add_source(moved, "copy")
    copied = library.get(ring.id)
    assert not copied.linked and copied.favorite and copied.collections == ["Keepers"] and library.total() == 2
    # a single image: said in the singular
    one = tmp_path / "one"
    put(one, "x.png", a1111("a lone star", 40))
    library.add_source(one)
    (star,) = [r.id for r in library.page(Filters(search="lone star"))]
    library.set_favorite([star])
    library.add_to_collection([star], keepers)
    assert library.source_removal(one).curation() == "It is a favorite and in the collection Keepers."
    library.remove_source(one)
    put(tmp_path / "two", "x.png", (one / "x.png").read_bytes())
    library.add_source(tmp_path / "two")
    assert library.get(star).favorite


def test_one_picture_in_several_places_shows_and_finds_every_file(library, outputs, tmp_path, capsys):
    """New-user test 7 item 14: the same picture under other names in other watched folders is one image, but `info`
    showed one file, `--json` one path and `file:twin` found nothing. Now info lists the others ("Also at"), --json
    has `paths`, and file: matches any of its files' names (source: did), on SQLite (the catalog) and PostgreSQL.
    Fails without (no "Also at", no paths, file:twin finds nothing)."""
    from tui.cli import main

    cli = ["--library", str(library.root), "--account", "alice"] + (
        ["--database-url", library.database_url] if library.database_url else [])
    library.add_source(outputs)
    library.warm_up()
    (ring,) = [r for r in library.page() if r.prompt == "a blue ring"]
    elsewhere = tmp_path / "elsewhere"
    put(elsewhere, "deep/twin.png", (outputs / "day2" / "b.png").read_bytes())
    library.add_source(elsewhere)
    record = library.get(ring.id)
    assert record.path == (outputs / "day2" / "b.png").resolve()
    assert record.also_at == ((elsewhere / "deep" / "twin.png").resolve(),)
    assert ("Also at", str((elsewhere / "deep" / "twin.png").resolve())) in record.info_rows()
    assert main(["info", str(ring.id), "--json", *cli]) == 0
    assert json.loads(capsys.readouterr().out)["paths"] == [str(record.path), str(record.also_at[0])]
    assert main(["info", str(ring.id), *cli]) == 0
    assert f"Also at:         {record.also_at[0]}" in capsys.readouterr().out
    assert [r.id for r in library.page(Filters(search="file:twin"))] == [ring.id]
    assert [r.id for r in library.page(Filters(search="file:deep"))] == []  # a folder's name is no file name
    assert [r.id for r in library.page(Filters(search="source:elsewhere"))] == [ring.id]
    assert library.count(Filters(search="file:b.png")) == 1 and library.count(Filters(search="-file:twin")) == 1
    assert library.get(next(r.id for r in library.page() if r.prompt == "a red diamond")).also_at == ()


def test_importing_files_a_source_links_says_they_are_now_kept_in_the_library(library, outputs, capsys):
    """New-user test 7 item 1: importing files a source already links said "0 imported, 2 duplicates" and "is
    already image #7", yet each was copied into the library and became its own (deleting it no longer moves the
    folder's file). Now the line and the counts say so; a duplicate of an image already the library's own does not.
    Fails without (no such words)."""
    from tui.cli import main

    cli = ["--library", str(library.root), "--account", "alice"] + (
        ["--database-url", library.database_url] if library.database_url else [])
    library.add_source(outputs)
    ring = next(r.id for r in library.page() if r.prompt == "a blue ring")
    assert main(["import", str(outputs / "day2" / "b.png"), *cli]) == 0
    out = capsys.readouterr().out
    assert f"is already image #{ring} (linked from a watched folder; now also kept in the library)" in out
    assert "0 imported, 1 duplicate (linked from a watched folder: now also kept in the library), 0 failed" in out
    assert not library.get(ring).linked
    assert main(["import", str(outputs / "day2" / "b.png"), *cli]) == 0  # the library's own already: a duplicate
    out = capsys.readouterr().out
    assert f"is already image #{ring}\n" in out and "0 imported, 1 duplicate, 0 failed" in out


def test_a_file_whose_source_folder_is_not_there_says_so_when_read(library, outputs, tmp_path):
    """New-user test 7 item 18: saving (s) or cutting an image whose source folder was renamed said only "cannot be
    read: No such file or directory", which reads as the image lost. Now it says the folder is not there and what
    to do; a file alone gone (its folder there) still says it is missing. Fails without."""
    from store.errors import StoreError
    from store.export import png_with_metadata

    library.add_source(outputs)
    ring = library.get(next(r.id for r in library.page() if r.prompt == "a blue ring"))
    diamond = library.get(next(r.id for r in library.page() if r.prompt == "a red diamond"))
    outputs.rename(tmp_path / "moved")
    with pytest.raises(StoreError) as refused:
        png_with_metadata(ring)
    assert str(refused.value) == (
        f"Image #{ring.id}'s file {ring.path} cannot be reached: its folder {outputs.resolve()} is not there (moved "
        "or renamed, or a disk not mounted): bring it back, or see your sources (w, `myimages source list`).")
    (tmp_path / "moved").rename(outputs)
    (outputs / "a.png").unlink()
    with pytest.raises(StoreError) as refused:
        png_with_metadata(diamond)
    assert str(refused.value).endswith("cannot be read: No such file or directory.")


def test_a_database_out_of_reach_is_said_once_by_the_watcher_and_followed_again_after(tmp_path, postgres_server,
                                                                                       monkeypatch):
    """New-user test 10 #1: with the team's PostgreSQL server down, the app's watcher said "The library database cannot
    be reached" at each of its calls (its thumbnails every 0.3 s, its folders every 5 s), and the notices piled up
    over the whole screen, in every open app, for as long as it lasted. Said once while it lasts; once the server is
    back, a file written meanwhile comes in. Fails without (a notice every round: 10 and more in 3 s)."""
    import psycopg2

    from store import watcher as watcher_module

    monkeypatch.setattr(watcher_module, "CHECK_SOURCES_EVERY", 0.5)
    name, url = postgres_server.new_database()
    folder = tmp_path / "out"
    put(folder, "first.png", a1111("first of all", 1))
    library = Library(tmp_path / "lib", account="alice", database_url=url)
    library.add_source(folder)
    notices: list[str] = []

    def connections(allowed: bool) -> None:  # as a server stopped, or an administrator closing the database, does
        admin = psycopg2.connect(host="127.0.0.1", port=postgres_server.port, user="postgres", dbname="postgres")
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
            if not allowed:
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        admin.close()

    watched = Library(tmp_path / "lib", account="alice", database_url=url)
    calls: list[str] = []  # the watcher's calls that ask the database, each round

    def counted(method):
        def call(*args, **kwargs):
            calls.append(method.__name__)
            return method(*args, **kwargs)
        return call

    watched.sources = counted(watched.sources)  # type: ignore[method-assign]
    watched.walk_thumbnails = counted(watched.walk_thumbnails)  # type: ignore[method-assign]
    watcher = SourceWatcher(watched, lambda _reports: None, notices.append).start()
    try:
        assert watcher.ready.wait(30) and notices == []
        connections(False)
        wait_for(lambda: notices, 10)
        asked = len(calls)
        wait_for(lambda: len(calls) >= asked + 8, 20)  # rounds of the outage, each failing
        assert 1 <= len(notices) <= 2 and len(set(notices)) == len(notices), notices
        assert any("cannot be reached" in text or "not currently accepting connections" in text for text in notices)
        put(folder, "meanwhile.png", a1111("written while the server was away", 2))
        connections(True)
        wait_for(lambda: library.total() == 2, 20)
    finally:
        connections(True)
        watcher.stop()
        library.close()
        postgres_server.drop_database(name)  # WITH (FORCE): the connections kept for a next unit of work too


def test_a_picture_another_process_adds_meanwhile_is_that_image_not_a_failure(tmp_path, postgres_server):
    """New-user test 10: the app's watcher and `myimages watch` (the README's user service) following one folder on
    PostgreSQL: both read a new file and both add its image; the second one's batch failed ("The library database
    failed: duplicate key value violates unique constraint "image_owner_id_sha256"", a notice in the app), as its
    transaction does not wait for the other's read. The picture the other process added meanwhile is the image
    (one row), said as already there (a duplicate), not as imported; nothing fails. Fails without (the
    IntegrityError; then, without RETURNING, "imported")."""
    from store.importer import import_files

    name, url = postgres_server.new_database()
    picture = put(tmp_path / "gen", "castle.png", a1111("a castle", 9))
    app = Library(tmp_path / "lib", account="alice", database_url=url)
    watch = Library(tmp_path / "lib", account="alice", database_url=url)  # another process's, on its own connection
    real = app._ids_by_hash
    others: list = []

    def read_before_the_other_commits(hashes):
        found = real(hashes)
        if app.db.in_transaction() and not others:  # the insert's own look, inside its transaction: the other
            worker = threading.Thread(target=lambda: others.append(import_files(watch, [picture])))  # adds it now
            worker.start()
            worker.join(30)
        return found

    app._ids_by_hash = read_before_the_other_commits  # type: ignore[method-assign]
    try:
        report = import_files(app, [picture])
        assert others and [i for _, i in others[0].imported] and not others[0].failed
        assert not report.failed, report.failed
        (image_id,) = [i for _, i in others[0].imported]
        # said as already there, not as made by this import (review of 487559e: it said "imported")
        assert report.imported == [] and [i for _, i in report.duplicates] == [image_id]
        assert app.total() == 1 and watch.total() == 1
    finally:
        app.close()
        watch.close()
        postgres_server.drop_database(name)


def test_a_file_two_accounts_follow_is_never_moved_or_deleted_by_one_of_them(library, tmp_path, capsys):
    """New-user test 10: alice and bob both followed the team's output folder; bob's `delete --permanent` of his
    image of tower.png deleted the file, and alice's image of it left her library for good (her picture lost by
    another account's delete); bob's delete to the trash moved the file out of the folder likewise. A file in a
    folder another account follows is not this account's alone: its delete, to the trash or for good, leaves the
    file where it is (said once in `source list`, not taken in again), and the other account's image keeps it. Fails
    without (the file deleted, alice's image gone)."""
    from tui.cli import main

    folder = tmp_path / "team-out"
    tower = put(folder, "tower.png", a1111("a lone tower", 77))
    put(folder, "gate.png", a1111("a gate", 78))
    bob = Library(library.root, account="bob", database_url=library.database_url)
    try:
        library.add_source(folder)
        bob.add_source(folder)
        (alices,) = [r.id for r in library.page(Filters(search="tower"))]
        (bobs,) = [r.id for r in bob.page(Filters(search="tower"))]
        assert bob.source_files([bobs]).count == 0  # the question names no file that goes with it
        bob.trash([bobs])
        assert tower.is_file() and library.get(alices).path == tower.resolve()
        bob.restore([bobs])
        assert bob.get(bobs).path == tower.resolve()
        bob.delete([bobs])  # for good, not from the trash
        assert tower.is_file() and library.get(alices).path == tower.resolve()
        assert ("tower.png", SHARED_LEFT) in [(str(f), reason) for f, reason in bob.sources()[0].bad]
        assert not bob.scan_sources()[0].added and bob.total() == 1  # left, not taken in again
        (bob_gate,) = [r.id for r in bob.page(Filters(search="gate"))]
        bob.trash([bob_gate])
        bob.empty_trash()  # trashed, then erased: the file stayed in the folder all along
        assert (folder / "gate.png").is_file() and library.total() == 2
        assert library.scan_sources()[0].removed == 0 and library.total() == 2
        cli = ["--library", str(library.root), "--account", "alice"] + (
            ["--database-url", library.database_url] if library.database_url else [])
        capsys.readouterr()
        assert main(["delete", "--permanent", "--yes", str(alices), *cli]) == 0
        assert capsys.readouterr().out.startswith("1 image deleted (erased)\n")  # no file named: none goes
        assert tower.is_file()
    finally:
        bob.close()


def test_adding_a_folder_another_account_follows_says_so_and_what_it_means(library, tmp_path, capsys):
    """New-user test 10 (note): since 05d304e, deleting an image of a file in a folder another account follows too
    leaves the file in place; `source add` of such a folder said nothing of it. It says in one line who follows it
    (the folder, one holding it, or one inside it) and what it means for deletes; nothing for a folder no one else
    follows. Fails without (only the scan's summary)."""
    from tui.cli import main

    team = tmp_path / "team-out"
    put(team / "day1", "tower.png", a1111("a lone tower", 77))
    mine = tmp_path / "mine"
    put(mine, "gate.png", a1111("a gate", 78))
    library.add_source(team)  # alice's
    cli = ["--library", str(library.root), "--account", "bob"] + (
        ["--database-url", library.database_url] if library.database_url else [])
    meaning = ("the files there are theirs as well, so deleting your images of them (to the trash or for good) leaves "
               "those files where they are, and their images keep them.")
    capsys.readouterr()
    assert main(["source", "add", str(team), *cli]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{team}: 1 new image", f"Account alice follows this folder: {meaning}"]
    assert main(["source", "add", str(mine), *cli]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{mine}: 1 new image"]  # no one else follows it
    carol = ["--library", str(library.root), "--account", "carol"] + cli[4:]
    assert main(["source", "add", str(team / "day1"), *carol]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (f"Accounts alice and bob follow {team}, which holds it: "
                                                        f"{meaning}")
    assert main(["source", "add", str(tmp_path), "--yes", *["--library", str(library.root), "--account", "dan"],
                 *cli[4:]]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"Accounts alice, bob and carol follow {mine}, inside it; {team}, inside it; {team / 'day1'}, inside it: "
        f"{meaning}")


def test_a_failure_the_watcher_meets_is_said_once_while_other_calls_work(tmp_path, monkeypatch):
    """A full disk: the watcher's reads (its folders) work and a write fails at every round. The failure was said
    once, then again after each read that worked (one call's success cleared it): a notice at each round, the pile
    5b37483 meant to stop. Now each call's failure is kept until that call works again."""
    from store import watcher as watcher_module
    from store.errors import DatabaseDiskFull

    monkeypatch.setattr(watcher_module, "CHECK_SOURCES_EVERY", 0.2)
    folder = tmp_path / "out"
    put(folder, "first.png", a1111("first of all", 1))
    watched = Library(tmp_path / "lib", account="alice")
    watched.add_source(folder)
    rounds: list[int] = []
    real_sources = watched.sources

    def sources():  # a read: works
        rounds.append(1)
        return real_sources()

    def walk_thumbnails(*args, **kwargs):  # a write on a full disk: fails, the same sentence every time
        raise DatabaseDiskFull("The disk holding the library is full.")

    watched.sources = sources  # type: ignore[method-assign]
    watched.walk_thumbnails = walk_thumbnails  # type: ignore[method-assign]
    notices: list[str] = []
    watcher = SourceWatcher(watched, lambda _reports: None, notices.append,
                            on_database_failure=notices.append).start()
    try:
        wait_for(lambda: notices, 10)
        seen = len(rounds)
        wait_for(lambda: len(rounds) >= seen + 6, 20)  # six more rounds of folders read, thumbnails failing
        assert notices == ["The disk holding the library is full."]
    finally:
        watcher.stop()
        watched.close()


def test_a_source_follows_gif_tiff_and_avif_pictures_too(library, tmp_path):
    """A generator's folder of GIF, TIFF or AVIF outputs (ComfyUI and Forge can save AVIF) showed nothing: the scan
    took PNG, JPEG and WebP only. They are linked in place like the others, an animation by its first frame. Fails
    without (nothing added)."""
    from PIL import Image

    from store.formats import AVIF

    folder = tmp_path / "outputs"
    folder.mkdir()
    frames = [Image.new("RGB", (24, 16), colour) for colour in ("red", "blue")]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    frames[0].save(folder / "pages.tif", save_all=True, append_images=frames[1:])
    if AVIF:
        frames[0].save(folder / "still.avif")
    report = library.add_source(folder)
    assert len(report.added) == (3 if AVIF else 2) and not report.bad
    records = list(library.page())
    assert {r.path.name for r in records} == {"anim.gif", "pages.tif"} | ({"still.avif"} if AVIF else set())
    assert all(r.linked and (r.width, r.height) == (24, 16) for r in records)
    assert library.make_thumbnails() == len(records)


def test_what_is_kept_of_a_file_gone_from_its_folder_is_forgotten_after_the_trash_days(library, outputs, tmp_path,
                                                                                       monkeypatch):
    """What a linked image was (its id, favorite, collections: `LostImage`) was kept forever once its file left the
    folder, a row for every file a generator wrote again or a user deleted. It is kept as long as the trash keeps a
    deleted image (trash_days, 30 by default), then forgotten by a full rescan of the sources and by doctor, which
    says so; the picture coming back after that is a new image. Before, it is that image again. Fails without (the
    picture came back as its old image after 31 days; doctor said nothing)."""
    from datetime import timedelta

    import store.sources
    from store.records import utc_now

    library.add_source(outputs)
    ring = next(r for r in library.page() if r.prompt == "a blue ring")
    library.set_favorite([ring.id])
    away = tmp_path / "away"
    away.mkdir()
    shutil.move(outputs / "day2" / "b.png", away / "b.png")
    shutil.move(outputs / "a.png", away / "a.png")
    assert library.scan_sources()[0].removed == 2
    assert check(library).lost_forgotten == 0  # gone a moment ago: kept
    later = utc_now() + timedelta(days=31)
    monkeypatch.setattr(store.sources, "utc_now", lambda: later)
    library.scan_sources()  # the full rescan forgets both
    monkeypatch.undo()
    shutil.move(away / "b.png", outputs / "day2" / "b.png")
    report = library.scan_sources()[0]
    assert report.back == 0 and len(report.added) == 1 and report.added[0] != ring.id
    assert not library.get(report.added[0]).favorite

    again = next(r for r in library.page() if r.prompt == "a blue ring")  # the new image of b.png
    shutil.move(outputs / "day2" / "b.png", away / "b.png")
    library.scan_sources()
    monkeypatch.setattr(store.sources, "utc_now", lambda: utc_now() + timedelta(days=29))
    assert check(library).lost_forgotten == 0  # 29 days: still kept
    monkeypatch.setattr(store.sources, "utc_now", lambda: utc_now() + timedelta(days=31))
    doctor = check(library)
    assert doctor.lost_forgotten == 1
    assert "1 linked picture gone from its folder for more than 30 days: forgotten (should it come back, it is a " \
           "new image)" in doctor.lines()
    monkeypatch.undo()
    shutil.move(away / "b.png", outputs / "day2" / "b.png")
    assert library.scan_sources()[0].added != [again.id]


def test_bulk_insert_returns_only_the_rows_it_wrote(library):
    """An insert that leaves out the rows already there (keep_existing) says which it wrote (RETURNING), so that a
    picture another process added meanwhile is not said to be made by this one (SQLite and PostgreSQL)."""
    from store.database import bulk_insert
    from store.models import Collection
    from store.records import utc_now

    with library.bound():
        account, now = library.account.id, utc_now()
        Collection.create(owner=account, name="there", created_at=now)
        rows = [{"owner": account, "name": name, "created_at": now} for name in ("there", "new", "other")]
        with library.db.atomic():
            written = bulk_insert(library.db, Collection, rows, conflict=("owner", "name"), keep_existing=True,
                                  returning="name")
        assert sorted(written) == ["new", "other"]
        assert bulk_insert(library.db, Collection, [{"owner": account, "name": "more", "created_at": now}]) == []


def test_a_folder_of_a_source_that_cannot_be_read_keeps_its_images_and_is_said(library, outputs, monkeypatch):
    # NEWUSER12 F1: `chmod 000 outputs/day2` made a rescan drop day2's images as deleted ("Nothing new: 1 gone")
    # with no word of why, and the watcher's scan of the folder itself named the whole source unreadable. A folder
    # that cannot be read is not a folder whose files were deleted: its images stay, one sentence names it.
    library.add_source(outputs)
    assert prompts(library) == ["a blue ring", "a red diamond"]
    favorite = next(r for r in library.page() if r.prompt == "a blue ring")
    library.set_favorite([favorite.id])
    day2 = str(outputs.resolve() / "day2")
    real_scandir = os.scandir

    def scandir(path=".", *args):  # as the mode 000 does to anyone without CAP_DAC_OVERRIDE (the tests run as root)
        if str(path) == day2:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path, *args)

    monkeypatch.setattr("store.sources.os.scandir", scandir)
    (report,) = library.scan_sources()
    assert prompts(library) == ["a blue ring", "a red diamond"] and library.get(favorite.id).favorite
    assert report.removed == 0 and report.unreadable == [(Path(day2), "Permission denied", 1)]
    assert f"{day2} cannot be read (permission denied): its 1 image stays in the library; it is read again once " \
           "it can be." in report.summary()
    real_stat = os.stat

    def stat(path, *args, **kwargs):  # a file in it cannot be looked at either
        if str(path).startswith(day2 + "/"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr("pathlib.os.stat", stat)
    monkeypatch.setattr("pathlib.os.lstat", lambda path, *args, **kwargs: stat(path, follow_symlinks=False))
    # the watcher's events for the folder whose mode changed, and for a file in it
    (report,) = library.scan_paths([Path(day2), Path(day2) / "b.png"])
    assert not report.problem and report.removed == 0 and report.unreadable and report.unreadable[0][0] == Path(day2)
    monkeypatch.setattr("pathlib.os.stat", real_stat)
    monkeypatch.setattr("pathlib.os.lstat", os.lstat)
    assert prompts(library) == ["a blue ring", "a red diamond"]
    monkeypatch.setattr("store.sources.os.scandir", real_scandir)  # readable again: nothing to say, nothing new
    (report,) = library.scan_sources()
    assert not report.unreadable and not report.added and report.removed == 0 and library.get(favorite.id).favorite


def test_an_erase_looks_at_its_linked_files_once(library, tmp_path, monkeypatch):
    """An erase looked up the linked images' files twice: those to delete (linked_paths) and those another account's
    folder holds, to leave (shared_files), each reading the sources of every other account and the files again. One
    look now sorts them. What it does is the same: the shared file is left and said, the other deleted. Fails
    without (two looks)."""
    import store.sources

    folder, own = tmp_path / "team-out", tmp_path / "mine"
    tower = put(folder, "tower.png", a1111("a lone tower", 77))
    gate = put(own, "gate.png", a1111("a gate", 78))
    bob = Library(library.root, account="bob", database_url=library.database_url)
    try:
        library.add_source(folder)
        bob.add_source(folder)
        bob.add_source(own)
        ids = [r.id for r in bob.page()]
        looks: list[int] = []
        real = store.sources.others_folders
        monkeypatch.setattr(store.sources, "others_folders", lambda lib: looks.append(1) or real(lib))
        assert bob.delete(ids) == 2
        assert len(looks) == 1
        assert tower.is_file() and not gate.exists()  # alice's folder too: left; bob's own: deleted with its image
        assert ("tower.png", SHARED_LEFT) in [(str(f), reason) for source in bob.sources() for f, reason in source.bad]
        assert library.total() == 1
    finally:
        bob.close()
