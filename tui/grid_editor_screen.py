"""The grid editor: cut a generated sheet into its items.

The sheet is shown with the cut lines over it; the focused cell is shown large
beside it, as it will be saved (trimmed, its background removed). A click on the
sheet focuses a cell (even the focused one), a second click on it selects or unselects it. Rows and columns start at the detected grid and can be changed.
Selected cells are saved to the library as derived images, or downloaded.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw
from rich.text import Text
from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Static
from textual.worker import get_current_worker

from store import grid as grid_cut
from store.derived import open_original
from store.errors import StoreError
from store.library import Library
from store.records import ImageRecord
from store.settings import default_downloads
from store.text import plural
from widgets.workers import work
from widgets.lru import LRU
from widgets.thumbnails import (CachedHalfcellImage, PictureWidget, cell_console, fit_cells, grid_image_class,
                                on_checkerboard)

from .dialog import Dialog
from .following import error_text
from .help_screen import keys_of
from .progress_screen import JobOutcome, ProgressScreen

PREVIEW_PIXELS = 320
CELL_PREVIEWS_KEPT = 32  # focused cells trimmed or cleaned for the preview, kept to come back to at once
LINE = (255, 0, 200)
FOCUS = (255, 220, 0)
CHOSEN = (40, 220, 90)
READ_ONLY_NOTICE = 3  # seconds: the save key pressed again and again where saving is refused is answered once


@dataclass
class GridEditorResult:
    saved_ids: list[int]
    written: list[Path]


class SheetView(Container, can_focus=True):
    """The focusable area holding the sheet preview."""

    DEFAULT_CSS = """
    SheetView { width: 1fr; height: 1fr; align: center middle; border: round $panel-lighten-2; }
    SheetView:focus { border: round $accent; }
    """


class DigitsInput(Input):
    """A number field that takes digits only: any other letter goes on to the editor's keys (s saves, w
    downloads, …), as if the sheet had the focus, instead of being refused without a word."""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return character is not None and character.isdigit()

    def on_key(self, event: events.Key) -> None:
        if event.is_printable and not (event.character or "").isdigit():
            event.prevent_default()  # not typed here (Input's own handler would refuse it and stop it): it bubbles


def editor_binding(binding_id: str) -> Binding:
    return next(b for b in GridEditorScreen.BINDINGS if isinstance(b, Binding) and b.id == binding_id)


def editor_key(app: App, binding_id: str) -> str:
    """The first key of one of the editor's bindings as the user's keymap has it, as shown ("Esc", "?"); "" if
    the keymap leaves it none."""
    keys = keys_of(app, editor_binding(binding_id))
    if not keys:
        return ""
    return "Esc" if keys[0] == "escape" else app.get_key_display(Binding(keys[0], ""))


class GridEditorScreen(Dialog[GridEditorResult | None]):
    HELP_TITLE = "Grid editor"
    BINDINGS = [
        Binding("escape", "close", "Close", tooltip="Close (in the Rows or Columns field: back to the sheet)",
                id="grid.close"),
        Binding("question_mark,f1", "app.help", "Help", show=False, id="grid.help"),
        Binding("up,k", "move(0,-1)", "Up", show=False, id="grid.up"),
        Binding("down,j", "move(0,1)", "Down", show=False, id="grid.down"),
        Binding("left,h", "move(-1,0)", "Left", show=False, id="grid.left"),
        Binding("right,l", "move(1,0)", "Right", show=False, id="grid.right"),
        Binding("space", "toggle_cell", "Select", id="grid.toggle"),
        Binding("a", "select_all", "Select all", id="grid.select_all"),
        Binding("r", "rows(1)", "Rows +", id="grid.rows_more"),
        Binding("R", "rows(-1)", "Rows −", id="grid.rows_fewer"),
        Binding("c", "cols(1)", "Columns +", id="grid.cols_more"),
        Binding("C", "cols(-1)", "Columns −", id="grid.cols_fewer"),
        Binding("t", "toggle_option('trim')", "Trim", id="grid.trim"),
        Binding("b", "toggle_option('clean')", "Remove background", id="grid.clean"),
        Binding("s", "save", "Save to library", id="grid.save"),
        Binding("w", "download", "Download", id="grid.download"),
    ]

    def __init__(self, library: Library, record: ImageRecord, image_mode: str, downloads: Path,
                 *, save_refused: str = "") -> None:
        """`save_refused`: why the items may not be saved to the library (another account's image in the public
        gallery, a read-only library), said when the save key is pressed; "" where saving is allowed."""
        super().__init__()
        self.library = library
        self.record = record
        self.image_mode = image_mode
        self.downloads = downloads
        self.save_refused = save_refused
        self.can_save = not save_refused
        self._refusal_said = -float(READ_ONLY_NOTICE)  # when the save key was last answered (time.monotonic)
        self._waiting_said = -float(READ_ONLY_NOTICE)  # when a key pressed before the grid was shown was answered
        self._held: list[tuple[str, str | None]] = []  # other keys typed before the grid was shown (`on_key`)
        # Read, detected and shrunk once, in a worker (`load_sheet`); until then the editor says "Detecting…".
        self.sheet: Image.Image | None = None
        self.detected: grid_cut.Layout | None = None
        self.cut_layout: grid_cut.Layout | None = None
        self.focus_cell = (0, 0)
        self._clicked: tuple[int, int] | None = None  # the cell clicked last (a second click selects it)
        self.selected: set[tuple[int, int]] = set()
        self.preview_base: Image.Image | None = None
        self.scale = (1.0, 1.0)
        # (box, trim, clean) -> picture, filled by the drawing workers
        self._cell_previews: LRU[tuple, Image.Image] = LRU(CELL_PREVIEWS_KEPT)
        # The side panel (the cell, the fields, the options, the buttons) is mounted a frame after the rest: the
        # dialog in one frame was a stall of 80-95 ms (issue 11), in two it is two of 40-50. A sheet read before
        # it is there waits for it (`_sheet_ready`).
        self._side_mounted = False
        self._waiting_sheet: tuple | None = None

    def compose(self) -> ComposeResult:
        image_class = grid_image_class(self.image_mode)
        with Vertical(classes="dialog", id="grid-dialog"):
            yield Static(Text(f"Grid editor — image #{self.record.id} ({self.record.width}×{self.record.height})"),
                         classes="title")
            with Horizontal(id="grid-body"):
                with SheetView(id="sheet"):
                    if image_class:
                        yield image_class(None, id="sheet-image")
                yield Vertical(id="grid-side")
            yield Static(self.hint(), classes="hint", markup=False)

    def key(self, binding_id: str) -> str:
        return editor_key(self.app, binding_id)

    def hint(self) -> str:
        """The keys under the sheet, from the bindings (a keymap's keys shown); Save only where it may save."""
        moves = [self.key(f"grid.{way}") for way in ("up", "down", "left", "right")]
        parts = ["arrows" if moves == ["↑", "↓", "←", "→"] else "/".join(moves), "or a click move"], \
            [self.key("grid.toggle"), "or a second click selects"], [self.key("grid.select_all"), "all"], \
            [f"{self.key('grid.rows_more')}/{self.key('grid.rows_fewer')}", "rows"], \
            [f"{self.key('grid.cols_more')}/{self.key('grid.cols_fewer')}", "columns"], \
            [self.key("grid.save") if self.can_save else "", "save"], [self.key("grid.download"), "download"], \
            [self.key("grid.help"), "keys"], [self.key("grid.close"), "close"]
        return " · ".join(f"{key} {what}" for key, what in parts if key.strip("/"))

    def _side_panel(self) -> list:
        image_class = grid_image_class(self.image_mode)
        cell_box = Container(*([image_class(None, id="cell-image")] if image_class else []), id="cell-box")
        size = Horizontal(Label("Rows"), DigitsInput("", id="rows", type="integer", max_length=2),
                          Label("Columns"), DigitsInput("", id="cols", type="integer", max_length=2), classes="grid-size")
        buttons = Horizontal(*([Button("Save to library", id="save", variant="primary")] if self.can_save else []),
                             Button("Download", id="download"), Button("Close", id="close"), classes="buttons")
        return [Static("", id="cell-title"), cell_box, size, Static("Detecting the grid…", id="detected"),
                Checkbox(self._with_key("Trim to content", "grid.trim"), id="trim"),
                Checkbox(self._with_key("Remove background", "grid.clean"), id="clean"),
                Static("", id="chosen"), buttons]

    def _with_key(self, label: str, binding_id: str) -> Text:
        key = self.key(binding_id)
        return Text(f"{label} ({key})" if key else label)

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#sheet", SheetView))
        self.call_after_refresh(self._mount_side)
        self.load_sheet()

    async def _mount_side(self) -> None:
        if not self.is_attached:
            return  # closed at once
        await self.query_one("#grid-side").mount_all(self._side_panel())
        self.call_after_refresh(self._side_laid_out)

    def _side_laid_out(self) -> None:
        """The panel is there and laid out (the cell's box has its size): the sheet can be shown; unless the editor
        closed meanwhile, its panel gone with it (fuzz seed 11: NoMatches '#rows')."""
        if not self.query("#rows"):
            return
        self._side_mounted = True
        if self._waiting_sheet is not None:
            self._sheet_ready(*self._waiting_sheet)

    @work(thread=True, exclusive=True, group="sheet", exit_on_error=False)
    def load_sheet(self) -> None:
        """Read the sheet, detect its grid (a few hundred ms on 2048²) and shrink the preview: once, off the UI thread."""
        try:
            sheet = open_original(self.library, self.record.id)
            detected = grid_cut.detect(sheet)
        except StoreError as exc:
            self.app.call_from_thread(self._load_failed, exc)
            return
        preview = sheet.copy()
        preview.thumbnail((PREVIEW_PIXELS, PREVIEW_PIXELS))
        base = on_checkerboard(preview.convert("RGBA")) if preview.mode == "RGBA" else preview.convert("RGB")
        self.app.call_from_thread(self._sheet_ready, sheet, detected, base,
                                  (preview.width / sheet.width, preview.height / sheet.height))

    def _load_failed(self, exc: StoreError) -> None:
        self.notify(error_text(exc), title="Not done", severity="error", markup=False, timeout=12)
        self.dismiss(None)

    def _sheet_ready(self, sheet: Image.Image, detected: grid_cut.Layout, base: Image.Image, scale) -> None:
        if not self._side_mounted:
            self._waiting_sheet = (sheet, detected, base, scale)
            return
        self.sheet, self.detected, self.cut_layout = sheet, detected, detected
        self.preview_base, self.scale = base, scale
        self.selected = set(detected.cells)
        typed = {name: self._typed(name) for name in ("#rows", "#cols")}
        for name, value in (("#rows", detected.rows), ("#cols", detected.cols)):
            field = self.query_one(name, Input)
            if typed[name] is None:  # a number typed while the grid was being detected stays (Tab 3 at once)
                with field.prevent(Input.Changed):
                    field.value = str(value)
        self.query_one("#detected", Static).update(f"Detected: {detected.rows} × {detected.cols}")
        self.redraw()
        if typed["#rows"] is not None or typed["#cols"] is not None:
            self.set_layout(typed["#rows"] or detected.rows, typed["#cols"] or detected.cols)
        held, self._held = self._held, []
        for key, character in held:  # typed meanwhile (`g`, Tab, 3 at once): now, in their order
            self.app.post_message(events.Key(key, character))

    def _typed(self, name: str) -> int | None:
        """The rows or columns typed in a field before the grid was shown, if it is a number the editor takes."""
        value = self.query_one(name, Input).value
        return int(value) if value.isdigit() and 1 <= int(value) <= grid_cut.MAX_CELLS else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.sheet is None and action not in ("close", "stop"):
            return False  # still reading the sheet (Esc and Ctrl+C close it)
        return action != "save" or self.can_save  # the help leaves Save out where it may not save

    def on_key(self, event: events.Key) -> None:
        """The save key where saving is refused (not bound then: check_action) says why, once for a burst; so do
        the editor's keys while the grid is still being detected (`g` then `r r c s` at once: the four keys went
        nowhere, silently, and the detected grid was saved by nobody: NEWUSER13 #10). Other keys typed meanwhile
        (`g`, Tab, 3 at once) wait for the grid, then go where they were typed (NEWUSER14)."""
        if self.sheet is None and event.key in self._waiting_keys():
            event.stop()
            now = time.monotonic()
            if now - self._waiting_said > READ_ONLY_NOTICE:
                self.notify("Still detecting the grid: try that key again once the cells are shown.",
                            severity="warning", timeout=READ_ONLY_NOTICE)
            self._waiting_said = now
            return
        if self.sheet is None and event.key not in self._closing_keys():
            event.stop()  # Tab, digits…: they go where they were typed once the fields show the grid (`_sheet_ready`)
            event.prevent_default()
            self._held.append((event.key, event.character))
            return
        if not self.can_save and event.key in keys_of(self.app, editor_binding("grid.save")):
            event.stop()
            self._say_save_refused()

    def _closing_keys(self) -> set[str]:
        """The keys of Close, Help and the dialogs' Ctrl+C: they act at once, the grid detected or not."""
        return {key for klass in type(self).__mro__ for binding in vars(klass).get("BINDINGS", ())
                if isinstance(binding, Binding) and binding.id in ("grid.close", "grid.help", "dialog.stop")
                for key in keys_of(self.app, binding)}

    def _waiting_keys(self) -> set[str]:
        """The keys of the editor's actions that need the sheet (all but Close and Help)."""
        return {key for binding in self.BINDINGS if isinstance(binding, Binding)
                and binding.id not in ("grid.close", "grid.help") for key in keys_of(self.app, binding)}

    def _say_save_refused(self) -> None:
        now = time.monotonic()
        if now - self._refusal_said > READ_ONLY_NOTICE:
            self.notify(self.save_refused, severity="warning", timeout=READ_ONLY_NOTICE, markup=False)
        self._refusal_said = now

    def on_resize(self) -> None:
        self.call_after_refresh(self.redraw)

    @property
    def _layout(self) -> grid_cut.Layout:
        """The grid the cells are cut in: there once the sheet is read (`check_action` lets no key through
        before, and nothing draws)."""
        assert self.cut_layout is not None
        return self.cut_layout

    @property
    def _sheet(self) -> Image.Image:
        """The sheet, read (see `_layout`)."""
        assert self.sheet is not None
        return self.sheet

    # -- drawing -----------------------------------------------------------

    def preview_picture(self) -> Image.Image:
        assert self.preview_base is not None  # made with the layout (see `_layout`)
        picture = self.preview_base.copy().convert("RGB")
        overlay = Image.new("RGBA", picture.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        sx, sy = self.scale
        for row, col in self._layout.cells:
            left, top, right, bottom = self._layout.box(row, col)
            box = (left * sx, top * sy, right * sx - 1, bottom * sy - 1)
            if (row, col) in self.selected:
                draw.rectangle(box, fill=CHOSEN + (60,))
            draw.rectangle(box, outline=LINE + (255,), width=1)
        left, top, right, bottom = self._layout.box(*self.focus_cell)
        draw.rectangle((left * sx, top * sy, right * sx - 1, bottom * sy - 1), outline=FOCUS + (255,), width=3)
        picture.paste(overlay, (0, 0), overlay)
        return picture

    def redraw(self) -> None:
        if self.sheet is None:
            return
        row, col = self.focus_cell
        mark = "selected" if self.focus_cell in self.selected else "not selected"
        done = [name for name, box in (("trimmed", "#trim"), ("background removed", "#clean"))
                if self.query_one(box, Checkbox).value]
        self.query_one("#cell-title", Static).update(f"Cell {row + 1},{col + 1} ({mark})" +
                                                     (f" · as saved: {', '.join(done)}" if done else ""))
        self.query_one("#chosen", Static).update(
            f"{len(self.selected):,} of {self._layout.rows * self._layout.cols:,} cells selected")
        if self.query("#sheet-image"):
            self.draw_pictures(self.query_one("#sheet").content_size, self.query_one("#cell-box").content_size,
                               self.cut_layout, self.focus_cell, self.query_one("#trim", Checkbox).value,
                               self.query_one("#clean", Checkbox).value)

    @work(thread=True, exclusive=True, group="redraw", exit_on_error=False)
    def draw_pictures(self, sheet_box, cell_box, layout: grid_cut.Layout, focus: tuple[int, int], trimmed: bool,
                      cleaned: bool) -> None:
        """Draw the sheet with its cut lines, then the focused cell as it will be saved (trimmed, its background
        removed: rembg, a second or more), off the UI thread (each key redraws them); as half-block cells, their
        lines too. A cell trimmed or cleaned once is kept, so coming back to it is at once."""
        worker = get_current_worker()
        self._draw_into(worker, "#sheet-image", self.preview_picture(), sheet_box)
        if worker.is_cancelled:
            return
        cell = self._cell_preview(layout, focus, trimmed, cleaned)
        self._draw_into(worker, "#cell-image", on_checkerboard(cell.convert("RGBA")), cell_box)

    def _cell_preview(self, layout: grid_cut.Layout, focus: tuple[int, int], trimmed: bool,
                      cleaned: bool) -> Image.Image:
        key = (layout.box(*focus), trimmed, cleaned)
        kept = self._cell_previews.get(key)
        if kept is not None:
            return kept
        cell = grid_cut.cut_cell(self._sheet, layout, *focus, trimmed=trimmed, cleaned=cleaned)
        cell.thumbnail((PREVIEW_PIXELS, PREVIEW_PIXELS))
        self._cell_previews.put(key, cell)
        return cell

    def _draw_into(self, worker, selector: str, picture: Image.Image, box) -> None:
        size = fit_cells(box.width, box.height, picture.width, picture.height) \
            if box.width > 0 and box.height > 0 else None
        strips = None
        if size and issubclass(grid_image_class(self.image_mode), CachedHalfcellImage):
            strips = CachedHalfcellImage.render_strips(cell_console(), picture, *size)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show_picture, worker, selector, (picture, size, strips))

    def _show_picture(self, worker, selector: str, drawn) -> None:
        if worker.is_cancelled or not self.is_attached:
            return  # a newer drawing is on its way
        picture, size, strips = drawn
        for widget in self.query(selector):  # the picture widget of the mode: each takes these
            if not isinstance(widget, (CachedHalfcellImage, PictureWidget)):
                continue
            widget.image = picture
            if strips and isinstance(widget, CachedHalfcellImage):  # strips are drawn for it alone (`_draw_into`)
                widget.prepare(strips)
            elif size:
                widget.styles.width, widget.styles.height = size

    # -- editing -----------------------------------------------------------

    def set_layout(self, rows: int, cols: int) -> None:
        if self.sheet is None:
            return
        try:
            layout = grid_cut.layout_for(self.sheet, rows, cols, found=self.detected)
        except StoreError as exc:  # (once while it is shown: `r r r` on a 1x1 picture said it thrice, NEWUSER14 #6)
            self.app.say_failure(str(exc), "Not done", "warning")  # type: ignore[attr-defined]
            return
        changed = (layout.rows, layout.cols) != (self._layout.rows, self._layout.cols)
        self.cut_layout = layout
        if changed:
            self.selected = set(layout.cells)
            self.focus_cell = (min(self.focus_cell[0], rows - 1), min(self.focus_cell[1], cols - 1))
        for name, value in (("#rows", rows), ("#cols", cols)):
            field = self.query_one(name, Input)
            if field.value != str(value):
                with field.prevent(Input.Changed):
                    field.value = str(value)
        self.redraw()

    @on(Input.Changed, "#rows, #cols")
    def _size_typed(self, event: Input.Changed) -> None:
        try:
            rows = int(self.query_one("#rows", Input).value)
            cols = int(self.query_one("#cols", Input).value)
        except ValueError:
            return  # half-typed: wait for a number
        if 1 <= rows <= grid_cut.MAX_CELLS and 1 <= cols <= grid_cut.MAX_CELLS:
            self.set_layout(rows, cols)

    @on(Input.Submitted, "#rows, #cols")
    def _size_done(self) -> None:
        self.set_focus(self.query_one("#sheet", SheetView))  # at once: the next key acts on the sheet

    @on(Input.Blurred, "#rows, #cols")
    def _size_left(self) -> None:
        """Leaving a field shows the grid's rows and columns (a number out of range or half-typed goes back),
        from their first digit."""
        if self.cut_layout is None:
            return
        for name, value, what in (("#rows", self._layout.rows, "Rows"), ("#cols", self._layout.cols, "Columns")):
            field = self.query_one(name, Input)
            if field.has_focus:  # the field Tab went to, maybe typed in already (Tab 3 Tab 5 at once): left as it is,
                continue  # its text selected as Tab made it, the next digit replacing it; checked when it is left
            if field.value != str(value):
                self.notify(f"{what}: a number from 1 to {grid_cut.MAX_CELLS}; {field.value or 'nothing'} was "
                            f"typed, {value} kept.", title="Grid", severity="warning", markup=False)
                with field.prevent(Input.Changed):
                    field.value = str(value)
            field.cursor_position = 0
            field.scroll_to(0, 0, animate=False)

    @on(Checkbox.Changed, "#trim, #clean")
    def _option_changed(self) -> None:
        self.redraw()  # the focused cell as it will be saved

    def on_click(self, event: events.Click) -> None:
        """A click on the sheet focuses the cell under it; a click on the focused cell selects or unselects it."""
        if self.sheet is None or not self.query("#sheet-image"):
            return
        region = self.query_one("#sheet-image").region
        if not region.contains(event.screen_x, event.screen_y):
            return
        x = (event.screen_x - region.x + 0.5) / region.width * self.sheet.width
        y = (event.screen_y - region.y + 0.5) / region.height * self.sheet.height
        layout = self._layout

        def distance(cell: tuple[int, int]) -> float:
            left, top, right, bottom = layout.box(*cell)
            return max(left - x, 0, x - right) ** 2 + max(top - y, 0, y - bottom) ** 2

        cell = min(layout.cells, key=distance)  # the cell under it (or, between spans, the nearest)
        self.set_focus(self.query_one("#sheet", SheetView))
        if cell == self.focus_cell and self._clicked == cell:  # a second click on it
            self.action_toggle_cell()
        else:  # a first click only goes there, even on the focused cell: nothing is unselected by surprise
            self._clicked = cell
            self.focus_cell = cell
            self.redraw()

    def action_rows(self, delta: int) -> None:
        self.set_layout(self._bounded(self._layout.rows + delta, "row"), self._layout.cols)

    def action_cols(self, delta: int) -> None:
        self.set_layout(self._layout.rows, self._bounded(self._layout.cols + delta, "column"))

    def _bounded(self, wanted: int, what: str) -> int:
        """`wanted` rows or columns kept from 1 to MAX_CELLS; past either end it says so (`c` pressed at 16 columns
        did nothing and said nothing, where typing 17 was told the bounds: NEWUSER13 #6)."""
        if 1 <= wanted <= grid_cut.MAX_CELLS:
            return wanted
        self.notify(f"At most {grid_cut.MAX_CELLS} {what}s." if wanted > 1 else f"At least 1 {what}.",
                    severity="warning", timeout=3)
        return max(1, min(grid_cut.MAX_CELLS, wanted))

    def action_move(self, dx: int, dy: int) -> None:
        self._clicked = None
        row, col = self.focus_cell
        self.focus_cell = (max(0, min(self._layout.rows - 1, row + dy)), max(0, min(self._layout.cols - 1, col + dx)))
        self.redraw()

    def action_toggle_cell(self) -> None:
        self.selected ^= {self.focus_cell}
        self.redraw()

    def action_select_all(self) -> None:
        every = set(self._layout.cells)
        self.selected = set() if self.selected == every else every
        self.redraw()

    def action_toggle_option(self, name: str) -> None:
        box = self.query_one(f"#{name}", Checkbox)
        box.value = not box.value

    # -- doing -------------------------------------------------------------

    def _run(self, save: bool) -> None:
        if self.sheet is None:
            return
        if not self.selected:
            self.notify("Select at least one cell (space, or a for all).", severity="warning")
            return
        cells = sorted(self.selected)
        trimmed = self.query_one("#trim", Checkbox).value
        cleaned = self.query_one("#clean", Checkbox).value
        layout, image_id = self.cut_layout, self.record.id
        folder = None if save else self.downloads

        def job(progress, cancelled):
            return grid_cut.cut(self.library, image_id, layout, cells, trimmed=trimmed, cleaned=cleaned,
                                save=save, folder=folder, parents=folder == default_downloads(), cancelled=cancelled,
                                progress=lambda done, total: progress(done, total, "cells"))

        def finished(outcome: JobOutcome | None) -> None:
            if outcome is None:
                return
            if outcome.error is not None:
                self.notify(error_text(outcome.error), title="Not done", severity="error", markup=False)
                return
            result = outcome.result
            if save:
                self.notify(result.saved_summary(), markup=False)
                self.dismiss(GridEditorResult(result.saved_ids, []))
            else:
                where = result.written[0].parent if result.written else self.downloads
                self.notify(f"Downloaded {plural(len(result.written), 'item')} to {where}", markup=False)

        title = "Saving items to the library" if save else "Downloading items"
        self.app.push_screen(ProgressScreen(title, job, total=len(cells)), finished)

    def action_save(self) -> None:
        if self.can_save:
            self._run(save=True)
        else:
            self._say_save_refused()

    def action_download(self) -> None:
        self._run(save=False)

    def action_close(self) -> None:
        """Esc (or Ctrl+C) in the Rows or Columns field leaves the field for the sheet, as Enter does: a number typed
        there is the grid already, anything else is said and put back (`_size_left`); a second Esc closes the editor.
        It closed the editor at once (NEWUSER13: a user who meant "leave the field" lost the editor)."""
        if isinstance(self.focused, DigitsInput):
            self.set_focus(self.query_one("#sheet", SheetView))
            return
        super().action_close()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"save": self.action_save, "download": self.action_download, "close": self.action_close}[event.button.id or ""]()
