"""Importing files (good, duplicate, bad), exporting and re-importing, doctor, demo."""
from __future__ import annotations

import io
import os
import shutil
from datetime import datetime, timezone

import pytest
from PIL import Image

from store.demo import generate, iter_layout_sheets
from store.doctor import check
from store.export import export_images, slug
from store.importer import ImportOptions, import_files
from store.library import Library
from store.records import Filters

from .conftest import REAL_METADATA, png_bytes, write_png


def test_import_real_generator_folder(library):
    report = import_files(library, [REAL_METADATA], ImportOptions(recursive=True))
    assert len(report.imported) == 10
    assert [p.name for p, _ in report.failed] == ["empty-file.png"]
    assert "empty" in report.failed[0][1]
    found = {r.source_name: r for r in library.iter_images()}
    assert found["a1111.png"].prompt == "photo of a duck"
    assert found["a1111.png"].model == "realistic_realisticVisionV20_v20"
    assert found["a1111.png"].text_accuracy == "5"
    assert found["novelai.png"].model == "Stable Diffusion 1D44365E"
    assert found["1x1.jpg"].width == 1 and found["1x1.jpg"].prompt == ""
    assert found["text-after-idat.png"].prompt == "photo of a duck"


def test_duplicates_are_one_image(library, make_png):
    path = make_png()
    first = import_files(library, [path])
    copy = path.with_name("copy.png")
    shutil.copy(path, copy)
    second = import_files(library, [path, copy])
    assert len(first.imported) == 1 and not second.imported
    assert [i for _, i in second.duplicates] == [first.imported[0][1]] * 2
    assert library.total() == 1
    assert "2 duplicates" in second.summary()


def test_command_line_values_override_file(library, make_png):
    path = make_png(text={"parameters": "file prompt\nSteps: 2, CFG scale: 3, Seed: 4, Model: file-model"})
    when = datetime(2025, 1, 2, 3, 4, tzinfo=timezone.utc)
    import_files(library, [path], ImportOptions(prompt="cli prompt", text_accuracy="high", generated_at=when,
                                                collection="Imported"))
    (record,) = library.page()
    assert record.prompt == "cli prompt"
    assert record.model == "file-model"
    assert record.text_accuracy == "high"
    assert record.generated_at == when
    assert record.collections == ["Imported"]
    assert record.params["Seed"] == "4"


def make_bad_files(folder):
    folder.mkdir(parents=True, exist_ok=True)
    good = png_bytes(size=(64, 64))
    (folder / "empty.png").write_bytes(b"")
    (folder / "truncated.png").write_bytes(good[: len(good) // 2])
    (folder / "text.png").write_bytes(b"hello, I am not an image\n" * 20)
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "BMP")
    (folder / "bitmap.png").write_bytes(out.getvalue())  # a format not taken, whatever its name
    # past Pillow's pixel limit, tiny on disk
    big = io.BytesIO()
    Image.new("1", (12000, 12000)).save(big, "PNG")
    (folder / "bomb.png").write_bytes(big.getvalue())
    out = io.BytesIO()
    Image.new("RGB", (64, 64), "green").save(out, "JPEG")
    jpeg = out.getvalue()
    (folder / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 3])
    (folder / "good.png").write_bytes(good)
    os.symlink(folder, folder / "loop")  # a symlink loop in the folder
    os.symlink(folder / "nowhere.png", folder / "dangling.png")


