"""Mini thumbnails (store/files.py MINI_SIZE, store/minis.py): made on import, remade by the background pass for a
library older than them, removed with the picture, looked after by doctor, and what the half-cell cards draw."""
from __future__ import annotations

import os

from PIL import Image

from store import minis
from store.doctor import check
from store.files import MINI_SIZE
from store.importer import ImportOptions, import_files
from store.library import Library
from widgets.thumbnails import GRID_PIXELS, load_picture

from . import ui
from .conftest import write_png
from .test_duplicates_ui import dup_lib  # noqa: F401 - a fixture


def _pixels(path):
    picture = load_picture(path, GRID_PIXELS)
    assert picture is not None, path
    return picture.size, picture.tobytes()


def test_import_makes_the_mini_the_grid_would_have_drawn(library, make_png):
    import_files(library, [make_png(size=(900, 600)), make_png(size=(40, 30), mode="RGBA")])
    for record in library.page():
        assert record.mini_path == library.files.mini_path(record.sha256) and record.mini_path.exists()
        with Image.open(record.mini_path) as mini:
            assert max(mini.size) <= MINI_SIZE
        # the card shows the same pixels from the mini as it showed from the thumbnail: nothing on screen changes
        assert _pixels(record.mini_path) == _pixels(record.thumbnail_path)
    assert {p for p in library.files.walk() if p.is_relative_to(library.files.minis)} == \
        {r.mini_path for r in library.page()}


def test_an_import_makes_the_mini_from_the_thumbnail_in_memory_not_from_its_png(library, make_png, monkeypatch):
    """The importer has the thumbnail's picture in memory: its mini is shrunk from it (the same pixels, the PNG
    being lossless), not from the thumbnail's PNG decoded again (about 1.5 ms an image)."""
    from store import files

    given: list[type] = []
    make_mini = files.make_mini

    def spied(thumbnail):
        given.append(type(thumbnail))
        return make_mini(thumbnail)

    monkeypatch.setattr(files, "make_mini", spied)
    import_files(library, [make_png(size=(900, 600)), make_png(size=(40, 30), mode="RGBA")])
    assert len(given) == 2 and bytes not in given
    for record in library.page():
        assert _pixels(record.mini_path) == _pixels(record.thumbnail_path)


def test_a_thumbnail_no_mini_can_be_made_of_still_stores_the_image(tmp_path):
    """The mini is a shortcut for the cards: a thumbnail Pillow cannot read (the store's callers may give any bytes)
    stores the image and its thumbnail, without a mini, and refuses nothing."""
    from store.files import FileStore
    files = FileStore(tmp_path)
    sha = "ab" * 32
    assert files.store(sha, "png", b"original", b"not a picture")
    assert files.original_path(sha, "png").read_bytes() == b"original"
    assert files.thumbnail_path(sha).read_bytes() == b"not a picture"
    assert not files.mini_path(sha).exists()
    files.put_thumbnail(sha, b"still not a picture")
    assert files.thumbnail_path(sha).read_bytes() == b"still not a picture"
    assert not files.mini_path(sha).exists()


def test_delete_removes_the_mini(library, make_png):
    import_files(library, [make_png(), make_png()])
    gone, kept = library.page()
    library.delete([gone.id])
    assert not gone.mini_path.exists() and not gone.thumbnail_path.exists()
    assert kept.mini_path.exists()


def _older_library(library, count):
    """A library as an older version left it: thumbnails, no minis, no pass begun."""
    for record in library.page():
        record.mini_path.unlink()
    (library.files.root / minis.MARK).unlink(missing_ok=True)
    return sorted(library.page(), key=lambda r: r.sha256)


def test_the_pass_makes_every_missing_mini_once_and_goes_on_where_it_stopped(tmp_path, db_url, make_png):
    alice = Library(tmp_path / "lib", account="alice", database_url=db_url)
    bob = Library(tmp_path / "lib", account="bob", database_url=db_url)
    try:
        import_files(alice, [make_png() for _ in range(4)])
        records = _older_library(alice, 4)
        folders = sorted({r.sha256[:2] for r in records})
        # cancelled at once: nothing made, nothing marked
        assert alice.make_minis(cancel=lambda: True) == 0 and minis.progress(alice.files) == ""
        # a pass that stopped after its first folder: the next goes on from the second (the first's minis, were
        # they gone since, are not looked for again)
        first = [r for r in records if r.sha256[:2] == folders[0]]
        answers = iter([False] * (1 + len(first)) + [True] * 100)  # (asked before each folder and each mini)
        assert alice.make_minis(cancel=lambda: next(answers)) == len(first)
        assert minis.progress(alice.files) == folders[0] and all(r.mini_path.exists() for r in first)
        first[0].mini_path.unlink()
        # another account (a shared library) may write: it makes them for everyone
        assert bob.make_minis() == len(records) - len(first)
        assert minis.all_made(alice.files) and bob.make_minis() == 0
        assert [r.mini_path.exists() for r in records] == [r not in first[:1] for r in records]
        assert _pixels(records[-1].mini_path) == _pixels(records[-1].thumbnail_path)
    finally:
        bob.close()
        alice.close()


