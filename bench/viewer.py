"""The large view stepping through a result (issue 15), on a small and a large library side by side.

    nice -n 10 python bench/viewer.py [--small 100] [--large 100000] [--steps 20] [--look 0.5] [--cache DIR]

For each library, in the running app (headless, 160x48, half-block pictures): Enter on the first card, then
→ `--steps` times, each waited for until the next picture is drawn, then `--look` seconds on it (the view
draws the next image ahead while one is looked at; `--look 0` steps as fast as the pictures come); End (the last image of the result: its page of
records read in a worker) and Home. Printed: the time from the key to the picture on screen (median and
longest), End and Home, and the UI thread's longest stall while stepping (work / with GC / wall clock, as in
bench/run.py). Libraries are made once in `--cache` (bench/cache by default, as bench/run.py makes them).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import run  # noqa: E402  (bench/run.py: the libraries and the stall meter)


async def step_through(path: Path, steps: int, look: float) -> dict:
    from store.library import Library
    from tui.app import MyImagesApp
    from tui.viewer_screen import ViewerScreen

    library = Library(path, account="bench")
    app = MyImagesApp(library, images="halfcell")
    result: dict = {}
    async with app.run_test(size=(160, 48)) as pilot:
        gallery = app.screen
        start = time.perf_counter()
        while getattr(gallery, "grid", None) is None or gallery.grid.current is None:  # the first cards
            if time.perf_counter() - start > 60:
                raise RuntimeError("the gallery never showed its first cards")
            await asyncio.sleep(0.01)
            gallery = app.screen
        await asyncio.sleep(1)  # the first thumbnails; other workers (the catalog, hashes) may go on

        async def press(key: str, timeout: float = 30.0) -> float:
            """Seconds from the key to the view showing the picture of the image under the grid's cursor."""
            start = time.perf_counter()
            await pilot.press(key)
            while True:
                view = app.screen
                current = gallery.grid.current
                if (isinstance(view, ViewerScreen) and current is not None and view.shown_key is not None
                        and view.shown_key[0] == current.id):
                    return time.perf_counter() - start
                if time.perf_counter() - start > timeout:
                    raise RuntimeError("the large view never showed the image")
                await asyncio.sleep(0.002)

        meter = run.StallMeter()
        meter.start()
        meter.phase = "open"
        result["open_ms"] = round(await press("enter") * 1000, 1)
        meter.phase = "stepping"
        times = []
        for _ in range(steps):
            times.append(await press("right"))
            await asyncio.sleep(look)  # the user looks at the picture (the next one is drawn meanwhile)
        meter.phase = "end and home"
        result["end_ms"] = round(await press("end") * 1000, 1)
        result["home_ms"] = round(await press("home") * 1000, 1)
        result["stall"] = meter.stop()
        result["step_median_ms"] = round(statistics.median(times) * 1000, 1)
        result["step_max_ms"] = round(max(times) * 1000, 1)
        result["images"] = gallery.grid.total
    library.close()
    return result


def in_process(path: Path, steps: int, look: float) -> dict:
    """Each library in its own process (as bench/run.py does), so one does not warm the other."""
    script = (f"import asyncio, json, sys; sys.path.insert(0, {str(HERE)!r}); import viewer; "
              f"print(json.dumps(asyncio.run(viewer.step_through(viewer.Path({str(path)!r}), {steps}, {look}))))")
    out = subprocess.run([sys.executable, "-c", script], cwd=HERE.parent, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--look", type=float, default=0.5, help="seconds on each picture before the next step")
    parser.add_argument("--cache", type=Path, default=run.CACHE)
    args = parser.parse_args()
    run.CACHE = args.cache
    small, large = (in_process(run.library_path(n), args.steps, args.look) for n in (args.small, args.large))
    print(f"Large view, {args.steps} steps, {args.look} s on each (ms) | {small['images']:,} images | {large['images']:,} images")
    print("|---|---|---|")
    for name, key in (("open (Enter to picture)", "open_ms"), ("step → to picture, median", "step_median_ms"),
                      ("step → to picture, longest", "step_max_ms"), ("End (last image)", "end_ms"),
                      ("Home", "home_ms")):
        print(f"| {name} | {small[key]} | {large[key]} |")
    for phase in ("stepping", "end and home"):
        s, l = small["stall"].get(phase, {}), large["stall"].get(phase, {})
        print(f"| UI stall, {phase}: work / with GC / wall | {s.get('work')} / {s.get('busy')} / {s.get('late')} "
              f"| {l.get('work')} / {l.get('busy')} / {l.get('late')} |")


if __name__ == "__main__":
    main()
