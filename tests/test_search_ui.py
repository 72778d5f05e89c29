"""The search language in the app: fields as you type, the hint for a query it cannot read, the order
dropdown and its key, highlighted matches in cards and the prompt modal, search history."""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

import pytest
from textual.widgets import Input, Select, Static

from store.history import SearchHistory
from store.library import Library, NewImage
from store.records import Filters
from store.settings import Settings
from tui.app import MyImagesApp
from tui.prompt_screen import PromptScreen
from widgets.card import ImageCard
from widgets.card_grid import CardGrid

from . import ui

SIZES = [(80, 24), (160, 48)]

IMAGES = [  # prompt, seed, steps, width, days ago
    ("pixel art ring, gold", 123, 30, 1024, 0),
    ("Ruby ring on velvet", 5000, 20, 832, 1),
    ("a necklace, pixel art", 150, 50, 512, 2),
    ("blue potion", 77, 25, 640, 3),
]


def new(n, prompt, seed, steps, width, days):
    data = b"not a png " + bytes([n])
    return NewImage(sha256=hashlib.sha256(data).hexdigest(), ext="png", data=data, thumbnail=b"t", width=width,
                    height=512, prompt=prompt, model="SDXL" if n % 2 else "flux",
                    generated_at=datetime(2026, 6, 10, 12) - timedelta(days=days),
                    params={"Seed": str(seed), "Steps": str(steps)})


@pytest.fixture
def lib(request, tmp_path):
    url = request.getfixturevalue("db_url") if "db_url" in request.fixturenames else None
    library = Library(tmp_path / "search-lib", account="alice", database_url=url)
    library.add_images([new(n, *image) for n, image in enumerate(IMAGES)])
    yield library
    library.close()


def make_app(library, tmp_path):
    return MyImagesApp(library, images="none", downloads=tmp_path / "downloads")


def prompts(app) -> list[str]:
    cards = sorted((c for c in app.screen.query(ImageCard) if c.record is not None), key=lambda c: c.index)
    return [c.record.prompt for c in cards]


def status(app) -> str:
    return str(app.screen.query_one("#status", Static).render())


async def type_search(pilot, app, text: str) -> None:
    await pilot.press("slash")
    app.screen.query_one("#search", Input).value = ""
    await pilot.press(*text)
    await ui.wait_until(pilot, lambda: not any(w for w in app.workers if not w.is_finished and w.group == "query"))
    await ui.settle(pilot, app)


def marked(card: ImageCard) -> str:
    """The characters of the card drawn underlined (how matches are marked)."""
    out = []
    for y in range(card.content_size.height + 2):
        for segment in card.render_line(y):
            if segment.style is not None and segment.style.underline:
                out.append(segment.text)
    return "".join(out)


@pytest.mark.parametrize("size", SIZES)
async def test_fields_as_you_type_and_highlighted_words(lib, tmp_path, size):
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        await type_search(pilot, app, "ring steps:>=25")
        assert prompts(app) == ["pixel art ring, gold"]
        assert "steps ≥ 25" in status(app)
        card = next(c for c in app.screen.query(ImageCard) if c.record is not None)
        await ui.wait_until(pilot, lambda: marked(card) == "ring")
        await type_search(pilot, app, "PIXEL | velvet")
        expected = ["pixel art ring, gold", "Ruby ring on velvet", "a necklace, pixel art"]
        assert status(app).startswith("3 of 4 images") and prompts(app) == expected[:len(prompts(app))]
        assert marked(app.screen.query_one("#card-0", ImageCard)).casefold() == "pixel"


@pytest.mark.parametrize("size", SIZES)
async def test_the_search_box_takes_ids_as_the_commands_do(lib, tmp_path, size):
    """NEWUSER13: id:9,15 in the search box said '"9,15" is not a number for id', while every command takes ids
    so (1,2,5-9, #12): one query language. The box finds them; the status line says which."""
    first, second, third, fourth = sorted(lib.ids())
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        await type_search(pilot, app, f"id:{first},{third}-{fourth}")
        assert not status(app).startswith("⚠") and status(app).startswith("3 of 4 images"), status(app)
        assert f"id {first} or {third}–{fourth}" in status(app)
        await type_search(pilot, app, f"-id:#{second},{fourth}")
        assert sorted(prompts(app)) == ["a necklace, pixel art", "pixel art ring, gold"], status(app)


