"""The trash (issue 16): delete moves to the trash, restore brings back exactly; on SQLite and PostgreSQL."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

import pytest

from store.doctor import check
from store.errors import NotFound, NotYours, StoreError
from store.importer import ImportOptions, import_files
from store.library import Library
from store.migrations import LATEST
from store.models import Image, TrashFile
from store.records import SCOPE_PUBLIC, Filters, utc_now
from store.trash import TRASH_DAYS, adopted_sentence, renamed_sentence

from .conftest import png_bytes


def shown(library, **filters):
    return library.ids(Filters(**filters))


@pytest.fixture
def five(library, make_png):
    """Five images, newest first "p4" … "p0"; #p2 a favorite in two collections."""
    for n in range(5):
        import_files(library, [make_png()],
                     ImportOptions(prompt=f"a diamond p{n}", generated_at=datetime(2026, n + 1, 1, 12)))
    ids = shown(library)
    red, blue = library.ensure_collection("Red"), library.ensure_collection("Blue")
    library.add_to_collection([ids[2]], red.id)
    library.add_to_collection([ids[2], ids[3]], blue.id)
    library.set_favorite([ids[2]])
    return ids


def test_trash_hides_and_restore_brings_back_exactly(library, five):
    ids = five
    before = library.get(ids[2])
    position = library.position(ids[2])
    assert library.trash([ids[2]]) == 1
    # hidden everywhere: list, count, search, favorites, collections, get, public gallery, select all
    assert shown(library) == [ids[0], ids[1], ids[3], ids[4]] and library.total() == 4
    assert ids[2] not in shown(library, search="p2") and not shown(library, search="p2")
    assert not shown(library, favorite="favorites") and not shown(library, search="is:fav")
    assert {c.name: c.count for c in library.collections()} == {"Blue": 1, "Red": 0}
    assert library.collection("Red").count == 0 and not shown(library, search='in:"Red"')
    assert ids[2] not in shown(library, scope=SCOPE_PUBLIC)
    assert library.position(ids[2]) is None
    with pytest.raises(NotFound):
        library.get(ids[2])
    with pytest.raises(NotFound):
        library.set_favorite([ids[2]], False)  # a trashed image cannot be changed
    with pytest.raises(NotFound):
        library.restore([ids[1]])  # not in the trash
    (item,) = library.trashed()
    assert item.record.id == ids[2] and item.record.favorite and item.record.collections == ["Blue", "Red"]
    assert timedelta(days=TRASH_DAYS - 1) < item.expires_at - item.trashed_at <= timedelta(days=TRASH_DAYS)
    assert item.record.path.exists()  # the original stays while it is in the trash
    # restored exactly: the same record, favorite, collections and place
    assert library.restore([ids[2]]) == 1
    assert library.get(ids[2]) == before and library.position(ids[2]) == position
    assert shown(library) == ids and library.trashed() == []
    assert {c.name: c.count for c in library.collections()} == {"Blue": 2, "Red": 1}
    assert check(library, min_age=0).clean


def test_bulk_trash_newest_deleted_first_delete_forever_and_empty(library, five):
    ids = five
    library.trash(ids[:2])
    Image.update(trashed_at=utc_now() - timedelta(hours=1)).where(Image.id == ids[0]).execute()
    library.trash([ids[4]])
    assert [t.record.id for t in library.trashed()] == [ids[4], ids[1], ids[0]]  # the latest deleted first
    assert library.trash_count() == 3 and library.total() == 2
    with pytest.raises(NotFound):
        library.delete_forever([ids[3]])  # not in the trash: never erased by "delete forever"
    path = library.trashed()[0].record.path
    assert library.delete_forever([ids[4]]) == 1 and not path.exists()
    assert [t.record.id for t in library.trashed()] == [ids[1], ids[0]]
    assert library.empty_trash() == 2 and library.trashed() == [] and shown(library) == [ids[2], ids[3]]
    report = check(library, min_age=0)
    assert report.clean and not report.orphans_removed  # their files went with them


