"""The trash in the app (issue 16): delete to the trash, u undoes, the trash view; keys, mouse, 80×24, 160×48."""
from __future__ import annotations

import threading

import pytest
from textual.widgets import Button, OptionList, Static

from tui.confirm_delete import ConfirmDeleteScreen
from tui.gallery_screen import GalleryScreen
from tui.trash_screen import TrashScreen
from widgets.trash_list import TrashList

from . import ui
from .test_robust import type_at_once
from .test_gallery import PROMPTS, card_prompts, grid, lib, make_app, status, text_of  # noqa: F401 - lib: a fixture

SIZES = [(80, 24), (160, 48)]



def trash_list(app) -> TrashList:
    return app.screen.query_one(TrashList)


def trash_rows(app) -> list[str]:
    """The images the trash lists ("#12"), those whose page is read (all of them in a small trash)."""
    shown = trash_list(app)
    return [f"#{item.record.id}" for item in map(shown.item_at, range(shown.total)) if item is not None]


async def on_screen(pilot, app, kind) -> None:
    """Until a screen of this kind is on top, laid out and has the focus, its work done (keys and clicks reach it)."""
    await ui.wait_until(pilot, lambda: isinstance(app.screen, kind) and app.focused is not None
                        and app.focused.screen is app.screen)
    await ui.settle(pilot, app)


async def gallery_shows(pilot, app, n: int) -> None:
    await ui.wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen) and status(app) == f"{n} of {n} images",
                        timeout=15)  # a loaded machine (2 cores shared), PostgreSQL
    await ui.settle(pilot, app)


@pytest.mark.parametrize("size", SIZES)
async def test_delete_goes_to_the_trash_and_u_brings_it_back_where_it_was(lib, tmp_path, size, db_url):
    ids = lib.ids()
    second = ids[1]
    collection = lib.ensure_collection("Keep")
    lib.add_to_collection([second], collection.id)
    lib.set_favorite([second])
    before = lib.get(second)
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await gallery_shows(pilot, app, 6)
        await pilot.press("right")
        assert grid(app).current.id == second
        await pilot.press("d")
        await on_screen(pilot, app, ConfirmDeleteScreen)
        assert text_of(app.screen.query_one("#question", Static)) == \
            f'Are you sure you want to delete image #{second}, "{before.prompt}"?'
        assert "restored for 30 days" in text_of(app.screen.query_one("#trash-hint", Static))
        assert [str(b.label) for b in app.screen.query(Button)] == ["Cancel", "Delete"]
        assert app.focused.id == "cancel"
        await pilot.click("#delete")
        await gallery_shows(pilot, app, 5)
        assert before.prompt not in card_prompts(app) and before.path.exists()
        assert [t.record.id for t in lib.trashed()] == [second]
        await pilot.press("u")
        await gallery_shows(pilot, app, 6)
        await ui.wait_until(pilot, lambda: grid(app).current is not None and grid(app).current.id == second,
                            timeout=15)
        assert lib.get(second) == before and lib.ids() == ids and lib.trashed() == []
        # a bulk delete (with its progress) and u: every one back
        await pilot.press("ctrl+a", "d")
        await on_screen(pilot, app, ConfirmDeleteScreen)
        assert text_of(app.screen.query_one("#question", Static)) == "Are you sure you want to delete these 6 images?"
        await pilot.click("#delete")
        await ui.wait_until(pilot, lambda: lib.total() == 0, timeout=15)
        await ui.wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen) and not card_prompts(app))
        await pilot.press("u")
        await gallery_shows(pilot, app, 6)
        assert lib.ids() == ids and lib.get(second) == before
        # the cursor where it was at the delete (NEWUSER5 §3: it went to the first id restored, the oldest card)
        await ui.wait_until(pilot, lambda: grid(app).cursor == 1 and grid(app).current.id == second)
        await pilot.press("u")  # nothing left to undo: said, nothing changes
        await ui.settle(pilot, app)
        assert lib.ids() == ids


@pytest.mark.parametrize("size", SIZES)
async def test_u_walks_back_through_the_deletes_made_here(lib, tmp_path, size, monkeypatch):
    """NEWUSER6 §7: after two deletes, a second `u` said "Nothing to undo: no image was deleted here" while the
    first was still in the trash. `u` now walks back through this window's deletes, the last first, as an
    editor's undo does, and what it says is true at each end (bounded: UNDO_LEVELS, 2 here)."""
    from .test_robust import record_notifications

    monkeypatch.setattr("tui.gallery_screen.UNDO_LEVELS", 2)
    ids = lib.ids()
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await gallery_shows(pilot, app, 6)
        shown = record_notifications(app)
        deleted = []
        for left in (5, 4, 3):
            deleted.append(grid(app).current.id)
            await pilot.press("d")
            await on_screen(pilot, app, ConfirmDeleteScreen)
            await pilot.click("#delete")
            await gallery_shows(pilot, app, left)
        assert sorted(t.record.id for t in lib.trashed()) == sorted(deleted)
        await pilot.press("u")
        await gallery_shows(pilot, app, 4)
        await ui.wait_until(pilot, lambda: grid(app).current is not None and grid(app).current.id == deleted[2])
        await pilot.press("u")  # the one before
        await gallery_shows(pilot, app, 5)
        await ui.wait_until(pilot, lambda: grid(app).current is not None and grid(app).current.id == deleted[1])
        assert [m for _, m in shown if m.startswith("Restored")] == [
            "Restored 1 image. u again undoes the delete before it.", "Restored 1 image."]
        await pilot.press("u")  # the first is past the bound: said, it stays in the trash
        await ui.wait_until(pilot, lambda: any(m.startswith("Nothing more") for _, m in shown), timeout=15)
        assert [m for _, m in shown if m.startswith("Nothing")] == [
            "Nothing more to undo: u brings back the last 2 deletes made here; the older ones are in the trash (t)."]
        assert [t.record.id for t in lib.trashed()] == [deleted[0]] and len(lib.ids()) == len(ids) - 1


