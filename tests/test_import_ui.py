"""Import from the app (issue 15): I or the command palette, a path with completion, folders with or without
their subfolders, a progress bar with Cancel, the command line's summary, bad paths in one sentence."""
from __future__ import annotations

import asyncio
import threading

import pytest
from textual import events
from textual.widgets import Checkbox, Input, Static

from store import importer
from store.library import Library
from tui.app import MyImagesApp
from tui.gallery_screen import GalleryScreen
from tui.import_screen import ImportScreen, complete_path, tab_completion
from tui.progress_screen import ProgressScreen

from .conftest import write_png
from .ui import screen_lines, settle, wait_until


@pytest.fixture
def outputs(tmp_path):
    """outputs/a.png, b.png, notes.txt and outputs/day2/c.png (three images, one of them in a subfolder)."""
    root = tmp_path / "outputs"
    write_png(root / "a.png", colour=(10, 20, 30))
    write_png(root / "b.png", colour=(40, 50, 60))
    (root / "notes.txt").write_text("not an image")
    write_png(root / "day2" / "c.png", colour=(70, 80, 90))
    return root


def make_app(tmp_path):
    return MyImagesApp(Library(tmp_path / "lib", account="alice"), images="none", downloads=tmp_path / "dl")


KEY_NAMES = {"/": "slash", "-": "minus", "_": "underscore", ".": "full_stop", " ": "space"}  # Textual's names


def dialog(app) -> ImportScreen:
    return next(screen for screen in app.screen_stack if isinstance(screen, ImportScreen))


def summary(app) -> str:
    """The details, then the counts: as `myimages import` prints them."""
    parts = [str(dialog(app).query_one(f"#import-{part}").render()) for part in ("details", "counts")]
    return "\n".join(part for part in parts if part)


def problem(app) -> str:
    return str(dialog(app).query_one("#import-problem").render())


def test_completion_reads_the_folder(outputs):
    assert complete_path(str(outputs.parent / "outp")) == str(outputs) + "/"
    assert complete_path(str(outputs) + "/d") == str(outputs / "day2") + "/"
    assert complete_path(str(outputs) + "/") is None  # a folder named whole: no guess inside it (NEWUSER7 #29)
    assert complete_path(str(outputs) + "/a") == str(outputs / "a.png")  # an image; not notes.txt
    assert complete_path(str(outputs) + "/n") is None  # not an image
    assert complete_path(str(outputs) + "/zz") is None and complete_path("") is None
    assert complete_path("/") is None and complete_path("/t") is not None  # the bare root: no /bin/


def generated(tmp_path):
    """gen/batch2x (top.png, dirlink/d.png, exported/e.png) and gen/batch3 (f.png): the folders of NEWUSER7 #29."""
    gen = tmp_path / "gen"
    write_png(gen / "batch2x" / "top.png", colour=(1, 2, 3))
    write_png(gen / "batch2x" / "dirlink" / "d.png", colour=(4, 5, 6))
    write_png(gen / "batch2x" / "exported" / "e.png", colour=(7, 8, 9))
    write_png(gen / "batch3" / "f.png", colour=(10, 11, 12))
    return gen


def test_tab_completes_what_the_matches_share_and_never_goes_into_a_folder(tmp_path):
    """NEWUSER7 #29: Tab took the first match, going down into the first sub-folder of the folder typed."""
    gen = generated(tmp_path)
    shared = tab_completion(f"{gen}/b")
    assert shared is not None and shared.value == f"{gen}/batch" and shared.matches == ("batch2x/", "batch3/")
    one = tab_completion(f"{gen}/batch2")  # one matches: its whole name
    assert one is not None and one.value == f"{gen}/batch2x/" and not one.to_list
    inside = tab_completion(f"{gen}/batch2x/")  # a folder named whole: not completed further, its names listed
    assert inside is not None and inside.value == f"{gen}/batch2x/" and inside.to_list
    assert inside.matches == ("dirlink/", "exported/", "top.png")
    folders = tab_completion(f"{gen}/batch2x/", folders_only=True)
    assert folders is not None and folders.matches == ("dirlink/", "exported/")
    whole = tab_completion(f"{gen}/batch2x/top.png")  # a file named whole: nothing to add or to list
    assert whole is not None and whole.value == f"{gen}/batch2x/top.png" and not whole.to_list
    assert tab_completion(f"{gen}/z") is None and tab_completion("") is None