def test_expiry_after_the_days_set(library, five, monkeypatch):
    ids = five
    library.trash(ids[:3])
    old = utc_now() - timedelta(days=TRASH_DAYS, minutes=1)
    Image.update(trashed_at=old).where(Image.id.in_(ids[:2])).execute()
    assert library.expire_trash() == 2
    assert [t.record.id for t in library.trashed()] == [ids[2]]
    monkeypatch.setenv("MYIMAGES_TRASH_DAYS", "1")  # the setting
    Image.update(trashed_at=utc_now() - timedelta(days=2)).where(Image.id == ids[2]).execute()
    assert check(library, min_age=0).trash_expired == 1  # doctor expires too
    assert library.trashed() == [] and shown(library) == ids[3:]


def test_each_account_sees_its_own_trash(library, tmp_path, make_png, db_url):
    import_files(library, [make_png()], ImportOptions(prompt="alice's public diamond"))
    (mine,) = shown(library)
    bob = Library(library.root, account="bob", database_url=db_url)
    import_files(bob, [make_png()], ImportOptions(prompt="bob's diamond"))
    (his,) = shown(bob)
    assert mine in shown(bob, scope=SCOPE_PUBLIC)
    library.trash([mine])
    assert mine not in shown(bob, scope=SCOPE_PUBLIC) and bob.trashed() == []
    with pytest.raises(NotFound):
        bob.get(mine)
    with pytest.raises(NotFound):
        bob.restore([mine])
    with pytest.raises(NotFound):
        bob.delete_forever([mine])
    with pytest.raises(NotYours):
        library.trash([his])
    bob.trash([his])
    assert [t.record.id for t in library.trashed()] == [mine] and [t.record.id for t in bob.trashed()] == [his]
    assert bob.empty_trash() == 1 and [t.record.id for t in library.trashed()] == [mine]
    library.restore([mine])
    assert mine in shown(bob, scope=SCOPE_PUBLIC)


def test_importing_a_trashed_image_again_brings_it_back(library, make_png):
    path = make_png()
    import_files(library, [path], ImportOptions(prompt="again"))
    (image_id,) = shown(library)
    library.trash([image_id])
    again = path.with_name("again.png")
    again.write_bytes(path.read_bytes())
    report = import_files(library, [path, again])
    assert shown(library) == [image_id] and library.trashed() == []
    # NEWUSER4 #20: said as such, not as "duplicate, 0 imported"; the second file of it is a duplicate
    assert report.restored == [(path, image_id)] and report.duplicates == [(again, image_id)]
    assert report.summary() == "0 imported, 1 restored from the trash, 1 duplicate, 0 failed"


def test_a_linked_image_file_moves_to_the_trash_and_back(library, tmp_path):
    folder = tmp_path / "outputs"
    folder.mkdir()
    (folder / "day1").mkdir()
    original = folder / "day1" / "a.png"
    original.write_bytes(png_bytes(colour=(10, 200, 30), text={"parameters": "a linked ring\nSteps: 20, Seed: 5"}))
    mtime = original.stat().st_mtime_ns
    library.add_source(folder)
    (image_id,) = shown(library)
    library.set_favorite([image_id])
    library.trash([image_id])
    assert not original.exists()
    (item,) = library.trashed()
    assert item.record.path.parent == library.root / "trash" and item.record.path.exists()
    # the source's scan does not take the moved-away file for one deleted outside: the record stays
    library.scan_sources()
    assert [t.record.id for t in library.trashed()] == [image_id] and shown(library) == []
    assert library.restore([image_id]) == 1
    assert original.exists() and original.stat().st_mtime_ns == mtime
    record = library.get(image_id)
    assert record.path == original and record.favorite and not list((library.root / "trash").iterdir())
    report = library.scan_sources()[0]
    assert not report.added and not report.removed and shown(library) == [image_id]
    # erased from the trash: the file in the trash folder goes, nothing in the source folder is touched
    library.trash([image_id])
    other = folder / "day1" / "a.png"
    other.write_bytes(b"a new file in its place")
    library.delete_forever([image_id])
    assert not list((library.root / "trash").iterdir()) and other.read_bytes() == b"a new file in its place"


