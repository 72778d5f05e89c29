"""Grid cutting: find the items of a generated sheet and cut them out.

Detection looks for the gutters: columns (and rows) of the picture that are the
plain background colour from top to bottom. The runs of other columns are the
items' columns; their count is the number of columns of the grid, and the
middle of each gutter is where a cut goes. That works for uneven gutters too.
When the user asks for another number of rows or columns, the sheet is cut in
equal parts instead.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from .background import add_derived, derived_image, open_original, plain_background, remove_background
from .errors import StoreError
from .export import slug
from .files import write_new_file
from .library import Library

MAX_CELLS = 16
TOLERANCE = 24  # channel difference from the background that still counts as background
MIN_RUN = 3  # content runs narrower than this (pixels) are noise, not items
TRIM_MARGIN = 0.04  # of the item's larger side, kept around it when trimming


@dataclass(frozen=True)
class Layout:
    rows: int
    cols: int
    # cut positions in pixels: x_cuts[0] = 0, x_cuts[-1] = width; len = cols + 1
    x_cuts: tuple[int, ...]
    y_cuts: tuple[int, ...]
    detected: bool = False

    def box(self, row: int, col: int) -> tuple[int, int, int, int]:
        return (self.x_cuts[col], self.y_cuts[row], self.x_cuts[col + 1], self.y_cuts[row + 1])

    @property
    def cells(self) -> list[tuple[int, int]]:
        return [(r, c) for r in range(self.rows) for c in range(self.cols)]


def _background_mask(rgb: np.ndarray) -> tuple[np.ndarray, bool]:
    colour = plain_background(rgb)
    if colour is None:
        return np.zeros(rgb.shape[:2], dtype=bool), False
    return np.abs(rgb.astype(np.int16) - colour).max(axis=2) <= TOLERANCE, True


def _runs(content: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True as (start, end) with end exclusive, dropping specks."""
    runs, start = [], None
    for i, value in enumerate(content):
        if value and start is None:
            start = i
        elif not value and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(content)))
    return [r for r in runs if r[1] - r[0] >= MIN_RUN]


def _cuts(runs: list[tuple[int, int]], size: int) -> tuple[int, ...]:
    cuts = [0]
    for (_, end), (start, _) in zip(runs, runs[1:]):
        cuts.append((end + start) // 2)
    cuts.append(size)
    return tuple(cuts)


def equal_cuts(size: int, parts: int) -> tuple[int, ...]:
    return tuple(round(i * size / parts) for i in range(parts + 1))


def detect(image: Image.Image) -> Layout:
    """The grid the sheet was drawn in; 1x1 when there is no plain background or no clear grid."""
    rgb = np.asarray(image.convert("RGB"))
    height, width = rgb.shape[:2]
    background, plain = _background_mask(rgb)
    if not plain:
        return Layout(1, 1, (0, width), (0, height), detected=True)
    content = ~background
    col_runs = _runs(content.any(axis=0))
    row_runs = _runs(content.any(axis=1))
    if not col_runs or not row_runs or len(col_runs) > MAX_CELLS or len(row_runs) > MAX_CELLS:
        return Layout(1, 1, (0, width), (0, height), detected=True)
    return Layout(len(row_runs), len(col_runs), _cuts(col_runs, width), _cuts(row_runs, height), detected=True)


def layout_for(image: Image.Image, rows: int | None = None, cols: int | None = None,
               found: Layout | None = None) -> Layout:
    """The detected layout, or equal parts when rows/cols differ from it.

    `found` is what `detect(image)` gave, when the caller kept it: detection takes
    a few hundred milliseconds on a large sheet.
    """
    for value, name in ((rows, "rows"), (cols, "columns")):
        if value is not None and not 1 <= value <= MAX_CELLS:
            raise StoreError(f"The number of {name} must be between 1 and {MAX_CELLS}.")
    if (rows or 1) > image.height or (cols or 1) > image.width:  # every cell at least one pixel
        raise StoreError(f"This image is {image.width}×{image.height} pixels: it cannot be cut into "
                         f"{rows or 1} rows and {cols or 1} columns.")
    found = found or detect(image)
    rows = rows or found.rows
    cols = cols or found.cols
    x_cuts = found.x_cuts if cols == found.cols else equal_cuts(image.width, cols)
    y_cuts = found.y_cuts if rows == found.rows else equal_cuts(image.height, rows)
    return Layout(rows, cols, x_cuts, y_cuts, detected=(rows, cols) == (found.rows, found.cols))


def trim(cell: Image.Image) -> Image.Image:
    """The cell cropped to its content (not background) plus a small margin."""
    rgba = cell.convert("RGBA")
    if rgba.getchannel("A").getextrema()[0] < 255:  # already transparent: trim by alpha
        box = rgba.getchannel("A").point(lambda a: 255 if a >= 16 else 0).getbbox()
    else:
        rgb = np.asarray(cell.convert("RGB"))
        background, plain = _background_mask(rgb)
        if not plain:
            return cell
        ys, xs = np.nonzero(~background)
        box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) if xs.size else None
    if box is None:
        return cell
    margin = round(TRIM_MARGIN * max(box[2] - box[0], box[3] - box[1]))
    left, top = max(0, box[0] - margin), max(0, box[1] - margin)
    right, bottom = min(cell.width, box[2] + margin), min(cell.height, box[3] + margin)
    return cell.crop((int(left), int(top), int(right), int(bottom)))