@pytest.mark.parametrize("size", SIZES)
async def test_a_word_without_accents_finds_and_marks_its_accented_forms(lib, tmp_path, size):
    """New-user test 7 #2: "eclair" found nothing where prompts said "Éclair". Typed in the box it finds them now,
    and the card marks "Éclair" itself, the characters of the prompt as shown."""
    lib.add_images([new(10 + n, f"Éclair au chocolat no. {n}", n, 20, 512, 5 + n) for n in range(3)])
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        await type_search(pilot, app, "eclair")
        assert status(app).startswith("3 of 7 images"), status(app)
        assert prompts(app) == [f"Éclair au chocolat no. {n}" for n in range(3)][:len(prompts(app))]
        await ui.wait_until(pilot, lambda: marked(app.screen.query_one("#card-0", ImageCard)) == "Éclair")


async def test_a_key_searches_at_once_and_keys_in_a_burst_once_more(lib, tmp_path, monkeypatch):
    """The first key searches at once (no wait for more keys); keys coming faster than SEARCH_EVERY are searched
    together when it is up, with what the box holds then; Enter searches what is due at once."""
    from widgets import filter_bar
    from widgets.filter_bar import FilterBar

    monkeypatch.setattr(filter_bar, "SEARCH_EVERY", 1.0)
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.settle(pilot, app)
        bar = app.screen.query_one("#filters", FilterBar)
        searched: list[str] = []
        emit = bar._emit
        monkeypatch.setattr(bar, "_emit", lambda: (searched.append(bar.filters.search), emit()))
        await pilot.press("slash", "r")
        await ui.wait_until(pilot, lambda: searched == ["r"], 1.5)  # at once (the next in 1 s at the soonest)
        await pilot.press(*"ing")
        assert searched == ["r"]
        await ui.wait_until(pilot, lambda: searched == ["r", "ring"], 5)
        await ui.wait_until(pilot, lambda: status(app).startswith("2 of 4 images"))
        await pilot.press("s", "enter")
        await ui.wait_until(pilot, lambda: searched == ["r", "ring", "rings"], 1.5)
        await ui.wait_until(pilot, lambda: status(app).startswith("0 of 4 images"))


@pytest.mark.parametrize("size", SIZES)
async def test_a_query_it_cannot_read_gives_a_hint_and_keeps_the_last_result(lib, tmp_path, size):
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        await type_search(pilot, app, "ring")
        before = prompts(app)
        app.screen.query_one("#search", Input).insert_text_at_cursor(" seed:x")  # as a paste would
        await ui.wait_until(pilot, lambda: status(app).startswith("⚠"))
        assert "not a number for seed" in status(app)
        # new-user test 4: at 80x24 the line ended "· still showin…": the hint whole, the rest only as it fits
        line = next(text for text in ui.screen_lines(app) if text.lstrip().startswith("⚠"))
        assert "…" not in line and "e.g. seed:30, >=30 or 20-40." in line
        assert ("last result kept: 2 of 4 images" in line) == (size[0] > 80)  # (fails without: "still showing")
        assert "still showing" not in line  # one wording at every width (80 columns: no room for it)
        assert prompts(app) == before
        await pilot.press("backspace")
        await pilot.press("1", "2", "3")
        await ui.wait_until(pilot, lambda: prompts(app) == ["pixel art ring, gold"])
        assert not status(app).startswith("⚠")


@pytest.mark.parametrize("size", SIZES)
async def test_an_unclosed_parenthesis_is_a_hint_until_it_is_closed(lib, tmp_path, size):
    """A "(" typed opens a group: until its ")" the line under the box says so and the grid keeps the last
    result (it never searched for "(gold"); closed, the group searches, described as typed."""
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        await type_search(pilot, app, "ring")
        before = prompts(app)
        await pilot.press(*" (gold")
        await ui.wait_until(pilot, lambda: status(app).startswith("⚠"))
        line = next(text for text in ui.screen_lines(app) if text.lstrip().startswith("⚠"))
        assert 'A ( is not closed: add a ), or quote "(gold" to search for it.' in line
        assert prompts(app) == before and not app.screen.query("ErrorDialog")
        await pilot.press("space", "|", "space", "v", "e", "l", "v", "e", "t", ")")
        await ui.wait_until(pilot, lambda: prompts(app) == ["pixel art ring, gold", "Ruby ring on velvet"])
        await type_search(pilot, app, "(ring gold) | -(ring | necklace)")
        assert prompts(app) == ["pixel art ring, gold", "blue potion"]
        if size[0] > 80:
            assert ('(prompt contains "ring" and "gold") or not (prompt contains "ring" or "necklace")'
                    in status(app))


