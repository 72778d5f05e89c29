"""The in-memory catalog of a SQLite library follows every change, from this process or another."""
from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime, timedelta

from store.catalog import BULK_CATCH_UP_EVERY, CATCH_UP_EVERY
from store.importer import ImportOptions, import_files
from store.library import Library
from store.records import FAVORITES_ONLY, NON_FAVORITES, Filters
from store.text import fold, prompt_sort_key

from .conftest import ROOT


def add(library, make_png, prompt, days_ago=0):
    date = datetime(2026, 6, 1, 12, 0) - timedelta(days=days_ago)
    report = import_files(library, [make_png()], ImportOptions(prompt=prompt, generated_at=date))
    return report.imported[0][1]


def in_thread(lib, call, done: list):
    """Run call() in a thread of its own (with its own database connection); its result goes into `done`."""
    def run():
        with lib.db.connection_context():
            done.append(call())
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def other_process(root, code):
    """Run store code on the same library in another process, as account alice."""
    script = f"import sys; from store.library import Library; lib = Library(sys.argv[1], account='alice'); {code}"
    subprocess.run([sys.executable, "-c", script, str(root)], cwd=ROOT, check=True, capture_output=True)


def test_catalog_answers_like_sql(tmp_path, make_png):
    lib = Library(tmp_path / "lib", account="alice")
    ids = [add(lib, make_png, p, d) for d, p in enumerate(
        ["Straße of swords", "STRASSE sign", "pixel sword", "ruby ring", "", "[bold]sword[/]"])]
    lib.set_favorite([ids[0], ids[3]])
    assert not lib.catalog.ready
    sql = {f: lib.ids(f) for f in (Filters(), Filters(favorite=FAVORITES_ONLY), Filters(favorite=NON_FAVORITES))}
    lib.warm_up()
    assert lib.catalog.ready
    for f, expected in sql.items():
        assert lib.ids(f) == expected == [i for i in ids if f.favorite == "all"
                                          or (i in (ids[0], ids[3])) == (f.favorite == FAVORITES_ONLY)]
    assert lib.ids(Filters(search="SWORD")) == [ids[0], ids[2], ids[5]]
    assert lib.ids(Filters(search="strasse")) == [ids[0], ids[1]]  # case folding: ß is ss
    assert lib.ids(Filters(search="d]")) == [ids[5]]
    assert lib.count(Filters(search="s", favorite=FAVORITES_ONLY)) == 1
    assert [r.id for r in lib.page(Filters(), 2, 2)] == ids[2:4]
    assert lib.position(ids[4], Filters()) == 4 and lib.position(ids[4], Filters(search="x")) is None


def test_catalog_follows_another_process(tmp_path, make_png, monkeypatch):
    monkeypatch.setattr("store.catalog.CATCH_UP_EVERY", 0.0)  # what is taken in, not when (batching: below)
    root = tmp_path / "lib"
    lib = Library(root, account="alice")
    a, b, c = (add(lib, make_png, p, d) for d, p in enumerate(["apple", "banana", "cherry"]))
    assert lib.ids(Filters(search="an")) == [b]  # builds the catalog
    weapons = lib.create_collection("Weapons")
    other_process(root, f"lib.set_favorite([{a}]); lib.delete([{c}]); lib.add_to_collection([{b}], {weapons.id})")
    assert lib.ids(Filters()) == [a, b]
    assert lib.ids(Filters(favorite=FAVORITES_ONLY)) == [a]
    assert lib.ids(Filters(collection_id=weapons.id)) == [b]
    # an image imported elsewhere, dated between the others, lands in its place
    src = make_png()
    other_process(root, "from store.importer import import_files, ImportOptions; from datetime import datetime; "
                        f"import_files(lib, [{str(src)!r}], ImportOptions(prompt='banana bread', "
                        "generated_at=datetime(2026, 5, 31, 18, 0)))")
    found = lib.ids(Filters(search="banana"))
    assert len(found) == 2 and found[1] == b
    assert lib.ids(Filters())[:2] == [a, found[0]]


def test_catalog_follows_plans_and_rebuilds_when_left_behind(tmp_path, make_png, monkeypatch):
    monkeypatch.setattr("store.catalog.CATCH_UP_EVERY", 0.0)  # what is taken in, not when (batching: below)
    root = tmp_path / "lib"
    alice = Library(root, account="alice")
    bob = Library(root, account="bob")
    x = add(alice, make_png, "alice's castle")
    bob.warm_up()
    assert bob.catalog.ready and bob.catalog is alice.catalog
    assert bob.ids(Filters(scope="public")) == [x]
    other_process(root, "lib.set_plan('premium')")
    assert bob.ids(Filters(scope="public")) == []
    seen = alice.catalog.version
    # the change log is trimmed past what the catalog has seen: it builds itself again
    alice.db.execute_sql("DELETE FROM image_change")
    y = add(alice, make_png, "alice's tower", 1)
    alice.db.execute_sql("DELETE FROM image_change WHERE image_id = ?", (y,))
    alice.db.execute_sql("INSERT INTO image_change(image_id) VALUES (NULL)")
    assert alice.ids(Filters(search="alice")) == [x, y]
    assert alice.catalog.version > seen


def test_change_log_is_trimmed(tmp_path, make_png):
    lib = Library(tmp_path / "lib", account="alice")
    image = add(lib, make_png, "flip")
    for _ in range(3):
        lib.db.execute_sql("INSERT INTO image_change(image_id) SELECT NULL FROM "
                           "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) "
                           "SELECT i FROM n)")
    rows = lib.db.execute_sql("SELECT COUNT(*) FROM image_change").fetchone()[0]
    assert rows <= 21_000
    lib.toggle_favorite(image)
    assert lib.ids(Filters(favorite=FAVORITES_ONLY)) == [image]


