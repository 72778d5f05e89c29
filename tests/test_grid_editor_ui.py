"""The grid editor with the mouse and its fields (issue 15): a click focuses a cell, a second click selects it;
the rows and columns fields show their value after editing; the focused cell is previewed trimmed and with its
background removed, drawn in a worker."""
from __future__ import annotations

import threading

import pytest
from textual.widgets import Input

from store.demo import iter_layout_sheets
from store.importer import ImportOptions, import_files
from store.library import Library
from tui.app import MyImagesApp
from tui.grid_editor_screen import GridEditorScreen

from .ui import notices, screen_lines, settle, wait_until


@pytest.fixture
def sheet_library(tmp_path):
    library = Library(tmp_path / "sheets", account="alice")
    path = tmp_path / "sheet.png"
    list(iter_layout_sheets(size=256))[1].image.save(path)  # 2x2 items
    import_files(library, [path], ImportOptions(prompt="four items"))
    yield library
    library.close()


async def open_editor(pilot, app) -> GridEditorScreen:
    await settle(pilot, app)
    await pilot.press("g")
    await wait_until(pilot, lambda: isinstance(app.screen, GridEditorScreen) and app.screen.sheet is not None)
    await settle(pilot, app)
    return app.screen


def cell_centre(editor: GridEditorScreen, row: int, col: int) -> tuple[int, int]:
    """Where cell (row, col) of the sheet is on the screen."""
    region = editor.query_one("#sheet-image").region
    left, top, right, bottom = editor.cut_layout.box(row, col)
    sheet = editor.sheet
    return (region.x + int((left + right) / 2 / sheet.width * region.width),
            region.y + int((top + bottom) / 2 / sheet.height * region.height))


def cell_picture(editor: GridEditorScreen) -> bytes:
    return editor.query_one("#cell-image").image.tobytes()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_click_focuses_then_selects_and_the_fields_show_their_value(sheet_library, tmp_path, size):
    app = MyImagesApp(sheet_library, images="halfcell", downloads=tmp_path / "downloads")
    async with app.run_test(size=size) as pilot:
        editor = await open_editor(pilot, app)
        assert editor.selected == {(0, 0), (0, 1), (1, 0), (1, 1)} and editor.focus_cell == (0, 0)
        await pilot.click(offset=cell_centre(editor, 1, 1))  # focuses it, selection as it was
        assert editor.focus_cell == (1, 1) and len(editor.selected) == 4
        await pilot.click(offset=cell_centre(editor, 1, 1))  # the focused cell again: unselects it
        assert editor.selected == {(0, 0), (0, 1), (1, 0)}
        await pilot.click(offset=cell_centre(editor, 0, 1))
        await pilot.click(offset=cell_centre(editor, 1, 1))
        await pilot.click(offset=cell_centre(editor, 1, 1))
        assert editor.focus_cell == (1, 1) and (1, 1) in editor.selected
        await trimmed_preview(pilot, editor)
        rows = editor.query_one("#rows", Input)
        await pilot.click("#rows")
        await pilot.press("end", "backspace", "3", "enter")
        assert editor.cut_layout.rows == 3 and rows.value == "3"
        await settle(pilot, app)
        assert any("Rows" in line and " 3 " in line for line in screen_lines(app))  # shown, not scrolled away
        shown = notices(app)
        await pilot.click("#cols")
        await pilot.press("end", "backspace", "0", "tab")  # out of range: the field goes back to the grid's value
        await settle(pilot, app)
        assert editor.cut_layout.cols == 2 and editor.query_one("#cols", Input).value == "2"
        assert shown == ["Columns: a number from 1 to 16; 0 was typed, 2 kept."], shown  # said, not silent
        assert any("Rows" in line and " 3 " in line and " 2 " in line for line in screen_lines(app))
        await pilot.click("#rows")
        await pilot.press("end", "backspace", "9", "9", "enter")
        await settle(pilot, app)
        # each digit applies as typed: 9 rows, then 99 is refused and said
        assert editor.cut_layout.rows == 9 and shown[-1] == "Rows: a number from 1 to 16; 99 was typed, 9 kept."


