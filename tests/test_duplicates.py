"""Duplicates and near-duplicates (issue 16): the same picture in another file, on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from store.demo import generate
from store.duplicates import _pairs_within
from store.importer import ImportOptions, import_files

from .conftest import REAL_METADATA


def variants(path, folder) -> list:
    """The same picture re-encoded (JPEG, WebP), resized to half, and as a PNG without its metadata."""
    folder.mkdir(parents=True, exist_ok=True)
    with PILImage.open(path) as image:
        picture = image.convert("RGB")
    out = []
    for name, size, fmt, options in (("jpeg.jpg", 1, "JPEG", {"quality": 80}), ("half.webp", 2, "WEBP", {}),
                                     ("bare.png", 1, "PNG", {})):
        target = folder / f"{path.stem}-{name}"
        resized = picture.resize((picture.width // size, picture.height // size)) if size > 1 else picture
        resized.save(target, fmt, **options)
        out.append(target)
    return out


def test_reencodes_and_resizes_group_but_demo_sheets_do_not(library, tmp_path):
    generate(library, count=24)
    assert library.fill_perceptual_hashes() == 0  # the demo makes them with its pictures, as an import does
    assert library.duplicates() == []  # 24 different sheets of one style: no group
    originals = [r for r in library.page(limit=3)]
    for record in originals:
        import_files(library, variants(record.path, tmp_path / "variants"))
    assert library.fill_perceptual_hashes() == 0  # an import makes the hash (from its thumbnail)
    groups = library.duplicates()
    assert sorted(g.keep.id for g in groups) == sorted(r.id for r in originals)  # the original: largest, a prompt
    assert all(len(g.others) == 3 and g.distance <= 6 for g in groups)
    assert {o.ext for g in groups for o in g.others} == {"jpg", "webp", "png"}


def test_real_generator_files_too_small_to_compare_are_never_grouped(library):
    """The real generator files kept for the tests are cropped to 1x1 pixels: nothing to compare, no group."""
    files = sorted(p for p in REAL_METADATA.iterdir() if p.suffix in (".png", ".jpg", ".webp"))
    import_files(library, files)
    assert library.fill_perceptual_hashes() == 0  # marked at import as too small to compare
    assert library.duplicates() == []


def test_keeping_one_moves_favorites_and_collections_to_it_and_trashes_the_rest(library, tmp_path, make_png):
    path = make_png(size=(200, 150))
    with PILImage.open(path):  # a picture with structure: a flat colour hashes like any other
        noise = np.random.default_rng(3).integers(0, 255, (15, 20, 3), dtype=np.uint8)
        PILImage.fromarray(noise).resize((200, 150), PILImage.BICUBIC).save(path)
    import_files(library, [path], ImportOptions(prompt="the original"))
    import_files(library, variants(path, tmp_path / "v")[:2])
    library.fill_perceptual_hashes()
    (group,) = library.duplicates()
    assert group.keep.prompt == "the original"
    favorite, other = group.others
    library.set_favorite([favorite.id])
    shelf = library.ensure_collection("Shelf")
    library.add_to_collection([other.id], shelf.id)
    assert library.merge_duplicates(group.keep.id, [favorite.id, other.id]) == 2
    kept = library.get(group.keep.id)
    assert kept.favorite and kept.collections == ["Shelf"] and library.total() == 1
    assert {t.record.id for t in library.trashed()} == {favorite.id, other.id}
    assert library.duplicates() == []  # trashed images are not grouped


def test_the_original_is_kept_before_its_export_imported_again(library, tmp_path, make_png):
    """NEWUSER7 #28: an image exported (its bytes and the app's `myimages` chunk: a larger file) and imported again
    was the one kept, and the generator's original would have gone to the trash. The export's chunk now says what it
    is a copy of; an export of an older version (its chunk without it) is known as a copy all the same."""
    from store.export import export_images
    from store.models import Image as ImageRow

    path = make_png(size=(200, 150))
    noise = np.random.default_rng(5).integers(0, 255, (15, 20, 3), dtype=np.uint8)
    PILImage.fromarray(noise).resize((200, 150), PILImage.BICUBIC).save(path)
    ((_, original),) = import_files(library, [path], ImportOptions(prompt="blue wyvern")).imported
    (exported,) = export_images(library, [original], tmp_path / "exp")
    ((_, copy),) = import_files(library, [exported]).imported
    assert library.get(copy).file_size > library.get(original).file_size  # the export is the larger file
    assert library.get(copy).params["_export_of"] == library.get(original).sha256
    library.fill_perceptual_hashes()
    (group,) = library.duplicates()
    assert group.keep.id == original and [o.id for o in group.others] == [copy]
    params = dict(library.get(copy).params, _export_of="?")  # as an older version's export reads
    ImageRow.update(params=json.dumps(params)).where(ImageRow.id == copy).execute()
    (group,) = library.duplicates()
    assert group.keep.id == original


def test_an_image_made_from_another_is_no_duplicate_of_it_and_never_the_one_kept(capsys, tmp_path, make_png):
    """A cleaned copy (or a grid cell) was grouped with its original and proposed as the one to keep: `duplicates
    --trash --yes` trashed the original of every cut-out (new-user test 5, item 2). It is no duplicate of what it
    was made from, and in a real group the kept one is an original."""
    from store.derived import add_derived, derived_image
    from tui.cli import main

    path = make_png(size=(200, 150))
    noise = np.random.default_rng(5).integers(0, 255, (15, 20, 3), dtype=np.uint8)
    PILImage.fromarray(noise).resize((200, 150), PILImage.BICUBIC).save(path)
    folder = tmp_path / "cli"
    library = ["--library", str(folder)]
    assert main(["import", str(path), *library]) == 0
    from store.library import Library

    store = Library(folder, account="alice")
    with PILImage.open(path) as picture:
        cut = picture.convert("RGBA")  # the larger file, as a cleaned copy is
    ((cleaned, _created),) = add_derived(store, 1, [derived_image(store, 1, cut, "background removed")])
    store.fill_perceptual_hashes()
    capsys.readouterr()
    assert main(["duplicates", "--trash", "--yes", *library]) == 0
    assert capsys.readouterr().out == "No duplicates.\n" and library_total(folder) == 2
    assert main(["import", *map(str, variants(path, tmp_path / "v")[:1]), *library]) == 0  # a real duplicate
    store.fill_perceptual_hashes()
    (group,) = store.duplicates()
    assert group.keep.id == 1 and cleaned != group.keep.id
    capsys.readouterr()
    assert main(["duplicates", "--trash", "--yes", *library]) == 0
    assert "  keep  #1" in capsys.readouterr().out and 1 not in {t.record.id for t in store.trashed()}


def test_restoring_trashed_duplicates_takes_back_what_the_merge_gave(library, tmp_path, make_png):
    """New-user test items 3 and 4: restoring the trashed duplicates left their favorites and collections on
    the kept image. Now it loses what they gave, unless a duplicate still in the trash (or erased) gave it too."""
    path = make_png(size=(200, 150))
    noise = np.random.default_rng(4).integers(0, 255, (15, 20, 3), dtype=np.uint8)
    PILImage.fromarray(noise).resize((200, 150), PILImage.BICUBIC).save(path)
    import_files(library, [path], ImportOptions(prompt="the original"))
    smaller = tmp_path / "smaller.jpg"
    PILImage.open(path).convert("RGB").resize((150, 112)).save(smaller, "JPEG", quality=70)
    import_files(library, [*variants(path, tmp_path / "v")[:2], smaller])
    library.fill_perceptual_hashes()
    (group,) = library.duplicates()
    keep = group.keep.id
    a, b, c = (r.id for r in group.others)
    mine, shelf, box = (library.ensure_collection(name) for name in ("Mine", "Shelf", "Box"))
    library.add_to_collection([keep, b], mine.id)  # the kept one's own: never taken back
    library.set_favorite([a])
    library.add_to_collection([a, b], shelf.id)
    library.add_to_collection([c], box.id)

    def kept():
        record = library.get(keep)
        return record.favorite, sorted(record.collections)

    assert library.merge_duplicates(keep, [a, b, c]) == 3
    assert kept() == (True, ["Box", "Mine", "Shelf"])
    library.delete_forever([c])  # erased: what it gave stays for good
    assert library.restore([a]) == 1
    assert kept() == (False, ["Box", "Mine", "Shelf"])  # b, still in the trash, gives Shelf too
    assert library.restore([b]) == 1
    assert kept() == (False, ["Box", "Mine"])
    restored = library.get(a)
    assert restored.favorite and restored.collections == ["Shelf"]  # the duplicates come back as they were
    assert sorted(library.get(b).collections) == ["Mine", "Shelf"]
    library.set_favorite([keep])  # a favorite before the merge stays one after its undo
    assert library.merge_duplicates(keep, [a, b]) == 2 and kept() == (True, ["Box", "Mine", "Shelf"])
    library.restore([a, b])
    assert kept() == (True, ["Box", "Mine"])


def test_pairs_within_matches_comparing_every_pair():
    rng = np.random.default_rng(5)
    base = rng.integers(0, 2**63, 300, dtype=np.uint64)
    flips = np.uint64(1) << rng.integers(0, 64, (300, 3)).astype(np.uint64)
    values = np.concatenate([base, base ^ flips[:, 0] ^ flips[:, 1], base ^ flips[:, 0] ^ flips[:, 1] ^ flips[:, 2]])
    for distance in (0, 2, 6):
        every = {(i, j) for i in range(len(values)) for j in range(i + 1, len(values))
                 if bin(int(values[i]) ^ int(values[j])).count("1") <= distance}
        assert set(_pairs_within(values, distance)) == every


def library_total(root) -> int:
    from store.library import Library

    with Library(root, account="alice") as library:
        return library.total()


def test_command_line_duplicates(capsys, tmp_path, make_png, monkeypatch):
    from tui.cli import main

    path = make_png(size=(120, 90))
    noise = np.random.default_rng(9).integers(0, 255, (9, 12, 3), dtype=np.uint8)
    PILImage.fromarray(noise).resize((120, 90), PILImage.BICUBIC).save(path)
    library = ["--library", str(tmp_path / "cli")]
    assert main(["import", str(path), *map(str, variants(path, tmp_path / "v")[:1]), *library]) == 0
    capsys.readouterr()
    assert main(["duplicates", "--json", *library]) == 0
    (group,) = json.loads(capsys.readouterr().out)
    assert group["keep"] == 1 and group["others"] == [2] and len(group["images"]) == 2
    assert main(["duplicates", "--trash", *library]) == 1  # new-user test item 3: it asks, like delete
    assert "add --yes" in capsys.readouterr().err and library_total(tmp_path / "cli") == 2
    assert main(["duplicates", "--trash", "--json", *library]) == 1 and library_total(tmp_path / "cli") == 2
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda question: "n")
    assert main(["duplicates", "--trash", *library]) == 1
    assert "Nothing trashed." in capsys.readouterr().out and library_total(tmp_path / "cli") == 2
    assert main(["duplicates", "--trash", "--yes", *library]) == 0
    out = capsys.readouterr().out
    assert "  keep  #1" in out and "  trash #2" in out and "1 image moved to the trash" in out
    assert library_total(tmp_path / "cli") == 1
    assert main(["duplicates", *library]) == 0 and capsys.readouterr().out == "No duplicates.\n"
    assert main(["duplicates", "--distance", "99", *library]) == 1


def test_command_line_duplicates_says_files_leave_source_folders(capsys, tmp_path, make_png, monkeypatch):
    """New-user test 3 item 2: `duplicates --trash` moved a file out of a watched folder without a word (the
    TUI's duplicates view and `delete` say so)."""
    from tui.cli import main

    path = make_png(size=(120, 90))
    noise = np.random.default_rng(9).integers(0, 255, (9, 12, 3), dtype=np.uint8)
    PILImage.fromarray(noise).resize((120, 90), PILImage.BICUBIC).save(path)
    library = ["--library", str(tmp_path / "cli")]
    (tmp_path / "watched").mkdir()
    webp = variants(path, tmp_path / "v")[1].rename(tmp_path / "watched" / "crystal.webp").resolve()
    assert main(["import", str(path), *library]) == 0 and main(["source", "add", str(webp.parent), *library]) == 0
    capsys.readouterr()
    asked: list[str] = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda question: asked.append(question) or "n")
    assert main(["duplicates", "--trash", *library]) == 1
    assert f"Its file in your source folder moves into the library's trash: {webp}." in asked[-1]
    assert main(["duplicates", "--trash", "--yes", *library]) == 0
    assert f"1 image moved to the trash; 1 file moved out of your source folders: {webp} (" \
        in capsys.readouterr().out
    assert not webp.exists()


