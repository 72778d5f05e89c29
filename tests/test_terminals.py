"""The app in a real terminal: xterm 379 as a VT340 (Sixel graphics) under Xvfb, checked by screenshots.

One X server for the module; one terminal at a time: first an xterm showing the app's Sixel encoding, then
one xterm running the app with `--images sixel` for the other tests (started once: Python's start-up is the
slow part). The tools are installed by `.ci/terminal-tools` when missing.
"""
from __future__ import annotations

import subprocess
import sys

import pytest
from PIL import Image, ImageChops

from store.library import Library
from widgets.graphics_support import PLACEHOLDERS_FROM, kitty_version

from .terminals import GLYPH_EDGE_PIXELS, ROOT, Display, Terminal, app_command, differs, ensure_tools

FONT = ["-fa", "DejaVu Sans Mono", "-fs", "10"]
XTERM_SIXEL = ["xterm", "-ti", "vt340", *FONT]
COLUMNS, ROWS = 100, 30
pytestmark = pytest.mark.xdist_group("terminals")  # with -n 2: one worker, one X server, one terminal


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
    terminal.wait_app()
    # the cards' pictures are read in a worker, then drawn: wait for them, then for the screen to settle
    terminal.wait_for(lambda shot: len(shot.getcolors(1 << 16) or ()) > 100, what="the cards' pictures")
    terminal.wait_still()
    yield terminal
    terminal.close()


