"""Dialogs by keyboard (issue 15): ← and → move between any dialog's buttons; the collections dialog shows its
counts as they change and its checked boxes plainly; y and Y copy the image's path and folder."""
from __future__ import annotations

import asyncio
import threading

import pytest
from textual.selection import Selection
from textual.widgets import Button, Input, SelectionList

from store.importer import ImportOptions, import_files
from store.library import Library
from tui.app import MyImagesApp
from tui.collections_screen import AddToCollectionScreen
from tui.confirm_delete import ConfirmDeleteScreen
from tui.dialog import Modal, Question
from tui.gallery_screen import GalleryScreen
from tui.trash_screen import TrashScreen

from .test_clipboard import copies  # noqa: F401 - a fixture
from .ui import collections_read, notices, screen_lines, screen_text, settle, wait_until


@pytest.fixture
def lib(tmp_path, make_png):
    library = Library(tmp_path / "dialogs-lib", account="alice")
    for n in range(3):
        import_files(library, [make_png(size=(40, 30))], ImportOptions(prompt=f"item {n}"))
    yield library
    library.close()


def make_app(library, tmp_path):
    return MyImagesApp(library, images="none", downloads=tmp_path / "downloads")


def gradient_library(tmp_path, count: int = 4, size: tuple[int, int] = (96, 64)) -> Library:
    """Pictures of many colours (a thumbnail is a segment per cell, most of them colours of their own)."""
    from PIL import Image

    library = Library(tmp_path / "gradients-lib", account="alice")
    pictures = []
    for n in range(count):
        red, green = Image.linear_gradient("L").resize(size), Image.radial_gradient("L").resize(size)
        path = tmp_path / "in" / f"g{n}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.merge("RGB", (red, green, Image.new("L", size, 60 * n % 256 + n // 5))).save(path)
        pictures.append(path)
    import_files(library, pictures, ImportOptions(prompt="a gradient ring"))
    return library


async def end_then_info(pilot, app, blended: list, kept_as_it_should=lambda: True) -> None:
    """End: its thumbnails' colours dimmed ahead (more than 100 blended, and `kept_as_it_should()`); then the info
    dialog, whose first paint finds them dimmed (fewer than 20 blended by it)."""
    await pilot.press("end")
    await settle(pilot, app)
    await wait_until(pilot, lambda: not app.dim_ahead.pending)
    assert len(blended) > 100  # End's thumbnails, dimmed ahead
    assert kept_as_it_should()
    blended.clear()
    await pilot.press("i")
    await wait_until(pilot, lambda: type(app.screen).__name__ == "InfoScreen")
    await settle(pilot, app)
    assert len(blended) < 20, len(blended)


def counted_blends(monkeypatch) -> list[int]:
    """Every dimmed style kept dropped (a test starts from none); from now on, one item per colour blended (by a
    dialog's paint or ahead of it: widgets/dimmed_backdrop.py)."""
    from widgets.dimmed_backdrop import Blend, forget

    forget()
    return counted_calls(monkeypatch, Blend, "_colour")


def counted_calls(monkeypatch, owner: type, name: str) -> list[int]:
    """From now on, one item per call of the method."""
    calls: list[int] = []
    method = getattr(owner, name)

    def counted(self, *args, **kwargs):
        calls.append(1)
        return method(self, *args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


@pytest.mark.parametrize("size", [(80, 24), pytest.param((160, 48), marks=pytest.mark.slow)], ids=["80x24", "160x48"])
async def test_arrows_move_between_a_dialogs_buttons(lib, tmp_path, size):
    first = lib.ids()[0]
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        await pilot.press("d", "right", "left", "enter")  # back on Cancel: nothing deleted
        assert isinstance(app.screen, GalleryScreen) and first in lib.ids()
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmDeleteScreen) and app.focused.id == "cancel"
        await pilot.press("right", "right")  # the last button: it stays there
        assert app.focused.id == "delete"
        await pilot.press("enter")  # Right then Enter deletes
        await wait_until(pilot, lambda: first not in lib.ids())
        await settle(pilot, app)
        # the same in another dialog, with three buttons (the trash: Restore, Delete forever, Empty trash, Back)
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TrashScreen))
        await settle(pilot, app)
        buttons = [b for b in app.screen.query(Button) if b.focusable]
        app.screen.set_focus(buttons[0])
        row = [b for b in buttons if b.parent is buttons[0].parent]
        for expected in row[1:]:
            await pilot.press("right")
            assert app.focused is expected
        await pilot.press("left")
        assert app.focused is row[-2]


async def test_collection_counts_follow_changes_and_states_are_plain(lib, tmp_path):
    loot = lib.create_collection("Loot")
    lib.add_to_collection(lib.ids()[1:], loot.id)  # two images in it, not the first
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("a")
        assert isinstance(app.screen, AddToCollectionScreen)
        await collections_read(pilot)
        listing = app.screen.query_one("#collection-list", SelectionList)

        def prompt() -> str:
            return str(listing.get_option_at_index(0).prompt)

        assert prompt() == "Loot  (2 images)"
        await pilot.press("space")
        await wait_until(pilot, lambda: "3 images" in prompt())
        assert prompt() == "Loot  (3 images)  ✓ in it" and listing.selected == [loot.id]
        await pilot.press("space")
        await wait_until(pilot, lambda: "2 images" in prompt())
        assert "✓" not in prompt() and listing.selected == []
        await pilot.press("escape", "space", "right", "space", "a")  # two selected: one of them in it
        await wait_until(pilot, lambda: isinstance(app.screen, AddToCollectionScreen))
        listing = app.screen.query_one("#collection-list", SelectionList)
        assert prompt() == "Loot  (2 images)  1 of 2 in it"