def test_bad_files_are_reported_and_skipped(library, make_png, tmp_path):
    existing = make_png()
    import_files(library, [existing])
    before = [r.id for r in library.iter_images()]
    folder = tmp_path / "bad"
    make_bad_files(folder)
    report = import_files(library, [folder, tmp_path / "missing.png"])
    reasons = {p.name: reason for p, reason in report.failed}
    assert [p.name for p, _ in report.imported] == ["good.png"]
    assert set(reasons) == {"empty.png", "truncated.png", "text.png", "bitmap.png", "bomb.png",
                            "truncated.jpg", "missing.png", "dangling.png"}
    assert reasons["dangling.png"] == "not a regular file"
    again = import_files(library, [folder], ImportOptions(recursive=True))  # the loop is not followed
    assert [p.name for p, _ in again.duplicates] == ["good.png"]
    assert reasons["empty.png"] == "empty file"
    assert "not an image" in reasons["text.png"]
    assert reasons["bitmap.png"] == "unsupported format BMP (PNG, JPEG, WebP, GIF, TIFF and AVIF can be imported)"
    assert "too large" in reasons["bomb.png"]
    assert "damaged" in reasons["truncated.png"] and "damaged" in reasons["truncated.jpg"]
    assert reasons["missing.png"] == "no such file or folder"
    assert [r.id for r in library.iter_images()][1:] == before


def test_gif_tiff_and_avif_are_imported_by_their_first_frame_and_kept_as_they_are(library, tmp_path):
    """NEWUSER7 #30: a folder import counted GIF, TIFF and AVIF pictures and left them out (only PNG, JPEG and WebP
    were taken), though Pillow reads them (AVIF too, here). They are imported: the library keeps the file as it is
    (same bytes, its own extension), and an animation or a TIFF of pages is shown by its first frame (the thumbnail,
    the size, an export); an animated WebP likewise, refused before. Formats no generator writes (BMP) are still
    counted and named. Fails without (they were left out; the animated WebP failed)."""
    import hashlib

    from store.formats import AVIF

    folder = tmp_path / "formats"
    folder.mkdir()
    frames = [Image.new("RGB", (40, 30), colour) for colour in ((250, 0, 0), (0, 0, 250))]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    frames[0].save(folder / "pages.tiff", save_all=True, append_images=frames[1:])
    frames[0].save(folder / "anim.webp", save_all=True, append_images=frames[1:], duration=100)
    Image.new("I;16", (40, 30), 40000).save(folder / "deep.tif")  # 16 bits a pixel, as scanners write
    if AVIF:
        frames[0].save(folder / "still.avif")
    frames[0].save(folder / "flat.bmp")
    report = import_files(library, [folder])
    assert report.failed == []
    assert sorted(p.name for p, _ in report.imported) == sorted(
        ["anim.gif", "pages.tiff", "anim.webp", "deep.tif"] + (["still.avif"] if AVIF else []))
    assert [p.name for p in report.other_formats] == ["flat.bmp"]
    assert report.left_out_lines()[0].endswith("(flat.bmp): only PNG, JPEG, WebP, GIF, TIFF and AVIF are imported.")
    exported = tmp_path / "out"
    for path, image_id in report.imported:
        record = library.get(image_id)
        assert (record.width, record.height) == (40, 30)
        assert record.path.suffix == {".tif": ".tiff"}.get(path.suffix, path.suffix)
        assert hashlib.sha256(record.path.read_bytes()).digest() == hashlib.sha256(path.read_bytes()).digest()
        [written] = export_images(library, [image_id], exported)
        with Image.open(written) as picture:  # a PNG of the first frame (red), its metadata in it
            assert picture.format == "PNG" and picture.size == (40, 30)
            colour = picture.convert("RGB").getpixel((20, 15))
        if path.name != "deep.tif":
            assert colour[0] > 200 and colour[2] < 50, (path.name, colour)
    report = check(library, min_age=0)  # doctor knows the copies as the library's own (it left them alone as strangers)
    assert report.clean and not report.left_alone and not report.needs_user, report.lines()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads everything")
def test_unreadable_file(library, tmp_path):
    path = tmp_path / "locked.png"
    path.write_bytes(png_bytes())
    path.chmod(0)
    report = import_files(library, [path])
    assert report.failed[0][1] == "permission denied"