async def open_import(pilot, app) -> tuple[Input, Static]:
    """The import dialog opened with I: its path field and its line of matches."""
    await settle(pilot, app)
    await pilot.press("I")
    await wait_until(pilot, lambda: isinstance(app.screen, ImportScreen))
    return app.screen.query_one("#import-path", Input), app.screen.query_one("#import-matches", Static)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_tab_shows_a_name_that_is_not_utf8_escaped_and_the_import_reads_it(tmp_path, size):
    """NEWUSER13: Tab completion showed a folder whose name is not UTF-8 (Latin-1 bytes) as "dir\\udcff/",
    Python's escape, which nobody can type. It shows "dir\\xff/" (the byte as a user types it and as the import
    names such a file), lists "caf\\xe9.png" in it, and Enter imports the real file. Fails without."""
    import os
    from pathlib import Path

    gen = tmp_path / "gen"
    folder = os.fsdecode(os.fsencode(str(gen)) + b"/dir\xff")
    write_png(Path(os.fsdecode(os.fsencode(folder) + b"/caf\xe9.png")), colour=(1, 2, 3))
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        field, matches = await open_import(pilot, app)
        field.value = f"{gen}/d"
        await pilot.press("tab")
        await wait_until(pilot, lambda: field.value == f"{gen}/dir\\xff/")
        await pilot.press("tab")  # what is in it
        await wait_until(pilot, lambda: matches.display and str(matches.render()) == "1 in it: caf\\xe9.png")
        await pilot.press("c", "tab")
        await wait_until(pilot, lambda: field.value == f"{gen}/dir\\xff/caf\\xe9.png")
        await settle(pilot, app)
        assert any("dir\\xff/caf\\xe9.png" in line for line in screen_lines(app))  # as it is shown
        await pilot.press("enter")
        await wait_until(pilot, lambda: "imported" in summary(app))
        assert summary(app) == "1 imported, 0 duplicates, 0 failed"


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_tab_tab_enter_imports_the_folder_typed_not_its_first_subfolder(tmp_path, size):
    """NEWUSER7 #29: Tab, Tab, Enter on …/batch2x imported batch2x/dirlink/. Now Tab adds only what the matches
    share and lists them when several do, a second Tab lists what is in the folder typed, and the next Tab goes
    on to the next field; Enter imports the folder typed. Fails without (1 imported: dirlink/'s picture)."""
    gen = generated(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        field, matches = await open_import(pilot, app)

        def listed() -> str:
            return str(matches.render()) if matches.display else ""

        field.value = f"{gen}/b"
        await pilot.press("tab")  # two match: what they share, and the matches on a line
        await wait_until(pilot, lambda: field.value == f"{gen}/batch")
        await wait_until(pilot, lambda: listed() == "2 match: batch2x/  batch3/")
        assert app.focused is field
        await pilot.press("2", "tab")  # one matches: its whole name; the line goes
        await wait_until(pilot, lambda: field.value == f"{gen}/batch2x/" and listed() == "")
        await pilot.press("tab")  # nothing to add: what is in it, listed, the folder kept
        await wait_until(pilot, lambda: listed() == "3 in it: dirlink/  exported/  top.png")
        assert field.value == f"{gen}/batch2x/" and app.focused is field
        await settle(pilot, app)
        assert any("3 in it: dirlink/  exported/  top.png" in line for line in screen_lines(app))  # on screen
        await pilot.press("enter")
        await wait_until(pilot, lambda: "imported" in summary(app))
        assert summary(app) == "3 imported, 0 duplicates, 0 failed"  # batch2x and its subfolders, not dirlink/
        await wait_until(pilot, lambda: app.focused is field)
        field.value = f"{gen}/batch3/"
        await pilot.press("tab")  # what is in it
        await wait_until(pilot, lambda: listed() == "1 in it: f.png")
        await pilot.press("tab")  # then on to the next field, the path kept
        await wait_until(pilot, lambda: app.focused is app.screen.query_one("#import-recursive", Checkbox))
        assert field.value == f"{gen}/batch3/"


async def test_import_a_folder_from_the_app(tmp_path, outputs):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("I")
        assert isinstance(app.screen, ImportScreen)
        field = app.screen.query_one("#import-path", Input)
        field.value = str(tmp_path / "nowhere")
        await pilot.press("enter")  # a bad path: one sentence, nothing done
        assert problem(app) == f"There is no file or folder at {tmp_path / 'nowhere'}."
        assert isinstance(app.screen, ImportScreen) and app.library.ids() == []
        field.value = str(outputs / "notes.txt")
        await pilot.press("enter")
        # Enter after an Enter that kept the focus in the field waits for the focus to move (tui/key_order.py)
        await wait_until(pilot, lambda: problem(app) == "notes.txt is not a PNG, JPEG, WebP, GIF, TIFF or AVIF file.")
        field.value = str(tmp_path) + "/"
        await pilot.press(*"outp")
        await wait_until(pilot, lambda: field.value == str(tmp_path / "outp"))
        await settle(pilot, app)
        await pilot.press("tab")  # takes the completion
        await wait_until(pilot, lambda: field.value == str(outputs) + "/")
        await pilot.press("enter")  # subfolders too, by default
        await wait_until(pilot, lambda: "imported" in summary(app))
        assert summary(app) == "3 imported, 0 duplicates, 0 failed" and problem(app) == ""
        # the field is emptied and has the focus again (NEWUSER5 §11: the second path typed went nowhere, and
        # Enter closed the dialog): a second path typed at once, then Enter, imports again
        await wait_until(pilot, lambda: app.focused is field)
        assert field.value == ""
        (outputs / "broken.png").write_bytes(b"not a png")  # and a broken file beside them: the command line's lines
        for key in [*str(outputs), "enter"]:
            app.post_message(events.Key(KEY_NAMES.get(key, key), key if len(key) == 1 else None))
        await wait_until(pilot, lambda: "3 duplicates" in summary(app))
        assert isinstance(app.screen, ImportScreen)
        lines = summary(app).splitlines()
        assert lines[-1] == "0 imported, 3 duplicates, 1 failed"
        assert f"duplicate: {outputs / 'a.png'} is already image #" in lines[0]
        assert any(line.startswith(f"failed: {outputs / 'broken.png'}: ") for line in lines)
        await settle(pilot, app)
        lines = screen_lines(app)
        assert any("0 imported, 3 duplicates, 1 failed" in line for line in lines), "\n".join(lines)  # on screen
        assert any("Close" in line for line in lines)
        await pilot.click("#close")
        assert isinstance(app.screen, GalleryScreen)
        await wait_until(pilot, lambda: app.screen.grid.total == 3)
        imported = app.library.ids()
        await wait_until(pilot, lambda: app.screen.grid.current is not None)
        assert app.screen.grid.current.id in imported


async def test_top_folder_only_palette_and_cancel(tmp_path, outputs, monkeypatch):
    gate = threading.Event()
    real = importer.prepare_file

    def slow(path, options):  # each file waits for the test: Cancel comes while the first is being read
        gate.wait(10)
        return real(path, options)

    app = make_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+p", *"Import")
        await wait_until(pilot, lambda: "Import" in str(app.screen.query("CommandList").first().get_option_at_index(0).prompt))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ImportScreen))
        app.screen.query_one("#import-recursive", Checkbox).value = False
        app.screen.query_one("#import-path", Input).value = str(outputs)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "2 imported" in summary(app))  # not day2/c.png
        monkeypatch.setattr(importer, "prepare_file", slow)
        app.screen.query_one("#import-recursive", Checkbox).value = True
        write_png(outputs / "day2" / "d.png", colour=(1, 2, 3))
        app.screen.query_one("#import-path", Input).value = str(outputs / "day2")
        await pilot.click("#import")
        await wait_until(pilot, lambda: isinstance(app.screen, ProgressScreen))
        await pilot.click("#cancel")
        gate.set()
        await wait_until(pilot, lambda: "(cancelled)" in summary(app))
        assert summary(app) == "1 imported, 0 duplicates, 0 failed (cancelled)"
        assert len(app.library.ids()) == 3
        lines = screen_lines(app)
        assert any("(cancelled)" in line for line in lines) and any("Close" in line for line in lines)


