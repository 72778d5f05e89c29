"""Variation stacks (issue 16): images whose settings are identical except the seed are one stack."""
from __future__ import annotations

import json
from dataclasses import replace

from PIL import Image as PILImage, PngImagePlugin

from store.importer import import_files
from store.models import Image
from store.records import Filters

from .generator_expectations import GENERATORS


def with_parameters(source, target, **changes):
    """A real file's metadata (Hugging Face Space's `parameters` JSON) with some values changed, on a small
    copy of its picture: what the same generator writes for the next image of a batch (another seed)."""
    with PILImage.open(source) as image:
        text = dict(image.text)
        picture = image.convert("RGB").resize((64, 64))
    parameters = json.loads(text["parameters"])
    parameters.update(changes)
    info = PngImagePlugin.PngInfo()
    for key, value in text.items():
        info.add_text(key, json.dumps(parameters) if key == "parameters" else value)
    picture.save(target, pnginfo=info)
    return target


def test_a_batch_of_real_metadata_is_one_stack_and_other_settings_are_not(library, tmp_path):
    source = GENERATORS / "huggingface-space.png"
    seed = json.loads(PILImage.open(source).text["parameters"])["seed"]
    batch = [with_parameters(source, tmp_path / f"seed{n}.png", seed=seed + n) for n in range(3)]
    other_steps = with_parameters(source, tmp_path / "steps.png", seed=seed + 7, num_inference_steps=99)
    report = import_files(library, [*batch, other_steps, GENERATORS / "sd-webui.jpg", GENERATORS / "forge-neo.webp"])
    ids = {path.name: image_id for path, image_id in report.imported}
    assert len(ids) == 6
    stacked = Filters(stacked=True)
    assert library.count(stacked) == 4 and library.count(Filters()) == 6
    records = library.page(stacked, 0, 10)
    sizes = {r.id: r.stack for r in records}
    newest_of_batch = max((ids[p.name] for p in batch), key=lambda i: (library.get(i).generated_at, i))
    assert sizes[newest_of_batch] == 3  # the batch's first image in the order stands for it
    assert {sizes[ids[n]] for n in ("steps.png", "sd-webui.jpg", "forge-neo.webp")} == {1}
    members = replace(stacked, batch=library.get(newest_of_batch).batch)
    assert sorted(library.ids(members)) == sorted(ids[p.name] for p in batch)
    assert library.position(ids["forge-neo.webp"], stacked) is not None
    assert len(library.ids(stacked)) == 6  # select all: every image of every stack
    # one of the batch in the trash: the stack counts two
    library.trash([ids["seed1.png"]])
    assert {r.id: r.stack for r in library.page(stacked, 0, 10)}[newest_of_batch if newest_of_batch != ids[
        "seed1.png"] else ids["seed2.png"]] == 2


def test_images_without_a_seed_or_a_prompt_never_stack(library, make_png):
    from store.importer import ImportOptions

    import_files(library, [make_png(), make_png()], ImportOptions(prompt="same prompt, no seed"))
    import_files(library, [make_png(), make_png()])
    assert library.count(Filters(stacked=True)) == 4


def test_an_older_library_gets_its_batch_keys_made(library, tmp_path):
    source = GENERATORS / "huggingface-space.png"
    seed = json.loads(PILImage.open(source).text["parameters"])["seed"]
    import_files(library, [with_parameters(source, tmp_path / f"s{n}.png", seed=seed + n) for n in range(2)])
    Image.update(batch=None).execute()
    assert library.count(Filters(stacked=True)) == 2  # no keys yet: nothing stacks
    assert library.fill_batches() == 2
    assert library.count(Filters(stacked=True)) == 1


# -- in the app ---------------------------------------------------------------------------------------

import os  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from store.library import Library  # noqa: E402
from tui.gallery_screen import GalleryScreen  # noqa: E402
from tui.viewer_screen import ViewerScreen  # noqa: E402
from widgets.card import ImageCard  # noqa: E402