async def test_y_and_capital_y_copy_the_path_and_the_folder(lib, tmp_path, monkeypatch):
    sent = {"terminal": [], "system": []}
    monkeypatch.setattr(MyImagesApp, "copy_to_clipboard", lambda app, text: sent["terminal"].append(text))
    monkeypatch.setattr("pyperclip.copy", lambda text: sent["system"].append(text))
    record = lib.get(lib.ids()[0])
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("y", "Y")
        await settle(pilot, app)
    expected = [str(record.path), str(record.path.parent)]
    assert sent == {"terminal": expected, "system": expected}


@pytest.mark.parametrize("size", [(80, 24), pytest.param((160, 48), marks=pytest.mark.slow)], ids=["80x24", "160x48"])
async def test_collection_toggles_report_what_they_did_and_down_reaches_the_name_box(lib, tmp_path, size):
    loot = lib.create_collection("Loot")
    keep = lib.create_collection("Keep")
    first = lib.ids()[0]
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        shown = notices(app)
        await settle(pilot, app)
        await pilot.press("a")
        assert isinstance(app.screen, AddToCollectionScreen)
        await collections_read(pilot)
        listing = app.screen.query_one("#collection-list", SelectionList)
        listing.post_message(SelectionList.SelectionToggled(listing, 0))  # two quick spaces: both handled
        listing.post_message(SelectionList.SelectionToggled(listing, 0))  # after the box is back as it was
        await settle(pilot, app)
        assert shown == ["Added 1 image to the collection.", "Removed 1 image from the collection."], shown
        assert lib.membership([first]) == {} or not any(lib.membership([first]).values())
        # ↓ from the last box reaches "Create New Collection…"; a name typed there (spaces and all) toggles nothing
        await pilot.press("down", "down", "down")
        assert app.focused.id == "new-collection"
        app.screen.set_focus(listing)  # back in the list: a name typed there goes to the box
        await pilot.press(*"my set", "enter")
        await pilot.pause()
        await wait_until(pilot, lambda: any(c.name == "my set" for c in lib.collections()))
        members = lib.membership([first])
        assert members.get(loot.id, 0) == 0 and members.get(keep.id, 0) == 0  # no box toggled by the name


async def test_the_progress_line_has_one_space_between_the_count_and_its_words(lib, tmp_path):
    """New-user test 5 §11: '350 of 400  deleted', '800 of 1500  files read' (the progress dialog joined the count
    and its words with two spaces)."""
    import threading

    from tui.progress_screen import ProgressScreen

    go_on = threading.Event()

    def job(progress, cancelled):
        progress(350, 400, "deleted")
        go_on.wait(20)

    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        app.push_screen(ProgressScreen("Deleting", job, total=400))
        try:
            await wait_until(pilot, lambda: isinstance(app.screen, ProgressScreen) and "350 of" in screen_text(app))
            assert "350 of 400 deleted" in screen_text(app)
        finally:
            go_on.set()


async def test_a_jobs_progress_never_waits_for_the_screen(lib, tmp_path):
    """Issue 17: each count a job reported waited for the UI thread to take it (call_from_thread): a clean of many
    images waited for a repaint after each one (0.7 ms median, 4.7 ms p90, 38 ms at worst with other tests running).
    Now the job goes on while the UI thread is busy, and the screen shows its latest count. Fails without (the job
    stays stuck at its first count while the UI thread is held)."""
    import threading

    from tui.progress_screen import ProgressScreen

    running, start, reported, go_on = threading.Event(), threading.Event(), threading.Event(), threading.Event()

    def job(progress, cancelled):
        running.set()
        start.wait(20)
        for done in range(1, 501):
            progress(done, 500, f"images · #{done}")
        reported.set()
        go_on.wait(20)
        return "done"

    outcomes: list = []
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        app.push_screen(ProgressScreen("Removing the background", job, total=500), outcomes.append)
        await wait_until(pilot, lambda: isinstance(app.screen, ProgressScreen) and running.is_set())
        try:
            start.set()
            assert reported.wait(10)  # this test holds the UI thread meanwhile: the job did not wait for it
            await wait_until(pilot, lambda: "500 of 500 images · #500" in screen_text(app))
        finally:
            start.set()
            go_on.set()
        await wait_until(pilot, lambda: bool(outcomes))
        assert outcomes[0].result == "done" and not outcomes[0].cancelled


