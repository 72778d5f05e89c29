"""Watched sources benchmark (issue 13): indexing a folder in place, rescanning it, a new file to its card.

Run by hand:  .venv/bin/python bench/sources.py [--files 100000] [--repeat 3] [--busy-only]
Prints a table. Every figure is measured in one run beside a bare loop on the same
files (read + SHA-256: the least any indexer does), so machine noise cancels.

Search and scrolling while indexing (the issue's 20 % bound) are measured `--repeat`
times, each time idle (before and after) beside busy (while files//5 new pictures are
indexed: by a child process as the app does, then added from the open app), and
printed as the median with the spread (lowest-highest) beside each run's figures.
"Idle" is idle: the app's windows start only once its background work is done (the
watcher's first rescan and its thumbnails of every image, the perceptual-hash pass),
waited for as a condition, and so does the window after the indexing (the new images'
thumbnails). Beside each window: the processor time the app's threads and the
indexing processes took in it. A full run keeps its indexed library in
bench/cache/sources-lib-N; `--busy-only` measures only those pairs on a copy of it
(making it first if there is none, and bringing it to the current schema once, so that
no copy spends its time upgrading).

The folder: `--files` PNGs of 32x32 pixels in 100 sub-folders, each with an
Automatic1111 `parameters` chunk (distinct prompt, seed, sampler), written once to
bench/cache/sources-N/ (about 1.5 KB each: 150 MB for 100,000).
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import os
import random
import resource
import shutil
import statistics
import struct
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from store.library import Library  # noqa: E402
from store.scan_child import run_in_child  # noqa: E402
from store.records import Filters  # noqa: E402

CACHE = HERE / "cache"
os.environ.setdefault("MYIMAGES_CONFIG", str(CACHE / "no-settings.toml"))  # defaults, never the runner's file
WORDS = ("sword shield potion ring amulet dragon castle forest knight wizard pixel art golden enchanted "
         "ancient crystal fire ice storm shadow moon sun river mountain tower scroll map key gem").split()
IDLE_SECONDS = 10.0  # idle figures: this long before the indexing and again after it (drift cancels)
SAMPLERS = ("Euler a", "DPM++ 2M Karras", "DDIM", "UniPC", "Euler")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _picture() -> tuple[bytes, bytes]:
    """The header and pixel chunks of one small PNG, shared by every file (the text differs)."""
    from PIL import Image

    image = Image.effect_noise((32, 32), 60).convert("RGB")
    out = io.BytesIO()
    image.save(out, "PNG")
    data = out.getvalue()
    iend = data.rindex(b"IEND") - 4
    return data[:33], data[33:iend]


def write_files(folder: Path, count: int, seed: int = 7, tag: str = "", folders: int = 100) -> None:
    """`count` PNGs in `folders` sub-folders, each with its own A1111 prompt (a `tag` makes other pictures)."""
    head, pixels = _picture()
    rng = random.Random(seed)
    for n in range(count):
        prompt = " ".join(rng.choice(WORDS) for _ in range(8)) + f", variation {tag}{n}"
        text = (f"{prompt}\nNegative prompt: blurry, lowres\nSteps: {rng.randint(10, 60)}, "
                f"Sampler: {rng.choice(SAMPLERS)}, CFG scale: {rng.randint(3, 12)}, Seed: {rng.randint(0, 2**32)}, "
                f"Size: 32x32, Model: model-{n % 37}").encode()
        path = folder / f"day{n % folders:03}" / f"{n:07}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(head + _chunk(b"tEXt", b"parameters\0" + text) + pixels + _chunk(b"IEND", b""))


def make_folder(count: int) -> Path:
    folder = CACHE / f"sources-{count}"
    if (folder / ".done").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    write_files(folder, count)
    (folder / ".done").write_text("")
    print(f"made {count:,} files in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return folder


def drop_caches() -> None:
    """Cold file cache where allowed (root), so the first read is a real read."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        pass


def bare_loop(folder: Path) -> float:
    started = time.perf_counter()
    for path in folder.rglob("*.png"):
        hashlib.sha256(path.read_bytes()).hexdigest()
    return time.perf_counter() - started


def p95(times: list[float]) -> float:
    times = sorted(times)
    return times[min(len(times) - 1, round(0.95 * (len(times) - 1)))] * 1000 if times else float("nan")


def query_p95(library: Library, seconds: float, busy: threading.Thread | None = None) -> float:
    return p95(query_times(library, seconds, busy))


