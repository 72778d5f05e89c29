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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, cast

import numpy as np
from PIL import Image

from .background import plain_background, remove_background
from .derived import add_derived, derived_image, open_original, require_may_save_from
from .errors import StoreError
from .export import export_name, with_metadata
from .files import output_folder, write_new_file
from .library import Library
from .text import plural

MAX_CELLS = 16
TOLERANCE = 24  # channel difference from the background that still counts as background
MIN_RUN = 3  # content runs narrower than this (pixels) are noise, not items
TRIM_MARGIN = 0.04  # of the item's larger side, kept around it when trimming


Span = tuple[int, int]  # (start, end) in pixels, end exclusive


@dataclass(frozen=True)
class Layout:
    rows: int
    cols: int
    # cut positions in pixels: x_cuts[0] = 0, x_cuts[-1] = width; len = cols + 1
    x_cuts: tuple[int, ...]
    y_cuts: tuple[int, ...]
    detected: bool = False
    # Each column's (row's) extent when the cells are all one size (see `same_size_spans`); else from the cuts.
    x_spans: tuple[Span, ...] | None = None
    y_spans: tuple[Span, ...] | None = None

    def box(self, row: int, col: int) -> tuple[int, int, int, int]:
        left, right = self.x_spans[col] if self.x_spans else (self.x_cuts[col], self.x_cuts[col + 1])
        top, bottom = self.y_spans[row] if self.y_spans else (self.y_cuts[row], self.y_cuts[row + 1])
        return (left, top, right, bottom)

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


def equal_spans(size: int, parts: int) -> tuple[Span, ...]:
    """`parts` spans of exactly one size (the pixels left over, fewer than `parts`, split between the edges)."""
    side = size // parts
    start = (size - side * parts) // 2
    return tuple((start + i * side, start + (i + 1) * side) for i in range(parts))


def same_size_spans(runs: list[tuple[int, int]], size: int) -> tuple[Span, ...] | None:
    """Spans of one size, one per item, holding each item whole, not overlapping, inside the picture; else None
    (the cells then meet halfway between the items).

    Cutting halfway gives the outer cells the sheet's margin on top of their share of the gutter: the items of
    a uniform sheet would come out in two or three sizes, and sprites would not line up. The spans are first
    placed on the sheet's lattice (the items' centres fitted to an even pitch, so every item sits at the same
    place in its cell), else centred on each item. One row (column) of items keeps the whole height (width)."""
    if len(runs) < 2:
        return None
    n = len(runs)
    centres = [(start + end) / 2 for start, end in runs]
    pitch = round((centres[-1] - centres[0]) / (n - 1))
    first = sum(c - i * pitch for i, c in enumerate(centres)) / n
    for points in ([first + i * pitch for i in range(n)], centres):
        spans = _centred_spans(runs, points, size)
        if spans is not None:
            return spans
    return None


def _centred_spans(runs: list[tuple[int, int]], points: list[float], size: int) -> tuple[Span, ...] | None:
    room = min([2 * points[0], 2 * (size - points[-1])] + [b - a for a, b in zip(points, points[1:])])
    side = int(room)
    spans = []
    for (start, end), point in zip(runs, points):
        left = round(point - side / 2)
        if side <= 0 or left < 0 or left + side > size or left > start or left + side < end:
            return None
        spans.append((left, left + side))
    return tuple(spans)


def detect(image: Image.Image) -> Layout:
    """The grid the sheet was drawn in; 1x1 when there is no plain background or no clear grid."""
    rgb = np.asarray(image.convert("RGB"))
    height, width = rgb.shape[:2]
    background, plain = _background_mask(rgb)
    if not plain:
        return Layout(1, 1, (0, width), (0, height), detected=True)
    content = ~background
    col_runs = _runs(np.asarray(content.any(axis=0)))
    row_runs = _runs(np.asarray(content.any(axis=1)))
    if not col_runs or not row_runs or len(col_runs) > MAX_CELLS or len(row_runs) > MAX_CELLS:
        return Layout(1, 1, (0, width), (0, height), detected=True)
    return Layout(len(row_runs), len(col_runs), _cuts(col_runs, width), _cuts(row_runs, height), detected=True,
                  x_spans=same_size_spans(col_runs, width), y_spans=same_size_spans(row_runs, height))


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
                         f"{plural(rows or 1, 'row')} and {plural(cols or 1, 'column')}.")
    found = found or detect(image)
    rows = rows or found.rows
    cols = cols or found.cols
    same_cols, same_rows = cols == found.cols, rows == found.rows
    return Layout(rows, cols,
                  found.x_cuts if same_cols else equal_cuts(image.width, cols),
                  found.y_cuts if same_rows else equal_cuts(image.height, rows),
                  detected=same_cols and same_rows,
                  x_spans=found.x_spans if same_cols else equal_spans(image.width, cols),
                  y_spans=found.y_spans if same_rows else equal_spans(image.height, rows))