async def test_the_progress_dialog_takes_only_its_own_keys(lib, tmp_path):
    """Tidy #3: the progress dialog's Cancel button had the focus, so Enter or Space (typed out of habit, or meant
    for the gallery) cancelled an import; Ctrl+P opened the palette of the gallery's commands over the running job;
    the key bar under it was the gallery's (/ Search, f Favorite… none of which works there). Now only Esc and c
    cancel (its own key bar says Esc), every other key does nothing and is not kept for after: the gallery is as it
    was. Fails without (Enter cancels)."""
    import threading

    from textual.widgets import Input

    from tui.progress_screen import ProgressScreen

    go_on = threading.Event()

    def job(progress, cancelled):
        progress(1, 3, "deleted")
        while not go_on.wait(0.01):
            if cancelled():
                return "stopped"
        return "done"

    outcomes: list = []
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        gallery = app.screen
        before = [(r.id, r.favorite) for r in lib.page()]
        app.push_screen(ProgressScreen("Deleting", job, total=3), outcomes.append)
        await wait_until(pilot, lambda: isinstance(app.screen, ProgressScreen) and "1 of 3 deleted" in screen_text(app))
        try:  # the job waits for go_on: set it whatever happens, or the app never ends
            # "c" too (new-user test 8 #12: "/cat" typed blind during an import cancelled it)
            for keys in (("enter", "space"), ("d", "slash", "x", "f", "ctrl+p", "tab", "enter", "left", "enter"),
                         ("slash", "c", "a", "t")):
                await pilot.press(*keys)
                await pilot.pause()
                assert isinstance(app.screen, ProgressScreen) and "1 of 3 deleted" in screen_text(app), keys
            bar = screen_lines(app)[-1]
            assert bar.lstrip().startswith("esc Cancel") and "Search" not in bar and "palette" not in bar, bar
        finally:
            go_on.set()
        await wait_until(pilot, lambda: bool(outcomes))
        assert outcomes == [outcomes[0]] and outcomes[0].result == "done" and not outcomes[0].cancelled
        await settle(pilot, app)
        assert app.screen is gallery and not isinstance(app.focused, Input)  # no search box, no dialog
        assert [(r.id, r.favorite) for r in lib.page()] == before and not gallery.query_one(Input).value
        for key in ("escape",):  # its own key cancels
            go_on.clear()
            outcomes.clear()
            app.push_screen(ProgressScreen("Deleting", job, total=3), outcomes.append)
            await wait_until(pilot, lambda: isinstance(app.screen, ProgressScreen) and "1 of 3" in screen_text(app))
            await pilot.press(key)
            await wait_until(pilot, lambda: bool(outcomes))
            assert outcomes[0].result == "stopped" and outcomes[0].cancelled, key


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_the_key_bar_under_a_dialog_shows_the_dialogs_keys(lib, tmp_path, size):
    """Tidy #5: under the help, the import dialog or a question the key bar still said "/ Search  o Order  esc Back
    ⏎ View  f Favorite…", keys that do nothing while the dialog is open. It shows the dialog's keys, and the
    gallery's again once it closes. Fails without."""
    from .ui import screen_lines

    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        gallery_keys = screen_lines(app)[-1]
        assert "Search" in gallery_keys
        for key, words in (("question_mark", "esc Close"), ("I", "esc Close"), ("d", "esc Cancel")):
            await pilot.press(key)
            await wait_until(pilot, lambda: not isinstance(app.screen, GalleryScreen))
            await wait_until(pilot, lambda words=words: screen_lines(app)[-1].strip().startswith(words))
            assert "Search" not in screen_lines(app)[-1] and "Favorite" not in screen_lines(app)[-1], key
            await pilot.press("escape")
            await wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen))
            await wait_until(pilot, lambda: screen_lines(app)[-1] == gallery_keys)


