"""Help (`?`, F1): every key of the screen, read from its bindings, and the search syntax; the key bar's `? more`."""
from __future__ import annotations

import pytest
from textual.binding import Binding
from textual.containers import VerticalScroll

from tui.app import MyImagesApp
from tui.gallery_screen import GalleryScreen
from tui.help_screen import HelpScreen
from widgets.card_grid import CardGrid
from widgets.key_bar import KeyBar
from widgets.search_history import SearchInput

from . import ui

SIZES = [(80, 24), (160, 48)]


@pytest.fixture
def lib(small_library):
    return small_library


def make_app(library, tmp_path):
    return MyImagesApp(library, images="none", downloads=tmp_path / "downloads")


def expected_rows(app, screen) -> list[tuple[str, str]]:
    """(keys as shown, description) of every binding of the gallery, its grid, its search box and the app,
    read from the classes' BINDINGS here, independently of the help screen's code."""
    rows = []
    for node_class, namespace in ((GalleryScreen, screen), (CardGrid, None), (SearchInput, None),
                                  (MyImagesApp, None)):
        for binding in node_class.BINDINGS:
            if namespace is not None and namespace.check_action(binding.action, ()) is False:
                continue
            keys = " / ".join(app.get_key_display(Binding(k, "")) for k in binding.key.split(","))
            rows.append((keys, binding.description))
    return rows


async def all_help_lines(pilot, app) -> list[str]:
    """Every line the help shows, scrolled from top to bottom with PageDown."""
    seen: list[str] = []
    body = app.screen.query_one("#help-scroll", VerticalScroll)
    while True:
        seen += ui.screen_lines(app)
        if body.scroll_y >= body.max_scroll_y:
            return seen
        before = body.scroll_y
        await pilot.press("pagedown")
        await ui.wait_until(pilot, lambda before=before: body.scroll_y != before)


@pytest.mark.parametrize("size, public", [((80, 24), False), ((160, 48), True)])
async def test_help_lists_every_binding_of_the_screen(lib, tmp_path, size, public):
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        if public:
            await pilot.press("v")
            await ui.wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen) and app.screen.public)
            await ui.settle(pilot, app)
        gallery = app.screen
        expected = expected_rows(app, gallery)
        await pilot.press("question_mark")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        lines = await all_help_lines(pilot, app)
        for keys, description in expected:
            assert any(keys in line and description in line for line in lines), (keys, description)
        shown = {(row.keys, row.description) for row in app.screen.rows}
        assert set(expected) <= shown
        if public:  # the read-only gallery offers no write keys: the help does not list them
            assert not any(row.action in ("delete", "favorite", "select") for row in app.screen.rows)
        assert any("seed:123" in line for line in lines)  # the search syntax
        await pilot.press("question_mark")  # the same key closes it
        await ui.wait_until(pilot, lambda: app.screen is gallery)


@pytest.mark.parametrize("size", SIZES)
async def test_f1_from_the_search_box_starts_with_the_syntax_and_from_the_grid_with_the_keys(lib, tmp_path, size):
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        await pilot.press("slash", "f1")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        assert "seed:123" in ui.screen_text(app) and "Close" in ui.screen_text(app)
        # a description that wraps goes on in its column (new-user test item 14: at 80x24 under the examples)
        lines = ui.screen_lines(app)
        at = next(i for i, line in enumerate(lines) if "images of a source folder" in line)
        if '"outputs"' not in lines[at]:  # wrapped: the next line's text starts in the description's column
            column, after = lines[at].index("images of a source"), lines[at + 1]
            assert after[column] != " " and not after[column - 8:column].strip(), lines[at:at + 2]
        await pilot.press("escape")
        await ui.wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("escape", "f1")  # from the grid; closed with the mouse
        await ui.wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        assert "Favorite" in ui.screen_text(app)
        await pilot.click("#close")
        await ui.wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))


@pytest.mark.parametrize("size", SIZES)
async def test_key_bar_ends_with_more_when_keys_do_not_fit_and_it_opens_the_help(lib, tmp_path, size):
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        bar = app.screen.query_one(KeyBar)
        text = bar.text
        shown = [b for b in GalleryScreen.BINDINGS if b.show and app.screen.check_action(b.action, ()) is not False]
        assert not all(f" {b.description} " in text for b in shown)  # the gallery has more keys than fit
        assert " ? more " in text and text.rstrip().endswith("palette")
        assert ui.screen_lines(app)[-1].rstrip().endswith("palette") and " ? more " in ui.screen_lines(app)[-1]
        await pilot.click(KeyBar, offset=(text.index(" ? more ") + 2, 0))
        await ui.wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        await ui.wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("slash")  # in the search box every key fits: the help is offered by its name
        await ui.wait_until(pilot, lambda: " f1 Help " in bar.text)
        assert " more " not in bar.text


