"""The large view: one image fitted to the terminal (or at 1:1, panned), drawn with the best protocol the
terminal has, stepping through the gallery's current result in its order.

The view follows the gallery's grid: ←/→ move the grid's cursor and the view shows the image under it, so a
result of 100,000 images costs what the grid costs (a page of records read in a worker when needed), and the
gallery is left on the last image viewed. Pictures are read and drawn in a worker; the last few drawn are
kept, and the next one is drawn ahead while the user looks at this one.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical, VerticalScroll
from textual.widgets import Static
from textual.worker import get_current_worker

from store.errors import StoreError
from store.records import ImageRecord
from store.text import field_value, one_line, plural, shown
from widgets.workers import work
from widgets.key_bar import KeyBar
from widgets.lru import LRU
from widgets.thumbnails import (
    PICTURES_OFF,
    CachedHalfcellImage,
    PictureWidget,
    cell_console,
    cell_pixels,
    fit_cells,
    large_draws_cells,
    large_image_class,
    load_full_picture,
    load_picture,
    why_not_shown,
    zoom_window,
)

from .dialog import Dialog
from .help_screen import own_bindings

if TYPE_CHECKING:
    from .gallery_screen import GalleryScreen

LARGE_PIXELS = 1024
DRAWN_KEPT = 6  # pictures drawn for the view kept in memory (stepping back and forth is instant)
PAN_STEP = 0.25  # of the visible part, per arrow key while zoomed
WRITE_ACTIONS = {"favorite", "delete", "clean", "undo_delete", "trash"}  # not in the public gallery (read only)


class ViewerScreen(Dialog[None]):
    BINDINGS = [
        Binding("escape,enter,q", "close", "Close", id="viewer.close"),
        Binding("right,l", "step(1)", "Next", id="viewer.next"),
        Binding("left,h", "step(-1)", "Previous", id="viewer.previous"),
        Binding("pagedown", "page(1)", "Next image", show=False, id="viewer.page_next"),
        Binding("pageup", "page(-1)", "Previous image", show=False, id="viewer.page_previous"),
        Binding("home", "jump(0)", "First image", show=False, id="viewer.first"),
        Binding("end", "jump(-1)", "Last image", show=False, id="viewer.last"),
        Binding("z", "zoom", "1:1", id="viewer.zoom"),
        Binding("z", "fit", "Fit", id="viewer.fit"),
        Binding("left,h", "pan(-1,0)", "Pan left", show=False, id="viewer.pan_left"),
        Binding("right,l", "pan(1,0)", "Pan right", show=False, id="viewer.pan_right"),
        Binding("up,k", "pan(0,-1)", "Pan up", show=False, id="viewer.pan_up"),
        Binding("down,j", "pan(0,1)", "Pan down", show=False, id="viewer.pan_down"),
        Binding("i", "info", "Info", id="viewer.info"),
        Binding("f", "favorite", "Favorite", id="viewer.favorite"),
        Binding("p", "prompt", "Prompt", id="viewer.prompt"),
        Binding("s", "download", "Download", id="viewer.download"),
        Binding("d", "delete", "Delete", id="viewer.delete"),
        Binding("b", "clean", "Clean bg", id="viewer.clean"),
        Binding("g", "grid", "Grid", id="viewer.grid"),
        # what the delete's notice offers ("u undoes, t opens the trash") works here too
        Binding("u", "undo_delete", "Undo delete", show=False, id="viewer.undo_delete"),
        Binding("t", "trash", "Trash", show=False, id="viewer.trash"),
        Binding("y", "copy_path", "Copy path", show=False, id="viewer.copy_path"),
        Binding("Y", "copy_folder", "Copy folder", show=False, id="viewer.copy_folder"),
        # A modal screen hides the app's keys: its help is bound here (the key bar ends with "? more").
        Binding("question_mark,f1", "app.help", "Help", show=False, id="viewer.help"),
    ]
    HELP_TITLE = "Large view"

    def __init__(self, gallery: "GalleryScreen", record: ImageRecord, mode: str) -> None:
        super().__init__()
        self.gallery = gallery
        self.record = record  # the image shown (an open gallery closes dialogs on a vanished one: not this view)
        self.mode = mode
        self.zoomed = False
        self.centre = (0.5, 0.5)  # the middle of what a zoomed view shows, as fractions of the picture
        self.shown_key: tuple | None = None  # what the picture on screen is (tests: it is the current one)
        self._drawn: LRU[tuple, tuple] = LRU(DRAWN_KEPT)  # key -> (picture, strips[, note]), a few of them
        self.note = ""  # what the picture shown is instead of the file ("thumbnail: its folder … is not there")
        self._full: tuple | None = None  # (path, the whole picture) for the 1:1 view
        self._direction = 1

    @property
    def grid(self):
        return self.gallery.grid

    @property
    def read_only(self) -> bool:
        return self.gallery.public or self.gallery.library.read_only

    def compose(self) -> ComposeResult:
        with Vertical(id="viewer"):
            with Horizontal(id="viewer-body"):
                with Center(id="viewer-box"):
                    yield Static("Loading…" if large_image_class(self.mode) else PICTURES_OFF, id="large-missing")
                with VerticalScroll(id="viewer-info", can_focus=False):  # the keys stay the view's
                    yield Static("", id="viewer-info-table")
            yield Static("", id="viewer-caption")
        yield KeyBar(more_action="app.help")

    def on_mount(self) -> None:
        self.query_one("#viewer-info").display = False
        self._show_caption()
        if large_image_class(self.mode) is not None:
            self.call_after_refresh(self._redraw)  # once laid out: the box's size is known

    # -- what is shown ---------------------------------------------------------

    @property
    def position(self) -> tuple[int, int]:
        """(1-based place, count) of the image shown in the gallery's result."""
        return self.grid.cursor + 1, self.grid.total

    def follow(self) -> None:
        """The grid's cursor moved or its result changed (a step, a delete, a change made elsewhere)."""
        record = self.grid.current
        if record is None:
            if self.grid.total == 0:
                self.dismiss(None)  # nothing left to show
            else:
                self._show_caption(loading=True)  # its page is being read; shown when it comes
            return
        changed = record.id != self.record.id or record.path != self.record.path
        self.record = record
        self._show_caption()
        info = self.query("#viewer-info")  # none yet before the view is composed, none once it closed
        if info and info.first().display:
            self._show_info()
        if changed:
            self.zoomed, self.centre = False, (0.5, 0.5)
            self.refresh_bindings()
            self._redraw()

    def place_text(self) -> str:
        """Where the image is in the gallery's result: "3 / 60" ("about 140,000" for a large result on
        PostgreSQL). A result with stacks steps card by card: "2 / 21 cards · 60 images", the status line's
        two counts, where "3 / 21" read as the third of 21 images with 60 in the gallery (tidy #4)."""
        place, _ = self.position
        cards, images = self.grid.count, self.gallery.images
        if self.gallery.filters.stacked and self.gallery.filters.batch is None and cards.n < images.n:
            return f"{place:,} / {plural(cards, 'card')} · {plural(images, 'image')}"
        return f"{place:,} / {cards}"

    def _show_caption(self, loading: bool = False) -> None:
        of = self.place_text()
        record = self.record
        caption = Text.assemble((of, "bold"), "  ",
                                f"#{record.id}  {record.width}×{record.height}  ",
                                ("♥ " if record.favorite else "", "red"), one_line(record.prompt),
                                no_wrap=True, overflow="ellipsis")
        if loading:
            caption = Text.assemble((of, "bold"), "  Loading…")
        elif self.zoomed:
            caption = Text.assemble(("1:1", "reverse"), " arrows or h j k l pan · z fit · ", caption,
                                    no_wrap=True, overflow="ellipsis")
        elif self.note:  # its thumbnail, the file not reachable (its folder not there)
            caption = Text.assemble(("thumbnail: the file is not reachable", "reverse"), " ", caption,
                                    no_wrap=True, overflow="ellipsis")
        shown = self.query("#viewer-caption")  # none once the view closed (the grid moved as it closed: fuzz seed 10)
        if shown:
            shown.first(Static).update(caption)

    def _show_info(self) -> None:
        """Each field's name, then its value on the panel's whole width (beside "Negative prompt" a value had
        ten columns left at 80×24: a model's name and a path came in ten-character pieces)."""
        if self.record.also_at is None:
            self._read_other_files(self.record)  # its other files in the watched folders ("Also at"), then again
        lines = Text()
        for label, value in self.record.info_rows():
            lines.append_text(Text.assemble((label, "bold"), "\n", field_value(shown(value)), "\n"))
        lines.rstrip()
        self.query_one("#viewer-info-table", Static).update(lines)

    @work(thread=True, exclusive=True, group="other-files", exit_on_error=False)
    def _read_other_files(self, record: ImageRecord) -> None:
        try:
            also_at = tuple(self.gallery.library.other_files(record))
        except StoreError:
            also_at = ()
        self.app.call_from_thread(self._got_other_files, record, also_at)

    def _got_other_files(self, record: ImageRecord, also_at: tuple) -> None:
        if self.is_attached and self.record.id == record.id and self.record.also_at is None:
            self.record = replace(self.record, also_at=also_at)
            self._show_info()

    # -- drawing ------------------------------------------------------------------

    def _box(self) -> tuple[int, int]:
        size = self.query_one("#viewer-box").content_size
        return size.width, size.height

    def _key(self, record: ImageRecord, box: tuple[int, int]) -> tuple:
        return (record.id, str(record.path), box, self.zoomed, self.centre if self.zoomed else None)

    def _redraw(self) -> None:
        if large_image_class(self.mode) is None or not self.is_attached:
            return
        box = self._box()
        if box[0] <= 0 or box[1] <= 0:
            return
        key = self._key(self.record, box)
        if key == self.shown_key:
            return
        drawn = self._drawn.get(key)
        if drawn is not None:  # (None, None) for a file that could not be read
            self._show_picture(key, *drawn)
            self._draw_ahead(box)
            return
        self.decode(self.record, key, box, self.zoomed, self.centre)

    @work(thread=True, exclusive=True, group="decode", exit_on_error=False)
    def decode(self, record: ImageRecord, key: tuple, box: tuple[int, int], zoomed: bool,
               centre: tuple[float, float]) -> None:
        """Read and shrink (or crop, at 1:1) the picture off the UI thread (about 90 ms for a 2048² image);
        when it is drawn as half-block cells, draw those here too (another 100 ms or more at 160×48)."""
        worker = get_current_worker()
        drawn = self._draw(record, box, zoomed, centre)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._drawn_now, key, drawn, box)

    def _draw(self, record: ImageRecord, box: tuple[int, int], zoomed: bool, centre: tuple[float, float]):
        """(picture, strips or None) for a box of cells; (None, why not) when the file cannot be read."""
        cells = large_draws_cells(self.mode)
        width, height = box
        if zoomed:
            if self._full is None or self._full[0] != record.path:
                self._full = (record.path, load_full_picture(record.path))
            whole = self._full[1]
            if whole is None:
                return None, why_not_shown(record.path)
            cell = cell_pixels(cells)
            picture = whole.crop(zoom_window(whole.size, box, cell, centre))
            columns = max(1, min(width, -(-picture.width // cell[0])))
            rows = max(1, min(height, -(-picture.height // cell[1])))
        else:
            picture, note = load_picture(record.path, LARGE_PIXELS), ""
            if picture is None:
                why = why_not_shown(record.path)
                # its folder not there (renamed, a disk not mounted): the thumbnail the library keeps, said as one
                picture = load_picture(record.thumbnail_path, LARGE_PIXELS) if "is not there" in why else None
                if picture is None:
                    return None, why
                note = why.strip("()").removeprefix("image not shown: ")
            columns, rows = fit_cells(width, height, picture.width, picture.height)
            if note:
                strips = CachedHalfcellImage.render_strips(cell_console(), picture, columns, rows) if cells else None
                return picture, strips, note
        if cells:
            return picture, CachedHalfcellImage.render_strips(cell_console(), picture, columns, rows)
        return picture, (columns, rows) if zoomed else None

    def on_unmount(self) -> None:
        self._drawn.clear()  # the pictures' lines go now, by reference counting, not with the screen (tui/app.py)

    def _drawn_now(self, key: tuple, drawn: tuple, box: tuple[int, int]) -> None:
        self._drawn.put(key, drawn)
        if key == self._key(self.record, self._box()) and self.is_attached:
            self._show_picture(key, *drawn)
            self._draw_ahead(box)

    def _show_picture(self, key: tuple, picture, strips, note: str = "") -> None:
        """Show a drawn picture in the one picture widget of the view (made on the first, then reused); `note`:
        what it is instead of the file (its thumbnail, the file not reachable), said in the caption."""
        self.shown_key = key
        if note != self.note:
            self.note = note
            self._show_caption()
        missing = self.query_one("#large-missing", Static)
        found = self.query("#large-image")
        widget = found.first() if found else None
        if picture is None:
            missing.update(str(strips))  # why not
            missing.display = True
            if widget is not None:
                widget.display = False
            return
        missing.display = False
        # the view's mode decides how it draws (cells, or a graphics protocol): the widget made for the first
        # picture is of the kind every later one needs
        if isinstance(strips, list):
            if widget is None:
                widget = CachedHalfcellImage(picture, id="large-image")
                widget.prepare(strips)
                self.query_one("#viewer-box").mount(widget)
            else:
                assert isinstance(widget, CachedHalfcellImage)
                widget.show(picture)
                widget.prepare(strips)
        else:
            if widget is None:
                image_class = large_image_class(self.mode)
                assert image_class is not None  # a mode without pictures draws none (`_redraw`)
                widget = image_class(picture, id="large-image")
                self.query_one("#viewer-box").mount(widget)
            else:
                assert isinstance(widget, PictureWidget)
                widget.image = picture
            # 1:1 in a graphics protocol: exactly the cells it covers; else fitted by the stylesheet
            widget.styles.width, widget.styles.height = strips if strips is not None else ("auto", "100%")
        widget.display = True

    def _draw_ahead(self, box: tuple[int, int]) -> None:
        """Draw the next image in the direction of travel while this one is looked at."""
        if self.zoomed:
            return
        index = self.grid.cursor + self._direction
        if not 0 <= index < self.grid.total:
            return
        record = self.grid.record_at(index)
        if record is not None:
            key = (record.id, str(record.path), box, False, None)
            if key not in self._drawn:
                self.draw_ahead(record, key, box)

    @work(thread=True, exclusive=True, group="draw-ahead", exit_on_error=False)
    def draw_ahead(self, record: ImageRecord, key: tuple, box: tuple[int, int]) -> None:
        worker = get_current_worker()
        drawn = self._draw(record, box, False, (0.5, 0.5))
        if not worker.is_cancelled:
            self._drawn.put(key, drawn)

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._redraw)

    # -- keys ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "step" or action == "zoom":
            return not self.zoomed
        if action in ("pan", "fit"):
            return self.zoomed
        if action in WRITE_ACTIONS and self.read_only:
            return False
        return True

    def on_key(self, event: events.Key) -> None:
        # A write key is not bound in the public gallery (check_action): it reaches the screen unused.
        if self.read_only and event.key in WRITE_KEYS:
            event.stop()
            self.gallery.say_read_only()

    def action_close(self) -> None:
        if self.zoomed:  # Escape first leaves the zoom
            self.action_fit()
            return
        super().action_close()

    def action_step(self, delta: int) -> None:
        self._direction = 1 if delta > 0 else -1
        self.grid.action_move(delta, 0)  # the grid tells the gallery, which tells this view (follow)

    def action_page(self, delta: int) -> None:
        if self.zoomed:
            self.zoomed = False
            self.refresh_bindings()
        self.action_step(delta)

    def action_jump(self, where: int) -> None:
        self._direction = 1 if where == 0 else -1
        self.grid.action_jump(where)

    def action_zoom(self) -> None:
        self.zoomed, self.centre = True, (0.5, 0.5)
        self._zoom_changed()

    def action_fit(self) -> None:
        self.zoomed = False
        self._zoom_changed()

    def _zoom_changed(self) -> None:
        self.refresh_bindings()
        self._show_caption()
        self._redraw()

    def action_pan(self, dx: int, dy: int) -> None:
        record = self.record
        box = self._box()
        cell = cell_pixels(large_draws_cells(self.mode))
        width, height = max(1, record.width), max(1, record.height)
        view_w, view_h = min(1.0, box[0] * cell[0] / width), min(1.0, box[1] * cell[1] / height)
        x = min(max(self.centre[0] + dx * view_w * PAN_STEP, view_w / 2), 1 - view_w / 2)
        y = min(max(self.centre[1] + dy * view_h * PAN_STEP, view_h / 2), 1 - view_h / 2)
        if (x, y) != self.centre:
            self.centre = (x, y)
            self._redraw()

    def action_info(self) -> None:
        panel = self.query_one("#viewer-info")
        panel.display = not panel.display
        if panel.display:
            self._show_info()
        self.call_after_refresh(self._redraw)  # the box changed size

    # -- the card's actions, on the image shown ---------------------------------------

    def action_favorite(self) -> None:
        record = self.gallery.toggle_favorite(self.record)
        if record is not None and record.id == self.record.id:
            self.record = record
            self._show_caption()
            if self.query_one("#viewer-info").display:
                self._show_info()

    def action_prompt(self) -> None:
        self.gallery.show_prompt(self.record)

    def action_download(self) -> None:
        self.gallery.download([self.record.id])

    def action_delete(self) -> None:
        self.gallery.delete([self.record.id])  # then the grid reloads: this view shows the next image

    def action_undo_delete(self) -> None:
        self.gallery.action_undo_delete()  # the images come back; the gallery's cursor, which this view shows, on the first

    def action_trash(self) -> None:
        self.gallery.action_trash()  # over this view; what is restored there comes back into the gallery it shows

    def action_clean(self) -> None:
        self.gallery.clean([self.record.id])  # the new image gets the grid's focus: this view shows it

    def action_grid(self) -> None:
        self.gallery.open_grid_editor(self.record)

    def action_copy_path(self) -> None:
        self.gallery.copy_path(self.record)

    def action_copy_folder(self) -> None:
        self.gallery.copy_path(self.record, folder=True)


WRITE_KEYS = {key for b in own_bindings(ViewerScreen) if b.action.split("(")[0] in WRITE_ACTIONS
              for key in b.key.split(",")}