from . import ui  # noqa: E402
from .test_gallery import grid, make_app, status  # noqa: E402

SIZES = [(80, 24), (160, 48)]
# the keyboard test at 160x48 is in the slow run (the CI budget); the mouse test runs at both sizes
KEY_SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), marks=pytest.mark.slow, id="160x48")]


@pytest.fixture
def batch_lib(tmp_path):
    """Three seed variations of a real file's settings (#1-#3), then two other real files (#4, #5)."""
    library = Library(tmp_path / "stacks", account="alice")
    source = GENERATORS / "huggingface-space.png"
    seed = json.loads(PILImage.open(source).text["parameters"])["seed"]
    batch = [with_parameters(source, tmp_path / f"seed{n}.png", seed=seed + n) for n in range(3)]
    import_files(library, batch)
    import_files(library, [GENERATORS / "sd-webui.jpg", GENERATORS / "forge-neo.webp"])
    yield library
    library.close()


def caption(app) -> str:
    """The large view's caption line (its place in the result first)."""
    return ui.screen_lines(app)[-2].strip()


def stack_card(app) -> ImageCard:
    return next(c for c in app.screen.query(ImageCard) if c.record is not None and c.record.stack > 1)


@pytest.mark.parametrize("size", KEY_SIZES)
async def test_a_stack_card_opens_its_members_and_esc_comes_back_to_it(batch_lib, tmp_path, size):
    app = make_app(batch_lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.wait_until(pilot, lambda: status(app).startswith("5 of 5 images · 3 cards"), timeout=15)
        await ui.settle(pilot, app)
        card = stack_card(app)
        assert "▤ 3" in card.header_text
        index = card.index  # (cards are reused for other images when the grid scrolls)
        await pilot.press("end")  # a single image: Enter shows it large, as always
        await pilot.press("enter")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, ViewerScreen), timeout=15)
        # tidy #4: the large view said "3 / 3" (cards) beside the status line's "5 of 5 images"; fails without
        await ui.wait_until(pilot, lambda: caption(app).startswith("3 / 3 cards · 5 images  #"))
        await pilot.press("escape")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen))
        await pilot.press("home")
        while grid(app).cursor != index:
            await pilot.press("right")
        await pilot.press("enter")  # the stack: its three images
        await ui.wait_until(pilot, lambda: status(app).startswith("3 of 5 images · one stack"), timeout=15)
        await ui.settle(pilot, app)
        members = [grid(app).record_at(i) for i in range(grid(app).total)]
        assert sorted(r.id for r in members) == [1, 2, 3] and all(r.stack == 0 for r in members)
        await pilot.press("enter")  # in the stack, Enter shows an image large
        await ui.wait_until(pilot, lambda: isinstance(app.screen, ViewerScreen), timeout=15)
        await ui.wait_until(pilot, lambda: caption(app).startswith("1 / 3  #"))  # its images, as the status line
        await pilot.press("escape")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen))
        await pilot.press("escape")  # back to the stacks, on the stack card
        await ui.wait_until(pilot, lambda: status(app).startswith("5 of 5 images · 3 cards"), timeout=15)
        await ui.wait_until(pilot, lambda: grid(app).current is not None and grid(app).current.stack == 3,
                            timeout=15)