async def test_help_follows_the_keymap(lib, tmp_path):
    app = make_app(lib, tmp_path)
    app.keymap = {"gallery.favorite": "ctrl+f"}
    async with app.run_test(size=(160, 48)) as pilot:
        app.set_keymap(app.keymap)
        await ui.settle(pilot, app)
        await pilot.press("question_mark")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        favorite = next(row for row in app.screen.rows if row.binding_id == "gallery.favorite")
        assert favorite.keys == "^f"
        assert any("^f" in line and "Favorite" in line for line in ui.screen_lines(app))


@pytest.mark.parametrize("size", SIZES)
async def test_help_marks_a_key_the_keymap_gives_to_two_actions(lib, tmp_path, size):
    """`"gallery.favorite" = "d"` takes d from Delete: both rows say so, beside them (the key marked, the
    clash under what it does); the other rows say nothing."""
    app = make_app(lib, tmp_path)
    app.keymap = {"gallery.favorite": "d"}
    async with app.run_test(size=size) as pilot:
        app.set_keymap(app.keymap)
        await ui.settle(pilot, app)
        await pilot.press("question_mark")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        marked = {row.binding_id: row.conflict for row in app.screen.rows if row.conflict}
        assert marked == {
            "gallery.favorite": "d is also given to gallery.delete in your settings' [keymap]: d runs this one.",
            "gallery.delete": "d is also given to gallery.favorite in your settings' [keymap]: d runs "
                              "gallery.favorite, not this one."}  # NEWUSER5 §7: which one runs (Textual's rule)
        for description, other in (("Favorite", "gallery.delete"), ("Delete", "gallery.favorite")):
            for _ in range(20):  # at 80×24 the list scrolls (↓) to Delete's row
                lines = [" ".join(line.split()) for line in ui.screen_lines(app)]
                at = next((i for i, line in enumerate(lines) if f"d ⚠ {description} " in line), None)
                if at is not None and at + 2 < len(lines) and "⚠ d is" in lines[at + 1] \
                        and other in lines[at + 1] + lines[at + 2]:  # the note wraps at 80×24
                    break
                await pilot.press("down")
                await pilot.pause()
            assert at is not None and "⚠ d is also given to" in lines[at + 1], lines
            assert other in lines[at + 1] or other in lines[at + 2]  # wrapped at 80×24
        assert not any(row.conflict for row in app.screen.rows if row.binding_id not in marked)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
async def test_each_table_of_the_help_is_drawn_at_one_width(lib, tmp_path, size, monkeypatch):
    """Issue 11: the help's tables (most of its first paint) were drawn at the list's width, then again two
    columns narrower once its scroll bar showed; its place is kept from the start now."""
    from widgets.rich_once import RenderedOnce

    widths: dict[int, set[int]] = {}
    real = RenderedOnce._strips

    def strips(self, width, style):
        widths.setdefault(id(self), set()).add(width)
        return real(self, width, style)

    monkeypatch.setattr(RenderedOnce, "_strips", strips)
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        await pilot.press("question_mark")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await ui.settle(pilot, app)
        assert app.screen.query_one("#help-scroll", VerticalScroll).show_vertical_scrollbar
        assert len(widths) >= 4 and all(len(drawn) == 1 for drawn in widths.values()), widths


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
async def test_the_help_opened_again_draws_none_of_its_tables(lib, tmp_path, size, monkeypatch):
    """Issue 11: each help drew its tables of keys and the search syntax again (15-20 ms of its first paint at
    160x48, in a terminal). Drawn lines are kept for what they show (widgets/rich_once.py, a key: the rows), so the
    help opened again over the same screen draws no table; with another keymap, the rows differ and are drawn.
    Fails without (as many tables drawn the second time as the first)."""
    from rich.table import Table

    from widgets.rich_once import forget

    forget()  # (earlier tests' helps)
    drawn: list[int] = []
    real = Table.__rich_console__

    def counted(self, console, options):
        drawn.append(1)
        return real(self, console, options)

    monkeypatch.setattr(Table, "__rich_console__", counted)
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        for time in ("first", "again"):
            drawn.clear()
            await pilot.press("question_mark")
            await ui.wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
            await ui.settle(pilot, app)
            assert len(drawn) >= 4 if time == "first" else drawn == [], (time, len(drawn))
            await pilot.press("escape")
            await ui.wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen))
        app.keymap = {**app.keymap, "gallery.favorite": "F"}  # other keys shown: that table is drawn again
        drawn.clear()
        await pilot.press("question_mark")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await ui.settle(pilot, app)
        assert drawn and "F" in ui.screen_text(app)
