"""My Images benchmark: a small library (100 images) against a large one (100,000).

Run by hand:  .venv/bin/python bench/run.py [--quick] [--skip-import] [--skip-clean]
Prints a table and writes bench/results/latest.json. Every figure is measured on
both libraries in one run, so machine noise cancels in the ratio. Libraries are
made once into bench/cache/ (the large one takes a few minutes) and reused.
"""
from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import dataclasses
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
os.environ.setdefault("U2NET_HOME", str(ROOT.parent / "shared" / "models"))

from store.demo import generate  # noqa: E402
from store.library import Library  # noqa: E402
from store.records import FAVORITES_ONLY, NON_FAVORITES, Filters  # noqa: E402

CACHE = HERE / "cache"
RESULTS = HERE / "results"
# the figures are taken with the default settings, never the settings file of whoever runs them (a card size or a
# sort order chosen in the app changes what a screen draws); a path with no file means every default. A file of
# this run's own, gone at its end: the app keeps what it is shown (a `sort:oldest` typed in bench/search.py's
# queries is the order the next start opens with), and one kept file made the next run's app open oldest first
SETTINGS = CACHE / f"settings-{os.getpid()}.toml"
if "MYIMAGES_CONFIG" not in os.environ:  # (the run's child processes have it: the same file)
    os.environ["MYIMAGES_CONFIG"] = str(SETTINGS)
    atexit.register(SETTINGS.unlink, missing_ok=True)
QUERIES = ["sword", "diamond", "pixel art", "potion", "set of 16", "ring", "zzz-no-match", "qx", "a", "s",
           "po", "xy", "enchanted ring", "16-bit game sprite", "4x4", "shiny", "golden key", "grid",
           "mushroom", "retro RPG item"]


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def rss_parts_mb() -> dict[str, float]:
    """RSS in its parts: anonymous memory (the process's own) and file pages mapped (the saved catalog's
    pages once read, which the kernel may drop and read again)."""
    parts = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("RssAnon:", "RssFile:")):
                parts[line.split(":")[0]] = int(line.split()[1]) / 1024
    return parts


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stats(values: list[float]) -> dict:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median": statistics.median(ordered), "p95": p95, "n": len(ordered)}


def store_query_s(library: Library, filters: Filters) -> float:
    """What the grid asks the store for a new result: the count (an estimate for a large result on PostgreSQL)
    and the first page."""
    start = time.perf_counter()
    library.query(filters, 0, 60)
    return time.perf_counter() - start


def library_path(count: int) -> Path:
    path = CACHE / f"lib-{count}"
    marker = path / ".complete"
    if not marker.exists():
        print(f"making a library of {count:,} images in {path} (once)…", flush=True)
        start = time.perf_counter()
        library = Library(path, account="bench")
        generate(library, count)
        library.close()
        marker.write_text(f"{time.perf_counter() - start:.1f} s\n")
    else:  # made before the dHash (schema 16): the app's background pass would hash it during the figures
        library = Library(path, account="bench")
        start = time.perf_counter()
        made = library.fill_perceptual_hashes()
        library.close()
        if made:
            print(f"perceptual hashes of {made:,} images of {path.name} made (once, {time.perf_counter() - start:.0f} s)",
                  flush=True)
    return path


class StallMeter:
    """The UI thread's longest stall: a task on the app's event loop asks to wake every 5 ms and
    notes how late it wakes. Anything that holds the loop (a query, a decode, a full garbage
    collection, a long repaint) makes it late. Two figures per activity (`phase`):

    - busy: the UI thread's own CPU time during the late wait (work done on the UI thread);
    - late: wall-clock lateness, which also counts waiting for the GIL held by a worker and
      the process not being scheduled on a loaded machine;
    - work: busy less the full garbage collections in that wait (the app runs them in pauses
      of input, see tui/app.py): what the app's own code held the UI thread for.
    """

    TICK = 0.005

    def __init__(self) -> None:
        self.phase = "start"
        self.busy: dict[str, float] = {}
        self.late: dict[str, float] = {}
        self.work: dict[str, float] = {}
        self._gc_started = 0.0
        self._gc_cpu = 0.0  # CPU time in full collections on the UI thread, running total
        self._task: asyncio.Task | None = None
        self._aside = 0  # bumped by `aside()`: a wait that saw it change timed the benchmark, not the app

    @contextlib.contextmanager
    def aside(self):
        """The benchmark's own work on the UI thread (a store query timed beside the app's, opening the other
        process's library): not counted as the app's stall."""
        self._aside += 1
        try:
            yield
        finally:
            self._aside += 1

    def _gc(self, phase: str, info: dict) -> None:
        if info.get("generation") != 2 or threading.current_thread() is not threading.main_thread():
            return
        if phase == "start":
            self._gc_started = time.thread_time()
        else:
            self._gc_cpu += time.thread_time() - self._gc_started

    async def _run(self) -> None:
        while True:
            start, cpu, gc_cpu, aside = time.perf_counter(), time.thread_time(), self._gc_cpu, self._aside
            await asyncio.sleep(self.TICK)
            if aside != self._aside or aside % 2:
                continue
            late = time.perf_counter() - start - self.TICK
            busy = time.thread_time() - cpu
            self.late[self.phase] = max(late, self.late.get(self.phase, 0.0))
            self.busy[self.phase] = max(busy, self.busy.get(self.phase, 0.0))
            self.work[self.phase] = max(busy - (self._gc_cpu - gc_cpu), self.work.get(self.phase, 0.0))

    def start(self) -> None:
        gc.callbacks.append(self._gc)
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> dict:
        if self._task is not None:
            self._task.cancel()
        gc.callbacks.remove(self._gc)
        return {phase: {kind: round(getattr(self, kind)[phase] * 1000, 1) for kind in ("work", "busy", "late")}
                for phase in self.late}