def query_times(library: Library, seconds: float, busy: threading.Thread | None = None,
                cpu: list[float] | None = None) -> list[float]:
    """Store searches back to back for `seconds` (or, with `busy`, until that thread is done): their times
    (and, into `cpu`, the processor time each took in this thread: work this process did for it, without the
    wait for a core that the machine's load and the indexing processes add)."""
    try:
        from store.activity import note as typed
    except ImportError:  # a version of the store before it
        typed = None
    times = []
    deadline = time.perf_counter() + seconds
    words = iter(WORDS * 10_000)
    while time.perf_counter() < deadline or (busy is not None and busy.is_alive()):
        if typed is not None:
            typed()  # each search is typed by a user, as in the app (a scan child gives way meanwhile)
        start, work = time.perf_counter(), time.thread_time()
        library.query(Filters(search=next(words)), 0, 50)
        times.append(time.perf_counter() - start)
        if cpu is not None:
            cpu.append(time.thread_time() - work)
    return times


def indexing(target, *args) -> threading.Thread:
    thread = threading.Thread(target=target, args=args)
    thread.start()
    return thread


class Processor:
    """Processor time over a window: this process's threads by name (from /proc, as the kernel counts them:
    the main thread, the watcher, workers) and the processes it waited for since (the indexing child with its
    readers), so a busy window says whose work it was."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self) -> None:
        self.threads = self._threads()
        self.children = self._children()
        self.wall = time.perf_counter()

    @staticmethod
    def _children() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    @classmethod
    def _threads(cls) -> dict[str, float]:
        names = {t.native_id: t.name for t in threading.enumerate()}
        out: dict[str, float] = {}
        for task in Path("/proc/self/task").iterdir():
            try:
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            name = names.get(int(task.name), "other")
            name = "main" if name == "MainThread" else "watcher" if name.startswith("myimages-") \
                else "workers" if name.startswith("asyncio") else "catalog" if name.startswith("catalog") \
                else "other"  # the bench's own threads (the indexing's pipes), Textual's, the readers' feeders
            out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / cls.TICK
        return out

    def since(self) -> dict[str, float]:
        """Seconds of processor per second of wall clock since this was made, by thread (and "children")."""
        wall = max(1e-9, time.perf_counter() - self.wall)
        now = self._threads()
        out = {name: (now.get(name, 0.0) - self.threads.get(name, 0.0)) / wall for name in sorted(now)}
        out["children"] = (self._children() - self.children) / wall
        return {name: value for name, value in out.items() if value > 0.005 or name in ("main", "children")}


def shares(split: dict[str, float]) -> str:
    return " ".join(f"{name} {value:.2f}" for name, value in split.items())


def background_done(app) -> bool:
    """The app's own background work is over: the watcher's first rescan, a folder added since read again, files
    waiting to be complete, its thumbnail walk over every image (store/sources.py ThumbnailWalk: it looks at every
    linked image once after start, and at every new one), the start-up worker (trash, perceptual hashes). The
    watcher's walk is private to it: read here, for the benchmark only."""
    from peewee import fn

    from store.models import Image

    watcher = app.watcher
    if any(w.group == "trash-expiry" and not w.is_finished for w in app.workers):
        return False
    if watcher is None:
        return True
    if not watcher.ready.is_set() or watcher.waiting or getattr(watcher, "_added", None) \
            or getattr(watcher, "_rescan", None) is not None:
        return False
    walk = getattr(watcher, "_thumbnails", None)
    if walk is None:
        return True
    newest = Image.select(fn.MAX(Image.id)).where(Image.owner == app.library.account.id).scalar() or 0
    return walk.upto is None and newest <= walk.above


async def wait_for_background(pilot, app, limit: float = 900.0) -> float:
    """Seconds until the app's background work is done (background_done), checked every 0.2 s."""
    start = time.perf_counter()
    while not background_done(app):
        if time.perf_counter() - start > limit:
            raise RuntimeError(f"the app's background work was not done within {limit:.0f} s")
        await pilot.pause(0.2)
    return time.perf_counter() - start