async def test_u_says_what_was_restored_elsewhere_meanwhile(lib, tmp_path):
    """New-user test 3 item 4: `d` here, `myimages trash restore 7` in another shell, then `u` here said
    nothing at all. Now it names the image restored elsewhere, alone or beside those it restores."""
    from .test_robust import record_notifications

    ids = lib.ids()
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await gallery_shows(pilot, app, 6)
        shown = record_notifications(app)
        first = grid(app).current.id
        await pilot.press("d")
        await on_screen(pilot, app, ConfirmDeleteScreen)
        await pilot.click("#delete")
        await gallery_shows(pilot, app, 5)
        lib.restore([first])  # as another instance would
        await pilot.press("u")
        await ui.wait_until(pilot, lambda: any(m.startswith("Nothing to undo") for _, m in shown), timeout=15)
        assert [m for _, m in shown if m.startswith("Nothing to undo")] == \
            [f"Nothing to undo: #{first} was already restored elsewhere."]
        # two deleted, one of them restored elsewhere: the other comes back, and the first is named
        await gallery_shows(pilot, app, 6)
        await pilot.press("space", "right", "space", "d")
        await on_screen(pilot, app, ConfirmDeleteScreen)
        await pilot.click("#delete")
        await gallery_shows(pilot, app, 4)
        lib.restore([first])
        await pilot.press("u")
        await gallery_shows(pilot, app, 6)
        await ui.wait_until(pilot, lambda: any(m.startswith("Restored") for _, m in shown), timeout=15)
        assert [m for _, m in shown if m.startswith("Restored")] == \
            [f"Restored 1 image. #{first} was already restored elsewhere."]
        assert lib.ids() == ids


async def test_u_names_the_trash_view_for_what_was_erased_there(lib, tmp_path):
    """New-user test 4 item 15: `d`, then Delete forever in this window's trash view, then `u` said the image
    "was already erased for good elsewhere"."""
    from .test_robust import record_notifications

    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await gallery_shows(pilot, app, 6)
        shown = record_notifications(app)
        first = grid(app).current.id
        await pilot.press("d")
        await on_screen(pilot, app, ConfirmDeleteScreen)
        await pilot.click("#delete")
        await gallery_shows(pilot, app, 5)
        await pilot.press("t")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and app.screen.loaded)
        await on_screen(pilot, app, TrashScreen)
        await pilot.press("d")
        await on_screen(pilot, app, ConfirmDeleteScreen)
        await pilot.click("#delete")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and trash_rows(app) == [])
        await pilot.press("escape")
        await gallery_shows(pilot, app, 5)
        await pilot.press("u")
        await ui.wait_until(pilot, lambda: any(m.startswith("Nothing to undo") for _, m in shown), timeout=15)
        assert [m for _, m in shown if m.startswith("Nothing to undo")] == \
            [f"Nothing to undo: #{first} was already erased for good in the trash."]


@pytest.mark.parametrize("size", SIZES)
async def test_trash_view_restore_delete_forever_and_empty_by_key_and_mouse(lib, tmp_path, size):
    ids = lib.ids()
    lib.trash([ids[3]])
    lib.trash([ids[1]])
    lib.trash([ids[0], ids[5]])
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await gallery_shows(pilot, app, 2)
        await pilot.press("t")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and app.screen.loaded)
        await on_screen(pilot, app, TrashScreen)
        rows = trash_rows(app)
        assert rows[:2] in ([f"#{ids[0]}", f"#{ids[5]}"], [f"#{ids[5]}", f"#{ids[0]}"])  # deleted together
        assert rows[2:] == [f"#{ids[1]}", f"#{ids[3]}"]  # the most recently deleted first
        assert "4 images in the trash" in text_of(app.screen.query_one("#trash-status", Static))
        screen = ui.screen_text(app)
        for label in ("Restore", "Delete forever", "Empty trash", "Back"):
            assert label in screen  # every button on screen at this size
        # r restores the highlighted one
        await pilot.press("down", "down")
        await pilot.press("r")
        await ui.wait_until(pilot, lambda: len(trash_rows(app)) == 3)
        await on_screen(pilot, app, TrashScreen)
        assert lib.get(ids[1]).id == ids[1] and trash_rows(app)[2:] == [f"#{ids[3]}"]
        # d asks (its own question), then erases
        await pilot.press("d")
        await on_screen(pilot, app, ConfirmDeleteScreen)
        assert "forever" in text_of(app.screen.query_one("#question", Static))
        assert [str(b.label) for b in app.screen.query(Button)] == ["Cancel", "Delete forever"]
        await pilot.press("enter")  # Cancel has the focus
        await on_screen(pilot, app, TrashScreen)
        assert len(trash_rows(app)) == 3
        await pilot.press("d")
        await on_screen(pilot, app, ConfirmDeleteScreen)
        await pilot.click("#delete")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and len(trash_rows(app)) == 2)
        await on_screen(pilot, app, TrashScreen)
        assert lib.trash_count() == 2 and len(lib.ids()) == 3
        # with the mouse: Restore, then Empty trash (asks), then Back
        await pilot.click("#restore")
        await ui.wait_until(pilot, lambda: len(trash_rows(app)) == 1)
        await on_screen(pilot, app, TrashScreen)
        await pilot.click("#empty")
        await on_screen(pilot, app, ConfirmDeleteScreen)
        question = text_of(app.screen.query_one("#question", Static))
        assert question.startswith("Are you sure you want to empty the trash?")
        await pilot.click("#delete")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and trash_rows(app) == [])
        await on_screen(pilot, app, TrashScreen)
        assert "The trash is empty" in text_of(app.screen.query_one("#trash-status", Static))
        assert app.screen.query_one("#restore", Button).disabled
        await pilot.click("#close")
        await gallery_shows(pilot, app, 4)  # the restored ones are back in the grid
        assert lib.trash_count() == 0 and len(lib.ids()) == 4


async def test_trash_from_the_command_palette_and_escape_back(lib, tmp_path):
    lib.trash([lib.ids()[0]])
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await gallery_shows(pilot, app, 5)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"trash")
        await ui.wait_until(pilot, lambda: app.screen.query_one(OptionList).option_count > 0)
        await pilot.press("enter")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and app.screen.loaded)
        assert len(trash_rows(app)) == 1
        await pilot.press("escape")
        await gallery_shows(pilot, app, 5)


async def test_the_public_gallery_has_no_trash_or_undo(lib, tmp_path):
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await gallery_shows(pilot, app, 6)
        await pilot.press("v")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen) and app.screen.public)
        shown = ui.notices(app)
        await pilot.press("t", "u")
        await ui.settle(pilot, app)
        assert not isinstance(app.screen, TrashScreen) and any("read only" in n for n in shown)


