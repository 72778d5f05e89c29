"""The trash view on a large trash. Run by hand, one at a time on the machine:

    flock /tmp/wt-bench.lock nice -n 10 .venv/bin/python bench/trash.py [--count 1000000]

Makes (once, into --cache) a copy of bench/search.py's library of COUNT images with every one in the trash (deleted
over 29 days, a quarter of them in bulk deletes that share one moment): records only, no files (the trash view
reads records). Then, in the real app (run_test, 160x48, no pictures), measures: `t` until the trash shows its first
lines; End until the last line shows; ctrl+a until the bar says the whole trash is selected; Restore all until
2,000 are restored (then Cancel), as a rate. Beside each, the UI thread's longest stall (bench/run.py's
StallMeter: `work` is the app's own code on the UI thread). Prints a table; another checkout of the app can be
measured on the same library with PYTHONPATH (an older trash view has no select-all or restore-all: those are
skipped).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import shutil
import sqlite3
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
CACHE = HERE / "cache"
RESTORED = 2000  # images restored before Cancel (a rate: a million take as long as this many times 500)


def make_library(count: int, cache: Path) -> Path:
    """bench/search.py's library of `count` images (made once), copied, with every image in the trash: deleted over
    the last 29 days, a quarter of them in bulk deletes that share one moment (ties in the trash's order)."""
    from bench.search import make_library as make_records
    from store.records import utc_now

    path = cache / f"trash-{count}"
    if (path / ".complete").exists():
        return path
    records = make_records(count)
    print(f"copying it into {path}, every image in the trash (once)…", flush=True)
    shutil.copytree(records, path, ignore=shutil.ignore_patterns(".complete"))
    con = sqlite3.connect(path / "library.db")
    rng = random.Random(17)
    ids = [i for (i,) in con.execute("SELECT id FROM image ORDER BY id")]
    now = utc_now()
    moments: list[datetime] = []
    while len(moments) < len(ids):
        at = now - timedelta(seconds=rng.randrange(29 * 86400))
        moments += [at] * (rng.randrange(50, 500) if rng.random() < 0.25 else 1)
    con.execute("BEGIN")
    con.executemany("UPDATE image SET trashed_at = ? WHERE id = ?", [(at.isoformat(" "), i) for at, i in zip(moments, ids)])
    con.execute("COMMIT")
    con.close()
    (path / ".complete").write_text("done\n")
    return path


async def measure(path: Path) -> dict:
    from textual.widgets import Button

    from bench.run import StallMeter
    from store.library import Library
    from tui.app import MyImagesApp
    from tui.gallery_screen import GalleryScreen
    from tui.trash_screen import TrashScreen

    out: dict = {}
    meter = StallMeter()
    app = MyImagesApp(Library(path, account="bench"), images="none")
    async with app.run_test(size=(160, 48)) as pilot:
        async def until(condition, timeout=600.0) -> float:
            start = time.perf_counter()
            while not condition():
                if time.perf_counter() - start > timeout:
                    raise TimeoutError
                await pilot.pause(0.01)
            return time.perf_counter() - start

        await until(lambda: isinstance(app.screen, GalleryScreen))
        await pilot.pause(1)
        meter.start()
        new = hasattr(TrashScreen, "trash_list")

        def shown_first() -> bool:
            screen = app.screen
            if not isinstance(screen, TrashScreen) or not screen.loaded:
                return False
            if new:
                return screen.trash_list.current is not None
            return screen.query_one("#trash-table").row_count > 0

        meter.phase = "open"
        start = time.perf_counter()
        app.simulate_key("t")  # not pilot.press: it waits for the screen to be idle
        await until(shown_first)
        out["open (s)"] = time.perf_counter() - start
        print(f"  open: {out['open (s)']:.2f} s", flush=True)
        screen = app.screen
        if new:  # (an older view's table has no End of its own)
            meter.phase = "end"
            start = time.perf_counter()
            app.simulate_key("end")  # not pilot.press: it waits for the screen to be idle
            await until(lambda: screen.trash_list.cursor == screen.trash_list.total - 1
                        and screen.trash_list.current is not None)
            out["End (s)"] = time.perf_counter() - start
            meter.phase = "select all"
            start = time.perf_counter()
            app.simulate_key("ctrl+a")  # not pilot.press: it waits for the screen to be idle
            await until(lambda: len(screen.trash_list.selection) == screen.trash_list.total)
            out["ctrl+a (s)"] = time.perf_counter() - start
            await pilot.press("escape")
            meter.phase = "restore all"
            await pilot.press("R")
            await until(lambda: app.screen.query("#restore") and not isinstance(app.screen, TrashScreen))
            await pilot.pause(0.2)
            start = time.perf_counter()
            app.screen.query_one("#restore", Button).press()
            await until(lambda: len(screen.restored) >= RESTORED)
            took = time.perf_counter() - start
            await pilot.press("escape")  # Cancel, after the batch under way
            out["restore (images/s)"] = len(screen.restored) / took
            await until(lambda: app.screen is screen, timeout=60)
            out["back after Cancel (s)"] = time.perf_counter() - start - took
        stalls = meter.stop()
        for phase, figures in stalls.items():
            out[f"stall {phase}: work/late (ms)"] = f"{figures['work']} / {figures['late']}"
    out["peak RSS (MB)"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the library is made (once)")
    parser.add_argument("--chunk", type=int, help="images restored a transaction (the trash view's CHUNK)")
    args = parser.parse_args()
    if args.chunk:
        import tui.trash_screen

        tui.trash_screen.CHUNK = args.chunk
    os.environ["MYIMAGES_TRASH_DAYS"] = "36500"  # nothing erased at start-up, whenever the library was made
    path = make_library(args.count, args.cache)
    cpu = time.process_time()
    figures = asyncio.run(measure(path))
    figures["process CPU (s)"] = time.process_time() - cpu
    print(f"{args.count:,} images in the trash; load {os.getloadavg()[0]:.1f}")
    for name, value in figures.items():
        print(f"  {name:<36} {value:.2f}" if isinstance(value, float) else f"  {name:<36} {value}")


if __name__ == "__main__":
    main()