# -- 1. start-up ---------------------------------------------------------------

STARTUP_SCRIPT = r"""
import sys, time, asyncio
t0 = float(sys.argv[2])
from tui.app import MyImagesApp
from store.library import Library
from widgets.card import ImageCard
async def main():
    app = MyImagesApp(Library(sys.argv[1], account="bench"), images="halfcell")
    async with app.run_test(size=(160, 48)) as pilot:
        while True:
            cards = [c for c in app.screen.query(ImageCard) if c.record is not None] if app.screen.is_mounted else []
            if cards:
                break
            await asyncio.sleep(0.002)
        painted = asyncio.Event()
        app.screen.call_after_refresh(painted.set)  # the first screen with cards has been drawn
        await painted.wait()
        print(time.time() - t0)
asyncio.run(main())
"""


def bench_startup(path: Path, runs: int) -> dict:
    times = []
    for _ in range(runs):
        start = time.time()
        out = subprocess.run([sys.executable, "-c", STARTUP_SCRIPT, str(path), repr(start)], cwd=ROOT,
                             capture_output=True, text=True, check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return stats(times)


def bench_startup_tmux(path: Path) -> float | None:
    """Once, in a real terminal: tmux, until the first card's prompt text is on the screen."""
    if subprocess.run(["which", "tmux"], capture_output=True).returncode:
        return None
    sock = f"myimages-bench-{os.getpid()}-{path.name}"
    exe = Path(sys.executable).with_name("myimages")
    start = time.time()
    started = subprocess.run(["tmux", "-L", sock, "-f", "/dev/null", "new", "-d", "-s", "b", "-x", "160", "-y",
                              "48", f"{exe} --library {path} --account bench --images halfcell"])
    if started.returncode:
        return None
    try:
        while time.time() - start < 30:
            screen = subprocess.run(["tmux", "-L", sock, "capture-pane", "-p", "-t", "b"], capture_output=True,
                                    text=True).stdout
            if "images" in screen and "♡" in screen or "♥" in screen:
                return time.time() - start
            time.sleep(0.01)
        return None
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)


# -- 2-4, 7. search, filters, scrolling, memory inside the running app --------

def null_terminal():
    """Textual's headless driver, except that the app believes a terminal is there: every update is turned into the
    characters and escape sequences a true-colour terminal would be sent, then dropped. Headless, the app skips that
    step (`App._display`), which is UI-thread work in a real terminal: 5-10 ms of a dialog's first paint at 160x48,
    a style's colour codes made the first time it is drawn."""
    from textual.drivers.headless_driver import HeadlessDriver

    class NullTerminal(HeadlessDriver):
        @property
        def is_headless(self) -> bool:
            return False

        def write(self, data: str) -> None:
            pass

    return NullTerminal


