"""Nothing slow on the UI thread: page reads, decoding, grid detection, bulk deletes and downloads run in workers."""
from __future__ import annotations

import os
import shutil
import signal
import threading

import pytest

from store import grid as grid_cut
from store.library import Library
from tui import gallery_screen, viewer_screen
from tui.app import MyImagesApp
from tui.confirm_delete import ConfirmDeleteScreen
from tui.grid_editor_screen import GridEditorScreen
from tui.progress_screen import ProgressScreen
from tui.viewer_screen import ViewerScreen
from widgets import thumbnail_cache
from widgets.card_grid import PAGE_SIZE, CardGrid

from .ui import notices, screen_text, settle, wait_until

COUNT = 150  # images: three pages of the grid


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    from store.demo import generate

    root = tmp_path_factory.mktemp("responsive") / "lib"
    library = Library(root, account="alice")
    generate(library, COUNT)
    library.close()
    return root


@pytest.fixture
def lib(demo_root, tmp_path):
    root = tmp_path / "lib"
    shutil.copytree(demo_root, root)
    library = Library(root, account="alice")
    yield library
    library.close()


def on_ui_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def spy(monkeypatch, owner, name: str) -> list[bool]:
    """Replace owner.name by a wrapper noting, per call, whether it ran on the UI thread."""
    calls: list[bool] = []
    real = getattr(owner, name)

    def wrapper(*args, **kwargs):
        calls.append(on_ui_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


def grid(app) -> CardGrid:
    return app.screen.query_one("#grid", CardGrid)


def make_app(library, tmp_path, images="none"):
    return MyImagesApp(library, images=images, downloads=tmp_path / "downloads")


async def test_pages_are_read_in_a_worker(lib, tmp_path, monkeypatch):
    calls = spy(monkeypatch, gallery_screen.LibrarySource, "fetch")
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("end")  # the last page: not read yet
        await settle(pilot, app)
        assert grid(app).current is not None and grid(app).cursor == COUNT - 1
        assert grid(app).current.id == lib.ids()[-1]
        await pilot.press("home", "pagedown", "pagedown", "pagedown", "pagedown", "pagedown")
        await settle(pilot, app)
        assert grid(app).current.id == lib.ids()[grid(app).cursor]
    assert calls and not any(calls)  # every page read off the UI thread
    assert COUNT > 2 * PAGE_SIZE


async def test_large_view_decodes_in_a_worker(lib, tmp_path, monkeypatch):
    calls = spy(monkeypatch, viewer_screen, "load_picture")
    full_calls = spy(monkeypatch, viewer_screen, "load_full_picture")
    app = make_app(lib, tmp_path, images="halfcell")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("enter")
        assert isinstance(app.screen, ViewerScreen)
        await wait_until(pilot, lambda: bool(app.screen.query("#large-image")))
        await pilot.press("right", "z", "right")  # the next image, drawn ahead; 1:1 and a pan
        await wait_until(pilot, lambda: app.screen.shown_key and app.screen.shown_key[3] and
                         app.screen.shown_key[4] != (0.5, 0.5))
    calls += full_calls
    assert calls and not any(calls)  # every picture read and drawn off the UI thread


async def test_grid_editor_detects_once_in_a_worker(lib, tmp_path, monkeypatch):
    calls = spy(monkeypatch, grid_cut, "detect")
    app = make_app(lib, tmp_path, images="halfcell")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        await pilot.press("g")
        assert isinstance(app.screen, GridEditorScreen)
        editor = app.screen
        await wait_until(pilot, lambda: editor.sheet is not None)
        await pilot.press("r", "r", "c", "r", "C", "c", "R")
        await settle(pilot, app)
        assert (editor.cut_layout.rows, editor.cut_layout.cols) == (editor.detected.rows + 2, editor.detected.cols + 1)
    assert calls == [False]  # once, off the UI thread


async def test_deleting_a_selection_shows_progress_and_can_be_cancelled(lib, tmp_path, monkeypatch):
    monkeypatch.setattr(gallery_screen, "DELETE_CHUNK", 10)
    first_chunk_done, go_on = threading.Event(), threading.Event()
    real = Library.trash  # a delete moves to the trash (issue 16)
    threads = []

    def delete(self, ids):
        threads.append(on_ui_thread())
        n = real(self, ids)
        first_chunk_done.set()
        go_on.wait(10)  # until the test has pressed Cancel
        return n

    monkeypatch.setattr(Library, "trash", delete)
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        shown = notices(app)
        await settle(pilot, app)
        await pilot.press("ctrl+a", "d")
        assert isinstance(app.screen, ConfirmDeleteScreen)
        await pilot.click("#delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ProgressScreen) and first_chunk_done.is_set())
        await pilot.press("escape")  # Cancel: the UI answers while the delete runs
        go_on.set()
        await wait_until(pilot, lambda: not isinstance(app.screen, ProgressScreen))
        await settle(pilot, app)
        assert lib.total() == COUNT - 10
        assert any("Cancelled: moved 10 of 150 images to the trash" in text for text in shown)
        assert len(grid(app).selected) == COUNT - 10
    assert threads == [False]


async def test_downloading_a_selection_in_a_worker(lib, tmp_path, monkeypatch):
    calls = spy(monkeypatch, gallery_screen, "export_images")
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("space", "right", "space", "right", "space", "s")
        # a selection goes into a folder of its own under downloads (selection-DATE-TIME), one image beside it
        await wait_until(pilot, lambda: len(list((tmp_path / "downloads").rglob("*.png"))) == 3
                         and not isinstance(app.screen, ProgressScreen))
        await pilot.press("escape", "right", "s")  # one image: no progress screen, still a worker
        await wait_until(pilot, lambda: len(list((tmp_path / "downloads").rglob("*.png"))) == 4)
    assert len(calls) == 4 and not any(calls)


async def test_forced_kitty_thumbnails_load_in_a_worker(lib, tmp_path, monkeypatch):
    calls = spy(monkeypatch, thumbnail_cache, "load_picture")  # the grid's picture cache reads them
    app = make_app(lib, tmp_path, images="kitty")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("pagedown")
        await settle(pilot, app)
        shown = [card for card in app.screen.query("ImageCard") if card.record is not None]
        assert shown and all(card.query_one("#thumb").image is not None for card in shown)
    assert calls and not any(calls)



def app_in_a_bulk_delete(lib, tmp_path, monkeypatch):
    """An app whose bulk delete (10 at a time) waits after its first chunk until `go_on` is set; its exit
    messages are kept in `exits`."""
    monkeypatch.setattr(gallery_screen, "DELETE_CHUNK", 10)
    first_chunk_done, go_on = threading.Event(), threading.Event()
    real = Library.trash

    def delete(self, ids):
        n = real(self, ids)
        first_chunk_done.set()
        go_on.wait(10)  # until the test has asked the app to quit
        return n

    monkeypatch.setattr(Library, "trash", delete)
    app = make_app(lib, tmp_path)
    exits: list[str] = []
    real_exit = app.exit
    app.exit = lambda *args, message=None, **kwargs: (exits.append(str(message)),
                                                      real_exit(*args, message=message, **kwargs))
    return app, exits, first_chunk_done, go_on


async def start_deleting_everything(pilot, app, first_chunk_done) -> None:
    await settle(pilot, app)
    await pilot.press("ctrl+a", "d")
    await pilot.click("#delete")
    await wait_until(pilot, lambda: isinstance(app.screen, ProgressScreen) and first_chunk_done.is_set())


@pytest.mark.parametrize("size", [(80, 24), pytest.param((160, 48), marks=pytest.mark.slow)], ids=["80x24", "160x48"])
async def test_ctrl_q_on_a_progress_dialog_cancels_the_work_then_quits(lib, tmp_path, monkeypatch, size):
    # Ctrl+Q while a progress bar shows (here a bulk delete; a bulk clean runs on the same dialog): the work stops
    # after the chunk it is on (nothing half-done), then the app ends and says how far it got.
    app, exits, first_chunk_done, go_on = app_in_a_bulk_delete(lib, tmp_path, monkeypatch)
    async with app.run_test(size=size) as pilot:
        await start_deleting_everything(pilot, app, first_chunk_done)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: "Quitting: cancelling" in screen_text(app))
        assert app.return_code is None  # not before the work has stopped
        go_on.set()
        await wait_until(pilot, lambda: app.return_code is not None)
    assert exits and "cancelled after 10 of 150" in exits[-1] and "nothing was half-written" in exits[-1]
    assert lib.total() == COUNT - 10  # the chunk done before Ctrl+Q is kept; no other was started


async def test_ctrl_c_on_a_progress_dialog_cancels_the_work_as_esc_does(lib, tmp_path, monkeypatch):
    # NEWUSER12 F4: Ctrl+C, the terminal's stop key, pressed twice during an import did nothing at all (the dialog
    # takes only its own keys; Textual's "press q to quit" hint is the app's, which a dialog does not reach). It
    # cancels as Esc does: after the chunk it is on, the app goes on.
    app, exits, first_chunk_done, go_on = app_in_a_bulk_delete(lib, tmp_path, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await start_deleting_everything(pilot, app, first_chunk_done)
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: "Cancelling after the current item" in screen_text(app))
        go_on.set()
        await wait_until(pilot, lambda: not isinstance(app.screen, ProgressScreen))
        assert app.is_running and app.return_code is None and not exits
    assert lib.total() == COUNT - 10  # the chunk done before Ctrl+C is kept; no other was started


async def test_sigint_on_a_progress_dialog_cancels_the_work_then_quits_as_ctrl_q_does(lib, tmp_path, monkeypatch):
    # `kill -INT` (a Ctrl+C sent from outside; in the app Ctrl+C is a key) during an import: asyncio cancelled the
    # app's task, the screen went blank and the thread worker went on importing to the end (NEWUSER12 F3). Now it
    # is Ctrl+Q: the work stops after the chunk it is on, the app ends saying how far it got, exit code 130.
    app, exits, first_chunk_done, go_on = app_in_a_bulk_delete(lib, tmp_path, monkeypatch)
    received: list[int] = []  # the signal, when nothing else takes it (without the fix): not pytest's interrupt
    before = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await start_deleting_everything(pilot, app, first_chunk_done)
            os.kill(os.getpid(), signal.SIGINT)
            await wait_until(pilot, lambda: "Quitting: cancelling" in screen_text(app) or received)
            assert not received and app.return_code is None  # the app took it; not before the work has stopped
            go_on.set()
            await wait_until(pilot, lambda: app.return_code is not None)
        assert app.interrupted_by == signal.SIGINT  # `run` returns 130
    finally:
        go_on.set()
        signal.signal(signal.SIGINT, before)
    assert exits and "cancelled after 10 of 150" in exits[-1] and "nothing was half-written" in exits[-1]
    assert lib.total() == COUNT - 10  # the chunk done before the signal is kept; no other was started


def test_thumbnails_are_kept_as_data_the_collector_does_not_walk(lib, tmp_path):
    """Drawn thumbnails (a rich Style and two Colors per cell) were most of the objects every full garbage
    collection walked on the UI thread; all but the last few are kept packed, untracked by the collector."""
    import gc

    strips = thumbnail_cache.ThumbnailStrips(drawn_kept=2)
    keys = [(record.thumbnail_path, 16, 8) for record in lib.page()[:3]]
    first = strips.make(keys[0])
    assert any(segment.style is not None and segment.style.bgcolor for line in first for segment in line)
    for key in keys[1:]:
        strips.make(key)
    gc.collect()
    assert not strips.drawn(keys[0]) and strips.drawn(keys[2])  # only the last two kept as Segments
    packed = strips.packed(keys[0])
    assert packed is not None and len(packed) == 8
    assert not any(gc.is_tracked(line) for line in packed)
    assert strips.get(keys[0]) is None  # not ready to draw: made again (in a worker) from what is kept
    assert strips.make(keys[0]) == first and strips.get(keys[0]) == first
    missing = strips.make((tmp_path / "gone.png", 16, 8))  # an unreadable picture says so, packed or not
    assert strips.make((tmp_path / "gone.png", 16, 8)) == missing
    assert "(no picture)" in "".join(segment.text for line in missing for segment in line)


@pytest.mark.parametrize("size", [(27, 14), (11, 4), (49, 25), (1, 1), (3, 20)])
def test_thumbnails_are_drawn_as_textual_images_half_cells_draw_them(lib, size):
    """A thumbnail's packed lines are made from its pixels in a few array operations (`cell_lines.halfcell`), 13
    times quicker than a rich Style and two Colors per cell, cell for cell what textual-image's renderer gives,
    simplified and packed; on 16 colours the pictures are still drawn by textual-image (Rich maps the colours)."""
    import random

    from PIL import Image
    from rich.segment import Segment

    from widgets import cell_colours
    from widgets.cell_lines import halfcell, pack, unpack
    from widgets.thumbnails import GRID_PIXELS, CachedHalfcellImage, cell_console, load_picture

    def textual_image(picture, width, height):
        strips = CachedHalfcellImage.render_strips(cell_console(), picture, width, height)
        return tuple(pack(list(Segment.simplify(strip))) for strip in strips)

    rng = random.Random(size[0])
    noise = Image.frombytes("RGB", (37, 23), bytes(rng.randrange(256) for _ in range(37 * 23 * 3)))
    pictures = [load_picture(record.thumbnail_path, GRID_PIXELS) for record in lib.page()[:3]]
    pictures += [noise, Image.new("RGB", (64, 40), (10, 20, 30)), Image.linear_gradient("L").convert("RGB"),
                 Image.linear_gradient("L")]
    for picture in pictures:
        assert picture is not None
        assert halfcell(picture, *size) == textual_image(picture, *size)
    key = (lib.page()[0].thumbnail_path, *size)
    expected = textual_image(load_picture(key[0], GRID_PIXELS), *size)
    assert thumbnail_cache.ThumbnailStrips().make(key) == unpack(expected)
    was = cell_colours.draws_true_colour()
    cell_colours.use_colour_system("standard")
    try:
        sixteen = textual_image(load_picture(key[0], GRID_PIXELS), *size)  # mapped to the 16 by `for_terminal`
        assert sixteen != expected
        assert thumbnail_cache.ThumbnailStrips().make(key) == unpack(sixteen)
    finally:
        cell_colours.use_colour_system("truecolor" if was else "standard")


def test_unpacked_lines_have_the_colours_rich_makes():
    """`unpack` makes its Colors without Color.from_triplet (a third of the time): they must be what it makes, name,
    type and triplet, so that styles compare, hash and print as Rich's own (a Rich upgrade that changes them fails
    here)."""
    import random

    from rich.color import Color
    from rich.color_triplet import ColorTriplet
    from rich.segment import Segment
    from rich.style import Style

    from widgets.cell_lines import unpack

    def rich(rgb: int) -> Color:
        return Color.from_triplet(ColorTriplet(rgb >> 16, rgb >> 8 & 0xFF, rgb & 0xFF))

    rng = random.Random(3)
    pairs = [(0, 0xFFFFFF), (0x0A0B0C, 0x00FF00)] + [(rng.randrange(1 << 24), rng.randrange(1 << 24)) for _ in range(500)]
    line = tuple(item for fg, bg in pairs for item in ("▀", fg << 24 | bg))
    made = unpack([line])[0]
    expected = [Segment("▀", Style.from_color(rich(fg), rich(bg))) for fg, bg in pairs]
    assert made == expected
    for segment, want in zip(made, expected):
        assert segment.style is not None and want.style is not None
        assert str(segment.style) == str(want.style) and hash(segment.style) == hash(want.style)
        for colour, rich_colour in ((segment.style.color, want.style.color), (segment.style.bgcolor, want.style.bgcolor)):
            assert type(colour) is Color and type(colour.triplet) is ColorTriplet
            assert tuple(colour) == tuple(rich_colour)


async def test_a_cards_old_lines_are_freed_without_the_garbage_collector(lib, tmp_path, monkeypatch):
    """Every line a card drew used to hold itself (Textual caches a whole line's division on the line), so
    paging left tens of thousands of objects to full collections on the UI thread; now they go at once."""
    import gc
    import sys

    from textual.geometry import Region

    from tui import app as app_module
    from widgets.card import ImageCard

    for name in ("GC_FULL_AFTER", "GC_FORCE_AFTER", "GC_DEEP_AFTER"):  # the app's own collections wait
        monkeypatch.setattr(app_module, name, 10**9)
    app = make_app(lib, tmp_path, images="halfcell")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        gc.collect()
        gc.disable()
        try:
            card = app.screen.query(ImageCard).first()
            width, height = card.outer_size
            assert card.record is not None
            await pilot.pause()  # painted: the compositor has cut these lines
            lines = list(card.render_lines(Region(0, 0, width, height)))
            await pilot.press("pagedown")
            await settle(pilot, app)
            assert card.record is not None and card.index >= grid(app).columns * grid(app).rows
            while lines:  # nothing holds them now (no cache in a line holds the line): freed when dropped
                line = lines.pop()
                assert sys.getrefcount(line) == 2  # `line` and the call's argument
        finally:
            gc.enable()


def full_collection() -> None:
    """A full garbage collection on this thread (gc.collect does nothing while another thread collects)."""
    import gc
    import time

    done: list[bool] = []

    def seen(phase, info):
        if phase == "stop" and info["generation"] == 2 and on_ui_thread():
            done.append(True)

    gc.callbacks.append(seen)
    try:
        for _ in range(5000):
            gc.collect()
            if done:
                return
            time.sleep(0.001)
    finally:
        gc.callbacks.remove(seen)
    raise AssertionError("no full collection could run")


def test_a_line_cut_or_extended_to_itself_is_freed_without_the_garbage_collector():
    """Textual caches a line's whole-width division (and its crop_extend to its own width) on the line itself:
    every drawn line was garbage for the cycle collector, frozen with the rest between full collections."""
    import sys

    from rich.segment import Segment
    from textual.strip import Strip

    from widgets.textual_leaks import install

    install()  # as the app does
    strip = Strip([Segment("abc"), Segment("de")], 5)
    assert strip.divide([5]) == [strip] and strip.crop_extend(0, 5, None) is strip
    assert [line.text for line in strip.divide([2, 5])] == ["ab", "cde"]  # other cuts as before
    assert sys.getrefcount(strip) == 2  # only `strip` (and the call's argument): nothing in it holds it


def test_a_blank_line_is_cut_by_slicing_into_the_pieces_textual_makes(monkeypatch):
    """At a change of card size, the containers' blank lines under the cards were cut at every card's edge by
    Rich's `Segment.divide`, cell by cell (300 lines in 20 pieces: 5-8 ms of the frame). A line of one run of
    single-width characters is cut by slicing now, any other line as before, into the pieces Textual makes."""
    import random

    from rich.segment import Segment
    from rich.style import Style
    from textual.strip import Strip

    from widgets.textual_leaks import install

    install()  # as the app does
    real_divide = Segment.divide
    measured: list[int] = []

    def divide(segments, cuts):
        measured.append(len(segments))
        return real_divide(segments, cuts)

    def textuals(line: Strip, cuts: list[int]) -> list[tuple]:  # Strip.divide's own way
        cuts = [cut for cut in cuts if cut <= line.cell_length]
        starts = [0, *cuts]
        return [(Strip(piece, cut - start).text, cut - start, [s.style for s in piece if s.text])
                for piece, cut, start in zip(real_divide(list(line), cuts), cuts, starts)]

    chance = random.Random(5)
    blank = Strip([Segment(" " * 160, Style(bgcolor="#102030"))], 160)
    others = [Strip([Segment("ab", Style(bold=True)), Segment("cd")], 4), Strip([Segment("日本 ab")], 7)]
    for line in [blank, Strip([Segment("x" * 40)], 40), *others]:
        for _ in range(30):
            cuts = sorted(set(chance.sample(range(0, line.cell_length + 1), chance.randint(1, min(6, line.cell_length)))))
            if cuts[-1] != line.cell_length and chance.random() < 0.7:
                cuts.append(line.cell_length)
            expected = textuals(line, cuts)
            measured.clear()
            monkeypatch.setattr(Segment, "divide", divide)
            pieces = Strip(list(line), line.cell_length).divide(cuts)
            monkeypatch.setattr(Segment, "divide", real_divide)
            assert [(p.text, p.cell_length, [s.style for s in p if s.text]) for p in pieces] == expected, cuts
            if line in others or cuts == [line.cell_length]:
                continue
            assert measured == [], "a line of single-width characters cut cell by cell"
    cuts = list(range(8, 161, 8))
    assert blank.divide(cuts) is Strip(list(blank), 160).divide(cuts)  # kept for every line alike


def test_a_lines_caches_are_made_when_first_used():
    """Textual's Strip made its 7 caches (each an object the collector tracks) with every line: a tenth of what
    each full collection walked while paging, 15,000 of the objects the deep collection walks at 160x48."""
    import gc

    from rich.segment import Segment
    from rich.style import Style
    from textual.cache import FIFOCache
    from textual.strip import Strip

    from widgets.textual_leaks import install

    install()  # as the app does

    def caches(line: Strip) -> int:
        return sum(isinstance(o, FIFOCache) for o in gc.get_referents(line))

    strip = Strip([Segment("abc", Style(bold=True)), Segment("defg")], 7)
    assert caches(strip) == 0
    assert strip.crop(1, 5).text == "bcde" and strip.crop(1, 5) is strip.crop(1, 5)  # the crop is cached
    assert caches(strip) == 1
    assert [line.text for line in strip.divide([2, 7])] == ["ab", "cdefg"]
    assert strip.divide([2, 7]) is strip.divide([2, 7])
    assert strip.apply_style(Style(italic=True)) is strip.apply_style(Style(italic=True))
    assert strip.extend_cell_length(9).cell_length == 9 and strip.crop_extend(1, 9, None).text == "bcdefg  "
    assert caches(strip) == 4  # crop, divide, style, crop_extend: made as each was asked for


async def test_a_closed_dialogs_lines_are_not_kept_alive(lib, tmp_path, monkeypatch):
    """Textual's line caches (one per widget) were kept by an lru_cache on a method (Textual issue 6665): the
    last 1,024 stayed alive after their widgets were gone, with every line they drew (at 160x48, ~90,000
    objects more after each round of paging and dialogs, walked by each collection that walks everything)."""
    import gc

    from textual._styles_cache import StylesCache

    from tui import app as app_module
    from tui.help_screen import HelpScreen

    for name in ("GC_FULL_AFTER", "GC_FORCE_AFTER", "GC_DEEP_AFTER"):  # the app's own collections wait
        monkeypatch.setattr(app_module, name, 10**9)

    def line_caches() -> int:
        full_collection()
        return sum(isinstance(o, StylesCache) for o in gc.get_objects())

    app = make_app(lib, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        gc.unfreeze()
        counts = []
        for _ in range(3):
            await pilot.press("question_mark")
            await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
            await pilot.pause()
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
            await settle(pilot, app)
            counts.append(line_caches())
    assert counts[2] <= counts[0] + 2, counts  # the dialog's (dozens each time) went with it


async def test_a_closed_large_views_lines_go_without_the_garbage_collector(lib, tmp_path, monkeypatch):
    """A closed dialog's widgets are cycles that may have been frozen (tui/app.py) and wait for the rare
    collection that walks everything; the lines they drew (the large view's picture: thousands of Segments,
    Styles and Colors) no longer wait with them."""
    import gc

    from rich.segment import Segment

    from tui import app as app_module

    for name in ("GC_FULL_AFTER", "GC_FORCE_AFTER", "GC_DEEP_AFTER"):  # the app's own collections wait
        monkeypatch.setattr(app_module, name, 10**9)

    def segments() -> int:
        return sum(isinstance(o, Segment) for o in gc.get_objects())

    app = make_app(lib, tmp_path, images="halfcell")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        grid(app).focus()
        await pilot.pause()
        full_collection()
        gc.disable()
        try:
            before = segments()
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, ViewerScreen) and app.screen.shown_key)
            await pilot.pause()
            drawn = segments()
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, ViewerScreen))
            await settle(pilot, app)
            after = segments()
        finally:
            gc.enable()
    assert drawn - before > 1000  # the picture was drawn
    assert after - before < (drawn - before) / 10, (before, drawn, after)