def test_transparency_and_modes_import(library, tmp_path):
    folder = tmp_path / "modes"
    folder.mkdir()
    Image.new("I;16", (20, 20), 40000).save(folder / "sixteen.png")
    palette = Image.new("P", (20, 20), 1)
    palette.info["transparency"] = 1
    palette.save(folder / "palette.png", transparency=1)
    Image.new("CMYK", (20, 20), (0, 50, 100, 0)).save(folder / "cmyk.jpg")
    Image.new("RGBA", (20, 10), (0, 0, 0, 0)).save(folder / "clear.webp")
    rotated = Image.new("RGB", (40, 20), "orange")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90
    rotated.save(folder / "rotated.jpg", exif=exif)
    report = import_files(library, [folder])
    assert not report.failed, report.failed
    assert len(report.imported) == 5
    record = next(r for r in library.iter_images() if r.source_name == "rotated.jpg")
    assert (record.width, record.height) == (20, 40)
    with Image.open(record.thumbnail_path) as thumb:
        assert thumb.width < thumb.height
    for record in library.iter_images():
        with Image.open(record.thumbnail_path) as thumb:
            assert thumb.mode in ("RGB", "RGBA")


def test_export_round_trip(library, make_png, tmp_path):
    path = make_png(text={"parameters": "orig\nSteps: 2, CFG scale: 3, Seed: 4, Model: m1"})
    import_files(library, [path], ImportOptions(prompt="a prompt with ünïcode / and ../ parts",
                                                text_accuracy="9"))
    (record,) = library.page()
    library.set_favorite([record.id])
    out_dir = tmp_path / "out"
    (first,) = export_images(library, [record.id], out_dir)
    (second,) = export_images(library, [record.id], out_dir)
    assert first.parent == out_dir and second.parent == out_dir and first != second
    assert first.name == f"{record.id}-a-prompt-with-unicode-and-parts.png"
    assert second.name.endswith("(2).png")
    with Image.open(first) as image:
        image.load()
        assert "myimages" in image.text and image.text["parameters"].startswith("orig")
        assert image.tobytes() == Image.open(record.path).tobytes()
    other = Library(tmp_path / "other")
    import_files(other, [first])
    (copy,) = other.page()
    assert (copy.prompt, copy.model, copy.text_accuracy) == (record.prompt, "m1", "9")
    assert copy.generated_at == record.generated_at


def test_export_jpeg_becomes_png(library, tmp_path):
    src = tmp_path / "photo.jpg"
    Image.new("RGB", (30, 20), "red").save(src, "JPEG")
    import_files(library, [src], ImportOptions(prompt="jpeg prompt"))
    (record,) = library.page()
    (path,) = export_images(library, [record.id], tmp_path / "out")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (30, 20)
        assert "jpeg prompt" in image.text["myimages"]