async def test_a_query_hint_on_postgresql_too(lib, tmp_path, db_url):
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.settle(pilot, app)
        await type_search(pilot, app, "in:nowhere")
        assert 'No collection named "nowhere"' in status(app)
        await type_search(pilot, app, "seed:100-200 -velvet")
        assert prompts(app) == ["pixel art ring, gold", "a necklace, pixel art"]


async def test_the_gallery_looks_a_collection_of_a_query_up_once(lib, tmp_path, monkeypatch):
    """One query of the gallery (its hint, the page, the counts) names the collection of in: once."""
    shelf = lib.create_collection("Shelf")
    lib.add_to_collection(lib.ids()[:2], shelf.id)
    looked = []
    row_of = lib._collection_row
    monkeypatch.setattr(lib, "_collection_row", lambda name: looked.append(name) or row_of(name))
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.settle(pilot, app)
        await pilot.press("slash")
        app.screen.query_one("#search", Input).insert_text_at_cursor("in:shelf")  # as a paste: one query
        await ui.wait_until(pilot, lambda: status(app).startswith("2 of 4 images"))
        await ui.wait_until(pilot, lambda: not any(not w.is_finished and w.group == "query" for w in app.workers))
        assert looked == ["shelf"]


@pytest.mark.parametrize("size", SIZES)
async def test_order_by_key_and_by_mouse(lib, tmp_path, size):
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        newest = [p for p, *_ in IMAGES]
        assert prompts(app) == newest[:len(prompts(app))]
        await pilot.press("o")  # newest -> oldest
        await ui.wait_until(pilot, lambda: "oldest first" in status(app))
        await ui.settle(pilot, app)
        assert prompts(app) == newest[::-1][:len(prompts(app))]
        assert app.screen.query_one("#sort-order", Select).value == "oldest"
        # the mouse: open the dropdown and pick "Largest first"
        await pilot.click("#sort-order")
        await pilot.pause()
        await pilot.press("down", "down", "down", "enter")
        await ui.wait_until(pilot, lambda: "largest first" in status(app))
        await ui.settle(pilot, app)
        widths = [w for _, _, _, w, _ in IMAGES]
        assert [c.record.width for c in sorted((c for c in app.screen.query(ImageCard) if c.record),
                                               key=lambda c: c.index)] == sorted(widths, reverse=True)[
            :len(prompts(app))]
        await pilot.press("escape", *"ooo")  # round to newest again: the status stops naming the order
        await ui.wait_until(pilot, lambda: app.screen.query_one("#sort-order", Select).value == "newest")
        await ui.wait_until(pilot, lambda: "first" not in status(app))


@pytest.mark.parametrize("size", SIZES)
async def test_sort_in_the_search_and_the_order_control_never_disagree(lib, tmp_path, size):
    """NEWUSER6 §1: `sort:oldest` in the box won over the Order dropdown, which went on showing "Newest first"; `o`
    then changed the dropdown's label only (and the order kept for the next start). Now the dropdown follows the
    search's sort:, and `o` or the dropdown take the order over: the box's sort: part goes."""
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        select = app.screen.query_one("#sort-order", Select)
        box = app.screen.query_one("#search", Input)
        newest = [p for p, *_ in IMAGES]
        await type_search(pilot, app, "sort:oldest")
        await ui.wait_until(pilot, lambda: "oldest first" in status(app))
        assert select.value == "oldest" and app.settings.sort == "oldest"
        assert prompts(app) == newest[::-1][:len(prompts(app))]
        await pilot.press("enter", "o")  # to the grid, the next order: the box no longer names another one
        await ui.wait_until(pilot, lambda: "recently imported" in status(app))
        await ui.settle(pilot, app)
        assert select.value == "imported" and box.value == "" and app.settings.sort == "imported"
        assert "oldest" not in status(app)
        await type_search(pilot, app, "pixel sort:prompt")
        await ui.wait_until(pilot, lambda: "prompt A–Z" in status(app))
        await ui.settle(pilot, app)
        assert select.value == "prompt" and prompts(app) == ["a necklace, pixel art", "pixel art ring, gold"]
        await pilot.press("enter")
        await pilot.click("#sort-order")  # the mouse: Largest first
        await pilot.pause()
        while select.query_one("SelectOverlay").highlighted != 4:
            await pilot.press("down")
        await pilot.press("enter")
        await ui.wait_until(pilot, lambda: "largest first" in status(app))
        await ui.settle(pilot, app)
        assert box.value == "pixel" and select.value == "largest" and "prompt A–Z" not in status(app)
        assert prompts(app) == ["pixel art ring, gold", "a necklace, pixel art"]  # 1024, then 512 wide