async def test_first_click_on_the_focused_cell_keeps_it_and_letters_act_from_the_number_fields(sheet_library,
                                                                                                  tmp_path):
    """NEWUSER5 #4: a first click on the cell that has the focus only goes there (it used to unselect it); after
    a click in Rows, `w` downloads (the field takes digits only, and used to swallow every letter)."""
    app = MyImagesApp(sheet_library, images="halfcell", downloads=tmp_path / "downloads")
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_editor(pilot, app)
        assert editor.focus_cell == (0, 0) and len(editor.selected) == 4
        await pilot.click(offset=cell_centre(editor, 0, 0))
        assert editor.focus_cell == (0, 0) and len(editor.selected) == 4  # still selected
        await pilot.click("#rows")
        await pilot.press("w")
        await wait_until(pilot, lambda: len(list((tmp_path / "downloads").glob("*.png"))) == 4)
        assert app.screen is editor and editor.query_one("#rows", Input).value == "2"  # nothing typed into it
        await pilot.click("#cols")
        await pilot.press("end", "backspace", "3")  # digits still go into the field
        await settle(pilot, app)
        assert editor.cut_layout.cols == 3


async def trimmed_preview(pilot, editor: GridEditorScreen) -> None:
    """t: the focused cell is shown trimmed, as it will be saved."""
    editor.set_focus(editor.query_one("#sheet"))
    plain = editor.query_one("#cell-image").image.size
    await pilot.press("t")
    await wait_until(pilot, lambda: editor.query_one("#cell-image").image.size != plain)
    trimmed = editor.query_one("#cell-image").image.size
    assert trimmed[0] < plain[0] and trimmed[1] < plain[1]  # the item and a small margin
    assert "as saved: trimmed" in str(editor.query_one("#cell-title").render())


@pytest.mark.slow  # rembg's model loads and runs on two cells: half a minute on a loaded machine
async def test_focused_cell_is_previewed_trimmed_and_cleaned(sheet_library, tmp_path):
    app = MyImagesApp(sheet_library, images="halfcell", downloads=tmp_path / "downloads")
    async with app.run_test(size=(160, 48)) as pilot:
        editor = await open_editor(pilot, app)
        await trimmed_preview(pilot, editor)
        before = cell_picture(editor)
        await pilot.press("b")  # rembg, in the drawing worker
        await wait_until(pilot, lambda: cell_picture(editor) != before, timeout=60)
        assert "trimmed, background removed" in str(editor.query_one("#cell-title").render())
        await pilot.press("right")
        await wait_until(pilot, lambda: cell_picture(editor) != before, timeout=60)
        await pilot.press("left")  # kept: at once
        await settle(pilot, app)
        assert editor.focus_cell == (0, 0)


async def test_a_sheet_read_before_the_side_panel_is_there_is_shown_once_it_is(sheet_library, tmp_path, monkeypatch):
    """The side panel is mounted a frame after the dialog (one long frame was a stall: issue 11); a sheet read
    before it is there waits for it, then fills its fields and draws its cell as in the usual order."""
    app = MyImagesApp(sheet_library, images="halfcell", downloads=tmp_path / "downloads")
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_editor(pilot, app)
        usual = cell_picture(editor)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, GridEditorScreen))

        original = GridEditorScreen._mount_side
        waited = []

        async def after_the_sheet(self) -> None:  # the panel is mounted only once the sheet has been read
            if self._waiting_sheet is None and not waited:
                self.set_timer(0.02, lambda: after_the_sheet(self))
                return
            waited.append(self._waiting_sheet is not None)
            await original(self)

        monkeypatch.setattr(GridEditorScreen, "_mount_side", after_the_sheet)
        shown = notices(app)
        editor = await open_editor(pilot, app)
        assert shown == [] and all(w.error is None for w in app.workers)  # nothing asked of a panel not there
        assert waited == [True]
        assert editor.query_one("#rows", Input).value == "2" == editor.query_one("#cols", Input).value
        assert "Detected: 2 × 2" in str(editor.query_one("#detected").render())
        assert cell_picture(editor) == usual
        await pilot.press("r")
        assert editor.query_one("#rows", Input).value == "3" and len(editor.selected) == 6


@pytest.mark.parametrize("key", ["question_mark", "f1"])
async def test_question_mark_and_f1_open_the_keys_of_the_grid_editor_and_the_hint_follows_the_keymap(
        sheet_library, tmp_path, key):
    """NEWUSER7 #13: ? and F1 did nothing in the grid editor (a dialog: the app's own ? does not reach it), and
    its hint under the sheet was fixed text, a remapped key shown nowhere."""
    from tui.help_screen import HelpScreen

    app = MyImagesApp(sheet_library, images="halfcell", downloads=tmp_path / "downloads")
    app.keymap = {"grid.save": "ctrl+s"}
    async with app.run_test(size=(80, 24)) as pilot:
        app.set_keymap(app.keymap)
        editor = await open_editor(pilot, app)
        text = " ".join(" ".join(screen_lines(app)).split())
        assert "^s save" in text and " s save" not in text and "? keys" in text and "Esc close" in text
        await pilot.press(key)
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        help_screen = app.screen
        assert help_screen.title_text == "Keys: Grid editor"
        save = next(row for row in help_screen.rows if row.binding_id == "grid.save")
        assert save.keys == "^s" and save.description == "Save to library"
        await pilot.press("end")
        await wait_until(pilot, lambda: any("Save to library" in line for line in screen_lines(app)))
        assert any("^s" in line and "Save to library" in line for line in screen_lines(app))
        await pilot.press(key)  # the same key closes it, back in the editor
        await wait_until(pilot, lambda: app.screen is editor)


