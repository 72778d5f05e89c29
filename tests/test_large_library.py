"""Commands on a large library answer from the saved catalog: correct results, and no statement reads every row.

The library is generated straight into SQLite (24,000 images with distinct prompts, more than the
catalog keeps as Python strings), its catalog built and saved once by a first process; each test then
runs commands as a new process would (an empty catalog), with every SQL statement recorded and
explained: none may scan the image table, and the catalog must not be built again.
"""
from __future__ import annotations

import json
import logging
import random
import re
import shutil
import sqlite3
from datetime import datetime, timedelta

import pytest

from store import library as library_module
from store.catalog import Catalog
from store.library import CATALOG_FILE, Library
from store.records import Filters
from store.text import prompt_sort_key
from tui import cli

COUNT = 24_000  # more than the catalog keeps as Python strings (BLOB_FROM)
WORDS = ("sword ring necklace potion shield helmet crown gem key scroll amulet staff bow axe dagger orb golden "
         "silver ruby emerald diamond ancient cursed glowing tiny giant crystal shadow fire ice pixel art").split()
SAMPLERS = ("euler", "DPM++ 2M Karras", "ddim")


def _generate(root) -> dict[int, dict]:
    """COUNT images with distinct prompts and varied parameters; returns what was written, by id."""
    lib = Library(root, account="alice")
    owner = lib.account.id
    lib.close()
    rng = random.Random(17)
    start = datetime(2025, 1, 1)
    rows, written = [], {}
    for n in range(1, COUNT + 1):
        prompt = f"{', '.join(rng.sample(WORDS, 5))} #{n}"
        when = start + timedelta(seconds=rng.randrange(400 * 86400))
        params = {"seed": rng.randrange(2**32), "steps": rng.choice([20, 30, 40]), "sampler": rng.choice(SAMPLERS)}
        written[n] = {"prompt": prompt, "when": when, "favorite": n % 11 == 0, **params}
        rows.append((owner, prompt, prompt_sort_key(prompt), "", "sdxl", "7", when.isoformat(" "), when.isoformat(" "), 512, 512, 1000,
                     f"{n:064x}", "png", int(n % 11 == 0), json.dumps(params), f"img{n}.png", None, "", ""))
    con = sqlite3.connect(root / "library.db")
    with con:
        con.executemany(
            "INSERT INTO image (owner_id, prompt, prompt_key, negative_prompt, model, text_accuracy, generated_at, "
            "imported_at, width, height, file_size, sha256, ext, favorite, params, source_name, parent_id, derivation, "
            "location) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.close()
    return written


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    """The generated library with its catalog saved (the first process's work), and what it holds."""
    root = tmp_path_factory.mktemp("large") / "lib"
    written = _generate(root)
    lib = Library(root, account="alice")
    lib.warm_up()  # builds the catalog and saves it (in a thread: close waits for it)
    lib.close()
    assert (root / CATALOG_FILE).stat().st_size > 0
    _forget_open_databases(root)
    return root, written


def _forget_open_databases(root) -> None:
    """As if this were a new process: no database or catalog of the library open."""
    for key in [k for k in library_module._DATABASES if k.startswith(str(root.resolve()))]:
        db = library_module._DATABASES.pop(key)
        catalog = library_module._CATALOGS.pop(id(db), None)
        if catalog is not None:
            catalog.wait_saved()  # a process ends after its catalog's save
        db.close()


class _Statements(logging.Handler):
    """Every SQL statement peewee runs, with the thousands of SQLite instructions each took (progress handler)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[list] = []  # [sql, params, thousands of instructions]

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, tuple) and len(record.msg) == 2:
            self.seen.append([*record.msg, 0])

    def step(self) -> int:
        if self.seen:
            self.seen[-1][2] += 1
        return 0


@pytest.fixture
def fresh(large, monkeypatch):
    """The large library in a 'new process' that must not build its catalog; yields a check of the SQL it ran."""
    root, written = large
    _forget_open_databases(root)

    def no_build(self):
        raise AssertionError("the catalog was built from every row")

    monkeypatch.setattr(Catalog, "_build", no_build)
    statements = _Statements()
    logger = logging.getLogger("peewee")
    logger.addHandler(statements)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    connect = Library._connect

    def counting_connect(self, marker):
        connect(self, marker)
        self.db.connection().set_progress_handler(statements.step, 1000)

    monkeypatch.setattr(Library, "_connect", counting_connect)

    def full_scans() -> list[str]:
        """Statements that read the image table's rows one by one: a SCAN in SQLite's own plan (every row of
        the table or of an index), or more than 20,000 instructions (reading 24,000 rows takes about 100,000)."""
        con = sqlite3.connect(root / "library.db")
        found = []
        for sql, params, thousands in statements.seen:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            names = {"image", *re.findall(r'"image" AS "(\w+)"', sql)}  # the table and peewee's aliases of it
            plan = con.execute("EXPLAIN QUERY PLAN " + sql, params or ()).fetchall()
            found += [f"{detail}: {sql}" for *_, detail in plan if detail.startswith("SCAN ")
                      and detail.split()[1] in names]
            if thousands > 20 and re.search(r'\bimage\b(?!_)|"image"', sql):
                found.append(f"{thousands},000 instructions: {sql}")
        con.close()
        return found

    yield root, written, full_scans
    logger.removeHandler(statements)
    logger.setLevel(level)
    _forget_open_databases(root)


def _expected(written: dict[int, dict], match) -> list[int]:
    """Ids of the written images that `match`, newest first (then the higher id), as the library orders them."""
    return [n for n, _ in sorted(((n, w) for n, w in written.items() if match(w)),
                                 key=lambda item: (item[1]["when"], item[0]), reverse=True)]


def _listed(capsys, root, *args) -> list[int]:
    assert cli.main(["list", "--library", str(root), "--account", "alice", "--json", *args]) == 0
    return [image["id"] for image in json.loads(capsys.readouterr().out)]


def test_list_and_search_answer_from_the_saved_catalog(fresh, capsys):
    root, written, full_scans = fresh
    assert _listed(capsys, root, "--limit", "20") == _expected(written, lambda w: True)[:20]
    both = _expected(written, lambda w: "ring" in w["prompt"] and "pixel" in w["prompt"])
    assert len(both) > 100
    assert _listed(capsys, root, "--search", "ring pixel", "--limit", "20") == both[:20]
    assert _listed(capsys, root, "--search", "RING pixel -gold steps:30") == _expected(
        written, lambda w: "ring" in w["prompt"] and "pixel" in w["prompt"] and "gold" not in w["prompt"]
        and w["steps"] == 30)
    assert _listed(capsys, root, "--search", "#23999") == [23999]
    assert _listed(capsys, root, "--search", "X", "--limit", "30") == _expected(written, lambda w: "x" in w["prompt"])[:30]
    assert _listed(capsys, root, "--search", "sampler:ddim", "--favorites", "--limit", "5") == _expected(
        written, lambda w: w["sampler"] == "ddim" and w["favorite"])[:5]
    assert _listed(capsys, root, "--sort", "oldest", "--limit", "3") == _expected(written, lambda w: True)[::-1][:3]
    assert cli.main(["list", "--library", str(root), "--account", "alice", "--search", "zzz"]) == 0
    assert capsys.readouterr().err.startswith(f"0 of {COUNT:,} images (")  # "24,000": separated, as in the app
    assert full_scans() == []


def test_the_check_sees_a_full_scan(fresh):
    root, written, full_scans = fresh
    lib = Library(root, account="alice")
    every = "SELECT COUNT(*) FROM image WHERE trashed_at IS NULL"
    assert lib.db.execute_sql(every).fetchone()[0] == COUNT
    assert lib.count(Filters(favorite="favorites")) == sum(w["favorite"] for w in written.values())  # catalog
    assert {found.split(": ", 1)[1] for found in full_scans()} == {every}
    owners = 'SELECT COUNT("t1"."id") FROM "image" AS "t1" WHERE "t1"."owner_id" = ?'  # an index SEARCH, every row
    lib.db.execute_sql(owners, (lib.account.id,))
    assert {found.split(": ", 1)[1] for found in full_scans()} == {every, owners}


def test_info_and_favorite_then_a_search_that_catches_up(fresh, capsys):
    root, written, full_scans = fresh
    assert cli.main(["info", "123", "--json", "--library", str(root), "--account", "alice"]) == 0
    assert json.loads(capsys.readouterr().out)["prompt"] == written[123]["prompt"]
    target = next(n for n, w in written.items() if not w["favorite"] and "crown" in w["prompt"])
    assert cli.main(["favorite", str(target), "--library", str(root), "--account", "alice"]) == 0
    capsys.readouterr()
    _forget_open_databases(root)  # the next command is another process: it reads the file, then the change log
    favorites = _listed(capsys, root, "--search", "is:fav crown")
    assert target in favorites
    assert favorites == _expected(written, lambda w: (w["favorite"] or w is written[target]) and "crown" in w["prompt"])
    assert _listed(capsys, root, "--search", f"w id:{target}") == [target]  # one letter, in a value changed since
    assert full_scans() == []
    assert cli.main(["favorite", "--off", str(target), "--library", str(root), "--account", "alice"]) == 0


def test_a_saved_catalog_of_another_library_or_damaged_is_not_used(large, tmp_path):
    root, written = large
    other = tmp_path / "other"
    lib = Library(other, account="alice")
    shutil.copy(root / CATALOG_FILE, other / CATALOG_FILE)  # not this library's: its id differs
    assert not lib.catalog.open_saved()
    assert lib.ids(Filters(search="ring")) == []
    for damaged in (b"", b"MYIMAGES-CATALOG" + b"\xff" * 64, (root / CATALOG_FILE).read_bytes()[:100_000]):
        _forget_open_databases(other)
        (other / CATALOG_FILE).write_bytes(damaged)
        lib = Library(other, account="alice")
        assert not lib.catalog.open_saved()
        assert lib.ids(Filters(search="ring")) == []
    lib.close()
    _forget_open_databases(other)


def test_a_saved_catalog_the_change_log_has_left_behind_is_built_again(tmp_path, make_png):
    from .test_catalog import add

    root = tmp_path / "lib"
    lib = Library(root, account="alice")
    first = add(lib, make_png, "first light")
    lib.warm_up()
    second = add(lib, make_png, "second light", 1)
    lib.db.execute_sql("DELETE FROM image_change")  # trimmed past the saved catalog
    lib.db.execute_sql("INSERT INTO image_change(image_id) VALUES (NULL)")
    lib.close()
    _forget_open_databases(root)
    lib = Library(root, account="alice")
    assert not lib.catalog.open_saved()
    assert lib.ids(Filters(search="light")) == [first, second]
    lib.close()
    _forget_open_databases(root)
    assert Library(root, account="alice").catalog.open_saved()  # saved again by the build