def test_another_process_changes_are_taken_in_together_after_the_window(tmp_path, make_png):
    """Another process's commits are batched: answered from the catalog as it is within the window, and all
    seen by the first query after it; this process's own writes are seen at once (and bring the rest along)."""
    root = tmp_path / "lib"
    lib = Library(root, account="alice")
    a, b = add(lib, make_png, "apple", 2), add(lib, make_png, "banana", 1)
    now = [100.0]
    lib.catalog.clock = lambda: now[0]
    lib.catalog.sync(at_once=True)  # the window starts now
    assert lib.ids(Filters()) == [b, a]
    other_process(root, f"lib.set_favorite([{a}]); lib.delete([{b}]); "
                        "from store.importer import import_files, ImportOptions; from datetime import datetime; "
                        f"import_files(lib, [{str(make_png())!r}], ImportOptions(prompt='cherry', "
                        "generated_at=datetime(2026, 6, 2)))")
    now[0] += 0.5
    assert lib.ids(Filters()) == [b, a] and lib.catalog.behind  # within the window: the catalog as it was
    now[0] += lib.catalog.catch_up_every
    found = lib.ids(Filters())
    assert len(found) == 2 and found[1] == a and not lib.catalog.behind  # every change, in one catch-up
    assert lib.ids(Filters(favorite=FAVORITES_ONLY)) == [a]
    assert lib.ids(Filters(search="cherry")) == [found[0]]
    other_process(root, f"lib.set_favorite([{found[0]}])")
    now[0] += 0.1
    assert lib.count(Filters(favorite=FAVORITES_ONLY)) == 1  # another process's change: not yet
    lib.delete([a])  # this process's own write, within the window: seen at once, with the other's
    assert lib.ids(Filters()) == [found[0]]
    assert lib.ids(Filters(favorite=FAVORITES_ONLY)) == [found[0]]


def test_a_scan_in_this_process_is_batched_then_seen_when_done(tmp_path, make_png):
    """A source scan writes `quietly`: a search meanwhile may answer from the catalog as it was, the
    first query after the scan sees every file."""
    from store.own_writes import own_writes

    root = tmp_path / "lib"
    lib = Library(root, account="alice")
    add(lib, make_png, "apple")
    folder = tmp_path / "outputs"
    folder.mkdir()
    lib.add_source(folder)
    for n in range(5):
        (folder / f"{n}.png").write_bytes(make_png().read_bytes())
    now = [100.0]
    lib.catalog.clock = lambda: now[0]
    lib.catalog.sync(at_once=True)
    before = own_writes(lib.db)
    seen_during = []
    lib.scan_sources(progress=lambda done, total: seen_during.append(lib.count(Filters())))
    assert seen_during and seen_during[-1] == 1  # the batches were not taken in one by one
    assert own_writes(lib.db) > before  # counted once at the end
    assert lib.count(Filters()) == 6


def test_a_search_does_not_wait_for_the_catalog_being_saved(tmp_path, make_png, monkeypatch):
    """Saving the catalog (SAVE_AFTER changes caught up) writes its file in a thread of its own: a search
    meanwhile answers, sees newer changes, and the file written is whole and readable by the next process."""
    import threading

    from store import files
    from store.library import CATALOG_FILE

    root = tmp_path / "lib"
    lib = Library(root, account="alice")
    first = add(lib, make_png, "apple", 3)
    lib.warm_up()
    assert lib.catalog.wait_saved(30)
    monkeypatch.setattr("store.catalog.SAVE_AFTER", 1)
    started, release = threading.Event(), threading.Event()
    real = files.write_atomic

    def held(path, write, **kwargs):  # the catalog's save stops before writing until released
        if path.name == CATALOG_FILE:
            started.set()
            release.wait(30)
        return real(path, write, **kwargs)

    monkeypatch.setattr(files, "write_atomic", held)
    second, third = add(lib, make_png, "banana", 2), add(lib, make_png, "cherry", 1)

    caught_up: list = []
    in_thread(lib, lambda: lib.ids(Filters()), caught_up).join(30)  # two changes caught up: a save starts
    assert caught_up == [[third, second, first]]
    assert started.wait(30)
    fourth = add(lib, make_png, "banana split")
    found: list = []
    searching = in_thread(lib, lambda: lib.ids(Filters(search="banana")), found)
    searching.join(30)  # before the save is released: it never comes if the search waits for it
    still_saving = not lib.catalog.wait_saved(0)
    release.set()
    assert found == [[fourth, second]] and still_saving
    assert lib.catalog.wait_saved(30)
    lib.close()
    from .test_large_library import _forget_open_databases

    _forget_open_databases(root)  # the next process
    again = Library(root, account="alice")
    assert (root / CATALOG_FILE).exists() and again.catalog.open_saved()
    assert again.ids(Filters(search="banana")) == [fourth, second]


def test_a_column_kept_narrow_widens_for_a_larger_value(tmp_path, make_png):
    """The catalog keeps whole numbers in the smallest type that holds them (ids 1-2: one byte); an image
    whose id does not fit is put in after the column is widened, not wrapped around."""
    lib = Library(tmp_path / "lib", account="alice")
    a, b = add(lib, make_png, "apple", 3), add(lib, make_png, "banana", 2)
    lib.warm_up()
    assert lib.catalog._ids.dtype.itemsize == 1
    c = add(lib, make_png, "cherry", 1)
    with lib.db.atomic():  # the id moved past what one byte holds (the change log told of both ids)
        lib.db.execute_sql("UPDATE image SET id = 100000 WHERE id = ?", (c,))
        lib.db.execute_sql("INSERT INTO image_change(image_id) VALUES (?), (100000)", (c,))
    lib.catalog.sync(at_once=True)
    assert lib.ids(Filters()) == [100000, b, a]
    assert lib.ids(Filters(search="cherry")) == [100000]


def bulk_insert_elsewhere(root, n: int, first: int = 0) -> None:
    """`n` images written by another process in one statement (a folder being indexed), dated among and beside
    the others, many on the same second (their order is then by id)."""
    other_process(root, (
        "cols = [c[1] for c in lib.db.execute_sql('PRAGMA table_info(image)').fetchall() "
        "if c[1] not in ('id', 'sha256', 'generated_at', 'prompt')]; "
        f"lib.db.execute_sql('WITH RECURSIVE n(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM n "
        f"WHERE i < {first + n - 1}) INSERT INTO image (sha256, generated_at, prompt, ' + ', '.join(cols) + ') "
        "SELECT lower(hex(randomblob(32))), strftime(\"%Y-%m-%d %H:%M:%S\", \"2026-06-01 12:00\", "
        "\"-\" || (i % 97) || \" hours\"), \"bulk \" || i, ' + ', '.join(cols) + ' FROM n, (SELECT * FROM image "
        "LIMIT 1)')"))