def test_a_restored_file_never_replaces_one_written_meanwhile(library, tmp_path):
    folder = tmp_path / "outputs"
    original = folder / "a.png"
    folder.mkdir()
    original.write_bytes(png_bytes(colour=(1, 2, 3), text={"parameters": "first\nSeed: 1"}))
    library.add_source(folder)
    (image_id,) = shown(library)
    library.trash([image_id])
    original.write_bytes(b"someone else's file")
    renamed: dict = {}
    library.restore([image_id], renamed=renamed)
    assert original.read_bytes() == b"someone else's file"
    assert library.get(image_id).path == folder / "a (restored).png"
    # said plainly (a new-user test: "restored as … (restored).png" confused): the old name is taken, the new one
    assert renamed == {image_id: [(original, folder / "a (restored).png")]}
    assert renamed_sentence(renamed) == (
        f'#{image_id}: its old name a.png in {folder} is taken by another file now, so the restored file is named '
        '"a (restored).png" (the other file was not touched).')


def test_a_restored_file_whose_same_bytes_were_written_back_meanwhile_is_not_made_twice(tmp_path, capsys):
    """NEWUSER8 #16: the user put the same file back (a backup) while its image was in the trash; the restore put
    a byte-identical "a (restored).png" beside it. Now the image is linked to the file that is there, the trash's
    copy goes, and the restore says so. A file of other bytes at the name is still kept apart (the test above)."""
    from tui.cli import main

    folder = tmp_path / "outputs"
    folder.mkdir()
    data = png_bytes(colour=(1, 2, 3), text={"parameters": "first\nSeed: 1"})
    (folder / "a.png").write_bytes(data)
    library = Library(tmp_path / "cli")
    library.add_source(folder)
    (image_id,) = shown(library)
    library.set_favorite([image_id])
    library.trash([image_id])
    assert not (folder / "a.png").exists()
    (folder / "a.png").write_bytes(data)  # the backup put back
    assert library.scan_sources()[0].in_trash == 1
    library.close()
    assert main(["trash", "restore", str(image_id), "--library", str(tmp_path / "cli")]) == 0
    assert capsys.readouterr().out == (
        "1 image restored\n"
        f"#{image_id}: its old name a.png in {folder} holds the same file now, byte for byte: the image is that file "
        "again, and its copy in the trash was removed (no second file made).\n")
    assert sorted(p.name for p in folder.iterdir()) == ["a.png"] and (folder / "a.png").read_bytes() == data
    library = Library(tmp_path / "cli")
    record = library.get(image_id)
    assert record.path == folder / "a.png" and record.favorite
    assert not list((library.root / "trash").iterdir())
    report = library.scan_sources()[0]
    assert (report.unchanged, report.added, report.removed) == (1, [], 0)  # the source's record follows it
    library.close()


def test_the_command_line_says_plainly_that_a_restored_file_has_a_new_name(tmp_path, capsys):
    """`myimages trash restore` said "1 image restored" alone while the file came back under another name."""
    from tui.cli import main

    folder = tmp_path / "outputs"
    folder.mkdir()
    (folder / "a.png").write_bytes(png_bytes(colour=(1, 2, 3), text={"parameters": "first\nSeed: 1"}))
    library = Library(tmp_path / "cli")
    library.add_source(folder)
    (image_id,) = shown(library)
    library.trash([image_id])
    library.close()
    (folder / "a.png").write_bytes(b"someone else's file")
    assert main(["trash", "restore", str(image_id), "--library", str(tmp_path / "cli")]) == 0
    assert capsys.readouterr().out == (
        "1 image restored\n"
        f'#{image_id}: its old name a.png in {folder} is taken by another file now, so the restored file is named '
        '"a (restored).png" (the other file was not touched).\n')

