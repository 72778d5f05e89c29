"""Clean background with the real rembg and the pinned u2netp model (no download)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from store import background
from store.background import BackgroundError, clean_image, clean_images, remove_background
from store.demo import BACKGROUNDS, ITEMS, ItemSpec, iter_layout_sheets, render_sheet
from store.errors import NotFound, NotYours
from store.importer import ImportOptions, import_files


def iou(alpha: Image.Image, mask: Image.Image) -> float:
    a = np.asarray(alpha) >= 128
    m = np.asarray(mask) >= 128
    return float((a & m).sum() / max(1, (a | m).sum()))


@pytest.mark.parametrize("background_colour", [BACKGROUNDS[0], BACKGROUNDS[1],
                                               pytest.param(BACKGROUNDS[3], marks=pytest.mark.slow),
                                               pytest.param(BACKGROUNDS[4], marks=pytest.mark.slow)])
def test_cleaned_demo_items_match_their_true_shape(background_colour):
    scores = {}
    for kind, (_, variants) in ITEMS.items():
        sheet = render_sheet([ItemSpec(kind, variants[0])], 1, 1, size=320, background=background_colour)
        result = remove_background(sheet.image)
        assert result.mode == "RGBA" and result.size == sheet.image.size
        scores[kind] = iou(result.getchannel("A"), sheet.masks[0])
    worst = min(scores, key=scores.get)
    assert scores[worst] >= 0.90, scores


def test_cleaned_sheets_keep_every_item():
    for sheet in iter_layout_sheets(size=512):
        alpha = remove_background(sheet.image).getchannel("A")
        for box, mask in zip(sheet.boxes, sheet.masks):
            assert iou(alpha.crop(box), mask.crop(box)) >= 0.90


def test_clean_one_image_makes_a_derived_image(library, tmp_path):
    sheet = render_sheet([ItemSpec("sword", "iron")], 1, 1, size=256)
    path = tmp_path / "sword.png"
    sheet.image.save(path)
    import_files(library, [path], ImportOptions(prompt="iron sword", model="M", text_accuracy="7",
                                                collection="Weapons"))
    (original,) = library.page()
    library.set_favorite([original.id])
    before = original.path.read_bytes()
    new_id = clean_image(library, original.id)
    cleaned = library.get(new_id)
    assert (cleaned.prompt, cleaned.model, cleaned.text_accuracy) == ("iron sword", "M", "7")
    assert cleaned.collections == ["Weapons"]
    assert cleaned.parent_id == original.id and cleaned.derivation == "background removed"
    assert cleaned.origin == f"background removed from #{original.id}"
    assert not cleaned.favorite
    assert original.path.read_bytes() == before  # the original never changes
    with Image.open(cleaned.path) as image:
        assert image.mode == "RGBA"
        assert image.getchannel("A").getextrema() == (0, 255)
        alpha = image.getchannel("A")
    # its thumbnail (made from the source's, with the new alpha) is transparent where the image is
    with Image.open(cleaned.thumbnail_path) as thumb, Image.open(original.thumbnail_path) as source_thumb:
        assert thumb.mode == "RGBA" and thumb.size == source_thumb.size
        small = alpha.resize(thumb.size)
        diff = [abs(a - b) for a, b in zip(thumb.getchannel("A").getdata(), small.getdata())]
        assert sum(diff) / len(diff) < 8
        assert thumb.convert("RGB").tobytes() == source_thumb.convert("RGB").tobytes()
    assert library.page()[0].id == new_id  # its original's date (NEWUSER7 #9), the newer id: shown first


def test_clean_a_selection_goes_on_after_a_failure(library, make_png):
    import_files(library, [make_png(size=(64, 64)), make_png(size=(64, 64))])
    first, second = [r.id for r in library.page()]
    library.get(second).path.unlink()  # this one will fail
    seen = []
    report = clean_images(library, [second, first], progress=lambda done, total, image_id: seen.append(done))
    assert [s for s, _ in report.created] == [first]
    assert report.failed[0][0] == second and "cannot be read" in report.failed[0][1]
    assert seen == [1, 2]


def test_clean_can_be_cancelled(library, make_png):
    import_files(library, [make_png(size=(64, 64)), make_png(size=(64, 64))])
    ids = [r.id for r in library.page()]
    report = clean_images(library, ids, cancelled=lambda: True)
    assert report.cancelled and not report.created
    assert library.total() == 2


def test_clean_refuses_other_accounts_images(library, make_png):
    from store.library import Library

    import_files(library, [make_png()])
    (record,) = library.page()
    mallory = Library(library.root, account="mallory", database_url=library.database_url)
    with pytest.raises(NotYours):  # alice is free: her image is public, but not mallory's to change
        clean_image(mallory, record.id)
    library.set_plan("premium")
    with pytest.raises(NotFound):
        clean_image(mallory, record.id)
    assert library.total() == 1


def test_missing_model_offline_says_how_to_get_it(library, make_png, tmp_path, monkeypatch):
    import pooch

    def offline(*args, **kwargs):
        import requests

        raise requests.exceptions.ConnectionError("no network")

    monkeypatch.setenv("U2NET_HOME", str(tmp_path / "no-models"))
    monkeypatch.setattr(pooch, "retrieve", offline)
    monkeypatch.setattr(background, "_sessions", {})
    import_files(library, [make_png()])
    (record,) = library.page()
    with pytest.raises(BackgroundError) as exc:
        clean_images(library, [record.id], model="u2netp")
    assert "u2netp.onnx" in str(exc.value) and "U2NET_HOME" in str(exc.value)
    assert library.total() == 1


def _offline(monkeypatch):
    """No network: rembg's real downloader (pooch) runs and its request fails at once."""
    import requests

    def refuse(*args, **kwargs):
        raise requests.exceptions.ConnectionError("no network")

    monkeypatch.setattr(requests, "get", refuse)
    monkeypatch.setattr(requests, "head", refuse)