def test_changes_in_bulk_are_taken_in_less_often_each_in_its_place(tmp_path, make_png, monkeypatch):
    """Another process writing in bulk (a source folder being indexed): the catalog takes its changes in every
    BULK_CATCH_UP_EVERY seconds instead of every second, each image where a build puts it; at once after
    `catch_up_next` (this process waited for that writer); every second again once few changes come."""
    root = tmp_path / "lib"
    lib = Library(root, account="alice")
    for days, prompt in enumerate(["apple", "banana", "cherry"]):
        add(lib, make_png, prompt, days)
    now = [100.0]
    lib.catalog.clock = lambda: now[0]
    lib.catalog.sync(at_once=True)
    in_order = "SELECT id FROM image ORDER BY generated_at DESC, id DESC"

    bulk_insert_elsewhere(root, 1500)
    now[0] += CATCH_UP_EVERY
    assert lib.count(Filters()) == 1503 and lib.catalog.window == BULK_CATCH_UP_EVERY  # 1,500 in a second: bulk
    assert lib.ids(Filters()) == [i for (i,) in lib.db.execute_sql(in_order).fetchall()]
    bulk_insert_elsewhere(root, 10, first=1500)
    now[0] += CATCH_UP_EVERY
    assert lib.count(Filters()) == 1503 and lib.catalog.behind  # a second later: not yet
    now[0] += BULK_CATCH_UP_EVERY - CATCH_UP_EVERY
    assert lib.count(Filters(search="bulk")) == 1510 and lib.catalog.window == CATCH_UP_EVERY  # few, in 5 s
    monkeypatch.setattr("store.catalog.PLACE_AT_MOST", 100)  # these are sorted in with the rest
    bulk_insert_elsewhere(root, 600, first=1510)
    now[0] += CATCH_UP_EVERY
    assert lib.count(Filters()) == 2113 and lib.catalog.window == BULK_CATCH_UP_EVERY
    bulk_insert_elsewhere(root, 5, first=2110)
    now[0] += 0.1
    lib.catalog.catch_up_next()  # the writer is done: no waiting
    assert lib.count(Filters()) == 2118
    assert lib.ids(Filters()) == [i for (i,) in lib.db.execute_sql(in_order).fetchall()]


def test_a_save_that_fails_on_the_database_does_not_stop_the_next(tmp_path, make_png, monkeypatch):
    """The database busy while the save reads its header: that save is skipped, and the next one writes."""
    from peewee import OperationalError

    from store.catalog import Catalog
    from store.library import CATALOG_FILE

    root = tmp_path / "lib"
    lib = Library(root, account="alice")
    add(lib, make_png, "apple")
    real, calls = Catalog._snapshot, []

    def busy_once(catalog):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real(catalog)

    monkeypatch.setattr(Catalog, "_snapshot", busy_once)
    lib.warm_up()  # built: its save fails
    assert lib.catalog.wait_saved(30) and not (root / CATALOG_FILE).exists()
    lib.catalog.save_soon()
    assert lib.catalog.wait_saved(30) and (root / CATALOG_FILE).exists() and len(calls) == 2


def test_a_search_does_not_wait_for_the_sort_orders_being_made(tmp_path, make_png, monkeypatch):
    """The orders made after start-up (the prompt order takes seconds on a million images) are worked out
    without the catalog's lock: a search meanwhile answers, and the order is right once made."""
    import threading

    from store import catalog as catalog_module

    lib = Library(tmp_path / "lib", account="alice")
    a, b, c = add(lib, make_png, "cherry", 3), add(lib, make_png, "apple", 2), add(lib, make_png, "banana", 1)
    assert lib.ids(Filters()) == [c, b, a]  # the catalog built, no order made yet
    started, release = threading.Event(), threading.Event()
    real = catalog_module._rank

    def held(inputs):
        started.set()
        release.wait(30)
        return real(inputs)

    monkeypatch.setattr(catalog_module, "_rank", held)

    def in_thread(call):
        def run():
            with lib.db.connection_context():
                call()
        thread = threading.Thread(target=run)
        thread.start()
        return thread

    ordering = in_thread(lib.catalog.prepare_orders)
    assert started.wait(30)
    found: list = []
    in_thread(lambda: found.append(lib.ids(Filters(search="an")))).join(30)  # before the order is released
    release.set()
    ordering.join(30)
    assert found == [[c]]
    assert lib.ids(Filters(sort="prompt")) == [b, c, a]


def _written(root, prompts, first: int = 0) -> list[int]:
    """Images with these prompts written straight into a new library (no files: the catalog reads rows only), or
    into one holding `first` images written so; their ids, newest first."""
    import sqlite3

    Library(root, account="alice").close()
    con = sqlite3.connect(root / "library.db")
    with con:
        owner = con.execute("SELECT id FROM account WHERE name = 'alice'").fetchone()[0]
        con.executemany(
            "INSERT INTO image (owner_id, prompt, prompt_key, negative_prompt, model, text_accuracy, generated_at, "
            "imported_at, width, height, file_size, sha256, ext, favorite, params, source_name, derivation, location) "
            "VALUES (?, ?, ?, '', '', '', ?, ?, 64, 64, 1, ?, 'png', 0, '{}', '', '', '')",
            [(owner, prompt, prompt_sort_key(prompt), f"2026-01-01 {n // 3600:02}:{n // 60 % 60:02}:{n % 60:02}", "2026-01-02 00:00:00",
              f"{n:064x}") for n, prompt in enumerate(prompts, first)])
    con.close()
    return list(range(first + len(prompts), first, -1))