def cut_cell(sheet: Image.Image, layout: Layout, row: int, col: int, *, trimmed: bool = False,
             cleaned: bool = False) -> Image.Image:
    cell = sheet.crop(layout.box(row, col))
    if cleaned:
        cell = remove_background(cell)
    if trimmed:
        cell = trim(cell)
    return cell


@dataclass
class CutResult:
    cells: list[tuple[int, int]]
    saved_ids: list[int]  # one per saved cell; identical cells share one image
    written: list[Path]
    cancelled: bool = False
    created: int = 0  # images new to the library among saved_ids

    def saved_summary(self) -> str:
        """What saving did, for the user: identical cells are one image, and may be in the library already."""
        items, images = len(self.saved_ids), len(set(self.saved_ids))
        text = f"Saved {items} item{'s' if items != 1 else ''} to the library"
        if images < items:
            text += f" as {images} image{'s' if images != 1 else ''} (identical cells were merged)"
        if self.created < images:
            old = images - self.created
            text += (f"; {old} of them {'was' if old == 1 else 'were'} already in it" if self.created else
                     f"; {'it was' if images == 1 else 'they were all'} already in it, nothing new was made")
        return text + "."


def cut(library: Library, image_id: int, layout: Layout, cells: list[tuple[int, int]], *, trimmed: bool = False,
        cleaned: bool = False, save: bool = False, folder: Path | None = None,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] = lambda: False) -> CutResult:
    """Cut cells out of a sheet; save them as derived images and/or write them as PNGs."""
    if not cells:
        raise StoreError("No cells selected.")
    for row, col in cells:
        if not (0 <= row < layout.rows and 0 <= col < layout.cols):
            raise StoreError(f"There is no cell {row + 1},{col + 1} in a {layout.rows}x{layout.cols} grid.")
    record = library.get(image_id)
    sheet = open_original(library, image_id)
    stem = slug(Path(record.source_name).stem, 80) if record.source_name else f"{record.id}-{slug(record.prompt)}"
    result = CutResult(list(cells), [], [])
    pending = []
    for done, (row, col) in enumerate(cells, start=1):
        if cancelled():
            result.cancelled = True
            break
        piece = cut_cell(sheet, layout, row, col, trimmed=trimmed, cleaned=cleaned)
        suffix = f"_r{row + 1}c{col + 1}"
        if save:
            pending.append(derived_image(library, image_id, piece, f"cell {row + 1},{col + 1}", suffix))
        if folder is not None:
            out = io.BytesIO()
            piece.save(out, "PNG")
            try:
                result.written.append(write_new_file(Path(folder), f"{stem}{suffix}", ".png", out.getvalue()))
            except OSError as exc:
                raise StoreError(f"Cannot write to {folder}: {exc.strerror or exc}.") from exc
        if progress:
            progress(done, len(cells))
    if pending:
        saved = add_derived(library, image_id, pending)
        result.saved_ids = [i for i, _ in saved]
        result.created = sum(created for _, created in saved)
    return result