def test_many_linked_files_move_in_batches_and_two_restores_of_one_name_keep_both(library, tmp_path, monkeypatch):
    """NEWUSER5 #3: 400 linked files took 9 s to delete and as long to restore, three fsyncs and a commit a file.
    A batch now syncs each folder once; and two images restored together to one old name both come back."""
    from store import trash

    folder = tmp_path / "outputs"
    folder.mkdir()
    for n in range(30):
        (folder / f"r{n:02d}.png").write_bytes(png_bytes(colour=(n, 9, 9), text={"parameters": f"batch {n}\nSeed: {n}"}))
    library.add_source(folder)
    ids = shown(library)
    synced: list = []
    monkeypatch.setattr(trash, "fsync_dir", synced.append)
    library.trash(ids)
    assert not list(folder.iterdir()) and len(synced) <= 2  # the trash folder once, the source folder once
    synced.clear()
    assert library.restore(ids) == 30 and len(list(folder.iterdir())) == 30 and len(synced) <= 2
    # one name, two images: #a's file is trashed, a new file takes its name and becomes #b, #b is trashed too
    (first,) = [i for i in ids if library.get(i).path.name == "r00.png"]
    library.trash([first])
    (folder / "r00.png").write_bytes(png_bytes(colour=(200, 1, 1), text={"parameters": "second\nSeed: 99"}))
    library.scan_sources()
    (second,) = set(shown(library)) - set(ids)
    library.trash([second])
    assert library.restore([first, second]) == 2
    paths = {library.get(first).path, library.get(second).path}
    assert paths == {folder / "r00.png", folder / "r00 (restored).png"} and all(p.exists() for p in paths)
    assert renamed_sentence({first: [(folder / "a.png", folder / "a (restored).png")], second: [
        (folder / "b.png", folder / "b (restored).png"), (folder / "c.png", folder / "c (restored).png")],
        second + 1: [(folder / "d.png", folder / "d (restored).png")]}) == (
        "4 restored files have new names, as their old names are taken by other files now (those were not touched): "
        f'#{first}\'s a.png is named "a (restored).png"; #{second}\'s b.png is named "b (restored).png"; '
        f'#{second}\'s c.png is named "c (restored).png"; and 1 other file.')
    assert not list((library.root / "trash").iterdir()) and not TrashFile.select().exists()


def test_a_restore_never_makes_a_source_folder_that_is_gone(library, tmp_path, make_png):
    """NEWUSER4 #4: the folder was made again for the file (on a disk not mounted: hidden under the mount point)."""
    folder = tmp_path / "outputs"
    original = folder / "day1" / "a.png"
    original.parent.mkdir(parents=True)
    original.write_bytes(png_bytes(colour=(4, 5, 6), text={"parameters": "on a disk\nSeed: 1"}))
    library.add_source(folder)
    (linked,) = shown(library)
    import_files(library, [make_png()])
    own = max(shown(library))
    library.trash([linked, own])
    folder.rename(tmp_path / "away")
    with pytest.raises(StoreError) as refused:
        library.restore([own, linked])
    assert str(refused.value) == (f"#{linked} cannot go back: its source folder {folder} is not there (moved, "
                                  "or a disk not mounted); nothing was restored. Bring the folder back, then restore.")
    assert not folder.exists() and library.trash_count() == 2  # nothing made, nothing restored
    (tmp_path / "away").rename(folder)
    assert library.restore([own, linked]) == 2 and original.exists() and library.get(linked).path == original