@pytest.mark.parametrize("theme", ["textual-dark", "ansi-dark"])
async def test_a_dialogs_backdrop_is_the_gallery_dimmed_cell_for_cell_as_textual_draws_it(tmp_path, monkeypatch, theme):
    """Issue 11: a dialog's first paint blended the whole gallery under it with Textual's BackgroundScreen, twice
    (95-160 ms of the UI thread at 160x48 on 100,000 images, every dialog). widgets/dimmed_backdrop.py draws it
    instead (each distinct style dimmed once): the screen's lines are the segments Textual's way gives, thumbnail
    cells and text alike. Fails without (the backdrop is not drawn by DimmedScreen). A second dialog over the same
    gallery dims none of its styles again (each dialog dimmed them all: 3,000 colour pairs, 20-25 ms of the first
    paint of each dialog in bench/run.py's figure 9 at 1,000,000 images; fails without: as many as the first). With
    true colours, the first dialog neither: the gallery's were dimmed ahead while it was idle (`DimAhead`), and
    they are Textual's colours too; every line of the backdrop is then left as it is by Textual's ANSI filter
    (`AnsiSkipped`, which tells the dimmed styles by identity)."""
    from textual.geometry import Region
    from textual.renderables.background_screen import BackgroundScreen
    from textual.visual import RichVisual, Visual

    from tui.info_screen import InfoScreen
    from widgets.dimmed_backdrop import AnsiSkipped, DimmedScreen, DimmedStyles, forget

    forget()  # (the dimmed styles of an earlier test's pictures)
    library = gradient_library(tmp_path)
    drawn = counted_calls(monkeypatch, DimmedScreen, "render_strips")
    dimmed = counted_calls(monkeypatch, DimmedStyles, "dimmed")
    passed_on: list[bool] = []  # each line a dialog's screen filtered: whether Textual's ANSI filter had to look at it
    skip_or_filter = AnsiSkipped.apply

    def recorded(self, segments, background):
        filtered = skip_or_filter(self, segments, background)
        passed_on.append(filtered is not segments)
        return filtered

    monkeypatch.setattr(AnsiSkipped, "apply", recorded)
    app = MyImagesApp(library, images="halfcell", downloads=tmp_path / "downloads")
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            app.theme = theme  # (an ANSI theme dims to ANSI colours: Textual's way, and its ANSI filter on them)
            await settle(pilot, app)

            def assert_dimmed_as_textual_draws_it() -> None:
                dialog, gallery = app.screen, app.screen_stack[-2]
                width, height = dialog.size
                textual = Visual.to_strips(dialog, RichVisual(dialog, BackgroundScreen(gallery,
                                                                                       dialog.styles.background)),
                                           width, height, dialog.visual_style)
                shown = [list(dialog.render_line(y)) for y in range(height)]
                assert drawn, "the backdrop was not drawn by DimmedScreen"
                assert shown == [list(line) for line in textual]
                # and as the screen hands its lines on, through the app's line filters (Textual's ANSI one is left
                # out for lines of dimmed styles it would leave as they are)
                filtered = []
                for line in textual:
                    for line_filter in app.get_line_filters():
                        line = line.apply_filter(line_filter, dialog.background_colors[1])
                    filtered.append(list(line))
                assert [list(line) for line in dialog.render_lines(Region(0, 0, width, height))] == filtered
                colours = {segment.style.bgcolor for line in shown for segment in line if segment.style}
                assert len(colours) > 100  # the thumbnails' cells were there, dimmed

            if theme == "textual-dark":  # its colours dimmed ahead, while idle (an ANSI theme: Textual's way)
                await wait_until(pilot, lambda: app.dim_ahead.passes and not app.dim_ahead.busy)
            for key, kind in (("d", ConfirmDeleteScreen), ("i", InfoScreen)):
                dimmed.clear()
                passed_on.clear()
                await pilot.press(key)
                await wait_until(pilot, lambda kind=kind: isinstance(app.screen, kind))
                await settle(pilot, app)
                assert_dimmed_as_textual_draws_it()
                assert len(dimmed) > 100 if key == "d" and theme != "textual-dark" else len(dimmed) < 20, len(dimmed)
                if theme == "textual-dark":  # every line of dimmed true colours: left as it is, not looked at again
                    assert (passed_on or key != "d") and not any(passed_on), passed_on
                await pilot.press("escape")
                await settle(pilot, app)
    finally:
        library.close()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_the_first_dialog_finds_the_gallerys_colours_dimmed_while_the_app_was_idle(tmp_path, monkeypatch, size):
    """Issue 11: the first dialog over the gallery dimmed every colour of its thumbnails at its first paint (2,800
    colour pairs on the bench's pictures at 160x48, about 20 ms of the info dialog's 43-48 ms). Now they are dimmed
    once the gallery has painted and the app is idle, a few milliseconds at a time (widgets/dimmed_backdrop.py
    `DimAhead`): the first dialog's paint blends no colour at all, nor the next one's after End showed other
    pictures. Fails without (hundreds blended at that paint)."""
    blended = counted_blends(monkeypatch)
    library = gradient_library(tmp_path, 30)
    app = MyImagesApp(library, images="halfcell", downloads=tmp_path / "downloads")
    try:
        async with app.run_test(size=size) as pilot:
            await settle(pilot, app)
            await wait_until(pilot, lambda: app.dim_ahead.passes and not app.dim_ahead.busy)
            assert len(blended) > 100  # the thumbnails' colours, dimmed ahead
            blended.clear()
            await pilot.press("d")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDeleteScreen))
            await settle(pilot, app)
            assert blended == []
            await pilot.press("escape")
            await settle(pilot, app)
            # other pictures: dimmed once idle again
            passes = app.dim_ahead.passes
            blended.clear()
            await pilot.press("end")
            await settle(pilot, app)
            await wait_until(pilot, lambda: app.dim_ahead.passes > passes and not app.dim_ahead.busy)
            assert len(blended) > 100
            blended.clear()
            await pilot.press("i")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "InfoScreen")
            await settle(pilot, app)
            assert blended == []
    finally:
        library.close()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_thumbnails_just_drawn_are_dimmed_ahead_without_a_long_idle(tmp_path, monkeypatch, size):
    """Issue 11: the gallery's colours were dimmed ahead only after 0.3 s without a key, each pass reading the whole
    screen (`DimAhead`); a dialog opened sooner after new pictures showed (bench/run.py: info straight after the
    grid editor) dimmed them all at its first paint: 45-61 ms instead of 28. Now the colours of the thumbnails just
    drawn are dimmed soon (AHEAD_SOON idle) from their own lines, without a look at the screen. The pass over the
    whole screen is put off here past the test's end: after End, the info dialog's paint still blends (almost)
    nothing. Fails without (hundreds: End's thumbnails)."""
    from widgets import dimmed_backdrop

    blended = counted_blends(monkeypatch)
    library = gradient_library(tmp_path, 30)
    app = MyImagesApp(library, images="halfcell", downloads=tmp_path / "downloads")
    try:
        async with app.run_test(size=size) as pilot:
            await settle(pilot, app)
            await wait_until(pilot, lambda: app.dim_ahead.passes and not app.dim_ahead.busy)  # the screen's text too
            monkeypatch.setattr(dimmed_backdrop, "AHEAD_AFTER", 600.0)  # no whole screen's pass from now on
            await end_then_info(pilot, app, blended)
    finally:
        library.close()