@pytest.mark.parametrize("size", [(80, 24), pytest.param((160, 48), marks=pytest.mark.slow)], ids=["80x24", "160x48"])
async def test_quoted_paths_import_and_tab_completes_before_the_suggestion(tmp_path, monkeypatch, size):
    """What drag-and-drop or "copy as path" give ('…', "…", backslashed spaces, file://) is the file; Tab right
    after typing completes even when the dimmed suggestion has not come yet."""
    from tui import import_screen

    folder = tmp_path / "with space"
    picture = write_png(folder / "blue sq.png", colour=(0, 0, 200))
    write_png(folder / "green.png", colour=(0, 200, 0))
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        await pilot.press("I")
        field = app.screen.query_one("#import-path", Input)
        for typed in (f"'{picture}'", f'"{picture}"', str(picture).replace(" ", "\\ "), f"file://{picture}"
                      .replace(" ", "%20")):
            app.screen.set_focus(field)  # after an import the focus is on the emptied field
            field.value = typed
            await pilot.press("enter")
            await wait_until(pilot, lambda: "imported" in summary(app) or problem(app), 10)
            assert problem(app) == "", (typed, problem(app))
        assert len(app.library.ids()) == 1  # imported once, then a duplicate
        # Tab before the suggestion: no suggester answer at all here, the completion is looked up on Tab
        monkeypatch.setattr(import_screen.PathSuggester, "get_suggestion", lambda self, value: asyncio.sleep(60))
        app.screen.set_focus(field)
        await pilot.pause()  # focused (which selects its text) before the value is set
        field.value = f"{folder}/g"
        field.cursor_position = len(field.value)
        await pilot.press("r", "tab")  # Tab right after the last key
        await wait_until(pilot, lambda: field.value == str(folder / "green.png"))
        assert app.focused is field