def test_a_file_that_is_not_a_picture_is_named_with_its_reason_by_export_grid_and_reparse(library, make_png, tmp_path):
    """Tidy #2: exporting an image whose file was replaced by a text file said "cannot be read (None)" (then a
    bare "cannot identify image file <_io.BytesIO object at 0x…>"). Every such message is one sentence naming the
    file and the reason. Fails without."""
    from store.derived import open_original
    from store.errors import StoreError
    from store.reparse import reparse

    import_files(library, [make_png()])
    (record,) = library.page()
    record.path.chmod(0o644)
    record.path.write_text("my shopping list\n", encoding="utf-8")
    said = f"Image #{record.id}'s file {record.path} cannot be read: not an image Pillow can read."
    with pytest.raises(StoreError) as export:
        export_images(library, [record.id], tmp_path / "out")
    with pytest.raises(StoreError) as cut:
        open_original(library, record.id)  # the grid editor's and clean background's reading
    assert str(export.value) == said and str(cut.value) == said
    assert reparse(library, [record.id]).failed == [
        (record.id, f"its file {record.path} cannot be read: not an image Pillow can read")]
    record.path.unlink()
    with pytest.raises(StoreError) as gone:
        export_images(library, [record.id], tmp_path / "out")
    assert str(gone.value) == f"Image #{record.id}'s file {record.path} cannot be read: No such file or directory."
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_reasons_are_never_none_nor_an_objects_repr():
    """Tidy #2: `exc.strerror` is None for an OSError the system did not raise (Pillow's), and Pillow names the
    BytesIO it read: neither reaches a message."""
    import io as io_module

    from PIL import UnidentifiedImageError

    from store.errors import os_reason, translate, unreadable_reason

    with pytest.raises(UnidentifiedImageError) as unidentified:
        Image.open(io_module.BytesIO(b"not a picture"))
    assert unreadable_reason(unidentified.value) == "not an image Pillow can read"
    assert str(translate(unidentified.value)) == "A file could not be read or written: not an image Pillow can read."
    assert unreadable_reason(OSError("image file is truncated")) == "damaged image data (image file is truncated)"
    assert unreadable_reason(SyntaxError()) == "damaged image data"
    assert unreadable_reason(PermissionError(13, "Permission denied")) == "Permission denied"
    assert os_reason(OSError()) == "an error the system did not name"
    assert os_reason(OSError("disk on fire")) == "disk on fire"
    for text in (unreadable_reason(unidentified.value), str(translate(OSError("at <x.Y object at 0x7f00>")))):
        assert "None" not in text and "0x" not in text and "<" not in text


@pytest.mark.parametrize("text", ["../../etc/passwd", "/absolute", "CON", "a" * 10_000, "", "...", "NUL.txt"])
def test_slug_is_always_a_plain_name(text):
    name = slug(text)
    assert name and "/" not in name and ".." not in name and len(name) <= 60
    assert all(c.isalnum() or c == "-" for c in name)


def test_doctor_repairs(library, make_png):
    import_files(library, [make_png(), make_png()])
    first, second = library.page()
    first.thumbnail_path.unlink()
    orphan = library.files.original_path("ab" * 32, "png")
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"x")
    leftover = first.path.parent / ".tmp-abcd1234"  # a name mkstemp gives
    leftover.write_bytes(b"half")
    second.path.unlink()
    report = check(library, min_age=0)
    assert report.integrity == "ok"
    assert report.thumbnails_made == [first.id] and first.thumbnail_path.exists()
    assert orphan in report.orphans_removed and not orphan.exists()
    assert leftover in report.leftovers_removed and not leftover.exists()
    assert report.missing_originals == [second.id]
    assert library.total() == 2
    report = check(library, min_age=0, remove_missing=True)
    assert report.records_removed == [second.id] and library.total() == 1
    assert check(library, min_age=0).clean


def test_doctor_leaves_young_files_alone(library):
    young = library.files.original_path("cd" * 32, "png")
    young.parent.mkdir(parents=True, exist_ok=True)
    young.write_bytes(b"being imported")
    check(library)  # default: files younger than 10 minutes are not orphans yet
    assert young.exists()


@pytest.mark.parametrize(("name", "pixels", "wanted"), [
    # ComfyUI's comfy-image-saver node: A1111 text whose generation size is half the picture's (a 2x upscale)
    ("comfyui-comfy-image-saver.jpeg", (1024, 1024), ["Size: 512x512", "Model hash: 217daae812", "Version: ComfyUI"]),
    # Civitai: Clip skip, and its resources as JSON (quoted, as A1111 quotes a value with a comma)
    ("civitai.jpeg", (1024, 1024), ["Size: 1024x1024", "Clip skip: 2", 'Civitai resources: "[{']),
])
def test_an_exported_a1111_files_parameters_keep_its_generation_size_and_every_setting(library, tmp_path, name,
                                                                                        pixels, wanted):
    """NEWUSER12 F6: a download (or export) of an A1111-style JPEG rebuilt its `parameters` from six fields with
    `Size` = the picture's pixels (1024x1024 for a file that says 512x512) and dropped the rest (Clip skip, Model
    hash, Version): pasted into A1111 it made another picture. Copy settings' text, then every other pair."""
    from .generator_expectations import GENERATORS

    import_files(library, [GENERATORS / name])
    (record,) = library.page()
    assert (record.width, record.height) == pixels
    (path,) = export_images(library, [record.id], tmp_path / "out")
    with Image.open(path) as image:
        image.load()
        text = image.text["parameters"]
    assert text.startswith(record.settings_text())  # the prompt, the negative prompt, Copy settings' line
    settings = text.splitlines()[-1]
    for pair in wanted:
        assert pair in settings
    assert settings.count("Size: ") == settings.count("CFG scale: ") == 1  # no setting twice (the file: "CFG Scale")