def test_a_word_in_few_prompts_marks_their_images_as_a_gather_over_every_image_would(tmp_path, monkeypatch):
    """A word found in few prompts goes from those prompts to their images (each prompt's images kept, made after a
    change when needed) instead of a gather over every image's prompt: the same images, with distinct prompts (one
    position per prompt) and with repeated ones (positions grouped by prompt), after a change too."""
    from store import catalog as catalog_module

    words = "sword ring necklace potion shield gem Órb".split()  # (an accent: the queries find it folded)
    for name, repeat in (("distinct", 0), ("repeated", 7)):
        prompts = [f"{words[n % 7]} {words[n * 3 % 7]} #{n % repeat if repeat else n}" for n in range(300)]
        ids = _written(tmp_path / name, prompts)
        lib = Library(tmp_path / name, account="alice")
        catalog = lib.catalog
        queries = {"sword": lambda p: "sword" in p, "#1": lambda p: "#1" in p, "#299": lambda p: "#299" in p,
                   "gem orb": lambda p: "gem" in p and "orb" in p, "s": lambda p: "s" in p, "zzz": lambda p: False,
                   "ring -#2": lambda p: "ring" in p and "#2" not in p, "sword | gem": lambda p: "sword" in p or "gem" in p,
                   "gem | -sword -ring": lambda p: ("gem" in p or "sword" not in p) and "ring" not in p,
                   "-gem -orb": lambda p: "gem" not in p and "orb" not in p,
                   "(sword ring) | (gem orb)": lambda p: "sword" in p and "ring" in p or "gem" in p and "orb" in p,
                   "-(sword | gem) ring": lambda p: not ("sword" in p or "gem" in p) and "ring" in p,
                   "-(sword ring) #1": lambda p: not ("sword" in p and "ring" in p) and "#1" in p,
                   "(gem -(orb | #2)) | -(-shield)": lambda p: "gem" in p and not ("orb" in p or "#2" in p)
                   or "shield" in p, "ÓRB -gem": lambda p: "orb" in p and "gem" not in p,
                   '"gém órb"': lambda p: "gem orb" in p}
        plain = {q: lib.ids(Filters(search=q)) for q in queries}  # 300 images: below SCATTER_FROM, a gather
        assert catalog._images_of is None
        monkeypatch.setattr(catalog_module, "SCATTER_FROM", 0)
        catalog._forget()
        for text in ("sword", "#1", "#12", "#299", "zzz", "s"):
            assert catalog._prompt_mask(text).tolist() == catalog._prompt_matches(text)[catalog._codes].tolist()
        assert catalog._images_of is not None and (catalog._images_of.order is None) == (not repeat)
        for query, holds in queries.items():
            assert lib.ids(Filters(search=query)) == plain[query] == [i for i in ids if holds(fold(prompts[i - 1]))]
        lib.set_favorite([ids[0]])  # a change: made again, for the catalog as it is now
        assert lib.ids(Filters(search="#299")) == plain["#299"] and catalog._images_of is not None
        monkeypatch.undo()
        lib.close()


def test_every_order_of_the_whole_library_is_the_filtered_one_with_all_images_kept(tmp_path):
    """With no condition (the mask lets every image through) each order is taken as it is (a view of the ids, the
    kept order, a rolled copy): the same as the filtered path gives, less the one image a condition leaves out."""
    from store.query import SORTS

    prompts = [f"{'cherry apple banana'.split()[n % 3]} {n * 7 % 11}" for n in range(60)]
    ids = _written(tmp_path / "lib", prompts)
    lib = Library(tmp_path / "lib", account="alice")
    lib.set_favorite(ids[5:40:3])
    left_out = ids[17]
    for sort in SORTS:
        for seed in (0, 7, 59, 61):
            whole = lib.ids(Filters(sort=sort, seed=seed))
            assert sorted(whole) == sorted(ids)
            filtered = lib.ids(Filters(search=f"-id:{left_out}", sort=sort, seed=seed))
            assert filtered == [i for i in whole if i != left_out], (sort, seed)
    assert lib.ids(Filters()) == ids and lib.ids(Filters(sort="oldest")) == ids[::-1]


def test_images_picked_by_id_are_those_a_pass_over_every_id_finds(tmp_path, make_png):
    """A collection's members (and file: or source: matches) mark their images through a table of each id's
    position: the same images as comparing every image's id, for ids missing, trashed, too high or negative, and
    after a change (the table made again)."""
    import numpy as np

    ids = _written(tmp_path / "lib", [f"prompt {n}" for n in range(50)])
    lib = Library(tmp_path / "lib", account="alice")
    lib.trash([ids[3], ids[10]])
    catalog = lib.catalog
    catalog.sync()
    for wanted in ([], [ids[0]], ids[::4], [ids[3], ids[10], 999, -5, 0, 2**40], list(range(-3, 80))):
        wanted = np.array(wanted, np.int64)
        assert catalog._having_ids(wanted).tolist() == np.isin(catalog._ids, wanted).tolist()
    assert catalog._where is not None
    collection = lib.create_collection("some")
    members = [i for i in ids[5:20] if i != ids[10]]
    lib.add_to_collection(members, collection.id)
    assert lib.ids(Filters(search="in:some")) == members
    new = add(lib, make_png, "a new one")  # a change: the table is made again, with the new image's id
    lib.add_to_collection([new], collection.id)
    assert lib.ids(Filters(search="in:some")) == [new, *members]
    assert catalog._having_ids(np.array([max(ids) + 1])).tolist() == np.isin(catalog._ids, [max(ids) + 1]).tolist()


def test_the_warm_up_reads_the_largest_collections_members_and_they_answer_as_read_when_asked(tmp_path):
    """The warm-up reads the members of the largest collections (KEEP_MEMBERS): the first `in:NAME` or collection
    filter on one of them reads no membership from the database (it read them from cold pages after a start), and
    answers as the members read when asked do; a smaller collection is still read when asked, and a change of
    membership is seen."""
    ids = _written(tmp_path / "lib", [f"prompt {n}" for n in range(40)])
    lib = Library(tmp_path / "lib", account="alice")
    sizes = {"big": 12, "middle": 8, "small": 3, "tiny": 2, "one": 1}  # five: the four largest read ahead
    collections = {}
    for name, size in sizes.items():
        collections[name] = lib.create_collection(name).id
        lib.add_to_collection(ids[size:2 * size], collections[name])
    expected = {name: ids[size:2 * size] for name, size in sizes.items()}
    lib.warm_up()
    catalog = lib.catalog
    read: list[str] = []
    execute = catalog.db.execute_sql

    def recorded(sql, *args, **kwargs):
        read.append(sql)
        return execute(sql, *args, **kwargs)

    catalog.db.execute_sql = recorded
    try:
        for name in ("big", "middle", "small", "tiny"):
            assert lib.ids(Filters(search=f"in:{name}")) == expected[name]
            assert lib.ids(Filters(collection_id=collections[name], search="prompt")) == expected[name]
        assert not [sql for sql in read if "image_collection" in sql]
        assert lib.ids(Filters(search="in:one")) == expected["one"]  # not read ahead: read when asked
        assert [sql for sql in read if "image_collection" in sql]
    finally:
        catalog.db.execute_sql = execute
    lib.add_to_collection([ids[0]], collections["big"])
    assert lib.ids(Filters(search="in:big")) == [ids[0], *expected["big"]]
    lib.close()