async def test_the_library_folder_is_refused_and_a_library_inside_skipped(tmp_path, outputs):
    """NEWUSER4 #3: importing the library's folder took in its thumbnails and other accounts' originals."""
    app = make_app(tmp_path)
    importer.import_files(app.library, [outputs], importer.ImportOptions(recursive=True))
    before = app.library.ids()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("I")
        field = app.screen.query_one("#import-path", Input)
        field.value = str(tmp_path / "lib" / "thumbs")
        await pilot.press("enter")
        assert problem(app) == (f"{tmp_path / 'lib' / 'thumbs'} is inside the library folder {tmp_path / 'lib'} "
                                "(its own files): nothing was imported; import the folder your generator writes to.")
        assert isinstance(app.screen, ImportScreen) and app.library.ids() == before
        field.value = str(tmp_path)  # holds the library: its folder is skipped, the rest imported
        app.screen.query_one("#import-recursive", Checkbox).value = True
        await pilot.press("enter")
        await wait_until(pilot, lambda: "0 failed" in summary(app))
        assert f"skipped: {tmp_path / 'lib'}: a library's folder" in summary(app)
        assert summary(app).endswith("0 imported, 3 duplicates, 0 failed") and app.library.ids() == before


@pytest.mark.parametrize("size", [(80, 24), pytest.param((160, 48), marks=pytest.mark.slow)], ids=["80x24", "160x48"])
async def test_the_home_folder_is_imported_only_once_confirmed_and_without_its_hidden_folders(tmp_path, monkeypatch,
                                                                                                size):
    """NEWUSER7 #32: I, then ~, imported the home folder at once, caches and icon themes from its hidden folders
    too. Now the dialog looks at the folder in a worker and asks as `w` does (Cancel focused: Enter imports
    nothing), and hidden folders met on the way are left out, counted and named in the summary."""
    from tui.import_screen import ConfirmWideImportScreen

    home = tmp_path / "home"
    write_png(home / "pictures" / "a.png", colour=(10, 20, 30))
    write_png(home / ".cache" / "thumbnails" / "t.png", colour=(40, 50, 60))
    monkeypatch.setenv("HOME", str(home))
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        await pilot.press("I")
        field = app.screen.query_one("#import-path", Input)
        field.value = "~"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmWideImportScreen))
        question = str(app.screen.query_one("#import-question").render())
        assert f"{home} is your home folder" in question and "would be copied into your library" in question
        assert str(app.screen.query_one(".title").render()) == f"Import {home}?"
        text = "\n".join(screen_lines(app))
        for words in ("Cancel", "Import it"):
            assert words in text, words
        await pilot.press("enter")  # Cancel has the focus
        await wait_until(pilot, lambda: isinstance(app.screen, ImportScreen))
        assert problem(app) == f"Nothing was imported from {home}." and app.library.ids() == []
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmWideImportScreen))
        await pilot.click("#import-wide")
        await wait_until(pilot, lambda: "imported" in summary(app))
        assert summary(app).splitlines() == [
            f"1 hidden folder was left out ({home / '.cache'}), as caches and settings usually are: to import one, "
            "type its path.", "1 imported, 0 duplicates, 0 failed"]
        assert len(app.library.ids()) == 1