async def test_the_app_makes_missing_hashes_in_the_background(library, tmp_path):
    """A library older than the hashes (or the demo) gets them while the app runs."""
    from store.models import Image
    from tui.app import MyImagesApp

    from . import ui

    generate(library, count=6)
    Image.update(phash=None).execute()
    app = MyImagesApp(library, images="halfcell", downloads=tmp_path / "downloads")
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.wait_until(pilot, lambda: not Image.select().where(Image.phash.is_null()).exists(), timeout=20)
    assert library.duplicates() == []


def test_real_generator_files_group_with_their_resizes_and_upscales_and_not_with_each_other(library, tmp_path):
    """Real files: Civitai's file, its hires pass and its upscale are one picture; a half-size WebP of the
    Automatic1111 JPEG joins it; the other generators' pictures (one style, one model family: krea2 and
    SD.Next are the closest pair, 16 bits apart) stay apart."""
    from .generator_expectations import GENERATORS as FIXTURES

    names = ["civitai.jpeg", "civitai-hires.jpg", "civitai-upscale.jpg", "sd-webui.jpg", "sd-next.jpg", "krea2.png",
             "forge-neo.webp", "swarmui.jpg"]
    files = [FIXTURES / name for name in names]
    half = tmp_path / "sd-webui-half.webp"
    with PILImage.open(FIXTURES / "sd-webui.jpg") as image:
        image.convert("RGB").resize((512, 512)).save(half, "WEBP", quality=80)
    report = import_files(library, [*files, half])
    ids = {path.name: image_id for path, image_id in report.imported}
    groups = {frozenset(r.id for r in g.records): g for g in library.duplicates()}
    assert set(groups) == {frozenset(ids[n] for n in names[:3]), frozenset((ids["sd-webui.jpg"], ids[half.name]))}
    assert groups[frozenset((ids["sd-webui.jpg"], ids[half.name]))].keep.id == ids["sd-webui.jpg"]  # the larger


