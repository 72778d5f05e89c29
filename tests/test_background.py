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