async def test_a_focus_change_restyles_no_card_and_repaints_not_the_whole_screen(lib, tmp_path, monkeypatch):
    """Moving the focus between the grid and the search box restyled every card (Textual restyles all that is
    in the widget losing the focus) and repainted the whole screen (Textual's `Screen.focused` repaints)."""
    from textual.widgets import Input

    from widgets.card import ImageCard

    app = make_app(lib, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        screen = app.screen
        grid(app).focus()
        await pilot.pause()
        restyled: list = []
        whole_screen: list = []
        update_nodes, refresh = app.stylesheet.update_nodes, screen.refresh

        def restyle(nodes, animate=False):
            nodes = list(nodes)
            restyled.extend(nodes)
            return update_nodes(nodes, animate=animate)

        def screen_refresh(*regions, **kwargs):
            if not regions and kwargs.get("repaint", True):
                whole_screen.append(kwargs)
            return refresh(*regions, **kwargs)

        monkeypatch.setattr(app.stylesheet, "update_nodes", restyle)
        monkeypatch.setattr(screen, "refresh", screen_refresh)
        for key in ("slash", "tab", "shift+tab", "escape"):  # to the search box, on, back, to the grid
            await pilot.press(key)
            await pilot.pause()
        assert isinstance(app.focused, Input) or app.focused is grid(app)
        assert grid(app) in restyled  # the grid's own focus look is kept up to date
        assert not [node for node in restyled if isinstance(node, ImageCard)]
        assert not whole_screen