def test_missing_model_names_the_folder_rembg_reads_under_xdg_data_home(library, make_png, tmp_path, monkeypatch,
                                                                        capfd):
    # With XDG_DATA_HOME set, rembg 2.0.86 reads $XDG_DATA_HOME/rembg/models/u2netp/ and $XDG_DATA_HOME/.u2net,
    # not ~/.u2net, which the message named. The model put where the message says is then found.
    import shutil

    _offline(monkeypatch)
    monkeypatch.delenv("U2NET_HOME", raising=False)
    monkeypatch.delenv("REMBG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(background, "_sessions", {})
    import_files(library, [make_png()])
    (record,) = library.page()
    with pytest.raises(BackgroundError) as exc:
        clean_images(library, [record.id], model="u2netp")
    message = str(exc.value)
    folder = str(tmp_path / "data" / "rembg" / "models" / "u2netp")
    assert f"put u2netp.onnx in {folder} (or {tmp_path / 'data' / '.u2net'})" in message, message
    assert ".u2net," not in message.replace(str(tmp_path / "data" / ".u2net"), "")
    assert "Downloading" not in capfd.readouterr().err  # rembg's downloader's line, before the sentence
    assert library.total() == 1
    from .conftest import SHARED

    shutil.copy(SHARED / "models" / "u2netp.onnx", folder)  # the advice followed
    assert background.get_session("u2netp") is not None


def test_the_session_loads_without_rembgs_matting(tmp_path):
    # rembg's package __init__ imports its alpha matting (pymatting), whose numba functions compile on the first
    # import after an install: a minute or more before the first clean, for code the app never runs.
    import subprocess
    import sys

    from .conftest import ROOT

    script = ("import sys; from store.background import get_session; session = get_session('u2netp'); "
              "loaded = [m for m in ('rembg.bg', 'pymatting', 'numba') if m in sys.modules]; "
              "from rembg import remove; print(loaded, callable(remove))")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "True"], out