@pytest.mark.parametrize("size", SIZES)
async def test_the_search_box_has_room_at_80_columns_and_the_dropdowns_keep_their_titles(lib, tmp_path, size):
    """NEWUSER5 §11: at 80×24 the three dropdowns took all but 15 characters of the row from the search box.
    Narrow, they show short values ("All", "Newest") under their full titles; the open list keeps the long names."""
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        query = 'steps:>=20 -potion "pixel"'
        await pilot.press("slash", *query)
        await ui.settle(pilot, app)
        box = app.screen.query_one("#search", Input)
        assert box.content_size.width > len(query)  # the whole search shows
        top, middle = ui.screen_lines(app)[1:3]
        for title in ("Favorites", "Collection", "Order (o)"):
            assert title in top
        values = ("All", "All", "Newest") if size[0] == 80 else ("All Images", "All Images", "Newest first")
        for selector, value in zip(("#favorite-filter", "#collection-filter", "#sort-order"), values):
            current = app.screen.query_one(f"{selector} > SelectCurrent")
            assert current.size.height == 1  # one line inside: a value never wraps
            assert f" {value} " in middle
        await pilot.press("enter", "o")  # to the results; the next order shows short too
        await ui.wait_until(pilot, lambda: app.screen.query_one("#sort-order", Select).value == "oldest")
        await ui.settle(pilot, app)
        assert (" Oldest " if size[0] == 80 else " Oldest first ") in ui.screen_lines(app)[2]
        await pilot.click("#favorite-filter")  # the open list names each choice in full
        await pilot.pause()
        assert "Favorites Only" in ui.screen_text(app)
        await pilot.press("down", "enter")
        await ui.settle(pilot, app)
        assert (" Only " if size[0] == 80 else " Favorites Only ") in ui.screen_lines(app)[2]


async def test_a_typed_key_lays_nothing_out_and_a_long_search_scrolls_in_its_box(lib, tmp_path, monkeypatch):
    """A character typed in the search box asks for no layout of the screen (Textual's Input asked for one at
    every character, as its text grew: every widget of the gallery laid out and the whole screen drawn again per
    key); the box still scrolls to show the end of a search longer than itself, and its placeholder when emptied."""
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.settle(pilot, app)
        box = app.screen.query_one("#search", Input)
        layouts: list[str] = []
        refresh = box.refresh

        def recorded(*regions, **kwargs):
            if kwargs.get("layout"):
                layouts.append(box.value)
            return refresh(*regions, **kwargs)

        monkeypatch.setattr(box, "refresh", recorded)
        query = "ring rin ri " * 5 + "gold"  # every part of it finds an image: the grid is never emptied
        await pilot.press("slash", *query)
        await ui.settle(pilot, app)
        assert status(app).startswith("1 of 4 images")
        assert layouts == []
        assert len(query) > box.content_size.width and box.scroll_x > 0
        line = ui.screen_lines(app)[2]
        assert "ri gold" in line and "ring rin ri ring" not in line  # the end shows, where the cursor is
        await pilot.press("ctrl+u")
        await ui.settle(pilot, app)
        assert "Search…" in ui.screen_lines(app)[2]
        assert layouts == []


async def test_random_order_is_stable_while_the_view_is_open(lib, tmp_path):
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await ui.settle(pilot, app)
        app.screen.query_one("#sort-order", Select).value = "random"
        await ui.wait_until(pilot, lambda: "random order" in status(app))
        await ui.settle(pilot, app)
        first = prompts(app)
        await type_search(pilot, app, "zzz")
        await type_search(pilot, app, "")
        await ui.wait_until(pilot, lambda: prompts(app) == first)