def test_the_pass_stops_on_a_full_disk_and_goes_past_a_mini_it_may_not_write(tmp_path, make_png, monkeypatch):
    import errno

    library = Library(tmp_path / "lib", account="alice")
    try:
        import_files(library, [make_png() for _ in range(3)])
        records = _older_library(library, 3)
        real = library.files.make_mini
        refused: dict[str, int] = {}

        def make_mini(sha256):
            if sha256 in refused:
                raise OSError(refused[sha256], os.strerror(refused[sha256]))
            return real(sha256)

        monkeypatch.setattr(library.files, "make_mini", make_mini)
        refused[records[0].sha256] = errno.ENOSPC
        assert library.make_minis() == 0 and minis.progress(library.files) == ""  # (no error: tried again later)
        refused[records[0].sha256] = errno.EACCES
        assert library.make_minis() == 2 and minis.all_made(library.files)
        assert [r.mini_path.exists() for r in records] == [False, True, True]
    finally:
        library.close()


def test_the_pass_writes_nothing_for_an_account_that_may_not_write(library, make_png):
    import_files(library, [make_png()])
    (record,) = _older_library(library, 1)
    library.read_only = True  # (as a library opened read-only: tests/test_permissions.py opens one so)
    assert library.make_minis() == 0 and not record.mini_path.exists()
    assert minis.progress(library.files) == ""


def test_doctor_remakes_missing_and_damaged_minis_and_removes_orphan_ones(tmp_path, make_png):
    library = Library(tmp_path / "lib", account="alice")
    try:
        import_files(library, [make_png() for _ in range(3)], ImportOptions(prompt="x"))
        missing, damaged, fine = library.page()
        missing.mini_path.unlink()
        damaged.mini_path.write_bytes(damaged.mini_path.read_bytes()[:40])  # cut short
        kept = fine.mini_path.read_bytes()
        orphan = library.files.mini_path("cd" * 32)
        orphan.parent.mkdir(parents=True, exist_ok=True)
        orphan.write_bytes(kept)
        report = check(library, min_age=0)
        assert sorted(report.minis_made) == sorted([missing.id, damaged.id])
        assert _pixels(damaged.mini_path) == _pixels(damaged.thumbnail_path) and missing.mini_path.exists()
        assert fine.mini_path.read_bytes() == kept  # a mini of a record is not an orphan
        assert report.orphans_removed == [orphan] and not orphan.exists()
        assert not report.needs_user and "2 missing or damaged mini thumbnails made again" in report.lines()
        assert check(library, min_age=0).minis_made == []
    finally:
        library.close()


def _drawn_colours(widget) -> set:
    """The true colours of the half-block cells a widget draws (a card's or a tile's picture)."""
    found = set()
    for y in range(widget.size.height):
        for segment in widget.render_line(y):
            style = segment.style
            if segment.text and set(segment.text) == {"▀"} and style and style.bgcolor and style.color:
                found |= {style.color.triplet, style.bgcolor.triplet}
    return found


async def _card_colours(library, size) -> set:
    """The true colours of the cells the only card of the gallery draws its picture with, once it has drawn it."""
    from tui.app import MyImagesApp
    from widgets.card import ImageCard

    app = MyImagesApp(library, images="halfcell")
    async with app.run_test(size=size) as pilot:
        card = app.screen.query(ImageCard).first()
        await ui.wait_until(pilot, lambda: card.record is not None and card.thumbnail_key is None
                            and bool(_drawn_colours(card)), timeout=15)
        await app.workers.wait_for_complete()
        return _drawn_colours(card)


async def test_a_card_draws_the_mini_and_the_thumbnail_while_there_is_none(tmp_path):
    """The mini is what a half-cell card reads: a mini of another colour than its thumbnail shows on the card (at
    80x24 and 160x48); with the mini gone (an older library's, the pass not done), the thumbnail does."""
    from rich.color_triplet import ColorTriplet

    red, blue = ColorTriplet(255, 0, 0), ColorTriplet(0, 0, 255)
    library = Library(tmp_path / "lib", account="alice")
    try:
        import_files(library, [write_png(tmp_path / "in" / "a.png", size=(64, 64), colour=(0, 0, 255))])
        (record,) = library.page()
        Image.new("RGB", (MINI_SIZE, MINI_SIZE), (255, 0, 0)).save(record.mini_path)
        for size in ((80, 24), (160, 48)):
            assert await _card_colours(library, size) == {red}
        assert minis.all_made(library.files)  # (the app's pass looked: nothing left to make)
        record.mini_path.unlink()
        assert await _card_colours(library, (80, 24)) == {blue}
    finally:
        library.close()


async def test_the_duplicates_view_draws_the_minis(dup_lib, tmp_path):
    """The duplicates view's tiles read the minis too (the same pixels, ten times faster): a red mini shows red."""
    from rich.color_triplet import ColorTriplet

    from widgets.picture_tile import PictureTile

    from .test_duplicates_ui import open_view
    from .test_gallery import make_app

    for record in dup_lib.page():
        Image.new("RGB", (MINI_SIZE, MINI_SIZE), (255, 0, 0)).save(record.mini_path)
    app = make_app(dup_lib, tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_view(pilot, app)
        tiles = list(screen.query(PictureTile))

        def drawn() -> bool:
            return bool(tiles) and all(not tile.thumb_missing and _drawn_colours(tile) for tile in tiles)

        await ui.wait_until(pilot, drawn, timeout=15)
        assert all(_drawn_colours(tile) == {ColorTriplet(255, 0, 0)} for tile in tiles)