async def test_the_app_erases_what_is_older_than_the_trash_days_at_start_up(lib, tmp_path):
    from datetime import timedelta

    from store.models import Image
    from store.records import utc_now
    from store.trash import TRASH_DAYS

    old, recent = lib.ids()[:2]
    lib.trash([old, recent])
    Image.update(trashed_at=utc_now() - timedelta(days=TRASH_DAYS, hours=1)).where(Image.id == old).execute()
    app = make_app(lib, tmp_path)
    shown = ui.notices(app)  # before it starts: the erasing is among the first things it does
    async with app.run_test(size=(80, 24)) as pilot:
        await gallery_shows(pilot, app, 4)
        await ui.wait_until(pilot, lambda: lib.trash_count() == 1)
        assert [t.record.id for t in lib.trashed()] == [recent]
        await ui.wait_until(pilot, lambda: any("erased from the trash" in n for n in shown))


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
async def test_the_trash_has_its_own_help_and_key_bar(tmp_path, make_png, size):
    """? and F1 open the trash's help; the bottom bar shows the trash's keys (r, d, e), not the gallery's;
    an empty trash draws nothing stray in its table, and its bar offers no key for images (new-user test 8 #13)."""
    from store.importer import import_files
    from store.library import Library
    from tui.help_screen import HelpScreen

    library = Library(tmp_path / "trash-keys", account="alice")
    import_files(library, [make_png()])
    app = make_app(library, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        await pilot.press("t")
        await on_screen(pilot, app, TrashScreen)
        lines = ui.screen_lines(app)
        assert "▉" not in "\n".join(lines[1:-1])  # the empty table: no lone cursor block
        assert " ".join(lines[-1].split()) == "esc Back ? Help", lines[-1]
        library.trash(library.ids())  # elsewhere: the trash view follows, and its keys for images come
        await ui.wait_until(pilot, lambda: "r Restore" in ui.screen_lines(app)[-1])
        bar = ui.screen_lines(app)[-1]
        assert "r Restore" in bar and "d Delete forever" in bar and "e Empty trash" in bar, bar
        assert "Favorite" not in bar and "Search" not in bar, bar
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            await ui.wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
            assert "Trash" in ui.screen_text(app) and "Delete forever" in ui.screen_text(app)
            await pilot.press("escape")
            await on_screen(pilot, app, TrashScreen)
    library.close()


@pytest.mark.parametrize("size", [pytest.param((80, 24), id="80x24"),
                                  pytest.param((160, 48), marks=pytest.mark.slow, id="160x48")])
async def test_bulk_deletes_say_that_files_move_out_of_watched_folders(tmp_path, size):
    """New-user test item 13: deleting several images (ctrl+a, d) and the duplicates view's "Trash the others"
    did not say that files of watched folders move into the library's trash (deleting one image did)."""
    from store.importer import ImportOptions, import_files
    from store.library import Library
    from tui.duplicates_screen import DuplicatesScreen

    from .test_duplicates import variants
    from .test_duplicates_ui import noise_png

    library = Library(tmp_path / "lib", account="alice")
    first = noise_png(tmp_path / "in" / "first.png", 1)
    import_files(library, [first], ImportOptions(prompt="first picture"))
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    copy = variants(first, tmp_path / "variants")[0].rename(outputs / "first.jpg")  # the same picture, watched
    noise_png(outputs / "other.png", 2)
    library.add_source(outputs)
    app = make_app(library, tmp_path)
    async with app.run_test(size=size) as pilot:
        await gallery_shows(pilot, app, 3)
        await pilot.press("ctrl+a", "d")
        await on_screen(pilot, app, ConfirmDeleteScreen)
        line = app.screen.query_one("#linked-files", Static)
        await ui.wait_until(pilot, lambda: line.display and "2 files in your source folders (of 2 images) move into "
                            "the library's trash: " in text_of(line))
        await pilot.press("escape")
        await gallery_shows(pilot, app, 3)
        await pilot.press("D")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, DuplicatesScreen) and app.screen.loaded, timeout=15)
        await ui.settle(pilot, app)
        await pilot.press("d")  # keeps the imported one (a prompt): the JPEG in the folder goes
        await on_screen(pilot, app, ConfirmDeleteScreen)
        line = app.screen.query_one("#linked-files", Static)
        await ui.wait_until(pilot, lambda: "Its file in your source folder moves into the library's trash: "
                            in text_of(line) and "first.jpg" in text_of(line))
        await pilot.click("#delete")
        await ui.wait_until(pilot, lambda: not copy.exists() and library.total() == 2, timeout=15)
    library.close()


async def test_the_delete_dialogs_name_every_file_of_an_image(tmp_path):
    """New-user test 3 item 1: one picture in three files of watched folders is one image, and deleting it takes
    all three; the dialog (and the trash's "Delete forever") named one file, or none."""
    from store.library import Library

    from .test_sources import a1111, put

    data = a1111("a cyan square", 4)
    files = sorted(put(tmp_path / folder, name, data).resolve() for folder, name in
                   (("src1", "cyan.png"), ("src1", "best/my-favorite-cyan.png"), ("src4", "cyan-backup.png")))
    library = Library(tmp_path / "lib", account="alice")
    library.add_source(tmp_path / "src1")
    library.add_source(tmp_path / "src4")
    named = ", ".join(str(p) for p in files)
    app = make_app(library, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await gallery_shows(pilot, app, 1)
        await pilot.press("d")
        await on_screen(pilot, app, ConfirmDeleteScreen)
        line = app.screen.query_one("#linked-files", Static)
        await ui.wait_until(pilot, lambda: line.display and "Its 3 files in your source folders (the same picture "
                            f"in each) move into the library's trash: {named}." in text_of(line))
        await pilot.click("#delete")
        await ui.wait_until(pilot, lambda: not any(p.exists() for p in files))
        await pilot.press("t")
        await on_screen(pilot, app, TrashScreen)
        await pilot.press("d")
        await on_screen(pilot, app, ConfirmDeleteScreen)
        line = app.screen.query_one("#linked-files", Static)
        await ui.wait_until(pilot, lambda: line.display and "in the library's trash since the image was deleted, "
                            f"are erased too: {named}." in text_of(line))
    library.close()


async def test_the_trash_follows_another_instance(lib, tmp_path, monkeypatch):
    """New-user test item 9: the trash open in one instance shows what another restores or erases (as the gallery
    does); a restore of an image erased elsewhere before the list caught up says so, and the row goes."""
    from store.library import Library

    ids = lib.ids()
    lib.trash(ids[:3])
    other = Library(lib.root, account="alice")  # another instance of the app, or the command line
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        said = ui.notices(app)
        await gallery_shows(pilot, app, 3)
        await pilot.press("t")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and len(trash_rows(app)) == 3)
        table = trash_list(app)
        table.move_to(1)
        on = trash_rows(app)[1]
        other.restore([int(trash_rows(app)[0][1:])])  # the row above the cursor goes; the cursor stays on its image
        await ui.wait_until(pilot, lambda: len(trash_rows(app)) == 2, timeout=10)
        assert trash_rows(app)[table.cursor] == on
        await pilot.press("escape")
        await gallery_shows(pilot, app, 4)
        monkeypatch.setattr("tui.following.POLL_SECONDS", 3600)  # opened again, the list does not catch up
        await pilot.press("t")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and len(trash_rows(app)) == 2)
        trash_list(app).move_to(trash_rows(app).index(on))
        other.delete_forever([int(on[1:])])
        await pilot.press("r")
        await ui.wait_until(pilot, lambda: len(trash_rows(app)) == 1, timeout=10)
        # (it said "No image #5.": the command line's words for an id typed; the app had shown it)
        assert on not in trash_rows(app) and any(f"Image {on} was deleted elsewhere" in text for text in said), said
    other.close()