def test_sixel_pictures_scroll_nothing_and_keep_their_colours(display, demo_library, tmp_path):
    """The app's Sixel encoding (widgets/sixel_image.py) printed into xterm: a picture whose last pixel row
    reaches into the last line (35 pixels from two rows above it: one pixel in) scrolls nothing; a picture's
    colours are its own. textual-image's own encoding fails both: its last band and graphics new line moved
    xterm's cursor below the last line and the screen scrolled a line; the apple's top band was red."""
    from store.library import Library
    from widgets.sixel_image import encode

    library = Library(demo_library, account="alice")
    apple = next(r for r in library.iter_images(None) if "apple" in r.prompt and "red" in r.prompt)
    library.close()
    picture = Image.open(apple.path).convert("RGB").resize((120, 120), Image.Resampling.NEAREST)
    columns, rows = 40, 12
    # from two rows above the last (as the large view's picture above its caption, when it was the last line):
    # two rows are 34 pixels with DejaVu Sans Mono 10, so 35 reach one pixel into the last line, and the
    # picture ends in the middle of a six-pixel band (picture pixels that reach a whole row further scroll
    # the screen whatever the encoding: xterm puts its cursor below the picture)
    bottom = Image.new("RGB", (40, 35), (0, 90, 200))
    (tmp_path / "show.six").write_text(
        "\x1b[2J\x1b[1;1H\x1b[41m" + " " * 10 + "\x1b[0m"  # a red mark on the first line
        + "\x1b[2;1H" + encode(picture) + f"\x1b[{rows - 2};30H" + encode(bottom))
    script = tmp_path / "show.sh"
    script.write_text(f"cat {tmp_path / 'show.six'}\nexec sleep 600\n")
    terminal = Terminal(display, [*XTERM_SIXEL, "-b", "0", "-geometry", f"{columns}x{rows}", "-e", "sh", str(script)],
                        env={})
    try:
        shot = terminal.wait_still()
        cell_w, cell_h = shot.size[0] // columns, shot.size[1] // rows
        assert cell_h == 17, f"the test expects 17-pixel rows, xterm has {cell_h}"
        red, green, blue = shot.getpixel((4 * cell_w, cell_h // 2))  # xterm's white background if it scrolled
        assert red > 150 and green < 80 and blue < 80, "the first line scrolled away"
        drawn = shot.crop((0, cell_h, 120, cell_h + 120))
        error = sum(map(sum, ImageChops.difference(drawn, picture).getdata())) / (120 * 120 * 3)
        assert error < 8, f"the picture's colours are off by {error:.1f} on average"
    finally:
        terminal.close()


def test_xterm_with_term_xterm_gets_more_than_16_colours(display, demo_library):
    """Debian's xterm says TERM=xterm, which Textual reads as 16 colours (thumbnails in the wrong hues); the app
    knows xterm by XTERM_VERSION and draws with 256. Glyphs are drawn without anti-aliasing, so every pixel
    has one of the colours the app asked for."""
    terminal = Terminal(display, ["xterm", "-fa", "DejaVu Sans Mono:antialias=false", "-fs", "10", "-geometry",
                                  f"{COLUMNS}x{ROWS}", "-e",
                                  *app_command("--library", str(demo_library), "--images", "halfcell")],
                        env={"MYIMAGES_ACCOUNT": "alice"})
    try:
        terminal.wait_app()

        def colours(shot: Image.Image) -> int:
            return len(shot.getcolors(1 << 16) or ())

        # the thumbnails are drawn in a worker: wait for them (16 colours never get there)
        terminal.wait_for(lambda shot: colours(shot) > 40, timeout=15, what="more than 40 colours on screen")
    finally:
        terminal.close()


def test_kitty_older_than_0_28_gets_cells_in_the_large_view(display, demo_library):
    """kitty 0.26 (Debian 12) answers the graphics query but cannot draw textual-image's placeholders: the
    large view was a wall of boxes. The app asks kitty its version and draws half-block cells instead."""
    version = subprocess.run(["kitty", "--version"], capture_output=True, text=True).stdout
    if kitty_version(version.replace(" ", "(", 1).split(" ")[0] + ")") >= PLACEHOLDERS_FROM:  # "kitty 0.26.5 …"
        pytest.skip(f"this kitty draws placeholders ({version.strip()}): nothing to fall back from")
    terminal = Terminal(display, ["kitty", "--config", "NONE", "-o", "font_size=10", "-o",
                                  "initial_window_width=100c", "-o", "initial_window_height=30c",
                                  *app_command("--library", str(demo_library))],
                        env={"MYIMAGES_ACCOUNT": "alice"}, from_root=True)
    try:
        grid = terminal.wait_app()
        terminal.keys("Return")  # the newest image, the red apple, fills the view
        terminal.wait_for(lambda shot: differs(shot, grid, 400), what="the large view")

        def apple_drawn(shot: Image.Image) -> bool:
            """Thousands of apple-red pixels (the screenshot is of the whole screen: where kitty's window
            sits in it, and so its middle, depends on the screen and the font)."""
            small = shot.convert("RGB").resize((shot.width // 4, shot.height // 4), Image.NEAREST)
            red = sum(1 for r, g, b in small.getdata() if r > 150 and g < 100 and b < 100)
            return red * 16 > 5000

        # the picture is read and drawn in a worker; a wall of boxes is never red
        terminal.wait_for(apple_drawn, timeout=15, what="the red apple in the middle of the large view")
    finally:
        terminal.close()


def new_row_drawn(shot: Image.Image) -> bool:
    """The lower half of the window (above the key bar) shows pictures: with the demo's, tens of thousands of
    saturated pixels; the cards' text and borders have hundreds."""
    import numpy as np

    width, height = shot.size
    hsv = np.asarray(shot.crop((0, height // 2, width, height - height // 20)).convert("HSV"))
    return int(((hsv[..., 1] > 100) & (hsv[..., 2] > 80)).sum()) > 10_000


def test_sixel_cards_made_by_a_relayout_show_their_pictures(sixel_app):
    before = sixel_app.wait_still()
    width, height = before.size
    sixel_app.resize(width * 3 // 2, height * 3 // 2)  # 150×45: two more columns and a row of new card slots
    sixel_app.wait_for(lambda shot: shot.size != before.size, what="the larger window")
    # pictures are read and encoded in workers: under load they came more than 3 s after the cards' text, and
    # the screen taken as "after the relayout" still lacked them. Wait for them (a relayout that leaves the new
    # cards blank fails here), then for the screen to settle.
    sixel_app.wait_for(new_row_drawn, what="pictures in the new row of cards")
    grown = sixel_app.wait_still(quiet=3)
    # Moving the cursor away and back draws every card again: nothing may appear that was not there
    sixel_app.keys("Right")
    sixel_app.wait_for(lambda shot: differs(shot, grown), what="the cursor on the next card")
    sixel_app.keys("Left")
    sixel_app.wait_back(grown, "the cards as they were right after the relayout")
    sixel_app.resize(width, height)  # back to the first size for the next test
    sixel_app.wait_for(lambda shot: shot.size == before.size, what="the window at its first size")
    sixel_app.wait_still()


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


def test_sixel_a_late_answer_from_the_terminal_does_nothing(sixel_app):
    """xterm writes what xdotool types as a terminal writes an answer (Escape, then `[?62;c` within Textual's
    escape delay): before, the app took it as keys and `?` opened the help. Nothing opens, nothing is typed,
    in the grid or the search box."""
    def answer() -> None:
        window = sixel_app.window
        sixel_app.display.run("xdotool", "key", "--window", window, "Escape",
                              "type", "--window", window, "--delay", "1", "[?62;c")

    before = sixel_app.wait_still()
    answer()
    assert not differs(sixel_app.wait_still(quiet=1.5), before, GLYPH_EDGE_PIXELS), "the answer did something"
    sixel_app.keys("slash")
    searching = sixel_app.wait_for(lambda shot: differs(shot, before), what="the search box focused")
    searching = sixel_app.wait_still()
    answer()
    typed = sixel_app.wait_still(quiet=1.5)
    assert not differs(typed, searching, 400), "the answer was typed into the search box"  # 400: the cursor
    sixel_app.keys("Escape")
    sixel_app.wait_back(before, "the grid as it was")


@pytest.mark.parametrize("environ, expected", [
    ({"TERM": "xterm", "XTERM_VERSION": "XTerm(379)"}, "256"),
    ({"TERM": "mlterm", "MLTERM": "3.9.3"}, "truecolor"),
    ({"TERM": "xterm-256color", "VTE_VERSION": "7006"}, None),  # Textual reads -256color itself
    ({"TERM": "xterm", "COLORTERM": "truecolor"}, None),
    ({"TERM": "xterm", "XTERM_VERSION": "XTerm(379)", "TEXTUAL_COLOR_SYSTEM": "standard"}, None),  # the user's
    ({"TERM": "vt100"}, None),
])
def test_colours_are_known_from_the_terminals_environment(environ, expected):
    from tui.terminal_colors import detect

    assert detect(environ) == expected


def test_colors_setting_and_its_variable(tmp_path):
    from store import settings

    path = tmp_path / "settings.toml"
    path.write_text('colors = "16"\n')
    assert settings.load({}, path).colors == "16"
    assert settings.load({"MYIMAGES_COLORS": "truecolor"}, path).colors == "truecolor"
    path.write_text('colors = "lots"\n')
    loaded = settings.load({}, path)
    assert loaded.colors == "auto" and '"colors" must be one of auto, 16, 256, truecolor' in loaded.problem


@pytest.mark.parametrize("answer, environ, draws", [
    ("kitty(0.26.5)", {"TERM": "xterm-kitty"}, False),
    ("kitty(0.28.1)", {"TERM": "xterm-kitty"}, True),
    ("kitty(0.35)", {}, True),
    (None, {"TERM": "xterm-kitty"}, False),  # a kitty that does not say its version: not trusted
    ("WezTerm 20240203", {"TERM": "xterm-256color"}, True),  # not kitty: textual-image's choice stands
])
def test_kitty_version_decides_the_kitty_protocol(answer, environ, draws):
    from widgets.graphics_support import kitty_draws_placeholders

    assert kitty_draws_placeholders(answer, environ) is draws


@pytest.mark.parametrize("term, fit, icons", [
    ("linux", True, "plain"), ("dumb", None, "plain"), ("linux-16color", True, "plain"), ("vt220", None, "plain"),
    ("xterm-256color", True, "emoji"), ("xterm-256color", None, "emoji"), ("mlterm", False, "plain"), ("", None, "emoji"),
])
def test_auto_icons_are_plain_where_the_terminal_has_no_emoji(term, fit, icons):
    """NEWUSER7 #21: TERM=linux (the Linux text console, no emoji glyphs) and TERM=dumb got emoji buttons, drawn as
    blanks or diamonds there. Such a TERM is plain without asking the terminal. Fails without (no auto_icons)."""
    from widgets.graphics_support import auto_icons

    asked = []
    assert auto_icons({"TERM": term}, lambda: asked.append(term) or fit) == icons
    assert asked == ([] if term.split("-")[0] in ("linux", "dumb", "vt220") else [term])


def test_mlterm_draws_an_emoji_narrower_so_auto_takes_plain_icons(display, tmp_path):
    """mlterm 3.9 draws 🪄 one cell wide where Textual counts two, which moved card borders; asked with a
    cursor-position question in the real terminal, the app finds it out (and `--icons auto` then shows keys)."""
    answer = tmp_path / "fit.txt"
    probe = tmp_path / "probe.py"
    probe.write_text(f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
                     "from tui.gallery_screen import icon_samples\nfrom widgets.graphics_support import emoji_fit\n"
                     f"open({str(answer)!r}, 'w').write(repr(emoji_fit(icon_samples())))\n"
                     "import time; time.sleep(60)\n")
    terminal = Terminal(display, ["mlterm", "-e", sys.executable, str(probe)], env={})
    try:
        terminal.wait_for(lambda shot: answer.exists() and answer.read_text() != "", timeout=20,
                          what="the probe's answer")
        assert answer.read_text() == "False"
    finally:
        terminal.close()


@pytest.mark.parametrize("keymap, favorite, delete", [
    ({}, "f", "d"),
    # new-user test 11 #4: with `"gallery.favorite" = "ctrl+f"` every card still said f (TERM=linux), a key that did
    # nothing then; each button shows the key that runs it now (fails without: ["f", …, "d", …])
    ({"gallery.favorite": "ctrl+f", "gallery.delete": "x"}, "^f", "x")])
async def test_plain_icons_show_each_buttons_key(tmp_path, keymap, favorite, delete):
    from tui.app import MyImagesApp
    from widgets.card import ImageCard
    from widgets.card_grid import CardGrid

    from store.demo import generate

    from .ui import screen_text

    library = Library(tmp_path / "lib", account="alice")
    generate(library, 3)
    app = MyImagesApp(library, images="halfcell", plain_icons=True)
    app.keymap = keymap
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        cards = [card for card in app.screen.query(ImageCard) if card.record is not None]
        assert cards
        for card in cards:
            assert card.icons == [favorite.upper() if card.record.favorite else favorite, "p", "b", "s", "i", "g",
                                  delete, "a"]
        assert favorite in screen_text(app) or favorite.upper() in screen_text(app)
        current = app.screen.query_one(CardGrid).current
        await pilot.press("ctrl+f" if favorite == "^f" else favorite)  # the key the button shows runs it
        await pilot.pause()
        assert library.get(current.id).favorite != current.favorite
    library.close()



# xterm's default palette: the colours the terminal draws for ANSI blue, magenta, bright blue, bright magenta
XTERM_PURPLES = {(0, 0, 238), (205, 0, 205), (92, 92, 255), (255, 0, 255)}


def test_sixteen_colours_keep_a_pictures_hues(display, tmp_path):
    """With only the 16 ANSI colours (`--colors 16`, or a terminal that says no more), a picture in the crystal
    heart's lavender (180,140,255): Rich's own mapping sent it to light grey (the purple heart was white and
    grey); mapped by hue (widgets/cell_colours.py) it is one of xterm's blues or magentas. Glyphs are drawn
    without anti-aliasing, so every pixel on screen is a palette colour."""
    import numpy as np

    from store.demo import COLOURS
    from store.importer import ImportOptions, import_files

    source = tmp_path / "lavender.png"
    Image.new("RGB", (256, 256), COLOURS["crystal"]).save(source)
    library = Library(tmp_path / "lib", account="alice")
    import_files(library, [source], ImportOptions(prompt="crystal"))
    library.close()
    terminal = Terminal(display, ["xterm", "-fa", "DejaVu Sans Mono:antialias=false", "-fs", "10", "-geometry",
                                  "60x24", "-e", *app_command("--library", str(tmp_path / "lib"), "--images",
                                                              "halfcell", "--colors", "16")],
                        env={"MYIMAGES_ACCOUNT": "alice"})

    def purple_picture(shot: Image.Image) -> bool:
        """A solid block of xterm's blues and magentas, at least 60 pixels each way (the thumbnail)."""
        pixels = np.asarray(shot)
        purple = np.zeros(pixels.shape[:2], bool)
        for colour in XTERM_PURPLES:
            purple |= (pixels == colour).all(axis=-1)
        ys, xs = np.nonzero(purple)
        if len(xs) == 0:
            return False
        box = (xs.max() - xs.min() + 1) * (ys.max() - ys.min() + 1)
        return xs.max() - xs.min() >= 60 and ys.max() - ys.min() >= 60 and len(xs) >= 0.9 * box

    try:
        # the app has started when the screen has more than xterm's two colours (16 colours: wait_app wants 7)
        terminal.wait_for(lambda shot: len(shot.getcolors(64) or range(64)) > 3, timeout=60, what="the app")
        terminal.wait_for(purple_picture, timeout=15, what="the lavender picture in blue or magenta cells")
    finally:
        terminal.close()


@pytest.mark.parametrize("rgb, family", [
    ((180, 140, 255), {12, 13}),  # the crystal heart's lavender: bright blue or bright magenta, never grey
    ((160, 80, 220), {5, 13}),  # amethyst
    ((131, 102, 184), {4, 5, 12, 13}),  # a muted purple (a heart's edge): Rich sent it to grey
    ((135, 206, 235), {6, 14}),  # sky blue: grey in plain distance to Rich's palette
    ((190, 195, 205), {7, 15}),  # greys stay grey (the demo's iron)
    ((60, 90, 70), {8}),  # a dark green-grey background does not become vivid green
    ((245, 245, 245), {15}),
    ((25, 22, 30), {0}),
])
def test_sixteen_colour_mapping_keeps_hue_families(rgb, family):
    import numpy as np

    from widgets.cell_colours import nearest

    assert int(nearest(np.array([rgb]))[0]) in family


LATE_ANSWERS = [
    "\x1b[?62;c",  # kitty's attributes (DA1)
    "\x1b[?63;1;2;4;6;9;15;16;22;28c",  # xterm as a VT340
    "\x1bP>|kitty(0.26.5)\x1b\\",  # name and version (XTVERSION)
    "\x1b_Gi=31;OK\x1b\\",  # Kitty graphics
    "\x1b[6;17;8t",  # cell size in pixels
    "\x1b[?62;c\x1bP>|XTerm(379)\x1b\\\x1b_Gi=31;OK\x1b\\",  # several at once
]


def keys_of(answer: str, at: float) -> list:
    """The events Textual's input parser makes of a terminal's answer, as the app's input thread gets them (the
    parser is Textual's own, not public: a test cannot type bytes otherwise), timed as in a terminal whose answer
    arrives at `at` (time.monotonic()'s scale): the keys the parser makes at once at `at`, those it gives out when it
    gives up on a sequence (a string answer's end) ESCAPE_DELAY later, however long this thread took to make them."""
    import time

    from textual import constants
    from textual._xterm_parser import XTermParser

    parser = XTermParser()
    made = list(parser.feed(answer))
    for event in made:
        event.time = at
    deadline = time.monotonic() + constants.ESCAPE_DELAY + 0.05  # it gives up on an unknown sequence then
    given_up = []
    while time.monotonic() < deadline:
        given_up += list(parser.tick())
        time.sleep(0.01)
    given_up += list(parser.tick())  # past the deadline: whatever it was waiting on is out now
    for event in given_up:
        event.time = at + constants.ESCAPE_DELAY
    return made + given_up


class HeldTimers:
    """`LateReplies`' release timers, run when the test says: the time between two keys is the keys' own (their
    `time`), not how long the test's thread took between them (a pause of 30 ms let a held `[` go as typed)."""

    def __init__(self) -> None:
        self.waiting: list = []

    def __call__(self, delay: float, callback):
        self.waiting.append(callback)
        return lambda: self.waiting.remove(callback) if callback in self.waiting else None

    def run_out(self) -> None:
        """The time the keys held may wait has passed, with nothing more from the terminal."""
        waiting, self.waiting = self.waiting, []
        for callback in waiting:
            callback()


async def test_late_terminal_answers_are_not_typed(small_library):
    """An answer that comes after the app started reached it as keys (`?` opened the help, `i` the info, the
    rest typed into the search box). Fed as Textual's parser makes them, through the filter the app's driver
    puts after its parser (run_test has a driver of its own): the grid and the search box get nothing; keys the
    user types, `[` included, arrive in order."""
    import time

    from textual import events
    from textual.widgets import Input

    from tui.app import MyImagesApp
    from tui.terminal_replies import LateReplies
    from widgets.card_grid import CardGrid

    from . import ui

    start = time.monotonic()
    # fresh events for each round, each answer a second after the one before
    made, made_again = ([keys_of(answer, start + round_ * 10 + n) for n, answer in enumerate(LATE_ANSWERS)]
                        for round_ in range(2))
    assert all(any(getattr(event, "key", "") == "question_mark" for event in keys) for keys in made[:2])
    app = MyImagesApp(small_library, images="halfcell")
    assert app.driver_class.__name__.endswith("LateAnswersDropped")  # the driver it runs with in a terminal
    async with app.run_test(size=(80, 24)) as pilot:
        timers = HeldTimers()
        replies = LateReplies(app.post_message, timers)  # as the driver's input thread
        await ui.settle(pilot, app)
        grid = app.screen.query_one(CardGrid)
        grid.focus()
        await pilot.press("right")
        place, stack = grid.cursor, list(app.screen_stack)
        for event in [event for keys in made for event in keys]:
            replies.process(event)
        await ui.settle(pilot, app)
        assert app.screen_stack == stack, f"{app.screen} opened"
        assert app.focused is grid and grid.cursor == place
        await pilot.press("slash")
        search = app.screen.query_one("#search", Input)
        assert app.focused is search
        for event in [event for keys in made_again for event in keys]:
            replies.process(event)
        await ui.settle(pilot, app)
        assert search.value == "" and not timers.waiting
        assert replies.dropped[-3:] == ["^[?62;c", "^P>|XTerm(379)^\\", "^_Gi=31;OK\\"]
        typed = time.monotonic() + 30
        for character, key in [("[", "left_square_bracket"), ("1", "1"), ("]", "right_square_bracket"),
                               ("x", "x"), ("[", "left_square_bracket")]:
            key_event = events.Key(key, character)
            key_event.time = typed  # pasted: together, as an answer's keys come
            replies.process(key_event)
        await ui.wait_until(pilot, lambda: search.value == "[1]x")
        assert len(timers.waiting) == 1  # the last `[` waits: it may begin an answer
        timers.run_out()
        await ui.wait_until(pilot, lambda: search.value == "[1]x[")


def test_a_lone_bracket_goes_on_as_typed_after_a_moment():
    """The real timer (a thread) lets a `[` that nothing followed go on, BURST seconds later."""
    import threading

    from textual import events

    from tui.terminal_replies import LateReplies

    sent: list = []
    arrived = threading.Event()

    def send(message) -> None:
        sent.append(message)
        arrived.set()

    replies = LateReplies(send)
    replies.process(events.Key("left_square_bracket", "["))
    assert arrived.wait(timeout=20)  # however busy the machine: its coming is what is tested, not when
    assert [message.character for message in sent] == ["["]


async def test_a_tooltip_goes_when_the_pointer_leaves_the_window(small_library, monkeypatch):
    """Terminals say nothing when the pointer leaves their window: a card button's tooltip and highlight stayed
    (seen in xterm). They go when the terminal loses the focus, and when the pointer has not moved for a few
    seconds (tui/pointer.py; shortened here)."""
    from textual import events

    import tui.pointer
    from tui.app import MyImagesApp
    from widgets.card import ImageCard

    from . import ui

    monkeypatch.setattr(tui.pointer, "POINTER_IDLE", 1.5)  # the tooltip shows after 0.5 s
    app = MyImagesApp(small_library, images="halfcell")
    async with app.run_test(size=(80, 24), tooltips=True) as pilot:
        await ui.settle(pilot, app)
        card = next(card for card in app.screen.query(ImageCard) if card.record is not None)
        tooltip = app.screen.query_one("#textual-tooltip")
        async def hover_the_button() -> None:
            # as the terminal reports it (Pilot's hover goes around the app's own handling of moves)
            x, y = card.region.offset + card.action_offset("favorite")
            app.post_message(events.MouseMove(None, x, y, 0, 0, 0, False, False, False, screen_x=x, screen_y=y))
            await ui.wait_until(pilot, lambda: card.tooltip is not None and tooltip.display)

        await hover_the_button()
        await ui.wait_until(pilot, lambda: card.tooltip is None and not tooltip.display, timeout=3)
        await hover_the_button()
        app.post_message(events.AppBlur())  # the terminal's focus report: another window has the focus
        await ui.wait_until(pilot, lambda: card.tooltip is None and not tooltip.display, timeout=1)


@pytest.mark.parametrize("answer, grid_kitty", [
    ("kitty(0.28.1)", True),  # seen clean in every scenario, the grid included
    ("kitty(0.35.2)", True),
    ("kitty(0.26.5)", False),  # Debian 12's: a wall of boxes
    (None, False),  # a terminal that does not say its version is not trusted with the grid
    ("WezTerm 20240203-110809-5046fc22", False),  # answers the Kitty query, not verified here
    ("XTerm(379)", False),
])
def test_auto_shows_kitty_pictures_in_the_grid_only_on_kitty_0_28_or_later(answer, grid_kitty, monkeypatch):
    """The XTVERSION answer decides the grid's pictures with `--images auto` where textual-image found the Kitty
    protocol: kitty 0.28+ gets real pixels (TGPImage), everything else half-block cells."""
    import widgets.thumbnails as thumbnails
    from widgets.graphics_support import kitty_in_the_grid

    monkeypatch.setattr(thumbnails, "AUTO_GRID_KITTY", kitty_in_the_grid(answer))
    expected = thumbnails.TGPImage if grid_kitty else thumbnails.CachedHalfcellImage
    assert thumbnails.grid_image_class("auto") is expected
    assert thumbnails.grid_image_class("halfcell") is thumbnails.CachedHalfcellImage  # forced choices stand
    assert thumbnails.grid_image_class("kitty") is thumbnails.TGPImage


async def test_sixel_pictures_are_encoded_off_the_ui_thread_and_kept(monkeypatch):
    """Encoding a card's picture took 15-160 ms on the UI thread, again at every page: scrolling a Sixel grid
    stalled the app (old text, blank pictures, for a second). It is done on a worker thread; a second widget
    showing the same picture at the same size uses what was encoded."""
    import threading

    from textual.app import App

    import widgets.sixel_image as sixel_image

    threads = []
    real = sixel_image.encode

    def encode(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(sixel_image, "encode", encode)
    picture = Image.new("RGB", (64, 64), (200, 40, 40))

    class Pictures(App):
        CSS = "CleanSixelImage { width: 20; height: 10; }"

        def compose(self):
            yield sixel_image.CleanSixelImage(picture, id="first")

    app = Pictures()
    async with app.run_test(size=(60, 24)) as pilot:
        from . import ui

        await ui.wait_until(pilot, lambda: threads)
        await app.workers.wait_for_complete()
        assert threading.main_thread() not in threads
        await app.mount(sixel_image.CleanSixelImage(picture, id="second"))
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert len(threads) == 1, "the same picture at the same size was encoded again"


@pytest.mark.parametrize("text, complete", [
    ("[?62;c", True), ("[6;17;8t", True), ("[?2026;2$y", True), ("^[?62;c", True),
    ("^P>|kitty(0.26.5)\\", True), ("^_Gi=31;OK\\", True), ("^]11;rgb:0000/0000/0000\x07", True),
    ("[?62;", None), ("^P>|kitty", None), ("[", None),
    ("[1]", False), ("[a", False), ("[]", False), ("^x", False), ("[?c", False),  # typed or pasted text
])
def test_what_counts_as_a_terminal_answer(text, complete):
    from tui.terminal_replies import is_complete

    assert is_complete(text) is complete