def refined_the_first_way(picture: Image.Image) -> np.ndarray:
    """The cleaned alpha as the refinement was first written: rembg's mask of the whole picture, then numpy
    throughout on one thread (the colour distance, its objects, those rembg touched, the ramp, the cut)."""
    from scipy import ndimage

    rgb = np.asarray(picture)
    mask = np.asarray(background.get_session("u2netp").predict(picture)[0].convert("L"))
    colour = background.plain_background(rgb)
    if colour is None:
        return mask
    distance = np.abs(rgb.astype(np.int16) - colour.astype(np.int16)).max(axis=2).astype(np.uint8)
    step = 2 if min(distance.shape) >= 512 else 1
    different = distance[::step, ::step] > (background.EDGE_LOW + background.EDGE_HIGH) // 2
    labels, count = ndimage.label(different, structure=np.ones((3, 3)))
    touched = np.unique(labels[(mask[::step, ::step] >= 128) & different])
    touched = touched[touched > 0]
    if count == 0 or touched.size == 0:
        return mask
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    chosen = sizes >= sizes[touched].min() * 0.25
    chosen[0] = False
    chosen[touched] = True
    keep = background._grow(chosen[labels]).repeat(step, axis=0).repeat(step, axis=1)[:rgb.shape[0], :rgb.shape[1]]
    ramp = np.clip((distance.astype(float) - background.EDGE_LOW) * (255 / (background.EDGE_HIGH - background.EDGE_LOW)),
                   0, 255).astype(np.uint8)
    return np.where(keep, ramp, 0).astype(np.uint8)


@pytest.mark.parametrize("size", [(1024, 1024), (1023, 771), (320, 320), "noise"])
def test_the_cleaned_picture_is_the_one_refined_on_one_thread(size):
    # the helper thread and the work moved onto Pillow change no pixel: even sizes, odd ones (the kept area at half
    # resolution cut to size), small ones (full resolution) and a picture without a plain background
    if size == "noise":
        picture = Image.fromarray(np.random.default_rng(4).integers(0, 256, (600, 500, 3), dtype=np.uint8))
    else:
        picture = render_sheet([ItemSpec("sword", "iron"), ItemSpec("axe", "iron")] * 2, 2, 2,
                               size=1024).image.resize(size)
    cleaned = np.asarray(remove_background(picture))
    alpha = cleaned[..., 3]
    assert np.array_equal(alpha, refined_the_first_way(picture))
    shown = alpha != 0
    assert np.array_equal(cleaned[..., :3][shown], np.asarray(picture.convert("RGB"))[shown])
    assert not cleaned[~shown].any()  # what nobody sees is transparent black, as rembg's own cut leaves it


def test_the_colours_under_the_removed_background_are_cleared_and_the_file_is_smaller(library, tmp_path):
    # a real generated picture (ComfyUI, tests/fixtures/generators/SOURCES.md): its colours were kept under the
    # transparent pixels, most of the PNG encode's time and of the file's size
    from pathlib import Path

    from store.derived import png_bytes

    source = Path(__file__).parent / "fixtures" / "generators" / "huggingface-space.png"
    import_files(library, [source])
    (original,) = library.page()
    cleaned = library.get(clean_image(library, original.id))
    with Image.open(cleaned.path) as stored:
        pixels = np.asarray(stored.convert("RGBA"))
    hidden = pixels[..., 3] == 0
    assert hidden.any() and not pixels[hidden].any()
    with Image.open(original.path) as picture:
        kept = picture.convert("RGBA")
    kept.putalpha(Image.fromarray(pixels[..., 3], "L"))  # the same cut with the colours kept, as before
    assert len(cleaned.path.read_bytes()) < len(png_bytes(kept))


def _imported_sheet(library, tmp_path, size: int):
    """A sheet of four iron swords (size x size) imported: its record."""
    path = tmp_path / "sheet.png"
    render_sheet([ItemSpec("sword", "iron")] * 4, 2, 2, size=size).image.save(path)
    import_files(library, [path])
    (original,) = library.page()
    return original