async def test_restoring_into_a_source_folder_that_is_gone_is_refused_in_one_sentence(tmp_path, make_png):
    """NEWUSER4 #4 in the app: r in the trash view names the missing folder; the image stays in the trash."""
    from store.library import Library

    folder = tmp_path / "outputs"
    folder.mkdir()
    make_png("a.png").rename(folder / "a.png")
    library = Library(tmp_path / "lib", account="alice")
    library.add_source(folder)
    library.trash(library.ids())
    folder.rename(tmp_path / "away")
    app = make_app(library, tmp_path)
    said = ui.notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and app.screen.loaded)
        await on_screen(pilot, app, TrashScreen)
        await pilot.press("r")
        await ui.wait_until(pilot, lambda: any("is not there" in n for n in said))
        await on_screen(pilot, app, TrashScreen)
        assert any(f"its source folder {folder} is not there" in n for n in said)
        assert len(trash_rows(app)) == 1 and not folder.exists() and library.trash_count() == 1
    library.close()


async def test_a_check_read_before_a_restore_here_does_not_bring_its_row_back(lib, tmp_path, monkeypatch):
    """The check for changes made elsewhere reads the list in a worker (tui/following.py); a restore made here
    while it read must not come back undone when its older answer arrives."""
    import threading

    from textual.worker import get_current_worker

    from store.library import Library

    ids = lib.ids()
    lib.trash(ids[:3])
    other = Library(lib.root, account="alice")
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await gallery_shows(pilot, app, 3)
        await pilot.press("t")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and len(trash_rows(app)) == 3)
        read, go_on = threading.Event(), threading.Event()
        real = lib.trashed

        def slow_trashed(*args, **kwargs):
            items = real(*args, **kwargs)
            if get_current_worker().group == "trash-changes":  # the check, once it has read
                read.set()
                go_on.wait(10)
            return items

        monkeypatch.setattr(lib, "trashed", slow_trashed)
        other.restore([int(trash_rows(app)[0][1:])])  # a change elsewhere: the next tick's check reads the list
        await ui.wait_until(pilot, read.is_set, timeout=15)
        left = trash_rows(app)[2]
        trash_list(app).move_to(1)
        await pilot.press("r")  # here, while the check holds the list as it was
        await ui.wait_until(pilot, lambda: trash_rows(app) == [left], timeout=10)
        go_on.set()
        await ui.wait_until(pilot, lambda: all(w.is_finished for w in app.workers if w.group == "trash-changes"),
                            timeout=15)  # its answer handled (call_from_thread waits for it)
        assert trash_rows(app) == [left]
    other.close()


async def test_deleting_an_image_whose_folder_is_not_there_says_its_file_stays(tmp_path):
    """New-user test 5 item 5: with its source folder moved away (a disk unmounted), the question said the image's
    file moves into the library's trash and the summary agreed, while nothing moved. Both say it cannot be reached
    and stays; the record goes to the trash."""
    from store.library import Library

    from .test_sources import a1111, put

    outputs = tmp_path / "outputs"
    put(outputs, "owl.png", a1111("a wise owl", 3))
    library = Library(tmp_path / "lib", account="alice")
    library.add_source(outputs)
    away = outputs.rename(tmp_path / "unplugged")
    app = make_app(library, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        shown = ui.notices(app)
        await gallery_shows(pilot, app, 1)
        await pilot.press("d")
        await on_screen(pilot, app, ConfirmDeleteScreen)
        line = app.screen.query_one("#linked-files", Static)
        await ui.wait_until(pilot, lambda: line.display and "Its file cannot be reached: its source folder "
                            in text_of(line) and "the file stays where it is" in text_of(line))
        assert "moves into" not in text_of(line) and "Restoring puts" not in text_of(line)
        await pilot.click("#delete")
        await ui.wait_until(pilot, lambda: any("could not be reached" in n and "only its record went" in n for n in shown)
                            and library.total() == 0,
                            timeout=15)
    library.close()
    assert (away / "owl.png").is_file()


async def test_a_restore_says_plainly_that_the_old_name_was_taken(tmp_path):
    """A new-user test: a restored file whose old name another file took comes back as "a (restored).png", and the
    trash view and u said only "Restored 1 image.". Both now say the old name is taken, so the file is named X."""
    from store.library import Library

    from .test_sources import a1111, put

    outputs = tmp_path / "outputs"
    put(outputs, "owl.png", a1111("a wise owl", 3))
    put(outputs, "cat.png", a1111("a cat", 4))
    library = Library(tmp_path / "lib", account="alice")
    library.add_source(outputs)
    owl, cat = sorted(library.ids(), key=lambda i: library.get(i).path.name != "owl.png")
    library.trash([owl])
    (outputs / "owl.png").write_bytes(b"someone else's file")
    app = make_app(library, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        said = ui.notices(app)
        await gallery_shows(pilot, app, 1)
        await pilot.press("t")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and app.screen.loaded)
        await on_screen(pilot, app, TrashScreen)
        await pilot.press("r")
        sentence = (f"#{owl}: its old name owl.png in {outputs} is taken by another file now, so the restored file is "
                    'named "owl (restored).png" (the other file was not touched).')
        await ui.wait_until(pilot, lambda: any(sentence in n for n in said), timeout=15)
        assert f"Restored 1 image. {sentence}" in said
        await pilot.press("escape")
        await gallery_shows(pilot, app, 2)
        # u after a delete, the name taken meanwhile: the same plain sentence
        await ui.wait_until(pilot, lambda: grid(app).current is not None)
        if grid(app).current.id != cat:  # two cards: the other one
            await pilot.press("right")
        assert grid(app).current.id == cat
        await pilot.press("d")
        await on_screen(pilot, app, ConfirmDeleteScreen)
        await pilot.click("#delete")
        await gallery_shows(pilot, app, 1)
        (outputs / "cat.png").write_bytes(b"another file")
        await pilot.press("u")
        await ui.wait_until(pilot, lambda: any("cat (restored).png" in n for n in said), timeout=15)
        assert any(n.startswith("Restored 1 image.") and f"#{cat}: its old name cat.png in {outputs} is taken by "
                   'another file now, so the restored file is named "cat (restored).png"' in n for n in said), said
    library.close()


def selected_count(app) -> str:
    """The bulk bar's count ("" while it is hidden: nothing selected)."""
    bar = app.screen.query_one("#trash-bulk-bar")
    return text_of(app.screen.query_one("#trash-bulk-count", Static)) if bar.display else ""


async def open_trash(pilot, app, rows: int) -> None:
    await pilot.press("t")
    await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and len(trash_rows(app)) == rows)
    await on_screen(pilot, app, TrashScreen)