def test_a_word_searched_through_the_word_index_finds_its_prompts_without_loading_numpy_ma(tmp_path):
    """A word searched through the word index (every word here: the prompts in a blob, BLOB_FROM 10, and
    WORD_LISTS_FROM 0) finds the prompts holding it, in a process of its own that has not loaded numpy.ma, which
    np.unique's first call imports (the first query paid 20-60 ms for it at 1,000,000 images)."""
    words = "sword ring necklace potion shield gem orb".split()
    prompts = [f"{words[n % 7]} {words[n * 3 % 7]}, #{n} ringlet" if n % 5 else f"{words[n % 7]} #{n}"
               for n in range(200)]
    ids = _written(tmp_path / "lib", prompts)
    queries = ["ring", "sword gem", "in", "#1", "ringlet", "-orb ring", "gem | potion", "zzz"]
    script = (
        "import json, sys; from store import catalog; catalog.WORD_LISTS_FROM = 0; catalog._Strings.BLOB_FROM = 10\n"
        "from store.library import Library; from store.records import Filters\n"
        "lib = Library(sys.argv[1], account='alice')\n"
        f"found = {{q: lib.ids(Filters(search=q)) for q in {queries!r}}}\n"
        "print(json.dumps({'found': found, 'numpy.ma': 'numpy.ma' in sys.modules}))")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "lib")], cwd=ROOT, check=True,
                         capture_output=True, text=True)
    import json

    answer = json.loads(out.stdout)
    assert not answer["numpy.ma"]
    expected = {"ring": lambda p: "ring" in p, "sword gem": lambda p: "sword" in p and "gem" in p,
                "in": lambda p: "in" in p, "#1": lambda p: "#1" in p, "ringlet": lambda p: "ringlet" in p,
                "-orb ring": lambda p: "ring" in p and "orb" not in p,
                "gem | potion": lambda p: "gem" in p or "potion" in p, "zzz": lambda p: False}
    for query, holds in expected.items():
        assert answer["found"][query] == [i for i in ids if holds(prompts[i - 1])], query


def test_every_image_in_a_kept_order_is_read_a_page_at_a_time_as_the_whole_order_gives(tmp_path, monkeypatch):
    """Every image in a kept order (imported, prompt A-Z, largest, favorites first, random with a seed) is a walk of
    that order read a page at a time (`Ordered`: no array of every id made for a page; a seed's walk through the
    shuffle beyond SHUFFLED_UP_TO places, here 10, never made whole): its pages, its count, each image's position
    and its ids are those of the order made whole, and the same as the filtered path gives less the image a
    condition leaves out. A condition that lets few through (`id:1-5`, `id:1-13`: under one image in 4) in the random
    order sorts them by their place in the seed's walk, the seed's whole order not made: the same images in the same
    order."""
    from store import catalog as catalog_module
    from store.catalog import Ordered

    monkeypatch.setattr(catalog_module, "SHUFFLED_UP_TO", 10)
    prompts = [f"{'cherry apple banana'.split()[n % 3]} {n * 7 % 11}" for n in range(61)]
    ids = _written(tmp_path / "lib", prompts)
    lib = Library(tmp_path / "lib", account="alice")
    lib.set_favorite(ids[5:40:3])
    catalog = lib.catalog
    left_out = ids[17]
    for sort in ("imported", "prompt", "largest", "favorites", "random"):
        for seed in ((0, 7, 59, 61, 2**31 - 1) if sort == "random" else (0,)):
            filters = Filters(sort=sort, seed=seed)
            result = catalog.select(lib._catalog_query(filters))
            assert isinstance(result, Ordered) and f"random {seed}" not in catalog._orders
            whole = lib.ids(filters)
            assert sorted(whole) == sorted(ids) and len(set(whole)) == len(ids) == lib.count(filters)
            paged = [r.id for offset in range(0, 70, 13) for r in lib.page(filters, offset, 13)]
            assert paged == whole, (sort, seed)
            assert [lib.position(i, filters) for i in whole] == list(range(len(whole)))
            assert lib.position(10_000, filters) is None
            for last in (5, 13):  # 13 of 61: fewer than one image in SORTED_BELOW (4)
                few = lib.ids(Filters(search=f"id:1-{last}", sort=sort, seed=seed))
                assert few == [i for i in whole if i <= last] and f"random {seed}" not in catalog._orders, (sort, seed)
            filtered = lib.ids(Filters(search=f"-id:{left_out}", sort=sort, seed=seed))
            assert filtered == [i for i in whole if i != left_out], (sort, seed)
    lib.trash([ids[3]])  # a change: the walk is of the catalog as it is now
    whole = lib.ids(Filters(sort="random", seed=7))
    assert sorted(whole) == sorted(i for i in ids if i != ids[3])
    assert [lib.position(i, Filters(sort="random", seed=7)) for i in whole] == list(range(len(whole)))
    lib.close()