async def test_only_the_thumbnails_on_screen_are_dimmed_soon(tmp_path, monkeypatch):
    """Issue 11: the thumbnails a page away, drawn ahead, were dimmed soon too: three times the colours a dialog over
    the screen needs, while scrolling. Only the lines of the cards on screen are handed to the dimming now
    (`CardGrid.shown_thumbnails`). Fails without (End's thumbnails a page away handed over too)."""
    from collections import deque

    from widgets import dimmed_backdrop

    handed: list = []

    class Recorded(deque):
        def append(self, lines) -> None:
            handed.append(lines)
            super().append(lines)

    monkeypatch.setattr(dimmed_backdrop, "_drawn", Recorded(maxlen=dimmed_backdrop.DRAWN_QUEUED))
    library = gradient_library(tmp_path, 60)
    app = MyImagesApp(library, images="halfcell", downloads=tmp_path / "downloads")
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(pilot, app)
            await pilot.press("end")
            await settle(pilot, app)
            handed.clear()
            await pilot.press("home")
            await settle(pilot, app)
            await wait_until(pilot, lambda: handed and not app.dim_ahead.pending)
            shown = app.screen.grid.shown_thumbnails()
            assert shown and all(any(lines is one for one in shown) for lines in handed)
    finally:
        library.close()


async def test_thumbnails_are_dimmed_soon_however_many_screens_were_dimmed_before(tmp_path, monkeypatch):
    """Issue 11: the kept dimmed styles (KEPT) filled every few screens of new pictures on a million images; they
    were then dropped all at once (a stall while scrolling), so bc62424 stopped dimming the thumbnails just shown
    once less than a screen's room was left, and a dialog opened within AHEAD_AFTER of scrolling that far dimmed
    them at its first paint. Now the least recently seen styles go one for each new one (`Blend`): with the kept
    ones full, End's thumbnails are still dimmed soon, in the same blend, which stays full and is not emptied, and
    the info dialog's paint blends (almost) nothing. Fails without (nothing dimmed soon: End's colours blended at
    the dialog's paint)."""
    from widgets import dimmed_backdrop

    blended = counted_blends(monkeypatch)
    library = gradient_library(tmp_path, 30)
    app = MyImagesApp(library, images="halfcell", downloads=tmp_path / "downloads")
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(pilot, app)
            await wait_until(pilot, lambda: app.dim_ahead.passes and not app.dim_ahead.busy)
            (blend,) = dimmed_backdrop._blends.values()
            kept = len(blend.plain) + 50  # full after a few of End's colours
            monkeypatch.setattr(dimmed_backdrop, "KEPT", kept)
            monkeypatch.setattr(dimmed_backdrop, "AHEAD_AFTER", 600.0)  # no whole screen's pass from now on
            blended.clear()
            await end_then_info(pilot, app, blended, lambda: list(dimmed_backdrop._blends.values()) == [blend]
                                and len(blend.plain) == kept)
    finally:
        library.close()


def test_kept_dimmed_styles_go_one_at_a_time_the_least_recently_seen_first(monkeypatch):
    """Issue 11: past KEPT, each new dimmed style drops the one least recently seen on a screen (`Blend.seen`), never
    a pile at once (20,000 styles freed in one go were a stall while scrolling), and the dimmed colours are bounded
    too (COLOURS_KEPT). The dimmed styles kept are those Textual's ANSI filter is told to leave (`stable`). Fails
    without (all kept until the blend was replaced as a whole)."""
    from rich.color import Color as RichColor
    from rich.style import Style as RichStyle
    from textual.color import Color

    from widgets import dimmed_backdrop

    monkeypatch.setattr(dimmed_backdrop, "KEPT", 100)
    monkeypatch.setattr(dimmed_backdrop, "COLOURS_KEPT", 150, raising=False)
    blend = dimmed_backdrop.Blend(Color(10, 20, 30, 0.6))
    styles = [RichStyle.from_color(RichColor.from_rgb(n % 256, n // 256, 7), RichColor.from_rgb(3, n % 256, n // 256))
              for n in range(1_000)]
    text = RichStyle(bold=True, color="red")  # not two true colours: dimmed Textual's way, remembered as such
    watched = styles[0]
    sizes = []
    for n, style in enumerate(styles):
        assert blend.plain_style(style) is not None
        sizes.append(len(blend.plain))
        if n % 20 == 0:
            assert blend.seen([watched, None, text]) == [text]  # (on screen again: the last to go)
    assert sizes == [min(n + 1, 100) for n in range(1_000)]  # one in, one out: never emptied
    assert watched in blend.plain and styles[1] not in blend.plain and all(s in blend.plain for s in styles[-99:])
    assert blend.dropped == 900 and len(blend.colours) == 150
    assert blend.plain_style(text) is None and blend.seen([text]) == []
    dimmed = [style for style in blend.plain.values() if style is not None]
    assert set(blend.stable) == set(map(id, dimmed)) and len(dimmed) == 99


@pytest.mark.parametrize("compositor", ["read", "gone"])
async def test_the_screen_below_is_read_from_textuals_compositor_or_drawn_textuals_way(tmp_path, compositor):
    """Issue 11: a dialog's backdrop and the dimming ahead read the screen's lines from Textual's compositor
    (`screen_lines`: Textual's private API, which its own BackgroundScreen reads; it has no public way). Read: this
    Textual still has it, and its lines are what the screen shows (this fails loudly if Textual changes it). Gone
    (as under a Textual without it): the dialog draws the screen below Textual's way, the same cells, and the app
    runs on. Fails without (no such guard: the private attribute was read as it is, in two places)."""
    from textual.renderables.background_screen import BackgroundScreen
    from textual.visual import RichVisual, Visual

    from widgets import dimmed_backdrop

    dimmed_backdrop.forget()
    library = gradient_library(tmp_path, 8)
    app = MyImagesApp(library, images="halfcell", downloads=tmp_path / "downloads")
    try:
        with pytest.MonkeyPatch.context() as patch:
            async with app.run_test(size=(80, 24)) as pilot:
                await settle(pilot, app)
                if compositor == "read":
                    assert dimmed_backdrop.COMPOSITOR_READ, "Textual's compositor changed: see widgets/dimmed_backdrop.py"
                    lines = dimmed_backdrop.screen_lines(app.screen)
                    assert lines is not None and [line.text for line in lines] == screen_lines(app)
                else:
                    patch.setattr(dimmed_backdrop, "_Compositor", None)  # (no such thing in this Textual)
                    assert dimmed_backdrop.screen_lines(app.screen) is None
                await pilot.press("end")  # (then idle: the dimming ahead of the whole screen comes)
                await settle(pilot, app)
                await wait_until(pilot, lambda: not app.dim_ahead.busy)
                await pilot.press("d")
                await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDeleteScreen))
                await settle(pilot, app)
                dialog, gallery = app.screen, app.screen_stack[-2]
                width, height = dialog.size
                textual = Visual.to_strips(dialog, RichVisual(dialog, BackgroundScreen(gallery, dialog.styles.background)),
                                           width, height, dialog.visual_style)
                assert [list(dialog.render_line(y)) for y in range(height)] == [list(line) for line in textual]
                await pilot.press("escape")
                await wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen))
                assert app.is_running
    finally:
        library.close()