def test_an_image_cleaned_before_its_hidden_colours_were_cleared_is_still_cleaned_before(library, tmp_path):
    # a cleaned copy made by an earlier version kept the colours under its transparent pixels: other bytes, the same
    # picture to the eye; cleaning the image again says "cleaned before", it makes no second copy
    from store.derived import add_derived, derived_image

    original = _imported_sheet(library, tmp_path, 512)
    with Image.open(original.path) as source:
        now = remove_background(source)
        earlier = source.convert("RGBA")
    earlier.putalpha(now.getchannel("A"))  # as the earlier version stored it
    ((old_id, created),) = add_derived(library, original.id, [derived_image(library, original.id, earlier,
                                                                            "background removed")])
    assert created and library.count() == 2
    report = clean_images(library, [original.id])
    assert report.existing == [(original.id, old_id)] and not report.created
    assert library.count() == 2
    assert "cleaned before" in report.summary()


def test_a_clean_stores_the_picture_and_thumbnail_made_one_after_the_other(library, tmp_path):
    # encoded in two halves on two threads while the thumbnail is made on a third: the same bytes as one after the
    # other on one thread, by the two-thread PNG writer (Pillow's one-thread encoder before: 93 ms at 1824x1248)
    from store.png_writer import png_bytes

    original = _imported_sheet(library, tmp_path, 1024)
    cleaned = library.get(clean_image(library, original.id))
    with Image.open(original.path) as source:
        expected = remove_background(source)
    assert cleaned.path.read_bytes() == png_bytes(expected)
    assert cleaned.thumbnail_path.read_bytes() == background.cleaned_thumbnail(original.thumbnail_path, expected)


def test_an_image_cleaned_when_pillow_wrote_the_png_is_still_cleaned_before(library, tmp_path):
    # the cleaned PNGs were Pillow's until the two-thread writer: the same pixels in other bytes. Cleaning such an
    # image again says "cleaned before"; it makes no second copy
    from store.derived import add_derived, derived_image, png_bytes

    original = _imported_sheet(library, tmp_path, 1024)
    with Image.open(original.path) as source:
        now = remove_background(source)
    ((old_id, created),) = add_derived(library, original.id, [derived_image(
        library, original.id, now, "background removed", data=png_bytes(now))])
    from store import png_writer

    assert created and png_bytes(now) != png_writer.png_bytes(now)  # other bytes, the same picture
    report = clean_images(library, [original.id])
    assert report.existing == [(original.id, old_id)] and not report.created
    assert library.count() == 2


def test_the_models_threads_stop_spinning_when_a_run_ends():
    # onnxruntime's default keeps the model's threads spinning after a run: a core kept busy (30 ms and more on
    # 2 cores) against the cut, the encoding, the UI thread and the next image
    session = background.get_session("u2netp")
    assert session.inner_session.get_session_options().get_session_config_entry("session.force_spinning_stop") == "1"


def test_both_runs_one_part_on_the_helper_and_raises_after_both_ended():
    import threading
    import time

    assert background.both(lambda: threading.current_thread().name, lambda: 2)[0].startswith("myimages-clean")
    ended = []

    def slow():
        time.sleep(0.05)
        ended.append(True)

    def fails():
        raise ValueError("second")

    with pytest.raises(ValueError, match="second"):
        background.both(slow, fails)
    assert ended  # not left running
    with pytest.raises(KeyError):
        background.both(lambda: {}["x"], lambda: 1)


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_the_two_thread_resize_is_pillows_pixel_for_pixel(mode):
    # Pillow's two passes done apart (rows in two halves, columns in two halves) on both threads give Pillow's own
    # resize, whichever pass it runs first (Pillow 13 runs the columns first when the height loses far more)
    assert background._passes_are_pillows()
    rng = np.random.default_rng(11 if mode == "L" else 12)
    sizes = [((1824, 1248), (320, 320)), ((320, 320), (1824, 1248)), ((768, 1344), (320, 320)),
             ((320, 320), (768, 1344)), ((1024, 1024), (320, 320)), ((1, 7), (320, 320)), ((320, 320), (1, 1))]
    sizes += [((int(rng.integers(1, 1400)), int(rng.integers(1, 1400))),
               (int(rng.integers(1, 1400)), int(rng.integers(1, 1400)))) for _ in range(60)]
    for (width, height), size in sizes:
        channels = (height, width, 3) if mode == "RGB" else (height, width)
        picture = Image.fromarray(rng.integers(0, 256, channels, dtype=np.uint8), mode)
        assert np.array_equal(np.asarray(background.resize_on_two_threads(picture, size)),
                              np.asarray(picture.resize(size, Image.Resampling.LANCZOS))), ((width, height), size)