def test_a_conditions_matches_newest_or_oldest_first_are_read_a_page_at_a_time_as_all_of_them_give(tmp_path,
                                                                                                  monkeypatch):
    """A condition's matches in the catalog's own order (newest or oldest first) are found a page at a time (`Ordered`
    over `_Matches`: the mask read in growing pieces up to the page's last match, here pieces of 4 places; a page
    further on makes them whole): pages, count, positions and ids are those of the images the condition holds for, in
    that order, for a condition holding for most images, few, one and none, and after a change. Few matches (one
    image in 8 or fewer) are made at once: a kept result holds their positions, not a mask of every image."""
    from store.catalog import Ordered, _Matches

    monkeypatch.setattr(_Matches, "FIRST_PIECE", 4)
    prompts = [f"{'cherry apple banana'.split()[n % 3]} {n * 7 % 11}" for n in range(70)]
    ids = _written(tmp_path / "lib", prompts)  # newest first
    lib = Library(tmp_path / "lib", account="alice")
    catalog = lib.catalog
    conditions = {"a": lambda p: "a" in p, "cherry": lambda p: "cherry" in p, "apple 3": lambda p: "apple" in p and "3"
                  in p, "-e": lambda p: "e" not in p, "banana 10": lambda p: "banana" in p and "10" in p,
                  "zzz": lambda p: False}
    for sort in ("newest", "oldest"):
        for search, holds in conditions.items():
            filters = Filters(search=search, sort=sort)
            expected = [i for i in (ids if sort == "newest" else ids[::-1]) if holds(prompts[i - 1])]
            kept = catalog.select(lib._catalog_query(filters))
            assert isinstance(kept, Ordered) == (len(expected) * 8 > len(ids)), (sort, search)  # few: made at once
            assert lib.count(filters) == len(expected)
            for size in (1, 7, 60):
                paged = [r.id for offset in range(0, 75, size) for r in lib.page(filters, offset, size)]
                assert paged == expected, (sort, search, size)
            assert [lib.position(i, filters) for i in expected] == list(range(len(expected)))
            assert lib.position(ids[0], filters) == (0 if holds(prompts[ids[0] - 1]) and sort == "newest" else
                                                     expected.index(ids[0]) if ids[0] in expected else None)
            assert lib.ids(filters) == expected
    lib.set_favorite([ids[2]])  # a change: the matches of the catalog as it is now
    lib.trash([ids[0]])
    assert lib.ids(Filters(search="cherry")) == [i for i in ids[1:] if "cherry" in prompts[i - 1]]
    lib.close()


def test_a_conditions_matches_in_a_kept_order_are_read_a_page_at_a_time_as_the_whole_order_gives(tmp_path,
                                                                                              monkeypatch):
    """A condition holding for more than one image in 8, in a kept order (imported, prompt A-Z, largest, random with
    and without a seed), is that order read a part at a time with the condition tested on its places (`_Matches` over
    the order or the seed's walk, here pieces of 4 places): no test at every place of the order for a page. Pages,
    count, positions and ids are the order's images the condition holds for, in that order; a seed's whole order is
    not made. Few matches (one image in 8 or fewer) are made at once, as before."""
    from store import catalog as catalog_module
    from store.catalog import Ordered, _Matches

    monkeypatch.setattr(_Matches, "FIRST_PIECE", 4)
    monkeypatch.setattr(catalog_module, "SHUFFLED_UP_TO", 10)
    prompts = [f"{'cherry apple banana'.split()[n % 3]} {n * 7 % 11}" for n in range(70)]
    ids = _written(tmp_path / "lib", prompts)
    lib = Library(tmp_path / "lib", account="alice")
    catalog = lib.catalog
    conditions = {"a": lambda p: "a" in p, "cherry": lambda p: "cherry" in p, "-e": lambda p: "e" not in p,
                  "banana 10": lambda p: "banana" in p and "10" in p, "zzz": lambda p: False}
    for sort in ("imported", "prompt", "largest", "random"):
        for seed in ((0, 7, 59) if sort == "random" else (0,)):
            order = lib.ids(Filters(sort=sort, seed=seed))
            for search, holds in conditions.items():
                filters = Filters(search=search, sort=sort, seed=seed)
                expected = [i for i in order if holds(prompts[i - 1])]
                kept = catalog.select(lib._catalog_query(filters))
                assert isinstance(kept, Ordered) == (len(expected) * 8 > len(ids)), (sort, seed, search)
                assert lib.count(filters) == len(expected)
                for size in (1, 7, 60):
                    paged = [r.id for offset in range(0, 75, size) for r in lib.page(filters, offset, size)]
                    assert paged == expected, (sort, seed, search, size)
                assert [lib.position(i, filters) for i in expected] == list(range(len(expected)))
                assert lib.ids(filters) == expected, (sort, seed, search)
                assert not any(key.startswith("random ") for key in catalog._orders), (sort, seed, search)
    lib.close()


def test_a_change_leaving_every_image_in_its_place_copies_only_its_columns_and_keeps_the_orders(tmp_path):
    """Changes made elsewhere that leave every image at its place (a favorite, a collection made and an image put
    in it, a prompt and model, a width too wide for its column's type) are written into copies of the changed columns only: the other columns stay the same
    arrays and the kept orders not made from a changed column stay; a changed date moves the image (dropped and put
    back). After each, every order and query answers as a catalog built from every row."""
    import sqlite3

    from store.catalog import Catalog

    prompts = [f"{'cherry apple banana'.split()[n % 3]} {n * 7 % 11}" for n in range(40)]
    ids = _written(tmp_path / "lib", prompts)
    lib = Library(tmp_path / "lib", account="alice")
    lib.warm_up()
    catalog = lib.catalog
    kept = ("imported", "prompt", "largest", "random")
    assert all(sort in catalog._orders for sort in kept)

    def elsewhere(sql: str, *args) -> None:
        con = sqlite3.connect(tmp_path / "lib" / "library.db")
        with con:
            con.execute(sql, args)
        con.close()
        catalog.sync(at_once=True)

    def answers(of: Catalog) -> list:
        return [of.select(lib._catalog_query(Filters(search=search, sort=sort, seed=7))).tolist()
                for sort in ("newest", "oldest", "imported", "prompt", "largest", "favorites", "random")
                for search in ("", "apple", "zebra", "model:flux", "width:>100", "is:fav", "-is:fav cherry")]

    def same_as_built() -> None:
        assert answers(catalog) == answers(Catalog(lib.db))

    columns = {name: getattr(catalog, "_" + name) for name in ("ids", "dates", "codes", "models", "width", "favorite")}
    elsewhere(f"UPDATE image SET favorite = 1 WHERE id IN ({ids[3]}, {ids[10]}, {ids[31]})")
    assert catalog._favorite is not columns["favorite"] and catalog._favorite.sum() == 3
    assert all(getattr(catalog, "_" + name) is columns[name] for name in ("ids", "dates", "codes", "models", "width"))
    assert all(sort in catalog._orders for sort in kept)
    same_as_built()
    seen = catalog.version
    elsewhere("INSERT INTO collection (owner_id, name, created_at) SELECT id, 'Towers', '2026-01-01' FROM account")
    elsewhere("INSERT INTO image_collection (image_id, collection_id) SELECT ?, id FROM collection", ids[4])
    assert catalog.version == seen + 2 and all(sort in catalog._orders for sort in kept)
    assert catalog.select(lib._catalog_query(Filters(search="in:Towers"))).tolist() == [ids[4]]

    elsewhere("UPDATE image SET prompt = 'zebra apple', model = 'flux-dev' WHERE id = ?", ids[5])
    assert catalog._codes is not columns["codes"] and catalog._width is columns["width"]
    assert "prompt" not in catalog._orders and all(sort in catalog._orders for sort in ("imported", "largest"))
    same_as_built()

    elsewhere("UPDATE image SET width = 70000 WHERE id = ?", ids[7])  # wider than the column's narrowed type
    assert catalog._width.max() == 70000 and "largest" not in catalog._orders and "imported" in catalog._orders
    same_as_built()

    elsewhere("UPDATE image SET generated_at = '2027-01-01 00:00:00' WHERE id = ?", ids[20])  # moves: now newest
    assert catalog._ids[0] == ids[20] and catalog._orders == {}
    same_as_built()
    lib.close()