async def keys_in_app(library_root: Path, folder: Path) -> dict:
    """The open gallery (160x48): a search key typed, and PageDown, to the grid painted (p95, ms), idle (before
    and after) and while `folder` is added from the app as its dialog does (store/scan_child.py, same account).
    Each idle window begins once the app's background work is done (wait_for_background)."""
    from textual.widgets import Input

    from tests.ui import settle
    from tui.app import MyImagesApp
    from widgets.card_grid import CardGrid

    app = MyImagesApp(Library(library_root, account="bench"), images="none")
    result: dict = {}

    async with app.run_test(size=(160, 48)) as pilot:
        while not app.watcher.ready.is_set():
            await pilot.pause(0.05)
        await settle(pilot, app)
        result["wait_start"] = await wait_for_background(pilot, app)
        await settle(pilot, app)
        app.library.warm_up()
        screen = app.screen
        grid = screen.query_one(CardGrid)
        box = screen.query_one("#search", Input)
        painted: list[float] = []
        real_show, real_page = screen._show_result, grid.action_page

        def shown(*args, **kwargs):
            real_show(*args, **kwargs)
            screen.call_after_refresh(lambda: painted.append(time.perf_counter()))

        def page(direction: int) -> None:
            real_page(direction)
            grid.call_after_refresh(lambda: painted.append(time.perf_counter()))

        screen._show_result, grid.action_page = shown, page

        async def timed(key: str) -> float:
            painted.clear()
            start = time.perf_counter()
            await pilot.press(key)
            while not painted and time.perf_counter() - start < 10:
                await asyncio.sleep(0.0005)
            return (painted[0] if painted else time.perf_counter()) - start

        async def measure(seconds: float, busy: threading.Thread | None = None) -> tuple[list, list, dict]:
            searches, pages = [], []
            words = iter(WORDS * 1000)
            processor = Processor()
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline or (busy is not None and busy.is_alive()):
                word = next(words)
                box.focus()
                box.value = word[:-1]
                box.action_end()
                await pilot.pause(0.15)
                await settle(pilot, app)
                searches.append(await timed(word[-1]))
                grid.focus()
                await pilot.pause(0.05)
                pages.append(await timed("pagedown"))
            if busy is not None:
                busy.join()  # its processor time is counted once it is waited for
            return searches, pages, processor.since()

        searches, pages, result["cpu_idle"] = await measure(IDLE_SECONDS)
        started = time.perf_counter()
        busy = indexing(run_in_child, Library(library_root, account="bench"), folder)
        busy_searches, busy_pages, result["cpu_busy"] = await measure(3.0, busy)
        result["indexed"] = time.perf_counter() - started
        result["search_busy"], result["page_busy"] = p95(busy_searches), p95(busy_pages)
        app.library.catalog.sync(at_once=True)  # idle again: everything taken in, then shown
        app.screen.reload(keep_position=True)
        await settle(pilot, app)
        result["wait_after"] = await wait_for_background(pilot, app)  # the new images' thumbnails
        await settle(pilot, app)
        more_searches, more_pages, result["cpu_after"] = await measure(IDLE_SECONDS)
        result["search_idle"], result["page_idle"] = p95(searches + more_searches), p95(pages + more_pages)
        result["search_before"], result["search_after"] = p95(searches), p95(more_searches)
        result["page_before"], result["page_after"] = p95(pages), p95(more_pages)
        result["samples"] = f"{len(searches) + len(more_searches)} idle, {len(busy_searches)} busy"
    return result