def test_flat_pictures_of_different_colours_are_not_duplicates(library, make_png):
    """pHash sees structure only: every one-colour picture hashes alike, so flat ones are not compared."""
    import_files(library, [make_png(size=(64, 64), colour=(200, 30, 30)), make_png(size=(64, 64), colour=(30, 30, 200))])
    assert library.duplicates() == []


def test_one_shape_in_other_colours_is_not_a_duplicate(library, tmp_path):
    """The demo draws items of one style as one shape in other colours (a red and a purple apple): pHash
    compares brightness only and hashes them alike; their colours tell them apart. A re-encode still groups."""
    from PIL import ImageDraw

    def apple(colour, name):
        picture = PILImage.new("RGB", (256, 256), (250, 240, 220))
        draw = ImageDraw.Draw(picture)
        draw.ellipse((60, 70, 196, 206), fill=colour, outline=(40, 20, 20), width=6)
        draw.rectangle((122, 40, 134, 80), fill=(110, 70, 30))
        path = tmp_path / name
        picture.save(path)
        return path

    red, purple = apple((200, 30, 30), "red.png"), apple((130, 40, 150), "purple.png")
    jpeg = tmp_path / "red.jpg"
    PILImage.open(red).save(jpeg, "JPEG", quality=80)
    report = import_files(library, [red, purple, jpeg])
    ids = {Path(source).name: image_id for source, image_id in report.imported}
    assert ids.keys() == {"red.png", "purple.png", "red.jpg"}
    groups = library.duplicates()
    assert [{g.keep.id, *(o.id for o in g.others)} for g in groups] == [{ids["red.png"], ids["red.jpg"]}]