async def bench_in_app(path: Path) -> dict:
    """Search, filters, scrolling and memory in the running app (160x48, a true-colour terminal that is written
    nowhere: `null_terminal`).

    Every time runs from the user's action (a key, a dropdown choice) to the
    moment the screen has been painted with the new cards: an after-refresh
    callback marks it. Thumbnails a card still waits for come a moment later
    from a worker; "thumbnails complete" is measured apart for scrolling.
    """
    from textual.widgets import Input, Select

    from tui.app import MyImagesApp
    from widgets.card import ImageCard
    from widgets.thumbnail_cache import ThumbnailStrips

    library = Library(path, account="bench")
    os.environ["COLORTERM"] = "truecolor"  # (the app's console is made with it: this process is the benchmark's own)
    app = MyImagesApp(library, images="halfcell")
    app.driver_class = null_terminal()
    result: dict = {"colour_system": app.console.color_system}
    async with app.run_test(size=(160, 48), headless=False) as pilot:
        from textual.worker import WorkerCancelled

        await pilot.pause()
        while True:  # a worker replaced by a newer one (the first page, then the catalog's) is fine
            try:
                await app.workers.wait_for_complete()
                break
            except WorkerCancelled:
                continue
        await pilot.pause()
        meter = StallMeter()
        meter.start()
        meter.phase = "search"
        screen = app.screen
        grid = screen.grid
        shown_at: dict = {}
        real_show = screen._show_result

        async def settle() -> None:
            """Until no worker runs (a cancelled one, replaced by a newer query, is fine)."""
            from textual.worker import WorkerCancelled

            while True:
                try:
                    await app.workers.wait_for_complete()
                    break
                except WorkerCancelled:
                    continue
            await pilot.pause()

        def show_result(filters, *args, **kwargs):
            real_show(filters, *args, **kwargs)
            # stacking (on by default) is the gallery's own state, not part of what was asked
            key = dataclasses.replace(filters, stacked=False, batch=None)
            screen.call_after_refresh(lambda: shown_at.setdefault(key, time.perf_counter()))

        screen._show_result = show_result

        async def until_shown(filters: Filters, start: float) -> float:
            filters = dataclasses.replace(filters, stacked=False, batch=None)
            while filters not in shown_at:
                if time.perf_counter() - start > 10:
                    raise RuntimeError(f"the app never showed {filters}; it showed {list(shown_at)}")
                await asyncio.sleep(0.0005)
            elapsed = shown_at.pop(filters) - start
            await settle()
            shown_at.clear()
            return elapsed

        search_box = screen.query_one("#search", Input)
        favorites = screen.query_one("#favorite-filter", Select)
        collection_box = screen.query_one("#collection-filter", Select)

        async def typed(query: str, favorite: str = "all", collection: int | None = None) -> float:
            """Type the query's last key, the rest being there already: key to cards painted."""
            search_box.focus()
            await pilot.pause()
            search_box.value = query[:-1]
            search_box.action_end()  # no selection: the key adds to the text
            await pilot.pause(0.1)
            await settle()
            shown_at.clear()
            start = time.perf_counter()
            await pilot.press(query[-1])
            return await until_shown(Filters(search=query, favorite=favorite, collection_id=collection), start)

        async def chosen(select: Select, value, filters: Filters) -> float:
            """Pick a dropdown value as a user does: open it, highlight the value, Enter. Enter to cards painted."""
            from textual.widgets._select import SelectOverlay

            select.focus()
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            overlay = select.query_one(SelectOverlay)
            overlay.highlighted = [v for _, v in select._options].index(value)
            await pilot.pause()
            shown_at.clear()
            start = time.perf_counter()
            await pilot.press("enter")
            return await until_shown(filters, start)

        search_ui, search_store = [], []
        for query in QUERIES:
            with meter.aside():
                search_store.append(store_query_s(library, Filters(search=query)))
            search_ui.append(await typed(query))
        search_box.value = ""
        await pilot.pause(0.1)
        await settle()

        meter.phase = "filters"
        collections = library.collections()
        c0, c1, c2 = (c.id for c in collections[:3])
        rounds = [
            (favorites, FAVORITES_ONLY, Filters(favorite=FAVORITES_ONLY)),
            (favorites, NON_FAVORITES, Filters(favorite=NON_FAVORITES)),
            (collection_box, c0, Filters(favorite=NON_FAVORITES, collection_id=c0)),
            (favorites, "all", Filters(collection_id=c0)),
            (collection_box, c1, Filters(collection_id=c1)),
            (collection_box, -1, Filters()),
        ]
        filter_ui, filter_store = [], []
        for _ in range(3):
            for select, value, filters in rounds:
                with meter.aside():
                    filter_store.append(store_query_s(library, filters))
                filter_ui.append(await chosen(select, value, filters))
            # search combined with the dropdowns
            for select, value in [(favorites, FAVORITES_ONLY), (collection_box, c2)]:
                await chosen(select, value, Filters(favorite=FAVORITES_ONLY, collection_id=c2 if select is
                                                    collection_box else None))
            with meter.aside():
                filter_store.append(store_query_s(library, Filters(search="pixel", favorite=FAVORITES_ONLY,
                                                                   collection_id=c2)))
            filter_ui.append(await typed("pixel", FAVORITES_ONLY, c2))
            result.setdefault("filter_rounds", []).append([round(t * 1000, 1) for t in filter_ui[-7:]])
            search_box.value = ""
            await pilot.pause(0.1)
            await chosen(favorites, "all", Filters(collection_id=c2))
            await chosen(collection_box, -1, Filters())
        result["search_ui"] = stats(search_ui)
        result["search_store"] = stats(search_store)
        result["filters_ui"] = stats(filter_ui)
        result["filters_store"] = stats(filter_store)

        meter.phase = "scrolling"
        grid.focus()
        await pilot.pause()
        cards = [card for card in app.screen.query(ImageCard) if card.display]  # (not other sizes')
        painted: list[float] = []
        real_page = grid.action_page

        def page(direction: int) -> None:
            real_page(direction)
            grid.call_after_refresh(lambda: painted.append(time.perf_counter()))

        grid.action_page = page
        pages, complete = [], []
        for _ in range(200):
            painted.clear()
            start = time.perf_counter()
            key = asyncio.create_task(pilot.press("pagedown"))
            while not painted:
                if time.perf_counter() - start > 10:
                    raise RuntimeError("PageDown was never painted")
                await asyncio.sleep(0.0005)
            if any(card.loading_record for card in cards):  # a page read in a worker: until its cards show it
                while any(card.loading_record for card in cards):
                    await asyncio.sleep(0.0005)
                pages.append(time.perf_counter() - start)
            else:
                pages.append(painted[0] - start)
            while any(card._thumb_missing or card._lines is None for card in cards if card.record):
                if time.perf_counter() - start > 10:  # a card never drawn: counted as 10 s, not waited forever
                    break
                await asyncio.sleep(0.001)
            complete.append(time.perf_counter() - start)
            await key
        # End and Home: from the key to the first frame the app displays in which every card of the last (first)
        # screen shows its record and its thumbnail (App.post_display_hook, called after each frame is made): what
        # the user waits for. The figure before 2026-11-27 stopped when Pilot found the process idle after the key
        # (`press` and `pause` each wait for 20 ms slices with under 1 ms of processor time), which counted Pilot's
        # idle test (40-60 ms) and the thumbnails of the screen a page away; kept beside it as "through Pilot".
        frame_done: list[float] = []
        cpu_done: list[float] = []  # the process's processor time at that frame (steadier than wall time under load)
        expected_first = [-1]

        def every_picture_shown() -> bool:
            if grid.top_row * grid.columns != expected_first[0]:
                return False
            return all(card.record is not None and card._lines is not None and not card._thumb_missing
                       for card in cards if card.index is not None)

        real_display_hook = app.post_display_hook

        def display_hook() -> None:
            real_display_hook()
            if not frame_done and expected_first[0] >= 0 and every_picture_shown():
                frame_done.append(time.perf_counter())
                cpu_done.append(time.process_time())

        async def end_and_home(suffix: str = "", fresh: bool = False) -> None:
            """End, then Home: result[f"end{suffix}_s"] and result[f"home{suffix}_s"]; with `fresh`, each key with no
            thumbnail in memory (as after a long scroll), else the medium cards' figure through Pilot beside it."""
            for name in ("end", "home"):
                total_rows = -(-grid.total // grid.columns)
                expected_first[0] = 0 if name == "home" else max(0, total_rows - grid.rows) * grid.columns
                if fresh:
                    grid.strips = ThumbnailStrips()
                    grid.strips.keep_drawn(3 * len(cards))
                    await pilot.pause()
                frame_done.clear()
                cpu_done.clear()
                start, cpu = time.perf_counter(), time.process_time()
                if every_picture_shown():  # there already (End at 100 images after 200 PageDowns): nothing to wait
                    frame_done.append(start)
                    cpu_done.append(cpu)
                await pilot.press(name)
                if not fresh:
                    await pilot.pause()
                    while any(card.loading_record for card in app.screen.query(ImageCard)) \
                            and time.perf_counter() - start < 10:
                        await asyncio.sleep(0.0005)
                    result[f"{name}_pilot_s"] = time.perf_counter() - start
                while not frame_done and time.perf_counter() - start < 10:
                    await asyncio.sleep(0.0005)
                result[f"{name}{suffix}_s"] = frame_done[0] - start if frame_done else 10.0
                result[f"{name}{suffix}_cpu_s"] = cpu_done[0] - cpu if cpu_done else 10.0
                expected_first[0] = -1
                await settle()

        app.post_display_hook = display_hook
        await end_and_home()
        # the same with small cards (40 on screen at 160x48: four times the medium ones' pictures to read and draw),
        # each key with no picture in memory (End's last screen was never shown; Home's was, before the scrolling)
        meter.phase = "card size"
        grid.set_card_size("small")
        await settle()
        cards = [card for card in app.screen.query(ImageCard) if card.display]  # (not other sizes')
        result["small_cards"] = sum(card.index is not None for card in cards)
        meter.phase = "End/Home, small cards"
        await end_and_home("_small", fresh=True)
        meter.phase = "card size"
        grid.set_card_size("medium")
        await settle()
        cards = [card for card in app.screen.query(ImageCard) if card.display]  # (not other sizes')
        app.post_display_hook = real_display_hook
        await modals_and_changes(app, pilot, library, meter, settle)
        result["ui_stall_ms"] = meter.stop()
        result["pagedown"] = stats(pages)
        result["pagedown_thumbnails"] = stats(complete)
        result["mounted_cards"] = len(app.screen.query(ImageCard))
        result["rss_mb_after"] = rss_mb()
        result["rss_parts_mb"] = rss_parts_mb()
        result["peak_rss_mb"] = peak_mb()
        result["images"] = grid.total
    library.close()
    return result


async def modals_and_changes(app, pilot, library: Library, meter: StallMeter, settle) -> None:
    """The large view, the grid editor, the dialogs, and changes made by another process that the gallery follows."""
    from tui.gallery_screen import GalleryScreen

    gallery = app.screen
    meter.phase = "large view"
    for _ in range(3):
        await pilot.press("enter")
        await settle()
        await pilot.press("escape")
        await pilot.press("right")
        await settle()
    meter.phase = "grid editor"
    for _ in range(3):
        await pilot.press("g")
        await settle()
        await pilot.press("r", "c", "R", "C")
        await settle()
        await pilot.press("escape")
        await pilot.press("right")
        await settle()
    # every dialog over the gallery draws the gallery dimmed under it (widgets/dimmed_backdrop.py) at its first
    # paint: info, prompt, the delete question, collections (its counts read on open), help, the trash view
    for key, name in (("i", "info"), ("p", "prompt"), ("d", "delete"), ("a", "collections"), ("question_mark", "help"),
                      ("t", "trash")):
        meter.phase = f"dialog: {name}"
        await pilot.press(key)
        await settle()
        await pilot.press("escape")
        await settle()
        assert app.screen is gallery, f"{key}: a dialog stayed open ({app.screen})"
    # every image selected (a million at 1,000,000: issue 11): the delete question, then Cancel; the collections
    # dialog over them, open long enough for the gallery's follower to poll, then Esc; then Esc clears them
    meter.phase = "select all, d, Cancel"
    await pilot.press("ctrl+a")
    await settle()
    await pilot.press("d")
    await settle()
    await pilot.press("escape")
    await settle()
    assert app.screen is gallery and len(gallery.grid.selected) == gallery.grid.total
    meter.phase = "select all, a, Esc"
    await pilot.press("a")
    await settle()
    await asyncio.sleep(2.5)  # (the follower polls every second)
    await pilot.press("escape")
    await settle()
    await pilot.press("escape")  # the selection cleared
    await settle()
    assert app.screen is gallery and not gallery.grid.selected
    meter.phase = "dialog: progress"
    await pilot.press("space", "right", "space", "f")  # two selected: the progress dialog, which closes when done
    await settle()
    await pilot.press("f")  # (as they were)
    await settle()
    await pilot.press("escape")  # the selection cleared
    await settle()
    meter.phase = "following changes"
    with meter.aside():
        other = Library(library.root, account=library.account.name)
    for _ in range(3):
        record = gallery.grid.current
        seen = gallery.shown
        with meter.aside():
            other.toggle_favorite(record.id)  # another process's change: the poll sees it within a second
        start = time.perf_counter()
        while gallery.grid.current is None or gallery.grid.current.favorite == record.favorite:
            if time.perf_counter() - start > 5:
                raise RuntimeError("the gallery never followed a change made elsewhere")
            await asyncio.sleep(0.01)
        await settle()
        assert gallery.shown == seen and isinstance(app.screen, GalleryScreen)
    meter.phase = "idle with polling"
    await asyncio.sleep(3)


def bench_app_in_process(path: Path) -> dict:
    """Each library in its own process, so memory figures do not mix."""
    script = (f"import asyncio, json, sys; sys.path.insert(0, {str(HERE)!r}); import run; "
              f"print(json.dumps(asyncio.run(run.bench_in_app(run.Path({str(path)!r})))))")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_distinct_prompts(path: Path) -> dict:
    """The search store query when no two prompts are alike (the demo repeats its prompts).

    A copy of the large library's database gets a distinct prompt per image;
    the catalog then tests every one of 100,000 prompts per query.
    """
    import shutil
    import sqlite3
    import tempfile

    target = Path(tempfile.mkdtemp(prefix="bench-distinct-"))
    try:
        shutil.copy(path / "library.db", target / "library.db")
        con = sqlite3.connect(target / "library.db")
        con.execute("UPDATE image SET prompt = prompt || ' #' || id")
        con.commit()
        con.close()
        library = Library(target, account="bench")
        start = time.perf_counter()
        library.warm_up()
        build = time.perf_counter() - start
        times = [store_query_s(library, Filters(search=query)) for query in QUERIES]
        distinct = library.db.execute_sql("SELECT COUNT(DISTINCT prompt) FROM image").fetchone()[0]
        library.close()
    finally:
        shutil.rmtree(target, ignore_errors=True)
    return {"distinct_prompts": distinct, "catalog_build_s": build, "search_store": stats(times)}


def bench_hostile_metadata() -> dict:
    """Milliseconds to parse each hostile chunk set of tests/hostile_inputs.py (median of 5)."""
    from store.metadata import parse_chunks
    from tests.hostile_inputs import hostile_inputs

    result = {}
    for n, data in enumerate(hostile_inputs()):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            parse_chunks(data)
            times.append(time.perf_counter() - start)
        result[f"{n}:{'+'.join(data)}"] = statistics.median(times) * 1000
    return result


# -- 5. import -----------------------------------------------------------------

def make_import_files(count: int) -> Path:
    from PIL import Image, PngImagePlugin

    folder = CACHE / f"import-{count}"
    if (folder / ".complete").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    print(f"making {count} 1024x1024 PNGs with metadata (once)…", flush=True)
    import numpy as np

    rng = np.random.default_rng(5)
    for i in range(count):
        base = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
        image = Image.fromarray(base).resize((1024, 1024), Image.Resampling.BICUBIC)
        info = PngImagePlugin.PngInfo()
        info.add_text("parameters", f"generated item {i}, pixel art\nNegative prompt: blurry\n"
                                    f"Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: {i}, Model: bench")
        image.save(folder / f"gen-{i:05d}.png", pnginfo=info, compress_level=6)
    (folder / ".complete").write_text("ok\n")
    return folder


def bare_import_loop(files: list[Path]) -> float:
    """Only what any importer must do: decode and make a thumbnail."""
    from PIL import Image

    start = time.perf_counter()
    for path in files:
        with Image.open(path) as image:
            image.load()
            image.thumbnail((256, 256))
    return time.perf_counter() - start


def bench_import(count: int) -> dict:
    import shutil
    import tempfile

    from store.importer import import_files

    folder = make_import_files(count)
    files = sorted(folder.glob("*.png"))
    bare = bare_import_loop(files)
    target = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        library = Library(target / "lib", account="bench")
        start = time.perf_counter()
        report = import_files(library, [folder])
        app_time = time.perf_counter() - start
        assert len(report.imported) == count, report.summary()
        library.close()
    finally:
        shutil.rmtree(target, ignore_errors=True)
    return {"files": count, "bare_per_s": count / bare, "app_per_s": count / app_time,
            "app_over_bare": (count / app_time) / (count / bare)}


# -- 6. clean background -------------------------------------------------------

# A real generated picture (a ComfyUI output, 1824x1248, tests/fixtures/generators/SOURCES.md gives its source and
# licence): a flat demo sheet compresses to almost nothing, a real picture's PNG encode is a part of the app's work.
REAL_PICTURE = ROOT / "tests" / "fixtures" / "generators" / "comfyui-anima.png"


def bench_clean(runs: int, source: Path | None = None) -> dict:
    """The app's clean of one image (`clean_image`) against the bare `rembg.remove` on the decoded picture: on the
    demo's 1024x1024 sheet, or on `source` (a real generated picture)."""
    import shutil
    import tempfile

    from PIL import Image
    from rembg import remove

    from store.background import clean_image, get_session
    from store.demo import ItemSpec, render_sheet
    from store.importer import import_files

    target = Path(tempfile.mkdtemp(prefix="bench-clean-"))
    try:
        if source is None:
            render_sheet([ItemSpec("sword", "iron")] * 4, 2, 2, size=1024).image.save(target / "sheet.png")
        else:
            shutil.copy(source, target / "sheet.png")
        picture = Image.open(target / "sheet.png").convert("RGB")
        size = "x".join(map(str, picture.size))
        library = Library(target / "lib", account="bench")
        import_files(library, [target / "sheet.png"])
        image_id = library.page()[0].id
        session = get_session()
        remove(picture, session=session)  # warm up
        data = (target / "sheet.png").read_bytes()
        bare, app, bare_cpu, app_cpu, files = [], [], [], [], []

        def cpu() -> float:  # the process's processor time: every thread's (the model's, the helper's)
            usage = resource.getrusage(resource.RUSAGE_SELF)
            return usage.ru_utime + usage.ru_stime

        for _ in range(runs):
            start, used = time.perf_counter(), cpu()
            remove(picture, session=session)
            bare.append(time.perf_counter() - start)
            bare_cpu.append(cpu() - used)
            start = time.perf_counter()
            remove(data, session=session)  # rembg's own file to file (`rembg i`): the PNG decoded, the cut encoded
            files.append(time.perf_counter() - start)
            start, used = time.perf_counter(), cpu()
            new_id = clean_image(library, image_id)
            app.append(time.perf_counter() - start)
            app_cpu.append(cpu() - used)
            library.delete([new_id])
        library.close()
    finally:
        shutil.rmtree(target, ignore_errors=True)
    b, a = statistics.median(bare), statistics.median(app)
    # Under load the medians of the two series can come from different moments; the median of each round's own
    # ratio (bare and app back to back) and the processor times are steadier there.
    return {"size": size if source is None else f"{size} {source.name}", "bare_s": b, "app_s": a, "app_over_bare": a / b,
            "app_over_bare_paired": statistics.median(x / y for x, y in zip(app, bare)),
            "bare_cpu_s": statistics.median(bare_cpu), "app_cpu_s": statistics.median(app_cpu),
            "bare_files_s": statistics.median(files), "app_over_bare_files": a / statistics.median(files)}


# -- report --------------------------------------------------------------------

def row(name: str, small: float, large: float, unit: str = "ms", target: str = "") -> str:
    scale = 1000 if unit == "ms" else 1
    ratio = large / small if small else float("nan")
    return f"| {name} | {small * scale:.1f} | {large * scale:.1f} | {ratio:.2f} | {target} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--import-files", type=int, default=1000)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-clean", action="store_true")
    parser.add_argument("--distinct", action="store_true",
                        help="libraries whose every prompt is distinct, with varied parameters (bench/search.py), "
                             "records sharing 64 pictures: use with --large 1000000")
    args = parser.parse_args()
    runs = 3 if args.quick else 7
    if args.distinct:
        import search

        small, large = search.prepare(args.small), search.prepare(args.large)
    else:
        small, large = library_path(args.small), library_path(args.large)
    results: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                 "platform": platform.platform()},
                     "when": time.strftime("%Y-%m-%d %H:%M"), "small": args.small, "large": args.large,
                     "load_at_start": os.getloadavg()}
    print("start-up…", flush=True)
    results["startup"] = {"small": bench_startup(small, runs), "large": bench_startup(large, runs)}
    results["startup_tmux_s"] = {"small": bench_startup_tmux(small), "large": bench_startup_tmux(large)}
    print("search, filters, scrolling, memory…", flush=True)
    results["app"] = {"small": bench_app_in_process(small), "large": bench_app_in_process(large)}
    if not args.distinct:
        results["distinct"] = bench_distinct_prompts(large)
    else:
        import search

        print("command line…", flush=True)
        results["cli"] = {"small": search.bench_cli(small), "large": search.bench_cli(large)}
    results["hostile_metadata_ms"] = bench_hostile_metadata()
    if not args.skip_import:
        print("import…", flush=True)
        results["import"] = bench_import(args.import_files if not args.quick else 200)
    if not args.skip_clean:
        print("clean background…", flush=True)
        # three rounds of `runs` each: the ratio moves by a few percent between rounds
        rounds = [bench_clean(runs) for _ in range(3)]
        results["clean"] = sorted(rounds, key=lambda c: c["app_over_bare"])[1]
        results["clean"]["ratios_of_3_runs"] = [round(c["app_over_bare"], 3) for c in rounds]
        rounds = [bench_clean(runs, REAL_PICTURE) for _ in range(3)]
        results["clean_real"] = sorted(rounds, key=lambda c: c["app_over_bare"])[1]
        results["clean_real"]["ratios_of_3_runs"] = [round(c["app_over_bare"], 3) for c in rounds]
    RESULTS.mkdir(exist_ok=True)
    results["load_at_end"] = os.getloadavg()
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    print(report(results))