@pytest.mark.parametrize("size", SIZES)
async def test_trash_selection_by_key_restore_selected_and_delete_selected(lib, tmp_path, size, db_url):
    """The trash selects as the gallery does: space, ctrl+a (the whole trash), Esc clears; the bar says how many,
    and r / d act on the selection (d asks, saying how many and that it cannot be undone). SQLite and PostgreSQL."""
    ids = lib.ids()
    for image_id in ids[:4]:
        lib.trash([image_id])
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await gallery_shows(pilot, app, 2)
        await open_trash(pilot, app, 4)
        assert selected_count(app) == ""
        await pilot.press("space", "down", "space")
        await ui.wait_until(pilot, lambda: selected_count(app) == "2 selected")
        screen = ui.screen_text(app)
        assert "Restore selected" in screen and "Delete selected permanently" in screen  # the bar, whole
        first, second = (int(row[1:]) for row in trash_rows(app)[:2])
        await pilot.press("r")  # restores the two selected, not the one under the cursor alone
        await ui.wait_until(pilot, lambda: len(trash_rows(app)) == 2 and selected_count(app) == "")
        assert first in lib.ids() and second in lib.ids() and lib.trash_count() == 2
        await pilot.press("ctrl+a")
        await ui.wait_until(pilot, lambda: selected_count(app) == "2 selected")
        shown = trash_list(app)
        assert all(shown.item_at(i) in shown.selection for i in range(2))
        await pilot.press("space")  # out of the select-all
        await ui.wait_until(pilot, lambda: selected_count(app) == "1 selected")
        await pilot.press("escape")  # clears; the trash stays open
        await ui.wait_until(pilot, lambda: selected_count(app) == "")
        assert isinstance(app.screen, TrashScreen)
        await pilot.press("ctrl+a")
        await ui.wait_until(pilot, lambda: selected_count(app) == "2 selected")
        await pilot.press("d")
        await on_screen(pilot, app, ConfirmDeleteScreen)
        assert text_of(app.screen.query_one("#question", Static)) == \
            "Are you sure you want to delete these 2 images forever?"
        assert "cannot be undone" in ui.screen_text(app)
        await pilot.click("#delete")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and trash_rows(app) == [])
        assert lib.trash_count() == 0 and sorted(lib.ids()) == sorted(ids[4:] + [first, second])
        await on_screen(pilot, app, TrashScreen)
        await pilot.press("escape")
        await gallery_shows(pilot, app, 4)


