"""The UI thread's longest event-loop iterations (thread CPU) for a few actions, with where the time went.

    nice -n 10 python bench/ui_iterations.py bench/cache/lib-100 [--size 160x48] [--rounds 3]

In the running app (headless, half-block thumbnails), garbage collection off while measuring (bench/gc_pauses.py
measures that): choosing a value in the favorite and collection dropdowns (open, highlight, Enter: from Enter
to the grid painted), and moving the focus between the search box and the grid (Tab). Printed per action: the
longest iteration of the loop and the median of each round's longest, then the time in Textual's layout,
restyle and paint within the longest one.
"""
from __future__ import annotations

import argparse
import asyncio
import asyncio.base_events as base_events
import collections
import gc
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

_parts: collections.Counter = collections.Counter()
_depth: collections.Counter = collections.Counter()
_iterations: list[tuple[float, dict]] = []
_on = [False]


def _timed(owner, name: str) -> None:
    """Count the thread CPU spent in owner.name (outermost calls only) towards the current iteration."""
    real = getattr(owner, name)
    label = f"{owner.__name__}.{name}"

    def wrapper(*args, **kwargs):
        _depth[label] += 1
        start = time.thread_time()
        try:
            return real(*args, **kwargs)
        finally:
            _depth[label] -= 1
            if not _depth[label]:
                _parts[label] += time.thread_time() - start

    setattr(owner, name, wrapper)


def _instrument() -> None:
    from textual._compositor import Compositor
    from textual.css.stylesheet import Stylesheet
    from textual.screen import Screen

    _timed(Screen, "_refresh_layout")
    _timed(Compositor, "render_update")
    _timed(Stylesheet, "update_nodes")
    real_once = base_events.BaseEventLoop._run_once

    def once(self):
        _parts.clear()
        start = time.thread_time()
        real_once(self)
        if _on[0]:
            _iterations.append(((time.thread_time() - start) * 1000, dict(_parts)))

    base_events.BaseEventLoop._run_once = once


async def measure(path: Path, size: tuple[int, int], rounds: int) -> dict[str, list]:
    from textual.widgets import Select
    from textual.widgets._select import SelectOverlay  # the open list: highlighting a value as the keys do

    from store.library import Library
    from store.records import FAVORITE_ALL, FAVORITES_ONLY, NON_FAVORITES
    from tui.app import MyImagesApp
    from widgets.filter_bar import ALL_COLLECTIONS

    library = Library(path, account="bench")
    app = MyImagesApp(library, images="halfcell")
    worst: dict[str, list] = collections.defaultdict(list)
    async with app.run_test(size=size) as pilot:
        async def settle() -> None:
            await pilot.pause(0.3)
            # (not the background pass an older library's hashes get until the app quits: tui/app.py)
            while any(not w.is_finished and w.group != "trash-expiry" for w in app.workers):
                await pilot.pause(0.05)
            await pilot.pause(0.1)

        await settle()
        screen = app.screen
        favorites = screen.query_one("#favorite-filter", Select)
        collection_box = screen.query_one("#collection-filter", Select)
        ids = [c.id for c in library.collections()[:2]]

        async def measured(name: str, action) -> None:
            _iterations.clear()
            _on[0] = True
            await action()
            await settle()
            _on[0] = False
            worst[name].append(max(_iterations, key=lambda i: i[0]))
            if "-v" in sys.argv:
                print(name, [(round(d, 1), {k.split(".")[-1]: round(v * 1000, 1) for k, v in p.items()})
                             for d, p in sorted(_iterations, key=lambda i: -i[0])[:4]])

        async def choose(select: Select, value) -> None:
            select.focus()
            await pilot.press("enter")
            await pilot.pause(0.1)
            overlay = select.query_one(SelectOverlay)
            overlay.highlighted = [v for _, v in select._options].index(value)
            await pilot.pause(0.1)
            await measured("dropdown: choose", lambda: pilot.press("enter"))

        gc.collect()
        gc.disable()
        try:
            for _ in range(rounds):
                for select, value in [(favorites, FAVORITES_ONLY), (favorites, NON_FAVORITES),
                                      (collection_box, ids[0] if ids else ALL_COLLECTIONS),
                                      (favorites, FAVORITE_ALL), (collection_box, ALL_COLLECTIONS)]:
                    await choose(select, value)
                screen.grid.focus()
                await settle()
                for _ in range(4):
                    await measured("focus: tab", lambda: pilot.press("tab"))
                screen.grid.focus()
                await settle()
        finally:
            gc.enable()
    library.close()
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library", type=Path)
    parser.add_argument("--size", default="160x48")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("-v", action="store_true", help="print the 4 longest iterations of each action")
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))
    _instrument()
    worst = asyncio.run(measure(args.library, (width, height), args.rounds))
    for name, items in worst.items():
        longest = max(items, key=lambda i: i[0])
        parts = ", ".join(f"{k.split('.')[-1].strip('_')} {v * 1000:.1f}" for k, v in
                          sorted(longest[1].items(), key=lambda kv: -kv[1]))
        print(f"{args.size} {name:17}: longest {longest[0]:5.1f} ms (median of the worst {statistics.median(i[0] for i in items):5.1f}); "
              f"in it: {parts}")


if __name__ == "__main__":
    main()