def test_demo_library(library):
    assert generate(library, 60) == 60
    assert library.total() == 60
    assert len(library.collections()) == 3
    assert 0 < library.count(Filters(favorite="favorites")) < 60
    layouts = {r.params.get("layout") for r in library.iter_images()}
    assert {"1x1", "2x2", "3x3", "4x4"} <= layouts
    dates = [r.generated_at for r in library.iter_images()]
    assert (max(dates) - min(dates)).days > 60
    assert len({r.model for r in library.iter_images()}) > 1
    assert library.count(Filters(search="sword")) > 0


def test_demo_sheets_know_their_items():
    for sheet in iter_layout_sheets():
        assert len(sheet.masks) == sheet.rows * sheet.cols
        for box, mask in zip(sheet.boxes, sheet.masks):
            bbox = mask.getbbox()
            assert bbox is not None
            assert box[0] <= bbox[0] and bbox[2] <= box[2]


def test_an_exported_pngs_parameters_line_has_every_setting_the_library_knows(library, make_png, tmp_path):
    """NEWUSER5 §17: an image from another generator (here: settings in its params, as ComfyUI's, InvokeAI's
    and the demo's are kept) was exported with only 'CFG scale' and 'Model' in its A1111 `parameters` line:
    A1111's PNG Info and Civitai saw it seedless and stepless."""
    import json

    from store.models import Image as ImageRow

    import_files(library, [make_png(size=(40, 30))], ImportOptions(prompt="a red potion", model="pixel, v2",
                                                                  text_accuracy="8.5"))
    (record,) = library.page()
    ImageRow.update(params=json.dumps({"noise_seed": 335608130539327, "steps": 13, "sampler_name": "dpmpp_sde"})
                    ).where(ImageRow.id == record.id).execute()
    (path,) = export_images(library, [library.get(record.id).id], tmp_path / "out")
    with Image.open(path) as image:
        settings = image.text["parameters"].splitlines()[-1]
    assert settings == ('Steps: 13, Sampler: dpmpp_sde, CFG scale: 8.5, Seed: 335608130539327, Size: 40x30, '
                        'Model: "pixel, v2"')


def test_a_picture_far_over_the_pixel_limit_is_refused_in_the_words_of_one_just_over(library, tmp_path, monkeypatch):
    """NEWUSER13 #4: a 20000×20000 PNG was refused with Pillow's own text, "image too large (Image size (400000000
    pixels) exceeds limit of 178956970 pixels, could be decompression bomb DOS attack.)", beside a 12000×12000 one's
    "image too large: 12000x12000 pixels is over the limit of 89,478,485". Both now read alike."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000)  # the limit made small: these pictures stay small
    folder = tmp_path / "large"
    write_png(folder / "just-over.png", size=(40, 40))  # 1,600 pixels: over the limit, under twice it
    write_png(folder / "far-over.png", size=(64, 64))  # 4,096 pixels: over twice the limit (Pillow will not open it)
    report = import_files(library, [folder])
    reasons = {p.name: reason for p, reason in report.failed}
    assert reasons == {"just-over.png": "image too large: 40x40 pixels is over the limit of 1,000",
                       "far-over.png": "image too large: 4,096 pixels is over the limit of 1,000"}