async def test_picking_random_again_shuffles_again(lib, tmp_path, monkeypatch):
    """New-user test 4 item 7: choosing Random order again showed the same cards in the same order."""
    import itertools
    import random

    seeds = itertools.count(1)
    monkeypatch.setattr(random, "randrange", lambda *_: next(seeds))  # the view's seeds: 1, 2, 3…
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await ui.settle(pilot, app)
        orders = []
        for _ in range(2):
            await pilot.press("o")  # until Random, then Random again
            await ui.wait_until(pilot, lambda: app.screen.query_one("#sort-order", Select).value != "random")
            while app.screen.query_one("#sort-order", Select).value != "random":
                await pilot.press("o")
            await ui.wait_until(pilot, lambda: "random order" in status(app))
            await ui.settle(pilot, app)
            orders.append(prompts(app))
        assert sorted(orders[0]) == sorted(orders[1]) and orders[0] != orders[1]


async def test_the_public_gallery_offers_no_favorites(lib, tmp_path):
    """New-user test 4 item 11: favorites are each account's own, so the public gallery offers neither is:fav
    (its placeholder suggested it) nor the favorites order."""
    lib.set_favorite(lib.ids()[:2])
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.settle(pilot, app)
        await pilot.press("v")
        await ui.wait_until(pilot, lambda: app.screen.public)
        await ui.settle(pilot, app)
        bar = app.screen.query_one("#sort-order", Select)
        assert "is:fav" not in str(app.screen.query_one("#search", Input).placeholder)
        seen = set()
        for _ in range(8):  # o round every order
            await pilot.press("o")
            await ui.wait_until(pilot, lambda: bar.value not in seen or len(seen) == 6)
            seen.add(bar.value)
        assert "favorites" not in seen and len(seen) == 6
        await type_search(pilot, app, "is:fav")
        await ui.wait_until(pilot, lambda: "Favorites are yours alone" in app.screen.hint)


async def test_prompt_modal_marks_the_matched_words(lib, tmp_path):
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.settle(pilot, app)
        await type_search(pilot, app, "velvet")
        await pilot.press("enter")  # to the grid
        await pilot.press("p")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, PromptScreen))
        text = app.screen.query_one("#prompt-text", Static).render()
        assert [text.plain[s.start:s.end] for s in text.spans] == ["velvet"]


async def test_history_up_down_and_ctrl_u(lib, tmp_path):
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.settle(pilot, app)
        for query in ("ring", "pixel art"):
            await type_search(pilot, app, query)
            await pilot.press("enter")
        search = app.screen.query_one("#search", Input)
        await pilot.press("slash")
        search.value = ""
        await pilot.press("up")
        assert search.value == "pixel art"
        await pilot.press("up")
        assert search.value == "ring"
        await pilot.press("down", "down")
        assert search.value == ""
        await pilot.press("up")
        await ui.wait_until(pilot, lambda: len(prompts(app)) == 2)
        await pilot.press("ctrl+u")
        assert search.value == ""
        # another instance's search comes up too (the list is read again when a walk starts)
        SearchHistory(lib.root, "alice").add("blue potion")
        await pilot.press("up")
        assert search.value == "blue potion"
    # kept per library and account
    assert SearchHistory(lib.root, "alice").entries == ["ring", "pixel art", "blue potion"]
    assert SearchHistory(lib.root, "bob").entries == []


async def test_a_flagged_query_is_not_kept_in_the_history(lib, tmp_path):
    """New-user test 4 item 8: `in:nope` (no such collection: flagged under the box) was kept, by Enter and by
    leaving the box, in the gallery and in the public gallery."""
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.settle(pilot, app)
        await type_search(pilot, app, "ring")
        await pilot.press("enter")
        await type_search(pilot, app, "in:nope")
        await ui.wait_until(pilot, lambda: "No collection" in app.screen.hint)
        await pilot.press("enter")
        await ui.settle(pilot, app)
        await pilot.press("v")
        await ui.wait_until(pilot, lambda: app.screen.public)
        await ui.settle(pilot, app)
        await type_search(pilot, app, "in:nope2")
        await ui.wait_until(pilot, lambda: "No collection" in app.screen.hint)
        await pilot.press("tab")  # leaving the box keeps what was searched: not this
        await ui.settle(pilot, app)
    assert SearchHistory(lib.root, "alice").entries == ["ring"]


