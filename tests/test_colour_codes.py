"""Issue 11: a picture's colour codes are made where its lines are drawn (a worker), not by the paint
(widgets/colour_codes.py)."""
from __future__ import annotations

import threading

import pytest
from rich.style import Style
from textual.strip import Strip

from store.library import Library
from tui.app import MyImagesApp
from tui.viewer_screen import ViewerScreen

from . import ui
from .test_dialogs import gradient_library
from .ui import settle, wait_until


def codes_made_by_the_paint(monkeypatch) -> list[Style]:
    """The app's console true colour (set before the app is made); from now on, every picture cell's style the paint
    finds without its codes (`Strip.render_style` makes them then), one item each."""
    monkeypatch.setenv("COLORTERM", "truecolor")  # (read as the app's console is made)
    made_here: list[Style] = []
    render_style = Strip.render_style.__func__  # type: ignore[attr-defined]

    def counted(cls, style, text, color_system):
        if style._ansi is None and style == Style.from_color(style.color, style.bgcolor) \
                and style.color is not None and style.color.triplet is not None \
                and style.bgcolor is not None and style.bgcolor.triplet is not None:
            assert threading.current_thread() is threading.main_thread()
            made_here.append(style)
        return render_style(cls, style, text, color_system)

    monkeypatch.setattr(Strip, "render_style", classmethod(counted))
    return made_here


def app_in_a_terminal(tmp_path, pictures: int) -> tuple[MyImagesApp, Library]:
    """The app on a library of so many gradient pictures, writing to a true-colour terminal (`ui.TerminalCopy`)."""
    library = gradient_library(tmp_path, pictures, size=(320, 240))
    app = MyImagesApp(library, images="halfcell", downloads=tmp_path / "downloads")
    app.driver_class = ui.TerminalCopy
    return app, library


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_a_large_pictures_colour_codes_are_made_off_the_ui_thread(tmp_path, monkeypatch, size):
    """In a terminal, Textual turns each update into escape sequences on the UI thread, and a style drawn the first
    time gets its colour codes made then. A large picture in half-block cells is thousands of new styles (the large
    view's 7,000 at 160x48: some 25 ms of its paint in a true-colour terminal, never seen headless). Now the worker
    that draws a large picture's lines makes them. The app writes to a terminal here (`TerminalCopy`, true colour):
    the paint of the large view finds the codes of its cells made (a cell: two true colours and nothing else; the
    screen's own styles, labels and blanks, are Textual's business). Fails without (400-1,600 cells' codes made by
    the paint). The thumbnails': see the two tests below."""
    made_here = codes_made_by_the_paint(monkeypatch)
    app, library = app_in_a_terminal(tmp_path, 6)
    try:
        async with app.run_test(size=size, headless=False) as pilot:
            assert app.console.color_system == "truecolor"
            await settle(pilot, app)
            terminal = ui.TerminalCopy.running
            await wait_until(pilot, lambda: "▀" in "".join(terminal.lines()))  # thumbnails written to the terminal
            made_here.clear()
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, ViewerScreen))
            await settle(pilot, app)
            await wait_until(pilot, lambda: sum(line.count("▀") for line in terminal.lines()) > size[0] * size[1] // 3)
            assert len(made_here) < 50, len(made_here)
    finally:
        library.close()


def test_a_thumbnail_drawn_ahead_has_its_colour_codes_made_one_on_screen_not(tmp_path):
    """The thumbnail worker makes the codes of the thumbnails it draws a page ahead (a PageDown's paint on a million
    images then makes none: 20-35 ms of it), not of those the screen waits for (End with small cards waited for
    them: 99 -> 106-143 ms). Fails without (no codes made ahead)."""
    from PIL import Image

    from widgets.colour_codes import use_output
    from widgets.thumbnail_cache import ThumbnailStrips

    path = tmp_path / "g.png"
    Image.merge("RGB", (Image.linear_gradient("L"), Image.radial_gradient("L"), Image.new("L", (256, 256), 90))).save(path)
    use_output("truecolor")
    try:
        strips = ThumbnailStrips()
        on_screen = strips.make((path, 12, 6))
        ahead = strips.make((path, 14, 7), codes=True)
        styles = [style for line in on_screen for _, style, _ in line]
        assert styles and all(style._ansi is None for style in styles)
        styles = [style for line in ahead for _, style, _ in line]
        assert styles and all(style._ansi for style in styles)
    finally:
        use_output(None)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_a_new_card_sizes_thumbnails_have_their_codes_made_before_it_is_shown(tmp_path, monkeypatch, size):
    """A change of card size draws the thumbnails the new size shows in a worker before its cards are laid out
    (widgets/card_grid.py, `set_card_size`); that worker makes their codes too, so the frame that shows the 40
    small cards at 160x48 does not (on a million images it was the longest stall left: 46-55 ms, 8 of it the
    codes). Fails without (the paint made 480 cells' codes at 80x24, 2,016 at 160x48)."""
    import widgets.card_grid

    # the worker draws for 50 ms at most before the switch, the rest after it as any thumbnail (codes by the
    # paint): under load, 50 ms did not draw them all (1 run in 5-7 failed). What is tested is what it draws.
    monkeypatch.setattr(widgets.card_grid, "THUMBNAILS_TOLD_AFTER", 30.0)
    made_here = codes_made_by_the_paint(monkeypatch)
    app, library = app_in_a_terminal(tmp_path, 40)
    try:
        async with app.run_test(size=size, headless=False) as pilot:
            from widgets.card import ImageCard

            await settle(pilot, app)
            terminal = ui.TerminalCopy.running
            await wait_until(pilot, lambda: "▀" in "".join(terminal.lines()))
            shown = [card for card in app.screen.query(ImageCard) if card.display and card.record is not None]
            made_here.clear()
            await pilot.press("minus")
            await wait_until(pilot, lambda: app.screen.grid.card_size == "small")
            await settle(pilot, app)
            small = [card for card in app.screen.query(ImageCard) if card.display and card.record is not None]
            assert len(small) > len(shown)
            await wait_until(pilot, lambda: all(card.thumbnail_key is None for card in small))
            await settle(pilot, app)
            assert len(made_here) < 50, len(made_here)
    finally:
        library.close()