@pytest.mark.parametrize("size", SIZES)
async def test_trash_selection_by_mouse_says_what_becomes_of_watched_files(tmp_path, size):
    """A click on a line's check box selects it; Restore selected, Delete selected permanently (its question names
    the files of watched folders it erases) and Clear are buttons; a double click shows the image large."""
    from store.library import Library
    from tui.picture_screen import PictureScreen

    from .test_sources import a1111, put

    outputs = tmp_path / "outputs"
    for n, name in enumerate(["owl", "cat", "fox"]):
        put(outputs, f"{name}.png", a1111(f"a {name}", n + 1))
    library = Library(tmp_path / "lib", account="alice")
    library.add_source(outputs)
    for image_id in library.ids():
        library.trash([image_id])
    app = make_app(library, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        await open_trash(pilot, app, 3)
        rows = trash_rows(app)
        await pilot.click(TrashList, offset=(0, 1))  # the second line's check box
        await ui.wait_until(pilot, lambda: selected_count(app) == "1 selected")
        assert trash_list(app).cursor == 0  # a click on the box selects without moving
        await pilot.click(TrashList, offset=(0, 2))
        await ui.wait_until(pilot, lambda: selected_count(app) == "2 selected")
        await pilot.click("#clear-selection")
        await ui.wait_until(pilot, lambda: selected_count(app) == "")
        await pilot.click(TrashList, offset=(0, 1))
        await pilot.click(TrashList, offset=(0, 2))
        await ui.wait_until(pilot, lambda: selected_count(app) == "2 selected")
        await pilot.click("#delete-selected")
        await on_screen(pilot, app, ConfirmDeleteScreen)
        line = app.screen.query_one("#linked-files", Static)
        await ui.wait_until(pilot, lambda: line.display and "2 files from your source folders, in the library's trash "
                            "since the images were deleted, are erased too" in text_of(line))
        assert text_of(app.screen.query_one("#question", Static)) == \
            "Are you sure you want to delete these 2 images forever?"
        await pilot.press("escape")  # Cancel: nothing erased
        await on_screen(pilot, app, TrashScreen)
        assert library.trash_count() == 3 and selected_count(app) == "2 selected"
        await pilot.click("#restore-selected")
        await ui.wait_until(pilot, lambda: trash_rows(app) == rows[:1] and selected_count(app) == "")
        assert library.trash_count() == 1 and len(list(outputs.iterdir())) == 2  # their files back in the folder
        await on_screen(pilot, app, TrashScreen)
        await pilot.double_click(TrashList, offset=(10, 0))
        await ui.wait_until(pilot, lambda: isinstance(app.screen, PictureScreen))  # nothing to focus there
        await pilot.press("escape")
        await on_screen(pilot, app, TrashScreen)
    library.close()


@pytest.mark.parametrize("size", SIZES)
async def test_restore_all_and_empty_trash_by_key_and_button_with_progress_and_cancel(lib, tmp_path, size,
                                                                                      monkeypatch):
    """R restores the whole trash and e empties it (both ask), in batches behind the progress dialog: Cancel stops
    between batches and says how far it went; the buttons do the same."""
    import threading

    from tui.progress_screen import ProgressScreen
    from tui.trash_screen import ConfirmRestoreAllScreen

    from .test_robust import record_notifications

    monkeypatch.setattr("tui.trash_screen.CHUNK", 1)
    ids = lib.ids()
    lib.trash(ids)
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        shown = record_notifications(app)
        await ui.settle(pilot, app)
        await open_trash(pilot, app, 6)
        first_done, go_on = threading.Event(), threading.Event()
        real = lib.restore

        def held_restore(chunk, *args, **kwargs):  # the first batch restored, the job waits for the Cancel
            n = real(chunk, *args, **kwargs)
            first_done.set()
            go_on.wait(10)
            return n

        monkeypatch.setattr(lib, "restore", held_restore)
        await pilot.press("R")
        await on_screen(pilot, app, ConfirmRestoreAllScreen)
        assert "Restore all 6 images in the trash?" in ui.screen_text(app)
        await pilot.click("#restore")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, ProgressScreen) and first_done.is_set())
        await pilot.click("#cancel")
        go_on.set()
        await ui.wait_until(pilot, lambda: any(m.startswith("Cancelled: restored") for _, m in shown), timeout=15)
        assert [m for _, m in shown if m.startswith("Cancelled")] == [
            "Cancelled: restored 1 of 6 images; the rest are still in the trash."]
        await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and len(trash_rows(app)) == 5)
        monkeypatch.setattr(lib, "restore", real)
        await on_screen(pilot, app, TrashScreen)
        await pilot.click("#restore-all")
        await on_screen(pilot, app, ConfirmRestoreAllScreen)
        await pilot.click("#restore")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and trash_rows(app) == [], timeout=15)
        assert lib.trash_count() == 0 and sorted(lib.ids()) == sorted(ids)
        assert "Restored 5 images." in [m for _, m in shown]
        await pilot.press("escape")
        await gallery_shows(pilot, app, 6)
        lib.trash(ids)
        await open_trash(pilot, app, 6)
        await pilot.press("e")
        await on_screen(pilot, app, ConfirmDeleteScreen)
        await pilot.press("escape")  # asks; Cancel keeps it all
        await on_screen(pilot, app, TrashScreen)
        assert lib.trash_count() == 6
        await pilot.click("#empty")
        await on_screen(pilot, app, ConfirmDeleteScreen)
        assert text_of(app.screen.query_one("#question", Static)).startswith("Are you sure you want to empty the trash?")
        await pilot.click("#delete")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and trash_rows(app) == [], timeout=15)
        assert lib.trash_count() == 0 and lib.ids() == []
        assert "Emptied the trash: 6 images erased." in [m for _, m in shown]


@pytest.mark.parametrize("size", SIZES)
async def test_the_trash_shows_each_image_and_enter_p_i_show_it_large_its_prompt_and_info(tmp_path, make_png, size):
    """Beside the list: the image under the cursor (its picture), when it was deleted, when it will be erased and
    where a restore puts it; Enter shows it large (read only), p its prompt, i its info."""
    from store.importer import ImportOptions, import_files
    from store.library import Library
    from tui.info_screen import InfoScreen
    from tui.picture_screen import PictureScreen
    from tui.prompt_screen import PromptScreen
    from widgets.large_picture import LargePicture

    from .test_sources import a1111, put

    outputs = tmp_path / "outputs"
    put(outputs, "owl.png", a1111("a wise owl in a linked file", 3))
    library = Library(tmp_path / "lib", account="alice")
    library.add_source(outputs)
    (linked,) = library.ids()
    import_files(library, [make_png()], ImportOptions(prompt="an imported lantern"))
    (imported,) = set(library.ids()) - {linked}
    library.trash([linked])
    library.trash([imported])  # the newest delete: first
    (newest, older) = library.trashed()
    app = make_app(library, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        await open_trash(pilot, app, 2)
        details = app.screen.query_one("#trash-details", Static)
        await ui.wait_until(pilot, lambda: "an imported lantern" in text_of(details))
        assert f"Deleted {newest.trashed_at:%Y-%m-%d %H:%M}" in text_of(details)
        assert f"Erased {newest.expires_at:%Y-%m-%d} (in 30 days)" in text_of(details).replace("\n", " ")
        assert "Restores into the gallery (the library's own copy)" in text_of(details).replace("\n", " ")
        assert app.screen.query_one("#trash-picture", LargePicture).record.id == imported
        await pilot.press("down")
        await ui.wait_until(pilot, lambda: "a wise owl" in text_of(details))
        assert f"Restores into {outputs}" in text_of(details).replace("\n", "")
        assert app.screen.query_one("#trash-picture", LargePicture).record.id == linked
        await pilot.press("enter")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, PictureScreen))  # nothing to focus there
        assert f"#{linked}" in ui.screen_text(app)
        await pilot.press("escape")
        await on_screen(pilot, app, TrashScreen)
        await pilot.press("p")
        await on_screen(pilot, app, PromptScreen)
        assert "a wise owl in a linked file" in ui.screen_text(app)
        await pilot.press("escape")
        await on_screen(pilot, app, TrashScreen)
        await pilot.press("i")
        await on_screen(pilot, app, InfoScreen)
        assert f"Image #{linked}" in ui.screen_text(app)
        await pilot.press("escape")
        await on_screen(pilot, app, TrashScreen)
        assert library.trash_count() == 2  # looking changed nothing
    library.close()