async def test_a_search_typed_inside_a_stack_stays_when_esc_leaves_it(batch_lib, tmp_path):
    """New-user test 4 item 5: a search typed inside a stack, then Esc: the box showed it, the grid the result of
    the search before the stack."""
    app = make_app(batch_lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.wait_until(pilot, lambda: status(app).startswith("5 of 5 images · 3 cards"), timeout=15)
        await ui.settle(pilot, app)
        while grid(app).current is None or grid(app).current.stack != 3:
            await pilot.press("right")
        await pilot.press("enter")
        await ui.wait_until(pilot, lambda: status(app).startswith("3 of 5 images · one stack"), timeout=15)
        await pilot.press("slash", *"id:4-5", "enter")  # none of the stack's images
        await ui.wait_until(pilot, lambda: status(app).startswith("0 of 5 images · one stack of the same settings,"),
                            timeout=15)
        await pilot.press("escape", "escape")
        await ui.wait_until(pilot, lambda: status(app).startswith("2 of 5 images · id 4"), timeout=15)
        assert sorted(grid(app).record_at(i).id for i in range(2)) == [4, 5]
        assert app.screen.query_one("#search").value == "id:4-5"


async def test_selecting_a_stack_card_selects_its_images(batch_lib, tmp_path):
    """New-user test 3 item 11: Space on a `▤ 3` card said "1 selected" and `d` asked about its top image only.
    A selection is of images, as select-all's (every image of every stack): the card stands for its three."""
    from textual.widgets import Static

    from tui.confirm_delete import ConfirmDeleteScreen

    app = make_app(batch_lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_the_stack_of_three(pilot, app)
        await pilot.press("d")  # nothing selected: the top image, and the question says so
        await ui.wait_until(pilot, lambda: isinstance(app.screen, ConfirmDeleteScreen))
        assert str(app.screen.query_one("#question", Static).render()).endswith(
            "(the top of a stack of 3: the other 2 stay; Space on the card selects them all)?")
        await pilot.press("escape")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen))
        await pilot.press("space")
        await ui.wait_until(pilot, lambda: grid(app).selected == {1, 2, 3})
        assert str(app.screen.query_one("#bulk-count", Static).render()) == "3 selected"
        await pilot.press("d")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, ConfirmDeleteScreen))
        question = str(app.screen.query_one("#question", Static).render())
        assert question == "Are you sure you want to delete these 3 images?"
        await pilot.press("escape")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen))
        await pilot.press("space")  # and unselecting it unselects them all
        await ui.wait_until(pilot, lambda: not grid(app).selected)
        card = stack_card(app)  # the mouse: the card's check box
        await pilot.click(card, offset=card.check_offset)
        await ui.wait_until(pilot, lambda: grid(app).selected == {1, 2, 3})
        assert batch_lib.total() == 5