def test_an_image_whose_folder_inside_a_source_was_renamed_is_restored_as_the_librarys_own(library, tmp_path):
    """New-user test 7 item 8: a sub-folder of a followed source renamed while an image of it was in the trash: the
    restore was refused, calling the sub-folder "its source folder" (the source was there), and worked only once the
    old folder was made again by hand. Now the image is back as the library's own copy (its old folder is not made
    again), and the restore says which folder of which source is not there. Fails without (refused)."""
    folder = tmp_path / "gen"
    original = folder / "griffins" / "g.png"
    original.parent.mkdir(parents=True)
    original.write_bytes(png_bytes(colour=(7, 5, 6), text={"parameters": "a griffin\nSeed: 4"}))
    (folder / "other.png").write_bytes(png_bytes(colour=(8, 5, 6), text={"parameters": "an owl\nSeed: 5"}))
    library.add_source(folder)
    griffin = next(r.id for r in library.page() if r.path.name == "g.png")
    library.set_favorite([griffin])
    library.trash([griffin])
    (folder / "griffins").rename(folder / "griffins-old")
    adopted: dict[int, str] = {}
    assert library.restore([griffin], adopted) == 1
    record = library.get(griffin)
    assert not record.linked and record.path.is_file() and record.favorite
    assert record.path.is_relative_to(library.root / "originals") and not (folder / "griffins").exists()
    assert adopted_sentence(adopted) == (
        f"#{griffin}: its folder griffins/ in your source {folder} is not there any more (renamed or moved), so it "
        "is back as the library's own copy (no file was put in your folders).")
    assert not any((library.root / "trash").iterdir()) and not TrashFile.select().exists()
    library.scan_sources()  # the source's next look keeps it (its file there is gone, its copy is the library's)
    assert library.get(griffin).path == record.path and library.total() == 2


def test_an_interrupted_move_is_finished_on_opening(library, tmp_path, db_url):
    folder = tmp_path / "outputs"
    folder.mkdir()
    original = folder / "a.png"
    original.write_bytes(png_bytes(colour=(9, 9, 9), text={"parameters": "moved\nSeed: 1"}))
    library.add_source(folder)
    (image_id,) = shown(library)
    library.trash([image_id])
    # as if killed after the trash's commit, before its file moved: the file back, the move not done
    (library.root / "trash" / f"{image_id}-0-a.png").rename(original)
    TrashFile.update(moved=False).execute()
    again = Library(library.root, account="alice", database_url=db_url)
    assert not original.exists() and again.trashed()[0].record.path.exists()
    # and after the restore's commit, before the file moved back
    Image.update(trashed_at=None, location=str(original)).where(Image.id == image_id).execute()
    third = Library(library.root, account="alice", database_url=db_url)
    assert original.exists() and third.get(image_id).path == original
    assert not list((library.root / "trash").iterdir())
    # doctor says the crash was repaired (NEWUSER6 §12: it said nothing, the move done on opening)
    assert "1 interrupted move of files into or out of the trash finished" in check(third).lines()
    assert check(third).trash_moves == 0  # said once


def test_a_version_7_library_gains_the_trash(tmp_path, make_png):
    root = tmp_path / "old"
    lib = Library(root)
    import_files(lib, [make_png(), make_png()])
    lib.close()
    con = sqlite3.connect(root / "library.db")
    con.execute("DROP INDEX image_owner_id_trashed_at")
    con.execute("ALTER TABLE image DROP COLUMN trashed_at")
    con.execute("ALTER TABLE image DROP COLUMN phash")  # schema 9 (duplicates) too
    con.execute("DROP TABLE trash_file")
    con.execute("DROP TRIGGER image_change_au")
    con.execute("CREATE TRIGGER image_change_au AFTER UPDATE OF owner_id, prompt, favorite ON image "
                "BEGIN INSERT INTO image_change(image_id) VALUES (new.id); END")
    con.execute("UPDATE setting SET value='7' WHERE key='schema_version'")
    con.commit()
    con.close()
    again = Library(root)
    assert again.db.execute_sql("SELECT value FROM setting WHERE key='schema_version'").fetchone()[0] == str(LATEST)
    assert {"trashed_at", "phash"} <= {c.name for c in again.db.get_columns("image")}
    ids = shown(again, search="")
    again.warm_up()  # the catalog is built: it must follow the trash through the change log
    again.trash([ids[0]])
    assert shown(again, search="id:>0") == ids[1:]
    again.restore([ids[0]])
    assert shown(again, search="id:>0") == ids