async def test_a_large_trash_is_read_a_page_at_a_time_and_select_all_holds_no_ids(lib, tmp_path, monkeypatch):
    """The trash view never reads the whole trash: pages of PAGE rows as they come into view, ctrl+a counts
    (it holds no ids), and restoring the selection walks the trash a batch at a time (a million-row trash)."""
    monkeypatch.setattr("widgets.trash_list.PAGE", 2)
    monkeypatch.setattr("tui.trash_screen.PAGE", 2)
    monkeypatch.setattr("tui.trash_screen.CHUNK", 2)
    ids = lib.ids()
    lib.trash(ids)
    asked: list = []
    real = lib.trashed

    def paged(offset=0, limit=None):
        asked.append(limit)
        assert limit is not None and limit <= 2, "the whole trash read"
        return real(offset, limit)

    def whole(*args, **kwargs):
        raise AssertionError("every id of the trash read at once")

    monkeypatch.setattr(lib, "trashed", paged)
    monkeypatch.setattr(lib, "trashed_ids", whole)
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.settle(pilot, app)
        await open_trash(pilot, app, 6)  # every line on screen: three pages read
        await pilot.press("end")
        await ui.wait_until(pilot, lambda: trash_list(app).cursor == 5 and trash_list(app).current is not None)
        await pilot.press("ctrl+a")
        await ui.wait_until(pilot, lambda: selected_count(app) == "6 selected")
        await pilot.press("space")  # the last one out
        await ui.wait_until(pilot, lambda: selected_count(app) == "5 selected")
        kept = trash_list(app).current.record.id
        await pilot.press("r")
        await ui.wait_until(pilot, lambda: trash_rows(app) == [f"#{kept}"], timeout=15)
        assert lib.trash_count() == 1 and set(lib.ids()) == set(ids) - {kept}
        assert asked and all(limit == 2 for limit in asked)


async def test_the_headers_box_selects_the_whole_trash_and_the_palette_has_the_trashs_actions(lib, tmp_path):
    """A click on the box over the list selects the whole trash (ctrl+a by mouse), a second clears; ctrl+p in the
    trash offers the trash's actions (it offered the gallery's, run on the gallery under it)."""
    lib.trash(lib.ids()[:3])
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await gallery_shows(pilot, app, 3)
        await open_trash(pilot, app, 3)
        header = app.screen.query_one("#trash-header", Static)
        assert text_of(header).startswith("☐ Image")
        await pilot.click("#trash-header", offset=(0, 0))
        await ui.wait_until(pilot, lambda: selected_count(app) == "3 selected" and text_of(header).startswith("☑"))
        await pilot.click("#trash-header", offset=(0, 0))
        await ui.wait_until(pilot, lambda: selected_count(app) == "")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"restore all")
        await ui.wait_until(pilot, lambda: app.screen.query_one(OptionList).option_count > 0)
        options = app.screen.query_one(OptionList)
        assert "Restore all (R)" in str(options.get_option_at_index(0).prompt)
        assert "key:" not in str(options.get_option_at_index(0).prompt)  # its key said once (new-user test 8 #13)
        await pilot.press("enter")
        await ui.wait_until(pilot, lambda: "Restore all 3 images in the trash?" in ui.screen_text(app))
        await pilot.click("#restore")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and trash_rows(app) == [], timeout=15)
        assert lib.trash_count() == 0


async def test_a_selection_made_while_the_list_is_read_again_is_kept(lib, tmp_path, monkeypatch):
    """The list is read again in a worker (after a change here or elsewhere) with the selection as it was; a space
    pressed meanwhile is not undone when that read arrives."""
    import threading

    from textual.worker import get_current_worker

    from store.library import Library

    lib.trash(lib.ids()[:3])
    other = Library(lib.root, account="alice")
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await gallery_shows(pilot, app, 3)
        await open_trash(pilot, app, 3)
        await pilot.press("space")
        await ui.wait_until(pilot, lambda: selected_count(app) == "1 selected")
        reading, go_on = threading.Event(), threading.Event()
        real = lib.own_existing

        def slow_existing(*args, **kwargs):
            found = real(*args, **kwargs)
            if get_current_worker().group == "trash-changes":  # the check for changes made elsewhere, once it read
                reading.set()
                go_on.wait(10)
            return found

        monkeypatch.setattr(lib, "own_existing", slow_existing)
        other.trash([lib.ids()[0]])  # a change elsewhere: the next check reads the list again
        await ui.wait_until(pilot, reading.is_set, timeout=15)
        await pilot.press("down", "space")  # while it reads
        await ui.wait_until(pilot, lambda: selected_count(app) == "2 selected")
        go_on.set()
        await ui.wait_until(pilot, lambda: len(trash_rows(app)) == 4, timeout=15)
        await ui.settle(pilot, app)
        assert selected_count(app) == "2 selected"
    other.close()


async def large_view(pilot, app) -> None:
    """Until the trash's large view is on top, its work done (it has nothing to focus)."""
    from tui.trash_screen import TrashPictureScreen

    await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashPictureScreen))
    await ui.settle(pilot, app)


def key_bar(app) -> str:
    return " ".join(ui.screen_lines(app)[-1].split())