def trim(cell: Image.Image) -> Image.Image:
    """The cell cropped to its content (not background) plus a small margin."""
    rgba = cell.convert("RGBA")
    lowest_alpha = cast(tuple[int, int], rgba.getchannel("A").getextrema())[0]
    if lowest_alpha < 255:  # already transparent: trim by alpha
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
    new_ids: set[int] = field(default_factory=set)  # those of saved_ids this save made

    def saved_summary(self) -> str:
        """What saving did, for the user: how many of the images are new and how many were in the library
        already, and which cells are the same picture (one image for them), e.g.
        `4 items saved: all already in the library as images #434, #435, #436, nothing new made (cells 1,2 and
        2,2 are the same picture).`"""
        items, ids = len(self.saved_ids), list(dict.fromkeys(self.saved_ids))
        new = [i for i in ids if i in self.new_ids]
        old = [i for i in ids if i not in self.new_ids]
        if not old:
            text = f"{plural(items, 'item')} saved as {_new_images(new)} {_id_list(new)}"
        elif not new:
            text = (f"{plural(items, 'item')} saved: {'already' if items == 1 else 'all already'} in the library "
                    f"as {'image' if len(old) == 1 else 'images'} {_id_list(old)}, nothing new made")
        else:
            text = (f"{plural(items, 'item')} saved as {plural(len(ids), 'image')}: {_new_images(new)} "
                    f"{_id_list(new)}, {len(old):,} already in the library {_id_list(old)}")
        same = self._same_cells()
        return text + (f" ({same})" if same else "") + "."

    def _same_cells(self) -> str:
        """"cells 1,2 and 2,2 are the same picture" for the cells that became one image, or ""."""
        groups: dict[int, list[str]] = {}
        for (row, col), image_id in zip(self.cells, self.saved_ids):
            groups.setdefault(image_id, []).append(f"{row + 1},{col + 1}")
        alike = [cells for cells in groups.values() if len(cells) > 1]
        if not alike:
            return ""
        if len(alike) == 1 and len(alike[0]) == len(self.saved_ids):
            return f"all {len(alike[0]):,} cells are the same picture"
        said = ["cells " + ", ".join(cells[:-1]) + f" and {cells[-1]}" if len(cells) <= 4 else
                f"{len(cells):,} cells ({', '.join(cells[:3])} …)" for cells in alike[:2]]
        more = f", and {len(alike) - 2:,} more groups" if len(alike) > 2 else ""
        return "; ".join(said) + more + (" are the same picture" if len(alike) == 1 else
                                         ": each group is the same picture")


def _new_images(ids: list[int]) -> str:
    return plural(len(ids), "new image")


def _id_list(ids: list[int], most: int = 6) -> str:
    """"#434" or "#434, #435, #436" (the first six and how many in all when there are more)."""
    shown = ", ".join(f"#{i}" for i in ids[:most])
    return shown + (f", … ({len(ids):,} in all)" if len(ids) > most else "")


def cut(library: Library, image_id: int, layout: Layout, cells: list[tuple[int, int]], *, trimmed: bool = False,
        cleaned: bool = False, save: bool = False, folder: Path | None = None, parents: bool = False,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] = lambda: False) -> CutResult:
    """Cut cells out of a sheet; save them as derived images and/or write them as PNGs into `folder` (made if its
    parent exists, or with its parents: the default downloads folder; else StoreError before any work)."""
    if not cells:
        raise StoreError("No cells selected.")
    for row, col in cells:
        if not (0 <= row < layout.rows and 0 <= col < layout.cols):
            raise StoreError(f"There is no cell {row + 1},{col + 1} in a {layout.rows}x{layout.cols} grid.")
    if save:
        require_may_save_from(library, image_id)  # said before any work, not after cutting
    record = library.get(image_id)
    if save and not (trimmed or cleaned) and layout.box(0, 0) == (0, 0, record.width, record.height):
        # one cell, the whole picture: a byte-different copy of the image, not an item (NEWUSER7 #21: "1 item
        # saved as 1 new image #11")
        raise StoreError("The grid is one cell, the whole picture: nothing to cut, nothing saved. Give it rows or "
                         "columns, or trim or clean the cell.")
    if folder is not None:
        folder = output_folder(folder, parents=parents)
    sheet = open_original(library, image_id)
    stem = export_name(record)  # as `myimages export` names the sheet: ID-slug, then _r1c1
    result = CutResult(list(cells), [], [])
    pending = []
    for done, (row, col) in enumerate(cells, start=1):
        if cancelled():
            result.cancelled = True
            break
        piece = cut_cell(sheet, layout, row, col, trimmed=trimmed, cleaned=cleaned)
        suffix = f"_r{row + 1}c{col + 1}"
        if save:
            pending.append(derived_image(library, image_id, piece, f"cell {row + 1},{col + 1}"))
        if folder is not None:
            out = io.BytesIO()
            piece.save(out, "PNG")
            data = with_metadata(record, out.getvalue())  # the sheet's prompt and settings, as an export has them
            try:
                result.written.append(write_new_file(Path(folder), f"{stem}{suffix}", ".png", data))
            except OSError as exc:
                raise StoreError(f"Cannot write to {folder}: {exc.strerror or exc}.") from exc
        if progress:
            progress(done, len(cells))
    if pending:
        saved = add_derived(library, image_id, pending)
        result.saved_ids = [i for i, _ in saved]
        result.created = sum(created for _, created in saved)
        result.new_ids = {i for i, created in saved if created}
    return result
