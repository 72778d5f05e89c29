"""One picture as large as the widget allows, read and drawn in a worker (compare, the duplicates view).

`show(record)` binds it to an image; it is drawn for the widget's size after each layout (a resize
draws it again). Half-block cells are drawn in the worker too; a graphics protocol (Kitty, Sixel) gets
the shrunk picture. Until then it says "Loading…"; a file that cannot be read says so.
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center
from textual.widgets import Static
from textual.worker import get_current_worker

from store.records import ImageRecord

from .workers import work
from .thumbnails import (PICTURES_OFF, CachedHalfcellImage, PictureWidget, cell_console, fit_cells,
                         large_draws_cells, large_image_class, load_picture, why_not_shown)

LARGE_PIXELS = 1024
PictureKey = tuple[int, str, tuple[int, int]]  # what a drawing is for: (image id, path, the box in cells)


class LargePicture(Center):
    DEFAULT_CSS = """
    LargePicture { width: 1fr; height: 1fr; align: center middle; }
    LargePicture > .large-picture--note { width: auto; max-width: 100%; height: auto; color: $text-muted; }
    LargePicture > .large-picture--image { width: auto; height: 100%; }
    """

    def __init__(self, mode: str, record: ImageRecord | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.mode = mode
        self.record = record
        self.shown_key: PictureKey | None = None  # the picture on screen
        self._image: CachedHalfcellImage | PictureWidget | None = None

    def compose(self) -> ComposeResult:
        yield Static("Loading…" if large_image_class(self.mode) else PICTURES_OFF, classes="large-picture--note")

    def on_mount(self) -> None:
        self.call_after_refresh(self._redraw)

    def on_resize(self) -> None:
        self.call_after_refresh(self._redraw)

    def show(self, record: ImageRecord) -> None:
        if self.record is not None and record.id == self.record.id and record.path == self.record.path:
            return
        self.record = record
        self._redraw()

    def _key(self) -> PictureKey | None:
        if self.record is None:
            return None
        size = self.content_size
        return (self.record.id, str(self.record.path), (size.width, size.height))

    def _redraw(self) -> None:
        key = self._key()
        if key is None or large_image_class(self.mode) is None or not self.is_attached:
            return
        if key == self.shown_key or key[2][0] <= 0 or key[2][1] <= 0:
            return
        self._decode(self.record, key)

    @work(thread=True, exclusive=True, group="large-picture", exit_on_error=False)
    def _decode(self, record: ImageRecord, key: PictureKey) -> None:
        worker = get_current_worker()
        picture = load_picture(record.path, LARGE_PIXELS)
        strips: list | str | None = None  # for no picture: why not
        if picture is None:
            strips = why_not_shown(record.path)
        elif large_draws_cells(self.mode):
            width, height = key[2]
            columns, rows = fit_cells(width, height, picture.width, picture.height)
            strips = CachedHalfcellImage.render_strips(cell_console(), picture, columns, rows)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._drawn, key, picture, strips)

    def _drawn(self, key: PictureKey, picture, strips) -> None:
        if key != self._key() or not self.is_attached:
            return  # another image (or size) was asked for meanwhile
        self.shown_key = key
        note = self.query_one(".large-picture--note", Static)
        if picture is None:
            note.update(str(strips))
            note.display = True
            if self._image is not None:
                self._image.display = False
            return
        note.display = False
        image = self._image
        if strips is not None:
            if not isinstance(image, CachedHalfcellImage):
                image = CachedHalfcellImage(picture)
                self._replace(image)
            else:
                image.show(picture)
            image.prepare(strips)
        else:
            image_class = large_image_class(self.mode)
            assert image_class is not None  # a mode without pictures draws none (`_redraw`)
            if image is None or isinstance(image, CachedHalfcellImage):
                image = image_class(picture)
                self._replace(image)
            else:
                image.image = picture
        image.display = True

    def _replace(self, widget: CachedHalfcellImage | PictureWidget) -> None:
        if self._image is not None:
            self._image.remove()
        self._image = widget
        widget.add_class("large-picture--image")
        self.mount(widget)
