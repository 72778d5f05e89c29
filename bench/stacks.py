"""Variation stacks on a large library (issue 16). Run by hand:

    nice -n 10 .venv/bin/python bench/stacks.py [--count 100000]

Makes (once, into bench/cache/) a library whose images come one by one and in batches of 4 (a prompt and
settings, 4 seeds), straight into the database (no files: the store query does not read them). Measures:
making the batch keys of the whole library (an older library's background job), building the catalog,
and the store query the gallery makes (count + first page of 60), stacked and not, and opening a stack.
Prints a table.
"""
from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from store.library import Library  # noqa: E402
from store.models import Image  # noqa: E402
from store.records import Filters  # noqa: E402
from store.text import prompt_sort_key  # noqa: E402

CACHE = HERE / "cache"
WORDS = ("sword shield potion ring amulet gem crown scroll bow axe helmet boots cloak staff wand key coin map lantern "
         "pixel art icon sheet sprite glowing rusty golden silver fantasy retro game item").split()


def make_library(count: int) -> Path:
    path = CACHE / f"stacks-{count}"
    if (path / ".complete").exists():
        return path
    print(f"making a library of {count:,} images in {path} (once)…", flush=True)
    library = Library(path, account="bench")
    owner = library.account.id
    library.close()
    con = sqlite3.connect(path / "library.db")
    rng = random.Random(16)
    start = datetime(2025, 1, 1)
    rows, n = [], 0
    con.execute("BEGIN")
    while n < count:
        size = 4 if rng.random() < 0.25 else 1
        prompt = ", ".join(rng.sample(WORDS, 6)) + f" #{n}"
        settings = {"steps": rng.choice([20, 30, 40]), "sampler": rng.choice(["Euler a", "DPM++ 2M"])}
        when = start + timedelta(seconds=rng.randrange(600 * 86400))
        for k in range(min(size, count - n)):
            n += 1
            rows.append((owner, prompt, "", "model-x", "7", (when + timedelta(seconds=k)).isoformat(" "),
                         when.isoformat(" "), 1024, 1024, 1000, f"{n:064x}", "png",
                         json.dumps({**settings, "seed": rng.randrange(2**32)}), prompt_sort_key(prompt)))
        if len(rows) >= 50_000:
            _insert(con, rows)
            rows = []
    _insert(con, rows)
    con.execute("COMMIT")
    con.close()
    (path / ".complete").write_text("done\n")
    return path


def _insert(con: sqlite3.Connection, rows: list[tuple]) -> None:
    con.executemany(
        "INSERT INTO image (owner_id, prompt, negative_prompt, model, text_accuracy, generated_at, imported_at, "
        "width, height, file_size, sha256, ext, params, prompt_key, location, favorite, source_name, derivation) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,'', 0, '', '')", rows)


def timed(call, runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    path = make_library(args.count)
    library = Library(path, account="bench")
    Image.update(batch=None).execute()  # as an older library: no keys yet
    start = time.perf_counter()
    made = library.fill_batches()
    keys = time.perf_counter() - start
    (path / "catalog.bin").unlink(missing_ok=True)
    library.catalog._seq = -1  # built again from the rows
    start = time.perf_counter()
    library.warm_up()
    build = time.perf_counter() - start
    plain, stacked = Filters(), Filters(stacked=True)
    cards = library.count(stacked)
    first = library.page(stacked, 0, 60)
    stack = next(r for r in first if r.stack > 1)
    opened = replace(Filters(), batch=stack.batch)
    library.catalog._results.clear()
    rows = [
        ("batch keys made (the whole library)", f"{keys:.2f} s", f"{made:,} images"),
        ("catalog build", f"{build:.2f} s", ""),
        ("count + first page, not stacked", f"{timed(lambda: library.query(plain, 0, 60)) * 1000:.1f} ms",
         f"{library.count(plain):,} cards"),
        ("count + first page, stacked (cached)", f"{timed(lambda: library.query(stacked, 0, 60)) * 1000:.1f} ms",
         f"{cards:,} cards"),
        ("stacked, computed again (cache cleared)",
         f"{timed(lambda: (library.catalog._results.clear(), library.query(stacked, 0, 60))) * 1000:.1f} ms", ""),
        ("opening a stack (count + page)", f"{timed(lambda: library.query(opened, 0, 60)) * 1000:.1f} ms",
         f"{library.count(opened)} images"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"Variation stacks, {args.count:,} images")
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:>9}  {note}")
    library.close()


if __name__ == "__main__":
    main()
