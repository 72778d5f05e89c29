"""The app in a real terminal: xterm 379 as a VT340 (Sixel graphics) under Xvfb, checked by screenshots.

One X server for the module and one xterm running the app with `--images sixel` for the first tests (started
once: Python's start-up is the slow part). The tools are installed by `.ci/terminal-tools` when missing.
"""
from __future__ import annotations

import sys

import pytest
from PIL import Image

from store.library import Library

from .terminals import Display, Terminal, app_command, difference_box, differs, ensure_tools

FONT = ["-fa", "DejaVu Sans Mono", "-fs", "10"]
XTERM_SIXEL = ["xterm", "-ti", "vt340", *FONT]
COLUMNS, ROWS = 100, 30


@pytest.fixture(scope="module")
def display():
    ensure_tools()
    display = Display()
    yield display
    display.close()


@pytest.fixture(scope="module")
def demo_library(tmp_path_factory):
    from store.demo import generate

    root = tmp_path_factory.mktemp("terminals") / "lib"
    library = Library(root, account="alice")
    generate(library, 9)
    library.close()
    return root


@pytest.fixture(scope="module")
def sixel_app(display, demo_library):
    """xterm as a VT340 running the app with Sixel pictures in the grid, at 100×30, settled on its first screen."""
    terminal = Terminal(display, [*XTERM_SIXEL, "-geometry", f"{COLUMNS}x{ROWS}", "-e",
                                  *app_command("--library", str(demo_library), "--images", "sixel")],
                        env={"MYIMAGES_ACCOUNT": "alice"})
    terminal.first = terminal.wait_app()
    yield terminal
    terminal.close()


def open_and_close(app: Terminal, before: Image.Image, key: str) -> None:
    app.keys(key)
    app.wait_for(lambda shot: differs(shot, before), what=f"the modal opened by {key}")
    app.wait_still()
    app.keys("Escape")
    # back to exactly the picture from before: no line of the modal left anywhere
    app.wait_back(before, f"the screen from before {key}")


# info, prompt, delete, collections, command palette, grid editor, search help, sources, large view
MODAL_KEYS = ["i", "p", "d", "a", "ctrl+p", "g", "F1", "w", "Return"]


def test_sixel_closing_a_modal_leaves_nothing_of_it(sixel_app):
    before = sixel_app.wait_still()
    for key in MODAL_KEYS:
        open_and_close(sixel_app, before, key)


def caption_rows(shot: Image.Image) -> list[int]:
    """Pixel rows whose left edge has the colour of the large view's caption (the window's bottom-left pixel)."""
    width, height = shot.size
    caption = shot.getpixel((3, height - 4))
    return [y for y in range(height) if shot.getpixel((3, y)) == caption]


def test_sixel_large_view_does_not_scroll_the_screen(sixel_app):
    before = sixel_app.wait_still()
    sixel_app.keys("Return")
    sixel_app.wait_for(lambda shot: differs(shot, before), what="the large view")
    shot = sixel_app.wait_still()
    rows = caption_rows(shot)
    row_height = shot.size[1] // ROWS
    # the caption once, on the last row; a scrolled screen shows it twice (and cuts the picture's top row)
    assert len(rows) <= row_height and rows[0] >= shot.size[1] - row_height - 4, \
        f"caption drawn on pixel rows {rows[0]}..{rows[-1]}: the screen scrolled"
    sixel_app.keys("Escape")
    sixel_app.wait_back(before, "the grid again")


def test_sixel_cards_made_by_a_relayout_show_their_pictures(sixel_app):
    before = sixel_app.wait_still()
    width, height = before.size
    sixel_app.resize(width * 3 // 2, height * 3 // 2)  # 150×45: two more columns and a row of new card slots
    sixel_app.wait_for(lambda shot: shot.size != before.size, what="the larger window")
    grown = sixel_app.wait_still(quiet=1.5)  # pictures are read in a worker, then encoded: let it all arrive
    # Moving the cursor away and back draws every card again: nothing may appear that was not there
    sixel_app.keys("Right")
    sixel_app.wait_for(lambda shot: differs(shot, grown), what="the cursor on the next card")
    sixel_app.keys("Left")
    sixel_app.wait_back(grown, "the cards as they were right after the relayout")
    sixel_app.resize(width, height)
    sixel_app.wait_back(before, "the window at its first size")