@pytest.mark.parametrize("opener, title", [("p", "Keys: Prompt"), ("i", "Keys: Image information")])
async def test_question_mark_opens_the_keys_of_the_prompt_and_info_dialogs(sheet_library, tmp_path, opener, title):
    """NEWUSER7 #13: the prompt (p) and info (i) dialogs ignored ? and F1 too."""
    from tui.help_screen import HelpScreen

    app = MyImagesApp(sheet_library, images="none", downloads=tmp_path / "downloads")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press(opener)
        await wait_until(pilot, lambda: type(app.screen).__name__ in ("PromptScreen", "InfoScreen"))
        dialog = app.screen
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert app.screen.title_text == title
        assert any(row.description == "Close" for row in app.screen.rows)
        await pilot.press("f1")
        await wait_until(pilot, lambda: app.screen is dialog)


async def test_public_gallery_editor_offers_no_save_and_its_key_says_why(sheet_library, tmp_path):
    """NEWUSER7 #16: on another account's sheet in the public gallery the hint still said "s save" and `s` did
    nothing, silently. Now the hint and the help leave Save out and `s` says why, once for a burst of presses."""
    from tui.gallery_screen import GalleryScreen
    from tui.help_screen import HelpScreen

    carol = Library(sheet_library.root, account="carol")
    path = tmp_path / "carol-sheet.png"
    list(iter_layout_sheets(size=256))[2].image.save(path)
    import_files(carol, [path], ImportOptions(prompt="carol's items"))
    totals = (sheet_library.total(), carol.total())
    app = MyImagesApp(sheet_library, images="halfcell", downloads=tmp_path / "downloads")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("v", "slash", *"carol", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen) and app.screen.public
                         and app.screen.grid.current is not None and "carol" in app.screen.grid.current.prompt)
        editor = await open_editor(pilot, app)
        assert editor.record.prompt == "carol's items" and not editor.query("#save")
        text = " ".join(" ".join(screen_lines(app)).split())
        assert "w download" in text and "save ·" not in text, text
        shown = notices(app)
        await pilot.press("s", "s", "s")
        await settle(pilot, app)
        assert shown == ["The public gallery is read only: w downloads the items."]
        assert app.screen is editor and (sheet_library.total(), carol.total()) == totals
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert not any(row.binding_id == "grid.save" for row in app.screen.rows)
    carol.close()


async def test_rows_and_columns_keys_past_their_bounds_say_so_and_one_download_is_one_item(sheet_library, tmp_path):
    """NEWUSER13 #6: `c` pressed at 16 columns (or `R` at 1 row) did nothing and said nothing, where typing 17 in
    the field was told the bounds; a download of one cell said "Downloaded 1 items"."""
    app = MyImagesApp(sheet_library, images="halfcell", downloads=tmp_path / "downloads")
    said = notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_editor(pilot, app)
        await pilot.press("R", "R")  # 2 rows, then 1, then the bound
        await settle(pilot, app)
        assert editor.cut_layout.rows == 1 and said == ["At least 1 row."], said
        await pilot.press(*["c"] * 15)
        await settle(pilot, app)
        assert editor.cut_layout.cols == 16 and said[1:] == ["At most 16 columns."], said
        await pilot.press(*["C"] * 15)  # back to 1 column: one cell, the whole picture, selected
        await settle(pilot, app)
        assert (editor.cut_layout.rows, editor.cut_layout.cols) == (1, 1) and editor.selected == {(0, 0)}
        await pilot.press("w")
        await wait_until(pilot, lambda: any(n.startswith("Downloaded") for n in said))
        assert f"Downloaded 1 item to {tmp_path / 'downloads'}" in said, said