def test_the_catalog_follows_another_process_trashing(tmp_path, make_png, monkeypatch):
    monkeypatch.setattr("store.catalog.CATCH_UP_EVERY", 0.0)  # at once: the batching is tested in test_catalog
    root = tmp_path / "lib"
    here = Library(root)
    import_files(here, [make_png(), make_png()])
    ids = shown(here, search="id:>0")
    other_db = sqlite3.connect(root / "library.db")
    other_db.execute("UPDATE image SET trashed_at = '2026-01-01 00:00:00' WHERE id = ?", (ids[0],))
    other_db.commit()
    assert shown(here, search="id:>0") == ids[1:] and here.count(Filters(search="id:>0")) == 1
    other_db.execute("UPDATE image SET trashed_at = NULL")
    other_db.commit()
    other_db.close()
    assert shown(here, search="id:>0") == ids
    assert Image.select().count() == 2


def test_command_line_delete_trash_list_restore_empty_and_permanent(capsys, tmp_path, make_png):
    import json
    import os
    import sys

    from tui.cli import main

    def run(*args):
        code = main([*args, "--library", str(tmp_path / "cli")])
        out, err = capsys.readouterr()
        return code, out, err

    for n in range(3):
        assert run("import", str(make_png()), "--prompt", f"cli diamond {n}")[0] == 0
    code, out, _ = run("delete", "1", "2", "--yes")
    assert code == 0 and "2 images deleted: moved to the trash" in out
    code, out, _ = run("list", "--json")
    assert [d["id"] for d in json.loads(out)] == [3]
    for args in (["info", "1"], ["favorite", "1"], ["export", "1", "--to", str(tmp_path / "x")], ["delete", "1", "--yes"]):
        code, _, err = run(*args)  # NEWUSER4 #16: not "No image #1."
        assert code == 1 and err == "myimages: Image #1 is in the trash (myimages trash restore 1 brings it back).\n"
    code, _, err = run("export", "1", "3", "--to", str(tmp_path / "x"))
    assert err == ("myimages: Image #1 is in the trash (myimages trash restore 1 brings it back): nothing was "
                   "exported (give the other 1 without it).\n")
    code, out, _ = run("trash", "list", "--json")
    assert sorted(d["id"] for d in json.loads(out)) == [1, 2] and all("expires_at" in d for d in json.loads(out))
    code, out, _ = run("trash", "list")
    assert "cli diamond 1" in out and "deleted 20" in out
    assert run("trash", "restore", "2")[1] == "1 image restored\n"
    code, _, err = run("trash", "restore", "3")
    assert code == 1 and "not in the trash" in err
    old_stdin = sys.stdin
    sys.stdin = open(os.devnull)
    try:
        code, _, err = run("trash", "empty")
        assert code == 1 and "--yes" in err  # no terminal to ask on
    finally:
        sys.stdin.close()
        sys.stdin = old_stdin
    assert run("trash", "empty", "--yes")[1] == "1 image erased\n"
    assert run("trash", "list")[1] == "The trash is empty.\n"
    code, out, _ = run("delete", "3", "--permanent", "--yes")
    assert code == 0 and "1 image deleted (erased)" in out
    code, out, _ = run("list", "--json")
    assert [d["id"] for d in json.loads(out)] == [2]
    assert run("trash", "list", "--json")[1].strip() == "[]"


