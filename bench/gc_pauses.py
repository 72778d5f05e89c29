"""Garbage collection on the UI thread (issue 11): how many objects the collector walks and how long its
full collections take while the gallery is used, on one or more libraries, at one or more sizes.

    nice -n 10 python bench/gc_pauses.py bench/cache/lib-100 [bench/cache/lib-100000] [--sizes 80x24,160x48]

For each library and size, in the running app (headless, half-block thumbnails): 3 rounds of 10 PageDown and
Home, then 6 searches typed into the search box, each step waited for (0.3 s), then the info, large view and
help dialogs opened and closed (1 s each); then 2 more rounds and 3 searches. Printed: the full (generation 2)
collections that ran on the UI thread meanwhile (how many, longest; thread CPU time, as the app's idle
collector runs them), the objects the collector tracks when the app is idle (after a full collection), of
them those of the types drawing makes (rich Style, Color, ColorTriplet, Segment; Textual Strip), and the
"deep" collection the app runs when the user is away (tui/app.py: unfreeze, collect, freeze; "none" when
the app's idle collector found none due), its pause brought about at once, twice (after each half of the run);
and at the end what had died frozen: the garbage a collection of everything finds (what only a deep
collection frees; it grows with what is left to it).
Libraries are used in place (bench/run.py makes them in bench/cache); nothing is written but the app's own
state (search history, locks).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

DRAWN = {"rich.style.Style", "rich.color.Color", "rich.color_triplet.ColorTriplet", "rich.segment.Segment",
         "textual.strip.Strip"}


def after_a_long_pause(app) -> float | None:
    """What the app's idle collector does when the user is away, 5 minutes without input (tui/app.py
    `_collect_when_idle`, run here at once): the ms of thread CPU of its deep collection, or None if it ran none."""
    from tui.app import GC_DEEP_AWAY

    ran: list[int] = []

    def seen(phase: str, info: dict) -> None:
        if phase == "start" and info["generation"] == 2:
            ran.append(1)

    app._last_input -= GC_DEEP_AWAY + 1  # the app's own clock of the last key (bench only)
    gc.callbacks.append(seen)
    start = time.thread_time()
    try:
        app._collect_when_idle()
    finally:
        gc.callbacks.remove(seen)
    return (time.thread_time() - start) * 1000 if ran else None


async def measure(path: Path, size: tuple[int, int]) -> dict:
    from textual.widgets import Input

    from store.library import Library
    from tui.app import MyImagesApp

    full: list[float] = []
    started = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if info["generation"] != 2 or threading.current_thread() is not threading.main_thread():
            return
        if phase == "start":
            started[0] = time.thread_time()
        else:
            full.append((time.thread_time() - started[0]) * 1000)

    app = MyImagesApp(Library(path, account="bench"), images="halfcell")
    result: dict = {}
    async with app.run_test(size=size) as pilot:
        await pilot.pause(2)
        gc.callbacks.append(on_gc)
        try:
            deep = []
            for half in range(2):
                app.screen.grid.focus()
                for _ in range(3 if half == 0 else 2):
                    for key in ["pagedown"] * 10 + ["home"]:
                        await pilot.press(key)
                        await pilot.pause(0.3)
                box = app.screen.query_one("#search", Input)
                words = ["sword", "potion", "ring", "pixel art", "shiny", ""] if half == 0 else ["a", "grid", ""]
                for word in words:
                    box.value = word
                    await pilot.pause(0.6)
                if half == 0:
                    app.screen.grid.focus()
                    await pilot.pause(0.3)
                    for key in ("i", "enter", "question_mark"):  # info, large view, help
                        await pilot.press(key)
                        await pilot.pause(1.0)
                        await pilot.press("escape")
                        await pilot.pause(1.0)
                gc.callbacks.remove(on_gc)  # not counted with the app's own collections
                deep.append(after_a_long_pause(app))
                gc.callbacks.append(on_gc)
            gc.callbacks.remove(on_gc)  # counting is not the app's either
            gc.unfreeze()
            frozen_garbage = gc.collect()
            objects = gc.get_objects()
            kinds = collections.Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in objects)
            result = {
                "full collections": len(full), "longest full ms": max(full, default=0.0),
                "full ms": [round(ms) for ms in full],
                "deep ms": deep, "tracked": len(objects), "frozen garbage": frozen_garbage,
                "drawn": sum(n for kind, n in kinds.items() if kind in DRAWN),
            }
            del objects
            gc.freeze()
        finally:
            if on_gc in gc.callbacks:
                gc.callbacks.remove(on_gc)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("libraries", nargs="+", type=Path)
    parser.add_argument("--sizes", default="80x24,160x48")
    parser.add_argument("--json", action="store_true", help="one library, one size: print the figures as JSON")
    args = parser.parse_args()
    if args.json:
        width, height = map(int, args.sizes.split("x"))
        print(json.dumps(asyncio.run(measure(args.libraries[0], (width, height)))))
        return
    for library in args.libraries:
        for size in args.sizes.split(","):  # each in a process of its own: nothing left from the one before
            out = subprocess.run([sys.executable, __file__, str(library), "--sizes", size, "--json"],
                                 check=True, capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(f"{library.name:>12} {size:>6}: full collections {r['full collections']:3d}, longest "
                  f"{r['longest full ms']:6.1f} ms; deep {', '.join('none' if d is None else f'{d:.0f}' for d in r['deep ms'])} ms; "
                  f"tracked when idle {r['tracked']:,} (drawing's {r['drawn']:,}); died frozen {r['frozen garbage']:,}; "
                  f"every full: {r['full ms']}",
                  flush=True)


if __name__ == "__main__":
    main()