def test_the_background_pass_rests_between_batches_and_a_cancel_stops_it(library, monkeypatch):
    """The app's pass over an older library works at most `share` of the time (it sleeps three times its work
    at 0.25 after each batch) and a cancel while it rests ends it there."""
    from store.models import Image

    generate(library, count=3)
    Image.update(phash=None).execute()  # an older library
    monkeypatch.setattr("store.duplicates.BATCH", 1)
    rests: list[float] = []
    monkeypatch.setattr("time.sleep", rests.append)
    def cancelled() -> bool:  # as soon as it rests
        return bool(rests)

    assert library.fill_perceptual_hashes(cancel=cancelled, share=0.25) == 1
    assert len(rests) == 1 and 0 < rests[0] <= 0.1
    rests.clear()
    assert library.fill_perceptual_hashes(share=0.25) == 2 and len(rests) >= 2
    assert library.fill_perceptual_hashes() == 0


def pattern(path, squares=8, colours=((220, 0, 90), (250, 205, 205)), stripes=False, size=256):
    """A synthetic pattern as the new-user tester made: a checkerboard (or stripes) of two colours."""
    y, x = np.indices((size, size)) * squares // size
    odd = (x % 2 if stripes else (x + y) % 2).astype(bool)
    picture = np.where(odd[..., None], np.array(colours[0], np.uint8), np.array(colours[1], np.uint8))
    PILImage.fromarray(picture.astype(np.uint8)).save(path)
    return path