def test_command_line_restore_all_in_batches_and_list_says_where_each_goes_back(tmp_path, make_png, capsys,
                                                                                  monkeypatch):
    """`myimages trash restore --all` (the trash view's Restore all), a batch at a time; `trash list --json` says
    where a restore puts each image's file (null: the library's own copy) and reads the trash a page at a time."""
    import json

    from tui import cli_trash
    from tui.cli import main

    monkeypatch.setattr(cli_trash, "RESTORE_BATCH", 2)
    monkeypatch.setattr(cli_trash, "LIST_PAGE", 2)
    folder = tmp_path / "outputs"
    folder.mkdir()
    (folder / "a.png").write_bytes(png_bytes(colour=(1, 2, 3), text={"parameters": "linked\nSeed: 1"}))
    library = Library(tmp_path / "cli")
    library.add_source(folder)
    for n in range(4):
        import_files(library, [make_png()], ImportOptions(prompt=f"own {n}"))
    ids = shown(library)
    library.trash(ids)
    library.close()

    def run(*args):
        code = main([*args, "--library", str(tmp_path / "cli")])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = run("trash", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and sorted(d["id"] for d in listed) == sorted(ids)
    assert sorted(str(d["restore_to"]) for d in listed) == sorted([str(folder)] + ["None"] * 4)
    code, out, _ = run("trash", "list")
    assert code == 0 and len(out.splitlines()) == 5
    code, _, err = run("trash", "restore")
    assert code == 1 and "--all" in err
    code, _, err = run("trash", "restore", str(ids[0]), "--all")
    assert code == 1 and "not both" in err
    code, out, _ = run("trash", "restore", "--all")
    assert code == 0 and out == "5 images restored\n" and (folder / "a.png").exists()
    assert run("trash", "list")[1] == "The trash is empty.\n"


def test_the_trash_a_page_at_a_time_its_places_counts_and_a_walk_in_batches(library, five, monkeypatch):
    """What the trash view reads instead of the whole trash: a page, an image's place, counts up to a moment and
    less some ids, and every id a batch at a time (safe while the batches are restored)."""
    from store import trash

    ids = five
    for image_id in ids:  # one delete each: ids[-1] is the newest delete, first in the trash's order
        library.trash([image_id])
    order = [t.record.id for t in library.trashed()]
    assert [t.record.id for t in library.trashed(1, 2)] == order[1:3]
    assert [library.trash_position(i) for i in order] == [0, 1, 2, 3, 4]
    assert library.trash_position(12345) is None
    until = library.newest_trashed()
    assert until == library.trashed()[0].trashed_at
    assert library.count_trashed() == 5 and library.count_trashed(until, {order[0], 12345}) == 4
    library.trash([])  # nothing
    seen: list[list[int]] = []
    for batch in trash.walk_ids(library, 2, until, {order[1]}):
        seen.append(batch)
        library.restore(batch)  # the walk goes on from its last id
    assert all(len(batch) <= 2 for batch in seen) and sorted(sum(seen, [])) == sorted(set(ids) - {order[1]})
    assert [t.record.id for t in library.trashed()] == [order[1]]
    assert all(t.restore_to == "" for t in library.trashed())  # imported: back as the library's own


def test_collections_count_their_images_in_the_trash(tmp_path, make_png, db_url):
    """New-user test 8 #6: `collections()` (collection list, the dialog) counted the images outside the trash only,
    so a collection all in the trash read as empty. It counts those in the trash apart, on both back ends."""
    library = Library(tmp_path / "lib", account="alice", database_url=db_url)
    import_files(library, [make_png() for _ in range(3)], ImportOptions(prompt="x"))
    ids = sorted(library.ids())
    half, empty = library.create_collection("Half"), library.create_collection("Empty")
    library.add_to_collection(ids, half.id)
    library.trash(ids[:2])
    counts = {c.name: (c.count, c.in_trash) for c in library.collections()}
    assert counts == {"Half": (1, 2), "Empty": (0, 0)}
    assert (library.collection("Half").count, library.collection("Half").in_trash) == (1, 2) and empty.count == 0
    library.close()