def report(r: dict) -> str:
    s, l = r["app"]["small"], r["app"]["large"]
    lines = [
        f"Machine: {r['machine']['cpus']} cores, Python {r['machine']['python']}, {r['machine']['platform']}; "
        f"{r['when']}" + (f"; load average at the start {r['load_at_start'][0]:.1f}, at the end "
                          f"{r['load_at_end'][0]:.1f}" if "load_at_end" in r else ""),
        "",
        f"| figure | {r['small']:,} images | {r['large']:,} images | large/small | target |",
        "|---|---|---|---|---|",
        row("start-up to first cards, median (ms)", r["startup"]["small"]["median"], r["startup"]["large"]["median"],
            target="ratio ≤ 1.2, < 1500 ms"),
        row("start-up, p95 (ms)", r["startup"]["small"]["p95"], r["startup"]["large"]["p95"]),
    ]
    tmux = r.get("startup_tmux_s", {})
    if tmux.get("small") and tmux.get("large"):
        lines.append(row("start-up in tmux, once (ms)", tmux["small"], tmux["large"]))
    lines += [
        row("search in the app, median (ms)", s["search_ui"]["median"], l["search_ui"]["median"]),
        row("search in the app, p95 (ms)", s["search_ui"]["p95"], l["search_ui"]["p95"], target="≤ 100 ms"),
        row("search, store query alone, p95 (ms)", s["search_store"]["p95"], l["search_store"]["p95"],
            target="≤ 30 ms"),
        row("filters in the app, p95 (ms)", s["filters_ui"]["p95"], l["filters_ui"]["p95"], target="≤ 100 ms"),
        row("filters, store query alone, p95 (ms)", s["filters_store"]["p95"], l["filters_store"]["p95"],
            target="≤ 30 ms"),
        row("PageDown, median (ms)", s["pagedown"]["median"], l["pagedown"]["median"]),
        row("PageDown, p95 (ms)", s["pagedown"]["p95"], l["pagedown"]["p95"], target="≤ 50 ms"),
        row("PageDown to every thumbnail drawn, p95 (ms)", s["pagedown_thumbnails"]["p95"],
            l["pagedown_thumbnails"]["p95"]),
        row("End, key to every picture on screen (ms)", s["end_s"], l["end_s"], target="≤ 100 ms"),
        row("Home, key to every picture on screen (ms)", s["home_s"], l["home_s"], target="≤ 100 ms"),
        *([row(f"End, small cards ({l['small_cards']} on screen), key to every picture (ms)", s["end_small_s"],
               l["end_small_s"], target="≤ 100 ms"),
           row("Home, small cards, key to every picture (ms)", s["home_small_s"], l["home_small_s"],
               target="≤ 100 ms"),
           row("End, small cards, the process's processor time (ms)", s["end_small_cpu_s"], l["end_small_cpu_s"]),
           row("Home, small cards, the process's processor time (ms)", s["home_small_cpu_s"], l["home_small_cpu_s"])]
          if "end_small_s" in l else []),
        *([row("End through Pilot's idle test, the figure before (ms)", s["end_pilot_s"], l["end_pilot_s"]),
           row("Home through Pilot's idle test, the figure before (ms)", s["home_pilot_s"], l["home_pilot_s"])]
          if "end_pilot_s" in l else []),
        f"| mounted card widgets after scrolling | {s['mounted_cards']} | {l['mounted_cards']} | | same |",
        f"| RSS after search, filters, scroll (MB) | {s['rss_mb_after']:.0f} | {l['rss_mb_after']:.0f} | "
        f"+{l['rss_mb_after'] - s['rss_mb_after']:.0f} MB | ≤ +{150 if r['large'] >= 1_000_000 else 50} MB |",
        "| of it anonymous / file pages mapped (MB) | " + " | ".join(
            f"{x.get('rss_parts_mb', {}).get('RssAnon', 0):.0f} / {x.get('rss_parts_mb', {}).get('RssFile', 0):.0f}"
            for x in (s, l)) + " | | |",
        f"| peak RSS (MB) | {s['peak_rss_mb']:.0f} | {l['peak_rss_mb']:.0f} | | |",
    ]
    if "ui_stall_ms" in s and "ui_stall_ms" in l:
        def worst(side: dict, kind: str) -> float:
            return max(v[kind] for v in side["ui_stall_ms"].values()) / 1000

        lines.append(row("longest UI-thread stall, the app's own work (ms)", worst(s, "work"), worst(l, "work"),
                         target="≤ 50 ms"))
        lines.append(row("longest UI-thread stall, with full garbage collections (ms)", worst(s, "busy"),
                         worst(l, "busy")))
        lines.append(row("longest UI-thread stall, wall clock (ms)", worst(s, "late"), worst(l, "late")))

        def phase_figures(side: dict, phase: str) -> str:
            v = side["ui_stall_ms"].get(phase, {})
            return "/".join(f"{v.get(kind, 0):.0f}" for kind in ("work", "busy", "late"))

        lines += ["", "Longest UI-thread stall by activity, work/with GC/wall clock, small → large library (ms): "
                  + "; ".join(f"{phase} {phase_figures(s, phase)} → {phase_figures(l, phase)}"
                              for phase in l["ui_stall_ms"]) + "."]
    if "distinct" in r:
        d = r["distinct"]
        lines += ["", f"Search on {d['distinct_prompts']:,} distinct prompts (a copy of the large library, each prompt "
                      f"made unique): store query median {d['search_store']['median'] * 1000:.1f} ms, p95 "
                      f"{d['search_store']['p95'] * 1000:.1f} ms; building the catalog {d['catalog_build_s']:.2f} s."]
    if "cli" in r:
        lines += ["", "Command line, a process each, median of 3 (ms): " + "; ".join(
            f"`{name}` {r['cli']['small'][name]['median'] * 1000:.0f} → {r['cli']['large'][name]['median'] * 1000:.0f} "
            f"({r['cli']['large'][name]['median'] / r['cli']['small'][name]['median']:.2f}x)"
            for name in r["cli"]["small"]) + " (target ≤ 1.5x)."]
    if "hostile_metadata_ms" in r:
        worst = max(r["hostile_metadata_ms"].values())
        lines += ["", f"Parsing hostile metadata (100,000-deep JSON, 20,000-node graphs, 1 MB text; "
                      f"{len(r['hostile_metadata_ms'])} cases): slowest {worst:.1f} ms (target: a fraction of a second)."]
    if "import" in r:
        i = r["import"]
        lines += ["", f"Import of {i['files']} 1024×1024 PNGs with metadata: app {i['app_per_s']:.1f}/s, "
                      f"bare decode+thumbnail loop {i['bare_per_s']:.1f}/s, app/bare = {i['app_over_bare']:.2f} "
                      "(target ≥ 0.7)."]
    for c in (r[k] for k in ("clean", "clean_real") if k in r):
        spread = f" (3 rounds: {', '.join(map(str, c['ratios_of_3_runs']))})" if "ratios_of_3_runs" in c else ""
        lines += ["", f"Clean background, {c['size']}: app {c['app_s']:.3f} s, bare rembg.remove "
                      f"{c['bare_s']:.3f} s, app/bare = {c['app_over_bare']:.3f}{spread} (target ≤ 1.10)."]
        if "app_cpu_s" in c:
            lines += [f"  median of each round's app/bare {c['app_over_bare_paired']:.3f}; processor time (all "
                      f"threads) app {c['app_cpu_s']:.3f} s, bare {c['bare_cpu_s']:.3f} s."]
        if "bare_files_s" in c:
            lines += [f"  rembg's own file to file (`rembg i`: bytes in, PNG bytes out) {c['bare_files_s']:.3f} s: "
                      f"app/that = {c['app_over_bare_files']:.3f}."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