def _read_from_its_file(root, prompts):
    """A library of these prompts (`_written`) whose catalog is saved, and that catalog read from its file as another
    process reads it: the library, the ids, that catalog, and `found(search)`, the ids it selects."""
    from store.catalog import Catalog

    ids = _written(root, prompts)
    lib = Library(root, account="alice")
    lib.warm_up()
    assert lib.catalog.wait_saved(30) and (root / "catalog.bin").exists()
    catalog = Catalog(lib.db, root / "catalog.bin")
    assert catalog.open_saved()

    def found(search: str) -> list[int]:
        return catalog.select(lib._catalog_query(Filters(search=search))).tolist()

    return lib, ids, catalog, found


def test_a_commands_one_search_makes_neither_each_prompts_images_nor_the_lettered_words(tmp_path, monkeypatch):
    """A catalog read from its file (a command's process) answers its first word search with a gather over every
    image's prompt and a look through every word, making neither each prompt's images nor the words with a letter
    (each a pass or more over every image or word, for that one search); a second search makes them and uses
    them. The same images either way."""
    from store import catalog as catalog_module

    monkeypatch.setattr(catalog_module, "SCATTER_FROM", 0)
    monkeypatch.setattr(catalog_module, "WORD_LISTS_FROM", 0)  # every word through the word index
    monkeypatch.setattr(catalog_module._Strings, "BLOB_FROM", 10)  # (300 prompts: indexed as many are)
    words = "sword ring necklace potion shield gem orb".split()
    prompts = [f"{words[n % 7]} {words[n * 3 % 7]} #{n}" for n in range(300)]
    lib, ids, catalog, found = _read_from_its_file(tmp_path / "lib", prompts)

    assert found("swor") == [i for i in ids if "swor" in prompts[i - 1]]
    assert catalog._images_of is None and catalog._prompt_strings._lettered is None
    assert found("gem orb") == [i for i in ids if "gem" in prompts[i - 1] and "orb" in prompts[i - 1]]
    assert catalog._images_of is not None and catalog._prompt_strings._lettered is not None
    assert catalog._prompt_strings._lettered.words is not None  # (the words with a letter are few here)
    assert found("ring #1") == [i for i in ids if "ring" in prompts[i - 1] and "#1" in prompts[i - 1]]
    lib.close()


