"""The large view (Enter): stepping through the gallery's result, position, info panel, 1:1 zoom and pan, the
card's actions from there, read only in the public gallery. Driven through the real app with Pilot."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from store.importer import ImportOptions, import_files
from store.library import Library
from tui.app import MyImagesApp
from tui.confirm_delete import ConfirmDeleteScreen
from tui.gallery_screen import GalleryScreen
from tui.grid_editor_screen import GridEditorScreen
from tui.help_screen import HelpScreen
from tui.prompt_screen import PromptScreen
from tui.trash_screen import TrashScreen
from tui.viewer_screen import ViewerScreen
from widgets import card_grid
from widgets.key_bar import KeyBar

from .ui import notices, screen_lines, settle, wait_until

PROMPTS = ["diamond sword", "ruby ring", "diamond shield", "health potion", "golden key"]


@pytest.fixture
def lib(tmp_path, make_png):
    """Five images, newest last in PROMPTS order reversed on screen; each of its own size."""
    library = Library(tmp_path / "viewer-lib", account="alice")
    start = datetime(2026, 5, 1, 12, 0)
    for n, prompt in enumerate(PROMPTS):
        import_files(library, [make_png(size=(200 + 40 * n, 100))],
                     ImportOptions(prompt=prompt, model=f"model-{n}", generated_at=start + timedelta(days=n)))
    yield library
    library.close()


def make_app(library, tmp_path):
    return MyImagesApp(library, images="halfcell", downloads=tmp_path / "downloads")


def caption(app) -> str:
    return str(app.screen.query_one("#viewer-caption").render())


def viewer(app) -> ViewerScreen:
    assert isinstance(app.screen, ViewerScreen)
    return app.screen


async def shown(pilot, app, image_id: int, place: str) -> None:
    """Until the view shows image `image_id` (its picture drawn) at `place` ("2 / 5")."""
    await wait_until(pilot, lambda: isinstance(app.screen, ViewerScreen) and app.screen.shown_key is not None
                     and app.screen.shown_key[0] == image_id and caption(app).startswith(place))


async def test_steps_through_the_result_in_its_order_and_filters_with_its_position(lib, tmp_path, monkeypatch):
    monkeypatch.setattr(card_grid, "PAGE_SIZE", 2)  # pages read in a worker as the view steps across them
    ids = lib.ids()  # newest first: the gallery's order
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("enter")
        await shown(pilot, app, ids[0], "1 / 5")
        for key, n in [("right", 1), ("l", 2), ("pagedown", 3), ("left", 2), ("h", 1), ("pageup", 0),
                       ("end", 4), ("right", 4), ("home", 0), ("left", 0)]:
            await pilot.press(key)
            await shown(pilot, app, ids[n], f"{n + 1} / 5")
        assert PROMPTS[-1] in caption(app)
        await pilot.press("right", "right")
        await shown(pilot, app, ids[2], "3 / 5")
        await pilot.press("escape")  # back in the gallery, on the last image viewed
        assert isinstance(app.screen, GalleryScreen) and app.screen.grid.current.id == ids[2]
        # the key bar's entries work with the mouse
        await pilot.press("enter")
        await shown(pilot, app, ids[2], "3 / 5")
        bar = app.screen.query_one(KeyBar)
        assert "→ Next" in bar.text and bar.text.rstrip().endswith("? more")  # 80 columns: not every key fits
        await pilot.press("question_mark")  # the help lists the view's keys
        assert isinstance(app.screen, HelpScreen)
        assert {"Next", "Previous", "1:1", "Info", "Copy path", "Undo delete", "Trash"} <= {
            row.description for row in app.screen.rows}
        await pilot.press("escape")
        await pilot.click(KeyBar, offset=(bar.text.index("→ Next") + 1, 0))
        await shown(pilot, app, ids[3], "4 / 5")
        await pilot.press("escape")
        # a search: the view steps through its matches only
        await pilot.press("slash", *"diamond", "enter")
        await wait_until(pilot, lambda: app.screen.filters.search == "diamond" and app.screen.grid.has_focus)
        await settle(pilot, app)
        matches = [r.id for r in lib.page(app.screen.filters, 0, 10)]
        assert len(matches) == 2
        await pilot.press("home", "enter")
        await shown(pilot, app, matches[0], "1 / 2")
        await pilot.press("right")
        await shown(pilot, app, matches[1], "2 / 2")
        await pilot.press("right")  # the last match: it stays
        await settle(pilot, app)
        await shown(pilot, app, matches[1], "2 / 2")


async def test_info_panel_and_zoom_at_one_to_one_with_pan(lib, tmp_path):
    newest = lib.get(lib.ids()[0])  # 360 × 100
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        await pilot.press("enter")
        await shown(pilot, app, newest.id, "1 / 5")
        view = viewer(app)
        box = view.query_one("#viewer-box").content_size
        picture = view.query_one("#large-image")
        assert picture.size.width == box.width  # fitted: as wide as the box (a wide picture)
        await pilot.press("i")
        await settle(pilot, app)
        panel = view.query_one("#viewer-info")
        assert panel.display and panel.size.width >= 30
        lines = "\n".join(screen_lines(app))
        assert f"#{newest.id}" in lines and "model-4" in lines and "360 × 100 pixels" in lines
        await pilot.press("right")  # the panel follows the image
        await wait_until(pilot, lambda: "model-3" in "\n".join(screen_lines(app)))
        assert view.query_one("#large-image").size.width < box.width  # the box is narrower beside the panel
        await pilot.press("i")
        await settle(pilot, app)
        assert not panel.display
        await pilot.press("left")
        await shown(pilot, app, newest.id, "1 / 5")
        await pilot.press("z")  # 1:1: a half-block cell is 1 pixel wide, 2 high
        await wait_until(pilot, lambda: view.shown_key[3] is True)
        assert "1:1" in caption(app) and "pan" in caption(app)
        picture = view.query_one("#large-image")
        assert (picture.size.width, picture.size.height) == (min(360, box.width), min(50, box.height))
        assert "z Fit" in view.query_one(KeyBar).text
        first = view.centre
        await pilot.press("right")  # pans, does not step
        await wait_until(pilot, lambda: view.shown_key[4] != first)
        assert view.centre[0] > first[0] and view.record.id == newest.id
        await pilot.press("l", "h", "h", "h", "h", "h", "j", "k")
        await settle(pilot, app)
        assert view.centre[0] == pytest.approx(min(360, box.width) / 360 / 2)  # clamped at the left edge
        await pilot.press("escape")  # leaves 1:1 first
        await wait_until(pilot, lambda: view.shown_key[3] is False)
        assert "1:1" not in caption(app)
        await pilot.press("escape")
        assert isinstance(app.screen, GalleryScreen)


async def test_card_actions_from_the_view(lib, tmp_path, monkeypatch):
    sent = []
    monkeypatch.setattr(MyImagesApp, "copy_to_clipboard", lambda app, text: sent.append(text))
    monkeypatch.setattr("pyperclip.copy", lambda text: None)
    ids = lib.ids()
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("space", "right")  # a selection elsewhere: the view's keys act on the image shown
        await pilot.press("enter")
        await shown(pilot, app, ids[1], "2 / 5")
        await pilot.press("f")
        await wait_until(pilot, lambda: "♥" in caption(app))
        assert lib.get(ids[1]).favorite and not lib.get(ids[0]).favorite
        await pilot.press("f")
        await wait_until(pilot, lambda: "♥" not in caption(app))
        assert not lib.get(ids[1]).favorite
        await pilot.press("y")
        await pilot.press("Y")
        assert sent[-2:] == [str(lib.get(ids[1]).path), str(lib.get(ids[1]).path.parent)]
        await pilot.press("s")
        await wait_until(pilot, lambda: any((tmp_path / "downloads").glob(f"{ids[1]}-*.png")))
        assert len(list((tmp_path / "downloads").glob("*.png"))) == 1
        await pilot.press("p")
        assert isinstance(app.screen, PromptScreen) and app.screen.record.id == ids[1]
        await pilot.press("escape")
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, GridEditorScreen))
        assert app.screen.record.id == ids[1]
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ViewerScreen))
        # delete: the question, then the next image (the one after it in the order)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmDeleteScreen) and f"#{ids[1]}" in app.screen.question
        await pilot.click("#delete")
        await shown(pilot, app, ids[2], "2 / 4")
        assert ids[1] not in lib.ids()
        # what the delete's notice offers works here (new-user test item 7): u brings it back, shown again
        await pilot.press("u")
        await shown(pilot, app, ids[1], "2 / 5")
        assert ids[1] in lib.ids()
        await pilot.press("d")
        await pilot.click("#delete")
        await shown(pilot, app, ids[2], "2 / 4")
        await pilot.press("t")  # the trash, over the view; Escape back to the view
        await wait_until(pilot, lambda: isinstance(app.screen, TrashScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ViewerScreen))
        await pilot.press("end")
        await shown(pilot, app, ids[4], "4 / 4")
        await pilot.press("d")
        await pilot.click("#delete")  # the last one: the one before it
        await shown(pilot, app, ids[3], "3 / 3")
        for _ in range(3):
            await pilot.press("d")
            await pilot.click("#delete")
            await settle(pilot, app)
        await wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen))  # none left: the view closes
        assert lib.ids() == []


async def test_public_view_is_read_only(tmp_path, make_png):
    root = tmp_path / "shared"
    carol = Library(root, account="carol")
    import_files(carol, [make_png(size=(64, 64))], ImportOptions(prompt="carol's dragon"))
    dragon = carol.ids()[0]
    bob = Library(root, account="bob")
    app = make_app(bob, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        said = notices(app)
        await settle(pilot, app)
        await pilot.press("v")
        await wait_until(pilot, lambda: getattr(app.screen, "public", False) and app.screen.grid.current is not None)
        await pilot.press("enter")
        await shown(pilot, app, dragon, "1 / 1")
        bar = app.screen.query_one(KeyBar).text
        assert "Favorite" not in bar and "Delete" not in bar
        await pilot.press("f", "d", "b")
        await settle(pilot, app)
        assert isinstance(app.screen, ViewerScreen)
        assert any("read only" in text for text in said)
        assert not carol.get(dragon).favorite and carol.ids() == [dragon]
        await pilot.press("s")  # reading actions work
        await wait_until(pilot, lambda: any((tmp_path / "downloads").glob(f"{dragon}-*.png")))
    bob.close()
    carol.close()


def test_the_view_keys_have_ids_and_descriptions():
    for binding in ViewerScreen.BINDINGS:
        assert binding.id and binding.id.startswith("viewer.") and binding.description
    assert len({b.id for b in ViewerScreen.BINDINGS}) == len(ViewerScreen.BINDINGS)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_info_values_use_the_panels_width_and_a_long_prompt_ends_in_an_ellipsis(tmp_path, make_png, size):
    library = Library(tmp_path / "long-lib", account="alice")
    prompt = "a lighthouse on a cliff at dusk, " * 8 + "THE END"
    import_files(library, [make_png(size=(60, 40))],
                 ImportOptions(prompt=prompt, model="PixelDiffusion XL"))
    app = make_app(library, tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        await pilot.press("enter", "i")
        await wait_until(pilot, lambda: isinstance(app.screen, ViewerScreen) and app.screen.shown_key is not None)
        await settle(pilot, app)
        lines = screen_lines(app)
        assert any("PixelDiffusion XL" in line for line in lines), "\n".join(lines)  # not "PixelDiffu" / "sion XL"
        caption_line = next(line for line in lines if "#1" in line and "lighthouse" in line)
        assert "…" in caption_line and "THE END" not in caption_line, caption_line
    library.close()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_a_picture_not_shown_says_why_and_g_says_so_as_s_does(lib, tmp_path, size):
    """NEWUSER5 §11: the large view of a missing file said "--images none, or the file cannot be read" (the app
    knows which); `g` on it gave the raw "[Errno 2] ... '/path'" where `s` and `b` say "(No such file or directory)"."""
    newest = lib.get(lib.ids()[0])
    newest.path.unlink()
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        shown_notices = notices(app)
        await settle(pilot, app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ViewerScreen) and app.screen.shown_key is not None)
        text = "\n".join(screen_lines(app))
        assert "its file is missing" in text and "--images none" not in text
        await pilot.press("g")
        await wait_until(pilot, lambda: any("cannot be read" in t for t in shown_notices))
        await pilot.press("s")
        await wait_until(pilot, lambda: len([t for t in shown_notices if "cannot be read" in t]) == 2)
        g, s = [t for t in shown_notices if "cannot be read" in t]
        assert g == s and g.endswith(": No such file or directory.") and "Errno" not in g, (g, s)
    app = MyImagesApp(lib, images="none", downloads=tmp_path / "downloads")
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        await pilot.press("down", "enter")  # a file that is there: pictures are off
        await wait_until(pilot, lambda: isinstance(app.screen, ViewerScreen))
        await settle(pilot, app)
        text = "\n".join(screen_lines(app))
        assert "(image not shown: pictures are off, --images none)" in text
