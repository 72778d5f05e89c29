"""The search language and sort orders on 1,000,000 images against 100 (issue 14). Run by hand:

    .venv/bin/python bench/search.py [--large 1000000] [--postgres] [--skip-app] [--against TREE [--rounds 3]]

Makes (once, into bench/cache/) libraries whose every prompt is distinct and whose parameters
vary (seed, steps, sampler, size, cfg, model, LoRAs, dates, favorites, derived images, a
collection), straight into the database (no image files: the store query does not read them;
`prepare` links 64 shared pictures, crops of real generated images made by bench/pictures.py, to every record for
bench/run.py --distinct).
With --postgres, the store queries on PostgreSQL at 100,000 and at the large size (the servers' folders kept
in bench/cache/postgres-N: loaded once, brought up to date by the library's migrations after; --pg-date-order
puts its image table in date order first, once (CLUSTER), as a library imported over time is stored; --pg-setting
shared_buffers=1GB for a server set up as README advises; --pg-case restarted|cold|steady, what the server holds in
memory: `bench_postgres`; --pg-only-large); with
--scaling 1000,10000,100000,1000000 only the growth table (bench/README.md).
With --against TREE, only the large library's store and app figures, TREE's code (main before a change) and
this tree's alternately, --rounds pairs: old against new in one run, under the same load.
Measures, on SQLite: building the catalog (time, memory of its arrays and of the process),
the store query (count + first page of 60) for every query and every sort order, p95, and for a few
stacked views (the gallery's default: seed variations as one card); in the
app, a typed key to the grid painted; `myimages list --search` as a command. With --postgres,
the same store queries on PostgreSQL (a server the tests' helper starts). Prints a table and
writes bench/results/search.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import pictures  # noqa: E402
from pictures import PICTURES  # noqa: E402
from run import rss_mb, rss_parts_mb, stats, store_query_s  # noqa: E402

from store.library import Library  # noqa: E402
from store.query import SORTS  # noqa: E402
from store.records import FAVORITES_ONLY, Filters  # noqa: E402
from store.text import prompt_sort_key  # noqa: E402

CACHE = HERE / "cache"
RESULTS = HERE / "results"
QUERIES = [
    "sword", "ring pixel", '"pixel art"', "sword -gold", "ring | necklace", "zzz-no-match", "a", "model:sdxl",
    "seed:123456", "seed:1000-2000", "steps:>=40", "cfg:7", "cfg:5-7.5", "sampler:euler", "size:1024x1024",
    "width:>1000", "lora:detail", "negative:blurry", "date:2026-03", "date:>2026-06-01", "date:7d", "is:fav",
    "is:cell", "-is:fav ring", "in:bench", "ring steps:30 model:flux", "ring sort:random", "id:500-900",
]
STACKED = [("", "newest"), ("", "prompt"), ("", "oldest"), ("", "favorites"), ("ring", "newest"),
           ("sampler:euler", "newest"), ("ring steps:30 model:flux", "newest")]  # stacked views measured
WORDS = ("sword ring necklace potion shield helmet crown gem key scroll amulet staff bow axe dagger orb "
         "golden silver ruby emerald diamond ancient cursed glowing tiny giant crystal shadow fire ice "
         "pixel art icon portrait landscape castle forest dragon knight wizard cat robot city night").split()
MODELS = ["SDXL base", "flux-dev", "sd15", "Pony XL", "Juggernaut XL", "DreamShaper 8", "RealVis", "Animagine"]
SAMPLERS = ["euler", "euler_ancestral", "DPM++ 2M Karras", "dpmpp_sde", "ddim", "uni_pc", "heun", "lms"]
SIZES = [(512, 512), (768, 768), (1024, 1024), (832, 1216), (1216, 832), (640, 960), (2048, 2048)]


def make_library(count: int) -> Path:
    """A library of `count` images with distinct prompts and varied parameters (made once)."""
    path = CACHE / f"search-{count}"
    marker = path / ".complete"
    if marker.exists():
        return path
    print(f"making a library of {count:,} images in {path} (once)…", flush=True)
    library = Library(path, account="bench")
    owner = library.account.id
    collection = library.create_collection("bench").id
    library.close()
    con = sqlite3.connect(path / "library.db")
    rng = random.Random(14)
    start = datetime(2025, 1, 1)
    con.execute("BEGIN")
    batch = []
    for n in range(1, count + 1):
        words = rng.sample(WORDS, 6)
        lora = f" <lora:{rng.choice(['detail_tweaker', 'add_more', 'pixel_style'])}:0.8>" if n % 7 == 0 else ""
        prompt = f"{', '.join(words)} #{n}{lora}"
        width, height = rng.choice(SIZES)
        params = {"Seed" if n % 2 else "seed": rng.randrange(2**32), "Steps" if n % 2 else "steps": rng.choice(
            [20, 25, 30, 40, 50]), "Sampler" if n % 2 else "sampler_name": rng.choice(SAMPLERS)}
        when = start + timedelta(seconds=rng.randrange(700 * 86400))
        batch.append((owner, prompt, prompt_sort_key(prompt), "blurry, lowres" if n % 3 == 0 else "", rng.choice(MODELS),
                      str(rng.choice([3.5, 5, 6, 7, 7.5, 9])), when.isoformat(" "), (when + timedelta(days=1)).isoformat(" "),
                      width, height, rng.randrange(100_000, 5_000_000), f"{n:064x}", "png", int(n % 20 == 0),
                      json.dumps(params), f"img{n}.png", None, "cell 1,1" if n % 50 == 0 else ""))
        if len(batch) == 50_000:
            _insert(con, batch)
            batch = []
    _insert(con, batch)
    con.execute("INSERT INTO image_collection (image_id, collection_id) SELECT id, ? FROM image WHERE id % 97 = 0",
                (collection,))
    con.execute("COMMIT")
    con.close()
    marker.write_text("done\n")
    return path


def share_pictures(path: Path) -> Path:
    """Give every record of a generated library an original and a thumbnail (once): hard links to one of
    PICTURES pictures that look like generated ones (`bench/pictures.py`), so the app can draw a million cards on
    a few MB of pictures (and under 5 GB of disk: the links are directory entries)."""
    import os

    marker = path / ".pictures"
    if marker.exists():
        if pictures.vary_in_place(path):  # a library linked to the flat pictures of before 2026-11-27 03:05
            print(f"{path.name}: its shared pictures made varied, in place (once)", flush=True)
        return path
    print(f"linking pictures for {path.name} (once)…", flush=True)
    sources = pictures.write_new(path / "shared-pictures")
    con = sqlite3.connect(path / "library.db")
    made: set[str] = set()
    for image_id, sha256, ext in con.execute("SELECT id, sha256, ext FROM image"):
        original, thumbnail = sources[image_id % PICTURES]
        for top, source, name in (("originals", original, f"{sha256}.{ext}"), ("thumbs", thumbnail, f"{sha256}.png")):
            folder = path / top / sha256[:2]
            if str(folder) not in made:
                folder.mkdir(parents=True, exist_ok=True)
                made.add(str(folder))
            try:
                os.link(source, folder / name)
            except FileExistsError:
                pass
    con.close()
    marker.write_text("done\n")
    return path


def share_minis(path: Path) -> Path:
    """Give every record of a generated library its mini thumbnail (once): a hard link to its shared picture's mini,
    made by the store's own `make_mini` from that picture's thumbnail. What the app's background pass
    (store/minis.py) would make, but in a minute and on no disk (the pass would write a million files, hours of
    work); the pass is then marked done, as it would mark it."""
    import os

    from store import minis
    from store.files import make_mini, write_bytes_atomic

    marker = path / ".minis"
    if marker.exists():
        return path
    print(f"linking mini thumbnails for {path.name} (once)…", flush=True)
    shared = path / "shared-pictures"
    sources = []
    for n in range(PICTURES):
        mini = shared / f"{n}.mini.png"
        mini.write_bytes(make_mini((shared / f"{n}.thumb.png").read_bytes()))
        sources.append(mini)
    con = sqlite3.connect(path / "library.db")
    made: set[str] = set()
    for image_id, sha256 in con.execute("SELECT id, sha256 FROM image"):
        folder = path / "minis" / sha256[:2]
        if str(folder) not in made:
            folder.mkdir(parents=True, exist_ok=True)
            made.add(str(folder))
        try:
            os.link(sources[image_id % PICTURES], folder / f"{sha256}.png")
        except FileExistsError:
            pass
    con.close()
    write_bytes_atomic(path / minis.MARK, minis.DONE.encode("ascii"))
    marker.write_text("done\n")
    return path


def prepare(count: int) -> Path:
    """A generated library ready for bench/run.py --distinct: three collections (the app's filter figures pick
    them), every record with a shared picture, and its catalog saved (made once)."""
    path = make_library(count)
    marker = path / ".prepared"
    if not marker.exists():
        Library(path, account="bench").close()  # a library made by an older schema is brought up to date first
    path = share_minis(share_pictures(path))
    if not marker.exists():
        con = sqlite3.connect(path / "library.db")
        with con:
            owner, collections = con.execute("SELECT owner_id, COUNT(*) FROM collection").fetchone()
            for name, every in (("bench 2", 4999), ("bench 3", 4987))[: max(0, 3 - collections)]:
                collection = con.execute("INSERT INTO collection (owner_id, name, created_at) VALUES (?, ?, ?)",
                                         (owner, name, "2026-01-01 00:00:00")).lastrowid
                con.execute("INSERT INTO image_collection (image_id, collection_id) SELECT id, ? FROM image "
                            "WHERE id % ? = 0", (collection, every))
        con.close()
        pictures.write_hashes(path)
        print(f"batch keys and the catalog of {path.name} (once)…", flush=True)
        library = Library(path, account="bench")
        library.fill_batches()  # as the app's background pass would make them (minutes at 1,000,000)
        library.warm_up()
        library.close()
        marker.write_text("done\n")
    else:
        Library(path, account="bench").close()  # brought up to date: a library prepared before the dHash has none
        con = sqlite3.connect(path / "library.db")
        missing = con.execute("SELECT 1 FROM image WHERE dhash IS NULL LIMIT 1").fetchone()
        con.close()
        if missing:
            pictures.write_hashes(path)
    return path


def _insert(con: sqlite3.Connection, rows: list[tuple]) -> None:
    con.executemany(
        "INSERT INTO image (owner_id, prompt, prompt_key, negative_prompt, model, text_accuracy, generated_at, "
        "imported_at, width, height, file_size, sha256, ext, favorite, params, source_name, parent_id, derivation, "
        "location) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,'')", rows)


def _timed(library: Library, filters: Filters, processor: list[float]) -> float:
    """`store_query_s`, and its processor time (this thread's, where the store works) added to `processor`: on
    these shared cores the wall time of one query is mostly the scheduler's at a load of 8-10, its processor time
    what the code decides."""
    start = time.thread_time()
    wall = store_query_s(library, filters)
    processor.append(time.thread_time() - start)
    return wall


def measure_store(library: Library, server_cpu=None) -> dict:
    """Every query and every sort order: count + first page, the first time (nothing cached) and again; for the
    first times, the processor time too (the `_cpu` figures); `server_cpu`: a function giving the database server
    process's processor time (PostgreSQL), whose share of each first time is kept too (`server_cpu` figures)."""
    out: dict = {}
    cpu: dict[str, list[float]] = {"queries_first_cpu": [], "sorts_first_cpu": [], "sorts_then_filtered_cpu": [],
                                   "stacked_cpu": []}
    served: list[float] = []

    def first_time(q: str) -> float:
        before = server_cpu() if server_cpu else 0.0
        took = _timed(library, Filters(search=q), cpu["queries_first_cpu"])
        served.append(server_cpu() - before if server_cpu else 0.0)
        return took

    first = [first_time(q) for q in QUERIES]
    if server_cpu:
        out["queries_first_server_cpu"] = stats(served)
        out["per_query_server_cpu_ms"] = {q: round(t * 1000, 1) for q, t in zip(QUERIES, served)}
    again = [store_query_s(library, Filters(search=q)) for q in QUERIES]
    out["queries_first"] = stats(first)
    out["queries_again"] = stats(again)
    out["per_query_ms"] = {q: round(t * 1000, 1) for q, t in zip(QUERIES, first)}
    out["per_query_again_ms"] = {q: round(t * 1000, 1) for q, t in zip(QUERIES, again)}
    sort_first = {s: _timed(library, Filters(sort=s, seed=3), cpu["sorts_first_cpu"]) for s in SORTS}
    sort_filtered = {s: _timed(library, Filters(search="ring", favorite=FAVORITES_ONLY, sort=s, seed=3),
                               cpu["sorts_then_filtered_cpu"]) for s in SORTS}
    out["sorts_first_ms"] = {s: round(t * 1000, 1) for s, t in sort_first.items()}
    out["sorts_filtered_ms"] = {s: round(t * 1000, 1) for s, t in sort_filtered.items()}
    out["sorts_then_filtered"] = stats(list(sort_filtered.values()))
    out["sorts_first"] = stats(list(sort_first.values()))
    # the gallery's default view stacks seed variations: one card per batch (on PostgreSQL the loaded
    # library's images are in batches of four: load_postgres)
    stacked = {f"{q} sort:{s}".strip(): _timed(library, Filters(search=q, sort=s, stacked=True), cpu["stacked_cpu"])
               for q, s in STACKED}
    out["stacked_ms"] = {k: round(t * 1000, 1) for k, t in stacked.items()}
    out["stacked"] = stats(list(stacked.values()))
    out["per_query_cpu_ms"] = {q: round(t * 1000, 1) for q, t in zip(QUERIES, cpu["queries_first_cpu"])}
    out.update({key: stats(times) for key, times in cpu.items()})
    return out


def in_child(call: str, tree: Path = ROOT) -> dict:
    """Run `search.<call>` in a process of its own (memory figures apart) and return its JSON answer; `tree`: the
    source tree whose code runs (another checkout's, for --against)."""
    script = (f"import asyncio, json, sys; sys.path.insert(0, {str(tree / 'bench')!r}); import search; "
              f"print(json.dumps({call}))")
    out = subprocess.run([sys.executable, "-c", script], cwd=tree, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_sqlite(count: int) -> dict:
    return in_child(f"search._sqlite_in_process({str(make_library(count))!r})")


def _sqlite_in_process(path: str) -> dict:
    """The store figures as the app meets them: the catalog read from its saved file (made once, when the
    library was made), caught up, then every query; memory after them."""
    library = Library(path, account="bench")
    before = rss_mb()
    start = time.perf_counter()
    library.catalog.open_saved()
    loaded = time.perf_counter()
    library.warm_up()  # the changes since it was saved, and every sort order
    library.catalog.wait_saved()  # a catalog built here is written by a thread: its size below
    result = {"catalog_load_s": loaded - start, "warm_up_s": time.perf_counter() - start,
              "catalog_arrays_mb": library.catalog.nbytes / 2**20,
              "saved_catalog_mb": (Path(path) / "catalog.bin").stat().st_size / 2**20}
    result.update(measure_store(library))
    result["rss_after_queries_mb"] = rss_mb()
    result["word_index_ab"] = word_index_ab(library)
    result["rss_parts_mb"] = rss_parts_mb()
    result["rss_delta_mb"] = rss_mb() - before
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _forget_answers(library: Library) -> None:
    """The catalog's kept answers dropped (results, matches per text, occurrences), its arrays kept."""
    catalog = library.catalog
    with catalog._lock:
        catalog._results.clear()
        catalog._counts.clear()
        catalog._sizes.clear()
        for strings in (catalog._prompt_strings, *catalog._strings.values()):
            strings._matches.clear()
            strings._occurrences.clear()


def word_index_ab(library: Library, rounds: int = 3) -> dict:
    """The store query of every word query with the word index (words.WORD_LISTS_FROM as it is) and without it
    (the trigram index alone: the code before it), alternately, nothing kept between queries: p95 of each side."""
    from store import catalog as catalog_module

    words = [q for q in QUERIES if ":" not in q and "|" not in q] + ["ring sort:oldest", "swor", "neck", "ink"]
    sides: dict[str, list[float]] = {"words": [], "trigrams": []}
    kept = catalog_module.WORD_LISTS_FROM
    try:
        for _ in range(rounds):
            for side, threshold in (("trigrams", 2**62), ("words", kept)):
                catalog_module.WORD_LISTS_FROM = threshold
                for query in words:
                    _forget_answers(library)
                    sides[side].append(store_query_s(library, Filters(search=query)))
    finally:
        catalog_module.WORD_LISTS_FROM = kept
    return {"queries": words, **{side: stats(times) for side, times in sides.items()}}


def _build_in_process(path: str) -> dict:
    """Building the catalog from every row (a library's first start, or after its file is lost), with its
    trigram index; not saved."""
    from store.catalog import Catalog

    library = Library(path, account="bench")
    catalog = Catalog(library.db)
    start = time.perf_counter()
    catalog.sync()
    catalog.prepare_orders()
    return {"catalog_build_s": time.perf_counter() - start,
            "build_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def scaling(sizes: list[int]) -> dict:
    """How cost grows: per size, the catalog load and build, the store query, memory and a command."""
    out = {}
    for count in sizes:
        path = make_library(count)
        Library(path, account="bench").warm_up()  # saves the catalog if there is none
        figures = in_child(f"search._sqlite_in_process({str(path)!r})")
        figures.update(in_child(f"search._build_in_process({str(path)!r})"))
        figures["cli"] = bench_cli(path, rounds=2)
        figures["database_mb"] = (path / "library.db").stat().st_size / 2**20
        out[count] = figures
        print(count, json.dumps(figures), flush=True)
    return out


CLI_COMMANDS = {
    "list": [["list", "--limit", "20"]],
    "list --search": [["list", "--search", q, "--limit", "20"] for q in ("ring", "seed:1000-2000", "model:flux steps:30")],
    "info": [["info", "5"]],
    "favorite": [["favorite", "5"], ["favorite", "--off", "5"]],
}


def bench_cli(path: Path, rounds: int = 3) -> dict:
    """Each command a process of its own (`python -m tui.cli`, this tree's code), as a user runs it: with a
    saved catalog it reads no row it does not print."""
    times: dict[str, list[float]] = {name: [] for name in CLI_COMMANDS}
    for _ in range(rounds):
        for name, commands in CLI_COMMANDS.items():
            for command in commands:
                start = time.perf_counter()
                subprocess.run([sys.executable, "-m", "tui.cli", *command, "--library", str(path), "--account",
                                "bench"], cwd=ROOT, capture_output=True, check=True)
                times[name].append(time.perf_counter() - start)
    return {name: stats(values) for name, values in times.items()}


BACKGROUND_GROUPS = ("trash-expiry", "thumbnails")  # workers `_in_app` does not wait for
SETTLE_LIMIT_S = 60.0


async def settle(app, background: tuple[str, ...] = BACKGROUND_GROUPS, limit: float = SETTLE_LIMIT_S) -> None:
    """Until no worker but the background ones runs: polled, never awaited. (`app.workers.wait_for_complete([])`
    waits for *every* worker, the perceptual-hash pass among them, which on a million images without hashes runs
    for hours: the app run at 1,000,000 never ended. And awaiting a worker under a time limit cancels its task
    but not the thread, whose loop then never sees the cancel.) A worker still running after `limit` is named."""
    start = time.perf_counter()
    while True:
        running = [w for w in app.workers if w.group not in background and not w.is_finished]
        if not running:
            return
        if time.perf_counter() - start > limit:
            raise RuntimeError(f"workers still running after {limit:.0f} s: "
                               + ", ".join(f"{w.group}/{w.name}" for w in running))
        await asyncio.sleep(0.005)


def record_missing_hashes(path: Path) -> None:
    """The perceptual hash the app's background pass records for an image without a readable picture ("-"),
    recorded at once: these libraries have no picture files, and the pass would otherwise hash a million records
    at a quarter of the time while the app is measured (not a change the catalog follows)."""
    con = sqlite3.connect(path / "library.db")
    with con:
        con.execute("UPDATE image SET phash = '-' WHERE phash IS NULL OR phash = ''")
    con.close()


async def _wait_painted(widget, start: float, loading, what: str) -> float:
    """From `start` to the screen painted once no card is waiting for its record (a page read in a worker)."""
    while loading():
        if time.perf_counter() - start > 10:
            raise RuntimeError(f"{what}: cards still waiting for their records after 10 s")
        await asyncio.sleep(0.0005)
    painted = asyncio.Event()
    widget.call_after_refresh(painted.set)
    await asyncio.wait_for(painted.wait(), 10)
    return time.perf_counter() - start


async def _in_app(path: str, pages: int = 30) -> dict:
    """A typed key to the grid painted with its result, for each query; then PageDown, End and Home, each key to
    the cards painted with their records (the app headless, 160x48)."""
    from textual.widgets import Input

    from tui.app import MyImagesApp
    from widgets.card import ImageCard
    from widgets.card_grid import CardGrid

    library = Library(path, account="bench")
    app = MyImagesApp(library, images="halfcell")
    times, missed = [], []

    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app)
        library.warm_up()
        screen = app.screen
        painted: list[float] = []
        real = screen._show_result

        def shown(*args, **kwargs):
            real(*args, **kwargs)
            screen.call_after_refresh(lambda: painted.append(time.perf_counter()))

        screen._show_result = shown
        box = screen.query_one("#search", Input)
        for query in QUERIES + [q + " sort:oldest" for q in QUERIES[:5]]:
            box.focus()
            box.value = query[:-1]
            box.action_end()
            await pilot.pause(0.15)
            await settle(app)
            painted.clear()
            start = time.perf_counter()
            await pilot.press(query[-1])
            while not painted and time.perf_counter() - start < 10:
                await asyncio.sleep(0.0005)
            if painted:
                times.append(painted[0] - start)
            else:
                missed.append(query)
        result: dict = {"key_to_painted": stats(times), "key_to_painted_ms": [round(t * 1000, 1) for t in times],
                        "not_painted_in_10_s": missed}

        box.value = ""  # the whole library, newest first
        await pilot.pause(0.15)
        await settle(app)
        grid = screen.query_one(CardGrid)
        grid.focus()
        await pilot.pause()
        await settle(app)

        def loading() -> bool:
            return any(card.loading_record for card in screen.query(ImageCard))

        moved: list[float] = []  # the screen painted after the grid's action for the key (as run.py measures)
        for action in ("action_page", "action_jump"):
            real_action = getattr(grid, action)

            def hooked(*args, real_action=real_action) -> None:
                real_action(*args)
                grid.call_after_refresh(lambda: moved.append(time.perf_counter()))

            setattr(grid, action, hooked)

        async def key_to_painted(key: str) -> float:
            """The key to the screen painted with its cards' records. The key is pressed in a task of its own:
            Pilot's press also waits for the whole process to go idle (the grid's pictures of the next screen drawn
            ahead in a worker), which a person's key does not wait for (run.py measures PageDown this way too)."""
            moved.clear()
            start = time.perf_counter()
            press = asyncio.create_task(pilot.press(key))
            while not moved and time.perf_counter() - start < 10:
                await asyncio.sleep(0.0005)
            took = moved[0] - start if moved else 10.0
            if loading():  # a page read in a worker: until its cards show it
                took = await _wait_painted(grid, start, loading, key)
            await press
            return took

        downs = []
        for _ in range(pages):
            downs.append(await key_to_painted("pagedown"))
            await settle(app)
        result["pagedown"] = stats(downs)
        for name in ("end", "home", "end", "home", "end", "home"):
            result.setdefault(f"{name}_ms", []).append(round(await key_to_painted(name) * 1000, 1))
            await settle(app)
        result["images"] = grid.total
    return result


def bench_app(path: Path, tree: Path = ROOT) -> dict:
    record_missing_hashes(path)
    return in_child(f"asyncio.run(search._in_app({str(path)!r}))", tree)


AB_FIGURES = (("store query p95", "queries_first", "p95"), ("store query median", "queries_first", "median"),
              ("store query processor p95", "queries_first_cpu", "p95"),
              ("store query processor median", "queries_first_cpu", "median"),
              ("stacked p95", "stacked", "p95"), ("stacked processor p95", "stacked_cpu", "p95"),
              ("sort change p95", "sorts_first", "p95"), ("sort change processor p95", "sorts_first_cpu", "p95"),
              ("sort then a filter p95", "sorts_then_filtered", "p95"),
              ("sort then a filter processor p95", "sorts_then_filtered_cpu", "p95"),
              ("key to painted p95", "key_to_painted", "p95"),
              ("PageDown p95", "pagedown", "p95"), ("End, slowest", "end_ms", "worst"),
              ("Home, slowest", "home_ms", "worst"))


def against(path: Path, other: Path, rounds: int, app: bool) -> dict:
    """Another source tree's code (`other`: main before a change) against this one on the same library, alternately
    (old, new, new, old, ...), each side's store figures and app figures in processes of their own: the pairs are
    taken minutes apart at most, under the same load. Both sides run this benchmark's code (copied into the other
    tree's bench/ first): only the store and app code differ."""
    import shutil

    shutil.copy(HERE / "search.py", other / "bench" / "search.py")
    runs: list[dict] = []
    for n in range(rounds):
        for side, tree in ((("old", other), ("new", ROOT)) if n % 2 == 0 else (("new", ROOT), ("old", other))):
            load = os.getloadavg()[0]
            figures = {"side": side, "load": load, "at": datetime.now().strftime("%H:%M:%S"),
                       **in_child(f"search._sqlite_in_process({str(path)!r})", tree)}
            if app:
                figures.update(bench_app(path, tree))
            runs.append(figures)
            print(f"{side} {figures['at']} load {load:.1f}: " + ", ".join(
                f"{label} {_figure(figures, key, kind) or 0:.1f}" for label, key, kind in AB_FIGURES
                if key in figures), flush=True)
    return {"library": str(path), "other": str(other), "runs": runs}


def against_report(result: dict) -> str:
    """Old and new side by side: each figure's values in run order, each target beside them."""
    targets = {"store query p95": "≤ 30", "stacked p95": "≤ 30", "sort change p95": "≤ 30",
               "sort then a filter p95": "≤ 30", "key to painted p95": "≤ 100", "PageDown p95": "≤ 50",
               "store query processor p95": "(wall ≤ 30)",
               "End, slowest": "≤ 100", "Home, slowest": "≤ 100"}
    runs = result["runs"]
    rows = ["| figure (ms) | old | new | target |", "|---|---|---|---|"]
    for label, key, kind in AB_FIGURES:
        sides = {side: "; ".join(f"{_figure(r, key, kind):.1f}" for r in runs if r["side"] == side and key in r)
                 for side in ("old", "new")}
        if sides["old"] or sides["new"]:
            rows.append(f"| {label} | {sides['old']} | {sides['new']} | {targets.get(label, '')} |")
    rows.append("| RSS over a fresh process (MB) | " + " | ".join(
        "; ".join(f"+{r['rss_delta_mb']:.1f}" for r in runs if r["side"] == side) for side in ("old", "new"))
        + " | ≤ +150 |")
    rows.append("| load average at each run | " + " | ".join(
        "; ".join(f"{r['load']:.1f}" for r in runs if r["side"] == side) for side in ("old", "new")) + " | |")
    for r in runs:
        rows.append(f"{r['side']} {r['at']}: slowest " + ", ".join(
            f"`{q}` {t}" for q, t in sorted(r["per_query_ms"].items(), key=lambda x: -x[1])[:5])
            + "; slowest in processor time " + ", ".join(
            f"`{q}` {t}" for q, t in sorted(r.get("per_query_cpu_ms", {}).items(), key=lambda x: -x[1])[:5])
            + "; sorts " + ", ".join(f"{k} {v}" for k, v in r["sorts_first_ms"].items()))
    return "\n".join(rows)


PG_CASES = ("restarted", "cold", "steady", "autoprewarm")
STEADY_BUFFERS = "shared_buffers=1GB"  # a team server's (README): a quarter of 4 GB of memory


def bench_postgres(path: Path, settings: tuple[str, ...] = (), date_order: bool = False,
                   case: str = "restarted") -> dict:
    """The same store queries on PostgreSQL: the SQLite rows copied into a server's database. The server's
    folder is kept (bench/cache/postgres-N: about 2.5 GB at 1,000,000): loaded the first time, started again
    and brought up to date by the library's own migrations the next (delete the folder to load afresh).
    `date_order`: the image table is put in date order first (`cluster_by_date`, once: the folder remembers it).

    `case`, what the server holds in memory when the queries come (PG_CASES):
    - "restarted": a server just started: its shared buffers empty, its files in the system's cache (as a
      server restarted on a machine that stays up);
    - "cold": the same with the server's files dropped from the system's cache first (`_evict`: this server's
      files alone, as after a reboot): every page a query needs is read from the disk;
    - "steady": a server that has been serving the library for a while, with the memory README asks for
      (STEADY_BUFFERS unless `settings` give shared_buffers): the image table and its indexes in memory
      (`_prewarm`: in shared buffers as far as they hold them, the rest in the system's cache);
    - "autoprewarm": the steady server, set up as README suggests for restarts (shared_preload_libraries =
      pg_prewarm), stopped, its files dropped from the system's cache (a reboot) and started again: the queries
      come once PostgreSQL's autoprewarm has read back the blocks it held (`autoprewarm_s`: how long that took)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from postgres import Server

    folder = CACHE / f"postgres-{path.name.removeprefix('search-')}"
    loaded = folder / ".loaded"
    if case in ("steady", "autoprewarm") and not any(s.startswith("shared_buffers=") for s in settings):
        settings = (*settings, STEADY_BUFFERS)
    if case == "autoprewarm":
        settings = (*settings, "shared_preload_libraries=pg_prewarm")
    server = Server(folder)
    server.start(*settings)
    try:
        if loaded.exists():
            library = Library(folder / "library", account="bench", database_url=server.url("bench"))
            library.db.execute_sql("VACUUM ANALYZE")  # for what a migration may have made
            result = {"load_s": float(loaded.read_text()), "reused": True}
        else:
            server.drop_database("bench")  # a load that did not finish
            library = Library(folder / "library", account="bench", database_url=server.new_database("bench")[1])
            library.create_collection("bench")
            start = time.perf_counter()
            load_postgres(library, path)
            result = {"load_s": time.perf_counter() - start}
            loaded.write_text(f"{result['load_s']:.1f}\n")
        print(f"{path.name}: loaded in {result['load_s']:.0f} s{' (kept from a run before)' if result.get('reused') else ''}",
              flush=True)
        result["settings"] = list(settings)
        result["case"] = case
        if date_order:
            result["clustered_s"] = cluster_by_date(library, folder)
        correlation = library.db.execute_sql(
            "SELECT correlation FROM pg_stats WHERE tablename = 'image' AND attname = 'generated_at'").fetchone()
        result["date_correlation"] = correlation[0] if correlation else None  # the table's order against the date
        if case in ("steady", "autoprewarm"):
            result["prewarmed"] = _prewarm(library)
        if case in ("cold", "autoprewarm"):  # a reboot: after the VACUUM ANALYZE above, which reads the table
            library.close()
            getattr(library.db, "close_idle", lambda: None)()
            server.stop()  # (autoprewarm: its blocks listed as it stops)
            result["evicted_files"] = _evict(folder / "data")
            server.start(*settings)
            if case == "autoprewarm":
                result["autoprewarm_s"] = _wait_for_autoprewarm(library)
        backend = library.db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
        result.update(measure_store(library, server_cpu=lambda: _process_cpu_s(backend)))
        result.update(measure_gallery_units(library))
        library.close()
        getattr(library.db, "close_idle", lambda: None)()  # (a tree from before connections were kept has none)
        return result
    finally:
        server.stop()


def _evict(data: Path) -> int:
    """Drop a server's files (and only them) from the system's page cache, as after a reboot; how many files."""
    dropped = 0
    for folder, _, names in os.walk(data):
        for name in names:
            try:
                fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                dropped += 1
            finally:
                os.close(fd)
    return dropped


def _prewarm(library: Library) -> dict:
    """The image table, its indexes and the collections' membership read into the server's memory (the contrib
    extension pg_prewarm, in the benchmark's database): what a server that has served searches for a while holds.
    The relations in shared buffers (MB, of their size) after it."""
    db = library.db
    db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
    relations = [name for (name,) in db.execute_sql(
        "SELECT c.relname FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE i.indrelid IN "
        "('image'::regclass, 'image_collection'::regclass) ORDER BY pg_relation_size(c.oid)").fetchall()]
    for name in [*relations, "image_collection", "image"]:  # the table last: read by every page's records
        db.execute_sql("SELECT pg_prewarm(%s)", (name,))
    size = db.execute_sql("SELECT sum(pg_relation_size(c.oid)) / 1048576.0 FROM pg_class c WHERE c.relname = ANY(%s)",
                          ([*relations, "image_collection", "image"],)).fetchone()[0]
    return {"relations": len(relations) + 2, "mb": float(size)}


def _wait_for_autoprewarm(library: Library, limit: float = 600) -> float:
    """Seconds from now until PostgreSQL's autoprewarm has read back the blocks the server held (its worker for
    the database came and went; none within 10 s: nothing to read)."""
    start = time.perf_counter()
    seen = False
    while time.perf_counter() - start < limit:
        (workers,) = library.db.execute_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autoprewarm worker'").fetchone()
        seen = seen or workers > 0
        if (seen and not workers) or (not seen and time.perf_counter() - start > 10):
            break
        time.sleep(0.1)
    return time.perf_counter() - start


def _process_cpu_s(pid: int) -> float:
    """A process's processor time so far (s), from the scheduler's own count (ns; /proc/PID/stat counts 10 ms ticks)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


def measure_gallery_units(library: Library) -> dict:
    """Every query as the gallery asks it (tui/gallery_screen.py `run_query`): in a worker thread of its own, a
    `Library.connection()` block with the search's problem, the change token, the count and first page, and the
    library's total. On PostgreSQL each block connected anew before connections were kept (store/database.py)."""
    import threading

    def unit(filters: Filters, out: list) -> None:
        start = time.perf_counter()
        with library.connection():
            library.search_problem(filters.search)
            library.change_token()
            library.query(filters, 0, 60)
            library.estimate(Filters())
        out.append(time.perf_counter() - start)

    times: list[float] = []
    for q in QUERIES:
        worker = threading.Thread(target=unit, args=(Filters(search=q), times))
        worker.start()
        worker.join()
    return {"gallery_units": stats(times), "per_gallery_unit_ms": {q: round(t * 1000, 1) for q, t in zip(QUERIES, times)}}


def cluster_by_date(library: Library, folder: Path) -> float | None:
    """The image table rewritten in date order (CLUSTER on its (owner_id, generated_at, id) index), as a library
    imported over time is stored (an import takes a folder's files in name order). The generated library's rows are
    in id order with random dates (correlation 0.004), so a page walked newest first reads a table page per row
    (`ring pixel`: 2,766 pages, cold); in date order 162 (bench/README.md, fifth pass: the p95 did not improve).
    Once per kept folder; its seconds."""
    marker = folder / ".date-order"
    if marker.exists():
        return None
    start = time.perf_counter()
    (index,) = library.db.execute_sql("SELECT indexname FROM pg_indexes WHERE tablename = 'image' AND "
                                      "indexdef LIKE '%%(owner_id, generated_at, id)'").fetchone()
    library.db.execute_sql("SET maintenance_work_mem = '256MB'")
    library.db.execute_sql(f'CLUSTER image USING "{index}"')
    library.db.execute_sql("VACUUM ANALYZE image")
    took = time.perf_counter() - start
    marker.write_text(f"{took:.1f}\n")
    return took


COPIED = ("prompt", "prompt_key", "negative_prompt", "model", "text_accuracy", "generated_at", "imported_at", "width", "height",
          "file_size", "sha256", "ext", "favorite", "params", "source_name", "derivation")


def load_postgres(library: Library, path: Path) -> None:
    """Every image of a generated SQLite library into the PostgreSQL library (made empty): the image table's
    indexes are dropped, the rows copied in with COPY, and the indexes made again from their own definitions
    (one sorted build each: 1,000,000 rows in minutes, where inserts into the indexed table took 14). Images
    are given batch keys in fours of consecutive rows (their dates are unrelated), a derived one none (0)."""
    import csv
    import io

    db = library.db
    owner = library.account.id
    with db.atomic():
        cursor = db.cursor()
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'image' AND indexname NOT IN "
                       "(SELECT conname FROM pg_constraint WHERE conrelid = 'image'::regclass)")
        indexes = cursor.fetchall()
        for index, _ in indexes:
            cursor.execute(f'DROP INDEX "{index}"')
        src = sqlite3.connect(f"file:{path / 'library.db'}?mode=ro", uri=True)
        rows = src.execute(f"SELECT {', '.join(COPIED)} FROM image ORDER BY id")
        columns = ("owner_id", *COPIED, "location", "batch")
        n = 0
        while batch := rows.fetchmany(50_000):
            out = io.StringIO()
            writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)  # "" a text, an empty field NULL
            for row in batch:
                writer.writerow((owner, *row[:12], "t" if row[12] else "f", *row[13:], "", 0 if row[15] else n // 4 + 1))
                n += 1
            out.seek(0)
            cursor.copy_expert(f"COPY image ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", out)
        src.close()
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        db.execute_sql("INSERT INTO image_collection (image_id, collection_id) SELECT id, "
                       f"{library.collection('bench').id} FROM image WHERE MOD(id, 97) = 0")
    db.execute_sql("VACUUM ANALYZE")  # as autovacuum leaves a table written long ago: hint bits and visibility map


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL (loads the large library)")
    parser.add_argument("--skip-app", action="store_true")
    parser.add_argument("--only-postgres", action="store_true", help="PostgreSQL only, added to the last results")
    parser.add_argument("--scaling", metavar="N,N,…", help="only the growth table at these sizes (1000,10000,…)")
    parser.add_argument("--pg-date-order", action="store_true",
                        help="PostgreSQL: the image table put in date order first (CLUSTER, once per kept server), as a "
                             "library imported over time is stored")
    parser.add_argument("--pg-setting", action="append", default=[], metavar="NAME=VALUE",
                        help="a PostgreSQL server setting (shared_buffers=1GB), repeatable")
    parser.add_argument("--pg-case", action="append", choices=PG_CASES, metavar="CASE",
                        help="PostgreSQL: what the server holds in memory when the queries come (repeatable, each a "
                             "server start of its own; default restarted): restarted (just started, its files in the "
                             "system's cache), cold (its files dropped from that cache first, as after a reboot), "
                             "steady (serving for a while: shared_buffers=1GB, the library's table and indexes in "
                             "memory), autoprewarm (the steady server rebooted with pg_prewarm's autoprewarm)")
    parser.add_argument("--pg-only-large", action="store_true", help="PostgreSQL: the large library alone")
    parser.add_argument("--against", type=Path, metavar="TREE",
                        help="only old against new on the large library: TREE's code (a checkout of main before a "
                             "change: git archive main | tar -x -C TREE) and this tree's, alternately")
    parser.add_argument("--rounds", type=int, default=3, help="--against: pairs of runs")
    args = parser.parse_args()
    CACHE.mkdir(exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    if args.against:
        compared = against(make_library(args.large), args.against.resolve(), args.rounds, not args.skip_app)
        (RESULTS / "search-against.json").write_text(json.dumps(compared, indent=2))
        print(against_report(compared))
        return
    if args.scaling:
        grown = scaling([int(n) for n in args.scaling.split(",")])
        (RESULTS / "scaling.json").write_text(json.dumps(grown, indent=2))
        print(scaling_report(grown))
        return
    result: dict = {"when": datetime.now().strftime("%Y-%m-%d %H:%M"), "counts": [args.small, args.large],
                    "load_at_start": os.getloadavg()}
    if args.only_postgres:
        previous = RESULTS / "search.json"
        result = {**(json.loads(previous.read_text()) if previous.exists() else {}), **result}
        args.postgres = True
    for label, count in () if args.only_postgres else (("small", args.small), ("large", args.large)):
        path = make_library(count)
        result[label] = bench_sqlite(count)
        result[label]["cli"] = bench_cli(path)
        if not args.skip_app:
            result[label].update(bench_app(path))
        print(label, json.dumps(result[label], indent=1), flush=True)
        (RESULTS / "search.json").write_text(json.dumps(result, indent=2))  # kept if a later part fails
    if args.postgres:
        sizes = {args.large} if args.pg_only_large else {min(100_000, args.large), args.large}
        for count in sorted(sizes):  # 100,000 and the large library
            for case in args.pg_case or ["restarted"]:
                key = ("postgres_large" if count == args.large else f"postgres_{count}") + (
                    "" if case == "restarted" else f"_{case}")
                result[key] = bench_postgres(make_library(count), tuple(args.pg_setting), args.pg_date_order, case)
                result[key]["when"] = result["when"]
                print(key, json.dumps(result[key], indent=1), flush=True)
                (RESULTS / "search.json").write_text(json.dumps(result, indent=2))
    result["load_at_end"] = os.getloadavg()
    (RESULTS / "search.json").write_text(json.dumps(result, indent=2))
    if args.only_postgres:  # this run's servers alone (the file keeps the earlier runs' figures beside them)
        ran = {k: v for k, v in result.items() if not k.startswith("postgres_") or v.get("when") == result["when"]}
        print(postgres_report(ran))
    else:
        print(report(result))


def postgres_report(r: dict) -> str:
    """The PostgreSQL figures alone (--only-postgres)."""
    rows = ["| figure | " + " | ".join(f"{k.removeprefix('postgres_')}" for k in r if k.startswith("postgres_")) + " |"]
    runs = [v for k, v in r.items() if k.startswith("postgres_")]
    rows.append("|---|" + "---|" * len(runs))

    def line(label: str, cell) -> str:
        return f"| {label} | " + " | ".join(cell(v) for v in runs) + " |"

    rows.append(line("load (s)", lambda v: f"{v['load_s']:.0f}"))
    rows.append(line("case (settings)", lambda v: f"{v.get('case', 'restarted')} ({', '.join(v['settings']) or 'default'})"))
    rows.append(line("store query, first time, median / p95 (ms)",
                     lambda v: f"{v['queries_first']['median'] * 1000:.1f} / {v['queries_first']['p95'] * 1000:.1f}"))
    rows.append(line("  of it the server's processor, median / p95 (ms)",
                     lambda v: f"{v['queries_first_server_cpu']['median'] * 1000:.1f} / "
                               f"{v['queries_first_server_cpu']['p95'] * 1000:.1f}" if "queries_first_server_cpu" in v
                     else "–"))
    rows.append(line("  and the app's (the store's thread), median / p95 (ms)",
                     lambda v: f"{v['queries_first_cpu']['median'] * 1000:.1f} / {v['queries_first_cpu']['p95'] * 1000:.1f}"))
    rows.append(line("as the gallery asks it (a connection block on a thread), median / p95 (ms)",
                     lambda v: f"{v['gallery_units']['median'] * 1000:.1f} / {v['gallery_units']['p95'] * 1000:.1f}"
                     if "gallery_units" in v else "–"))
    rows.append(line("again, p95 (ms)", lambda v: f"{v['queries_again']['p95'] * 1000:.1f}"))
    rows.append(line("sort change, first time, p95 (ms)", lambda v: f"{v['sorts_first']['p95'] * 1000:.1f}"))
    rows.append(line("sort then a search and favorites, p95 (ms)",
                     lambda v: f"{v['sorts_then_filtered']['p95'] * 1000:.1f}"))
    rows.append(line("stacked (default view), median / p95 (ms)", lambda v: f"{v['stacked']['median'] * 1000:.1f} / "
                     f"{v['stacked']['p95'] * 1000:.1f}" if "stacked" in v else "–"))
    rows.append(f"load average {r['load_at_start'][0]:.1f} at the start, {r['load_at_end'][0]:.1f} at the end")
    for key, v in ((k, v) for k, v in r.items() if k.startswith("postgres_")):
        rows.append(per_query_table(key.removeprefix("postgres_"), v))
    return "\n".join(rows)


def per_query_table(label: str, v: dict) -> str:
    """Every query's time (first and again), slowest first, the ones at or above the p95 marked: which queries
    decide the p95 of this run; then the sorts, the sorts after a search and favorites, the stacked views."""
    p95 = v["queries_first"]["p95"] * 1000
    again = v.get("per_query_again_ms", {})
    server = v.get("per_query_server_cpu_ms", {})
    unit = v.get("per_gallery_unit_ms", {})
    rows = ["", f"{label}: store query per query, first time / again (ms); * at or above the p95 ({p95:.1f}); the "
                "server's processor time of the first; the gallery's block (a connection, problem, token, query, total)",
            "| query | first | again | server processor | gallery's block |", "|---|---|---|---|---|"]
    for q, t in sorted(v["per_query_ms"].items(), key=lambda x: -x[1]):
        rows.append(f"| `{q}`{' *' if t >= p95 else ''} | {t} | {again.get(q, '–')} | {server.get(q, '–')} | "
                    f"{unit.get(q, '–')} |")
    rows.append("sort change: " + ", ".join(f"{k} {t}" for k, t in v["sorts_first_ms"].items()))
    if "sorts_filtered_ms" in v:
        rows.append("sort then `ring` and favorites: " + ", ".join(f"{k} {t}" for k, t in v["sorts_filtered_ms"].items()))
    rows.append("stacked: " + ", ".join(f"`{k}` {t}" for k, t in v.get("stacked_ms", {}).items()))
    return "\n".join(rows)


def scaling_report(grown: dict) -> str:
    rows = ["| images | catalog read from its file (ms) | built from every row (s) | store query p95 (ms) | "
            "`list --search` (ms) | `info` (ms) | RSS after the queries (MB) | saved catalog (MB) | database (MB) |",
            "|---|---|---|---|---|---|---|---|---|"]
    for count, f in grown.items():
        rows.append(f"| {int(count):,} | {f['catalog_load_s'] * 1000:.0f} | {f['catalog_build_s']:.1f} | "
                    f"{f['queries_first']['p95'] * 1000:.1f} | {f['cli']['list --search']['median'] * 1000:.0f} | "
                    f"{f['cli']['info']['median'] * 1000:.0f} | {f['rss_after_queries_mb']:.0f} | "
                    f"{f['saved_catalog_mb']:.0f} | {f['database_mb']:.0f} |")
    return "\n".join(rows)


def _parts(figures: dict) -> str:
    parts = figures.get("rss_parts_mb", {})
    return f"{parts.get('RssAnon', 0):.0f} / {parts.get('RssFile', 0):.0f}" if parts else "–"


def _figure(d: dict, key: str, kind: str = "p95") -> float | None:
    """A figure of one side in ms (`kind`: p95, median, or "worst" of a list of ms), None when not measured."""
    if key not in d:
        return None
    if kind == "worst":
        return float(max(d[key]))
    return d[key][kind] * 1000


def _met(small: float | None, large: float | None, limit: float | None, ratio: float | None) -> str:
    """Whether a target is met: an absolute one (`limit`, ms or MB) on both sides, a ratio (`ratio` times the small
    side, plus `limit` when both are given: RSS ≤ small + 150) on the large side."""
    if large is None or (ratio is not None and small is None) or (limit is None and ratio is None):
        return ""
    if ratio is not None:
        ok = large <= small * ratio + (limit or 0) if ratio else large <= small + (limit or 0)
    else:
        ok = all(v is None or v <= limit for v in (small, large))
    return "met" if ok else "**missed**"


def report(r: dict) -> str:
    """Both libraries side by side, each target beside its figures with whether it is met."""
    s, l = r["small"], r["large"]

    def cell(v: float | None, digits: int = 1) -> str:
        return "–" if v is None else f"{v:.{digits}f}"

    rows = [f"| figure | {r['counts'][0]:,} images | {r['counts'][1]:,} images | target | met |",
            "|---|---|---|---|---|"]

    def row(label: str, small: float | None, large: float | None, target: str, limit: float | None = None,
            ratio: float | None = None, digits: int = 1) -> None:
        rows.append(f"| {label} | {cell(small, digits)} | {cell(large, digits)} | {target} | "
                    f"{_met(small, large, limit, ratio)} |")

    for label, key, kind, target, limit in (
            ("store query, every query first time, p95 (ms)", "queries_first", "p95", "≤ 30", 30),
            ("store query, every query first time, median (ms)", "queries_first", "median", "", None),
            ("store query, again (cached), p95 (ms)", "queries_again", "p95", "", None),
            ("stacked view (the gallery's default), p95 (ms)", "stacked", "p95", "≤ 30 (any query)", 30),
            ("sort change, first time, p95 (ms)", "sorts_first", "p95", "≤ 30", 30),
            ("sort then a filter, p95 (ms)", "sorts_then_filtered", "p95", "≤ 30", 30),
            ("key to painted grid, median (ms)", "key_to_painted", "median", "", None),
            ("key to painted grid, p95 (ms)", "key_to_painted", "p95", "≤ 100", 100),
            ("PageDown to painted, p95 (ms)", "pagedown", "p95", "≤ 50", 50),
            ("End, slowest of 3 (ms)", "end_ms", "worst", "≤ 100", 100),
            ("Home, slowest of 3 (ms)", "home_ms", "worst", "≤ 100", 100)):
        row(label, _figure(s, key, kind), _figure(l, key, kind), target, limit)
    for name in CLI_COMMANDS:
        if name in s.get("cli", {}) and name in l.get("cli", {}):
            row(f"`{name}` command, median (ms)", s["cli"][name]["median"] * 1000, l["cli"][name]["median"] * 1000,
                "≤ 1.5 × small", ratio=1.5, digits=0)
    def got(d: dict, key: str, scale: float = 1) -> float | None:
        return d[key] * scale if key in d else None

    row("catalog read from its saved file (ms)", got(s, "catalog_load_s", 1000), got(l, "catalog_load_s", 1000), "",
        digits=0)
    row("catalog arrays (MB)", got(s, "catalog_arrays_mb"), got(l, "catalog_arrays_mb"), "")
    row("process RSS after the queries (MB)", got(s, "rss_after_queries_mb"), got(l, "rss_after_queries_mb"),
        "≤ small + 150", limit=150, ratio=0, digits=0)
    rows.append(f"| of which anonymous / file pages (MB) | {_parts(s)} | {_parts(l)} | | |")
    for key, label in (("postgres_100000", "PostgreSQL 100,000 images"), ("postgres_large", "PostgreSQL")):
        if key in r:
            p = r[key]
            for what, figure in (("store query, first time", "queries_first"), ("sort change", "sorts_first")):
                row(f"{label}: {what}, p95 (ms)", None, _figure(p, figure), "≤ 50", 50)
    for label, d in (("small", s), ("large", l)):
        if "word_index_ab" in d:
            ab = d["word_index_ab"]
            rows.append(f"| word queries ({label}), store query p95 (ms): trigram index alone / with the word index | "
                        f"{ab['trigrams']['p95'] * 1000:.1f} / {ab['words']['p95'] * 1000:.1f} | | | |")
    rows.append("")
    rows.append(f"Load average at the start / end: {r.get('load_at_start', [0])[0]:.1f} / "
                f"{r.get('load_at_end', [0])[0]:.1f}")
    rows.append(f"Slowest queries on {r['counts'][1]:,} (first time, ms): " + ", ".join(
        f"`{q}` {t}" for q, t in sorted(l["per_query_ms"].items(), key=lambda x: -x[1])[:6]))
    rows.append(f"Sort orders on {r['counts'][1]:,}, first time (ms): " + ", ".join(
        f"{k} {v}" for k, v in l["sorts_first_ms"].items()))
    rows.append(f"Stacked views on {r['counts'][1]:,} (ms): " + ", ".join(
        f"`{k}` {v}" for k, v in l.get("stacked_ms", {}).items()))
    return "\n".join(rows)

if __name__ == "__main__":
    main()