async def test_double_click_opens_a_stack_and_s_turns_stacking_off_and_is_remembered(batch_lib, tmp_path):
    app = make_app(batch_lib, tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await ui.wait_until(pilot, lambda: status(app).startswith("5 of 5 images · 3 cards"), timeout=15)
        await ui.settle(pilot, app)
        card = stack_card(app)
        await pilot.click(card, offset=(10, 5), times=2)
        await ui.wait_until(pilot, lambda: status(app).startswith("3 of 5 images · one stack"), timeout=15)
        await pilot.press("escape")
        await ui.wait_until(pilot, lambda: status(app).startswith("5 of 5 images · 3 cards"), timeout=15)
        await pilot.press("S")
        await ui.wait_until(pilot, lambda: status(app) == "5 of 5 images", timeout=15)
        await ui.settle(pilot, app)
        assert grid(app).total == 5
        assert app.settings.stacks is False
        settings = Path(os.environ["MYIMAGES_CONFIG"])
        await ui.wait_until(pilot, lambda: settings.exists() and "stacks = false" in settings.read_text(), timeout=15)
        await pilot.press("S")
        await ui.wait_until(pilot, lambda: status(app).startswith("5 of 5 images · 3 cards"), timeout=15)


async def to_the_stack_of_three(pilot, app) -> None:
    """batch_lib's gallery shown (its 3 cards), the cursor on its card of three images."""
    await ui.wait_until(pilot, lambda: status(app).startswith("5 of 5 images · 3 cards"), timeout=15)
    await ui.settle(pilot, app)
    while grid(app).current.stack != 3:
        await pilot.press("right")


def test_an_image_made_from_another_never_stacks_with_it(library, tmp_path):
    """A grid cell or a cleaned image keeps its source's prompt and settings: it is not a seed variation."""
    source = GENERATORS / "huggingface-space.png"
    seed = json.loads(PILImage.open(source).text["parameters"])["seed"]
    first = with_parameters(source, tmp_path / "a.png", seed=seed)
    (image_id,) = [i for _, i in import_files(library, [first]).imported]
    import hashlib

    from store.files import make_thumbnail
    from store.library import NewImage

    record = library.get(image_id)
    cell = PILImage.new("RGB", (32, 32), (9, 9, 9))
    data = (tmp_path / "cell.png")
    cell.save(data)
    library.add_images([NewImage(
        sha256=hashlib.sha256(data.read_bytes()).hexdigest(), ext="png", data=data.read_bytes(),
        thumbnail=make_thumbnail(cell), width=record.width, height=record.height, prompt=record.prompt,
        negative_prompt=record.negative_prompt, model=record.model, text_accuracy=record.text_accuracy,
        params={**record.params, "seed": seed + 1}, parent_id=image_id, derivation="cell 1,1")])
    assert library.count(Filters()) == 2 and library.count(Filters(stacked=True)) == 2


async def test_one_stack_card_is_counted_in_the_singular(batch_lib, tmp_path):
    """New-user test item 14: "1 cards: seed variations stacked"; a batch may also hold images of one seed."""
    batch_lib.delete([r.id for r in batch_lib.iter_images() if r.batch != batch_lib.get(1).batch])
    app = make_app(batch_lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.wait_until(pilot, lambda: status(app).startswith("3 of 3 images · "), timeout=15)
        assert status(app) == "3 of 3 images · 1 card: same settings stacked (S shows each)"


# -- PostgreSQL: a stacked page read along the order's index ------------------------------------------

def _batches(library):
    """Batches of 1-5 seed variations with interleaved dates, ties in date and size, favorites inside batches,
    images with no key (NULL) and with none to have (0), for comparing stacked pages."""
    from .test_query import new

    items, n = [], 0
    for k in range(9):
        for _ in range(k % 5 + 1):
            n += 1
            width = 1024 if k % 3 == 0 else 512
            prompt = f"{'ring' if k % 2 else 'necklace'} batch {k}" if k != 8 else ""  # 8: no prompt, key 0
            items.append(new(n, prompt, days=(n * 7) % 11, params={"seed": n, "steps": 20}, width=width,
                             height=width, model="flux-dev" if k % 4 == 1 else "sd15"))
    ids = [i for i, _ in library.add_images(items)]
    library.set_favorite(ids[1::4])
    Image.update(batch=None).where(Image.id.in_(ids[19:22])).execute()  # not made yet: each its own card
    return ids  # 25 images, 14 cards: batches 0-7, two of batch 7 without a key, the four of batch 8


def test_a_stacked_page_on_postgresql_is_the_window_functions_answer(library, monkeypatch):
    """On PostgreSQL a stacked page keeps the images no earlier match of their batch precedes (NOT EXISTS),
    and counts cards by an estimate above ESTIMATE_ABOVE: the same cards, order and stack sizes as the
    window functions over every match (_stacked_sql), in every order, for searches that keep parts of batches,
    page by page; `position` (the cards before an image's, counted from the matches before it) finds each card
    where the windows have it and no place for a batch's other images."""
    import pytest

    from store import search
    from store.pages import LibrarySource
    from store.query import SORTS
    from store.records import FAVORITES_ONLY, NON_FAVORITES, Count

    if not library.uses_postgres:
        pytest.skip("PostgreSQL only (SQLite stacks in its catalog)")
    every = _batches(library)
    cases = [Filters(stacked=True, sort=sort, seed=5) for sort in SORTS] + [
        Filters(stacked=True, sort="random", seed=seed) for seed in (0, 2, 6)] + [  # the shuffle walked up, down
        Filters(stacked=True, search="ring sort:random", seed=4),
        Filters(stacked=True, search="ring"), Filters(stacked=True, search="seed:>=9 sort:oldest"),
        Filters(stacked=True, search="-is:fav sort:largest"), Filters(stacked=True, favorite=FAVORITES_ONLY),
        Filters(stacked=True, search="batch sort:prompt"), Filters(stacked=True, search="model:flux seed:<9"),
        Filters(stacked=True, search="ring seed:>=3"), Filters(stacked=True, search="batch -is:fav sort:oldest"),
        Filters(stacked=True, search="batch", favorite=NON_FAVORITES)]  # the walk's index and the table row both test
    for filters in cases:
        window = library._stacked_sql(filters)
        assert 0 < len(window) < library.count(replace(filters, stacked=False)) or not filters.search
        paged = [card for offset in range(0, len(window) + 4, 4) for card in library._stacked_page(filters, offset, 4)[0]]
        assert paged == window, filters
        source = LibrarySource(library, filters, None)  # each page read on from where the one before it ended
        assert [(r.id, r.stack) for offset in range(0, len(window) + 4, 4) for r in source.fetch(offset, 4)] == window
        assert all([(r.id, r.stack) for r in source.fetch(at, 4)] == window[at:at + 4] for at in (1, 6, 11))
        assert [(r.id, r.stack) for r in library.page(filters, 4, 8)] == window[4:12], filters  # the walk
        monkeypatch.setattr(search, "FEW_MATCHES", 0)  # a large result counted exactly: walked, its end from the end
        assert all([(r.id, r.stack) for r in library.page(filters, at, 4, count_hint=len(window))] == window[at:at + 4]
                   for at in range(len(window) + 1)), filters
        monkeypatch.setattr(search, "FEW_MATCHES", 5000)
        count, page = library.query(filters, 0, 60)  # a small result: counted exactly, paged by the windows
        assert count == Count(len(window)) and [(r.id, r.stack) for r in page] == window, filters
        cards = [i for i, _ in window]  # a card's place counted from the matches before it; a batch's others none
        assert [library.position(i, filters) for i in every[::2]] == [cards.index(i) if i in cards else None
                                                                       for i in every[::2]], filters
    assert library.count(Filters(stacked=True)) == 14
    library.db.execute_sql("ANALYZE image")
    monkeypatch.setattr(search, "ESTIMATE_ABOVE", 5)
    count = library.estimate(Filters(stacked=True))  # the planner's 25 images times the sample's cards per image
    assert not count.exact and str(count) == f"about {count.n}" and 8 <= count.n <= 20, count  # 25: no share
    monkeypatch.setattr(search, "ESTIMATE_ABOVE", 14)
    assert library.estimate(Filters(stacked=True)) == Count(14)  # cards counted: fewer than ESTIMATE_ABOVE + 1


def test_a_stacked_page_on_postgresql_tests_the_indexed_fields_in_the_index(library, monkeypatch):
    """A stacked page newest first walks the covering index (param_columns.LIVE_ORDER_INDEX) as a plain page does
    (`_walk_where`): the fields it holds tested in the index, the prompt and the first-of-its-batch test on the
    table row of an image that passed them; before, every walked image's table row was read (or every match of
    each condition, as bitmaps, and sorted: 0.4-0.7 s for a rare combination at 1,000,000 images)."""
    import pytest

    if not library.uses_postgres:
        pytest.skip("PostgreSQL only (SQLite stacks in its catalog)")
    _batches(library)
    library.db.execute_sql("VACUUM image")  # the visibility map an index-only scan needs (autovacuum's in use)
    statements = []
    execute = library.db.execute_sql
    monkeypatch.setattr(library.db, "execute_sql", lambda sql, params=None, *a, **k: (
        statements.append((sql, params)), execute(sql, params, *a, **k))[1])
    filters = Filters(stacked=True, search="ring seed:>=3")
    assert [(i, n) for i, n in library._stacked_page(filters, 0, 60)[0]] == library._stacked_sql(filters)
    monkeypatch.undo()
    [(sql, params)] = [(sql, params) for sql, params in statements if "mark0" in sql]  # the walk
    library.db.execute_sql("SET enable_seqscan = off")
    try:
        plan = "\n".join(r[0] for r in library.db.execute_sql("EXPLAIN " + sql, params).fetchall())
    finally:
        library.db.execute_sql("RESET enable_seqscan")
    assert "Index Only Scan using image_live_order" in plan and "Sort" not in plan, plan


def test_a_stacked_result_the_planner_expects_many_of_is_counted_from_its_first_page(library, monkeypatch):
    """On PostgreSQL, where the planner expects over SURE_TIMES times ESTIMATE_ABOVE images, a stacked query's
    count is the planner's images times the first page's cards per image (its stacks' sizes), read without
    reading matches until ESTIMATE_ABOVE + 1 cards (`_images_to_cards`); a short first page is the whole result,
    counted exactly."""
    import pytest

    from store import search
    from store.records import Count

    if not library.uses_postgres:
        pytest.skip("PostgreSQL only (SQLite stacks in its catalog)")
    _batches(library)
    library.db.execute_sql("ANALYZE image")
    window = library._stacked_sql(Filters(stacked=True))  # 14 cards of 25 images
    monkeypatch.setattr(search, "ESTIMATE_ABOVE", 3)
    monkeypatch.setattr(search.Search, "_images_to_cards", lambda *a: pytest.fail("matches read to count cards"))
    count, page = library.query(Filters(stacked=True), 0, 6)
    assert [(r.id, r.stack) for r in page] == window[:6]
    planned = library._planned(Image.select(Image.id).where(*library._where(Filters())))  # about the 25 images
    assert planned > 6 and not count.exact, (planned, count)
    assert count.n == search._two_digits(round(planned * 6 / sum(n for _, n in window[:6]))), count
    assert library.query(Filters(stacked=True), 0, 60) == (Count(14), library.page(Filters(stacked=True), 0, 60))


def test_a_page_on_postgresql_is_the_whole_result_sorted(library, monkeypatch):
    """On PostgreSQL a page of a result counted by an estimate is read along the order's index, the random
    order in two walks (query_sql.order_parts: from the seed's place in the shuffle to its end, then from its
    start), with OFFSET in each: page by page, in every order, for seeds that walk the shuffle up and down and
    for searches, the pages are the whole result sorted by the order's keys (`ids`), and `position` (the
    matches before an image, counted by its keys) is an image's index there, and so is a page read from the end
    (the order reversed); a seed's order stays the same and other seeds give other orders."""
    import pytest

    from store import pages
    from store.pages import LibrarySource
    from store.query import SORTS
    from store.records import FAVORITES_ONLY

    if not library.uses_postgres:
        pytest.skip("PostgreSQL only (SQLite sorts in its catalog)")
    every = _batches(library)
    cases = [Filters(sort=sort, seed=5) for sort in SORTS] + [Filters(sort="random", seed=seed) for seed in range(5)] + [
        Filters(search="ring sort:random", seed=6), Filters(search="batch -is:fav sort:random", seed=3),
        Filters(favorite=FAVORITES_ONLY, sort="random", seed=8), Filters(search="zzz sort:random", seed=1)]
    for filters in cases:
        whole = library.ids(filters)
        assert [r.id for offset in range(0, len(whole) + 3, 3) for r in library.page(filters, offset, 3)] == whole
        source = LibrarySource(library, filters, None)  # each page read on from where the one before it ended
        assert [r.id for offset in range(0, len(whole) + 7, 7) for r in source.fetch(offset, 7)] == whole, filters
        assert all([r.id for r in source.fetch(at, 3)] == whole[at:at + 3] for at in (1, 5, 13, 20)), filters
        assert [library.position(i, filters) for i in every[::2]] == [whole.index(i) if i in whole else None
                                                                       for i in every[::2]], filters
        # a page nearer the end of a result counted exactly is read from the end, the order reversed
        assert all([r.id for r in library.page(filters, at, 3, count_hint=len(whole))] == whole[at:at + 3]
                   for at in range(len(whole) + 1)), filters
        if len(whole) >= 6:
            far = LibrarySource(library, filters, None)  # a jump past pages.FAR rows counts the result first
            monkeypatch.setattr(pages, "FAR", 4)
            assert [r.id for r in far.fetch(len(whole) - 2, 3)] == whole[-2:] and far.total == len(whole), filters
            monkeypatch.setattr(pages, "FAR", 5000)
    orders = {tuple(library.ids(Filters(sort="random", seed=seed))) for seed in range(1, 7)}
    assert len(orders) == 6 and all(sorted(order) == sorted(every) for order in orders)
    assert library.ids(Filters(sort="random", seed=9)) == library.ids(Filters(sort="random", seed=9))


def test_the_catalog_stacks_the_first_of_each_batch_in_any_order():
    """The catalog's stacks (made once per change) give what grouping each result's batch keys gives: the first
    image of each batch in the result's order, standing for the batch's images in the result; batch 0 and a batch
    of one image never stack; positions as a slice (the whole library in its order) too."""
    import numpy as np

    from store.catalog import _Stacks

    def reference(positions, batches):
        first, counts = {}, {}
        for place, position in enumerate(positions):
            key = int(batches[position])
            if key:
                first.setdefault(key, place)
                counts[key] = counts.get(key, 0) + 1
        kept = [(p, counts[int(batches[p])] if batches[p] else 1) for n, p in enumerate(positions)
                if not batches[p] or first[int(batches[p])] == n]
        return [p for p, _ in kept], [size for _, size in kept]

    rng = np.random.default_rng(16)
    for n, keys in ((0, 1), (1, 3), (40, 5), (300, 60), (2000, 2000)):
        batches = rng.integers(-keys, keys, n).astype(np.int64) * 7919
        stacks = _Stacks(batches)
        for positions in (slice(None), slice(None, None, -1), rng.permutation(n), np.sort(rng.choice(n, n // 3, replace=False))):
            as_array = np.arange(n)[positions]
            stacked = stacks.first_of_each(positions)
            got = (as_array.tolist(), [1] * len(as_array)) if stacked is None else (
                stacked[0].tolist(), stacked[1].tolist())
            assert got == reference(as_array.tolist(), batches), (n, keys)
    assert _Stacks(np.array([5, 6, 0, 7], np.int64)).first_of_each(slice(None)) is None  # nothing stacks


async def test_the_selection_stays_through_a_stack_and_a_new_search_and_esc_clears_it(batch_lib, tmp_path):
    """NEWUSER7 #7: Enter on a stack card, or any new search, dropped the whole selection without a word. Now it
    stays: the stack's images show selected inside it, Esc goes back out of the stack with the selection, a
    search adds to it (ctrl+a adds its result) and the bulk bar counts them all; Esc in the gallery clears it."""
    from textual.widgets import Static

    app = make_app(batch_lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_the_stack_of_three(pilot, app)
        stack_index = grid(app).cursor
        await pilot.press("space")  # the stack: #1-#3
        others = [i for i in range(grid(app).total) if i != stack_index]
        await pilot.press(*(["right"] if others[0] > stack_index else ["left"]), "space")
        await ui.wait_until(pilot, lambda: len(grid(app).selected) == 4)
        chosen = set(grid(app).selected)
        count = app.screen.query_one("#bulk-count", Static)
        while grid(app).cursor != stack_index:
            await pilot.press("left" if grid(app).cursor > stack_index else "right")
        await pilot.press("enter")  # into the stack
        await ui.wait_until(pilot, lambda: status(app).startswith("3 of 5 images · one stack"), timeout=15)
        await ui.settle(pilot, app)
        assert grid(app).selected == chosen and str(count.render()) == "4 selected"
        assert str(app.screen.query_one("#bulk-keys", Static).render()).endswith("Esc goes back")
        first = grid(app).current.id
        await pilot.press("space")  # one of its images unselected in there
        await ui.wait_until(pilot, lambda: grid(app).selected == chosen - {first})
        await pilot.press("escape")  # back out: the rest of the selection is still there
        await ui.wait_until(pilot, lambda: app.screen.filters.batch is None and grid(app).total == 3, timeout=15)
        await ui.settle(pilot, app)
        assert grid(app).selected == chosen - {first} and str(count.render()) == "3 selected"
        assert str(app.screen.query_one("#bulk-keys", Static).render()).endswith("Esc clears")
        missing = ({1, 2, 3, 4, 5} - chosen).pop()
        shown = ui.notices(app)
        await pilot.press("slash", *f"id:{missing}", "enter")  # a new search adds to the selection
        await ui.wait_until(pilot, lambda: grid(app).total == 1 and grid(app).current is not None
                            and grid(app).current.id == missing, timeout=15)
        await ui.settle(pilot, app)
        assert grid(app).selected == chosen - {first} and str(count.render()) == "3 selected"
        await pilot.press("ctrl+a")
        await ui.wait_until(pilot, lambda: missing in grid(app).selected)
        assert grid(app).selected == (chosen - {first}) | {missing} and str(count.render()) == "4 selected"
        assert shown[-1] == "1 image selected, 4 in all."
        await pilot.press("escape")  # Esc clears it, all of it
        await ui.wait_until(pilot, lambda: not grid(app).selected)
        assert batch_lib.total() == 5


def test_stacked_pages_before_the_sqlite_catalog_is_built_are_the_catalogs(library):
    """SQLite, a library opened with no saved catalog: the gallery's first stacked pages (no search, newest
    first) come from SQL, walking the date index (3 ms at 1,000,000 images, where they waited 40 s for the
    catalog's build), and are the cards, order and stack sizes the catalog gives once built, from either end."""
    import pytest

    if library.uses_postgres:
        pytest.skip("SQLite only (PostgreSQL has no catalog)")
    _batches(library)
    stacked = Filters(stacked=True)
    assert not library.catalog.ready
    count, first = library.query(stacked, 0, 60)
    paged = [(r.id, r.stack) for offset in range(0, 16, 4) for r in library.page(stacked, offset, 4)]
    from_end = [(r.id, r.stack) for r in library.page(stacked, 10, 4, count_hint=count.n)]
    assert not library.catalog.ready  # (all of it by SQL)
    library.warm_up()
    assert library.catalog.ready
    built_count, built = library.query(stacked, 0, 60)
    cards = [(r.id, r.stack) for r in built]
    assert count == built_count and count.n == 14 == len(cards)
    assert [(r.id, r.stack) for r in first] == cards == paged and from_end == cards[10:14]


def test_the_stacks_are_saved_with_the_catalog_and_read_back(library):
    """SQLite: the catalog's stacks (which image stacks with which: an argsort of every batch key, 120 ms of the
    gallery's first query at 1,000,000 images) are made by the build and saved in catalog.bin; the next process
    reads them back instead of making them, and they answer as made ones do. A file saved without them still
    works: they are made when first needed."""
    import pytest

    from store.library import Library

    from .test_large_library import _forget_open_databases

    if library.uses_postgres:
        pytest.skip("SQLite only (PostgreSQL has no catalog)")
    _batches(library)
    library.warm_up()
    assert library.catalog.wait_saved(30)
    stacked = Filters(stacked=True)
    made = [(r.id, r.stack) for r in library.page(stacked, 0, 60)]
    root = library.root
    library.close()
    _forget_open_databases(root)
    again = Library(root, account="alice")
    assert again.catalog.open_saved()
    assert again.catalog._stacks is not None and again.catalog._stacks.count == 5  # read, not made
    assert [(r.id, r.stack) for r in again.page(stacked, 0, 60)] == made and len(made) == 14
    again.close()