async def new_file_to_card(library_root: Path, folder: Path, rounds: int = 5) -> tuple[list[float], list[float]]:
    """A file written into a followed folder while the app runs: seconds until its card is on screen (the first:
    the watcher's first rescan at start; the second: a file written as the app starts, before that rescan is
    done); then a change made by another process: seconds until it shows."""
    from tests.ui import screen_text
    from tui.app import MyImagesApp

    from widgets.card_grid import CardGrid

    head, pixels = _picture()
    results, elsewhere = [], []
    app = MyImagesApp(Library(library_root, account="bench"), images="none")
    async with app.run_test(size=(160, 48)) as pilot:
        started = time.perf_counter()

        async def to_card(n: int) -> float:
            marker = f"fresh{n}x{time.time_ns() % 10**6}"  # short: a card shows it on one line
            path = folder / "new" / f"fresh-{n}-{time.time_ns()}.png"
            path.parent.mkdir(exist_ok=True)
            start = time.perf_counter()
            path.write_bytes(head + _chunk(b"tEXt", b"parameters\0" + marker.encode() + b"\nSteps: 20")
                             + pixels + _chunk(b"IEND", b""))
            while marker not in screen_text(app):
                if time.perf_counter() - start > 10:
                    break
                await pilot.pause(0.02)
            return time.perf_counter() - start

        while getattr(app, "watcher", None) is None or not app.watcher.running:
            await pilot.pause(0.01)
        ready_at: list[float] = []  # its look at what changed while nothing watched, done
        threading.Thread(target=lambda: app.watcher.ready.wait(600) and ready_at.append(time.perf_counter()),
                         daemon=True).start()
        await pilot.pause(0.5)  # as a user would: the watch is in place (its first look comes 0.3 s after start)
        at_start = await to_card(-1)
        while not ready_at:
            await pilot.pause(0.05)
        results += [ready_at[0] - started, at_start]
        for n in range(rounds):
            results.append(await to_card(n))
        # a change made by another process (a favorite, here through a connection of its own): to the screen
        other = Library(library_root, account="bench")
        grid = app.screen.query_one(CardGrid)
        for _ in range(rounds):
            record = grid.current
            start = time.perf_counter()
            other.toggle_favorite(record.id)
            while grid.current is None or grid.current.favorite == record.favorite:
                if time.perf_counter() - start > 10:
                    break
                await pilot.pause(0.02)
            elsewhere.append(time.perf_counter() - start)
            await pilot.pause(0.5)
        other.close()
    return results, elsewhere


def load() -> str:
    return "load " + " / ".join(f"{x:.1f}" for x in os.getloadavg())