def test_a_lossy_webp_of_a_pattern_groups_with_its_png_and_other_patterns_do_not(library, tmp_path):
    """New-user test item 15: a lossy WebP (quality 50-80) of a 256x256 checkerboard PNG was not grouped with it
    even at distance 16: the checkerboard has nothing at pHash's frequencies, its pHash is ties that the WebP's
    noise flips (31 bits). Its dHash groups them; the same checkerboard in other colours, a finer one and
    stripes of two widths (one dHash, one 4x4 colour signature) stay apart."""
    board = pattern(tmp_path / "board.png")
    copies = []
    for quality in (50, 80):
        copies.append(tmp_path / f"board-q{quality}.webp")
        PILImage.open(board).save(copies[-1], "WEBP", quality=quality)
    copies.append(tmp_path / "board-half.webp")
    PILImage.open(board).resize((128, 128)).save(copies[-1], "WEBP", quality=70)
    others = [pattern(tmp_path / "board-blue.png", colours=((20, 40, 200), (200, 220, 250))),
              pattern(tmp_path / "board-4.png", squares=4),
              pattern(tmp_path / "stripes-8.png", stripes=True, colours=((40, 40, 40), (220, 220, 220))),
              pattern(tmp_path / "stripes-16.png", squares=16, stripes=True, colours=((40, 40, 40), (220, 220, 220)))]
    report = import_files(library, [board, *copies, *others])
    ids = {Path(source).name: image_id for source, image_id in report.imported}
    assert len(ids) == 8
    (group,) = library.duplicates()
    assert {r.id for r in group.records} == {ids[p.name] for p in [board, *copies]}
    assert group.keep.id == ids["board.png"]  # the lossless one of the largest, though the WebPs are larger files
    assert all(r.file_size > group.keep.file_size for r in group.others if r.width == 256)


def test_demo_sheets_alike_in_dhash_are_not_grouped(tmp_path):
    """dHash is nearly all zeros on sheets of small items over a flat background: different sheets share it
    (the demo's 30 first sheets have 14 pairs within 6 bits). It is used only for pictures whose pHash is
    fragile, so only sheets that are the same picture (pixel for pixel) group."""
    import random

    from store.demo import demo_sheet
    from store.duplicates import picture_hashes
    from store.library import Library

    rng = random.Random(7)
    sheets = [demo_sheet(rng, 384)[0].image for _ in range(30)]
    hashes = [picture_hashes(sheet) for sheet in sheets]
    close = [(i, j) for i in range(30) for j in range(i + 1, 30)
             if bin(int(hashes[i][1], 16) ^ int(hashes[j][1], 16)).count("1") <= 6
             and np.asarray(sheets[i]).tobytes() != np.asarray(sheets[j]).tobytes()]
    assert len(close) >= 10  # the test means something: an "either hash" rule would group these
    folder = tmp_path / "sheets"
    folder.mkdir()
    for n, sheet in enumerate(sheets):
        sheet.save(folder / f"{n}.png")
    with Library(tmp_path / "lib", account="alice") as library:
        report = import_files(library, sorted(folder.iterdir()))
        picture = {image_id: np.asarray(sheets[int(Path(source).stem)]).tobytes()
                   for source, image_id in report.imported}
        for group in library.duplicates():
            assert len({picture[r.id] for r in group.records}) == 1, "different sheets grouped"


