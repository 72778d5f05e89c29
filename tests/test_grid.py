"""Grid detection, cutting, trimming, saving and downloading items; the command line forms."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image

from store import grid
from store.demo import BACKGROUNDS, ITEMS, ItemSpec, iter_layout_sheets, render_sheet
from store.errors import StoreError
from store.importer import ImportOptions, import_files
from tui.cli import main


def test_every_demo_layout_is_detected_exactly():
    for sheet in iter_layout_sheets():
        layout = grid.detect(sheet.image)
        assert (layout.rows, layout.cols) == (sheet.rows, sheet.cols)
        # each cut box holds exactly one item, whole
        for (row, col), box in zip(layout.cells, sheet.boxes):
            left, top, right, bottom = layout.box(row, col)
            assert left <= box[0] and top <= box[1] and box[2] <= right and box[3] <= bottom


def iron_sheet(rows: int, cols: int, size: int, background):
    kinds = list(ITEMS)
    specs = [ItemSpec(kinds[i % len(kinds)], "iron") for i in range(rows * cols)]
    return render_sheet(specs, rows, cols, size=size, background=background)


@pytest.mark.parametrize("rows, cols", [(2, 3), (3, 2), (1, 4), (4, 1), (5, 5)])
def test_rectangular_layouts(rows, cols):
    sheet = iron_sheet(rows, cols, 600, BACKGROUNDS[2])
    layout = grid.detect(sheet.image)
    assert (layout.rows, layout.cols) == (rows, cols)


@pytest.mark.parametrize("rows, cols", [(2, 3), (3, 2), (1, 5), (5, 1), (4, 4)])
def test_items_of_a_uniform_sheet_come_out_the_same_size_and_line_up(rows, cols):
    sheet = iron_sheet(rows, cols, 640, BACKGROUNDS[1])
    layout = grid.detect(sheet.image)
    sizes = {grid.cut_cell(sheet.image, layout, r, c).size for r, c in layout.cells}
    assert len(sizes) == 1, sizes  # before: the outer cells carried the sheet's margin
    offsets = set()
    for (row, col), box in zip(layout.cells, sheet.boxes):
        left, top, right, bottom = layout.box(row, col)
        assert left <= box[0] and top <= box[1] and box[2] <= right and box[3] <= bottom  # whole
        offsets.add((box[0] - left, box[1] - top))
    # each item at the same place in its cell (to a few pixels: the lattice is read from items of other shapes)
    assert max(x for x, _ in offsets) - min(x for x, _ in offsets) <= 3
    assert max(y for _, y in offsets) - min(y for _, y in offsets) <= 3
    other = grid.layout_for(sheet.image, rows=rows + 1, cols=cols + 2, found=layout)  # equal parts: one size too
    assert len({grid.cut_cell(sheet.image, other, r, c).size for r, c in other.cells}) == 1


def uneven_sheet() -> tuple[Image.Image, list[tuple[int, int, int, int]]]:
    """Items of different sizes at uneven positions on a plain background."""
    image = Image.new("RGB", (700, 420), (250, 250, 250))
    boxes = []
    xs = [(10, 120), (150, 330), (400, 690)]  # gutters of 30 and 70 pixels, margins 10 and 10
    ys = [(5, 180), (260, 410)]
    for top, bottom in ys:
        for left, right in xs:
            image.paste((200, 40, 40), (left + 5, top + 5, right - 5, bottom - 5))
            boxes.append((left + 5, top + 5, right - 5, bottom - 5))
    return image, boxes


def test_uneven_gutters_are_detected_and_cut_between_items():
    image, boxes = uneven_sheet()
    layout = grid.detect(image)
    assert (layout.rows, layout.cols) == (2, 3)
    assert layout.x_cuts == (0, (115 + 155) // 2, (325 + 405) // 2, 700)
    assert layout.y_cuts == (0, (175 + 265) // 2, 420)
    for (row, col), box in zip(layout.cells, boxes):
        left, top, right, bottom = layout.box(row, col)
        assert left <= box[0] and top <= box[1] and box[2] <= right and box[3] <= bottom


def test_photo_without_plain_background_is_one_cell():
    noise = Image.fromarray(np.random.default_rng(1).integers(0, 255, (200, 300, 3), dtype=np.uint8))
    assert (grid.detect(noise).rows, grid.detect(noise).cols) == (1, 1)


def test_other_counts_cut_in_equal_parts():
    image, _ = uneven_sheet()
    layout = grid.layout_for(image, rows=4, cols=2)
    assert layout.x_cuts == (0, 350, 700) and layout.y_cuts == (0, 105, 210, 315, 420)
    assert not layout.detected
    with pytest.raises(StoreError):
        grid.layout_for(image, rows=17)
    with pytest.raises(StoreError):
        grid.layout_for(image, cols=0)


def test_cut_and_trim_give_exact_boxes():
    image, boxes = uneven_sheet()
    layout = grid.detect(image)
    cell = grid.cut_cell(image, layout, 0, 1)
    left, top, right, bottom = layout.box(0, 1)
    assert cell.size == (right - left, bottom - top)
    trimmed = grid.cut_cell(image, layout, 0, 1, trimmed=True)
    item = boxes[1]
    margin = round(grid.TRIM_MARGIN * max(item[2] - item[0], item[3] - item[1]))
    # the item and a margin around it, as far as the cell goes
    kept = (max(left, item[0] - margin), max(top, item[1] - margin),
            min(right, item[2] + margin), min(bottom, item[3] + margin))
    assert trimmed.size == (kept[2] - kept[0], kept[3] - kept[1])
    inner = np.asarray(trimmed)[item[1] - kept[1]:item[3] - kept[1], item[0] - kept[0]:item[2] - kept[0]]
    assert (inner == (200, 40, 40)).all() and inner.shape[:2] == (item[3] - item[1], item[2] - item[0])


def test_trim_of_a_transparent_cell_uses_alpha():
    cell = Image.new("RGBA", (100, 80), (0, 0, 0, 0))
    cell.paste((10, 200, 10, 255), (40, 30, 60, 50))
    trimmed = grid.trim(cell)
    assert trimmed.size == (20 + 2, 20 + 2)


@pytest.fixture
def sheet_in_library(library, tmp_path):
    sheet = list(iter_layout_sheets(size=384))[2]  # 3x3
    path = tmp_path / "items sheet.png"
    sheet.image.save(path)
    import_files(library, [path], ImportOptions(prompt="nine items", model="M", collection="Sheets"))
    (record,) = library.page()
    return library, record, sheet


def test_save_items_to_library(sheet_in_library):
    library, record, sheet = sheet_in_library
    layout = grid.detect(sheet.image)
    result = grid.cut(library, record.id, layout, [(0, 0), (2, 1)], trimmed=True, save=True)
    assert len(result.saved_ids) == 2
    first = library.get(result.saved_ids[0])
    assert first.derivation == "cell 1,1" and first.parent_id == record.id
    assert first.origin == f"cell 1,1 of #{record.id}"
    assert (first.prompt, first.model, first.collections) == ("nine items", "M", ["Sheets"])
    assert library.get(result.saved_ids[1]).derivation == "cell 3,2"
    assert library.total() == 3


def test_download_items_never_overwrites(sheet_in_library, tmp_path):
    library, record, sheet = sheet_in_library
    layout = grid.detect(sheet.image)
    out = tmp_path / "items"
    first = grid.cut(library, record.id, layout, [(0, 0), (1, 2)], folder=out)
    again = grid.cut(library, record.id, layout, [(0, 0)], folder=out)
    stem = f"{record.id}-nine-items"  # named as `myimages export` names the sheet
    assert [p.name for p in first.written] == [f"{stem}_r1c1.png", f"{stem}_r2c3.png"]
    assert again.written[0].name == f"{stem}_r1c1 (2).png"
    assert library.total() == 1
    with Image.open(first.written[0]) as image:
        assert image.size == tuple(np.subtract(layout.box(0, 0)[2:], layout.box(0, 0)[:2]))
    # the sheet's prompt and settings are in each item, as in an export: importing one gives them back
    import_files(library, [first.written[1]], ImportOptions())
    item = next(r for r in library.page() if r.id != record.id)
    assert (item.prompt, item.model) == ("nine items", "M")


def test_cut_refuses_cells_outside_the_grid(sheet_in_library):
    library, record, sheet = sheet_in_library
    with pytest.raises(StoreError):
        grid.cut(library, record.id, grid.detect(sheet.image), [(3, 0)], save=True)


def test_saving_a_one_cell_grid_of_the_whole_picture_is_refused(sheet_in_library, tmp_path):
    """NEWUSER7 #21: `s` on a 1x1 grid said "1 item saved as 1 new image #11": a byte-different copy of the
    whole picture. Nothing is cut then: one sentence, nothing saved. Trimmed or cleaned, or written to a folder,
    it is still made. Fails without (a new image)."""
    library, record, sheet = sheet_in_library
    whole = grid.layout_for(sheet.image, rows=1, cols=1)
    with pytest.raises(StoreError, match="nothing to cut, nothing saved"):
        grid.cut(library, record.id, whole, [(0, 0)], save=True)
    assert library.total() == 1
    assert grid.cut(library, record.id, whole, [(0, 0)], folder=tmp_path / "out").written  # a file is asked for
    assert len(grid.cut(library, record.id, whole, [(0, 0)], trimmed=True, save=True).saved_ids) == 1


def cli_args(library) -> list[str]:
    args = ["--library", str(library.root), "--account", "alice"]
    return args + (["--database-url", library.database_url] if library.database_url else [])


def test_command_line_grid_forms(sheet_in_library, tmp_path, capsys):
    library, record, _ = sheet_in_library
    args = cli_args(library)
    assert main(["grid", str(record.id), "--to", str(tmp_path / "cli"), *args]) == 0
    out = capsys.readouterr().out
    assert "Detected grid: 3 x 3" in out and out.count("_r") == 9
    assert main(["grid", str(record.id), "--rows", "1", "--cols", "3", "--trim", "--save", *args]) == 0
    out = capsys.readouterr().out
    assert "cutting 1 x 3 in equal parts" in out and "3 items saved as 3 new images #" in out
    assert main(["grid", str(record.id), "--rows", "1", "--cols", "3", "--trim", "--save", *args]) == 0
    out = capsys.readouterr().out  # new-user test 3 item 9: it said "3 items saved as images …" again
    assert "3 items saved: all already in the library as images #" in out and out.endswith("nothing new made.\n")
    with pytest.raises(SystemExit):
        main(["grid", str(record.id), *args])  # --to or --save is required
    assert main(["grid", "999", "--save", *args]) == 1
    assert "No image #999." in capsys.readouterr().err


def test_command_line_grid_with_clean(sheet_in_library, tmp_path, capsys):
    library, record, sheet = sheet_in_library
    args = cli_args(library)
    assert main(["grid", str(record.id), "--clean", "--trim", "--to", str(tmp_path / "clean"), *args]) == 0
    files = sorted((tmp_path / "clean").iterdir())
    assert len(files) == 9
    with Image.open(files[0]) as image:
        assert image.mode == "RGBA" and image.getchannel("A").getextrema()[0] == 0


def test_command_line_clean(sheet_in_library, capsys):
    library, record, _ = sheet_in_library
    args = cli_args(library)
    assert main(["clean", str(record.id), *args]) == 0
    assert "background removed, saved as new image #2" in capsys.readouterr().out
    assert main(["clean", "77", *args]) == 1
    assert "No image #77." in capsys.readouterr().err


@pytest.mark.parametrize("saved_ids, new_ids, said", [
    ([434, 435, 436, 435], set(), "4 items saved: all already in the library as images #434, #435, #436, "
                                  "nothing new made (cells 1,2 and 2,2 are the same picture)."),
    ([434, 435, 436, 435], {434, 435, 436}, "4 items saved as 3 new images #434, #435, #436 "
                                            "(cells 1,2 and 2,2 are the same picture)."),
    ([434, 435, 436, 437], {437}, "4 items saved as 4 images: 1 new image #437, 3 already in the library "
                                  "#434, #435, #436."),
    ([9], set(), "1 item saved: already in the library as image #9, nothing new made."),
])
def test_the_save_summary_tells_new_images_from_old_and_names_identical_cells(saved_ids, new_ids, said):
    """New-user test 3 item 9: `grid 43 --save` said `4 items saved as images #434, #435, #436, #435` when two
    cells were one picture and every image was in the library already."""
    cells = [(0, 0), (0, 1), (1, 0), (1, 1)][:len(saved_ids)]
    result = grid.CutResult(cells, saved_ids, [], created=len(new_ids), new_ids=new_ids)
    assert result.saved_summary() == said


def test_cells_and_cleaned_copies_keep_their_originals_date_and_name_no_file(library, tmp_path, capsys):
    """New-user test 7 #9: a cell saved from a sheet and a cleaned copy said "Generated: <now> (the file's modified
    time: no date in the file)" and "Imported from: 00009-3162891742-clean.png", a file that never existed; `date:`
    did not find them beside their original and newest-first put them on top. They keep the original's date."""
    sheet = list(iter_layout_sheets(size=384))[2]  # 3x3
    path = tmp_path / "00009-3162891742.png"
    sheet.image.save(path)
    os.utime(path, (1741089600, 1741089600))  # 2025-03-04 12:00 UTC: the sheet's only date
    import_files(library, [path], ImportOptions(prompt="nine items"))
    (record,) = library.page()
    newer = tmp_path / "newer.png"
    Image.new("RGB", (64, 64), (10, 200, 10)).save(newer)
    import_files(library, [newer], ImportOptions(prompt="a newer one"))
    args = cli_args(library)
    assert main(["grid", str(record.id), "--rows", "1", "--cols", "3", "--save", *args]) == 0
    assert main(["clean", str(record.id), *args]) == 0
    capsys.readouterr()
    made = [r for r in library.iter_images() if r.parent_id == record.id]
    assert len(made) == 4
    for copy in made:
        assert copy.generated_at == record.generated_at
        assert copy.source_name == record.source_name  # `file:00009` finds them beside it
        assert main(["info", str(copy.id), *args]) == 0
        out = capsys.readouterr().out
        generated = next(line for line in out.splitlines() if line.startswith("Generated"))
        assert generated.endswith(f"2025-03-04 12:00:00 UTC (the original's, #{record.id})"), generated
        assert "Imported from" not in out and "clean.png" not in out and "_r1c" not in out
        assert f"from #{record.id}" in out or f"of #{record.id}" in out
    assert main(["info", str(record.id), *args]) == 0
    assert "Imported from:   00009-3162891742.png" in capsys.readouterr().out
    assert main(["list", "--search", "date:2025-03", "--json", *args]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted(item["id"] for item in listed) == sorted(r.id for r in [record, *made])
    assert main(["list", "--json", *args]) == 0  # newest first: the newer import, then the sheet with its copies
    newest_first = [item["id"] for item in json.loads(capsys.readouterr().out)]
    assert newest_first[0] not in {r.id for r in [record, *made]}, newest_first


def test_a_layout_too_fine_for_the_picture_says_column_not_columns_for_one():
    """New-user test 7 #21: `grid 1 --rows 2` on a 1x1 image said "2 rows and 1 columns"."""
    with pytest.raises(StoreError, match=r"cannot be cut into 2 rows and 1 column\.$"):
        grid.layout_for(Image.new("RGB", (1, 1)), rows=2)