async def test_a_second_dialog_takes_the_backdrop_lines_the_first_one_drew(tmp_path):
    """Issue 11: each dialog made its backdrop's lines anew at its first paint (7,000 segments at 160x48) and ran
    them through Textual's ANSI filter again: 10-15 ms of every dialog's first paint. The lines are now kept per look
    (`Look.last`), for the next dialog over the same screen: the delete question, then the info dialog, show the very
    same line objects where the gallery shows the same. Fails without (none the same: each dialog kept its own)."""
    from widgets.dimmed_backdrop import DimmedScreen, forget

    forget()
    library = gradient_library(tmp_path, 8)
    made: list[tuple[str, list]] = []
    render_strips = DimmedScreen.render_strips

    def kept(self, *args, **kwargs):
        strips = render_strips(self, *args, **kwargs)
        made.append((type(self._widget).__name__, strips))
        return strips

    app = MyImagesApp(library, images="halfcell", downloads=tmp_path / "downloads")
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(DimmedScreen, "render_strips", kept)
            async with app.run_test(size=(160, 48)) as pilot:
                await settle(pilot, app)
                await pilot.press("d")
                await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDeleteScreen))
                await settle(pilot, app)
                await pilot.press("escape")
                await settle(pilot, app)
                first = [strips for name, strips in made if name == "ConfirmDeleteScreen"][-1]
                made.clear()
                await pilot.press("i")
                await wait_until(pilot, lambda: type(app.screen).__name__ == "InfoScreen")
                await settle(pilot, app)
                second = [strips for name, strips in made if name == "InfoScreen"][0]
                assert len(second) == len(first) == 48
                # (all but the key bar's line, which shows the keys of the screen on top)
                assert sum(new is old for new, old in zip(second, first)) >= len(first) - 1
    finally:
        library.close()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_a_dialog_is_laid_out_once_as_it_opens(lib, tmp_path, size):
    """Issue 11: a dialog shown was laid out, then at once again on the Resize its own layout sent it (the same
    size), the dimmed gallery under it drawn each time, all in one stall of the UI thread (the trash a third time,
    for its breakpoint classes). Now no two layouts of a dialog come in one go: a task that counts the event loop's
    turns (every millisecond) notes the turn of each layout (Textual's layout signal), each dialog of the gallery."""
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        turn = 0

        async def count_turns() -> None:
            nonlocal turn
            while True:
                turn += 1
                await asyncio.sleep(0.001)

        layouts: dict[str, list[int]] = {}

        def shown(screen) -> None:
            name = type(screen).__name__
            if screen.is_modal and name not in layouts:
                layouts[name] = []
                screen.screen_layout_refresh_signal.subscribe(  # (the app: the screen is not running yet)
                    app, lambda _: layouts[name].append(turn), immediate=True)

        app.screen_change_signal.subscribe(app, shown, immediate=True)
        counting = asyncio.create_task(count_turns())
        try:
            for key in ("i", "p", "d", "a", "t"):
                await pilot.press(key)
                await settle(pilot, app)
                assert app.screen.is_modal
                if key == "t":
                    assert app.screen.has_class("-wide" if size[0] >= 100 else "-narrow")
                await pilot.press("escape")
                await settle(pilot, app)
                assert isinstance(app.screen, GalleryScreen)
        finally:
            counting.cancel()
        assert set(layouts) == {"InfoScreen", "PromptScreen", "ConfirmDeleteScreen", "AddToCollectionScreen",
                                "TrashScreen"}
        # the first layout alone in its turn; a later one may follow another at once: Textual lays a scroll
        # container out again when its scroll bar comes (the info dialog at 80x24, a message later), and under load
        # that fell in the same millisecond (CI, load 4.5: InfoScreen [4, 18, 18])
        assert all(turns and turns[0] not in turns[1:] for turns in layouts.values()), layouts


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_a_dialog_over_the_large_view_is_laid_out_once_with_the_gallery_hidden_at_an_old_size(lib, tmp_path,
                                                                                                   size):
    """Issue 11 (review of the Modal): a dialog skipped the Resize its own layout sends it only when every screen of
    the stack was at that size, the gallery hidden under the large view too. After the terminal changed size with
    a dialog over the large view, the hidden gallery kept its old size (Textual lays it out when it is shown again),
    and every dialog opened over the large view then was laid out twice in one go. Now only the screens drawn with
    the dialog count. Fails without (two layouts of the delete question in one turn of the event loop)."""
    app = make_app(lib, tmp_path)
    other = (size[0] + 20, size[1] + 6)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        gallery = app.screen
        await pilot.press("enter")  # the large view, opaque, over the gallery
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ViewerScreen")
        await settle(pilot, app)
        viewer = app.screen
        await pilot.press("p")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "PromptScreen")
        await settle(pilot, app)
        await pilot.resize_terminal(*other)
        await wait_until(pilot, lambda: app.screen.outer_size == other and viewer.outer_size == other)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is viewer)
        await settle(pilot, app)
        assert gallery.outer_size != other  # (hidden: laid out when shown again)
        turn = 0

        async def count_turns() -> None:
            nonlocal turn
            while True:
                turn += 1
                await asyncio.sleep(0.001)

        layouts: list[int] = []

        def shown(screen) -> None:
            if type(screen).__name__ == "ConfirmDeleteScreen" and not layouts:
                layouts.append(-1)
                screen.screen_layout_refresh_signal.subscribe(app, lambda _: layouts.append(turn), immediate=True)

        app.screen_change_signal.subscribe(app, shown, immediate=True)
        counting = asyncio.create_task(count_turns())
        try:
            await pilot.press("d")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmDeleteScreen")
            await settle(pilot, app)
        finally:
            counting.cancel()
        turns = layouts[1:]
        assert turns and len(set(turns)) == len(turns), turns
        assert app.screen.outer_size == other
        await pilot.press("escape", "escape")
        await wait_until(pilot, lambda: app.screen is gallery and gallery.outer_size == other)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_the_collections_dialog_shows_at_once_and_reads_its_counts_in_a_worker(lib, tmp_path, monkeypatch, size):
    """Issue 11: the collections and their counts (tens of milliseconds for a collection of a million images) were
    read on the UI thread as the dialog opened and after each toggle. Now the dialog shows at once saying it reads
    them, its name box takes a name meanwhile, and the counts come from a worker: here the read is held until the
    dialog has been seen, and no read runs on the UI thread."""
    loot = lib.create_collection("Loot")
    first = lib.ids()[0]
    lib.add_to_collection(lib.ids()[1:], loot.id)
    hold, release = threading.Event(), threading.Event()  # reads held once the dialog is asked for
    on_ui_thread: list[bool] = []
    real = Library.collections

    def collections(self, *args, **kwargs):
        if hold.is_set():
            here = threading.current_thread() is threading.main_thread()
            on_ui_thread.append(here)
            if not here:
                release.wait(20)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Library, "collections", collections)
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        hold.set()
        await pilot.press("a")
        await wait_until(pilot, lambda: "Reading the collections…" in screen_text(app))
        dialog = app.screen
        assert isinstance(dialog, AddToCollectionScreen) and not dialog.loaded
        listing = dialog.query_one("#collection-list", SelectionList)
        assert listing.option_count == 0 and app.focused is listing
        await pilot.press(*"Owls")  # typed in the list: a new collection's name, in its box
        assert dialog.query_one("#new-collection").value == "Owls"
        release.set()
        await collections_read(pilot)
        assert str(listing.get_option_at_index(0).prompt) == "Loot  (2 images)"
        assert "Reading the collections…" not in screen_text(app) and "Loot  (2 images)" in screen_text(app)
        app.screen.set_focus(listing)
        await pilot.press("space")  # the first box, once read: checked, and counted again in a worker
        await wait_until(pilot, lambda: str(listing.get_option_at_index(0).prompt) == "Loot  (3 images)  ✓ in it")
        assert first in lib.members_among([first], loot.id)
        assert on_ui_thread and not any(on_ui_thread), on_ui_thread


