"""The library: records, queries, favorites, collections, delete, files, migrations."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from store.errors import Duplicate, NotFound, StoreError
from store.importer import ImportOptions, import_files
from store.library import Library
from store.migrations import LATEST
from store.records import FAVORITES_ONLY, NON_FAVORITES, Filters

from .conftest import ROOT


def add(library, make_png, prompt, days_ago=0, **kwargs):
    path = make_png()
    date = datetime(2026, 6, 1, 12, 0) - timedelta(days=days_ago)
    report = import_files(library, [path], ImportOptions(prompt=prompt, generated_at=date, **kwargs))
    assert not report.failed, report.failed
    return report.imported[0][1]


@pytest.fixture
def filled(library, make_png):
    ids = {
        "diamond": add(library, make_png, "Diamond sword, pixel art", 1),
        "ruby": add(library, make_png, "ruby ring", 2),
        "dia2": add(library, make_png, "a DIAMOND gem", 3),
        "potion": add(library, make_png, "health potion", 4),
        "empty": add(library, make_png, "", 5),
    }
    library.set_favorite([ids["diamond"], ids["potion"]])
    weapons = library.create_collection("Weapons")
    library.add_to_collection([ids["diamond"], ids["ruby"]], weapons.id)
    return library, ids, weapons


def prompts(records):
    return [r.prompt for r in records]


def test_newest_first_and_paging(filled):
    library, ids, _ = filled
    page = library.page(Filters(), 0, 3)
    assert prompts(page) == ["Diamond sword, pixel art", "ruby ring", "a DIAMOND gem"]
    assert prompts(library.page(Filters(), 3, 3)) == ["health potion", ""]
    assert [r.id for r in library.iter_images(batch=2)] == [r.id for r in library.page(Filters(), 0, 10)]
    assert library.count() == library.total() == 5


@pytest.mark.parametrize("text, expected", [
    ("diamond", {"Diamond sword, pixel art", "a DIAMOND gem"}),
    ("DIAM", {"Diamond sword, pixel art", "a DIAMOND gem"}),
    ("ia", {"Diamond sword, pixel art", "a DIAMOND gem"}),
    ("r", {"Diamond sword, pixel art", "ruby ring"}),
    ("sword, pix", {"Diamond sword, pixel art"}),
    ("nothing like it", set()),
    ('quote " inside', set()),
    ("100%", set()),
    ("_", set()),
])
def test_search_is_case_insensitive_partial(filled, text, expected):
    library, _, _ = filled
    assert set(prompts(library.page(Filters(search=text), 0, 50))) == expected
    assert library.count(Filters(search=text)) == len(expected)


def test_filters_combine(filled):
    library, ids, weapons = filled
    assert set(prompts(library.page(Filters(favorite=FAVORITES_ONLY), 0, 50))) == {
        "Diamond sword, pixel art", "health potion"}
    assert library.count(Filters(favorite=NON_FAVORITES)) == 3
    assert set(prompts(library.page(Filters(collection_id=weapons.id), 0, 50))) == {
        "Diamond sword, pixel art", "ruby ring"}
    both = Filters(search="diamond", favorite=NON_FAVORITES)
    assert prompts(library.page(both, 0, 50)) == ["a DIAMOND gem"]
    three = Filters(search="dia", favorite=FAVORITES_ONLY, collection_id=weapons.id)
    assert prompts(library.page(three, 0, 50)) == ["Diamond sword, pixel art"]
    assert library.position(ids["ruby"], Filters(collection_id=weapons.id)) == 1
    assert library.position(ids["potion"], Filters(collection_id=weapons.id)) is None


def test_favorite_toggle(filled):
    library, ids, _ = filled
    assert library.toggle_favorite(ids["ruby"]) is True
    assert library.get(ids["ruby"]).favorite
    assert library.toggle_favorite(ids["ruby"]) is False
    with pytest.raises(NotFound):
        library.toggle_favorite(99999)


def test_collections(filled):
    library, ids, weapons = filled
    with pytest.raises(Duplicate):
        library.create_collection("weapons")
    with pytest.raises(StoreError):
        library.create_collection("   ")
    gems = library.create_collection("Gems")
    assert library.add_to_collection([ids["dia2"], ids["ruby"]], gems.id) == 2
    assert library.add_to_collection([ids["dia2"]], gems.id) == 0
    assert sorted(library.get(ids["ruby"]).collections) == ["Gems", "Weapons"]
    assert library.membership([ids["ruby"], ids["dia2"]]) == {weapons.id: 1, gems.id: 2}
    assert [(c.name, c.count) for c in library.collections()] == [("Gems", 2), ("Weapons", 2)]
    library.rename_collection(gems.id, "Jewels")
    with pytest.raises(Duplicate):
        library.rename_collection("Jewels", "WEAPONS")
    assert library.remove_from_collection([ids["ruby"]], gems.id) == 1
    library.delete_collection("jewels")
    assert library.get(ids["dia2"]).collections == []
    assert library.count() == 5  # images stay
    with pytest.raises(NotFound):
        library.collection("Jewels")


def test_delete_removes_record_files_and_memberships(filled):
    library, ids, weapons = filled
    record = library.get(ids["diamond"])
    assert record.path.exists() and record.thumbnail_path.exists()
    assert library.delete([ids["diamond"]]) == 1
    assert not record.path.exists() and not record.thumbnail_path.exists()
    with pytest.raises(NotFound):
        library.get(ids["diamond"])
    assert library.collection(weapons.id).count == 1
    with pytest.raises(NotFound):
        library.delete([ids["ruby"], 424242])
    assert library.get(ids["ruby"])  # nothing deleted when one id is unknown


def test_files_shared_by_content_stay_while_used(library, make_png, tmp_path):
    path = make_png()
    import_files(library, [path])
    other = Library(library.root, account="bob", database_url=library.database_url)
    (bob_id,) = [i for _, i in import_files(other, [path]).imported]
    alice_id = library.find_by_hash(other.get(bob_id).sha256)
    other.delete([bob_id])
    assert library.get(alice_id).path.exists()


def test_accounts_do_not_see_each_other(filled):
    library, ids, weapons = filled
    library.set_plan("premium")
    bob = Library(library.root, account="bob", database_url=library.database_url)
    assert bob.count() == 0
    with pytest.raises(NotFound):
        bob.get(ids["ruby"])
    with pytest.raises(NotFound):
        bob.delete([ids["ruby"]])
    with pytest.raises(NotFound):
        bob.add_to_collection([ids["ruby"]], weapons.id)
    assert bob.collections() == []


def test_a_selection_is_checked_and_counted_as_it_is(filled):
    """Issue 11: the collections dialog over a million selected images and the gallery's follower checked them
    through a list, a dict and a set of every id, each made and freed in one call in their worker (the interpreter
    lock held, so the UI thread late, tens of milliseconds). A Selection is checked as it is: own_existing answers
    a Selection, _own_ids hands the same one back, and the answers and errors are a list's. Fails without (a set and
    a list came back)."""
    from store.errors import NoImage
    from store.selection import Selection

    library, ids, weapons = filled
    mine = sorted(ids.values())
    selection = Selection(mine)
    assert library._own_ids(selection) is selection
    found = library.own_existing(Selection([*mine, 999_999]))
    assert isinstance(found, Selection) and found == set(mine) == library.own_existing([*mine, 999_999])
    assert library.membership(selection) == library.membership(mine) == {weapons.id: 2}
    assert library.members_among(selection, weapons.id) == library.members_among(mine, weapons.id)
    library.trash([ids["ruby"]])
    assert library.own_existing(selection) == set(mine) - {ids["ruby"]}
    assert library.own_existing(selection, trashed=True) == {ids["ruby"]}
    for wanted in (selection, mine):
        with pytest.raises(NotFound) as raised:
            library._own_ids(wanted)
        assert "#%d" % ids["ruby"] in str(raised.value)
    with pytest.raises(NoImage):
        library.membership(Selection([mine[0], 999_999]))


def test_two_libraries_each_use_their_own_database(library, make_png, tmp_path):
    """A call binds its library's database (store/database.py `boundary`): stepping through one
    library's images while using another library in between, and two threads each on their own."""
    import threading

    for n in range(3):
        add(library, make_png, f"alice {n}", n)
    other = Library(tmp_path / "other", account="bob", database_url=None)
    add(other, make_png, "bob", 0)
    steps = library.iter_images(batch=1)
    first = next(steps)
    assert other.total() == 1
    assert [first.prompt] + [r.prompt for r in steps] == ["alice 0", "alice 1", "alice 2"]

    wrong: list[str] = []

    def use(lib, name):
        for _ in range(300):
            names = [a.name for a in lib.accounts()]
            if names != [name]:
                wrong.append(f"{name} saw {names}")

    threads = [threading.Thread(target=use, args=(library, "alice")), threading.Thread(target=use, args=(other, "bob"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.close()
    assert wrong == []


def test_database_settings(library):
    if library.uses_postgres:
        pytest.skip("SQLite pragmas")
    pragmas = {name: library.db.execute_sql(f"PRAGMA {name}").fetchone()[0]
               for name in ("journal_mode", "foreign_keys")}
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1}



def test_bulk_insert_stores_values_as_peewee_does_and_updates_on_conflict(library):
    """Many rows go in few statements (SQLite: a statement per row kept a statement journal in a temporary file
    for each, most of a large scan's time); each value is stored as its field stores it, plain or converted."""
    from store.library import bulk_insert
    from store.models import Source, SourceFile
    from store.records import utc_now

    with library.db.bind_ctx([Source, SourceFile]), library.db.atomic():
        source = Source.create(owner=library.account.id, path="/somewhere", mode="link", added_at=utc_now())
        rows = [{"source": source if n == 0 else source.id, "relpath": f"{n:04}.png", "size": str(n) if n == 1 else n,
                 "mtime_ns": True if n == 2 else 10 ** 18 + n, "sha256": "", "image": None, "error": ""}
                for n in range(1200)]
        statements: list[str] = []
        if not library.uses_postgres:
            library.db.connection().set_trace_callback(statements.append)
        bulk_insert(library.db, SourceFile, rows)
        bulk_insert(library.db, SourceFile, [dict(rows[5], size=99, error="changed")], conflict=("source", "relpath"))
        if not library.uses_postgres:
            library.db.connection().set_trace_callback(None)
            assert len([s for s in statements if s.startswith("INSERT")]) == 4  # 500 + 500 + 200, then the update
        stored = {f.relpath: (f.source_id, f.size, f.mtime_ns, f.error) for f in SourceFile.select()}
    assert len(stored) == 1200
    assert stored["0000.png"] == (source.id, 0, 10 ** 18, "")  # a model instance: its id
    assert stored["0001.png"][1] == 1  # "1" into an integer field: 1
    assert stored["0002.png"][2] == 1  # True into an integer field: 1
    assert stored["0005.png"] == (source.id, 99, 10 ** 18 + 5, "changed")
    assert stored["1199.png"] == (source.id, 1199, 10 ** 18 + 1199, "")

V2_FTS = (
    "CREATE VIRTUAL TABLE image_fts USING fts5(prompt, content='image', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER image_fts_ai AFTER INSERT ON image BEGIN "
    "INSERT INTO image_fts(rowid, prompt) VALUES (new.id, new.prompt); END",
    "CREATE TRIGGER image_fts_ad AFTER DELETE ON image BEGIN "
    "INSERT INTO image_fts(image_fts, rowid, prompt) VALUES ('delete', old.id, old.prompt); END",
    "CREATE TRIGGER image_fts_au AFTER UPDATE OF prompt ON image BEGIN "
    "INSERT INTO image_fts(image_fts, rowid, prompt) VALUES ('delete', old.id, old.prompt); "
    "INSERT INTO image_fts(rowid, prompt) VALUES (new.id, new.prompt); END",
    "INSERT INTO image_fts(image_fts) VALUES ('rebuild')",
)


def _as_old_version(root, version):
    """Turn a new library into the shape an older version made (they had no library.json either)."""
    (root / "library.json").unlink()
    con = sqlite3.connect(root / "library.db")
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        con.execute(f"DROP TRIGGER {name}")
    con.execute("DROP TABLE image_change")
    if version == 1:
        con.execute("UPDATE setting SET value='1' WHERE key='schema_version'")  # recorded since the first version
    else:
        for sql in V2_FTS:
            con.execute(sql)
        con.execute("UPDATE setting SET value='2' WHERE key='schema_version'")
    con.commit()
    con.close()


@pytest.mark.parametrize("version", [1, 2])
def test_migration_from_older_versions(tmp_path, make_png, version):
    """A version-1 (no search index) or version-2 (FTS5) library opens, is upgraded, searches and follows changes."""
    root = tmp_path / "old"
    lib = Library(root)
    import_files(lib, [make_png()], ImportOptions(prompt="an old diamond"))
    lib.close()
    _as_old_version(root, version)
    again = Library(root)
    assert again.db.execute_sql("SELECT value FROM setting WHERE key='schema_version'").fetchone()[0] == str(LATEST)
    assert "image_fts" not in again.db.get_tables()
    assert prompts(again.page(Filters(search="diamond"))) == ["an old diamond"]
    import_files(again, [make_png()], ImportOptions(prompt="a new diamond"))
    assert sorted(prompts(again.page(Filters(search="DIAMOND")))) == ["a new diamond", "an old diamond"]


def test_an_erased_images_id_is_never_given_again(library, make_png):
    """New-user test item 5: on SQLite, erasing the newest image gave its id to the next one."""
    ids = [i for _p, i in import_files(library, [make_png(), make_png()]).imported]
    library.delete([ids[-1]])
    ((_p, new),) = import_files(library, [make_png()]).imported
    assert new > ids[-1]


def test_a_version_12_library_stops_reusing_ids_and_keeps_everything(tmp_path, make_png):
    """Schema 13 makes the image table again with AUTOINCREMENT: every row, membership, favorite, derived
    column and change-log trigger comes through (foreign keys off: dropping the old table cascades nothing)."""
    root = tmp_path / "old"
    lib = Library(root)
    ring = {"parameters": "a ring\nSteps: 20, Sampler: Euler, Seed: 42"}
    a, b, c = (i for _p, i in import_files(lib, [make_png(text=ring) for _ in range(3)]).imported)
    shelf = lib.ensure_collection("Shelf")
    lib.add_to_collection([a, b, c], shelf.id)
    lib.set_favorite([b])
    lib.close()
    con = sqlite3.connect(root / "library.db")  # the image table as schema 12 made it: ids could be reused
    (sql,) = con.execute("SELECT sql FROM sqlite_master WHERE name = 'image'").fetchone()
    assert "AUTOINCREMENT" in sql
    again = [q for (q,) in con.execute("SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
                                       "AND tbl_name = 'image' AND sql IS NOT NULL")]
    columns = ", ".join(r[1] for r in con.execute("PRAGMA table_xinfo(image)") if r[6] == 0)
    con.execute(sql.replace(" AUTOINCREMENT", "").replace('CREATE TABLE "image"', 'CREATE TABLE "image12"'))
    con.execute(f"INSERT INTO image12 ({columns}) SELECT {columns} FROM image")
    con.execute("DROP TABLE image")
    con.execute("ALTER TABLE image12 RENAME TO image")
    for statement in again:
        con.execute(statement)
    con.execute("DELETE FROM sqlite_sequence WHERE name = 'image'")
    con.execute("UPDATE setting SET value = '12' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    lib = Library(root)
    assert lib.db.execute_sql("SELECT value FROM setting WHERE key = 'schema_version'").fetchone()[0] == str(LATEST)
    assert "AUTOINCREMENT" in lib.db.execute_sql("SELECT sql FROM sqlite_master WHERE name = 'image'").fetchone()[0]
    assert [lib.get(i).collections for i in (a, b, c)] == [["Shelf"]] * 3 and lib.get(b).favorite
    assert lib.count(Filters(search="seed:42")) == 3  # the derived columns
    lib.warm_up()  # the catalog follows the change log, whose triggers were made again
    lib.delete([c])
    assert lib.count(Filters(search="ring")) == 2
    ((_p, new),) = import_files(lib, [make_png()], ImportOptions(prompt="a new ring")).imported
    assert new > c and lib.count(Filters(search="ring")) == 3
    lib.close()


def test_postgres_library_of_version_3_gains_the_change_log(tmp_path, make_png, db_url):
    """Version 4 gave PostgreSQL libraries the change log an open gallery polls."""
    if not db_url:
        pytest.skip("SQLite has had it since version 3")
    from store.catalog import change_token

    lib = Library(tmp_path / "pg", database_url=db_url)
    lib.db.execute_sql("DROP TABLE image_change CASCADE")
    for trigger, table in (("image_change_image", "image"), ("image_change_member", "image_collection"),
                           ("image_change_plan", "account")):
        lib.db.execute_sql(f"DROP TRIGGER {trigger} ON {table}")
    lib.db.execute_sql("UPDATE setting SET value='3' WHERE key='schema_version'")
    lib.close()
    again = Library(tmp_path / "pg", database_url=db_url)
    assert again.db.execute_sql("SELECT value FROM setting WHERE key='schema_version'").fetchone()[0] == str(LATEST)
    before = change_token(again.db, True)
    import_files(again, [make_png()])
    assert change_token(again.db, True) != before


def test_newer_schema_is_refused(tmp_path):
    root = tmp_path / "new"
    Library(root).close()
    con = sqlite3.connect(root / "library.db")
    con.execute("UPDATE setting SET value='99' WHERE key='schema_version'")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="newer version"):
        Library(root)


def test_store_never_imports_textual():
    code = ("import sys, store.library, store.importer, store.export, store.demo, store.doctor, store.metadata;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'textual_image', 'rich')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