@pytest.mark.parametrize("name", ["comfyui-anima.png", "sheet"])
def test_the_mask_is_rembgs_own_with_its_resizes_on_two_threads(name, monkeypatch):
    # the app resizes the picture for the model and the model's mask back itself, half on a helper thread; the mask
    # is the one rembg.remove cuts with (`session.predict`'s), pixel for pixel, on a real picture and on a sheet
    import threading
    from pathlib import Path

    if name == "sheet":
        picture = render_sheet([ItemSpec("sword", "iron")] * 4, 2, 2, size=1024).image.convert("RGB")
    else:
        with Image.open(Path(__file__).parent / "fixtures" / "generators" / name) as source:
            picture = source.convert("RGB")
    session = background.get_session("u2netp")
    expected = np.asarray(session.predict(picture)[0])
    threads = set()
    resize = Image.Image.resize

    def noted(self, *args, **kwargs):
        threads.add(threading.current_thread().name.startswith("myimages-clean"))
        return resize(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "resize", noted)
    (mask,) = background.predict(session, picture)
    monkeypatch.undo()
    assert threads == {True, False}  # on this thread and on the helper
    assert np.array_equal(np.asarray(mask), expected)
    if name != "sheet":  # no plain background: the cut's alpha is that mask, as in rembg.remove's cut
        assert np.array_equal(np.asarray(remove_background(picture).getchannel("A")), expected)


def test_the_plain_background_read_from_the_border_alone_is_the_one_read_from_the_whole():
    from pathlib import Path

    rng = np.random.default_rng(3)
    pictures = [sheet.image.convert("RGB") for sheet in iter_layout_sheets(size=256)]
    with Image.open(Path(__file__).parent / "fixtures" / "generators" / "comfyui-anima.png") as source:
        pictures.append(source.convert("RGB"))
    pictures += [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")
                 for w, h in ((1, 1), (1, 9), (9, 1), (40, 30))]
    pictures += [Image.new("RGB", (w, h), (20, 30, 40)) for w, h in ((1, 1), (2, 5), (300, 200))]
    for picture in pictures:
        whole, border = background.plain_background(np.asarray(picture)), background.plain_background_of(picture)
        assert (whole is None and border is None) or np.array_equal(whole, border), picture.size
    assert background.plain_background_of(pictures[0]) is not None and background.plain_background_of(pictures[-4]) is None


def test_a_clean_reads_the_border_alone_to_find_a_plain_background(monkeypatch):
    # not a numpy copy of the whole picture on the calling thread before the model (3-5 ms at 1824x1248)
    def whole(rgb):
        raise AssertionError("the whole picture was read")

    monkeypatch.setattr(background, "plain_background", whole)
    sheet = render_sheet([ItemSpec("sword", "iron")], 1, 1, size=320)
    assert remove_background(sheet.image).getchannel("A").getextrema() == (0, 255)


def test_the_cut_in_numpy_is_pillows_putalpha_and_masked_paste():
    # the cut now made in place by a table, half on each thread while the halves are PNG-encoded: the same pixels
    # as the image's alpha put on and its hidden colours cleared by Pillow, and the same when done again
    from pathlib import Path

    with Image.open(Path(__file__).parent / "fixtures" / "generators" / "comfyui-anima.png") as source:
        picture = source.convert("RGB")
    rng = np.random.default_rng(8)
    alphas = [rng.integers(0, 256, (picture.height, picture.width), dtype=np.uint8),
              np.where(rng.random((picture.height, picture.width)) < 0.5, 0, 255).astype(np.uint8),
              np.zeros((picture.height, picture.width), np.uint8)]
    for alpha in alphas:
        expected = picture.convert("RGBA")
        expected.putalpha(Image.fromarray(alpha, "L"))
        expected = background.without_hidden_colours(expected, Image.fromarray(alpha, "L"))
        rgba = np.array(picture.convert("RGBA"))
        background.cut_in_place(rgba[:500], alpha[:500])  # a part first, then the whole
        background.cut_in_place(rgba, alpha)
        assert np.array_equal(rgba, np.asarray(expected))