async def open_info(pilot, app) -> None:
    """The info dialog of the focused image, opened and settled."""
    from tui.info_screen import InfoScreen

    await settle(pilot, app)
    await pilot.press("i")
    await wait_until(pilot, lambda: isinstance(app.screen, InfoScreen))
    await settle(pilot, app)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_the_info_dialog_draws_its_rows_with_one_widget(lib, tmp_path, size):
    """Issue 11: the info dialog's first paint styled, laid out and drew a Static per label and per value (34),
    55 ms of UI-thread work at 1,000,000 images; one widget draws all the rows now, the same text in the same
    places (the info snapshots are cell for cell the same). Fails without (26 Statics here, no `rows`)."""

    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await open_info(pilot, app)
        screen = app.screen
        assert len(screen.query("#info-scroll Static")) == 1
        assert [label for label, _value in screen.rows][:3] == ["Image", "Owner", "Model"]
        shown = screen_text(app)
        assert all(label in shown for label, _value in screen.rows[:4]), shown
        assert f"Owner              {dict(screen.rows)['Owner']}" in shown, shown


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_the_info_dialogs_rows_are_drawn_once_at_each_width(lib, tmp_path, size, monkeypatch):
    """Issue 11: a Rich table in a Static of automatic height is drawn twice, once to count its lines and once to
    draw them; the info dialog's rows are drawn once per width (widgets/rich_once.py, as the help's tables).
    Fails without (each width drawn twice)."""
    from rich.table import Table

    from tui import info_screen

    ours: list[Table] = []
    real_table, real_render = info_screen.info_table, Table.__rich_console__
    widths: list[int] = []

    def info_table(rows):
        ours.append(real_table(rows))
        return ours[-1]

    def render(self, console, options):
        if any(self is table for table in ours):
            widths.append(options.max_width)
        return real_render(self, console, options)

    monkeypatch.setattr(info_screen, "info_table", info_table)
    monkeypatch.setattr(Table, "__rich_console__", render)
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await open_info(pilot, app)
        assert widths and len(widths) == len(set(widths)), widths