@pytest.mark.parametrize("size", SIZES)
async def test_the_large_view_of_the_trash_goes_through_it_and_says_what_its_keys_do(lib, tmp_path, size):
    """New-user test 8 #9: Enter in the trash showed `← Previous → Next` on `1 / 1`, and f, d did nothing, said
    nothing. One image: no ←/→ on the bar; several: → goes to the next in the trash (the list's cursor follows);
    f, d, r say what to do with an image in the trash. Fails without (→ Next on 1 / 1; 1 / 1 with three)."""

    ids = lib.ids()
    lib.trash([ids[0]])
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        shown = ui.notices(app)
        await gallery_shows(pilot, app, 5)
        await open_trash(pilot, app, 1)
        await pilot.press("enter")
        await large_view(pilot, app)
        caption = text_of(app.screen.query_one("#picture-caption", Static))
        assert caption.startswith(f"1 / 1  #{ids[0]}") and "Next" not in key_bar(app) and "Previous" not in key_bar(app)
        await pilot.press("f")
        await ui.wait_until(pilot, lambda: "This image is in the trash: Esc, then r restores it or d deletes it "
                                           "forever." in shown)
        await pilot.press("escape")
        await on_screen(pilot, app, TrashScreen)
        lib.trash([ids[1]])
        lib.trash([ids[2]])  # elsewhere: the trash view follows
        await ui.wait_until(pilot, lambda: len(trash_rows(app)) == 3)
        await on_screen(pilot, app, TrashScreen)
        rows = trash_rows(app)
        await pilot.press("home", "enter")
        await large_view(pilot, app)
        assert text_of(app.screen.query_one("#picture-caption", Static)).startswith(f"1 / 3  {rows[0]}")
        assert "Next" in key_bar(app)
        await pilot.press("right")
        await ui.wait_until(pilot, lambda: text_of(app.screen.query_one("#picture-caption", Static))
                            .startswith(f"2 / 3  {rows[1]}"))
        await pilot.press("right", "right", "left")  # no further than the last
        await ui.wait_until(pilot, lambda: text_of(app.screen.query_one("#picture-caption", Static))
                            .startswith(f"2 / 3  {rows[1]}"))
        await pilot.press("escape")
        await on_screen(pilot, app, TrashScreen)
        assert trash_list(app).cursor == 1  # where the large view was


@pytest.mark.parametrize("size", SIZES)
async def test_the_trash_bar_without_a_dangling_esc_an_empty_trash_without_image_keys_and_q(lib, tmp_path, size):
    """New-user test 8 #13: at 80×24 the bulk bar ended in a dangling `Esc` (its "Esc clears" cut); an empty trash's
    key bar kept ⏎ View, p Prompt, i Info; `q` did nothing in the trash. Fails without."""
    lib.trash(lib.ids()[:2])
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await gallery_shows(pilot, app, 4)
        await open_trash(pilot, app, 2)
        assert "Restore" in key_bar(app) and ("View" in key_bar(app)) == (size[0] > 80)
        await pilot.press("space")
        await ui.wait_until(pilot, lambda: selected_count(app) == "1 selected")
        await ui.settle(pilot, app)
        bar = next(line for line in ui.screen_lines(app) if "1 selected" in line)
        assert "Clear" in bar and ("Esc clears" in bar if size[0] > 80 else "Esc" not in bar), bar
        await pilot.press("escape", "e")
        await on_screen(pilot, app, ConfirmDeleteScreen)
        await pilot.click("#delete")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and trash_rows(app) == [])
        await on_screen(pilot, app, TrashScreen)
        await ui.wait_until(pilot, lambda: "Restore" not in key_bar(app))
        assert not any(word in key_bar(app) for word in ("View", "Prompt", "Info", "Select", "Empty")), key_bar(app)
        await pilot.press("q")
        await gallery_shows(pilot, app, 4)


async def test_the_trash_says_its_new_count_at_once_after_a_change(lib, tmp_path, monkeypatch):
    """New-user test 8 #13: right after a cancelled Restore all the trash still said the count from before it until
    the list was read again. The count is said at once. Fails without (with the list's reading held back here, the
    old count stays)."""
    lib.trash(lib.ids()[:3])
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await gallery_shows(pilot, app, 3)
        await open_trash(pilot, app, 3)
        monkeypatch.setattr(TrashScreen, "load", lambda self, cursor=0, keep=None: None)  # not read again
        monkeypatch.setattr(TrashScreen, "_followed", lambda self, token, snapshot: None)
        await pilot.press("space", "down", "space", "r")
        await ui.wait_until(pilot, lambda: lib.trash_count() == 1)
        await ui.wait_until(pilot, lambda: "1 image in the trash" in text_of(app.screen.query_one("#trash-status", Static)))


async def test_r_twice_at_once_restores_one_and_says_it_is_busy(lib, tmp_path):
    """NEWUSER13 #3: `r r` typed at once: the first restored the image under the cursor, the second acted on the same
    image, still on the list until it was read again: "Not done: Image #42 is not in the trash." The second key now
    says the last change is still being made, and changes nothing."""
    ids = lib.ids()
    lib.trash(ids[:3])
    app = make_app(lib, tmp_path)
    said = ui.notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await gallery_shows(pilot, app, 3)
        await pilot.press("t")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and app.screen.loaded)
        await on_screen(pilot, app, TrashScreen)
        first = trash_list(app).current.record.id
        type_at_once(app, "rr")  # both queued before the app handles either
        await ui.wait_until(pilot, lambda: len(trash_rows(app)) == 2)
        await on_screen(pilot, app, TrashScreen)
        assert lib.trash_count() == 2 and first in lib.ids()
        assert "Still busy with the last change: try again in a moment." in said, said
        assert not any("not in the trash" in n for n in said), said
        await pilot.press("r")  # the list read again: r acts on the image now under the cursor
        await ui.wait_until(pilot, lambda: len(trash_rows(app)) == 1)
        assert lib.trash_count() == 1


async def test_u_pressed_while_the_delete_runs_undoes_it_once_done(lib, tmp_path, monkeypatch):
    """NEWUSER13 #9: `d`, Delete, then `u` at once: "Nothing to undo: no image was deleted here." (the delete still
    ran, in a worker), and the image stayed in the trash. The undo now waits for the delete, then brings it back."""
    gate = threading.Event()
    trash = lib.trash

    def slow_trash(ids):  # the delete under way while u is pressed, however fast the machine
        assert gate.wait(20)
        return trash(ids)

    monkeypatch.setattr(lib, "trash", slow_trash)
    app = make_app(lib, tmp_path)
    said = ui.notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await gallery_shows(pilot, app, 6)
        record = grid(app).current
        await pilot.press("d")
        await on_screen(pilot, app, ConfirmDeleteScreen)
        await pilot.click("#delete")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen))
        await pilot.press("u")
        gate.set()
        await ui.wait_until(pilot, lambda: any(n.startswith("Restored 1 image") for n in said))
        await gallery_shows(pilot, app, 6)
        assert lib.get(record.id).id == record.id and lib.trash_count() == 0
        assert not any(n.startswith("Nothing to undo") for n in said), said