def test_the_work_on_the_picture_alone_runs_beside_the_model_not_beside_the_resize_for_it(monkeypatch):
    # the resize for the model takes both threads: the RGBA copy and plain_parts wait for it, then run while the
    # model does (three threads on two cores slowed the resize before)
    events = []
    resize = background.resize_on_two_threads

    def noted(picture, size):
        out = resize(picture, size)
        events.append(("resized", size))
        return out

    monkeypatch.setattr(background, "resize_on_two_threads", noted)
    picture = render_sheet([ItemSpec("sword", "iron")], 1, 1, size=640).image.convert("RGB")
    session = background.get_session("u2netp")
    masks, other = background.predict_beside(session, picture, lambda: events.append("beside") or 7)
    assert other == 7 and masks[0].size == picture.size
    assert events.index("beside") > events.index(("resized", (320, 320)))


def test_a_selection_cuts_the_next_image_while_this_one_is_stored(library, make_png, monkeypatch):
    # the model on image N+1 runs on another thread while image N is encoded and stored (here); the stores stay on
    # the calling thread, in order
    import threading

    import_files(library, [make_png(size=(64, 64)), make_png(size=(64, 64)), make_png(size=(64, 64))])
    ids = [r.id for r in library.page()]
    cut_started = {image_id: threading.Event() for image_id in ids}
    stored = []
    cut_parts, store_cut = background._cut_parts, background._store_cut

    def noted_cut(picture, model):
        image_id = next(i for i in ids if library.get(i).width == picture.width and i not in stored
                        and not cut_started[i].is_set())
        cut_started[image_id].set()
        return cut_parts(picture, model)

    def noted_store(lib, record, rgba, alpha):
        assert threading.current_thread() is threading.main_thread()
        following = ids.index(record.id) + 1
        if following < len(ids):  # the next one's cut has begun before this one is stored
            assert cut_started[ids[following]].wait(timeout=60)
        stored.append(record.id)
        return store_cut(lib, record, rgba, alpha)

    monkeypatch.setattr(background, "_cut_parts", noted_cut)
    monkeypatch.setattr(background, "_store_cut", noted_store)
    report = clean_images(library, ids)
    assert stored == ids and [source for source, _ in report.created] == ids


def test_a_cancel_drops_the_cut_made_ahead_and_writes_nothing_more(library, make_png):
    import_files(library, [make_png(size=(64, 64)), make_png(size=(64, 64)), make_png(size=(64, 64))])
    ids = [r.id for r in library.page()]
    files = sorted(p for p in library.root.rglob("*") if p.is_file())
    calls = []
    report = clean_images(library, ids, cancelled=lambda: bool(calls.append(1)) or len(calls) > 1)
    assert report.cancelled and [source for source, _ in report.created] == ids[:1]
    assert library.total() == 4
    made = sorted(p for p in library.root.rglob("*") if p.is_file() and p not in files)
    new = library.get(report.created[0][1])
    assert not [p for p in made if p.name.startswith(".tmp-")]
    assert {p for p in made if "originals" in p.parts} == {new.path}  # the next one's cut stored nothing


def test_a_selection_whose_second_image_cannot_be_read_says_so_in_its_turn(library, make_png):
    import_files(library, [make_png(size=(64, 64)), make_png(size=(64, 64))])
    first, second = [r.id for r in library.page()]
    library.get(second).path.unlink()  # read ahead, while the first is stored: failed in its own turn
    seen = []
    report = clean_images(library, [first, second], progress=lambda done, total, image_id: seen.append(image_id))
    assert [s for s, _ in report.created] == [first]
    assert report.failed[0][0] == second and "cannot be read" in report.failed[0][1]
    assert seen == [first, second]