# -- Ctrl+C in a dialog ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_ctrl_c_in_a_question_cancels_it_as_esc_does(lib, tmp_path, size):
    """NEWUSER13: Ctrl+C in a question (delete, empty the trash, …) did nothing and said nothing (Textual's Ctrl+C
    copies the text selected with the mouse, and there was none). It answers as Esc does: nothing is done."""
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDeleteScreen))
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen))
        assert lib.total() == 3  # nothing deleted
        lib.trash([lib.ids()[0]])
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and app.screen.query("#empty"))
        await settle(pilot, app)
        for key in ("e", "R"):  # Empty trash, Restore all: each a question
            await pilot.press(key)
            await wait_until(pilot, lambda: isinstance(app.screen, (Question, ConfirmDeleteScreen)))
            await pilot.press("ctrl+c")
            await wait_until(pilot, lambda: isinstance(app.screen, TrashScreen))
        assert len(lib.trashed()) == 1 and lib.total() == 2  # neither erased nor restored
        await pilot.press("ctrl+c")  # the trash view is a dialog too: closed as Esc closes it
        await wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen))


@pytest.mark.parametrize("key", ["i", "p", "question_mark", "ctrl+s", "I"])
async def test_ctrl_c_closes_a_dialog_as_esc_does_or_copies_the_text_selected(lib, tmp_path, key, copies):
    """Ctrl+C does in every dialog what its Esc does (info, prompt, help, the download folder and import with the
    focus in their path field); with text selected with the mouse it copies that, as Textual's Ctrl+C does."""
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press(key)
        await wait_until(pilot, lambda: isinstance(app.screen, Modal))
        dialog = app.screen
        await settle(pilot, app)
        if isinstance(app.focused, Input) and app.focused.selected_text:  # a path field, its text selected as it
            # opens: Ctrl+C copies that, as Textual's field does
            await pilot.press("ctrl+c")
            await wait_until(pilot, lambda: copies["terminal"] == [app.focused.value])
            await pilot.press("end")  # nothing selected
            copies["terminal"].clear()
        title = dialog.query(".title").first()
        dialog.selections = {title: Selection(None, None)}  # as a drag of the mouse over it selects it
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: copies["terminal"])
        assert app.screen is dialog and copies["terminal"] == [dialog.get_selected_text()]
        dialog.selections = {}
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen))


async def test_a_dialogs_help_lists_its_ctrl_c_after_its_esc(lib, tmp_path):
    """The help (?) over a dialog: Ctrl+C's row ("Same as Esc") comes right after the Esc row, not first."""
    from tui.help_screen import help_rows
    from tui.prompt_screen import PromptScreen

    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen))
        ids = [row.binding_id for row in help_rows(app.screen)]
        assert ids.index("dialog.stop") == ids.index("prompt.close") + 1 > 1, ids


def test_every_dialog_takes_ctrl_c_for_what_its_esc_does():
    """Every modal screen of the app: Ctrl+C runs `stop` (no dialog binds it to anything else), which runs the
    action its Escape is bound to, an action it has; every dialog shown (a class no other derives from) binds
    Escape."""
    from tui.help_screen import bound_classes, own_bindings

    dialogs = [cls for cls in bound_classes() if issubclass(cls, Modal) and cls.__module__ != "tui.dialog"]
    assert len(dialogs) > 20
    for cls in dialogs:
        on_ctrl_c = [b.action for b in own_bindings(cls) if "ctrl+c" in b.key.split(",")]
        assert on_ctrl_c[-1:] == ["stop"], cls  # (the last binding of a key is the one Textual keeps)
        assert callable(getattr(cls, f"action_{cls.escape_action()}", None)), cls
        if not cls.__subclasses__():
            assert any("escape" in b.key.split(",") for b in own_bindings(cls)), cls