def _pages_held(array) -> int:
    """How many of the memory pages wholly inside this array (a view of a mapped file) this process holds
    (/proc/self/pagemap: bit 63, the page is present)."""
    import mmap

    import numpy as np

    at = array.__array_interface__["data"][0]
    first, end = -(-at // mmap.PAGESIZE), (at + array.nbytes) // mmap.PAGESIZE
    with open("/proc/self/pagemap", "rb") as pagemap:
        pagemap.seek(first * 8)
        entries = np.frombuffer(pagemap.read(max(end - first, 0) * 8), np.uint64)
    return int((entries >> np.uint64(63)).astype(bool).sum())


def test_a_saved_catalogs_text_and_word_lists_read_through_once_are_not_kept_in_memory(tmp_path, monkeypatch):
    """The pages of a saved catalog that a search or the reading of the file goes through whole are not kept in the
    process (at 1,000,000 prompts: 54 MB of text, 8 of starts, 54 of the word index, 31 of its lists were held after
    a search for a rare letter and one for a number; the app's RSS 200 MB above the small library's): the word lists
    once checked, the prompts' text once searched for a byte that is not among the letter sets', every word and list
    once searched for digits. A letter that no prompt holds reads nothing. The same images as a loop over the prompts
    finds."""
    import os

    import pytest

    from store import catalog as catalog_module

    if not os.path.exists("/proc/self/pagemap"):
        pytest.skip("no /proc/self/pagemap here")
    monkeypatch.setattr(catalog_module._Strings, "BLOB_FROM", 10)
    cyrillic_greek = "абвгдежзиклмнопрстуфхцчшщыэюя αβγδεζηθικλμνξοπρστυφχψω"  # many bytes: 'q' gets no letter bit
    words = "sword ring necklace potion shield gem orb crown".split()
    prompts = [f"{words[n % 8]} {words[n * 3 % 8]} {cyrillic_greek} #{n}" + (" quest" if n == 1234 else "")
               for n in range(3000)]
    lib, ids, catalog, found = _read_from_its_file(tmp_path / "lib", prompts)
    strings = catalog._prompt_strings
    assert strings._mapping is not None and strings._letter_bit[ord("q")] == 255 and strings._frequency[ord("q")] > 0
    assert strings._word_values.nbytes > 8 * 4096 and _pages_held(strings._word_values) == 0  # checked, given back

    held = _pages_held(strings._blob)  # (a few next to arrays read: the system maps a page's neighbours with it)
    assert found("z") == []  # in no prompt: nothing read
    assert strings._blob.nbytes // 4096 > 64 and _pages_held(strings._blob) == held < 20
    assert found("q") == [ids[-1 - 1234]]  # a rare letter: the text read once, not kept
    assert _pages_held(strings._blob) == _pages_held(strings._starts) == 0
    assert found("16") == [i for i in ids if "16" in prompts[i - 1]]  # digits: every word and list read, not kept
    assert all(_pages_held(array) == 0 for array in strings._word_arrays())
    assert found("16") == [i for i in ids if "16" in prompts[i - 1]]  # read again from the file: the same
    assert found("ring") == [i for i in ids if "ring" in prompts[i - 1]]
    lib.close()


def test_a_stacked_view_where_nothing_stacks_is_read_a_page_at_a_time_too(tmp_path, monkeypatch):
    """In a library where no batch holds two images (nothing stacks), the gallery's stacked view of a broad search
    is the plain one, read a page at a time: its first page does not make every match's position. Once two images
    share a batch, that view shows one card for them."""
    from dataclasses import replace

    from store.catalog import Ordered, _Matches

    monkeypatch.setattr(_Matches, "FIRST_PIECE", 4)
    prompts = [f"{'cherry apple banana'.split()[n % 3]} {n}" for n in range(70)]
    _written(tmp_path / "lib", prompts)
    lib = Library(tmp_path / "lib", account="alice")
    for sort in ("newest", "oldest"):
        stacked = Filters(search="a", sort=sort, stacked=True)
        plain = lib.ids(replace(stacked, stacked=False))
        result = lib.catalog.select(lib._catalog_query(stacked))
        assert [r.id for r in lib.page(stacked, 0, 10)] == plain[:10] and lib.count(stacked) == len(plain)
        assert isinstance(result, Ordered) and result._walk._whole is None, sort
    stacked = Filters(search="a", stacked=True)
    plain = lib.ids(replace(stacked, stacked=False))
    lib.db.execute_sql("UPDATE image SET batch = 7 WHERE id IN (?, ?)", (plain[0], plain[1]))
    lib.catalog.sync(at_once=True)
    assert lib.count(stacked) == len(plain) - 1 and lib.count(replace(stacked, stacked=False)) == len(plain)
    assert [r.id for r in lib.page(stacked, 0, 2)] == [plain[0], plain[2]]
    lib.close()


def test_the_first_page_does_not_wait_for_a_first_build_in_another_thread(tmp_path, make_png, monkeypatch):
    """A library opened with no saved catalog: while the warm-up builds it (40 s at 1,000,000 images), the
    gallery's first page (no search, newest first) comes from SQL at once. Before, it waited for the whole build
    and the gallery said "0 of 0 images" meanwhile."""
    from store import catalog as catalog_module

    lib = Library(tmp_path / "lib", account="alice")
    ids = [add(lib, make_png, p, d) for d, p in enumerate(["apple", "banana", "cherry"])]
    assert not lib.catalog.ready
    building, release = threading.Event(), threading.Event()
    real = catalog_module.Catalog._build_now

    def slow_build(self):  # the build, held (under the catalog's lock) until the test has its page
        building.set()
        release.wait(60)
        real(self)

    monkeypatch.setattr(catalog_module.Catalog, "_build_now", slow_build)

    built: list = []
    builder = in_thread(lib, lib.warm_up, built)
    assert building.wait(30)
    page: list = []
    reader = in_thread(lib, lambda: lib.query(Filters(), 0, 60), page)
    reader.join(30)  # it never comes before the release if the page waits for the build
    answered = bool(page)
    release.set()
    builder.join(60)
    reader.join(60)
    assert answered
    count, records = page[0]
    assert count.n == 3 and [r.id for r in records] == ids
    assert lib.catalog.ready and lib.ids(Filters(search="an")) == [ids[1]]


def test_a_query_waits_for_the_saved_catalog_being_read_by_another_thread(tmp_path, make_png):
    """Two queries at start-up (the gallery asks more than once): while one thread reads the saved catalog or
    catches up (milliseconds), the other waits for it, not asks SQL (whose count of a stacked view is seconds at
    1,000,000 images: start-up took 5 s in one run of seven). Only a build is not waited for (above)."""
    from store.library import CATALOG_FILE

    from .test_large_library import _forget_open_databases

    root = tmp_path / "lib"
    lib = Library(root, account="alice")
    add(lib, make_png, "apple")
    lib.warm_up()
    assert lib.catalog.wait_saved(30) and (root / CATALOG_FILE).exists()
    lib.close()
    _forget_open_databases(root)
    again = Library(root, account="alice")
    holding, release = threading.Event(), threading.Event()

    def hold():  # another thread holding the catalog a moment, reading nothing
        with again.catalog._lock:
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(30)
    opened: list = []
    reader = in_thread(again, again.catalog.open_saved, opened)
    reader.join(1.0)
    waited = reader.is_alive() and not opened  # (a False at once is the SQL fallback: wrong here)
    release.set()
    holder.join(30)
    reader.join(30)
    assert waited and opened == [True]


def test_waiting_for_a_save_being_started_does_not_fail(tmp_path, make_png, monkeypatch):
    """A library closed on one thread (the watcher's, at the app's end) while another starts the catalog's save:
    wait_saved found the save's thread made and not yet started, and join raised "cannot join thread before it is
    started" (CI, 6fbf172, an exception in the thread myimages-watch)."""
    import types

    from store import catalog as catalog_module

    lib = Library(tmp_path / "lib", account="alice")
    add(lib, make_png, "apple")
    lib.warm_up()
    catalog = lib.catalog
    assert catalog.wait_saved(30)
    starting, go = threading.Event(), threading.Event()

    class SlowStart(threading.Thread):  # the save's thread made, its start held until the test lets it go
        def start(self) -> None:
            starting.set()
            go.wait(30)
            super().start()

    monkeypatch.setattr(catalog_module, "threading", types.SimpleNamespace(Thread=SlowStart, RLock=threading.RLock))
    saving = threading.Thread(target=catalog.save_soon)
    saving.start()
    assert starting.wait(30)
    waited: list = []
    failed: list = []

    def wait() -> None:
        try:
            waited.append(catalog.wait_saved(30))
        except RuntimeError as exc:
            failed.append(str(exc))

    waiting = threading.Thread(target=wait)
    waiting.start()
    waiting.join(0.3)  # it found the thread made and not started, and join refused it
    go.set()
    saving.join(30)
    waiting.join(30)
    assert failed == [] and waited == [True]
    lib.close()