async def test_a_cut_refused_again_and_again_is_said_once(tmp_path, make_png):
    """NEWUSER14 #6: on a 1x1 picture, `r r r c c` stacked five notices, three of them the same sentence."""
    library = Library(tmp_path / "tiny", account="alice")
    import_files(library, [make_png(size=(1, 1))], ImportOptions(prompt="one pixel"))
    app = MyImagesApp(library, images="halfcell", downloads=tmp_path / "downloads")
    said = notices(app)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await open_editor(pilot, app)
            await pilot.press("r", "r", "r", "c", "c")
            await settle(pilot, app)
            assert said == ["This image is 1×1 pixels: it cannot be cut into 2 rows and 1 column.",
                            "This image is 1×1 pixels: it cannot be cut into 1 row and 2 columns."], said
    finally:
        library.close()


def detection_held(monkeypatch) -> threading.Event:
    """The grid's detection waits for the event returned (set it to let it go on): under way while keys come,
    however fast the machine."""
    from store import grid as grid_cut

    gate = threading.Event()
    detect = grid_cut.detect

    def slow_detect(sheet):
        assert gate.wait(20)
        return detect(sheet)

    monkeypatch.setattr(grid_cut, "detect", slow_detect)
    return gate


async def test_keys_typed_while_the_grid_is_detected_are_answered(sheet_library, tmp_path, monkeypatch):
    """NEWUSER13 #10: `g` then `r r c s` at once on a 4000×4000 sheet: the keys came while the grid was being
    detected and went nowhere, without a word (the editor then showed the detected 4 × 4, nothing saved). They are
    answered, once for the burst; once the cells are shown the keys act."""
    gate = detection_held(monkeypatch)
    app = MyImagesApp(sheet_library, images="halfcell", downloads=tmp_path / "downloads")
    said = notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, GridEditorScreen))
        editor = app.screen
        await pilot.press("r", "r", "c", "s")
        assert said == ["Still detecting the grid: try that key again once the cells are shown."], said
        gate.set()
        await wait_until(pilot, lambda: editor.sheet is not None)
        await settle(pilot, app)
        await pilot.press("r")
        assert editor.cut_layout.rows == 3


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_esc_in_a_field_leaves_the_field_and_a_second_esc_closes_the_editor(sheet_library, tmp_path, size):
    """NEWUSER13: Esc typed in the Rows or Columns field closed the whole editor (a user who meant "leave the
    field" lost it). Esc there now leaves the field for the sheet, as Enter does, keeping what was typed (a number
    out of range is said and put back, as when the field is left otherwise); a second Esc closes. Ctrl+C does
    what Esc does."""
    app = MyImagesApp(sheet_library, images="halfcell", downloads=tmp_path / "downloads")
    async with app.run_test(size=size) as pilot:
        editor = await open_editor(pilot, app)
        sheet = editor.query_one("#sheet")
        await pilot.click("#rows")
        await pilot.press("end", "backspace", "3", "escape")
        await wait_until(pilot, lambda: app.focused is sheet)
        assert app.screen is editor and editor.cut_layout.rows == 3  # the edit kept
        shown = notices(app)
        await pilot.click("#cols")
        await pilot.press("end", "backspace", "0", "ctrl+c")  # out of range: said and put back, the editor open
        await wait_until(pilot, lambda: app.focused is sheet)
        assert app.screen is editor and editor.query_one("#cols", Input).value == "2"
        assert shown == ["Columns: a number from 1 to 16; 0 was typed, 2 kept."], shown
        await pilot.press("escape")  # from the sheet: closes
        await wait_until(pilot, lambda: not isinstance(app.screen, GridEditorScreen))


async def test_ctrl_c_closes_the_editor_while_it_detects_the_grid(sheet_library, tmp_path, monkeypatch):
    """Ctrl+C, like Esc, closes the editor before the grid is detected (every other key waits for the cells)."""
    from tui import grid_editor_screen

    started, go_on = threading.Event(), threading.Event()
    detect = grid_editor_screen.grid_cut.detect

    def slow_detect(sheet):
        started.set()
        go_on.wait(10)
        return detect(sheet)

    monkeypatch.setattr(grid_editor_screen.grid_cut, "detect", slow_detect)
    app = MyImagesApp(sheet_library, images="halfcell", downloads=tmp_path / "downloads")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, GridEditorScreen) and started.is_set())
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: not isinstance(app.screen, GridEditorScreen))
        go_on.set()
        await settle(pilot, app)