def test_two_instances_merge_their_search_history(tmp_path):
    """New-user test item 8: each instance used to write its own memory over the file."""
    first, second = SearchHistory(tmp_path, "alice"), SearchHistory(tmp_path, "alice")
    first.add("ring")
    second.add("sword")  # opened before "ring" was added
    first.add("gem")
    second.add("ring")  # again: moves to the end, once
    assert SearchHistory(tmp_path, "alice").entries == second.entries == ["sword", "gem", "ring"]
    assert not first.add("modle:bar") and not first.add("seed:abc")  # not readable: not kept
    assert SearchHistory(tmp_path, "alice").entries == ["sword", "gem", "ring"]


def _add_searches(root, prefix: str, count: int) -> None:
    history = SearchHistory(root, "alice")
    for n in range(count):
        history.add(f"{prefix} {n}")


def test_searches_added_at_once_by_two_processes_are_all_kept(tmp_path):
    """Read, add, write back under the lock: two processes adding at the same moment lose nothing."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_add_searches, args=(tmp_path, name, 20)) for name in ("ring", "sword")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    assert sorted(SearchHistory(tmp_path, "alice").entries) == sorted(
        f"{name} {n}" for name in ("ring", "sword") for n in range(20))


async def test_search_tip_while_the_box_is_empty(lib, tmp_path):
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await ui.settle(pilot, app)
        await pilot.press("slash")
        await ui.wait_until(pilot, lambda: "seed:" in status(app))
        await pilot.press("escape")
        await ui.wait_until(pilot, lambda: "seed:" not in status(app))
        assert isinstance(app.focused, CardGrid)


@pytest.mark.parametrize("size", SIZES)
async def test_hints_and_descriptions_fit_the_status_line(lib, tmp_path, size):
    """The hint is whole on the status line at 80 columns (the lists it refers to are in F1's help); words
    of the prompt are described together, not 'prompt contains … and prompt contains … and' cut off."""
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        room = app.screen.query_one("#status", Static).content_size.width
        for query, says in [("modle:bar", 'Unknown field "modle:"'), ("sort:bogus", '"bogus" is not an order'),
                            ("ring date:soon", "not a date"), ("ring imported:", "needs a date"),
                            ("negative_promt:x", 'Unknown field "negative_pr…:"')]:
            await type_search(pilot, app, query)
            await ui.wait_until(pilot, lambda: status(app).startswith("⚠"))
            hint = status(app).split(" · ")[0]
            assert says in hint and hint.endswith(".") and len(hint) <= room
            assert "F1 lists them" in status(app)[:room] or len(hint) + 16 > room  # said where it fits
        await type_search(pilot, app, "pixel art ring gold")
        await ui.wait_until(pilot, lambda: status(app).startswith("1 of 4"))
        assert len(status(app)) <= room
        assert 'prompt contains "pixel", "art", "ring" and "gold"' in status(app)
        line = app.screen.query_one("#status", Static)
        assert line.tooltip is None  # it fits: nothing more to show
        await type_search(pilot, app, "pixel art steps:>=10 width:>100 height:<2000 seed:1-99999 date:2026")
        await ui.wait_until(pilot, lambda: status(app).startswith("2 of 4"))
        if len(status(app)) > room:  # cut with an ellipsis (CSS); all of it under the mouse
            assert line.tooltip == status(app) and "generated from" in str(line.tooltip)
        else:
            assert line.tooltip is None


def estimated_library(tmp_path, db_url, monkeypatch, page_size: int) -> Library:
    """An empty PostgreSQL library whose results above 3 images are counted by an estimate, read in pages of
    `page_size` (skips on SQLite, whose catalog counts exactly)."""
    if db_url is None:
        pytest.skip("PostgreSQL only (SQLite's catalog counts exactly)")
    from store import search
    from tui import gallery_screen
    from widgets import card_grid

    monkeypatch.setattr(search, "ESTIMATE_ABOVE", 3)
    monkeypatch.setattr(card_grid, "PAGE_SIZE", page_size)
    monkeypatch.setattr(gallery_screen, "PAGE_SIZE", page_size)
    return Library(tmp_path / "many", account="alice", database_url=db_url)


async def test_a_large_result_on_postgresql_says_about_until_its_end_is_read(tmp_path, db_url, monkeypatch):
    """PostgreSQL counts a result of more than ESTIMATE_ABOVE images by the planner's estimate: the status line
    says "about N" until the grid reads the result's end (a short page), then the exact count. (A few thousand
    images and pages of 60 in use; 3 and 8 here, so 14 images show it.)"""
    library = estimated_library(tmp_path, db_url, monkeypatch, page_size=8)
    library.add_images([new(n, f"ring {n}", n, 20, 512, n) for n in range(14)])
    library.db.execute_sql("ANALYZE image")  # the planner's estimate: about 14
    app = MyImagesApp(library, images="none", downloads=tmp_path / "downloads", settings=Settings(stacks=False))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await ui.settle(pilot, app)
            assert re.match(r"about \d+ of about \d+ images", status(app)), status(app)
            await type_search(pilot, app, "ring 1")  # 5 images (1, 10-13): the first page is short, so all of them
            await ui.wait_until(pilot, lambda: re.match(r"5 of about \d+ images", status(app)))
            await type_search(pilot, app, "")
            assert status(app).startswith("about ")
            await pilot.press("escape", "enter")  # the large view says it too
            await ui.wait_until(pilot, lambda: "1 / about " in str(app.screen.query_one("#viewer-caption").render()))
            await pilot.press("escape", "end")  # the last page read: 6 images, so 14 in all
            await ui.wait_until(pilot, lambda: status(app).startswith("14 of 14 images"))
            assert app.screen.query_one(CardGrid).current.prompt == "ring 13"
    finally:
        library.close()


async def test_end_on_a_stacked_estimate_counts_the_cards_and_keeps_the_images_count(tmp_path, db_url, monkeypatch):
    """NEWUSER7 #24: on PostgreSQL, stacks on, no search, End then Home said "about 3,200 of 3,175 images · 3,175
    cards": the cards' exact count had taken the library's images' place (an estimate of 3,224). The cards are
    counted exactly on End (the page at the estimated end alone left "over 3,120 cards" when the estimate was
    short), the images' count stays what it was. Fails without ("about 25 of over 8 images · over 8 cards")."""
    from .test_stacks import _batches

    library = estimated_library(tmp_path, db_url, monkeypatch, page_size=4)
    _batches(library)  # 25 images in batches
    library.db.execute_sql("ANALYZE image")
    app = MyImagesApp(library, images="none", downloads=tmp_path / "downloads", settings=Settings(stacks=True))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await ui.settle(pilot, app)
            images = re.match(r"about (\d+) of about \1 images", status(app))
            assert images, status(app)
            await pilot.press("end")
            await ui.wait_until(pilot, lambda: re.search(r" · \d+ cards", status(app)))  # exact: no "about"
            await ui.settle(pilot, app)
            cards = library.count(Filters(stacked=True))
            assert app.screen.grid.cursor == cards - 1  # on the last card
            said = f"about {images[1]} of about {images[1]} images · {cards} cards"
            assert status(app).startswith(said), status(app)
            await pilot.press("home")
            await ui.settle(pilot, app)
            assert status(app).startswith(said), status(app)
    finally:
        library.close()