def test_an_older_library_gains_the_dhash_and_its_fragile_phash_is_made_again(library, db_url, tmp_path):
    """A library of schema 15 (no dHash; a checkerboard's pHash of ties, as the older version made it): the
    upgrade adds the column, the background pass makes both hashes again, and the WebP copy groups."""
    from store.library import Library
    from store.migrations import LATEST
    from store.models import Image

    board = pattern(tmp_path / "board.png")
    webp = tmp_path / "board.webp"
    PILImage.open(board).save(webp, "WEBP", quality=80)
    import_files(library, [board, webp])
    library.db.execute_sql("ALTER TABLE image DROP COLUMN dhash")
    library.db.execute_sql("UPDATE image SET phash = '8000000000000000' WHERE source_name = 'board.png'")
    library.db.execute_sql("UPDATE image SET phash = '9f887fa8d6a0bb80' WHERE source_name = 'board.webp'")
    library.db.execute_sql("UPDATE setting SET value = '15' WHERE key = 'schema_version'")
    library.close()
    again = Library(library.root, account="alice", database_url=db_url)
    try:
        version = again.db.execute_sql("SELECT value FROM setting WHERE key = 'schema_version'").fetchone()[0]
        assert version == str(LATEST) and "dhash" in {c.name for c in again.db.get_columns("image")}
        assert again.duplicates() == []  # the old hashes: 31 bits apart
        assert again.fill_perceptual_hashes() == 2
        assert not Image.select().where(Image.dhash.is_null() | (Image.dhash == "")).exists()
        (group,) = again.duplicates()
        assert {r.source_name for r in group.records} == {"board.png", "board.webp"}
    finally:
        again.close()


def test_a_thin_part_in_other_colours_is_not_a_duplicate(library, tmp_path):
    """The 200-image demo grouped a ring drawn cyan with one drawn silver on one dark background: pHash 4 bits
    apart, 4×4 colours within 29 (the ring is thin, the background fills the cells). 8×8 cells tell them apart
    (62); a JPEG of the cyan one still groups with it."""
    from PIL import ImageDraw

    def ring(colour, name):
        picture = PILImage.new("RGB", (256, 256), (60, 90, 70))
        draw = ImageDraw.Draw(picture)
        draw.ellipse((60, 80, 196, 216), outline=colour, width=14)
        draw.polygon([(100, 40), (156, 40), (170, 60), (128, 90), (86, 60)], fill=(120, 220, 240))
        picture.save(tmp_path / name)
        return tmp_path / name

    cyan, silver = ring((80, 220, 230), "cyan.png"), ring((200, 200, 205), "silver.png")
    jpeg = tmp_path / "cyan.jpg"
    PILImage.open(cyan).save(jpeg, "JPEG", quality=80)
    report = import_files(library, [cyan, silver, jpeg])
    ids = {Path(source).name: image_id for source, image_id in report.imported}
    assert [{r.id for r in g.records} for g in library.duplicates()] == [{ids["cyan.png"], ids["cyan.jpg"]}]


def test_an_import_hashes_the_thumbnail_in_memory_the_same_as_its_png(tmp_path, monkeypatch):
    """The importer has the thumbnail's picture in memory: its perceptual hashes are made from it, not from the
    thumbnail's PNG decoded again (as 84d7469 did for the mini), and are the very same (PNG is lossless), on every
    real generator file and on small pictures of each mode (a small one's thumbnail is the picture itself, hashed
    while it is open). Fails without (the PNG's bytes given)."""
    import io

    import store.importer
    from store.duplicates import thumbnail_hashes
    from store.importer import prepare_bytes

    from .generator_expectations import GENERATORS as FIXTURES

    files = {path.name: path.read_bytes() for folder in (FIXTURES, REAL_METADATA, REAL_METADATA / "edge")
             for path in sorted(folder.iterdir()) if path.is_file() and path.suffix != ".md" and path.stat().st_size}
    gradient = PILImage.radial_gradient("L").resize((300, 200))
    transparent = gradient.convert("P")
    transparent.info["transparency"] = 0
    for name, picture in (("grey.png", gradient), ("small-rgba.png", gradient.resize((40, 30)).convert("RGBA")),
                          ("transparent.png", transparent), ("sixteen.png", gradient.convert("I;16")),
                          ("small.jpg", gradient.resize((60, 40)).convert("RGB"))):
        out = io.BytesIO()
        picture.save(out, "JPEG" if name.endswith(".jpg") else "PNG")
        files[name] = out.getvalue()
    given: list[type] = []

    def spied(thumbnail, width, height):
        given.append(type(thumbnail))
        return thumbnail_hashes(thumbnail, width, height)

    monkeypatch.setattr(store.importer, "thumbnail_hashes", spied)
    compared = 0
    for name, data in files.items():
        new, _meta, _chunks = prepare_bytes(data, name)
        from_png = thumbnail_hashes(new.thumbnail, new.width, new.height)
        assert from_png is not None and (new.phash, new.dhash) == from_png, name
        compared += from_png != ("-", "-")
    assert len(given) == len(files) and bytes not in given
    assert compared >= 25  # real pictures, not placeholders too small to compare