GENERATORS = __import__("pathlib").Path(__file__).parent / "fixtures" / "generators"


@pytest.mark.parametrize("name", ["comfyui-anima.png", "novelai-curated.png"])
def test_a_png_original_decoded_by_libspng_is_pillows_pixel_for_pixel(name, library, monkeypatch):
    # real generated pictures, RGB (ComfyUI, 1824x1248) and RGBA (NovelAI): libspng (pyspng) decodes them in 19 ms
    # where Pillow took 31; the picture a clean cuts is the one it cut before, and libspng is the one that made it
    import pyspng

    decoded = []
    real = pyspng.load
    monkeypatch.setattr(pyspng, "load", lambda data, *args: decoded.append(len(data)) or real(data, *args))
    import_files(library, [GENERATORS / name])
    (record,) = library.page()
    picture = background.original_to_clean(library, record.id, record)
    assert decoded == [(GENERATORS / name).stat().st_size]
    with Image.open(GENERATORS / name) as source:
        source.load()
        expected = source.copy()
    assert picture.mode == expected.mode and picture.size == expected.size
    assert np.array_equal(np.asarray(picture), np.asarray(expected))


def pngs_pillow_reads_itself(tmp_path) -> dict[str, bytes]:
    import io

    with Image.open(GENERATORS / "comfyui-anima.png") as source:
        small = source.convert("RGB").resize((64, 48))

    def saved(picture: Image.Image, **options) -> bytes:
        out = io.BytesIO()
        picture.save(out, "PNG", **options)
        return out.getvalue()

    exif = Image.Exif()
    exif[0x0112] = 6  # turned: display_image turns it upright
    return {"palette": saved(small.quantize(16)), "grey": saved(small.convert("L")), "16 bits": _by_hand(small, sixteen=True),
            "interlaced": _by_hand(small, interlaced=True),
            "transparent colour": saved(small, transparency=(1, 2, 3)),
            "orientation": saved(small, exif=exif.tobytes()),
            "broken": saved(small)[:-200] + b"\0" * 200, "not a picture": b"\x89PNG\r\n\x1a\n" + b"x" * 100}


def _by_hand(picture: Image.Image, interlaced: bool = False, sixteen: bool = False) -> bytes:
    # what Pillow does not write: an Adam7-interlaced PNG, a 16-bit RGB one (Pillow reads it as 8-bit RGB)
    import struct
    import zlib

    pixels = np.asarray(picture)
    if sixteen:
        pixels = (pixels.astype(">u2") * 257 + np.arange(pixels.shape[1]).reshape(1, -1, 1)).astype(">u2")
    height, width, _ = pixels.shape
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    rows = b""
    for x0, y0, dx, dy in passes if interlaced else [(0, 0, 1, 1)]:
        part = pixels[y0::dy, x0::dx]
        if part.size:
            rows += b"".join(b"\0" + row.tobytes() for row in part)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 16 if sixteen else 8, 2, 0, 0, int(interlaced))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_a_png_libspng_would_not_give_pillows_picture_of_is_read_by_pillow(library, tmp_path, monkeypatch):
    # palette, grey, 16 bits, interlaced, a transparent colour, an EXIF orientation, a broken file: libspng is not
    # asked or its answer not taken, and the picture (or the one-sentence error) is Pillow's, as before
    from store.derived import open_original

    for kind, data in pngs_pillow_reads_itself(tmp_path).items():
        assert background.spng_picture(data) is None, kind
        path = tmp_path / f"{kind}.png"
        path.write_bytes(data)
        if kind in ("broken", "not a picture"):
            continue  # not imported: Pillow refuses them at the import already
        library_before = {r.id for r in library.page()}
        import_files(library, [path])
        (record,) = [r for r in library.page() if r.id not in library_before]
        picture = background.original_to_clean(library, record.id, record)
        expected = open_original(library, record.id, record)
        assert (picture.mode, picture.size) == (expected.mode, expected.size), kind
        assert np.array_equal(np.asarray(picture), np.asarray(expected)), kind