def busy_pairs(root: Path, work: Path, files: int, repeat: int, app: bool = True) -> list[dict]:
    """Idle and indexing figures side by side, `repeat` times: each time a new folder of files//5 pictures
    (not in the library yet) is indexed, first by a child process (store search measured here), then
    added from the open app (its search key and PageDown measured)."""
    library = Library(root, account="bench")
    runs = []
    for r in range(repeat):
        extra = work / f"extra{r}"
        write_files(extra, files // 5, seed=100 + r, tag=f"r{r}x", folders=20)
        run: dict = {"files": files // 5, "load_before": load()}
        idle_cpu: list[float] = []
        busy_cpu: list[float] = []
        processor = Processor()
        before = query_times(library, IDLE_SECONDS, cpu=idle_cpu)
        run["store_cpu_idle"] = processor.since()
        processor, started = Processor(), time.perf_counter()
        busy = indexing(run_in_child, Library(root, account=f"child{r}"), extra)
        run["store_busy"] = p95(query_times(library, 3.0, busy, cpu=busy_cpu))
        busy.join()
        run["store_cpu_busy"], run["store_indexed"] = processor.since(), time.perf_counter() - started
        library.catalog.sync(at_once=True)
        after = query_times(library, IDLE_SECONDS, cpu=idle_cpu)
        run["store_idle"] = p95(before + after)
        run["store_before"], run["store_after"] = p95(before), p95(after)
        run["store_cpu"] = f"{statistics.median(idle_cpu) * 1000:.1f} / {statistics.median(busy_cpu) * 1000:.1f}"
        if app:
            run.update(asyncio.run(keys_in_app(root, extra)))
        run["load_after"] = load()
        runs.append(run)
        shutil.rmtree(extra, ignore_errors=True)
        print(f"run {r + 1}: " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else
                                           f"{k} {shares(v)}" if isinstance(v, dict) else f"{k} {v}"
                                           for k, v in run.items()), file=sys.stderr, flush=True)
    library.close()
    return runs


def spread(values: list[float], unit: str = "", digits: int = 1) -> str:
    """The median, then the lowest and highest in brackets (with one value: that value)."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}{unit}"
    return (f"{statistics.median(values):.{digits}f}{unit} ({min(values):.{digits}f}–{max(values):.{digits}f}"
            f"{unit})")


def busy_rows(runs: list[dict]) -> list[tuple[str, str, str]]:
    """Each figure: median (lowest–highest) idle / busy, the ratio's median and spread, then each run's values."""
    rows = []
    n = f"{runs[0]['files']:,}"
    app = "page_busy" in runs[0]
    for key, name in (("store", f"store search p95 (ms), idle / while {n} new files are indexed in a child "
                                "process as the app does"),
                      ("search", f"app: search key to grid painted p95 (ms), idle / while {n} new files are "
                                 "added from the app"),
                      ("page", f"app: PageDown to grid painted p95 (ms), idle / while {n} new files are "
                               "added from the app"))[:3 if app else 1]:
        ratios = [run[f"{key}_busy"] / run[f"{key}_idle"] for run in runs]
        idle, busy = [run[f"{key}_idle"] for run in runs], [run[f"{key}_busy"] for run in runs]
        each = "; ".join(f"{run[f'{key}_before']:.1f}+{run[f'{key}_after']:.1f} / {run[f'{key}_busy']:.1f}"
                         for run in runs)
        rows.append((name, f"{spread(idle)} / {spread(busy)} [each run, idle before+after / busy: {each}]",
                     f"≤ 1.2x idle: {spread(ratios, 'x', 2)} over {len(runs)}"))
    for key, name in (("store", "  store pair: processor per second (threads of the searching process; children: "
                                "the indexing child and its readers), idle / busy"),
                      ("", "  app pair: processor per second (the app's threads; children: the indexing child and "
                           "its readers), idle before / busy / idle after"))[:2 if app else 1]:
        if key:
            values = "; ".join(f"{shares(run['store_cpu_idle'])} / {shares(run['store_cpu_busy'])}" for run in runs)
        else:
            values = "; ".join(f"{shares(run['cpu_idle'])} / {shares(run['cpu_busy'])} / {shares(run['cpu_after'])}"
                               for run in runs)
        rows.append((name, values, ""))
    rows.append(("  store search: processor time in the searching thread, median (ms), idle / busy",
                 "; ".join(run["store_cpu"] for run in runs), ""))
    if not app:
        rows.append((f"  indexing {n} files in the store pair (s)", spread([run['store_indexed'] for run in runs]),
                     ""))
    else:
        rows.append((f"  indexing {n} files: in the store pair / from the app (s)",
                     f"{spread([run['store_indexed'] for run in runs])} / {spread([run['indexed'] for run in runs])}",
                     ""))
        rows.append(("  the app's background work: done after its start / after the indexing (s, waited before the "
                     "idle windows)", f"{spread([run['wait_start'] for run in runs])} / "
                     f"{spread([run['wait_after'] for run in runs])}", ""))
        rows.append(("  app key presses measured (each run)", "; ".join(run["samples"] for run in runs), ""))
    rows.append(("  load average (1/5/15 min) before each run", "; ".join(run["load_before"] for run in runs), ""))
    return rows


def kept_library(kept: Path, folder: Path) -> None:
    """The library `--busy-only` copies: made once if missing (the folder indexed in place, every thumbnail, the
    perceptual hashes: what the app would otherwise do in its idle windows), and brought to the current schema
    once if a version of the app before made it (else every copy would upgrade its 100,000 records first)."""
    import sqlite3
    from contextlib import closing

    from store.migrations import LATEST

    if not (kept / ".done").exists():
        shutil.rmtree(kept, ignore_errors=True)
        started = time.perf_counter()
        with Library(kept, account="bench") as library:
            library.add_source(folder)
            library.make_thumbnails()
            library.fill_perceptual_hashes()
        (kept / ".complete").write_text("")
        (kept / ".done").write_text("")
        print(f"made the kept library {kept} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        return
    with closing(sqlite3.connect(kept / "library.db")) as db:  # closed before the copy (its -wal goes then)
        version = int(db.execute("SELECT value FROM setting WHERE key = 'schema_version'").fetchone()[0])
    if version < LATEST or not (kept / ".complete").exists():
        started = time.perf_counter()
        with Library(kept, account="bench") as library:
            library.make_thumbnails()  # an older full run made 2,000 of them
            library.fill_perceptual_hashes()  # an upgrade may ask for hashes again
        (kept / ".complete").write_text("")
        print(f"brought the kept library from schema {version} to {LATEST}, with every thumbnail and hash, in "
              f"{time.perf_counter() - started:.1f} s", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="idle/indexing pairs measured (default 3)")
    parser.add_argument("--store-only", action="store_true",
                        help="with --busy-only: the store search pairs only, not the app's (quicker)")
    parser.add_argument("--busy-only", action="store_true",
                        help="only the idle/indexing pairs, on the library a full run kept in bench/cache")
    args = parser.parse_args()
    kept = CACHE / f"sources-lib-{args.files}"
    folder = CACHE / f"sources-{args.files}" if args.busy_only and (kept / ".done").exists() \
        else make_folder(args.files)
    work = Path(tempfile.mkdtemp(prefix="myimages-bench-sources-"))
    rows = []
    try:
        if args.busy_only:
            kept_library(kept, folder)
            shutil.copytree(kept, work / "lib", ignore=shutil.ignore_patterns(".done", ".complete"))
            print(f"| busy figures | {load()} |", file=sys.stderr)
            rows = busy_rows(busy_pairs(work / "lib", work, args.files, args.repeat, app=not args.store_only))
            return
        drop_caches()
        bare_cold = bare_loop(folder)
        bare_warm = bare_loop(folder)
        library = Library(work / "lib", account="bench")
        idle = query_p95(library, 0.1)  # warm the catalog (empty)
        start, cpu, children = time.perf_counter(), os.times(), resource.getrusage(resource.RUSAGE_CHILDREN)
        report = library.add_source(folder)
        indexed = time.perf_counter() - start
        recording = os.times().user + os.times().system - cpu.user - cpu.system
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        reading = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
        assert len(report.added) == args.files, report.summary()
        start = time.perf_counter()
        found = library.count(Filters(search="variation 4242"))
        searchable = time.perf_counter() - start
        start = time.perf_counter()
        again = library.scan_sources()[0]
        rescan = time.perf_counter() - start
        assert not again.added and again.unchanged == args.files
        start = time.perf_counter()
        thumbs = library.make_thumbnails(limit=2000)
        thumb_rate = thumbs / (time.perf_counter() - start)
        library.make_thumbnails()  # the rest, and the hashes: what the app would otherwise do in its idle windows
        library.fill_perceptual_hashes()
        library.close()
        if not (kept / ".done").exists():  # for --busy-only runs
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(work / "lib", kept)
            (kept / ".complete").write_text("")
            (kept / ".done").write_text("")
        library = Library(work / "lib", account="bench")
        idle = query_p95(library, 3.0)
        # searching while another folder is indexed in this process
        other = work / "second"
        write_files(other, args.files // 5, seed=99, tag="second", folders=20)
        busy = query_p95(library, 3.0, indexing(Library(work / "lib", account="busy").add_source, other))
        library.close()
        (ready, at_start, *card), elsewhere = asyncio.run(new_file_to_card(work / "lib", folder))
        shutil.rmtree(folder / "new", ignore_errors=True)
        pairs = busy_pairs(work / "lib", work, args.files, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if rows:
            print("\n| figure | value | target |\n|---|---|---|")
            for name, value, target in rows:
                print(f"| {name} | {value} | {target} |")
    n = f"{args.files:,}"
    rows = [
        (f"bare loop: read + SHA-256 of {n} files, cold cache (s)", f"{bare_cold:.1f}", ""),
        ("bare loop, warm cache (s)", f"{bare_warm:.1f}", ""),
        (f"index {n} files in place, to searchable (s)", f"{indexed:.1f}", "≤ 60 s"),
        ("  per file (ms)", f"{indexed / args.files * 1000:.2f}", "IIB: 45 s / 20,000 = 2.25 ms on 6 cores"),
        ("  against the warm bare loop", f"{indexed / bare_warm:.1f}x", ""),
        ("  processor time: reading (reader processes) / recording (s)", f"{reading:.1f} / {recording:.1f}", ""),
        ("first search after indexing (ms)", f"{searchable * 1000:.0f} ({found} found)", ""),
        (f"rescan {n} unchanged files (s)", f"{rescan:.2f}", "≤ 5 s"),
        ("thumbnails made in the background (per s)", f"{thumb_rate:.0f}", ""),
        (f"store search p95 (ms), idle / while {args.files // 5:,} new files are indexed in this process",
         f"{idle:.1f} / {busy:.1f}", f"{busy / idle:.2f}x idle"),
        *busy_rows(pairs),
        ("app start: watcher's first rescan done (s)", f"{ready:.2f}", ""),
        ("a file written as the app starts (before that rescan is done) to its card (s)", f"{at_start:.2f}", "≤ 2 s"),
        ("new file to its card on screen, median (s)", f"{statistics.median(card):.2f}", "≤ 2 s"),
        ("new file to its card on screen, max (s)", f"{max(card):.2f}", ""),
        ("a change made by another process (a favorite) to the screen, median / max (s)",
         f"{statistics.median(elsewhere):.2f} / {max(elsewhere):.2f}", "≤ 2 s"),
    ]
    print("\n| figure | value | target |\n|---|---|---|")
    for name, value, target in rows:
        print(f"| {name} | {value} | {target} |")


if __name__ == "__main__":
    main()