@pytest.mark.parametrize("key", ["enter", "ctrl+r"])
async def test_a_search_that_could_not_run_is_said_and_run_again_by_enter_or_ctrl_r(lib, tmp_path, monkeypatch, key):
    """New-user test 7 #23: with the database unreachable a moment, a search typed failed (a notice said why), and
    then the box said "necklace" while the cards and the status stayed the last result; neither Enter nor Ctrl+R
    ran it again once the database was back. The status line says it, and both keys run it."""
    from store.errors import DatabaseFailed

    down = {"now": False}
    real_query = lib.query

    def query(*args, **kwargs):
        if down["now"]:
            raise DatabaseFailed("The library database cannot be reached: connection refused.")
        return real_query(*args, **kwargs)

    monkeypatch.setattr(lib, "query", query)
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        said = ui.notices(app)
        await ui.settle(pilot, app)
        await type_search(pilot, app, "ring")
        assert status(app).startswith("2 of 4 images")
        down["now"] = True
        await type_search(pilot, app, "necklace")
        await ui.wait_until(pilot, lambda: "this search could not run: Enter or Ctrl+R tries again" in status(app))
        assert any("cannot be reached" in text for text in said) and len(prompts(app)) == 2  # the last result kept
        down["now"] = False
        await pilot.press(key)
        await ui.wait_until(pilot, lambda: status(app).startswith("1 of 4 images"))
        assert prompts(app) == ["a necklace, pixel art"] and "could not run" not in status(app)