@pytest.mark.parametrize("typing", ["before-the-fields", "in-the-field"])
async def test_rows_typed_while_the_grid_is_detected_are_kept(sheet_library, tmp_path, monkeypatch, typing):
    """NEWUSER14: `g`, Tab, 3 at once (fast typing, a laggy link; in tmux at 160x48) while the grid was being
    detected: the Tab and the 3 came before the Rows field was there and went nowhere, or the 3 went into the still
    empty field and the detected 2 × 2 was written over it, without a word. The keys wait for the grid, then go where
    they were typed: Tab 3 Tab 5 Enter gives 3 × 5; a 3 typed into Rows stays, Columns shows the detected value."""
    from textual import events

    from .ui import keys_dealt_with

    gate = detection_held(monkeypatch)
    mount_side, not_mounted = GridEditorScreen._mount_side, []

    async def side_held(self) -> None:  # the side panel (the fields) comes after the keys
        not_mounted.append(self)

    if typing == "before-the-fields":
        monkeypatch.setattr(GridEditorScreen, "_mount_side", side_held)
    app = MyImagesApp(sheet_library, images="halfcell", downloads=tmp_path / "downloads")
    said = notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, GridEditorScreen)
                         and bool(not_mounted or app.screen.query("#rows")))
        editor = app.screen
        if typing == "before-the-fields":
            for key, character in (("tab", None), ("3", "3"), ("tab", None), ("5", "5"), ("enter", None)):  # queued at once
                app.post_message(events.Key(key, character))
            await keys_dealt_with(pilot, app)  # (not `settle`: it waits for the detection, held back here)
            await pilot.pause()
            assert not editor.query("#rows")
            await mount_side(editor)
        else:  # the focus in the field (a click), 3 typed into it
            editor.query_one("#rows", Input).focus()
            await pilot.press("3")
            assert editor.query_one("#rows", Input).value == "3"
        gate.set()
        await wait_until(pilot, lambda: editor.sheet is not None or said, 5)
        assert not said, said
        await settle(pilot, app)
        await wait_until(pilot, lambda: editor.query_one("#rows", Input).value == "3")
        await keys_dealt_with(pilot, app)
        await settle(pilot, app)
        if typing == "before-the-fields":  # Tab 3 Tab 5 Enter: the grid, then back to the sheet
            assert (editor.cut_layout.rows, editor.cut_layout.cols) == (3, 5), said
            assert editor.query_one("#cols", Input).value == "5" and len(editor.selected) == 15
            assert app.focused is editor.query_one("#sheet") and not said, said
        else:
            assert app.focused is editor.query_one("#rows", Input)
            assert (editor.cut_layout.rows, editor.cut_layout.cols) == (3, 2)
            assert editor.query_one("#cols", Input).value == "2" and len(editor.selected) == 6


async def test_tab_from_rows_to_columns_replaces_the_columns(sheet_library, tmp_path):
    """NEWUSER14: Tab, 3, Tab, 5 (at any speed): the 5 went before the 4 already in Columns ("54 was typed, 4 kept"):
    leaving Rows put the cursor of both fields at their start, which undid the selection Tab had made in Columns.
    The field Tab goes to keeps its text selected, as the first one does: 5 replaces it."""
    app = MyImagesApp(sheet_library, images="halfcell", downloads=tmp_path / "downloads")
    said = notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_editor(pilot, app)
        await pilot.press("tab", "3", "tab", "5", "enter")
        await settle(pilot, app)
        assert (editor.cut_layout.rows, editor.cut_layout.cols) == (3, 5), said
        assert editor.query_one("#rows", Input).value == "3" and editor.query_one("#cols", Input).value == "5"
        assert not said, said


async def test_leaving_rows_leaves_columns_typed_in_already_alone(sheet_library, tmp_path):
    """NEWUSER14: Tab 3 Tab 5 Enter at once: Rows' blur was handled after the 5 was typed into Columns but before
    Columns' change was, and took the 5 for a wrong number: "Columns: a number from 1 to 16; 5 was typed, 2 kept."
    (in tmux one burst in three; in the test above under load). The field with the focus is left to its own blur."""
    app = MyImagesApp(sheet_library, images="halfcell", downloads=tmp_path / "downloads")
    said = notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_editor(pilot, app)
        columns = editor.query_one("#cols", Input)
        columns.focus()
        await pilot.pause()
        with columns.prevent(Input.Changed):  # typed, its change not handled yet…
            columns.value = "5"
        editor._size_left()  # …when Rows' blur is
        columns.post_message(Input.Changed(columns, "5"))  # the change, handled next
        await pilot.press("enter")  # then Columns left
        await settle(pilot, app)
        assert (editor.cut_layout.rows, editor.cut_layout.cols) == (2, 5) and not said, said
