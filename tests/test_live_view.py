"""The open gallery follows the library: changes made elsewhere show by themselves."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta

import pytest
from textual.widgets import Static

from store.catalog import change_token
from store.importer import ImportOptions, import_files
from store.library import Library
from tui import following
from tui.app import MyImagesApp
from tui.gallery_screen import GalleryScreen
from tui.info_screen import InfoScreen
from tui.viewer_screen import ViewerScreen
from widgets.card_grid import CardGrid
from widgets.filter_bar import ALL_COLLECTIONS

from .conftest import ROOT
from .ui import notices, screen_text, settle, wait_until

# seconds: a bound for a loaded machine (2 cores shared by several test runs). The 2 s is a figure
# of bench/sources.py ("a change made by another process to the screen"), not a timed test.
FOLLOW_WITHIN = 10.0


def token(lib: Library):
    return change_token(lib.db, lib.uses_postgres)


def add(lib, make_png, prompt, day):
    report = import_files(lib, [make_png(size=(40, 30))],
                          ImportOptions(prompt=prompt, generated_at=datetime(2026, 5, 1, 12) + timedelta(days=day)))
    return report.imported[0][1]


def test_change_token_moves_on_every_kind_of_change(library, make_png):
    """Imports, favorites, deletions, collection members, collections made, renamed or deleted (an empty one
    too) and plan changes all change the token."""
    seen = [token(library)]

    def changed() -> bool:
        now = token(library)
        moved = now != seen[-1]
        seen.append(now)
        return moved

    a = add(library, make_png, "apple", 1)
    assert changed()
    b = add(library, make_png, "banana", 2)
    assert changed()
    assert not changed()  # nothing happened: the same token
    library.toggle_favorite(a)
    assert changed()
    box = library.create_collection("Box")
    library.add_to_collection([a], box.id)
    assert changed()
    library.remove_from_collection([a], box.id)
    assert changed()
    empty = library.create_collection("Empty")
    assert changed()
    library.rename_collection(box.id, "Crate")
    assert changed()
    library.delete_collection(empty.id)
    assert changed()
    library.set_plan("premium")
    assert changed()
    library.delete([b])
    assert changed()


def test_schema_20_makes_an_older_library_log_collection_changes(tmp_path, db_url):
    """A library made before collections were in the change log (schema 19) gains it: a rename elsewhere of
    an empty collection changes the token, which the open app follows."""
    from store.migrations import LATEST

    library = Library(tmp_path / "old", account="alice", database_url=db_url)
    box = library.create_collection("Box")
    if library.uses_postgres:
        library.db.execute_sql("DROP TRIGGER image_change_collection ON collection")
    else:
        for trigger in ("image_change_ci", "image_change_cu", "image_change_cd"):
            library.db.execute_sql(f"DROP TRIGGER {trigger}")
    library.db.execute_sql("UPDATE setting SET value = '19' WHERE key = 'schema_version'")
    library.close()
    again = Library(tmp_path / "old", account="alice", database_url=db_url)
    try:
        version = again.db.execute_sql("SELECT value FROM setting WHERE key = 'schema_version'").fetchone()[0]
        assert version == str(LATEST)
        before = token(again)
        again.rename_collection(box.id, "Crate")
        assert token(again) != before
    finally:
        again.close()


def test_postgres_change_log_is_trimmed(library, make_png):
    if not library.uses_postgres:
        pytest.skip("PostgreSQL's own log")
    (a,) = [add(library, make_png, "apple", 1)]
    for _ in range(1100):
        library.toggle_favorite(a)
    rows = library.db.execute_sql("SELECT COUNT(*) FROM image_change").fetchone()[0]
    assert 0 < rows <= 1100


@pytest.fixture
def lib(tmp_path, make_png):
    library = Library(tmp_path / "live", account="alice")
    for n, prompt in enumerate(["one", "two", "three", "four"]):
        add(library, make_png, prompt, n)
    yield library
    library.close()


def make_app(library, tmp_path):
    return MyImagesApp(library, images="none", downloads=tmp_path / "downloads")


def status(app) -> str:
    return str(app.screen.query_one("#status", Static).render())


def grid(app) -> CardGrid:
    return app.screen.query_one("#grid", CardGrid)


async def test_import_by_another_process_shows_and_keeps_the_focused_card(lib, tmp_path, make_png):
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        assert status(app) == "4 of 4 images"
        await pilot.press("right", "right")
        focused = grid(app).current
        assert focused.prompt == "two" and grid(app).cursor == 2
        source = make_png(size=(40, 30))
        subprocess.run([sys.executable, "-m", "tui.cli", "--library", str(lib.root), "--account", "alice",
                        "import", str(source), "--prompt", "newest", "--date", "2026-06-01T12:00:00"],
                       cwd=ROOT, check=True, capture_output=True)
        await wait_until(pilot, lambda: status(app) == "5 of 5 images", FOLLOW_WITHIN)
        await settle(pilot, app)
        assert grid(app).current.id == focused.id and grid(app).cursor == 3  # the same card, one place on
        assert grid(app).record_at(0).prompt == "newest"


async def delete_while_shown(pilot, app, lib, key: str, kind):
    """The current image opened with `key` (a screen of `kind`), then deleted by another process."""
    await settle(pilot, app)
    doomed = grid(app).current
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(app.screen, kind), 2)
    other = Library(lib.root, account="alice")
    other.delete([doomed.id])
    return doomed, other


async def test_deleted_elsewhere_leaves_the_grid_and_its_dialog_closes(lib, tmp_path):
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        shown = notices(app)
        doomed, _other = await delete_while_shown(pilot, app, lib, "i", InfoScreen)
        await wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen), FOLLOW_WITHIN)
        await wait_until(pilot, lambda: status(app) == "3 of 3 images", FOLLOW_WITHIN)
        assert any(f"#{doomed.id}" in text and "deleted" in text for text in shown)
        await settle(pilot, app)
        assert doomed.id not in [grid(app).record_at(i).id for i in range(3)]


async def test_favorite_elsewhere_shows_on_the_card(lib, tmp_path):
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        first = grid(app).current
        assert not first.favorite
        Library(lib.root, account="alice").toggle_favorite(first.id)
        await wait_until(pilot, lambda: grid(app).current is not None and grid(app).current.favorite, FOLLOW_WITHIN)


async def test_public_gallery_follows_a_plan_change(tmp_path, make_png):
    root = tmp_path / "shared"
    carol = Library(root, account="carol")
    add(carol, make_png, "carol's dragon", 1)
    bob = Library(root, account="bob")
    app = make_app(bob, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        shown = notices(app)
        await settle(pilot, app)
        await pilot.press("v")
        await wait_until(pilot, lambda: getattr(app.screen, "public", False) and status(app) == "1 of 1 images",
                         FOLLOW_WITHIN)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ViewerScreen), FOLLOW_WITHIN)
        carol.set_plan("premium")  # every one of carol's images turns private at once
        await wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen) and status(app) == "0 of 0 images",
                         FOLLOW_WITHIN)
        assert app.screen.public and any("no longer shared" in text for text in shown)


async def test_refresh_key_reads_the_library_at_once(lib, tmp_path, monkeypatch):
    monkeypatch.setattr(following, "POLL_SECONDS", 3600)  # no polling: only the key
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        Library(lib.root, account="alice").delete([grid(app).record_at(3).id])
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: status(app) == "3 of 3 images", 2)
        binding = next(b for b in GalleryScreen.BINDINGS if b.action == "refresh")
        assert binding.id == "gallery.refresh" and binding.description


async def test_polling_runs_in_a_worker_and_costs_one_lookup(lib, tmp_path, monkeypatch):
    from store import library as library_module  # the gallery asks Library.change_token, which calls it

    threads, calls = [], []
    real = library_module.change_token

    def spy(db, postgres):
        threads.append(threading.current_thread() is threading.main_thread())
        calls.append(time.monotonic())
        return real(db, postgres)

    monkeypatch.setattr(library_module, "change_token", spy)
    monkeypatch.setattr(following, "POLL_SECONDS", 0.1)
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        reloads = []
        real_query = app.screen.run_query
        app.screen.run_query = lambda *a, **k: (reloads.append(a), real_query(*a, **k))[1]
        start = len(calls)
        await wait_until(pilot, lambda: len(calls) >= start + 5, 3)
        assert not any(threads)  # never on the UI thread
        assert reloads == []  # nothing changed: no reload


def test_catalog_puts_a_few_changes_in_place_without_sorting_everything(tmp_path, make_png, monkeypatch):
    """Following a change on a large library must not sort the whole catalog (a second on 1,000,000 images)."""
    import numpy as np

    from store import catalog as catalog_module
    from store.records import Filters

    lib = Library(tmp_path / "order", account="alice")
    same_day = datetime(2026, 5, 3, 12)
    for n in range(30):  # many images share a date: ties are ordered by id
        day = same_day if n % 3 else same_day + timedelta(days=n % 7 - 3)
        import_files(lib, [make_png()], ImportOptions(prompt=f"p{n}", generated_at=day))
    lib.warm_up()
    sorted_sizes = []
    real = np.lexsort

    def lexsort(keys, *args, **kwargs):
        sorted_sizes.append(len(keys[0]))
        return real(keys, *args, **kwargs)

    monkeypatch.setattr(catalog_module.np, "lexsort", lexsort)
    other = Library(lib.root, account="alice")
    ids = other.ids()
    other.toggle_favorite(ids[4])
    other.delete([ids[7]])
    for day in (same_day, same_day - timedelta(days=9), same_day + timedelta(days=9)):
        import_files(other, [make_png()], ImportOptions(prompt="new", generated_at=day))
    expected = [i for (i,) in lib.db.execute_sql(
        "SELECT id FROM image WHERE owner_id = ? ORDER BY generated_at DESC, id DESC", (lib.account.id,))]
    assert lib.ids(Filters()) == expected  # syncs the catalog: every row in its place
    assert lib.count(Filters(favorite="favorites")) == 1
    assert sorted_sizes and max(sorted_sizes) < 5  # only the changed rows were sorted


async def test_gallery_follows_another_writer_on_both_back_ends(tmp_path, make_png, db_url):
    """PostgreSQL has no catalog: the gallery polls its change log the same way."""
    library = Library(tmp_path / "both", account="alice", database_url=db_url)
    for n, prompt in enumerate(["one", "two", "three"]):
        add(library, make_png, prompt, n)
    app = make_app(library, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        assert status(app) == "3 of 3 images"
        other = Library(tmp_path / "both", account="alice", database_url=db_url)
        other.toggle_favorite(grid(app).current.id)
        add(other, make_png, "four", 9)
        await wait_until(pilot, lambda: status(app) == "4 of 4 images", FOLLOW_WITHIN)
        await settle(pilot, app)
        # the grid was at its first card: it stays at the top, where the new image is (NEWUSER5 §11)
        assert grid(app).record_at(0).prompt == "four" and grid(app).cursor == 0
        assert grid(app).record_at(1).prompt == "three" and grid(app).record_at(1).favorite
    library.close()


async def test_selected_image_deleted_elsewhere_leaves_the_selection(lib, tmp_path):
    """The bulk bar counts only images that still exist: one deleted by another process is unselected."""
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        first = grid(app).current
        await pilot.press("space", "right", "space")
        second = grid(app).current
        await wait_until(pilot, lambda: grid(app).selected == {first.id, second.id}, 2)
        other = Library(lib.root, account="alice")
        other.delete([first.id])
        other.close()
        await wait_until(pilot, lambda: grid(app).selected == {second.id}, FOLLOW_WITHIN)
        await wait_until(pilot, lambda: str(app.screen.query_one("#bulk-count", Static).render()) == "1 selected", 1)


async def test_gallery_looks_again_when_the_catalog_answered_before_taking_changes_in(lib, tmp_path, make_png):
    """Another process's changes reach the catalog a moment later (batched): a reload answered before
    that must not be taken as up to date, or the new card would never show."""
    now = [100.0]
    lib.catalog.clock = lambda: now[0]
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        assert status(app) == "4 of 4 images"
        lib.catalog.sync(at_once=True)  # the window starts now (the clock stands still)
        source = make_png(size=(40, 30))
        subprocess.run([sys.executable, "-m", "tui.cli", "--library", str(lib.root), "--account", "alice",
                        "import", str(source), "--prompt", "newest", "--date", "2026-06-01T12:00:00"],
                       cwd=ROOT, check=True, capture_output=True)
        await wait_until(pilot, lambda: lib.catalog.behind, FOLLOW_WITHIN + 1)  # a reload saw the old answer
        follower = app.screen.follower
        checks: list[bool] = []
        check = follower.check
        follower.check = lambda force=False: (checks.append(force), check(force))[1]  # type: ignore[method-assign]
        # two polls' checks done inside the window (a condition, not a time: NEWUSER14): still the old answer
        await wait_until(pilot, lambda: len(checks) >= 2 and not follower.checking, FOLLOW_WITHIN + 2)
        assert status(app) == "4 of 4 images"
        now[0] += lib.catalog.catch_up_every  # the window passes: the next poll's reload takes it in
        await wait_until(pilot, lambda: status(app) == "5 of 5 images", FOLLOW_WITHIN + 1)


@pytest.mark.parametrize("size", [(80, 24), pytest.param((160, 48), marks=pytest.mark.slow)], ids=["80x24", "160x48"])
async def test_changes_elsewhere_are_said_as_they_are(lib, tmp_path, size):
    """The image in the large view deleted elsewhere: the view goes on, and the notice says so (not "Closed");
    the collection filtered on deleted elsewhere: back to All Images, said."""
    from widgets.filter_bar import ALL_COLLECTIONS, FilterBar

    box = lib.create_collection("Box")
    lib.add_to_collection(lib.ids(), box.id)
    titles: list[str] = []
    app = make_app(lib, tmp_path)
    real_notify = app.notify
    app.notify = lambda message, *a, title="", **k: (titles.append(f"{title}: {message}"),
                                                     real_notify(message, *a, title=title, **k))
    async with app.run_test(size=size) as pilot:
        doomed, other = await delete_while_shown(pilot, app, lib, "enter", ViewerScreen)
        await wait_until(pilot, lambda: any(f"#{doomed.id}" in t for t in titles), FOLLOW_WITHIN)
        said = next(t for t in titles if f"#{doomed.id}" in t)
        assert isinstance(app.screen, ViewerScreen) and not said.startswith("Closed"), said
        assert "the large view shows the next one" in said
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen))
        app.screen.query_one("#filters", FilterBar).query_one("#collection-filter").value = box.id
        await wait_until(pilot, lambda: app.screen.filters.collection_id == box.id, 5)
        await settle(pilot, app)
        other.delete_collection(box.id)
        other.close()
        await wait_until(pilot, lambda: any("deleted elsewhere: showing All Images" in t for t in titles),
                         FOLLOW_WITHIN)
        await wait_until(pilot, lambda: app.screen.filters.collection_id in (None, ALL_COLLECTIONS), FOLLOW_WITHIN)


@pytest.mark.parametrize("size", [(80, 24), pytest.param((160, 48), marks=pytest.mark.slow)], ids=["80x24", "160x48"])
async def test_a_collection_renamed_elsewhere_is_followed(lib, tmp_path, size):
    """New-user test 5 item 10: a rename by another process shows like an add: the dropdown and the status
    line take the new name; a search's in:OLD (the user's text, left as typed) gets the usual hint, and a
    notice says what the collection is called now."""
    from widgets.filter_bar import FilterBar

    ids = lib.ids()
    forts = lib.create_collection("Forts")
    lib.add_to_collection(ids[:2], forts.id)
    castles = lib.create_collection("Castles")
    lib.add_to_collection(ids[:1], castles.id)
    app = make_app(lib, tmp_path)
    async with app.run_test(size=size) as pilot:
        said = notices(app)
        await settle(pilot, app)
        app.screen.query_one("#filters", FilterBar).query_one("#collection-filter").value = forts.id
        await wait_until(pilot, lambda: status(app) == "2 of 4 images · in Forts", 5)
        other = Library(lib.root, account="alice")
        other.rename_collection(forts.id, "Keeps")
        await wait_until(pilot, lambda: status(app) == "2 of 4 images · in Keeps", FOLLOW_WITHIN)
        assert "Keeps (2)" in screen_text(app)
        assert not said  # the dropdown followed: nothing to say
        app.screen.query_one("#filters", FilterBar).query_one("#collection-filter").value = ALL_COLLECTIONS
        await pilot.press("slash", *"in:Castles")
        await wait_until(pilot, lambda: status(app).startswith("1 of 4 images · in"), 5)
        other.rename_collection(castles.id, "Towers")
        other.close()
        await wait_until(pilot, lambda: status(app).startswith('⚠ No collection named "Castles"'), FOLLOW_WITHIN)
        assert said == ['"Castles" was renamed "Towers" elsewhere: in:Castles finds it no more, in:Towers does.']
